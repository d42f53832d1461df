"""The :class:`Client`: one local account, its keys, trust store and conversations.

Callback plumbing
-----------------
C calls Python through six module-level ctypes trampolines, created once and kept alive for
the whole process (a CFUNCTYPE object that is garbage-collected while C still holds its
address would crash the process). The ``userdata`` the library hands back is a small integer,
a key into :data:`_registry`, never ``id(obj)``; the registry holds only weak references so an
unclosed client can still be collected (its ``__del__`` frees the C handle).

Each trampoline copies everything it receives into Python objects (the pointers die when the
callback returns), calls the user's function, and catches every ``BaseException``. The first
one is stored on a per-thread, per-call frame and re-raised by the :class:`Client` method whose
C call triggered the callback, after that call returns. Later exceptions of the same call are
attached to the first one as notes; later callbacks of that call still run (the library has
already committed the state they report, so dropping them would lose messages).

Threads
-------
The C client is thread-safe and calls back without holding any lock, so callbacks may call
back into the same client (for example reply from ``on_deliver``). This wrapper adds no lock
around C calls; callbacks triggered by a call run on the thread that made it. If you use one
client from several threads, your callbacks run concurrently and must be thread-safe. Do not
``close()`` a client while another thread uses it, nor from inside its own callback (that
raises ``RuntimeError``).
"""

from __future__ import annotations

import ctypes
import itertools
import os
import struct
import sys
import threading
import time
import traceback
import weakref
from ctypes import byref, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p, string_at
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from . import _types as T
from ._ffi import lib
from .errors import ClosedError, InvalidArgumentError, NoOtrKeyError, check
from .events import (
    Event,
    EventCode,
    KeyKind,
    Option,
    OtrFileFormat,
    Policy,
    Protocol,
    Security,
    SessionState,
    Strength,
    Text,
    Trust,
)
from .fingerprint import Fingerprint

FINGERPRINT_LEN = 32
KEY_LEN = 32
#: Length of an OTR DSA fingerprint (SHA-1).
OTR_FINGERPRINT_LEN = 20

StrOrBytes = Union[str, bytes]
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

SendHandler = Callable[[str, str], Any]
DeliverHandler = Callable[[str, str, Security, int], Any]
StateHandler = Callable[[str, SessionState, int], Any]
EventHandler = Callable[[Event], Any]
SizeHandler = Callable[[str], int]
NowHandler = Callable[[], int]
LoggedInHandler = Callable[[str], Optional[bool]]

# --- registry and trampolines ---------------------------------------------------------------
_registry: Dict[int, "weakref.ref[Client]"] = {}
_keys = itertools.count(1)
_METHOD = object()  # handler marker: call the (overridden) method of that name


def _client(userdata: Optional[int]) -> Optional["Client"]:
    if not userdata:
        return None
    ref = _registry.get(userdata)
    return ref() if ref is not None else None


