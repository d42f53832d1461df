"""The README's example runs and stays short."""

from __future__ import annotations

import re

from conftest import PKG_ROOT


def test_readme_example(capsys) -> None:  # type: ignore[no-untyped-def]
    text = (PKG_ROOT / "README.md").read_text()
    code = re.search(r"## Example.*?```python\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]
    assert len(code.strip().splitlines()) <= 15
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "alice: hello, privately [ENCRYPTED_UNVERIFIED]" in out
