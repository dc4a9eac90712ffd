/*
 * quiz.h — "predict the next segment": questions made from a recorded run.
 *
 * Data flow (docs/architecture.md): scenario -> scn_run -> struct scn_timeline ->
 * quiz_build() walks the timeline through the same ui_model the ladder is
 * drawn from (player.h), and before each step asks what that step will show:
 * the flags of the next segment, its ack (or seq) number, the state an
 * endpoint enters next, what a socket call returns. Nothing is written by
 * hand, so every lesson and every user scenario is a quiz; a scenario may add
 * its own questions (`ask en|zh`) and misconception hints (`hint en|zh`),
 * which arrive on the timeline's steps (scenario.h).
 *
 * The learner's answers are graded here, for `tcplab play --quiz` (one key
 * at a time) and for `tcplab quiz --answers FILE` (a homework file, graded
 * to JSON). docs/quiz.md describes both. Pure: no I/O except the file reader
 * and the JSON writer, which take a FILE.
 */
#ifndef TCPLAB_QUIZ_H
#define TCPLAB_QUIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "scenario.h"

#define QUIZ_MAX_CHOICES  4
#define QUIZ_MAX_PER_STEP 4

enum quiz_kind {
    QUIZ_FLAGS, /* which flags the next segment carries (choice) */
    QUIZ_ACK,   /* its acknowledgement number, relative (number) */
    QUIZ_SEQ,   /* its sequence number, relative (number) */
    QUIZ_STATE, /* the state an endpoint enters next (choice) */
    QUIZ_CALL,  /* what a socket call returns (choice, or number for recv/recvfrom) */
    QUIZ_ASKED, /* written in the scenario with `ask` (choice) */
    QUIZ_READY, /* what a waiting poll() returns (choice of POLLIN/POLLOUT/... sets) */
};
const char *quiz_kind_name(enum quiz_kind k); /* "flags", "ack", ... */

struct quiz_q {
    enum quiz_kind kind;
    size_t step; /* asked before step `step` (1-based) plays */
    size_t ev;   /* the event it is about (index in the timeline); SIZE_MAX for QUIZ_ASKED */
    int host;    /* the endpoint it is about (-1 for QUIZ_ASKED) */
    char text_en[200], text_zh[200];
    /* A choice question has nchoices > 0 and the right one at `correct`;
     * a number question has nchoices == 0 and the answer in `number`. */
    int nchoices;
    char choice_en[QUIZ_MAX_CHOICES][80], choice_zh[QUIZ_MAX_CHOICES][80];
    int correct;
    long number;
    /* What the right answer is about, to pick a misconception hint. */
    long truth;  /* QUIZ_STATE: enum tcp_state; QUIZ_FLAGS: flags; QUIZ_CALL: result;
                  * QUIZ_READY: revents */
    long before; /* QUIZ_STATE: the state it leaves; QUIZ_ACK/SEQ: the segment's flags;
                  * QUIZ_CALL: the call; QUIZ_READY: the events asked for */
    const char *hint_en, *hint_zh; /* the scenario's `hint` for this step (may be NULL) */
};

struct quiz {
    const struct scn_timeline *tl;
    size_t n;
    struct quiz_q *q;
};

/* All questions of a timeline, in the order they are asked. 0 or -ENOMEM. */
int quiz_build(struct quiz *qz, const struct scn_timeline *tl);
void quiz_free(struct quiz *qz);
/* First question asked before step k (1-based), and how many there are. */
size_t quiz_first_of_step(const struct quiz *qz, size_t k, size_t *count);

/* Grading one answer. `given` is a choice's letter (a-d), its number (1-4),
 * or its text in either language (case and spaces aside; "S." for SYN,ACK
 * as tcpdump writes flags); for a number question, a decimal number. */
enum quiz_verdict {
    QUIZ_RIGHT,
    QUIZ_WRONG,
    QUIZ_INVALID, /* not an answer to this question (no such choice, not a number) */
};
/* *chosen gets the choice index (or -1 for a number question / invalid). */
enum quiz_verdict quiz_grade(const struct quiz_q *q, const char *given, int *chosen);

/* The right answer as text ("SYN,ACK", "1", "ESTABLISHED"). */
const char *quiz_answer_text(const struct quiz_q *q, bool zh, char *buf, size_t cap);
/* Why a wrong answer is wrong: a misconception hint for what was chosen
 * (chosen = choice index, or for a number question the number given), or
 * the general rule. Never NULL. */
const char *quiz_hint(const struct quiz_q *q, long chosen, bool zh, char *buf, size_t cap);

/* ---- a learner at the keyboard (tcplab play --quiz) -------------------------------
 * Which questions are done, the one being asked or just answered, the score.
 * The player (cmd_play.c) asks before each step; stepping back never asks
 * again. */
enum quiz_phase {
    QUIZ_IDLE,     /* nothing asked: the narration shows */
    QUIZ_ASKING,   /* question `cur` waits for an answer */
    QUIZ_REVEALED, /* question `cur` was answered (or skipped): right or not, and why */
};
struct quiz_session {
    struct quiz qz;
    bool *done; /* per question: asked and answered or skipped */
    enum quiz_phase phase;
    size_t cur;
    char input[16]; /* digits typed for a number question */
    int chosen;     /* the choice given (-1: a number, or skipped) */
    long given;     /* the number given */
    bool right, skipped;
    unsigned asked, right_count;
};
/* 0 or -ENOMEM. */
int quiz_session_init(struct quiz_session *s, const struct scn_timeline *tl);
void quiz_session_free(struct quiz_session *s);
/* The first question not yet done that comes before step k, or SIZE_MAX. */
size_t quiz_session_pending(const struct quiz_session *s, size_t k);
/* Ask question i (phase ASKING). */
void quiz_session_ask(struct quiz_session *s, size_t i);
/* Answer the question being asked: a choice's letter/number/text, or a
 * number. QUIZ_INVALID leaves it asked; otherwise it is REVEALED. */
enum quiz_verdict quiz_session_answer(struct quiz_session *s, const char *given);
/* Skip the question being asked: it counts as asked, not right. */
void quiz_session_skip(struct quiz_session *s);

/* ---- a homework file ----------------------------------------------------------
 * One answer per line, "ID ANSWER" (ID as numbered by quiz_write_sheet,
 * from 1); '#' starts a comment; blank lines are ignored. */
struct quiz_answers {
    size_t n;     /* = the quiz's question count */
    char **given; /* given[i]: the answer to question i+1, or NULL */
    int *line;    /* where it was written */
};
/* Reads and checks FILE against the quiz (unknown or repeated IDs, answers
 * that fit no choice). 0, or -1 with err filled as file:line:col. */
int quiz_answers_read(const struct quiz *qz, const char *path, struct quiz_answers *a,
                      struct scn_error *err);
void quiz_answers_free(struct quiz_answers *a);

struct quiz_score {
    size_t questions, answered, right;
};
/* Grade every answer and write the result as one JSON object to out. */
struct quiz_score quiz_write_json(const struct quiz *qz, const struct quiz_answers *a,
                                  const char *scenario, bool zh, FILE *out);
/* The questions as a printable sheet, numbered, with the step they precede. */
void quiz_write_sheet(const struct quiz *qz, const char *title, bool zh, FILE *out);

#endif