# Bytes at a C address: slicing a c_char array that spans the address space copies exactly the
# bytes asked for into a new ``bytes``, about three times faster than ``ctypes.string_at`` (a
# foreign call of its own). The array object is only a view; nothing is read outside the slice.
# One view from address 0, made once: ``_MEM[p:p + n]`` is the n bytes at p (a view made per
# copy with from_address(p) costs a quarter of the copy again).
_MEM = (ctypes.c_char * (sys.maxsize // 2)).from_address(0)


def _text(ptr: Optional[int], length: int) -> bytes:
    return _MEM[ptr : ptr + length] if ptr and length else b""


def _peer(ptr: Optional[int], length: int) -> str:
    return _text(ptr, length).decode("utf-8", "replace")


# send / receive call the library without ctypes' argument conversion: with argtypes every
# argument goes through its type's from_param (about 1k instructions each, 11 per message),
# here every argument already has its C type: the handle a c_void_p, the texts bytes (char *),
# the lengths c_size_t, the id a byref(c_uint64). The same ABI as the declared prototypes.
_raw_fns: Dict[str, Any] = {}


def _raw_fn(name: str) -> Any:
    """The library function ``name`` without argtypes (a new function object: the library's
    attribute keeps its prototype for every other caller)."""
    fn = _raw_fns.get(name)
    if fn is None:
        fn = lib()[name]
        fn.restype = T.R
        fn.argtypes = None
        _raw_fns[name] = fn
    return fn


# Lengths as c_size_t, shared by every call (passed by value, never changed): making one per
# call would cost about as much as the conversion it replaces.
_SIZES: Dict[int, c_size_t] = {}
_SIZES_MAX = 4096


def _size(n: int) -> c_size_t:
    s = c_size_t(n)
    if len(_SIZES) < _SIZES_MAX:
        _SIZES[n] = s
    return s


# A peer name as send / receive pass it, (UTF-8 bytes, c_size_t length), by the str the
# application gave: the same few names come back on every message, and one dict look-up costs
# less than encoding the name and finding its length's c_size_t (~0.1 us per message). Bounded
# like _SIZES: receive is called with whatever sender names the network shows us.
_PEER_ARGS: Dict[str, Tuple[bytes, c_size_t]] = {}
_PEER_ARGS_MAX = 4096


def _peer_arg(peer: StrOrBytes) -> Tuple[bytes, c_size_t]:
    """``peer`` encoded for send / receive (remembered for a str while there is room)."""
    p = _name(peer, "peer")
    size = _SIZES.get(len(p))
    arg = (p, size if size is not None else _size(len(p)))
    if type(peer) is str and len(_PEER_ARGS) < _PEER_ARGS_MAX:
        _PEER_ARGS[peer] = arg
    return arg


# Send's message-id outputs with their byref, reused: one is taken for the length of a call
# (nested and concurrent calls take others) and put back after its value is read. The library
# writes the id before a successful return, and it is read only then.
_MIDS: List[Tuple[c_uint64, Any]] = []


def _new_mid() -> Tuple[c_uint64, Any]:
    mid = c_uint64()
    return mid, byref(mid)


# Number -> enum member without Enum.__call__ (its lookup costs more than a whole trampoline
# otherwise); a number this binding predates stays a plain int.
_SECURITY: Dict[int, Security] = {int(m): m for m in Security}
_STATES: Dict[int, SessionState] = {int(m): m for m in SessionState}
_EVENT_CODES: Dict[int, EventCode] = {int(m): m for m in EventCode}

# The trampolines below run once or more per message: they inline the registry lookup, the
# handler lookup and the copies instead of calling the helpers above. They decode with
# bytes.decode() first (strict UTF-8, no encoding name to look up: a named codec costs a
# normalisation of its name per call) and only for bytes that are not UTF-8 with the error
# handler, which gives the same str for UTF-8 input; send / receive encode the same way.


def _tr_send(ud, peer, peer_len, text, text_len):  # type: ignore[no-untyped-def]
    ref = _registry.get(ud)
    c = ref() if ref is not None else None
    if c is None:
        return
    try:
        fn = c._handlers.get("on_send")
        if fn is None:
            return
        if fn is _METHOD:
            fn = c.on_send
        p = _MEM[peer : peer + peer_len] if peer and peer_len else b""
        t = _MEM[text : text + text_len] if text and text_len else b""
        try:
            ps, ts = p.decode(), t.decode()
        except UnicodeDecodeError:
            ps, ts = p.decode("utf-8", "replace"), t.decode("utf-8", "replace")
        fn(ps, ts)
    except BaseException as e:  # noqa: BLE001 - re-raised from the triggering call
        c._store_exception(e)


def _tr_deliver(ud, peer, peer_len, instance, text, text_len, security):  # type: ignore[no-untyped-def]
    ref = _registry.get(ud)
    c = ref() if ref is not None else None
    if c is None:
        return
    try:
        fn = c._handlers.get("on_deliver")
        if fn is None:
            return
        if fn is _METHOD:
            fn = c.on_deliver
        p = _MEM[peer : peer + peer_len] if peer and peer_len else b""
        t = _MEM[text : text + text_len] if text and text_len else b""
        try:
            ps, ts = p.decode(), t.decode()
        except UnicodeDecodeError:
            ps, ts = p.decode("utf-8", "replace"), t.decode("utf-8", "surrogateescape")
        fn(ps, ts, _SECURITY.get(security, security), instance)
    except BaseException as e:  # noqa: BLE001
        c._store_exception(e)


def _tr_state_changed(ud, peer, peer_len, instance, state):  # type: ignore[no-untyped-def]
    c = _client(ud)
    if c is None:
        return
    try:
        c._dispatch("on_state_changed", _peer(peer, peer_len), _STATES.get(state, state), instance)
    except BaseException as e:  # noqa: BLE001
        c._store_exception(e)


def _fingerprint_at(p: int) -> Optional[Fingerprint]:
    return Fingerprint(_MEM[p : p + FINGERPRINT_LEN]) if p else None


def _struct_of(cls: Any) -> struct.Struct:
    """A native ``struct`` layout of the ctypes Structure ``cls``: its fields in order, with the
    padding ctypes put between them, so one ``unpack_from`` reads them all (a ctypes field read
    costs as much as the whole unpack). Checked against ctypes' offsets by test_hotpath.py."""
    fmt = "@"
    for name, ctype in cls._fields_:
        fmt += "x" * (getattr(cls, name).offset - struct.calcsize(fmt)) + ctype._type_
    return struct.Struct(fmt + "x" * (ctypes.sizeof(cls) - struct.calcsize(fmt)))


_EVENT_STRUCT = _struct_of(T.offrec_event)
_unpack_event = _EVENT_STRUCT.unpack_from
_event_at = (ctypes.c_char * _EVENT_STRUCT.size).from_address
_new_event = object.__new__
# Events without pointer fields already made, by content (bounded: cleared when full).
_event_cache: Dict[Tuple[int, bytes, int, int, int], Event] = {}
_EVENT_CACHE_SIZE = 256
_set_attr = object.__setattr__


def _copy_event_at(addr: int) -> Event:
    """The event at ``addr`` copied into an :class:`Event` (the C struct dies after the callback).

    Builds the frozen dataclass by setting its instance dict in one step (its __init__ sets the
    12 fields one by one through object.__setattr__); pointer fields are copied only when set.
    """
    (
        code, peer, peer_len, instance, message_id, reason, text, text_len,
        fp, old, old_was_verified, usage, context, context_len, key,
    ) = _unpack_event(_event_at(addr))
    plain = not (text or fp or old or context or key or usage or old_was_verified)
    if plain:
        # An event without pointer fields is fully named by these five numbers and the peer: the
        # same (immutable) Event serves again, as a PERSIST_NEEDED with the same bits does.
        cache_key = (code, _MEM[peer : peer + peer_len] if peer and peer_len else b"", instance, message_id, reason)
        cached = _event_cache.get(cache_key)
        if cached is not None:
            return cached
    ev = _new_event(Event)
    _set_attr(ev, "__dict__", {
        "code": _EVENT_CODES.get(code, code),
        "peer": _MEM[peer : peer + peer_len].decode("utf-8", "replace") if peer and peer_len else "",
        "instance": instance,
        "message_id": message_id,
        "reason": reason,
        "text": _text(text, text_len).decode("utf-8", "replace") if text else None,
        "fingerprint": _fingerprint_at(fp) if fp else None,
        "old_fingerprint": _fingerprint_at(old) if old else None,
        "old_was_verified": old_was_verified,
        "usage": usage,
        "context": _text(context, context_len) if context else None,
        "key": bytearray(_MEM[key : key + KEY_LEN]) if key else None,
    })
    if plain:
        if len(_event_cache) >= _EVENT_CACHE_SIZE:
            _event_cache.clear()
        _event_cache[cache_key] = ev
    return ev


def _copy_event(e: T.offrec_event) -> Event:
    return _copy_event_at(ctypes.addressof(e))


def _tr_event(ud, event_p):  # type: ignore[no-untyped-def]
    # Registered as T.EVENT_FN through a cast (see _EVENT below): event_p arrives as a plain
    # address, not a ctypes pointer object.
    ref = _registry.get(ud)
    c = ref() if ref is not None else None
    if c is None or not event_p:
        return
    try:
        fn = c._handlers.get("on_event")
        if fn is None:
            return
        if fn is _METHOD:
            fn = c.on_event
        fn(_copy_event_at(event_p))
    except BaseException as e:  # noqa: BLE001
        c._store_exception(e)


def _tr_max_message_size(ud, peer, peer_len):  # type: ignore[no-untyped-def]
    c = _client(ud)
    if c is None:
        return 0
    try:
        n = int(c._dispatch("max_message_size", _peer(peer, peer_len)))
        if n < 0:
            raise ValueError(f"max_message_size returned {n}; it must be >= 0")
        return n
    except BaseException as e:  # noqa: BLE001
        c._store_exception(e)
        return 0  # no per-peer limit


def _tr_now(ud):  # type: ignore[no-untyped-def]
    c = _client(ud)
    if c is None:
        return int(time.time())
    try:
        t = int(c._dispatch("now"))
        if t < 0:
            raise ValueError(f"now returned {t}; it must be >= 0")
        c._last_now = max(c._last_now, t)
        return t
    except BaseException as e:  # noqa: BLE001
        c._store_exception(e)
        return c._last_now  # never go backwards


def _tr_is_logged_in(ud, peer, peer_len):  # type: ignore[no-untyped-def]
    c = _client(ud)
    if c is None:
        return -1
    try:
        online = c._dispatch("is_logged_in", _peer(peer, peer_len))
        if online is None:
            return -1
        if not isinstance(online, (bool, int)):
            raise TypeError(f"is_logged_in returned {online!r}; return True, False or None")
        return 1 if online else 0
    except BaseException as e:  # noqa: BLE001
        c._store_exception(e)
        return -1  # unknown: send, as without the callback


# Module-level, alive for the process: C keeps these addresses inside every client.
_SEND = T.SEND_FN(_tr_send)
_DELIVER = T.DELIVER_FN(_tr_deliver)
_STATE_CHANGED = T.STATE_CHANGED_FN(_tr_state_changed)
# The event trampoline takes the struct's address (c_void_p, the same ABI as the header's
# pointer) and is handed to C as T.EVENT_FN; _EVENT_RAW keeps the callable alive.
_EVENT_RAW = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)(_tr_event)
_EVENT = ctypes.cast(_EVENT_RAW, T.EVENT_FN)
_MAX_MESSAGE_SIZE = T.MAX_MESSAGE_SIZE_FN(_tr_max_message_size)
_NOW = T.NOW_FN(_tr_now)
_IS_LOGGED_IN = T.IS_LOGGED_IN_FN(_tr_is_logged_in)

_HANDLER_NAMES = (
    "on_send", "on_deliver", "on_state_changed", "on_event", "max_message_size", "now", "is_logged_in",
)


# --- helpers --------------------------------------------------------------------------------
def _name(value: StrOrBytes, what: str = "name") -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def _payload(value: StrOrBytes, what: str = "text") -> bytes:
    # surrogateescape: a str delivered by on_deliver from non-UTF-8 bytes round-trips exactly.
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def _fixed(value: Any, n: int, what: str) -> bytes:
    b = bytes(value)
    if len(b) != n:
        raise ValueError(f"{what} must be exactly {n} bytes, got {len(b)}")
    return b


def _optional_name(value: Optional[StrOrBytes], what: str) -> Tuple[Optional[bytes], int]:
    """An optional account or protocol name: (None, 0) for the client's own."""
    if value is None:
        return None, 0
    raw = _name(value, what)
    return raw, len(raw)


def _key_args(key: Optional[bytes], passphrase: Optional[StrOrBytes]) -> tuple:
    if (key is None) == (passphrase is None):
        raise TypeError("give exactly one of key= (32 bytes) or passphrase=")
    if key is not None:
        return (_fixed(key, KEY_LEN, "key"), None, 0)
    p = _name(passphrase, "passphrase")  # type: ignore[arg-type]
    return (None, p, len(p))


def _wipe(buf: Any) -> None:
    ctypes.memset(ctypes.addressof(buf), 0, ctypes.sizeof(buf))


def version() -> str:
    """The loaded library's version string, such as ``"0.1.0"``."""
    raw: bytes = lib().offrec_version()
    return raw.decode("ascii")


def _format(fn_name: str, data: bytes, what: str, length: int = FINGERPRINT_LEN) -> str:
    data = _fixed(data, length, what)
    buf = ctypes.create_string_buffer(80)
    n = c_size_t(0)
    check(getattr(lib(), fn_name)(data, buf, len(buf), byref(n)))
    return buf.raw[: max(n.value - 1, 0)].decode("ascii")


def format_fingerprint(fingerprint: bytes) -> str:
    """Eight groups of eight upper-case hex digits, as users compare them.

    A key id that names an OTR DSA key (see :func:`key_id_is_otr`) is shown as OTR clients
    show it instead: five groups of eight (the same text as :func:`format_otr_fingerprint`).
    """
    return _format("offrec_fingerprint_format", fingerprint, "fingerprint")


def format_otr_fingerprint(fingerprint: bytes) -> str:
    """An OTR DSA fingerprint (20 bytes) as libotr and Pidgin show it: five groups of eight
    upper-case hex digits, such as ``"CB5EFC9C 5C6C88A7 E4926E47 D40421EC F28B3275"``."""
    return _format("offrec_otr_fingerprint_format", fingerprint, "OTR fingerprint", OTR_FINGERPRINT_LEN)


def key_id_is_otr(key_id: bytes) -> Optional[bytes]:
    """The 20-byte DSA fingerprint if the 32-byte ``key_id`` names an OTR key, else None.

    Fingerprints in events, :class:`SessionInfo`, :meth:`Client.trust` / :meth:`Client.set_trust`
    and :meth:`Client.known_keys` are 32-byte key ids; an OTR peer's DSA key appears there as
    ``b"otr-dsa-sha1"`` followed by its SHA-1 fingerprint. This tells the two kinds apart.
    """
    kid = _fixed(key_id, FINGERPRINT_LEN, "key id")
    dsa = (c_uint8 * OTR_FINGERPRINT_LEN)()
    out = ctypes.c_bool(False)
    check(lib().offrec_key_id_is_otr(kid, dsa, byref(out)))
    return Fingerprint(bytes(dsa)) if out.value else None


def format_ssid(ssid: bytes) -> str:
    """A session id for reading aloud (two groups of eight lower-case hex digits)."""
    return _format("offrec_ssid_format", ssid, "ssid")


def _ssid_words(ssid: bytes) -> str:
    return f"{ssid[:4].hex()} {ssid[4:8].hex()}"


@dataclass(frozen=True, repr=False)
class SessionInfo:
    """One session with a remote instance (``offrec_session_info``).

    ``their_fingerprint`` is the peer's key id (a :class:`~offrec.Fingerprint`); ``ssid`` the
    session id both sides share (read its first 8 bytes aloud: :attr:`ssid_text`). The repr
    shows the state, the formatted fingerprint and the SSID words: all public.
    """

    instance: int
    state: Union[SessionState, int]
    their_fingerprint: bytes
    ssid: bytes
    we_initiated: bool
    smp_in_progress: bool

    @property
    def ssid_text(self) -> str:
        """The session id for reading aloud: two groups of eight lower-case hex digits."""
        return format_ssid(self.ssid)

    def __repr__(self) -> str:
        state = self.state.name if isinstance(self.state, SessionState) else self.state
        return (
            f"SessionInfo(instance=0x{self.instance:08x}, state={state}, "
            f"their_fingerprint={Fingerprint(self.their_fingerprint)!r}, ssid={_ssid_words(self.ssid)!r}, "
            f"we_initiated={self.we_initiated}, smp_in_progress={self.smp_in_progress})"
        )


@dataclass(frozen=True, repr=False)
class OtrSession:
    """What OTR clients (Pidgin, Adium...) show about an OTR session (all public)."""

    #: The peer's DSA fingerprint (20 bytes; :func:`format_otr_fingerprint` shows it).
    their_fingerprint: bytes
    #: OTR's secure session id (8 bytes), read aloud as two words.
    ssid: bytes
    #: Whether the first word is shown bold on our side (the peer shows the other one bold).
    first_half_bold: bool

    @property
    def their_fingerprint_text(self) -> str:
        """The peer's fingerprint as libotr shows it (five groups of eight hex digits)."""
        return format_otr_fingerprint(self.their_fingerprint)

    @property
    def ssid_words(self) -> Tuple[str, str]:
        """The secure session id as libotr shows it: two words of eight lower-case hex digits."""
        return (self.ssid[:4].hex(), self.ssid[4:].hex())

    @property
    def bold_word(self) -> str:
        """The word of :attr:`ssid_words` that this side shows bold."""
        return self.ssid_words[0 if self.first_half_bold else 1]

    def __repr__(self) -> str:
        words = self.ssid_words
        shown = f"*{words[0]}* {words[1]}" if self.first_half_bold else f"{words[0]} *{words[1]}*"
        return f"OtrSession(their_fingerprint={Fingerprint(self.their_fingerprint)!r}, ssid={shown!r})"


@dataclass(frozen=True)
class SessionProtocol:
    """Which protocol one session speaks (``offrec_session_protocol``).

    ``otr`` is set for OTR sessions only. ``instance`` is the remote instance tag, as in
    :class:`SessionInfo`; an OTR v2 session (v2 has no instance tags) is kept under the
    pseudo-instance 2.
    """

    instance: int
    protocol: Union[Protocol, int]
    strength: Union[Strength, int]
    otr: Optional[OtrSession]

    @property
    def is_legacy(self) -> bool:
        """True for OTR sessions: weaker cryptography, to be shown apart from offrec's."""
        return self.strength == Strength.LEGACY


@dataclass(frozen=True)
class KnownKey:
    """A key known for a peer (its 32-byte key id, a :class:`~offrec.Fingerprint`), and how far it is
    trusted.

    ``fingerprint`` is the 32-byte key id the trust calls take (:meth:`Client.set_trust`,
    :meth:`Client.forget_key`, events). ``native_fingerprint`` is the key's own fingerprint as
    its protocol's programs show it: 32 bytes for an offrec key, 20 for an OTR DSA key
    (:func:`format_otr_fingerprint` shows that one as Pidgin does).
    """

    fingerprint: bytes
    trust: Union[Trust, int]
    # Both follow from the key id, so they take no part in comparisons (``KnownKey(id, trust)``
    # still equals a listed key).
    kind: Union[KeyKind, int] = field(default=KeyKind.MODERN, compare=False)
    native_fingerprint: bytes = field(default=b"", compare=False)

    @property
    def key_id(self) -> bytes:
        """The same as :attr:`fingerprint`: the key's 32-byte id."""
        return self.fingerprint


@dataclass(frozen=True)
class Outgoing:
    """What :meth:`Client.send_inplace` hands back: the message id and the wire messages to
    send, in order, in place of the line the user typed (ASCII texts; there may be several
    fragments, or none when the message was held and a session is already being set up)."""

    message_id: int
    wire: List[str]


@dataclass(frozen=True, repr=False)
class Incoming:
    """What :meth:`Client.receive_inplace` says about a received line.

    ``ignore`` True: protocol traffic, show nothing (``text`` is None). Otherwise show
    ``text`` (a ``str``; bytes that are not UTF-8 are kept as surrogates, as for
    ``on_deliver``), which came from remote ``instance`` (0 for plaintext) with ``security``.
    The repr shows the text's length, not the text.
    """

    ignore: bool
    text: Optional[str]
    instance: int
    security: Union[Security, int]

    def __repr__(self) -> str:
        if self.ignore:
            return "Incoming(ignore=True)"
        security = self.security.name if isinstance(self.security, Security) else self.security
        length = len(self.text or "")
        return f"Incoming(text=<{length} chars>, instance=0x{self.instance:08x}, security={security})"


def _tlv_array(tlvs: Any) -> Tuple[Any, List[bytes]]:
    """(ctypes array of offrec_tlv, the value buffers it points into: keep them alive)."""
    items = list(tlvs.items()) if isinstance(tlvs, dict) else list(tlvs)
    keep: List[bytes] = []
    arr = (T.offrec_tlv * len(items))()
    for i, item in enumerate(items):
        kind, value = item
        data = _payload(value, "TLV value")
        if not isinstance(kind, int) or not 0 <= kind <= 0xFFFF:
            raise ValueError(f"a TLV type is a number from 0 to 0xFFFF, not {kind!r}")
        keep.append(data)
        arr[i].type = kind
        arr[i].data = ctypes.cast(ctypes.c_char_p(data), c_void_p) if data else None
        arr[i].len = len(data)
    return arr, keep


def _enum(cls: Any, v: int) -> Any:
    try:
        return cls(v)
    except ValueError:
        return v


# --- the client -----------------------------------------------------------------------------
class Client:
    """An offrec client: one local account (``account`` on network ``protocol``).

    Callbacks are given either as keyword arguments (plain callables) or by overriding the
    methods of the same name in a subclass; a keyword argument wins over a method:

    * ``on_send(peer, text)`` - required: put wire ``text`` on the transport to ``peer``.
    * ``on_deliver(peer, text, security, instance)`` - required: show a message. ``text`` is a
      ``str``; bytes that are not UTF-8 are kept as surrogates (``text.encode("utf-8",
      "surrogateescape")`` gives them back exactly).
    * ``on_state_changed(peer, state, instance)``, ``on_event(event)`` - optional.
    * ``max_message_size(peer) -> int`` - optional transport limit per peer (0 = none);
      when given, its answer is used for each call instead of :meth:`set_max_message_size`
      (it is never stored, so peers that only sent us something are still forgotten).
    * ``now() -> int`` - optional clock in seconds that keeps counting across restarts, such as
      wall-clock seconds (saved clients store times from it); default: the wall clock.
    * ``is_logged_in(peer) -> True | False | None`` - optional, libotr's callback of that name:
      whether ``peer`` is online. Asked by :meth:`tick` (for every known peer) and
      :meth:`end_session`; when it answers False, heartbeats and the message that ends a session
      are not sent to that peer (the session still ends here). None (unknown) and True send.

    An exception raised in a callback is re-raised by the method whose call triggered it.

    To restore a saved client, give ``sealed=`` (bytes from :meth:`save`) or ``store_dir=``
    (from :meth:`save_to_dir`) with ``key=`` or ``passphrase=`` and the expected ``account``
    (no protocol: it comes from the store), or use :meth:`load` / :meth:`load_from_dir`. A
    store of any other account raises :class:`~offrec.WrongAccountError`. Identity, trust, held
    messages and the record of sent messages come back; stored sessions are *restarted*, never
    resumed (a store cannot be proven current, and resuming a stale one would reuse message
    keys): they show ``SessionState.PLAINTEXT``, a message sent to the peer is held until a new
    handshake completes, and a message arriving on the old session is not delivered (the peer
    is told). The loaded client starts with nothing unsaved: save again on every
    ``EventCode.PERSIST_NEEDED`` event, or later (it is reported once until saved; STORAGE.md).

    Use it as a context manager or call :meth:`close`; a collected client is closed too.
    See the module docstring for the threading rules.
    """

    _handle: Optional[int] = None
    _handle_arg: Optional[c_void_p] = None  # _handle as send / receive pass it
    _key: int = 0

    def __init__(
        self,
        account: Optional[StrOrBytes] = None,
        protocol: Optional[StrOrBytes] = None,
        policy: int = Policy.MANUAL,
        *,
        identity_secret: Optional[bytes] = None,
        instance_tag: Optional[int] = None,
        sealed: Optional[bytes] = None,
        store_dir: Optional[PathLike] = None,
        key: Optional[bytes] = None,
        passphrase: Optional[StrOrBytes] = None,
        on_send: Optional[SendHandler] = None,
        on_deliver: Optional[DeliverHandler] = None,
        on_state_changed: Optional[StateHandler] = None,
        on_event: Optional[EventHandler] = None,
        max_message_size: Optional[SizeHandler] = None,
        now: Optional[NowHandler] = None,
        is_logged_in: Optional[LoggedInHandler] = None,
    ) -> None:
        self._tls = threading.local()
        self._last_now = 0
        given = {
            "on_send": on_send,
            "on_deliver": on_deliver,
            "on_state_changed": on_state_changed,
            "on_event": on_event,
            "max_message_size": max_message_size,
            "now": now,
            "is_logged_in": is_logged_in,
        }
        self._handlers: Dict[str, Any] = {}
        for name in _HANDLER_NAMES:
            fn = given[name]
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"{name} must be callable")
                self._handlers[name] = fn
            elif getattr(type(self), name) is not getattr(Client, name):
                self._handlers[name] = _METHOD
        for required in ("on_send", "on_deliver"):
            if required not in self._handlers:
                raise TypeError(f"{required} is required: pass {required}= or override it in a subclass")

        self._c_send = _raw_fn("offrec_client_send")
        self._c_receive = _raw_fn("offrec_client_receive")

        cbs = T.offrec_callbacks()
        cbs.send = _SEND
        cbs.deliver = _DELIVER
        if "on_state_changed" in self._handlers:
            cbs.state_changed = _STATE_CHANGED
        if "on_event" in self._handlers:
            cbs.event = _EVENT
        if "max_message_size" in self._handlers:
            cbs.max_message_size = _MAX_MESSAGE_SIZE
        if "now" in self._handlers:
            cbs.now = _NOW
        if "is_logged_in" in self._handlers:
            cbs.is_logged_in = _IS_LOGGED_IN

        key_ = next(_keys)
        _registry[key_] = weakref.ref(self)
        self._key = key_
        out = c_void_p()
        policy = int(policy)
        restoring = sealed is not None or store_dir is not None
        try:
            if restoring:
                if sealed is not None and store_dir is not None:
                    raise TypeError("give sealed= or store_dir=, not both")
                if account is None:
                    raise TypeError("account is required to restore: the store must belong to it")
                if protocol is not None or identity_secret is not None:
                    raise TypeError("a restored client takes its protocol and identity from the store")
                a = _name(account, "account")
                k, p, plen = _key_args(key, passphrase)
                if sealed is not None:
                    data = bytes(sealed)
                    self._raw_call(
                        "offrec_client_load", data, len(data), a, len(a), k, p, plen, policy,
                        byref(cbs), c_void_p(key_), byref(out),
                    )
                else:
                    d = os.fsencode(store_dir)  # type: ignore[arg-type]
                    self._raw_call(
                        "offrec_client_load_from_dir", d, len(d), a, len(a), k, p, plen, policy,
                        byref(cbs), c_void_p(key_), byref(out),
                    )
            else:
                if account is None or protocol is None:
                    raise TypeError("account and protocol are required (or sealed=/store_dir= to restore)")
                if key is not None or passphrase is not None:
                    raise TypeError("key=/passphrase= only apply with sealed= or store_dir=")
                a, pr = _name(account, "account"), _name(protocol, "protocol")
                if identity_secret is not None or instance_tag is not None:
                    if identity_secret is None or instance_tag is None:
                        raise TypeError("identity_secret and instance_tag go together")
                    secret = _fixed(identity_secret, KEY_LEN, "identity_secret")
                    self._raw_call(
                        "offrec_client_new_with_identity", a, len(a), pr, len(pr), policy,
                        secret, instance_tag, byref(cbs), c_void_p(key_), byref(out),
                    )
                else:
                    self._raw_call(
                        "offrec_client_new", a, len(a), pr, len(pr), policy,
                        byref(cbs), c_void_p(key_), byref(out),
                    )
        except BaseException:
            _registry.pop(key_, None)
            raise
        self._handle = out.value
        self._handle_arg = c_void_p(out.value)  # send / receive's argument (see _raw_fn)

    # -- restoring -------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        sealed: bytes,
        *,
        account: StrOrBytes,
        key: Optional[bytes] = None,
        passphrase: Optional[StrOrBytes] = None,
        policy: int = Policy.MANUAL,
        **kwargs: Any,
    ) -> "Client":
        """A client restored from :meth:`save`'s bytes. Stored sessions are restarted with a new
        handshake, never resumed (see the class docstring).

        ``account`` is the account the store must belong to (compared byte for byte); the
        ``policy`` given here applies (policies are not stored). Raises
        :class:`~offrec.WrongKeyError`, :class:`~offrec.WrongAccountError`,
        :class:`~offrec.CorruptedError`, ... ``kwargs`` are the callbacks, as for the
        constructor.
        """
        return cls(account, sealed=sealed, key=key, passphrase=passphrase, policy=policy, **kwargs)

    @classmethod
    def load_from_dir(
        cls,
        store_dir: PathLike,
        *,
        account: StrOrBytes,
        key: Optional[bytes] = None,
        passphrase: Optional[StrOrBytes] = None,
        policy: int = Policy.MANUAL,
        **kwargs: Any,
    ) -> "Client":
        """A client restored from :meth:`save_to_dir` (:class:`~offrec.StoreNotFoundError` if
        nothing was saved there, :class:`~offrec.StoreNotAFileError` if the store path is a
        symbolic link, FIFO or device). Never creates, changes or deletes anything."""
        return cls(account, store_dir=store_dir, key=key, passphrase=passphrase, policy=policy, **kwargs)

    # -- lifetime --------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (a closed client raises ``ClosedError`` when used)."""
        return self._handle is None

    def close(self) -> None:
        """Frees the client and wipes its keys. Idempotent."""
        handle = self._handle
        if handle is None:
            return
        if getattr(self._tls, "frames", None):
            raise RuntimeError("a client cannot be closed from inside one of its own callbacks")
        self._handle = None
        self._handle_arg = None
        _registry.pop(self._key, None)
        lib().offrec_client_free(handle)

    def __enter__(self) -> "Client":
        self._live()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            handle = self._handle
            if handle is not None:
                self._handle = None
                self._handle_arg = None
                _registry.pop(self._key, None)
                lib().offrec_client_free(handle)
        except Exception:  # noqa: BLE001 - interpreter shutdown; nothing useful to do
            pass

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else f"instance 0x{self.instance_tag:x}"
        return f"<{type(self).__name__} {state}>"

    # -- plumbing --------------------------------------------------------------------------
    def _live(self) -> int:
        h = self._handle
        if h is None:
            raise ClosedError("the client is closed")
        return h

    def _dispatch(self, name: str, *args: Any) -> Any:
        fn = self._handlers.get(name)
        if fn is None:
            return 0
        if fn is _METHOD:
            fn = getattr(self, name)
        return fn(*args)

    def _store_exception(self, exc: BaseException) -> None:
        frames: Optional[List[Optional[BaseException]]] = getattr(self._tls, "frames", None)
        if not frames:
            # A callback outside any call of ours (someone drove the C library directly).
            traceback.print_exception(type(exc), exc, exc.__traceback__)
            return
        first = frames[-1]
        if first is None:
            frames[-1] = exc
        elif hasattr(first, "add_note"):
            first.add_note(f"a later callback of the same call also raised {exc!r}")

    def _frames(self) -> List[Optional[BaseException]]:
        """This thread's stack of calls in progress on this client: one slot per call, None
        until a callback of that call raises (the first exception goes there)."""
        tls = self._tls
        try:
            return tls.frames  # type: ignore[no-any-return]
        except AttributeError:
            frames: List[Optional[BaseException]] = []
            tls.frames = frames
            return frames

    def _raw_call(self, fname: str, *args: Any) -> None:
        """Calls ``fname``, then re-raises a callback's exception or maps the result code."""
        self._invoke(getattr(lib(), fname), *args)

    def _invoke(self, fn: Any, *args: Any) -> None:
        """Calls the C function ``fn`` in a frame of its own (see :meth:`_store_exception`)."""
        frames = self._frames()
        frames.append(None)
        try:
            rc = fn(*args)
        finally:
            exc = frames.pop()
        if exc is not None:
            raise exc
        if rc:
            check(rc)

    def _call(self, fname: str, *args: Any) -> None:
        self._invoke(getattr(lib(), fname), self._live(), *args)

    # -- messaging -------------------------------------------------------------------------
    # send and receive run once per message: they take the peer from _PEER_ARGS, inline
    # _payload for str and call the C function they bound at creation (no getattr on the
    # library per call).
    def send(self, peer: StrOrBytes, text: StrOrBytes) -> int:
        """Sends ``text`` as the policy says (encrypted, held, or plain); returns the message id."""
        arg = _PEER_ARGS.get(peer) if type(peer) is str else None
        if arg is None:
            arg = _peer_arg(peer)
        p, pl = arg
        if type(text) is str:
            try:
                t = text.encode()
            except UnicodeEncodeError:
                t = text.encode("utf-8", "surrogateescape")
        else:
            t = _payload(text)
        h = self._handle_arg
        if h is None:
            raise ClosedError("the client is closed")
        tl = _SIZES.get(len(t))
        if tl is None:
            tl = _size(len(t))
        slot = _MIDS.pop() if _MIDS else _new_mid()
        try:
            frames = self._tls.frames
        except AttributeError:
            frames = self._frames()
        frames.append(None)  # _invoke, inlined
        try:
            rc = self._c_send(h, p, pl, t, tl, slot[1])
        finally:
            exc = frames.pop()
        if exc is not None:
            _MIDS.append(slot)
            raise exc
        if rc:
            _MIDS.append(slot)
            check(rc)
        mid = slot[0].value
        _MIDS.append(slot)
        return mid

    def send_to_instance(self, peer: StrOrBytes, instance: int, text: StrOrBytes) -> int:
        """Sends ``text`` encrypted to one remote instance; returns the message id.

        Naming the instance is consent to its key, exactly as :meth:`accept_key` (messages
        held for ``peer`` are sent to it first).
        """
        p, t = _name(peer, "peer"), _payload(text)
        mid = c_uint64(0)
        self._call("offrec_client_send_to_instance", p, len(p), instance, t, len(t), byref(mid))
        return mid.value

    def send_tlvs(
        self, peer: StrOrBytes, text: StrOrBytes, tlvs: Any
    ) -> int:
        """Sends ``text`` (may be empty) with application TLVs over the encrypted session a
        plain :meth:`send` would use; returns the message id.

        ``tlvs`` is a sequence of ``(type, value)`` pairs (or a dict ``{type: value}``): types
        from :data:`~offrec.TLV_APP_FIRST` (0x8000) to 0xFFFF, at most
        :data:`~offrec.MAX_TLVS` of them and :data:`~offrec.MAX_TLV_BYTES` of values. The peer
        gets an ``EventCode.TLV_RECEIVED`` event per TLV (``tlv_type``, ``tlv_value``), in
        order, then ``on_deliver`` for a non-empty text. Works in offrec's protocol and OTR v3
        (a libotr peer finds them with ``otrl_tlv_find``). Nothing is held or sent in the
        clear: without such a session it raises :class:`~offrec.NoSessionError`. Raises
        :class:`~offrec.TlvTypeReservedError` (a type below 0x8000),
        :class:`~offrec.TooManyTlvsError`, :class:`~offrec.MessageTooLargeError`,
        :class:`~offrec.TlvsUnsupportedError` (an OTR v2 session), ``InvalidArgumentError``
        (no text and no TLV); nothing is sent then.
        """
        p, t = _name(peer, "peer"), _payload(text)
        arr, keep = _tlv_array(tlvs)
        mid = c_uint64(0)
        self._call("offrec_client_send_tlvs", p, len(p), t, len(t), arr, len(arr), byref(mid))
        del keep
        return mid.value

    def send_inplace(self, peer: StrOrBytes, text: StrOrBytes) -> Outgoing:
        """Sends ``text`` as :meth:`send` does, but hands the wire messages back instead of
        calling ``on_send``: the in-place style of Pidgin's sending hook, irssi signals and
        weechat modifiers. Send ``Outgoing.wire`` in order in place of the user's line.

        Events still reach ``on_event`` and state changes ``on_state_changed``, during the
        call; wire messages of calls made from inside those callbacks go through ``on_send``.
        """
        p, t = _name(peer, "peer"), _payload(text)
        wire = T.offrec_wire_messages()
        mid = c_uint64(0)
        self._call("offrec_client_send_inplace", p, len(p), t, len(t), byref(wire), byref(mid))
        try:
            texts = [
                string_at(wire.messages[i].data, wire.messages[i].len).decode("ascii", "replace")
                for i in range(wire.count)
            ]
        finally:
            lib().offrec_wire_messages_free(byref(wire))
        return Outgoing(mid.value, texts)

    def receive_inplace(self, peer: StrOrBytes, wire: StrOrBytes) -> Incoming:
        """Handles a received line as :meth:`receive` does, but returns what to show instead
        of calling ``on_deliver``: ``Incoming.ignore`` for protocol traffic (hide the line),
        else the text to show in its place (the in-place style of Pidgin's receiving hook).

        Protocol replies (handshake messages, heartbeats, SMP steps) still go out through
        ``on_send``, events through ``on_event``, during the call.
        """
        p, w = _name(peer, "peer"), _payload(wire, "wire")
        raw = T.offrec_incoming()
        self._call("offrec_client_receive_inplace", p, len(p), w, len(w), byref(raw))
        try:
            if raw.ignore:
                return Incoming(True, None, 0, Security.PLAINTEXT)
            text = _text(raw.text.data, raw.text.len).decode("utf-8", "surrogateescape")
            return Incoming(False, text, raw.instance, _enum(Security, raw.security))
        finally:
            lib().offrec_buffer_free(byref(raw.text))

    def accept_key(self, peer: StrOrBytes, instance: int) -> None:
        """Lets plain :meth:`send` use the session with ``instance`` although its key is not
        verified while an earlier key of ``peer`` is (after KEY_CONSENT_REQUIRED).

        The session becomes the one plain sends use and held messages are sent to it now. The
        key stays unverified (verify with :meth:`set_trust` or SMP). The consent lives in
        memory only: it is not saved. Raises :class:`NoSessionError` if there is no such
        session, :class:`SessionFinishedError` if it is finished, ``InvalidArgumentError`` for 0.
        """
        p = _name(peer, "peer")
        self._call("offrec_client_accept_key", p, len(p), instance)

    def receive(self, peer: StrOrBytes, text: StrOrBytes) -> None:
        """Handles one wire message from ``peer``; results arrive through the callbacks."""
        arg = _PEER_ARGS.get(peer) if type(peer) is str else None
        if arg is None:
            arg = _peer_arg(peer)
        p, pl = arg
        if type(text) is str:
            try:
                t = text.encode()
            except UnicodeEncodeError:
                t = text.encode("utf-8", "surrogateescape")
        else:
            t = _payload(text)
        h = self._handle_arg
        if h is None:
            raise ClosedError("the client is closed")
        tl = _SIZES.get(len(t))
        if tl is None:
            tl = _size(len(t))
        try:
            frames = self._tls.frames
        except AttributeError:
            frames = self._frames()
        frames.append(None)  # _invoke, inlined
        try:
            rc = self._c_receive(h, p, pl, t, tl)
        finally:
            exc = frames.pop()
        if exc is not None:
            raise exc
        if rc:
            check(rc)

    def start_session(self, peer: StrOrBytes) -> None:
        """Asks ``peer`` for an encrypted session (refreshes one that is up)."""
        p = _name(peer, "peer")
        self._call("offrec_client_start_session", p, len(p))

    def end_session(self, peer: StrOrBytes, instance: int = 0) -> None:
        """Ends the session with ``instance`` of ``peer`` (0: all of them)."""
        p = _name(peer, "peer")
        self._call("offrec_client_end_session", p, len(p), instance)

    def tick(self) -> None:
        """Drives time (heartbeats, expiry, timeouts); call it every few seconds."""
        self._call("offrec_client_tick")

    # -- configuration ---------------------------------------------------------------------
    def set_policy(self, policy: int) -> None:
        """Replaces the client's policy (:class:`~offrec.Policy` flags or a preset)."""
        self._call("offrec_client_set_policy", int(policy))

    def set_option(self, option: Option, value: int) -> None:
        """Sets one tunable (:class:`~offrec.Option`; times in seconds of the ``now`` clock).
        A value out of the documented range raises ``InvalidArgumentError``."""
        self._call("offrec_client_set_option", int(option), value)

    def set_max_message_size(self, peer: StrOrBytes, size: int) -> None:
        """Transport limit for ``peer`` (0 = client-wide option; else at least 64)."""
        p = _name(peer, "peer")
        self._call("offrec_client_set_max_message_size", p, len(p), size)

    # -- sessions --------------------------------------------------------------------------
    def session_state(self, peer: StrOrBytes) -> SessionState:
        """State of the session a plain :meth:`send` to ``peer`` would use."""
        p = _name(peer, "peer")
        out = c_uint32(0)
        self._call("offrec_client_session_state", p, len(p), byref(out))
        return _enum(SessionState, out.value)  # type: ignore[no-any-return]

    def session_count(self, peer: StrOrBytes) -> int:
        """How many sessions (one per remote instance) exist with ``peer``."""
        p = _name(peer, "peer")
        out = c_size_t(0)
        self._call("offrec_client_session_count", p, len(p), byref(out))
        return out.value

    def session_info(self, peer: StrOrBytes, index: int) -> SessionInfo:
        """Session number ``index`` with ``peer``, ordered by instance tag
        (``InvalidArgumentError`` past the last one; :meth:`sessions` gives them all)."""
        p = _name(peer, "peer")
        info = T.offrec_session_info()
        self._call("offrec_client_session_info", p, len(p), index, byref(info))
        return SessionInfo(
            instance=info.instance,
            state=_enum(SessionState, info.state),
            their_fingerprint=Fingerprint(bytes(info.their_fingerprint)),
            ssid=bytes(info.ssid),
            we_initiated=bool(info.we_initiated),
            smp_in_progress=bool(info.smp_in_progress),
        )

    def sessions(self, peer: StrOrBytes) -> List[SessionInfo]:
        """Every session with ``peer``, ordered by instance tag."""
        out = []
        for i in range(self.session_count(peer)):
            try:
                out.append(self.session_info(peer, i))
            except Exception:  # noqa: BLE001 - another thread ended one meanwhile
                break
        return out

    def session_protocol(self, peer: StrOrBytes, index: int) -> SessionProtocol:
        """The protocol of session number ``index`` with ``peer`` (the numbering of
        :meth:`session_info`; :class:`~offrec.InvalidArgumentError` past the last one).

        For an OTR session, ``otr`` carries the peer's DSA fingerprint and the secure session
        id as OTR clients show them; ``strength`` is :attr:`Strength.LEGACY`.
        """
        p = _name(peer, "peer")
        raw = T.offrec_session_protocol()
        self._call("offrec_client_session_protocol", p, len(p), index, byref(raw))
        otr = None
        if raw.has_otr_fingerprint:
            otr = OtrSession(
                their_fingerprint=Fingerprint(bytes(raw.their_otr_fingerprint)),
                ssid=bytes(raw.otr_ssid),
                first_half_bold=bool(raw.otr_ssid_first_half_bold),
            )
        return SessionProtocol(
            instance=raw.instance,
            protocol=_enum(Protocol, raw.protocol),
            strength=_enum(Strength, raw.strength),
            otr=otr,
        )

    def session_protocols(self, peer: StrOrBytes) -> List[SessionProtocol]:
        """:meth:`session_protocol` of every session with ``peer``, in :meth:`sessions` order."""
        out = []
        for i in range(self.session_count(peer)):
            try:
                out.append(self.session_protocol(peer, i))
            except Exception:  # noqa: BLE001 - another thread ended one meanwhile
                break
        return out

    # -- identity --------------------------------------------------------------------------
    @property
    def fingerprint(self) -> bytes:
        """Our own fingerprint (a 32-byte :class:`~offrec.Fingerprint`; ``str()`` formats it)."""
        buf = (c_uint8 * FINGERPRINT_LEN)()
        self._call("offrec_client_fingerprint", buf)
        return Fingerprint(bytes(buf))

    @property
    def account(self) -> str:
        """Our account name (as created, or as restored from the store)."""
        buf = ctypes.create_string_buffer(1025)
        n = c_size_t(0)
        self._call("offrec_client_account", buf, len(buf), byref(n))
        return buf.raw[: max(n.value - 1, 0)].decode("utf-8")

    @property
    def instance_tag(self) -> int:
        """Our instance tag (which of our devices or logins a message is for)."""
        out = c_uint32(0)
        self._call("offrec_client_instance_tag", byref(out))
        return out.value

    def identity_secret(self) -> bytes:
        """Our identity key's secret (32 bytes): whoever has it can impersonate us."""
        buf = (c_uint8 * KEY_LEN)()
        try:
            self._call("offrec_client_identity_secret", buf)
            return bytes(buf)
        finally:
            _wipe(buf)

    def generate_otr_key(self) -> bytes:
        """Makes our OTR DSA-1024 key now if there is none; returns its 20-byte fingerprint.

        Slow (0.1-0.3 s): call it at a moment of your choosing (account creation), off the UI
        thread, as libotr's ``otrl_privkey_generate``. Without it the key is made inside the
        call that first needs it (the first OTR handshake). Calling it again returns the same
        fingerprint. Save the client afterwards (a PERSIST_NEEDED event says so).
        """
        buf = (c_uint8 * OTR_FINGERPRINT_LEN)()
        self._call("offrec_client_generate_otr_key", buf)
        return Fingerprint(bytes(buf))

    def otr_fingerprint(self) -> Optional[bytes]:
        """Our OTR DSA key's fingerprint (20 bytes; :func:`format_otr_fingerprint` shows it),
        or None while we have no OTR key (see :meth:`generate_otr_key`)."""
        buf = (c_uint8 * OTR_FINGERPRINT_LEN)()
        try:
            self._call("offrec_client_otr_fingerprint", buf)
        except NoOtrKeyError:
            return None
        return Fingerprint(bytes(buf))

    def extra_symmetric_key(
        self, peer: StrOrBytes, usage: int, context: bytes = b"", instance: int = 0
    ) -> bytes:
        """Derives a 32-byte key shared with ``peer`` (who gets an EXTRA_KEY_RECEIVED event)."""
        p, ctx = _name(peer, "peer"), bytes(context)
        buf = (c_uint8 * KEY_LEN)()
        try:
            self._call(
                "offrec_client_extra_symmetric_key", p, len(p), instance, usage,
                ctx or None, len(ctx), buf,
            )
            return bytes(buf)
        finally:
            _wipe(buf)

    # -- SMP -------------------------------------------------------------------------------
    def smp_start(
        self,
        peer: StrOrBytes,
        secret: StrOrBytes,
        question: Optional[str] = None,
        instance: int = 0,
    ) -> None:
        """Starts the Socialist Millionaires' Protocol with ``secret``, optionally asking ``question``.

        Raises ``MessageTooLargeError`` for a secret or question over its limit
        (``MAX_SMP_SECRET_LEN``, ``MAX_SMP_QUESTION_LEN``), ``InvalidArgumentError`` for a
        question with a NUL on an OTR session (OTR's question ends at its first NUL).
        """
        p, s = _name(peer, "peer"), _payload(secret, "secret")
        q = _name(question, "question") if question is not None else None
        self._call(
            "offrec_client_smp_start", p, len(p), instance, s, len(s), q, len(q) if q else 0
        )

    def smp_respond(self, peer: StrOrBytes, secret: StrOrBytes, instance: int = 0) -> None:
        """Answers the peer's SMP request (after SMP_ASKED_FOR_SECRET).

        If the peer asked a question and we answer correctly we get SMP_VERIFIED_BY_PEER, not
        SMP_SUCCEEDED: the peer trusts us now, but our trust in the peer is unchanged.
        """
        p, s = _name(peer, "peer"), _payload(secret, "secret")
        self._call("offrec_client_smp_respond", p, len(p), instance, s, len(s))

    def smp_abort(self, peer: StrOrBytes, instance: int = 0) -> None:
        """Aborts any SMP run with ``peer`` (and tells the peer)."""
        p = _name(peer, "peer")
        self._call("offrec_client_smp_abort", p, len(p), instance)

    # -- trust -----------------------------------------------------------------------------
    def set_trust(self, peer: StrOrBytes, fingerprint: bytes, trust: Trust) -> None:
        """Sets (or revokes, with ``Trust.UNVERIFIED``) the trust in a key of ``peer``."""
        p = _name(peer, "peer")
        fp = _fixed(fingerprint, FINGERPRINT_LEN, "fingerprint")
        self._call("offrec_client_set_trust", p, len(p), fp, int(trust))

    def trust(self, peer: StrOrBytes, fingerprint: bytes) -> Trust:
        """How far a key of ``peer`` is trusted (``Trust.UNVERIFIED`` for an unknown key)."""
        p = _name(peer, "peer")
        fp = _fixed(fingerprint, FINGERPRINT_LEN, "fingerprint")
        out = c_uint32(0)
        self._call("offrec_client_trust", p, len(p), fp, byref(out))
        return _enum(Trust, out.value)  # type: ignore[no-any-return]

    def known_keys(self, peer: StrOrBytes) -> List[KnownKey]:
        """The keys known for ``peer`` (least recently used first), with trust and kind."""
        p = _name(peer, "peer")
        n = c_size_t(0)
        self._call("offrec_client_known_key_count", p, len(p), byref(n))
        keys = []
        for i in range(n.value):
            raw = T.offrec_known_key()
            try:
                self._call("offrec_client_known_key_info", p, len(p), i, byref(raw))
            except InvalidArgumentError:  # another thread forgot one meanwhile
                break
            keys.append(
                KnownKey(
                    fingerprint=Fingerprint(bytes(raw.key_id)),
                    trust=_enum(Trust, raw.trust),
                    kind=_enum(KeyKind, raw.kind),
                    native_fingerprint=bytes(raw.fingerprint)[: raw.fingerprint_len],
                )
            )
        return keys

    # -- moving from libotr / potr (MIGRATING.md) -------------------------------------------
    def import_otr_key(
        self,
        path: PathLike,
        *,
        format: OtrFileFormat = OtrFileFormat.LIBOTR,
        account: Optional[StrOrBytes] = None,
        protocol: Optional[StrOrBytes] = None,
        replace: bool = False,
    ) -> bytes:
        """Imports our OTR DSA key from a libotr key file (Pidgin's ``otr.private_key``,
        irssi-otr's ``otr.key``) or a potr ``.key3`` file; returns its 20-byte fingerprint
        (show it with :func:`format_otr_fingerprint` and compare with what Pidgin showed).

        A libotr file holds several accounts: the one taken is ``account`` on ``protocol`` as
        the file writes them (irssi-otr: ``"nick@irc.libera.chat"``, ``"IRC"``); by default the
        client's own account and network, compared as the handshake compares names. If the
        client already has another OTR key, ``replace=True`` is needed
        (:class:`ImportKeyExistsError` otherwise). All or nothing: on any error the client is
        unchanged. Save the client afterwards.
        """
        p = os.fsencode(path)
        a, alen = _optional_name(account, "account")
        pr, prlen = _optional_name(protocol, "protocol")
        buf = (c_uint8 * OTR_FINGERPRINT_LEN)()
        self._call(
            "offrec_client_import_otr_key", p, len(p), int(format), a, alen, pr, prlen, bool(replace), buf
        )
        return bytes(buf)

    def import_otr_fingerprints(
        self,
        path: PathLike,
        *,
        format: OtrFileFormat = OtrFileFormat.LIBOTR,
        account: Optional[StrOrBytes] = None,
        protocol: Optional[StrOrBytes] = None,
    ) -> int:
        """Imports the trust of a libotr ``otr.fingerprints`` or potr ``.fpr`` file for
        ``account`` on ``protocol`` (default: the client's own); returns how many of the
        account's keys are now in the trust store.

        Trust strings map as libotr means them: empty is ``Trust.UNVERIFIED``, ``smp`` is
        ``Trust.VERIFIED_SMP``, anything else ``Trust.VERIFIED_MANUAL``. Trust is only raised.
        All or nothing. Save the client afterwards.
        """
        p = os.fsencode(path)
        a, alen = _optional_name(account, "account")
        pr, prlen = _optional_name(protocol, "protocol")
        n = c_size_t(0)
        self._call(
            "offrec_client_import_otr_fingerprints", p, len(p), int(format), a, alen, pr, prlen, byref(n)
        )
        return n.value

    def import_otr_instance_tag(
        self,
        path: PathLike,
        *,
        account: Optional[StrOrBytes] = None,
        protocol: Optional[StrOrBytes] = None,
    ) -> int:
        """Imports our instance tag from a libotr ``otr.instance_tags`` file and returns it.

        Only when offrec replaces that libotr client *on the same device*, and only into a
        client without conversations (:class:`ImportInUseError` otherwise): never copy a tag to
        another device.
        """
        p = os.fsencode(path)
        a, alen = _optional_name(account, "account")
        pr, prlen = _optional_name(protocol, "protocol")
        tag = c_uint32(0)
        self._call("offrec_client_import_otr_instance_tag", p, len(p), a, alen, pr, prlen, byref(tag))
        return tag.value

    def export_otr_key(
        self,
        path: PathLike,
        *,
        format: OtrFileFormat = OtrFileFormat.LIBOTR,
        account: Optional[StrOrBytes] = None,
        protocol: Optional[StrOrBytes] = None,
    ) -> None:
        """Writes our OTR DSA key to ``path`` (mode 0600, replaced atomically) as a libotr key
        file that ``otrl_privkey_read`` loads, or a potr ``.key3`` file.

        Into an existing libotr key file, other accounts' keys are kept. ``account`` and
        ``protocol`` name the entry as the other program expects (default: the client's
        account, and Pidgin's ``prpl-jabber`` / ``prpl-<network>``). Raises
        :class:`NoOtrKeyError` if the client has no OTR key.
        """
        p = os.fsencode(path)
        a, alen = _optional_name(account, "account")
        pr, prlen = _optional_name(protocol, "protocol")
        self._call("offrec_client_export_otr_key", p, len(p), int(format), a, alen, pr, prlen)

    def export_otr_fingerprints(
        self,
        path: PathLike,
        *,
        format: OtrFileFormat = OtrFileFormat.LIBOTR,
        account: Optional[StrOrBytes] = None,
        protocol: Optional[StrOrBytes] = None,
    ) -> int:
        """Writes the OTR keys of the trust store to ``path`` as a libotr ``otr.fingerprints``
        or potr ``.fpr`` file (trust ``smp``, ``verified`` or empty); returns the lines written.

        Into an existing file, other accounts' lines are kept. offrec's own keys are left out.
        """
        p = os.fsencode(path)
        a, alen = _optional_name(account, "account")
        pr, prlen = _optional_name(protocol, "protocol")
        n = c_size_t(0)
        self._call(
            "offrec_client_export_otr_fingerprints", p, len(p), int(format), a, alen, pr, prlen, byref(n)
        )
        return n.value

    def forget_key(self, peer: StrOrBytes, key_id: bytes) -> None:
        """Forgets one of ``peer``'s keys and the trust in it (libotr's
        ``otrl_context_forget_fingerprint``): a later session with it reports a new key.

        Raises :class:`~offrec.KeyInUseError` while an encrypted session uses the key (end it
        first) and :class:`~offrec.UnknownKeyError` if the peer has no such key; nothing
        changes then. A PERSIST_NEEDED event asks for a save.
        """
        p = _name(peer, "peer")
        kid = _fixed(key_id, FINGERPRINT_LEN, "key id")
        self._call("offrec_client_forget_key", p, len(p), kid)

    def forget_peer(self, peer: StrOrBytes) -> None:
        """Forgets everything about ``peer`` (libotr's ``otrl_context_forget``): keys and trust,
        finished or stored sessions, its own policy; messages held for it fail
        (MESSAGE_NOT_SENT, SESSION_ENDED).

        Raises :class:`~offrec.SessionActiveError` while an encrypted session with it is live
        (end it first) and :class:`~offrec.UnknownPeerError` if nothing is known about it.
        """
        p = _name(peer, "peer")
        self._call("offrec_client_forget_peer", p, len(p))

    def peers(self) -> List[str]:
        """Every peer the client knows, sorted: peers with known keys, with sessions or held
        messages or that we addressed, or with a policy of their own (not strangers that only
        sent us something)."""
        n = c_size_t(0)
        self._call("offrec_client_peer_count", byref(n))
        names = []
        buf = ctypes.create_string_buffer(1025)
        for i in range(n.value):
            length = c_size_t(0)
            try:
                self._call("offrec_client_peer", i, buf, len(buf), byref(length))
            except InvalidArgumentError:  # another thread forgot one meanwhile
                break
            names.append(buf.raw[: max(length.value - 1, 0)].decode("utf-8", "replace"))
        return names

    # -- per-peer policy -------------------------------------------------------------------
    def set_peer_policy(self, peer: StrOrBytes, policy: int) -> None:
        """Gives ``peer`` a policy of its own, replacing the client's for that peer as a whole
        (libotr asks a policy per conversation). Stored with the client; live sessions stay.
        """
        p = _name(peer, "peer")
        self._call("offrec_client_set_peer_policy", p, len(p), int(policy))

    def clear_peer_policy(self, peer: StrOrBytes) -> None:
        """Removes ``peer``'s own policy: the client's applies again (no error if none)."""
        p = _name(peer, "peer")
        self._call("offrec_client_clear_peer_policy", p, len(p))

    def _peer_policy(self, peer: StrOrBytes) -> Tuple[Policy, bool]:
        p = _name(peer, "peer")
        out = c_uint32(0)
        own = ctypes.c_bool(False)
        self._call("offrec_client_peer_policy", p, len(p), byref(out), byref(own))
        return Policy(out.value), bool(own.value)

    def peer_policy(self, peer: StrOrBytes) -> Optional[Policy]:
        """``peer``'s own policy, or None when the client's applies to it."""
        policy, own = self._peer_policy(peer)
        return policy if own else None

    def effective_policy(self, peer: StrOrBytes) -> Policy:
        """The policy that applies to ``peer``: its own, else the client's."""
        return self._peer_policy(peer)[0]

    # -- texts -----------------------------------------------------------------------------
    def set_text(self, which: Text, text: Optional[str]) -> None:
        """Sets a text we send (:class:`Text`: the query's sentence, the OTR error texts) in
        the user's language; None restores the default. Texts are settings, not stored.

        Raises :class:`~offrec.InvalidTextError` for control characters (other than a line
        feed) or protocol markers (``?OTR``, ``?OFR``), :class:`~offrec.MessageTooLargeError`
        past 1024 bytes; nothing changes then.
        """
        raw = None if text is None else _payload(text, "text")
        self._call("offrec_client_set_text", int(which), raw, 0 if raw is None else len(raw))

    def text(self, which: Text) -> str:
        """The text currently sent for ``which``."""
        buf = ctypes.create_string_buffer(1025)
        n = c_size_t(0)
        self._call("offrec_client_text", int(which), buf, len(buf), byref(n))
        return buf.raw[: max(n.value - 1, 0)].decode("utf-8")

    # -- persistence -----------------------------------------------------------------------
    def save(self, *, key: Optional[bytes] = None, passphrase: Optional[StrOrBytes] = None) -> bytes:
        """The client's whole state, sealed with a 32-byte ``key`` or a ``passphrase``.

        Once sealed, the client counts it as saved: its next change is reported by a
        PERSIST_NEEDED event again (a failed save leaves the notice pending). If keeping the
        bytes fails, save again.
        """
        k, p, plen = _key_args(key, passphrase)
        buf = T.offrec_buffer()
        self._call("offrec_client_save", k, p, plen, byref(buf))
        try:
            return string_at(buf.data, buf.len) if buf.data else b""
        finally:
            lib().offrec_buffer_free(byref(buf))

    def save_to_dir(
        self,
        store_dir: PathLike,
        *,
        key: Optional[bytes] = None,
        passphrase: Optional[StrOrBytes] = None,
    ) -> None:
        """Saves into ``store_dir`` (created 0700), atomically replacing the previous save.

        Once written, the client counts it as saved, as with :meth:`save`; a failed save
        (raising :class:`~offrec.StoreError`) leaves the PERSIST_NEEDED notice pending.
        """
        k, p, plen = _key_args(key, passphrase)
        d = os.fsencode(store_dir)
        self._call("offrec_client_save_to_dir", d, len(d), k, p, plen)

    # -- callbacks to override -------------------------------------------------------------
    def on_send(self, peer: str, text: str) -> None:
        """Required: send wire ``text`` to ``peer`` over the transport, in order."""
        raise NotImplementedError

    def on_deliver(self, peer: str, text: str, security: Security, instance: int) -> None:
        """Required: show a message from ``peer``."""
        raise NotImplementedError

    def on_state_changed(self, peer: str, state: SessionState, instance: int) -> None:
        """Optional: the session with ``peer``'s ``instance`` is now in ``state``."""

    def on_event(self, event: Event) -> None:
        """Optional: something happened."""

    def max_message_size(self, peer: str) -> int:
        """Optional: the largest wire message the transport carries to ``peer`` (0 = no limit)."""
        return 0

    def now(self) -> int:
        """Optional: the current time in seconds, never going backwards."""
        return int(time.time())

    def is_logged_in(self, peer: str) -> Optional[bool]:
        """Optional: whether ``peer`` is online (True, False, or None for unknown). When False,
        heartbeats and session ends are not sent to it."""
        return None
