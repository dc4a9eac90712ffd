#!/usr/bin/env bash
# parse_errors.sh TCPLAB — a scenario with several mistakes: `replay` and
# `play` report each one as FILE:LINE:COL: message (with a hint), in file
# order, "did you mean" for misspelt statements, calls, states and hosts,
# invalid UTF-8 with its byte offset, at most 10, and exit 2 running nothing.
set -euo pipefail
tcplab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
f=$tmp/typos.tcps
{
    printf 'hosts client=stack server=peer\n'
    printf 'server: listn 80\n'
    printf 'expcet client state CLOSED\n'
    printf 'clinet: connect server:80\n'
    printf 'expect client state ESTABLSHED\n'
    printf 'say en "caf\xe9"\n'
} >"$f"
off=$(python3 -c "import sys; print(open(sys.argv[1],'rb').read().index(b'\xe9'))" "$f")
for cmd in replay "play --dump-screen 0"; do
    rc=0
    # shellcheck disable=SC2086
    out=$("$tcplab" $cmd "$f" 2>&1) || rc=$?
    [ $rc = 2 ] || fail "$cmd: status $rc, not 2"
    want=(
        "$f:2:9: unknown socket call 'listn' (did you mean 'listen'?)"
        "$f:3:1: unknown statement 'expcet' (did you mean 'expect'?)"
        "$f:4:1: unknown host or socket 'clinet' (did you mean 'client'?)"
        "$f:5:21: unknown state 'ESTABLSHED' (did you mean 'ESTABLISHED'?)"
        "$f:6:12: invalid UTF-8 at byte $off"
    )
    got=$(printf '%s\n' "$out" | grep -v '^  hint: ')
    [ "$got" = "$(printf '%s\n' "${want[@]}")" ] || fail "$cmd printed:"$'\n'"$out"
    [ "$(printf '%s\n' "$out" | grep -c '^  hint: ')" = 5 ] || fail "$cmd: not one hint per error"
    printf '%s\n' "$out" | grep 'passed' >/dev/null && fail "$cmd ran something"
done
# The raw byte is never echoed back to the terminal.
"$tcplab" replay "$f" 2>&1 | grep $'\xe9' >/dev/null && fail "the invalid byte was echoed"

# Fifteen mistakes: ten are reported, then it says it stopped.
{ printf 'hosts client=stack server=peer\n'; for i in $(seq 15); do echo bogus; done; } >"$tmp/many.tcps"
out=$("$tcplab" replay "$tmp/many.tcps" 2>&1) && fail "15 errors: status 0"
[ "$(printf '%s\n' "$out" | grep -c "unknown statement 'bogus'")" = 10 ] || fail "not 10 errors:"$'\n'"$out"
printf '%s\n' "$out" | grep "stopped after 10 errors" >/dev/null || fail "no 'stopped after 10 errors'"
echo "PASS: parse_errors"
