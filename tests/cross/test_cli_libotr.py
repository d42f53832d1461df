"""The `offrec chat` CLI talks OTR v3 to a libotr user: examples-c/party_libotr.c (libotr 4.1.1
alone, as Pidgin uses it) on the example relay. The CLI's transport is one wire message per TCP
line; a small bridge here puts that line stream onto the relay as the party "alice" (what a chat
gateway would do), so every message crosses the same relay the other cross tests use.

Asserted from both sides' output: the session is OTR v3 both ways (the CLI says classic OTR v3,
libotr reports otr_v3), fingerprints are shown as libotr shows them (5 groups of 8 hex digits)
and agree across the two sides, as does the session id; a message each way arrives byte-exact;
SMP succeeds both ways (with libotr's trust rule for questions); ending is seen by libotr.

Run by `make cross-tests` (needs target/release/offrec and target/examples/party_libotr).
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from driver import ROOT, Party, Relay

CLI = ROOT / "target" / "release" / "offrec"
FIVE_BY_EIGHT = r"[0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{8}"


class Bridge:
    """Accepts the CLI's TCP connection and joins it to the relay as `name`: each line the CLI
    sends goes to `peer`, each line from `peer` goes to the CLI."""

    def __init__(self, relay_port: int, name: str, peer: str) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.relay = socket.create_connection(("127.0.0.1", relay_port))
        self.relay.sendall(f"HELLO {name}\n".encode())
        self.name, self.peer = name, peer
        self.cli: socket.socket | None = None
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        self.cli, _ = self.server.accept()
        threading.Thread(target=self._pipe, args=(self.cli, self.relay, self._to_relay), daemon=True).start()
        self._pipe(self.relay, self.cli, self._to_cli)

    def _to_relay(self, line: bytes) -> bytes:
        return b"TO " + self.peer.encode() + b" " + line + b"\n"

    def _to_cli(self, line: bytes) -> bytes:
        prefix = b"FROM " + self.peer.encode() + b" "
        return line[len(prefix):] + b"\n" if line.startswith(prefix) else b""

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, convert) -> None:
        buffer = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    out = convert(line.rstrip(b"\r"))
                    if out:
                        dst.sendall(out)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        for s in (self.cli, self.relay, self.server):
            if s is not None:
                s.close()


class Cli:
    """A running `offrec chat` whose output is collected by a thread."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            [str(CLI), "chat", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.output = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while True:
            data = self.process.stdout.read1(4096)
            if not data:
                return
            with self.lock:
                self.output += data

    def text(self) -> str:
        with self.lock:
            return self.output.decode("utf-8", "replace")

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def wait_for(self, pattern: str, since: int = 0, timeout: float = 30.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text()[since:])
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"the CLI never printed /{pattern}/; output:\n{self.text()}")

    def mark(self) -> int:
        return len(self.text())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def world():
    """A relay, libotr's party "dave", and the CLI "alice" on the relay through the bridge."""
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: make build")
    made: list = []
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key"
        key.write_text("5a" * 32 + "\n")
        os.chmod(key, 0o600)
        store = Path(tmp) / "alice"
        made_id = subprocess.run(
            [str(CLI), "identity", "new", "--store", str(store), "--account", "alice", "--network", "relay",
             "--key-file", str(key)],
            capture_output=True, text=True,
        )
        assert made_id.returncode == 0, made_id.stderr
        relay = Relay()
        made.append(relay)
        dave = Party("libotr", "dave", relay, max_message_size=1000)
        made.append(dave)
        bridge = Bridge(relay.port, "alice", "dave")
        made.append(bridge)
        cli = Cli(["--store", str(store), "--key-file", str(key), "--tcp-connect", f"127.0.0.1:{bridge.port}",
                   "--peer", "dave", "--policy", "manual", "--max-message-size", "1000"])
        made.append(cli)
        cli.wait_for(r"chatting with dave")
        try:
            yield relay, dave, cli
        finally:
            for thing in reversed(made):
                thing.close()


def wire(relay: Relay, sender: str) -> list[str]:
    return [line.partition(": ")[2] for line in relay.wire if line.startswith(f"{sender} -> ")]


