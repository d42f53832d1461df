"""An outside oracle for the frozen handshake and ratchet vectors.

Every vector in tests/vectors/ is written by offrec itself, so a mistake in its key schedule
would be frozen into the file and the Rust, C, Go and Python tests would all agree with it.
This module recomputes tests/vectors/ake.json and tests/vectors/ratchet.json from PROTOCOL.md
alone, with Python's `cryptography` package (X25519, AES-256-GCM, raw AES, HKDF, HMAC) and
hashlib. It never imports offrec and needs no library.

From the labels and recorded inputs it rebuilds, and compares byte for byte with the vector:
the DeterministicRandom streams and every byte they gave out, both identities and their
fingerprints, the three handshake messages, the SSID and the peers' identities, then every data
message (header, ciphertext and tag), every decryption (including the keys each receiver drew
for its DH steps), the extra-key seeds and the revealed material carried by later messages.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from pathlib import Path
from typing import Dict, List, Optional, Tuple

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import hmac as crypto_hmac
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError as exc:  # pragma: no cover - reported as a collection error, never skipped
    raise ImportError(
        "test_oracle.py needs the 'cryptography' package: "
        "python3 -m pip install -r bindings/python/requirements-test.txt"
    ) from exc

VECTORS = Path(__file__).resolve().parents[3] / "tests" / "vectors"
AKE = json.loads((VECTORS / "ake.json").read_text())
RATCHET = json.loads((VECTORS / "ratchet.json").read_text())

# Labels and constants, as PROTOCOL.md spells them. Module globals so that the negative test can
# change one and watch the comparison fail.
NOISE_NAME = b"Noise_XX_25519_AESGCM_SHA256"  # §4.1
PROLOGUE_LABEL = b"offrec1 AKE"  # §4.2
FINGERPRINT_LABEL = b"offrec1 fp"  # §4.6
ROOT_LABEL = b"offrec1 RK"  # §5.1
MESSAGE_KEY_BYTE, CHAIN_KEY_BYTE, EXTRA_SEED_BYTE = b"\x01", b"\x02", b"\x03"  # §5.1
VERSION = b"\x4f\x01"  # §1
START, REPLY, FINISH, DATA = 0x21, 0x22, 0x23, 0x03  # §1
VBITS = 0x01  # §4.4: version 1 only
SUITE_NOISE_XX = 0x00  # §4.4, P1[2]
PHI_LABEL = b"offrec1 phi"  # §4.2: the phi commitment in P1[3..19]
MAX_REVEALS_PER_MESSAGE = 255  # §6.2


def unhex(text: str) -> bytes:
    return bytes.fromhex(text)


def u32(value: int) -> bytes:
    return struct.pack(">I", value)


# --- Primitives (§2.1, §2.2), all from `cryptography` ---------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    mac = crypto_hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-SHA256: extract with `salt`, expand to `length` bytes (§2.1)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def x25519_public(secret: bytes) -> bytes:
    """The public key of 32 secret bytes (clamped by X25519, RFC 7748)."""
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def x25519(secret: bytes, public: bytes) -> bytes:
    """X25519(k, P); every result must be contributory (§2.2)."""
    shared = X25519PrivateKey.from_private_bytes(secret).exchange(X25519PublicKey.from_public_bytes(public))
    assert shared != bytes(32), "non-contributory DH"
    return shared


def aes_block(key: bytes, block: bytes) -> bytes:
    """AES_K(B): one AES-256 block encryption (§2.1)."""
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


# --- DeterministicRandom (§12; src/crypto/random.rs) ------------------------------------------


class DeterministicRandom:
    """seed = SHA-256(label); stream = SHA-256(seed ‖ u64 counter) for counter = 0, 1, ...,
    consumed byte by byte across draws."""

    def __init__(self, label: str) -> None:
        self.seed = sha256(label.encode("utf-8"))
        self.counter = 0
        self.buffer = b""
        self.drawn: List[bytes] = []

    def draw(self, n: int = 32) -> bytes:
        while len(self.buffer) < n:
            self.buffer += sha256(self.seed + struct.pack(">Q", self.counter))
            self.counter += 1
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        self.drawn.append(out)
        return out


# --- Identities (§4.6; src/crypto/keys.rs: an identity is an X25519 pair from 32 drawn bytes) --


def identity_secret(label: str) -> bytes:
    return DeterministicRandom(label).draw(32)


def fingerprint(identity_public: bytes) -> bytes:
    """SHA-256("offrec1 fp" ‖ static public key) (§4.6)."""
    return sha256(FINGERPRINT_LABEL + identity_public)


# --- Handshake (§4) ---------------------------------------------------------------------------


def prologue(phi: bytes) -> bytes:
    """"offrec1 AKE" ‖ u32 len(phi) ‖ phi (§4.2)."""
    return PROLOGUE_LABEL + u32(len(phi)) + phi


def framing_header(kind: int, sender_tag: int, receiver_tag: int) -> bytes:
    """4F 01 ‖ type ‖ sender tag ‖ receiver tag, 11 bytes (§4.3)."""
    return VERSION + bytes([kind]) + u32(sender_tag) + u32(receiver_tag)


class SymmetricState:
    """Noise's SymmetricState and its CipherState, as recapped in §4.1."""

    def __init__(self) -> None:
        self.h = NOISE_NAME.ljust(32, b"\x00")  # InitializeSymmetric: 28-byte name, zero-padded
        self.ck = self.h
        self.k: Optional[bytes] = None
        self.n = 0

    def mix_hash(self, data: bytes) -> None:
        self.h = sha256(self.h + data)

    def mix_key(self, ikm: bytes) -> None:
        okm = hkdf(self.ck, ikm, b"", 64)
        self.ck, self.k, self.n = okm[:32], okm[32:], 0

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        if self.k is None:
            ciphertext = plaintext  # no key yet: sent in clear, still hashed
        else:
            nonce = bytes(4) + struct.pack(">Q", self.n)  # 00 00 00 00 ‖ u64 n
            ciphertext = AESGCM(self.k).encrypt(nonce, plaintext, self.h)
            self.n += 1
        self.mix_hash(ciphertext)
        return ciphertext

    def split(self) -> Tuple[bytes, bytes]:
        okm = hkdf(self.ck, b"", b"", 64)
        return okm[:32], okm[32:]


