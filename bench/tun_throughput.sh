#!/bin/sh
# bench/tun_throughput.sh [BUILD_DIR] — bulk throughput, kernel client -> discard.
#
# Three servers receive the same bulk transfer from a kernel TCP client
# (bench_tun_kclient bulk), each measured in this same run:
#   veth     kernel TCP in a second namespace over a veth pair (reference a)
#   ceiling  bench_tun_ceiling on a TUN device: ACK every segment, no state,
#            the largest window (reference b); bench/tun_compare.sh has them all
#   tcplab   tcplab listen 9:discard on a TUN device
# Everything happens inside a private network namespace made here.
# Env: TUN_BENCH_MB (default 400) megabytes per transfer, TUN_BENCH_REPS (3):
# the median of the repetitions is reported.
set -eu
# BUILD_DIR defaults to $BENCH_BUILD (set by bench/run), else ./build.
B=$(cd "${1:-${BENCH_BUILD:-build}}" && pwd)
if [ -z "${TCPLAB_IN_NETNS:-}" ] && [ -f "$B/CMakeCache.txt" ]; then
    cmake --build "$B" -j2 --target tcplab bench_tun_ceiling bench_tun_kclient bench_tun_server >/dev/null
fi
MB=${TUN_BENCH_MB:-400}
REPS=${TUN_BENCH_REPS:-3}
if [ -z "${TCPLAB_IN_NETNS:-}" ]; then
    if ! unshare --net true 2>/dev/null; then
        echo "tun_throughput: needs root (unshare --net); skipped" >&2
        exit 0
    fi
    TCPLAB_IN_NETNS=1 exec unshare --net sh "$0" "$B"
fi
ip link set lo up
KC=$B/bench/bench_tun_kclient

wait_dev() { # the TUN device with the kernel's address, at most 5 s
    i=0
    until ip -br addr show tl0 2>/dev/null | grep -q 10.7.0.1; do
        i=$((i + 1)); [ $i -lt 250 ] || { echo "no tl0" >&2; exit 1; }
        sleep 0.02
    done
}
cpu() { # CPU seconds (user + system) used so far by process $1
    awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / hz}' "/proc/$1/stat"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
bulk() { # HOST -> MB/s, median of REPS
    r=0
    while [ $r -lt "$REPS" ]; do
        "$KC" bulk "$1" 9 "$MB" | awk '{print $4}'
        r=$((r + 1))
    done | median
}

# (a) kernel to kernel over veth: the partner namespace is a sleeping child's
unshare --net sleep 600 & NS=$!
sleep 0.1
ip link add tbv0 type veth peer name tbv1
ip link set tbv1 netns $NS
ip addr add 10.8.0.1/24 dev tbv0
ip link set tbv0 up
nsenter -t $NS -n sh -c 'ip link set lo up; ip addr add 10.8.0.2/24 dev tbv1; ip link set tbv1 up'
nsenter -t $NS -n "$KC" sink 9 & SINK=$!
sleep 0.3
VETH=$(bulk 10.8.0.2)
kill $SINK $NS; wait $SINK $NS 2>/dev/null || true

# (b) the TUN ceiling: zero work, the largest window there is (65535 << 14)
"$B/bench/bench_tun_ceiling" --spin 50 2>/dev/null & P=$!  # tcplab's default busy-poll
wait_dev
CEIL=$(bulk 10.7.0.2)
CEIL_CPU=$(cpu $P)
kill $P; wait $P 2>/dev/null || true

# (c) tcplab
"$B/tcplab" listen --quiet 9:discard & P=$!
wait_dev
TL=$(bulk 10.7.0.2)
TL_CPU=$(cpu $P)
kill $P; wait $P 2>/dev/null || true

echo "bulk throughput, kernel client -> discard, $MB MB x $REPS (median), MTU 1500:"
printf "  %-34s %8.1f MB/s\n" "kernel TCP over veth (reference a)" "$VETH"
TOTAL=$((MB * REPS))
printf "  %-34s %8.1f MB/s   server CPU %.2f s per GB\n" "TUN ceiling (reference b)" "$CEIL" \
    "$(awk -v c="$CEIL_CPU" -v t="$TOTAL" 'BEGIN {print c * 1024 / t}')"
printf "  %-34s %8.1f MB/s   server CPU %.2f s per GB   = %s%% of the ceiling (target >= 65%%)\n" \
    "tcplab listen 9:discard" "$TL" "$(awk -v c="$TL_CPU" -v t="$TOTAL" 'BEGIN {print c * 1024 / t}')" \
    "$(awk -v a="$TL" -v b="$CEIL" 'BEGIN {printf "%.0f", 100 * a / b}')"
echo "(the ceiling ACKs every segment; tcplab delays ACKs as RFC 1122 allows, about one per"
echo " two segments, so it writes fewer packets into the device and can beat the ceiling)"
echo "command: sudo bench/tun_throughput.sh $B"
