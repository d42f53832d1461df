"""The parties as real IRC clients on a real ngircd (started and stopped here): IRC's 512-byte
lines force offrec to fragment for real. Run by `make test` (ngircd is installed by .ci/run)."""
from __future__ import annotations

import itertools
import os

import pytest

from driver import IrcServer, Party

LANGUAGES = os.environ.get("OFFREC_CROSS_LANGUAGES", "c,python,go").split(",")
PAIRS = list(itertools.permutations(LANGUAGES, 2)) if len(LANGUAGES) > 1 else [(LANGUAGES[0], LANGUAGES[0])]


@pytest.fixture(scope="module")
def irc():
    server = IrcServer()
    yield server
    server.close()


@pytest.mark.parametrize("starter,responder", PAIRS, ids=[f"{a}-starts-{b}" for a, b in PAIRS])
def test_conversation_over_ngircd(irc, starter, responder):
    alice = Party(starter, f"alice{starter}{responder}", irc=irc)
    bob = Party(responder, f"bob{starter}{responder}", irc=irc)
    try:
        alice.command(f"start {bob.name}")
        alice.expect_state(bob.name, "encrypted_unverified")
        bob.expect_state(alice.name, "encrypted_unverified")
        alice.command(f"send {bob.name} hello over IRC")
        bob.expect_deliver("hello over IRC")
        # Five times IRC's line length: fragmented into IRC-sized pieces and reassembled.
        long_text = "".join(chr(ord("A") + i % 26) for i in range(2500))
        bob.command(f"send {alice.name} {long_text}")
        alice.expect_deliver(long_text)
        sent = [r for r in bob.drain() if r["type"] == "sent"]
        assert len(sent) >= 7 and all(r["bytes"] <= 380 for r in sent), sent
        alice.command(f"smp {bob.name} opensesame the word?")
        bob.expect_event("smp_asked_for_secret")
        bob.command(f"answer {alice.name} opensesame")
        alice.expect_event("smp_succeeded")
        # With a question only the asker verifies; the answerer is told it was verified.
        bob.expect_event("smp_verified_by_peer")
    finally:
        alice.close()
        bob.close()
