#!/usr/bin/env bash
# What `make test` needs beyond Rust, in one place: Debian packages, the Python test modules and
# the nightly toolchain (the ASan build of the library). Installs what is missing when it can
# (as root, with apt and pip), else stops at once naming the exact command: `make test` never
# fails half-way for a missing tool. .ci/run relies on it too.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="ca-certificates gcc g++ libc6-dev make pkg-config valgrind binutils python3 python3-venv python3-pytest python3-cryptography ngircd libotr5-dev weechat-headless weechat-python weechat-plugins"
# `--demo`: only what `make demo` needs (its libotr party is a Pidgin-like OTR user).
# `--build`: only what building the library needs (`make build`, `make lint`): C and C++
# compilers (simdutf, the armours' base64, is C++).
DEMO_ONLY=0
BUILD_ONLY=0
if [ "${1:-}" = "--demo" ]; then
    DEMO_ONLY=1
    APT_PACKAGES="ca-certificates gcc g++ libc6-dev make pkg-config python3 libotr5-dev"
elif [ "${1:-}" = "--build" ]; then
    BUILD_ONLY=1
    APT_PACKAGES="gcc g++ libc6-dev make"
fi

missing=()
if command -v dpkg-query >/dev/null; then
    for p in $APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
else
    echo "test-setup: not a Debian system; assuming these are installed: $APT_PACKAGES" >&2
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "test-setup: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        # Installing ngircd must not start a system-wide IRC daemon (the tests start their own):
        # policy-rc.d answering 101 tells Debian's maintainer scripts not to start services.
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        apt-get install -y --no-install-recommends "${missing[@]}" || { rm -f /usr/sbin/policy-rc.d; exit 1; }
        rm -f /usr/sbin/policy-rc.d
    else
        echo "test-setup: missing Debian packages. Run, then make again:" >&2
        echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

if [ "$BUILD_ONLY" = 1 ]; then
    exit 0
fi

if [ "$DEMO_ONLY" = 1 ]; then
    command -v go >/dev/null || { echo "demo-setup: no Go toolchain on PATH (install the Go version bindings/go/go.mod names)" >&2; exit 1; }
    echo "demo-setup: everything make demo needs is installed"
    exit 0
fi

# The Python tests' modules (bindings/python/requirements-test.txt). Debian's python3 has them
# from the packages above; another python3 first on PATH (pyenv, a venv) gets them from pip.
# Debian's own python3 refuses pip (PEP 668), hence the check first.
if ! python3 -c 'import pytest, cryptography' 2>/dev/null; then
    python3 -m pip install -r bindings/python/requirements-test.txt || {
        echo "test-setup: run: python3 -m pip install -r bindings/python/requirements-test.txt" >&2
        exit 1
    }
fi

# python-potr for the potr migration test (bindings/python/tests/test_migrate.py); installed
# without its dependencies, as bindings/python/requirements-potr.txt explains.
if ! python3 -c 'import potr, Crypto' 2>/dev/null; then
    python3 -m pip install --no-deps -r bindings/python/requirements-potr.txt || {
        echo "test-setup: run: python3 -m pip install --no-deps -r bindings/python/requirements-potr.txt" \
             "(Debian's own python3: apt-get install python3-potr)" >&2
        exit 1
    }
fi

# The Go binding's tests need a Go toolchain as new as bindings/go/go.mod asks (Debian's
# golang-go is older): it comes with our machines, not from apt.
command -v go >/dev/null || { echo "test-setup: no Go toolchain on PATH (install the Go version bindings/go/go.mod names)" >&2; exit 1; }

# The C tests also run against a library built with nightly's AddressSanitizer.
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "test-setup: the nightly toolchain is missing. Run: rustup toolchain install nightly" >&2
    exit 1
fi
echo "test-setup: everything make test needs is installed"
