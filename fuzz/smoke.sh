#!/bin/sh
# fuzz/smoke.sh — build every libFuzzer target (fuzz/fuzz_*.c) with clang in
# its own build directory and run each one for a bounded time over a copy of
# its seed corpus. CI runs this; exit status 0 only if every target built and
# none crashed, leaked or timed out.
#
#   fuzz/smoke.sh                 # 20 s per target
#   FUZZ_SECONDS=300 fuzz/smoke.sh
#   FUZZ_BUILD_DIR=/tmp/bf fuzz/smoke.sh
#
# Seeds: fuzz/corpus/<name without fuzz_>/ when it exists; fuzz_scenario
# uses the scenario files themselves (scenarios/lessons, scenarios/regress).
# A crashing input is kept as <build dir>/crash-* and its path printed;
# replay it with: <build dir>/fuzz/<target> <crash file>
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
cc=${FUZZ_CC:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz/smoke.sh: $cc not found — install clang (Debian: apt-get install clang)" >&2
    exit 2
fi

cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" -DTCPLAB_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" 2>&1 || {
    cat "$build.configure.log" >&2
    echo "fuzz/smoke.sh: cmake configure failed" >&2
    exit 1
}

status=0
targets=""
for f in "$here"/fuzz_*.c; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .c)
    echo "== building $name"
    if cmake --build "$build" -j2 --target "$name" >"$build/$name.build.log" 2>&1; then
        targets="$targets $name"
    else
        tail -n 30 "$build/$name.build.log" >&2
        echo "fuzz/smoke.sh: $name did not build (log: $build/$name.build.log)" >&2
        status=1
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tcplab-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

for name in $targets; do
    short=${name#fuzz_}
    seeds=""
    if [ -d "$here/corpus/$short" ]; then
        seeds="$here/corpus/$short"
    elif [ "$name" = fuzz_scenario ]; then
        for d in "$src/scenarios/lessons" "$src/scenarios/regress"; do
            [ -d "$d" ] && seeds="$seeds $d"
        done
    fi
    # New inputs go into a scratch directory; the seed directories are only read.
    mkdir -p "$work/$name"
    echo "== running $name for ${seconds}s (seeds:${seeds:- none})"
    # shellcheck disable=SC2086 # $seeds is a list of directories
    (cd "$build" && "./fuzz/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$work/$name" $seeds) >"$build/$name.fuzz.log" 2>&1
    rc=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+ *DONE' \
        "$build/$name.fuzz.log"
    if [ "$rc" -ne 0 ]; then
        tail -n 60 "$build/$name.fuzz.log" >&2
        echo "fuzz/smoke.sh: $name FAILED (exit $rc); full log: $build/$name.fuzz.log" >&2
        ls "$build"/crash-* "$build"/leak-* "$build"/timeout-* 2>/dev/null >&2
        status=1
    else
        echo "== $name: no crash"
    fi
done

exit $status
