package offrec

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func (p *party) tlvs() []TLV {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []TLV
	for _, e := range p.events {
		if e.Code == EventTLVReceived {
			out = append(out, TLV{e.TLVType(), e.TLVValue()})
		}
	}
	return out
}

func sameTLVs(a, b []TLV) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func tlvExchange(t *testing.T, n *network, pa *party, a *Client, pb *party, b *Client) {
	t.Helper()
	id, err := a.SendTLVs("bob", "with tlvs", []TLV{{0x8001, []byte("typing")}, {0xFFFF, nil}})
	must(t, err)
	if id == 0 {
		t.Fatal("no message id")
	}
	n.pump(t)
	if want := []TLV{{0x8001, []byte("typing")}, {0xFFFF, []byte{}}}; !sameTLVs(pb.tlvs(), want) {
		t.Fatalf("bob got %v, want %v", pb.tlvs(), want)
	}
	if got := pb.texts(); len(got) != 1 || got[0] != "with tlvs" {
		t.Fatalf("bob was shown %q", got)
	}
	_, err = a.SendTLVs("bob", "", []TLV{{TLVAppFirst, []byte{0, 1, 2}}})
	must(t, err)
	n.pump(t)
	if got := pb.tlvs(); got[len(got)-1].Type != 0x8000 || !bytes.Equal(got[len(got)-1].Value, []byte{0, 1, 2}) {
		t.Fatalf("TLV-only message: %v", got)
	}
	if len(pb.texts()) != 1 {
		t.Fatal("a TLV-only message was shown")
	}
	if _, hb := pb.event(EventHeartbeatReceived); hb {
		t.Fatal("a TLV-only message counted as a heartbeat")
	}
	_, err = b.SendTLVs("alice", "", []TLV{{0x9000, []byte("receipt")}})
	must(t, err)
	n.pump(t)
	if !sameTLVs(pa.tlvs(), []TLV{{0x9000, []byte("receipt")}}) {
		t.Fatalf("alice got %v", pa.tlvs())
	}
}

func TestTLVsInModernSessions(t *testing.T) {
	n, pa, a, pb, b := encryptedPair(t)
	tlvExchange(t, n, pa, a, pb, b)
}

func TestTLVsInOTRv3AndRefusedInV2(t *testing.T) {
	otr := PolicyAllow | PolicyAllowOTRV3 | PolicyAllowOTRV2
	n := newNetwork()
	pa, a := newParty(t, n, "alice", otr)
	pb, b := newParty(t, n, "bob", otr)
	must(t, a.Receive("bob", "?OTRv3?"))
	n.pump(t)
	tlvExchange(t, n, pa, a, pb, b)

	n2 := newNetwork()
	pc, c := newParty(t, n2, "alice", otr)
	pd, _ := newParty(t, n2, "bob", otr)
	must(t, c.Receive("bob", "?OTRv2?"))
	n2.pump(t)
	sent := pc.sentCount()
	if _, err := c.SendTLVs("bob", "hi", []TLV{{0x8000, []byte("x")}}); !errors.Is(err, ErrTLVsUnsupported) {
		t.Fatalf("TLVs over OTR v2: %v", err)
	}
	if pc.sentCount() != sent {
		t.Fatal("something was sent")
	}
	_, err := c.SendTLVs("bob", "text only", nil)
	must(t, err)
	n2.pump(t)
	if got := pd.texts(); len(got) != 1 || got[0] != "text only" {
		t.Fatalf("bob was shown %q", got)
	}
}

func TestTLVRefusalsSendNothing(t *testing.T) {
	n := newNetwork()
	pa, a := newParty(t, n, "alice", PolicyAlways)
	pb, _ := newParty(t, n, "bob", PolicyAlways)
	if _, err := a.SendTLVs("bob", "secret", []TLV{{0x8000, []byte("x")}}); !errors.Is(err, ErrNoSession) {
		t.Fatalf("without a session: %v", err)
	}
	if pa.sentCount() != 0 {
		t.Fatal("something was sent without a session")
	}
	must(t, a.StartSession("bob"))
	n.pump(t)
	sent := pa.sentCount()
	many := make([]TLV, MaxTLVs+1)
	for i := range many {
		many[i] = TLV{uint16(0x8000 + i), []byte("v")}
	}
	big := bytes.Repeat([]byte{1}, 40000)
	for _, tc := range []struct {
		text string
		tlvs []TLV
		want error
	}{
		{"x", []TLV{{0x7FFF, nil}}, ErrTLVTypeReserved},
		{"x", []TLV{{0x8000, nil}, {1, nil}}, ErrTLVTypeReserved},
		{"x", []TLV{{0x4F46, nil}}, ErrTLVTypeReserved},
		{"", many, ErrTooManyTLVs},
		{"", []TLV{{0x8000, big}, {0x8001, big}}, ErrMessageTooLarge},
		{"", nil, ErrInvalidArgument},
	} {
		if _, err := a.SendTLVs("bob", tc.text, tc.tlvs); !errors.Is(err, tc.want) {
			t.Errorf("SendTLVs(%d TLVs): %v, want %v", len(tc.tlvs), err, tc.want)
		}
	}
	if pa.sentCount() != sent {
		t.Fatal("a refused send sent something")
	}
	_, err := a.SendTLVs("bob", "", many[:MaxTLVs])
	must(t, err)
	n.pump(t)
	if len(pb.tlvs()) != MaxTLVs {
		t.Fatalf("bob got %d TLVs", len(pb.tlvs()))
	}
}

