package offrec

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

// countingParty counts how often the library asks for a peer's transport limit (issue #13
// item 3: the answer is an input of each call, never stored on a stranger).
type countingParty struct {
	*party
	questions atomic.Int64
}

func (p *countingParty) MaxMessageSize(peer string) int {
	p.questions.Add(1)
	return 1400
}

func newCountingParty(t *testing.T) (*countingParty, *Client) {
	t.Helper()
	n := newNetwork()
	p := &countingParty{party: &party{name: "us", net: n}}
	c, err := NewClient("us", "test", PolicyManual, p)
	must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return p, c
}

// claimingFragment is one 43-byte incomplete fragment that claims 512 pieces.
func claimingFragment(id, sender uint32) string {
	return fmt.Sprintf("?OFR|%08x|%08x|00000000,1,512,?OFR:,", id, sender)
}

func TestStrangersAreForgottenWithTheSizerSet(t *testing.T) {
	p, c := newCountingParty(t)
	for i := 0; i < 100; i++ {
		must(t, c.Receive(fmt.Sprintf("stranger%d", i), "hello"))
	}
	if got := p.questions.Load(); got != 100 {
		t.Fatalf("asked %d times, want once per call", got)
	}
	p.questions.Store(0)
	must(t, c.Tick()) // asks about every known peer: there is none
	if got := p.questions.Load(); got != 0 {
		t.Fatalf("%d strangers kept", got)
	}
}

func TestUnauthenticatedBudgetDropsInputAndSavesNoStranger(t *testing.T) {
	p, c := newCountingParty(t)
	key := RawKey([32]byte{1, 2, 3})
	fresh, err := c.Save(key)
	must(t, err)
	must(t, c.SetOption(OptionUnauthenticatedBudget, 2000))
	for i := uint32(0); i < 40; i++ {
		must(t, c.Receive(fmt.Sprintf("stranger%d", i), claimingFragment(1, 0x1000+i)))
	}
	if _, ok := p.event(EventInputDropped); !ok {
		t.Fatal("no EventInputDropped although the budget is full")
	}
	p.questions.Store(0)
	must(t, c.Tick())
	if kept := p.questions.Load(); kept == 0 || kept >= 40 {
		t.Fatalf("%d strangers hold a fragment; want some, within the budget", kept)
	}
	flooded, err := c.Save(key)
	must(t, err)
	if len(flooded) != len(fresh) {
		t.Fatalf("save grew from %d to %d bytes: strangers were stored", len(fresh), len(flooded))
	}
	if err := c.SetOption(Option(8), 1); !errors.Is(err, ErrUnknownEnumValue) {
		t.Fatalf("option 7: %v", err)
	}
	if EventInputDropped.String() != "input_dropped" || OptionUnauthenticatedBudget.String() != "unauthenticated_budget" {
		t.Fatal("names")
	}
}
