# The one-process OTR interop harness (tests/interop/README.md), included from the top-level
# Makefile. offrec (through the C API) and libotr 4.1.1 (libotr5-dev: -lotr -lgcrypt) in one
# program with a fake clock and a faulty in-memory network.
#
#   make interop          build liboffrec and the harness, run every scenario (< 60 s);
#                         part of TEST_TARGETS, so `make test` runs it
#   make interop-planned  compile the prepared OTR scenarios against the planned API
#                         (tests/interop/planned_api.h) without linking: they cannot rot
#                         while the API is being written
#   make interop-asan     the harness built with -fsanitize=address,undefined, run once
#
# INTEROP_ARGS passes options: -v traces every message and event; scenario ids run only those.

INTEROP_DIR := tests/interop
INTEROP_BUILD_DIR := target/interop
INTEROP_LIB_DIR := $(INTEROP_BUILD_DIR)/lib
INTEROP_BIN := $(INTEROP_BUILD_DIR)/interop
INTEROP_SRCS := $(wildcard $(INTEROP_DIR)/*.c)
INTEROP_HDRS := $(wildcard $(INTEROP_DIR)/*.h)
INTEROP_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 -Iinclude
INTEROP_LDLIBS := -L$(INTEROP_LIB_DIR) -Wl,-rpath,$(abspath $(INTEROP_LIB_DIR)) -loffrec -lotr -lgcrypt
INTEROP_ARGS ?=

.PHONY: interop interop-build interop-planned interop-asan

# The library's soname is liboffrec.so.$(ABI_VERSION): link through symlinks, as bench.mk does.
interop-build: build
	@mkdir -p $(INTEROP_LIB_DIR)
	ln -sfn $(abspath $(SHARED_LIB)) $(INTEROP_LIB_DIR)/liboffrec.so.$(ABI_VERSION)
	ln -sfn liboffrec.so.$(ABI_VERSION) $(INTEROP_LIB_DIR)/liboffrec.so
	$(MAKE) --no-print-directory $(INTEROP_BIN)

$(INTEROP_BIN): $(INTEROP_SRCS) $(INTEROP_HDRS) include/offrec.h $(SHARED_LIB) $(INTEROP_DIR)/interop.mk
	$(CC) $(INTEROP_CFLAGS) $(INTEROP_SRCS) -o $@ $(INTEROP_LDLIBS)

interop: interop-build interop-planned
	$(INTEROP_BIN) $(INTEROP_ARGS)

interop-planned:
	@mkdir -p $(INTEROP_BUILD_DIR)
	$(CC) $(INTEROP_CFLAGS) -DINTEROP_PLANNED_API -fsyntax-only $(INTEROP_SRCS)

interop-asan: interop-build
	$(CC) $(INTEROP_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer $(INTEROP_SRCS) -o $(INTEROP_BIN).asan $(INTEROP_LDLIBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(INTEROP_BIN).asan $(INTEROP_ARGS)
