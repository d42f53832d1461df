"""Result codes and the exception hierarchy they map to.

Every ``OFFREC_RESULT_*`` code except OK maps to exactly one class; catch a family base
(:class:`SessionError`, :class:`SmpError`, :class:`StoreError`, ...) or :class:`OffrecError`
for all of them. Codes this binding does not know yet (a newer library) raise
:class:`OffrecError` itself with the number in ``.code``.
"""

from __future__ import annotations

import enum
from typing import Optional


class Result(enum.IntEnum):
    """``offrec_result``: stable numbers, never reused."""

    OK = 0
    NULL_ARGUMENT = 1
    INVALID_ARGUMENT = 2
    BUFFER_TOO_SMALL = 3
    PANIC = 4
    INVALID_UTF8 = 5
    OUT_OF_MEMORY = 6
    UNKNOWN_ENUM_VALUE = 7
    NO_SESSION = 100
    NOT_ENCRYPTED = 101
    SESSION_FINISHED = 102
    POLICY_FORBIDS = 103
    SMP_IN_PROGRESS = 104
    RANDOM_FAILED = 105
    STORE_ERROR = 106
    MESSAGE_TOO_LARGE = 107
    UNKNOWN_PEER = 108
    QUEUE_FULL = 109
    SMP_RATE_LIMITED = 110
    SMP_ERROR = 111
    INVALID_POLICY = 112
    NOT_A_DATA_MESSAGE = 113
    NO_MATCHING_REVEAL = 114
    TEXT_DOES_NOT_FIT = 115
    STORE_NOT_FOUND = 116
    STORE_WRONG_KEY = 117
    STORE_CORRUPTED = 118
    STORE_UNSUPPORTED_VERSION = 119
    STORE_WRONG_ACCOUNT = 121
    STORE_NOT_A_FILE = 122
    NO_OTR_KEY = 123
    IMPORT_MALFORMED = 128
    IMPORT_INVALID_KEY = 129
    IMPORT_NO_ACCOUNT = 130
    IMPORT_IO = 131
    IMPORT_KEY_EXISTS = 132
    IMPORT_IN_USE = 133
    TLV_TYPE_RESERVED = 144
    TOO_MANY_TLVS = 145
    TLVS_UNSUPPORTED = 146
    KEY_IN_USE = 136
    UNKNOWN_KEY = 137
    SESSION_ACTIVE = 138
    INVALID_TEXT = 139


class OffrecError(Exception):
    """Base of every error this package raises for a result code.

    ``code`` is the numeric result code (None for errors that have no C code, such as
    :class:`ClosedError`) and ``message`` the library's description of it.
    """

    code: Optional[int]
    message: str

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message if code is None else f"{message} (offrec result {code})")
        self.code = code
        self.message = message


class ClosedError(OffrecError, ValueError):
    """The client was used after ``close()``."""


# --- families -------------------------------------------------------------------------------
class ArgumentError(OffrecError, ValueError):
    """An argument was rejected (missing, out of range, malformed)."""


class InternalError(OffrecError):
    """The library could not do its work (panic, memory, randomness)."""


class SessionError(OffrecError):
    """The conversation is not in a state that allows the call."""


class SmpError(OffrecError):
    """The Socialist Millionaires' Protocol call was refused."""


class ForgeError(OffrecError):
    """Forging failed."""


class StoreError(OffrecError):
    """Saving or loading the client's state failed."""


# --- one class per code ---------------------------------------------------------------------
class NullArgumentError(ArgumentError):
    """A required argument was missing (NULL)."""


class InvalidArgumentError(ArgumentError):
    """An argument was out of range or otherwise invalid."""


class BufferTooSmallError(ArgumentError):
    """A caller-supplied buffer was too small."""


class InvalidUtf8Error(ArgumentError):
    """A text argument was not valid UTF-8."""


