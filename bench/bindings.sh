#!/usr/bin/env bash
# STUB -- NOT CALLED by `make bench`, `make bench-smoke` or CI. See bench/bindings.md.
# Runs the C bench, takes its CAPI line, runs the Python and Go burst benches (TODO), and
# prints each binding's throughput as a ratio to the C API's.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=${BENCH:-target/bench/bench}
ARGS=${ARGS:---only-offrec --runs 3 --ake 1 --conv 2 --smp 1 --mem 0 --big 0 --json target/bench/bindings.json}

capi=$("$BENCH" $ARGS | grep '^CAPI ')
field() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<<"$1"; }
c100=$(field "$capi" burst_100B_msgs_per_s)
c4k=$(field "$capi" burst_4KiB_msgs_per_s)
echo "C API: burst 100 B ${c100} msg/s, 4 KiB ${c4k} msg/s"

# --- Python binding: TODO when it lands. Must print a line "PY burst_100B_msgs_per_s=... burst_4KiB_msgs_per_s=..."
py=""   # py=$(python3 bindings/python/bench_burst.py --burst 5000 | grep '^PY ')
# --- Go binding: TODO when it lands. Must print a line "GO burst_100B_msgs_per_s=... burst_4KiB_msgs_per_s=..."
go=""   # go=$(cd bindings/go && go run ./cmd/benchburst -burst 5000 | grep '^GO ')

for line in "$py" "$go"; do
    [ -n "$line" ] || continue
    name=${line%% *}
    awk -v n="$name" -v a="$(field "$line" burst_100B_msgs_per_s)" -v b="$(field "$line" burst_4KiB_msgs_per_s)" \
        -v c="$c100" -v d="$c4k" 'BEGIN { printf "%s: 100 B %.2fx of C, 4 KiB %.2fx of C\n", n, a / c, b / d }'
done
