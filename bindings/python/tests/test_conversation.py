from __future__ import annotations

import pytest

import offrec
from offrec import Client, EventCode, NotSentReason, Option, Policy, Security, SessionState

from conftest import Net


def test_two_clients_converse(net: Net) -> None:
    a, b = net.party("alice"), net.party("bob")
    assert a.session_state("bob") == SessionState.PLAINTEXT
    a.start_session("bob")
    net.pump()
    for me, peer in ((a, "bob"), (b, "alice")):
        assert me.session_state(peer) == SessionState.ENCRYPTED_UNVERIFIED
        assert (peer, SessionState.ENCRYPTED_UNVERIFIED) in me.states
        assert EventCode.NEW_FINGERPRINT in me.codes()
    new_fp = next(e for e in b.events if e.code == EventCode.NEW_FINGERPRINT)
    assert new_fp.fingerprint == a.fingerprint and new_fp.peer == "alice"

    id1 = a.send("bob", "hello bob")
    id2 = a.send("bob", "second")
    assert 0 < id1 < id2
    b.send("alice", "hi alice \u00e9\u263a")
    net.pump()
    assert b.delivered == [
        ("alice", "hello bob", Security.ENCRYPTED_UNVERIFIED),
        ("alice", "second", Security.ENCRYPTED_UNVERIFIED),
    ]
    assert a.delivered == [("bob", "hi alice \u00e9\u263a", Security.ENCRYPTED_UNVERIFIED)]
    # The presets' query offers OTR v2/v3 first; everything after it is offrec's protocol.
    assert net.wire[0][2].startswith("?OTRv23? ?OFRv1?")
    assert all(t.startswith("?OFR") for _, _, t in net.wire[1:])
    assert not any("hello bob" in t for _, _, t in net.wire)

    # What each side knows of the session matches the other side.
    (ia,) = a.sessions("bob")
    (ib,) = b.sessions("alice")
    assert ia.instance == b.instance_tag and ib.instance == a.instance_tag
    assert ia.their_fingerprint == b.fingerprint and ib.their_fingerprint == a.fingerprint
    assert ia.ssid == ib.ssid and len(ia.ssid_text) == 17
    assert ia.we_initiated != ib.we_initiated
    assert not ia.smp_in_progress
    assert len(offrec.format_fingerprint(a.fingerprint)) == 71

    # Ending: the peer sees FINISHED and cannot send until it ends too.
    a.end_session("bob")
    assert a.session_state("bob") == SessionState.PLAINTEXT
    net.pump()
    assert EventCode.PEER_ENDED_SESSION in b.codes()
    assert b.session_state("alice") == SessionState.FINISHED
    with pytest.raises(offrec.SessionFinishedError) as info:
        b.send("alice", "are you there?")
    assert isinstance(info.value, offrec.SessionError)
    assert info.value.code == offrec.Result.SESSION_FINISHED
    b.end_session("alice")
    assert b.session_state("alice") == SessionState.PLAINTEXT


def test_plain_callables_and_reply_from_deliver() -> None:
    """Callbacks as plain callables; bob replies from inside his deliver callback."""
    queue: list[tuple[str, str, str]] = []
    got: dict[str, list[str]] = {"alice": [], "bob": []}
    clients: dict[str, Client] = {}

    def bob_deliver(peer: str, text: str, security: Security, instance: int) -> None:
        got["bob"].append(text)
        if text.startswith("ping"):
            clients["bob"].send(peer, "pong" + text[4:])

    clients["alice"] = Client(
        "alice", "test", Policy.MANUAL,
        on_send=lambda peer, text: queue.append(("alice", peer, text)),
        on_deliver=lambda peer, text, sec, inst: got["alice"].append(text),
    )
    clients["bob"] = Client(
        "bob", "test", Policy.MANUAL,
        on_send=lambda peer, text: queue.append(("bob", peer, text)),
        on_deliver=bob_deliver,
    )
    with clients["alice"] as a, clients["bob"]:
        a.start_session("bob")
        a.send("bob", "ping 1")  # plaintext before the session is up (manual policy)
        while queue:
            sender, to, text = queue.pop(0)
            clients[to].receive(sender, text)
        a.send("bob", "ping 2")
        while queue:
            sender, to, text = queue.pop(0)
            clients[to].receive(sender, text)
        assert got["bob"] == ["ping 1", "ping 2"]
        assert got["alice"] == ["pong 1", "pong 2"]
    assert clients["alice"].closed and clients["bob"].closed


