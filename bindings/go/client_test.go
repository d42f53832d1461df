package offrec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	if Version() != HeaderVersion {
		t.Fatalf("library %q, header %q", Version(), HeaderVersion)
	}
}

func TestConversation(t *testing.T) {
	n, pa, a, pb, b := encryptedPair(t)

	if _, ok := pa.event(EventNewFingerprint); !ok {
		t.Error("alice saw no NEW_FINGERPRINT event")
	}
	fb, err := b.Fingerprint()
	must(t, err)
	if e, _ := pa.event(EventNewFingerprint); e.Fingerprint == nil || *e.Fingerprint != fb || e.Peer != "bob" {
		t.Errorf("NEW_FINGERPRINT event = %+v, want bob's fingerprint", e)
	}

	id, err := a.Send("bob", "hello bob")
	must(t, err)
	if id == 0 {
		t.Error("message id 0")
	}
	n.pump(t)
	d := pb.lastDelivered()
	tagA, err := a.InstanceTag()
	must(t, err)
	if d.text != "hello bob" || d.peer != "alice" || d.security != SecurityEncryptedUnverified || d.instance != tagA {
		t.Fatalf("bob got %+v", d)
	}

	// Binary text, both ways.
	_, err = b.Send("alice", "bin\x00\xff\x01")
	must(t, err)
	n.pump(t)
	if d := pa.lastDelivered(); d.text != "bin\x00\xff\x01" {
		t.Fatalf("alice got %q", d.text)
	}

	// Sessions: both sides agree on the session id and each other's fingerprint.
	fa, err := a.Fingerprint()
	must(t, err)
	sa, err := a.Sessions("bob")
	must(t, err)
	sb, err := b.Sessions("alice")
	must(t, err)
	if len(sa) != 1 || len(sb) != 1 {
		t.Fatalf("sessions: %d and %d", len(sa), len(sb))
	}
	if sa[0].SSID != sb[0].SSID || sa[0].TheirFingerprint != fb || sb[0].TheirFingerprint != fa {
		t.Error("sessions disagree")
	}
	if sa[0].WeInitiated == sb[0].WeInitiated {
		t.Error("both or neither initiated")
	}
	if s := sa[0].SSID.String(); !regexp.MustCompile(`^[0-9a-f]{8} [0-9a-f]{8}$`).MatchString(s) {
		t.Errorf("ssid format %q", s)
	}
	if ss, _ := a.Sessions("nobody"); len(ss) != 0 {
		t.Error("sessions with a stranger")
	}
	if ss, err := a.SendToInstance("bob", sa[0].Instance, "to the instance"); err != nil || ss == 0 {
		t.Fatal(err)
	}
	n.pump(t)
	if d := pb.lastDelivered(); d.text != "to the instance" {
		t.Fatalf("bob got %q", d.text)
	}
	if _, err := a.SendToInstance("bob", 0x12345, "x"); !errors.Is(err, ErrNoSession) {
		t.Errorf("SendToInstance to an unknown instance: %v", err)
	}

	// Re-entrancy: bob answers from inside Deliver.
	pb.mu.Lock()
	pb.onDeliver = func(d delivered) {
		if d.text == "ping" {
			if _, err := b.Send("alice", "pong"); err != nil {
				t.Errorf("send from deliver: %v", err)
			}
		}
	}
	pb.mu.Unlock()
	_, err = a.Send("bob", "ping")
	must(t, err)
	n.pump(t)
	if d := pa.lastDelivered(); d.text != "pong" {
		t.Fatalf("alice got %q, want pong", d.text)
	}

	// Ending: bob's session is finished, and sending says so.
	must(t, a.EndSession("bob", 0))
	n.pump(t)
	if _, ok := pb.event(EventPeerEndedSession); !ok {
		t.Error("bob saw no PEER_ENDED_SESSION")
	}
	if st, _ := b.SessionState("alice"); st != StateFinished {
		t.Errorf("bob's state %v", st)
	}
	_, err = b.Send("alice", "are you there?")
	if !errors.Is(err, ErrSessionFinished) {
		t.Fatalf("send on a finished session: %v", err)
	}
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != ResultSessionFinished || oe.Op != "Send" || oe.Message == "" {
		t.Errorf("error detail: %#v", oe)
	}
	must(t, b.EndSession("alice", 0))
	pb.mu.Lock()
	sawFinished := false
	for _, s := range pb.states {
		sawFinished = sawFinished || (s.peer == "alice" && s.state == StateFinished)
	}
	pb.mu.Unlock()
	if !sawFinished {
		t.Error("bob's StateChanged never reported finished")
	}
}

