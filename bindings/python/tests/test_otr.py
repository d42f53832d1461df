"""OTR v3/v2 sessions through the binding, between two offrec clients forced onto OTR: one of
them is handed ``?OTRv3?`` (or ``?OTRv2?``) as if the other had sent it, a query whose modern
offer was stripped on the way, and the traffic is relayed."""

from __future__ import annotations

import base64
import struct
from typing import List, Tuple

import pytest

import offrec
from offrec import EventCode, Policy, Protocol, Security, SessionState, Strength, Trust

from conftest import Net, Party

OTR_PREFIX = b"otr-dsa-sha1"
#: The presets' OTR fallback without DOWNGRADE_GUARD: two offrec clients forced onto OTR stay
#: there (with the guard, its probe is meant to upgrade them to the modern protocol).
OTR_POLICY = Policy.ALLOW | Policy.ALLOW_OTR_V3 | Policy.ALLOW_OTR_V2


def otr_pair(net: Net, query: str = "?OTRv3?", policy: int = OTR_POLICY) -> Tuple[Party, Party]:
    a, b = net.party("alice", policy), net.party("bob", policy)
    a.receive("bob", query)  # as if bob had sent it
    net.pump()
    return a, b


def data_messages(net: Net, sender: str) -> List[Tuple[int, int, bytes]]:
    """(sender keyid, recipient keyid, counter) of every OTR data message ``sender`` sent."""
    out = []
    for frm, _, text in net.wire:
        if frm != sender or not text.startswith(("?OTR:AAMD", "?OTR:AAID")):
            continue
        raw = base64.b64decode(text[5 : text.index(".")])
        offset = 3 + (8 if raw[1] == 3 else 0) + 1  # version, type, [instance tags], flags
        sender_keyid, recipient_keyid = struct.unpack(">II", raw[offset : offset + 8])
        offset += 8
        (mpi_len,) = struct.unpack(">I", raw[offset : offset + 4])
        offset += 4 + mpi_len
        out.append((sender_keyid, recipient_keyid, raw[offset : offset + 8]))
    return out


def test_otr_v3_session_carries_text_both_ways_and_reports_itself(net: Net) -> None:
    a, b = otr_pair(net)
    views = {}
    for me, peer, other in ((a, "bob", b), (b, "alice", a)):
        [sp] = me.session_protocols(peer)
        assert sp == me.session_protocol(peer, 0)
        assert sp.protocol is Protocol.OTR_V3 and sp.strength is Strength.LEGACY and sp.is_legacy
        assert sp.instance == other.instance_tag
        assert sp.otr is not None
        # Each side sees the other's DSA key, as libotr would show it.
        assert sp.otr.their_fingerprint == other.otr_fingerprint()
        assert sp.otr.their_fingerprint_text == offrec.format_otr_fingerprint(other.otr_fingerprint())
        assert me.session_state(peer) == SessionState.ENCRYPTED_UNVERIFIED
        started = [e for e in me.events if e.code == EventCode.LEGACY_SESSION_STARTED]
        assert len(started) == 1 and started[0].reason == Protocol.OTR_V3 and started[0].peer == peer
        # session_info and events name the DSA key by its 32-byte key id.
        [info] = me.sessions(peer)
        assert info.their_fingerprint == OTR_PREFIX + other.otr_fingerprint()
        assert offrec.key_id_is_otr(info.their_fingerprint) == other.otr_fingerprint()
        new_fp = [e for e in me.events if e.code == EventCode.NEW_FINGERPRINT]
        assert new_fp and new_fp[-1].fingerprint == info.their_fingerprint
        views[me.name] = sp.otr
    assert views["alice"].ssid == views["bob"].ssid and len(views["alice"].ssid) == 8
    assert views["alice"].first_half_bold != views["bob"].first_half_bold, "opposite halves are bold"
    assert views["alice"].ssid_words == views["bob"].ssid_words
    assert views["alice"].bold_word != views["bob"].bold_word
    assert a.otr_fingerprint() != b.otr_fingerprint()

    for i in range(3):
        a.send("bob", f"to bob {i} <b>&amp;</b> \u2713")
        net.pump()
        b.send("alice", f"to alice {i}")
        net.pump()
    assert b.texts() == [f"to bob {i} <b>&amp;</b> \u2713" for i in range(3)]
    assert a.texts() == [f"to alice {i}" for i in range(3)]
    assert all(sec == Security.ENCRYPTED_UNVERIFIED for _, _, sec in a.delivered + b.delivered)
    assert any(t.startswith("?OTR:AAMC") for f, _, t in net.wire if f == "alice"), "alice's D-H Commit"
    assert any(t.startswith("?OTR:AAMD") for _, _, t in net.wire), "OTR v3 data messages"
    for _, _, text in net.wire:
        assert "to bob" not in text and "to alice" not in text, f"plaintext on the wire: {text}"
        assert not text.startswith("?OFR"), "modern traffic in an OTR session"


