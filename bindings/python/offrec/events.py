"""Enums of the C API and the :class:`Event` handed to ``on_event``."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Optional, Union


class Security(enum.IntEnum):
    """How a delivered message arrived (``offrec_security``)."""

    PLAINTEXT = 0
    ENCRYPTED_UNVERIFIED = 1
    ENCRYPTED_VERIFIED = 2


class SessionState(enum.IntEnum):
    """The security of a session as a UI shows it (``offrec_session_state``)."""

    PLAINTEXT = 0
    ENCRYPTED_UNVERIFIED = 1
    ENCRYPTED_VERIFIED = 2
    FINISHED = 3


class Trust(enum.IntEnum):
    """How far a peer's key is trusted (``offrec_trust``)."""

    UNVERIFIED = 0
    VERIFIED_SMP = 1
    VERIFIED_MANUAL = 2


class EventCode(enum.IntEnum):
    """What an :class:`Event` is about (``offrec_event_code``; the C header documents each).

    Unknown future codes reach ``on_event`` as plain ints. The ones an application usually
    shows: ``NEW_FINGERPRINT`` / ``FINGERPRINT_CHANGED`` (verify the key), ``SMP_*`` (the
    Socialist Millionaires' Protocol), ``MESSAGE_NOT_SENT`` (``Event.not_sent_reason`` says
    why), ``HANDSHAKE_FAILED`` (``Event.handshake_failure``), ``KEY_CONSENT_REQUIRED``,
    ``LEGACY_SESSION_STARTED`` (an OTR session: weaker), ``PERSIST_NEEDED`` (save) and
    ``TLV_RECEIVED`` (an application TLV: ``Event.tlv_type``, ``Event.tlv_value``).

    ``PERSIST_NEEDED`` is reported once until saved: a call reports it only when it changes a
    kind of state (a :class:`PersistFlag`) not changed since the last successful
    :meth:`Client.save` / :meth:`Client.save_to_dir` (a failed save leaves it pending; a loaded
    client starts with nothing unsaved). Saving on every notice saves after every change; an
    app that saves later gets no further notice until it has saved.
    """

    ENCRYPTION_REQUIRED = 1
    HELD_MESSAGE_SENT = 2
    MESSAGE_NOT_SENT = 3
    UNREADABLE = 4
    MALFORMED = 5
    NOT_IN_PRIVATE = 6
    FOR_OTHER_INSTANCE = 7
    REFLECTED = 8
    UNENCRYPTED_WHILE_ENCRYPTED = 9
    UNENCRYPTED_WHILE_REQUIRED = 10
    PEER_ERROR = 11
    FOREIGN_PROTOCOL = 12
    HEARTBEAT_RECEIVED = 13
    HEARTBEAT_SENT = 14
    PEER_ENDED_SESSION = 15
    SESSION_EXPIRED = 16
    HANDSHAKE_FAILED = 17
    HANDSHAKE_COMPLETE = 18
    EXTRA_KEY_RECEIVED = 19
    PEER_COULD_NOT_READ = 20
    NEW_FINGERPRINT = 21
    FINGERPRINT_CHANGED = 22
    SMP_ASKED_FOR_SECRET = 23
    SMP_IN_PROGRESS = 24
    #: SMP succeeded and the key is now verified. With a question only the asker gets this.
    SMP_SUCCEEDED = 25
    SMP_FAILED = 26
    SMP_ABORTED = 27
    SMP_CHEATED = 28
    # 29 is retired (the SMP rate limit is the result code SMP_RATE_LIMITED); never reused.
    #: State worth keeping changed in this call: save now. ``reason`` is a :class:`PersistFlag`
    #: bitmask; ``peer`` is empty. At most one per call, delivered last.
    PERSIST_NEEDED = 30
    #: We answered the peer's SMP *question* correctly: the peer now trusts us. Our trust in
    #: the peer is NOT changed (the asker chose the question); ask your own to verify them.
    SMP_VERIFIED_BY_PEER = 31
    #: A session uses an unverified key (``fingerprint``) while a key of this peer is verified:
    #: plain sends do not go to it until you consent (``accept_key``, ``send_to_instance``, or
    #: ``set_trust`` verified). ``message_id`` 0: the session was set up; otherwise that message
    #: is held (sent on consent, else MESSAGE_NOT_SENT with KEY_CHANGED after the timeout).
    KEY_CONSENT_REQUIRED = 32
    INPUT_DROPPED = 33
    #: An OTR session started with a peer that does not speak offrec's protocol. ``reason`` is
    #: the :class:`Protocol` (OTR_V3 or OTR_V2). Encrypted and authenticated, but weaker than
    #: offrec's protocol: show it (SECURITY.md "Legacy OTR").
    LEGACY_SESSION_STARTED = 34
    #: The OTR session with this instance was replaced by a session of offrec's own protocol
    #: (the peer runs offrec too): it is STRONG now.
    PROTOCOL_UPGRADED = 35
    #: The peer announced offrec inside an OTR session, but the modern handshake did not
    #: complete in time (or completed with another key than announced): someone may be
    #: blocking offrec's protocol. The OTR session stays; tell the user.
    DOWNGRADE_SUSPECTED = 36
    #: An OTR session came up with a DSA key linked to one of this peer's offrec keys: the peer
    #: runs offrec, so someone removed offrec's offer. User text for it is held (never sent over
    #: OTR) while an offrec handshake runs; then it goes out over the offrec session
    #: (PROTOCOL_UPGRADED, HELD_MESSAGE_SENT), or fails after the handshake timeout
    #: (DOWNGRADE_SUSPECTED, MESSAGE_NOT_SENT with ENCRYPTION_TIMEOUT). Tell the user.
    DOWNGRADE_DETECTED = 37
    #: An OTR session came up with a peer that had offrec sessions before, with a DSA key not
    #: linked to it (say, its other device runs Pidgin). Allowed; show "usually uses offrec".
    LEGACY_WITH_MODERN_PEER = 38
    #: A new key link: the peer's offrec key and its OTR DSA key (``fingerprint``, the 32-byte
    #: key id) belong together, as one claimed inside its authenticated session. Trust flows
    #: from the claiming key if it is verified, never the other way, never lowered.
    OTR_KEY_LINKED = 39
    #: An application TLV arrived inside an encrypted message (:meth:`Client.send_tlvs`):
    #: ``tlv_type`` (0x8000-0xFFFF) and ``tlv_value``. One per TLV, before the message's text.
    TLV_RECEIVED = 44


