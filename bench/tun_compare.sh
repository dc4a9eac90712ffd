#!/bin/sh
# bench/tun_compare.sh [BUILD_DIR] — tcplab on TUN against every reference,
# all in one run, printed as ratios (issue #11's targets).
#
# Servers, each in a fresh private network namespace per repetition, pinned
# to CPU 1 while the kernel client is pinned to CPU 0 (taskset):
#   veth     kernel TCP in a second namespace over a veth pair
#   ceiling  bench_tun_ceiling: zero work, offers the largest window there is
#            (65535 << 14), plain 1500-byte packets, one ACK per flow per
#            drain of the device (not one per segment)
#   ceil+off bench_tun_ceiling --vnet: IFF_VNET_HDR + TUNSETOFFLOAD(CSUM|TSO4),
#            so the kernel hands over 64 KB GSO super-packets
#   lwip     Debian's lwIP 2.1.3 on TUN (bench/lwip/bench_tun_lwip.c, raw API)
#   tcplab   tcplab listen 9:discard 7:echo (defaults: window scaling, 4 MiB,
#            TUN offloads on)
#   plain    the same with --no-offload (1500-byte packets; its target is
#            the plain ceiling): an ACK at least per 2*RMSS bytes, RFC 1122
#   stretch  plain with --stretch-acks 64K: one ACK per burst drained at
#            once, as Linux's GRO (RFC 2525 §2.13's stretch ACK; opt-in)
# Figures: bulk kernel -> server (MB/s, 10^6 bytes), echo (MB/s each way),
# connect+close 16 in flight and 1 at a time (conn/s), stack -> kernel bulk
# (`tcplab connect` sending into a kernel reader), and the server's CPU
# (user+sys, all threads) per MB of bulk received and per connection one at
# a time (busy-polling included). Medians of REPS runs; for
# 16 in flight also the smallest run (a collapse shows there).
# Busy-poll: tcplab's loop busy-polls for up to 50 us after a wake-up with
# packets (`--busy-poll`, docs/tun.md). Every TUN server here waits the same
# way, so the columns compare stacks, not ways of waiting: BENCH_SPIN (50,
# tcplab's default) is given to tcplab as --busy-poll and to the ceiling and
# lwIP as --spin (a fixed window, never less patient than tcplab's adaptive
# one). BENCH_SPIN=0: every TUN server sleeps in poll()/read() at once.
# Env: BENCH_MB (300), BENCH_CONNS (5000), BENCH_REPS (3), BENCH_KINDS (all),
# BENCH_SPIN (50), BENCH_PRIO (none; e.g. "chrt -f 10": every server and
# client runs under this prefix, so on a machine busy with other work they
# are not preempted by it — for A/B runs under load; a quiet machine needs
# none, and a figure taken with it says so).
# The machine is shared: say the load (uptime is printed) with any figure.
set -eu
B=$(cd "${1:-${BENCH_BUILD:-build}}" && pwd)
if [ -f "$B/CMakeCache.txt" ]; then
    cmake --build "$B" -j2 --target tcplab bench_tun_ceiling bench_tun_kclient >/dev/null
    cmake --build "$B" -j2 --target bench_tun_lwip >/dev/null 2>&1 || true
fi
MB=${BENCH_MB:-300}
N=${BENCH_CONNS:-5000}
REPS=${BENCH_REPS:-3}
SPIN=${BENCH_SPIN:-50}
PRIO=${BENCH_PRIO:-}
if ! unshare --net true 2>/dev/null; then
    echo "tun_compare: needs root (unshare --net); skipped" >&2
    exit 0
fi
KINDS="veth ceiling ceil+off tcplab plain stretch"
[ -x "$B/bench/bench_tun_lwip" ] && KINDS="veth ceiling ceil+off lwip tcplab plain stretch"
KINDS=${BENCH_KINDS:-$KINDS}
OUT=$(mktemp -d /tmp/tcplab-bench-XXXXXX)
trap 'rm -rf "$OUT"' EXIT