func TestPlaintextAndPolicies(t *testing.T) {
	n := newNetwork()
	_, a := newParty(t, n, "ann", PolicyNever)
	pb, _ := newParty(t, n, "ben", PolicyNever)
	_, err := a.Send("ben", "in the clear")
	must(t, err)
	n.pump(t)
	if d := pb.lastDelivered(); d.text != "in the clear" || d.security != SecurityPlaintext || d.instance != 0 {
		t.Fatalf("ben got %+v", d)
	}
	if err := a.StartSession("ben"); !errors.Is(err, ErrPolicyForbids) {
		t.Fatalf("StartSession with policy never: %v", err)
	}
	// 32..256 are the OTR flags; 1<<9 is the lowest bit that names none.
	if err := a.SetPolicy(Policy(1 << 9)); !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("bad policy: %v", err)
	}
	if _, err := NewClient("x", "test", Policy(1<<9), &party{net: n}); !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("NewClient with bad policy: %v", err)
	}
	if _, err := NewClient("", "test", PolicyManual, &party{net: n}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("NewClient with empty name: %v", err)
	}
	if _, err := NewClient("a", "test", PolicyManual, nil); !errors.Is(err, ErrNullArgument) {
		t.Fatalf("NewClient without handler: %v", err)
	}
	if err := a.SetOption(Option(99), 1); !errors.Is(err, ErrUnknownEnumValue) {
		t.Fatalf("unknown option: %v", err)
	}
	if err := a.SetOption(OptionPaddingBlock, 5000); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("padding 5000: %v", err)
	}
	must(t, a.SetOption(OptionHeartbeatInterval, 30))
	for _, p := range []string{"never", "manual", "opportunistic", "always"} {
		pol, err := ParsePolicy(p)
		must(t, err)
		if pol.String() != p {
			t.Errorf("%s -> %v", p, pol)
		}
	}
	if s := (PolicyAllow | PolicyErrorStartAKE).String(); s != "allow|error_start_ake" {
		t.Errorf("policy string %q", s)
	}
}

func TestHeldMessageUnderAlways(t *testing.T) {
	n := newNetwork()
	pa, a := newParty(t, n, "ann", PolicyAlways)
	pb, _ := newParty(t, n, "ben", PolicyAlways)
	id, err := a.Send("ben", "held until encrypted")
	must(t, err)
	if e, ok := pa.event(EventEncryptionRequired); !ok || e.MessageID != id {
		t.Fatalf("ENCRYPTION_REQUIRED %+v (id %d)", e, id)
	}
	n.pump(t)
	if e, ok := pa.event(EventHeldMessageSent); !ok || e.MessageID != id {
		t.Fatalf("HELD_MESSAGE_SENT %+v", e)
	}
	if d := pb.lastDelivered(); d.text != "held until encrypted" || d.security != SecurityEncryptedUnverified {
		t.Fatalf("ben got %+v", d)
	}
}

func TestIdentityRoundTrip(t *testing.T) {
	n := newNetwork()
	_, a := newParty(t, n, "ann", PolicyManual)
	secret, err := a.IdentitySecret()
	must(t, err)
	tag, _ := a.InstanceTag()
	fp, _ := a.Fingerprint()
	c, err := NewClientWithIdentity("ann", "test", PolicyManual, secret, tag, &party{net: n})
	must(t, err)
	defer c.Close()
	fp2, _ := c.Fingerprint()
	tag2, _ := c.InstanceTag()
	if fp != fp2 || tag != tag2 {
		t.Fatal("identity did not survive")
	}
	if _, err := NewClientWithIdentity("ann", "test", PolicyManual, secret, 0xff, &party{net: n}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("tag 0xff: %v", err)
	}
}