class PersistFlag(enum.IntFlag):
    """What changed since the last successful save (``offrec_persist_flag``), in ``Event.reason``
    of PERSIST_NEEDED: every kind unsaved, not only the call's.

    Stored sessions are never resumed after a load (they are restarted with a new handshake),
    so saving keeps trust decisions, held messages and the record of sent messages. New bits may
    appear: save on any non-zero value.
    """

    SESSIONS = 1
    TRUST = 2
    HELD_MESSAGES = 4
    SENT_LOG = 8
    OTHER = 16


class NotSentReason(enum.IntEnum):
    """Why a message was not sent (``reason`` of MESSAGE_NOT_SENT; ``Event.not_sent_reason``).

    ENCRYPTION_TIMEOUT: encryption is required and no session came up in time;
    SESSION_FINISHED: the peer ended the session; KEY_CHANGED: only a session with a new,
    unverified key was up and the app did not consent to it; SESSION_ENDED: the user ended the
    session first; QUEUE_FULL: too many messages were waiting; TOO_LARGE: larger than the peer
    accepts.
    """

    ENCRYPTION_TIMEOUT = 1
    SESSION_FINISHED = 2
    KEY_CHANGED = 3
    SESSION_ENDED = 4
    QUEUE_FULL = 5
    TOO_LARGE = 6


