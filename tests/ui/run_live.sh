#!/bin/bash
# End-to-end test of the live view, `tcplab listen --ui`, with real kernel
# clients: run inside a private network namespace (tests/tun/netns-run.sh,
# which skips with 77 when namespaces or TUN are not allowed), in tmux at
# 100x30. nc sessions come and go; the connection table, the ladder and the
# event log must follow them.
#
# usage: netns-run.sh run_live.sh TCPLAB
set -u
TCPLAB=${1:?usage: run_live.sh TCPLAB}
PANE=live
. "$(dirname "$0")/tmux_lib.sh"
command -v nc >/dev/null || { echo "nc not installed: skipping"; exit 77; }
[ -n "${TCPLAB_IN_NETNS:-}" ] || { echo "run me through tests/tun/netns-run.sh"; exit 2; }

tmux_tmpdir
TRACE=$TMUX_TEST_DIR/live.jsonl
tmux_start live 100 30 \
    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 '$TCPLAB' listen --ui --msl 3 --quiet --trace '$TRACE'; sleep 30"
check "starts with no connections" wait_for "0 connections"

# An echo session that stays open until the checks below are done with it
# (a file says when, so a slow machine cannot close it early; bounded).
ECHO_DONE=$TMUX_TEST_DIR/echo-done
(printf 'hello\n'; for _ in $(seq 600); do [ -e "$ECHO_DONE" ] && break; sleep 0.1; done) |
    timeout 90 nc -N 10.7.0.2 7 >/dev/null &
NC=$!
check "the connection appears in the table" wait_for "1 connection "
check "local end 10.7.0.2:7, ESTABLISHED" wait_for "ESTABLISHED"
check "the kernel's own state beside it" wait_re "ESTABLISHED +0 +0 +ESTABLISHED"
check "the ladder shows the handshake" wait_for "SYN,ACK seq=0 ack=1"
check "the ladder shows the echoed data" wait_for "len=6"
check "the event log shows the calls" wait_for "call  recv() = 6"
# The events pane numbers like the ladder: relative, with the ack (the echo
# of "hello\n" acknowledges its 6 bytes); `a` makes them absolute (ISNs are
# never that small), `a` again relative.
check "events pane: the echo with its relative ack" wait_re "out 10\.7\.0\.2:7 → 10\.7\.0\.1:[0-9]+ [A-Z,]+ seq=1 ack=7 len=6"
keys a
check "a: the events pane shows absolute numbers" \
    wait_re "out 10\.7\.0\.2:7 → 10\.7\.0\.1:[0-9]+ [A-Z,]+ seq=[0-9]{4,} ack=[0-9]{4,} len=6"
keys a
check "a again: relative" wait_re "out 10\.7\.0\.2:7 → 10\.7\.0\.1:[0-9]+ [A-Z,]+ seq=1 ack=7 len=6"
# The stack's congestion window for this connection above the ladder: the
# numbers of the last cc event the JSON trace (written beside the UI) holds.
# Only whole lines: the UI and the file are written by one process, but a
# reader can see the file between two of its writes.
cc_as_traced() {
    local line cw ss fl snap=$TMUX_TEST_DIR/trace.snap
    cp "$TRACE" "$snap" 2>/dev/null || return 1
    [ -z "$(tail -c 1 "$snap")" ] || sed -i '$d' "$snap" # a last line without its newline
    line=$(grep '"ev":"cc"' "$snap" | grep -F '"conn":"10.7.0.2:7-' | tail -1)
    [ -n "$line" ] || return 1
    cw=$(sed -E 's/.*"cwnd":([0-9]+).*/\1/' <<<"$line")
    ss=$(sed -E 's/.*"ssthresh":([0-9]+).*/\1/' <<<"$line")
    fl=$(sed -E 's/.*"flight":([0-9]+).*/\1/' <<<"$line")
    screen | grep -qE ": cwnd $cw +ssth(resh|r)? $ss +(flight|fl) $fl"
}
check "cwnd, ssthresh, flight as the trace's last cc event" wait_until cc_as_traced
keys c
check "c: the cwnd graph" wait_for "cwnd graph · stack"
check "c: its scale and legend" wait_for "ssthresh  R fast recovery"
keys c
check "c again: the graph closes" wait_gone "cwnd graph · stack"

# A resize redraws at once, without a key: the frame follows the new size.
$T resize-window -t live -x 80 -y 24
resized() {
    local shot
    shot=$(screen)
    [ "$(printf '%s\n' "$shot" | wc -l)" -eq 24 ] &&
        printf '%s\n' "$shot" | tail -n 1 | grep -q "q quit" &&
        printf '%s\n' "$shot" | head -n 1 | grep -q "tcplab listen" &&
        printf '%s\n' "$shot" | sed -n 2p | grep -qE "^┌.*┐$" &&
        [ "$(printf '%s\n' "$shot" | sed -n 2p | wc -m)" -eq 81 ]
}
check "resize to 80x24: redrawn at the new size, no key pressed" wait_until resized
$T resize-window -t live -x 100 -y 30

# daytime: the stack answers one line and closes first, so it holds TIME_WAIT.
# Without -N: nc must not send its own FIN at once (stdin is empty), or under
# load that FIN can reach the stack before daytime has written and closed,
# and then the kernel, not the stack, is the side that ends in TIME_WAIT.
timeout 20 nc 10.7.0.2 13 </dev/null >/dev/null &
check "daytime: the stack's end in TIME_WAIT, 2MSL counting down" wait_re "10\.7\.0\.2:13 .*TIME_WAIT .*2MSL [0-9.]+s"
touch "$ECHO_DONE" # the echo session ends now
wait "$NC" 2>/dev/null
sleep 6 # 2MSL = 6 s
check "sessions gone: back to no connections" wait_for "0 connections"

keys '?'
check "? shows the live keys" wait_for "follow the newest connection"
check "? lists c" wait_for "congestion window over time"
keys x q
check "q quits" wait_gone "tcplab listen ·"

tmux_done
