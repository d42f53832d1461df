"""libotr 4.1.1's frozen OTR vectors through the binding (the C API and Go run the same checks):
tests/vectors/otr3_session.json and otr3_v2_session.json are real libotr sessions (made by
tests/otr_vectors/gen.c); a client given a party's recorded DSA key and DH secrets (test hooks)
plays that party through the public calls and must put libotr's bytes on the wire and read
libotr's. otr3_smp.json (tests/otr_smp_vectors/gen.c) holds libotr's SMP TLVs: a client must
read libotr's SMP1/SMP1Q and call every tampered one cheating.

The hooks exist only in a library built with the ``test-hooks`` cargo feature: ``make
python-tests-hooks`` runs this file against one (OFFREC_REQUIRE_TEST_HOOKS=1 makes their
absence a failure); plain ``make python-tests`` skips it.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import struct
from ctypes import c_size_t, byref
from pathlib import Path
from typing import Any, Deque, Dict, List, Tuple

import pytest

import offrec
from offrec import EventCode, Option, Policy, Protocol, SessionState
from offrec import _ffi

VECTORS = Path(__file__).resolve().parents[3] / "tests" / "vectors"
NOW = 1_000_000
TLV_PADDING, TLV_DISCONNECTED, TLV_SMP1, TLV_SMP1Q, TLV_EXTRA_KEY = 0, 1, 2, 7, 8


@pytest.fixture(autouse=True)
def hooks() -> None:
    if not hasattr(_ffi.lib(), "offrec_test_client_set_otr_key"):
        if os.environ.get("OFFREC_REQUIRE_TEST_HOOKS"):
            pytest.fail(f"{_ffi.loaded_from()} has no test hooks: build it with --features test-hooks")
        pytest.skip("liboffrec without test hooks (make python-tests-hooks runs these)")


def load(name: str) -> Dict[str, Any]:
    return json.loads((VECTORS / name).read_text())


def tlvs(data: bytes) -> List[Tuple[int, bytes]]:
    out = []
    while data:
        kind, length = struct.unpack(">HH", data[:4])
        out.append((kind, data[4 : 4 + length]))
        data = data[4 + length :]
    return out


def binary(text: str) -> bytes:
    assert text.startswith("?OTR:") and text.endswith(".")
    return base64.b64decode(text[5:-1])


class Player(offrec.Client):
    """A client playing one party of a recorded session: what it sends is queued for the test."""

    def __init__(self, account: str, protocol: str, policy: int, tag: int) -> None:
        self.sent: Deque[str] = collections.deque()
        self.delivered: List[bytes] = []
        self.events: List[offrec.Event] = []
        super().__init__(account, protocol, policy, identity_secret=bytes(range(32)), instance_tag=tag)

    def on_send(self, peer: str, text: str) -> None:
        self.sent.append(text)

    def on_deliver(self, peer: str, text: str, security: offrec.Security, instance: int) -> None:
        self.delivered.append(text.encode())

    def on_event(self, event: offrec.Event) -> None:
        self.events.append(event)

    def now(self) -> int:
        return NOW

    def hook(self, name: str, *args: Any) -> None:
        self._call(name, *args)

    def set_otr_key(self, dsa: Dict[str, str]) -> None:
        parts = [bytes.fromhex(dsa[k]) for k in ("p", "q", "g", "y", "x")]
        args: List[Any] = []
        for part in parts:
            args += [part, len(part)]
        self.hook("offrec_test_client_set_otr_key", *args)

    def queue_random(self, chunk: bytes) -> None:
        self.hook("offrec_test_client_queue_random", chunk, len(chunk))

    def queued_random_left(self) -> int:
        left = c_size_t(99)
        self.hook("offrec_test_client_queued_random_left", byref(left))
        return left.value

    def send_otr_smp(self, peer: str, tlv_type: int, value: bytes) -> None:
        p = peer.encode()
        self.hook("offrec_test_client_send_otr_smp", p, len(p), 0, tlv_type, value, len(value))


def is_goodbye(message: Dict[str, Any]) -> bool:
    return tlvs(bytes.fromhex(message["plaintext"]).partition(b"\0")[2]) == [(TLV_DISCONNECTED, b"")]


def player_for(vector: Dict[str, Any], us: str) -> Player:
    party = vector["parties"][us]
    v3 = vector["version"] == 3
    policy = Policy.ALLOW | (Policy.ALLOW_OTR_V3 if v3 else Policy.ALLOW_OTR_V2)
    player = Player(party["account"], "prpl-jabber", policy, party["instance_tag"] if v3 else 0x100)
    player.set_option(Option.PADDING_BLOCK, 0)  # libotr pads nothing
    player.set_otr_key(party["dsa"])
    # libotr's DH secrets (40 bytes each) in the order it drew them, and the commit sender's r.
    secrets = [bytes.fromhex(k["secret"]).rjust(40, b"\0") for k in sorted(party["dh_keys"], key=lambda k: k["keyid"])]
    player.queue_random(secrets[0])
    if party["r"] is not None:
        player.queue_random(bytes.fromhex(party["r"]))
    for secret in secrets[1:]:
        player.queue_random(secret)
    return player


def produce(player: Player, vector: Dict[str, Any], them: str, message: Dict[str, Any]) -> None:
    """Makes the player send what libotr sent in ``message``, through the public calls."""
    plaintext = bytes.fromhex(message["plaintext"])
    text, _, rest = plaintext.partition(b"\0")
    found = tlvs(rest)
    if not found:
        player.send(them, text)
    elif [k for k, _ in found] == [TLV_PADDING]:
        # libotr's padding TLV: a padding block as long as the whole body gives the same one.
        player.set_option(Option.PADDING_BLOCK, len(plaintext))
        player.send(them, text)
        player.set_option(Option.PADDING_BLOCK, 0)
    elif found[0][0] == TLV_EXTRA_KEY:
        usage, context = struct.unpack(">I", found[0][1][:4])[0], found[0][1][4:]
        key = player.extra_symmetric_key(them, usage, context)
        assert key.hex() == vector["symkey_sent"]["key"] == message["extra_key"]
        assert (usage, context.hex()) == (vector["symkey_sent"]["use"], vector["symkey_sent"]["usedata"])
    elif found == [(TLV_DISCONNECTED, b"")]:
        player.end_session(them)
    else:
        raise AssertionError(f"no public call sends {found}")


OTR_KEY_ID_PREFIX = b"otr-dsa-sha1"


def replay(name: str, us: str, tamper: int = -1) -> Player:
    """Plays ``us`` through the recorded session. With ``tamper`` set, the libotr message with
    that index arrives with one bit flipped in its MAC and the replay stops there."""
    vector = load(name)
    assert vector["libotr"] == "4.1.1"
    them = "bob" if us == "alice" else "alice"
    me, peer = vector["parties"][us], vector["parties"][them]
    peer_name = peer["account"]
    version = vector["version"]
    player = player_for(vector, us)
    fingerprint = player.otr_fingerprint()
    assert fingerprint is not None and fingerprint.hex() == me["fingerprint"]
    assert offrec.format_otr_fingerprint(fingerprint) == me["fingerprint_human"]
    established = False
    data_sent = data_read = 0
    for message in vector["messages"]:
        kind, index = message["kind"], message["index"]
        if message["from"] == us:
            if kind == "query":
                continue  # ours would be offrec's own query; the other side's commit needs none
            if kind == "data":
                produce(player, vector, peer_name, message)
                data_sent += 1
            assert player.sent, f"message {index} ({kind}) was not sent"
            ours = player.sent.popleft()
            if kind in ("reveal_signature", "signature"):
                # All but the encrypted DSA signature (libgcrypt signs with a random k) and
                # the MAC over it: header, r, PUBKEY and keyid under the session's keys.
                mine, theirs = binary(ours), bytes.fromhex(message["binary"])
                assert len(mine) == len(theirs) and mine[:-60] == theirs[:-60], f"message {index}"
            elif kind == "data" and is_goodbye(message):
                # offrec's goodbye also reveals every receiving MAC key it used (PROTOCOL.md
                # B, "Reveals"); libotr's reveals none. Everything the MAC covers is equal.
                mine, theirs = binary(ours), bytes.fromhex(message["binary"])
                assert theirs[-4:] == bytes(4), "libotr's goodbye reveals nothing"
                assert mine[: len(theirs) - 4] == theirs[:-4], f"message {index}"
                (revealed,) = struct.unpack(">I", mine[len(theirs) - 4 : len(theirs)])
                assert revealed > 0 and revealed % 20 == 0 and len(mine) == len(theirs) + revealed
            else:
                assert ours == message["text"], f"message {index} ({kind}) differs from libotr's"
            continue
        text = message["text"]
        if index == tamper:
            raw = bytearray(bytes.fromhex(message["binary"]))
            raw[-25] ^= 0x01  # inside the MAC (the 20 bytes before the 4-byte reveal length)
            text = "?OTR:" + base64.b64encode(bytes(raw)).decode() + "."
        before = len(player.delivered)
        player.receive(peer_name, text)
        if index == tamper:
            assert player.delivered[before:] == [], "a message with a bad MAC is never shown"
            return player
        if kind == "data":
            data_read += 1
            delivered = player.delivered[before:]
            plaintext = bytes.fromhex(message["plaintext"])
            if message["ignored"]:
                assert delivered == [], f"message {index}"
            else:
                shown = plaintext.partition(b"\0")[0]
                assert delivered == [shown] and shown == message["delivered"].encode(), f"message {index}"
            if any(k == TLV_EXTRA_KEY for k, _ in tlvs(plaintext.partition(b"\0")[2])):
                [event] = [e for e in player.events if e.code == EventCode.EXTRA_KEY_RECEIVED]
                received = me["symkey_received"]
                assert event.key is not None and event.key.hex() == received["key"]
                assert event.key.hex() == vector["symkey_sent"]["key"] == message["extra_key"]
                assert event.usage == received["use"] and event.context.hex() == received["usedata"]
        if kind == "signature":
            established = True
            [sp] = player.session_protocols(peer_name)
            assert sp.protocol == (Protocol.OTR_V3 if version == 3 else Protocol.OTR_V2)
            assert sp.instance == (peer["instance_tag"] if version == 3 else 2)
            assert sp.otr is not None
            assert sp.otr.their_fingerprint.hex() == peer["fingerprint"]
            assert sp.otr.their_fingerprint_text == peer["fingerprint_human"]
            assert sp.otr.ssid.hex() == me["ssid"]
            assert sp.otr.first_half_bold == (me["ssid_half_bold"] == "first")
        if kind == "reveal_signature" and us == "alice":
            established = True  # alice's session starts with libotr's Reveal Signature
    assert established
    assert not player.sent, f"offrec sent more than libotr: {list(player.sent)}"
    assert data_sent >= 4 and data_read >= 4
    assert player.queued_random_left() == 0, "offrec drew every secret libotr drew"
    started = [e for e in player.events if e.code == EventCode.LEGACY_SESSION_STARTED]
    assert [e.reason for e in started] == [Protocol.OTR_V3 if version == 3 else Protocol.OTR_V2]
    [new_key] = [e for e in player.events if e.code == EventCode.NEW_FINGERPRINT]
    assert new_key.fingerprint == OTR_KEY_ID_PREFIX + bytes.fromhex(peer["fingerprint"])
    # Nothing went wrong on the way: only these events (no UNREADABLE, MALFORMED, ...).
    codes = {e.code for e in player.events} - {EventCode.PERSIST_NEEDED}
    expected = {EventCode.NEW_FINGERPRINT, EventCode.HANDSHAKE_COMPLETE, EventCode.LEGACY_SESSION_STARTED}
    if us == "bob":
        # alice's goodbye (TLV 1) ended the session, as it ended libotr's
        expected |= {EventCode.EXTRA_KEY_RECEIVED, EventCode.PEER_ENDED_SESSION}
        assert player.session_state(peer_name) == SessionState.FINISHED
    else:
        assert player.session_state(peer_name) == SessionState.PLAINTEXT
    assert codes == expected
    return player


@pytest.mark.parametrize("us", ["alice", "bob"])
@pytest.mark.parametrize("name", ["otr3_session.json", "otr3_v2_session.json"])
def test_a_client_replays_libotrs_session(name: str, us: str) -> None:
    with replay(name, us):
        pass


def test_other_secrets_give_other_bytes() -> None:
    """The comparison means something: with one DH secret changed the commit is not libotr's."""
    vector = load("otr3_session.json")
    party = vector["parties"]["bob"]
    with Player(party["account"], "prpl-jabber", Policy.ALLOW | Policy.ALLOW_OTR_V3, party["instance_tag"]) as p:
        p.set_option(Option.PADDING_BLOCK, 0)
        p.set_otr_key(party["dsa"])
        p.queue_random(bytes(39) + b"\x07")
        p.queue_random(bytes.fromhex(party["r"]))
        p.receive(vector["parties"]["alice"]["account"], "?OTRv3?")
        assert p.queued_random_left() == 0
        [commit] = p.sent
        assert commit.startswith("?OTR:AAMC") and commit != vector["messages"][1]["text"]


