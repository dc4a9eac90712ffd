#!/bin/sh
# fuzz/smoke.sh — build every libFuzzer target (fuzz/fuzz_*.c) with clang in
# its own build directory (ASan + UBSan + libFuzzer) and run each one, one
# after the other, for a bounded time or number of inputs over a copy of its
# seed corpus. CI runs the short form; exit status 0 only if every target
# built and none crashed, leaked or timed out.
#
#   fuzz/smoke.sh                          # 20 s per target (CI)
#   FUZZ_SECONDS=300 fuzz/smoke.sh
#   FUZZ_RUNS=10000000 fuzz/smoke.sh       # a campaign: 10 M inputs per target
#                                          # (make fuzz FUZZ_RUNS=...)
#   FUZZ_TARGETS="fuzz_packet" fuzz/smoke.sh
#   FUZZ_BUILD_DIR=/tmp/bf fuzz/smoke.sh
#   FUZZ_FLAGS=-entropic=0 fuzz/smoke.sh   # more libFuzzer flags for every run
#
# With FUZZ_RUNS the time limit is FUZZ_SECONDS if set, else none. Each run
# prints its inputs and inputs/s (stat::average_exec_per_sec), and with GNU
# time (/usr/bin/time) its CPU seconds and inputs per CPU second. After a run of
# an engine target (one that uses harness_fuzz), every input of the run is
# replayed with FUZZ_CHECK=1: on a fresh and on a restored world, which must
# do the same.
#
# Adding a target: add fuzz/fuzz_NAME.c (fuzz/CMakeLists.txt builds every
# fuzz_*.c). Seeds: fuzz/corpus/NAME/ if it exists, else the directories
# listed one per line (relative to the repository) in fuzz/corpus/NAME.dirs.
# A crashing input is kept as <build dir>/crash-* and its path printed;
# replay it with: <build dir>/fuzz/<target> <crash file>
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
runs=${FUZZ_RUNS:-}
if [ -n "$runs" ]; then
    seconds=${FUZZ_SECONDS:-0}
else
    seconds=${FUZZ_SECONDS:-20}
fi
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
wanted=${FUZZ_TARGETS:-}
for f in "$here"/fuzz_*.c; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .c)
    if [ -n "$wanted" ]; then
        case " $wanted " in *" $name "*) ;; *) continue ;; esac
    fi
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
    elif [ -f "$here/corpus/$short.dirs" ]; then
        while read -r d; do
            [ -n "$d" ] && [ -d "$src/$d" ] && seeds="$seeds $src/$d"
        done <"$here/corpus/$short.dirs"
    fi
    # New inputs go into a scratch directory; the seed directories are only read.
    mkdir -p "$work/$name"
    limit="-max_total_time=$seconds"
    what="${seconds}s"
    if [ -n "$runs" ]; then
        limit="$limit -runs=$runs"
        what="$runs inputs"
        [ "$seconds" != 0 ] && what="$what or ${seconds}s"
    fi
    echo "== running $name for $what (seeds:${seeds:- none})"
    # Inputs per CPU second too (with GNU time): on a shared machine the
    # wall-clock rate mostly measures the other load.
    timer=""
    rm -f "$build/$name.cpu"
    [ -x /usr/bin/time ] && timer="/usr/bin/time -f %U+%S -o $build/$name.cpu"
    # shellcheck disable=SC2086 # $seeds is a list of directories, $limit, $timer and $FUZZ_FLAGS options
    (cd "$build" && $timer "./fuzz/$name" $limit -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 ${FUZZ_FLAGS:-} "$work/$name" $seeds) >"$build/$name.fuzz.log" 2>&1
    rc=$?
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|^#[0-9]+ *DONE' \
        "$build/$name.fuzz.log"
    if [ -s "$build/$name.cpu" ]; then
        awk -v cpu="$(tail -n 1 "$build/$name.cpu")" '/^stat::number_of_executed_units/ {
            split(cpu, t, "+"); s = t[1] + t[2]
            if (s > 0) printf "cpu seconds: %.1f, inputs per cpu second: %d\n", s, $2 / s }' \
            "$build/$name.fuzz.log"
    fi
    if [ "$rc" -ne 0 ]; then
        tail -n 60 "$build/$name.fuzz.log" >&2
        echo "fuzz/smoke.sh: $name FAILED (exit $rc); full log: $build/$name.fuzz.log" >&2
        ls "$build"/crash-* "$build"/leak-* "$build"/timeout-* 2>/dev/null >&2
        status=1
    else
        echo "== $name: no crash"
    fi
    # The engine targets restore their world from a snapshot: replay every
    # input of the run (new and seeds) on a fresh and on a restored world and
    # compare what the stack did (harness.h, FUZZ_CHECK).
    if [ "$rc" -eq 0 ] && grep -q harness_fuzz "$here/$name.c"; then
        # shellcheck disable=SC2086 # $seeds is a list of directories
        if (cd "$build" && FUZZ_CHECK=1 "./fuzz/$name" -runs=0 "$work/$name" $seeds) \
            >"$build/$name.check.log" 2>&1; then
            echo "== $name: restored worlds match fresh ones ($(grep -Eo '^#[0-9]+' \
                "$build/$name.check.log" | tail -n 1 | tr -d '#') inputs)"
        else
            tail -n 30 "$build/$name.check.log" >&2
            echo "fuzz/smoke.sh: $name: a restored world differs (log: $build/$name.check.log)" >&2
            status=1
        fi
    fi
done

exit $status
