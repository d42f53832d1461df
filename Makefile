# offrec: build, header, test, install.
#
#   make build                   release build of liboffrec.{so,a} (target/release)
#   make header                  regenerate include/offrec.h (commit it)
#   make test                    Rust tests, then every target in TEST_TARGETS
#   make examples                build the C examples (examples-c/)
#   make install PREFIX=/usr/local [DESTDIR=...]   library, header, offrec.pc and the offrec CLI
#   make lint                    clippy, rustfmt --check, cargo doc; warnings are errors
#   make mutants                 mutation testing of the security modules (slow; TESTING.md)
#   make clean

CARGO ?= cargo
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

# The package version (Cargo.toml) and the C ABI version (build.rs's ABI_VERSION, which the
# generated header carries as OFFREC_ABI_VERSION and the soname as liboffrec.so.<ABI>).
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
ABI_VERSION := $(shell sed -n 's/^\#define OFFREC_ABI_VERSION //p' include/offrec.h)

RELEASE_DIR := target/release
SHARED_LIB := $(RELEASE_DIR)/liboffrec.so
STATIC_LIB := $(RELEASE_DIR)/liboffrec.a
# The command-line tool (src/bin/offrec); it carries the library inside, so needs no rpath.
CLI_BIN := $(RELEASE_DIR)/offrec

# Cargo features for tests: test-hooks exports offrec_test_panic (never in `make build`).
TEST_FEATURES := --features test-hooks
# The library with those hooks that c-tests-hooks, python-tests-hooks and go-tests-hooks load: a
# debug build (its crypto dependencies are optimised, Cargo.toml), never installed or shipped.
HOOKS_LIB := target/debug/liboffrec.so

# ---------------------------------------------------------------------------------------------
# Test hook: test fragments append their phony targets here (TEST_TARGETS += my-tests), and
# `make test` runs them, in order, after the Rust tests. Include fragments before `test:`.
TEST_TARGETS :=
include tests/c/c-tests.mk
# make fuzz / fuzz-cmin (nightly + cargo-fuzz); the corpus itself is replayed by cargo test.
include fuzz/fuzz.mk
include examples-c/examples.mk
include bindings/python/python.mk
include bindings/go/go.mk
include tests/cross/cross.mk
include bench/bench.mk
# make interop: offrec against libotr 4.1.1 in one process (tests/interop/README.md)
include tests/interop/interop.mk
# make mutants (not in make test; TESTING.md)
include tests/mutants.mk
TEST_TARGETS += bench-smoke
TEST_TARGETS += interop
TEST_TARGETS += install-test
# ---------------------------------------------------------------------------------------------

.PHONY: all build build-setup header test test-setup cargo-test install-test install uninstall lint clean

all: build

# build-setup installs (as root) or names the C and C++ compilers the build needs.
build: build-setup
	$(CARGO) build --release

build-setup:
	@bash tests/setup.sh --build

# build.rs writes the header into OUT_DIR; copy the freshest one into the source tree, and into
# the Go module, which carries its own copy (bindings/go/header_copy_test.go checks they agree).
header: build
	cp "$$(ls -t $(RELEASE_DIR)/build/offrec-*/out/offrec.h | head -n 1)" include/offrec.h
	cp include/offrec.h bindings/go/offrec.h
	@echo "include/offrec.h and bindings/go/offrec.h updated; commit them"

# test-setup installs (as root) or names what is missing before anything runs (tests/setup.sh).
test: test-setup cargo-test $(TEST_TARGETS)

test-setup:
	bash tests/setup.sh

cargo-test:
	$(CARGO) test --all-targets $(TEST_FEATURES)

.PHONY: hooks-lib
hooks-lib:
	$(CARGO) build --lib $(TEST_FEATURES)

install-test: build
	bash tests/install_test.sh

install: build
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(LIBDIR)" "$(DESTDIR)$(INCLUDEDIR)" "$(DESTDIR)$(PKGCONFIGDIR)"
	install -m 0755 $(CLI_BIN) "$(DESTDIR)$(BINDIR)/offrec"
	install -m 0755 $(SHARED_LIB) "$(DESTDIR)$(LIBDIR)/liboffrec.so.$(VERSION)"
	ln -sfn liboffrec.so.$(VERSION) "$(DESTDIR)$(LIBDIR)/liboffrec.so.$(ABI_VERSION)"
	ln -sfn liboffrec.so.$(ABI_VERSION) "$(DESTDIR)$(LIBDIR)/liboffrec.so"
	install -m 0644 $(STATIC_LIB) "$(DESTDIR)$(LIBDIR)/liboffrec.a"
	install -m 0644 include/offrec.h "$(DESTDIR)$(INCLUDEDIR)/offrec.h"
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    offrec.pc.in > "$(DESTDIR)$(PKGCONFIGDIR)/offrec.pc"
	chmod 0644 "$(DESTDIR)$(PKGCONFIGDIR)/offrec.pc"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/offrec" "$(DESTDIR)$(LIBDIR)/liboffrec.so.$(VERSION)" \
	      "$(DESTDIR)$(LIBDIR)/liboffrec.so.$(ABI_VERSION)" \
	      "$(DESTDIR)$(LIBDIR)/liboffrec.so" "$(DESTDIR)$(LIBDIR)/liboffrec.a" \
	      "$(DESTDIR)$(INCLUDEDIR)/offrec.h" "$(DESTDIR)$(PKGCONFIGDIR)/offrec.pc"

# Clippy, formatting and the API docs, each with warnings as errors (CI runs it).
lint: build-setup
	$(CARGO) clippy --all-targets $(TEST_FEATURES) -- -D warnings
	$(CARGO) fmt --check
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --lib

clean:
	$(CARGO) clean