class UnknownEnumValueError(ArgumentError):
    """An integer argument named no value of the expected enum."""


class InvalidPolicyError(ArgumentError):
    """A policy had bits that name no policy flag."""


class MessageTooLargeError(ArgumentError):
    """The message is larger than the library accepts."""


class PanicError(InternalError):
    """The library caught an internal panic; close the client."""


class OutOfMemoryError(InternalError):
    """An allocation failed or a size computation overflowed."""


class RandomFailedError(InternalError):
    """The random number source failed."""


class NoSessionError(SessionError):
    """There is no session with that peer (or instance)."""


class NotEncryptedError(SessionError):
    """The operation needs an encrypted session."""


class SessionFinishedError(SessionError):
    """The peer ended the session; end or restart it before sending."""


class PolicyForbidsError(SessionError):
    """The policy forbids this operation."""


class UnknownPeerError(SessionError):
    """The named peer is not known."""


class QueueFullError(SessionError):
    """Too many messages are waiting for encryption with this peer."""


class SmpInProgressError(SmpError):
    """An SMP run is already in progress."""


class SmpRateLimitedError(SmpError):
    """SMP was started too soon after the last run, or failed too often."""


class SmpRefusedError(SmpError):
    """The SMP call was refused (for example, answering when nothing was asked)."""


class NotADataMessageError(ForgeError):
    """The captured text is not an armoured data message."""


class NoMatchingRevealError(ForgeError):
    """None of the later messages reveals the captured message's key material."""


class TextDoesNotFitError(ForgeError):
    """The known or the new text does not fit the captured message's length."""


class StoreIOError(StoreError):
    """The store could not be read or written."""


class StoreNotFoundError(StoreError):
    """Nothing has been saved there yet."""


class WrongKeyError(StoreError):
    """The key or passphrase does not open the store."""


class CorruptedError(StoreError):
    """The store is damaged, truncated, modified, or not a store at all."""


class UnsupportedVersionError(StoreError):
    """The store was written by a newer version of the library."""


class WrongAccountError(StoreError):
    """The store opened with the key but belongs to another account than the one named."""


class StoreNotAFileError(StoreError):
    """The store path is a symbolic link, FIFO, device or socket; nothing was read."""


class NoOtrKeyError(OffrecError, LookupError):
    """The client has no OTR DSA key yet (:meth:`~offrec.Client.generate_otr_key` makes one)."""


class MigrationError(OffrecError):
    """Importing or exporting libotr / potr files failed; the client is unchanged."""


class ImportMalformedError(MigrationError, ValueError):
    """The libotr or potr file is malformed, truncated, too large or not of the expected kind."""


class ImportInvalidKeyError(MigrationError, ValueError):
    """The key fails the DSA checks (group parameters, sizes, a private part that does not match)."""


class ImportNoAccountError(MigrationError, LookupError):
    """The file has no single entry for the account: name it as the file writes it."""


class ImportIOError(MigrationError):
    """An OTR file could not be read or written (missing, not a regular file, permissions)."""


class ImportKeyExistsError(MigrationError):
    """The client already has another OTR key; pass ``replace=True`` to replace it."""


class ImportInUseError(MigrationError):
    """An instance tag can only be imported into a client that has no conversations yet."""
class TlvTypeReservedError(ArgumentError):
    """An application TLV's type is below ``TLV_APP_FIRST`` (0x8000): it belongs to the protocols."""


class TooManyTlvsError(ArgumentError):
    """More application TLVs in one message than ``MAX_TLVS``."""


class TlvsUnsupportedError(SessionError):
    """The session cannot carry application TLVs: OTR v2 (python-potr fails on unknown TLVs)."""


class KeyInUseError(SessionError):
    """The key is used by a live encrypted session: end that session before forgetting it."""


class UnknownKeyError(SessionError, LookupError):
    """That key is not known for that peer."""


class SessionActiveError(SessionError):
    """An encrypted session with that peer is live: end it before forgetting the peer."""


