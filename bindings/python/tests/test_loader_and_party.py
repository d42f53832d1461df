"""Library loading errors (in fresh interpreters) and the scripted party over a relay."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List

import pytest

from conftest import PKG_ROOT, REPO_ROOT

PARTY = PKG_ROOT / "examples" / "party.py"


def _python(code: str, env: Dict[str, str]) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "OFFREC_LIB"}
    full.update(env)
    full["PYTHONPATH"] = str(PKG_ROOT)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=30)


def test_bad_override_is_an_error_naming_it() -> None:
    r = _python("import offrec; offrec.version()", {"OFFREC_LIB": "/nonexistent/liboffrec.so"})
    assert r.returncode != 0
    assert "LibraryNotFoundError" in r.stderr and "/nonexistent/liboffrec.so" in r.stderr


def test_import_works_without_library_and_error_lists_what_was_tried() -> None:
    if (PKG_ROOT / "offrec" / "_native" / "lib_native.so").exists():
        pytest.skip("an editable install left a bundled library in the source tree")
    r = _python(
        "import offrec\n"
        "try:\n    offrec.version()\nexcept offrec.LibraryNotFoundError as e:\n    print(e)\n"
        "else:\n    print('LOADED', offrec.loaded_from())\n",
        {},
    )
    assert r.returncode == 0, r.stderr
    if r.stdout.startswith("LOADED"):
        pytest.skip(f"a system liboffrec is installed: {r.stdout.strip()}")
    assert "OFFREC_LIB: not set" in r.stdout and "liboffrec.so" in r.stdout and "not present" in r.stdout


# --- the party, against the project's relay or a minimal one --------------------------------


class MiniRelay(threading.Thread):
    """HELLO / TO / FROM, as tests/cross/PARTY_PROTOCOL.md describes (no size limit)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.by_name: Dict[str, socket.socket] = {}
        self.lock = threading.Lock()

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn: socket.socket) -> None:
        name = None
        for raw in conn.makefile("rb"):
            line = raw.decode().rstrip("\n")
            cmd, _, rest = line.partition(" ")
            if name is None and cmd == "HELLO":
                name = rest
                with self.lock:
                    self.by_name[name] = conn
            elif cmd == "TO":
                peer, _, text = rest.partition(" ")
                with self.lock:
                    target = self.by_name.get(peer)
                if target is not None:
                    target.sendall(f"FROM {name} {text}\n".encode())


class PartyProc:
    def __init__(self, name: str, port: int, *extra: str) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(PKG_ROOT)
        self.proc = subprocess.Popen(
            [sys.executable, str(PARTY), "--relay", f"127.0.0.1:{port}", "--name", name, *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )
        self.reports: "queue.Queue[dict]" = queue.Queue()
        self.seen: List[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.reports.put(json.loads(line))

    def cmd(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def expect(self, **want: object) -> dict:
        for r in self.seen:
            if all(r.get(k) == v for k, v in want.items()):
                self.seen.remove(r)
                return r
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                r = self.reports.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if all(r.get(k) == v for k, v in want.items()):
                return r
            self.seen.append(r)
        raise AssertionError(f"no report {want}; saw {self.seen}")

    def quit(self) -> int:
        self.cmd("quit")
        return self.proc.wait(timeout=10)


def test_party_over_relay() -> None:
    relay_script = REPO_ROOT / "examples-c" / "relay.py"
    proc = None
    if relay_script.exists():
        proc = subprocess.Popen([sys.executable, str(relay_script), "--port", "0", "--quiet"],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[1])
    else:
        relay = MiniRelay()
        relay.start()
        port = relay.port
    try:
        alice = PartyProc("alice", port)
        bob = PartyProc("bob", port, "--max-message-size", "200")
        ready_a = alice.expect(type="ready")
        ready_b = bob.expect(type="ready")
        assert len(ready_a["fingerprint"]) == 64 and ready_a["name"] == "alice"
        time.sleep(0.2)  # both HELLOs reach the relay
        alice.cmd("start bob")
        alice.expect(type="state", peer="bob", state="encrypted_unverified")
        bob.expect(type="state", peer="alice", state="encrypted_unverified")
        alice.cmd("send bob hello there bob")
        bob.expect(type="deliver", peer="alice", text="hello there bob", security="encrypted_unverified")
        bob.cmd("send alice " + "long reply " * 40)
        alice.expect(type="deliver", text="long reply " * 40)
        alice.cmd("smp bob blue what colour?")
        asked = bob.expect(type="event", name="smp_asked_for_secret")
        assert asked["question"] == "what colour?" and asked["code"] == 23
        bob.cmd("answer alice blue")
        alice.expect(type="event", name="smp_succeeded")
        alice.expect(type="state", peer="bob", state="encrypted_verified")
        # The answerer of a question is told it was verified; its own trust is unchanged.
        assert bob.expect(type="event", name="smp_verified_by_peer")["code"] == 31
        alice.cmd("esk bob 7 file.txt")
        mine = alice.expect(type="esk", peer="bob", usage=7)
        theirs = bob.expect(type="event", name="extra_key_received")
        assert theirs["key"] == mine["key"] and theirs["usage"] == 7
        alice.cmd("answer bob nothing-asked")
        err = alice.expect(type="error", command="answer")
        assert err["code"] == 111 and err["message"]
        alice.cmd("frobnicate bob")
        assert alice.expect(type="error", command="frobnicate")["code"] == 2
        alice.cmd("fingerprint")
        assert alice.expect(type="fingerprint")["fingerprint"] == ready_a["fingerprint"]
        alice.cmd("tick")
        alice.cmd("end bob")
        bob.expect(type="state", peer="alice", state="finished")
        sent = bob.expect(type="sent", peer="alice")
        assert sent["bytes"] <= 200
        assert alice.quit() == 0 and bob.quit() == 0
        assert ready_b["fingerprint"] != ready_a["fingerprint"]
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
