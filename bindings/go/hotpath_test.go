package offrec

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// The per-message path's shortcuts (bench/notes/bindperf.md): recycled call frames, the cached
// peer name, the lock-free call counter and Send's id written into the frame.

// A recycled frame starts clean: a panic of one call never resurfaces in a later call that
// reuses its frame, and its id output is that call's own.
func TestRecycledFramesStartClean(t *testing.T) {
	n, _, a, pb, b := encryptedPair(t)
	pb.mu.Lock()
	pb.onDeliver = func(d delivered) {
		if d.text == "boom" {
			panic("boom")
		}
	}
	pb.mu.Unlock()
	var last uint64
	for round := 0; round < 3*maxIdleFrames; round++ {
		text := fmt.Sprintf("m%d", round)
		if round%7 == 3 {
			text = "boom"
		}
		id, err := a.Send("bob", text)
		must(t, err)
		if id <= last {
			t.Fatalf("message id %d after %d", id, last)
		}
		last = id
		n.mu.Lock()
		queue := n.queue
		n.queue = nil
		n.mu.Unlock()
		for _, w := range queue {
			panicked := func() (p any) {
				defer func() { p = recover() }()
				_ = b.Receive(w.from, w.text)
				return nil
			}()
			if (text == "boom") != (panicked != nil) {
				t.Fatalf("round %d (%q): panic %v", round, text, panicked)
			}
			if cp, ok := panicked.(*CallbackPanic); panicked != nil && (!ok || cp.Value != "boom") {
				t.Fatalf("round %d: panic %v", round, panicked)
			}
		}
		if d := pb.lastDelivered(); d.text != text {
			t.Fatalf("round %d: delivered %q, want %q", round, d.text, text)
		}
	}
	framePool.mu.Lock()
	idle := len(framePool.idle)
	for _, f := range framePool.idle {
		if f.st != nil || f.panic != nil || f.out != 0 || f.ud != 0 {
			t.Errorf("idle frame keeps state: %+v", *f)
		}
	}
	framePool.mu.Unlock()
	if idle > maxIdleFrames {
		t.Fatalf("%d idle frames", idle)
	}
	// a parked frame keeps its client (st, ud) and nothing of its last call
	for _, c := range []*Client{a, b} {
		f := c.spare.Load()
		if f == nil {
			t.Fatal("no frame parked after a call")
		}
		if f.st != c.st || uintptr(f.ud) != uintptr(c.ud) || f.panic != nil || f.out != 0 {
			t.Errorf("parked frame keeps a call's state: %+v", *f)
		}
	}
}

// idleFrames is every frame between calls: the pool's and those parked on clients.
func idleFrames(clients ...*Client) []*callFrame {
	framePool.mu.Lock()
	frames := append([]*callFrame(nil), framePool.idle...)
	framePool.mu.Unlock()
	for _, c := range clients {
		if f := c.spare.Load(); f != nil {
			frames = append(frames, f)
		}
	}
	return frames
}

// Close takes back the frame parked on the client: no frame stays tied to a closed client
// (nor keeps its state reachable), also with calls racing, and the pool stays bounded.
func TestCloseReleasesParkedFrame(t *testing.T) {
	for round := 0; round < 10; round++ {
		c, err := NewClient("p", "test", PolicyManual, &party{name: "p", net: newNetwork()})
		must(t, err)
		st := c.st
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 30; i++ {
					if _, err := c.Send("x", "hi"); err != nil {
						return
					}
				}
			}()
		}
		if round%2 == 0 {
			wg.Wait()
			if c.spare.Load() == nil {
				t.Fatal("no frame parked")
			}
		}
		must(t, c.Close())
		wg.Wait()
		if f := c.spare.Load(); f != nil {
			t.Fatalf("round %d: a frame is parked on the closed client", round)
		}
		framePool.mu.Lock()
		for _, f := range framePool.idle {
			if f.st == st {
				t.Errorf("round %d: a pooled frame keeps the closed client's state", round)
			}
		}
		if len(framePool.idle) > maxIdleFrames {
			t.Errorf("%d pooled frames", len(framePool.idle))
		}
		framePool.mu.Unlock()
	}
}