def test_otr_smp_arguments_an_otr_session_cannot_carry_are_refused(net: Net) -> None:
    # OTR's SMP question ends at its first NUL, and the secret has a limit: both are refused
    # before anything is sent.
    a, _ = otr_pair(net)
    before = len(net.wire)
    with pytest.raises(offrec.InvalidArgumentError):
        a.smp_start("bob", "secret", "which\0one")
    with pytest.raises(offrec.MessageTooLargeError):
        a.smp_start("bob", b"s" * (offrec.MAX_SMP_SECRET_LEN + 1))
    assert len(net.wire) == before
    a.smp_start("bob", "secret", "which one")
    net.pump()
    assert len(net.wire) > before


def test_an_otr_message_longer_than_any_receiver_accepts_is_refused(net: Net) -> None:
    # Receivers refuse OTR messages over 128 KiB armoured: with no transport limit set, such a
    # message must be refused here, not sent whole and lost there.
    a, b = otr_pair(net)
    before = len(net.wire)
    with pytest.raises(offrec.MessageTooLargeError) as info:
        a.send("bob", "m" * 100_000)
    assert info.value.code == offrec.Result.MESSAGE_TOO_LARGE
    assert len(net.wire) == before
    a.send("bob", "f" * 90_000)
    net.pump()
    assert b.texts()[-1] == "f" * 90_000


def test_otr_v2_session(net: Net) -> None:
    a, b = otr_pair(net, "?OTRv2?")
    sp = a.session_protocol("bob", 0)
    assert sp.protocol is Protocol.OTR_V2 and sp.strength is Strength.LEGACY
    assert sp.instance == 2, "v2 has no instance tags: the pseudo-instance 2"
    assert sp.otr is not None and sp.otr.their_fingerprint == b.otr_fingerprint()
    assert [e.reason for e in b.events if e.code == EventCode.LEGACY_SESSION_STARTED] == [Protocol.OTR_V2]
    b.send("alice", "over v2")
    net.pump()
    assert a.texts() == ["over v2"]
    assert any(t.startswith("?OTR:AAID") for _, _, t in net.wire), "OTR v2 data messages"


def test_smp_with_a_question_over_otr_verifies_only_the_asker(net: Net) -> None:
    a, b = otr_pair(net)
    a.smp_start("bob", "shared secret", "our city?")
    net.pump()
    asked = [e for e in b.events if e.code == EventCode.SMP_ASKED_FOR_SECRET]
    assert asked and asked[-1].text == "our city?"
    b.smp_respond("alice", "shared secret")
    net.pump()
    assert EventCode.SMP_SUCCEEDED in a.codes() and EventCode.SMP_SUCCEEDED not in b.codes()
    assert EventCode.SMP_VERIFIED_BY_PEER in b.codes()
    assert a.session_state("bob") == SessionState.ENCRYPTED_VERIFIED
    assert b.session_state("alice") == SessionState.ENCRYPTED_UNVERIFIED
    bob_key = a.sessions("bob")[0].their_fingerprint
    alice_key = b.sessions("alice")[0].their_fingerprint
    assert a.trust("bob", bob_key) == Trust.VERIFIED_SMP
    assert b.trust("alice", alice_key) == Trust.UNVERIFIED
    assert a.known_keys("bob") == [offrec.KnownKey(bob_key, Trust.VERIFIED_SMP)]
    # The usual trust call works on the OTR key id too.
    b.set_trust("alice", alice_key, Trust.VERIFIED_MANUAL)
    assert b.session_state("alice") == SessionState.ENCRYPTED_VERIFIED


