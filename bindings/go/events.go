package offrec

// #include "offrec.h"
import "C"

import (
	"fmt"
	"strings"
)

// SessionState is the security of a session with one remote instance (offrec_session_state).
type SessionState uint32

const (
	StatePlaintext           SessionState = 0 // no encryption
	StateEncryptedUnverified SessionState = 1 // encrypted; the peer's key is not verified
	StateEncryptedVerified   SessionState = 2 // encrypted; the peer's key is verified (SMP or by hand)
	StateFinished            SessionState = 3 // the peer ended the session: end or restart it
)

var sessionStateNames = map[SessionState]string{
	StatePlaintext:           "PLAINTEXT",
	StateEncryptedUnverified: "ENCRYPTED_UNVERIFIED",
	StateEncryptedVerified:   "ENCRYPTED_VERIFIED",
	StateFinished:            "FINISHED",
}

// String returns the lower-case name, such as "encrypted_unverified".
func (s SessionState) String() string { return lowerName(sessionStateNames, s, "SessionState") }

// Encrypted reports whether messages in this state are encrypted.
func (s SessionState) Encrypted() bool {
	return s == StateEncryptedUnverified || s == StateEncryptedVerified
}

// Security says how a delivered message arrived (offrec_security).
type Security uint32

const (
	SecurityPlaintext           Security = 0 // it came in the clear
	SecurityEncryptedUnverified Security = 1 // encrypted by a peer whose key is not verified
	SecurityEncryptedVerified   Security = 2 // encrypted by a verified peer
)

var securityNames = map[Security]string{
	SecurityPlaintext:           "PLAINTEXT",
	SecurityEncryptedUnverified: "ENCRYPTED_UNVERIFIED",
	SecurityEncryptedVerified:   "ENCRYPTED_VERIFIED",
}

// String returns the lower-case name, such as "plaintext".
func (s Security) String() string { return lowerName(securityNames, s, "Security") }

// Trust is how far a peer's key is trusted (offrec_trust).
type Trust uint32

const (
	TrustUnverified     Trust = 0 // not verified (a key seen, nothing more)
	TrustVerifiedSMP    Trust = 1 // verified by the Socialist Millionaires' Protocol
	TrustVerifiedManual Trust = 2 // verified by the user comparing fingerprints
)

var trustNames = map[Trust]string{
	TrustUnverified:     "UNVERIFIED",
	TrustVerifiedSMP:    "VERIFIED_SMP",
	TrustVerifiedManual: "VERIFIED_MANUAL",
}

// String returns the lower-case name, such as "verified_smp".
func (t Trust) String() string { return lowerName(trustNames, t, "Trust") }

// EventCode is the kind of an [Event] (offrec_event_code). New codes may appear in newer
// libraries: ignore the ones you do not know.
type EventCode uint32

