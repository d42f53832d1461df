package offrec

// The texts a client sends, in the application's words (localisation).

// #include "offrec.h"
import "C"

// TextKind says which text SetText sets (offrec_text).
type TextKind uint32

const (
	// TextQuery: the sentence after "?OTRv3? ?OFRv1?" in our query.
	TextQuery TextKind = 1
	// TextOTRErrorUnreadable: the "?OTR Error:" text for an OTR data message that could not
	// be read.
	TextOTRErrorUnreadable TextKind = 2
	// TextOTRErrorNotInPrivate: the "?OTR Error:" text for OTR data without an OTR session.
	TextOTRErrorNotInPrivate TextKind = 3
	// TextOTRErrorMalformed: the "?OTR Error:" text for an OTR data message that could not be
	// parsed.
	TextOTRErrorMalformed TextKind = 4
)

// MaxCustomTextLen is the longest text SetText takes, in bytes.
const MaxCustomTextLen = 1024

var textKindNames = map[TextKind]string{
	TextQuery:                "QUERY",
	TextOTRErrorUnreadable:   "OTR_ERROR_UNREADABLE",
	TextOTRErrorNotInPrivate: "OTR_ERROR_NOT_IN_PRIVATE",
	TextOTRErrorMalformed:    "OTR_ERROR_MALFORMED",
}

// String returns the lower-case name, such as "query".
func (t TextKind) String() string { return lowerName(textKindNames, t, "TextKind") }

// SetText sets a text we send in the user's language. Refused, changing nothing:
// ErrInvalidText for a control character (other than a line feed) or a protocol marker (?OTR,
// ?OFR), ErrMessageTooLarge past MaxCustomTextLen bytes, ErrInvalidUTF8. Texts are settings,
// not stored: set them after every create or load. offrec's own error messages are
// machine-readable reports the peer's offrec turns into events, so they have no text here.
func (c *Client) SetText(which TextKind, text string) error {
	return c.call("SetText", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		t, tl := cstr(text)
		if t == nil {
			// An empty text is a text, not "the default": pass a non-NULL pointer.
			var empty C.char
			return shimSetText(frame, p, C.uint32_t(which), &empty, 0)
		}
		return shimSetText(frame, p, C.uint32_t(which), t, tl)
	})
}

// ResetText restores the default for which.
func (c *Client) ResetText(which TextKind) error {
	return c.call("ResetText", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		return shimSetText(frame, p, C.uint32_t(which), nil, 0)
	})
}

// Text returns the text currently sent for which.
func (c *Client) Text(which TextKind) (string, error) {
	var buf [MaxCustomTextLen + 1]C.char
	var n C.size_t
	err := c.query("Text", func(p *C.offrec_client) C.offrec_result {
		return C.offrec_client_text(p, C.uint32_t(which), &buf[0], C.size_t(len(buf)), &n)
	})
	if err != nil || n == 0 {
		return "", err
	}
	return C.GoStringN(&buf[0], C.int(n-1)), nil
}
