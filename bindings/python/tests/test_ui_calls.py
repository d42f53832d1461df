"""The calls a chat UI needs (issue #16 §2) through the Python binding: peers and keys with
their kind, forgetting (refused while in use), a policy per peer, the texts we send, the
``is_logged_in`` callback, :func:`offrec.classify` and the name functions."""

from __future__ import annotations

from typing import List, Optional

import pytest

import offrec
from offrec import EventCode, KeyKind, MessageKind, NotSentReason, Policy, SessionState, Text, Trust

from conftest import Net, Party

OTR_KEY_ID = b"otr-dsa-sha1" + bytes(range(0xC0, 0xD4))


# --- peers and keys ----------------------------------------------------------------------------


def test_peers_and_keys_are_listed_with_kind(pair) -> None:  # type: ignore[no-untyped-def]
    a, _ = pair
    assert a.peers() == ["bob"]
    [key] = a.known_keys("bob")
    assert key.kind is KeyKind.MODERN and key.trust is Trust.UNVERIFIED
    assert key.native_fingerprint == key.key_id == key.fingerprint and len(key.native_fingerprint) == 32
    a.set_trust("bob", OTR_KEY_ID, Trust.VERIFIED_MANUAL)
    a.set_peer_policy("zoe", Policy.NEVER)
    otr = [k for k in a.known_keys("bob") if k.kind is KeyKind.OTR_DSA]
    assert len(otr) == 1 and otr[0].native_fingerprint == OTR_KEY_ID[12:] and otr[0].trust is Trust.VERIFIED_MANUAL
    assert offrec.format_otr_fingerprint(otr[0].native_fingerprint).startswith("C0C1C2C3 ")
    assert a.peers() == ["bob", "zoe"], "sorted; a peer with only a policy counts"
    assert "KeyKind.OTR_DSA" in repr(otr[0]) or "OTR_DSA" in repr(otr[0])


def test_nothing_in_use_is_forgotten(pair, net: Net) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    [key] = a.known_keys("bob")
    with pytest.raises(offrec.KeyInUseError):
        a.forget_key("bob", key.key_id)
    with pytest.raises(offrec.UnknownKeyError):
        a.forget_key("bob", bytes(32))
    with pytest.raises(offrec.SessionActiveError):
        a.forget_peer("bob")
    with pytest.raises(offrec.UnknownPeerError):
        a.forget_peer("nobody")
    with pytest.raises(ValueError):
        a.forget_key("bob", b"short")
    assert a.known_keys("bob") == [key], "refusals change nothing"
    # The session ends; now the key goes, and a save is asked for.
    a.end_session("bob")
    net.queue.clear()
    a.save(key=bytes(32))  # PERSIST_NEEDED is reported once until saved
    a.events.clear()
    a.forget_key("bob", key.key_id)
    assert a.known_keys("bob") == []
    saves = [e for e in a.events if e.code == EventCode.PERSIST_NEEDED]
    assert saves and saves[-1].reason & offrec.PersistFlag.TRUST
    # Seen again: a new key again.
    a.start_session("bob")
    net.pump()
    assert any(e.code == EventCode.NEW_FINGERPRINT and e.fingerprint == key.key_id for e in a.events)


def test_forgetting_a_peer_fails_what_was_held(net: Net) -> None:
    a = net.party("alice", Policy.ALWAYS)
    mid = a.send("bob", "held for bob")
    net.queue.clear()
    a.forget_peer("bob")
    failed = [e for e in a.events if e.code == EventCode.MESSAGE_NOT_SENT]
    assert [(e.message_id, e.reason) for e in failed] == [(mid, NotSentReason.SESSION_ENDED)]
    assert a.peers() == []


# --- per-peer policy -----------------------------------------------------------------------------


