package offrec

// Application TLVs: Client.SendTLVs, and EventTLVReceived (events.go).

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "offrec.h"

extern uintptr_t offrec_go_enter(uintptr_t frame);
extern void offrec_go_leave(uintptr_t prev);

static offrec_result go_send_tlvs(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len,
		const char *text, size_t text_len, const offrec_tlv *tlvs, size_t count, uint64_t *id) {
	uintptr_t prev = offrec_go_enter(frame);
	offrec_result r = offrec_client_send_tlvs(c, peer, peer_len, text, text_len, tlvs, count, id);
	offrec_go_leave(prev);
	return r;
}
*/
import "C"

import "unsafe"

// TLVAppFirst is the first application TLV type; applications use TLVAppFirst to 0xFFFF in
// both protocols (the lower types are the protocols' own: ErrTLVTypeReserved).
const TLVAppFirst = C.OFFREC_TLV_APP_FIRST

// MaxTLVs is the most application TLVs one message carries (ErrTooManyTLVs beyond).
const MaxTLVs = C.OFFREC_MAX_TLVS

// MaxTLVBytes is the most bytes of TLV values one message carries, all TLVs together
// (ErrMessageTooLarge beyond).
const MaxTLVBytes = C.OFFREC_MAX_TLV_BYTES

// TLV is one application TLV: a type from TLVAppFirst to 0xFFFF and its value.
type TLV struct {
	Type  uint16
	Value []byte
}

// SendTLVs sends text (may be empty) with application TLVs to peer over the encrypted session
// a plain Send would use (held messages go first), in offrec's protocol or OTR v3 (a libotr
// peer finds them with otrl_tlv_find). The peer gets one EventTLVReceived per TLV, in order,
// then Deliver for a non-empty text. Nothing is held or sent in the clear: without such a
// session it returns ErrNoSession. Errors, with nothing sent: ErrTLVTypeReserved (a type below
// TLVAppFirst), ErrTooManyTLVs, ErrMessageTooLarge (values over MaxTLVBytes together, or too
// large for the transport), ErrTLVsUnsupported (an OTR v2 session), ErrInvalidArgument (no
// text and no TLV, or NUL in the text of an OTR session).
func (c *Client) SendTLVs(peer, text string, tlvs []TLV) (uint64, error) {
	// The C side needs the TLVs in C memory (C must not hold Go pointers in its memory); the
	// limits are checked first so a huge slice allocates nothing.
	if len(tlvs) > MaxTLVs {
		return 0, &Error{Code: ResultTooManyTLVs, Message: ResultTooManyTLVs.Message(), Op: "SendTLVs"}
	}
	total := 0
	for _, t := range tlvs {
		total += len(t.Value)
	}
	if total > MaxTLVBytes {
		return 0, &Error{Code: ResultMessageTooLarge, Message: ResultMessageTooLarge.Message(), Op: "SendTLVs"}
	}
	var arr *C.offrec_tlv
	var values unsafe.Pointer
	if len(tlvs) > 0 {
		arr = (*C.offrec_tlv)(C.calloc(C.size_t(len(tlvs)), C.size_t(unsafe.Sizeof(C.offrec_tlv{}))))
		defer C.free(unsafe.Pointer(arr))
	}
	if total > 0 {
		values = C.malloc(C.size_t(total))
		defer func() {
			C.memset(values, 0, C.size_t(total)) // values may be private: wipe the copy
			C.free(values)
		}()
	}
	items := unsafe.Slice(arr, len(tlvs))
	at := 0
	for i, t := range tlvs {
		items[i]._type = C.uint16_t(t.Type)
		items[i].len = C.size_t(len(t.Value))
		if len(t.Value) > 0 {
			dst := unsafe.Add(values, at)
			copy(unsafe.Slice((*byte)(dst), len(t.Value)), t.Value)
			items[i].data = (*C.uint8_t)(dst)
			at += len(t.Value)
		}
	}
	var id C.uint64_t
	err := c.call("SendTLVs", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		tx, tl := cstr(text)
		return C.go_send_tlvs(frame, p, pp, pl, tx, tl, arr, C.size_t(len(tlvs)), &id)
	})
	return uint64(id), err
}
