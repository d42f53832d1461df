// Batched Send / Deliver callbacks of Client.Send and Client.Receive (callbatch.go): the C side
// records them here instead of calling Go once each, and Go runs them, in order, when the call
// returns (or before any other callback of the call, to keep the order of all of them).
#ifndef OFFREC_GO_CALLBATCH_H
#define OFFREC_GO_CALLBATCH_H

#include <stddef.h>
#include <stdint.h>

enum { GO_REC_SEND = 1, GO_REC_DELIVER = 2 };

// One recorded callback; the peer's bytes follow it, then the text's, then padding to 8.
struct go_rec {
	uint32_t kind;
	uint32_t instance;
	uint32_t security;
	uint32_t pad;
	size_t peer_len;
	size_t text_len;
};

// The batch of one call in progress (owned by its Go frame, allocated with malloc).
struct go_batch {
	uintptr_t frame; // the cgo.Handle of the Go frame (== offrec_go_frame while it runs)
	uintptr_t ud;    // the userdata of the calling client: only its callbacks are recorded
	// What the call replaced in this thread's two thread-locals; restored by the shim when
	// nothing is left to run, else by Go (through these addresses, on the same locked thread)
	// once it has run the records: until then callbacks and Close still see this call.
	uintptr_t prev_frame;
	struct go_batch *prev;
	uintptr_t *frame_tls;
	struct go_batch **batch_tls;
	unsigned char *buf; // records; wiped by Go after running them (they hold plaintext)
	size_t len;
	size_t cap;
};

#endif
