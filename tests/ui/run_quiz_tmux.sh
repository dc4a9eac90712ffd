#!/bin/bash
# End-to-end test of quiz mode (`tcplab play --quiz`, key p) in a real
# terminal (tmux on a private server), at 100x30 in English and at 80x24 in
# Chinese: a right answer, a wrong one (with its hint), a skipped one, a
# typed number, the score after each, the language switch, p on and off,
# and step back never asking twice. Which choice is right is decided here
# from TCP itself (LISTEN after listen(), SYN_SENT after connect(), ack=1
# for the SYN,ACK), never taken from the program.
#
# usage: run_quiz_tmux.sh TCPLAB LESSON   (LESSON: scenarios/lessons/02-*.tcps)
# exit: 0 all passed, 1 a check failed, 77 tmux is not installed (skip).
set -u
TCPLAB=${1:?usage: run_quiz_tmux.sh TCPLAB LESSON}
LESSON=${2:?usage: run_quiz_tmux.sh TCPLAB LESSON}
. "$(dirname "$0")/tmux_lib.sh"

# digit_of TEXT: the number of the choice reading exactly TEXT ("3) LISTEN").
digit_of() { screen | grep -oE "[1-4]\) $1( |$)" | head -1 | cut -c1; }
# digit_not TEXT: the number of some choice that is not TEXT.
digit_not() { screen | grep -oE "[1-4]\) [A-Z_,]+" | grep -v ") $1\$" | head -1 | cut -c1; }

start() { # start NAME W H ARGS...
    local name=$1 w=$2 h=$3
    shift 3
    tmux_start "$name" "$w" "$h" \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 '$TCPLAB' play $* '$LESSON'; sleep 30"
}

# ---- English, 100x30 ----------------------------------------------------------
SIZE=100x30
start en 100 30 --quiz --lang en
check "starts with the quiz panel" wait_for "quiz · score 0/0"
keys n
check "first question before step 1" wait_for "Q1: server is in CLOSED. Which state does it enter next?"
check "still at step 0 while asking" wait_for "step 0/"
d=$(digit_of LISTEN)
check "LISTEN is a choice" test -n "$d"
keys "$d"
check "right answer revealed" wait_for "✓ Right: LISTEN"
check "score 1/1" wait_for "quiz · score 1/1"
check "the step played: its narration explains" wait_for "The server listens on port 8002"
check "now at step 1" wait_for "step 1/"

# Step 2 has nothing to ask; step 3 asks about the client.
keys n
check "a step without questions just plays" wait_for "step 2/"
keys n
check "question about connect()" wait_for "client is in CLOSED. Which state does it enter next?"
d=$(digit_not SYN_SENT)
keys "$d"
check "wrong answer: the right one is named" wait_for "✗ Not quite: the answer is SYN_SENT"
check "wrong answer: the hint" wait_for "connect() sends a SYN and waits in SYN_SENT"
check "score 1/2" wait_for "quiz · score 1/2"
check "more questions for this step: not played yet" wait_for "the next question of this step"
keys n
check "flags question" wait_for "client sends a segment to server. Which flags does it carry?"
keys s
check "s skips" wait_for "Skipped: the answer is SYN"
check "score 1/3" wait_for "quiz · score 1/3"
check "after the last question the step plays" wait_for "step 3/"

# On to the server's SYN,ACK and its ack number (typed).
for i in $(seq 1 6); do # each key's effect drawn before the screen is read again
    shot=$(screen)
    grep -qF "Which acknowledgement number (relative) does server's SYN,ACK carry?" <<<"$shot" && break
    if grep -qF "1-4 choose" <<<"$shot"; then keys s; else keys n; fi
    wait_changed "$shot"
done
check "number question" wait_for "your answer: "
keys 7 BSpace 1
check "typed digits show, backspace erases" wait_for "your answer: 1▏"
keys Enter
check "typed number right" wait_for "✓ Right: 1"

keys l
check "l: the quiz in Chinese" wait_for "测验 · 得分"
keys l
check "l again: English" wait_for "quiz · score"

# Step back and forward: what was answered is not asked again.
at=$(screen | grep -oE 'step [0-9]+/' | head -1)
keys Left
check "← steps back" wait_gone "$at"
keys n
check "→ replays the answered step at once" wait_for "$at"
check "no question asked twice" bash -c "! $T capture-pane -t play -p | grep -qE '1-4 choose|your answer:'"
keys q
check "q quits" wait_gone "tcplab ·"

# ---- Chinese, 80x24 -----------------------------------------------------------
SIZE=80x24
start zh 80 24 --quiz --lang zh
check "zh: quiz panel" wait_for "测验 · 得分 0/0"
keys n
check "zh: question in Chinese" wait_for "第 1 题：server 当前处于 CLOSED 状态。它接下来进入哪个状态？"
check "zh: keys in Chinese" wait_for "按 1-4 选择"
d=$(digit_of LISTEN)
keys "$d"
check "zh: right" wait_for "✓ 答对了：LISTEN"
check "zh: score 1/1" wait_for "测验 · 得分 1/1"
keys n n
check "zh: next question" wait_for "client 当前处于 CLOSED 状态"
d=$(digit_not SYN_SENT)
keys "$d"
check "zh: wrong" wait_for "✗ 答错了：答案是 SYN_SENT"
check "zh: hint in Chinese" wait_for "connect() 发出 SYN"
check "zh: score 1/2" wait_for "测验 · 得分 1/2"
keys '?'
check "zh: help lists the quiz key" wait_for "测验：预测每一步"
keys x q

# ---- p turns the quiz on and off ------------------------------------------------
SIZE=toggle
start toggle 100 30 --lang en
check "no quiz without --quiz" wait_for "narration · English"
keys '?'
check "help lists p" wait_for "quiz: predict each step"
keys x p
check "p: quiz on" wait_for "quiz · score 0/0"
keys n
check "p: asks" wait_for "Q1: server is in CLOSED"
keys p
check "p again: narration back" wait_for "narration · English"
keys n
check "quiz off: steps play" wait_for "step 1/"
keys q

tmux_done
