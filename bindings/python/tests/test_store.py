"""Persistence: save/load to bytes and to a directory, with a key or a passphrase."""

from __future__ import annotations

import os
import stat

import pytest

import offrec
from offrec import EventCode, PersistFlag, SessionState

from conftest import Net, Party

KEY = bytes(range(32))


def _restore(net: Net, name: str, **kw) -> Party:  # type: ignore[no-untyped-def]
    old = net.clients[name]
    old.close()
    return net.add(Party(net, name, **kw), name)  # type: ignore[return-value]


def test_save_load_bytes_restarts_the_session(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    net = a.net
    fp, tag = a.fingerprint, a.instance_tag
    old_ssid = a.sessions("bob")[0].ssid
    sealed = a.save(key=KEY)
    assert isinstance(sealed, bytes) and len(sealed) > 64 and b"alice" not in sealed
    a2 = _restore(net, "alice", sealed=sealed, key=KEY)
    assert a2.fingerprint == fp and a2.instance_tag == tag
    # Listed, but restarted rather than resumed: no lock for it.
    assert len(a2.sessions("bob")) == 1
    assert a2.session_state("bob") == SessionState.PLAINTEXT
    a2.send("bob", "after restore")
    assert EventCode.ENCRYPTION_REQUIRED in a2.codes()
    net.pump()
    assert EventCode.HELD_MESSAGE_SENT in a2.codes()
    assert b.texts()[-1] == "after restore"
    assert a2.session_state("bob") == SessionState.ENCRYPTED_UNVERIFIED
    assert a2.sessions("bob")[0].ssid != old_ssid
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
    with offrec.Client.load(sealed, account="ann", passphrase="correct horse", on_send=print, on_deliver=print) as c:
        assert c.fingerprint == a.fingerprint
    with pytest.raises(offrec.WrongKeyError):
        offrec.Client.load(sealed, account="ann", passphrase="wrong horse", on_send=print, on_deliver=print)


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
    a2.send("ben", "two")  # held until the restarted session is up
    net.pump()
    assert b.texts() == ["one", "two"]
    with pytest.raises(offrec.WrongKeyError):
        offrec.Client.load_from_dir(store, account="ann", key=bytes(32), on_send=print, on_deliver=print)


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


# -- issue #13 item 1: a restored store never reuses a key, never accepts a replay or forgery --


def _data_key_uses(wire, sender: str):  # type: ignore[no-untyped-def]
    """(ratchet key, N) of every data message ``sender`` put on the wire."""
    import base64

    uses = []
    for frm, _, text in wire:
        if frm != sender or not text.startswith("?OFR:"):
            continue
        raw = base64.b64decode(text[5:].rstrip("."))
        if len(raw) >= 52 and raw[2] == 0x03:  # a data message: header per PROTOCOL.md
            uses.append((raw[12:44], raw[48:52], text))
    return uses


def test_restored_sender_never_reuses_a_message_key(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    net = a.net
    sealed = a.save(key=KEY)
    a.send("bob", "first, after the save")
    net.pump()
    a2 = _restore(net, "alice", sealed=sealed, key=KEY)  # kill -9, then load
    before = len(net.wire)
    a2.send("bob", "second, after the load")
    assert not _data_key_uses(net.wire[before:], "alice"), "nothing on the stored chain"
    net.pump()
    assert b.texts() == ["first, after the save", "second, after the load"]
    uses = _data_key_uses(net.wire, "alice")
    assert len(uses) >= 2
    assert len({(k, n) for k, n, _ in uses}) == len({t for _, _, t in uses}), "a (ratchet key, N) pair was reused"
    with pytest.raises(offrec.NoSessionError):
        _restore(net, "alice", sealed=sealed, key=KEY).smp_start("bob", "secret")


def test_restored_receiver_rejects_replays_and_forgeries(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    net = a.net
    sealed = b.save(key=KEY)
    a.send("bob", "pay 10 EUR")
    net.pump()
    b.send("alice", "ok")  # reveals the key of "pay 10 EUR"
    net.pump()
    pay = _data_key_uses(net.wire, "alice")[-1][2]
    later = [t for _, _, t in _data_key_uses(net.wire, "bob")]
    forged = offrec.forge(pay, later, "pay 10 EUR", "pay 99 EUR")
    b2 = _restore(net, "bob", sealed=sealed, key=KEY)
    b2.receive("alice", pay)
    b2.receive("alice", forged)
    assert b2.texts() == [], "a replay or a forgery was delivered"
    assert EventCode.NOT_IN_PRIVATE in b2.codes()
    net.pump()  # bob asked for a new session
    assert b2.session_state("alice") == SessionState.ENCRYPTED_UNVERIFIED
    a.send("bob", "after the restart")
    net.pump()
    b2.receive("alice", forged)
    assert b2.texts() == ["after the restart"]


def test_persist_needed_is_reported_once_until_saved(net: Net, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, b = net.party("alice"), net.party("bob")
    sent = PersistFlag.SENT_LOG | PersistFlag.OTHER

    def persists(p):  # type: ignore[no-untyped-def]
        return [e for e in p.events if e.code == EventCode.PERSIST_NEEDED]

    a.start_session("bob")
    assert persists(a) == []
    net.pump()
    for p in (a, b):
        flags = PersistFlag(0)
        for e in persists(p):
            assert e.peer == "" and e.instance == 0 and e.name == "persist_needed"
            flags |= e.reason
        assert PersistFlag.SESSIONS in flags and PersistFlag.TRUST in flags
    a.save(key=KEY)
    a.events.clear()
    a.send("bob", "hi")
    assert [e.reason for e in persists(a)] == [sent], "saved before: the send reports what it changed"
    assert a.events[-1].code == EventCode.PERSIST_NEEDED, "delivered last"
    net.pump()
    a.events.clear()
    a.send("bob", "again")
    assert persists(a) == [], "not saved since: nothing new to report"
    a.set_trust("bob", b.fingerprint, offrec.Trust.VERIFIED_MANUAL)
    assert [e.reason for e in persists(a)] == [sent | PersistFlag.TRUST], "a new kind, with all unsaved"
    # A failed save (the store file's place is a directory) leaves the notice pending.
    store = tmp_path / "store"
    (store / "offrec.store").mkdir(parents=True)
    with pytest.raises(offrec.StoreError):
        a.save_to_dir(store, key=KEY)
    a.events.clear()
    a.send("bob", "after a failed save")
    assert persists(a) == []
    (store / "offrec.store").rmdir()
    a.save_to_dir(store, key=KEY)
    a.send("bob", "after a save")
    assert [e.reason for e in persists(a)] == [sent]
    net.pump()


# -- issue #13 item 6 / issue #19: loads refuse what is not theirs and never write ---------------


def test_another_accounts_store_is_refused_and_account_is_readable(net: Net, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = net.party("ann")
    assert a.account == "ann"
    sealed = a.save(key=KEY)
    with pytest.raises(offrec.WrongAccountError) as info:
        offrec.Client.load(sealed, account="ben", key=KEY, on_send=print, on_deliver=print)
    assert isinstance(info.value, offrec.StoreError) and info.value.code == offrec.Result.STORE_WRONG_ACCOUNT
    with offrec.Client.load(sealed, account="ann", key=KEY, on_send=print, on_deliver=print) as c:
        assert c.account == "ann" and c.fingerprint == a.fingerprint
    store = tmp_path / "ann"
    a.save_to_dir(store, key=KEY)
    before = (store / "offrec.store").read_bytes()
    with pytest.raises(offrec.WrongAccountError):
        offrec.Client.load_from_dir(store, account="ben", key=KEY, on_send=print, on_deliver=print)
    assert (store / "offrec.store").read_bytes() == before
    with pytest.raises(TypeError):
        offrec.Client(sealed=sealed, key=KEY, on_send=print, on_deliver=print)  # no account
    long_name = "é" * 300  # multi-byte UTF-8, 600 bytes
    with offrec.Client(long_name, "xmpp", on_send=print, on_deliver=print) as c:
        assert c.account == long_name


def test_a_failed_load_creates_and_deletes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "never-created"
    with pytest.raises(offrec.StoreNotFoundError):
        offrec.Client.load_from_dir(missing, account="ann", key=KEY, on_send=print, on_deliver=print)
    assert not missing.exists()
    store = tmp_path / "store"
    with offrec.Client("ann", "test", on_send=print, on_deliver=print) as c:
        c.save_to_dir(store, key=KEY)
    theirs = store / ".offrec.store.0123456789abcdef.tmp"  # a concurrent saver's file
    theirs.write_bytes(b"in progress")
    with pytest.raises(offrec.WrongKeyError):
        offrec.Client.load_from_dir(store, account="ann", key=bytes(32), on_send=print, on_deliver=print)
    assert theirs.exists()


def test_only_a_regular_file_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fifo_dir = tmp_path / "fifo"
    fifo_dir.mkdir()
    os.mkfifo(fifo_dir / "offrec.store")
    with pytest.raises(offrec.StoreNotAFileError):  # used to block forever
        offrec.Client.load_from_dir(fifo_dir, account="ann", key=KEY, on_send=print, on_deliver=print)
    link_dir = tmp_path / "link"
    link_dir.mkdir()
    os.symlink("/dev/zero", link_dir / "offrec.store")
    with pytest.raises(offrec.StoreNotAFileError):  # used to read until memory ran out
        offrec.Client.load_from_dir(link_dir, account="ann", key=KEY, on_send=print, on_deliver=print)


def test_load_applies_the_policy_it_is_given(net: Net) -> None:
    """The policy argument of a load is the restored client's policy (issue #19)."""
    a = net.party("ann")
    sealed = a.save(key=KEY)
    sent: list = []
    with offrec.Client.load(
        sealed, account="ann", key=KEY, policy=offrec.Policy.ALWAYS,
        on_send=lambda peer, text: sent.append(text), on_deliver=print,
    ) as c:
        c.send("ben", "must not go out in plaintext")
        assert sent and all(text.startswith(("?OFR", "?OTRv23? ?OFRv1?")) for text in sent), sent
        assert not any("must not go out" in text for text in sent)
    sent.clear()
    with offrec.Client.load(
        sealed, account="ann", key=KEY, policy=offrec.Policy.MANUAL,
        on_send=lambda peer, text: sent.append(text), on_deliver=print,
    ) as c:
        c.send("ben", "plaintext is fine here")
        assert sent == ["plaintext is fine here"]
    with pytest.raises(offrec.InvalidPolicyError):
        offrec.Client.load(sealed, account="ann", key=KEY, policy=1 << 20, on_send=print, on_deliver=print)
