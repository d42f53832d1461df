package offrec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// otrPolicy is the presets' OTR fallback without PolicyDowngradeGuard: two offrec clients
// forced onto OTR stay there (with the guard, its probe is meant to upgrade them).
const otrPolicy = PolicyAllow | PolicyAllowOTRV3 | PolicyAllowOTRV2

// otrPair gives alice and bob an OTR session: alice is handed query as if bob had sent it (a
// query whose modern offer was stripped on the way), and the traffic is relayed.
func otrPair(t *testing.T, query string) (*network, *party, *Client, *party, *Client) {
	t.Helper()
	n := newNetwork()
	pa, a := newParty(t, n, "alice", otrPolicy)
	pb, b := newParty(t, n, "bob", otrPolicy)
	must(t, a.Receive("bob", query))
	n.pump(t)
	return n, pa, a, pb, b
}

func (p *party) count(code EventCode) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := 0
	for _, e := range p.events {
		if e.Code == code {
			k++
		}
	}
	return k
}

func (p *party) sentSnapshot() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.sent...)
}

func countPrefix(texts []string, prefix string) int {
	k := 0
	for _, s := range texts {
		if strings.HasPrefix(s, prefix) {
			k++
		}
	}
	return k
}

func TestOTRV3SessionCarriesTextAndReportsItself(t *testing.T) {
	n, pa, a, pb, b := otrPair(t, "?OTRv3?")
	type side struct {
		me    *Client
		p     *party
		peer  string
		other *Client
	}
	views := map[string]*OTRSession{}
	for _, s := range []side{{a, pa, "bob", b}, {b, pb, "alice", a}} {
		sps, err := s.me.SessionProtocols(s.peer)
		must(t, err)
		if len(sps) != 1 {
			t.Fatalf("%s: %d sessions", s.p.name, len(sps))
		}
		sp := sps[0]
		tag, err := s.other.InstanceTag()
		must(t, err)
		if sp.Protocol != ProtocolOTRV3 || sp.Strength != StrengthLegacy || !sp.Legacy() || sp.Instance != tag || sp.OTR == nil {
			t.Fatalf("%s: %+v (want otr_v3, legacy, instance %#x)", s.p.name, sp, tag)
		}
		otherFP, err := s.other.OTRFingerprint()
		must(t, err)
		if sp.OTR.TheirFingerprint != otherFP {
			t.Errorf("%s sees %v, the peer's key is %v", s.p.name, sp.OTR.TheirFingerprint, otherFP)
		}
		st, err := s.me.SessionState(s.peer)
		must(t, err)
		if st != StateEncryptedUnverified {
			t.Errorf("%s: state %v", s.p.name, st)
		}
		ev, ok := s.p.event(EventLegacySessionStarted)
		if !ok || ev.Protocol() != ProtocolOTRV3 || ev.Peer != s.peer || s.p.count(EventLegacySessionStarted) != 1 {
			t.Errorf("%s: LEGACY_SESSION_STARTED %+v (found %v)", s.p.name, ev, ok)
		}
		// SessionInfo and events name the DSA key by its 32-byte key id.
		infos, err := s.me.Sessions(s.peer)
		must(t, err)
		if infos[0].TheirFingerprint != otherFP.KeyID() {
			t.Errorf("%s: key id %x, want %x", s.p.name, infos[0].TheirFingerprint, otherFP.KeyID())
		}
		if dsa, ok := KeyIDIsOTR(infos[0].TheirFingerprint); !ok || dsa != otherFP {
			t.Errorf("%s: KeyIDIsOTR = %v, %v", s.p.name, dsa, ok)
		}
		if got := infos[0].TheirFingerprint.String(); got != otherFP.String() || len(got) != 44 {
			t.Errorf("%s: key id shown as %q, want %q", s.p.name, got, otherFP.String())
		}
		if nf, ok := s.p.event(EventNewFingerprint); !ok || nf.Fingerprint == nil || *nf.Fingerprint != otherFP.KeyID() {
			t.Errorf("%s: NEW_FINGERPRINT %+v", s.p.name, nf)
		}
		views[s.p.name] = sp.OTR
	}
	va, vb := views["alice"], views["bob"]
	if va.SSID != vb.SSID || va.SSID == (OTRSSID{}) {
		t.Errorf("ssids differ: %v / %v", va.SSID, vb.SSID)
	}
	if va.FirstHalfBold == vb.FirstHalfBold || va.BoldWord() == vb.BoldWord() {
		t.Error("both sides show the same half bold")
	}
	fa, _ := a.OTRFingerprint()
	fb, _ := b.OTRFingerprint()
	if fa == fb {
		t.Error("both clients have the same DSA key")
	}

	for i := 0; i < 3; i++ {
		_, err := a.Send("bob", "to bob <b>&amp;</b> ✓")
		must(t, err)
		n.pump(t)
		_, err = b.Send("alice", "to alice")
		must(t, err)
		n.pump(t)
	}
	if d := pb.lastDelivered(); d.text != "to bob <b>&amp;</b> ✓" || d.security != SecurityEncryptedUnverified {
		t.Errorf("bob got %+v", d)
	}
	if d := pa.lastDelivered(); d.text != "to alice" || d.security != SecurityEncryptedUnverified {
		t.Errorf("alice got %+v", d)
	}
	sentA, sentB := pa.sentSnapshot(), pb.sentSnapshot()
	if countPrefix(sentA, "?OTR:AAMC") != 1 {
		t.Error("alice did not answer with one OTR v3 D-H Commit")
	}
	if countPrefix(sentA, "?OTR:AAMD") < 3 || countPrefix(sentB, "?OTR:AAMD") < 3 {
		t.Error("no OTR v3 data messages")
	}
	for _, text := range append(sentA, sentB...) {
		if strings.Contains(text, "to bob") || strings.Contains(text, "to alice") {
			t.Errorf("plaintext on the wire: %q", text)
		}
		if strings.HasPrefix(text, "?OFR") {
			t.Errorf("modern traffic in an OTR session: %q", text)
		}
	}
}

