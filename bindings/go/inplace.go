package offrec

// The in-place integration style (Pidgin's sending/receiving hooks, irssi signals, weechat
// modifiers): Client.SendInPlace and Client.ReceiveInPlace.

/*
#include <stdint.h>
#include <stdlib.h>
#include "offrec.h"

extern uintptr_t offrec_go_enter(uintptr_t frame);
extern void offrec_go_leave(uintptr_t prev);

static offrec_result go_send_inplace(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len,
		const char *text, size_t text_len, offrec_wire_messages *out, uint64_t *id) {
	uintptr_t prev = offrec_go_enter(frame);
	offrec_result r = offrec_client_send_inplace(c, peer, peer_len, text, text_len, out, id);
	offrec_go_leave(prev);
	return r;
}
static offrec_result go_receive_inplace(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len,
		const char *wire, size_t wire_len, offrec_incoming *out) {
	uintptr_t prev = offrec_go_enter(frame);
	offrec_result r = offrec_client_receive_inplace(c, peer, peer_len, wire, wire_len, out);
	offrec_go_leave(prev);
	return r;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Outgoing is what SendInPlace hands back: the message's id and the wire messages to send, in
// order, in place of the line the user typed (several fragments, one message, or none).
type Outgoing struct {
	MessageID uint64
	Wire      []string
}

// Incoming is what ReceiveInPlace says about a received line: Ignore for protocol traffic
// (show nothing), else Text to show in its place, from remote Instance (0 for plaintext),
// arrived with Security.
type Incoming struct {
	Ignore   bool
	Text     []byte
	Instance uint32
	Security Security
}

// String shows the Incoming without its text (only its length): fmt never prints a message.
func (i Incoming) String() string {
	if i.Ignore {
		return "Incoming{ignore}"
	}
	return fmt.Sprintf("Incoming{text=<%d bytes> instance=0x%08x security=%s}", len(i.Text), i.Instance, i.Security)
}

// GoString is String: %#v shows no text either.
func (i Incoming) GoString() string { return i.String() }

// SendInPlace sends text as Send does, but hands the wire messages back instead of calling
// the handler's Send: send Outgoing.Wire in order in place of the user's line. Events and
// state changes still reach the handler during the call; wire messages of calls made from
// inside those callbacks go through Send as usual.
func (c *Client) SendInPlace(peer, text string) (Outgoing, error) {
	var wire C.offrec_wire_messages
	var id C.uint64_t
	err := c.call("SendInPlace", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		t, tl := cstr(text)
		return C.go_send_inplace(frame, p, pp, pl, t, tl, &wire, &id)
	})
	if err != nil {
		return Outgoing{}, err
	}
	out := Outgoing{MessageID: uint64(id), Wire: make([]string, 0, int(wire.count))}
	for _, m := range unsafe.Slice(wire.messages, int(wire.count)) {
		out.Wire = append(out.Wire, string(goBytes(m.data, m.len)))
	}
	C.offrec_wire_messages_free(&wire)
	return out, nil
}

// ReceiveInPlace handles a received line as Receive does, but returns what to show instead
// of calling the handler's Deliver: Incoming.Ignore for protocol traffic (hide the line), else
// the text to show in its place. Protocol replies (handshake messages, heartbeats, SMP steps)
// still go out through Send, and events through the handler, during the call.
func (c *Client) ReceiveInPlace(peer, wire string) (Incoming, error) {
	var in C.offrec_incoming
	err := c.call("ReceiveInPlace", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		w, wl := cstr(wire)
		return C.go_receive_inplace(frame, p, pp, pl, w, wl, &in)
	})
	if err != nil {
		return Incoming{}, err
	}
	if bool(in.ignore) {
		return Incoming{Ignore: true}, nil
	}
	text := takeBuffer(&in.text) // wiped by the library
	if text == nil {
		text = []byte{}
	}
	return Incoming{Text: text, Instance: uint32(in.instance), Security: Security(in.security)}, nil
}