@pytest.mark.parametrize("index", [5, 9])
def test_a_tampered_libotr_data_message_is_not_shown(index: int) -> None:
    us = "bob" if index == 5 else "alice"
    with replay("otr3_session.json", us, tamper=index) as player:
        codes = [e.code for e in player.events]
        assert EventCode.UNREADABLE in codes or EventCode.MALFORMED in codes


def test_hooks_refuse_bad_input() -> None:
    with Player("me", "prpl-jabber", Policy.ALLOW | Policy.ALLOW_OTR_V3, 0x100) as p:
        with pytest.raises(offrec.InvalidArgumentError):
            p.set_otr_key({"p": "01", "q": "01", "g": "01", "y": "01", "x": "01"})
        assert p.otr_fingerprint() is None
        with pytest.raises(offrec.InvalidArgumentError):
            p.queue_random(b"")
        with pytest.raises(offrec.NoSessionError):
            p.send_otr_smp("nobody", TLV_SMP1, b"")
        with pytest.raises(offrec.InvalidArgumentError):
            p.send_otr_smp("nobody", 8, b"")


# ---- otr3_smp.json: libotr's SMP TLVs, carried by an OTR session between two clients -----

#: The SMP group's prime (RFC 3526 group 5, OTR spec), to build values outside the group.
P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF",
    16,
)


