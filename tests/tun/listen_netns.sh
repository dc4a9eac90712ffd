#!/usr/bin/env bash
# listen_netns.sh TCPLAB — `tcplab listen --netns` makes a network namespace
# of its own, as `replay --tun` does: its tl0 is not in the caller's
# namespace; `--run CMD` runs a kernel client inside it and ends with CMD's
# status; without --run it prints the nsenter command that reaches it.
# Run through netns-run.sh, so even the caller's namespace is private.
set -u
TCPLAB=${1:?usage: netns-run.sh listen_netns.sh TCPLAB}
[ -n "${TCPLAB_IN_NETNS:-}" ] || { echo "run me through tests/tun/netns-run.sh"; exit 2; }
for c in nc nsenter; do command -v $c >/dev/null || { echo "SKIP: no $c"; exit 77; }; done
tmp=$(mktemp -d)
L=
cleanup() { [ -n "$L" ] && kill "$L" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
outer=$(readlink /proc/self/ns/net)

rc=0
out=$("$TCPLAB" listen --netns --quiet \
    --run 'echo in-its-own-netns | nc -N -w 5 10.7.0.2 7; readlink /proc/self/ns/net; exit 3' \
    7:echo 2>"$tmp/err") || rc=$?
[ $rc = 3 ] || fail "--run 'exit 3' gave status $rc: $(cat "$tmp/err")"
[ "$(printf '%s\n' "$out" | head -1)" = in-its-own-netns ] || fail "no echo through --run: '$out'"
inner=$(printf '%s\n' "$out" | sed -n 2p)
[ -n "$inner" ] && [ "$inner" != "$outer" ] || fail "--run's client was in the caller's namespace ($inner)"
ip link show tl0 >/dev/null 2>&1 && fail "tl0 appeared in the caller's namespace"
echo "ok   --run: the echo came back inside a namespace of its own; status 3 is CMD's"

"$TCPLAB" listen --netns --quiet 7:echo 2>"$tmp/err2" & L=$!
cmd=
for i in $(seq 1 50); do
    cmd=$(grep -o 'nsenter --net=/proc/[0-9]*/ns/net' "$tmp/err2" 2>/dev/null) && break
    sleep 0.1
done
[ -n "$cmd" ] || fail "no nsenter command printed: $(cat "$tmp/err2")"
[ "$cmd" = "nsenter --net=/proc/$L/ns/net" ] || fail "printed '$cmd', but the server is PID $L"
sleep 0.3
ip link show tl0 >/dev/null 2>&1 && fail "tl0 is in the caller's namespace"
got=$(echo via-nsenter | $cmd timeout 10 nc -N -w 5 10.7.0.2 7)
[ "$got" = via-nsenter ] || fail "through the printed nsenter command: '$got'"
kill -TERM "$L"; wait "$L"; rc=$?; L=
[ $rc = 0 ] || fail "listen --netns ended with status $rc after SIGTERM"
echo "ok   without --run: the printed nsenter command reaches the stack"
rc=0; "$TCPLAB" listen --ui --run true 2>"$tmp/err3" || rc=$?
[ $rc = 2 ] && grep -q "drop one" "$tmp/err3" || fail "--ui with --run: status $rc: $(cat "$tmp/err3")"
echo "PASS: listen_netns"
