package offrec

// #include <stdlib.h>
// #include "offrec.h"
import "C"

import "unsafe"

// MaxForgeLater is the most later messages Forge searches.
const MaxForgeLater = C.OFFREC_MAX_FORGE_LATER

// Forge rewrites the captured data message (wire text) so that it carries newText instead of
// known, with a tag that verifies under the original key, using the key material the receiver
// revealed in one of its later messages (wire texts). Nothing secret is needed: this is what
// makes transcripts deniable. Errors: ErrNotADataMessage, ErrNoMatchingReveal,
// ErrTextDoesNotFit. Needs no client; safe from any goroutine.
func Forge(captured string, later []string, known, newText []byte) (string, error) {
	if len(later) > MaxForgeLater {
		return "", &Error{Code: ResultInvalidArgument, Message: "too many later messages", Op: "Forge"}
	}
	// The array of pointers must not hold Go pointers: copy the later texts into C memory.
	var ptrs **C.char
	var lens *C.size_t
	if n := len(later); n > 0 {
		total := 0
		for _, s := range later {
			total += len(s)
		}
		block := C.malloc(C.size_t(total + 1))
		ptrs = (**C.char)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
		lens = (*C.size_t)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.size_t(0)))))
		if block == nil || ptrs == nil || lens == nil {
			C.free(block)
			C.free(unsafe.Pointer(ptrs))
			C.free(unsafe.Pointer(lens))
			return "", &Error{Code: ResultOutOfMemory, Message: ResultOutOfMemory.Message(), Op: "Forge"}
		}
		defer C.free(block)
		defer C.free(unsafe.Pointer(ptrs))
		defer C.free(unsafe.Pointer(lens))
		mem := unsafe.Slice((*byte)(block), total+1)
		ps := unsafe.Slice(ptrs, n)
		ls := unsafe.Slice(lens, n)
		off := 0
		for i, s := range later {
			copy(mem[off:], s)
			ps[i] = (*C.char)(unsafe.Pointer(&mem[off]))
			ls[i] = C.size_t(len(s))
			off += len(s)
		}
	}
	capt, captLen := cstr(captured)
	k, kl := cbytes(known)
	nt, nl := cbytes(newText)
	var out C.offrec_buffer
	gcStress()
	r := C.offrec_forge(capt, captLen, ptrs, lens, C.size_t(len(later)), k, kl, nt, nl, &out)
	gcStress()
	if err := check("Forge", r); err != nil {
		return "", err
	}
	return string(takeBuffer(&out)), nil
}