func TestOTRV2Session(t *testing.T) {
	n, pa, a, pb, b := otrPair(t, "?OTRv2?")
	sp, err := a.SessionProtocol("bob", 0)
	must(t, err)
	fb, err := b.OTRFingerprint()
	must(t, err)
	if sp.Protocol != ProtocolOTRV2 || sp.Strength != StrengthLegacy || sp.Instance != 2 || sp.OTR == nil || sp.OTR.TheirFingerprint != fb {
		t.Fatalf("%+v (want otr_v2 under the pseudo-instance 2)", sp)
	}
	if ev, ok := pb.event(EventLegacySessionStarted); !ok || ev.Protocol() != ProtocolOTRV2 {
		t.Errorf("bob: %+v", ev)
	}
	_, err = b.Send("alice", "over v2")
	must(t, err)
	n.pump(t)
	if d := pa.lastDelivered(); d.text != "over v2" {
		t.Errorf("alice got %+v", d)
	}
	if countPrefix(pb.sentSnapshot(), "?OTR:AAID") != 1 {
		t.Error("no OTR v2 data message")
	}
}

func TestSMPWithQuestionOverOTRVerifiesOnlyTheAsker(t *testing.T) {
	n, pa, a, pb, b := otrPair(t, "?OTRv3?")
	must(t, a.SMPStart("bob", 0, []byte("shared secret"), "our city?"))
	n.pump(t)
	if ev, ok := pb.event(EventSMPAskedForSecret); !ok || ev.Text != "our city?" {
		t.Fatalf("bob asked: %+v", ev)
	}
	must(t, b.SMPRespond("alice", 0, []byte("shared secret")))
	n.pump(t)
	if pa.count(EventSMPSucceeded) != 1 || pb.count(EventSMPSucceeded) != 0 || pb.count(EventSMPVerifiedByPeer) != 1 {
		t.Fatalf("alice %v / bob %v", pa.events, pb.events)
	}
	if st, _ := a.SessionState("bob"); st != StateEncryptedVerified {
		t.Errorf("alice: %v", st)
	}
	if st, _ := b.SessionState("alice"); st != StateEncryptedUnverified {
		t.Errorf("bob: %v", st)
	}
	fb, _ := b.OTRFingerprint()
	fa, _ := a.OTRFingerprint()
	if tr, err := a.Trust("bob", fb.KeyID()); err != nil || tr != TrustVerifiedSMP {
		t.Errorf("alice's trust in bob: %v %v", tr, err)
	}
	if tr, err := b.Trust("alice", fa.KeyID()); err != nil || tr != TrustUnverified {
		t.Errorf("bob's trust in alice: %v %v", tr, err)
	}
	// The usual trust calls take the OTR key id.
	must(t, b.SetTrust("alice", fa.KeyID(), TrustVerifiedManual))
	if st, _ := b.SessionState("alice"); st != StateEncryptedVerified {
		t.Errorf("bob after SetTrust: %v", st)
	}
	keys, err := a.KnownKeys("bob")
	must(t, err)
	if len(keys) != 1 || keys[0].Fingerprint != fb.KeyID() || keys[0].Trust != TrustVerifiedSMP {
		t.Errorf("alice knows %+v", keys)
	}
}

