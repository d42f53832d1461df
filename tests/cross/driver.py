"""Drives scripted offrec parties (C, Python, Go) over the example relay.

Used by the cross-language tests and by `make demo`. See PARTY_PROTOCOL.md for what a party
reads and prints. Standard library only.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parents[2]
RELAY = ROOT / "examples-c" / "relay.py"


def party_command(language: str) -> list[str]:
    """The command line that starts a party written in `language`."""
    if language == "c":
        return [str(ROOT / "target" / "examples" / "party")]
    if language == "libotr":  # libotr 4.1.1 alone, no offrec: a Pidgin-like OTR v2/v3 client
        return [str(ROOT / "target" / "examples" / "party_libotr")]
    if language == "python":
        return [sys.executable, str(ROOT / "bindings" / "python" / "examples" / "party.py")]
    if language == "go":
        return [str(ROOT / "target" / "go-party")]
    raise ValueError(f"unknown language {language!r}")


def party_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OFFREC_LIB", str(ROOT / "target" / "release" / "liboffrec.so"))
    env["PYTHONPATH"] = str(ROOT / "bindings" / "python") + os.pathsep + env.get("PYTHONPATH", "")
    return env


class Relay:
    """The example relay on a free port; `wire` collects every forwarded line, `notes` what the
    relay itself did (with `strip_modern_offer`: which queries lost offrec's offer)."""

    def __init__(self, max_line: int = 4096, hold_every: int = 0, strip_modern_offer: bool = False) -> None:
        command = [sys.executable, str(RELAY), "--port", "0", "--max-line", str(max_line), "--hold-every", str(hold_every)]
        if strip_modern_offer:
            command.append("--strip-modern-offer")
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().split()
        if len(first) != 2 or first[0] != "LISTENING":
            raise RuntimeError(f"relay did not start: {first}")
        self.port = int(first[1])
        self.wire: list[str] = []
        self.notes: list[str] = []
        self.on_wire: Optional[Callable[[str], None]] = None
        self.on_note: Optional[Callable[[str], None]] = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            if line.startswith("# "):
                self.notes.append(line[2:])
                if self.on_note is not None:
                    self.on_note(line[2:])
                continue
            self.wire.append(line)
            if self.on_wire is not None:
                self.on_wire(line)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


class IrcServer:
    """A private ngircd on a free port (the real IRC server of `make demo-irc`)."""

    BINARIES = ["/usr/sbin/ngircd", "/usr/bin/ngircd", "/usr/local/sbin/ngircd"]

    def __init__(self) -> None:
        binary = next((b for b in self.BINARIES if os.path.exists(b)), None)
        if binary is None:
            raise RuntimeError("ngircd is not installed (apt-get install -y ngircd)")
        import socket
        import tempfile

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = tempfile.TemporaryDirectory(prefix="offrec-ngircd-")
        config = Path(self.dir.name) / "ngircd.conf"
        config.write_text(
            "[Global]\nName = irc.offrec.test\nInfo = offrec demo server\nListen = 127.0.0.1\n"
            f"Ports = {self.port}\nMotdPhrase = offrec demo\n[Limits]\nMaxNickLength = 30\n"
            # No flood penalties: they only make lines wait (7 s of each IRC test, half a minute
            # of the IRC demo); what the tests check (IRC-sized fragments, their reassembly)
            # does not depend on the pace.
            "MaxPenaltyTime = 0\n"
            "[Options]\nPAM = no\nIdent = no\nDNS = no\n"
        )
        self.process = subprocess.Popen([binary, "-n", "-f", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("ngircd did not start")
                time.sleep(0.05)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.dir.cleanup()


class Party:
    """One scripted party process, on the relay or (with `irc`) on a real IRC server."""

    def __init__(self, language: str, name: str, relay: Optional[Relay] = None, policy: str = "manual",
                 max_message_size: int = 0, on_report: Optional[Callable[["Party", dict], None]] = None,
                 irc: Optional[IrcServer] = None) -> None:
        self.language = language
        self.name = name
        self.on_report = on_report
        if irc is not None:
            transport = ["--irc", f"127.0.0.1:{irc.port}"]
        else:
            assert relay is not None
            transport = ["--relay", f"127.0.0.1:{relay.port}"]
        command = party_command(language) + transport + ["--name", name, "--policy", policy]
        if max_message_size or irc is None:
            command += ["--max-message-size", str(max_message_size)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=party_env()
        )
        self.reports: "queue.Queue[dict]" = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self.expect(lambda r: r["type"] == "ready", what="ready")
        self.fingerprint = self.ready["fingerprint"]

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                report = json.loads(line)
            except json.JSONDecodeError:
                report = {"type": "garbage", "line": line}
            self.reports.put(report)

    def command(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def expect(self, predicate: Callable[[dict], bool], what: str = "report", timeout: float = 20.0) -> dict:
        """Waits for a report matching `predicate`; earlier ones are kept in `seen`."""
        for report in self.seen:
            if predicate(report) and not report.get("_used"):
                report["_used"] = True
                return report
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                stderr = ""
                raise AssertionError(f"{self.language} party {self.name}: no {what} within {timeout}s; saw {self.seen[-8:]}{stderr}")
            try:
                report = self.reports.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(report)
            if self.on_report is not None:
                self.on_report(self, report)
            if report.get("type") == "error":
                raise AssertionError(f"{self.language} party {self.name}: {report}")
            if predicate(report):
                report["_used"] = True
                return report

    def drain(self) -> list[dict]:
        """Moves every report printed so far into `seen` and returns `seen`."""
        while True:
            try:
                report = self.reports.get_nowait()
            except queue.Empty:
                return self.seen
            self.seen.append(report)
            if self.on_report is not None:
                self.on_report(self, report)

    def expect_deliver(self, text: str, security: str = "encrypted_unverified") -> dict:
        report = self.expect(lambda r: r["type"] == "deliver" and r["text"] == text, what=f"delivery of {text!r}")
        assert report["security"] == security, report
        return report

    def expect_state(self, peer: str, state: str) -> dict:
        return self.expect(lambda r: r["type"] == "state" and r["peer"] == peer and r["state"] == state,
                           what=f"state {state} with {peer}")

    def expect_event(self, name: str) -> dict:
        return self.expect(lambda r: r["type"] == "event" and r["name"] == name, what=f"event {name}")

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.command("quit")
                self.process.wait(timeout=5)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
