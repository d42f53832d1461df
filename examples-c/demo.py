#!/usr/bin/env python3
"""`make demo`: a C party, a Python party and a Go party talk through offrec over a local relay
(or, with --irc, a real ngircd), and every step is shown side by side: what each one typed,
what crossed the wire, what the other one saw, and each state change.

Scenes: C and Python, Python and Go, Go and C (the modern protocol, SMP both ways, a long
message in fragments, an extra key, ending); then "A Pidgin-like client (libotr) and offrec"
(examples-c/party_libotr.c, libotr 4.1.1 alone, asks for OTR and the C party answers in OTR
v3: messages, an SMP with a question, ending); then "A man in the middle strips offrec's
offer" (the relay removes ` ?OFRv1?` from queries: a Python and a Go party start in OTR v3
and upgrade to the modern protocol; relay only, skipped with --irc).

Exits non-zero if anything that should happen did not.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cross"))
from driver import IrcServer, Party, Relay  # noqa: E402

# Reports the demo does not show: bookkeeping (persist_needed: save the client now) and what
# every handshake brings (new_fingerprint, handshake_complete).
QUIET_EVENTS = ("handshake_complete", "new_fingerprint", "persist_needed")

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


def note(text: str) -> None:
    """A line of explanation across the three columns."""
    with lock:
        for line in textwrap.wrap(text, 3 * WIDTH, initial_indent="  * ", subsequent_indent="    "):
            print(line, flush=True)


def report(party: Party, r: dict) -> None:
    column = columns.get(party.name, 0)
    if r["type"] == "deliver":
        how = r["security"] + (f", {r['protocol']}" if "protocol" in r else "")
        show(column, f"saw: {r['text'][:60]!r}{'…' if len(r['text']) > 60 else ''} [{how}]")
    elif r["type"] == "state":
        how = ", ".join(r[k] for k in ("protocol", "strength") if k in r)
        show(column, f"state with {r['peer']}: {r['state']}{f' ({how})' if how else ''}")
    elif r["type"] == "event" and r["name"] == "heartbeat_received" and party.language == "libotr":
        # libotr reports every empty data message (SMP steps too) as a heartbeat; only the first
        # one is worth showing: offrec's upgrade probe, whose TLV libotr does not know.
        if not getattr(party, "probe_shown", False):
            party.probe_shown = True  # type: ignore[attr-defined]
            show(column, "event: heartbeat_received (offrec's upgrade probe; libotr ignores its TLV)")
    elif r["type"] == "event" and r["name"] not in QUIET_EVENTS:
        extra = f" {r['question']!r}" if "question" in r else f" ({r['protocol']})" if "protocol" in r else ""
        show(column, f"event: {r['name']}{extra}")
    elif r["type"] == "protocol":
        for session in r["sessions"]:
            show(column, f"session with {r['peer']}: {session['protocol']}, {session['strength']}"
                         + (f", OTR ssid {session['otr_ssid']}" if "otr_ssid" in session else ""))
    elif r["type"] == "esk":
        show(column, f"extra key {r['key'][:16]}…")
    elif r["type"] == "sent" and irc_mode:
        # On IRC the wire is between each party and ngircd: show what each one put on it.
        show(1, f"{party.name}→{r['peer']} PRIVMSG, {r['bytes']} bytes")


def typed(party: Party, command: str) -> None:
    show(columns[party.name], f"> {command if len(command) < 60 else command[:50] + '…'}")
    party.command(command)


def header(left: Party, right: Party, title: str = "") -> None:
    print()
    if title:
        print(title)
    print("  ".join(h.ljust(WIDTH) for h in (f"{left.name} ({left.language})", "wire", f"{right.name} ({right.language})")))
    print("  ".join("-" * WIDTH for _ in range(3)))


def settle(relay: Relay, quiet: float = 0.3, limit: float = 5.0) -> None:
    """Waits until nothing has crossed the relay for `quiet` seconds (no pending traffic)."""
    deadline = time.monotonic() + limit
    seen, since = len(relay.wire), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if len(relay.wire) != seen:
            seen, since = len(relay.wire), time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


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


def legacy_client(alice: Party, dave: Party) -> None:
    """The C offrec party and a libotr party (a Pidgin user): OTR v3, as libotr asks."""
    columns[alice.name], columns[dave.name] = 0, 2
    header(alice, dave, "A Pidgin-like client (libotr) and offrec")
    note(f"{dave.name} runs libotr {dave.ready.get('libotr', '4.1.1')} alone (no offrec inside, policy MANUAL, as "
         f"Pidgin's \"Start private conversation\"); {alice.name} runs offrec with its default policy, which allows "
         "OTR v3 and v2 as a fallback.")
    typed(dave, f"start {alice.name}")
    started = alice.expect_event("legacy_session_started")
    assert started.get("protocol") == "otr_v3", started
    state = alice.expect_state(dave.name, "encrypted_unverified")
    assert (state.get("protocol"), state.get("strength")) == ("otr_v3", "legacy"), state
    state = dave.expect_state(alice.name, "encrypted_unverified")
    assert state.get("protocol") == "otr_v3", state
    # offrec's first OTR data message is its upgrade probe; libotr shows nothing for it.
    dave.expect_event("heartbeat_received")
    typed(alice, f"protocol {dave.name}")
    ours = alice.expect(lambda r: r["type"] == "protocol", what="protocol")["sessions"]
    typed(dave, f"protocol {alice.name}")
    theirs = dave.expect(lambda r: r["type"] == "protocol", what="protocol")["sessions"]
    assert len(ours) == 1 and ours[0]["protocol"] == "otr_v3" and ours[0]["strength"] == "legacy", ours
    assert ours[0]["their_otr_fingerprint"] == dave.fingerprint, (ours, dave.fingerprint)
    assert len(theirs) == 1 and theirs[0]["otr_ssid"] == ours[0]["otr_ssid"], (ours, theirs)
    assert {ours[0]["bold"], theirs[0]["bold"]} == {"first", "second"}, (ours, theirs)
    note(f"Both show the same OTR session id; {alice.name} sees {dave.name}'s DSA fingerprint as libotr computes it "
         f"({dave.ready['otr_fingerprint']}).")
    typed(dave, f"send {alice.name} Hi {alice.name}, this is {dave.name} on libotr.")
    alice.expect_deliver(f"Hi {alice.name}, this is {dave.name} on libotr.")
    typed(alice, f"send {dave.name} Hello {dave.name}! offrec speaks OTR v3 too.")
    dave.expect_deliver(f"Hello {dave.name}! offrec speaks OTR v3 too.")
    typed(dave, f"smp {alice.name} rosebud Which sled?")
    question = alice.expect_event("smp_asked_for_secret")
    assert question.get("question") == "Which sled?", question
    typed(alice, f"answer {dave.name} rosebud")
    dave.expect_event("smp_succeeded")
    dave.expect_state(alice.name, "encrypted_verified")
    alice.expect_event("smp_verified_by_peer")
    typed(alice, f"protocol {dave.name}")
    alice.expect(lambda r: r["type"] == "protocol", what="protocol")
    verified = [r for r in alice.drain()
                if r["type"] == "state" and r["peer"] == dave.name and r["state"] == "encrypted_verified"]
    assert not verified, verified
    note(f"With a question only the asker learns something: {dave.name} (libotr) marked {alice.name}'s key "
         f"verified; {alice.name} was told it was verified and still has {dave.name} unverified.")
    typed(dave, f"send {alice.name} Verified on my side.")
    alice.expect_deliver("Verified on my side.", security="encrypted_unverified")
    typed(dave, f"end {alice.name}")
    dave.expect_state(alice.name, "plaintext")
    alice.expect_state(dave.name, "finished")
    alice.expect_event("peer_ended_session")
    typed(alice, f"end {dave.name}")
    alice.expect_state(dave.name, "plaintext")


def stripped_offer(erin: Party, frank: Party, relay: Relay) -> None:
    """Two offrec parties behind a relay that removes offrec's offer from queries."""
    columns[erin.name], columns[frank.name] = 0, 2
    header(erin, frank, "A man in the middle strips offrec's offer")
    note("This relay removes ' ?OFRv1?' from every OTR query, hoping to keep two offrec users on OTR v3 "
         "(DSA-1024, SHA-1).")
    typed(erin, f"start {frank.name}")
    for party, peer in ((erin, frank), (frank, erin)):
        party.expect_event("legacy_session_started")
        party.expect_state(peer.name, "encrypted_unverified")
    for party in (erin, frank):
        party.expect_event("protocol_upgraded")
    settle(relay)
    erin.drain()
    frank.drain()
    assert relay.notes and "?OFRv1?" in relay.notes[0], relay.notes
    texts = [line.partition(": ")[2] for line in relay.wire]
    assert texts[0].startswith("?OTRv") and "?OFRv" not in texts[0], texts[0]
    assert any(t.startswith("?OTR:AAMC") for t in texts), "the session started with an OTR v3 AKE"
    first_modern = next(i for i, t in enumerate(texts) if t.startswith("?OFR:"))
    assert any(t.startswith("?OTR:AAMD") for t in texts[:first_modern]), "the probe went over OTR v3"
    note("Each side's first OTR v3 data message carried offrec's probe (authenticated by the OTR session); reading "
         "it, both started the modern handshake, which replaced the OTR session: protocol_upgraded.")
    sent_from = len(relay.wire)
    typed(erin, f"send {frank.name} Hello {frank.name}, this goes over offrec's protocol.")
    frank.expect_deliver(f"Hello {frank.name}, this goes over offrec's protocol.")
    typed(frank, f"send {erin.name} Upgraded, despite the man in the middle.")
    erin.expect_deliver("Upgraded, despite the man in the middle.")
    settle(relay)
    note("Everything after the upgrade crossed the wire as ?OFR: (offrec's protocol), none as ?OTR:.")
    after = [line.partition(": ")[2] for line in relay.wire[sent_from:]]
    assert after and all(t.startswith("?OFR:") for t in after), after
    typed(erin, f"end {frank.name}")
    erin.expect_state(frank.name, "plaintext")
    frank.expect_state(erin.name, "finished")
    typed(frank, f"end {erin.name}")
    frank.expect_state(erin.name, "plaintext")


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
    relays: list[Relay] = []
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
        kwargs = {"irc": server} if server else {"relay": relay, "max_message_size": limit}
        dave = Party("libotr", "dave", on_report=report, **kwargs)
        parties.append(dave)
        print(f"\ndave (libotr {dave.ready.get('libotr', '?')}) OTR fingerprint {dave.ready['otr_fingerprint']}")
        legacy_client(alice, dave)
        if server is not None:
            print("\n(A man in the middle strips offrec's offer: skipped over IRC; the man in the middle is the "
                  "example relay, ngircd forwards lines unchanged. Run `make demo` to see it.)")
        else:
            strip_relay = Relay(max_line=limit + 64, strip_modern_offer=True)
            relays.append(strip_relay)
            strip_relay.on_wire = wire
            strip_relay.on_note = lambda text: show(1, f"MITM {text}")
            for language, name in (("python", "erin"), ("go", "frank")):
                parties.append(Party(language, name, relay=strip_relay, max_message_size=limit, on_report=report))
            stripped_offer(parties[-2], parties[-1], strip_relay)
    except AssertionError as failure:
        print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        for party in parties:
            party.close()
        if relay is not None:
            relay.close()
        for extra in relays:
            extra.close()
        if server is not None:
            server.close()
    upgrade = "" if server else "; a stripped offer upgraded to the modern protocol"
    print(f"\ndemo: every step happened (C, Python and Go, in every direction; libotr in OTR v3{upgrade}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
