"""The README's code blocks are programs: each one is built and run here, and must print the
message it sends. (The README's shell commands, `make demo` and `make test`, are what CI runs.)"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
LIB_DIR = ROOT / "target" / "c-tests" / "lib"  # soname links made by `make examples`


def block(language: str) -> str:
    found = re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)
    assert len(found) == 1, f"expected one {language} block in README.md, found {len(found)}"
    return found[0]


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_c_example():
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "example.c"
        source.write_text(block("c"))
        run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'include'}", str(source), "-o", "example",
             f"-L{LIB_DIR}", f"-Wl,-rpath,{LIB_DIR}", "-loffrec"], Path(tmp))
        assert "hello, privately" in run(["./example"], Path(tmp))


def test_python_example():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python"))
    env.setdefault("OFFREC_LIB", str(ROOT / "target" / "release" / "liboffrec.so"))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "example.py").write_text(block("python"))
        out = run([sys.executable, "example.py"], Path(tmp), env)
        assert "hello, privately [ENCRYPTED_UNVERIFIED]" in out


def test_go_example():
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "main.go").write_text(block("go"))
        Path(tmp, "go.mod").write_text(
            "module readme\n\ngo 1.21\n\nrequire github.com/offrec/offrec/bindings/go v0.0.0\n\n"
            f"replace github.com/offrec/offrec/bindings/go => {ROOT / 'bindings' / 'go'}\n"
        )
        # offrec_intree: link target/release (make go-lib), not an installed library.
        env = dict(os.environ, CGO_ENABLED="1", GOTOOLCHAIN="local", GOFLAGS="-mod=mod -tags=offrec_intree")
        out = run(["go", "run", "."], Path(tmp), env)
        assert "hello, privately" in out
