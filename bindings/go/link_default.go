//go:build !offrec_pkgconfig && !offrec_testhooks

package offrec

// Default linking: against the library built in this source tree (`make build`, i.e.
// `cargo build --release`), found at run time through an rpath. The library's soname is
// liboffrec.so.<ABI>, which cargo does not create: `make go-lib` (bindings/go/go.mk) adds the
// link target/release/liboffrec.so.0 -> liboffrec.so.

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: -L${SRCDIR}/../../target/release -loffrec -Wl,-rpath,${SRCDIR}/../../target/release
import "C"
