#!/usr/bin/env python3
"""The Python scripted party of tests/cross/PARTY_PROTOCOL.md.

    party.py (--relay HOST:PORT | --irc HOST:PORT) --name NAME [--policy never|manual|opportunistic|always]
             [--max-message-size N]

Reads commands on stdin, talks to the other parties through the relay, and reports one JSON
object per line on stdout. Single-threaded: one select loop over stdin and the relay socket.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import sys
from pathlib import Path
from typing import Any, Callable, Optional

try:
    import offrec
except ImportError:  # run from a source checkout without PYTHONPATH
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import offrec

from offrec import Event, EventCode, OffrecError, Policy, Result, Security, SessionState

POLICIES = {
    "never": Policy.NEVER,
    "manual": Policy.MANUAL,
    "opportunistic": Policy.OPPORTUNISTIC,
    "always": Policy.ALWAYS,
}
LINE_CAP = 1 << 20


def report(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def state_name(value: int) -> str:
    try:
        return SessionState(value).name.lower()
    except ValueError:
        return "?"


class Party(offrec.Client):
    def __init__(self, name: str, policy: int, sock: socket.socket, max_size: int, irc: bool = False) -> None:
        self.sock = sock
        self.max_size = max_size
        self.irc = irc
        super().__init__(name, "irc" if irc else "relay", policy)

    def on_send(self, peer: str, text: str) -> None:
        line = f"PRIVMSG {peer} :{text}\r\n" if self.irc else f"TO {peer} {text}\n"
        self.sock.sendall(line.encode("utf-8"))
        report({"type": "sent", "peer": peer, "bytes": len(text.encode("utf-8"))})

    def on_deliver(self, peer: str, text: str, security: Security, instance: int) -> None:
        try:
            sec = Security(security).name.lower()
        except ValueError:
            sec = "?"
        shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        report({"type": "deliver", "peer": peer, "text": shown, "security": sec})

    def on_state_changed(self, peer: str, state: SessionState, instance: int) -> None:
        report({"type": "state", "peer": peer, "state": state_name(state)})

    def on_event(self, event: Event) -> None:
        name = event.code.name.lower() if isinstance(event.code, EventCode) else "unknown"
        out: dict[str, Any] = {"type": "event", "peer": event.peer, "code": int(event.code), "name": name}
        if event.code == EventCode.SMP_ASKED_FOR_SECRET and event.text is not None:
            out["question"] = event.text
        if event.code == EventCode.EXTRA_KEY_RECEIVED and event.key is not None:
            out["usage"] = event.usage
            out["key"] = bytes(event.key).hex()
        report(out)

    def max_message_size(self, peer: str) -> int:
        return self.max_size


class BadCommand(Exception):
    pass


def run_command(party: Party, line: str) -> bool:
    """Runs one command; False means quit."""
    cmd, _, rest = line.partition(" ")
    if not cmd:
        return True
    if cmd == "quit":
        return False
    try:
        if cmd == "tick":
            party.tick()
        elif cmd == "fingerprint":
            report({"type": "fingerprint", "fingerprint": party.fingerprint.hex()})
        else:
            peer, _, rest = rest.partition(" ")
            if not peer:
                raise BadCommand
            if cmd == "start":
                party.start_session(peer)
            elif cmd == "send":
                party.send(peer, rest)
            elif cmd in ("smp", "answer"):
                secret, _, question = rest.partition(" ")
                if not secret:
                    raise BadCommand
                if cmd == "smp":
                    party.smp_start(peer, secret, question or None)
                else:
                    party.smp_respond(peer, secret)
            elif cmd == "abort":
                party.smp_abort(peer)
            elif cmd == "esk":
                usage_text, _, context = rest.partition(" ")
                try:
                    usage = int(usage_text)
                except ValueError:
                    raise BadCommand from None
                key = party.extra_symmetric_key(peer, usage, context.encode("utf-8"))
                report({"type": "esk", "peer": peer, "usage": usage, "key": key.hex()})
            elif cmd == "end":
                party.end_session(peer)
            else:
                raise BadCommand
    except BadCommand:
        code = int(Result.INVALID_ARGUMENT)
        report({"type": "error", "command": cmd, "code": code, "message": offrec.result_message(code)})
    except OffrecError as e:
        report({"type": "error", "command": cmd, "code": e.code, "message": e.message})
    return True


def relay_line(party: Party, line: str) -> bool:
    cmd, _, rest = line.partition(" ")
    sender, _, text = rest.partition(" ")
    if cmd != "FROM" or not sender:
        return True
    try:
        party.receive(sender, text)
    except OffrecError as e:
        report({"type": "error", "command": "receive", "code": e.code, "message": e.message})
    return True


class IrcSession:
    """The IRC side of a party: registration, PING, and private messages addressed to us."""

    def __init__(self, name: str, sock: socket.socket) -> None:
        self.name = name
        self.sock = sock
        self.party: Optional[Party] = None
        self.registered = False

    def line(self, line: str) -> bool:
        prefix = ""
        if line.startswith(":"):
            prefix, _, line = line[1:].partition(" ")
        command, _, rest = line.partition(" ")
        if command == "PING":
            self.sock.sendall(f"PONG {rest}\r\n".encode("utf-8"))
        elif command == "001" and not self.registered:
            self.registered = True
            self.sock.sendall(b"JOIN #offrec\r\n")
        elif command == "433":
            print(f"party: the nickname {self.name} is taken", file=sys.stderr)
            return False
        elif command == "PRIVMSG" and self.party is not None:
            target, _, text = rest.partition(" ")
            if target == self.name and text.startswith(":"):
                relay_line(self.party, f"FROM {prefix.split('!', 1)[0]} {text[1:]}")
        return True


class LineReader:
    def __init__(self, read: Callable[[], bytes], handle: Callable[[str], bool]) -> None:
        self.read = read
        self.handle = handle
        self.buffer = b""

    def pump(self) -> bool:
        """Reads once and handles complete lines; False on end of input or quit."""
        data = self.read()
        if not data:
            return False
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        if len(self.buffer) > LINE_CAP:
            print("party: line too long; dropped", file=sys.stderr)
            self.buffer = b""
        for raw in lines:
            if not self.handle(raw.decode("utf-8", "replace").rstrip("\r")):
                return False
        return True


def parse_relay(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="offrec scripted party (Python)")
    transport = parser.add_mutually_exclusive_group(required=True)
    transport.add_argument("--relay", type=parse_relay, metavar="HOST:PORT")
    transport.add_argument("--irc", type=parse_relay, metavar="HOST:PORT", help="a real IRC server")
    parser.add_argument("--name", required=True)
    parser.add_argument("--policy", choices=sorted(POLICIES), default="manual")
    parser.add_argument("--max-message-size", type=int, default=None)
    args = parser.parse_args(argv)
    address = args.irc or args.relay
    # IRC lines are 512 bytes with the server's sender prefix: 380 leaves room (PARTY_PROTOCOL.md).
    max_size = args.max_message_size if args.max_message_size is not None else (380 if args.irc else 0)

    try:
        sock = socket.create_connection(address)
    except OSError as e:
        print(f"party: cannot connect to {address[0]}:{address[1]}: {e}", file=sys.stderr)
        return 1
    irc = IrcSession(args.name, sock) if args.irc else None
    if irc is not None:
        sock.sendall(f"NICK {args.name}\r\nUSER {args.name} 0 * :offrec party\r\n".encode("utf-8"))
        registration = LineReader(lambda: sock.recv(65536), irc.line)
        while not irc.registered:
            if not registration.pump():
                print("party: the IRC server closed the connection", file=sys.stderr)
                return 1
    else:
        sock.sendall(f"HELLO {args.name}\n".encode("utf-8"))

    with Party(args.name, POLICIES[args.policy], sock, max_size, irc=irc is not None) as party:
        report({"type": "ready", "name": args.name, "fingerprint": party.fingerprint.hex()})
        stdin = LineReader(lambda: os.read(sys.stdin.fileno(), 65536), lambda l: run_command(party, l))
        if irc is not None:
            irc.party = party
            net = registration
        else:
            net = LineReader(lambda: sock.recv(65536), lambda l: relay_line(party, l))
        sel = selectors.DefaultSelector()
        sel.register(sys.stdin.fileno(), selectors.EVENT_READ, stdin)
        sel.register(sock, selectors.EVENT_READ, net)
        running = True
        while running:
            for key, _ in sel.select(timeout=1.0):
                if not key.data.pump():
                    running = False
                    break
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
