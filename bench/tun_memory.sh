#!/bin/sh
# bench/tun_memory.sh [BUILD_DIR] — peak memory of the stack on a TUN device
# with (1) 10,000 concurrent established connections (kernel clients holding
# connections to discard) and (2) 100,000 connections in TIME_WAIT (the
# stack closes first: daytime on eight ports, MSL 600 s so none expire).
#
# The server is bench_tun_server: tcplab listen's loop and services plus a
# line of counters every 0.5 s (heap bytes in use from malloc, VmRSS, VmHWM,
# connection counts). Engine bytes = heap in use minus the heap just before
# the phase. Env: TUN_BENCH_EST (10000), TUN_BENCH_TW (100000).
set -eu
# BUILD_DIR defaults to $BENCH_BUILD (set by bench/run), else ./build.
B=$(cd "${1:-${BENCH_BUILD:-build}}" && pwd)
if [ -z "${TCPLAB_IN_NETNS:-}" ] && [ -f "$B/CMakeCache.txt" ]; then
    cmake --build "$B" -j2 --target tcplab bench_tun_ceiling bench_tun_kclient bench_tun_server >/dev/null
fi
EST=${TUN_BENCH_EST:-10000}
TW=${TUN_BENCH_TW:-100000}
if [ -z "${TCPLAB_IN_NETNS:-}" ]; then
    if ! unshare --net true 2>/dev/null; then
        echo "tun_memory: needs root (unshare --net); skipped" >&2
        exit 0
    fi
    TCPLAB_IN_NETNS=1 exec unshare --net sh "$0" "$B"
fi
ip link set lo up
sysctl -q -w net.ipv4.ip_local_port_range="1024 65000"
KC=$B/bench/bench_tun_kclient
OUT=$(mktemp)
FIFO=$(mktemp -u)
mkfifo "$FIFO"
trap 'rm -f "$OUT" "$FIFO"' EXIT

"$B/bench/bench_tun_server" --quiet --msl 600 --every 0.5 \
    9:discard 13:daytime 1013:daytime 2013:daytime 3013:daytime \
    4013:daytime 5013:daytime 6013:daytime 7013:daytime >"$OUT" & S=$!
i=0
until ip -br addr show tl0 2>/dev/null | grep -q 10.7.0.1; do
    i=$((i + 1)); [ $i -lt 250 ] || { echo "no tl0" >&2; exit 1; }
    sleep 0.02
done
sleep 0.6
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" | tail -n 1; }
last() { tail -n 1 "$OUT"; }
BASE_HEAP=$(last | field heap)
BASE_RSS=$(last | field rss_kb)

# (1) established: hold EST connections until we close the FIFO
"$KC" hold 10.7.0.2 9 "$EST" <"$FIFO" >"$OUT.hold" & H=$!
exec 3>"$FIFO"
i=0
until grep -q held "$OUT.hold" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 1200 ] || { echo "hold did not finish" >&2; exit 1; }
    sleep 0.1
done
sleep 1.2
EST_LINE=$(last)
exec 3>&-
wait $H || true
rm -f "$OUT.hold"
# wait until the connections are gone again (bounded)
i=0
while [ "$(last | field conns)" != 0 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
TW_BASE_HEAP=$(last | field heap)

# (2) TIME_WAIT: the stack closes first; clients read to EOF then close
TWR=$("$KC" tw 10.7.0.2 13,1013,2013,3013,4013,5013,6013,7013 "$TW" 16) || true
sleep 1.2
TW_LINE=$(last)
kill $S; wait $S 2>/dev/null || true
HWM=$(last | field hwm_kb)

E_CONNS=$(echo "$EST_LINE" | field conns)
E_HEAP=$(echo "$EST_LINE" | field heap)
E_RSS=$(echo "$EST_LINE" | field rss_kb)
T_TW=$(echo "$TW_LINE" | field time_wait)
T_HEAP=$(echo "$TW_LINE" | field heap)
T_RSS=$(echo "$TW_LINE" | field rss_kb)
echo "peak memory of the stack on TUN (bench_tun_server = tcplab listen's loop + services):"
echo "  baseline: heap in use $BASE_HEAP B, RSS $BASE_RSS KiB"
awk -v c="$E_CONNS" -v h="$E_HEAP" -v b="$BASE_HEAP" -v r="$E_RSS" -v br="$BASE_RSS" 'BEGIN {
    printf "  %d established: heap +%.1f MiB (%.0f B/conn, engine + services), RSS %.1f MiB (+%.0f B/conn)\n",
        c, (h - b) / 1048576, c ? (h - b) / c : 0, r / 1024, c ? (r - br) * 1024 / c : 0 }'
awk -v c="$T_TW" -v h="$T_HEAP" -v b="$TW_BASE_HEAP" -v r="$T_RSS" 'BEGIN {
    printf "  %d in TIME_WAIT: heap +%.1f MiB = %.0f B per TIME_WAIT entry (issue #11 target: at most 256), RSS %.1f MiB\n",
        c, (h - b) / 1048576, c ? (h - b) / c : 0, r / 1024 }'
echo "  peak RSS (VmHWM) $HWM KiB; kernel client: $TWR"
echo "command: sudo bench/tun_memory.sh $B"
