"""The WeeChat script (integrations/weechat/offrec_weechat.py) in a real WeeChat, talking to an
`offrec chat` party over a private ngircd.

WeeChat runs headless with a temporary --dir; commands go in through its fifo plugin and what
it shows comes back through its logger (one log file per buffer, written at once). Its IRC
connection runs through a tap that records every byte both ways, so the test can say what
crossed the server. The other side is the CLI (`target/release/offrec chat --irc`), read
from its stdout, and then a libotr 4.1.1 party (examples-c/party_libotr.c, as Pidgin is) for
the OTR v3 fallback. Run by `make test` (cross-tests); tests/setup.sh installs
weechat-headless, weechat-python, weechat-plugins and ngircd.
"""
from __future__ import annotations

import os
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, List, Optional

import pytest

from driver import ROOT, IrcServer, Party

SCRIPT = ROOT / "integrations" / "weechat" / "offrec_weechat.py"
CLI = ROOT / "target" / "release" / "offrec"
LIB = Path(os.environ.get("OFFREC_LIB", ROOT / "target" / "release" / "liboffrec.so"))
SERVER = "test"  # WeeChat's name for the IRC server
ME, PEER = "alice", "bob"  # WeeChat's nick, the CLI's nick
TIMEOUT = 15.0  # for any one step; the whole test takes a few seconds


def wait_for(what: str, check: Callable[[], object], diagnostics: Callable[[], str], timeout: float = TIMEOUT):
    """Polls `check` until it returns something true; fails naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{diagnostics()}", pytrace=False)
        time.sleep(0.05)


class WireTap:
    """A TCP relay in front of the IRC server that keeps every byte in both directions."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.to_server = bytearray()
        self.to_client = bytearray()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            server = socket.create_connection(("127.0.0.1", self.target))
            self._pump(client, server)
            return

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, (server, self.to_server))
        sel.register(server, selectors.EVENT_READ, (client, self.to_client))
        try:
            while not self.stop.is_set():
                for key, _ in sel.select(timeout=0.2):
                    other, record = key.data
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    with self.lock:
                        record.extend(data)
                    other.sendall(data)
        finally:
            client.close()
            server.close()

    def lines(self, to_server: bool) -> List[str]:
        with self.lock:
            data = bytes(self.to_server if to_server else self.to_client)
        return data.decode("utf-8", "replace").split("\r\n")

    def everything(self) -> bytes:
        with self.lock:
            return bytes(self.to_server) + b"\n" + bytes(self.to_client)

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(timeout=5)


