"""Exceptions from callbacks, lifetime (close, context manager, GC), trampolines under GC."""

from __future__ import annotations

import gc
import weakref

import pytest

import offrec
from offrec import Client, SessionState
from offrec import client as client_mod

from conftest import Net, Party


class Boom(Exception):
    pass


class Stop(BaseException):
    """Not an Exception: must be caught and re-raised all the same."""


def test_exception_in_send_is_reraised_from_the_call(net: Net) -> None:
    a, b = net.party("ann"), net.party("ben")
    err = Boom("transport down")

    def broken(peer: str, text: str) -> None:
        raise err

    a._handlers["on_send"] = broken  # as if given on_send=broken
    with pytest.raises(Boom) as info:
        a.start_session("ben")
    assert info.value is err
    assert any(f.name == "broken" for f in __import__("traceback").extract_tb(info.value.__traceback__))
    # The client still works afterwards.
    a._handlers["on_send"] = client_mod._METHOD
    a.start_session("ben")
    net.pump()
    assert a.session_state("ben") == SessionState.ENCRYPTED_UNVERIFIED


def test_callbacks_exceptions_are_reraised(net: Net) -> None:
    class Picky(Party):
        def on_deliver(self, peer, text, security, instance):  # type: ignore[no-untyped-def]
            if text == "stop":
                raise Stop()
            raise Boom(text)

    c = net.add(Picky(net, "carl"), "carl")
    with pytest.raises(Boom, match="hello"):
        c.receive("dave", "hello")
    with pytest.raises(Stop):
        c.receive("dave", "stop")


def test_first_exception_wins_later_ones_are_noted(net: Net) -> None:
    a, b = net.party("ann"), net.party("ben")
    a.start_session("ben")
    net.pump()
    calls = []

    def flaky(peer: str, text: str) -> None:
        calls.append(text)
        raise Boom(f"fragment {len(calls)}")

    a.size_limit = 80
    a._handlers["on_send"] = flaky
    with pytest.raises(Boom, match="fragment 1") as info:
        a.send("ben", "y" * 400)
    assert len(calls) > 1  # later callbacks of the same call still ran
    notes = getattr(info.value, "__notes__", [])
    assert len(notes) == len(calls) - 1


def test_nested_call_exception_goes_to_the_nested_call(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    seen = []

    def deliver(peer, text, security, instance):  # type: ignore[no-untyped-def]
        b._handlers["on_send"] = lambda p, t: (_ for _ in ()).throw(Boom("inner"))
        try:
            b.send(peer, "reply")
        except Boom as e:
            seen.append(e)
        finally:
            b._handlers["on_send"] = client_mod._METHOD

    b._handlers["on_deliver"] = deliver
    a.send("bob", "hi")
    a.net.pump()  # the outer receive raises nothing: the inner call got it
    assert [str(e) for e in seen] == ["inner"]


def test_exception_in_now_and_max_message_size(net: Net) -> None:
    a = net.party("ann")

    def bad_now() -> int:
        raise Boom("clock")

    a._handlers["now"] = bad_now
    with pytest.raises(Boom, match="clock"):
        a.start_session("ben")
    a._handlers["now"] = client_mod._METHOD
    a._handlers["max_message_size"] = lambda peer: -5
    with pytest.raises(ValueError, match="max_message_size"):
        a.send("ben", "x")


def test_use_after_close_and_idempotent_close(net: Net) -> None:
    a = net.party("ann")
    a.close()
    a.close()
    assert a.closed and "closed" in repr(a)
    for call in (
        lambda: a.send("b", "x"), lambda: a.receive("b", "x"), lambda: a.start_session("b"),
        lambda: a.end_session("b"), a.tick, lambda: a.fingerprint, lambda: a.instance_tag,
        lambda: a.session_state("b"), lambda: a.sessions("b"), lambda: a.known_keys("b"),
        lambda: a.smp_start("b", "s"), lambda: a.save(key=bytes(32)), a.identity_secret,
        lambda: a.set_policy(0), lambda: a.extra_symmetric_key("b", 1),
    ):
        with pytest.raises(offrec.ClosedError):
            call()
    with pytest.raises(offrec.ClosedError):
        with a:
            pass


def test_context_manager_closes_even_on_error(net: Net) -> None:
    with pytest.raises(Boom):
        with net.party("ann") as a:
            assert not a.closed
            raise Boom()
    assert a.closed


def test_close_inside_own_callback_is_refused(net: Net) -> None:
    a = net.party("ann")
    a._handlers["on_send"] = lambda peer, text: a.close()
    with pytest.raises(RuntimeError, match="inside one of its own callbacks"):
        a.start_session("ben")
    assert not a.closed


def test_missing_required_callbacks() -> None:
    with pytest.raises(TypeError, match="on_send"):
        Client("a", "t", on_deliver=print)
    with pytest.raises(TypeError, match="on_deliver"):
        Client("a", "t", on_send=print)
    with pytest.raises(TypeError):
        Client("a", "t", on_send=print, on_deliver="nope")  # type: ignore[arg-type]


def test_unclosed_client_is_collected_and_freed() -> None:
    before = len(client_mod._registry)
    c = Client("a", "t", on_send=print, on_deliver=print)
    ref = weakref.ref(c)
    assert len(client_mod._registry) == before + 1
    del c
    gc.collect()
    assert ref() is None
    assert len(client_mod._registry) == before


def test_gc_pressure(net: Net) -> None:
    """Collect between every step and inside callbacks: the trampolines and registry hold."""
    a, b = net.party("ann"), net.party("ben")
    orig = b.on_deliver

    def deliver(peer, text, security, instance):  # type: ignore[no-untyped-def]
        gc.collect()
        orig(peer, text, security, instance)

    b._handlers["on_deliver"] = deliver
    gc.collect()
    a.start_session("ben")
    gc.collect()
    net.pump()
    for i in range(30):
        gc.collect()
        a.send("ben", f"msg {i}")
        # Garbage clients come and go meanwhile.
        Client("tmp", "t", on_send=print, on_deliver=print)
        net.pump()
    assert b.texts() == [f"msg {i}" for i in range(30)]