const (
	EventEncryptionRequired        EventCode = 1  // a message (MessageID) is held until the session is encrypted
	EventHeldMessageSent           EventCode = 2  // a held message (MessageID) was sent encrypted
	EventMessageNotSent            EventCode = 3  // a message (MessageID) was not sent; see Event.NotSentReason
	EventUnreadable                EventCode = 4  // an encrypted message could not be read
	EventMalformed                 EventCode = 5  // a message was not well-formed
	EventNotInPrivate              EventCode = 6  // encrypted data arrived without a session for it
	EventForOtherInstance          EventCode = 7  // a message for another instance of this account (ignored)
	EventReflected                 EventCode = 8  // a message we sent came back to us
	EventUnencryptedWhileEncrypted EventCode = 9  // plaintext arrived while the session is encrypted
	EventUnencryptedWhileRequired  EventCode = 10 // plaintext arrived while the policy requires encryption
	EventPeerError                 EventCode = 11 // the peer sent an error message (Text: its untrusted words)
	EventForeignProtocol           EventCode = 12 // OTR traffic this client does not answer
	EventHeartbeatReceived         EventCode = 13 // the peer sent a heartbeat
	EventHeartbeatSent             EventCode = 14 // we sent a heartbeat
	EventPeerEndedSession          EventCode = 15 // the peer ended the encrypted session
	EventSessionExpired            EventCode = 16 // the session expired after a long silence
	EventHandshakeFailed           EventCode = 17 // a handshake failed; see Event.HandshakeFailure
	EventHandshakeComplete         EventCode = 18 // a handshake completed
	EventExtraKeyReceived          EventCode = 19 // the peer used an extra symmetric key (Usage, Context, Key)
	EventPeerCouldNotRead          EventCode = 20 // the peer could not read our message MessageID
	EventNewFingerprint            EventCode = 21 // the first key seen for this peer (Fingerprint)
	EventFingerprintChanged        EventCode = 22 // the peer's key changed (Fingerprint, OldFingerprint)
	EventSMPAskedForSecret         EventCode = 23 // SMP: the peer asks for our secret (Text: the question)
	EventSMPInProgress             EventCode = 24 // SMP: in progress
	EventSMPSucceeded              EventCode = 25 // SMP: succeeded; the key is verified
	EventSMPFailed                 EventCode = 26 // SMP: the secrets did not match
	EventSMPAborted                EventCode = 27 // SMP: aborted
	EventSMPCheated                EventCode = 28 // SMP: a proof failed (someone cheated)
	// 29 is retired in the C API and never reused.

	// EventPersistNeeded: state worth keeping changed and is not saved yet; save (from the
	// Event callback is fine, or later). Reported once until saved: a call reports it only when
	// it changes a kind of state not changed since the last successful Save or SaveToDir (a
	// failed save leaves it pending; a loaded client starts with nothing unsaved).
	// Event.Reason is the [PersistFlag] bitmask of everything changed since that save,
	// Event.Peer is empty. At most one per call, delivered last.
	EventPersistNeeded EventCode = 30
	// EventSMPVerifiedByPeer: we answered the peer's SMP question correctly, so the peer now
	// trusts our key. Our trust in the peer is NOT changed (the asker chose the question); ask
	// your own question to verify them. The asker gets EventSMPSucceeded.
	EventSMPVerifiedByPeer EventCode = 31
	// EventKeyConsentRequired: a session uses an unverified key (Event.Fingerprint) while a key
	// of this peer is verified; plain sends do not use it until the app consents
	// (Client.AcceptKey, Client.SendToInstance, or SetTrust verified). MessageID 0: the session
	// was set up; otherwise that message is held (sent on consent, else EventMessageNotSent
	// with NotSentKeyChanged after the held-message timeout).
	EventKeyConsentRequired EventCode = 32
	EventInputDropped       EventCode = 33 // unauthenticated input dropped: the client's budget is full
	// EventLegacySessionStarted: an OTR session started with a peer that does not speak
	// offrec's protocol; Event.Reason is the [Protocol] (ProtocolOTRV3 or ProtocolOTRV2; see
	// Event.Protocol). Encrypted and authenticated, but weaker than offrec's protocol: show it
	// (SECURITY.md "Legacy OTR").
	EventLegacySessionStarted EventCode = 34
	// EventProtocolUpgraded: the OTR session with this instance was replaced by a session of
	// offrec's own protocol (the peer runs offrec too): it is STRONG now.
	EventProtocolUpgraded EventCode = 35
	// EventDowngradeSuspected: the peer announced offrec inside an OTR session, but the modern
	// handshake did not complete in time (or completed with another key than announced):
	// someone may be blocking offrec's protocol. The OTR session stays; tell the user.
	EventDowngradeSuspected EventCode = 36
	// EventDowngradeDetected: an OTR session came up with a DSA key linked to one of this
	// peer's offrec keys: the peer runs offrec, so someone removed offrec's offer. User text for
	// it is held (never sent over OTR) while an offrec handshake runs; then it goes out over the
	// offrec session (EventProtocolUpgraded, EventHeldMessageSent), or fails after the handshake
	// timeout (EventDowngradeSuspected, EventMessageNotSent with NotSentEncryptionTimeout).
	EventDowngradeDetected EventCode = 37
	// EventLegacyWithModernPeer: an OTR session came up with a peer that had offrec sessions
	// before, with a DSA key not linked to it (say, its other device runs Pidgin). Allowed.
	EventLegacyWithModernPeer EventCode = 38
	// EventOTRKeyLinked: a new key link: the peer's offrec key and its OTR DSA key
	// (Event.Fingerprint, the 32-byte key id) belong together, as one claimed inside its
	// authenticated session. Trust flows from the claiming key if it is verified, never the
	// other way, never lowered.
	EventOTRKeyLinked EventCode = 39
	// EventTLVReceived: an application TLV arrived inside an encrypted message
	// ([Client.SendTLVs]): Event.TLVType (0x8000-0xFFFF) and Event.TLVValue. One event per TLV,
	// in order, before the Deliver of the message's text.
	EventTLVReceived EventCode = 44
)

