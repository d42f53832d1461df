"""The one place that loads liboffrec and declares every function's argtypes/restype.

Search order (the first that exists is loaded):

1. ``$OFFREC_LIB``, when set: a path to the shared library.
2. The library bundled inside this package: ``offrec/_native/lib_native.so``, where maturin's
   "cffi" bindings put the crate's cdylib (pyproject.toml). The cffi glue beside it
   (``offrec/_native/__init__.py``) is never imported: this module loads the file with ctypes.
3. The system's ``liboffrec.so.<ABI>`` (``make install``), through the dynamic loader's search.

Why the override comes *before* the bundled copy (the style guide lists the package first):
an environment variable is an explicit, per-process decision, while the bundled copy is
whatever happened to be built at install time. If the bundled copy won, ``OFFREC_LIB`` would
only be a fallback and could never do its job, which is pointing an installed package at a
freshly built or debug/sanitizer library (``make python-tests`` does exactly that). A set but
unloadable ``OFFREC_LIB`` is an error, never silently skipped, so a typo cannot make the
tests run against a stale library. Anyone able to set the variable could equally set
``LD_PRELOAD``, so honouring it first gives nothing away.

The library is loaded lazily, on first use, so ``import offrec`` works (enums, exceptions)
even where the library is missing, and the error says what was tried.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from pathlib import Path
from typing import Any, Optional

from ._types import PROTOTYPES

ABI_VERSION = 0
LIB_ENV = "OFFREC_LIB"


def _bundled_filename() -> str:
    """The name maturin gives the cdylib of the extension module ``offrec._native``."""
    if sys.platform == "darwin":
        return "lib_native.dylib"
    if sys.platform == "win32":
        return "_native.dll"
    return "lib_native.so"


def _system_name() -> str:
    if sys.platform == "darwin":
        return "liboffrec.dylib"
    if sys.platform == "win32":
        return "offrec.dll"
    return f"liboffrec.so.{ABI_VERSION}"


BUNDLED_PATH = Path(__file__).resolve().parent / "_native" / _bundled_filename()
SYSTEM_NAME = _system_name()


class LibraryNotFoundError(ImportError):
    """liboffrec could not be loaded; the message names every place that was tried."""


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_loaded_from: Optional[str] = None


def _declare(lib: ctypes.CDLL, origin: str) -> None:
    for name, (restype, argtypes, optional) in PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            if optional:
                continue
            raise LibraryNotFoundError(
                f"{origin} has no symbol {name}: it is not a liboffrec this binding supports "
                f"(binding expects ABI {ABI_VERSION})"
            ) from None
        fn.restype = restype
        fn.argtypes = argtypes


def _load() -> ctypes.CDLL:
    tried: list[str] = []
    env = os.environ.get(LIB_ENV)
    if env:
        try:
            lib = ctypes.CDLL(env)
        except OSError as e:
            raise LibraryNotFoundError(
                f"could not load liboffrec from {LIB_ENV}={env!r}: {e} "
                f"(unset {LIB_ENV} to use the bundled or system library)"
            ) from e
        _declare(lib, f"{LIB_ENV}={env}")
        return _remember(lib, env)
    tried.append(f"{LIB_ENV}: not set")

    if BUNDLED_PATH.exists():
        try:
            lib = ctypes.CDLL(str(BUNDLED_PATH))
        except OSError as e:
            tried.append(f"{BUNDLED_PATH}: {e}")
        else:
            _declare(lib, str(BUNDLED_PATH))
            return _remember(lib, str(BUNDLED_PATH))
    else:
        tried.append(
            f"{BUNDLED_PATH}: not present (the package is used from its source directory, "
            "not installed from a wheel or with pip)"
        )

    try:
        lib = ctypes.CDLL(SYSTEM_NAME)
    except OSError as e:
        tried.append(f"{SYSTEM_NAME} (system search path): {e}")
    else:
        _declare(lib, SYSTEM_NAME)
        return _remember(lib, SYSTEM_NAME)

    raise LibraryNotFoundError(
        "could not load liboffrec. Tried:\n  - "
        + "\n  - ".join(tried)
        + f"\nSet {LIB_ENV} to the path of liboffrec.so (built with `cargo build --release` as "
        "target/release/liboffrec.so), or install the package (pip install ./bindings/python)."
    )


def _remember(lib: ctypes.CDLL, origin: str) -> ctypes.CDLL:
    global _lib, _loaded_from
    _lib = lib
    _loaded_from = origin
    return lib


def lib() -> Any:
    """The loaded library (typed ``Any``: its attributes are the C functions)."""
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        return _load()


def loaded_from() -> Optional[str]:
    """Where the library was loaded from, or None before the first use."""
    return _loaded_from
