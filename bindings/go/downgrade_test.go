package offrec

import (
	"strings"
	"sync"
	"testing"
)

// The downgrade guard against a man in the middle (PROTOCOL.md part B.12 and "Key links and
// pins"). The MITM sits in the senders' transport: it removes offrec's offer from queries and,
// when told to, drops offrec messages or each sender's first OTR data message (the upgrade
// probe travels alone in it).

type mitmRules struct {
	mu            sync.Mutex
	strip         bool
	blockModern   bool
	dropFirstData bool
	dropped       map[string]bool
}

// pass rewrites or drops text from sender; ok is false when the MITM drops it.
func (m *mitmRules) pass(sender, text string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.strip && strings.HasPrefix(text, "?OTRv") {
		text = strings.Replace(text, " ?OFRv1?", "", 1)
	}
	if m.blockModern && strings.HasPrefix(text, "?OFR") {
		return "", false
	}
	if m.dropFirstData && strings.HasPrefix(text, "?OTR:AAMD") && !m.dropped[sender] {
		m.dropped[sender] = true
		return "", false
	}
	return text, true
}

// mitmParty records what it sends, then hands it to the network through the MITM.
type mitmParty struct {
	*party
	rules *mitmRules
}

func (p *mitmParty) Send(peer, text string) {
	p.mu.Lock()
	p.sent = append(p.sent, text)
	p.mu.Unlock()
	if out, ok := p.rules.pass(p.name, text); ok {
		p.net.enqueue(wire{from: p.name, to: peer, text: out})
	}
}

func newMitmParty(t *testing.T, n *network, rules *mitmRules, name string, policy Policy) (*party, *Client) {
	t.Helper()
	p := &mitmParty{party: &party{name: name, net: n}, rules: rules}
	c, err := NewClient(name, "test", policy, p)
	if err != nil {
		t.Fatalf("NewClient(%s): %v", name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	n.mu.Lock()
	n.clients[name] = c
	n.mu.Unlock()
	return p.party, c
}

// pumpOne delivers one queued text and returns it; ok is false when nothing was queued.
func (n *network) pumpOne(t *testing.T) (string, bool) {
	t.Helper()
	n.mu.Lock()
	if len(n.queue) == 0 {
		n.mu.Unlock()
		return "", false
	}
	w := n.queue[0]
	n.queue = n.queue[1:]
	c := n.clients[w.to]
	n.mu.Unlock()
	if c != nil {
		if err := c.Receive(w.from, w.text); err != nil {
			t.Fatalf("%s receives from %s: %v", w.to, w.from, err)
		}
	}
	return w.text, true
}

func (p *party) texts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.delivered))
	for _, d := range p.delivered {
		out = append(out, d.text)
	}
	return out
}

func (p *party) eventIndex(code EventCode) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, e := range p.events {
		if e.Code == code {
			return i
		}
	}
	return -1
}

func protocolWith(t *testing.T, c *Client, peer string) Protocol {
	t.Helper()
	sps, err := c.SessionProtocols(peer)
	must(t, err)
	if len(sps) != 1 {
		t.Fatalf("%d sessions with %s, want 1", len(sps), peer)
	}
	return sps[0].Protocol
}

// keyedPair gives alice and bob (PolicyManual: OTR fallback with the guard) OTR DSA keys.
func keyedPair(t *testing.T, rules *mitmRules) (*network, *party, *Client, *party, *Client) {
	t.Helper()
	n := newNetwork()
	pa, a := newMitmParty(t, n, rules, "alice", PolicyManual)
	pb, b := newMitmParty(t, n, rules, "bob", PolicyManual)
	_, err := a.GenerateOTRKey()
	must(t, err)
	_, err = b.GenerateOTRKey()
	must(t, err)
	return n, pa, a, pb, b
}

// modernThenEnded runs a modern session (which links each side's DSA key), then ends it.
func modernThenEnded(t *testing.T, n *network, a, b *Client) {
	t.Helper()
	must(t, a.StartSession("bob"))
	n.pump(t)
	if p := protocolWith(t, a, "bob"); p != ProtocolModernV1 {
		t.Fatalf("first session: %v", p)
	}
	must(t, a.EndSession("bob", 0))
	n.pump(t)
	must(t, b.EndSession("alice", 0))
	n.pump(t)
}

