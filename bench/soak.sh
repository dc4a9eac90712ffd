#!/bin/sh
# bench/soak.sh [BUILD_DIR] — a bounded soak of the stack on a TUN device, in
# a private network namespace: SOAK_CONNS (1000) concurrent echo connections
# held for SOAK_MINUTES (1; the report's run used 30) with traffic on each
# about every second, connect/daytime/close churn at full speed, and a SYN flood
# of SOAK_FLOOD_RATE (500) spoofed SYNs per second on the side (from the
# namespace's own subnet, tests/tun/synflood.c). Prints a table every 30 s:
# the stack's RSS and fds, connections held, the kernel's sockets, churn
# (done, failed) and echo counts, data errors, tl0's drops; then why churn
# connects failed, listen's exit summary (limits, cookies) and the verdict.
# SOAK_LISTEN_OPTS (default "--rcvbuf 64K --sndbuf 64K") are added to tcplab
# listen: with TUN's 4 MiB default buffers every connection's rings keep
# touching new pages until they wrap (4 MiB at ~120 B/s takes hours), so RSS
# climbs by the traffic's bytes for the whole run instead of levelling off;
# and before the clock starts SOAK_FILL (128 KiB) goes through every held
# connection, so each ring has wrapped once and RSS has no reason left to grow.
# Exit status 0 if and only if: zero data errors, every held connection alive
# at the end, no churn failure left unexplained (explained means tl0 dropped a
# packet during that connect's own handshake: bench/soak.py classify()), RSS
# and fds flat after the warm-up (SOAK_WARMUP, 300 s or half the run; flat is
# at most +2 MiB or +2 % of RSS, and not one fd more) and listen exited 0.
# The last lines say each condition and "soak verdict: pass" or "FAIL".
# SOAK_TXQUEUELEN=N sets tl0's queue (500) for the run, to measure it.
#
#   sudo bench/soak.sh                         # 1 minute
#   SOAK_MINUTES=30 nice sudo bench/soak.sh    # the long run
#   SOAK_PCAP=/tmp/rst.pcap SOAK_MINUTES=5 sudo bench/soak.sh  # and every RST on tl0
#   SOAK_RING=/tmp/r.pcap sudo bench/soak.sh   # daytime's packets, up to the first failure
#   SOAK_MINUTES=0.25 SOAK_CONNS=200 sudo bench/soak.sh  # as ctest's tun.soak_short_* does
set -eu
B=$(cd "${1:-${BENCH_BUILD:-build}}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${TCPLAB_IN_NETNS:-}" ] && [ -f "$B/CMakeCache.txt" ]; then
    cmake --build "$B" -j2 --target tcplab synflood >/dev/null
fi
MIN=${SOAK_MINUTES:-1}
CONNS=${SOAK_CONNS:-1000}
RATE=${SOAK_FLOOD_RATE:-500}
SOAK_LISTEN_OPTS=${SOAK_LISTEN_OPTS---rcvbuf 64K --sndbuf 64K}
export SOAK_LISTEN_OPTS
if [ -z "${TCPLAB_IN_NETNS:-}" ]; then
    if ! unshare --net true 2>/dev/null; then
        echo "soak: needs root (unshare --net); skipped" >&2
        exit 0
    fi
    TCPLAB_IN_NETNS=1 exec unshare --net sh "$0" "$B"
fi
ip link set lo up
sysctl -q -w net.ipv4.ip_local_port_range="1024 65000"
echo "# $(uptime)"
echo "# bench/soak.sh: SOAK_MINUTES=$MIN SOAK_CONNS=$CONNS SOAK_FLOOD_RATE=$RATE SOAK_LISTEN_OPTS=$SOAK_LISTEN_OPTS${SOAK_FILL+ SOAK_FILL=$SOAK_FILL}${SOAK_TXQUEUELEN+ SOAK_TXQUEUELEN=$SOAK_TXQUEUELEN}"
exec python3 "$here/soak.py" "$B/tcplab" "$B/tests/tun/synflood" "$MIN" "$CONNS" "$RATE"
