#!/usr/bin/env python3
"""`make demo`: a C party, a Python party and a Go party talk through offrec over a local relay
(or, with --irc, a real ngircd), and every step is shown side by side: what each one typed,
what crossed the wire, what the other one saw, and each state change.

Exits non-zero if anything that should happen did not.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cross"))
from driver import IrcServer, Party, Relay  # noqa: E402

WIDTH = 34
lock = threading.Lock()
irc_mode = False
columns: dict[str, int] = {}


def show(column: int, text: str) -> None:
    """Prints `text` in one of three columns: left party, wire, right party."""
    with lock:
        for line in textwrap.wrap(text, WIDTH - 2) or [""]:
            cells = ["", "", ""]
            cells[column] = line
            print("  ".join(cell.ljust(WIDTH) for cell in cells).rstrip(), flush=True)


def wire(line: str) -> None:
    sender, _, rest = line.partition(" -> ")
    receiver, _, text = rest.partition(": ")
    shown = text if len(text) <= 44 else f"{text[:36]}…({len(text)} chars)"
    show(1, f"{sender}→{receiver} {shown}")


def report(party: Party, r: dict) -> None:
    column = columns.get(party.name, 0)
    if r["type"] == "deliver":
        show(column, f"saw: {r['text'][:60]!r}{'…' if len(r['text']) > 60 else ''} [{r['security']}]")
    elif r["type"] == "state":
        show(column, f"state with {r['peer']}: {r['state']}")
    elif r["type"] == "event" and r["name"] not in ("handshake_complete", "new_fingerprint"):
        extra = f" {r['question']!r}" if "question" in r else ""
        show(column, f"event: {r['name']}{extra}")
    elif r["type"] == "esk":
        show(column, f"extra key {r['key'][:16]}…")
    elif r["type"] == "sent" and irc_mode:
        # On IRC the wire is between each party and ngircd: show what each one put on it.
        show(1, f"{party.name}→{r['peer']} PRIVMSG, {r['bytes']} bytes")


def typed(party: Party, command: str) -> None:
    show(columns[party.name], f"> {command if len(command) < 60 else command[:50] + '…'}")
    party.command(command)


def header(left: Party, right: Party) -> None:
    print()
    print("  ".join(h.ljust(WIDTH) for h in (f"{left.name} ({left.language})", "wire", f"{right.name} ({right.language})")))
    print("  ".join("-" * WIDTH for _ in range(3)))


def conversation(a: Party, b: Party, long_limit: int) -> None:
    columns[a.name], columns[b.name] = 0, 2
    header(a, b)
    typed(a, f"start {b.name}")
    a.expect_state(b.name, "encrypted_unverified")
    b.expect_state(a.name, "encrypted_unverified")
    typed(a, f"send {b.name} Hello {b.name}, this is {a.name} speaking {a.language}.")
    b.expect_deliver(f"Hello {b.name}, this is {a.name} speaking {a.language}.")
    typed(b, f"send {a.name} Hi {a.name}! Greetings from {b.language}.")
    a.expect_deliver(f"Hi {a.name}! Greetings from {b.language}.")
    typed(a, f"smp {b.name} rosebud Which sled?")
    question = b.expect_event("smp_asked_for_secret")
    assert question.get("question") == "Which sled?", question
    typed(b, f"answer {a.name} rosebud")
    a.expect_event("smp_succeeded")
    # With a question only the asker learns something: the answerer is told it was verified,
    # and verifies the asker with a question of its own.
    b.expect_event("smp_verified_by_peer")
    a.expect_state(b.name, "encrypted_verified")
    typed(b, f"smp {a.name} tardis Whose blue box?")
    a.expect_event("smp_asked_for_secret")
    typed(a, f"answer {b.name} tardis")
    b.expect_event("smp_succeeded")
    a.expect_event("smp_verified_by_peer")
    b.expect_state(a.name, "encrypted_verified")
    big = "A long letter. " * (long_limit // 15 * 3)
    typed(b, f"send {a.name} {big.strip()}")
    a.expect_deliver(big.strip(), security="encrypted_verified")
    typed(a, f"esk {b.name} 1 holiday-photos.tar")
    ours = a.expect(lambda r: r["type"] == "esk")
    theirs = b.expect_event("extra_key_received")
    assert ours["key"] == theirs["key"], (ours, theirs)
    typed(a, f"end {b.name}")
    a.expect_state(b.name, "plaintext")
    b.expect_state(a.name, "finished")
    typed(b, f"end {a.name}")
    b.expect_state(a.name, "plaintext")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--irc", action="store_true", help="use a real ngircd instead of the relay")
    args = parser.parse_args()
    global irc_mode
    irc_mode = args.irc
    limit = 380 if args.irc else 600
    server = IrcServer() if args.irc else None
    relay = None if server else Relay(max_line=limit + 64)
    if relay is not None:
        relay.on_wire = wire
    print(f"offrec demo over {'a real IRC server (ngircd)' if server else 'the example relay'}; "
          f"transport limit {limit} bytes, so long messages are fragmented.")
    parties: list[Party] = []
    try:
        for language, name in (("c", "alice"), ("python", "bob"), ("go", "carol")):
            kwargs = {"irc": server} if server else {"relay": relay, "max_message_size": limit}
            party = Party(language, name, on_report=report, **kwargs)
            parties.append(party)
            print(f"{name} ({language}) fingerprint {party.fingerprint[:16]}…")
        alice, bob, carol = parties
        conversation(alice, bob, limit)
        conversation(bob, carol, limit)
        conversation(carol, alice, limit)
    except AssertionError as failure:
        print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        for party in parties:
            party.close()
        if relay is not None:
            relay.close()
        if server is not None:
            server.close()
    print("\ndemo: every step happened (C, Python and Go, in every direction).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
