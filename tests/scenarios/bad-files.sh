#!/bin/sh
# bad-files.sh TCPLAB DIR — every DIR/*.tcps is wrong in one place, named on
# its first line as "# error: LINE:COL: MESSAGE-PART". Replay must exit 2,
# print "FILE:LINE:COL: ...MESSAGE-PART..." and a hint, and run nothing.
set -u
tcplab=$1
dir=$2
fail=0
n=0
for f in "$dir"/*.tcps; do
    n=$((n + 1))
    want=$(head -1 "$f" | sed -n 's/^# error: //p')
    pos=${want%%: *}
    part=${want#*: }
    out=$("$tcplab" replay "$f" 2>&1)
    status=$?
    if [ $status -ne 2 ]; then
        echo "FAIL: $f: status $status, expected 2" >&2
        fail=1
    fi
    if ! printf '%s\n' "$out" | grep -qF "$f:$pos: "; then
        echo "FAIL: $f: no '$f:$pos:' in:" >&2
        printf '%s\n' "$out" >&2
        fail=1
    elif ! printf '%s\n' "$out" | grep -F "$f:$pos: " | grep -qF "$part"; then
        echo "FAIL: $f: message does not say '$part':" >&2
        printf '%s\n' "$out" >&2
        fail=1
    fi
    if ! printf '%s\n' "$out" | grep -q "^  hint: "; then
        echo "FAIL: $f: no hint line" >&2
        fail=1
    fi
    if printf '%s\n' "$out" | grep -q "passed"; then
        echo "FAIL: $f: something ran" >&2
        fail=1
    fi
done
# One bad file among good ones: nothing runs at all.
out=$("$tcplab" replay "$dir/../../../scenarios/regress/handshake.tcps" "$(ls "$dir"/*.tcps | head -1)" 2>&1)
status=$?
[ $status -eq 2 ] || { echo "FAIL: a bad file among good ones: status $status" >&2; fail=1; }
printf '%s\n' "$out" | grep -q "PASS" && { echo "FAIL: a good file ran beside a bad one" >&2; fail=1; }
[ $n -ge 10 ] || { echo "FAIL: only $n bad files" >&2; fail=1; }
[ $fail -eq 0 ] && echo "$n bad files: status 2, file:line:col and a hint each"
exit $fail
