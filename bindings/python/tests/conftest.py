"""Shared fixtures: an in-memory network of clients with a fake clock.

Tests import the package from this source tree (bindings/python). The library comes from
OFFREC_LIB (``make python-tests`` sets it); without it, a bundled copy or the repository's
target/release/liboffrec.so is used.
"""

from __future__ import annotations

import collections
import os
import sys
from pathlib import Path
from typing import Any, Deque, Dict, List, Tuple

import pytest

HERE = Path(__file__).resolve().parent
PKG_ROOT = HERE.parent
REPO_ROOT = PKG_ROOT.parent.parent
HEADER = REPO_ROOT / "include" / "offrec.h"
sys.path.insert(0, str(PKG_ROOT))

if not os.environ.get("OFFREC_LIB") and not (PKG_ROOT / "offrec" / "_native" / "lib_native.so").exists():
    built = REPO_ROOT / "target" / "release" / "liboffrec.so"
    if built.exists():
        os.environ["OFFREC_LIB"] = str(built)

import offrec  # noqa: E402
from offrec import Client, Event, Policy, Security, SessionState  # noqa: E402


class Net:
    """Clients wired through one FIFO, pumped by the test; a shared fake clock."""

    def __init__(self) -> None:
        self.queue: Deque[Tuple[str, str, str]] = collections.deque()
        self.clients: Dict[str, Client] = {}
        self.clock = 1_000_000
        self.wire: List[Tuple[str, str, str]] = []

    def post(self, sender: str, to: str, text: str) -> None:
        self.queue.append((sender, to, text))
        self.wire.append((sender, to, text))

    def pump(self, limit: int = 10_000) -> int:
        n = 0
        while self.queue:
            sender, to, text = self.queue.popleft()
            target = self.clients.get(to)
            if target is not None and not target.closed:
                target.receive(sender, text)
            n += 1
            assert n < limit, "message storm"
        return n

    def add(self, client: Client, name: str) -> Client:
        self.clients[name] = client
        return client

    def party(self, name: str, policy: int = Policy.MANUAL, **kw: Any) -> "Party":
        return self.add(Party(self, name, policy, **kw), name)  # type: ignore[return-value]


class Party(Client):
    """A client that records everything its callbacks see (subclass-style callbacks)."""

    def __init__(self, net: Net, name: str, policy: int = Policy.MANUAL, **kw: Any) -> None:
        self.net = net
        self.name = name
        self.delivered: List[Tuple[str, str, Security]] = []
        self.states: List[Tuple[str, SessionState]] = []
        self.events: List[Event] = []
        self.sent: List[str] = []
        self.size_limit = 0
        if "sealed" in kw or "store_dir" in kw:
            super().__init__(kw.pop("account", name), policy=policy, **kw)
        else:
            super().__init__(name, "test", policy, **kw)

    def on_send(self, peer: str, text: str) -> None:
        self.sent.append(text)
        self.net.post(self.name, peer, text)

    def on_deliver(self, peer: str, text: str, security: Security, instance: int) -> None:
        self.delivered.append((peer, text, security))

    def on_state_changed(self, peer: str, state: SessionState, instance: int) -> None:
        self.states.append((peer, state))

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def max_message_size(self, peer: str) -> int:
        return self.size_limit

    def now(self) -> int:
        return self.net.clock

    def codes(self) -> List[int]:
        return [int(e.code) for e in self.events]

    def texts(self) -> List[str]:
        return [t for _, t, _ in self.delivered]


@pytest.fixture
def net() -> Net:
    n = Net()
    yield n
    for c in n.clients.values():
        c.close()


@pytest.fixture
def pair(net: Net) -> Tuple[Party, Party]:
    """alice and bob with an encrypted session."""
    a, b = net.party("alice"), net.party("bob")
    a.start_session("bob")
    net.pump()
    assert a.session_state("bob") == SessionState.ENCRYPTED_UNVERIFIED
    assert b.session_state("alice") == SessionState.ENCRYPTED_UNVERIFIED
    return a, b


def header_text() -> str:
    return HEADER.read_text()