class CliParty:
    """`offrec chat --irc` with stdin to type into and stdout kept line by line."""

    def __init__(self, tmp: Path, irc_port: int) -> None:
        store = tmp / "cli-store"
        self.env = dict(os.environ, OFFREC_PASSPHRASE="cli test passphrase")
        subprocess.run([str(CLI), "identity", "new", "--store", str(store), "--account", PEER, "--network", "irc"],
                       env=self.env, check=True, capture_output=True, timeout=30)
        self.process = subprocess.Popen(
            [str(CLI), "chat", "--store", str(store), "--irc", f"127.0.0.1:{irc_port}", "--peer", ME,
             "--policy", "manual"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env,
            text=True, encoding="utf-8", bufsize=1,
        )
        self.lines: List[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def has(self, text: str, since: int = 0) -> bool:
        """Whether a line from `since` on contains `text`."""
        return any(text in line for line in list(self.lines)[since:])

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.type("/quit")
                self.process.stdin.close()  # type: ignore[union-attr]
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


class WeeChat:
    """weechat-headless in a temporary directory, driven through its fifo, read through its logs."""

    def __init__(self, home: Path, irc_port: int) -> None:
        binary = shutil.which("weechat-headless")
        if binary is None:
            raise RuntimeError("weechat-headless is not installed "
                               "(apt-get install weechat-headless weechat-python weechat-plugins)")
        self.home = home
        commands = [
            "/set logger.file.flush_delay 0",  # log lines are written at once
            "/secure set offrec weechat test passphrase",
            f"/set plugins.var.python.offrec.python_path {ROOT / 'bindings' / 'python'}",
            # The test reads the conversation from WeeChat's log: keep logging while encrypted
            # (the default, off, is checked at the end).
            "/set plugins.var.python.offrec.log on",
            f"/python load {SCRIPT}",
            f"/server add {SERVER} 127.0.0.1/{irc_port} -notls",
            f"/set irc.server.{SERVER}.nicks {ME}",
            # WeeChat paces a burst of lines 2 s apart by default; fragments are such a burst.
            f"/set irc.server.{SERVER}.anti_flood_prio_high 0",
            f"/set irc.server.{SERVER}.anti_flood_prio_low 0",
            f"/connect {SERVER}",
        ]
        env = dict(os.environ, OFFREC_LIB=str(LIB))
        self.process = subprocess.Popen([binary, "--dir", str(home), "-r", ";".join(commands)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, env=env)
        self.fifo = wait_for("WeeChat's fifo (the fifo plugin, package weechat-plugins)", lambda: next(iter(home.glob("weechat_fifo_*")), None), self.diagnostics)

    def send(self, buffer: str, text: str) -> None:
        """Types `text` (a line or a /command) into the buffer named `buffer` (plugin.name)."""
        fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, f"{buffer} *{text}\n".encode("utf-8"))
        finally:
            os.close(fd)

    def log(self, buffer: str) -> List[List[str]]:
        """The buffer's log lines as [date, prefix, message]."""
        path = self.home / "logs" / f"{buffer}.weechatlog"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line.split("\t", 2) for line in text.splitlines() if line.count("\t") >= 2]

    def said(self, buffer: str, text: str, since: int = 0) -> bool:
        """Whether the script printed a line containing `text` into the buffer (from log line
        `since` on)."""
        return any(p == "offrec" and text in m for _, p, m in self.log(buffer)[since:])

    def diagnostics(self) -> str:
        out = []
        for path in sorted((self.home / "logs").glob("*.weechatlog")):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            out.append(f"--- WeeChat {path.name} (last 25 lines) ---\n" + "\n".join(lines[-25:]))
        return "\n".join(out)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("core.weechat", "/quit")
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


class World:
    """ngircd, the tap, WeeChat with the script loaded and registered; `others` are closed too."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.others: list = []
        self.irc: Optional[IrcServer] = None
        self.tap: Optional[WireTap] = None
        self.weechat: Optional[WeeChat] = None

    def start(self) -> None:
        self.irc = IrcServer()
        self.tap = WireTap(self.irc.port)
        self.weechat = WeeChat(self.tmp / "weechat", self.tap.port)

    def ready(self) -> None:
        tap, weechat = self.tap, self.weechat
        wait_for("WeeChat to register on the IRC server",
                 lambda: any(f" 001 {ME} " in line for line in tap.lines(False)), weechat.diagnostics)
        # The server having sent its welcome is not WeeChat having read it: a /query typed
        # into the fifo before then fails ("must be executed on connected irc server"), and a
        # loaded machine showed it. WeeChat logs the welcome when it handles it (flush delay 0).
        wait_for("WeeChat to handle the server's welcome",
                 lambda: any("Welcome to the Internet Relay Network" in m
                             for _, _, m in weechat.log(f"irc.server.{SERVER}")),
                 weechat.diagnostics)
        wait_for("the script to be loaded (WeeChat's Python plugin: package weechat-python)",
                 lambda: any("offrec" in m and "loaded" in m for _, _, m in weechat.log("core.weechat")),
                 weechat.diagnostics)

    def close(self) -> None:
        """Closes whatever was started, the last first."""
        for part in list(reversed(self.others)) + [self.weechat, self.tap, self.irc]:
            if part is not None:
                part.close()


@pytest.fixture
def world():
    tmp = tempfile.TemporaryDirectory(prefix="offrec-weechat-")
    made = World(Path(tmp.name))
    try:
        made.start()
        yield made
    finally:
        made.close()
        tmp.cleanup()


def test_weechat_script_talks_to_offrec_chat(world):
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: run `make build` first", pytrace=False)
    weechat, tap = world.weechat, world.tap
    cli = CliParty(world.tmp, world.irc.port)
    world.others.append(cli)
    query = f"irc.{SERVER}.{PEER}"

    def diagnostics() -> str:
        sent = [f"{len(line.encode())} bytes: {line[:90]}" for line in tap.lines(True)[-12:]]
        return (weechat.diagnostics() + "\n--- offrec chat ---\n" + "\n".join(cli.lines[-25:])
                + "\n--- the last lines WeeChat sent to the IRC server ---\n" + "\n".join(sent))

    def weechat_said(text: str) -> Callable[[], bool]:
        return lambda: weechat.said(query, text)

    def cli_said(text: str) -> Callable[[], bool]:
        return lambda: cli.has(text)

    def delivered_in_weechat(text: str) -> Callable[[], bool]:
        return lambda: any(p == PEER and m == text for _, p, m in weechat.log(query))

    def status(expected: str) -> None:
        """What the bar item shows (/offrec status prints the bar item's text)."""
        since = len(weechat.log(query))
        weechat.send(query, "/offrec status")
        wait_for(f"/offrec status to show {expected!r}",
                 lambda: weechat.said(query, f"status with {PEER}: {expected}", since), diagnostics)

    world.ready()
    wait_for("the CLI to register on the IRC server", cli_said("registered on 127.0.0.1:"), diagnostics)

    # WeeChat opens a query with the CLI's nick and starts the session from there.
    weechat.send(f"irc.server.{SERVER}", f"/query {PEER}")
    status("plaintext")
    weechat.send(query, "/offrec start")
    wait_for("WeeChat to see the session encrypted", weechat_said("is now encrypted unverified (offrec)"), diagnostics)
    wait_for("the CLI to see the session encrypted", cli_said(f"the conversation with {ME} is now encrypted-unverified"),
             diagnostics)
    status("encrypted unverified (offrec)")

    # One message each way, byte for byte, plus a long one each way (several IRC lines each).
    to_cli = 'Grüße aus WeeChat: "quoted", <b>not html</b> & 100% ✓ ; done'
    weechat.send(query, to_cli)
    wait_for("the CLI to deliver WeeChat's message", cli_said(f"[encrypted-unverified] <{ME}> {to_cli}"), diagnostics)
    sent_before = [line for line in tap.lines(True) if line.startswith(f"PRIVMSG {PEER} :")]
    long_to_cli = " ".join(f"word{i:03d}" for i in range(45))  # 359 characters: one IRC line in clear
    weechat.send(query, long_to_cli)
    wait_for("the CLI to deliver WeeChat's long message",
             cli_said(f"[encrypted-unverified] <{ME}> {long_to_cli}"), diagnostics)
    sent_after = [line for line in tap.lines(True) if line.startswith(f"PRIVMSG {PEER} :")]
    assert len(sent_after) - len(sent_before) >= 2, "the long message should go out as several fragments"

    to_weechat = "Antwort von der CLI: ½ ∑ «ok» and a tab\there"
    cli.type(to_weechat)
    wait_for("WeeChat to show the CLI's message", delivered_in_weechat(to_weechat), diagnostics)
    long_to_weechat = "".join(chr(ord("a") + i % 26) for i in range(1500))
    cli.type(long_to_weechat)
    wait_for("WeeChat to show the CLI's long message", delivered_in_weechat(long_to_weechat), diagnostics)

    # /me inside the session: an encrypted "/me ..." line, shown as an action on arrival.
    weechat.send(query, "/me waves from WeeChat")
    wait_for("the CLI to get the action", cli_said(f"<{ME}> /me waves from WeeChat"), diagnostics)
    cli.type("//me nods from the CLI")
    wait_for("WeeChat to show the action", lambda: any(m == f"{PEER} nods from the CLI" for _, _, m in weechat.log(query)),
             diagnostics)

    # SMP with a question (secret and question with spaces): WeeChat asks, so WeeChat verifies.
    weechat.send(query, '/offrec smp "blue moon" "what did we see last night?"')
    wait_for("the CLI to be asked", cli_said("Question: what did we see last night?"), diagnostics)
    cli.type("/answer blue moon")
    wait_for("SMP to succeed in WeeChat", weechat_said(f"SMP succeeded: {PEER} is verified"), diagnostics)
    wait_for("the CLI to learn it was verified", cli_said(f"you answered {ME}'s question correctly"), diagnostics)
    status("encrypted verified (offrec)")

    # What crossed the IRC server: only offrec's wire format between the two, never the texts.
    wire = tap.everything()
    for text in (to_cli, long_to_cli, to_weechat, long_to_weechat, "blue moon", "waves from", "nods from"):
        assert text.encode("utf-8") not in wire, f"{text[:40]!r} crossed the IRC server in the clear"
    ours = [line.split(" :", 1)[1] for line in tap.lines(True) if line.startswith(f"PRIVMSG {PEER} :")]
    theirs = [line.split(" :", 1)[1] for line in tap.lines(False) if f" PRIVMSG {ME} :" in line]
    # WeeChat's first line is the query (offering offrec and OTR v2/v3); the rest is offrec's.
    assert ours[0].startswith("?OTRv23? ?OFRv1? "), ours[0]
    assert len(ours) > 1 and all(text.startswith("?OFR") for text in ours[1:]), ours
    assert theirs and all(text.startswith("?OFR") for text in theirs), theirs
    assert all(len(line.encode()) + 2 <= 512 for line in tap.lines(True) + tap.lines(False))

    # /offrec end: WeeChat back to plaintext, the CLI sees the session finished.
    weechat.send(query, "/offrec end")
    wait_for("WeeChat to end the session", weechat_said(f"the conversation with {PEER} is now in plaintext"), diagnostics)
    wait_for("the CLI to see the session finished", cli_said(f"{ME} ended the encrypted session"), diagnostics)
    status("plaintext")

    # The identity and the trust SMP gave are saved, sealed, in WeeChat's data directory: a
    # reloaded script has the same key and still knows bob's key as verified.
    stores = [p for p in (weechat.home / "offrec" / SERVER / ME).iterdir() if p.is_file()]
    assert stores, "no store saved"
    assert all(b"weechat test passphrase" not in p.read_bytes() for p in stores)
    created = [m for _, p, m in weechat.log(f"irc.server.{SERVER}") if p == "offrec" and m.startswith("new identity")]
    our_key = created[0].split(": ", 1)[1].split(" (", 1)[0]
    seen = [m for _, p, m in weechat.log(query) if p == "offrec" and m.startswith(f"first key seen for {PEER}: ")]
    their_key = seen[0].split(": ", 1)[1]
    since = len(weechat.log(query))
    weechat.send("core.weechat", "/python unload offrec")
    weechat.send("core.weechat", f"/python load {SCRIPT}")
    weechat.send(query, "/offrec fingerprint")
    wait_for("the reloaded script to show the same key", lambda: weechat.said(query, f"you ({ME} on {SERVER}): {our_key}", since),
             diagnostics)
    wait_for("the reloaded script to know bob's key as verified",
             lambda: weechat.said(query, f"key seen before: {their_key} (verified by SMP)", since), diagnostics)

    # Off the record by default: with option log off, the logger is paused while the
    # conversation is encrypted, and resumes when it ends (here, when bob ends it).
    weechat.send("core.weechat", "/set plugins.var.python.offrec.log off")
    mark, since = len(cli.lines), len(weechat.log(query))
    weechat.send(query, "/offrec start")
    wait_for("the CLI to see a new session", lambda: cli.has(f"with {ME} is now encrypted-unverified", mark), diagnostics)
    off_the_record = "this line must not reach WeeChat's log"
    cli.type(off_the_record)
    cli.type("/end")
    wait_for("WeeChat to see bob end the session",
             lambda: weechat.said(query, f"{PEER} ended the encrypted session", since), diagnostics)
    assert not cli.has("could not read", mark), "WeeChat could not read the message sent while not logging"
    assert off_the_record.encode() not in tap.everything()
    log_text = (weechat.home / "logs" / f"{query}.weechatlog").read_text(encoding="utf-8")
    assert off_the_record not in log_text, "an encrypted message was logged with option log off"


def test_weechat_script_talks_otr_v3_to_libotr(world):
    """A Pidgin-like libotr 4.1.1 party (no offrec inside): the script falls back to OTR v3."""
    binary = ROOT / "target" / "examples" / "party_libotr"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `make examples` first", pytrace=False)
    weechat, tap = world.weechat, world.tap
    world.ready()
    carol = Party("libotr", "carol", irc=world.irc)
    world.others.append(carol)
    query = f"irc.{SERVER}.carol"

    def diagnostics() -> str:
        return weechat.diagnostics() + f"\n--- libotr party ---\n{carol.drain()[-10:]}"

    def status(expected: str) -> None:
        since = len(weechat.log(query))
        weechat.send(query, "/offrec status")
        wait_for(f"/offrec status to show {expected!r}",
                 lambda: weechat.said(query, f"status with carol: {expected}", since), diagnostics)

    weechat.send(f"irc.server.{SERVER}", "/query carol")
    weechat.send(query, "/offrec start")
    carol.expect_state(ME, "encrypted_unverified")
    wait_for("WeeChat to see an OTR v3 session", lambda: weechat.said(query, "encrypted with classic OTR (OTR v3)"),
             diagnostics)
    status("encrypted unverified (OTR v3)")

    to_carol = "über OTR v3 to libotr: <not html> & more"
    weechat.send(query, to_carol)
    carol.expect_deliver(to_carol)
    to_weechat = "libotr answers ✓"
    carol.command(f"send {ME} {to_weechat}")
    wait_for("WeeChat to show carol's message",
             lambda: any(p == "carol" and m == to_weechat for _, p, m in weechat.log(query)), diagnostics)
    wire = tap.everything()
    assert to_carol.encode() not in wire and to_weechat.encode() not in wire
    theirs = [line.split(" :", 1)[1] for line in tap.lines(False) if line.startswith(":carol!") and " PRIVMSG " in line]
    assert theirs and all(text.startswith("?OTR") for text in theirs), theirs

    weechat.send(query, "/offrec end")
    carol.expect_state(ME, "finished")
    status("plaintext")