def mpis(value: bytes) -> List[int]:
    (count,) = struct.unpack(">I", value[:4])
    out, rest = [], value[4:]
    for _ in range(count):
        (n,) = struct.unpack(">I", rest[:4])
        out.append(int.from_bytes(rest[4 : 4 + n], "big"))
        rest = rest[4 + n :]
    assert rest == b""
    return out


def mpi_array(values: List[int]) -> bytes:
    out = struct.pack(">I", len(values))
    for v in values:
        raw = v.to_bytes((v.bit_length() + 7) // 8, "big")
        out += struct.pack(">I", len(raw)) + raw
    return out


def smp_pair(net: Any) -> Tuple[Any, Any]:
    """Two clients in an OTR v3 session (alice was handed ``?OTRv3?`` as if from bob)."""
    policy = Policy.ALLOW | Policy.ALLOW_OTR_V3
    a, b = net.party("alice", policy), net.party("bob", policy)
    a.receive("bob", "?OTRv3?")
    net.pump()
    assert a.session_protocol("bob", 0).protocol == Protocol.OTR_V3
    return a, b


def send_smp(party: Any, peer: str, tlv_type: int, value: bytes) -> None:
    p = peer.encode()
    party._call("offrec_test_client_send_otr_smp", p, len(p), 0, tlv_type, value, len(value))


def test_libotrs_smp1_and_questions_reach_the_app(net: Any) -> None:
    a, b = smp_pair(net)
    for run in load("otr3_smp.json")["runs"]:
        first = run["messages"][0]
        assert first["from"] == "alice"
        before = len(b.events)
        send_smp(a, "bob", first["tlv_type"], bytes.fromhex(first["value"]))
        net.pump()
        asked = [e for e in b.events[before:] if e.code == EventCode.SMP_ASKED_FOR_SECRET]
        assert len(asked) == 1, run["name"]
        assert (asked[0].text or None) == run["question"], run["name"]
        assert first["tlv_type"] == (TLV_SMP1Q if run["question"] else TLV_SMP1)
        b.smp_abort("alice")
        net.pump()
    codes = {e.code for e in a.events + b.events}
    assert EventCode.SMP_CHEATED not in codes and EventCode.MALFORMED not in codes


def tampered_smp1(value: bytes) -> List[Tuple[str, bytes]]:
    m = mpis(value)  # g2a, c2, D2, g3a, c3, D3
    g2a = m[0]
    assert pow(g2a, (P - 1) // 2, P) == 1, "libotr's g2a is a quadratic residue"
    out = []
    for what, index, bad in [
        ("g2a = 1", 0, 1),
        ("g2a = p - 1", 0, P - 1),
        ("g2a = p", 0, P),
        ("g2a a non-residue (p - g2a)", 0, P - g2a),
        ("D2 = 0", 2, 0),
        ("D3 = q", 5, (P - 1) // 2),
        ("c2 + 1", 1, m[1] + 1),
    ]:
        changed = list(m)
        changed[index] = bad
        out.append((what, mpi_array(changed)))
    out.append(("5 MPIs", mpi_array(m[:5])))
    out.append(("7 MPIs", mpi_array(m + [1])))
    out.append(("truncated", value[:-1]))
    return out


def test_tampered_libotr_smp1_is_cheating(net: Any) -> None:
    a, b = smp_pair(net)
    run = load("otr3_smp.json")["runs"][0]
    value = bytes.fromhex(run["messages"][0]["value"])
    for what, bad in tampered_smp1(value):
        before_a, before_b, wire = len(a.events), len(b.events), len(net.wire)
        send_smp(a, "bob", TLV_SMP1, bad)
        net.pump()
        codes = [e.code for e in b.events[before_b:]]
        assert EventCode.SMP_CHEATED in codes and EventCode.SMP_ASKED_FOR_SECRET not in codes, what
        # bob answered with one data message (its SMP abort), which alice read quietly (she had
        # no run); no run waits for bob's secret
        assert [t[:9] for f, _, t in net.wire[wire:] if f == "bob"] == ["?OTR:AAMD"], what
        assert a.events[before_a:] == [], what
        with pytest.raises(offrec.OffrecError):
            b.smp_respond("alice", run["bob_secret"])
    # the untouched message still works afterwards
    before = len(b.events)
    send_smp(a, "bob", TLV_SMP1, value)
    net.pump()
    assert EventCode.SMP_ASKED_FOR_SECRET in [e.code for e in b.events[before:]]