func TestABlockedUpgradeAfterTheProbeIsASuspectedDowngrade(t *testing.T) {
	rules := &mitmRules{strip: true, blockModern: true}
	n := newNetwork()
	pa, a := newMitmParty(t, n, rules, "alice", PolicyManual)
	pb, b := newMitmParty(t, n, rules, "bob", PolicyManual)
	must(t, a.StartSession("bob"))
	n.pump(t)
	if p := protocolWith(t, a, "bob"); p != ProtocolOTRV3 {
		t.Fatalf("protocol %v, want otr_v3", p)
	}
	if countPrefix(pb.sentSnapshot(), "?OFR:") == 0 {
		t.Error("bob read alice's probe but never tried the upgrade")
	}
	if pa.count(EventDowngradeSuspected) != 0 {
		t.Fatal("suspected before the handshake timeout")
	}
	n.clock.Add(121)
	must(t, a.Tick())
	must(t, b.Tick())
	n.pump(t)
	for _, p := range []*party{pa, pb} {
		if p.count(EventDowngradeSuspected) != 1 {
			t.Errorf("%s: %d DOWNGRADE_SUSPECTED, want 1", p.name, p.count(EventDowngradeSuspected))
		}
	}
	n.clock.Add(1000)
	must(t, a.Tick())
	if pa.count(EventDowngradeSuspected) != 1 {
		t.Error("reported again")
	}
	_, err := a.Send("bob", "still here")
	must(t, err)
	n.pump(t)
	if got := pb.texts(); len(got) != 1 || got[0] != "still here" {
		t.Errorf("the OTR session no longer works: %q", got)
	}
}

func TestTheProbeRidesOnTheFirstUserMessagesWhenItsOwnMessageIsLost(t *testing.T) {
	rules := &mitmRules{strip: true, dropFirstData: true, dropped: map[string]bool{}}
	n := newNetwork()
	pa, a := newMitmParty(t, n, rules, "alice", PolicyManual)
	pb, b := newMitmParty(t, n, rules, "bob", PolicyManual)
	must(t, a.StartSession("bob"))
	n.pump(t)
	if !rules.dropped["alice"] || !rules.dropped["bob"] {
		t.Fatalf("each side's probe message should have been dropped: %v", rules.dropped)
	}
	if pa.count(EventProtocolUpgraded)+pb.count(EventProtocolUpgraded) != 0 {
		t.Fatal("upgraded without any probe")
	}
	_, err := a.Send("bob", "one")
	must(t, err)
	n.pump(t)
	if got := pb.texts(); len(got) != 1 || got[0] != "one" {
		t.Errorf("bob got %q", got)
	}
	for _, s := range []struct {
		p    *party
		c    *Client
		peer string
	}{{pa, a, "bob"}, {pb, b, "alice"}} {
		if s.p.count(EventProtocolUpgraded) != 1 || protocolWith(t, s.c, s.peer) != ProtocolModernV1 {
			t.Errorf("%s: not upgraded by the probe in the first user message", s.p.name)
		}
	}
}

func TestAPinnedKeyLinkHoldsUserTextForTheModernSession(t *testing.T) {
	rules := &mitmRules{}
	n, pa, a, pb, b := keyedPair(t, rules)
	modernThenEnded(t, n, a, b)
	rules.mu.Lock()
	rules.strip = true
	rules.mu.Unlock()
	must(t, a.StartSession("bob"))
	for pa.count(EventDowngradeDetected) == 0 {
		if _, ok := n.pumpOne(t); !ok {
			t.Fatal("no DOWNGRADE_DETECTED")
		}
	}
	if p := protocolWith(t, a, "bob"); p != ProtocolOTRV3 {
		t.Fatalf("protocol %v, want otr_v3 at detection", p)
	}
	if pa.eventIndex(EventLegacySessionStarted) > pa.eventIndex(EventDowngradeDetected) {
		t.Error("DOWNGRADE_DETECTED came before the OTR session was reported")
	}
	sentBefore := pa.sentCount()
	id, err := a.Send("bob", "held for offrec")
	must(t, err)
	if pa.sentCount() != sentBefore {
		t.Error("the held text went out over OTR")
	}
	if e, ok := pa.event(EventEncryptionRequired); !ok || e.MessageID != id {
		t.Errorf("no ENCRYPTION_REQUIRED for message %d", id)
	}
	carrier := ""
	for {
		text, ok := n.pumpOne(t)
		if !ok {
			break
		}
		if carrier == "" && len(pb.texts()) == 1 {
			carrier = text
		}
	}
	if !strings.HasPrefix(carrier, "?OFR:") {
		t.Errorf("carried by %q, not by the modern session", carrier)
	}
	if got := pb.texts(); len(got) != 1 || got[0] != "held for offrec" {
		t.Errorf("bob got %q", got)
	}
	if e, ok := pa.event(EventHeldMessageSent); !ok || e.MessageID != id {
		t.Error("no HELD_MESSAGE_SENT")
	}
	for _, s := range []struct {
		p    *party
		c    *Client
		peer string
	}{{pa, a, "bob"}, {pb, b, "alice"}} {
		if s.p.count(EventDowngradeDetected) != 1 || s.p.count(EventProtocolUpgraded) != 1 {
			t.Errorf("%s: detected %d, upgraded %d", s.p.name, s.p.count(EventDowngradeDetected), s.p.count(EventProtocolUpgraded))
		}
		if p := protocolWith(t, s.c, s.peer); p != ProtocolModernV1 {
			t.Errorf("%s: %v after the upgrade", s.p.name, p)
		}
	}
}

