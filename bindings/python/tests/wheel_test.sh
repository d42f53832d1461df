#!/usr/bin/env bash
# The Python package as a user gets it. pip builds a wheel through maturin (pyproject.toml);
# auditwheel confirms that the wheel's manylinux tag is one its library really meets; the wheel
# holds the package, its library and the licence files and nothing else (no stale build/ copy),
# and its metadata names the licence and the project URLs; installed into a fresh venv outside
# the repository, it runs the README's example and install_smoke.py with the bundled library.
# Then `pip install -e` from the checkout. Run by `make test` (python-wheel-test), after
# `make build`: the wheel's cdylib (native/) shares target/release, so only it is linked anew.
# Needs PyPI (pip fetches maturin and cffi for the build, auditwheel for the check).
#
# --zig: build the portable wheel instead, `maturin build --release --zig` (zig links against
# glibc 2.17's symbol versions), which must come out as manylinux2014; it is left in
# target/wheels (`make python-wheel`). The first such build compiles every dependency again for
# the explicit target (target/x86_64-unknown-linux-gnu): a few minutes.
set -euo pipefail
zig=0
[ "${1:-}" = "--zig" ] && zig=1

pkg=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$pkg/../.." && pwd)
python=${PYTHON:-python3}
tmp=$(mktemp -d)
[ -n "${WHEEL_TEST_KEEP:-}" ] && echo "wheel_test: keeping $tmp"
# An editable install writes the library into the source tree (offrec/_native/): remove it
# afterwards, unless it was there before (a developer's own editable install).
native=$pkg/offrec/_native
keep_native=0
[ -e "$native" ] && keep_native=1
cleanup() { rm -rf "$tmp"; if [ "$keep_native" = 0 ]; then rm -rf "$native"; fi; }
trap cleanup EXIT; [ -n "${WHEEL_TEST_KEEP:-}" ] && trap - EXIT
fail() { echo "wheel_test: $*" >&2; exit 1; }
pip_quiet=(--quiet --disable-pip-version-check)
unset OFFREC_LIB

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
"$python" -m venv "$tmp/tools"
"$tmp/tools/bin/pip" install "${pip_quiet[@]}" auditwheel

# 1. The build, with maturin's own output kept: no warnings allowed.
if [ "$zig" = 1 ]; then
    "$tmp/tools/bin/pip" install "${pip_quiet[@]}" "maturin[zig]>=1.9,<2" "cffi>=1.15"
    (cd "$pkg" && PATH="$tmp/tools/bin:$PATH" maturin build --release --zig --compatibility manylinux2014 \
        -i "$tmp/tools/bin/python" -o "$tmp/wheels") > "$tmp/build.log" 2>&1 || {
        cat "$tmp/build.log" >&2; fail "maturin build --zig failed"; }
else
    # Through pip, maturin tags for this machine alone (linux_x86_64) unless told otherwise:
    # "pypi" asks for the oldest manylinux tag the library meets, checked by its own auditwheel.
    "$tmp/tools/bin/pip" wheel --disable-pip-version-check -v --no-deps -w "$tmp/wheels" \
        --config-settings=maturin.build-args="--compatibility pypi" "$pkg" > "$tmp/build.log" 2>&1 || {
        cat "$tmp/build.log" >&2; fail "pip wheel failed"; }
fi
if grep -Ei 'warning|deprecat' "$tmp/build.log" | grep -v 'warnings-as-errors'; then
    fail "the build printed warnings (above)"
fi
wheel=$(ls "$tmp"/wheels/offrec-*.whl)
name=$(basename "$wheel" .whl)
[ "$(echo "$name" | cut -d- -f2)" = "$version" ] || fail "$name: version is not Cargo.toml's $version"
[ "$(echo "$name" | cut -d- -f3-4)" = "py3-none" ] || fail "$name: not a py3-none wheel"
platform=$(echo "$name" | cut -d- -f5)
case "$platform" in manylinux*_x86_64|manylinux*_aarch64) ;; *) fail "$name: not a manylinux wheel" ;; esac

# 2. The tag is honest: auditwheel derives the same one from the library's symbol versions.
audited=$("$tmp/tools/bin/auditwheel" show "$wheel" | tr '\n' ' ' |
    sed -n 's/.*consistent with the following platform tag: "\([^"]*\)".*/\1/p')