# One repetition for one server kind, in its own namespace. Prints:
#   KIND bulk echo conns16 conns1 stack2kernel cpu_ms_per_MB cpu_us_per_conn1 ("-" = n/a)
measure() {
    unshare --net sh -s "$B" "$1" "$MB" "$N" "$SPIN" "$PRIO" <<'EOF'
set -eu
B=$1 KIND=$2 MB=$3 N=$4 SPIN=$5 PRIO=$6
KC=$B/bench/bench_tun_kclient
C0="$PRIO taskset -c 0" C1="$PRIO taskset -c 1"
ip link set lo up
sysctl -q -w net.ipv4.ip_local_port_range="1024 65000"
# nanoseconds on a CPU, all threads (schedstat: finer than stat's ticks)
cpu_ns() { cat /proc/$1/task/*/schedstat | awk '{s += $1} END {print s}'; }
cpu() { awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / hz}' "/proc/$1/stat"; }
wait_dev() {
    i=0
    until ip -br addr show "$1" 2>/dev/null | grep -q "$2"; do
        i=$((i + 1)); [ $i -lt 250 ] || { echo "no $1" >&2; exit 1; }
        sleep 0.02
    done
}
field() { awk '{print $4}'; }
HOST=10.7.0.2 ECHO=- S2K=- CPUMB=- CPUC=-
P="" S1="" S2="" NS="" R=""
# A measurement that fails (set -e) must not leave its server behind:
# stop what this run started, by PID, however it ends.
trap 'for p in $P $S1 $S2 $NS $R; do kill "$p" 2>/dev/null || true; done' EXIT
case $KIND in
veth)
    unshare --net sleep 600 & NS=$!
    sleep 0.1
    ip link add tbv0 type veth peer name tbv1
    ip link set tbv1 netns $NS
    ip addr add 10.8.0.1/24 dev tbv0
    ip link set tbv0 up
    nsenter -t $NS -n sh -c 'ip link set lo up; ip addr add 10.8.0.2/24 dev tbv1; ip link set tbv1 up'
    nsenter -t $NS -n $C1 "$KC" sink 9 & S1=$!
    nsenter -t $NS -n $C1 "$KC" echosrv 7 & S2=$!
    sleep 0.3
    HOST=10.8.0.2 ;;
ceiling|ceil+off)
    [ $KIND = ceiling ] && V="" || V=--vnet
    $C1 "$B/bench/bench_tun_ceiling" $V --spin "$SPIN" 2>/dev/null & P=$!
    wait_dev tl0 10.7.0.1 ;;
lwip)
    $C1 "$B/bench/bench_tun_lwip" --spin "$SPIN" 2>/dev/null & P=$!
    i=0; until ip link show tl0 >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 250 ]; sleep 0.02; done
    ip addr add 10.7.0.1/24 dev tl0; ip link set tl0 up; sleep 0.2 ;;
tcplab|plain|stretch)
    case $KIND in tcplab) OFF="" ;; plain) OFF=--no-offload ;; *) OFF="--no-offload --stretch-acks 64K" ;; esac
    $C1 "$B/tcplab" listen --quiet --busy-poll "$SPIN" $OFF 9:discard 7:echo 2>/dev/null & P=$!
    wait_dev tl0 10.7.0.1 ;;
esac
[ -n "$P" ] && c0=$(cpu $P)
BULK=$($C0 "$KC" bulk $HOST 9 "$MB" | field)
[ -n "$P" ] && CPUMB=$(awk -v a="$c0" -v b="$(cpu $P)" -v mb="$MB" 'BEGIN {printf "%.2f", (b - a) * 1000 / (mb * 1.048576)}')
case $KIND in ceiling|ceil+off) ;; *) ECHO=$($C0 "$KC" echo $HOST 7 $((MB / 3)) | field) ;; esac
R16=$($C0 "$KC" conns $HOST 9 "$N" 16 | field)
[ -n "$P" ] && n0=$(cpu_ns $P)
R1=$($C0 "$KC" conns $HOST 9 $((N / 2)) 1 | field)
[ -n "$P" ] && CPUC=$(awk -v a="$n0" -v b="$(cpu_ns $P)" -v n=$((N / 2)) 'BEGIN {printf "%.1f", (b - a) / 1000 / n}')
if [ -n "$P" ]; then kill $P; wait $P 2>/dev/null || true; fi
if [ $KIND = veth ]; then kill $S1 $S2 $NS; wait 2>/dev/null || true; fi
if [ $KIND = tcplab ] || [ $KIND = plain ] || [ $KIND = stretch ]; then
    # the stack sends: tcplab connect's stdin into a kernel reader
    $C0 "$KC" recv 5001 > /tmp/tcplab-s2k.$$ & R=$!
    sleep 0.2
    $PRIO head -c "${MB}M" /dev/zero | $C1 "$B/tcplab" connect --quiet --busy-poll "$SPIN" $OFF 10.7.0.1 5001 >/dev/null
    wait $R
    S2K=$(field < /tmp/tcplab-s2k.$$); rm -f /tmp/tcplab-s2k.$$
fi
echo "$KIND $BULK $ECHO $R16 $R1 $S2K $CPUMB $CPUC"
EOF
}

echo "# uptime before: $(uptime)"
echo "# busy-poll of every TUN server: $SPIN us (BENCH_SPIN)"
[ -n "$PRIO" ] && echo "# every server and client under: $PRIO (BENCH_PRIO)"
r=0
while [ $r -lt "$REPS" ]; do
    for k in $KINDS; do measure "$k" >> "$OUT/runs" || echo "!! $k run $r failed" >&2; done
    r=$((r + 1))
done
echo "# uptime after:  $(uptime)"

# median / min of column COL for KIND ("-" when not measured)
stat() {
    awk -v k="$1" -v c="$2" -v how="$3" '$1 == k && $c != "-" {a[n++] = $c + 0}
        END { if (!n) { print "-"; exit }
              for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
              print (how == "min") ? a[0] : a[int((n - 1) / 2)] }' "$OUT/runs"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "  -  "; else printf "%5.2fx", a / b }'; }

echo "runs (kind bulk echo c16 c1 stack->kernel cpu-ms/MB cpu-us/conn1):"
sed 's/^/  /' "$OUT/runs"
echo
printf "%-30s %9s %9s %9s %9s %9s %9s %9s   %s\n" "median of $REPS" veth ceiling ceil+off lwip tcplab plain stretch \
    "tcplab ratios (plain = --no-offload, stretch = plain + --stretch-acks 64K)"
row() { # TITLE COL
    v=$(stat veth "$2" med) c=$(stat ceiling "$2" med) o=$(stat ceil+off "$2" med)
    l=$(stat lwip "$2" med) t=$(stat tcplab "$2" med) p=$(stat plain "$2" med)
    x=$(stat stretch "$2" med)
    printf "%-30s %9s %9s %9s %9s %9s %9s %9s   vs veth %s  ceil+off %s  lwip %s; plain vs ceiling %s, stretch %s\n" \
        "$1" "$v" "$c" "$o" "$l" "$t" "$p" "$x" \
        "$(ratio "$t" "$v")" "$(ratio "$t" "$o")" "$(ratio "$t" "$l")" "$(ratio "$p" "$c")" "$(ratio "$x" "$c")"
}
row "bulk kernel->server, MB/s" 2
row "echo, MB/s each way" 3
row "connect+close 16 in flight/s" 4
printf "%-30s %9s %9s %9s %9s %9s %9s %9s   (tcplab min run / median: %s)\n" "  smallest of the $REPS runs" \
    "$(stat veth 4 min)" "$(stat ceiling 4 min)" "$(stat ceil+off 4 min)" "$(stat lwip 4 min)" \
    "$(stat tcplab 4 min)" "$(stat plain 4 min)" "$(stat stretch 4 min)" \
    "$(ratio "$(stat tcplab 4 min)" "$(stat tcplab 4 med)")"
row "connect+close 1 at a time/s" 5
T=$(stat tcplab 6 med) PL=$(stat plain 6 med)
printf "%-30s %9s %9s %9s %9s %9s %9s %9s   vs veth bulk %s; plain vs plain ceiling %s\n" \
    "stack->kernel bulk, MB/s" - - - - "$T" "$PL" "$(stat stretch 6 med)" "$(ratio "$T" "$(stat veth 2 med)")" \
    "$(ratio "$PL" "$(stat ceiling 2 med)")"
T=$(stat tcplab 7 med) L=$(stat lwip 7 med)
printf "%-30s %9s %9s %9s %9s %9s %9s %9s   vs lwip %s; plain vs lwip %s (lower is better)\n" "server CPU ms per MB received" \
    - "$(stat ceiling 7 med)" "$(stat ceil+off 7 med)" "$L" "$T" "$(stat plain 7 med)" "$(stat stretch 7 med)" \
    "$(ratio "$T" "$L")" "$(ratio "$(stat plain 7 med)" "$L")"
T=$(stat tcplab 8 med) L=$(stat lwip 8 med)
printf "%-30s %9s %9s %9s %9s %9s %9s %9s   vs lwip %s (lower is better; busy-polling included)\n" "server CPU us per conn (1 at a time)" \
    - "$(stat ceiling 8 med)" "$(stat ceil+off 8 med)" "$L" "$T" "$(stat plain 8 med)" "$(stat stretch 8 med)" "$(ratio "$T" "$L")"
PFX=""; [ -n "$PRIO" ] && PFX="BENCH_PRIO=\"$PRIO\" "
echo "command: sudo ${PFX}BENCH_MB=$MB BENCH_CONNS=$N BENCH_REPS=$REPS BENCH_SPIN=$SPIN bench/run tun_compare"