class Handshake:
    """Noise XX in offrec framing (§4.1-§4.4), computed as each message's writer computes it.

    Both sides' secrets are known here, so one transcript stands for both: each DH is taken
    from the writer's side (X25519 is symmetric, which the SSID check of both sides confirms).
    """

    def __init__(self, phi: bytes, bob_identity: bytes, alice_identity: bytes,
                 bob_rng: DeterministicRandom, alice_rng: DeterministicRandom,
                 bob_tag: int, alice_tag: int, bob_knows_alice_tag: int, offer_seen: int) -> None:
        self.sym = SymmetricState()
        self.phi = phi
        self.sym.mix_hash(prologue(phi))
        self.s_i, self.s_r = bob_identity, alice_identity  # Bob initiates, Alice responds
        self.rng_i, self.rng_r = bob_rng, alice_rng
        self.tag_i, self.tag_r = bob_tag, alice_tag
        self.start_receiver_tag = bob_knows_alice_tag
        self.offer_seen = offer_seen

    def start(self) -> bytes:
        """I -> R: `-> e`, payload P1 = VBITS ‖ offer echo ‖ suite ‖ phi commitment (§4.4)."""
        header = framing_header(START, self.tag_i, self.start_receiver_tag)
        self.sym.mix_hash(header)
        self.e_i = self.rng_i.draw(32)
        e_pub = x25519_public(self.e_i)
        self.sym.mix_hash(e_pub)  # token e
        commitment = sha256(PHI_LABEL + self.phi)[:16]  # §4.2
        p1 = self.sym.encrypt_and_hash(bytes([VBITS, self.offer_seen, SUITE_NOISE_XX]) + commitment)
        return header + e_pub + p1

    def reply(self) -> bytes:
        """R -> I: `<- e, ee, s, es`, payload P2 = VBITS (§4.4). R draws only its ephemeral."""
        header = framing_header(REPLY, self.tag_r, self.tag_i)
        self.sym.mix_hash(header)
        self.e_r = self.rng_r.draw(32)
        e_pub = x25519_public(self.e_r)
        self.sym.mix_hash(e_pub)  # token e
        self.sym.mix_key(x25519(self.e_r, x25519_public(self.e_i)))  # ee
        s_enc = self.sym.encrypt_and_hash(x25519_public(self.s_r))  # s
        self.sym.mix_key(x25519(self.s_r, x25519_public(self.e_i)))  # es, responder: DH(s, re)
        p2 = self.sym.encrypt_and_hash(bytes([VBITS]))
        return header + e_pub + s_enc + p2

    def finish(self) -> bytes:
        """I -> R: `-> s, se`, payload P3 = RB0 (§4.4)."""
        self.rb0 = self.rng_i.draw(32)
        header = framing_header(FINISH, self.tag_i, self.tag_r)
        self.sym.mix_hash(header)
        s_enc = self.sym.encrypt_and_hash(x25519_public(self.s_i))  # s
        self.sym.mix_key(x25519(self.s_i, x25519_public(self.e_r)))  # se, initiator: DH(s, re)
        p3 = self.sym.encrypt_and_hash(x25519_public(self.rb0))
        return header + s_enc + p3

    def outputs(self) -> Tuple[bytes, bytes, bytes]:
        """(RK0, CK0, SSID): both halves of Split and the final h (§4.6)."""
        rk0, ck0 = self.sym.split()
        return rk0, ck0, self.sym.h


