#!/usr/bin/env bash
# Bindings throughput against the C API (bench/bindings.md), run by `make bench-bindings`, at
# the end of `make bench`, and with tiny counts by `make bench-smoke`.
#
# Runs the C bench (offrec only, no memory scenarios) and takes its CAPI line, then the Python
# (bindings/python/bench_burst.py) and Go (bindings/go/cmd/benchburst) burst benches with the
# same burst size: RUNS rounds of all three, one run each per round. Prints each one's median
# throughput and its ratio to the C API's against the targets (Python >= 30 %, Go >= 75 %, issue #17).
# A missed target is reported, not a failure; a wrong plaintext or any error is (exit != 0).
#
# Environment: RUNS (5 rounds), BURST (5000), BENCH (target/bench/bench), GOBENCH
# (target/bench/benchburst, built by `make bench-bindings`), PYTHON (python3), OFFREC_LIB
# (target/release/liboffrec.so), JSON (the medians, default target/bench/bindings.json),
# ARGS (the C bench's options; derived from BURST), PY_ARGS / GO_ARGS (extra options, e.g.
# PY_ARGS="--profile target/bench/py.prof" or GO_ARGS="-cpuprofile target/bench/go.pprof").
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
BURST=${BURST:-5000}
BENCH=${BENCH:-target/bench/bench}
GOBENCH=${GOBENCH:-target/bench/benchburst}
PYTHON=${PYTHON:-python3}
OFFREC_LIB=${OFFREC_LIB:-$PWD/target/release/liboffrec.so}
ARGS=${ARGS:---only-offrec --no-otr --runs 1 --burst $BURST --ake 1 --conv 2 --frag 1 --smp 1 --mem 0 --big 0 --json target/bench/bindings-capi.json}
JSON=${JSON:-target/bench/bindings.json}
PY_ARGS=${PY_ARGS:-}
GO_ARGS=${GO_ARGS:-}

field() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<<"$1"; }
want_line() { # name, line: the line must be there (a bench that printed nothing failed)
    [ -n "$2" ] || { echo "bindings.sh: no $1 line" >&2; exit 1; }
}

# RUNS rounds of C, Python, Go (one run each per round) rather than all C runs first: the
# machine's other load changes over minutes, and interleaving spreads it over all three.
echo "== bindings vs C API: burst of $BURST messages, median of $RUNS interleaved rounds"
capis=() pys=() gos=()
for round in $(seq 1 "$RUNS"); do
    capi=$("$BENCH" $ARGS 2>target/bench/bindings-capi.log | grep '^CAPI ' | tail -n 1) || true
    [ -n "$capi" ] || cat target/bench/bindings-capi.log >&2
    want_line CAPI "$capi"
    py=$(PYTHONPATH=bindings/python OFFREC_LIB="$OFFREC_LIB" \
         "$PYTHON" bindings/python/bench_burst.py --burst "$BURST" --runs 1 $PY_ARGS | grep '^PY ') || true
    want_line PY "$py"
    go=$("$GOBENCH" -burst "$BURST" -runs 1 $GO_ARGS | grep '^GO ') || true
    want_line GO "$go"
    echo "round $round: $capi"
    echo "round $round: $py"
    echo "round $round: $go"
    capis+=("$capi") pys+=("$py") gos+=("$go")
done

# median of one field over the lines given
med() {
    local key=$1; shift
    for l in "$@"; do field "$l" "$key"; done | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
c100=$(med burst_100B_msgs_per_s "${capis[@]}")
c4k=$(med burst_4KiB_msgs_per_s "${capis[@]}")
py="PY burst_100B_msgs_per_s=$(med burst_100B_msgs_per_s "${pys[@]}") burst_4KiB_msgs_per_s=$(med burst_4KiB_msgs_per_s "${pys[@]}")"
go="GO burst_100B_msgs_per_s=$(med burst_100B_msgs_per_s "${gos[@]}") burst_4KiB_msgs_per_s=$(med burst_4KiB_msgs_per_s "${gos[@]}")"

printf '\n%-8s %12s %12s %10s %10s  %-8s %s\n' binding "100B msg/s" "4KiB msg/s" "100B vs C" "4KiB vs C" target met
printf '%-8s %12.0f %12.0f\n' "C API" "$c100" "$c4k"
for line in "$py:Python:0.30" "$go:Go:0.75"; do
    l=${line%:*:*}; rest=${line#"$l":}; name=${rest%%:*}; need=${rest#*:}
    awk -v n="$name" -v a="$(field "$l" burst_100B_msgs_per_s)" -v b="$(field "$l" burst_4KiB_msgs_per_s)" \
        -v c="$c100" -v d="$c4k" -v need="$need" 'BEGIN {
            r1 = a / c; r2 = b / d
            printf "%-8s %12.0f %12.0f %9.0f%% %9.0f%%  >= %2.0f %%  %s\n", n, a, b, r1 * 100, r2 * 100,
                   need * 100, (r1 >= need && r2 >= need) ? "yes" : "NO"
        }'
done
mkdir -p "$(dirname "$JSON")"
cat >"$JSON" <<JSON
{
  "burst": $BURST,
  "rounds": $RUNS,
  "burst_100B_msgs_per_s": {"c_api": $c100, "python": $(field "$py" burst_100B_msgs_per_s), "go": $(field "$go" burst_100B_msgs_per_s)},
  "burst_4KiB_msgs_per_s": {"c_api": $c4k, "python": $(field "$py" burst_4KiB_msgs_per_s), "go": $(field "$go" burst_4KiB_msgs_per_s)}
}
JSON
[ "$BURST" -ge 1000 ] || echo "(tiny burst of $BURST: a smoke test of the scripts; the ratios mean nothing)"