func TestFingerprintFormat(t *testing.T) {
	var f Fingerprint
	for i := range f {
		f[i] = byte(i * 7)
	}
	s := f.String()
	if !regexp.MustCompile(`^([0-9A-F]{8} ){7}[0-9A-F]{8}$`).MatchString(s) {
		t.Fatalf("format %q", s)
	}
	g, err := ParseFingerprint(s)
	must(t, err)
	h, err := ParseFingerprint(f.Hex())
	must(t, err)
	if g != f || h != f {
		t.Fatal("parse round trip")
	}
	if _, err := ParseFingerprint("abc"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
}

func TestSMP(t *testing.T) {
	n, pa, a, pb, b := encryptedPair(t)
	fb, _ := b.Fingerprint()

	if err := b.SMPRespond("alice", 0, []byte("x")); !errors.Is(err, ErrSMPError) {
		t.Fatalf("respond with nothing asked: %v", err)
	}
	// Success, with a question; bob answers from inside the event callback.
	pb.mu.Lock()
	pb.onEvent = func(e Event) {
		if e.Code == EventSMPAskedForSecret {
			if err := b.SMPRespond(e.Peer, e.Instance, []byte("blue")); err != nil {
				t.Errorf("respond: %v", err)
			}
		}
	}
	pb.mu.Unlock()
	must(t, a.SMPStart("bob", 0, []byte("blue"), "favourite colour?"))
	n.pump(t)
	if e, ok := pb.event(EventSMPAskedForSecret); !ok || !e.HasText || e.Text != "favourite colour?" {
		t.Fatalf("asked: %+v", e)
	}
	// With a question only the asker verifies; the answerer is told it was verified.
	if _, ok := pa.event(EventSMPSucceeded); !ok {
		t.Fatal("alice: no SMP_SUCCEEDED")
	}
	if _, ok := pb.event(EventSMPSucceeded); ok {
		t.Fatal("bob (the answerer) got SMP_SUCCEEDED")
	}
	if _, ok := pb.event(EventSMPVerifiedByPeer); !ok {
		t.Fatal("bob: no SMP_VERIFIED_BY_PEER")
	}
	fa, _ := a.Fingerprint()
	if tr, _ := b.Trust("alice", fa); tr != TrustUnverified {
		t.Errorf("answerer's trust after SMP with a question: %v", tr)
	}
	if tr, _ := a.Trust("bob", fb); tr != TrustVerifiedSMP {
		t.Errorf("trust after SMP: %v", tr)
	}
	if st, _ := a.SessionState("bob"); st != StateEncryptedVerified {
		t.Errorf("state after SMP: %v", st)
	}

	// Again too soon: rate limited.
	if err := a.SMPStart("bob", 0, []byte("x"), ""); !errors.Is(err, ErrSMPRateLimited) {
		t.Fatalf("second run: %v", err)
	}

	// Failure, without a question.
	n.clock.Add(11)
	pb.mu.Lock()
	pb.onEvent = nil
	pb.mu.Unlock()
	must(t, b.SMPStart("alice", 0, []byte("red"), ""))
	n.pump(t)
	if e, ok := pa.event(EventSMPAskedForSecret); !ok || e.HasText {
		t.Fatalf("asked without a question: %+v", e)
	}
	must(t, a.SMPRespond("bob", 0, []byte("green")))
	n.pump(t)
	for _, p := range []*party{pa, pb} {
		if _, ok := p.event(EventSMPFailed); !ok {
			t.Fatalf("%s: no SMP_FAILED", p.name)
		}
	}

	// Abort.
	n.clock.Add(11)
	must(t, a.SMPStart("bob", 0, []byte("x"), ""))
	if ss, _ := a.Sessions("bob"); len(ss) != 1 || !ss[0].SMPInProgress {
		t.Error("SMP not in progress")
	}
	must(t, a.SMPAbort("bob", 0))
	n.pump(t)
	for _, p := range []*party{pa, pb} {
		if _, ok := p.event(EventSMPAborted); !ok {
			t.Fatalf("%s: no SMP_ABORTED", p.name)
		}
	}

	// No session: a stranger.
	if err := a.SMPStart("carol", 0, []byte("x"), ""); !errors.Is(err, ErrNoSession) {
		t.Fatalf("SMP with a stranger: %v", err)
	}
}

func TestTrust(t *testing.T) {
	_, pa, a, _, b := encryptedPair(t)
	fb, _ := b.Fingerprint()
	keys, err := a.KnownKeys("bob")
	must(t, err)
	if len(keys) != 1 || keys[0].Fingerprint != fb || keys[0].Trust != TrustUnverified {
		t.Fatalf("known keys %+v", keys)
	}
	must(t, a.SetTrust("bob", fb, TrustVerifiedManual))
	if tr, _ := a.Trust("bob", fb); tr != TrustVerifiedManual {
		t.Fatalf("trust %v", tr)
	}
	if st, _ := a.SessionState("bob"); st != StateEncryptedVerified {
		t.Fatalf("state %v", st)
	}
	pa.mu.Lock()
	last := pa.states[len(pa.states)-1]
	pa.mu.Unlock()
	if last.state != StateEncryptedVerified {
		t.Errorf("last state change %+v", last)
	}
	must(t, a.SetTrust("bob", fb, TrustUnverified))
	if st, _ := a.SessionState("bob"); st != StateEncryptedUnverified {
		t.Fatalf("state after revoking %v", st)
	}
	if err := a.SetTrust("bob", fb, Trust(7)); !errors.Is(err, ErrUnknownEnumValue) {
		t.Fatalf("trust 7: %v", err)
	}
	var other Fingerprint
	other[0] = 1
	if tr, err := a.Trust("bob", other); err != nil || tr != TrustUnverified {
		t.Fatalf("unknown key: %v %v", tr, err)
	}
	must(t, a.SetTrust("dave", other, TrustVerifiedManual))
	if keys, _ := a.KnownKeys("dave"); len(keys) != 1 || keys[0].Trust != TrustVerifiedManual {
		t.Fatalf("dave's keys %+v", keys)
	}
}

func TestExtraSymmetricKey(t *testing.T) {
	n, _, a, pb, _ := encryptedPair(t)
	key, err := a.ExtraSymmetricKey("bob", 0, 42, []byte("file.txt"))
	must(t, err)
	n.pump(t)
	e, ok := pb.event(EventExtraKeyReceived)
	if !ok {
		t.Fatal("bob got no key")
	}
	if len(key) != 32 || !bytes.Equal(key, e.Key) || e.Usage != 42 || string(e.Context) != "file.txt" {
		t.Fatalf("keys differ: %x vs %+v", key, e)
	}
	if _, err := a.ExtraSymmetricKey("carol", 0, 1, nil); !errors.Is(err, ErrNoSession) {
		t.Fatalf("no session: %v", err)
	}
}

func TestFragmentation(t *testing.T) {
	n, pa, a, pb, _ := encryptedPair(t)
	long := strings.Repeat("a long message that certainly needs several fragments ", 20)

	// Through the MaxMessageSize callback.
	pa.limit.Store(100)
	before := pa.sentCount()
	_, err := a.Send("bob", long)
	must(t, err)
	pa.mu.Lock()
	frags := pa.sent[before:]
	pa.mu.Unlock()
	if len(frags) < 2 {
		t.Fatalf("%d fragments", len(frags))
	}
	for _, f := range frags {
		if len(f) > 100 {
			t.Fatalf("fragment of %d bytes", len(f))
		}
	}
	n.pump(t)
	if d := pb.lastDelivered(); d.text != long {
		t.Fatal("long message did not arrive whole")
	}

	// Through SetMaxMessageSize (the callback says 0 = no per-peer limit... which would
	// replace it, so turn the callback's answer off by making it 0 and use the option).
	pa.limit.Store(0)
	must(t, a.SetOption(OptionMaxMessageSize, 80))
	before = pa.sentCount()
	_, err = a.Send("bob", long)
	must(t, err)
	pa.mu.Lock()
	frags = pa.sent[before:]
	pa.mu.Unlock()
	for _, f := range frags {
		if len(f) > 80 {
			t.Fatalf("fragment of %d bytes over the option's 80", len(f))
		}
	}
	n.pump(t)
	if d := pb.lastDelivered(); d.text != long {
		t.Fatal("long message did not arrive whole (option)")
	}
	if err := a.SetMaxMessageSize("bob", 10); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("size 10: %v", err)
	}
}