def test_always_policy_holds_messages(net: Net) -> None:
    a, b = net.party("ann", Policy.ALWAYS), net.party("ben", Policy.ALWAYS)
    mid = a.send("ben", "held until encrypted")
    assert EventCode.ENCRYPTION_REQUIRED in a.codes()
    held = next(e for e in a.events if e.code == EventCode.ENCRYPTION_REQUIRED)
    assert held.message_id == mid
    net.pump()
    sent = next(e for e in a.events if e.code == EventCode.HELD_MESSAGE_SENT)
    assert sent.message_id == mid
    assert b.delivered == [("ann", "held until encrypted", Security.ENCRYPTED_UNVERIFIED)]


def test_fragmentation_via_max_message_size_callback(net: Net) -> None:
    a, b = net.party("ann"), net.party("ben")
    a.size_limit = b.size_limit = 100
    a.start_session("ben")
    net.pump()
    long_text = "a long message that certainly needs several fragments " * 20
    before = len(a.sent)
    a.send("ben", long_text)
    pieces = a.sent[before:]
    assert len(pieces) > 5 and max(len(p) for p in pieces) <= 100
    net.pump()
    assert b.texts()[-1] == long_text


def test_set_max_message_size_and_options(net: Net) -> None:
    a = Client("ann", "test", on_send=lambda p, t: net.post("ann", p, t), on_deliver=lambda *x: None)
    b = net.party("ben")
    net.add(a, "ann")
    a.set_max_message_size("ben", 90)
    a.set_option(Option.PADDING_BLOCK, 32)
    a.start_session("ben")
    net.pump()
    start = len(net.wire)
    a.send("ben", "x" * 500)
    assert all(len(t) <= 90 for s, _, t in net.wire[start:] if s == "ann")
    net.pump()
    assert b.texts() == ["x" * 500]
    with pytest.raises(offrec.InvalidArgumentError):
        a.set_max_message_size("ben", 10)
    with pytest.raises(offrec.InvalidArgumentError):
        a.set_option(Option.PADDING_BLOCK, 10_000)
    with pytest.raises(offrec.UnknownEnumValueError):
        a.set_option(99, 1)  # type: ignore[arg-type]


