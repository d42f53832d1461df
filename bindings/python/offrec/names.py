"""Functions that need no client: classifying a line of text, and the library's names for the
numbers it hands out (for logs).

Names are the C constants without their prefix, in lower case (``"smp_failed"``, which is
also ``EventCode.SMP_FAILED.name.lower()``); numbers that name nothing give ``"unknown"``.
"""

from __future__ import annotations

from ctypes import c_uint32, byref
from typing import Union

from ._ffi import lib
from .errors import check
from .events import MessageKind

StrOrBytes = Union[str, bytes]


def classify(text: StrOrBytes) -> Union[MessageKind, int]:
    """What a line of text is: plaintext, tagged plaintext, or which offrec or OTR message.

    Needs no client and changes nothing (``offrec_classify``): apps that keep protocol traffic
    out of their logs show only lines whose kind :attr:`~MessageKind.is_for_people`. Nothing
    is decrypted or authenticated. ``text`` must be UTF-8 (:class:`~offrec.InvalidUtf8Error`
    otherwise). A kind newer than this binding comes back as a plain int.
    """
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else bytes(text)
    out = c_uint32(0)
    check(lib().offrec_classify(raw, len(raw), byref(out)))
    try:
        return MessageKind(out.value)
    except ValueError:
        return out.value


def _name(fn: str, value: int) -> str:
    raw: bytes = getattr(lib(), fn)(int(value) & 0xFFFFFFFF)
    return raw.decode("ascii")


def event_name(code: int) -> str:
    """The library's name of an event code (``"handshake_complete"``), or ``"unknown"``."""
    return _name("offrec_event_name", code)


def state_name(state: int) -> str:
    """The library's name of a session state (``"encrypted_verified"``), or ``"unknown"``."""
    return _name("offrec_state_name", state)


def trust_name(trust: int) -> str:
    """The library's name of a trust level (``"verified_smp"``), or ``"unknown"``."""
    return _name("offrec_trust_name", trust)


def handshake_failure_name(reason: int) -> str:
    """The library's name of a handshake failure (``"names_differ"``), or ``"unknown"``."""
    return _name("offrec_handshake_failure_name", reason)


def not_sent_reason_name(reason: int) -> str:
    """The library's name of a not-sent reason (``"encryption_timeout"``), or ``"unknown"``."""
    return _name("offrec_not_sent_reason_name", reason)


def protocol_name(protocol: int) -> str:
    """The library's name of a protocol (``"otr_v3"``), or ``"unknown"``."""
    return _name("offrec_protocol_name", protocol)


def key_kind_name(kind: int) -> str:
    """The library's name of a key kind (``"otr_dsa"``), or ``"unknown"``."""
    return _name("offrec_key_kind_name", kind)


def message_kind_name(kind: int) -> str:
    """The library's name of a message kind (``"otr_dh_commit"``), or ``"unknown"``."""
    return _name("offrec_message_kind_name", kind)
