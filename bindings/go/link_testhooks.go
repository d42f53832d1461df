//go:build offrec_testhooks

package offrec

// Linking for the tests of the library's test hooks (-tags offrec_testhooks, `make
// go-tests-hooks`): against the debug build with the test-hooks cargo feature in this source
// tree, target/debug/liboffrec.so (`make hooks-lib`; go.mk adds its soname link).

// #cgo LDFLAGS: -L${SRCDIR}/../../target/debug -loffrec -Wl,-rpath,${SRCDIR}/../../target/debug
import "C"