def test_smp_with_a_wrong_answer_over_otr_fails_on_both_sides(net: Net) -> None:
    a, b = otr_pair(net)
    a.smp_start("bob", "right", "the word?")
    net.pump()
    b.smp_respond("alice", "wrong")
    net.pump()
    assert EventCode.SMP_FAILED in a.codes() and EventCode.SMP_FAILED in b.codes()
    assert a.session_state("bob") == SessionState.ENCRYPTED_UNVERIFIED


def test_extra_key_over_otr_is_the_same_on_both_sides(net: Net) -> None:
    a, b = otr_pair(net)
    key = b.extra_symmetric_key("alice", 7, b"file.txt")
    net.pump()
    got = [e for e in a.events if e.code == EventCode.EXTRA_KEY_RECEIVED]
    assert len(got) == 1
    assert got[0].usage == 7 and got[0].context == b"file.txt"
    assert got[0].key == bytearray(key) and len(key) == 32 and key != bytes(32)


def test_ending_an_otr_session(net: Net) -> None:
    a, b = otr_pair(net)
    a.end_session("bob")
    net.pump()
    assert b.session_state("alice") == SessionState.FINISHED
    assert EventCode.PEER_ENDED_SESSION in b.codes()
    with pytest.raises(offrec.SessionFinishedError):
        b.send("alice", "after the end")


def test_require_modern_reports_otr_and_never_answers(net: Net) -> None:
    a = net.party("alice", Policy.MANUAL | Policy.REQUIRE_MODERN)
    net.party("bob")
    a.receive("bob", "?OTRv3?")
    net.pump()
    assert a.sessions("bob") == [] and a.session_protocols("bob") == []
    assert EventCode.FOREIGN_PROTOCOL in a.codes()
    assert EventCode.LEGACY_SESSION_STARTED not in a.codes()
    assert net.wire == [], "nothing answered"
    assert a.otr_fingerprint() is None, "no DSA key made"
    a.start_session("bob")
    assert net.wire[-1][2].startswith("?OFRv1?"), "its own query offers only offrec"


def test_policy_without_otr_bits_reports_otr_and_never_answers(net: Net) -> None:
    a = net.party("alice", Policy.ALLOW)
    net.party("bob")
    a.receive("bob", "?OTRv3?")
    net.pump()
    assert a.sessions("bob") == []
    assert EventCode.FOREIGN_PROTOCOL in a.codes()
    assert net.wire == []


