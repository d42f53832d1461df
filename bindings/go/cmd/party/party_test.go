package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// relay is a tiny in-test version of examples-c/relay.py: HELLO, then TO -> FROM.
type relay struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[string]net.Conn
}

func startRelay(t *testing.T) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, conns: map[string]net.Conn{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *relay) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 1<<20)
	name := ""
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\n")
		verb, rest, _ := strings.Cut(line, " ")
		switch verb {
		case "HELLO":
			name = rest
			r.mu.Lock()
			r.conns[name] = c
			r.mu.Unlock()
		case "TO":
			peer, text, _ := strings.Cut(rest, " ")
			r.mu.Lock()
			dst := r.conns[peer]
			if dst != nil {
				fmt.Fprintf(dst, "FROM %s %s\n", name, text)
			}
			r.mu.Unlock()
		}
	}
}

type proc struct {
	t       *testing.T
	name    string
	stdin   io.WriteCloser
	reports chan map[string]any
	seen    []map[string]any
}

func startParty(t *testing.T, bin string, r *relay, name string, extra ...string) *proc {
	args := append([]string{"--relay", r.ln.Addr().String(), "--name", name}, extra...)
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, stdin: stdin, reports: make(chan map[string]any, 1024)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"type": "bad-json", "line": sc.Text()}
			}
			p.reports <- m
		}
		close(p.reports)
	}()
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("party %s: %v; stderr: %s", name, err, stderr.String())
			}
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("party %s did not exit", name)
		}
	})
	return p
}

func (p *proc) do(line string) {
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatal(err)
	}
}

// expect waits for a report whose fields include all of want.
func (p *proc) expect(want map[string]any) map[string]any {
	p.t.Helper()
	for _, m := range p.seen {
		if matches(m, want) {
			return m
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-p.reports:
			if !ok {
				p.t.Fatalf("%s exited; wanted %v; saw %v", p.name, want, p.seen)
			}
			p.seen = append(p.seen, m)
			if m["type"] == "error" && want["type"] != "error" {
				p.t.Fatalf("%s reported %v", p.name, m)
			}
			if matches(m, want) {
				return m
			}
		case <-deadline:
			p.t.Fatalf("%s: no %v within 10 s; saw %v", p.name, want, p.seen)
		}
	}
}

func matches(m, want map[string]any) bool {
	for k, v := range want {
		if fmt.Sprint(m[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

func TestPartyOverRelay(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "party")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	r := startRelay(t)
	a := startParty(t, bin, r, "alice", "--max-message-size", "120")
	b := startParty(t, bin, r, "bob", "--policy", "manual", "--max-message-size", "120")
	a.expect(map[string]any{"type": "ready", "name": "alice"})
	b.expect(map[string]any{"type": "ready", "name": "bob"})
	time.Sleep(100 * time.Millisecond) // both HELLOs reach the relay

	a.do("start bob")
	a.expect(map[string]any{"type": "state", "peer": "bob", "state": "encrypted_unverified"})
	b.expect(map[string]any{"type": "state", "peer": "alice", "state": "encrypted_unverified"})

	long := strings.Repeat("a long line that needs fragments ", 10)
	a.do("send bob " + long)
	b.expect(map[string]any{"type": "deliver", "peer": "alice", "text": long, "security": "encrypted_unverified"})
	for _, m := range a.seen {
		if m["type"] == "sent" && m["bytes"].(float64) > 120 {
			t.Fatalf("sent %v bytes over the limit", m["bytes"])
		}
	}

	a.do("smp bob blue what colour?")
	b.expect(map[string]any{"type": "event", "name": "smp_asked_for_secret", "question": "what colour?"})
	b.do("answer alice blue")
	a.expect(map[string]any{"type": "event", "name": "smp_succeeded", "code": 25})
	// With a question only the asker verifies; the answerer is told it was verified.
	b.expect(map[string]any{"type": "event", "name": "smp_verified_by_peer", "code": 31})
	a.expect(map[string]any{"type": "state", "peer": "bob", "state": "encrypted_verified"})

	a.do("esk bob 7 file.txt")
	mine := a.expect(map[string]any{"type": "esk", "peer": "bob", "usage": 7})
	theirs := b.expect(map[string]any{"type": "event", "name": "extra_key_received", "usage": 7})
	if mine["key"] != theirs["key"] || len(mine["key"].(string)) != 64 {
		t.Fatalf("keys differ: %v %v", mine, theirs)
	}

	b.do("bogus alice")
	b.expect(map[string]any{"type": "error", "command": "bogus", "code": 2})
	b.do("abort carol")
	b.expect(map[string]any{"type": "error", "command": "abort", "code": 100})
	b.do("fingerprint")
	b.expect(map[string]any{"type": "fingerprint"})

	a.do("end bob")
	b.expect(map[string]any{"type": "state", "peer": "alice", "state": "finished"})
	a.do("quit")
	b.do("quit")
}