func TestExtraKeyAndEndingOverOTR(t *testing.T) {
	n, pa, a, pb, b := otrPair(t, "?OTRv3?")
	key, err := b.ExtraSymmetricKey("alice", 0, 7, []byte("file.txt"))
	must(t, err)
	n.pump(t)
	ev, ok := pa.event(EventExtraKeyReceived)
	if !ok || ev.Usage != 7 || string(ev.Context) != "file.txt" || !bytes.Equal(ev.Key, key) || bytes.Equal(key, make([]byte, 32)) {
		t.Fatalf("alice got %+v, bob has %x", ev, key)
	}
	must(t, a.EndSession("bob", 0))
	n.pump(t)
	if st, _ := b.SessionState("alice"); st != StateFinished {
		t.Errorf("bob: %v", st)
	}
	if pb.count(EventPeerEndedSession) != 1 {
		t.Error("no PEER_ENDED_SESSION")
	}
	if _, err := b.Send("alice", "after the end"); !errors.Is(err, ErrSessionFinished) {
		t.Errorf("send after the end: %v", err)
	}
}

func TestRequireModernReportsOTRAndNeverAnswers(t *testing.T) {
	for _, policy := range []Policy{PolicyManual | PolicyRequireModern, PolicyAllow} {
		n := newNetwork()
		pa, a := newParty(t, n, "alice", policy)
		newParty(t, n, "bob", PolicyManual)
		must(t, a.Receive("bob", "?OTRv3?"))
		n.pump(t)
		if sps, err := a.SessionProtocols("bob"); err != nil || len(sps) != 0 {
			t.Errorf("%v: sessions %+v %v", policy, sps, err)
		}
		if pa.count(EventForeignProtocol) != 1 || pa.count(EventLegacySessionStarted) != 0 {
			t.Errorf("%v: events %v", policy, pa.events)
		}
		if pa.sentCount() != 0 {
			t.Errorf("%v: answered %v", policy, pa.sentSnapshot())
		}
		if _, err := a.OTRFingerprint(); !errors.Is(err, ErrNoOTRKey) {
			t.Errorf("%v: a DSA key was made: %v", policy, err)
		}
		must(t, a.StartSession("bob"))
		if s := pa.sentSnapshot(); len(s) != 1 || !strings.HasPrefix(s[0], "?OFRv1?") {
			t.Errorf("%v: own query %q offers OTR", policy, s)
		}
	}
}

func TestModernSessionReportsStrong(t *testing.T) {
	_, pa, a, _, b := encryptedPair(t)
	sp, err := a.SessionProtocol("bob", 0)
	must(t, err)
	tag, _ := b.InstanceTag()
	if sp != (SessionProtocol{Instance: tag, Protocol: ProtocolModernV1, Strength: StrengthStrong}) || sp.Legacy() {
		t.Fatalf("%+v", sp)
	}
	if pa.count(EventLegacySessionStarted) != 0 {
		t.Error("LEGACY_SESSION_STARTED for a modern session")
	}
	infos, _ := a.Sessions("bob")
	if _, ok := KeyIDIsOTR(infos[0].TheirFingerprint); ok {
		t.Error("an offrec key taken for an OTR key")
	}
	if _, err := a.OTRFingerprint(); !errors.Is(err, ErrNoOTRKey) {
		t.Errorf("no OTR need arose, yet: %v", err)
	}
	for _, idx := range []int{1, -1} {
		if _, err := a.SessionProtocol("bob", idx); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("index %d: %v", idx, err)
		}
	}
	if _, err := a.SessionProtocol("nobody", 0); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unknown peer: %v", err)
	}
}

