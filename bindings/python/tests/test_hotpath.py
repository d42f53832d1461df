"""The per-message path's shortcuts (bench/notes/bindperf.md) give exactly what the plain code gave:
the event copied in one unpack, the cache of events without pointer fields, the enum lookups
without Enum.__call__, the byte copies without ctypes.string_at, send/receive's inlined frames."""

from __future__ import annotations

import ctypes
import struct

import pytest

import offrec
from offrec import ClosedError, Event, EventCode, Security, SessionState
from offrec.events import event_code
from offrec import _types as T
from offrec import client as client_mod

from conftest import Net


def _event(**fields):  # type: ignore[no-untyped-def]
    """An offrec_event with the given fields; pointer fields take bytes (kept alive by `keep`)."""
    ev = T.offrec_event()
    keep = []
    for name, value in fields.items():
        if isinstance(value, bytes):
            buf = ctypes.create_string_buffer(value, len(value))
            keep.append(buf)
            setattr(ev, name, ctypes.addressof(buf))
            if name + "_len" in dict(T.offrec_event._fields_):
                setattr(ev, name + "_len", len(value))
        else:
            setattr(ev, name, value)
    return ev, keep


def _field_by_field(e: T.offrec_event) -> Event:
    """What the binding built before the one-unpack copy: every field read through ctypes."""

    def at(p, n):  # type: ignore[no-untyped-def]
        return ctypes.string_at(p, n) if p and n else b""

    return Event(
        code=event_code(e.code),
        peer=at(e.peer, e.peer_len).decode("utf-8", "replace"),
        instance=e.instance,
        message_id=e.message_id,
        reason=e.reason,
        text=at(e.text, e.text_len).decode("utf-8", "replace") if e.text else None,
        fingerprint=offrec.Fingerprint(ctypes.string_at(e.fingerprint, 32)) if e.fingerprint else None,
        old_fingerprint=offrec.Fingerprint(ctypes.string_at(e.old_fingerprint, 32)) if e.old_fingerprint else None,
        old_was_verified=bool(e.old_was_verified),
        usage=e.usage,
        context=at(e.context, e.context_len) if e.context else None,
        key=bytearray(ctypes.string_at(e.key, 32)) if e.key else None,
    )


def test_event_layout_matches_ctypes_offsets() -> None:
    s = client_mod._EVENT_STRUCT
    assert s.size == ctypes.sizeof(T.offrec_event)
    fmt = "@"
    for name, ctype in T.offrec_event._fields_:
        assert struct.calcsize(fmt) <= getattr(T.offrec_event, name).offset
        fmt += "x" * (getattr(T.offrec_event, name).offset - struct.calcsize(fmt))
        assert struct.calcsize(fmt) == getattr(T.offrec_event, name).offset, name
        fmt += ctype._type_
    # every field lands where ctypes put it: distinct values in each come back in order
    ev = T.offrec_event()
    values = []
    for i, (name, ctype) in enumerate(T.offrec_event._fields_):
        v = True if ctype is ctypes.c_bool else 0x1000 + i
        setattr(ev, name, v)
        values.append(v)
    assert list(s.unpack_from(ev)) == values


def test_every_field_copied_as_before() -> None:
    fp, old, key = bytes(range(32)), bytes(range(32, 64)), bytes(range(64, 96))
    ev, keep = _event(
        code=int(EventCode.FINGERPRINT_CHANGED), peer="bøb".encode(), instance=0x1234, message_id=2**63 + 5,
        reason=7, text=b"h\x00i \xff", fingerprint=fp, old_fingerprint=old, old_was_verified=True,
        usage=0x8001, context=b"c\x00tx", key=key,
    )
    got = client_mod._copy_event(ev)
    want = _field_by_field(ev)
    assert got == want
    assert got.__dict__ == want.__dict__
    assert isinstance(got.fingerprint, offrec.Fingerprint) and got.fingerprint == fp
    assert isinstance(got.key, bytearray) and got.key == key
    assert got.text == "h\x00i \ufffd" and got.context == b"c\x00tx"
    with pytest.raises(Exception):
        got.code = 0  # type: ignore[misc]  # still frozen


