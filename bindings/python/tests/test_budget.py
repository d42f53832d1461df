"""Issue #13: the unauthenticated-input budget (item 3) and reveals at session end (item 5),
through the binding, with the ``max_message_size`` handler set (every Party has one)."""

from __future__ import annotations

import os

import pytest

import offrec
from offrec import EventCode, Option, Policy

from conftest import Net, Party


class Counting(Party):
    """A party that counts how often the library asks for a peer's transport limit."""

    def __init__(self, net: Net, name: str) -> None:
        self.questions = 0
        super().__init__(net, name, Policy.MANUAL)
        self.size_limit = 1400

    def max_message_size(self, peer: str) -> int:
        self.questions += 1
        return self.size_limit


def claiming_fragment(message_id: int, sender: int) -> str:
    """One 43-byte incomplete fragment that claims 512 pieces."""
    return f"?OFR|{message_id:08x}|{sender:08x}|00000000,1,512,?OFR:,"


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_strangers_are_forgotten_with_the_size_handler_set(net: Net) -> None:
    us = net.add(Counting(net, "us"), "us")
    for i in range(100):
        us.receive(f"stranger{i}", "hello")
    assert us.questions == 100
    us.questions = 0
    us.tick()  # asks about every peer the client knows: none is left
    assert us.questions == 0


def test_fragment_flood_stays_within_the_budget(net: Net) -> None:
    us = net.add(Counting(net, "us"), "us")
    us.receive("warmup", claiming_fragment(1, 0x100))
    before = resident_bytes()
    for name in range(800):
        for i in range(64):
            us.receive(f"stranger{name}", claiming_fragment(i, 0x10000 + name * 64 + i))
    grown = resident_bytes() - before
    # These 51,200 fragments held 600 MiB before the budget (4 MiB by default).
    assert grown < 48 * 1024 * 1024, grown
    assert EventCode.INPUT_DROPPED in us.codes()


def test_budget_option_and_saves_without_strangers(net: Net) -> None:
    us = net.add(Counting(net, "us"), "us")
    key = bytes(range(32))
    fresh = us.save(key=key)
    us.set_option(Option.UNAUTHENTICATED_BUDGET, 2_000)
    for i in range(40):
        us.receive(f"stranger{i}", claiming_fragment(1, 0x1000 + i))
    dropped = us.codes().count(EventCode.INPUT_DROPPED)
    assert 0 < dropped < 40  # one event per dropped fragment
    us.questions = 0
    us.tick()
    assert 0 < us.questions < 40  # strangers still holding a fragment, within the budget
    assert len(us.save(key=key)) == len(fresh)  # none of them is saved
    with pytest.raises(offrec.UnknownEnumValueError):
        us.set_option(8, 1)  # type: ignore[arg-type]


def test_ending_reveals_every_skipped_key(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    net = a.net
    captured = []
    for i in range(300):
        a.send("bob", f"message {i:03d}")
        captured.append(a.sent[-1])
    net.queue.clear()
    b.receive("alice", captured[-1])  # 299 keys skipped
    before = len(b.sent)
    b.end_session("alice")
    goodbye = b.sent[before:]
    assert len(goodbye) == 2  # 300 reveals do not fit one message (255 at most)
    for i in (0, 100, 254, 255, 298, 299):
        forged = offrec.forge(captured[i], goodbye, f"message {i:03d}", "message XXX")
        assert forged != captured[i]


def test_peer_ended_first_still_publishes_reveals(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    net = a.net
    a.send("bob", "first")
    skipped = a.sent[-1]
    a.send("bob", "second")
    net.queue.popleft()  # "first" is lost
    net.pump()
    a.end_session("bob")
    net.pump()
    assert EventCode.PEER_ENDED_SESSION in b.codes()
    before = len(b.sent)
    b.end_session("alice")
    goodbye = b.sent[before:]
    assert goodbye, "the reveals are sent although alice ended first"
    assert offrec.forge(skipped, goodbye, "first", "FIRST") != skipped
    events = len(a.events)
    net.pump()
    assert len(a.events) == events  # alice ignores them quietly
