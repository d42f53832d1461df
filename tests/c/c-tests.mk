# C tests, included from the top-level Makefile.
#
# Tests of the test hooks (offrec_test_*: libotr's OTR vectors replayed through the API) are in
# C_HOOK_TESTS: built with -DOFFREC_TEST_HOOKS against the hooks library (HOOKS_LIB, a debug
# build with the test-hooks feature) and run the same three ways by c-tests-hooks.
#
# Add a test: drop tests/c/<name>.c (it prints "<name>: N passed, N failed" and exits non-zero on
# failure) and append <name> to C_TESTS. Each test is built twice against include/offrec.h and
# target/release/liboffrec.so (through soname links in target/c-tests/lib, rpath) with -std=c11 -Wall -Wextra -Wpedantic -Werror, then run
#   1. plainly,
#   2. built with -fsanitize=address,undefined (the Rust library itself is not instrumented),
#   3. under valgrind, failing on errors and on definite/indirect leaks;
# and `c-tests-rust-asan` runs them once more against a library built with ASan itself.

C_TESTS := test_basics test_client test_threads test_store test_vectors test_names test_budget test_reveals test_routing test_otr test_tlv test_inplace test_downgrade test_migrate test_uiapi

C_TEST_DIR := tests/c
C_BUILD_DIR := target/c-tests
C_TEST_CFLAGS := -std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -Iinclude
# The library's soname is liboffrec.so.$(ABI_VERSION), which cargo does not create: link through
# symlinks to target/release/liboffrec.so.
C_LIB_DIR := $(C_BUILD_DIR)/lib
C_TEST_LDLIBS := -L$(C_LIB_DIR) -Wl,-rpath,$(abspath $(C_LIB_DIR)) -loffrec -pthread
C_SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
VALGRIND := valgrind --error-exitcode=1 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect --quiet

C_TEST_BINS := $(addprefix $(C_BUILD_DIR)/,$(C_TESTS))
C_TEST_ASAN_BINS := $(addsuffix .asan,$(C_TEST_BINS))

TEST_TARGETS += c-tests

.PHONY: c-tests c-tests-build

c-tests-build: build
	@mkdir -p $(C_LIB_DIR)
	ln -sfn $(abspath $(SHARED_LIB)) $(C_LIB_DIR)/liboffrec.so.$(ABI_VERSION)
	ln -sfn liboffrec.so.$(ABI_VERSION) $(C_LIB_DIR)/liboffrec.so
	$(MAKE) --no-print-directory $(C_TEST_BINS) $(C_TEST_ASAN_BINS)

c-tests: c-tests-build
	@set -e; for t in $(C_TEST_BINS); do \
	    echo "== $$t"; $$t; \
	    echo "== $$t.asan"; ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $$t.asan; \
	    echo "== valgrind $$t"; $(VALGRIND) $$t; \
	done

$(C_BUILD_DIR)/%: $(C_TEST_DIR)/%.c $(C_TEST_DIR)/harness.h include/offrec.h $(SHARED_LIB) $(C_TEST_DIR)/c-tests.mk
	$(CC) $(C_TEST_CFLAGS) $< -o $@ $(C_TEST_LDLIBS)

$(C_BUILD_DIR)/%.asan: $(C_TEST_DIR)/%.c $(C_TEST_DIR)/harness.h include/offrec.h $(SHARED_LIB) $(C_TEST_DIR)/c-tests.mk
	$(CC) $(C_TEST_CFLAGS) $(C_SAN_FLAGS) $< -o $@ $(C_TEST_LDLIBS)

C_HOOK_TESTS := test_otr_vectors
C_HOOKS_LIB_DIR := $(C_BUILD_DIR)/hooks-lib
C_HOOK_TEST_BINS := $(addprefix $(C_BUILD_DIR)/hooks/,$(C_HOOK_TESTS))
C_HOOK_LDLIBS := -L$(C_HOOKS_LIB_DIR) -Wl,-rpath,$(abspath $(C_HOOKS_LIB_DIR)) -loffrec -pthread

TEST_TARGETS += c-tests-hooks
.PHONY: c-tests-hooks

