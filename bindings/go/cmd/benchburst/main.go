// Command benchburst measures the one-way burst throughput of the Go binding, to compare with
// the C API's in the same run (bench/bindings.md, bench/bindings.sh):
//
//	benchburst [-burst N] [-window W] [-runs R] [-cpuprofile FILE]
//
// The scenario of bench/bench.c's sc_burst: two clients in one process (alice and bob on
// network bench, policy MANUAL), an in-memory FIFO as the transport; alice starts the session
// and the queue is pumped until both are encrypted (not timed); one warm-up message
// bob -> alice; then, timed, alice sends N messages (8-digit sequence number + the letter
// pattern of make_msg, 100 B and 4 KiB) and bob receives them all, every delivered plaintext
// compared with what was sent. A run measures the steady state, as `bench --capi W` does for
// the C API: one untimed warm-up burst per size, then W timed bursts per size (100 B and
// 4 KiB alternating, new clients each), each size's rate its W*N messages over their summed
// time; W*N 100 B messages span several of the collector's cycles (one per ~8,000 here), so
// the figure does not depend on where a cycle falls. Each figure is the median over R runs.
// Prints one line, the rates in wall time and in CPU time (the process's user + system time:
// the Go runtime's collector threads are part of the binding's cost):
//
//	GO burst_100B_msgs_per_s=<n> burst_4KiB_msgs_per_s=<n> burst_100B_cpu_msgs_per_s=<n>
//	   burst_4KiB_cpu_msgs_per_s=<n> runs=<r> burst=<n>
//
// Only the public API is used (Client.Send, Client.Receive, the Handler), as an application
// would. -cpuprofile writes a pprof CPU profile of the runs.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"syscall"
	"time"

	offrec "github.com/offrec/offrec/bindings/go"
)

var pattern = func() []byte {
	p := make([]byte, 8192)
	for i := range p {
		p[i] = byte('a' + (i*7+i/26)%26)
	}
	return p
}()

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchburst: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// putSeq writes seq as 8 decimal digits at the start of b (make_msg's "%08u").
func putSeq(b []byte, seq uint) {
	seq %= 100000000
	for i := 7; i >= 0; i-- {
		b[i] = byte('0' + seq%10)
		seq /= 10
	}
}

type wire struct {
	to   *offrec.Client
	from string
	text string
}

// pair is alice and bob, the FIFO between them, and what bob must receive next.
type pair struct {
	queue      []wire
	head       int
	size       int
	expect     []byte // scratch: the plaintext bob must receive next
	nextSeq    uint
	delivered  int
	alice, bob *offrec.Client
	aliceEnc   bool
	bobEnc     bool
}

// party is one client's Handler.
type party struct {
	p    *pair
	name string
	peer **offrec.Client // the receiver of what this party sends
}

func (h *party) Send(peer, text string) {
	h.p.queue = append(h.p.queue, wire{*h.peer, h.name, text})
}

func (h *party) Deliver(peer string, instance uint32, text []byte, sec offrec.Security) {
	if sec == offrec.SecurityPlaintext {
		panic(h.name + ": plaintext delivered")
	}
	if h.name != "bob" {
		return
	}
	p := h.p
	putSeq(p.expect, p.nextSeq)
	if !bytes.Equal(text, p.expect) {
		panic(fmt.Sprintf("bob: plaintext #%d differs from what was sent", p.nextSeq))
	}
	p.nextSeq++
	p.delivered++
}

func (h *party) StateChanged(peer string, instance uint32, st offrec.SessionState) {
	enc := st == offrec.StateEncryptedUnverified || st == offrec.StateEncryptedVerified
	if h.name == "alice" {
		h.p.aliceEnc = enc
	} else {
		h.p.bobEnc = enc
	}
}

func (h *party) Event(ev offrec.Event) {
	switch ev.Code {
	case offrec.EventMessageNotSent, offrec.EventUnreadable, offrec.EventMalformed,
		offrec.EventNotInPrivate, offrec.EventHandshakeFailed, offrec.EventPeerError,
		offrec.EventSMPFailed, offrec.EventSMPAborted, offrec.EventSMPCheated:
		panic(fmt.Sprintf("%s: unexpected event %d", h.name, ev.Code))
	}
}

