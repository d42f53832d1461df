"""offrec and OTR across processes: each offrec party (C, Python, Go) against a party built on
libotr 4.1.1 alone (examples-c/party_libotr.c, as Pidgin uses it), and two offrec parties behind
a relay that strips offrec's offer from queries (they start in OTR v3 and must upgrade).

Run by `make cross-tests`. OFFREC_CROSS_LANGUAGES restricts the offrec languages, as in
test_cross.py.
"""
from __future__ import annotations

import itertools
import os
import socket
import time

import pytest

from driver import Party, Relay

LANGUAGES = os.environ.get("OFFREC_CROSS_LANGUAGES", "c,python,go").split(",")
PAIRS = list(itertools.combinations(LANGUAGES, 2)) if len(LANGUAGES) > 1 else [(LANGUAGES[0], LANGUAGES[0])]


@pytest.fixture
def network():
    relays: list[Relay] = []
    parties: list[Party] = []

    def make(**options) -> Relay:
        relay = Relay(**options)
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


def settle(relay: Relay, quiet: float = 0.3, limit: float = 5.0) -> None:
    """Waits until nothing has crossed the relay for `quiet` seconds."""
    deadline = time.monotonic() + limit
    seen, since = len(relay.wire), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if len(relay.wire) != seen:
            seen, since = len(relay.wire), time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


def texts(relay: Relay, sender: str = "") -> list[str]:
    return [line.partition(": ")[2] for line in relay.wire if line.startswith(f"{sender} -> ") or not sender]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("libotr_starts", [True, False], ids=["libotr-asks", "offrec-asks"])
def test_offrec_speaks_otr_v3_with_libotr(network, language, libotr_starts):
    make_relay, party = network
    relay = make_relay()
    alice = party(language, "alice", relay, max_message_size=1000)
    dave = party("libotr", "dave", relay, max_message_size=1000)

    (dave if libotr_starts else alice).command(f"start {'alice' if libotr_starts else 'dave'}")
    assert alice.expect_event("legacy_session_started")["code"] == 34
    alice.expect_state("dave", "encrypted_unverified")
    assert dave.expect_state("alice", "encrypted_unverified")["protocol"] == "otr_v3"
    assert any(t.startswith("?OTR:AAMC") for t in texts(relay)), "an OTR v3 AKE"
    assert not any(t.startswith("?OFR:") for t in texts(relay)), "no modern message to a libotr user"
    # offrec's upgrade probe reaches libotr as an empty message: a heartbeat, nothing shown.
    dave.expect_event("heartbeat_received")

    alice.command("send dave to libotr")
    assert dave.expect_deliver("to libotr")["protocol"] == "otr_v3"
    dave.command("send alice to offrec")
    alice.expect_deliver("to offrec")
    # Larger than the transport limit: both fragment, both reassemble.
    long_text = "".join(chr(ord("a") + i % 26) for i in range(3000))
    alice.command(f"send dave {long_text}")
    dave.expect_deliver(long_text)
    dave.command(f"send alice {long_text.upper()}")
    alice.expect_deliver(long_text.upper())
    assert any(t.startswith("?OTR|") for t in texts(relay, "dave")), "libotr fragmented"
    assert any(t.startswith("?OTR|") for t in texts(relay, "alice")), "offrec fragmented"

    # libotr asks with a question: only libotr marks the key verified.
    dave.command("smp alice moonbase What base?")
    assert alice.expect_event("smp_asked_for_secret")["question"] == "What base?"
    alice.command("answer dave moonbase")
    dave.expect_event("smp_succeeded")
    dave.expect_state("alice", "encrypted_verified")
    alice.expect_event("smp_verified_by_peer")
    dave.command("send alice checked")
    alice.expect_deliver("checked", security="encrypted_unverified")
    # offrec asks without a question: libotr verifies too (its trust rule), and so does offrec.
    alice.command("smp dave sesame")
    dave.expect_event("smp_asked_for_secret")
    dave.command("answer alice sesame")
    alice.expect_event("smp_succeeded")
    alice.expect_state("dave", "encrypted_verified")
    dave.expect_event("smp_succeeded")

    # The extra symmetric key: the same on both sides.
    alice.command("esk dave 7 files")
    ours = alice.expect(lambda r: r["type"] == "esk")
    theirs = dave.expect_event("extra_key_received")
    assert ours["key"] == theirs["key"] and theirs["usage"] == 7 and theirs["context"] == "files"

    # Ending tells libotr, which is FINISHED until it ends too.
    alice.command("end dave")
    alice.expect_state("dave", "plaintext")
    dave.expect_state("alice", "finished")
    dave.command("end alice")
    dave.expect_state("alice", "plaintext")
    for t in texts(relay):
        assert "to offrec" not in t and "to libotr" not in t, t