def test_modern_session_reports_strong_and_no_otr(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    sp = a.session_protocol("bob", 0)
    assert sp == offrec.SessionProtocol(b.instance_tag, Protocol.MODERN_V1, Strength.STRONG, None)
    assert not sp.is_legacy
    assert EventCode.LEGACY_SESSION_STARTED not in a.codes()
    assert offrec.key_id_is_otr(a.sessions("bob")[0].their_fingerprint) is None
    assert a.otr_fingerprint() is None, "no OTR need arose, so no DSA key"
    with pytest.raises(offrec.InvalidArgumentError):
        a.session_protocol("bob", 1)
    with pytest.raises(offrec.InvalidArgumentError):
        a.session_protocol("nobody", 0)


def test_generate_otr_key_is_idempotent_and_persisted(net: Net) -> None:
    a = net.party("alice", OTR_POLICY)
    assert a.otr_fingerprint() is None
    persist_before = a.codes().count(EventCode.PERSIST_NEEDED)
    fp = a.generate_otr_key()
    assert len(fp) == 20 and fp != bytes(20)
    assert a.codes().count(EventCode.PERSIST_NEEDED) == persist_before + 1, "worth saving"
    assert a.otr_fingerprint() == fp
    assert a.generate_otr_key() == fp, "idempotent"
    assert a.codes().count(EventCode.PERSIST_NEEDED) == persist_before + 1, "nothing new to save"

    sealed = a.save(key=bytes(range(32)))
    with offrec.Client.load(sealed, account="alice", key=bytes(range(32)), on_send=print, on_deliver=print) as c:
        assert c.otr_fingerprint() == fp
        assert c.generate_otr_key() == fp
    # The key made at the first OTR need is used in OTR sessions.
    b = net.party("bob", OTR_POLICY)
    b.receive("alice", "?OTRv3?")
    net.pump()
    assert b.session_protocol("alice", 0).otr.their_fingerprint == fp  # type: ignore[union-attr]


def test_otr_key_through_save_to_dir(net: Net, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, _ = otr_pair(net)
    fp = a.otr_fingerprint()
    assert fp is not None, "made at the first OTR need"
    a.save_to_dir(tmp_path / "store", passphrase="pw")
    with offrec.Client.load_from_dir(
        tmp_path / "store", account="alice", passphrase="pw", on_send=print, on_deliver=print
    ) as c:
        assert c.otr_fingerprint() == fp


def test_no_otr_key_error_is_mapped() -> None:
    err = offrec.errors.error_for(offrec.Result.NO_OTR_KEY)
    assert isinstance(err, offrec.NoOtrKeyError) and isinstance(err, offrec.OffrecError)
    assert err.code == 123 and "OTR" in err.message


def test_format_otr_fingerprint() -> None:
    fp = bytes(i * 0x11 & 0xFF for i in range(20))
    assert offrec.format_otr_fingerprint(fp) == "00112233 44556677 8899AABB CCDDEEFF 10213243"
    # An OTR key id is shown the same way by format_fingerprint.
    assert offrec.format_fingerprint(OTR_PREFIX + fp) == offrec.format_otr_fingerprint(fp)
    with pytest.raises(ValueError):
        offrec.format_otr_fingerprint(bytes(32))
    with pytest.raises(ValueError):
        offrec.format_otr_fingerprint(b"")


def test_key_id_is_otr() -> None:
    dsa = bytes(range(100, 120))
    assert offrec.key_id_is_otr(OTR_PREFIX + dsa) == dsa
    assert offrec.key_id_is_otr(b"otr-dsa-sha2" + dsa) is None
    assert offrec.key_id_is_otr(bytes(32)) is None
    with pytest.raises(ValueError):
        offrec.key_id_is_otr(dsa)  # 20 bytes: not a key id


def test_new_calls_on_a_closed_client(net: Net) -> None:
    a = net.party("alice")
    a.close()
    for call in (a.generate_otr_key, a.otr_fingerprint, lambda: a.session_protocol("bob", 0)):
        with pytest.raises(offrec.ClosedError):
            call()


# --- engine behaviour found by these tests: the first and last were fixed; the middle one is a
# --- documented limitation (strict xfail: it turns into a failure once the engine changes) ----


def test_ending_after_sending_reaches_the_peer_and_never_reuses_a_counter(net: Net) -> None:
    """close_session reveals every MAC key first (OtrSession::reveal_everything ->
    KeyRing::reveal_all discards the current sending pair too), so the disconnect is encrypted
    again under the same AES key at counter 1: the keystream of alice's first message under
    that pair is reused (an observer XORs the two and reads her text), and bob drops the
    disconnect as a replay, staying encrypted to a session alice has wiped."""
    a, b = otr_pair(net)
    a.send("bob", "secret123")
    net.pump()
    a.end_session("bob")
    net.pump()
    sent = data_messages(net, "alice")
    assert len(sent) == 2
    assert len(set(sent)) == len(sent), f"a (keyids, counter) used twice: {sent}"
    assert EventCode.PEER_ENDED_SESSION in b.codes()
    assert b.session_state("alice") == SessionState.FINISHED


@pytest.mark.xfail(strict=True, reason="known limitation (SECURITY.md, Legacy OTR): OTR sessions are not stored, so under MANUAL a restored client sends in the clear, as libotr does")
def test_a_restored_client_does_not_send_in_the_clear_to_its_otr_peer(net: Net) -> None:
    """Stored modern sessions are restarted after a load (the next send is held until a new
    handshake); an OTR session is not stored at all, so under MANUAL the first message after a
    restart goes out in plaintext while the peer still shows an encrypted OTR session (it gets
    UNENCRYPTED_WHILE_ENCRYPTED). libotr behaves so too, but the binding's docs promise held
    messages for every stored session."""
    a, b = otr_pair(net)  # OTR without the downgrade guard: the session stays OTR
    sealed = a.save(key=bytes(32))
    a.close()
    restored = net.add(Party(net, "alice", OTR_POLICY, sealed=sealed, key=bytes(32)), "alice")
    restored.send("bob", "after the restart")
    assert not any("after the restart" in text for _, _, text in net.wire), "sent in the clear"
    net.pump()
    assert b.delivered[-1] == ("alice", "after the restart", Security.ENCRYPTED_UNVERIFIED)


def test_downgrade_guard_upgrades_two_offrec_clients_forced_onto_otr(net: Net) -> None:
    """Under DOWNGRADE_GUARD (in every preset) an OTR session announces offrec and upgrades
    when the peer runs offrec too (PROTOCOL.md part B)."""
    a, b = otr_pair(net, policy=Policy.MANUAL)
    a.send("bob", "one")
    net.pump()
    b.send("alice", "two")
    net.pump()
    for me, peer in ((a, "bob"), (b, "alice")):
        assert [sp.protocol for sp in me.session_protocols(peer)] == [Protocol.MODERN_V1]


# --- the downgrade guard against a man in the middle (PROTOCOL.md part B.12 and "Key links and
# --- pins"): the MITM sits in the transport, rewriting or dropping texts before delivery -------


class MitmNet(Net):
    """A network whose man in the middle removes offrec's offer from every query and, with
    ``block_modern``, drops every offrec message; ``drop_first_data`` drops each sender's first
    OTR data message (the upgrade probe travels alone in it)."""

    def __init__(self) -> None:
        super().__init__()
        self.strip = False
        self.block_modern = False
        self.drop_first_data = False
        self.dropped_data: set = set()

    def post(self, sender: str, to: str, text: str) -> None:
        self.wire.append((sender, to, text))
        if self.strip and text.startswith("?OTRv"):
            text = text.replace(" ?OFRv1?", "", 1)
        if self.block_modern and text.startswith("?OFR"):
            return
        if self.drop_first_data and text.startswith("?OTR:AAMD") and sender not in self.dropped_data:
            self.dropped_data.add(sender)
            return
        self.queue.append((sender, to, text))

    def pump_one(self) -> str:
        """Delivers one message; returns it as it arrived."""
        sender, to, text = self.queue.popleft()
        target = self.clients.get(to)
        if target is not None and not target.closed:
            target.receive(sender, text)
        return text


@pytest.fixture
def mitm() -> MitmNet:
    n = MitmNet()
    yield n
    for c in n.clients.values():
        c.close()


def keyed_pair(net: MitmNet, policy: int = Policy.MANUAL) -> Tuple[Party, Party]:
    """alice and bob with OTR DSA keys and the guard (MANUAL)."""
    a, b = net.party("alice", policy), net.party("bob", policy)
    a.generate_otr_key()
    b.generate_otr_key()
    return a, b


def modern_then_ended(net: MitmNet, a: Party, b: Party) -> None:
    """A modern session (which links each side's DSA key), then both sides end it."""
    a.start_session("bob")
    net.pump()
    assert a.session_protocol("bob", 0).protocol is Protocol.MODERN_V1
    a.end_session("bob")
    net.pump()
    b.end_session("alice")
    net.pump()


def test_a_blocked_upgrade_after_the_probe_is_a_suspected_downgrade(mitm: MitmNet) -> None:
    a, b = mitm.party("alice"), mitm.party("bob")
    mitm.strip = mitm.block_modern = True
    a.start_session("bob")
    mitm.pump()
    assert a.session_protocol("bob", 0).protocol is Protocol.OTR_V3
    # Each side read the other's probe and started an offrec handshake, which never arrives.
    assert any(t.startswith("?OFR:") for f, _, t in mitm.wire if f == "bob"), "bob tried the upgrade"
    assert EventCode.DOWNGRADE_SUSPECTED not in a.codes(), "not before the handshake timeout"
    mitm.clock += 121
    a.tick()
    b.tick()
    mitm.pump()
    for me in (a, b):
        assert me.codes().count(EventCode.DOWNGRADE_SUSPECTED) == 1
    mitm.clock += 1000
    a.tick()
    assert a.codes().count(EventCode.DOWNGRADE_SUSPECTED) == 1, "reported once"
    a.send("bob", "still here")
    mitm.pump()
    assert b.texts() == ["still here"], "the OTR session still works"


def test_the_probe_rides_on_the_first_user_messages_when_its_own_message_is_lost(mitm: MitmNet) -> None:
    a, b = mitm.party("alice"), mitm.party("bob")
    mitm.strip = mitm.drop_first_data = True
    a.start_session("bob")
    mitm.pump()
    assert mitm.dropped_data == {"alice", "bob"}, "each side's probe message was dropped"
    assert EventCode.PROTOCOL_UPGRADED not in a.codes() + b.codes()
    a.send("bob", "one")
    mitm.pump()
    assert b.texts() == ["one"]
    for me, peer in ((a, "bob"), (b, "alice")):
        assert EventCode.PROTOCOL_UPGRADED in me.codes()
        assert [sp.protocol for sp in me.session_protocols(peer)] == [Protocol.MODERN_V1]


def test_a_pinned_key_link_holds_user_text_for_the_modern_session(mitm: MitmNet) -> None:
    a, b = keyed_pair(mitm)
    modern_then_ended(mitm, a, b)
    mitm.strip = True
    a.start_session("bob")
    while EventCode.DOWNGRADE_DETECTED not in a.codes():
        mitm.pump_one()
    assert a.session_protocol("bob", 0).protocol is Protocol.OTR_V3
    codes = a.codes()
    assert codes.index(EventCode.LEGACY_SESSION_STARTED) < codes.index(EventCode.DOWNGRADE_DETECTED)
    sent_before = len(a.sent)
    mid = a.send("bob", "held for offrec")
    assert len(a.sent) == sent_before, "held, nothing sent"
    assert any(e.code == EventCode.ENCRYPTION_REQUIRED and e.message_id == mid for e in a.events)
    carrier = None
    while mitm.queue:
        text = mitm.pump_one()
        if carrier is None and "held for offrec" in b.texts():
            carrier = text
    assert carrier is not None and carrier.startswith("?OFR:"), f"carried by {carrier!r}, not OTR"
    assert b.texts() == ["held for offrec"]
    assert any(e.code == EventCode.HELD_MESSAGE_SENT and e.message_id == mid for e in a.events)
    for me, peer in ((a, "bob"), (b, "alice")):
        assert EventCode.DOWNGRADE_DETECTED in me.codes()
        assert EventCode.PROTOCOL_UPGRADED in me.codes()
        assert [sp.protocol for sp in me.session_protocols(peer)] == [Protocol.MODERN_V1]


def test_another_dsa_key_of_a_peer_that_used_offrec_is_allowed_and_reported(mitm: MitmNet) -> None:
    a, b = keyed_pair(mitm)
    modern_then_ended(mitm, a, b)
    old_dsa = b.otr_fingerprint()
    # Bob now talks from another device: an OTR-only program with another DSA key.
    b.close()
    b2 = mitm.party("bob", OTR_POLICY)
    mitm.strip = True
    a.start_session("bob")
    mitm.pump()
    assert b2.otr_fingerprint() not in (None, old_dsa)
    assert EventCode.LEGACY_WITH_MODERN_PEER in a.codes()
    assert EventCode.DOWNGRADE_DETECTED not in a.codes()
    a.send("bob", "over otr")
    mitm.pump()
    assert b2.texts() == ["over otr"], "allowed: sent over OTR at once"
    assert a.session_protocol("bob", 0).protocol is Protocol.OTR_V3


def test_key_links_carry_trust_only_from_the_verified_side(mitm: MitmNet) -> None:
    a, b = keyed_pair(mitm)
    a_dsa, b_dsa = OTR_PREFIX + a.otr_fingerprint(), OTR_PREFIX + b.otr_fingerprint()  # type: ignore[operator]
    # Alice verified Bob's offrec key; Bob verified Alice's OTR key (Pidgin days), not her offrec key.
    a.set_trust("bob", b.fingerprint, Trust.VERIFIED_SMP)
    b.set_trust("alice", a_dsa, Trust.VERIFIED_MANUAL)
    a.start_session("bob")
    mitm.pump()
    linked = [e for e in a.events if e.code == EventCode.OTR_KEY_LINKED]
    assert len(linked) == 1 and linked[0].fingerprint == b_dsa and linked[0].peer == "bob"
    assert [e.fingerprint for e in b.events if e.code == EventCode.OTR_KEY_LINKED] == [a_dsa]
    # Bob's verified offrec key vouched for his DSA key: verified at the same level.
    assert a.trust("bob", b_dsa) == Trust.VERIFIED_SMP
    # Alice's unverified offrec key claimed her verified DSA key: nothing flows back.
    assert b.trust("alice", a.fingerprint) == Trust.UNVERIFIED
    assert b.trust("alice", a_dsa) == Trust.VERIFIED_MANUAL