c-tests-hooks: hooks-lib
	@mkdir -p $(C_HOOKS_LIB_DIR) $(C_BUILD_DIR)/hooks
	ln -sfn $(abspath $(HOOKS_LIB)) $(C_HOOKS_LIB_DIR)/liboffrec.so.$(ABI_VERSION)
	ln -sfn liboffrec.so.$(ABI_VERSION) $(C_HOOKS_LIB_DIR)/liboffrec.so
	$(MAKE) --no-print-directory $(C_HOOK_TEST_BINS) $(addsuffix .asan,$(C_HOOK_TEST_BINS))
	@set -e; for t in $(C_HOOK_TEST_BINS); do \
	    echo "== $$t"; $$t; \
	    echo "== $$t.asan"; ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $$t.asan; \
	    echo "== valgrind $$t"; $(VALGRIND) $$t; \
	done

$(C_BUILD_DIR)/hooks/%: $(C_TEST_DIR)/%.c $(C_TEST_DIR)/harness.h include/offrec.h $(HOOKS_LIB) $(C_TEST_DIR)/c-tests.mk
	$(CC) $(C_TEST_CFLAGS) -DOFFREC_TEST_HOOKS $< -o $@ $(C_HOOK_LDLIBS)

$(C_BUILD_DIR)/hooks/%.asan: $(C_TEST_DIR)/%.c $(C_TEST_DIR)/harness.h include/offrec.h $(HOOKS_LIB) $(C_TEST_DIR)/c-tests.mk
	$(CC) $(C_TEST_CFLAGS) -DOFFREC_TEST_HOOKS $(C_SAN_FLAGS) $< -o $@ $(C_HOOK_LDLIBS)

# The same C tests against a liboffrec whose own Rust code is instrumented by AddressSanitizer
# (nightly rustc -Zsanitizer=address; std itself is not rebuilt, so its internals are not
# instrumented, but every generic instantiated in our crate and every allocation is). The
# runtime comes from gcc's -fsanitize=address in the test binaries. Missing nightly fails
# loudly: the image ships one beside stable (TESTING.md).
RUST_ASAN_TARGET := x86_64-unknown-linux-gnu
RUST_ASAN_DIR := target/asan
RUST_ASAN_LIB := $(RUST_ASAN_DIR)/$(RUST_ASAN_TARGET)/release/liboffrec.so
C_ASAN_LIB_DIR := $(C_BUILD_DIR)/asan-lib
C_TEST_RUST_ASAN_BINS := $(addsuffix .rust-asan,$(C_TEST_BINS))

TEST_TARGETS += c-tests-rust-asan
.PHONY: c-tests-rust-asan rust-asan-lib

rust-asan-lib:
	@cargo +nightly --version >/dev/null 2>&1 || { \
	    echo "c-tests-rust-asan: the nightly toolchain is missing (rustup toolchain install nightly)" >&2; exit 1; }
	RUSTFLAGS="-Zsanitizer=address" cargo +nightly build --release --lib \
	    --target $(RUST_ASAN_TARGET) --target-dir $(RUST_ASAN_DIR)
	@nm -D $(RUST_ASAN_LIB) | grep -q ' U __asan_init' || { echo "$(RUST_ASAN_LIB) is not instrumented" >&2; exit 1; }
	@mkdir -p $(C_ASAN_LIB_DIR)
	ln -sfn $(abspath $(RUST_ASAN_LIB)) $(C_ASAN_LIB_DIR)/liboffrec.so.$(ABI_VERSION)
	ln -sfn liboffrec.so.$(ABI_VERSION) $(C_ASAN_LIB_DIR)/liboffrec.so

c-tests-rust-asan: rust-asan-lib
	@mkdir -p $(C_BUILD_DIR)
	@set -e; for t in $(C_TESTS); do \
	    $(CC) $(C_TEST_CFLAGS) -fsanitize=address -fno-omit-frame-pointer $(C_TEST_DIR)/$$t.c \
	        -o $(C_BUILD_DIR)/$$t.rust-asan -L$(C_ASAN_LIB_DIR) -Wl,-rpath,$(abspath $(C_ASAN_LIB_DIR)) \
	        -loffrec -pthread; \
	    echo "== $(C_BUILD_DIR)/$$t.rust-asan (instrumented library)"; \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(C_BUILD_DIR)/$$t.rust-asan; \
	done
