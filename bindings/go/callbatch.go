package offrec

// Batched callbacks (callbatch.h): Send and Receive, the calls every message makes, let the C
// trampolines record their Send and Deliver callbacks instead of calling Go for each (a C->Go
// call costs more than the copy into the record), and run them here when the library returns.
// What the handler sees does not change: every callback of the call, in the library's order
// (a recorded one runs before any other callback of the same call: the C side flushes first),
// on the calling goroutine, before the method returns, with this call's frame still current
// (a panic goes to this call; Close from inside is still refused), and Send's text and
// Deliver's bytes are fresh copies as before.

/*
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include "callbatch.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// batchCallbacks is false only in tests that compare the callbacks of both paths.
var batchCallbacks = true

// maxKeptBatch: a batch buffer larger than this is freed after its call (a 128 KiB message
// should not keep its buffer for good); smaller ones are kept for the next call.
const maxKeptBatch = 64 << 10

const recHeader = int(unsafe.Sizeof(C.struct_go_rec{}))

// batchFor returns the frame's batch, ready for a call of the client with userdata ud; nil if
// C memory for it cannot be had (the call then runs unbatched).
func (f *callFrame) batchFor(ud C.uintptr_t) *C.struct_go_batch {
	if f.batch == nil {
		f.batch = (*C.struct_go_batch)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_go_batch{}))))
		if f.batch == nil {
			return nil
		}
		f.batch.frame = C.uintptr_t(f.handle)
	}
	f.batch.ud = ud
	return f.batch
}

// finishBatch runs what the call left recorded, then gives this thread's call back to the one
// it was nested in (the shim left it set so that callbacks and Close saw this call meanwhile).
// Runs on the thread of the call (the caller locked it).
func (f *callFrame) finishBatch(b *C.struct_go_batch) {
	if b.len == 0 {
		return
	}
	f.runBatch(b)
	*b.frame_tls = b.prev_frame
	*b.batch_tls = b.prev
	b.frame_tls, b.batch_tls, b.prev = nil, nil, nil
	if b.cap > maxKeptBatch {
		freeBatchBuffer(b)
	}
}

// abandonBatch wipes the records a Goexit left unrun and gives the thread's call back.
func (f *callFrame) abandonBatch(b *C.struct_go_batch) {
	if b.len != 0 {
		clear(unsafe.Slice((*byte)(unsafe.Pointer(b.buf)), int(b.len)))
		b.len = 0
	}
	if b.frame_tls != nil && *b.frame_tls == b.frame {
		*b.frame_tls = b.prev_frame
		*b.batch_tls = b.prev
	}
	b.frame_tls, b.batch_tls, b.prev = nil, nil, nil
}

// runBatch runs the recorded callbacks in order and wipes the records.
func (f *callFrame) runBatch(b *C.struct_go_batch) {
	n := int(b.len)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(b.buf)), n)
	for off := 0; off < n; {
		h := (*C.struct_go_rec)(unsafe.Pointer(&buf[off]))
		pl, tl := int(h.peer_len), int(h.text_len)
		peer := buf[off+recHeader : off+recHeader+pl]
		text := buf[off+recHeader+pl : off+recHeader+pl+tl]
		off += recHeader + (pl+tl+7)&^7
		if h.kind == C.GO_REC_SEND {
			f.runSend(peer, text)
		} else {
			f.runDeliver(peer, uint32(h.instance), text, Security(h.security))
		}
	}
	clear(buf)
	b.len = 0
}

func (f *callFrame) runSend(peer, text []byte) {
	gcStress()
	st := f.st
	defer guard(st, f, "Send")
	st.handler.Send(st.peerNameBytes(peer), string(text))
}

func (f *callFrame) runDeliver(peer []byte, instance uint32, text []byte, security Security) {
	gcStress()
	st := f.st
	defer guard(st, f, "Deliver")
	msg := make([]byte, len(text))
	copy(msg, text)
	st.handler.Deliver(st.peerNameBytes(peer), instance, msg, security)
}

// offrecGoFlush runs the running call's records before another of its callbacks (C side).
//
//export offrecGoFlush
func offrecGoFlush(frame C.uintptr_t) {
	if f, ok := cgo.Handle(frame).Value().(*callFrame); ok && f.batch != nil {
		f.runBatch(f.batch)
	}
}