class InvalidTextError(ArgumentError):
    """A text for :meth:`~offrec.Client.set_text` holds a control character (other than a line
    feed) or a protocol marker (``?OTR``, ``?OFR``)."""


ERROR_CLASSES: dict[int, type[OffrecError]] = {
    Result.NULL_ARGUMENT: NullArgumentError,
    Result.INVALID_ARGUMENT: InvalidArgumentError,
    Result.BUFFER_TOO_SMALL: BufferTooSmallError,
    Result.PANIC: PanicError,
    Result.INVALID_UTF8: InvalidUtf8Error,
    Result.OUT_OF_MEMORY: OutOfMemoryError,
    Result.UNKNOWN_ENUM_VALUE: UnknownEnumValueError,
    Result.NO_SESSION: NoSessionError,
    Result.NOT_ENCRYPTED: NotEncryptedError,
    Result.SESSION_FINISHED: SessionFinishedError,
    Result.POLICY_FORBIDS: PolicyForbidsError,
    Result.SMP_IN_PROGRESS: SmpInProgressError,
    Result.RANDOM_FAILED: RandomFailedError,
    Result.STORE_ERROR: StoreIOError,
    Result.MESSAGE_TOO_LARGE: MessageTooLargeError,
    Result.UNKNOWN_PEER: UnknownPeerError,
    Result.QUEUE_FULL: QueueFullError,
    Result.SMP_RATE_LIMITED: SmpRateLimitedError,
    Result.SMP_ERROR: SmpRefusedError,
    Result.INVALID_POLICY: InvalidPolicyError,
    Result.NOT_A_DATA_MESSAGE: NotADataMessageError,
    Result.NO_MATCHING_REVEAL: NoMatchingRevealError,
    Result.TEXT_DOES_NOT_FIT: TextDoesNotFitError,
    Result.STORE_NOT_FOUND: StoreNotFoundError,
    Result.STORE_WRONG_KEY: WrongKeyError,
    Result.STORE_CORRUPTED: CorruptedError,
    Result.STORE_UNSUPPORTED_VERSION: UnsupportedVersionError,
    Result.STORE_WRONG_ACCOUNT: WrongAccountError,
    Result.STORE_NOT_A_FILE: StoreNotAFileError,
    Result.NO_OTR_KEY: NoOtrKeyError,
    Result.IMPORT_MALFORMED: ImportMalformedError,
    Result.IMPORT_INVALID_KEY: ImportInvalidKeyError,
    Result.IMPORT_NO_ACCOUNT: ImportNoAccountError,
    Result.IMPORT_IO: ImportIOError,
    Result.IMPORT_KEY_EXISTS: ImportKeyExistsError,
    Result.IMPORT_IN_USE: ImportInUseError,
    Result.TLV_TYPE_RESERVED: TlvTypeReservedError,
    Result.TOO_MANY_TLVS: TooManyTlvsError,
    Result.TLVS_UNSUPPORTED: TlvsUnsupportedError,
    Result.KEY_IN_USE: KeyInUseError,
    Result.UNKNOWN_KEY: UnknownKeyError,
    Result.SESSION_ACTIVE: SessionActiveError,
    Result.INVALID_TEXT: InvalidTextError,
}


def result_message(code: int) -> str:
    """The library's English description of a result code (any integer)."""
    from ._ffi import lib

    raw: bytes = lib().offrec_result_message(code & 0xFFFFFFFF)
    return raw.decode("utf-8", "replace")


def error_for(code: int) -> OffrecError:
    """The exception for a non-OK result code (unknown codes: :class:`OffrecError`)."""
    cls = ERROR_CLASSES.get(code, OffrecError)
    return cls(result_message(code), code)


def check(code: int) -> None:
    """Raises the mapped exception unless ``code`` is OK."""
    if code != Result.OK:
        raise error_for(code)