# --- Key schedule (§5.1) and revealed material (§6.1) ----------------------------------------


def kdf_rk(rk: bytes, dh: bytes) -> Tuple[bytes, bytes]:
    """Root step: HKDF(salt = rk, ikm = dh, "offrec1 RK", 64) -> (new root, chain key)."""
    okm = hkdf(rk, dh, ROOT_LABEL, 64)
    return okm[:32], okm[32:]


def message_key(ck: bytes) -> bytes:
    return hmac_sha256(ck, MESSAGE_KEY_BYTE)


def next_chain_key(ck: bytes) -> bytes:
    return hmac_sha256(ck, CHAIN_KEY_BYTE)


def extra_key_seed(ck: bytes) -> bytes:
    return hmac_sha256(ck, EXTRA_SEED_BYTE)


def revealed_item(k: bytes) -> bytes:
    """H ‖ M with H = AES_K(0^128) and M = AES_K(0^96 ‖ 00000001) = E_K(J0) (§6.1)."""
    return aes_block(k, bytes(16)) + aes_block(k, bytes(12) + b"\x00\x00\x00\x01")


# --- Data messages (§5.3) --------------------------------------------------------------------


def data_header(sender_tag: int, receiver_tag: int, flags: int, ratchet_key: bytes, pn: int, n: int,
                revealed: List[bytes]) -> bytes:
    """Everything before the ciphertext: 53 + 32·c bytes (§5.3)."""
    return (VERSION + bytes([DATA]) + u32(sender_tag) + u32(receiver_tag) + bytes([flags]) + ratchet_key
            + u32(pn) + u32(n) + bytes([len(revealed)]) + b"".join(revealed))