// A callback of one client never sees another client's frame as its own: a panic in bob's
// callback during a nested call made from alice's callback goes to bob's call.
func TestFrameBelongsToItsClient(t *testing.T) {
	n, pa, a, pb, b := encryptedPair(t)
	var inner any
	pb.mu.Lock()
	pb.onDeliver = func(d delivered) {
		if d.text == "inner" {
			panic("bob's")
		}
	}
	pb.mu.Unlock()
	pa.mu.Lock()
	pa.onDeliver = func(d delivered) {
		// alice's Deliver runs inside alice's Receive; bob's Receive is a nested call.
		n.mu.Lock()
		queue := n.queue
		n.queue = nil
		n.mu.Unlock()
		for _, w := range queue {
			func() {
				defer func() { inner = recover() }()
				_ = b.Receive(w.from, w.text)
			}()
		}
	}
	pa.mu.Unlock()
	_, err := a.Send("bob", "inner")
	must(t, err)
	_, err = b.Send("alice", "outer")
	must(t, err)
	// deliver bob's "outer" to alice first; alice's callback then pumps "inner" into bob
	n.mu.Lock()
	var toAlice, rest []wire
	for _, w := range n.queue {
		if w.to == "alice" {
			toAlice = append(toAlice, w)
		} else {
			rest = append(rest, w)
		}
	}
	n.queue = rest
	n.mu.Unlock()
	for _, w := range toAlice {
		must(t, a.Receive(w.from, w.text)) // alice's own call does not panic
	}
	if cp, ok := inner.(*CallbackPanic); !ok || cp.Value != "bob's" {
		t.Fatalf("bob's nested Receive: %v", inner)
	}
	// Close from inside a callback is still refused on the client whose callback runs, and
	// allowed for another client's (not this call's) frame.
	var own, other error
	other2, err := NewClient("third", "test", PolicyManual, &party{name: "third", net: n})
	must(t, err)
	pb.mu.Lock()
	pb.onDeliver = func(d delivered) { own = b.Close(); other = other2.Close() }
	pb.mu.Unlock()
	_, err = a.Send("bob", "close?")
	must(t, err)
	n.pump(t)
	if !errors.Is(own, ErrCloseInCallback) || other != nil {
		t.Fatalf("Close in callback: own %v, other %v", own, other)
	}
}

// peerName returns the right name whatever order the peers come in, from many goroutines.
func TestPeerNameCache(t *testing.T) {
	n := newNetwork()
	hub, h := newParty(t, n, "hub", PolicyNever)
	names := []string{"ann", "bo", "ann2", "b", "ann"}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				peer := names[(g+i)%len(names)]
				if err := h.Receive(peer, fmt.Sprintf("%s:%d:%d", peer, g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if len(hub.delivered) != 200 {
		t.Fatalf("%d delivered", len(hub.delivered))
	}
	for _, d := range hub.delivered {
		if len(d.text) <= len(d.peer) || d.text[:len(d.peer)] != d.peer || d.text[len(d.peer)] != ':' {
			t.Fatalf("text %q came with peer %q", d.text, d.peer)
		}
	}
	if (&clientState{}).peerName(nil, 0) != "" {
		t.Fatal("no name is the empty string")
	}
}

// Calls racing Close: each either runs whole or gets ErrClosed; Close returns only when none
// is left in the library, and a second Close (concurrent or later) is a no-op.
func TestCloseRacesCalls(t *testing.T) {
	for round := 0; round < 20; round++ {
		n := newNetwork()
		p := &party{name: "r", net: n}
		c, err := NewClient("r", "test", PolicyManual, p)
		must(t, err)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; i < 50; i++ {
					if _, err := c.Send("x", "hello"); err != nil {
						if !errors.Is(err, ErrClosed) {
							t.Error(err)
						}
						return
					}
				}
			}()
		}
		close(start)
		var cwg sync.WaitGroup
		for k := 0; k < 2; k++ {
			cwg.Add(1)
			go func() {
				defer cwg.Done()
				if err := c.Close(); err != nil {
					t.Error(err)
				}
			}()
		}
		cwg.Wait()
		wg.Wait()
		if got := c.calls.Load(); got != closing {
			t.Fatalf("calls after Close = %#x", got)
		}
		if _, err := c.Send("x", "late"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send after Close: %v", err)
		}
		if got := c.calls.Load(); got != closing {
			t.Fatalf("calls after a refused call = %#x", got)
		}
	}
}

