//go:build offrec_testhooks

package offrec

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/big"
	"sort"
	"strings"
	"sync"
	"testing"
)

// libotr 4.1.1's frozen OTR vectors through the binding (the C API and Python run the same
// checks). tests/vectors/otr3_session.json and otr3_v2_session.json are real libotr sessions
// (made by tests/otr_vectors/gen.c): a client given a party's recorded DSA key and DH secrets
// (test hooks) plays that party through the public calls and must put libotr's bytes on the
// wire and read libotr's. otr3_smp.json holds libotr's SMP TLVs: a client must read libotr's
// SMP1/SMP1Q and call every tampered one cheating. Needs the hooks library: `make
// go-tests-hooks` (go test -tags offrec_testhooks).

type otrDSA struct{ P, Q, G, Y, X string }

type otrParty struct {
	Account          string
	InstanceTag      uint32 `json:"instance_tag"`
	DSA              otrDSA
	Fingerprint      string
	FingerprintHuman string  `json:"fingerprint_human"`
	R                *string `json:"r"`
	SSID             string
	SSIDHalfBold     string     `json:"ssid_half_bold"`
	SymkeyReceived   *otrSymkey `json:"symkey_received"`
	DHKeys           []struct {
		KeyID  int `json:"keyid"`
		Secret string
	} `json:"dh_keys"`
}

type otrSymkey struct {
	Use     uint32
	Usedata string
	Key     string
}

type otrMessage struct {
	Index     int
	From      string
	Kind      string
	Text      string
	Binary    string
	Plaintext string
	Delivered string
	Ignored   int
	ExtraKey  string `json:"extra_key"`
}