def parse_data_message(wire: bytes) -> Dict[str, object]:
    """Split a data message at the offsets of §5.3."""
    assert wire[:3] == VERSION + bytes([DATA])
    count = wire[52]
    header_len = 53 + 32 * count
    return {
        "sender_tag": struct.unpack(">I", wire[3:7])[0],
        "receiver_tag": struct.unpack(">I", wire[7:11])[0],
        "flags": wire[11],
        "ratchet_key": wire[12:44],
        "pn": struct.unpack(">I", wire[44:48])[0],
        "n": struct.unpack(">I", wire[48:52])[0],
        "revealed": [wire[53 + 32 * i:85 + 32 * i] for i in range(count)],
        "header": wire[:header_len],
        "sealed": wire[header_len:],  # ciphertext ‖ 16-byte tag
    }


def encode_body(text: str) -> bytes:
    """u32 text length ‖ text, no TLVs (§7.1)."""
    data = text.encode("utf-8")
    return u32(len(data)) + data


def seal(k: bytes, header: bytes, body: bytes) -> bytes:
    """AES-256-GCM(K, nonce = 12 zero bytes, AD = header bytes) (§5.4 step 3)."""
    return AESGCM(k).encrypt(bytes(12), body, header)


def open_sealed(k: bytes, header: bytes, sealed: bytes) -> bytes:
    return AESGCM(k).decrypt(bytes(12), sealed, header)  # raises InvalidTag on any mismatch


# --- One party's Double Ratchet (§5.2, §5.4, §5.5) -------------------------------------------


class Party:
    """The state of §5 for one side, kept with plain bytes and dicts."""

    def __init__(self, name: str, rng: DeterministicRandom, our_tag: int, their_tag: int) -> None:
        self.name, self.rng, self.our_tag, self.their_tag = name, rng, our_tag, their_tag
        self.rk = b""
        self.dh_secret = b""
        self.cks = b""
        self.ns = 0  # next sending number N
        self.pn = 0
        self.their_key: Optional[bytes] = None  # current receiving ratchet key
        self.ckr = b""
        self.nr = 0  # next expected receiving number
        self.skipped: Dict[Tuple[bytes, int], bytes] = {}  # (ratchet key, N) -> chain key
        self.pending_reveals: List[bytes] = []  # message keys, oldest first
        self.receiving_dh_steps = 0

    @property
    def ratchet_public(self) -> bytes:
        return x25519_public(self.dh_secret)

    def init_initiator(self, rk0: bytes, ck0: bytes, rb0: bytes) -> None:
        """§5.2, initiator: root RK0, sending chain CK0 under rb0; no receiving chain; no DH."""
        self.dh_secret = rb0
        self.rk, self.cks = rk0, ck0

    def init_responder(self, rk0: bytes, ck0: bytes, rb0_public: bytes) -> None:
        """§5.2, responder: receiving chain CK0 for RB0; draw ra1;
        (RK1, CKs) = KDF_RK(RK0, X25519(ra1, RB0))."""
        self.ckr = ck0
        self.their_key = rb0_public
        self.dh_secret = self.rng.draw(32)
        self.rk, self.cks = kdf_rk(rk0, x25519(self.dh_secret, rb0_public))

    def encrypt(self, text: str, flags: int = 0) -> Tuple[bytes, bytes, List[bytes], bytes]:
        """§5.4: returns (wire bytes, header bytes, reveals carried, chain key of the message)."""
        ck = self.cks
        k = message_key(ck)
        reveals = [revealed_item(key) for key in self.pending_reveals[:MAX_REVEALS_PER_MESSAGE]]
        header = data_header(self.our_tag, self.their_tag, flags, self.ratchet_public, self.pn, self.ns, reveals)
        wire = header + seal(k, header, encode_body(text))
        del self.pending_reveals[:len(reveals)]
        self.cks, self.ns = next_chain_key(ck), self.ns + 1
        return wire, header, reveals, ck

    def _skip(self, key: bytes, ck: bytes, start: int, until: int, into: Dict) -> bytes:
        """Step a chain from `start` to `until`, remembering each skipped message by its ck."""
        for n in range(start, until):
            into[(key, n)] = ck
            ck = next_chain_key(ck)
        return ck

    def decrypt(self, wire: bytes) -> Tuple[bytes, bytes]:
        """§5.5 (on success only; the vectors hold no failures): returns (body, chain key)."""
        msg = parse_data_message(wire)
        key, n, pn = msg["ratchet_key"], msg["n"], msg["pn"]
        header, sealed = msg["header"], msg["sealed"]
        assert msg["receiver_tag"] == self.our_tag and msg["sender_tag"] == self.their_tag

        if (key, n) in self.skipped:  # step 1: a stored skipped key
            ck = self.skipped.pop((key, n))
            body = open_sealed(message_key(ck), header, sealed)
            self.pending_reveals.append(message_key(ck))
            return body, ck

        new_skipped: Dict[Tuple[bytes, int], bytes] = {}
        if key == self.their_key:  # step 2: the current receiving chain
            assert self.nr <= n <= self.nr + 1000
            ck = self._skip(key, self.ckr, self.nr, n, new_skipped)
            dh_step = None
        else:  # step 3: a new ratchet key, DH step
            assert n <= 1000
            if self.their_key is not None and pn > self.nr:
                self._skip(self.their_key, self.ckr, self.nr, pn, new_skipped)
            rk, ckr = kdf_rk(self.rk, x25519(self.dh_secret, key))
            new_secret = self.rng.draw(32)
            rk, cks = kdf_rk(rk, x25519(new_secret, key))
            ck = self._skip(key, ckr, 0, n, new_skipped)
            dh_step = (rk, cks, new_secret)

        body = open_sealed(message_key(ck), header, sealed)  # step 4
        # Step 5: commit.
        self.pending_reveals.append(message_key(ck))
        self.skipped.update(new_skipped)
        if dh_step is not None:
            self.rk, self.cks, self.dh_secret = dh_step
            self.pn, self.ns = self.ns, 0
            self.their_key = key
            self.receiving_dh_steps += 1
        self.ckr, self.nr = next_chain_key(ck), n + 1
        return body, ck


