#!/bin/sh
# bench/wire.sh — the wire module alone (see bench/bench_wire.c): parse and
# verify (both checksums) a 1500-byte IPv4/TCP packet carrying 1460 bytes,
# and build one. The figure that matters is instructions per packet counted
# by callgrind (it does not vary with machine load); nanoseconds are shown
# for scale. Run through bench/run, or alone: BENCH_BUILD=build-bench sh bench/wire.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=${BENCH_BUILD:-$top/build-bench}
[ -f "$B/CMakeCache.txt" ] || cmake -S "$top" -B "$B" -DCMAKE_BUILD_TYPE=Release -DTCPLAB_WERROR=OFF >/dev/null
log=$(mktemp /tmp/tcplab-bench-build.XXXXXX)
if ! cmake --build "$B" -j2 --target bench_wire >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    exit 1
fi
rm -f "$log"
prog="$B/bench/bench_wire"

echo "\$ $prog 2000000"
"$prog" 2000000

N=20000
if command -v valgrind >/dev/null 2>&1 && command -v callgrind_annotate >/dev/null 2>&1; then
    out=$(mktemp /tmp/tcplab-callgrind.XXXXXX)
    cmd="valgrind --tool=callgrind --callgrind-out-file=$out $prog $N"
    echo "\$ $cmd"
    $cmd >/dev/null 2>&1
    # Inclusive instruction counts of the three entry points; bench_wire
    # calls each parser N times and the builder N/4+1 times.
    callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null | awk -v n="$N" '
        function count(s) { gsub(/,/, "", s); return s + 0 }
        $3 ~ /:wire_ipv4_parse$/ && !ip  { ip = count($1) }
        $3 ~ /:wire_tcp_parse$/  && !tcp { tcp = count($1) }
        $3 ~ /:wire_tcp_build$/  && !bld { bld = count($1) }
        END {
            if (!ip || !tcp) { print "could not read the callgrind figures"; exit 1 }
            printf "wire_ipv4_parse: %d instructions per packet\n", ip / n
            printf "wire_tcp_parse:  %d instructions per packet (1480-byte segment, checksum verified)\n", tcp / n
            printf "parse + verify:  %d instructions per 1500-byte packet\n", (ip + tcp) / n
            if (bld) printf "wire_tcp_build:  %d instructions per 1500-byte packet\n", bld / (n / 4 + 1)
        }'
    rm -f "$out"
else
    echo "valgrind not found: skipping the instruction count (apt-get install valgrind)"
fi