func TestAnotherDSAKeyOfAPeerThatUsedOffrecIsAllowedAndReported(t *testing.T) {
	rules := &mitmRules{}
	n, pa, a, _, b := keyedPair(t, rules)
	modernThenEnded(t, n, a, b)
	oldDSA, err := b.OTRFingerprint()
	must(t, err)
	// Bob now talks from another device: an OTR-only program with another DSA key.
	must(t, b.Close())
	pb2, b2 := newMitmParty(t, n, rules, "bob", otrPolicy)
	rules.mu.Lock()
	rules.strip = true
	rules.mu.Unlock()
	must(t, a.StartSession("bob"))
	n.pump(t)
	newDSA, err := b2.OTRFingerprint()
	must(t, err)
	if newDSA == oldDSA {
		t.Fatal("the same DSA key")
	}
	if pa.count(EventLegacyWithModernPeer) != 1 || pa.count(EventDowngradeDetected) != 0 {
		t.Errorf("legacy-with-modern-peer %d, detected %d", pa.count(EventLegacyWithModernPeer), pa.count(EventDowngradeDetected))
	}
	_, err = a.Send("bob", "over otr")
	must(t, err)
	n.pump(t)
	if got := pb2.texts(); len(got) != 1 || got[0] != "over otr" {
		t.Errorf("not sent over OTR at once: %q", got)
	}
	if p := protocolWith(t, a, "bob"); p != ProtocolOTRV3 {
		t.Errorf("protocol %v", p)
	}
}

func TestKeyLinksCarryTrustOnlyFromTheVerifiedSide(t *testing.T) {
	n, pa, a, pb, b := keyedPair(t, &mitmRules{})
	aDSA, err := a.OTRFingerprint()
	must(t, err)
	bDSA, err := b.OTRFingerprint()
	must(t, err)
	aKey, err := a.Fingerprint()
	must(t, err)
	bKey, err := b.Fingerprint()
	must(t, err)
	// Alice verified Bob's offrec key; Bob verified Alice's OTR key, not her offrec key.
	must(t, a.SetTrust("bob", bKey, TrustVerifiedSMP))
	must(t, b.SetTrust("alice", aDSA.KeyID(), TrustVerifiedManual))
	must(t, a.StartSession("bob"))
	n.pump(t)
	e, ok := pa.event(EventOTRKeyLinked)
	if !ok || e.Fingerprint == nil || *e.Fingerprint != bDSA.KeyID() || pa.count(EventOTRKeyLinked) != 1 {
		t.Fatalf("alice: OTR_KEY_LINKED %+v", e)
	}
	if e, ok := pb.event(EventOTRKeyLinked); !ok || e.Fingerprint == nil || *e.Fingerprint != aDSA.KeyID() {
		t.Fatalf("bob: OTR_KEY_LINKED %+v", e)
	}
	if tr, _ := a.Trust("bob", bDSA.KeyID()); tr != TrustVerifiedSMP {
		t.Errorf("bob's DSA key on alice's side: %v, want verified via the link (smp)", tr)
	}
	if tr, _ := b.Trust("alice", aKey); tr != TrustUnverified {
		t.Errorf("alice's offrec key on bob's side: %v; trust must never flow from the claimed key", tr)
	}
	if tr, _ := b.Trust("alice", aDSA.KeyID()); tr != TrustVerifiedManual {
		t.Errorf("alice's DSA key on bob's side: %v, want unchanged", tr)
	}
}
