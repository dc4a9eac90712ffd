#!/usr/bin/env bash
# quiz.sh TCPLAB — `tcplab quiz`: every lesson has a quiz in both languages;
# a homework file of guesses is graded to JSON (exit 1, hints for the wrong
# ones); the expected answers it reports, handed back, score 100% (exit 0);
# bad answer files say file:line:col and exit 2, bad usage exits 2.
set -euo pipefail
tcplab=$1
here=$(cd "$(dirname "$0")" && pwd)
lessons=$here/../../scenarios/lessons
lesson=$lessons/02-handshake.tcps
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing: skipping"; exit 77; }

# Every lesson is a quiz without extra writing, in English and Chinese.
for f in "$lessons"/*.tcps; do
    "$tcplab" quiz "$f" >"$tmp/en.txt" || fail "quiz $f exited with $?"
    n=$(grep -cE '^  [0-9]+\. ' "$tmp/en.txt") || true
    [ "$n" -ge 5 ] || fail "$f has only $n questions"
    head -1 "$tmp/en.txt" | grep "($n questions)" >/dev/null || fail "$f: header does not say $n questions"
    "$tcplab" quiz --lang zh "$f" >"$tmp/zh.txt"
    grep -q "共 $n 题" "$tmp/zh.txt" || fail "$f: the Chinese sheet has not $n questions"
done

# Lesson 2: what a learner must predict.
"$tcplab" quiz "$lesson" >"$tmp/sheet.txt"
grep -q "server is in LISTEN. Which state does it enter next?" "$tmp/sheet.txt" ||
    fail "no question on LISTEN -> SYN_RECEIVED"
grep -q "Which acknowledgement number (relative) does server's SYN,ACK carry?" "$tmp/sheet.txt" ||
    fail "no question on the SYN,ACK's ack"
n=$(grep -cE '^  [0-9]+\. ' "$tmp/sheet.txt")

# Guess "a" (or 0) everywhere: graded, some wrong -> exit 1.
python3 - "$tmp/sheet.txt" >"$tmp/guess.txt" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
for i, l in enumerate(lines):
    m = re.match(r"^  (\d+)\. ", l)
    if m:
        number = "(a number)" in lines[i + 1]
        print(m.group(1), "0" if number else "a")
EOF
set +e
"$tcplab" quiz "$lesson" --answers "$tmp/guess.txt" >"$tmp/guess.json"
rc=$?
set -e
[ $rc -eq 1 ] || fail "guesses graded with exit $rc, not 1"
python3 - "$tmp/guess.json" "$n" "$tmp/right.txt" <<'EOF' || fail "guess JSON: $(cat "$tmp/guess.json")"
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert r["questions"] == n and r["answered"] == n, r
assert 0 <= r["right"] < n, r
wrong = [x for x in r["results"] if not x["right"]]
assert wrong and all(x["hint"] for x in wrong), wrong
assert all(x["explain"] for x in r["results"])
with open(sys.argv[3], "w") as f:
    for x in r["results"]:
        f.write("%d %s\n" % (x["id"], x["expected"]))
EOF
"$tcplab" quiz "$lesson" --answers "$tmp/right.txt" >"$tmp/right.json" ||
    fail "the expected answers did not score 100%: $(cat "$tmp/right.json")"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["right"] == r["questions"] and r["percent"] == 100, r
assert not any("hint" in x for x in r["results"])' "$tmp/right.json" || fail "right.json"

# Chinese hints for a wrong answer.
echo "1 a" >"$tmp/one.txt"
"$tcplab" quiz --lang zh "$lesson" --answers "$tmp/one.txt" >"$tmp/zh.json" || true
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["lang"] == "zh" and r["answered"] == 1
assert "状态" in r["results"][0]["question"], r["results"][0]' "$tmp/zh.json" || fail "zh.json"

# Bad answer files and bad usage: a clear message and exit 2.
bad() { # bad FILE-TEXT EXPECTED-MESSAGE
    printf '%b' "$1" >"$tmp/bad.txt"
    set +e
    "$tcplab" quiz "$lesson" --answers "$tmp/bad.txt" >/dev/null 2>"$tmp/err.txt"
    local rc=$?
    set -e
    [ $rc -eq 2 ] || fail "answers '$1' gave exit $rc, not 2"
    grep -q "$2" "$tmp/err.txt" || fail "answers '$1': '$(cat "$tmp/err.txt")' lacks '$2'"
}
bad "1 a\n999 b\n" "bad.txt:2:1: there is no question 999"
bad "1 zz\n" "bad.txt:1:3: 'zz' is not a choice of question 1"
bad "one a\n" "bad.txt:1:1: expected a question number"
bad "\x01\x02\n" "bad.txt:1:1:"
set +e
"$tcplab" quiz "$lesson" --answers "$tmp/none.txt" 2>"$tmp/err.txt"
[ $? -eq 2 ] || fail "missing answer file: not exit 2"
"$tcplab" quiz 2>/dev/null
[ $? -eq 2 ] || fail "no scenario: not exit 2"
"$tcplab" quiz --lang fr "$lesson" 2>/dev/null
[ $? -eq 2 ] || fail "--lang fr: not exit 2"
"$tcplab" quiz "$lessons" 2>/dev/null
[ $? -eq 2 ] || fail "a directory: not exit 2"
set -e
grep -q "none.txt:1:1: cannot read the answers" "$tmp/err.txt" || fail "missing file message"
echo "ok: quiz"