func TestForge(t *testing.T) {
	n, pa, a, pb, b := encryptedPair(t)
	_, err := a.Send("bob", "I will pay you 10 euros")
	must(t, err)
	pa.mu.Lock()
	captured := pa.sent[len(pa.sent)-1]
	pa.mu.Unlock()
	n.pump(t)
	_, err = b.Send("alice", "ok")
	must(t, err)
	pb.mu.Lock()
	reply := pb.sent[len(pb.sent)-1]
	pb.mu.Unlock()
	n.pump(t)

	forged, err := Forge(captured, []string{"unrelated", reply}, []byte("I will pay you 10 euros"), []byte("I will pay you 99 euros"))
	must(t, err)
	if len(forged) != len(captured) || forged == captured || !strings.HasPrefix(forged, "?OFR") {
		t.Fatalf("forged %q", forged)
	}
	if _, err := Forge("hello", []string{reply}, []byte("a"), []byte("b")); !errors.Is(err, ErrNotADataMessage) {
		t.Fatalf("not a data message: %v", err)
	}
	if _, err := Forge(captured, nil, []byte("I will pay you 10 euros"), []byte("b")); !errors.Is(err, ErrNoMatchingReveal) {
		t.Fatalf("no reveal: %v", err)
	}
	if _, err := Forge(captured, []string{reply}, []byte(strings.Repeat("x", 50)), []byte("b")); !errors.Is(err, ErrTextDoesNotFit) {
		t.Fatalf("does not fit: %v", err)
	}
	if _, err := Forge(captured, make([]string, MaxForgeLater+1), []byte("a"), []byte("b")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("too many later: %v", err)
	}
}

