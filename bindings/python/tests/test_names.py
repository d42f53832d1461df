"""Name binding (issue #13 item 7): normalised names agree, a real mismatch fails at once on
both sides with HandshakeFailure.NAMES_DIFFER, and Option.NAME_BINDING = 0 lets a nick change
through. Each side sees the other under its own name for it, as real transports do."""

from __future__ import annotations

from typing import List, Tuple

import pytest

import offrec
from offrec import EventCode, HandshakeFailure, Option, SessionState


class Side:
    def __init__(self, account: str, protocol: str, peer: str, binding: int = 1) -> None:
        self.peer = peer
        self.outbox: List[str] = []
        self.failures: List[int] = []
        self.peer_errors = 0
        self.client = offrec.Client(
            account, protocol, offrec.Policy.MANUAL,
            on_send=lambda to, text: self.outbox.append(text),
            on_deliver=lambda *a: None,
            on_event=self._event,
            now=lambda: 1000,
        )
        self.client.set_option(Option.NAME_BINDING, binding)

    def _event(self, event: offrec.Event) -> None:
        if event.code == EventCode.HANDSHAKE_FAILED:
            self.failures.append(event.reason)
        if event.code == EventCode.PEER_ERROR:
            self.peer_errors += 1


def converse(a: Side, b: Side) -> int:
    """Alice starts a session; returns how many messages crossed the wire."""
    a.client.start_session(a.peer)
    crossed = 0
    while a.outbox or b.outbox:
        for src, dst in ((a, b), (b, a)):
            texts, src.outbox = src.outbox, []
            for text in texts:
                crossed += 1
                dst.client.receive(dst.peer, text)
    return crossed


def close(*sides: Side) -> None:
    for s in sides:
        s.client.close()


def test_full_vs_bare_jid_and_protocol_aliases_agree() -> None:
    a = Side("alice@example.org/laptop", "prpl-jabber", "bob@example.org")
    b = Side("bob@example.org", "xmpp", "alice@example.org/laptop")
    converse(a, b)
    assert a.failures == [] and b.failures == []
    assert a.client.session_state("bob@example.org") == SessionState.ENCRYPTED_UNVERIFIED
    assert b.client.session_state("alice@example.org/laptop") == SessionState.ENCRYPTED_UNVERIFIED
    close(a, b)


def test_a_real_mismatch_fails_at_once_on_both_sides() -> None:
    a = Side("alice@example.org", "xmpp", "bob@example.org")
    b = Side("mallory@example.org", "xmpp", "alice@example.org")
    assert converse(a, b) == 3  # query, Start, names-differ error: no 121 s wait
    assert a.failures == [HandshakeFailure.NAMES_DIFFER]
    assert b.failures == [HandshakeFailure.NAMES_DIFFER]
    assert b.peer_errors == 0
    assert a.client.session_state("bob@example.org") == SessionState.PLAINTEXT
    close(a, b)


def test_name_binding_off_lets_a_nick_change_through() -> None:
    a = Side("alice", "irc", "bob_away", binding=0)
    b = Side("bob", "prpl-irc", "alice", binding=0)
    converse(a, b)
    assert a.failures == [] and b.failures == []
    assert a.client.session_state("bob_away") == SessionState.ENCRYPTED_UNVERIFIED
    with pytest.raises(offrec.InvalidArgumentError):
        a.client.set_option(Option.NAME_BINDING, 2)
    close(a, b)