def test_a_never_policy_changes_that_peer_only(net: Net) -> None:
    a = net.party("alice", Policy.OPPORTUNISTIC)
    b = net.party("bob", Policy.OPPORTUNISTIC)
    c = net.party("carol", Policy.OPPORTUNISTIC)
    a.set_peer_policy("bob", Policy.NEVER)
    assert a.peer_policy("bob") == Policy.NEVER and a.effective_policy("bob") == Policy.NEVER
    assert a.peer_policy("carol") is None and a.effective_policy("carol") == Policy.OPPORTUNISTIC
    a.send("bob", "hi bob")
    assert a.sent[-1] == "hi bob", "no whitespace tag to bob"
    a.send("carol", "hi carol")
    assert offrec.classify(a.sent[-1]) is MessageKind.OFFREC_TAGGED
    net.pump()
    assert a.session_state("carol") == SessionState.ENCRYPTED_UNVERIFIED
    b.start_session("alice")
    net.pump()
    assert a.session_state("bob") == SessionState.PLAINTEXT, "bob's query is not answered"
    with pytest.raises(offrec.PolicyForbidsError):
        a.start_session("bob")
    with pytest.raises(offrec.InvalidPolicyError):
        a.set_peer_policy("bob", 1 << 20)
    a.clear_peer_policy("bob")
    b.start_session("alice")
    net.pump()
    assert a.session_state("bob") == SessionState.ENCRYPTED_UNVERIFIED
    del c


def test_require_modern_for_one_peer_and_policies_survive_a_reload(net: Net) -> None:
    a = net.party("alice", Policy.MANUAL)
    a.set_peer_policy("bob", Policy.MANUAL | Policy.REQUIRE_MODERN)
    a.receive("bob", "?OTRv3?")
    assert a.sent == [] and EventCode.FOREIGN_PROTOCOL in a.codes()
    a.receive("carol", "?OTRv3?")
    assert offrec.classify(a.sent[-1]) is MessageKind.OTR_DH_COMMIT
    key = bytes(range(32))
    sealed = a.save(key=key)
    b = Party(net, "alice", Policy.MANUAL, sealed=sealed, key=key)
    try:
        assert b.peer_policy("bob") == Policy.MANUAL | Policy.REQUIRE_MODERN
        assert b.peer_policy("carol") is None
    finally:
        b.close()


# --- texts ---------------------------------------------------------------------------------------


def test_the_peer_gets_our_query_text(net: Net) -> None:
    a, b = net.party("alice"), net.party("bob")
    a.set_text(Text.QUERY, "Verschlüsseltes Gespräch angefragt.")
    assert a.text(Text.QUERY) == "Verschlüsseltes Gespräch angefragt."
    a.start_session("bob")
    query = a.sent[-1]
    assert query.startswith("?OTRv") and "?OFRv1?" in query and query.endswith("Gespräch angefragt.")
    assert offrec.classify(query) is MessageKind.OFFREC_QUERY
    net.pump()
    assert b.session_state("alice") == SessionState.ENCRYPTED_UNVERIFIED
    a.set_text(Text.QUERY, None)
    assert a.text(Text.QUERY).startswith("An encrypted conversation was requested")


@pytest.mark.parametrize("bad", ["x ?OTRv3? y", "?ofr: z", "tab\there", "nul\0here"])
def test_bad_texts_are_refused(net: Net, bad: str) -> None:
    a = net.party("alice")
    before = a.text(Text.OTR_ERROR_MALFORMED)
    with pytest.raises(offrec.InvalidTextError):
        a.set_text(Text.OTR_ERROR_MALFORMED, bad)
    with pytest.raises(offrec.MessageTooLargeError):
        a.set_text(Text.OTR_ERROR_MALFORMED, "a" * (offrec.MAX_CUSTOM_TEXT_LEN + 1))
    with pytest.raises(offrec.UnknownEnumValueError):
        a.set_text(99, "x")  # type: ignore[arg-type]
    assert a.text(Text.OTR_ERROR_MALFORMED) == before


def test_otr_error_text_reaches_the_peer_as_libotr_reads_it(net: Net) -> None:
    a = Party(net, "alice", Policy.MANUAL, identity_secret=bytes([5] * 32), instance_tag=0x1234ABCD)
    net.add(a, "alice")
    a.set_text(Text.OTR_ERROR_NOT_IN_PRIVATE, "Nachricht ohne Sitzung.")
    a.receive("mallory", "?OTR:AAMDAAASNBI0q80A.")  # OTR data for alice's instance, no session
    assert a.sent[-1] == "?OTR Error: Nachricht ohne Sitzung."
    assert offrec.classify(a.sent[-1]) is MessageKind.OTR_ERROR


