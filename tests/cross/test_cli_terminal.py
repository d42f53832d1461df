"""The `offrec` CLI on a real terminal (a pseudo-terminal it has as its controlling terminal),
as a person uses it: the store passphrase is asked for without echo (twice for a new store);
in `offrec chat` a half-typed line survives an incoming message (printed above it and the line
redrawn below), Up recalls an earlier line, the prompt follows the conversation's state,
/help lists one line per command, and the terminal's mode is put back when the chat ends
while the editor is reading a line. The peer is an `offrec chat` on pipes, as scripts use it.

Run by `make cross-tests` (needs target/release/offrec; OFFREC_CLI may name another build).
Standard library only.
"""
from __future__ import annotations

import fcntl
import os
import re
import socket
import struct
import subprocess
import tempfile
import termios
import threading
import time
from pathlib import Path

import pytest

from driver import ROOT

CLI = Path(os.environ.get("OFFREC_CLI", ROOT / "target" / "release" / "offrec"))
PASSPHRASE = "correct horse battery staple"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")


class Terminal:
    """`offrec ARGS` on a new pseudo-terminal, which becomes its controlling terminal (so
    /dev/tty is this terminal, as in a real session). Output is collected by a thread."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        # posix_spawn's setsid runs before the file actions: opening the terminal as a new
        # session's leader makes it the controlling terminal. No fork() in this threaded process.
        self.pid = os.posix_spawn(
            str(CLI), [str(CLI), *args], dict(env, TERM="xterm"),
            file_actions=[(os.POSIX_SPAWN_OPEN, 0, os.ttyname(self.slave), os.O_RDWR, 0),
                          (os.POSIX_SPAWN_DUP2, 0, 1), (os.POSIX_SPAWN_DUP2, 0, 2)],
            setsid=True,
        )
        self.raw = b""
        self.lock = threading.Lock()
        self.code: int | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.raw += data

    def text(self) -> str:
        """What was written, without escape sequences and carriage returns."""
        with self.lock:
            return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def mark(self) -> int:
        return len(self.text())

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_for(self, pattern: str, since: int = 0, timeout: float = 30.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text()[since:], re.S)
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"the terminal never showed /{pattern}/; it shows:\n{self.text()}")

    def wait_exit(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while self.code is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"offrec did not exit; the terminal shows:\n{self.text()}")
            time.sleep(0.05)
        return self.code

    def type_secret(self, secret: str) -> None:
        """Types `secret` once echo is off (the prompt is written just before it is switched
        off; a person does not type within that millisecond, a test would)."""
        deadline = time.monotonic() + 30
        while self.modes() & termios.ECHO:
            assert time.monotonic() < deadline, f"echo was never switched off; the terminal shows:\n{self.text()}"
            time.sleep(0.01)
        self.type(secret + "\r")

    def modes(self) -> int:
        """The terminal's local modes (ECHO, ICANON...) as the program left them."""
        return termios.tcgetattr(self.slave)[3]

    def close(self) -> None:
        if self.code is None:
            try:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        os.close(self.master)
        os.close(self.slave)