var eventNames = map[EventCode]string{
	EventEncryptionRequired:        "ENCRYPTION_REQUIRED",
	EventHeldMessageSent:           "HELD_MESSAGE_SENT",
	EventMessageNotSent:            "MESSAGE_NOT_SENT",
	EventUnreadable:                "UNREADABLE",
	EventMalformed:                 "MALFORMED",
	EventNotInPrivate:              "NOT_IN_PRIVATE",
	EventForOtherInstance:          "FOR_OTHER_INSTANCE",
	EventReflected:                 "REFLECTED",
	EventUnencryptedWhileEncrypted: "UNENCRYPTED_WHILE_ENCRYPTED",
	EventUnencryptedWhileRequired:  "UNENCRYPTED_WHILE_REQUIRED",
	EventPeerError:                 "PEER_ERROR",
	EventForeignProtocol:           "FOREIGN_PROTOCOL",
	EventHeartbeatReceived:         "HEARTBEAT_RECEIVED",
	EventHeartbeatSent:             "HEARTBEAT_SENT",
	EventPeerEndedSession:          "PEER_ENDED_SESSION",
	EventSessionExpired:            "SESSION_EXPIRED",
	EventHandshakeFailed:           "HANDSHAKE_FAILED",
	EventHandshakeComplete:         "HANDSHAKE_COMPLETE",
	EventExtraKeyReceived:          "EXTRA_KEY_RECEIVED",
	EventPeerCouldNotRead:          "PEER_COULD_NOT_READ",
	EventNewFingerprint:            "NEW_FINGERPRINT",
	EventFingerprintChanged:        "FINGERPRINT_CHANGED",
	EventSMPAskedForSecret:         "SMP_ASKED_FOR_SECRET",
	EventSMPInProgress:             "SMP_IN_PROGRESS",
	EventSMPSucceeded:              "SMP_SUCCEEDED",
	EventSMPFailed:                 "SMP_FAILED",
	EventSMPAborted:                "SMP_ABORTED",
	EventSMPCheated:                "SMP_CHEATED",
	EventPersistNeeded:             "PERSIST_NEEDED",
	EventSMPVerifiedByPeer:         "SMP_VERIFIED_BY_PEER",
	EventKeyConsentRequired:        "KEY_CONSENT_REQUIRED",
	EventInputDropped:              "INPUT_DROPPED",
	EventLegacySessionStarted:      "LEGACY_SESSION_STARTED",
	EventProtocolUpgraded:          "PROTOCOL_UPGRADED",
	EventDowngradeSuspected:        "DOWNGRADE_SUSPECTED",
	EventDowngradeDetected:         "DOWNGRADE_DETECTED",
	EventLegacyWithModernPeer:      "LEGACY_WITH_MODERN_PEER",
	EventOTRKeyLinked:              "OTR_KEY_LINKED",
	EventTLVReceived:               "TLV_RECEIVED",
}

