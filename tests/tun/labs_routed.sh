#!/usr/bin/env bash
# labs_routed.sh TCPLAB — docs/labs.md's recipe: a "student" network
# namespace on its own subnet (10.8.0.0/24), routed by this namespace's
# kernel to the stack on tl0, reaches `tcplab listen` (echo) through an
# ordinary route, and `tcplab connect --gateway` reaches a server in that
# namespace (the stack's default route); with tc netem (where the kernel has it) the same works
# with delay. Run through netns-run.sh: every namespace here is private.
set -u
TCPLAB=${1:?usage: netns-run.sh labs_routed.sh TCPLAB}
[ -n "${TCPLAB_IN_NETNS:-}" ] || { echo "run me through tests/tun/netns-run.sh"; exit 2; }
for c in nc nsenter ip; do command -v $c >/dev/null || { echo "no $c: skipping"; exit 77; }; done
fail() { echo "FAIL: $*" >&2; exit 1; }
L= C=
cleanup() { [ -n "$L" ] && kill "$L" 2>/dev/null; [ -n "$C" ] && kill "$C" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT

ip link set lo up
"$TCPLAB" listen --quiet 7:echo & L=$!
for i in $(seq 1 50); do ip link show tl0 >/dev/null 2>&1 && break; sleep 0.1; done
ip link show tl0 >/dev/null 2>&1 || fail "tcplab listen made no tl0"
unshare --net sleep 60 & C=$!
sleep 0.3
ip link add veth0 type veth peer name veth1 || fail "no veth pair"
ip link set veth1 netns "$C"
ip addr add 10.8.0.1/24 dev veth0
ip link set veth0 up
student() { nsenter --net=/proc/$C/ns/net "$@"; }
student ip link set lo up
student ip addr add 10.8.0.2/24 dev veth1
student ip link set veth1 up
student ip route add default via 10.8.0.1
sysctl -qw net.ipv4.ip_forward=1 # this namespace's own setting

out=$(echo routed-hello | student timeout 10 nc -N -w 5 10.7.0.2 7)
[ "$out" = routed-hello ] || fail "the routed namespace got '$out' back, not routed-hello"
echo "ok   a routed namespace (10.8.0.2) reaches the stack's echo"

# The other way round: the stack as the client of a program in the routed
# namespace, through its default route (--gateway, the kernel's address).
student sh -c 'nc -l 10.8.0.2 5000 > /dev/stdout' >"${TMPDIR:-/tmp}/labs_got.$$" & S=$!
sleep 0.3
rc=0
"$TCPLAB" connect --tun tl1 --kernel-addr 10.7.1.1/24 --addr 10.7.1.2 10.8.0.2 5000 \
    </dev/null >/dev/null 2>"${TMPDIR:-/tmp}/labs_err.$$" || rc=$?
grep -q -- "--gateway" "${TMPDIR:-/tmp}/labs_err.$$" && [ $rc = 2 ] ||
    { kill $S; fail "connect to a routed host without --gateway: status $rc, no hint of --gateway"; }
echo from-the-stack | timeout 10 "$TCPLAB" connect --quiet --tun tl1 --kernel-addr 10.7.1.1/24 \
    --addr 10.7.1.2 --gateway 10.7.1.1 10.8.0.2 5000 || { kill $S; fail "connect --gateway failed"; }
wait $S
got=$(cat "${TMPDIR:-/tmp}/labs_got.$$"); rm -f "${TMPDIR:-/tmp}/labs_got.$$" "${TMPDIR:-/tmp}/labs_err.$$"
[ "$got" = from-the-stack ] || fail "the routed namespace's server got '$got'"
echo "ok   connect --gateway reaches a server in the routed namespace (10.8.0.2)"

if student tc qdisc add dev veth1 root netem delay 50ms 2>/dev/null; then
    out=$(echo delayed-hello | student timeout 10 nc -N -w 5 10.7.0.2 7)
    [ "$out" = delayed-hello ] || fail "with netem delay: got '$out'"
    echo "ok   the same with tc netem delay 50ms"
else
    echo "note: this kernel has no netem qdisc; the delay case was not run"
fi
echo "PASS: labs_routed"