class PipedChat:
    """`offrec chat` on pipes (no terminal): what the other side prints, line by line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen([str(CLI), "chat", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, env=env, text=True, bufsize=1)
        self.output = ""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while True:
            data = self.process.stdout.read(1)
            if not data:
                return
            with self.lock:
                self.output += data

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if text in self.output:
                    return
            time.sleep(0.05)
        raise AssertionError(f"the piped chat never printed {text!r}; it printed:\n{self.output}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tmp():
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: make build")
    with tempfile.TemporaryDirectory(prefix="offrec-terminal-") as name:
        yield Path(name)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "OFFREC_PASSPHRASE"}


def test_the_passphrase_is_asked_for_without_echo(tmp):
    store = str(tmp / "alice")
    new = Terminal(["identity", "new", "--store", store, "--account", "alice", "--network", "tcp"], clean_env())
    try:
        new.wait_for(r"New passphrase for the store .*: $")
        new.type_secret(PASSPHRASE)
        new.wait_for(r"The same passphrase again: $")
        new.type_secret(PASSPHRASE)
        new.wait_for(r"fingerprint:")
        assert new.wait_exit() == 0, new.text()
        assert PASSPHRASE not in new.text(), "the passphrase was echoed"
        assert new.modes() & termios.ECHO, "echo was not switched back on"
    finally:
        new.close()

    # Two different passphrases: nothing is created.
    other = Terminal(["identity", "new", "--store", str(tmp / "x"), "--account", "x", "--network", "tcp"], clean_env())
    try:
        other.wait_for(r"New passphrase")
        other.type_secret("one")
        other.wait_for(r"again: $")
        other.type_secret("two")
        other.wait_for(r"the two passphrases differ")
        assert other.wait_exit() == 2
        assert not (tmp / "x" / "offrec.store").exists()
    finally:
        other.close()

    for typed, code, shown in ((PASSPHRASE, 0, r"account:\s+alice"), ("wrong guess", 1, r"wrong key or passphrase")):
        show = Terminal(["identity", "show", "--store", store], clean_env())
        try:
            show.wait_for(r"Passphrase for the store .*alice: $")
            show.type_secret(typed)
            show.wait_for(shown)
            assert show.wait_exit() == code, show.text()
            assert typed not in show.text()
        finally:
            show.close()


def test_chat_keeps_the_half_typed_line_and_recalls_history(tmp):
    env = dict(clean_env(), OFFREC_PASSPHRASE=PASSPHRASE)
    for name in ("alice", "bob"):
        made = subprocess.run([str(CLI), "identity", "new", "--store", str(tmp / name), "--account", name,
                               "--network", "tcp"], env=env, capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
    port = free_port()
    bob = PipedChat(["--store", str(tmp / "bob"), "--tcp-listen", str(port), "--peer", "alice", "--policy", "manual"],
                    env)
    alice = None
    try:
        bob.wait_for(f"listening on 127.0.0.1:{port}")
        alice = Terminal(["chat", "--store", str(tmp / "alice"), "--tcp-connect", f"127.0.0.1:{port}",
                          "--peer", "bob", "--policy", "manual"], clean_env())
        alice.wait_for(r"Passphrase for the store")
        alice.type_secret(PASSPHRASE)
        alice.wait_for(r"chatting with bob")
        alice.wait_for(r"\[plaintext\] +bob> $")

        alice.type("/help\r")
        help_text = alice.wait_for(r"commands:\n(.*?)//text[^\n]*\n").group(0)
        for command in ("/start", "/end", "/fp", "/trust", "/smp SECRET [QUESTION]", "/answer", "/wire", "/quit"):
            assert re.search(rf"^  {re.escape(command)}\s+\S", help_text, re.M), f"{command} in /help:\n{help_text}"

        alice.type("/start\r")
        bob.wait_for("now encrypted-unverified")
        # The prompt follows the state (padded: rustyline measures a prompt once per line).
        alice.wait_for(r"\[encrypted-unverified\] bob> $")

        # Half a line typed, then a message arrives: it is printed above, the line is kept.
        alice.type("half typed")
        alice.wait_for(r"bob> half typed$")
        at = alice.mark()
        bob.type("incoming while you type")
        alice.wait_for(r"<bob> incoming while you type\n.*bob> half typed$", at)
        alice.type(" and finished\r")
        bob.wait_for("<alice> half typed and finished")

        # Up recalls the last line; Enter sends it again.
        alice.type("second line\r")
        bob.wait_for("<alice> second line")
        at = alice.mark()
        alice.type("\x1b[A\x1b[A")  # Up, Up: two lines back
        alice.wait_for(r"bob> half typed and finished$", at)
        alice.type("\r")
        deadline = time.monotonic() + 30
        while bob.output.count("<alice> half typed and finished") < 2:
            assert time.monotonic() < deadline, bob.output
            time.sleep(0.05)

        # SMP with quoted words, typed on the terminal.
        alice.type('/smp "our secret" "what is our dog\'s name?"\r')
        bob.wait_for("Question: what is our dog's name?")
        bob.type("/answer our secret")
        alice.wait_for(r"SMP succeeded")

        # The peer leaves while Alice is typing: the chat ends mid-line and puts the terminal back.
        alice.type("never sent")
        alice.wait_for(r"bob> never sent$")
        bob.type("/quit")
        assert bob.process.wait(timeout=30) == 0
        alice.wait_for(r"the peer closed the connection")
        assert alice.wait_exit() == 0, alice.text()
        modes = alice.modes()
        assert modes & termios.ECHO and modes & termios.ICANON, "the terminal was left in raw mode"
        assert "never sent" not in bob.output
    finally:
        if alice is not None:
            alice.close()
        bob.close()
