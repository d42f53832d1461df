//go:build offrec_intree && !offrec_testhooks

package offrec

// Development linking (`-tags offrec_intree`): the library built in this source tree
// (`make build`, i.e. cargo build --release), found at run time through an rpath, with no
// install. `make go-tests` builds this way. The library's soname is liboffrec.so.<ABI>, which
// cargo does not create: `make go-lib` (bindings/go/go.mk) adds the link
// target/release/liboffrec.so.0 -> liboffrec.so.

// #cgo LDFLAGS: -L${SRCDIR}/../../target/release -loffrec -Wl,-rpath,${SRCDIR}/../../target/release
import "C"