// tracer records every callback of one client, in order, and pumps its sends onto a network;
// its Deliver replies to "ping" from inside the callback (a nested call).
type tracer struct {
	name  string
	net   *network
	c     *Client
	limit int
	trace *[]string
}

func (r *tracer) log(s string) { *r.trace = append(*r.trace, r.name+": "+s) }

func (r *tracer) Send(peer, text string) {
	kind := text
	if len(kind) > 5 {
		kind = kind[:5] // the wire texts themselves are random
	}
	r.log("Send " + peer + " " + kind)
	r.net.enqueue(wire{from: r.name, to: peer, text: text})
}

func (r *tracer) Deliver(peer string, instance uint32, text []byte, sec Security) {
	r.log(fmt.Sprintf("Deliver %s %q %v", peer, text, sec))
	if string(text) == "ping" {
		if _, err := r.c.Send(peer, "pong"); err != nil {
			r.log("reply: " + err.Error())
		}
	}
}

func (r *tracer) StateChanged(peer string, instance uint32, st SessionState) {
	r.log(fmt.Sprintf("State %s %v", peer, st))
	if st == StateEncryptedUnverified {
		if _, err := r.c.Send(peer, "hello from "+r.name); err != nil {
			r.log("hello: " + err.Error())
		}
	}
}

func (r *tracer) Event(e Event) { r.log(fmt.Sprintf("Event %v %s %d", e.Code, e.Peer, e.Reason)) }

// sizedTracer also answers MaxMessageSize: a callback before every send, which makes the C side
// run the recorded callbacks first.
type sizedTracer struct{ *tracer }

func (r sizedTracer) MaxMessageSize(peer string) int {
	r.log("MaxMessageSize " + peer)
	return r.limit
}

func (r *tracer) Now() uint64 { return r.net.clock.Load() }

// traceScenario runs a handshake (with the state handlers sending from inside their callback),
// plain and fragmented messages both ways and a nested reply, and returns every callback.
func traceScenario(t *testing.T, sized bool) []string {
	var trace []string
	n := newNetwork()
	ra := &tracer{name: "alice", net: n, trace: &trace}
	rb := &tracer{name: "bob", net: n, trace: &trace}
	for _, r := range []*tracer{ra, rb} {
		var h Handler = r
		if sized {
			h = sizedTracer{r}
		}
		c, err := NewClient(r.name, "test", PolicyManual, h)
		must(t, err)
		t.Cleanup(func() { _ = c.Close() })
		r.c = c
		n.mu.Lock()
		n.clients[r.name] = c
		n.mu.Unlock()
	}
	must(t, ra.c.StartSession("bob"))
	n.pump(t)
	for i, text := range []string{"one", "ping", strings.Repeat("long ", 300), "", "two"} {
		rb.limit = 0
		if i == 2 {
			rb.limit = 400 // fragments: several Send callbacks in one call
		}
		must(t, rb.c.SetMaxMessageSize("alice", rb.limit))
		_, err := ra.c.Send("bob", text)
		trace = append(trace, fmt.Sprintf("alice Send %d: %v", i, err))
		_, err = rb.c.Send("alice", text)
		trace = append(trace, fmt.Sprintf("bob Send %d: %v", i, err))
		n.pump(t)
	}
	return trace
}

// Batched Send / Deliver callbacks (callbatch.go) reach the handler exactly as unbatched ones
// do: the same callbacks with the same arguments, in the same order, nested calls included.
func TestBatchedCallbacksKeepOrder(t *testing.T) {
	defer func() { batchCallbacks = true }()
	for _, sized := range []bool{false, true} {
		batchCallbacks = false
		want := traceScenario(t, sized)
		batchCallbacks = true
		got := traceScenario(t, sized)
		compareTraces(t, got, want, sized)
	}
}

