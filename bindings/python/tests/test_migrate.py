"""Moving from libotr and python-potr and back through the binding (MIGRATING.md).

The libotr files are frozen ones libotr 4.1.1 wrote (tests/migrate/fixtures, made by
tests/migrate/make_fixtures.c). The potr files are written and read by python-potr itself
(bindings/python/requirements-potr.txt): its own key serialisation and parsing, and its
``Account`` trust store, saved and loaded the way weechat-otr's ``IrcOtrAccount`` does it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import offrec
from offrec import Client, EventCode, OtrFileFormat, Trust

from conftest import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "migrate" / "fixtures"
KEY_FILE = FIXTURES / "otr.private_key"
FINGERPRINTS = FIXTURES / "otr.fingerprints"
INSTANCE_TAGS = FIXTURES / "otr.instance_tags"
#: otrl_privkey_fingerprint of the fixture's two accounts.
ALICE_FP = "982DEAE9 CE05DE82 BD900150 E6031B4C 2FE568C4"
BOB_FP = "DFB5982D A8225668 30386702 1367C864 C1CE9F44"
OTR_PREFIX = b"otr-dsa-sha1"


def client(account: str = "alice@example.org", network: str = "xmpp") -> Tuple[Client, List[int]]:
    events: List[int] = []
    c = Client(
        account,
        network,
        on_send=lambda peer, text: None,
        on_deliver=lambda *a: None,
        on_event=lambda e: events.append(int(e.code)),
    )
    return c, events


def key_id(hex_fp: str) -> bytes:
    return OTR_PREFIX + bytes.fromhex(hex_fp)


def test_libotr_key_and_trust_import_with_libotr_fingerprints_and_trust() -> None:
    alice, events = client("alice@example.org/laptop")
    with alice:
        fp = alice.import_otr_key(KEY_FILE)
        assert offrec.format_otr_fingerprint(fp) == ALICE_FP
        assert alice.otr_fingerprint() == fp
        assert EventCode.PERSIST_NEEDED in events
        # The trust file: libotr's trust strings mapped as documented; Bob's IRC contacts are
        # another account's.
        assert alice.import_otr_fingerprints(FINGERPRINTS) == 5
        expected = {
            ("carol@example.org", "a01111111111111111111111111111111111114b"): Trust.UNVERIFIED,
            ("dave@example.org", "a022222222222222222222222222222222222278"): Trust.VERIFIED_SMP,
            ("erin@example.org", "a033333333333333333333333333333333333369"): Trust.VERIFIED_MANUAL,
            ("frank@example.org", "a04444444444444444444444444444444444441e"): Trust.VERIFIED_MANUAL,
            ("frank@example.org", "a05555555555555555555555555555555555550f"): Trust.UNVERIFIED,
        }
        for (peer, hexfp), trust in expected.items():
            assert alice.trust(peer, key_id(hexfp)) == trust, peer
        assert alice.known_keys("zed") == []


def test_irssi_style_account_is_named_and_other_accounts_refused() -> None:
    bob, _ = client("bob", "irc")
    with bob:
        # "bob" on "IRC" matches the client's own account and network after normalisation.
        assert offrec.format_otr_fingerprint(bob.import_otr_key(KEY_FILE)) == BOB_FP
    carol, _ = client("carol", "irc")
    with carol:
        with pytest.raises(offrec.ImportNoAccountError):
            carol.import_otr_key(KEY_FILE)
        assert carol.otr_fingerprint() is None
        fp = carol.import_otr_key(KEY_FILE, account="bob", protocol="IRC")
        assert offrec.format_otr_fingerprint(fp) == BOB_FP
        with pytest.raises(offrec.ImportKeyExistsError):
            carol.import_otr_key(KEY_FILE, account="alice@example.org", protocol="prpl-jabber")
        assert carol.otr_fingerprint() == fp
        carol.import_otr_key(KEY_FILE, account="alice@example.org", protocol="prpl-jabber", replace=True)
        assert offrec.format_otr_fingerprint(carol.otr_fingerprint()) == ALICE_FP


def test_broken_files_raise_and_change_nothing(tmp_path: Path) -> None:
    alice, _ = client()
    with alice:
        data = KEY_FILE.read_bytes()
        cut = tmp_path / "cut.private_key"
        cut.write_bytes(data[: len(data) // 2])
        with pytest.raises(offrec.ImportMalformedError):
            alice.import_otr_key(cut)
        bent = tmp_path / "bent.private_key"
        text = data.decode()
        start = text.index("(name \"alice@example.org\")")
        x_at = text.index("(x #", start) + 4
        flipped = "0" if text[x_at + 2] != "0" else "1"
        bent.write_text(text[: x_at + 2] + flipped + text[x_at + 3 :])
        with pytest.raises(offrec.ImportInvalidKeyError):
            alice.import_otr_key(bent)
        with pytest.raises(offrec.ImportIOError):
            alice.import_otr_key(tmp_path / "missing")
        with pytest.raises(offrec.ImportIOError):
            alice.import_otr_key(tmp_path)
        deep = tmp_path / "deep"
        deep.write_bytes(b"(privkeys " + b"(" * 10000 + b")" * 10001)
        with pytest.raises(offrec.ImportMalformedError):
            alice.import_otr_key(deep)
        with pytest.raises(offrec.UnknownEnumValueError):
            alice.import_otr_key(KEY_FILE, format=7)  # type: ignore[arg-type]
        assert alice.otr_fingerprint() is None
        broken = tmp_path / "broken.fingerprints"
        broken.write_bytes(FINGERPRINTS.read_bytes() + b"peer\tonly three\tcolumns\n")
        with pytest.raises(offrec.ImportMalformedError, match="malformed"):
            alice.import_otr_fingerprints(broken)
        assert alice.known_keys("dave@example.org") == []
        assert issubclass(offrec.ImportMalformedError, offrec.MigrationError)


def test_export_round_trip_mode_0600_and_merge(tmp_path: Path) -> None:
    alice, _ = client()
    with alice:
        with pytest.raises(offrec.NoOtrKeyError):
            alice.export_otr_key(tmp_path / "none")
        fp = alice.import_otr_key(KEY_FILE)
        alice.import_otr_fingerprints(FINGERPRINTS)
        # Into a copy of Pidgin's files: Bob's key and Bob's contacts stay.
        key_out = tmp_path / "otr.private_key"
        key_out.write_bytes(KEY_FILE.read_bytes())
        os.chmod(key_out, 0o644)
        alice.export_otr_key(key_out)
        assert key_out.read_bytes() == KEY_FILE.read_bytes(), "libotr's own bytes"
        assert stat.S_IMODE(key_out.stat().st_mode) == 0o600
        fp_out = tmp_path / "otr.fingerprints"
        fp_out.write_bytes(FINGERPRINTS.read_bytes())
        assert alice.export_otr_fingerprints(fp_out) == 5
        lines = fp_out.read_text().splitlines()
        assert "zed\tbob\tIRC\ta06666666666666666666666666666666666663c\tsmp" in lines
        # irssi-otr's "manual" comes back as "verified": both mean verified by hand.
        assert any(l.startswith("frank@example.org\t") and l.endswith("\tverified") for l in lines)
        # A fresh client reads both back the same.
        again, _ = client()
        with again:
            assert again.import_otr_key(key_out) == fp
            assert again.import_otr_fingerprints(fp_out) == 5
            for peer in ("carol@example.org", "dave@example.org", "erin@example.org", "frank@example.org"):
                key = lambda k: (k.fingerprint, int(k.trust))  # noqa: E731
                assert sorted(again.known_keys(peer), key=key) == sorted(alice.known_keys(peer), key=key)


def test_instance_tag_only_for_a_fresh_client(tmp_path: Path, net) -> None:  # type: ignore[no-untyped-def]
    alice, _ = client()
    with alice:
        assert alice.import_otr_instance_tag(INSTANCE_TAGS) == 0xCFC1F450
        assert alice.instance_tag == 0xCFC1F450
    a = net.party("alice")
    net.party("bob")
    a.start_session("bob")
    net.pump()
    before = a.instance_tag
    with pytest.raises(offrec.ImportInUseError):
        a.import_otr_instance_tag(INSTANCE_TAGS, account="alice@example.org", protocol="prpl-jabber")
    assert a.instance_tag == before


# --- python-potr -----------------------------------------------------------------------------

try:
    import potr
    from Crypto.PublicKey import DSA
    from potr.compatcrypto import DSAKey
except ImportError as e:  # pragma: no cover - a setup problem, reported as such
    potr = None
    POTR_MISSING = (
        f"python-potr is missing ({e}): python3 -m pip install --no-deps -r "
        "bindings/python/requirements-potr.txt"
    )


class WeechatAccount(potr.context.Account if potr else object):  # type: ignore[misc]
    """potr's account, saving and loading trust as weechat-otr's IrcOtrAccount does."""

    PROTOCOL = "irc"

    def __init__(self, name: str, fpr_path: Path) -> None:
        super().__init__(name, self.PROTOCOL, 415)
        self.fpr_path = fpr_path

    def loadPrivkey(self):  # type: ignore[no-untyped-def]
        return None

    def savePrivkey(self) -> None:
        pass

    def saveTrusts(self) -> None:
        with open(self.fpr_path, "w") as fpr_file:
            for uid, trusts in self.trusts.items():
                for fpr, trust in trusts.items():
                    fpr_file.write("\t".join((uid, self.name, self.PROTOCOL, fpr, trust)))
                    fpr_file.write("\n")

    def load_trusts(self, path: Path) -> None:
        with open(path) as fpr_file:
            for line in fpr_file:
                context, account, protocol, fpr, trust = line[:-1].split("\t")
                if account == self.name and protocol == self.PROTOCOL:
                    self.setTrust(context, fpr, trust)


def potr_key() -> "DSAKey":
    if potr is None:
        pytest.fail(POTR_MISSING)
    raw = DSA.generate(1024)
    return DSAKey((int(raw.y), int(raw.g), int(raw.p), int(raw.q), int(raw.x)), private=True)


def test_potr_key_and_trust_written_by_potr_import(tmp_path: Path) -> None:
    key = potr_key()
    key_path = tmp_path / "alice@libera.key3"
    key_path.write_bytes(key.serializePrivateKey())
    fpr_path = tmp_path / "alice@libera.fpr"
    account = WeechatAccount("alice@libera", fpr_path)
    fps: Dict[str, str] = {"bob@libera": "b0" * 20, "carol@libera": "c1" * 20, "dave@libera": "d2" * 20}
    account.setTrust("bob@libera", fps["bob@libera"], "verified")
    account.setTrust("carol@libera", fps["carol@libera"], "smp")
    account.setTrust("dave@libera", fps["dave@libera"], "")

    alice, _ = client("alice", "irc")
    with alice:
        fp = alice.import_otr_key(key_path, format=OtrFileFormat.POTR)
        assert fp.hex() == key.cfingerprint(), "potr's fingerprint"
        n = alice.import_otr_fingerprints(fpr_path, format=OtrFileFormat.POTR, account="alice@libera")
        assert n == 3
        assert alice.trust("bob@libera", OTR_PREFIX + bytes.fromhex(fps["bob@libera"])) == Trust.VERIFIED_MANUAL
        assert alice.trust("carol@libera", OTR_PREFIX + bytes.fromhex(fps["carol@libera"])) == Trust.VERIFIED_SMP
        assert alice.trust("dave@libera", OTR_PREFIX + bytes.fromhex(fps["dave@libera"])) == Trust.UNVERIFIED
        # Damaged potr keys are refused.
        cut = tmp_path / "cut.key3"
        cut.write_bytes(key.serializePrivateKey()[:-1])
        with pytest.raises(offrec.ImportMalformedError):
            client()[0].import_otr_key(cut, format=OtrFileFormat.POTR)


def test_potr_reads_what_offrec_exports(tmp_path: Path) -> None:
    if potr is None:
        pytest.fail(POTR_MISSING)
    alice, _ = client("alice", "irc")
    with alice:
        alice.import_otr_key(KEY_FILE, account="alice@example.org", protocol="prpl-jabber")
        alice.set_trust("bob", key_id("ab" * 20), Trust.VERIFIED_SMP)
        alice.set_trust("carol", key_id("cd" * 20), Trust.VERIFIED_MANUAL)
        alice.set_trust("dave", key_id("ef" * 20), Trust.UNVERIFIED)
        key_path = tmp_path / "alice@libera.key3"
        alice.export_otr_key(key_path, format=OtrFileFormat.POTR)
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
        parsed, rest = potr.crypt.PK.parsePrivateKey(key_path.read_bytes())
        assert rest == b""
        assert parsed.cfingerprint() == alice.otr_fingerprint().hex()
        fpr_path = tmp_path / "alice@libera.fpr"
        assert alice.export_otr_fingerprints(fpr_path, format=OtrFileFormat.POTR, account="alice@libera") == 3
        account = WeechatAccount("alice@libera", tmp_path / "resaved.fpr")
        account.load_trusts(fpr_path)
        assert account.getTrust("bob", "ab" * 20) == "smp"
        assert account.getTrust("carol", "cd" * 20) == "verified"
        assert account.getTrust("dave", "ef" * 20) == ""