func newPair(size int) *pair {
	p := &pair{size: size, expect: append([]byte(nil), pattern[:size]...)}
	var err error
	if p.alice, err = offrec.NewClient("alice", "bench", offrec.PolicyManual, &party{p, "alice", &p.bob}); err != nil {
		die("NewClient: %v", err)
	}
	if p.bob, err = offrec.NewClient("bob", "bench", offrec.PolicyManual, &party{p, "bob", &p.alice}); err != nil {
		die("NewClient: %v", err)
	}
	return p
}

func (p *pair) pump() {
	for p.head < len(p.queue) {
		w := p.queue[p.head]
		p.queue[p.head] = wire{}
		p.head++
		if err := w.to.Receive(w.from, w.text); err != nil {
			die("Receive: %v", err)
		}
	}
	p.queue, p.head = p.queue[:0], 0
}

func (p *pair) close() {
	_ = p.alice.Close()
	_ = p.bob.Close()
}

// processCPU is this process's user + system CPU time in seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		die("getrusage: %v", err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) * 1e-9
}

// burst returns the wall and CPU seconds of one burst: alice sends n, bob receiving them as
// they go.
func burst(n, size int) (float64, float64) {
	p := newPair(size)
	defer p.close()
	if err := p.alice.StartSession("bob"); err != nil {
		die("StartSession: %v", err)
	}
	p.pump()
	if !p.aliceEnc || !p.bobEnc {
		die("handshake did not reach encrypted on both sides")
	}
	// warm up with one reply so the sender is past its first ratchet step
	msg := append([]byte(nil), pattern[:size]...)
	putSeq(msg, 0)
	if _, err := p.bob.Send("alice", string(msg)); err != nil {
		die("Send: %v", err)
	}
	p.pump()
	t0, c0 := time.Now(), processCPU()
	// received as they go, in chunks like the C bench (equal memory effects)
	for start := 0; start < n; start += chunk {
		for i := start; i < n && i < start+chunk; i++ {
			putSeq(msg, uint(i))
			if _, err := p.alice.Send("bob", string(msg)); err != nil {
				die("Send: %v", err)
			}
		}
		p.pump()
	}
	t, c := time.Since(t0).Seconds(), processCPU()-c0
	if p.delivered != n {
		die("burst: delivered %d of %d", p.delivered, n)
	}
	return t, c
}

// run returns the 100 B and 4 KiB rates (messages per second, wall and CPU) of one run: one
// untimed warm-up burst per size, then w timed bursts per size, alternating.
func run(n, w int) (r100, c100, r4k, c4k float64) {
	sizes := [2]int{100, 4096}
	var wall, cpu [2]float64
	for _, size := range sizes {
		burst(n, size)
	}
	for i := 0; i < w; i++ {
		for k, size := range sizes {
			t, c := burst(n, size)
			wall[k] += t
			cpu[k] += c
		}
	}
	msgs := float64(n) * float64(w)
	return msgs / wall[0], msgs / cpu[0], msgs / wall[1], msgs / cpu[1]
}

// chunk is how many messages bob receives at a time (BURST_CHUNK in bench/bench.c).
const chunk = 64

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func main() {
	n := flag.Int("burst", 5000, "messages per burst")
	window := flag.Int("window", 8, "timed bursts per size in a run, after one warm-up burst per size")
	runs := flag.Int("runs", 5, "runs (the median is reported)")
	cpuprofile := flag.String("cpuprofile", "", "write a pprof CPU profile to this file")
	flag.Parse()
	if *n < 1 || *runs < 1 || *window < 1 {
		die("-burst, -window and -runs must be >= 1")
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			die("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			die("%v", err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	var r100, r4k, c100, c4k []float64
	for r := 0; r < *runs; r++ {
		w100, cpu100, w4k, cpu4k := run(*n, *window)
		r100, c100 = append(r100, w100), append(c100, cpu100)
		r4k, c4k = append(r4k, w4k), append(c4k, cpu4k)
	}
	fmt.Printf("GO burst_100B_msgs_per_s=%.0f burst_4KiB_msgs_per_s=%.0f burst_100B_cpu_msgs_per_s=%.0f "+
		"burst_4KiB_cpu_msgs_per_s=%.0f runs=%d burst=%d\n",
		median(r100), median(r4k), median(c100), median(c4k), *runs, *n)
}