func TestPersistence(t *testing.T) {
	n, pa, a, pb, b := encryptedPair(t)
	var key [32]byte
	for i := range key {
		key[i] = byte(i + 1)
	}
	fa, _ := a.Fingerprint()

	// Bytes: alice saved, closed, reloaded; the stored session is restarted, not resumed.
	sealed, err := a.Save(RawKey(key))
	must(t, err)
	must(t, a.Close())
	a2, err := LoadClient(sealed, "alice", RawKey(key), PolicyManual, pa)
	must(t, err)
	t.Cleanup(func() { _ = a2.Close() })
	n.mu.Lock()
	n.clients["alice"] = a2
	n.mu.Unlock()
	if fp, _ := a2.Fingerprint(); fp != fa {
		t.Fatal("fingerprint changed")
	}
	if st, _ := a2.SessionState("bob"); st != StatePlaintext {
		t.Fatalf("state after load %v (a restored session must not look encrypted)", st)
	}
	_, err = a2.Send("bob", "after reload")
	must(t, err)
	if _, ok := pa.event(EventEncryptionRequired); !ok {
		t.Fatal("the message was not held for the new session")
	}
	n.pump(t)
	if d := pb.lastDelivered(); d.text != "after reload" {
		t.Fatalf("bob got %q", d.text)
	}
	if st, _ := a2.SessionState("bob"); st != StateEncryptedUnverified {
		t.Fatalf("state after the new handshake %v", st)
	}

	wrong := key
	wrong[0] ^= 1
	if _, err := LoadClient(sealed, "alice", RawKey(wrong), PolicyManual, pa); !errors.Is(err, ErrStoreWrongKey) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := LoadClient(sealed[:10], "alice", RawKey(key), PolicyManual, pa); !errors.Is(err, ErrStoreCorrupted) {
		t.Fatalf("truncated: %v", err)
	}
	if _, err := LoadClient(sealed, "alice", StoreKey{}, PolicyManual, pa); !errors.Is(err, ErrNullArgument) {
		t.Fatalf("no key: %v", err)
	}
	// Another account's store is refused; the account is readable after a load.
	if _, err := LoadClient(sealed, "mallory", RawKey(key), PolicyManual, pa); !errors.Is(err, ErrStoreWrongAccount) {
		t.Fatalf("swapped store: %v", err)
	}
	if name, err := a2.Account(); err != nil || name != "alice" {
		t.Fatalf("Account() = %q, %v", name, err)
	}

	// Directory, with a passphrase for bob.
	dir := filepath.Join(t.TempDir(), "store")
	if _, err := LoadClientFromDir(dir, "bob", Passphrase("pw"), PolicyManual, pb); !errors.Is(err, ErrStoreNotFound) {
		t.Fatalf("empty dir: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a failed load created the directory: %v", err)
	}
	must(t, b.SaveToDir(dir, Passphrase("correct horse")))
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode: %v %v", fi, err)
	}
	if _, err := LoadClientFromDir(dir, "bob", Passphrase("wrong horse"), PolicyManual, pb); !errors.Is(err, ErrStoreWrongKey) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := LoadClientFromDir(dir, "alice", Passphrase("correct horse"), PolicyManual, pb); !errors.Is(err, ErrStoreWrongAccount) {
		t.Fatalf("another account's store: %v", err)
	}
	fifoDir := filepath.Join(t.TempDir(), "fifo")
	must(t, os.Mkdir(fifoDir, 0o700))
	must(t, syscall.Mkfifo(filepath.Join(fifoDir, "offrec.store"), 0o600))
	if _, err := LoadClientFromDir(fifoDir, "bob", Passphrase("pw"), PolicyManual, pb); !errors.Is(err, ErrStoreNotAFile) {
		t.Fatalf("fifo: %v", err)
	}
	must(t, b.Close())
	b2, err := LoadClientFromDir(dir, "bob", Passphrase("correct horse"), PolicyManual, pb)
	must(t, err)
	t.Cleanup(func() { _ = b2.Close() })
	n.mu.Lock()
	n.clients["bob"] = b2
	n.mu.Unlock()
	_, err = b2.Send("alice", "bob is back")
	must(t, err)
	n.pump(t)
	if d := pa.lastDelivered(); d.text != "bob is back" || d.security != SecurityEncryptedUnverified {
		t.Fatalf("alice got %+v", d)
	}
}

// dataKeyUses returns the (ratchet key, N) of every data message in texts (PROTOCOL.md header:
// version 2, type 1 = 0x03, sender 4, receiver 4, flags 1, ratchet key 32, PN 4, N 4).
func dataKeyUses(texts []string) [][36]byte {
	var out [][36]byte
	for _, text := range texts {
		if !strings.HasPrefix(text, "?OFR:") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(text[5:], "."))
		if err != nil || len(raw) < 52 || raw[2] != 0x03 {
			continue
		}
		var id [36]byte
		copy(id[:32], raw[12:44])
		copy(id[32:], raw[48:52])
		out = append(out, id)
	}
	return out
}

func (p *party) sentTexts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.sent...)
}

func (p *party) deliveredCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.delivered)
}

// Issue #13 item 1, sender side: a client restored after a crash never reuses a message key.
func TestRestoredSenderNeverReusesAKey(t *testing.T) {
	n, pa, a, pb, _ := encryptedPair(t)
	key := [32]byte{9}
	sealed, err := a.Save(RawKey(key))
	must(t, err)
	_, err = a.Send("bob", "first, after the save")
	must(t, err)
	n.pump(t)
	must(t, a.Close()) // kill -9: nothing after the save survives
	a2, err := LoadClient(sealed, "alice", RawKey(key), PolicyManual, pa)
	must(t, err)
	t.Cleanup(func() { _ = a2.Close() })
	n.mu.Lock()
	n.clients["alice"] = a2
	n.mu.Unlock()
	before := len(pa.sentTexts())
	_, err = a2.Send("bob", "second, after the load")
	must(t, err)
	if uses := dataKeyUses(pa.sentTexts()[before:]); len(uses) != 0 {
		t.Fatal("a data message went out on the stored chain")
	}
	if err := a2.SMPStart("bob", 0, []byte("secret"), ""); !errors.Is(err, ErrNoSession) {
		t.Fatalf("SMP on a restored session: %v", err)
	}
	n.pump(t)
	if d := pb.lastDelivered(); d.text != "second, after the load" {
		t.Fatalf("bob got %q", d.text)
	}
	seen := map[[36]byte]bool{}
	uses := dataKeyUses(pa.sentTexts())
	for _, id := range uses {
		if seen[id] {
			t.Fatal("a (ratchet key, N) pair encrypted two messages")
		}
		seen[id] = true
	}
	if len(uses) < 2 {
		t.Fatalf("only %d data messages captured", len(uses))
	}
}

