#!/bin/bash
# End-to-end test of `tcplab play` as a person uses it: in a real terminal
# (tmux, on a private tmux server), at 100x30 and at 80x24. Keys are sent
# with send-keys and the screen is read back with capture-pane; we check the
# states, segment labels, narration in both languages, the help overlay and
# step back.
#
# usage: run_tmux.sh TCPLAB SCENARIO [LESSON]
#   SCENARIO: tests/ui/teardown.tcps (the detailed checks are written for it)
#   LESSON:   scenarios/lessons/01-*.tcps, checked with what holds for any lesson
# exit: 0 all passed, 1 a check failed, 77 tmux is not installed (skip).
set -u
TCPLAB=${1:?usage: run_tmux.sh TCPLAB SCENARIO}
SCENARIO=${2:?usage: run_tmux.sh TCPLAB SCENARIO}
. "$(dirname "$0")/tmux_lib.sh"

for SIZE in 100x30 80x24; do
    W=${SIZE%x*}
    H=${SIZE#*x}
    tmux_start "$W" "$W" "$H" \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 '$TCPLAB' play --lang en '$SCENARIO'; sleep 30"
    check "starts at step 0" wait_for "step 0/11"
    check "names both endpoints" wait_for "server 10.7.0.1:8080"

    keys n
    check "step 1: server listens" wait_for "LISTEN"
    keys n
    check "step 2: SYN label, relative numbers" wait_for "SYN seq=0 win=65535 <mss 1460>"
    check "step 2: client in SYN_SENT" wait_for "SYN_SENT"
    check "step 2: connect() in the calls lane" wait_for "connect()"
    keys n n
    check "step 4: SYN,ACK label" wait_for "SYN,ACK seq=0 ack=1"
    check "step 4: data length shown" wait_for "PSH,ACK seq=1 ack=1 len=5"
    check "step 4: English narration" wait_for "Five bytes of data"

    keys a
    check "a: absolute numbers" wait_gone "SYN,ACK seq=0 ack=1"
    keys a
    check "a again: relative numbers" wait_for "SYN,ACK seq=0 ack=1"

    keys n n n n n n
    check "step 10: lost FIN dies half-way" wait_for "✗"
    check "step 10: retransmission marked" wait_for "(retransmission)"
    check "step 10: client in TIME_WAIT" wait_for "TIME_WAIT"
    check "step 10: 2MSL countdown" wait_for "2MSL"
    check "step 10: narration" wait_for "The server retransmits its FIN"

    keys l
    check "l: Chinese narration" wait_for "服务器重传 FIN"
    keys l
    check "l again: English narration" wait_for "The server retransmits its FIN"

    keys '?'
    check "?: help lists step back" wait_for "step back (replayed from the record)"
    if [ "$SIZE" = 80x24 ]; then
        # Not every key fits 22 rows: pages, and each key on one of them.
        check "?: help in pages at 80x24" wait_for "page 1/2"
        help1=$(screen)
        keys Right
        check "→: the help's second page" wait_for "page 2/2"
        help2=$(screen)
        check "→ did not step the lesson" wait_for "step 10/11"
        keys Left
        check "←: back to the first page" wait_for "page 1/2"
        for k in "space" "→  n" "←  b" "+  -" "Home  End" "PgUp PgDn" "d " "a " "g " "c " \
            "l " "p " "t " "e " "? " "Esc" "q "; do
            printf '%s\n%s\n' "$help1" "$help2" | grep -qF "║  $k" || {
                echo "  key '$k' on no page of the help"
                help_missing=1
            }
        done
        check "every key is on a page of the help" test -z "${help_missing:-}"
    else
        check "?: help on one page" wait_gone "page 1/"
    fi
    check "?: help lists quit" wait_for "quit"
    keys x
    check "any other key closes help" wait_gone "replayed from the record"

    keys Left
    check "← steps back to step 9" wait_for "step 9/11"
    check "step back removes the retransmission" wait_gone "(retransmission)"
    check "step back restores step 9's narration" wait_for "its FIN is lost on the way"
    keys b
    check "b steps back to step 8" wait_for "step 8/11"

    keys d
    check "d: segment details in network byte order" wait_for "network byte order"
    keys d
    keys g
    check "g: the whole state diagram" wait_for "passive OPEN"
    keys g
    check "g again: back to the ladder" wait_gone "passive OPEN"

    keys q
    check "q quits" wait_gone "tcplab ·"
done

# A classroom lesson, with checks that hold for any lesson: steps advance,
# segments and states appear, narration switches to Chinese, help, step back.
LESSON=${3:-}
if [ -n "$LESSON" ]; then
    SIZE=lesson
    tmux_start lesson 100 30 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 '$TCPLAB' play --lang en '$LESSON'; sleep 30"
    check "lesson starts at step 0" wait_for "step 0/"
    total=$(screen | grep -oE 'step 0/[0-9]+' | head -1 | cut -d/ -f2)
    for i in $(seq 1 "${total:-0}"); do # a step at a time, each drawn before the next
        screen | grep -qF "SYN seq=0" && break
        keys n
        wait_for "step $i/$total" || break
    done
    check "lesson: the SYN is drawn" wait_for "SYN seq=0"
    check "lesson: a state is shown" wait_for "SYN_SENT"
    keys l
    check "lesson: narration in Chinese" wait_for "narration · 中文"
    check "lesson: Chinese text on screen" bash -c "$T capture-pane -t play -p | grep -qP '[\x{4e00}-\x{9fff}]'"
    keys l '?'
    check "lesson: help" wait_for "select a segment"
    keys x End
    check "lesson: End goes to the last step" wait_for "step $total/$total"
    keys b
    check "lesson: b steps back" wait_for "step $((total - 1))/$total"
    keys q
fi

# Colour: some foreground colours normally; none at all with NO_COLOR set
# (meaning then rests on bold / reverse / underline and on the characters).
colours() { # colours NO_COLOR_VALUE -> number of foreground colour SGRs on screen
    tmux_start "c$1" 100 30 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 NO_COLOR=$1 '$TCPLAB' play --lang en '$SCENARIO'; sleep 30"
    wait_for "step 0/11" || return 1
    keys n n
    wait_for "SYN seq=0" || return 1
    $T capture-pane -t play -p -e | grep -oE $'\e\\[([0-9;]*;)?(3[0-7]|9[0-7]|38;5;[0-9]+)(;[0-9;]*)?m' | wc -l
    $T kill-server
}
SIZE=100x30
n=$(colours "")
check "colours by default ($n colour codes)" test "${n:-0}" -gt 0
n=$(colours 1)
check "NO_COLOR=1: no colour codes ($n)" test "${n:-1}" -eq 0

tmux_done