# --- The recorded scenario -------------------------------------------------------------------


def tag(text: str) -> int:
    return int(text, 16)


def armour(wire: bytes) -> str:
    """?OFR:<base64>. (§3.3)"""
    return "?OFR:" + base64.b64encode(wire).decode("ascii") + "."


class Scenario:
    """ake.json's inputs, replayed from the labels: streams, identities, handshake, ratchets."""

    def __init__(self) -> None:
        inputs = AKE["inputs"]
        alice_in, bob_in = inputs["alice"], inputs["bob"]
        assert (alice_in["role"], bob_in["role"]) == ("responder", "initiator")
        self.alice_identity = identity_secret(alice_in["identity_label"])
        self.bob_identity = identity_secret(bob_in["identity_label"])
        self.alice_rng = DeterministicRandom(alice_in["session_rng_label"])
        self.bob_rng = DeterministicRandom(bob_in["session_rng_label"])
        self.phi = unhex(inputs["phi"])
        self.alice_tag, self.bob_tag = tag(alice_in["instance_tag"]), tag(bob_in["instance_tag"])
        self.handshake = Handshake(self.phi, self.bob_identity, self.alice_identity, self.bob_rng, self.alice_rng,
                                   self.bob_tag, self.alice_tag, tag(bob_in["their_tag_at_start"]),
                                   bob_in["offer_seen"])
        self.messages = {}
        self.messages["start"] = self.handshake.start()
        self.messages["reply"] = self.handshake.reply()
        self.messages["finish"] = self.handshake.finish()
        self.rk0, self.ck0, self.ssid = self.handshake.outputs()

        hs = self.handshake
        self.alice = Party("alice", self.alice_rng, self.alice_tag, self.bob_tag)
        self.bob = Party("bob", self.bob_rng, self.bob_tag, self.alice_tag)
        self.bob.init_initiator(self.rk0, self.ck0, hs.rb0)
        self.alice.init_responder(self.rk0, self.ck0, x25519_public(hs.rb0))

    def party(self, name: str) -> Party:
        return {"alice": self.alice, "bob": self.bob}[name]