def test_unknown_codes_stay_numbers() -> None:
    ev, keep = _event(code=9999, peer=b"x")
    assert client_mod._copy_event(ev).code == 9999
    assert not isinstance(client_mod._copy_event(ev).code, EventCode)
    assert client_mod._SECURITY.get(77, 77) == 77
    assert client_mod._SECURITY.get(int(Security.ENCRYPTED_UNVERIFIED), 0) is Security.ENCRYPTED_UNVERIFIED
    assert client_mod._STATES.get(int(SessionState.PLAINTEXT), 0) is SessionState.PLAINTEXT


def test_event_cache_never_mixes_events() -> None:
    client_mod._event_cache.clear()
    a1, k1 = _event(code=int(EventCode.PERSIST_NEEDED), peer=b"alice", reason=24)
    a2, k2 = _event(code=int(EventCode.PERSIST_NEEDED), peer=b"alice", reason=24)
    first, again = client_mod._copy_event(a1), client_mod._copy_event(a2)
    assert first == again and first.peer == "alice" and first.reason == 24
    # any differing field gives its own event
    for change in ({"peer": b"alicf"}, {"reason": 25}, {"instance": 9}, {"message_id": 3},
                   {"code": int(EventCode.HELD_MESSAGE_SENT)}):
        fields = dict(code=int(EventCode.PERSIST_NEEDED), peer=b"alice", reason=24)
        fields.update(change)
        other, keep = _event(**fields)
        got = client_mod._copy_event(other)
        assert got != first and got == _field_by_field(other)
    # events with pointer fields are never served from (nor put into) the cache
    for extra in ({"text": b"t"}, {"fingerprint": bytes(32)}, {"key": bytes(32)}, {"context": b""},
                  {"usage": 1}, {"old_was_verified": True}):
        fields = dict(code=int(EventCode.PERSIST_NEEDED), peer=b"alice", reason=24, **extra)
        other, keep = _event(**fields)
        got = client_mod._copy_event(other)
        assert got == _field_by_field(other) and got is not first
    assert all(v.key is None and v.text is None for v in client_mod._event_cache.values())
    # bounded
    for i in range(client_mod._EVENT_CACHE_SIZE * 2):
        e, keep = _event(code=int(EventCode.PERSIST_NEEDED), peer=b"p", message_id=i + 1)
        assert client_mod._copy_event(e).message_id == i + 1
    assert len(client_mod._event_cache) <= client_mod._EVENT_CACHE_SIZE


def test_event_keys_are_not_shared(net: Net) -> None:
    """An event's secret key is a fresh bytearray each time: wiping one leaves the next intact."""
    key = bytes(range(32))
    ev, keep = _event(code=int(EventCode.EXTRA_KEY_RECEIVED), peer=b"p", key=key)
    one = client_mod._copy_event(ev)
    one.key[:] = bytes(32)
    assert client_mod._copy_event(ev).key == key


