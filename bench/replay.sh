#!/bin/sh
# replay.sh [TCPLAB] — wall time of replaying every lesson and regression
# scenario on the virtual link (target: the whole suite in under 1 s).
# A benchmark, not a test: it reports, it does not judge. Runs the suite
# RUNS times (default 10) and prints the best and the median.
#   bench/replay.sh build/tcplab
# Without an argument it uses $BENCH_BUILD (set by bench/run), building the
# program there if needed, else ./build/tcplab.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then
    tcplab=$1
elif [ -n "${BENCH_BUILD:-}" ]; then
    cmake --build "$BENCH_BUILD" --target tcplab -j2 >/dev/null || exit 2
    tcplab=$(find "$BENCH_BUILD" -maxdepth 2 -name tcplab -type f -perm -u+x | head -n 1)
else
    tcplab=$here/build/tcplab
fi
runs=${RUNS:-10}
[ -x "$tcplab" ] || { echo "no tcplab program at $tcplab (build first, or pass its path)" >&2; exit 2; }
files=$(ls "$here"/scenarios/lessons/*.tcps "$here"/scenarios/regress/*.tcps 2>/dev/null)
n=$(echo "$files" | wc -w)
[ "$n" -gt 0 ] || { echo "no scenarios found" >&2; exit 2; }
last=$("$tcplab" replay $files | tail -1)
times=""
i=0
while [ $i -lt "$runs" ]; do
    t0=$(date +%s%N)
    "$tcplab" replay $files >/dev/null
    t1=$(date +%s%N)
    times="$times $(( (t1 - t0) / 1000 ))"
    i=$((i + 1))
done
sorted=$(echo $times | tr ' ' '\n' | sort -n)
best=$(echo "$sorted" | head -1)
median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
printf 'replay of %d scenarios (%s): best %d.%03d ms, median %d.%03d ms over %d runs (target < 1000 ms)\n' \
    "$n" "$last" $((best / 1000)) $((best % 1000)) $((median / 1000)) $((median % 1000)) "$runs"