@pytest.mark.parametrize("libotr_starts", [False, True], ids=["cli-asks", "libotr-asks"])
def test_the_cli_chats_in_otr_v3_with_a_libotr_user(world, libotr_starts):
    relay, dave, cli = world
    if libotr_starts:
        dave.command("start alice")
    else:
        cli.type("/start")
    # Both sides say OTR v3.
    cli.wait_for(r"encrypted with classic OTR \(v3\)")
    cli.wait_for(r"the conversation with dave is now encrypted-unverified")
    assert dave.expect_state("alice", "encrypted_unverified")["protocol"] == "otr_v3"
    # the side that answered the query sent the D-H Commit
    assert any(t.startswith("?OTR:AAMC") for t in wire(relay, "alice" if libotr_starts else "dave"))
    assert not any(t.startswith("?OFR:") for t in wire(relay, "alice")), "no modern message to a libotr user"

    # Fingerprints as libotr shows them, the same on both sides; and the session id.
    at = cli.mark()
    cli.type("/fp")
    ours = cli.wait_for(rf"you, for OTR users \(as Pidgin shows it\): ({FIVE_BY_EIGHT})", at).group(1)
    theirs = cli.wait_for(rf"dave \(instance [0-9a-f]{{8}}, classic OTR v3, weaker\): ({FIVE_BY_EIGHT}) \(", at).group(1)
    session_id = cli.wait_for(r"session id: (\[[0-9a-f]{8}\] [0-9a-f]{8}|[0-9a-f]{8} \[[0-9a-f]{8}\])", at).group(1)
    assert theirs == dave.ready["otr_fingerprint"].upper()
    assert re.fullmatch(FIVE_BY_EIGHT, dave.ready["otr_fingerprint"].upper())
    new_key = dave.expect_event("new_fingerprint")
    assert ours.replace(" ", "").lower() == new_key["fingerprint"], "libotr sees the key the CLI shows"
    dave.command("protocol alice")
    [session] = dave.expect(lambda r: r["type"] == "protocol")["sessions"]
    assert session["protocol"] == "otr_v3" and session["their_otr_fingerprint"] == new_key["fingerprint"]
    words = session["otr_ssid"].split()
    bold = words[0] if session["bold"] == "first" else words[1]
    assert session_id.replace("[", "").replace("]", "").split() == words, "the same session id"
    assert f"[{bold}]" not in session_id, "each side shows the other half in bold"

    # A message each way, byte-exact (HTML characters and UTF-8 included).
    cli.type("hello dave <b>&amp;</b> \u00e9t\u00e9 \u2603")
    assert dave.expect_deliver("hello dave <b>&amp;</b> \u00e9t\u00e9 \u2603")["protocol"] == "otr_v3"
    dave.command("send alice hi alice, \u00fcber <i>libotr</i>")
    cli.wait_for(re.escape("[encrypted-unverified] <dave> hi alice, \u00fcber <i>libotr</i>"))
    assert any(t.startswith("?OTR:AAMD") for t in wire(relay, "alice")), "OTR v3 data from the CLI"
    for text in wire(relay, "alice") + wire(relay, "dave"):
        assert "hello dave" not in text and "hi alice" not in text, f"plaintext on the wire: {text}"

    # SMP the CLI starts without a question: both verify (libotr's rule).
    at = cli.mark()
    cli.type("/smp sesame")
    dave.expect_event("smp_asked_for_secret")
    dave.command("answer alice sesame")
    cli.wait_for(r"SMP succeeded: dave's fingerprint is now verified", at)
    dave.expect_event("smp_succeeded")
    dave.expect_state("alice", "encrypted_verified")
    cli.wait_for(r"\[encrypted-verified\] dave> ", at)
    # libotr asks with a question: only libotr (the asker) verifies.
    at = cli.mark()
    dave.command("smp alice moonbase Where is our base?")
    cli.wait_for(r"dave asks you to prove you share a secret\. Question: Where is our base\?", at)
    cli.type("/answer moonbase")
    cli.wait_for(r"you answered dave's question correctly: dave has verified YOU", at)
    assert dave.expect_event("smp_succeeded")

    # The end of the session: libotr sees it finished, the CLI is in plaintext.
    at = cli.mark()
    cli.type("/end")
    cli.wait_for(r"ended the encrypted session with dave", at)
    cli.wait_for(r"the conversation with dave is now in plaintext", at)
    dave.expect_state("alice", "finished")
    dave.command("end alice")
    dave.expect_state("alice", "plaintext")
    cli.type("/quit")
    assert cli.process.wait(timeout=30) == 0
    text = cli.text()
    for bad in ("malformed", "could not be read", "handshake with dave failed", "SMP failed", "WARNING"):
        assert bad not in text, f"the CLI printed {bad!r}:\n{text}"
    for report in dave.drain():
        assert report.get("name") not in ("smp_cheated", "malformed", "unreadable"), report
