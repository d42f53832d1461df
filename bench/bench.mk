# Benchmarks: offrec against libotr in one C program (bench/bench.c), included from the
# top-level Makefile with
#
#     include bench/bench.mk
#
#   make bench          full run (several minutes; libotr sets up 10,000 sessions the slow way),
#                       then the bindings comparison (make bench-bindings)
#   make bench-bindings Python and Go burst throughput as a ratio to the C API's, measured in
#                       the same run (bench/bindings.sh, bench/bindings.md)
#   make bench-smoke    both with tiny counts, so they cannot rot (< 20 s), the OTR v3 rows
#                       (offrec speaking OTR with libotr) included; part of TEST_TARGETS
#                       (appended by the top-level Makefile), so `make test` runs it
#
# BENCH_ARGS adds or overrides options, e.g. make bench BENCH_ARGS="--runs 3 --big 20000".
# BINDINGS_RUNS / BINDINGS_BURST size the bindings comparison (default 7 rounds of 5000).
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
BENCH_GO_BIN := $(BENCH_BUILD_DIR)/benchburst
BINDINGS_RUNS ?= 7
BINDINGS_BURST ?= 5000
# The bindings script: Python from the source tree against the freshly built library.
BENCH_BINDINGS = PYTHON=$(PYTHON) GOBENCH=$(BENCH_GO_BIN) OFFREC_LIB=$(abspath $(SHARED_LIB)) \
                 BENCH=$(BENCH_BIN) bash $(BENCH_DIR)/bindings.sh

.PHONY: bench bench-smoke bench-build bench-bindings bench-bindings-build

bench-build: build
	@mkdir -p $(BENCH_LIB_DIR)
	ln -sfn $(abspath $(SHARED_LIB)) $(BENCH_LIB_DIR)/liboffrec.so.$(ABI_VERSION)
	ln -sfn liboffrec.so.$(ABI_VERSION) $(BENCH_LIB_DIR)/liboffrec.so
	$(CC) $(BENCH_CFLAGS) $(BENCH_DIR)/bench.c -o $(BENCH_BIN) $(BENCH_LDLIBS)

# The Go bench links target/release/liboffrec.so with an rpath, like bindings/go (go-lib).
bench-bindings-build: bench-build go-lib
	cd $(GO_DIR) && $(GO_ENV) $(GO) build -o $(abspath $(BENCH_GO_BIN)) ./cmd/benchburst

bench-bindings: bench-bindings-build
	JSON=$(BENCH_DIR)/bindings-results.json RUNS=$(BINDINGS_RUNS) BURST=$(BINDINGS_BURST) $(BENCH_BINDINGS)

bench: bench-build bench-bindings-build
	$(BENCH_BIN) $(BENCH_ARGS)
	JSON=$(BENCH_DIR)/bindings-results.json RUNS=$(BINDINGS_RUNS) BURST=$(BINDINGS_BURST) $(BENCH_BINDINGS)

bench-smoke: bench-build bench-bindings-build
	$(BENCH_BIN) $(BENCH_SMOKE_ARGS)
	RUNS=1 BURST=20 $(BENCH_BINDINGS)
