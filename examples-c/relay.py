#!/usr/bin/env python3
"""A tiny chat relay for the offrec examples and cross-language tests (no server to install).

Parties connect over TCP, say `HELLO <name>`, then send `TO <peer> <text>` lines; the relay
forwards each as `FROM <sender> <text>` to the party of that name. It is a stand-in for a chat
network: it sees only what a chat server would see, so everything it prints is what crossed
"the wire". Lines longer than --max-line bytes are dropped, like a network with a size limit.

    relay.py [--port 0] [--max-line 4096] [--hold-every N] [--strip-modern-offer] [--quiet]

--hold-every N holds back every N-th encrypted message to a party and delivers it right after
the next message to that party (or after 0.3 s if none comes), so delivery is out of order.

--strip-modern-offer plays a man in the middle who wants two offrec users on OTR v3: it
removes offrec's offer (` ?OFRv1?`) from every OTR query line (`?OTRv23? ?OFRv1? ...` arrives
as `?OTRv23? ...`). Only query lines: the parties' manual policy sends no whitespace tags.

Prints `LISTENING <port>` first, then `<from> -> <to>: <text>` for every forwarded line (as
forwarded), and `# <note>` for what the relay itself did to a line (stripping).
"""
import argparse
import re
import selectors
import socket
import sys
import time


# An OTR query (`?OTR?`, `?OTRv23?`) at the start of a line, and offrec's offer inside one.
OTR_QUERY = re.compile(r"\s*\?OTR(\?|v[0-9]*\?)")
MODERN_OFFER = re.compile(r" ?\?OFRv[0-9]+\?")


class Relay:
    def __init__(self, max_line: int, quiet: bool, hold_every: int = 0, strip_modern_offer: bool = False) -> None:
        self.max_line = max_line
        self.quiet = quiet
        self.hold_every = hold_every
        self.strip_modern_offer = strip_modern_offer
        self.counts: dict[str, int] = {}
        self.held: dict[str, tuple[bytes, float]] = {}
        # Lines for a party that has not said HELLO yet (it may be a moment behind its peer).
        self.waiting: dict[str, list[bytes]] = {}
        self.selector = selectors.DefaultSelector()
        self.names: dict[socket.socket, str] = {}
        self.by_name: dict[str, socket.socket] = {}
        self.buffers: dict[socket.socket, bytes] = {}

    def log(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def accept(self, server: socket.socket) -> None:
        conn, _ = server.accept()
        conn.setblocking(True)
        self.buffers[conn] = b""
        self.selector.register(conn, selectors.EVENT_READ, self.read)

    def drop(self, conn: socket.socket) -> None:
        self.selector.unregister(conn)
        name = self.names.pop(conn, None)
        if name is not None and self.by_name.get(name) is conn:
            del self.by_name[name]
        self.buffers.pop(conn, None)
        conn.close()

    def read(self, conn: socket.socket) -> None:
        data = conn.recv(65536)
        if not data:
            self.drop(conn)
            return
        buffer = self.buffers[conn] + data
        *lines, rest = buffer.split(b"\n")
        if len(rest) > self.max_line + 64:
            print(f"relay: dropping an over-long line from {self.names.get(conn, '?')}", file=sys.stderr)
            rest = b""
        self.buffers[conn] = rest
        for line in lines:
            self.handle(conn, line.decode("utf-8", "replace").rstrip("\r"))

    def handle(self, conn: socket.socket, line: str) -> None:
        if conn not in self.names:
            command, _, name = line.partition(" ")
            if command != "HELLO" or not name:
                print(f"relay: expected HELLO, got {line[:40]!r}", file=sys.stderr)
                return
            self.names[conn] = name
            self.by_name[name] = conn
            for line_out in self.waiting.pop(name, []):
                conn.sendall(line_out)
            return
        command, _, rest = line.partition(" ")
        peer, _, text = rest.partition(" ")
        if command != "TO" or not peer:
            print(f"relay: bad line {line[:40]!r}", file=sys.stderr)
            return
        sender = self.names[conn]
        if len(text.encode()) > self.max_line:
            print(f"relay: {sender} -> {peer}: dropped a {len(text)}-byte line (limit {self.max_line})", file=sys.stderr)
            return
        if self.strip_modern_offer and OTR_QUERY.match(text):
            stripped = MODERN_OFFER.sub("", text)
            if stripped != text:
                removed = " ".join(m.strip() for m in MODERN_OFFER.findall(text))
                self.log(f"# removed {removed} from {sender}'s query to {peer}")
                text = stripped
        self.log(f"{sender} -> {peer}: {text}")
        target = self.by_name.get(peer)
        line_out = f"FROM {sender} {text}\n".encode()
        if target is None:
            waiting = self.waiting.setdefault(peer, [])
            if len(waiting) < 1000:
                waiting.append(line_out)
            return
        if self.hold_every and text.startswith("?OFR:"):
            count = self.counts.get(peer, 0) + 1
            self.counts[peer] = count
            if count % self.hold_every == 0 and peer not in self.held:
                self.held[peer] = (line_out, time.monotonic())
                print(f"relay: holding a message to {peer} back (out-of-order delivery)", file=sys.stderr)
                return
        try:
            target.sendall(line_out)
            held = self.held.pop(peer, None)
            if held is not None:
                target.sendall(held[0])
        except OSError:
            self.drop(target)

    def serve(self, port: int) -> None:
        server = socket.create_server(("127.0.0.1", port))
        self.selector.register(server, selectors.EVENT_READ, self.accept)
        print(f"LISTENING {server.getsockname()[1]}", flush=True)
        while True:
            for key, _ in self.selector.select(timeout=0.1):
                key.data(key.fileobj)
            self.release_stale()

    def release_stale(self) -> None:
        """A held message is delivered late, never lost."""
        now = time.monotonic()
        for peer, (line, since) in list(self.held.items()):
            target = self.by_name.get(peer)
            if now - since > 0.3 and target is not None:
                del self.held[peer]
                try:
                    target.sendall(line)
                except OSError:
                    self.drop(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-line", type=int, default=4096)
    parser.add_argument("--hold-every", type=int, default=0)
    parser.add_argument("--strip-modern-offer", action="store_true",
                        help="remove ' ?OFRv1?' from OTR query lines (a downgrading man in the middle)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    try:
        Relay(args.max_line, args.quiet, args.hold_every, args.strip_modern_offer).serve(args.port)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
