# Benchmarks: offrec against libotr in one C program (bench/bench.c), included from the
# top-level Makefile with
#
#     include bench/bench.mk
#
#   make bench          full run (several minutes; libotr sets up 10,000 sessions the slow way)
#   make bench-smoke    the same program with tiny counts, so it cannot rot (< 30 s); part of
#                       TEST_TARGETS (appended by the top-level Makefile), so `make test` runs it
#
# BENCH_ARGS adds or overrides options, e.g. make bench BENCH_ARGS="--runs 3 --big 20000".
# Needs libotr5-dev (libotr 4.1.1 and libgcrypt headers). Results: stdout table and
# bench/results.json (smoke: target/bench/smoke.json).

BENCH_DIR := bench
BENCH_BUILD_DIR := target/bench
BENCH_BIN := $(BENCH_BUILD_DIR)/bench
BENCH_LIB_DIR := $(BENCH_BUILD_DIR)/lib
BENCH_CFLAGS := -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -g -Iinclude
BENCH_LDLIBS := -L$(BENCH_LIB_DIR) -Wl,-rpath,$(abspath $(BENCH_LIB_DIR)) -loffrec -lotr -lgcrypt
BENCH_ARGS ?=
BENCH_SMOKE_ARGS := --runs 2 --ake 2 --conv 20 --burst 20 --frag 5 --smp 1 --mem 20 --big 200 \
                    --otr-big 0 --json $(BENCH_BUILD_DIR)/smoke.json


.PHONY: bench bench-smoke bench-build

bench-build: build
	@mkdir -p $(BENCH_LIB_DIR)
	ln -sfn $(abspath $(SHARED_LIB)) $(BENCH_LIB_DIR)/liboffrec.so.$(ABI_VERSION)
	ln -sfn liboffrec.so.$(ABI_VERSION) $(BENCH_LIB_DIR)/liboffrec.so
	$(CC) $(BENCH_CFLAGS) $(BENCH_DIR)/bench.c -o $(BENCH_BIN) $(BENCH_LDLIBS)

bench: bench-build
	$(BENCH_BIN) $(BENCH_ARGS)

bench-smoke: bench-build
	$(BENCH_BIN) $(BENCH_SMOKE_ARGS)