func TestGenerateOTRKeyIsIdempotentAndPersisted(t *testing.T) {
	n := newNetwork()
	pa, a := newParty(t, n, "alice", otrPolicy)
	if _, err := a.OTRFingerprint(); !errors.Is(err, ErrNoOTRKey) {
		t.Fatalf("before: %v", err)
	}
	before := pa.count(EventPersistNeeded)
	fp, err := a.GenerateOTRKey()
	must(t, err)
	if fp == (OTRFingerprint{}) || pa.count(EventPersistNeeded) != before+1 {
		t.Fatalf("fp %v, persist events %d -> %d", fp, before, pa.count(EventPersistNeeded))
	}
	if got, err := a.OTRFingerprint(); err != nil || got != fp {
		t.Errorf("OTRFingerprint = %v %v", got, err)
	}
	again, err := a.GenerateOTRKey()
	must(t, err)
	if again != fp || pa.count(EventPersistNeeded) != before+1 {
		t.Errorf("not idempotent: %v vs %v", again, fp)
	}
	var key [32]byte
	key[0] = 7
	sealed, err := a.Save(RawKey(key))
	must(t, err)
	restored, err := LoadClient(sealed, "alice", RawKey(key), PolicyManual, &party{name: "alice", net: n})
	must(t, err)
	defer restored.Close()
	if got, err := restored.OTRFingerprint(); err != nil || got != fp {
		t.Errorf("after load: %v %v, want %v", got, err, fp)
	}
	dir := t.TempDir()
	must(t, a.SaveToDir(dir, Passphrase("pw")))
	fromDir, err := LoadClientFromDir(dir, "alice", Passphrase("pw"), PolicyManual, &party{name: "alice", net: n})
	must(t, err)
	defer fromDir.Close()
	if got, err := fromDir.OTRFingerprint(); err != nil || got != fp {
		t.Errorf("after LoadClientFromDir: %v %v", got, err)
	}
	// The generated key is the one OTR sessions use.
	_, b := newParty(t, n, "bob", otrPolicy)
	must(t, b.Receive("alice", "?OTRv3?"))
	n.pump(t)
	sp, err := b.SessionProtocol("alice", 0)
	must(t, err)
	if sp.OTR == nil || sp.OTR.TheirFingerprint != fp {
		t.Errorf("bob sees %+v, want %v", sp.OTR, fp)
	}
}

func TestOTRFingerprintFormattingAndKeyIDs(t *testing.T) {
	var fp OTRFingerprint
	for i := range fp {
		fp[i] = byte(i * 0x11)
	}
	if s := FormatOTRFingerprint(fp); s != "00112233 44556677 8899AABB CCDDEEFF 10213243" || fp.String() != s {
		t.Errorf("%q", s)
	}
	if fp.Hex() != "00112233445566778899aabbccddeeff10213243" {
		t.Errorf("hex %q", fp.Hex())
	}
	id := fp.KeyID()
	if !bytes.HasPrefix(id[:], []byte("otr-dsa-sha1")) {
		t.Errorf("key id %x", id)
	}
	if dsa, ok := KeyIDIsOTR(id); !ok || dsa != fp {
		t.Errorf("KeyIDIsOTR(KeyID) = %v %v", dsa, ok)
	}
	if id.String() != fp.String() {
		t.Errorf("Fingerprint.String of an OTR key id: %q", id.String())
	}
	id[0] ^= 1
	if _, ok := KeyIDIsOTR(id); ok {
		t.Error("a damaged prefix still names an OTR key")
	}
	if _, ok := KeyIDIsOTR(Fingerprint{}); ok {
		t.Error("zeros name an OTR key")
	}
	var ssid OTRSSID
	copy(ssid[:], []byte{0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04})
	if w1, w2 := ssid.Words(); w1 != "deadbeef" || w2 != "01020304" || ssid.String() != "deadbeef 01020304" {
		t.Errorf("%q %q", w1, w2)
	}
}