def data_events() -> List[Tuple[str, dict]]:
    """ake.json's two data messages, then ratchet.json's events, as (where, event) in order.
    An ake.json data message is a send followed at once by its delivery."""
    events: List[Tuple[str, dict]] = []
    for i, message in enumerate(AKE["data_messages"]):
        send = dict(message, event="send", id=f"ake{i}")
        deliver = dict(message["delivery"], event="deliver", id=f"ake{i}")
        events += [(f"ake.json data_messages[{i}]", send), (f"ake.json data_messages[{i}].delivery", deliver)]
    for i, event in enumerate(RATCHET["events"]):
        events.append((f"ratchet.json events[{i}] ({event['event']} {event['id']})", event))
    return events


def replay_data_messages(scenario: Scenario) -> None:
    """Run every send/deliver/lose event, comparing each recomputed value with the record."""
    sent: Dict[str, Tuple[str, bytes]] = {}
    for where, event in data_events():
        if event["event"] == "lose":
            assert event["id"] in sent, where
            continue
        if event["event"] == "send":
            sender = scenario.party(event["from"])
            assert event["flags"] == 0 == event["header"]["flags"], where
            wire, header, reveals, ck = sender.encrypt(event["text"], flags=0)
            recorded = unhex(event["bytes"])
            fields = event["header"]
            assert fields == {
                "flags": 0,
                "message_number": sender.ns - 1,
                "previous_chain_length": sender.pn,
                "ratchet_key": sender.ratchet_public.hex(),
                "receiver_tag": "%08x" % sender.their_tag,
                "revealed": [item.hex() for item in reveals],
                "sender_tag": "%08x" % sender.our_tag,
            }, where
            rebuilt = data_header(tag(fields["sender_tag"]), tag(fields["receiver_tag"]), fields["flags"],
                                  unhex(fields["ratchet_key"]), fields["previous_chain_length"],
                                  fields["message_number"], [unhex(r) for r in fields["revealed"]])
            assert rebuilt == header == recorded[:len(header)], where
            assert event["body"] == encode_body(event["text"]).hex(), where
            assert wire.hex() == event["bytes"], where
            assert armour(wire) == event["armoured"], where
            assert extra_key_seed(ck).hex() == event["extra_key_seed"], where
            sent[event["id"]] = (event["from"], recorded)
        elif event["event"] == "deliver":
            sender_name, wire = sent[event["id"]]
            receiver = scenario.party(event["to"])
            assert receiver.name != sender_name, where
            drawn_before = len(receiver.rng.drawn)
            body, ck = receiver.decrypt(wire)
            drew = [d.hex() for d in receiver.rng.drawn[drawn_before:]]
            assert drew == event["drew"], where
            assert body == encode_body(event["decrypted"]), where
            assert extra_key_seed(ck).hex() == event["extra_key_seed"], where
            assert event["receiver_after"] == {
                "our_ratchet_key": receiver.ratchet_public.hex(),
                "pending_reveal_count": len(receiver.pending_reveals),
                "receiving_dh_steps": receiver.receiving_dh_steps,
                "skipped_key_count": len(receiver.skipped),
            }, where
        else:
            raise AssertionError(f"{where}: unknown event {event['event']!r}")


# --- Tests -----------------------------------------------------------------------------------


