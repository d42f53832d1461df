"""The :class:`Fingerprint` type: key ids and OTR fingerprints that show themselves readably."""

from __future__ import annotations

_OTR_KEY_ID_PREFIX = b"otr-dsa-sha1"


def _groups(data: bytes) -> str:
    return " ".join(data[i : i + 4].hex().upper() for i in range(0, len(data), 4))


class Fingerprint(bytes):
    """A fingerprint: ``bytes`` (equal to and usable as the raw bytes) that prints as users
    compare it.

    A 32-byte key id shows as eight groups of eight upper-case hex digits; one that names an
    OTR DSA key (``b"otr-dsa-sha1"`` and its SHA-1) and a 20-byte OTR fingerprint show as
    libotr and Pidgin do, five groups of eight. ``str(fp)`` and :attr:`text` give that text
    (the same as :func:`~offrec.format_fingerprint`), ``repr(fp)`` wraps it:
    ``Fingerprint('CB5EFC9C 5C6C88A7 ...')``. Fingerprints are public: nothing secret is in it.
    """

    __slots__ = ()

    @property
    def text(self) -> str:
        """The fingerprint as users compare it (see the class docstring)."""
        dsa = self.otr_dsa
        return _groups(dsa if dsa is not None else bytes(self))

    @property
    def otr_dsa(self) -> "bytes | None":
        """The 20-byte DSA fingerprint this names (an OTR key id, or an OTR fingerprint itself),
        or None for a key of offrec's own protocol."""
        raw = bytes(self)
        if len(raw) == 20:
            return raw
        if len(raw) == 32 and raw.startswith(_OTR_KEY_ID_PREFIX):
            return raw[len(_OTR_KEY_ID_PREFIX) :]
        return None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Fingerprint({self.text!r})"
