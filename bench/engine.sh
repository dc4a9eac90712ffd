#!/bin/sh
# bench/engine.sh — the TCP engine alone, over the virtual link (see
# bench/bench_engine.c): bulk transfer, connection setup + teardown, and
# instructions per received in-order data segment counted by callgrind.
# Run through bench/run, or alone: BENCH_BUILD=build-bench sh bench/engine.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=${BENCH_BUILD:-$top/build-bench}
[ -f "$B/CMakeCache.txt" ] || cmake -S "$top" -B "$B" -DCMAKE_BUILD_TYPE=Release -DTCPLAB_WERROR=OFF >/dev/null
log=$(mktemp /tmp/tcplab-bench-build.XXXXXX)
if ! cmake --build "$B" -j2 --target bench_engine >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    exit 1
fi
rm -f "$log"
prog="$B/bench/bench_engine"

run() {
    echo "\$ $*"
    "$@"
}

run "$prog" bulk 2000
run "$prog" conn 200000

N=20000
if command -v valgrind >/dev/null 2>&1; then
    out=$(mktemp /tmp/tcplab-callgrind.XXXXXX)
    cmd="valgrind --tool=callgrind --toggle-collect=bench_rx_segment --callgrind-out-file=$out $prog rx $N"
    echo "\$ $cmd"
    $cmd 2>/dev/null
    total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out")
    [ -n "$total" ] || total=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out")
    echo "rx: $total instructions in stack_input for $N in-order 1460-byte segments" \
         "= $((total / N)) instructions per segment (issue #11 target: at most 1000)"
    rm -f "$out"
else
    echo "valgrind not found: skipping the instruction count (apt-get install valgrind)"
fi