def test_deterministic_random_matches_the_recorded_randomness() -> None:
    """Every byte listed under 'randomness' is the labelled stream, in order, and the ratchet
    vector's draws continue the handshake's streams (§12)."""
    scenario = Scenario()
    replay_data_messages(scenario)
    for name, rng in (("alice", scenario.alice_rng), ("bob", scenario.bob_rng)):
        # ake.json's 'randomness' lists the handshake's draws only; the draw of its second data
        # message's delivery is under that delivery's 'drew'.
        recorded = [entry["bytes"] for entry in AKE["randomness"][name]]
        recorded += [d for m in AKE["data_messages"] if m["delivery"]["to"] == name for d in m["delivery"]["drew"]]
        recorded += [entry["bytes"] for entry in RATCHET["randomness"][name]]
        assert [d.hex() for d in rng.drawn] == recorded, name
    # And the stream itself, split at an odd place, is one stream (SHA-256 blocks of 32 bytes).
    whole = DeterministicRandom("offrec vectors v1: alice").draw(70)
    split = DeterministicRandom("offrec vectors v1: alice")
    assert split.draw(33) + split.draw(37) == whole
    assert whole[:32] == unhex(AKE["randomness"]["alice"][0]["bytes"])


def test_identities_and_fingerprints() -> None:
    """An identity is the X25519 pair of the first 32 bytes of its label's stream; the
    fingerprint is SHA-256("offrec1 fp" ‖ public key) (§4.6)."""
    for name in ("alice", "bob"):
        recorded = AKE["identities"][name]
        assert recorded["label"] == AKE["inputs"][name]["identity_label"]
        secret = identity_secret(recorded["label"])
        assert secret.hex() == recorded["secret"], name
        assert x25519_public(secret).hex() == recorded["public"], name
        assert fingerprint(x25519_public(secret)).hex() == recorded["fingerprint"], name


def test_handshake_messages_ssid_and_identities() -> None:
    """Start, Reply and Finish byte for byte (§4.4), then SSID and peer identities (§4.6)."""
    scenario = Scenario()
    assert prologue(scenario.phi).hex() == AKE["inputs"]["prologue"]
    # The offer echo in P1 is what Alice advertised; R requires equality when both are set (§4.5).
    assert AKE["inputs"]["bob"]["offer_seen"] == AKE["inputs"]["alice"]["advertised_versions"] == VBITS
    assert [m["name"] for m in AKE["handshake"]] == ["start", "reply", "finish"]
    lengths = {"start": 62, "reply": 108, "finish": 107}  # §4.4
    for recorded in AKE["handshake"]:
        name = recorded["name"]
        ours = scenario.messages[name]
        assert len(ours) == lengths[name], name
        kind = {"start": START, "reply": REPLY, "finish": FINISH}[name]
        header = framing_header(kind, tag(recorded["sender_tag"]), tag(recorded["receiver_tag"]))
        assert recorded["type"] == "0x%02x" % kind, name
        assert header.hex() == recorded["header"] == ours[:11].hex(), name
        assert ours[11:].hex() == recorded["noise"], name
        assert ours.hex() == recorded["bytes"], name
        assert armour(ours) == recorded["armoured"], name
        sender = {"alice": scenario.alice_tag, "bob": scenario.bob_tag}[recorded["from"]]
        assert tag(recorded["sender_tag"]) == sender, name

    hs = scenario.handshake
    alice_public, bob_public = x25519_public(scenario.alice_identity), x25519_public(scenario.bob_identity)
    established = AKE["established"]
    assert scenario.ssid.hex() == established["ssid"]
    assert established["alice"] == {"ssid": scenario.ssid.hex(), "their_identity": bob_public.hex(),
                                    "their_tag": "%08x" % scenario.bob_tag, "version": 1, "we_initiated": False}
    assert established["bob"] == {"ssid": scenario.ssid.hex(), "their_identity": alice_public.hex(),
                                  "their_tag": "%08x" % scenario.alice_tag, "version": 1, "we_initiated": True}
    # RB0 travels in Finish; RA1 is the responder's first sending key (§5.2). Reply carries none.
    assert AKE["first_ratchet_keys"] == {
        "bob_finish": x25519_public(hs.rb0).hex(),
        "alice_first_sending": scenario.alice.ratchet_public.hex(),
    }


