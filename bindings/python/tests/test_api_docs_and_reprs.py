"""The public API documents itself and shows itself safely.

* Every public name of ``offrec`` (``__all__``), every public method and property of its
  classes, and every module of the package has a real docstring, which pydoc shows (not a
  dataclass's generated signature, not an enum's default text, not a stray comment).
* reprs are readable (fingerprints and session ids formatted, enums named) and never show a
  secret: no extra key, identity secret, TLV value, extra-key context or received text.
* Events carry typed reasons (NotSentReason, HandshakeFailure, PersistFlag, Protocol).
"""

from __future__ import annotations

import enum
import inspect
import pkgutil
import pydoc
from typing import Any, List, Tuple

import offrec
from offrec import Event, EventCode, HandshakeFailure, NotSentReason, PersistFlag, Protocol

from conftest import Net, Party

_DEFAULT_DOCS = ("An enumeration.", "Support for integer-based Flags")


def _doc_missing(obj: Any) -> bool:
    doc = inspect.getdoc(obj) if not isinstance(obj, property) else obj.__doc__
    if not doc or not doc.strip():
        return True
    if inspect.isclass(obj):
        own = obj.__dict__.get("__doc__")
        if not own or not own.strip() or own.startswith(_DEFAULT_DOCS):
            return True  # inherited from a base (Enum, Exception...) or absent
        if own.startswith(obj.__name__ + "("):
            return True  # @dataclass made it from the signature
    return False


def undocumented(module: Any) -> List[str]:
    """Public names of `module.__all__`, and their public members, without a docstring."""
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue  # constants: documented in the module and the README
        if _doc_missing(obj):
            missing.append(name)
        if not inspect.isclass(obj):
            continue
        for member, value in vars(obj).items():
            if member.startswith("_"):
                continue
            if isinstance(value, (classmethod, staticmethod)):
                value = value.__func__
            if isinstance(value, property) or inspect.isroutine(value):
                if _doc_missing(value):
                    missing.append(f"{name}.{member}")
    return missing


def test_every_public_item_has_a_docstring() -> None:
    assert undocumented(offrec) == []


def test_every_module_has_a_docstring() -> None:
    for info in pkgutil.iter_modules(offrec.__path__):
        module = __import__(f"offrec.{info.name}", fromlist=["_"])
        assert (module.__doc__ or "").strip(), f"offrec.{info.name} has no module docstring"


def test_the_checker_finds_what_is_missing() -> None:
    # The walk above must fail when something is undocumented: a fake module shows it does.
    import dataclasses
    import types

    @dataclasses.dataclass
    class Bare:
        x: int

        def method(self) -> None:
            pass

        @property
        def prop(self) -> int:
            return 1

    class Colour(enum.IntEnum):
        RED = 1

    def documented() -> None:
        """Fine."""

    fake = types.SimpleNamespace(__all__=["Bare", "Colour", "documented"], Bare=Bare, Colour=Colour,
                                 documented=documented)
    assert undocumented(fake) == ["Bare", "Bare.method", "Bare.prop", "Colour"]


def test_pydoc_shows_the_text() -> None:
    for obj, words in [
        (offrec.Client.send_tlvs, "application TLVs"),
        (offrec.Client.send_inplace, "in-place"),
        (offrec.Client.receive_inplace, "protocol traffic"),
        (offrec.Client.set_policy, "policy"),
        (offrec.Event, "typed properties"),
        (offrec.EventCode, "TLV_RECEIVED"),
        (offrec.NotSentReason, "ENCRYPTION_TIMEOUT"),
        (offrec.Fingerprint, "as users"),
    ]:
        assert words in pydoc.render_doc(obj, renderer=pydoc.plaintext), obj


def test_events_carry_typed_reasons() -> None:
    e = Event(code=EventCode.MESSAGE_NOT_SENT, peer="bob", message_id=3, reason=5)
    assert e.not_sent_reason is NotSentReason.QUEUE_FULL and e.handshake_failure is None
    e = Event(code=EventCode.HANDSHAKE_FAILED, peer="bob", reason=8)
    assert e.handshake_failure is HandshakeFailure.NAMES_DIFFER and e.not_sent_reason is None
    assert Event(code=EventCode.HANDSHAKE_FAILED, peer="bob", reason=99).handshake_failure == 99
    assert Event(code=EventCode.PERSIST_NEEDED, peer="", reason=9).persist_flags == PersistFlag.SESSIONS | PersistFlag.SENT_LOG
    assert Event(code=EventCode.LEGACY_SESSION_STARTED, peer="b", reason=2).protocol is Protocol.OTR_V3
    t = Event(code=EventCode.TLV_RECEIVED, peer="b", usage=0x8001, context=None)
    assert t.tlv_type == 0x8001 and t.tlv_value == b""
    assert Event(code=EventCode.SMP_FAILED, peer="b").tlv_type is None