// inPlaceNet pumps like network.pump, but lines to `who` go through ReceiveInPlace.
func inPlacePump(t *testing.T, n *network, who string, shown *[]Incoming) (ignored int) {
	t.Helper()
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("never quiet")
		}
		n.mu.Lock()
		if len(n.queue) == 0 {
			n.mu.Unlock()
			return ignored
		}
		w := n.queue[0]
		n.queue = n.queue[1:]
		c := n.clients[w.to]
		n.mu.Unlock()
		if w.to != who {
			must(t, c.Receive(w.from, w.text))
			continue
		}
		in, err := c.ReceiveInPlace(w.from, w.text)
		must(t, err)
		if in.Ignore {
			ignored++
			if in.Text != nil {
				t.Fatal("an ignored line carries text")
			}
		} else {
			*shown = append(*shown, in)
		}
	}
}

func sendInPlace(t *testing.T, n *network, p *party, c *Client, peer, text string) Outgoing {
	t.Helper()
	sent := p.sentCount()
	out, err := c.SendInPlace(peer, text)
	must(t, err)
	if p.sentCount() != sent {
		t.Fatal("Send was called for an in-place send")
	}
	for _, w := range out.Wire {
		n.enqueue(wire{from: p.name, to: peer, text: w})
	}
	return out
}

func TestInPlaceBothWays(t *testing.T) {
	n := newNetwork()
	pa, a := newParty(t, n, "alice", PolicyManual)
	pb, b := newParty(t, n, "bob", PolicyManual)
	var shown []Incoming

	out := sendInPlace(t, n, pa, a, "bob", "in the clear")
	if len(out.Wire) != 1 || out.Wire[0] != "in the clear" || out.MessageID == 0 {
		t.Fatalf("plaintext in place: %+v", out)
	}
	inPlacePump(t, n, "alice", &shown)
	must(t, b.StartSession("alice"))
	if ignored := inPlacePump(t, n, "alice", &shown); ignored < 2 {
		t.Fatalf("%d handshake lines hidden", ignored)
	}
	if _, ok := pa.event(EventHandshakeComplete); !ok {
		t.Fatal("events no longer reach the handler")
	}
	out = sendInPlace(t, n, pa, a, "bob", "private")
	if len(out.Wire) != 1 || !strings.HasPrefix(out.Wire[0], "?OFR") {
		t.Fatalf("encrypted in place: %q", out.Wire)
	}
	inPlacePump(t, n, "alice", &shown)
	if got := pb.texts(); got[len(got)-1] != "private" {
		t.Fatalf("bob was shown %q", got)
	}
	_, err := b.Send("alice", "private reply")
	must(t, err)
	inPlacePump(t, n, "alice", &shown)
	last := shown[len(shown)-1]
	tag, _ := b.InstanceTag()
	if string(last.Text) != "private reply" || last.Security != SecurityEncryptedUnverified || last.Instance != tag {
		t.Fatalf("shown %v %q", last, last.Text)
	}
	if len(pa.texts()) != 0 {
		t.Fatal("Deliver was called for a line received in place")
	}
	if s := fmt.Sprintf("%v %+v %#v", last, last, last); strings.Contains(s, "private") {
		t.Fatalf("Incoming prints its text: %s", s)
	}
	pa.limit.Store(120)
	out = sendInPlace(t, n, pa, a, "bob", strings.Repeat("f", 400))
	if len(out.Wire) < 4 {
		t.Fatalf("%d fragments", len(out.Wire))
	}
	for _, w := range out.Wire {
		if len(w) > 120 {
			t.Fatalf("fragment of %d bytes", len(w))
		}
	}
	inPlacePump(t, n, "alice", &shown)
	if got := pb.texts(); got[len(got)-1] != strings.Repeat("f", 400) {
		t.Fatal("the fragmented message did not arrive whole")
	}
	_, err = b.SendTLVs("alice", "", []TLV{{0x8001, []byte("t")}})
	must(t, err)
	if ignored := inPlacePump(t, n, "alice", &shown); ignored != 1 || len(pa.tlvs()) != 1 {
		t.Fatalf("a TLV-only line: %d ignored, %d TLVs", ignored, len(pa.tlvs()))
	}
}