func TestOTRNamesAndPolicies(t *testing.T) {
	if ProtocolOTRV3.String() != "otr_v3" || StrengthLegacy.String() != "legacy" || Protocol(9).String() != "Protocol(9)" {
		t.Error(ProtocolOTRV3, StrengthLegacy, Protocol(9))
	}
	if !ProtocolOTRV2.IsOTR() || ProtocolModernV1.IsOTR() {
		t.Error("IsOTR")
	}
	if EventLegacySessionStarted.String() != "legacy_session_started" || ResultNoOTRKey.String() != "NO_OTR_KEY" {
		t.Error(EventLegacySessionStarted, ResultNoOTRKey)
	}
	if !strings.Contains(ErrNoOTRKey.Message, "OTR") {
		t.Errorf("message %q", ErrNoOTRKey.Message)
	}
	if s := (PolicyAllow | PolicyRequireModern).String(); s != "allow|require_modern" {
		t.Errorf("policy string %q", s)
	}
	fallback := PolicyAllowOTRV3 | PolicyAllowOTRV2 | PolicyDowngradeGuard
	for _, p := range []Policy{PolicyManual, PolicyOpportunistic, PolicyAlways} {
		if p&fallback != fallback || p&PolicyRequireModern != 0 {
			t.Errorf("%v lacks the OTR fallback", p)
		}
	}
}

func TestOTRCallsOnAClosedClient(t *testing.T) {
	n := newNetwork()
	_, a := newParty(t, n, "alice", PolicyManual)
	must(t, a.Close())
	if _, err := a.GenerateOTRKey(); !errors.Is(err, ErrClosed) {
		t.Error(err)
	}
	if _, err := a.OTRFingerprint(); !errors.Is(err, ErrClosed) {
		t.Error(err)
	}
	if _, err := a.SessionProtocol("bob", 0); !errors.Is(err, ErrClosed) {
		t.Error(err)
	}
	if _, err := a.SessionProtocols("bob"); !errors.Is(err, ErrClosed) {
		t.Error(err)
	}
}

// Receivers refuse OTR messages over 128 KiB armoured: with no transport limit set, such a
// message must be refused here, not sent whole and lost there.
func TestOTRSMPArgumentsAnOTRSessionCannotCarryAreRefused(t *testing.T) {
	_, pa, a, _, _ := otrPair(t, "?OTRv3?")
	before := len(pa.sentSnapshot())
	if err := a.SMPStart("bob", 0, []byte("secret"), "which\x00one"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a question with a NUL: %v, want ErrInvalidArgument", err)
	}
	long := bytes.Repeat([]byte("s"), MaxSMPSecretLen+1)
	if err := a.SMPStart("bob", 0, long, ""); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("a secret over MaxSMPSecretLen: %v, want ErrMessageTooLarge", err)
	}
	if after := len(pa.sentSnapshot()); after != before {
		t.Fatalf("%d texts sent for refused SMP starts", after-before)
	}
}

func TestOTRMessageLongerThanAnyReceiverAcceptsIsRefused(t *testing.T) {
	n, pa, a, pb, _ := otrPair(t, "?OTRv3?")
	before := len(pa.sentSnapshot())
	if _, err := a.Send("bob", strings.Repeat("m", 100000)); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("100,000 bytes over OTR: %v, want ErrMessageTooLarge", err)
	}
	if after := len(pa.sentSnapshot()); after != before {
		t.Fatalf("%d texts sent for a refused message", after-before)
	}
	fits := strings.Repeat("f", 90000)
	if _, err := a.Send("bob", fits); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	pb.mu.Lock()
	last := pb.delivered[len(pb.delivered)-1].text
	pb.mu.Unlock()
	if last != fits {
		t.Fatalf("bob got %d bytes, want 90,000", len(last))
	}
}
