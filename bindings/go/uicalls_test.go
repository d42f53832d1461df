package offrec

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// The calls a chat UI needs (issue #16 §2) through the Go binding.

func (p *party) lastSent() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sent) == 0 {
		return ""
	}
	return p.sent[len(p.sent)-1]
}

func sampleOTRKeyID() Fingerprint {
	var dsa OTRFingerprint
	for i := range dsa {
		dsa[i] = byte(0xC0 + i)
	}
	return dsa.KeyID()
}

func TestPeersAndKnownKeysWithKind(t *testing.T) {
	_, _, a, _, _ := encryptedPair(t)
	peers, err := a.Peers()
	must(t, err)
	if len(peers) != 1 || peers[0] != "bob" {
		t.Fatalf("Peers = %q", peers)
	}
	keys, err := a.KnownKeys("bob")
	must(t, err)
	if len(keys) != 1 || keys[0].Kind != KeyKindModern || len(keys[0].NativeFingerprint) != 32 ||
		string(keys[0].NativeFingerprint) != string(keys[0].Fingerprint[:]) {
		t.Fatalf("KnownKeys = %+v", keys)
	}
	must(t, a.SetTrust("bob", sampleOTRKeyID(), TrustVerifiedManual))
	must(t, a.SetPeerPolicy("zoe", PolicyNever))
	keys, err = a.KnownKeys("bob")
	must(t, err)
	var otr *KnownKey
	for i := range keys {
		if keys[i].Kind == KeyKindOTRDSA {
			otr = &keys[i]
		}
	}
	if otr == nil || len(otr.NativeFingerprint) != 20 || otr.NativeFingerprint[0] != 0xC0 || otr.Trust != TrustVerifiedManual {
		t.Fatalf("the OTR key: %+v", otr)
	}
	peers, err = a.Peers()
	must(t, err)
	if strings.Join(peers, ",") != "bob,zoe" {
		t.Fatalf("Peers = %q (a peer with only a policy counts)", peers)
	}
}

func TestNothingInUseIsForgotten(t *testing.T) {
	n, pa, a, _, _ := encryptedPair(t)
	keys, err := a.KnownKeys("bob")
	must(t, err)
	key := keys[0].Fingerprint
	if err := a.ForgetKey("bob", key); !errors.Is(err, ErrKeyInUse) {
		t.Fatalf("ForgetKey in use: %v", err)
	}
	if err := a.ForgetKey("bob", Fingerprint{}); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("ForgetKey unknown: %v", err)
	}
	if err := a.ForgetPeer("bob"); !errors.Is(err, ErrSessionActive) {
		t.Fatalf("ForgetPeer live: %v", err)
	}
	if err := a.ForgetPeer("nobody"); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("ForgetPeer unknown: %v", err)
	}
	must(t, a.EndSession("bob", 0))
	n.mu.Lock()
	n.queue = nil
	n.mu.Unlock()
	_, err = a.Save(RawKey([32]byte{7})) // PersistNeeded is reported once until saved
	must(t, err)
	saves := pa.count(EventPersistNeeded)
	must(t, a.ForgetKey("bob", key))
	if pa.count(EventPersistNeeded) != saves+1 {
		t.Fatal("forgetting a key asks for a save")
	}
	must(t, a.ForgetPeer("bob"))
	peers, err := a.Peers()
	must(t, err)
	if len(peers) != 0 {
		t.Fatalf("Peers after ForgetPeer = %q", peers)
	}
}