func TestInPlaceHoldingAndErrors(t *testing.T) {
	n := newNetwork()
	pa, a := newParty(t, n, "alice", PolicyAlways)
	pb, _ := newParty(t, n, "bob", PolicyAlways)
	var shown []Incoming
	out := sendInPlace(t, n, pa, a, "bob", "held")
	if len(out.Wire) != 1 || !strings.HasPrefix(out.Wire[0], "?OTR") {
		t.Fatalf("held: %q", out.Wire)
	}
	if _, ok := pa.event(EventEncryptionRequired); !ok {
		t.Fatal("no ENCRYPTION_REQUIRED")
	}
	inPlacePump(t, n, "alice", &shown)
	if got := pb.texts(); len(got) != 1 || got[0] != "held" {
		t.Fatalf("bob was shown %q", got)
	}
	if _, err := a.SendInPlace("", "x"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty peer: %v", err)
	}
	if _, err := a.ReceiveInPlace("bob", "\xff"); !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("invalid UTF-8: %v", err)
	}
}

func TestFormattingHidesSecrets(t *testing.T) {
	n, _, a, pb, _ := encryptedPair(t)
	key, err := a.ExtraSymmetricKey("bob", 0, 7, []byte("file-context"))
	must(t, err)
	_, err = a.SendTLVs("bob", "", []TLV{{0x8001, []byte("tlv-payload")}})
	must(t, err)
	n.pump(t)
	extra, _ := pb.event(EventExtraKeyReceived)
	tlv, _ := pb.event(EventTLVReceived)
	if !bytes.Equal(extra.Key, key) {
		t.Fatal("keys differ")
	}
	for _, ev := range []Event{extra, tlv} {
		for _, s := range []string{fmt.Sprint(ev), fmt.Sprintf("%+v", ev), fmt.Sprintf("%#v", ev), fmt.Sprintf("%v", []Event{ev})} {
			for _, secret := range []string{fmt.Sprint(key), fmt.Sprintf("%x", key), fmt.Sprintf("%X", key), "file-context", "tlv-payload"} {
				if strings.Contains(s, secret) {
					t.Fatalf("%q shows %q", s, secret)
				}
			}
		}
	}
	if s := fmt.Sprint(extra); !strings.Contains(s, "key=<hidden>") || !strings.Contains(s, "context=<12 bytes>") {
		t.Fatalf("extra key event: %s", s)
	}
	if s := fmt.Sprint(tlv); !strings.Contains(s, "tlv_type=0x8001") || !strings.Contains(s, "tlv_value=<11 bytes>") {
		t.Fatalf("TLV event: %s", s)
	}
	fp, _ := a.Fingerprint()
	newFP, _ := pb.event(EventNewFingerprint)
	if s := fmt.Sprint(newFP); !strings.Contains(s, fp.String()) || !strings.Contains(s, "new_fingerprint") {
		t.Fatalf("new fingerprint event: %s", s)
	}
	ns := Event{Code: EventMessageNotSent, Peer: "bob", MessageID: 3, Reason: uint32(NotSentQueueFull)}
	if s := fmt.Sprint(ns); !strings.Contains(s, "reason=queue_full") {
		t.Fatalf("not-sent event: %s", s)
	}
	hf := Event{Code: EventHandshakeFailed, Peer: "bob", Reason: uint32(HandshakeNamesDiffer)}
	if hf.HandshakeFailure() != HandshakeNamesDiffer || !strings.Contains(fmt.Sprint(hf), "reason=names_differ") {
		t.Fatalf("handshake failure event: %s", hf)
	}
	secret := [32]byte{0xAB, 0xCD, 0xEF, 0x12, 0x34}
	for _, k := range []StoreKey{RawKey(secret), Passphrase("hunter2-passphrase")} {
		for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k)} {
			if strings.Contains(s, "hunter2") || strings.Contains(s, "171") || strings.Contains(strings.ToLower(s), "abcdef") {
				t.Fatalf("a store key prints its secret: %s", s)
			}
		}
	}
	info, err := pb.net.clients["bob"].Sessions("alice")
	must(t, err)
	if s := fmt.Sprintf("%+v", info[0]); !strings.Contains(s, fp.String()) || !strings.Contains(s, info[0].SSID.String()) {
		t.Fatalf("session info: %s", s)
	}
}

func TestEnumsHaveNames(t *testing.T) {
	for _, tc := range []struct {
		s    fmt.Stringer
		want string
	}{
		{EventTLVReceived, "tlv_received"},
		{NotSentKeyChanged, "key_changed"},
		{HandshakeOTRFailed, "otr_failed"},
		{StateEncryptedVerified, "encrypted_verified"},
		{SecurityPlaintext, "plaintext"},
		{TrustVerifiedSMP, "verified_smp"},
		{OptionPaddingBlock, "padding_block"},
		{ProtocolOTRV2, "otr_v2"},
		{StrengthLegacy, "legacy"},
		{PolicyManual, "manual"},
		{PersistTrust | PersistOther, "trust|other"},
		{ResultTLVsUnsupported, "TLVS_UNSUPPORTED"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%T %v: String() = %q, want %q", tc.s, tc.s, got, tc.want)
		}
	}
}