[ -n "$audited" ] || fail "auditwheel show gave no platform tag"
case ".$platform." in *".$audited."*) ;; *) fail "wheel tagged $platform, auditwheel says $audited" ;; esac
if [ "$zig" = 1 ]; then
    case "$platform" in manylinux2014_*) ;; *) fail "the --zig wheel is $platform, not manylinux2014" ;; esac
fi

# 3. Contents and metadata.
"$tmp/tools/bin/python" - "$wheel" "$version" "$(git -C "$root" ls-files bindings/python/offrec)" <<'PY'
import sys, zipfile
wheel, version, tracked = sys.argv[1], sys.argv[2], sys.argv[3].split()
names = zipfile.ZipFile(wheel).namelist()
info = f"offrec-{version}.dist-info/"
# exactly the package's tracked files: nothing stale or generated rides along
allowed_py = {t[len("bindings/python/offrec/"):] for t in tracked}
unexpected = []
for n in names:
    if n.startswith("offrec/_native/"):
        ok = n[len("offrec/_native/"):] in {"__init__.py", "ffi.py", "lib_native.so"}
    elif n.startswith("offrec/"):
        ok = n[len("offrec/"):] in allowed_py
    elif n.startswith(info):
        rest = n[len(info):]
        ok = rest in {"METADATA", "WHEEL", "RECORD", "licenses/LICENSE-MIT", "licenses/LICENSE-APACHE"} or rest.startswith("sboms/")
    else:
        ok = False
    if not ok:
        unexpected.append(n)
assert not unexpected, f"unexpected files in the wheel: {unexpected}"
for need in ("offrec/_native/lib_native.so", "offrec/client.py", info + "licenses/LICENSE-MIT", info + "licenses/LICENSE-APACHE"):
    assert need in names, f"{need} missing from the wheel"
meta = zipfile.ZipFile(wheel).read(info + "METADATA").decode()
for line in ("License-Expression: MIT OR Apache-2.0", "License-File: LICENSE-MIT", "License-File: LICENSE-APACHE",
             "Project-URL: Homepage, ", "Project-URL: Source, ", f"Version: {version}"):
    assert line in meta, f"METADATA lacks {line!r}"
required = [l for l in meta.splitlines() if l.startswith("Requires-Dist:") and "extra ==" not in l]
assert not required, f"the binding needs nothing at run time, yet: {required}"
PY

# 4. Installed in a fresh venv, used from outside the repository with the bundled library.
example() {  # the ```python block after "## Example" in a README
    "$python" -c 'import re, sys; t = open(sys.argv[1]).read(); print(re.search(r"## Example.*?```python\n(.*?)```", t, re.S).group(1))' "$1"
}
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install "${pip_quiet[@]}" --no-deps "$wheel"
mkdir "$tmp/outside"
example "$pkg/README.md" > "$tmp/outside/example.py"
out=$(cd "$tmp/outside" && "$tmp/venv/bin/python" example.py)
echo "$out" | grep -q "alice: hello, privately \[ENCRYPTED_UNVERIFIED\]" || fail "README example from the wheel printed: $out"
(cd "$tmp/outside" && "$tmp/venv/bin/python" "$pkg/tests/install_smoke.py")
(cd "$tmp/outside" && "$tmp/venv/bin/python" -c '
import importlib.metadata as m, offrec
assert m.version("offrec") == offrec.version(), (m.version("offrec"), offrec.version())')

# 5. pip install -e from the checkout: the source tree's package, with the library maturin
# built into offrec/_native/.
"$python" -m venv "$tmp/edit"
"$tmp/edit/bin/pip" install "${pip_quiet[@]}" -e "$pkg" > "$tmp/edit.log" 2>&1 || { cat "$tmp/edit.log" >&2; fail "pip install -e failed"; }
(cd "$tmp/outside" && "$tmp/edit/bin/python" -c '
import sys, offrec
from pathlib import Path
src = Path(sys.argv[1])
assert Path(offrec.__file__).resolve().parent == src / "offrec", offrec.__file__
offrec.version()
assert Path(offrec.loaded_from()).resolve() == src / "offrec" / "_native" / "lib_native.so", offrec.loaded_from()
' "$pkg")
out=$(cd "$tmp/outside" && "$tmp/edit/bin/python" example.py)
echo "$out" | grep -q "alice: hello, privately" || fail "README example from the editable install printed: $out"

if [ "$zig" = 1 ]; then
    mkdir -p "$root/target/wheels"
    cp "$wheel" "$root/target/wheels/"
    echo "wheel_test: target/wheels/$name.whl"
fi
echo "wheel_test: $name (auditwheel: $audited) installs and runs outside the repository; pip install -e works"
