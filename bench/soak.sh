#!/bin/sh
# bench/soak.sh [BUILD_DIR] — a bounded soak of the stack on a TUN device, in
# a private network namespace: SOAK_CONNS (1000) concurrent echo connections
# held for SOAK_MINUTES (1; the report's run used 30) with traffic on each
# about every second, connect/daytime/close churn at full speed, and a SYN flood
# of SOAK_FLOOD_RATE (500) spoofed SYNs per second on the side (from the
# namespace's own subnet, tests/tun/synflood.c). Prints a table every 30 s:
# the stack's RSS and fds, connections held, the kernel's sockets, churn and
# echo counts, data errors; then listen's exit summary (limits, cookies).
# SOAK_LISTEN_OPTS (default "--rcvbuf 64K --sndbuf 64K") are added to tcplab
# listen: with TUN's 4 MiB default buffers every connection's rings keep
# touching new pages until they wrap (4 MiB at ~120 B/s takes hours), so RSS
# climbs by the traffic's bytes for the whole run instead of levelling off.
# Exit status 0 only with zero data errors and no failed connection.
#
#   sudo bench/soak.sh                         # 1 minute
#   SOAK_MINUTES=30 nice sudo bench/soak.sh    # the long run
#   SOAK_PCAP=/tmp/rst.pcap SOAK_MINUTES=5 sudo bench/soak.sh  # and every RST on tl0
#   SOAK_RING=/tmp/r.pcap sudo bench/soak.sh   # daytime's packets, up to the first failure
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
echo "# bench/soak.sh: SOAK_MINUTES=$MIN SOAK_CONNS=$CONNS SOAK_FLOOD_RATE=$RATE SOAK_LISTEN_OPTS=$SOAK_LISTEN_OPTS"
python3 "$here/soak.py" "$B/tcplab" "$B/tests/tun/synflood" "$MIN" "$CONNS" "$RATE"