func TestPeerPolicyChangesThatPeerOnly(t *testing.T) {
	n := newNetwork()
	pa, a := newParty(t, n, "alice", PolicyOpportunistic)
	_, b := newParty(t, n, "bob", PolicyOpportunistic)
	newParty(t, n, "carol", PolicyOpportunistic)
	must(t, a.SetPeerPolicy("bob", PolicyNever))
	if p, own, err := a.PeerPolicy("bob"); err != nil || p != PolicyNever || !own {
		t.Fatalf("PeerPolicy(bob) = %v %v %v", p, own, err)
	}
	if p, own, err := a.PeerPolicy("carol"); err != nil || p != PolicyOpportunistic || own {
		t.Fatalf("PeerPolicy(carol) = %v %v %v", p, own, err)
	}
	if err := a.SetPeerPolicy("bob", Policy(1<<20)); !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("bad bits: %v", err)
	}
	_, err := a.Send("bob", "hi bob")
	must(t, err)
	if pa.lastSent() != "hi bob" {
		t.Fatalf("to bob: %q (NEVER sends no whitespace tag)", pa.lastSent())
	}
	_, err = a.Send("carol", "hi carol")
	must(t, err)
	if k, _ := Classify(pa.lastSent()); k != KindOffrecTagged {
		t.Fatalf("to carol: %v", k)
	}
	n.pump(t)
	must(t, b.StartSession("alice"))
	n.pump(t)
	if st, _ := a.SessionState("bob"); st != StatePlaintext {
		t.Fatalf("bob's query was answered: %v", st)
	}
	if st, _ := a.SessionState("carol"); st != StateEncryptedUnverified {
		t.Fatalf("carol: %v", st)
	}
	// REQUIRE_MODERN for bob: his OTR query is reported, never answered; persisted.
	must(t, a.SetPeerPolicy("bob", PolicyManual|PolicyRequireModern))
	before := pa.sentCount()
	must(t, a.Receive("bob", "?OTRv3?"))
	if pa.sentCount() != before {
		t.Fatal("answered an OTR query from a REQUIRE_MODERN peer")
	}
	sealed, err := a.Save(RawKey([32]byte{1}))
	must(t, err)
	restored, err := LoadClient(sealed, "alice", RawKey([32]byte{1}), PolicyManual, &party{name: "alice", net: newNetwork()})
	must(t, err)
	defer restored.Close()
	if p, own, err := restored.PeerPolicy("bob"); err != nil || p != PolicyManual|PolicyRequireModern || !own {
		t.Fatalf("restored PeerPolicy(bob) = %v %v %v", p, own, err)
	}
	must(t, restored.ClearPeerPolicy("bob"))
	if _, own, _ := restored.PeerPolicy("bob"); own {
		t.Fatal("ClearPeerPolicy left it")
	}
}

func TestTextsReachThePeer(t *testing.T) {
	n := newNetwork()
	pa, a := newParty(t, n, "alice", PolicyManual)
	_, b := newParty(t, n, "bob", PolicyManual)
	const query = "Verschlüsseltes Gespräch angefragt."
	must(t, a.SetText(TextQuery, query))
	if got, err := a.Text(TextQuery); err != nil || got != query {
		t.Fatalf("Text = %q %v", got, err)
	}
	must(t, a.StartSession("bob"))
	sent := pa.lastSent()
	if !strings.HasPrefix(sent, "?OTRv") || !strings.Contains(sent, "?OFRv1?") || !strings.HasSuffix(sent, query) {
		t.Fatalf("query sent: %q", sent)
	}
	n.pump(t)
	if st, _ := b.SessionState("alice"); st != StateEncryptedUnverified {
		t.Fatalf("bob: %v", st)
	}
	for _, bad := range []string{"x ?OTRv3? y", "?ofr", "tab\there", "nul\x00"} {
		if err := a.SetText(TextQuery, bad); !errors.Is(err, ErrInvalidText) {
			t.Fatalf("SetText(%q): %v", bad, err)
		}
	}
	if err := a.SetText(TextQuery, strings.Repeat("a", MaxCustomTextLen+1)); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("too long: %v", err)
	}
	if err := a.SetText(TextKind(99), "x"); !errors.Is(err, ErrUnknownEnumValue) {
		t.Fatalf("unknown text: %v", err)
	}
	must(t, a.SetText(TextQuery, ""))
	if got, _ := a.Text(TextQuery); got != "" {
		t.Fatalf("empty text: %q", got)
	}
	must(t, a.ResetText(TextQuery))
	if got, _ := a.Text(TextQuery); !strings.HasPrefix(got, "An encrypted conversation was requested") {
		t.Fatalf("reset: %q", got)
	}
	// The OTR error text, as libotr reads it.
	secret := [32]byte{5}
	pc := &party{name: "carol", net: n}
	c, err := NewClientWithIdentity("carol", "test", PolicyManual, secret, 0x1234abcd, pc)
	must(t, err)
	defer c.Close()
	must(t, c.SetText(TextOTRErrorNotInPrivate, "Nachricht ohne Sitzung."))
	must(t, c.Receive("mallory", "?OTR:AAMDAAASNBI0q80A."))
	if pc.lastSent() != "?OTR Error: Nachricht ohne Sitzung." {
		t.Fatalf("OTR error sent: %q", pc.lastSent())
	}
}

