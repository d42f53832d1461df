package offrec

import (
	"errors"
	"testing"
)

// Issue #13 item 2 through the Go binding: Alice verified Bob's key; Mallory completes a
// handshake with Alice as "bob" with her own key, on a new instance tag or on Bob's own tag.
// Plain sends never go to her key without consent; control messages never move routing.

const malloryTag = 0x0bad0bad

func verifiedPair(t *testing.T) (*network, *party, *Client, *party, *Client) {
	t.Helper()
	n, pa, a, pb, b := encryptedPair(t)
	fb, err := b.Fingerprint()
	must(t, err)
	must(t, a.SetTrust("bob", fb, TrustVerifiedManual))
	return n, pa, a, pb, b
}

// malloryHandshakes adds Mallory as "bob" (instance tag) and runs her handshake with Alice
// while the real Bob is away; the network routes "bob" to Bob again afterwards.
func malloryHandshakes(t *testing.T, n *network, tag uint32) (*party, *Client) {
	t.Helper()
	pm := &party{name: "bob", net: n}
	var secret [32]byte
	for i := range secret {
		secret[i] = 0x4d
	}
	m, err := NewClientWithIdentity("bob", "test", PolicyManual, secret, tag, pm)
	must(t, err)
	t.Cleanup(func() { _ = m.Close() })
	bob := route(n, "bob", m)
	must(t, m.StartSession("alice"))
	n.pump(t)
	route(n, "bob", bob)
	return pm, m
}

// route makes the network deliver what is sent to name to c; returns the previous client.
func route(n *network, name string, c *Client) *Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	old := n.clients[name]
	n.clients[name] = c
	return old
}

func texts(p *party) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, d := range p.delivered {
		out = append(out, d.text)
	}
	return out
}

func TestRoutingNewInstanceDoesNotTakeOver(t *testing.T) {
	n, pa, a, pb, b := verifiedPair(t)
	pm, m := malloryHandshakes(t, n, malloryTag)
	fm, _ := m.Fingerprint()
	e, ok := pa.event(EventKeyConsentRequired)
	if !ok || e.MessageID != 0 || e.Fingerprint == nil || *e.Fingerprint != fm || e.Instance != malloryTag {
		t.Fatalf("consent event: %+v", e)
	}
	if _, err := a.Send("bob", "for bob"); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	// A control message from Mallory (extra key, no text) does not move routing.
	route(n, "bob", m)
	if _, err := m.ExtraSymmetricKey("alice", 0, 1, nil); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	route(n, "bob", b)
	if _, ok := pa.event(EventExtraKeyReceived); !ok {
		t.Fatal("the control message did not arrive")
	}
	if _, err := a.Send("bob", "still for bob"); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	if got := texts(pb); len(got) != 2 || got[1] != "still for bob" {
		t.Fatalf("bob got %q", got)
	}
	if got := texts(pm); len(got) != 0 {
		t.Fatalf("mallory got %q", got)
	}
	// Explicitly to her instance: it reaches her.
	route(n, "bob", m)
	if _, err := a.SendToInstance("bob", malloryTag, "explicitly"); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	route(n, "bob", b)
	if got := texts(pm); len(got) != 1 || got[0] != "explicitly" {
		t.Fatalf("mallory got %q", got)
	}
}

func TestRoutingReusedTagHeldUntilAcceptKey(t *testing.T) {
	n, pa, a, _, b := verifiedPair(t)
	tag, _ := b.InstanceTag()
	pm, m := malloryHandshakes(t, n, tag)
	fm, _ := m.Fingerprint()
	before := pa.sentCount()
	id, err := a.Send("bob", "held one")
	must(t, err)
	if pa.sentCount() != before {
		t.Fatal("something was sent: to her key or in the clear")
	}
	if e, ok := pa.event(EventKeyConsentRequired); !ok || e.MessageID != id || *e.Fingerprint != fm {
		t.Fatalf("held event: %+v", e)
	}
	if err := a.AcceptKey("bob", 0x4242); !errors.Is(err, ErrNoSession) {
		t.Fatalf("accept unknown: %v", err)
	}
	if err := a.AcceptKey("bob", 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("accept 0: %v", err)
	}
	route(n, "bob", m)
	must(t, a.AcceptKey("bob", tag))
	n.pump(t)
	if e, ok := pa.event(EventHeldMessageSent); !ok || e.MessageID != id {
		t.Fatalf("held message not sent: %+v", e)
	}
	if got := texts(pm); len(got) != 1 || got[0] != "held one" {
		t.Fatalf("mallory got %q", got)
	}
	if tr, _ := a.Trust("bob", fm); tr != TrustUnverified {
		t.Fatalf("consent changed trust: %v", tr)
	}
}

func TestRoutingReusedTagTimesOutWithKeyChanged(t *testing.T) {
	n, pa, a, _, b := verifiedPair(t)
	tag, _ := b.InstanceTag()
	malloryHandshakes(t, n, tag)
	id, err := a.Send("bob", "never sent")
	must(t, err)
	n.clock.Add(121)
	must(t, a.Tick())
	e, ok := pa.event(EventMessageNotSent)
	if !ok || e.MessageID != id || e.NotSentReason() != NotSentKeyChanged {
		t.Fatalf("not sent: %+v", e)
	}
}
