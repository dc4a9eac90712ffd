#!/bin/bash
# `tcplab play` without a terminal: headless --dump-screen output (the text
# used in the README), --ascii, and the exit status of bad usage and of a
# bad scenario file.
#
# usage: run_cli.sh TCPLAB SCENARIO [LESSON...]
set -u
TCPLAB=${1:?usage: run_cli.sh TCPLAB SCENARIO [LESSON...]}
SCENARIO=${2:?usage: run_cli.sh TCPLAB SCENARIO [LESSON...]}
shift 2
passed=0
failed=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export LANG=C.UTF-8 LC_ALL=C.UTF-8

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -f "$TMP/out" ] && head -40 "$TMP/out"; }
expect_status() { # NAME STATUS COMMAND...
    local name=$1 want=$2
    shift 2
    "$@" >"$TMP/out" 2>&1 </dev/null
    local got=$?
    if [ "$got" -eq "$want" ]; then ok "$name"; else bad "$name (status $got, wanted $want)"; fi
}
contains() { # NAME TEXT
    if grep -qF -- "$2" "$TMP/out"; then ok "$1"; else bad "$1: no '$2'"; fi
}

expect_status "dump 100x30 exits 0" 0 "$TCPLAB" play --dump-screen 10 --size 100x30 "$SCENARIO"
[ "$(wc -l <"$TMP/out")" -eq 30 ] && ok "dump has 30 lines" || bad "dump has 30 lines"
[ "$(wc -L <"$TMP/out")" -le 100 ] && ok "no line wider than 100 columns" || bad "no line wider than 100 columns"
contains "dump shows the lost FIN" "✗"
contains "dump shows TIME_WAIT" "TIME_WAIT"
contains "dump shows the step" "step 10/11"

expect_status "dump 80x24 in Chinese" 0 "$TCPLAB" play --lang zh --dump-screen 10 --size 80x24 "$SCENARIO"
[ "$(wc -l <"$TMP/out")" -eq 24 ] && ok "dump has 24 lines" || bad "dump has 24 lines"
contains "Chinese narration" "服务器重传 FIN"

LANG=zh_CN.UTF-8 LC_ALL= expect_status "language from LANG=zh_CN" 0 "$TCPLAB" play --dump-screen 2 --size 100x30 "$SCENARIO"
contains "zh narration by default under a Chinese locale" "客户端发送 SYN"

expect_status "dump with --ascii" 0 "$TCPLAB" play --ascii --dump-screen 10 --size 100x30 "$SCENARIO"
# Outside Chinese text (CJK ideographs and full-width punctuation) only ASCII.
if grep -qP '[^\x{20}-\x{7e}\x{3000}-\x{303f}\x{4e00}-\x{9fff}\x{ff00}-\x{ffef}]' "$TMP/out"; then
    bad "--ascii draws only ASCII outside Chinese text"
else
    ok "--ascii draws only ASCII outside Chinese text"
fi
contains "--ascii lost mark" "X"

expect_status "too small a size still prints a message" 0 "$TCPLAB" play --dump-screen 1 --size 60x20 "$SCENARIO"
contains "too small message" "too small"

expect_status "no scenario: usage, status 2" 2 "$TCPLAB" play
contains "usage printed" "usage: tcplab play"
expect_status "unknown option: status 2" 2 "$TCPLAB" play --bogus "$SCENARIO"
expect_status "bad --lang: status 2" 2 "$TCPLAB" play --lang fr "$SCENARIO"
expect_status "bad --speed: status 2" 2 "$TCPLAB" play --speed fast "$SCENARIO"
expect_status "bad --size: status 2" 2 "$TCPLAB" play --dump-screen 1 --size huge "$SCENARIO"
expect_status "--help: status 0" 0 "$TCPLAB" play --help

printf 'title en "broken"\nhosts client=stack server=peer\nclient: frobnicate 3\n' >"$TMP/bad.tcps"
expect_status "bad scenario file: status 2" 2 "$TCPLAB" play --dump-screen 1 "$TMP/bad.tcps"
if grep -qE "^$TMP/bad.tcps:[0-9]+:[0-9]+: " "$TMP/out"; then ok "error says file:line:col"; else bad "error says file:line:col"; fi
expect_status "missing scenario file: status 2" 2 "$TCPLAB" play --dump-screen 1 "$TMP/none.tcps"
mkdir "$TMP/dir.tcps"
expect_status "a directory: status 2" 2 "$TCPLAB" play --dump-screen 1 "$TMP/dir.tcps"
contains "a directory is named as such" "is a directory"

expect_status "not a terminal: status 2 and a hint" 2 "$TCPLAB" play "$SCENARIO"
contains "hint for headless use" "--dump-screen"

# Every lesson renders at both sizes, at its first and last step; a step past
# the last is a usage error, not silently the last one.
for lesson in "$@"; do
    last=$("$TCPLAB" play --dump-screen 1 "$lesson" | grep -o 'step 1/[0-9]*' | head -n 1)
    last=${last#step 1/}
    expect_status "$(basename "$lesson") step $((last + 1)) (past the end): status 2" 2 \
        "$TCPLAB" play --dump-screen $((last + 1)) "$lesson"
    for size in 80x24 100x30; do
        for n in 1 "$last"; do
            expect_status "$(basename "$lesson") step $n at $size" 0 \
                "$TCPLAB" play --dump-screen $n --size $size "$lesson"
        done
    done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
