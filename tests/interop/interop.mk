# The one-process OTR interop harness (tests/interop/README.md), included from the top-level
# Makefile. offrec (through the C API) and libotr 4.1.1 (libotr5-dev: -lotr -lgcrypt) in one
# program with a fake clock and a faulty in-memory network.
#
#   make interop          build liboffrec and the harness, run every scenario, then once more
#                         built with AddressSanitizer/UBSan (quiet), always both; part of
#                         TEST_TARGETS (`make test`)
#   make interop-valgrind the plain harness under valgrind (slow, about 40 s today)
#
# S6 (malformed SMP values, sc_smp_hostile.c) needs the test hook offrec_test_client_send_otr_smp:
# it runs in a second build of the same sources, target/interop/interop-hooks, compiled with
# -DOFFREC_TEST_HOOKS and linked to the hooks library (HOOKS_LIB, a debug build with the
# test-hooks feature), plainly and under ASan/UBSan, after the two runs of everything else. The
# plain harness has no S6 (and stays on the release library's speed).
#
# INTEROP_ARGS passes options: -v traces every message and event, -q prints only failures,
# --list lists the scenarios, scenario ids (T1 N10 ...) run only those.

INTEROP_DIR := tests/interop
INTEROP_BUILD_DIR := target/interop
INTEROP_LIB_DIR := $(INTEROP_BUILD_DIR)/lib
INTEROP_BIN := $(INTEROP_BUILD_DIR)/interop
INTEROP_SRCS := $(wildcard $(INTEROP_DIR)/*.c)
INTEROP_HDRS := $(wildcard $(INTEROP_DIR)/*.h)
INTEROP_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 -Iinclude
INTEROP_LDLIBS := -L$(INTEROP_LIB_DIR) -Wl,-rpath,$(abspath $(INTEROP_LIB_DIR)) -loffrec -lotr -lgcrypt
INTEROP_SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# libotr 4.1.1 leaks inside itself (lsan.supp says what); the slow unwinder sees through
# libotr and libgcrypt, which have no frame pointers, so the suppressions match only them.
INTEROP_ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
    LSAN_OPTIONS=suppressions=$(abspath $(INTEROP_DIR)/lsan.supp):print_suppressions=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
INTEROP_ARGS ?=
INTEROP_HOOKS_BIN := $(INTEROP_BUILD_DIR)/interop-hooks
INTEROP_HOOKS_LIB_DIR := $(INTEROP_BUILD_DIR)/hooks-lib
INTEROP_HOOKS_LDLIBS := -L$(INTEROP_HOOKS_LIB_DIR) -Wl,-rpath,$(abspath $(INTEROP_HOOKS_LIB_DIR)) -loffrec -lotr -lgcrypt

.PHONY: interop interop-build interop-hooks-build interop-valgrind

# The library's soname is liboffrec.so.$(ABI_VERSION): link through symlinks, as bench.mk does.
interop-build: build
	@mkdir -p $(INTEROP_LIB_DIR)
	ln -sfn $(abspath $(SHARED_LIB)) $(INTEROP_LIB_DIR)/liboffrec.so.$(ABI_VERSION)
	ln -sfn liboffrec.so.$(ABI_VERSION) $(INTEROP_LIB_DIR)/liboffrec.so
	$(MAKE) --no-print-directory $(INTEROP_BIN) $(INTEROP_BIN).asan

interop-hooks-build: hooks-lib
	@mkdir -p $(INTEROP_HOOKS_LIB_DIR)
	ln -sfn $(abspath $(HOOKS_LIB)) $(INTEROP_HOOKS_LIB_DIR)/liboffrec.so.$(ABI_VERSION)
	ln -sfn liboffrec.so.$(ABI_VERSION) $(INTEROP_HOOKS_LIB_DIR)/liboffrec.so
	$(MAKE) --no-print-directory $(INTEROP_HOOKS_BIN) $(INTEROP_HOOKS_BIN).asan

$(INTEROP_HOOKS_BIN): $(INTEROP_SRCS) $(INTEROP_HDRS) include/offrec.h $(HOOKS_LIB) $(INTEROP_DIR)/interop.mk
	$(CC) $(INTEROP_CFLAGS) -DOFFREC_TEST_HOOKS $(INTEROP_SRCS) -o $@ $(INTEROP_HOOKS_LDLIBS)

$(INTEROP_HOOKS_BIN).asan: $(INTEROP_SRCS) $(INTEROP_HDRS) include/offrec.h $(HOOKS_LIB) $(INTEROP_DIR)/interop.mk
	$(CC) $(INTEROP_CFLAGS) -DOFFREC_TEST_HOOKS $(INTEROP_SAN_FLAGS) $(INTEROP_SRCS) -o $@ $(INTEROP_HOOKS_LDLIBS)

$(INTEROP_BIN): $(INTEROP_SRCS) $(INTEROP_HDRS) include/offrec.h $(SHARED_LIB) $(INTEROP_DIR)/interop.mk
	$(CC) $(INTEROP_CFLAGS) $(INTEROP_SRCS) -o $@ $(INTEROP_LDLIBS)

$(INTEROP_BIN).asan: $(INTEROP_SRCS) $(INTEROP_HDRS) include/offrec.h $(SHARED_LIB) $(INTEROP_DIR)/interop.mk
	$(CC) $(INTEROP_CFLAGS) $(INTEROP_SAN_FLAGS) $(INTEROP_SRCS) -o $@ $(INTEROP_LDLIBS)

# Every run always runs (a failing scenario in the first must not hide what the others find);
# the target fails if any did. The hooks harness runs S6 unless INTEROP_ARGS names scenarios
# without it (its options, -v and the like, pass on).
interop: interop-build interop-hooks-build
	@rc=0; \
	echo "$(INTEROP_BIN) $(INTEROP_ARGS)"; $(INTEROP_BIN) $(INTEROP_ARGS) || rc=1; \
	echo "$(INTEROP_BIN).asan -q $(INTEROP_ARGS)  (AddressSanitizer/UBSan)"; \
	$(INTEROP_ASAN_ENV) $(INTEROP_BIN).asan -q $(INTEROP_ARGS) || rc=1; \
	ids=$$(for a in $(INTEROP_ARGS); do case $$a in -*) ;; *) echo $$a;; esac; done); \
	flags=$$(for a in $(INTEROP_ARGS); do case $$a in -q|--list) ;; -*) echo $$a;; esac; done); \
	if [ -z "$$ids" ] || echo "$$ids" | grep -qx S6; then \
	    echo "$(INTEROP_HOOKS_BIN) $$flags S6  (test hooks)"; $(INTEROP_HOOKS_BIN) $$flags S6 || rc=1; \
	    echo "$(INTEROP_HOOKS_BIN).asan -q S6  (test hooks, AddressSanitizer/UBSan)"; \
	    $(INTEROP_ASAN_ENV) $(INTEROP_HOOKS_BIN).asan -q S6 || rc=1; \
	fi; \
	exit $$rc


interop-valgrind: interop-build
	valgrind --error-exitcode=1 --quiet $(INTEROP_BIN) -q $(INTEROP_ARGS)
