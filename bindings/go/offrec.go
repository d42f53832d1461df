// Package offrec is the Go binding of offrec, an Off-the-Record messaging engine (deniable
// handshake, Double Ratchet, Socialist Millionaires' Protocol) shipped as a C-ABI shared
// library.
//
// A [Client] is one local account. The application moves wire texts between clients over its
// own transport: it implements [Handler] (Send a wire text to a peer, Deliver a message to the
// user) and feeds every wire text that arrives to [Client.Receive]. Everything else
// (handshakes, encryption, fragmentation, SMP) happens inside the library.
//
// # Threads
//
// A Client is safe for use by many goroutines at once. Callbacks run on the goroutine whose
// call caused them, before that call returns, with no library lock held: they may call back
// into the library, on the same client too (for example, reply from Deliver). When several
// goroutines use one client, its callbacks run concurrently.
//
// # Memory
//
// C never keeps a Go pointer: inputs are passed for the duration of one call only, outputs are
// copied into Go memory before the call returns, and callbacks reach Go state through a
// [runtime/cgo.Handle]. Close releases the client; a finalizer calls Close as a safety net.
//
// # Panics
//
// A panic in a callback never unwinds through the library: it is recovered, the library call
// finishes, and the panic is raised again (as a [*CallbackPanic]) by the Client method that
// caused the callback, on the same goroutine.
//
// # Linking
//
// The module carries its own copy of the C header (offrec.h, identical to the repository's
// include/offrec.h) and by default links an installed liboffrec found through pkg-config
// (link_pkgconfig.go says how to point it at a custom prefix and how the program then finds
// the library: an rpath or LD_LIBRARY_PATH). Inside the offrec source tree, `-tags
// offrec_intree` links target/release instead (link_intree.go).
package offrec

// The module's own header (offrec.h, in this directory) comes first, before any installed one
// that pkg-config's Cflags name.

// #cgo CPPFLAGS: -I${SRCDIR}
// #include <stdlib.h>
// #include "offrec.h"
import "C"

import (
	"os"
	"runtime"
	"unsafe"
)

// Version returns the version of the loaded library, such as "0.1.0".
func Version() string { return C.GoString(C.offrec_version()) }

// HeaderVersion is the version of the header this package was compiled against.
const HeaderVersion = C.OFFREC_VERSION

// gcEveryCall makes the wrapper collect garbage before and after every C call and inside every
// callback (OFFREC_GC_EVERY_CALL=1): a stress mode that makes any Go pointer wrongly kept by C,
// or any Go object freed too early, fail quickly. Tests run with it.
var gcEveryCall = os.Getenv("OFFREC_GC_EVERY_CALL") == "1"

func gcStress() {
	if gcEveryCall {
		runtime.GC()
	}
}

// cstr passes a Go string to C for the duration of one call, without copying. The empty
// string is (NULL, 0).
func cstr(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// cbytes passes Go bytes to C for the duration of one call, without copying. Empty is (NULL, 0).
func cbytes(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// goBytes copies C bytes into Go memory (nil for none).
func goBytes(p *C.uint8_t, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

func goString(p *C.char, n C.size_t) string {
	if p == nil || n == 0 {
		return ""
	}
	return C.GoStringN(p, C.int(n))
}

// takeBuffer copies a library-allocated buffer into Go memory and releases it (the library
// wipes it first).
func takeBuffer(b *C.offrec_buffer) []byte {
	out := goBytes(b.data, b.len)
	C.offrec_buffer_free(b)
	return out
}