def test_a_libotr_party_reports_the_same_session_id_as_offrec(network):
    make_relay, party = network
    relay = make_relay()
    alice = party("c", "alice", relay)
    dave = party("libotr", "dave", relay)
    dave.command("start alice")
    alice.expect_state("dave", "encrypted_unverified")
    dave.expect_state("alice", "encrypted_unverified")
    alice.command("protocol dave")
    dave.command("protocol alice")
    ours = alice.expect(lambda r: r["type"] == "protocol")["sessions"]
    theirs = dave.expect(lambda r: r["type"] == "protocol")["sessions"]
    assert [s["protocol"] for s in ours] == ["otr_v3"] and ours[0]["strength"] == "legacy"
    assert ours[0]["their_otr_fingerprint"] == dave.fingerprint
    assert ours[0]["otr_ssid"] == theirs[0]["otr_ssid"]
    assert {ours[0]["bold"], theirs[0]["bold"]} == {"first", "second"}


@pytest.mark.parametrize("starter,responder", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_a_stripped_offer_between_offrec_parties_is_upgraded(network, starter, responder):
    make_relay, party = network
    relay = make_relay(strip_modern_offer=True)
    erin = party(starter, "erin", relay, max_message_size=1000)
    frank = party(responder, "frank", relay, max_message_size=1000)
    erin.command("start frank")
    for p in (erin, frank):
        assert p.expect_event("legacy_session_started")["code"] == 34
    for p in (erin, frank):
        assert p.expect_event("protocol_upgraded")["code"] == 35
    settle(relay)
    wire = texts(relay)
    assert relay.notes and "?OFRv1?" in relay.notes[0]
    assert wire[0].startswith("?OTRv") and "?OFRv" not in wire[0], wire[0]
    assert any(t.startswith("?OTR:AAMC") for t in wire), "OTR first"
    for p in (erin, frank):
        assert not any(r.get("name") == "downgrade_suspected" for r in p.drain())
    sent_from = len(relay.wire)
    erin.command("send frank modern now")
    frank.expect_deliver("modern now")
    frank.command("send erin modern too")
    erin.expect_deliver("modern too")
    settle(relay)
    after = [line.partition(": ")[2] for line in relay.wire[sent_from:]]
    assert after and all(t.startswith("?OFR:") for t in after), after


def test_the_stripping_relay_changes_only_queries(network):
    make_relay, _ = network
    relay = make_relay(strip_modern_offer=True)
    with socket.create_connection(("127.0.0.1", relay.port)) as a, \
            socket.create_connection(("127.0.0.1", relay.port)) as b:
        a.sendall(b"HELLO a\n")
        b.sendall(b"HELLO b\n")
        time.sleep(0.1)
        a.sendall(b"TO b ?OTRv23? ?OFRv1? An encrypted conversation\n")
        a.sendall(b"TO b I typed ?OFRv1? myself\n")
        a.sendall(b"TO b ?OFRv1? alone\n")
        received = b""
        deadline = time.monotonic() + 5
        while received.count(b"\n") < 3 and time.monotonic() < deadline:
            received += b.recv(4096)
    assert received.decode().splitlines() == [
        "FROM a ?OTRv23? An encrypted conversation",
        "FROM a I typed ?OFRv1? myself",
        "FROM a ?OFRv1? alone",
    ]
    settle(relay, quiet=0.1)
    assert len(relay.notes) == 1 and "a's query to b" in relay.notes[0], relay.notes