func compareTraces(t *testing.T, got, want []string, sized bool) {
	t.Helper()
	all := strings.Join(want, "\n")
	if len(want) < 40 || !strings.Contains(all, `Deliver alice "pong"`) || sized != strings.Contains(all, "MaxMessageSize") ||
		!strings.Contains(all, `Deliver bob "hello from bob"`) || strings.Count(all, "bob: Send alice") < 10 {
		t.Fatalf("the scenario misses what it tests:\n%s", all)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		for i := range want {
			if i >= len(got) || got[i] != want[i] {
				t.Fatalf("callback %d: batched %q, unbatched %q\nunbatched:\n%s", i, got[min(i, len(got)-1)], want[i], strings.Join(want, "\n"))
			}
		}
		t.Fatalf("batched has %d more callbacks", len(got)-len(want))
	}
}

// A frame's batch buffer is wiped after its records ran (they held plaintext), a shorter
// message after a longer one gets exactly its own bytes, a buffer grown past maxKeptBatch is
// released, and a panic in one batched Send does not stop the next one.
func TestBatchBufferWipedAndReleased(t *testing.T) {
	n, _, a, pb, b := encryptedPair(t)
	check := func() {
		t.Helper()
		for _, f := range idleFrames(a, b) {
			if f.batch == nil {
				continue
			}
			if f.batch.len != 0 || f.batch.prev != nil || f.batch.frame_tls != nil {
				t.Fatalf("idle batch keeps a call: len %d", f.batch.len)
			}
			if f.batch.cap > maxKeptBatch {
				t.Fatalf("idle batch keeps %d bytes", f.batch.cap)
			}
			for i, c := range unsafe.Slice((*byte)(unsafe.Pointer(f.batch.buf)), int(f.batch.cap)) {
				if c != 0 {
					t.Fatalf("idle batch buffer not wiped at %d", i)
				}
			}
		}
	}
	for _, text := range []string{strings.Repeat("secret ", 2000), "short", strings.Repeat("x", 60000), "s"} {
		_, err := a.Send("bob", text)
		must(t, err)
		n.pump(t)
		if d := pb.lastDelivered(); d.text != text {
			t.Fatalf("delivered %d bytes, want %d", len(d.text), len(text))
		}
		check()
	}
	// fragments: the first Send panics, the later ones still run, the panic comes back
	pf := &panicFirstSend{party: &party{name: "frag", net: n}}
	c, err := NewClient("frag", "test", PolicyManual, pf)
	must(t, err)
	defer c.Close()
	n.mu.Lock()
	n.clients["frag"] = c
	n.mu.Unlock()
	must(t, c.StartSession("bob"))
	n.pump(t)
	pf.limit.Store(300) // its MaxMessageSize answer: fragments
	pf.armed = true
	func() {
		defer func() {
			if cp, ok := recover().(*CallbackPanic); !ok || cp.Value != "first" || cp.Callback != "Send" {
				t.Fatalf("panic %v", cp)
			}
		}()
		_, _ = c.Send("bob", strings.Repeat("q", 2000))
		t.Fatal("no panic")
	}()
	if pf.sends < 3 {
		t.Fatalf("%d Send callbacks after the panicking one", pf.sends-1)
	}
	check()
	_ = b
}

// panicFirstSend panics in its first Send once armed, and counts the Sends from then on.
type panicFirstSend struct {
	*party
	armed bool
	sends int
}

func (p *panicFirstSend) Send(peer, text string) {
	if !p.armed {
		p.party.Send(peer, text)
		return
	}
	p.sends++
	if p.sends == 1 {
		panic("first")
	}
}

// allocHandler queues its wire texts for the other client (a slice with room: no allocation of
// its own) and keeps the last delivered bytes.
type allocHandler struct {
	queue     *[]string
	delivered []byte
}