def test_heartbeat_on_tick(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    b.send("alice", "hi")
    a.net.pump()
    a.net.clock += 61
    a.tick()
    assert EventCode.HEARTBEAT_SENT in a.codes()
    a.net.pump()
    assert EventCode.HEARTBEAT_RECEIVED in b.codes()


def test_non_utf8_bytes_round_trip(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    raw = b"\xff\xfe binary \x00 with NUL"
    a.send("bob", raw)
    a.net.pump()
    text = b.delivered[-1][1]
    assert text.encode("utf-8", "surrogateescape") == raw


def test_policy_and_argument_errors(net: Net) -> None:
    a = net.party("ann", Policy.NEVER)
    with pytest.raises(offrec.PolicyForbidsError):
        a.start_session("ben")
    with pytest.raises(offrec.InvalidArgumentError) as info:
        a.send("", "x")
    assert isinstance(info.value, ValueError) and isinstance(info.value, offrec.OffrecError)
    assert info.value.message == offrec.result_message(2)
    with pytest.raises(offrec.InvalidPolicyError):
        a.set_policy(1 << 9)  # 32..256 are the OTR flags now
    with pytest.raises(offrec.MessageTooLargeError):
        a.send("ben", "a" * (offrec.MAX_TEXT_LEN + 1))
    with pytest.raises(offrec.NoSessionError):
        a.smp_abort("ben")
    with pytest.raises(offrec.NoSessionError):
        a.extra_symmetric_key("ben", 1)
    with pytest.raises(offrec.InvalidArgumentError):
        a.session_info("ben", 0)
    with pytest.raises(TypeError):
        a.send(42, "x")  # type: ignore[arg-type]
    a.set_policy(Policy.OPPORTUNISTIC)
    with pytest.raises(offrec.InvalidArgumentError):
        Client("x" * (offrec.MAX_NAME_LEN + 1), "t", on_send=print, on_deliver=print)
    with pytest.raises(offrec.InvalidArgumentError):
        Client("a", "t", identity_secret=bytes(32), instance_tag=5, on_send=print, on_deliver=print)
    assert offrec.result_message(123456) == "unknown result code"
    err = offrec.errors.error_for(123456)
    assert type(err) is offrec.OffrecError and err.code == 123456


def test_identity_restored(net: Net) -> None:
    a = net.party("ann")
    secret, tag = a.identity_secret(), a.instance_tag
    assert len(secret) == 32 and tag >= 0x100
    with Client("ann", "test", identity_secret=secret, instance_tag=tag,
                on_send=print, on_deliver=print) as again:
        assert again.fingerprint == a.fingerprint and again.instance_tag == tag
    with pytest.raises(ValueError):
        Client("ann", "test", identity_secret=b"short", instance_tag=tag, on_send=print, on_deliver=print)


def test_message_not_sent_reason_enum() -> None:
    assert NotSentReason(6) is NotSentReason.TOO_LARGE
    assert offrec.Event(code=99, peer="x").name == "event_99"
    assert offrec.Event(code=EventCode.SMP_FAILED, peer="x").name == "smp_failed"


def test_set_policy_takes_effect(net: Net) -> None:
    """The policy set on a live client is the one it follows (issue #19: a no-op set_policy
    used to be caught by a single C check)."""
    a, b = net.party("ann"), net.party("ben")
    a.set_policy(Policy.ALWAYS)
    a.send("ben", "never in the clear")
    assert all(text.startswith(("?OFR", "?OTRv23? ?OFRv1?")) for _, _, text in net.wire), net.wire
    assert EventCode.ENCRYPTION_REQUIRED in a.codes()
    net.pump()
    assert b.texts() == ["never in the clear"]
    a.set_policy(Policy.NEVER)
    with pytest.raises(offrec.PolicyForbidsError):
        a.start_session("ben")


def test_loss_reports_through_the_binding(pair) -> None:  # type: ignore[no-untyped-def]
    """PROTOCOL.md §9.8 where apps meet it: a duplicate is not reported as lost; a corrupted
    message is reported alone and the session goes on (no new handshake)."""
    import base64

    a, b = pair
    net = a.net
    peer = "bob"
    first = a.send(peer, "once")
    copy = net.queue[-1]
    net.pump()
    net.queue.append(copy)  # the transport delivers it twice
    before = len(net.wire)
    net.pump()
    assert b.texts() == ["once"]
    assert not any(t.startswith("?OFR Error:") for _, _, t in net.wire[before:]), "a duplicate was reported"
    assert EventCode.PEER_COULD_NOT_READ not in a.codes()
    # A corrupted message: reported alone, with the ' only' form; later messages still flow.
    before = len(net.wire)
    lost = a.send(peer, "corrupted in transit")
    sender, to, text = net.queue.pop()
    raw = bytearray(base64.b64decode(text[5:-1]))
    raw[-1] ^= 1  # the GCM tag
    net.queue.append((sender, to, "?OFR:" + base64.b64encode(bytes(raw)).decode() + "."))
    net.pump()
    reports = [e for e in a.events if e.code == EventCode.PEER_COULD_NOT_READ]
    assert [e.message_id for e in reports] == [lost]
    assert not any(t.startswith("?OFRv") for _, _, t in net.wire[before:]), "no new session was asked for"
    a.send(peer, "after")
    net.pump()
    assert b.texts() == ["once", "after"]
    assert first != lost