class HandshakeFailure(enum.IntEnum):
    """Why a handshake failed (``reason`` of HANDSHAKE_FAILED, ``Event.handshake_failure``;
    ``offrec_handshake_failure``).

    NAMES_DIFFER: the two sides bind different names (account names after normalisation,
    network, or ``Option.NAME_BINDING``); both sides get it at once (PROTOCOL.md §4.2).
    """

    MALFORMED = 1
    WRONG_INSTANCE = 2
    VERSION_MISMATCH = 3
    AUTHENTICATION_FAILED = 4
    NON_CONTRIBUTORY = 5
    RANDOM = 6
    UNSENDABLE = 7
    NAMES_DIFFER = 8
    #: An OTR (v3/v2) handshake failed: a signature, MAC or commitment did not verify.
    OTR_FAILED = 9


class Option(enum.IntEnum):
    """Client tunables for :meth:`Client.set_option` (times in seconds of the ``now`` clock).

    NAME_BINDING: 1 = bind both account names and the network, normalised (default);
    0 = the network only (IRC nick changes). Both sides must agree.
    """

    HEARTBEAT_INTERVAL = 0
    SESSION_EXPIRY = 1
    HELD_MESSAGE_TIMEOUT = 2
    HANDSHAKE_TIMEOUT = 3
    PADDING_BLOCK = 4
    MAX_MESSAGE_SIZE = 5
    UNAUTHENTICATED_BUDGET = 6
    NAME_BINDING = 7


class Policy(enum.IntFlag):
    """``OFFREC_POLICY_*`` flags and presets.

    The encrypting presets include OTR v3/v2 as fallback with the downgrade guard (as
    libotr's presets allow v2 and v3): a peer that offers only OTR gets an OTR session
    (:attr:`Strength.LEGACY`). Add ``REQUIRE_MODERN`` (or leave out the ``ALLOW_OTR_*`` bits)
    to never speak OTR.
    """

    NEVER = 0
    ALLOW = 1
    REQUIRE_ENCRYPTION = 2
    SEND_WHITESPACE_TAG = 4
    WHITESPACE_START_AKE = 8
    ERROR_START_AKE = 16
    #: Speak OTR v3 with peers that do not offer offrec (libotr: Pidgin, Adium, irssi-otr...).
    ALLOW_OTR_V3 = 32
    #: Speak OTR v2 with peers that offer nothing newer (python-potr: weechat-otr).
    ALLOW_OTR_V2 = 64
    #: Inside OTR sessions, announce offrec and upgrade when the peer runs offrec too.
    DOWNGRADE_GUARD = 128
    #: Never speak OTR (the strict opt-out; overrides the two ``ALLOW_OTR_*`` flags).
    REQUIRE_MODERN = 256
    #: What every encrypting preset adds: OTR v3 and v2 as fallback, with the downgrade guard.
    OTR_FALLBACK = ALLOW_OTR_V3 | ALLOW_OTR_V2 | DOWNGRADE_GUARD
    MANUAL = ALLOW | ALLOW_OTR_V3 | ALLOW_OTR_V2 | DOWNGRADE_GUARD
    OPPORTUNISTIC = ALLOW | SEND_WHITESPACE_TAG | WHITESPACE_START_AKE | ALLOW_OTR_V3 | ALLOW_OTR_V2 | DOWNGRADE_GUARD
    ALWAYS = ALLOW | REQUIRE_ENCRYPTION | WHITESPACE_START_AKE | ALLOW_OTR_V3 | ALLOW_OTR_V2 | DOWNGRADE_GUARD


class Protocol(enum.IntEnum):
    """Which protocol a session speaks (``offrec_protocol``)."""

    #: offrec's own protocol (X25519, double ratchet, AES-256-GCM).
    MODERN_V1 = 1
    #: OTR version 3, as libotr 4 speaks it (Pidgin, Adium, irssi-otr, Jitsi...).
    OTR_V3 = 2
    #: OTR version 2 (python-potr: weechat-otr, Gajim).
    OTR_V2 = 3


class Strength(enum.IntEnum):
    """How strong a session's cryptography is (``offrec_strength``)."""

    #: offrec's protocol: ~128-bit security throughout.
    STRONG = 1
    #: OTR: DSA-1024 signatures (~80 bits), a 1536-bit DH group, SHA-1 MACs. Show it apart
    #: from STRONG (SECURITY.md "Legacy OTR").
    LEGACY = 2


