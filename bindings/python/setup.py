"""Build hook: bundle liboffrec into the package.

``pip install ./bindings/python`` builds in the source tree (pip >= 21.3), so the Rust crate is
at ``../..``. The ``build_py`` step runs ``cargo build --release --lib`` there and copies the
shared library into the package as ``offrec/liboffrec.so``.

* ``OFFREC_PREBUILT_LIB=/path/liboffrec.so``: bundle that file instead of running cargo.
* ``OFFREC_NO_BUNDLE=1``, no cargo, or no crate at ``../..`` (an sdist): the package installs
  without the library, with a warning; at run time it then needs ``OFFREC_LIB`` (or a system
  ``liboffrec.so.0``), and its error message says so.
* A cargo build that fails fails the install: a broken build should not pass quietly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LIB_NAME = {"darwin": "liboffrec.dylib", "win32": "offrec.dll"}.get(sys.platform, "liboffrec.so")


def _warn(msg: str) -> None:
    print(f"offrec setup: WARNING: {msg}", file=sys.stderr)


def _cargo() -> str | None:
    found = shutil.which("cargo")
    if found:
        return found
    home = Path.home() / ".cargo" / "bin" / "cargo"
    return str(home) if home.exists() else None


def _built_library() -> Path | None:
    prebuilt = os.environ.get("OFFREC_PREBUILT_LIB")
    if prebuilt:
        path = Path(prebuilt)
        if not path.is_file():
            raise SystemExit(f"offrec setup: OFFREC_PREBUILT_LIB={prebuilt} is not a file")
        return path
    if os.environ.get("OFFREC_NO_BUNDLE"):
        _warn("OFFREC_NO_BUNDLE is set: installing without liboffrec; set OFFREC_LIB at run time")
        return None
    if not (ROOT / "Cargo.toml").is_file() or not (ROOT / "src" / "ffi").is_dir():
        _warn(f"no offrec crate at {ROOT}: installing without liboffrec; set OFFREC_LIB at run time")
        return None
    cargo = _cargo()
    if cargo is None:
        _warn("cargo not found: installing without liboffrec; set OFFREC_LIB at run time "
              "(or install Rust from https://rustup.rs and reinstall)")
        return None
    print(f"offrec setup: building liboffrec with {cargo} in {ROOT}", file=sys.stderr)
    subprocess.run([cargo, "build", "--release", "--lib"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    lib = target / "release" / LIB_NAME
    if not lib.is_file():
        raise SystemExit(f"offrec setup: cargo succeeded but {lib} does not exist")
    return lib


class build_py(_build_py):
    def run(self) -> None:
        super().run()
        lib = _built_library()
        if lib is not None:
            dest = Path(self.build_lib) / "offrec" / LIB_NAME
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(lib, dest)
            os.chmod(dest, 0o755)
            print(f"offrec setup: bundled {lib} as {dest}", file=sys.stderr)


class BinaryDistribution(Distribution):
    """The wheel carries a native library: make it platform-specific."""

    def has_ext_modules(self) -> bool:
        return True


cmdclass = {"build_py": build_py}
try:  # a py3-none-<platform> wheel: the library does not depend on the Python version
    try:
        from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel  # type: ignore[no-redef]

    class bdist_wheel(_bdist_wheel):  # type: ignore[misc, valid-type]
        def get_tag(self):  # type: ignore[no-untyped-def]
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = bdist_wheel
except ImportError:
    pass

setup(cmdclass=cmdclass, distclass=BinaryDistribution)
