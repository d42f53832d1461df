"""Conversations across languages: a C party, a Python party and a Go party talk to each other
in every pairing, each direction starting the session once, with SMP success and failure, the
extra symmetric key, an out-of-order delivery and a message larger than the transport limit.

Run by `make cross-tests` (after the C examples, the Python package and the Go party are built).
Set OFFREC_CROSS_LANGUAGES=c,python to restrict the languages.
"""
from __future__ import annotations

import itertools
import os

import pytest

from driver import Party, Relay

LANGUAGES = os.environ.get("OFFREC_CROSS_LANGUAGES", "c,python,go").split(",")
PAIRS = list(itertools.permutations(LANGUAGES, 2)) if len(LANGUAGES) > 1 else [(LANGUAGES[0], LANGUAGES[0])]


@pytest.fixture
def network():
    relays: list[Relay] = []
    parties: list[Party] = []

    def make(relay_options: dict | None = None) -> Relay:
        relay = Relay(**(relay_options or {}))
        relays.append(relay)
        return relay

    def party(*args, **kwargs) -> Party:
        p = Party(*args, **kwargs)
        parties.append(p)
        return p

    yield make, party
    for p in parties:
        p.close()
    for r in relays:
        r.close()


@pytest.mark.parametrize("starter,responder", PAIRS, ids=[f"{a}-starts-{b}" for a, b in PAIRS])
def test_conversation(network, starter, responder):
    make_relay, party = network
    relay = make_relay({"hold_every": 3})
    alice = party(starter, "alice", relay, max_message_size=1000)
    bob = party(responder, "bob", relay, max_message_size=1000)

    alice.command("start bob")
    alice.expect_state("bob", "encrypted_unverified")
    bob.expect_state("alice", "encrypted_unverified")

    # Messages both ways; the relay holds every third one back, so some arrive out of order.
    for i in range(6):
        alice.command(f"send bob from {starter} {i}")
        bob.command(f"send alice from {responder} {i}")
    for i in range(6):
        bob.expect_deliver(f"from {starter} {i}")
        alice.expect_deliver(f"from {responder} {i}")

    # Larger than the transport limit: fragmented and reassembled.
    long_text = "".join(chr(ord("a") + i % 26) for i in range(3000))
    alice.command(f"send bob {long_text}")
    bob.expect_deliver(long_text)

    # SMP with the wrong secret fails on both sides...
    alice.command("smp bob apple what fruit?")
    assert bob.expect_event("smp_asked_for_secret")["question"] == "what fruit?"
    bob.command("answer alice pear")
    alice.expect_event("smp_failed")
    bob.expect_event("smp_failed")
    # ...and with the right one succeeds (started by the other side, after the rate limit).
    bob.command("tick")
    bob.command("smp alice banana")
    alice.expect_event("smp_asked_for_secret")
    alice.command("answer bob banana")
    alice.expect_event("smp_succeeded")
    bob.expect_event("smp_succeeded")
    alice.expect_state("bob", "encrypted_verified")
    bob.expect_state("alice", "encrypted_verified")
    bob.command("send alice verified now")
    alice.expect_deliver("verified now", security="encrypted_verified")

    # The extra symmetric key is the same on both sides.
    alice.command("esk bob 42 file-transfer")
    ours = alice.expect(lambda r: r["type"] == "esk")
    theirs = bob.expect_event("extra_key_received")
    assert ours["key"] == theirs["key"] and theirs["usage"] == 42

    # Ending tells the other side.
    alice.command("end bob")
    alice.expect_state("bob", "plaintext")
    bob.expect_state("alice", "finished")

    # Nothing readable crossed the relay.
    for line in relay.wire:
        assert "from " not in line.split(": ", 1)[1] or line.split(": ", 1)[1].startswith("?OFR"), line