// String returns the snake_case name, such as "smp_asked_for_secret", or "event_<n>" for
// codes this package does not know.
func (e EventCode) String() string {
	if n, ok := eventNames[e]; ok {
		return strings.ToLower(n)
	}
	return fmt.Sprintf("event_%d", uint32(e))
}

// PersistFlag says what changed since the last successful save, in Event.Reason of an
// [EventPersistNeeded] event (offrec_persist_flag): every kind unsaved, not only the call's. Stored sessions are never resumed after a load (they are restarted
// with a new handshake), so saving keeps trust, held messages and the record of sent
// messages. New bits may appear: save on any non-zero value.
type PersistFlag uint32

const (
	PersistSessions     PersistFlag = 1  // a session was installed, ended, finished or expired
	PersistTrust        PersistFlag = 2  // a key was first seen or changed, or trust was set
	PersistHeldMessages PersistFlag = 4  // messages held for encryption were queued, sent or failed
	PersistSentLog      PersistFlag = 8  // the record of sent messages changed
	PersistOther        PersistFlag = 16 // other bookkeeping, such as the message id counter
)

var persistFlagNames = map[PersistFlag]string{
	PersistSessions:     "SESSIONS",
	PersistTrust:        "TRUST",
	PersistHeldMessages: "HELD_MESSAGES",
	PersistSentLog:      "SENT_LOG",
	PersistOther:        "OTHER",
}

