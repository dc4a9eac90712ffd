#!/bin/sh
# tests/pkt/check-fail.sh TCPLAB DIR — every script in ../pkt-fail/ has a
# wrong expectation on purpose and must FAIL (status 1) with the diagnostic
# its first line names ("// expect: TEXT"): the runner catches each kind of
# mismatch (fields, options, timing, missing packets, results, errno, calls
# that block too long or not at all).
tcplab=$1
dir=$2/../pkt-fail
fail=0
n=0
for f in "$dir"/*.pkt; do
    n=$((n + 1))
    want=$(sed -n '1s|^// expect: ||p' "$f")
    out=$("$tcplab" replay "$f" 2>&1)
    rc=$?
    if [ $rc -ne 1 ] || ! printf '%s\n' "$out" | grep -q "^FAIL $f$"; then
        echo "FAIL: $f: status $rc, expected a FAIL (1):"; printf '%s\n' "$out"; fail=1
    elif ! printf '%s\n' "$out" | grep -qF "$want"; then
        echo "FAIL: $f: the diagnostic does not say '$want':"; printf '%s\n' "$out"; fail=1
    fi
done
[ $n -ge 10 ] || { echo "FAIL: only $n scripts in $dir"; fail=1; }
[ $fail -eq 0 ] && echo "$n deliberately wrong scripts: each FAILs with its diagnostic"
exit $fail
