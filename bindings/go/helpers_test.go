package offrec

import (
	"sync"
	"sync/atomic"
	"testing"
)

// network is an in-memory transport: wire texts queue up until pump delivers them.
type network struct {
	mu      sync.Mutex
	queue   []wire
	clients map[string]*Client
	clock   atomic.Uint64
}

type wire struct{ from, to, text string }

func newNetwork() *network {
	n := &network{clients: map[string]*Client{}}
	n.clock.Store(1_000_000)
	return n
}

func (n *network) enqueue(w wire) {
	n.mu.Lock()
	n.queue = append(n.queue, w)
	n.mu.Unlock()
}

// pump delivers queued wire texts until none are left.
func (n *network) pump(t testing.TB) {
	t.Helper()
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("pump: the parties never stop talking")
		}
		n.mu.Lock()
		if len(n.queue) == 0 {
			n.mu.Unlock()
			return
		}
		w := n.queue[0]
		n.queue = n.queue[1:]
		c := n.clients[w.to]
		n.mu.Unlock()
		if c == nil {
			continue
		}
		if err := c.Receive(w.from, w.text); err != nil {
			t.Fatalf("%s receives from %s: %v", w.to, w.from, err)
		}
	}
}

type delivered struct {
	peer     string
	instance uint32
	text     string
	security Security
}

type stateChange struct {
	peer  string
	state SessionState
}

// party is a Handler recording everything; it implements every optional interface.
type party struct {
	name  string
	net   *network
	limit atomic.Int64 // MaxMessageSize answer

	mu        sync.Mutex
	sent      []string
	delivered []delivered
	events    []Event
	states    []stateChange
	onDeliver func(d delivered)
	onEvent   func(e Event)
}

func (p *party) Send(peer, text string) {
	p.mu.Lock()
	p.sent = append(p.sent, text)
	p.mu.Unlock()
	p.net.enqueue(wire{from: p.name, to: peer, text: text})
}

func (p *party) Deliver(peer string, instance uint32, text []byte, sec Security) {
	d := delivered{peer, instance, string(text), sec}
	p.mu.Lock()
	p.delivered = append(p.delivered, d)
	hook := p.onDeliver
	p.mu.Unlock()
	if hook != nil {
		hook(d)
	}
}

func (p *party) StateChanged(peer string, instance uint32, state SessionState) {
	p.mu.Lock()
	p.states = append(p.states, stateChange{peer, state})
	p.mu.Unlock()
}

func (p *party) Event(e Event) {
	p.mu.Lock()
	p.events = append(p.events, e)
	hook := p.onEvent
	p.mu.Unlock()
	if hook != nil {
		hook(e)
	}
}

func (p *party) MaxMessageSize(peer string) int { return int(p.limit.Load()) }

func (p *party) Now() uint64 { return p.net.clock.Load() }

func (p *party) event(code EventCode) (Event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.events) - 1; i >= 0; i-- {
		if p.events[i].Code == code {
			return p.events[i], true
		}
	}
	return Event{}, false
}

func (p *party) lastDelivered() delivered {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.delivered) == 0 {
		return delivered{}
	}
	return p.delivered[len(p.delivered)-1]
}

func (p *party) sentCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent)
}

// newParty creates a client named name on the network, closed when the test ends.
func newParty(t testing.TB, n *network, name string, policy Policy) (*party, *Client) {
	t.Helper()
	p := &party{name: name, net: n}
	c, err := NewClient(name, "test", policy, p)
	if err != nil {
		t.Fatalf("NewClient(%s): %v", name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	n.mu.Lock()
	n.clients[name] = c
	n.mu.Unlock()
	return p, c
}

// encryptedPair returns two clients with an encrypted session between them.
func encryptedPair(t testing.TB) (*network, *party, *Client, *party, *Client) {
	t.Helper()
	n := newNetwork()
	pa, a := newParty(t, n, "alice", PolicyManual)
	pb, b := newParty(t, n, "bob", PolicyManual)
	must(t, a.StartSession("bob"))
	n.pump(t)
	for _, c := range []struct {
		c    *Client
		peer string
	}{{a, "bob"}, {b, "alice"}} {
		st, err := c.c.SessionState(c.peer)
		must(t, err)
		if st != StateEncryptedUnverified {
			t.Fatalf("state with %s = %v, want encrypted_unverified", c.peer, st)
		}
	}
	return n, pa, a, pb, b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