def _secret_forms(secret: bytes) -> Tuple[str, ...]:
    return (secret.hex(), secret.hex().upper(), repr(secret)[2:-1], repr(bytearray(secret)))


def test_reprs_are_readable_and_hide_secrets(pair: Tuple[Party, Party], net: Net) -> None:
    a, b = pair
    key = a.extra_symmetric_key("bob", 7, b"file-context")
    a.send_tlvs("bob", "", [(0x8001, b"tlv-payload")])
    net.pump()
    extra = [e for e in b.events if e.code == EventCode.EXTRA_KEY_RECEIVED][0]
    tlv = [e for e in b.events if e.code == EventCode.TLV_RECEIVED][0]
    assert bytes(extra.key) == key  # type: ignore[arg-type]
    shown = repr(extra) + repr(tlv) + repr(b.events) + str(b.events)
    for form in _secret_forms(key):
        assert form not in shown
    assert "file-context" not in shown and "tlv-payload" not in shown
    assert "key=<hidden>" in repr(extra) and "context=<12 bytes>" in repr(extra)
    assert "tlv_type=0x8001" in repr(tlv) and "tlv_value=<11 bytes>" in repr(tlv)

    new_fp = [e for e in b.events if e.code == EventCode.NEW_FINGERPRINT][0]
    assert offrec.format_fingerprint(a.fingerprint) in repr(new_fp)
    assert repr(new_fp.fingerprint) == f"Fingerprint({offrec.format_fingerprint(a.fingerprint)!r})"
    assert str(a.fingerprint) == offrec.format_fingerprint(a.fingerprint)

    info = b.sessions("alice")[0]
    r = repr(info)
    assert offrec.format_fingerprint(a.fingerprint) in r and info.ssid_text in r
    assert "ENCRYPTED_UNVERIFIED" in r and "\\x" not in r
    assert "KnownKey(fingerprint=Fingerprint(" in repr(b.known_keys("alice"))

    secret = a.identity_secret()
    everything = repr(a) + repr(info) + repr(b.known_keys("alice")) + repr(a.fingerprint)
    for form in _secret_forms(secret):
        assert form not in everything
    assert "EventCode.NEW_FINGERPRINT" in repr(new_fp) and "peer='alice'" in repr(new_fp)


def test_otr_fingerprints_show_as_libotr_does(net: Net) -> None:
    a, b = net.party("alice", offrec.Policy.ALLOW | offrec.Policy.ALLOW_OTR_V3), net.party(
        "bob", offrec.Policy.ALLOW | offrec.Policy.ALLOW_OTR_V3)
    a.receive("bob", "?OTRv3?")
    net.pump()
    dsa = b.otr_fingerprint()
    assert dsa is not None and str(dsa) == offrec.format_otr_fingerprint(dsa)
    key_id = [e for e in a.events if e.code == EventCode.NEW_FINGERPRINT][0].fingerprint
    assert key_id is not None and key_id.otr_dsa == dsa  # type: ignore[attr-defined]
    assert str(key_id) == offrec.format_fingerprint(key_id) == str(dsa)
    proto = a.session_protocols("bob")[0]
    assert str(dsa) in repr(proto) and "*" in repr(proto.otr)


def test_the_callback_table_matches_the_code() -> None:
    # The README's one table of callback argument orders must say what the code does.
    import re

    from conftest import PKG_ROOT

    text = (PKG_ROOT / "README.md").read_text()
    rows = re.findall(r"^\| [a-z ]+ \| `[^`]*` \| `(\w+)\(([^)]*)\)` \|", text, flags=re.M)
    assert len(rows) == 6, rows
    for name, args in rows:
        wanted = [a.strip() for a in args.split(",") if a.strip()]
        have = [p for p in inspect.signature(getattr(offrec.Client, name)).parameters if p != "self"]
        assert have == wanted, (name, have, wanted)
