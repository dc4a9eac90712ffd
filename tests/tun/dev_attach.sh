#!/usr/bin/env bash
# dev_attach.sh TCPLAB — `tcplab listen --dev NAME` attaches to a persistent
# TUN device an administrator made for a user (ip tuntap add NAME mode tun
# user nobody, addresses set by them) and serves without any capability:
# the test drops to uid nobody with no capabilities at all (setpriv) and a
# kernel client in the same namespace gets its echo back. A device that is
# not the user's, a missing one, one without an address and --dev with
# --kernel-addr each fail with a clear message and the right status.
# Run through netns-run.sh (private network namespace); /dev/net/tun is
# opened up (0666, as Debian ships it) only inside a private mount namespace.
set -u
TCPLAB=${1:?usage: netns-run.sh dev_attach.sh TCPLAB}
[ -n "${TCPLAB_IN_NETNS:-}" ] || { echo "run me through tests/tun/netns-run.sh"; exit 2; }
for c in setpriv nc unshare; do command -v $c >/dev/null || { echo "SKIP: no $c"; exit 77; }; done
if [ -z "${DEV_ATTACH_IN_MNTNS:-}" ]; then
    export DEV_ATTACH_IN_MNTNS=1
    exec unshare --mount bash ${DEV_ATTACH_TRACE:+-x} "$0" "$@"
fi
tmp=$(mktemp -d)
L=
cleanup() { [ -n "$L" ] && kill "$L" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mount --make-rprivate / 2>/dev/null
if ! { mknod "$tmp/tun" c 10 200 && chmod 666 "$tmp/tun" && mount --bind "$tmp/tun" /dev/net/tun; }; then
    echo "SKIP: cannot give /dev/net/tun mode 0666 in a private mount namespace"; exit 77
fi
as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=-all --bounding-set=-all "$@"; }
as_nobody sh -c 'grep -q "^CapEff:[[:space:]]*0*$" /proc/self/status' || fail "setpriv left capabilities"

ip link set lo up
ip tuntap add tlu0 mode tun user nobody || fail "cannot make a persistent TUN device"
ip addr add 10.9.0.1/24 dev tlu0
ip link set tlu0 up

# setpriv itself in the background (not a function, which would be a subshell
# whose PID is not the server's), so $! is the server.
setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=-all --bounding-set=-all \
    "$TCPLAB" listen --dev tlu0 7:echo 2>"$tmp/err" & L=$!
for i in $(seq 1 50); do
    grep -q 'try: nc' "$tmp/err" 2>/dev/null && break
    kill -0 "$L" 2>/dev/null || break
    sleep 0.1
done
out=$(echo hello-attached | timeout 10 nc -N -w 5 10.9.0.2 7)
[ "$out" = hello-attached ] || fail "echo through the attached device gave '$out'; stderr: $(cat "$tmp/err")"
grep -q 'stack at 10.9.0.2 on tlu0 (kernel side 10.9.0.1/24' "$tmp/err" ||
    fail "the banner does not show the device's own address: $(cat "$tmp/err")"
kill -TERM "$L"; wait "$L"; rc=$?; L=
[ $rc = 0 ] || fail "listen --dev ended with status $rc"
ip link show tlu0 >/dev/null 2>&1 || fail "the persistent device went away with the process"
ip -4 addr show tlu0 | grep -q 10.9.0.1/24 || fail "the administrator's address is gone"
echo "ok   uid nobody without capabilities serves on its own device; the device stays"

# connect --dev: the stack as a client on the same device, still unprivileged.
timeout 10 nc -l 10.9.0.1 5001 >"$tmp/got" & S=$!
sleep 0.3
echo from-connect-dev | as_nobody timeout 10 "$TCPLAB" connect --quiet --dev tlu0 10.9.0.1 5001 ||
    fail "connect --dev failed"
wait $S
[ "$(cat "$tmp/got")" = from-connect-dev ] || fail "the kernel server got '$(cat "$tmp/got")'"
echo "ok   connect --dev: the kernel's server got the data"

ip tuntap add tlr0 mode tun user root
ip addr add 10.10.0.1/24 dev tlr0
rc=0; as_nobody "$TCPLAB" listen --dev tlr0 --quiet 2>"$tmp/err" || rc=$?
[ $rc = 1 ] || fail "someone else's device: status $rc, not 1"
grep -q "cannot attach to TUN device tlr0: it is not yours" "$tmp/err" || fail "message: $(cat "$tmp/err")"
grep -q "ip tuntap add tlr0 mode tun user" "$tmp/err" || fail "no fix in the message: $(cat "$tmp/err")"
echo "ok   someone else's device: status 1, says whose and how to fix it"

rc=0; as_nobody "$TCPLAB" listen --dev tlnone --quiet 2>"$tmp/err" || rc=$?
[ $rc = 1 ] && grep -q "no interface tlnone to attach to" "$tmp/err" ||
    fail "missing device: status $rc: $(cat "$tmp/err")"
ip tuntap add tln0 mode tun user nobody
rc=0; as_nobody "$TCPLAB" listen --dev tln0 --quiet 2>"$tmp/err" || rc=$?
[ $rc = 2 ] && grep -q "interface tln0 has no IPv4 address" "$tmp/err" ||
    fail "device without address: status $rc: $(cat "$tmp/err")"
rc=0; "$TCPLAB" listen --dev tlu0 --kernel-addr 10.9.0.1/24 2>"$tmp/err" || rc=$?
[ $rc = 2 ] && grep -q "drop --kernel-addr" "$tmp/err" || fail "--dev with --kernel-addr: status $rc"
echo "ok   missing device (1), no address (2), --dev with --kernel-addr (2)"
echo "PASS: dev_attach"