class OtrFileFormat(enum.IntEnum):
    """Which program's key and trust files (``offrec_otr_file_format``; MIGRATING.md)."""

    #: libotr: Pidgin's ``otr.private_key`` / ``otr.fingerprints`` / ``otr.instance_tags``,
    #: irssi-otr's ``otr.key`` / ``otr.fp`` / ``otr.instag``.
    LIBOTR = 1
    #: python-potr: weechat-otr's and Gajim's ``<account>.key3`` and ``<account>.fpr``.
    POTR = 2


class KeyKind(enum.IntEnum):
    """Which protocol's identity key a known key is (``offrec_key_kind``)."""

    #: offrec's own key; its fingerprint is 32 bytes.
    MODERN = 1
    #: An OTR DSA key (libotr, Pidgin...); its fingerprint is 20 bytes.
    OTR_DSA = 2


class Text(enum.IntEnum):
    """Which text :meth:`Client.set_text` sets (``offrec_text``)."""

    #: The sentence after ``?OTRv3? ?OFRv1?`` in our query.
    QUERY = 1
    #: The ``?OTR Error:`` text for an OTR data message that could not be read.
    OTR_ERROR_UNREADABLE = 2
    #: The ``?OTR Error:`` text for OTR data that arrives without an OTR session.
    OTR_ERROR_NOT_IN_PRIVATE = 3
    #: The ``?OTR Error:`` text for an OTR data message that could not be parsed.
    OTR_ERROR_MALFORMED = 4


class MessageKind(enum.IntEnum):
    """What a line of text is (``offrec_message_kind``; :func:`offrec.classify`).

    Only PLAINTEXT, OFFREC_TAGGED and OTR_TAGGED are text for people (:attr:`is_for_people`);
    the rest is protocol traffic.
    """

    PLAINTEXT = 1
    OFFREC_QUERY = 2
    OFFREC_TAGGED = 3
    OFFREC_KEY_EXCHANGE = 4
    OFFREC_DATA = 5
    OFFREC_ERROR = 6
    OFFREC_FRAGMENT = 7
    OTR_QUERY = 8
    OTR_TAGGED = 9
    OTR_DH_COMMIT = 10
    OTR_DH_KEY = 11
    OTR_REVEAL_SIGNATURE = 12
    OTR_SIGNATURE = 13
    OTR_DATA = 14
    OTR_ERROR = 15
    OTR_FRAGMENT = 16
    #: OTR of a version offrec never speaks (v1, OTRv4, unknown).
    OTR_FOREIGN = 17
    #: Looks like an encoded message or fragment of either protocol but does not decode.
    MALFORMED = 18

    @property
    def is_for_people(self) -> bool:
        """Whether the line is text for a person (possibly tagged) rather than protocol."""
        return self in (MessageKind.PLAINTEXT, MessageKind.OFFREC_TAGGED, MessageKind.OTR_TAGGED)


def _enum_name(value: Any) -> str:
    """``Cls.MEMBER`` for enum members, the number otherwise (repr helper)."""
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    return repr(value)


