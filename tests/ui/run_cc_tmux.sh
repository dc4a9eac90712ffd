#!/bin/bash
# End-to-end test of congestion control in `tcplab play`, in a real terminal
# (tmux): lessons 18 (slow start, a timeout, congestion avoidance) and 19
# (fast retransmit and fast recovery), stepped one step at a time at 80x24
# and 100x30. After every step the client's cwnd, ssthresh and flight on
# screen must be those of its last `cc` line in the lesson's golden trace
# up to that step (the trace's `== LINE:` markers are the steps); `c` shows
# the cwnd graph, whose marks (R fast recovery, T timeout) appear only once
# the trace has entered that phase; `?` lists `c`.
#
# usage: run_cc_tmux.sh TCPLAB LESSON18 LESSON19
# exit: 0 all passed, 1 a check failed, 77 tmux is not installed (skip).
set -u
TCPLAB=${1:?usage: run_cc_tmux.sh TCPLAB LESSON18 LESSON19}
L18=${2:?usage: run_cc_tmux.sh TCPLAB LESSON18 LESSON19}
L19=${3:?usage: run_cc_tmux.sh TCPLAB LESSON18 LESSON19}
. "$(dirname "$0")/tmux_lib.sh"

# expected TRACE: one line per step (0..N): "cwnd ssthresh flight R T" of
# the client's last cc line so far ("-" before it has one), R 1 once it has
# been in fast recovery, T 1 once in loss after a timeout.
expected() {
    awk 'BEGIN { cur = "- - -"; r = 0; t = 0 }
         /^== / { print cur, r, t; next }
         $1 == "client" && $2 == "cc" {
             cur = $5 " " $7 " " $9
             if ($3 == "recovery") r = 1
             if ($3 == "loss") t = 1
         }
         END { print cur, r, t }' "$1"
}

cc_on_screen() { # cc_on_screen CWND SSTHRESH FLIGHT: the client's line (left column)
    screen | grep -qE "^│ cwnd $1 +ssth(resh|r)? $2 +(flight|fl) $3( |$)"
}

# The graph's axis row (" 0 └───") holds MARK; or the graph is shown and
# its axis row does not.
axis_has() { screen | grep -E ' 0 └─' | grep -qF -- "$1"; }
axis_lacks() { screen | grep -qE ' 0 └─' && ! axis_has "$1"; }

lesson() { # lesson NAME FILE W H
    local name=$1 file=$2 w=$3 h=$4 trace=${2%.tcps}.trace
    SIZE="$name@${w}x$h"
    mapfile -t want < <(expected "$trace")
    local total=$((${#want[@]} - 1))
    tmux_start "$name-$w" "$w" "$h" \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 '$TCPLAB' play --lang en --speed 16 '$file'; sleep 60"
    check "starts at step 0 of $total" wait_for "step 0/$total"
    local k bad=0 shown=0 rec=0 rto=0 graph=0
    for k in $(seq 1 "$total"); do
        keys n
        wait_for "step $k/$total" || { bad=$((bad + 1)); echo "  step $k not reached"; continue; }
        read -r cw ss fl r t <<<"${want[$k]}"
        [ "$cw" = "-" ] && continue
        if wait_until cc_on_screen "$cw" "$ss" "$fl"; then
            shown=$((shown + 1))
        else
            bad=$((bad + 1))
            echo "  step $k: want cwnd $cw ssthresh $ss flight $fl"
        fi
        # The graph, at the first step after fast recovery or a timeout began
        # (and before: no mark).
        if [ "$r" != "$rec" ] || [ "$t" != "$rto" ]; then
            local mark=R
            [ "$t" != "$rto" ] && mark=T
            keys Left
            wait_for "step $((k - 1))/$total"
            keys c
            check "step $((k - 1)): the graph has no $mark yet" wait_until axis_lacks "$mark"
            keys n
            wait_for "step $k/$total"
            check "step $k: the graph marks $mark" wait_until axis_has "$mark"
            rec=$r rto=$t graph=1
            keys c
            wait_gone "cwnd graph ·"
        fi
    done
    check "every step: the trace's cwnd/ssthresh/flight ($shown steps checked)" test "$bad" -eq 0 -a "$shown" -gt 0
    check "the graph was looked at" test "$graph" -eq 1
    keys Home c
    check "Home + c: the graph before anything happened" wait_for "cwnd graph · client"
    check "Home: no recovery or timeout marked yet" wait_until axis_lacks "R"
    keys '?'
    check "?: help lists c" wait_for "cwnd graph: congestion window over time"
    keys x q
}

lesson l18 "$L18" 80 24
lesson l19 "$L19" 80 24
lesson l19 "$L19" 100 30
tmux_done
