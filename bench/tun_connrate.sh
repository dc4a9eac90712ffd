#!/bin/sh
# bench/tun_connrate.sh [BUILD_DIR] — connections per second from a kernel
# client: connect, shutdown(SHUT_WR), read to EOF, close; one at a time and
# 16 in flight. Servers, each measured in this same run:
#   veth     kernel TCP in a second namespace over a veth pair (reference a)
#   ceiling  bench_tun_ceiling on a TUN device (reference b)
#   tcplab   tcplab listen 9:discard on a TUN device
# Each server gets a fresh namespace, so TIME_WAIT sockets of one run do not
# crowd the next. The three servers take turns, TUN_BENCH_REPS times (3),
# and the median of each is reported: the machine is shared and noisy.
# Env: TUN_BENCH_CONNS (default 10000) connections per run.
set -eu
# BUILD_DIR defaults to $BENCH_BUILD (set by bench/run), else ./build.
B=$(cd "${1:-${BENCH_BUILD:-build}}" && pwd)
if [ -z "${TCPLAB_IN_NETNS:-}" ] && [ -f "$B/CMakeCache.txt" ]; then
    cmake --build "$B" -j2 --target tcplab bench_tun_ceiling bench_tun_kclient bench_tun_server >/dev/null
fi
N=${TUN_BENCH_CONNS:-10000}
REPS=${TUN_BENCH_REPS:-3}
if ! unshare --net true 2>/dev/null; then
    echo "tun_connrate: needs root (unshare --net); skipped" >&2
    exit 0
fi
KC=$B/bench/bench_tun_kclient

# One measurement in its own namespace: SERVER-KIND INFLIGHT -> conns/s
measure() {
    unshare --net sh -s "$B" "$1" "$2" "$N" <<'EOF'
set -eu
B=$1 KIND=$2 INFLIGHT=$3 N=$4
KC=$B/bench/bench_tun_kclient
ip link set lo up
sysctl -q -w net.ipv4.ip_local_port_range="1024 65000"
CPU=0
cpu() { # CPU seconds (user + system) used so far by process $1
    awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / hz}' "/proc/$1/stat"
}
wait_dev() {
    i=0
    until ip -br addr show tl0 2>/dev/null | grep -q 10.7.0.1; do
        i=$((i + 1)); [ $i -lt 250 ] || { echo "no tl0" >&2; exit 1; }
        sleep 0.02
    done
}
case $KIND in
veth)
    unshare --net sleep 600 & NS=$!
    sleep 0.1
    ip link add tbv0 type veth peer name tbv1
    ip link set tbv1 netns $NS
    ip addr add 10.8.0.1/24 dev tbv0
    ip link set tbv0 up
    nsenter -t $NS -n sh -c 'ip link set lo up; ip addr add 10.8.0.2/24 dev tbv1; ip link set tbv1 up'
    nsenter -t $NS -n "$KC" sink 9 & P=$!
    sleep 0.3
    R=$("$KC" conns 10.8.0.2 9 "$N" "$INFLIGHT")
    kill $P $NS ;;
ceiling)
    "$B/bench/bench_tun_ceiling" --spin 50 2>/dev/null & P=$!  # tcplab's default busy-poll
    wait_dev
    R=$("$KC" conns 10.7.0.2 9 "$N" "$INFLIGHT")
    CPU=$(cpu $P)
    kill $P ;;
tcplab)
    "$B/tcplab" listen --quiet 9:discard & P=$!
    wait_dev
    R=$("$KC" conns 10.7.0.2 9 "$N" "$INFLIGHT")
    CPU=$(cpu $P)
    kill $P ;;
esac
wait 2>/dev/null || true
# conns/s and the server's CPU microseconds per connection
echo "$R" | awk -v cpu="$CPU" -v n="$N" '{printf "%s %.1f\n", $4, cpu * 1e6 / n}'
EOF
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "connections/s (connect + shutdown + read EOF + close), $N per run, median of $REPS:"
for f in 1 16; do
    V="" C="" T="" CC="" TC=""
    r=0
    while [ $r -lt "$REPS" ]; do
        V="$V $(measure veth $f | cut -d' ' -f1)"
        x=$(measure ceiling $f)
        C="$C ${x% *}" CC="$CC ${x#* }"
        x=$(measure tcplab $f)
        T="$T ${x% *}" TC="$TC ${x#* }"
        r=$((r + 1))
    done
    V=$(echo "$V" | median) C=$(echo "$C" | median) T=$(echo "$T" | median)
    CC=$(echo "$CC" | median) TC=$(echo "$TC" | median)
    printf "  %2d in flight: veth %7.0f/s   TUN ceiling %7.0f/s (%s us CPU/conn)   tcplab %7.0f/s (%s us CPU/conn) = %s%% of ceiling (target >= 70%%)\n" \
        "$f" "$V" "$C" "$CC" "$T" "$TC" "$(awk -v a="$T" -v b="$C" 'BEGIN {printf "%.0f", 100 * a / b}')"
done
echo "command: sudo bench/tun_connrate.sh $B"