// Issue #13 item 1, receiver side: replays and forgeries from revealed material are refused.
func TestRestoredReceiverRejectsReplayAndForgery(t *testing.T) {
	n, pa, a, pb, b := encryptedPair(t)
	key := [32]byte{7}
	sealed, err := b.Save(RawKey(key))
	must(t, err)
	_, err = a.Send("bob", "pay 10 EUR")
	must(t, err)
	n.pump(t)
	_, err = b.Send("alice", "ok") // reveals the key of "pay 10 EUR"
	must(t, err)
	n.pump(t)
	var pay string
	for _, text := range pa.sentTexts() {
		if len(dataKeyUses([]string{text})) == 1 {
			pay = text
		}
	}
	forged, err := Forge(pay, pb.sentTexts(), []byte("pay 10 EUR"), []byte("pay 99 EUR"))
	must(t, err)
	must(t, b.Close())
	b2, err := LoadClient(sealed, "bob", RawKey(key), PolicyManual, pb)
	must(t, err)
	t.Cleanup(func() { _ = b2.Close() })
	n.mu.Lock()
	n.clients["bob"] = b2
	n.mu.Unlock()
	got := pb.deliveredCount()
	must(t, b2.Receive("alice", pay))
	must(t, b2.Receive("alice", forged))
	if pb.deliveredCount() != got {
		t.Fatalf("delivered after restore: %q", pb.lastDelivered().text)
	}
	if _, ok := pb.event(EventNotInPrivate); !ok {
		t.Fatal("no NotInPrivate event")
	}
	n.pump(t)
	_, err = a.Send("bob", "after the restart")
	must(t, err)
	n.pump(t)
	if d := pb.lastDelivered(); d.text != "after the restart" {
		t.Fatalf("bob got %q", d.text)
	}
}

// TestPersistNeededEvent: the event is reported once until saved. A call reports only a kind of
// change not made since the last successful save, with every kind unsaved since.
func TestPersistNeededEvent(t *testing.T) {
	n, pa, a, pb, b := encryptedPair(t)
	for _, p := range []*party{pa, pb} {
		e, ok := p.event(EventPersistNeeded)
		if !ok || e.Peer != "" || e.Instance != 0 {
			t.Fatalf("%s: no PersistNeeded after the handshake: %+v", p.name, e)
		}
	}
	key := RawKey([32]byte{7})
	sent := PersistSentLog | PersistOther
	// The PersistNeeded reasons alice got since the last call of reasons.
	reasons := func() []PersistFlag {
		pa.mu.Lock()
		defer pa.mu.Unlock()
		var out []PersistFlag
		for _, e := range pa.events {
			if e.Code == EventPersistNeeded {
				out = append(out, PersistFlag(e.Reason))
			}
		}
		pa.events = nil
		return out
	}
	send := func(text string) {
		t.Helper()
		_, err := a.Send("bob", text)
		must(t, err)
	}
	_, err := a.Save(key)
	must(t, err)
	reasons()
	send("hi")
	if r := reasons(); len(r) != 1 || r[0] != sent {
		t.Fatalf("after a save, a send reports what it changed: %v", r)
	}
	n.pump(t)
	send("again")
	if r := reasons(); len(r) != 0 {
		t.Fatalf("not saved since: a second send reports nothing, got %v", r)
	}
	fb, err := b.Fingerprint()
	must(t, err)
	must(t, a.SetTrust("bob", fb, TrustVerifiedManual))
	if r := reasons(); len(r) != 1 || r[0] != sent|PersistTrust {
		t.Fatalf("a new kind reports with everything unsaved: %v", r)
	}
	// A failed save (the store file's place is a directory) leaves the notice pending.
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "offrec.store"), 0o700))
	if err := a.SaveToDir(dir, key); err == nil {
		t.Fatal("a save over a directory succeeded")
	}
	send("after a failed save")
	if r := reasons(); len(r) != 0 {
		t.Fatalf("after a failed save: %v", r)
	}
	must(t, os.Remove(filepath.Join(dir, "offrec.store")))
	must(t, a.SaveToDir(dir, key))
	send("after a save")
	if r := reasons(); len(r) != 1 || r[0] != sent {
		t.Fatalf("after a save to the directory: %v", r)
	}
	if s := (PersistSentLog | PersistOther).String(); s != "sent_log|other" {
		t.Fatalf("String: %q", s)
	}
	if EventPersistNeeded.String() != "persist_needed" {
		t.Fatal(EventPersistNeeded.String())
	}
}

