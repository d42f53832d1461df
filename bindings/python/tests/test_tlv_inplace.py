"""Application TLVs (send_tlvs, TLV_RECEIVED) and the in-place style (send_inplace,
receive_inplace) through the Python binding: both protocols, the refusals, and which outputs
go where."""

from __future__ import annotations

from typing import List, Tuple

import pytest

import offrec
from offrec import EventCode, Policy, Security, SessionState

from conftest import Net, Party

OTR_POLICY = Policy.ALLOW | Policy.ALLOW_OTR_V3 | Policy.ALLOW_OTR_V2


def tlvs_of(p: Party) -> List[Tuple[int, bytes]]:
    return [(e.tlv_type, e.tlv_value) for e in p.events if e.code == EventCode.TLV_RECEIVED]  # type: ignore[misc]


def exchange(a: Party, b: Party, net: Net) -> None:
    mid = a.send_tlvs("bob", "with tlvs", [(0x8001, b"typing"), (0xFFFF, b"")])
    assert mid > 0
    net.pump()
    assert tlvs_of(b) == [(0x8001, b"typing"), (0xFFFF, b"")]
    assert b.texts() == ["with tlvs"]
    a.send_tlvs("bob", "", {offrec.TLV_APP_FIRST: bytes([0, 1, 2])})
    net.pump()
    assert tlvs_of(b)[-1] == (0x8000, b"\x00\x01\x02")
    assert b.texts() == ["with tlvs"] and EventCode.HEARTBEAT_RECEIVED not in b.codes()
    b.send_tlvs("alice", b"", [(0x9000, "receipt")])
    net.pump()
    assert tlvs_of(a) == [(0x9000, b"receipt")]
    assert all("typing" not in t and "receipt" not in t for _, _, t in net.wire)


def test_tlvs_in_modern_sessions(pair: Tuple[Party, Party], net: Net) -> None:
    exchange(*pair, net)


def test_tlvs_in_otr_v3_and_refused_in_v2(net: Net) -> None:
    a, b = net.party("alice", OTR_POLICY), net.party("bob", OTR_POLICY)
    a.receive("bob", "?OTRv3?")
    net.pump()
    assert a.session_protocols("bob")[0].protocol == offrec.Protocol.OTR_V3
    exchange(a, b, net)

    net2 = Net()
    c, d = net2.party("alice", OTR_POLICY), net2.party("bob", OTR_POLICY)
    try:
        c.receive("bob", "?OTRv2?")
        net2.pump()
        assert c.session_protocols("bob")[0].protocol == offrec.Protocol.OTR_V2
        sent = len(c.sent)
        with pytest.raises(offrec.TlvsUnsupportedError):
            c.send_tlvs("bob", "hi", [(0x8000, b"x")])
        assert len(c.sent) == sent
        c.send_tlvs("bob", "text only", [])
        net2.pump()
        assert d.texts() == ["text only"]
    finally:
        c.close()
        d.close()


def test_refusals_send_nothing(net: Net) -> None:
    a, b = net.party("alice", Policy.ALWAYS), net.party("bob", Policy.ALWAYS)
    with pytest.raises(offrec.NoSessionError):
        a.send_tlvs("bob", "secret", [(0x8000, b"x")])
    assert a.sent == [] and a.events == []
    a.start_session("bob")
    net.pump()
    sent = len(a.sent)
    for bad in ([(0x7FFF, b"")], [(0x8000, b""), (1, b"")], [(0x4F46, b"")]):
        with pytest.raises(offrec.TlvTypeReservedError):
            a.send_tlvs("bob", "x", bad)
    with pytest.raises(offrec.TooManyTlvsError):
        a.send_tlvs("bob", "", [(0x8000 + i, b"v") for i in range(offrec.MAX_TLVS + 1)])
    with pytest.raises(offrec.MessageTooLargeError):
        a.send_tlvs("bob", "", [(0x8000, bytes(40_000)), (0x8001, bytes(40_000))])
    with pytest.raises(offrec.InvalidArgumentError):
        a.send_tlvs("bob", "", [])
    with pytest.raises(ValueError):
        a.send_tlvs("bob", "", [(0x10000, b"")])
    assert len(a.sent) == sent
    a.send_tlvs("bob", "", [(0x8000 + i, b"v") for i in range(offrec.MAX_TLVS)])
    net.pump()
    assert len(tlvs_of(b)) == offrec.MAX_TLVS
    assert issubclass(offrec.TlvTypeReservedError, offrec.ArgumentError)
    assert offrec.TooManyTlvsError("m", 145).code == 145


