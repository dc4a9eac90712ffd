#!/bin/bash
# `tcplab play --tun` run again and again in one network namespace, as a
# teacher would in class: every run must be as clean as the first. A run's
# kernel socket outlives it (its FIN retransmitted towards 10.7.0.2), so
# each play --tun needs a namespace of its own or the next run sees a stray
# segment and an expectation fails.
#
# usage: netns-run.sh run_play_tun.sh TCPLAB LESSON (lesson 02, `tun yes`)
set -u
export LANG=C.UTF-8 LC_ALL=C.UTF-8
TCPLAB=${1:?usage: run_play_tun.sh TCPLAB LESSON}
LESSON=${2:?usage: run_play_tun.sh TCPLAB LESSON}
[ -n "${TCPLAB_IN_NETNS:-}" ] || { echo "run me through tests/tun/netns-run.sh"; exit 2; }
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The last step (a step past it is an error), from a run on the virtual link.
last=$("$TCPLAB" play --dump-screen 0 "$LESSON" | grep -o 'step 0/[0-9]*' | head -n 1)
last=${last#step 0/}
for run in 1 2 3; do
    timeout 60 "$TCPLAB" play --tun --dump-screen "$last" --size 100x30 "$LESSON" >"$out" 2>&1
    status=$?
    if [ $status -eq 0 ] && grep -q " TUN " "$out" && grep -q "kernel" "$out" &&
        ! grep -q "expectation failed" "$out"; then
        passed=$((passed + 1))
        echo "ok   run $run: TUN mode, the kernel's end, every expectation held"
    else
        failed=$((failed + 1))
        echo "FAIL run $run (status $status):"
        cat "$out"
    fi
done
# The caller's namespace is left as it was: no device of play's stays behind.
if ip -o link | grep -q tlscn; then
    failed=$((failed + 1))
    echo "FAIL a TUN device of play --tun is left in the caller's namespace"
else
    passed=$((passed + 1))
    echo "ok   no device left behind"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
