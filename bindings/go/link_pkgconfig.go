//go:build offrec_pkgconfig

package offrec

// Linking against an installed library (`make install` writes offrec.pc):
//
//	go build -tags offrec_pkgconfig
//
// with PKG_CONFIG_PATH pointing at the directory holding offrec.pc if it is not a default one.

// #cgo pkg-config: offrec
import "C"