// String returns the set bits' lower-case names joined by "|", such as "sent_log|other".
func (f PersistFlag) String() string {
	var parts []string
	for bit := PersistFlag(1); bit != 0; bit <<= 1 {
		if f&bit == 0 {
			continue
		}
		if n, ok := persistFlagNames[bit]; ok {
			parts = append(parts, strings.ToLower(n))
		} else {
			parts = append(parts, fmt.Sprintf("0x%x", uint32(bit)))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// NotSentReason says why a message was not sent (Event.Reason of EventMessageNotSent).
type NotSentReason uint32

const (
	NotSentEncryptionTimeout NotSentReason = 1 // encryption is required and no session came up in time
	NotSentSessionFinished   NotSentReason = 2 // the peer ended the session
	NotSentKeyChanged        NotSentReason = 3 // only a new, unverified key's session was up, without consent
	NotSentSessionEnded      NotSentReason = 4 // the user ended the session first
	NotSentQueueFull         NotSentReason = 5 // too many messages were waiting for encryption
	NotSentTooLarge          NotSentReason = 6 // larger than the peer accepts
)

var notSentNames = map[NotSentReason]string{
	NotSentEncryptionTimeout: "ENCRYPTION_TIMEOUT",
	NotSentSessionFinished:   "SESSION_FINISHED",
	NotSentKeyChanged:        "KEY_CHANGED",
	NotSentSessionEnded:      "SESSION_ENDED",
	NotSentQueueFull:         "QUEUE_FULL",
	NotSentTooLarge:          "TOO_LARGE",
}

// String returns the lower-case name, such as "encryption_timeout".
func (r NotSentReason) String() string { return lowerName(notSentNames, r, "NotSentReason") }

// HandshakeFailure says why a handshake failed (Event.Reason of EventHandshakeFailed;
// offrec_handshake_failure). HandshakeNamesDiffer: the two sides bind different names
// (account names after normalisation, network, or OptionNameBinding); both sides get it at
// once (PROTOCOL.md §4.2).
type HandshakeFailure uint32

const (
	HandshakeMalformed            HandshakeFailure = 1 // a handshake message was not well-formed
	HandshakeWrongInstance        HandshakeFailure = 2 // a handshake message for another instance
	HandshakeVersionMismatch      HandshakeFailure = 3 // no protocol version in common
	HandshakeAuthenticationFailed HandshakeFailure = 4 // the peer's proof of identity did not verify
	HandshakeNonContributory      HandshakeFailure = 5 // a key exchange value was degenerate
	HandshakeRandom               HandshakeFailure = 6 // the random number source failed
	HandshakeUnsendable           HandshakeFailure = 7 // a handshake message does not fit the transport
	HandshakeNamesDiffer          HandshakeFailure = 8 // the two sides bind different names
	// HandshakeOTRFailed: an OTR (v3/v2) handshake failed: a signature, MAC or commitment did
	// not verify, or a DH value was out of range.
	HandshakeOTRFailed HandshakeFailure = 9
)

var handshakeFailureNames = map[HandshakeFailure]string{
	HandshakeMalformed:            "MALFORMED",
	HandshakeWrongInstance:        "WRONG_INSTANCE",
	HandshakeVersionMismatch:      "VERSION_MISMATCH",
	HandshakeAuthenticationFailed: "AUTHENTICATION_FAILED",
	HandshakeNonContributory:      "NON_CONTRIBUTORY",
	HandshakeRandom:               "RANDOM",
	HandshakeUnsendable:           "UNSENDABLE",
	HandshakeNamesDiffer:          "NAMES_DIFFER",
	HandshakeOTRFailed:            "OTR_FAILED",
}

// String returns the lower-case name, such as "names_differ".
func (r HandshakeFailure) String() string {
	return lowerName(handshakeFailureNames, r, "HandshakeFailure")
}

// Protocol is the protocol a session speaks (offrec_protocol).
type Protocol uint32

const (
	ProtocolModernV1 Protocol = 1 // offrec's own protocol (X25519, double ratchet, AES-256-GCM)
	ProtocolOTRV3    Protocol = 2 // OTR version 3, as libotr 4 speaks it (Pidgin, Adium, irssi-otr...)
	ProtocolOTRV2    Protocol = 3 // OTR version 2 (python-potr: weechat-otr, Gajim)
)

var protocolNames = map[Protocol]string{
	ProtocolModernV1: "MODERN_V1",
	ProtocolOTRV3:    "OTR_V3",
	ProtocolOTRV2:    "OTR_V2",
}

// String returns the lower-case name, such as "otr_v3".
func (p Protocol) String() string { return lowerName(protocolNames, p, "Protocol") }

// IsOTR reports whether the protocol is one of OTR's versions.
func (p Protocol) IsOTR() bool { return p == ProtocolOTRV3 || p == ProtocolOTRV2 }

// Strength says how strong a session's cryptography is (offrec_strength).
type Strength uint32

const (
	// StrengthStrong: offrec's protocol, ~128-bit security throughout.
	StrengthStrong Strength = 1
	// StrengthLegacy: OTR, with DSA-1024 signatures (~80 bits), a 1536-bit DH group and SHA-1
	// MACs. Show it apart from StrengthStrong (SECURITY.md "Legacy OTR").
	StrengthLegacy Strength = 2
)

var strengthNames = map[Strength]string{
	StrengthStrong: "STRONG",
	StrengthLegacy: "LEGACY",
}

// String returns the lower-case name, such as "legacy".
func (s Strength) String() string { return lowerName(strengthNames, s, "Strength") }

// Option is a client tunable for [Client.SetOption] (offrec_option). Times are in seconds of
// the client's clock.
type Option uint32

const (
	OptionHeartbeatInterval  Option = 0 // 0 = never; default 60
	OptionSessionExpiry      Option = 1 // 0 = never; default 7200
	OptionHeldMessageTimeout Option = 2 // default 120
	OptionHandshakeTimeout   Option = 3 // default 120
	OptionPaddingBlock       Option = 4 // 0 = none, at most 4096; default 16
	OptionMaxMessageSize     Option = 5 // 0 = unlimited (default), else at least 64
	// Bytes held for unauthenticated input (fragments, strangers, pending handshakes);
	// default 4 MiB. Input past it is dropped with EventInputDropped.
	OptionUnauthenticatedBudget Option = 6

	// OptionNameBinding: 1 = bind both account names and the network, normalised (default);
	// 0 = the network only (IRC nick changes). Both sides must agree.
	OptionNameBinding Option = 7
)

var optionNames = map[Option]string{
	OptionHeartbeatInterval:     "HEARTBEAT_INTERVAL",
	OptionSessionExpiry:         "SESSION_EXPIRY",
	OptionHeldMessageTimeout:    "HELD_MESSAGE_TIMEOUT",
	OptionHandshakeTimeout:      "HANDSHAKE_TIMEOUT",
	OptionPaddingBlock:          "PADDING_BLOCK",
	OptionMaxMessageSize:        "MAX_MESSAGE_SIZE",
	OptionUnauthenticatedBudget: "UNAUTHENTICATED_BUDGET",
	OptionNameBinding:           "NAME_BINDING",
}

// String returns the lower-case name, such as "padding_block".
func (o Option) String() string { return lowerName(optionNames, o, "Option") }

// Policy is a combination of policy flags (OFFREC_POLICY_*), or one of the presets.
//
// The encrypting presets include OTR v3/v2 as fallback with the downgrade guard (as libotr's
// presets allow v2 and v3): a peer that offers only OTR gets an OTR session
// ([StrengthLegacy]). Add PolicyRequireModern (or leave out the PolicyAllowOTR bits) to never
// speak OTR.
type Policy uint32

const (
	PolicyAllow              Policy = 1  // speak the protocol at all
	PolicyRequireEncryption  Policy = 2  // never send typed text in the clear
	PolicySendWhitespaceTag  Policy = 4  // advertise support in plaintext
	PolicyWhitespaceStartAKE Policy = 8  // start a handshake on a tagged plaintext
	PolicyErrorStartAKE      Policy = 16 // start a handshake on an error message
	// PolicyAllowOTRV3: speak OTR v3 with peers that do not offer offrec (libotr: Pidgin,
	// Adium, irssi-otr, Jitsi). Weaker than offrec's protocol (SECURITY.md "Legacy OTR").
	PolicyAllowOTRV3 Policy = 32
	// PolicyAllowOTRV2: speak OTR v2 with peers that offer nothing newer (python-potr).
	PolicyAllowOTRV2 Policy = 64
	// PolicyDowngradeGuard: inside OTR sessions, announce offrec and upgrade to its protocol
	// when the peer runs offrec too.
	PolicyDowngradeGuard Policy = 128
	// PolicyRequireModern: never speak OTR (the strict opt-out; overrides PolicyAllowOTRV3/V2).
	PolicyRequireModern Policy = 256
	// PolicyOTRFallback: what every encrypting preset adds, OTR v3 and v2 as fallback with
	// the downgrade guard (as libotr's presets allow v2 and v3).
	PolicyOTRFallback Policy = PolicyAllowOTRV3 | PolicyAllowOTRV2 | PolicyDowngradeGuard

	// PolicyNever: never encrypt.
	PolicyNever Policy = 0
	// PolicyManual: encrypt when the user starts a session or the peer asks; OTR as fallback.
	PolicyManual Policy = PolicyAllow | PolicyOTRFallback
	// PolicyOpportunistic: advertise with the whitespace tag and encrypt whenever the peer
	// can; OTR as fallback.
	PolicyOpportunistic Policy = PolicyAllow | PolicySendWhitespaceTag | PolicyWhitespaceStartAKE | PolicyOTRFallback
	// PolicyAlways: encrypt or do not send; OTR as fallback.
	PolicyAlways Policy = PolicyAllow | PolicyRequireEncryption | PolicyWhitespaceStartAKE | PolicyOTRFallback
)

// policyFlagNames names the flags (after OFFREC_POLICY_); presets are checked in drift.go.
var policyFlagNames = []struct {
	flag Policy
	name string
}{
	{PolicyAllow, "ALLOW"},
	{PolicyRequireEncryption, "REQUIRE_ENCRYPTION"},
	{PolicySendWhitespaceTag, "SEND_WHITESPACE_TAG"},
	{PolicyWhitespaceStartAKE, "WHITESPACE_START_AKE"},
	{PolicyErrorStartAKE, "ERROR_START_AKE"},
	{PolicyAllowOTRV3, "ALLOW_OTR_V3"},
	{PolicyAllowOTRV2, "ALLOW_OTR_V2"},
	{PolicyDowngradeGuard, "DOWNGRADE_GUARD"},
	{PolicyRequireModern, "REQUIRE_MODERN"},
}

// String returns a preset's name ("manual") or the flags joined by "|".
func (p Policy) String() string {
	switch p {
	case PolicyNever:
		return "never"
	case PolicyManual:
		return "manual"
	case PolicyOpportunistic:
		return "opportunistic"
	case PolicyAlways:
		return "always"
	}
	var parts []string
	rest := p
	for _, f := range policyFlagNames {
		if p&f.flag != 0 {
			parts = append(parts, strings.ToLower(f.name))
			rest &^= f.flag
		}
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", uint32(rest)))
	}
	return strings.Join(parts, "|")
}

// ParsePolicy parses a preset name: "never", "manual", "opportunistic" or "always".
func ParsePolicy(name string) (Policy, error) {
	switch strings.ToLower(name) {
	case "never":
		return PolicyNever, nil
	case "manual":
		return PolicyManual, nil
	case "opportunistic":
		return PolicyOpportunistic, nil
	case "always":
		return PolicyAlways, nil
	}
	return 0, fmt.Errorf("offrec: unknown policy %q (never, manual, opportunistic, always)", name)
}

// Event is something that happened, copied out of the library's offrec_event during the event
// callback: it is the receiver's to keep. Fields that do not apply to Code are zero.
type Event struct {
	Code     EventCode
	Peer     string
	Instance uint32 // remote instance tag, 0 when none is involved
	// MessageID: EventEncryptionRequired, EventHeldMessageSent, EventMessageNotSent,
	// EventPeerCouldNotRead, EventKeyConsentRequired.
	MessageID uint64
	// Reason: a NotSentReason for EventMessageNotSent; a HandshakeFailure for
	// EventHandshakeFailed; a PersistFlag bitmask for EventPersistNeeded; a Protocol for
	// EventLegacySessionStarted.
	Reason uint32
	// Text: the peer's (untrusted) words for EventPeerError; the question for
	// EventSMPAskedForSecret. HasText is false when the library gave none (no question).
	Text    string
	HasText bool
	// Fingerprint: EventNewFingerprint, EventFingerprintChanged, EventKeyConsentRequired,
	// EventOTRKeyLinked (the linked DSA key's key id).
	Fingerprint *Fingerprint
	// OldFingerprint, OldWasVerified: EventFingerprintChanged.
	OldFingerprint *Fingerprint
	OldWasVerified bool
	// Usage, Context, Key: EventExtraKeyReceived. Key is 32 bytes; wipe it after use.
	// EventTLVReceived: Usage is the TLV's type and Context its value (see TLVType, TLVValue).
	Usage   uint32
	Context []byte
	Key     []byte
}

// TLVType returns the application TLV's type (meaningful for EventTLVReceived).
func (e *Event) TLVType() uint16 { return uint16(e.Usage) }

// TLVValue returns the application TLV's value (meaningful for EventTLVReceived; never nil
// for it, possibly empty).
func (e *Event) TLVValue() []byte {
	if e.Context == nil && e.Code == EventTLVReceived {
		return []byte{}
	}
	return e.Context
}

// String shows the event readably, with only the fields that apply to its code, and never a
// secret: the extra key is "<hidden>", an extra key's context and a TLV's value appear as
// their length. fmt's %v and %+v use it.
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Event{%s peer=%q", e.Code, e.Peer)
	if e.Instance != 0 {
		fmt.Fprintf(&b, " instance=0x%08x", e.Instance)
	}
	if e.MessageID != 0 {
		fmt.Fprintf(&b, " message=%d", e.MessageID)
	}
	switch e.Code {
	case EventMessageNotSent:
		fmt.Fprintf(&b, " reason=%s", e.NotSentReason())
	case EventHandshakeFailed:
		fmt.Fprintf(&b, " reason=%s", e.HandshakeFailure())
	case EventPersistNeeded:
		fmt.Fprintf(&b, " reason=%s", PersistFlag(e.Reason))
	case EventLegacySessionStarted:
		fmt.Fprintf(&b, " reason=%s", e.Protocol())
	default:
		if e.Reason != 0 {
			fmt.Fprintf(&b, " reason=%d", e.Reason)
		}
	}
	if e.HasText {
		fmt.Fprintf(&b, " text=%q", e.Text)
	}
	if e.Fingerprint != nil {
		fmt.Fprintf(&b, " fingerprint=%s", e.Fingerprint)
	}
	if e.OldFingerprint != nil {
		fmt.Fprintf(&b, " old_fingerprint=%s old_was_verified=%t", e.OldFingerprint, e.OldWasVerified)
	}
	if e.Code == EventTLVReceived {
		fmt.Fprintf(&b, " tlv_type=0x%04x tlv_value=<%d bytes>", e.TLVType(), len(e.Context))
	} else {
		if e.Usage != 0 {
			fmt.Fprintf(&b, " usage=%d", e.Usage)
		}
		if e.Context != nil {
			fmt.Fprintf(&b, " context=<%d bytes>", len(e.Context))
		}
	}
	if e.Key != nil {
		b.WriteString(" key=<hidden>")
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String: %#v shows no secret either.
func (e Event) GoString() string { return e.String() }

// NotSentReason returns Reason as a NotSentReason (meaningful for EventMessageNotSent).
func (e *Event) NotSentReason() NotSentReason { return NotSentReason(e.Reason) }

// HandshakeFailure returns Reason as a HandshakeFailure (meaningful for EventHandshakeFailed).
func (e *Event) HandshakeFailure() HandshakeFailure { return HandshakeFailure(e.Reason) }

// Protocol returns Reason as a Protocol (meaningful for EventLegacySessionStarted).
func (e *Event) Protocol() Protocol { return Protocol(e.Reason) }

func fingerprintFrom(p *C.uint8_t) *Fingerprint {
	if p == nil {
		return nil
	}
	var f Fingerprint
	copy(f[:], goBytes(p, FingerprintLen))
	return &f
}

// eventFromC copies everything out of the borrowed C event.
func eventFromC(st *clientState, e *C.offrec_event) Event {
	return Event{
		Code:           EventCode(e.code),
		Peer:           st.peerName(e.peer, e.peer_len),
		Instance:       uint32(e.instance),
		MessageID:      uint64(e.message_id),
		Reason:         uint32(e.reason),
		Text:           goString(e.text, e.text_len),
		HasText:        e.text != nil,
		Fingerprint:    fingerprintFrom(e.fingerprint),
		OldFingerprint: fingerprintFrom(e.old_fingerprint),
		OldWasVerified: bool(e.old_was_verified),
		Usage:          uint32(e.usage),
		Context:        goBytes(e.context, e.context_len),
		Key:            goBytes(e.key, keyLen(e.key)),
	}
}

func keyLen(p *C.uint8_t) C.size_t {
	if p == nil {
		return 0
	}
	return FingerprintLen
}

type named interface {
	~uint32
}

func lowerName[T named](names map[T]string, v T, typ string) string {
	if n, ok := names[v]; ok {
		return strings.ToLower(n)
	}
	return fmt.Sprintf("%s(%d)", typ, uint32(v))
}
