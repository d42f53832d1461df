"""Forging captured messages: what makes offrec transcripts deniable.

Anyone who captured a data message and a later message of the receiver (which reveals the
old MAC key) can rewrite the captured message to say something else of the same length, with
a tag that still verifies. No secret is needed, so a transcript proves nothing.
"""

from __future__ import annotations

from ctypes import byref, c_char_p, c_size_t, string_at
from typing import Sequence, Union

from . import _types as T
from ._ffi import lib
from .errors import check

MAX_FORGE_LATER = 1024


def _b(value: Union[str, bytes], what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def forge(
    captured: Union[str, bytes],
    later: Sequence[Union[str, bytes]],
    known_text: Union[str, bytes],
    new_text: Union[str, bytes],
) -> str:
    """Rewrites the captured wire message ``captured`` so it carries ``new_text`` instead of
    ``known_text``, using key material revealed in one of the receiver's ``later`` wire
    messages. Returns the forged wire text.

    Raises :class:`~offrec.NotADataMessageError`, :class:`~offrec.NoMatchingRevealError` or
    :class:`~offrec.TextDoesNotFitError`.
    """
    cap = _b(captured, "captured")
    items = [_b(x, "later message") for x in later]
    kt, nt = _b(known_text, "known_text"), _b(new_text, "new_text")
    n = len(items)
    arr = (c_char_p * n)(*items) if n else None
    lens = (c_size_t * n)(*[len(x) for x in items]) if n else None
    out = T.offrec_buffer()
    check(lib().offrec_forge(cap, len(cap), arr, lens, n, kt, len(kt), nt, len(nt), byref(out)))
    try:
        return string_at(out.data, out.len).decode("ascii") if out.data else ""
    finally:
        lib().offrec_buffer_free(byref(out))
