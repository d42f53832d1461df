"""Persistence: save/load to bytes and to a directory, with a key or a passphrase."""

from __future__ import annotations

import os
import stat

import pytest

import offrec
from offrec import SessionState

from conftest import Net, Party

KEY = bytes(range(32))


def _restore(net: Net, name: str, **kw) -> Party:  # type: ignore[no-untyped-def]
    old = net.clients[name]
    old.close()
    return net.add(Party(net, name, **kw), name)  # type: ignore[return-value]


def test_save_load_bytes_continues_the_session(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    net = a.net
    fp, tag = a.fingerprint, a.instance_tag
    sealed = a.save(key=KEY)
    assert isinstance(sealed, bytes) and len(sealed) > 64 and b"alice" not in sealed
    a2 = _restore(net, "alice", sealed=sealed, key=KEY)
    assert a2.fingerprint == fp and a2.instance_tag == tag
    assert a2.session_state("bob") == SessionState.ENCRYPTED_UNVERIFIED
    start = len(net.wire)
    a2.send("bob", "after restore")
    net.pump()
    assert b.texts()[-1] == "after restore"
    assert not any(t.startswith("?OFR:") and "Query" in t for _, _, t in net.wire[start:])
    b.send("alice", "welcome back")
    net.pump()
    assert a2.texts() == ["welcome back"]

    with pytest.raises(offrec.WrongKeyError) as info:
        Party(net, "alice", sealed=sealed, key=bytes(32))
    assert isinstance(info.value, offrec.StoreError)
    damaged = bytearray(sealed)
    damaged[len(damaged) // 2] ^= 1
    with pytest.raises((offrec.CorruptedError, offrec.WrongKeyError)):
        Party(net, "alice", sealed=bytes(damaged), key=KEY)
    with pytest.raises(offrec.CorruptedError):
        Party(net, "alice", sealed=b"not a store at all", key=KEY)


def test_passphrase_and_classmethod_load(net: Net) -> None:
    a = net.party("ann")
    sealed = a.save(passphrase="correct horse")
    with offrec.Client.load(sealed, passphrase="correct horse", on_send=print, on_deliver=print) as c:
        assert c.fingerprint == a.fingerprint
    with pytest.raises(offrec.WrongKeyError):
        offrec.Client.load(sealed, passphrase="wrong horse", on_send=print, on_deliver=print)


def test_save_to_dir_and_load_from_dir(net: Net, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, b = net.party("ann"), net.party("ben")
    a.start_session("ben")
    net.pump()
    store = tmp_path / "ann-store"
    with pytest.raises(offrec.StoreNotFoundError):
        Party(net, "ann", store_dir=store, key=KEY)
    a.save_to_dir(store, key=KEY)
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o700
    a.send("ben", "one")
    net.pump()
    a.save_to_dir(str(store), key=KEY)  # replaces the previous save
    a2 = _restore(net, "ann", store_dir=store, key=KEY)
    a2.send("ben", "two")
    net.pump()
    assert b.texts() == ["one", "two"]
    with pytest.raises(offrec.WrongKeyError):
        offrec.Client.load_from_dir(store, key=bytes(32), on_send=print, on_deliver=print)


def test_key_argument_checks(net: Net) -> None:
    a = net.party("ann")
    with pytest.raises(TypeError):
        a.save()
    with pytest.raises(TypeError):
        a.save(key=KEY, passphrase="x")
    with pytest.raises(ValueError):
        a.save(key=b"short")
    with pytest.raises(TypeError):
        offrec.Client("ann", "test", sealed=b"x", key=KEY, on_send=print, on_deliver=print)