def test_messages_bytes_and_str_through_the_fast_path(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    a.send("bob", "plain str")
    a.send(b"bob", b"bytes \xff\xfe")  # non-UTF-8 comes back as surrogates
    a.send("bob", "x" * 5000 + "\u00e9")
    a.net.pump()
    assert [t for _, t, _ in b.delivered[-3:]] == [
        "plain str", b"bytes \xff\xfe".decode("utf-8", "surrogateescape"), "x" * 5000 + "\u00e9",
    ]
    assert all(s is Security.ENCRYPTED_UNVERIFIED for _, _, s in b.delivered[-3:])
    with pytest.raises(TypeError):
        a.send("bob", 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        a.receive(5, "x")  # type: ignore[arg-type]
    ids = [a.send("bob", f"m{i}") for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    a.net.pump()


def test_frames_balanced_after_errors(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair

    def broken(peer, text):  # type: ignore[no-untyped-def]
        raise ValueError("down")

    a._handlers["on_send"] = broken
    for _ in range(3):
        with pytest.raises(ValueError):
            a.send("bob", "x")
    a._handlers["on_send"] = client_mod._METHOD
    assert a._tls.frames == []
    a.send("bob", "after")
    a.net.pump()
    assert b.delivered[-1][1] == "after"
    a.close()
    with pytest.raises(ClosedError):
        a.send("bob", "x")
    with pytest.raises(ClosedError):
        a.receive("bob", "x")


def test_memory_view_copies_exactly() -> None:
    """_MEM[p:p + n] (one view of the address space) gives exactly the n bytes at p."""
    data = bytes(range(256)) * 3
    buf = ctypes.create_string_buffer(data, len(data))
    base = ctypes.addressof(buf)
    for start, n in ((0, 0), (0, 1), (1, 255), (7, 700), (0, len(data)), (767, 1)):
        assert client_mod._text(base + start, n) == data[start:start + n] == ctypes.string_at(base + start, n)
    assert client_mod._text(None, 5) == b"" and client_mod._text(base, 0) == b""


def test_send_receive_call_without_argtypes_only_on_their_own() -> None:
    """The fast path's function objects convert nothing; the library's declared ones keep their
    prototypes (every other caller still gets ctypes' checks)."""
    from offrec._ffi import lib

    for name in ("offrec_client_send", "offrec_client_receive"):
        raw = client_mod._raw_fn(name)
        assert raw.argtypes is None and raw.restype is T.R
        assert client_mod._raw_fn(name) is raw
        declared = getattr(lib(), name)
        assert declared is not raw and declared.argtypes and len(declared.argtypes) >= 5


def test_shared_lengths_never_stale(pair) -> None:  # type: ignore[no-untyped-def]
    """The shared c_size_t lengths hold their own value, whatever lengths came before, also once
    the cache is full (a stale length would deliver a cut or overlong message)."""
    a, b = pair
    client_mod._SIZES.clear()
    for n in (1, 2, 3, 100, 99, 101, 1000, 7, 7, 4096, 5):
        text = "".join(chr(ord("a") + (i * 7 + n) % 26) for i in range(n))
        a.send("bob", text)
        a.net.pump()
        assert b.delivered[-1][1] == text
    assert all(v.value == k for k, v in client_mod._SIZES.items())
    # full cache: new lengths still go through, as fresh (uncached) objects
    saved = dict(client_mod._SIZES)
    try:
        for i in range(client_mod._SIZES_MAX):
            client_mod._SIZES.setdefault(10_000_000 + i, ctypes.c_size_t(10_000_000 + i))
        assert len(client_mod._SIZES) >= client_mod._SIZES_MAX
        a.send("bob", "q" * 333)
        a.net.pump()
        assert b.delivered[-1][1] == "q" * 333 and 333 not in client_mod._SIZES
    finally:
        client_mod._SIZES.clear()
        client_mod._SIZES.update(saved)
    assert all(v.value == k for k, v in client_mod._SIZES.items())


def test_reused_id_outputs_give_each_call_its_own_id(pair) -> None:  # type: ignore[no-untyped-def]
    """Send's reused id outputs: a send nested in another's callback gets its own id, the outer
    call still returns its own, and a failed send leaves the next one's id correct."""
    a, b = pair
    before = a.send("bob", "first")
    nested: list = []

    def on_send(peer, text):  # type: ignore[no-untyped-def]
        if not nested:
            nested.append(None)
            nested[0] = a.send("bob", "nested")
        a.net.post(a.name, peer, text)

    a._handlers["on_send"] = on_send
    try:
        outer = a.send("bob", "outer")
    finally:
        a._handlers["on_send"] = client_mod._METHOD
    assert len({before, outer, nested[0]}) == 3 and min(outer, nested[0]) > before
    with pytest.raises(Exception):
        a.send("bob", "x" * 200_000)  # too large: an error, no id
    after = a.send("bob", "after")
    assert after > max(outer, nested[0])
    a.net.pump()
    assert [t for _, t, _ in b.delivered[-4:]] == ["first", "nested", "outer", "after"]
    assert len(client_mod._MIDS) >= 2


def test_non_utf8_takes_the_error_handlers(pair) -> None:  # type: ignore[no-untyped-def]
    """Strict UTF-8 first, the error handlers only when it fails: the same str / bytes as
    always decoding / encoding with them."""
    a, b = pair
    # a str with lone surrogates (as on_deliver gives for non-UTF-8 bytes) goes out as those bytes
    odd = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
    a.send("bob", odd)
    a.send("bob", "caf\u00e9 ok")
    a.net.pump()
    assert [t for _, t, _ in b.delivered[-2:]] == [odd, "caf\u00e9 ok"]
    with pytest.raises(UnicodeEncodeError):
        a.send("bob\udc80", "x")  # a peer name is strict UTF-8, as before
    # the trampolines' fallback, directly: one bad side decodes both with the handlers
    got = []
    a._handlers["on_send"] = lambda peer, text: got.append((peer, text))
    try:
        for peer, text in ((b"bob", b"\xffwire"), (b"\xfe", b"ok"), (b"bob", b"ok")):
            pb, tb = ctypes.create_string_buffer(peer, len(peer)), ctypes.create_string_buffer(text, len(text))
            client_mod._tr_send(a._key, ctypes.addressof(pb), len(peer), ctypes.addressof(tb), len(text))
    finally:
        a._handlers["on_send"] = client_mod._METHOD
    assert got == [("bob", "\ufffdwire"), ("\ufffd", "ok"), ("bob", "ok")]


def test_peer_names_are_remembered_exactly_and_boundedly(pair) -> None:  # type: ignore[no-untyped-def]
    """send / receive take a str peer's encoding from _PEER_ARGS: the entry is the name's UTF-8
    bytes with their byte length (not the str's length), other name types are never keys, a
    name that cannot be encoded is refused and not remembered, and a full table still works."""
    a, b = pair
    saved = dict(client_mod._PEER_ARGS)
    client_mod._PEER_ARGS.clear()
    try:
        for peer in ("bob", b"bob", bytearray(b"bob"), memoryview(b"bob"), "bob"):
            a.send(peer, f"to {type(peer).__name__}")
            a.net.pump()
        assert [t for p, t, _ in b.delivered[-5:] if p == "alice"] == [
            "to str", "to bytes", "to bytearray", "to memoryview", "to str",
        ]
        assert sorted(client_mod._PEER_ARGS) == ["alice", "bob"]  # bob's pump received from "alice"
        encoded, length = client_mod._PEER_ARGS["bob"]
        assert encoded == b"bob" and length.value == 3
        # A name whose UTF-8 is longer than the str: the length is the bytes'.
        b.receive("d\u00f6rte", "plain hello")
        assert b.delivered[-1][:2] == ("d\u00f6rte", "plain hello")
        encoded, length = client_mod._PEER_ARGS["d\u00f6rte"]
        assert encoded == "d\u00f6rte".encode() and length.value == 6
        with pytest.raises(UnicodeEncodeError):
            a.send("bob\udc80", "x")
        assert "bob\udc80" not in client_mod._PEER_ARGS
        # Full: a new name still goes through, encoded afresh and not remembered.
        for i in range(client_mod._PEER_ARGS_MAX):
            client_mod._PEER_ARGS.setdefault(f"filler {i}", (b"x", ctypes.c_size_t(1)))
        b.receive("carol", "plain from carol")
        assert b.delivered[-1][:2] == ("carol", "plain from carol")
        assert "carol" not in client_mod._PEER_ARGS
    finally:
        client_mod._PEER_ARGS.clear()
        client_mod._PEER_ARGS.update(saved)
