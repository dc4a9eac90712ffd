#!/bin/sh
# tests/pkt/check-bad-and-skip.sh TCPLAB DIR — a malformed script is
# "file:line:col: message" and status 2, every one in ../pkt-bad/; every script in
# skip/ uses a construct tcplab does not run and must be a SKIP naming the
# line, never a PASS. A bad command line is the shared parser's usage and
# status 2, and --opt=value works as in every other command.
tcplab=$1
dir=$2
fail=0
for f in "$dir"/../pkt-bad/*.pkt; do
    out=$("$tcplab" replay "$f" 2>&1)
    rc=$?
    if [ $rc -ne 2 ]; then
        echo "FAIL: $f: status $rc, expected 2"; fail=1
    fi
    if ! printf '%s\n' "$out" | grep -Fq "$f:" || ! printf '%s\n' "$out" | grep -Eq "^.*\.pkt:[0-9]+:[0-9]+: .+"; then
        echo "FAIL: $f: no 'file:line:col: message' in: $out"; fail=1
    fi
done
for f in "$dir"/skip/*.pkt; do
    out=$("$tcplab" replay "$f" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || ! printf '%s\n' "$out" | grep -Eq "^SKIP $f:[0-9]+: .+"; then
        echo "FAIL: $f: expected 'SKIP $f:LINE: reason', status 0; got $rc: $out"; fail=1
    fi
    if ! printf '%s\n' "$out" | grep -q "^0 passed, 0 failed, 1 skipped$"; then
        echo "FAIL: $f: summary line wrong: $out"; fail=1
    fi
done
# the summary of a mixed run, and its status
out=$("$tcplab" replay "$dir/fig5/07-syn-sent-established.pkt" "$dir/skip/python.pkt" 2>&1)
if [ $? -ne 0 ] || ! printf '%s\n' "$out" | tail -n 1 | grep -q "^1 passed, 0 failed, 1 skipped$"; then
    echo "FAIL: mixed run: $out"; fail=1
fi
# --verbose shows the segments and state changes as they happened
out=$("$tcplab" replay --verbose "$dir/fig5/18-time-wait-closed.pkt" 2>&1)
for want in " 0.400000  state FIN_WAIT_2 -> TIME_WAIT (rcvd FIN)" " 60.400000  state TIME_WAIT -> CLOSED (2MSL timeout)" " 60.500000  > R 2:2(0) win 0"; do
    printf '%s\n' "$out" | grep -qF -- "$want" || { echo "FAIL: --verbose lacks '$want': $out"; fail=1; }
done
# the command line: usage on stderr and status 2 for each mistake, nothing run
good="$dir/fig5/07-syn-sent-established.pkt"
for args in "--frobnicate $good" "--pkt-profile solaris $good" "--pkt-profile" \
            "--set nosuchkey=1 $good" "--set rto_min=soon $good" "--pkt-profile=linux"; do
    # shellcheck disable=SC2086
    out=$("$tcplab" replay $args 2>&1 >/dev/null)
    rc=$?
    if [ $rc -ne 2 ] || ! printf '%s\n' "$out" | grep -q "^usage: tcplab replay .*FILE.pkt"; then
        echo "FAIL: replay $args: status $rc, expected 2 with usage: $out"; fail=1
    fi
    if printf '%s\n' "$out" | grep -q "passed,"; then
        echo "FAIL: replay $args ran scripts"; fail=1
    fi
done
out=$("$tcplab" replay --pkt-profile=teaching --set=rto_min=1s "$good" 2>&1)
[ $? -eq 0 ] && printf '%s\n' "$out" | grep -q "^1 passed, 0 failed, 0 skipped$" ||
    { echo "FAIL: --opt=value forms: $out"; fail=1; }
out=$("$tcplab" replay --pkt-profile teaching --help)
[ $? -eq 0 ] && printf '%s\n' "$out" | grep -q "^usage: tcplab replay" &&
    printf '%s\n' "$out" | grep -q "^  rto_min " ||
    { echo "FAIL: --help lacks the usage or the --set keys: $out"; fail=1; }
[ $fail -eq 0 ] && echo "bad and skip scripts, --verbose, the command line: all as expected"
exit $fail

