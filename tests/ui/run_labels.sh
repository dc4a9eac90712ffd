#!/bin/bash
# Every lesson, every step, at 80x24 (--dump-screen): nothing in the state
# panel or the ladder is cut with "…". Every label and lane item fits whole,
# shortened by the documented rules, never cut — with two endpoints and with
# four (lessons 11, 25), where between close columns a label keeps its flags
# in words ("↻ SYN,ACK") or as the text trace's letters ("[S.]"), and the
# current step's segment is given whole in the ladder's caption line
# ("▶ server → alice: …").
#
# usage: run_labels.sh TCPLAB LESSON.tcps...
set -u
export LANG=C.UTF-8 LC_ALL=C.UTF-8
TCPLAB=${1:?usage: run_labels.sh TCPLAB LESSON...}
shift
passed=0
failed=0
for f in "$@"; do
    name=$(basename "$f" .tcps)
    hosts=$(grep -m1 '^hosts ' "$f" | tr ' ' '\n' | grep -c '=')
    total=$("$TCPLAB" play --dump-screen end --size 80x24 "$f" | head -1 |
        grep -oE 'step [0-9]+/[0-9]+' | cut -d/ -f2)
    bad=0
    for k in $(seq 0 "${total:-0}"); do
        # Rows from the state panel to the first divider (narration, quiz...).
        cut_rows=$("$TCPLAB" play --dump-screen "$k" --size 80x24 "$f" | awk '
            NR <= 2 { next }
            /^├/ { exit }
            /…/ { print }')
        if [ -n "$cut_rows" ]; then
            bad=$((bad + 1))
            printf '  %s step %s:\n%s\n' "$name" "$k" "$cut_rows"
        fi
    done
    if [ "$bad" -eq 0 ] && [ -n "$total" ]; then
        passed=$((passed + 1))
        echo "ok   $name: $((total + 1)) screens at 80x24, nothing cut ($hosts endpoints)"
    else
        failed=$((failed + 1))
        echo "FAIL $name: $bad of $((${total:-0} + 1)) screens cut something"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
