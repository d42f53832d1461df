#!/usr/bin/env bash
# `make install` into a temporary PREFIX, then, against the installed copy: the CLI runs; a C
# test builds through pkg-config and runs, dynamically (rpath, and LD_LIBRARY_PATH) and
# statically; and the Go module, copied alone out of the repository as `go get` would fetch it,
# builds the top README's Go example in a module of its own through pkg-config, with the
# README's steps (go mod edit -replace, go mod tidy). Run by `make test` (install-test).
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

# The CLI.
[ -x "$prefix/bin/offrec" ] || fail "missing bin/offrec"
cli_version=$("$prefix/bin/offrec" --version) || fail "offrec --version failed"
case "$cli_version" in *"$version"*) ;; *) fail "offrec --version says '$cli_version', want $version";; esac
"$prefix/bin/offrec" --help >/dev/null || fail "offrec --help failed"

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

# The installed header is C99 (its top comment says so).
printf '#include <offrec.h>\nint main(void) { return offrec_version() == 0; }\n' > "$tmp/c99.c"
# shellcheck disable=SC2046
"$cc" -std=c99 -Wall -Wextra -pedantic-errors -Werror "$tmp/c99.c" -o "$tmp/c99" $(pkg-config --cflags --libs offrec) \
    || fail "the installed header does not compile as C99"

# Dynamic link against the installed library.
# shellcheck disable=SC2046  # pkg-config output is meant to be word-split
"$cc" "${cflags[@]}" "$root/tests/c/test_basics.c" -o "$tmp/test_basics" \
    $(pkg-config --cflags --libs offrec) -Wl,-rpath,"$lib"
ldd "$tmp/test_basics" | grep "liboffrec.so.$abi => $lib/" >/dev/null || fail "not linked to the installed .so"
"$tmp/test_basics"

# Without an rpath, the loader finds a custom PREFIX's library through LD_LIBRARY_PATH (README).
# shellcheck disable=SC2046
"$cc" "${cflags[@]}" "$root/tests/c/test_basics.c" -o "$tmp/test_basics_norpath" \
    $(pkg-config --cflags --libs offrec)
if env -u LD_LIBRARY_PATH "$tmp/test_basics_norpath" >/dev/null 2>&1; then
    fail "a binary without rpath found the library in a custom PREFIX without LD_LIBRARY_PATH"
fi
LD_LIBRARY_PATH=$lib "$tmp/test_basics_norpath" >/dev/null

# Static link: liboffrec.a plus the Libs.private that pkg-config --static lists.
# shellcheck disable=SC2046
"$cc" "${cflags[@]}" "$root/tests/c/test_basics.c" -o "$tmp/test_basics_static" \
    $(pkg-config --cflags offrec) "$lib/liboffrec.a" \
    $(pkg-config --static --libs-only-l offrec | sed 's/-loffrec//')
if ldd "$tmp/test_basics_static" | grep liboffrec >/dev/null; then fail "static binary loads liboffrec.so"; fi
"$tmp/test_basics_static"

# The Go module alone, outside the repository, against the installed library (pkg-config, the
# default link), built from a module of its own with the README's steps. No network: the module
# uses only the standard library (GOPROXY=off proves it).
gomod=$tmp/offrec-go
cp -r "$root/bindings/go" "$gomod"
rm -f "$gomod"/*_test.go
mkdir "$tmp/app"
sed -n '/^```go$/,/^```$/p' "$root/README.md" | sed '1d;$d' > "$tmp/app/main.go"
[ -s "$tmp/app/main.go" ] || fail "no Go example in README.md"
module=$(sed -n 's/^module //p' "$gomod/go.mod")
(
    cd "$tmp/app"
    export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1
    go mod init example.com/app >/dev/null 2>&1
    go mod edit -replace "$module=$gomod"
    go mod tidy >/dev/null 2>&1 || { go mod tidy; fail "go mod tidy failed"; }
    grep -q "^require $module" go.mod || fail "go mod tidy did not require $module"
    CGO_LDFLAGS="-Wl,-rpath,$lib" go build -o app . || fail "the README's Go example does not build"
) || exit 1
ldd "$tmp/app/app" | grep "liboffrec.so.$abi => $lib/" >/dev/null || fail "Go example not linked to the installed .so"
"$tmp/app/app" | grep -q "hello, privately" || fail "the README's Go example did not deliver its message"

echo "install_test: installed CLI, library, header, soname links, offrec.pc and the Go module all check out"
