//go:build !offrec_intree && !offrec_testhooks

package offrec

// Default linking: an installed liboffrec (`make install PREFIX=...` writes offrec.pc), found
// through pkg-config. The header is this module's own copy (offrec.h, see offrec.go), so the
// module builds from a copy of this directory alone, as `go get` fetches it. When offrec.pc is
// not in a default directory:
//
//	PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig go build
//
// and, unless $PREFIX/lib is a directory the dynamic loader searches (/usr/lib, or one named
// in /etc/ld.so.conf), tell the program where the library is: at link time with
// CGO_LDFLAGS="-Wl,-rpath,$PREFIX/lib", or at run time with LD_LIBRARY_PATH=$PREFIX/lib.
// (offrec.pc carries no rpath itself: a system-wide install must not force one.)

// #cgo pkg-config: offrec
import "C"
