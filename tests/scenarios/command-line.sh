#!/bin/sh
# command-line.sh TCPLAB SCENARIO_ROOT — `tcplab replay`'s contract:
# usage errors are status 2; one line per scenario; the last line is exactly
# "N passed, N failed"; status 0 when all pass, 1 when one fails.
set -u
tcplab=$1
root=$2
fail=0
check() { # expected-status description command...
    want=$1; shift; what=$1; shift
    "$@" >/dev/null 2>&1
    got=$?
    if [ $got -ne $want ]; then
        echo "FAIL: $what: status $got, expected $want" >&2
        fail=1
    fi
}
check 2 "no file" "$tcplab" replay
check 2 "unknown option" "$tcplab" replay --frobnicate "$root/regress/handshake.tcps"
check 2 "--seed without a number" "$tcplab" replay --seed
check 2 "--seed not a number" "$tcplab" replay --seed x "$root/regress/handshake.tcps"
check 2 "a file that does not exist" "$tcplab" replay /nonexistent/x.tcps
check 0 "--help" "$tcplab" replay --help
out=$("$tcplab" replay "$root/regress/handshake.tcps" "$root/regress/refused.tcps")
status=$?
[ $status -eq 0 ] || { echo "FAIL: two good files: status $status" >&2; fail=1; }
[ "$(printf '%s\n' "$out" | tail -1)" = "2 passed, 0 failed" ] ||
    { echo "FAIL: last line: $(printf '%s\n' "$out" | tail -1)" >&2; fail=1; }
printf '%s\n' "$out" | grep -qx "PASS handshake" || { echo "FAIL: no 'PASS handshake'" >&2; fail=1; }
printf '%s\n' "$out" | grep -qx "PASS refused" || { echo "FAIL: no 'PASS refused'" >&2; fail=1; }
# A scenario without a golden trace yet: its expectations are checked, a
# warning says how to record the trace, and it passes (status 0) unless
# --strict, which fails it (status 1) with the same hint.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$root/regress/handshake.tcps" "$tmp/"
out=$("$tcplab" replay "$tmp/handshake.tcps")
status=$?
[ $status -eq 0 ] || { echo "FAIL: no golden trace yet: status $status, want 0" >&2; fail=1; }
printf '%s\n' "$out" | grep -q "warning: no golden trace yet (run --update to record one)" ||
    { echo "FAIL: no 'no golden trace yet' warning: $out" >&2; fail=1; }
[ "$(printf '%s\n' "$out" | tail -1)" = "1 passed, 0 failed" ] || { echo "FAIL: last line" >&2; fail=1; }
out=$("$tcplab" replay --strict "$tmp/handshake.tcps")
status=$?
[ $status -eq 1 ] || { echo "FAIL: --strict without golden trace: status $status" >&2; fail=1; }
printf '%s\n' "$out" | grep -q -- "--update" || { echo "FAIL: no hint to --update" >&2; fail=1; }
[ "$(printf '%s\n' "$out" | tail -1)" = "0 passed, 1 failed" ] || { echo "FAIL: last line" >&2; fail=1; }
# Without a golden trace the expectations still count: a wrong one fails.
sed 's/^expect client state ESTABLISHED$/expect client state CLOSE_WAIT/' "$tmp/handshake.tcps" >"$tmp/wrong.tcps"
grep -q "expect client state CLOSE_WAIT" "$tmp/wrong.tcps" || { echo "FAIL: could not change an expectation" >&2; fail=1; }
"$tcplab" replay "$tmp/wrong.tcps" >/dev/null
status=$?
[ $status -eq 1 ] || { echo "FAIL: a wrong expectation without golden trace: status $status" >&2; fail=1; }
# --junit: one testcase per scenario, the failure with its account.
"$tcplab" replay --junit "$tmp/j.xml" "$tmp/handshake.tcps" "$tmp/wrong.tcps" >/dev/null
python3 - "$tmp/j.xml" <<'PY' || { echo "FAIL: --junit XML" >&2; fail=1; }
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot()
assert suite.tag == "testsuite" and suite.get("tests") == "2" and suite.get("failures") == "1", suite.attrib
cases = {c.get("name"): c for c in suite.findall("testcase")}
assert set(cases) == {"handshake", "wrong"}, cases
assert cases["handshake"].find("failure") is None
f = cases["wrong"].find("failure")
assert f is not None and "CLOSE_WAIT" in f.text, f
PY
# --update writes it, and then the replay passes.
"$tcplab" replay --update "$tmp/handshake.tcps" >/dev/null || { echo "FAIL: --update" >&2; fail=1; }
"$tcplab" replay "$tmp/handshake.tcps" >/dev/null || { echo "FAIL: replay after --update" >&2; fail=1; }
# A golden trace that disagrees with the run: status 1 and a diff of the two.
cp "$root/regress/handshake.tcps" "$root/regress/handshake.trace" "$tmp/" 2>/dev/null ||
    cp "$root/regress/handshake.tcps" "$tmp/"
"$tcplab" replay --update "$tmp/handshake.tcps" >/dev/null
sed -i '0,/Flags \[S\.\]/s/Flags \[S\.\]/Flags [R.]/' "$tmp/handshake.trace"
out=$("$tcplab" replay "$tmp/handshake.tcps")
status=$?
[ $status -eq 1 ] || { echo "FAIL: changed golden trace: status $status" >&2; fail=1; }
printf '%s\n' "$out" | grep -q "^    - .*Flags \[R\.\]" || { echo "FAIL: no '-' line with the golden's text" >&2; fail=1; }
printf '%s\n' "$out" | grep -q "^    + .*Flags \[S\.\]" || { echo "FAIL: no '+' line with the run's text" >&2; fail=1; }
printf '%s\n' "$out" | grep -q "differs from the golden trace" || { echo "FAIL: golden difference not said" >&2; fail=1; }
# --tun without the rights (an unprivileged user namespace): a clear message, status 1.
if unshare --user --map-user=65534 true 2>/dev/null; then
    out=$(unshare --user --map-user=65534 "$tcplab" replay --tun "$root/regress/handshake.tcps" 2>&1)
    status=$?
    [ $status -eq 1 ] || { echo "FAIL: --tun without rights: status $status, expected 1" >&2; fail=1; }
    printf '%s\n' "$out" | grep -q "not permitted" ||
        { echo "FAIL: --tun without rights: no 'not permitted' in: $out" >&2; fail=1; }
    printf '%s\n' "$out" | grep -q "sudo tcplab replay --tun" ||
        { echo "FAIL: --tun without rights: no hint how to run it" >&2; fail=1; }
else
    echo "(no unprivileged user namespaces here: the --tun permission check is not run)"
fi
[ $fail -eq 0 ] && echo "replay command line: ok"
exit $fail
