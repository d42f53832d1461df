package offrec

// OTR v3/v2 compatibility: the client's OTR DSA key, which protocol each session speaks, and
// how OTR clients show fingerprints and session ids. Everything else (Send, SMP, extra keys,
// EndSession, trust) works on OTR sessions through the usual methods.

// #include "offrec.h"
import "C"

import (
	"encoding/hex"
	"strings"
	"unsafe"
)

// OTRFingerprintLen is the length in bytes of an OTR DSA fingerprint (SHA-1).
const OTRFingerprintLen = 20

// otrKeyIDPrefix starts the 32-byte key id under which an OTR DSA key appears in events,
// SessionInfo and the trust calls: "otr-dsa-sha1" followed by the 20-byte fingerprint.
var otrKeyIDPrefix = []byte("otr-dsa-sha1")

// OTRFingerprint is the SHA-1 fingerprint of an OTR DSA key (ours, or an OTR peer's).
type OTRFingerprint [OTRFingerprintLen]byte

// String formats the fingerprint as libotr and Pidgin show it: five groups of eight
// upper-case hex digits, such as "CB5EFC9C 5C6C88A7 E4926E47 D40421EC F28B3275".
func (f OTRFingerprint) String() string { return FormatOTRFingerprint(f) }

// Hex returns the fingerprint as 40 lower-case hex digits, no spaces.
func (f OTRFingerprint) Hex() string { return hex.EncodeToString(f[:]) }

// KeyID returns the 32-byte key id that names this DSA key in events, SessionInfo and the
// trust calls (SetTrust, Trust, KnownKeys).
func (f OTRFingerprint) KeyID() Fingerprint {
	var id Fingerprint
	copy(id[:], otrKeyIDPrefix)
	copy(id[len(otrKeyIDPrefix):], f[:])
	return id
}

// FormatOTRFingerprint formats an OTR DSA fingerprint as libotr and Pidgin show it, five
// groups of eight upper-case hex digits (offrec_otr_fingerprint_format). Fingerprint.String
// shows an OTR key id the same way.
func FormatOTRFingerprint(f OTRFingerprint) string {
	var buf [64]C.char
	var n C.size_t
	r := C.offrec_otr_fingerprint_format((*C.uint8_t)(unsafe.Pointer(&f[0])), &buf[0], C.size_t(len(buf)), &n)
	if r != C.OFFREC_RESULT_OK || n == 0 {
		return strings.ToUpper(hex.EncodeToString(f[:]))
	}
	return C.GoStringN(&buf[0], C.int(n-1))
}

// KeyIDIsOTR reports whether a 32-byte key id (a Fingerprint from an event, SessionInfo or
// KnownKeys) names an OTR DSA key, and if so returns its 20-byte DSA fingerprint
// (offrec_key_id_is_otr). Otherwise it is an offrec identity key.
func KeyIDIsOTR(id Fingerprint) (OTRFingerprint, bool) {
	var dsa OTRFingerprint
	var isOTR C.bool
	r := C.offrec_key_id_is_otr((*C.uint8_t)(unsafe.Pointer(&id[0])), (*C.uint8_t)(unsafe.Pointer(&dsa[0])), &isOTR)
	if r != C.OFFREC_RESULT_OK || !bool(isOTR) {
		return OTRFingerprint{}, false
	}
	return dsa, true
}

// OTRSSID is OTR's secure session id (8 bytes), which both sides read aloud as two words.
type OTRSSID [8]byte

// Words returns the two words as libotr shows them, eight lower-case hex digits each.
func (s OTRSSID) Words() (string, string) {
	return hex.EncodeToString(s[:4]), hex.EncodeToString(s[4:])
}

// String returns the two words separated by a space.
func (s OTRSSID) String() string {
	a, b := s.Words()
	return a + " " + b
}

// OTRSession is what OTR clients (Pidgin, Adium...) show about an OTR session.
type OTRSession struct {
	// TheirFingerprint is the peer's DSA fingerprint.
	TheirFingerprint OTRFingerprint
	// SSID is the secure session id; both sides see the same one.
	SSID OTRSSID
	// FirstHalfBold: whether the first word of SSID is shown bold on our side (the peer shows
	// the other one bold).
	FirstHalfBold bool
}

// BoldWord returns the word of SSID this side shows bold.
func (o *OTRSession) BoldWord() string {
	a, b := o.SSID.Words()
	if o.FirstHalfBold {
		return a
	}
	return b
}

// SessionProtocol says which protocol one session speaks (offrec_session_protocol).
type SessionProtocol struct {
	// Instance is the remote instance tag, as in SessionInfo. OTR v2 has no instance tags: a
	// v2 session is kept under the pseudo-instance 2.
	Instance uint32
	Protocol Protocol
	Strength Strength
	// OTR is set for OTR sessions only.
	OTR *OTRSession
}

// Legacy reports whether the session's cryptography is OTR's, weaker than offrec's: show it
// apart.
func (s SessionProtocol) Legacy() bool { return s.Strength == StrengthLegacy }

// SessionProtocol returns the protocol of session number index with peer, in the order of
// [Client.Sessions] (ErrInvalidArgument past the last one).
func (c *Client) SessionProtocol(peer string, index int) (SessionProtocol, error) {
	if index < 0 {
		return SessionProtocol{}, &Error{Code: ResultInvalidArgument, Message: "negative index", Op: "SessionProtocol"}
	}
	var raw C.offrec_session_protocol
	err := c.query("SessionProtocol", func(p *C.offrec_client) C.offrec_result {
		pp, pl := cstr(peer)
		return C.offrec_client_session_protocol(p, pp, pl, C.size_t(index), &raw)
	})
	if err != nil {
		return SessionProtocol{}, err
	}
	sp := SessionProtocol{
		Instance: uint32(raw.instance),
		Protocol: Protocol(raw.protocol),
		Strength: Strength(raw.strength),
	}
	if bool(raw.has_otr_fingerprint) {
		o := &OTRSession{FirstHalfBold: bool(raw.otr_ssid_first_half_bold)}
		for i := range o.TheirFingerprint {
			o.TheirFingerprint[i] = byte(raw.their_otr_fingerprint[i])
		}
		for i := range o.SSID {
			o.SSID[i] = byte(raw.otr_ssid[i])
		}
		sp.OTR = o
	}
	return sp, nil
}

// SessionProtocols returns [Client.SessionProtocol] of every session with peer, in the order
// of [Client.Sessions].
func (c *Client) SessionProtocols(peer string) ([]SessionProtocol, error) {
	var n C.size_t
	err := c.query("SessionProtocols", func(p *C.offrec_client) C.offrec_result {
		pp, pl := cstr(peer)
		return C.offrec_client_session_count(p, pp, pl, &n)
	})
	if err != nil {
		return nil, err
	}
	out := make([]SessionProtocol, 0, int(n))
	for i := 0; i < int(n); i++ {
		sp, err := c.SessionProtocol(peer, i)
		if err != nil {
			if isCode(err, ResultInvalidArgument) {
				break // another goroutine ended a session meanwhile
			}
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

// OTRFingerprint returns the fingerprint of our OTR DSA key; ErrNoOTRKey (errors.Is) before
// the key exists (see [Client.GenerateOTRKey]).
func (c *Client) OTRFingerprint() (OTRFingerprint, error) {
	var f OTRFingerprint
	err := c.query("OTRFingerprint", func(p *C.offrec_client) C.offrec_result {
		return C.offrec_client_otr_fingerprint(p, (*C.uint8_t)(unsafe.Pointer(&f[0])))
	})
	return f, err
}
