#!/bin/sh
# changed-expectation.sh TCPLAB SCENARIO_ROOT — replays can fail.
# Copies a lesson (with its golden trace), changes one expectation, and
# checks that replay then exits 1 with an account that names the changed
# line and shows what was expected and what happened. The unchanged copy
# must pass, so the failure is the change's doing.
set -u
tcplab=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Prefer the handshake lesson; fall back to the regression scenario.
src=$root/lessons/02-handshake.tcps
[ -f "$src" ] || src=$root/regress/handshake.tcps
base=$(basename "$src" .tcps)
cp "$src" "$tmp/$base.tcps"
# Its golden trace is made afresh, so this test is about the expectation only.
"$tcplab" replay --update "$tmp/$base.tcps" >/dev/null
if ! "$tcplab" replay "$tmp/$base.tcps" >"$tmp/ok.out" 2>&1; then
    echo "FAIL: the unchanged copy of $src does not pass:" >&2
    cat "$tmp/ok.out" >&2
    exit 1
fi
# The change: the first expectation of the SYN,ACK now wants ack=2.
line=$(grep -n 'expect [a-z_0-9]* -> [a-z_0-9]* S\.' "$tmp/$base.tcps" | head -1 | cut -d: -f1)
if [ -z "$line" ]; then
    echo "FAIL: no SYN,ACK expectation found in $src to change" >&2
    exit 1
fi
sed -i "${line}s/ack=[+]*1/ack=2/; ${line}s/S\.\$/S. ack=2/" "$tmp/$base.tcps"
grep -q "ack=2" "$tmp/$base.tcps" || { echo "FAIL: the change was not made" >&2; exit 1; }
"$tcplab" replay "$tmp/$base.tcps" >"$tmp/bad.out" 2>&1
status=$?
cat "$tmp/bad.out"
fail=0
[ $status -eq 1 ] || { echo "FAIL: status $status, expected 1" >&2; fail=1; }
grep -q "^FAIL $base\$" "$tmp/bad.out" || { echo "FAIL: no 'FAIL $base' line" >&2; fail=1; }
grep -q "$base.tcps:$line: expect" "$tmp/bad.out" || { echo "FAIL: the changed line $line is not named" >&2; fail=1; }
grep -q "expected: .*ack=2" "$tmp/bad.out" || { echo "FAIL: no 'expected:' line with ack=2" >&2; fail=1; }
grep -q "happened: .*S\. seq=0 ack=1" "$tmp/bad.out" || { echo "FAIL: no 'happened:' line showing the real SYN,ACK" >&2; fail=1; }
grep -q "ack is 1, expected ack=2" "$tmp/bad.out" || { echo "FAIL: the difference is not spelled out" >&2; fail=1; }
[ "$(tail -1 "$tmp/bad.out")" = "0 passed, 1 failed" ] || { echo "FAIL: last line is not '0 passed, 1 failed'" >&2; fail=1; }
exit $fail