func TestCallbackPanicSurfaces(t *testing.T) {
	n, _, a, pb, b := encryptedPair(t)
	boom := errors.New("boom")
	pb.mu.Lock()
	pb.onDeliver = func(d delivered) {
		if d.text == "panic please" {
			panic(boom)
		}
	}
	pb.mu.Unlock()
	_, err := a.Send("bob", "panic please")
	must(t, err)
	n.mu.Lock()
	w := n.queue[0]
	n.queue = n.queue[1:]
	n.mu.Unlock()

	func() {
		defer func() {
			v := recover()
			cp, ok := v.(*CallbackPanic)
			if !ok {
				t.Fatalf("recovered %T %v, want *CallbackPanic", v, v)
			}
			if cp.Value != boom || cp.Callback != "Deliver" || !errors.Is(cp, boom) || len(cp.Stack) == 0 {
				t.Fatalf("panic detail: %v", cp)
			}
		}()
		_ = b.Receive(w.from, w.text)
		t.Fatal("Receive did not panic")
	}()

	// The client is intact: the message was delivered, and the session works on.
	if d := pb.lastDelivered(); d.text != "panic please" {
		t.Fatalf("delivered %q", d.text)
	}
	pb.mu.Lock()
	pb.onDeliver = nil
	pb.mu.Unlock()
	_, err = a.Send("bob", "still fine")
	must(t, err)
	n.pump(t)
	if d := pb.lastDelivered(); d.text != "still fine" {
		t.Fatalf("after the panic bob got %q", d.text)
	}
}

// A panic in a nested call's callback travels out through the outer call.
func TestNestedCallbackPanic(t *testing.T) {
	n := newNetwork()
	p := &panicky{}
	c, err := NewClient("pan", "test", PolicyManual, p)
	must(t, err)
	defer c.Close()
	_, b := newParty(t, n, "other", PolicyManual)
	_ = b
	defer func() {
		cp, ok := recover().(*CallbackPanic)
		if !ok || cp.Callback != "Send" {
			t.Fatalf("want the outer Send callback's panic, got %v", cp)
		}
		inner, ok := cp.Value.(*CallbackPanic)
		if !ok || inner.Value != "send failed" {
			t.Fatalf("inner panic %v", cp.Value)
		}
	}()
	p.nested = c
	_ = c.StartSession("x") // Send -> (nested) StartSession -> Send panics
	t.Fatal("no panic")
}

type panicky struct {
	nested *Client
	depth  int
}

func (p *panicky) Send(peer, text string) {
	p.depth++
	if p.depth == 1 && p.nested != nil {
		_ = p.nested.StartSession("y")
		return
	}
	panic("send failed")
}
func (p *panicky) Deliver(string, uint32, []byte, Security) {}

func TestUseAfterClose(t *testing.T) {
	n := newNetwork()
	p := &party{name: "z", net: n}
	c, err := NewClient("z", "test", PolicyManual, p)
	must(t, err)
	must(t, c.Close())
	must(t, c.Close()) // idempotent
	if _, err := c.Send("a", "b"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if _, err := c.Fingerprint(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Fingerprint after Close: %v", err)
	}
	if err := c.Receive("a", "b"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Receive after Close: %v", err)
	}

	// Close from inside one of the client's own callbacks is refused.
	c2, err := NewClient("y", "test", PolicyNever, p)
	must(t, err)
	defer c2.Close()
	var got error
	p.onDeliver = func(delivered) { got = c2.Close() }
	must(t, c2.Receive("x", "hello"))
	if !errors.Is(got, ErrCloseInCallback) {
		t.Fatalf("Close in callback: %v", got)
	}
	if _, err := c2.Fingerprint(); err != nil {
		t.Fatalf("client closed anyway: %v", err)
	}
}

func TestFinalizerFreesUnclosedClients(t *testing.T) {
	n := newNetwork()
	before := liveClients.Load()
	keep := make([]*Client, 0, 20)
	for i := 0; i < 20; i++ {
		c, err := NewClient(fmt.Sprintf("f%d", i), "test", PolicyManual, &party{net: n})
		must(t, err)
		_, _ = c.Fingerprint()
		keep = append(keep, c)
	}
	if liveClients.Load() < before+20 {
		t.Fatal("clients not counted")
	}
	runtime.KeepAlive(keep)
	keep = nil
	deadline := time.Now().Add(5 * time.Second)
	for liveClients.Load() > before && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if left := liveClients.Load() - before; left > 0 {
		t.Fatalf("%d unreachable clients never finalized", left)
	}
}

// Many goroutines send through one client, while others query it and the receiver reads.
func TestGoroutineSafety(t *testing.T) {
	n, _, a, pb, b := encryptedPair(t)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := a.Send("bob", fmt.Sprintf("m %d %d", w, i)); err != nil {
					t.Error(err)
					return
				}
				if _, err := a.SessionState("bob"); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	stop := make(chan struct{})
	var qwg sync.WaitGroup
	qwg.Add(1)
	go func() { // the receiver pumps concurrently
		defer qwg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = b.Fingerprint()
				_, _ = b.Sessions("alice")
				runtime.Gosched()
			}
		}
	}()
	wg.Wait()
	close(stop)
	qwg.Wait()
	n.pump(t)
	got := map[string]bool{}
	pb.mu.Lock()
	for _, d := range pb.delivered {
		got[d.text] = true
	}
	pb.mu.Unlock()
	for w := 0; w < workers; w++ {
		for i := 0; i < each; i++ {
			if !got[fmt.Sprintf("m %d %d", w, i)] {
				t.Fatalf("message %d %d lost", w, i)
			}
		}
	}
}

