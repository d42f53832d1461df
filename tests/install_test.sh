#!/usr/bin/env bash
# `make install` into a temporary PREFIX, then build and run a C test against the installed
# copy through pkg-config, dynamically and statically. Run by `make test` (install-test).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cc=${CC:-cc}
cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror)
fail() { echo "install_test: $*" >&2; exit 1; }

make -C "$root" --no-print-directory install PREFIX="$prefix" >/dev/null

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
abi=$(sed -n 's/^#define OFFREC_ABI_VERSION //p' "$root/include/offrec.h")
lib=$prefix/lib

# Files and soname symlinks.
[ -f "$lib/liboffrec.so.$version" ] || fail "missing liboffrec.so.$version"
[ "$(readlink "$lib/liboffrec.so.$abi")" = "liboffrec.so.$version" ] || fail "bad liboffrec.so.$abi link"
[ "$(readlink "$lib/liboffrec.so")" = "liboffrec.so.$abi" ] || fail "bad liboffrec.so link"
[ -f "$lib/liboffrec.a" ] || fail "missing liboffrec.a"
cmp -s "$prefix/include/offrec.h" "$root/include/offrec.h" || fail "installed header differs"
soname=$(readelf -d "$lib/liboffrec.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "liboffrec.so.$abi" ] || fail "soname is '$soname', want liboffrec.so.$abi"

# pkg-config.
export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion offrec)" = "$version" ] || fail "pkg-config version mismatch"

# Dynamic link against the installed library.
# shellcheck disable=SC2046  # pkg-config output is meant to be word-split
"$cc" "${cflags[@]}" "$root/tests/c/test_basics.c" -o "$tmp/test_basics" \
    $(pkg-config --cflags --libs offrec) -Wl,-rpath,"$lib"
ldd "$tmp/test_basics" | grep "liboffrec.so.$abi => $lib/" >/dev/null || fail "not linked to the installed .so"
"$tmp/test_basics"

# Static link: liboffrec.a plus the Libs.private that pkg-config --static lists.
# shellcheck disable=SC2046
"$cc" "${cflags[@]}" "$root/tests/c/test_basics.c" -o "$tmp/test_basics_static" \
    $(pkg-config --cflags offrec) "$lib/liboffrec.a" \
    $(pkg-config --static --libs-only-l offrec | sed 's/-loffrec//')
if ldd "$tmp/test_basics_static" | grep liboffrec >/dev/null; then fail "static binary loads liboffrec.so"; fi
"$tmp/test_basics_static"

echo "install_test: installed library, header, soname links and offrec.pc all check out"
