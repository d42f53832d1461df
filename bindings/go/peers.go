package offrec

// The peers a client knows and their keys, forgetting them, and a policy per peer.

// #include "offrec.h"
import "C"

import "unsafe"

// KeyKind says which protocol's identity key a known key is (offrec_key_kind).
type KeyKind uint32

const (
	// KeyKindModern: offrec's own key; its fingerprint is 32 bytes.
	KeyKindModern KeyKind = 1
	// KeyKindOTRDSA: an OTR DSA key (libotr, Pidgin...); its fingerprint is 20 bytes.
	KeyKindOTRDSA KeyKind = 2
)

var keyKindNames = map[KeyKind]string{
	KeyKindModern: "MODERN",
	KeyKindOTRDSA: "OTR_DSA",
}

// String returns the lower-case name, such as "otr_dsa".
func (k KeyKind) String() string { return lowerName(keyKindNames, k, "KeyKind") }

// KnownKey is one of a peer's known keys and our trust in it.
type KnownKey struct {
	// Fingerprint is the 32-byte key id the trust calls take (SetTrust, Trust, ForgetKey) and
	// events carry.
	Fingerprint Fingerprint
	Trust       Trust
	// Kind says which protocol's key it is.
	Kind KeyKind
	// NativeFingerprint is the key's own fingerprint as its protocol's programs show it: 32
	// bytes for an offrec key, 20 for an OTR DSA key (FormatOTRFingerprint shows that one as
	// Pidgin does).
	NativeFingerprint []byte
}

// KnownKeys lists peer's known keys with their trust and kind, least recently used first.
func (c *Client) KnownKeys(peer string) ([]KnownKey, error) {
	var n C.size_t
	err := c.query("KnownKeys", func(p *C.offrec_client) C.offrec_result {
		pp, pl := cstr(peer)
		return C.offrec_client_known_key_count(p, pp, pl, &n)
	})
	if err != nil {
		return nil, err
	}
	out := make([]KnownKey, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		var raw C.offrec_known_key
		err := c.query("KnownKeys", func(p *C.offrec_client) C.offrec_result {
			pp, pl := cstr(peer)
			return C.offrec_client_known_key_info(p, pp, pl, i, &raw)
		})
		if err != nil {
			if isCode(err, ResultInvalidArgument) {
				break // another goroutine forgot one meanwhile
			}
			return nil, err
		}
		k := KnownKey{Trust: Trust(raw.trust), Kind: KeyKind(raw.kind)}
		for j := range k.Fingerprint {
			k.Fingerprint[j] = byte(raw.key_id[j])
		}
		native := int(raw.fingerprint_len)
		if native > len(raw.fingerprint) {
			native = len(raw.fingerprint)
		}
		k.NativeFingerprint = make([]byte, native)
		for j := range k.NativeFingerprint {
			k.NativeFingerprint[j] = byte(raw.fingerprint[j])
		}
		out = append(out, k)
	}
	return out, nil
}

// Peers lists every peer the client knows, sorted by name: peers with known keys, with
// sessions or held messages or that we addressed, or with a policy of their own (not strangers
// that only sent us something).
func (c *Client) Peers() ([]string, error) {
	var n C.size_t
	err := c.query("Peers", func(p *C.offrec_client) C.offrec_result {
		return C.offrec_client_peer_count(p, &n)
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, int(n))
	var buf [C.OFFREC_MAX_NAME_LEN + 1]C.char
	for i := C.size_t(0); i < n; i++ {
		var length C.size_t
		err := c.query("Peers", func(p *C.offrec_client) C.offrec_result {
			return C.offrec_client_peer(p, i, &buf[0], C.size_t(len(buf)), &length)
		})
		if err != nil {
			if isCode(err, ResultInvalidArgument) {
				break
			}
			return nil, err
		}
		if length > 0 {
			out = append(out, C.GoStringN(&buf[0], C.int(length-1)))
		}
	}
	return out, nil
}

// ForgetKey forgets one of peer's keys and the trust in it (libotr's
// otrl_context_forget_fingerprint): a later session with it reports a new key. ErrKeyInUse
// while an encrypted session uses it (end that first), ErrUnknownKey if the peer has no such
// key; nothing changes then. An EventPersistNeeded asks for a save.
func (c *Client) ForgetKey(peer string, keyID Fingerprint) error {
	return c.call("ForgetKey", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		return shimForgetKey(frame, p, pp, pl, (*C.uint8_t)(unsafe.Pointer(&keyID[0])))
	})
}

// ForgetPeer forgets everything about peer (libotr's otrl_context_forget): its keys and trust,
// finished or stored sessions, its own policy; messages held for it fail (EventMessageNotSent
// with NotSentSessionEnded). ErrSessionActive while an encrypted session with it is live (end
// it first), ErrUnknownPeer if nothing is known about it.
func (c *Client) ForgetPeer(peer string) error {
	return c.call("ForgetPeer", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		return shimForgetPeer(frame, p, pp, pl)
	})
}

// SetPeerPolicy gives peer a policy of its own, replacing the client's for that peer as a whole
// (libotr asks its application for a policy per conversation): sending, answering its queries
// and tags, the downgrade guard and whether to speak OTR with it follow it from the next call.
// It is stored with the client. Unknown bits: ErrInvalidPolicy.
func (c *Client) SetPeerPolicy(peer string, policy Policy) error {
	return c.call("SetPeerPolicy", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		return shimSetPeerPolicy(frame, p, pp, pl, C.uint32_t(policy))
	})
}

// ClearPeerPolicy removes peer's own policy: the client's applies to it again (no error if it
// had none).
func (c *Client) ClearPeerPolicy(peer string) error {
	return c.call("ClearPeerPolicy", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		return shimClearPeerPolicy(frame, p, pp, pl)
	})
}

// PeerPolicy returns the policy that applies to peer and whether it is peer's own (false: the
// client's policy).
func (c *Client) PeerPolicy(peer string) (policy Policy, own bool, err error) {
	var out C.uint32_t
	var isOwn C.bool
	err = c.query("PeerPolicy", func(p *C.offrec_client) C.offrec_result {
		pp, pl := cstr(peer)
		return C.offrec_client_peer_policy(p, pp, pl, &out, &isOwn)
	})
	return Policy(out), bool(isOwn), err
}
