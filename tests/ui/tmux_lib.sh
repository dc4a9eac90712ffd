# tests/ui/tmux_lib.sh — what every tmux test of the UI needs, sourced by
# run_tmux.sh, run_live.sh and run_quiz_tmux.sh (and run_cc_tmux.sh): a
# private tmux server per session, reading the pane back, waiting for text,
# counting checks.
#
#   . tmux_lib.sh            skips (exit 77) when tmux is not installed
#   tmux_start NAME W H CMD  a new server NAME (killed at exit), pane $PANE
#   keys KEY...              send-keys to the pane
#   screen                   the pane's text now
#   wait_for TEXT / wait_gone TEXT / wait_re REGEX / wait_until CMD...   poll up to 20 s
#   wait_changed SHOT        until the pane differs from SHOT (an earlier `screen`)
#                            and then stays the same for 0.3 s
#   tmux_tmpdir              a scratch directory $TMUX_TEST_DIR, removed at exit
#   check NAME CMD...        run CMD, count and print ok/FAIL (with the screen)
#   tmux_done                print the counts; its status is the test's
#
# $SIZE, when set, prefixes each line of the report; $PANE (default play) names
# the session. One server per session, never reused: a server just killed may
# still hold its socket for a moment.
export LANG=C.UTF-8 LC_ALL=C.UTF-8 # what the checks grep for is UTF-8
command -v tmux >/dev/null || { echo "tmux not installed: skipping"; exit 77; }

PANE=${PANE:-play}
TMUX_SOCK_BASE="tcplab-ui-$$"
TMUX_SERVERS=()
T=
passed=0
failed=0

TMUX_TEST_DIR=
tmux_cleanup() {
    local s
    for s in "${TMUX_SERVERS[@]}"; do
        tmux -L "$s" kill-server 2>/dev/null
    done
    [ -z "$TMUX_TEST_DIR" ] || rm -rf "$TMUX_TEST_DIR"
}
trap tmux_cleanup EXIT

# tmux_use NAME: talk to (and later kill) the server NAME.
tmux_use() {
    T="tmux -L $TMUX_SOCK_BASE-$1"
    TMUX_SERVERS+=("$TMUX_SOCK_BASE-$1")
}

tmux_start() { # tmux_start NAME W H COMMAND
    tmux_use "$1"
    $T new-session -d -s "$PANE" -x "$2" -y "$3" "$4"
}

# tmux_tmpdir: a scratch directory (in $TMUX_TEST_DIR), removed at exit.
tmux_tmpdir() { TMUX_TEST_DIR=$(mktemp -d); }

screen() { $T capture-pane -t "$PANE" -p 2>/dev/null; }
keys() { $T send-keys -t "$PANE" "$@"; }

wait_until() { # wait_until COMMAND...: until it succeeds, up to 20 s (a loaded machine
    local end=$((SECONDS + 20))   # is slow to draw; a pass returns at once)
    while :; do
        "$@" && return 0
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}

screen_has() { screen | grep -qF -- "$1"; }
screen_lacks() { ! screen_has "$1"; }
screen_matches() { screen | grep -qE -- "$1"; }
wait_for() { wait_until screen_has "$1"; }
wait_gone() { wait_until screen_lacks "$1"; }
wait_re() { wait_until screen_matches "$1"; }
screen_differs() { [ "$(screen)" != "$1" ]; }
screen_settles() { local a; a=$(screen); sleep 0.3; [ "$(screen)" = "$a" ]; }
# changed, and then still for 0.3 s: an animation started by the key is over
wait_changed() { wait_until screen_differs "$1" && wait_until screen_settles; }

check() { # check NAME COMMAND...
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok   ${SIZE:+$SIZE }$name"
    else
        failed=$((failed + 1))
        echo "FAIL ${SIZE:+$SIZE }$name"
        echo "---- screen ----"
        screen
        echo "----------------"
    fi
}

tmux_done() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
