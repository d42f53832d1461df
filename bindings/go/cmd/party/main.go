// Command party is the Go scripted party of the cross-language tests and the demo
// (tests/cross/PARTY_PROTOCOL.md): one offrec client talking to the others through the relay,
// scripted on standard input, reporting one JSON object per line on standard output.
//
//	party (--relay HOST:PORT | --irc HOST:PORT) --name NAME [--policy never|manual|opportunistic|always] [--max-message-size N]
//
// On IRC the party is a plain IRC client (NICK/USER, waits for 001, answers PING, joins
// #offrec) and wire texts travel as PRIVMSG lines.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	offrec "github.com/offrec/offrec/bindings/go"
)

// reporter writes one JSON object per line; lines are written whole and unbuffered.
type reporter struct {
	mu  sync.Mutex
	out *os.File
}

func (r *reporter) report(fields map[string]any) {
	b, err := json.Marshal(fields)
	if err != nil {
		fmt.Fprintf(os.Stderr, "party: %v\n", err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.out.Write(append(b, '\n'))
}

// party is the client's Handler: wire texts go to the relay, everything else is reported.
type party struct {
	rep     *reporter
	relay   net.Conn
	relayMu sync.Mutex
	maxSize int
	irc     bool
}

func (p *party) Send(peer, text string) {
	p.relayMu.Lock()
	format := "TO %s %s\n"
	if p.irc {
		format = "PRIVMSG %s :%s\r\n"
	}
	_, err := fmt.Fprintf(p.relay, format, peer, text)
	p.relayMu.Unlock()
	if err != nil {
		fmt.Fprintf(os.Stderr, "party: relay write: %v\n", err)
		os.Exit(1)
	}
	p.rep.report(map[string]any{"type": "sent", "peer": peer, "bytes": len(text)})
}

func (p *party) Deliver(peer string, _ uint32, text []byte, sec offrec.Security) {
	p.rep.report(map[string]any{"type": "deliver", "peer": peer, "text": string(text), "security": sec.String()})
}

func (p *party) StateChanged(peer string, _ uint32, state offrec.SessionState) {
	p.rep.report(map[string]any{"type": "state", "peer": peer, "state": state.String()})
}

func (p *party) Event(e offrec.Event) {
	name := e.Code.String()
	if strings.HasPrefix(name, "event_") {
		name = "unknown"
	}
	r := map[string]any{"type": "event", "peer": e.Peer, "code": uint32(e.Code), "name": name}
	if e.Code == offrec.EventSMPAskedForSecret && e.HasText {
		r["question"] = e.Text
	}
	if e.Code == offrec.EventExtraKeyReceived && e.Key != nil {
		r["usage"] = e.Usage
		r["key"] = hex.EncodeToString(e.Key)
	}
	p.rep.report(r)
}

func (p *party) MaxMessageSize(string) int { return p.maxSize }

func (p *party) reportError(command string, err error) {
	code := uint32(offrec.ResultInvalidArgument)
	msg := err.Error()
	if oe, ok := err.(*offrec.Error); ok {
		code = uint32(oe.Code)
		msg = oe.Code.Message()
	}
	p.rep.report(map[string]any{"type": "error", "command": command, "code": code, "message": msg})
}

// word splits off the next space-separated word.
func word(s string) (string, string) {
	s = strings.TrimLeft(s, " ")
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

var errArgs = &offrec.Error{Code: offrec.ResultInvalidArgument, Message: offrec.ResultInvalidArgument.Message()}

// command runs one stdin command; false means quit.
func (p *party) command(c *offrec.Client, line string) bool {
	cmd, rest := word(line)
	if cmd == "" {
		return true
	}
	var err error
	switch cmd {
	case "quit":
		return false
	case "tick":
		err = c.Tick()
	case "fingerprint":
		var fp offrec.Fingerprint
		if fp, err = c.Fingerprint(); err == nil {
			p.rep.report(map[string]any{"type": "fingerprint", "fingerprint": fp.Hex()})
		}
	default:
		peer, rest := word(rest)
		if peer == "" {
			err = errArgs
			break
		}
		switch cmd {
		case "start":
			err = c.StartSession(peer)
		case "send":
			_, err = c.Send(peer, rest)
		case "smp", "answer":
			secret, question := word(rest)
			if secret == "" {
				err = errArgs
			} else if cmd == "smp" {
				err = c.SMPStart(peer, 0, []byte(secret), question)
			} else {
				err = c.SMPRespond(peer, 0, []byte(secret))
			}
		case "abort":
			err = c.SMPAbort(peer, 0)
		case "esk":
			usageText, context := word(rest)
			usage, perr := strconv.ParseUint(usageText, 10, 32)
			if perr != nil {
				err = errArgs
				break
			}
			var key []byte
			if key, err = c.ExtraSymmetricKey(peer, 0, uint32(usage), []byte(context)); err == nil {
				p.rep.report(map[string]any{"type": "esk", "peer": peer, "usage": usage, "key": hex.EncodeToString(key)})
			}
		case "end":
			err = c.EndSession(peer, 0)
		default:
			err = errArgs
		}
	}
	if err != nil {
		p.reportError(cmd, err)
	}
	return true
}

type input struct {
	fromRelay bool
	line      string
	eof       bool
}

func readLines(r *bufio.Reader, fromRelay bool, ch chan<- input) {
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			ch <- input{fromRelay: fromRelay, line: strings.TrimRight(line, "\r\n")}
		}
		if err != nil {
			ch <- input{fromRelay: fromRelay, eof: true}
			return
		}
	}
}

// ircLine handles one line from the IRC server; it returns the sender and text of a private
// message to us ("" if the line is anything else).
func ircLine(conn net.Conn, me string, line string, registered *bool) (string, string) {
	prefix := ""
	if strings.HasPrefix(line, ":") {
		prefix, line = word(line[1:])
	}
	command, rest := word(line)
	switch {
	case command == "PING":
		fmt.Fprintf(conn, "PONG %s\r\n", rest)
	case command == "001" && !*registered:
		*registered = true
		fmt.Fprint(conn, "JOIN #offrec\r\n")
	case command == "433":
		fmt.Fprintf(os.Stderr, "party: the nickname %s is taken\n", me)
		os.Exit(1)
	case command == "PRIVMSG":
		target, text := word(rest)
		if target == me && strings.HasPrefix(text, ":") {
			nick, _, _ := strings.Cut(prefix, "!")
			return nick, text[1:]
		}
	}
	return "", ""
}

func main() {
	relayAddr := flag.String("relay", "", "relay address HOST:PORT")
	ircAddr := flag.String("irc", "", "IRC server HOST:PORT (instead of --relay)")
	name := flag.String("name", "", "our account name")
	policyName := flag.String("policy", "manual", "never|manual|opportunistic|always")
	maxSize := flag.Int("max-message-size", -1, "the transport's message size limit (0 = none; 380 on IRC)")
	flag.Parse()
	irc := *ircAddr != ""
	if irc {
		relayAddr = ircAddr
	}
	if *maxSize < 0 {
		*maxSize = 0
		if irc {
			*maxSize = 380 // IRC's 512-byte lines minus the sender prefix (PARTY_PROTOCOL.md)
		}
	}
	if *relayAddr == "" || *name == "" {
		fmt.Fprintln(os.Stderr, "usage: party (--relay|--irc) HOST:PORT --name NAME [--policy manual] [--max-message-size N]")
		os.Exit(2)
	}
	policy, err := offrec.ParsePolicy(*policyName)
	if err != nil {
		fmt.Fprintln(os.Stderr, "party:", err)
		os.Exit(2)
	}
	conn, err := net.Dial("tcp", *relayAddr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "party: cannot connect to the relay at %s: %v\n", *relayAddr, err)
		os.Exit(1)
	}
	defer conn.Close()
	netReader := bufio.NewReaderSize(conn, 1<<20)
	if irc {
		fmt.Fprintf(conn, "NICK %s\r\nUSER %s 0 * :offrec party\r\n", *name, *name)
		registered := false
		for !registered {
			line, err := netReader.ReadString('\n')
			if err != nil {
				fmt.Fprintln(os.Stderr, "party: the IRC server closed the connection:", err)
				os.Exit(1)
			}
			ircLine(conn, *name, strings.TrimRight(line, "\r\n"), &registered)
		}
	} else if _, err := fmt.Fprintf(conn, "HELLO %s\n", *name); err != nil {
		fmt.Fprintln(os.Stderr, "party:", err)
		os.Exit(1)
	}

	p := &party{rep: &reporter{out: os.Stdout}, relay: conn, maxSize: *maxSize, irc: irc}
	network := "relay"
	if irc {
		network = "irc"
	}
	client, err := offrec.NewClient(*name, network, policy, p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "party: cannot create the client:", err)
		os.Exit(1)
	}
	defer client.Close()
	fp, err := client.Fingerprint()
	if err != nil {
		fmt.Fprintln(os.Stderr, "party:", err)
		os.Exit(1)
	}
	p.rep.report(map[string]any{"type": "ready", "name": *name, "fingerprint": fp.Hex()})

	// One goroutine handles both inputs in arrival order, as the C party does with poll.
	ch := make(chan input, 64)
	go readLines(bufio.NewReaderSize(os.Stdin, 1<<16), false, ch)
	go readLines(netReader, true, ch)
	registered := true
	for in := range ch {
		if in.eof {
			return // stdin closed or the relay went away
		}
		if !in.fromRelay {
			if !p.command(client, in.line) {
				return
			}
			continue
		}
		var from, text string
		if irc {
			from, text = ircLine(conn, *name, in.line, &registered)
		} else {
			var verb, rest string
			verb, rest = word(in.line)
			if verb == "FROM" {
				from, text = word(rest)
			}
		}
		if from == "" {
			continue
		}
		if err := client.Receive(from, text); err != nil {
			p.reportError("receive", err)
		}
	}
}