@dataclass(frozen=True, repr=False)
class Event:
    """Something that happened (a copy of ``offrec_event``; safe to keep).

    Fields that do not apply to ``code`` are 0, False or None. ``reason`` is a
    :class:`NotSentReason` for MESSAGE_NOT_SENT, a :class:`HandshakeFailure` for
    HANDSHAKE_FAILED, a :class:`PersistFlag` for PERSIST_NEEDED and a :class:`Protocol` for
    LEGACY_SESSION_STARTED (the typed properties below give it). ``fingerprint`` and
    ``old_fingerprint`` are :class:`~offrec.Fingerprint` key ids. ``usage`` and ``context`` are
    the extra key's (EXTRA_KEY_RECEIVED) or the application TLV's type and value
    (TLV_RECEIVED; see ``tlv_type``, ``tlv_value``). ``key`` (EXTRA_KEY_RECEIVED) is a secret:
    a ``bytearray`` you can wipe when done. ``repr`` never shows the key, the TLV value or the
    extra key's context, only their lengths. Equal events without text, fingerprints, context or
    key (PERSIST_NEEDED, say) may be one shared object: compare with ``==``.
    """

    code: Union[EventCode, int]
    peer: str
    instance: int = 0
    message_id: int = 0
    reason: int = 0
    text: Optional[str] = None
    fingerprint: Optional[bytes] = None
    old_fingerprint: Optional[bytes] = None
    old_was_verified: bool = False
    usage: int = 0
    context: Optional[bytes] = None
    key: Optional[bytearray] = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """``snake_case`` name of the code (``"event_<n>"`` for codes this binding predates)."""
        if isinstance(self.code, EventCode):
            return self.code.name.lower()
        return f"event_{int(self.code)}"

    @property
    def not_sent_reason(self) -> Optional[Union[NotSentReason, int]]:
        """Why the message was not sent (MESSAGE_NOT_SENT), else None."""
        if self.code != EventCode.MESSAGE_NOT_SENT:
            return None
        return _typed(NotSentReason, self.reason)

    @property
    def handshake_failure(self) -> Optional[Union[HandshakeFailure, int]]:
        """Why the handshake failed (HANDSHAKE_FAILED), else None."""
        if self.code != EventCode.HANDSHAKE_FAILED:
            return None
        return _typed(HandshakeFailure, self.reason)

    @property
    def persist_flags(self) -> Optional[PersistFlag]:
        """What changed (PERSIST_NEEDED), else None."""
        if self.code != EventCode.PERSIST_NEEDED:
            return None
        return PersistFlag(self.reason)

    @property
    def protocol(self) -> Optional[Union[Protocol, int]]:
        """The OTR version of a LEGACY_SESSION_STARTED event, else None."""
        if self.code != EventCode.LEGACY_SESSION_STARTED:
            return None
        return _typed(Protocol, self.reason)

    @property
    def tlv_type(self) -> Optional[int]:
        """The application TLV's type (TLV_RECEIVED), else None."""
        return self.usage if self.code == EventCode.TLV_RECEIVED else None

    @property
    def tlv_value(self) -> Optional[bytes]:
        """The application TLV's value (TLV_RECEIVED; may be empty), else None."""
        if self.code != EventCode.TLV_RECEIVED:
            return None
        return self.context or b""

    def __repr__(self) -> str:
        parts = [f"code={_enum_name(self.code)}", f"peer={self.peer!r}"]
        if self.instance:
            parts.append(f"instance=0x{self.instance:08x}")
        if self.message_id:
            parts.append(f"message_id={self.message_id}")
        typed = self.not_sent_reason or self.handshake_failure or self.protocol
        if self.code == EventCode.PERSIST_NEEDED:
            typed = self.persist_flags
        if typed is not None:
            parts.append(f"reason={_enum_name(typed)}")
        elif self.reason:
            parts.append(f"reason={self.reason}")
        if self.text is not None:
            parts.append(f"text={self.text!r}")
        for name in ("fingerprint", "old_fingerprint"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        if self.old_fingerprint is not None:
            parts.append(f"old_was_verified={self.old_was_verified}")
        if self.code == EventCode.TLV_RECEIVED:
            parts.append(f"tlv_type=0x{self.usage:04x}")
            parts.append(f"tlv_value=<{len(self.context or b'')} bytes>")
        else:
            if self.usage:
                parts.append(f"usage={self.usage}")
            if self.context is not None:
                parts.append(f"context=<{len(self.context)} bytes>")
        if self.key is not None:
            parts.append("key=<hidden>")
        return f"Event({', '.join(parts)})"


def _typed(cls: Any, value: int) -> Any:
    try:
        return cls(value)
    except ValueError:
        return value


def event_code(n: int) -> Union[EventCode, int]:
    """``EventCode(n)``, or ``n`` itself for a code newer than this binding."""
    try:
        return EventCode(n)
    except ValueError:
        return n