func (h *allocHandler) Send(peer, text string) { *h.queue = append(*h.queue, text) }
func (h *allocHandler) Deliver(peer string, instance uint32, text []byte, sec Security) {
	h.delivered = text
}

// One encrypted message sent and received allocates exactly the two copies the API promises
// (Send's wire string, Deliver's bytes): the frames, the batch records, the peer names and
// Send's id are reused. (The unbatched path, left for tests and a failed C allocation, also
// makes two, but four under -asan, whose C.GoStringN allocates: only the batched one is
// checked.)
func TestMessageAllocations(t *testing.T) {
	defer func() { batchCallbacks = true }()
	toA, toB := make([]string, 0, 16), make([]string, 0, 16)
	ha, hb := &allocHandler{queue: &toB}, &allocHandler{queue: &toA}
	a, err := NewClient("alice", "test", PolicyManual, ha)
	must(t, err)
	defer a.Close()
	b, err := NewClient("bob", "test", PolicyManual, hb)
	must(t, err)
	defer b.Close()
	pump := func() {
		for len(toA)+len(toB) > 0 {
			for len(toB) > 0 {
				w := toB[0]
				toB = append(toB[:0], toB[1:]...)
				must(t, b.Receive("alice", w))
			}
			for len(toA) > 0 {
				w := toA[0]
				toA = append(toA[:0], toA[1:]...)
				must(t, a.Receive("bob", w))
			}
		}
	}
	must(t, a.StartSession("bob"))
	pump()
	for _, batched := range []bool{false, true} {
		batchCallbacks = batched
		msg := "0123456789 one hundred bytes of text, give or take; enough for the test of the allocations."
		if !batched {
			msg = "the unbatched path still delivers"
		}
		roundTrip := func() {
			if _, err := a.Send("bob", msg); err != nil {
				t.Fatal(err)
			}
			pump()
		}
		roundTrip()
		if got := testing.AllocsPerRun(200, roundTrip); batched && got != 2 {
			t.Errorf("batched=%v: %.1f allocations per message, want 2", batched, got)
		}
		if string(hb.delivered) != msg {
			t.Fatalf("delivered %q", hb.delivered)
		}
	}
}

// goexitDeliver calls runtime.Goexit in Deliver (as t.FailNow would) once armed.
type goexitDeliver struct {
	*party
	armed atomic.Bool
}

func (g *goexitDeliver) Deliver(peer string, instance uint32, text []byte, sec Security) {
	if g.armed.Load() {
		runtime.Goexit()
	}
	g.party.Deliver(peer, instance, text, sec)
}

// runtime.Goexit in a batched Deliver ends its goroutine without leaving the call acquired
// (Close returns), the unrun records unwiped, or the thread's call set.
func TestGoexitInBatchedCallback(t *testing.T) {
	n := newNetwork()
	_, a := newParty(t, n, "alice", PolicyManual)
	gb := &goexitDeliver{party: &party{name: "bob", net: n}}
	b, err := NewClient("bob", "test", PolicyManual, gb)
	must(t, err)
	n.mu.Lock()
	n.clients["bob"] = b
	n.mu.Unlock()
	must(t, a.StartSession("bob"))
	n.pump(t)
	_, err = a.Send("bob", strings.Repeat("secret", 20))
	must(t, err)
	n.mu.Lock()
	w := n.queue[0]
	n.queue = nil
	n.mu.Unlock()
	gb.armed.Store(true)
	done := make(chan bool)
	go func() {
		defer close(done)
		_ = b.Receive(w.from, w.text)
		t.Error("Receive returned after Goexit")
	}()
	<-done
	closed := make(chan error)
	go func() { closed <- b.Close() }()
	select {
	case err := <-closed:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs: the call is still acquired")
	}
	framePool.mu.Lock()
	defer framePool.mu.Unlock()
	for _, f := range framePool.idle {
		if f.batch != nil {
			for _, c := range unsafe.Slice((*byte)(unsafe.Pointer(f.batch.buf)), int(f.batch.cap)) {
				if c != 0 {
					t.Fatal("records left unwiped")
				}
			}
		}
	}
}