type otrVector struct {
	Libotr     string
	Version    int
	Messages   []otrMessage
	SymkeySent otrSymkey `json:"symkey_sent"`
	Parties    map[string]otrParty
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type otrTLV struct {
	kind  uint16
	value []byte
}

// splitPlaintext splits text NUL TLVs.
func splitPlaintext(pt []byte) ([]byte, []otrTLV) {
	text, rest, _ := bytes.Cut(pt, []byte{0})
	var tlvs []otrTLV
	for len(rest) >= 4 {
		n := int(binary.BigEndian.Uint16(rest[2:4]))
		tlvs = append(tlvs, otrTLV{binary.BigEndian.Uint16(rest[:2]), rest[4 : 4+n]})
		rest = rest[4+n:]
	}
	return text, tlvs
}

func otrBinary(t *testing.T, text string) []byte {
	t.Helper()
	if !strings.HasPrefix(text, "?OTR:") || !strings.HasSuffix(text, ".") {
		t.Fatalf("not an encoded OTR message: %.30s", text)
	}
	b, err := base64.StdEncoding.DecodeString(text[5 : len(text)-1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// player is a Handler for a client playing one party: what it sends is kept for the test.
type player struct {
	mu        sync.Mutex
	sent      []string
	delivered [][]byte
	events    []Event
}

func (p *player) Send(peer, text string) { p.mu.Lock(); p.sent = append(p.sent, text); p.mu.Unlock() }
func (p *player) Deliver(peer string, instance uint32, text []byte, sec Security) {
	p.mu.Lock()
	p.delivered = append(p.delivered, append([]byte(nil), text...))
	p.mu.Unlock()
}
func (p *player) Event(e Event) { p.mu.Lock(); p.events = append(p.events, e); p.mu.Unlock() }
func (p *player) Now() uint64   { return 1_000_000 }

func (p *player) codes() map[EventCode]int {
	out := map[EventCode]int{}
	for _, e := range p.events {
		if e.Code != EventPersistNeeded {
			out[e.Code]++
		}
	}
	return out
}

func newPlayer(t *testing.T, v *otrVector, us string) (*player, *Client) {
	t.Helper()
	party := v.Parties[us]
	policy, tag := PolicyAllow|PolicyAllowOTRV3, party.InstanceTag
	if v.Version == 2 {
		policy, tag = PolicyAllow|PolicyAllowOTRV2, 0x100
	}
	var secret [32]byte
	for i := range secret {
		secret[i] = byte(i)
	}
	h := &player{}
	c, err := NewClientWithIdentity(party.Account, "prpl-jabber", policy, secret, tag, h)
	must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	must(t, c.SetOption(OptionPaddingBlock, 0)) // libotr pads nothing
	d := party.DSA
	must(t, c.testSetOTRKey(unhex(t, d.P), unhex(t, d.Q), unhex(t, d.G), unhex(t, d.Y), unhex(t, d.X)))
	// libotr's DH secrets (40 bytes) in keyid order, the commit sender's r after the first.
	keys := append(party.DHKeys[:0:0], party.DHKeys...)
	sort.Slice(keys, func(i, j int) bool { return keys[i].KeyID < keys[j].KeyID })
	for i, k := range keys {
		raw := unhex(t, k.Secret)
		must(t, c.testQueueRandom(append(make([]byte, 40-len(raw)), raw...)))
		if i == 0 && party.R != nil {
			must(t, c.testQueueRandom(unhex(t, *party.R)))
		}
	}
	return h, c
}

// produce makes the client send what libotr sent in m, through the public calls.
func produce(t *testing.T, c *Client, v *otrVector, peer string, m otrMessage) {
	t.Helper()
	pt := unhex(t, m.Plaintext)
	text, tlvs := splitPlaintext(pt)
	switch {
	case len(tlvs) == 0:
		_, err := c.Send(peer, string(text))
		must(t, err)
	case len(tlvs) == 1 && tlvs[0].kind == 0:
		// libotr's padding TLV: a padding block as long as the whole body makes the same one
		must(t, c.SetOption(OptionPaddingBlock, uint64(len(pt))))
		_, err := c.Send(peer, string(text))
		must(t, err)
		must(t, c.SetOption(OptionPaddingBlock, 0))
	case len(tlvs) == 1 && tlvs[0].kind == 8:
		usage := binary.BigEndian.Uint32(tlvs[0].value[:4])
		key, err := c.ExtraSymmetricKey(peer, 0, usage, tlvs[0].value[4:])
		must(t, err)
		if hex.EncodeToString(key) != v.SymkeySent.Key || v.SymkeySent.Key != m.ExtraKey || usage != v.SymkeySent.Use {
			t.Fatalf("extra key %x, libotr's %s", key, v.SymkeySent.Key)
		}
	case len(tlvs) == 1 && tlvs[0].kind == 1 && len(tlvs[0].value) == 0:
		must(t, c.EndSession(peer, 0))
	default:
		t.Fatalf("no public call sends %x", pt)
	}
}

func isGoodbye(t *testing.T, m otrMessage) bool {
	_, tlvs := splitPlaintext(unhex(t, m.Plaintext))
	return len(tlvs) == 1 && tlvs[0].kind == 1 && len(tlvs[0].value) == 0
}

func loadOTRVector(t *testing.T, name string) *otrVector {
	var v otrVector
	readVector(t, name, &v)
	if v.Libotr != "4.1.1" || len(v.Messages) < 14 {
		t.Fatalf("%s: not the libotr vector", name)
	}
	return &v
}

// replayOTR plays us through the vector; with tamper >= 0 that libotr message arrives with a
// bit of its MAC flipped and the replay stops there.
func replayOTR(t *testing.T, name, us string, tamper int) *player {
	v := loadOTRVector(t, name)
	them := map[string]string{"alice": "bob", "bob": "alice"}[us]
	me, peer := v.Parties[us], v.Parties[them]
	h, c := newPlayer(t, v, us)
	fp, err := c.OTRFingerprint()
	must(t, err)
	if fp.Hex() != me.Fingerprint || fp.String() != me.FingerprintHuman {
		t.Fatalf("our OTR fingerprint %s, libotr's %s", fp, me.FingerprintHuman)
	}
	checkView := func() {
		sp, err := c.SessionProtocol(peer.Account, 0)
		must(t, err)
		wantProto, wantInst := ProtocolOTRV3, peer.InstanceTag
		if v.Version == 2 {
			wantProto, wantInst = ProtocolOTRV2, 2
		}
		if sp.Protocol != wantProto || sp.Instance != wantInst || sp.Strength != StrengthLegacy || sp.OTR == nil {
			t.Fatalf("session %+v", sp)
		}
		o := sp.OTR
		if o.TheirFingerprint.Hex() != peer.Fingerprint || o.TheirFingerprint.String() != peer.FingerprintHuman ||
			hex.EncodeToString(o.SSID[:]) != me.SSID || o.FirstHalfBold != (me.SSIDHalfBold == "first") {
			t.Fatalf("OTR view %+v, libotr's fp %s ssid %s %s", o, peer.Fingerprint, me.SSID, me.SSIDHalfBold)
		}

	}
	used, established, dataSent, dataRead := 0, false, 0, 0
	for _, m := range v.Messages {
		if m.From == us {
			if m.Kind == "query" {
				continue // ours would be offrec's own query; the other side's commit needs none
			}
			if m.Kind == "data" {
				produce(t, c, v, peer.Account, m)
				dataSent++
			}
			if used >= len(h.sent) {
				t.Fatalf("message %d (%s) was not sent", m.Index, m.Kind)
			}
			ours := h.sent[used]
			used++
			switch {
			case m.Kind == "reveal_signature" || m.Kind == "signature":
				// all but the encrypted DSA signature (libgcrypt signs with a random k) and the
				// MAC over it: header, r, PUBKEY and keyid under the session's keys
				mine, theirs := otrBinary(t, ours), unhex(t, m.Binary)
				if len(mine) != len(theirs) || !bytes.Equal(mine[:len(mine)-60], theirs[:len(theirs)-60]) {
					t.Fatalf("message %d (%s) differs from libotr's", m.Index, m.Kind)
				}
			case m.Kind == "data" && isGoodbye(t, m):
				// everything the MAC covers is libotr's; offrec also reveals the MAC keys it used
				mine, theirs := otrBinary(t, ours), unhex(t, m.Binary)
				k := len(theirs) - 4
				if !bytes.Equal(theirs[k:], make([]byte, 4)) || len(mine) <= len(theirs) || !bytes.Equal(mine[:k], theirs[:k]) {
					t.Fatalf("goodbye %d differs from libotr's", m.Index)
				}
				if n := int(binary.BigEndian.Uint32(mine[k : k+4])); n == 0 || n%20 != 0 || len(mine) != len(theirs)+n {
					t.Fatalf("goodbye %d reveals %d bytes", m.Index, n)
				}
			default:
				if ours != m.Text {
					t.Fatalf("message %d (%s) differs from libotr's", m.Index, m.Kind)
				}
			}
			if m.Kind == "signature" { // alice's session started with libotr's Reveal Signature
				established = true
				checkView()
			}
			continue
		}
		text := m.Text
		if m.Index == tamper {
			raw := unhex(t, m.Binary)
			raw[len(raw)-25] ^= 1 // inside the MAC (the 20 bytes before the reveal length)
			text = "?OTR:" + base64.StdEncoding.EncodeToString(raw) + "."
		}
		before := len(h.delivered)
		must(t, c.Receive(peer.Account, text))
		if m.Index == tamper {
			if len(h.delivered) != before {
				t.Fatal("a message with a bad MAC was shown")
			}
			return h
		}
		if m.Kind == "data" {
			dataRead++
			shown, tlvs := splitPlaintext(unhex(t, m.Plaintext))
			got := h.delivered[before:]
			if m.Ignored != 0 {
				if len(got) != 0 {
					t.Fatalf("message %d: nothing to show, got %q", m.Index, got)
				}
			} else if len(got) != 1 || !bytes.Equal(got[0], shown) || string(shown) != m.Delivered {
				t.Fatalf("message %d: shown %q, libotr showed %q", m.Index, got, m.Delivered)
			}
			for _, tlv := range tlvs {
				if tlv.kind != 8 {
					continue
				}
				var ev *Event
				for i := range h.events {
					if h.events[i].Code == EventExtraKeyReceived {
						ev = &h.events[i]
					}
				}
				r := me.SymkeyReceived
				if ev == nil || r == nil || hex.EncodeToString(ev.Key) != r.Key || r.Key != m.ExtraKey ||
					ev.Usage != r.Use || hex.EncodeToString(ev.Context) != r.Usedata || r.Key != v.SymkeySent.Key {
					t.Fatalf("message %d: extra key event %+v, libotr's %+v", m.Index, ev, r)
				}
			}
		}
		if m.Kind == "signature" {
			established = true
			checkView()
		}
	}
	if !established || used != len(h.sent) || dataSent < 4 || dataRead < 4 {
		t.Fatalf("established %v, sent %d of %d, data %d/%d", established, used, len(h.sent), dataSent, dataRead)
	}
	left, err := c.testQueuedRandomLeft()
	must(t, err)
	if left != 0 {
		t.Fatalf("%d of libotr's secrets were not drawn", left)
	}
	want := map[EventCode]int{EventNewFingerprint: 1, EventHandshakeComplete: 1, EventLegacySessionStarted: 1}
	wantState := StatePlaintext
	if us == "bob" {
		// alice's goodbye (TLV 1) ended the session, as it ended libotr's
		want[EventExtraKeyReceived], want[EventPeerEndedSession] = 1, 1
		wantState = StateFinished
	}
	got := h.codes()
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for code, n := range want {
		if got[code] != n {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	st, err := c.SessionState(peer.Account)
	must(t, err)
	if st != wantState {
		t.Fatalf("state %v, want %v", st, wantState)
	}
	return h
}

func TestOTRVectorsReplayedThroughTheBinding(t *testing.T) {
	for _, name := range []string{"otr3_session.json", "otr3_v2_session.json"} {
		for _, us := range []string{"alice", "bob"} {
			t.Run(name+"/"+us, func(t *testing.T) { replayOTR(t, name, us, -1) })
		}
	}
}

func TestOTRVectorTamperedMessageIsNotShown(t *testing.T) {
	for _, c := range []struct {
		us    string
		index int
	}{{"bob", 5}, {"alice", 9}} {
		h := replayOTR(t, "otr3_session.json", c.us, c.index)
		if codes := h.codes(); codes[EventUnreadable]+codes[EventMalformed] != 1 {
			t.Fatalf("%s: events %v", c.us, codes)
		}
	}
}

func TestOTRVectorOtherSecretsGiveOtherBytes(t *testing.T) {
	v := loadOTRVector(t, "otr3_session.json")
	bob := v.Parties["bob"]
	h := &player{}
	var secret [32]byte
	c, err := NewClientWithIdentity(bob.Account, "prpl-jabber", PolicyAllow|PolicyAllowOTRV3, secret, bob.InstanceTag, h)
	must(t, err)
	defer c.Close()
	must(t, c.SetOption(OptionPaddingBlock, 0))
	d := bob.DSA
	must(t, c.testSetOTRKey(unhex(t, d.P), unhex(t, d.Q), unhex(t, d.G), unhex(t, d.Y), unhex(t, d.X)))
	other := make([]byte, 40)
	other[39] = 7
	must(t, c.testQueueRandom(other))
	must(t, c.testQueueRandom(unhex(t, *bob.R)))
	must(t, c.Receive(v.Parties["alice"].Account, "?OTRv3?"))
	if left, err := c.testQueuedRandomLeft(); err != nil || left != 0 {
		t.Fatalf("left %d %v", left, err)
	}
	if len(h.sent) != 1 || !strings.HasPrefix(h.sent[0], "?OTR:AAMC") || h.sent[0] == v.Messages[1].Text {
		t.Fatalf("commit %v", h.sent)
	}
}

func TestOTRTestHooksRefuseBadInput(t *testing.T) {
	h := &player{}
	var secret [32]byte
	c, err := NewClientWithIdentity("me", "prpl-jabber", PolicyAllow|PolicyAllowOTRV3, secret, 0x100, h)
	must(t, err)
	defer c.Close()
	one := []byte{1}
	if err := c.testSetOTRKey(one, one, one, one, one); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if err := c.testQueueRandom(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if err := c.testSendOTRSMP("nobody", 0, 2, one); !errors.Is(err, ErrNoSession) {
		t.Fatal(err)
	}
	if err := c.testSendOTRSMP("nobody", 0, 8, one); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
}

// ---- otr3_smp.json: libotr's SMP TLVs over an OTR session between two clients ------------

type smpVector struct {
	Runs []struct {
		Name      string
		Question  *string
		BobSecret string `json:"bob_secret"`
		Messages  []struct {
			From    string
			TLVType uint32 `json:"tlv_type"`
			Value   string
		}
	}
}

func smpPair(t *testing.T) (*network, *party, *Client, *party, *Client) {
	t.Helper()
	n := newNetwork()
	pa, a := newParty(t, n, "alice", PolicyAllow|PolicyAllowOTRV3)
	pb, b := newParty(t, n, "bob", PolicyAllow|PolicyAllowOTRV3)
	must(t, a.Receive("bob", "?OTRv3?")) // as if bob had sent it: its modern offer stripped
	n.pump(t)
	sp, err := a.SessionProtocol("bob", 0)
	must(t, err)
	if sp.Protocol != ProtocolOTRV3 {
		t.Fatalf("protocol %v", sp.Protocol)
	}
	return n, pa, a, pb, b
}

func (p *party) countSince(from int, code EventCode) (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := 0
	for _, e := range p.events[from:] {
		if e.Code == code {
			k++
		}
	}
	return k, len(p.events)
}

func (p *party) eventCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

func TestLibotrSMP1AndQuestionsReachTheApp(t *testing.T) {
	var v smpVector
	readVector(t, "otr3_smp.json", &v)
	n, _, a, pb, b := smpPair(t)
	for _, run := range v.Runs {
		first := run.Messages[0]
		before := pb.eventCount()
		must(t, a.testSendOTRSMP("bob", 0, first.TLVType, unhex(t, first.Value)))
		n.pump(t)
		asked, _ := pb.countSince(before, EventSMPAskedForSecret)
		ev, _ := pb.event(EventSMPAskedForSecret)
		if asked != 1 || ev.HasText != (run.Question != nil) || (run.Question != nil && ev.Text != *run.Question) {
			t.Fatalf("%s: asked %d, event %+v", run.Name, asked, ev)
		}
		if want := map[bool]uint32{true: 7, false: 2}[run.Question != nil]; first.TLVType != want {
			t.Fatalf("%s: TLV %d", run.Name, first.TLVType)
		}
		must(t, b.SMPAbort("alice", 0))
		n.pump(t)
	}
	if cheated, _ := pb.countSince(0, EventSMPCheated); cheated != 0 {
		t.Fatal("cheating reported for libotr's honest SMP1")
	}
}

// smpP is SMP's prime (RFC 3526 group 5).
var smpP, _ = new(big.Int).SetString("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"+
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"+
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"+
	"83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF", 16)

func parseMPIs(t *testing.T, v []byte) []*big.Int {
	count := int(binary.BigEndian.Uint32(v[:4]))
	v = v[4:]
	out := make([]*big.Int, 0, count)
	for i := 0; i < count; i++ {
		n := int(binary.BigEndian.Uint32(v[:4]))
		out = append(out, new(big.Int).SetBytes(v[4:4+n]))
		v = v[4+n:]
	}
	if len(v) != 0 {
		t.Fatal("trailing bytes after the MPIs")
	}
	return out
}

func writeMPIs(m []*big.Int) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(m)))
	for _, x := range m {
		b := x.Bytes()
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out
}

func TestTamperedLibotrSMP1IsCheating(t *testing.T) {
	var v smpVector
	readVector(t, "otr3_smp.json", &v)
	value := unhex(t, v.Runs[0].Messages[0].Value)
	m := parseMPIs(t, value) // g2a, c2, D2, g3a, c3, D3
	if len(m) != 6 {
		t.Fatalf("%d MPIs", len(m))
	}
	q := new(big.Int).Rsh(smpP, 1)
	if new(big.Int).Exp(m[0], q, smpP).Cmp(big.NewInt(1)) != 0 {
		t.Fatal("libotr's g2a is not a quadratic residue")
	}
	with := func(i int, x *big.Int) []byte {
		c := append([]*big.Int(nil), m...)
		c[i] = x
		return writeMPIs(c)
	}
	cases := []struct {
		what  string
		value []byte
	}{
		{"g2a = 1", with(0, big.NewInt(1))},
		{"g2a = p - 1", with(0, new(big.Int).Sub(smpP, big.NewInt(1)))},
		{"g2a = p", with(0, smpP)},
		{"g2a a non-residue (p - g2a)", with(0, new(big.Int).Sub(smpP, m[0]))},
		{"D2 = 0", with(2, big.NewInt(0))},
		{"D3 = q", with(5, q)},
		{"c2 + 1", with(1, new(big.Int).Add(m[1], big.NewInt(1)))},
		{"5 MPIs", writeMPIs(m[:5])},
		{"7 MPIs", writeMPIs(append(append([]*big.Int(nil), m...), big.NewInt(1)))},
		{"truncated", value[:len(value)-1]},
	}
	n, pa, a, pb, b := smpPair(t)
	for _, c := range cases {
		before := pb.eventCount()
		must(t, a.testSendOTRSMP("bob", 0, 2, c.value))
		n.pump(t)
		cheated, _ := pb.countSince(before, EventSMPCheated)
		asked, _ := pb.countSince(before, EventSMPAskedForSecret)
		if cheated != 1 || asked != 0 {
			t.Fatalf("%s: cheated %d, asked %d", c.what, cheated, asked)
		}
		if err := b.SMPRespond("alice", 0, []byte(v.Runs[0].BobSecret)); err == nil {
			t.Fatalf("%s: a run still waits for bob's secret", c.what)
		}
	}
	before := pb.eventCount()
	must(t, a.testSendOTRSMP("bob", 0, 2, value))
	n.pump(t)
	if asked, _ := pb.countSince(before, EventSMPAskedForSecret); asked != 1 {
		t.Fatal("the untouched SMP1 is not read after the tampered ones")
	}
	if malformed, _ := pa.countSince(0, EventMalformed); malformed != 0 {
		t.Fatal("alice saw a malformed message")
	}
}
