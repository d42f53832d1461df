"""Issue #13 items 2 and 4 through the Python binding: a new unverified key for a verified peer
never takes over plain sends without consent (accept_key, send_to_instance, set_trust), with
the attacker on a new instance tag or on the real one; SMP with a question verifies only the
asker."""

from __future__ import annotations

import os
from typing import Tuple

import pytest

import offrec
from offrec import EventCode, NotSentReason, SessionState, Trust

from conftest import Net, Party

MALLORY_TAG = 0x0BAD0BAD


def verified_pair(net: Net) -> Tuple[Party, Party]:
    a, b = net.party("alice"), net.party("bob")
    a.start_session("bob")
    net.pump()
    a.set_trust("bob", b.fingerprint, Trust.VERIFIED_MANUAL)
    assert a.session_state("bob") == SessionState.ENCRYPTED_VERIFIED
    return a, b


def mallory_handshakes(net: Net, tag: int) -> Party:
    """Mallory, as "bob" with her own key, completes a handshake with Alice while Bob is away."""
    bob = net.clients["bob"]
    mallory = Party(net, "bob", identity_secret=os.urandom(32), instance_tag=tag)
    net.clients["bob"] = mallory
    mallory.start_session("alice")
    net.pump()
    net.clients["bob"] = bob
    return mallory


def consent_events(a: Party):  # type: ignore[no-untyped-def]
    return [e for e in a.events if e.code == EventCode.KEY_CONSENT_REQUIRED]


def test_new_instance_does_not_take_over_and_control_messages_do_not_move(net: Net) -> None:
    a, b = verified_pair(net)
    m = mallory_handshakes(net, MALLORY_TAG)
    try:
        assert EventCode.FINGERPRINT_CHANGED in a.codes()
        (announce,) = consent_events(a)
        assert announce.message_id == 0 and announce.fingerprint == m.fingerprint
        assert announce.instance == MALLORY_TAG
        assert a.trust("bob", m.fingerprint) == Trust.UNVERIFIED

        a.send("bob", "for bob")
        net.pump()
        assert b.texts() == ["for bob"]
        # A control message (extra key, no text) from Mallory reaches Alice...
        net.clients["bob"] = m
        m.extra_symmetric_key("alice", 1)
        net.pump()
        net.clients["bob"] = b
        assert EventCode.EXTRA_KEY_RECEIVED in a.codes()
        # ...and does not move routing: the next send is still Bob's.
        a.send("bob", "still for bob")
        net.pump()
        assert b.texts() == ["for bob", "still for bob"]
        assert m.texts() == []

        # Sending to her instance explicitly reaches her.
        net.clients["bob"] = m
        a.send_to_instance("bob", MALLORY_TAG, "explicitly")
        net.pump()
        net.clients["bob"] = b
        assert m.texts() == ["explicitly"]
    finally:
        m.close()


def test_reused_tag_holds_until_accept_key(net: Net) -> None:
    a, b = verified_pair(net)
    m = mallory_handshakes(net, b.instance_tag)
    try:
        assert len(a.sessions("bob")) == 1  # her session replaced Bob's under his tag
        wire_before = len(net.wire)
        mid = a.send("bob", "held one")
        assert len(net.wire) == wire_before  # not to her, not in the clear
        held = consent_events(a)[-1]
        assert held.message_id == mid and held.fingerprint == m.fingerprint

        with pytest.raises(offrec.NoSessionError):
            a.accept_key("bob", 0x4242)
        with pytest.raises(offrec.InvalidArgumentError):
            a.accept_key("bob", 0)

        net.clients["bob"] = m
        a.accept_key("bob", b.instance_tag)
        net.pump()
        assert any(e.code == EventCode.HELD_MESSAGE_SENT and e.message_id == mid for e in a.events)
        assert m.texts() == ["held one"]
        a.send("bob", "after consent")
        net.pump()
        assert m.texts() == ["held one", "after consent"]
        assert a.trust("bob", m.fingerprint) == Trust.UNVERIFIED  # consent is not verification
    finally:
        net.clients["bob"] = b
        m.close()


def test_reused_tag_held_message_fails_with_key_changed(net: Net) -> None:
    a, b = verified_pair(net)
    m = mallory_handshakes(net, b.instance_tag)
    try:
        mid = a.send("bob", "never sent")
        net.clock += 121
        a.tick()
        failed = [e for e in a.events if e.code == EventCode.MESSAGE_NOT_SENT]
        assert failed and failed[-1].message_id == mid
        assert failed[-1].reason == NotSentReason.KEY_CHANGED
    finally:
        m.close()


def test_smp_question_verifies_only_the_asker_without_question_both(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    net = a.net
    a.smp_start("bob", "blue", "colour?")
    net.pump()
    b.smp_respond("alice", "blue")
    net.pump()
    assert EventCode.SMP_SUCCEEDED in a.codes() and a.trust("bob", b.fingerprint) == Trust.VERIFIED_SMP
    assert EventCode.SMP_VERIFIED_BY_PEER in b.codes() and EventCode.SMP_SUCCEEDED not in b.codes()
    assert b.trust("alice", a.fingerprint) == Trust.UNVERIFIED
    assert b.session_state("alice") == SessionState.ENCRYPTED_UNVERIFIED

    net.clock += 11
    b.smp_start("alice", "red")
    net.pump()
    a.smp_respond("bob", "red")
    net.pump()
    assert EventCode.SMP_SUCCEEDED in b.codes()
    assert b.trust("alice", a.fingerprint) == Trust.VERIFIED_SMP