// Close waits for calls in progress on other goroutines.
func TestCloseWhileBusy(t *testing.T) {
	n, _, a, _, _ := encryptedPair(t)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := a.Send("bob", "x"); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Error(err)
					}
					return
				}
			}
		}()
	}
	runtime.Gosched()
	must(t, a.Close())
	wg.Wait()
	n.mu.Lock()
	n.queue = nil
	n.mu.Unlock()
}

func TestTick(t *testing.T) {
	n, pa, a, _, b := encryptedPair(t)
	_, err := b.Send("alice", "hi")
	must(t, err)
	n.pump(t)
	n.clock.Add(61)
	must(t, a.Tick())
	must(t, b.Tick())
	n.pump(t)
	if _, ok := pa.event(EventHeartbeatSent); !ok {
		t.Error("no heartbeat after 61 s of silence")
	}
}

func TestResultMessages(t *testing.T) {
	if ResultNoSession.Message() == "" || Result(9999).Message() != "unknown result code" {
		t.Fatal("messages")
	}
	if ResultStoreWrongKey.String() != "STORE_WRONG_KEY" || Result(9999).String() != "Result(9999)" {
		t.Fatal("names")
	}
	err := error(&Error{Code: ResultNoSession, Message: "m", Op: "Send"})
	if !errors.Is(fmt.Errorf("wrapped: %w", err), ErrNoSession) || errors.Is(err, ErrStoreError) {
		t.Fatal("errors.Is")
	}
	if EventSMPAskedForSecret.String() != "smp_asked_for_secret" || EventCode(99).String() != "event_99" {
		t.Fatal("event names")
	}
}

// Name binding (issue #13 item 7): names are normalised before binding, and a real mismatch
// fails at once on both sides with HandshakeNamesDiffer.
func TestNameBinding(t *testing.T) {
	n := newNetwork()
	pa, a := newParty(t, n, "alice", PolicyManual)
	// Reached as "bob" on this network, but logged in as "Bob " (case and spaces normalise away).
	pb := &party{name: "bob", net: n}
	b, err := NewClient(" Bob", "TEST", PolicyManual, pb)
	must(t, err)
	t.Cleanup(func() { _ = b.Close() })
	n.mu.Lock()
	n.clients["bob"] = b
	n.mu.Unlock()
	must(t, a.StartSession("bob"))
	n.pump(t)
	if st, _ := a.SessionState("bob"); st != StateEncryptedUnverified {
		t.Fatalf("normalised names: state %v, events %+v", st, pa.events)
	}

	// Someone else answering as "carol": both sides learn at once, with reason 8.
	pm := &party{name: "carol", net: n}
	m, err := NewClient("mallory", "test", PolicyManual, pm)
	must(t, err)
	t.Cleanup(func() { _ = m.Close() })
	n.mu.Lock()
	n.clients["carol"] = m
	n.mu.Unlock()
	must(t, a.StartSession("carol"))
	n.pump(t)
	ea, okA := pa.event(EventHandshakeFailed)
	em, okM := pm.event(EventHandshakeFailed)
	if !okA || !okM || ea.HandshakeFailure() != HandshakeNamesDiffer || em.HandshakeFailure() != HandshakeNamesDiffer {
		t.Fatalf("alice %+v (%v), mallory %+v (%v)", ea, okA, em, okM)
	}
	if HandshakeNamesDiffer.String() != "names_differ" {
		t.Fatalf("String() = %q", HandshakeNamesDiffer.String())
	}
	must(t, a.SetOption(OptionNameBinding, 0))
	if err := a.SetOption(OptionNameBinding, 2); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("NameBinding 2: %v", err)
	}
}

// The policy set on a live client is the one it follows (a no-op SetPolicy used to be caught
// by a single C check).
func TestSetPolicyTakesEffect(t *testing.T) {
	n := newNetwork()
	pa, a := newParty(t, n, "ann", PolicyManual)
	pb, _ := newParty(t, n, "ben", PolicyManual)
	must(t, a.SetPolicy(PolicyAlways))
	_, err := a.Send("ben", "never in the clear")
	must(t, err)
	for _, text := range pa.sentTexts() {
		// The presets' query offers OTR v2/v3 first, then offrec.
		if !strings.HasPrefix(text, "?OFR") && !strings.HasPrefix(text, "?OTRv23? ?OFRv1?") {
			t.Fatalf("sent in the clear under PolicyAlways: %q", text)
		}
	}
	n.pump(t)
	if d := pb.lastDelivered(); d.text != "never in the clear" || d.security == SecurityPlaintext {
		t.Fatalf("ben got %+v", d)
	}
	must(t, a.SetPolicy(PolicyNever))
	if err := a.StartSession("ben"); !errors.Is(err, ErrPolicyForbids) {
		t.Fatalf("StartSession after SetPolicy(PolicyNever): %v", err)
	}
}