# --- is_logged_in --------------------------------------------------------------------------------


class Presence(Party):
    online: Optional[bool] = None
    asked: List[str]

    def is_logged_in(self, peer: str) -> Optional[bool]:
        self.asked.append(peer)
        return self.online


def test_no_heartbeat_and_no_session_end_to_an_offline_peer(net: Net) -> None:
    a = net.party("alice")
    b = Presence.__new__(Presence)
    b.asked = []
    Party.__init__(b, net, "bob")
    net.add(b, "bob")
    a.start_session("bob")
    net.pump()
    a.send("bob", "ping")
    net.pump()
    net.clock += 61
    b.online = False
    b.tick()
    assert b.asked == ["alice"]
    assert EventCode.HEARTBEAT_SENT not in b.codes() and not net.queue
    b.online = None
    b.tick()
    assert EventCode.HEARTBEAT_SENT in b.codes()
    net.pump()
    b.asked.clear()
    b.send("alice", "pong")
    assert b.asked == [], "only tick and end_session ask"
    net.pump()
    b.online = False
    b.end_session("alice")
    assert not net.queue and b.session_state("alice") == SessionState.PLAINTEXT
    assert a.session_state("bob") == SessionState.ENCRYPTED_UNVERIFIED, "alice was not told"


def test_is_logged_in_as_a_keyword_and_its_exceptions(net: Net) -> None:
    answers: List[object] = ["yes"]
    a = net.party("alice")
    b = Party(net, "bob", is_logged_in=lambda peer: answers[0])
    net.add(b, "bob")
    a.start_session("bob")
    net.pump()
    with pytest.raises(TypeError, match="is_logged_in returned"):
        b.end_session("alice")
    # The call completed as if unknown: the end went out.
    net.pump()
    assert a.session_state("bob") == SessionState.FINISHED


# --- classify and names --------------------------------------------------------------------------


def test_classify_and_names() -> None:
    assert offrec.classify("hello") is MessageKind.PLAINTEXT
    assert offrec.classify("?OTRv23?") is MessageKind.OTR_QUERY
    assert offrec.classify(b"?OTR:AAEC.") is MessageKind.OTR_FOREIGN
    assert offrec.classify("?OFR:@@") is MessageKind.MALFORMED
    assert MessageKind.OTR_TAGGED.is_for_people and not MessageKind.OTR_DATA.is_for_people
    with pytest.raises(offrec.InvalidUtf8Error):
        offrec.classify(b"\xff")
    for code in EventCode:
        assert offrec.event_name(code) == code.name.lower()
    for kind in MessageKind:
        assert offrec.message_kind_name(kind) == kind.name.lower()
    for kind in KeyKind:
        assert offrec.key_kind_name(kind) == kind.name.lower()
    for state in SessionState:
        assert offrec.state_name(state) == state.name.lower()
    for trust in Trust:
        assert offrec.trust_name(trust) == trust.name.lower()
    for reason in offrec.HandshakeFailure:
        assert offrec.handshake_failure_name(reason) == reason.name.lower()
    for reason in NotSentReason:
        assert offrec.not_sent_reason_name(reason) == reason.name.lower()
    for protocol in offrec.Protocol:
        assert offrec.protocol_name(protocol) == protocol.name.lower()
    assert offrec.event_name(29) == "unknown" and offrec.message_kind_name(-1) == "unknown"


def test_plaintext_beyond_ascii_reaches_the_send_callback_unchanged(net: Net) -> None:
    # Wire text is UTF-8 (protocol messages are ASCII, plaintext is the user's): the send
    # trampoline once decoded it as ASCII and mangled plaintext such as this.
    a, b = net.party("alice", Policy.NEVER), net.party("bob", Policy.NEVER)
    a.send("bob", "grüße ✓")
    assert a.sent[-1] == "grüße ✓"
    net.pump()
    assert b.texts() == ["grüße ✓"]
