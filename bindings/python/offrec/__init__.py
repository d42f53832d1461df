"""offrec: Off-the-Record messaging (deniable handshake, Double Ratchet, SMP) for Python.

A thin ctypes binding of liboffrec's C API. Start with :class:`Client`; see README.md.
"""

from __future__ import annotations

from ._ffi import LibraryNotFoundError, loaded_from
from .client import (
    FINGERPRINT_LEN,
    KEY_LEN,
    Client,
    Incoming,
    OTR_FINGERPRINT_LEN,
    Outgoing,
    KnownKey,
    OtrSession,
    SessionInfo,
    SessionProtocol,
    format_fingerprint,
    format_otr_fingerprint,
    format_ssid,
    key_id_is_otr,
    version,
)
from .errors import (
    ArgumentError,
    BufferTooSmallError,
    ClosedError,
    CorruptedError,
    ForgeError,
    ImportInUseError,
    ImportInvalidKeyError,
    ImportIOError,
    ImportKeyExistsError,
    ImportMalformedError,
    ImportNoAccountError,
    InternalError,
    InvalidArgumentError,
    InvalidPolicyError,
    InvalidTextError,
    InvalidUtf8Error,
    KeyInUseError,
    MessageTooLargeError,
    MigrationError,
    NoMatchingRevealError,
    NoOtrKeyError,
    NoSessionError,
    NotADataMessageError,
    NotEncryptedError,
    NullArgumentError,
    OffrecError,
    OutOfMemoryError,
    PanicError,
    PolicyForbidsError,
    QueueFullError,
    RandomFailedError,
    Result,
    SessionActiveError,
    SessionError,
    SessionFinishedError,
    SmpError,
    SmpInProgressError,
    SmpRateLimitedError,
    SmpRefusedError,
    StoreError,
    StoreIOError,
    StoreNotAFileError,
    StoreNotFoundError,
    TextDoesNotFitError,
    TlvsUnsupportedError,
    TlvTypeReservedError,
    TooManyTlvsError,
    UnknownEnumValueError,
    UnknownKeyError,
    UnknownPeerError,
    UnsupportedVersionError,
    WrongAccountError,
    WrongKeyError,
    result_message,
)
from .events import (
    Event,
    EventCode,
    HandshakeFailure,
    KeyKind,
    MessageKind,
    NotSentReason,
    Option,
    OtrFileFormat,
    PersistFlag,
    Policy,
    Protocol,
    Security,
    SessionState,
    Strength,
    Text,
    Trust,
)
from .fingerprint import Fingerprint
from .forge import forge  # note: shadows the submodule name; `from offrec.forge import forge` works too
from .names import (
    classify,
    event_name,
    handshake_failure_name,
    key_kind_name,
    message_kind_name,
    not_sent_reason_name,
    protocol_name,
    state_name,
    trust_name,
)

__version__ = "0.1.0"

# Limits from include/offrec.h (checked against it by tests/test_header.py).
MAX_NAME_LEN = 1024
MAX_TEXT_LEN = 131072
MAX_SMP_SECRET_LEN = 4096
MAX_SMP_QUESTION_LEN = 1024
MAX_CONTEXT_LEN = 4096
MAX_PASSPHRASE_LEN = 4096
MAX_PATH_LEN = 4096
MAX_FORGE_LATER = 1024
MAX_STORE_LEN = 256 * 1024 * 1024
#: The first application TLV type (:meth:`Client.send_tlvs`); applications use it to 0xFFFF.
TLV_APP_FIRST = 0x8000
#: The most application TLVs in one message.
MAX_TLVS = 16
#: The most bytes of TLV values in one message, all TLVs together.
MAX_TLV_BYTES = 65535
#: The longest text `Client.set_text` accepts, in bytes.
MAX_CUSTOM_TEXT_LEN = 1024

__all__ = [
    "ArgumentError", "BufferTooSmallError", "Client", "ClosedError", "CorruptedError", "Event",
    "EventCode", "FINGERPRINT_LEN", "Fingerprint", "Incoming", "Outgoing", "ForgeError", "HandshakeFailure", "InternalError", "InvalidArgumentError",
    "InvalidPolicyError", "InvalidUtf8Error", "KEY_LEN", "KnownKey", "LibraryNotFoundError",
    "MessageTooLargeError", "NoMatchingRevealError", "NoOtrKeyError", "NoSessionError", "NotADataMessageError",
    "NotEncryptedError", "NotSentReason", "NullArgumentError", "OffrecError", "Option",
    "OTR_FINGERPRINT_LEN", "OtrSession", "OutOfMemoryError", "PanicError", "PersistFlag", "Policy",
    "PolicyForbidsError", "Protocol", "QueueFullError",
    "RandomFailedError", "Result", "Security", "SessionError", "SessionFinishedError",
    "SessionInfo", "SessionProtocol", "SessionState", "SmpError", "SmpInProgressError", "SmpRateLimitedError",
    "SmpRefusedError", "StoreError", "StoreIOError", "StoreNotAFileError", "StoreNotFoundError", "Strength", "TextDoesNotFitError",
    "TlvsUnsupportedError", "TlvTypeReservedError", "TooManyTlvsError", "MAX_TLVS", "MAX_TLV_BYTES", "TLV_APP_FIRST",
    "Trust", "UnknownEnumValueError", "UnknownPeerError", "UnsupportedVersionError",
    "WrongAccountError", "WrongKeyError", "forge", "format_fingerprint", "format_otr_fingerprint", "format_ssid", "key_id_is_otr", "loaded_from",
    "result_message", "version",
    "MigrationError", "ImportMalformedError", "ImportInvalidKeyError", "ImportNoAccountError", "ImportIOError",
    "ImportKeyExistsError", "ImportInUseError", "OtrFileFormat",
    # The calls a chat UI needs (issue #16).
    "InvalidTextError", "KeyInUseError", "KeyKind", "MAX_CUSTOM_TEXT_LEN", "MessageKind", "SessionActiveError",
    "Text", "UnknownKeyError", "classify", "event_name", "handshake_failure_name", "key_kind_name",
    "message_kind_name", "not_sent_reason_name", "protocol_name", "state_name", "trust_name",
]
