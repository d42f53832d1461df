"""SMP, trust, extra symmetric keys, forging."""

from __future__ import annotations

import pytest

import offrec
from offrec import EventCode, SessionState, Trust


def test_smp_success_with_question_then_failure_and_abort(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    net = a.net
    with pytest.raises(offrec.SmpRefusedError) as info:
        b.smp_respond("alice", "x")  # nothing asked yet
    assert isinstance(info.value, offrec.SmpError)

    a.smp_start("bob", "blue", "favourite colour?")
    assert a.sessions("bob")[0].smp_in_progress
    net.pump()
    asked = [e for e in b.events if e.code == EventCode.SMP_ASKED_FOR_SECRET]
    assert asked and asked[-1].text == "favourite colour?"
    b.smp_respond("alice", "blue")
    net.pump()
    # With a question only the asker verifies; the answerer is told it was verified.
    assert EventCode.SMP_SUCCEEDED in a.codes() and EventCode.SMP_SUCCEEDED not in b.codes()
    assert EventCode.SMP_VERIFIED_BY_PEER in b.codes()
    assert a.session_state("bob") == SessionState.ENCRYPTED_VERIFIED
    assert b.session_state("alice") == SessionState.ENCRYPTED_UNVERIFIED
    assert a.trust("bob", b.fingerprint) == Trust.VERIFIED_SMP
    assert b.trust("alice", a.fingerprint) == Trust.UNVERIFIED
    b.send("alice", "verified now")
    net.pump()
    assert a.delivered[-1][2] == offrec.Security.ENCRYPTED_VERIFIED

    with pytest.raises(offrec.SmpRateLimitedError):
        a.smp_start("bob", "again")

    # Without a question, different secrets: failure on both sides.
    net.clock += 11
    b.smp_start("alice", "red")
    net.pump()
    asked = [e for e in a.events if e.code == EventCode.SMP_ASKED_FOR_SECRET]
    assert asked[-1].text is None
    a.smp_respond("bob", "green")
    net.pump()
    assert EventCode.SMP_FAILED in a.codes() and EventCode.SMP_FAILED in b.codes()

    net.clock += 11
    a.smp_start("bob", "x", instance=b.instance_tag)
    a.smp_abort("bob")
    net.pump()
    assert EventCode.SMP_ABORTED in a.codes() and EventCode.SMP_ABORTED in b.codes()


def test_trust_set_revoke_and_known_keys(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    assert a.known_keys("bob") == [offrec.KnownKey(b.fingerprint, Trust.UNVERIFIED)]
    assert a.trust("bob", bytes(32)) == Trust.UNVERIFIED  # unknown key
    a.states.clear()
    a.set_trust("bob", b.fingerprint, Trust.VERIFIED_MANUAL)
    assert a.trust("bob", b.fingerprint) == Trust.VERIFIED_MANUAL
    assert a.session_state("bob") == SessionState.ENCRYPTED_VERIFIED
    assert ("bob", SessionState.ENCRYPTED_VERIFIED) in a.states
    a.set_trust("bob", b.fingerprint, Trust.UNVERIFIED)
    assert a.session_state("bob") == SessionState.ENCRYPTED_UNVERIFIED
    assert a.known_keys("bob")[0].trust == Trust.UNVERIFIED
    # A key set by hand is added to the known keys.
    other = bytes(range(32))
    a.set_trust("bob", other, Trust.VERIFIED_MANUAL)
    keys = a.known_keys("bob")
    assert len(keys) == 2 and offrec.KnownKey(other, Trust.VERIFIED_MANUAL) in keys
    assert a.known_keys("nobody") == []
    with pytest.raises(ValueError):
        a.set_trust("bob", b"short", Trust.VERIFIED_MANUAL)
    with pytest.raises(offrec.UnknownEnumValueError):
        a.set_trust("bob", other, 7)  # type: ignore[arg-type]


def test_extra_symmetric_key_equal_on_both_sides(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    key = a.extra_symmetric_key("bob", 42, b"file.txt")
    assert len(key) == 32 and key != bytes(32)
    a.net.pump()
    got = [e for e in b.events if e.code == EventCode.EXTRA_KEY_RECEIVED]
    assert len(got) == 1
    assert got[0].key is not None and bytes(got[0].key) == key
    assert got[0].usage == 42 and got[0].context == b"file.txt"
    assert key.hex() not in repr(got[0]) and str(list(key)) not in repr(got[0])  # secret-free repr
    key2 = b.extra_symmetric_key("alice", 7)
    a.net.pump()
    ev = [e for e in a.events if e.code == EventCode.EXTRA_KEY_RECEIVED][-1]
    assert bytes(ev.key or b"") == key2 and ev.context is None


def test_forge_round_trip(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    a.send("bob", "I will pay you 10 euros")
    captured = a.sent[-1]
    a.net.pump()
    b.send("alice", "ok")
    reply = b.sent[-1]
    a.net.pump()
    forged = offrec.forge(captured, [reply], "I will pay you 10 euros", "I will pay you 99 euros")
    assert forged.startswith("?OFR") and len(forged) == len(captured) and forged != captured
    from offrec.forge import forge as forge_fn

    assert forge_fn(captured, [reply], "I will pay you 10 euros", "I will pay you 10 euros") == captured

    with pytest.raises(offrec.NotADataMessageError) as info:
        offrec.forge("hello", [reply], "a", "b")
    assert isinstance(info.value, offrec.ForgeError)
    with pytest.raises(offrec.NoMatchingRevealError):
        offrec.forge(captured, [], "I will pay you 10 euros", "b")
    with pytest.raises(offrec.TextDoesNotFitError):
        offrec.forge(captured, [reply], "way too long to be the text of this message at all", "b")