def test_the_reader_side_of_the_handshake_agrees() -> None:
    """The DHs as each *reader* computes them give the same keys: the recorded Reply and Finish
    decrypt under the reader's own view, yielding the peers' static keys and ratchet keys."""
    scenario = Scenario()
    hs = scenario.handshake
    sym = SymmetricState()
    sym.mix_hash(prologue(scenario.phi))
    start, reply, finish = (unhex(m["bytes"]) for m in AKE["handshake"])
    # Bob reads Reply with his own secrets.
    sym.mix_hash(start[:11])
    sym.mix_hash(start[11:43])
    sym.mix_hash(start[43:62])  # P1, phi commitment included
    sym.mix_hash(reply[:11])
    e_r = reply[11:43]
    sym.mix_hash(e_r)
    sym.mix_key(x25519(hs.e_i, e_r))  # ee
    nonce = bytes(12)
    s_r = AESGCM(sym.k).decrypt(nonce, reply[43:91], sym.h)
    sym.mix_hash(reply[43:91])
    assert s_r == x25519_public(scenario.alice_identity)
    sym.mix_key(x25519(hs.e_i, s_r))  # es, initiator: DH(e, rs)
    assert len(reply) == 108
    p2 = AESGCM(sym.k).decrypt(nonce, reply[91:108], sym.h)
    sym.mix_hash(reply[91:108])
    assert p2 == bytes([VBITS])
    # Alice reads Finish with hers.
    sym.mix_hash(finish[:11])
    s_i = AESGCM(sym.k).decrypt(bytes(4) + struct.pack(">Q", 1), finish[11:59], sym.h)
    sym.mix_hash(finish[11:59])
    assert s_i == x25519_public(scenario.bob_identity)
    sym.mix_key(x25519(hs.e_r, s_i))  # se, responder: DH(e, rs)
    p3 = AESGCM(sym.k).decrypt(nonce, finish[59:107], sym.h)
    sym.mix_hash(finish[59:107])
    assert p3 == x25519_public(hs.rb0)
    assert sym.h == scenario.ssid and sym.split() == (scenario.rk0, scenario.ck0)


def test_every_data_message_and_delivery() -> None:
    """ake.json's data messages and every ratchet.json event: header rebuilt from the state and
    from the recorded fields, ciphertext and tag, revealed material, extra-key seeds, the DH
    steps with the bytes each receiver drew, and the receiver's state afterwards (§5, §6)."""
    scenario = Scenario()
    replay_data_messages(scenario)
    # The one lost message (b5) is the only key left, stored and not yet revealed.
    assert list(scenario.alice.skipped) == [(unhex(RATCHET["events"][0]["header"]["ratchet_key"]), 4)]


def test_a_one_byte_change_in_the_root_label_is_detected(monkeypatch) -> None:
    """Negative control: the comparison is not vacuous. With one byte of "offrec1 RK" changed
    the handshake and the initiator's first chain (straight from Split, §5.2) still match, but
    the responder's first chain (its first root step) does not."""
    import sys

    monkeypatch.setattr(sys.modules[__name__], "ROOT_LABEL", b"offrec1 Rk")
    scenario = Scenario()
    assert scenario.messages["finish"].hex() == AKE["handshake"][2]["bytes"]
    wire, _, _, _ = scenario.bob.encrypt(AKE["data_messages"][0]["text"])
    assert wire.hex() == AKE["data_messages"][0]["bytes"]  # no root step before Bob's first chain
    assert extra_key_seed(scenario.alice.cks).hex() != AKE["data_messages"][1]["extra_key_seed"]
    monkeypatch.undo()
    assert extra_key_seed(Scenario().alice.cks).hex() == AKE["data_messages"][1]["extra_key_seed"]