class InPlace(Party):
    """An in-place app: what it sends in place goes on the wire by hand; what it receives
    goes through receive_inplace."""

    def __init__(self, net: Net, name: str, policy: int = Policy.MANUAL) -> None:
        super().__init__(net, name, policy)
        self.shown: List[offrec.Incoming] = []

    def say(self, peer: str, text: str) -> offrec.Outgoing:
        sent = len(self.sent)
        out = self.send_inplace(peer, text)
        assert len(self.sent) == sent, "on_send is not called for the wire messages"
        for w in out.wire:
            self.net.post(self.name, peer, w)
        return out


def pump_inplace(net: Net, who: InPlace) -> int:
    ignored = 0
    while net.queue:
        sender, to, text = net.queue.popleft()
        if to == who.name:
            got = who.receive_inplace(sender, text)
            if got.ignore:
                ignored += 1
                assert got.text is None
            else:
                who.shown.append(got)
        else:
            net.clients[to].receive(sender, text)
    return ignored


def test_inplace_both_ways() -> None:
    net = Net()
    alice = net.add(InPlace(net, "alice"), "alice")
    bob = net.party("bob")
    try:
        out = alice.say("bob", "in the clear")  # type: ignore[attr-defined]
        assert out.wire == ["in the clear"] and out.message_id > 0
        pump_inplace(net, alice)  # type: ignore[arg-type]
        assert bob.texts() == ["in the clear"]

        bob.start_session("alice")
        ignored = pump_inplace(net, alice)  # type: ignore[arg-type]
        assert ignored >= 2, "the handshake lines are hidden"
        assert alice.session_state("bob") == SessionState.ENCRYPTED_UNVERIFIED
        assert EventCode.HANDSHAKE_COMPLETE in alice.codes(), "events still come through on_event"

        out = alice.say("bob", "private")  # type: ignore[attr-defined]
        assert len(out.wire) == 1 and out.wire[0].startswith("?OFR")
        pump_inplace(net, alice)  # type: ignore[arg-type]
        assert bob.texts()[-1] == "private"

        bob.send("alice", "private reply ✓")
        pump_inplace(net, alice)  # type: ignore[arg-type]
        shown = alice.shown[-1]  # type: ignore[attr-defined]
        assert shown.text == "private reply ✓" and shown.security == Security.ENCRYPTED_UNVERIFIED
        assert shown.instance == bob.instance_tag
        assert alice.delivered == [], "on_deliver is not called for lines received in place"
        assert "private" not in repr(shown) and "chars" in repr(shown)

        alice.size_limit = 120
        out = alice.say("bob", "f" * 400)  # type: ignore[attr-defined]
        assert len(out.wire) > 3 and all(len(w) <= 120 for w in out.wire)
        pump_inplace(net, alice)  # type: ignore[arg-type]
        assert bob.texts()[-1] == "f" * 400

        bob.send_tlvs("alice", "", [(0x8001, b"t")])
        assert pump_inplace(net, alice) == 1  # type: ignore[arg-type]
        assert tlvs_of(alice) == [(0x8001, b"t")]
    finally:
        alice.close()
        bob.close()


def test_inplace_holding_and_errors() -> None:
    net = Net()
    alice = net.add(InPlace(net, "alice", Policy.ALWAYS), "alice")
    bob = net.party("bob", Policy.ALWAYS)
    try:
        out = alice.say("bob", "held")  # type: ignore[attr-defined]
        assert len(out.wire) == 1 and out.wire[0].startswith("?OTR")
        assert EventCode.ENCRYPTION_REQUIRED in alice.codes()
        pump_inplace(net, alice)  # type: ignore[arg-type]
        assert bob.texts() == ["held"]
        with pytest.raises(offrec.InvalidArgumentError):
            alice.send_inplace("", "x")
        with pytest.raises(offrec.InvalidUtf8Error):
            alice.receive_inplace("bob", b"\xff")
    finally:
        alice.close()
        bob.close()
