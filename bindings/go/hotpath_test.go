package offrec

import (
	"errors"
	"fmt"
	"sync"
	"testing"
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
	if idle == 0 || idle > maxIdleFrames {
		t.Fatalf("%d idle frames", idle)
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