// presenceParty answers IsLoggedIn from an atomic.
type presenceParty struct {
	party
	online atomic.Int32
	asked  atomic.Int32
}

func (p *presenceParty) IsLoggedIn(peer string) Presence {
	p.asked.Add(1)
	return Presence(p.online.Load())
}

func TestNoHeartbeatOrSessionEndToAnOfflinePeer(t *testing.T) {
	n := newNetwork()
	_, a := newParty(t, n, "alice", PolicyManual)
	pb := &presenceParty{party: party{name: "bob", net: n}}
	pb.online.Store(int32(PresenceUnknown))
	b, err := NewClient("bob", "test", PolicyManual, pb)
	must(t, err)
	defer b.Close()
	n.clients["bob"] = b
	must(t, a.StartSession("bob"))
	n.pump(t)
	_, err = a.Send("bob", "ping")
	must(t, err)
	n.pump(t)
	n.clock.Add(61)
	pb.online.Store(int32(PresenceOffline))
	must(t, b.Tick())
	if pb.asked.Load() == 0 || pb.count(EventHeartbeatSent) != 0 || len(n.queue) != 0 {
		t.Fatalf("asked %d, heartbeats %d, queued %d", pb.asked.Load(), pb.count(EventHeartbeatSent), len(n.queue))
	}
	pb.online.Store(int32(PresenceOnline))
	must(t, b.Tick())
	if pb.count(EventHeartbeatSent) != 1 {
		t.Fatal("no heartbeat to an online peer")
	}
	n.pump(t)
	pb.online.Store(int32(PresenceOffline))
	must(t, b.EndSession("alice", 0))
	if len(n.queue) != 0 {
		t.Fatal("a session end went to an offline peer")
	}
	if st, _ := a.SessionState("bob"); st != StateEncryptedUnverified {
		t.Fatalf("alice was told: %v", st)
	}
}

func TestClassifyAndNames(t *testing.T) {
	for text, want := range map[string]MessageKind{
		"hello":                  KindPlaintext,
		"":                       KindPlaintext,
		"?OTRv23?":               KindOTRQuery,
		"?OTR:AAMDAAASNBI0q80A.": KindOTRData,
		"?OTR:AAEC.":             KindOTRForeign,
		"?OFR:@@":                KindMalformed,
		"?OFR Error: x":          KindOffrecError,
	} {
		got, err := Classify(text)
		if err != nil || got != want {
			t.Errorf("Classify(%q) = %v %v, want %v", text, got, err, want)
		}
	}
	if _, err := Classify("\xff"); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if !KindOTRTagged.IsForPeople() || KindOTRData.IsForPeople() {
		t.Error("IsForPeople")
	}
	// The library's names equal the Go String methods for every known value.
	for code := range eventNames {
		if EventName(code) != code.String() {
			t.Errorf("EventName(%d) = %q, String %q", code, EventName(code), code.String())
		}
	}
	for k := range messageKindNames {
		if MessageKindName(k) != k.String() {
			t.Errorf("MessageKindName(%d) = %q", k, MessageKindName(k))
		}
	}
	for k := range keyKindNames {
		if KeyKindName(k) != k.String() {
			t.Errorf("KeyKindName(%d)", k)
		}
	}
	for s := range sessionStateNames {
		if StateName(s) != s.String() {
			t.Errorf("StateName(%d)", s)
		}
	}
	for tr := range trustNames {
		if TrustName(tr) != tr.String() {
			t.Errorf("TrustName(%d)", tr)
		}
	}
	for r := range handshakeFailureNames {
		if HandshakeFailureName(r) != r.String() {
			t.Errorf("HandshakeFailureName(%d)", r)
		}
	}
	for r := range notSentNames {
		if NotSentReasonName(r) != r.String() {
			t.Errorf("NotSentReasonName(%d)", r)
		}
	}
	for p := range protocolNames {
		if ProtocolName(p) != p.String() {
			t.Errorf("ProtocolName(%d)", p)
		}
	}
	if EventName(29) != "unknown" || MessageKindName(999) != "unknown" {
		t.Error("unknown numbers")
	}
}
