package offrec

// What needs no client: classifying a line of text, and the library's names for its numbers.

// #include "offrec.h"
import "C"

// MessageKind says what a line of text is (offrec_message_kind; see Classify).
type MessageKind uint32

const (
	KindPlaintext          MessageKind = 1  // ordinary text: show it
	KindOffrecQuery        MessageKind = 2  // an offrec query (also the combined ?OTRv3? ?OFRv1?)
	KindOffrecTagged       MessageKind = 3  // text with offrec's whitespace tag: show it untagged
	KindOffrecKeyExchange  MessageKind = 4  // an offrec handshake message
	KindOffrecData         MessageKind = 5  // an offrec encrypted data message
	KindOffrecError        MessageKind = 6  // ?OFR Error:
	KindOffrecFragment     MessageKind = 7  // a fragment of an offrec message
	KindOTRQuery           MessageKind = 8  // ?OTRv23?, ?OTR?
	KindOTRTagged          MessageKind = 9  // text with OTR's whitespace tag only
	KindOTRDHCommit        MessageKind = 10 // OTR AKE: D-H Commit
	KindOTRDHKey           MessageKind = 11 // OTR AKE: D-H Key
	KindOTRRevealSignature MessageKind = 12 // OTR AKE: Reveal Signature
	KindOTRSignature       MessageKind = 13 // OTR AKE: Signature
	KindOTRData            MessageKind = 14 // an OTR v3/v2 encrypted data message
	KindOTRError           MessageKind = 15 // ?OTR Error:
	KindOTRFragment        MessageKind = 16 // a fragment of an OTR v3/v2 message
	KindOTRForeign         MessageKind = 17 // OTR v1, OTRv4 or unknown: never spoken
	KindMalformed          MessageKind = 18 // looks encoded but does not decode
)

var messageKindNames = map[MessageKind]string{
	KindPlaintext:          "PLAINTEXT",
	KindOffrecQuery:        "OFFREC_QUERY",
	KindOffrecTagged:       "OFFREC_TAGGED",
	KindOffrecKeyExchange:  "OFFREC_KEY_EXCHANGE",
	KindOffrecData:         "OFFREC_DATA",
	KindOffrecError:        "OFFREC_ERROR",
	KindOffrecFragment:     "OFFREC_FRAGMENT",
	KindOTRQuery:           "OTR_QUERY",
	KindOTRTagged:          "OTR_TAGGED",
	KindOTRDHCommit:        "OTR_DH_COMMIT",
	KindOTRDHKey:           "OTR_DH_KEY",
	KindOTRRevealSignature: "OTR_REVEAL_SIGNATURE",
	KindOTRSignature:       "OTR_SIGNATURE",
	KindOTRData:            "OTR_DATA",
	KindOTRError:           "OTR_ERROR",
	KindOTRFragment:        "OTR_FRAGMENT",
	KindOTRForeign:         "OTR_FOREIGN",
	KindMalformed:          "MALFORMED",
}

// String returns the lower-case name, such as "otr_dh_commit".
func (k MessageKind) String() string { return lowerName(messageKindNames, k, "MessageKind") }

// IsForPeople reports whether the line is text for a person (possibly tagged) rather than
// protocol traffic.
func (k MessageKind) IsForPeople() bool {
	return k == KindPlaintext || k == KindOffrecTagged || k == KindOTRTagged
}

// Classify says what a line of text is (offrec_classify): plaintext, tagged plaintext, or
// which offrec or OTR message. It needs no client and changes nothing; nothing is decrypted or
// authenticated. For apps that keep protocol traffic out of their logs. ErrInvalidUTF8 for
// text that is not UTF-8.
func Classify(text string) (MessageKind, error) {
	var out C.uint32_t
	t, tl := cstr(text)
	if t == nil {
		var empty C.char
		t = &empty
	}
	if err := check("Classify", C.offrec_classify(t, tl, &out)); err != nil {
		return 0, err
	}
	return MessageKind(out), nil
}

// The library's names for its numbers (for logs): the C constant without its prefix, in lower
// case, or "unknown". They equal the String methods of the Go types for every known value.

// EventName names an event code, such as "handshake_complete".
func EventName(code EventCode) string { return C.GoString(C.offrec_event_name(C.uint32_t(code))) }

// StateName names a session state, such as "encrypted_verified".
func StateName(s SessionState) string { return C.GoString(C.offrec_state_name(C.uint32_t(s))) }

// TrustName names a trust level, such as "verified_smp".
func TrustName(t Trust) string { return C.GoString(C.offrec_trust_name(C.uint32_t(t))) }

// HandshakeFailureName names a handshake failure, such as "names_differ".
func HandshakeFailureName(r HandshakeFailure) string {
	return C.GoString(C.offrec_handshake_failure_name(C.uint32_t(r)))
}

// NotSentReasonName names a not-sent reason, such as "encryption_timeout".
func NotSentReasonName(r NotSentReason) string {
	return C.GoString(C.offrec_not_sent_reason_name(C.uint32_t(r)))
}

// ProtocolName names a protocol, such as "otr_v3".
func ProtocolName(p Protocol) string { return C.GoString(C.offrec_protocol_name(C.uint32_t(p))) }

// KeyKindName names a key kind, such as "otr_dsa".
func KeyKindName(k KeyKind) string { return C.GoString(C.offrec_key_kind_name(C.uint32_t(k))) }

// MessageKindName names a message kind, such as "otr_dh_commit".
func MessageKindName(k MessageKind) string {
	return C.GoString(C.offrec_message_kind_name(C.uint32_t(k)))
}
