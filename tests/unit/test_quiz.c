/*
 * test_quiz.c — questions made from a recorded run (ui/tui/quiz.c), and their
 * grading: a handshake asks for the listener's next state, the SYN,ACK's
 * flags and its ack; a teardown asks for TIME_WAIT and recv() = 0; a refused
 * connect asks for ECONNREFUSED; the right answer is accepted as a letter,
 * a number, its text and tcpdump's flags, a wrong one gets the hint for its
 * misconception; homework files are checked line by line and graded to JSON.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "quiz.h"
#include "scnrun.h"
#include "view.h"

#define HOSTS "hosts client=stack server=peer\n"

struct run {
    struct scn *s;
    struct scn_result res;
    struct scn_timeline *tl;
    struct quiz qz;
};

static void run_text(struct run *r, const char *text)
{
    memset(r, 0, sizeof *r);
    scnrun_text("q.tcps", text, &r->s, &r->res, &r->tl);
    assert_int_equal(quiz_build(&r->qz, r->tl), 0);
}

static void run_free(struct run *r)
{
    quiz_free(&r->qz);
    scnrun_free(r->s, &r->res, r->tl);
}

/* The first question of this kind about host `host` (a name), or NULL. */
static const struct quiz_q *find(const struct run *r, enum quiz_kind kind, const char *host,
                                 const char *text_has)
{
    for (size_t i = 0; i < r->qz.n; i++) {
        const struct quiz_q *q = &r->qz.q[i];
        if (q->kind != kind)
            continue;
        if (host && (q->host < 0 || strcmp(r->tl->hosts[q->host].name, host)))
            continue;
        if (text_has && !strstr(q->text_en, text_has))
            continue;
        return q;
    }
    return NULL;
}

static const char *answer(const struct quiz_q *q)
{
    static char buf[96];
    return quiz_answer_text(q, false, buf, sizeof buf);
}

#define HANDSHAKE                                                                                  \
    HOSTS "server: listen 8080\nserver: accept as conn\nclient: connect server:8080\n"             \
          "expect server -> client S. ack=1\nexpect client state ESTABLISHED\n"                    \
          "expect server state ESTABLISHED\nexpect server accept = ok\n"

static void test_handshake_asks_listener_state_synack_flags_and_ack(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, HANDSHAKE);
    const struct quiz_q *q = find(&r, QUIZ_STATE, "server", "in LISTEN");
    assert_non_null(q);
    assert_string_equal(answer(q), "SYN_RECEIVED");
    assert_true(q->nchoices >= 3);

    q = find(&r, QUIZ_FLAGS, "server", NULL);
    assert_non_null(q);
    assert_string_equal(answer(q), "SYN,ACK");
    assert_int_equal(q->nchoices, 4);
    /* Every choice different. */
    for (int i = 0; i < q->nchoices; i++)
        for (int j = i + 1; j < q->nchoices; j++)
            assert_string_not_equal(q->choice_en[i], q->choice_en[j]);

    q = find(&r, QUIZ_ACK, "server", NULL);
    assert_non_null(q);
    assert_int_equal(q->nchoices, 0);
    assert_int_equal(q->number, 1); /* the SYN took one sequence number */

    q = find(&r, QUIZ_STATE, "client", "in SYN_SENT");
    assert_non_null(q);
    assert_string_equal(answer(q), "ESTABLISHED");
    run_free(&r);
}

static void test_questions_come_before_their_step_and_at_most_four_per_step(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, HANDSHAKE);
    assert_true(r.qz.n >= 6);
    size_t prev = 0, count = 0;
    for (size_t i = 0; i < r.qz.n; i++) {
        const struct quiz_q *q = &r.qz.q[i];
        assert_true(q->step >= 1 && q->step <= r.tl->nsteps);
        assert_true(q->step >= prev); /* in the order they are asked */
        count = q->step == prev ? count + 1 : 1;
        prev = q->step;
        assert_true(count <= QUIZ_MAX_PER_STEP);
        /* The event the question is about happens in that very step. */
        const struct scn_step *st = &r.tl->steps[q->step - 1];
        assert_true(q->ev >= st->first_event && q->ev < st->end_event);
        assert_true(q->text_zh[0] != 0);
    }
    size_t n;
    size_t first = quiz_first_of_step(&r.qz, r.qz.q[0].step, &n);
    assert_int_equal(first, 0);
    assert_true(n >= 1);
    quiz_first_of_step(&r.qz, r.tl->nsteps + 5, &n);
    assert_int_equal(n, 0);
    run_free(&r);
}

static void test_teardown_asks_time_wait_and_recv_zero(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, HANDSHAKE "client: close\nexpect server state CLOSE_WAIT\nconn: recv\n"
                           "expect conn recv = 0\nconn: close\n"
                           "expect client state TIME_WAIT\n");
    const struct quiz_q *q = find(&r, QUIZ_STATE, "client", "in FIN_WAIT_2");
    assert_non_null(q);
    assert_string_equal(answer(q), "TIME_WAIT");
    q = find(&r, QUIZ_CALL, "server", "recv");
    assert_non_null(q);
    assert_int_equal(q->nchoices, 0);
    assert_int_equal(q->number, 0);
    q = find(&r, QUIZ_FLAGS, "client", NULL);
    assert_non_null(q);
    q = find(&r, QUIZ_STATE, "server", "in ESTABLISHED");
    assert_non_null(q);
    assert_string_equal(answer(q), "CLOSE_WAIT");
    run_free(&r);
}

static void test_refused_connect_asks_for_rst_and_econnrefused(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, HOSTS "client: connect server:9\nexpect client connect = ECONNREFUSED\n");
    const struct quiz_q *q = find(&r, QUIZ_CALL, "client", "connect");
    assert_non_null(q);
    assert_string_equal(answer(q), "ECONNREFUSED");
    q = find(&r, QUIZ_FLAGS, "server", NULL);
    assert_non_null(q);
    assert_string_equal(answer(q), "RST,ACK");
    run_free(&r);
}

/* A lesson as it is in the tree (this file's path is absolute in the build). */
static void run_lesson(struct run *r, const char *file)
{
    char path[4096];
    const char *me = __FILE__, *slash = strrchr(me, '/');
    assert_non_null(slash);
    snprintf(path, sizeof path, "%.*s/../../scenarios/lessons/%s", (int)(slash - me), me, file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    assert_true(n > 0 && n < sizeof text - 1);
    text[n] = 0;
    fclose(f);
    run_text(r, text);
}

/* Lesson 21: every poll() that returns is asked about, before the step that
 * brings the segment making it ready, and the right set is what the run
 * recorded — writable after the SYN,ACK; readable for the completed
 * handshake, the data and the FIN; writable with ERR and HUP after the RST. */
static void test_lesson21_asks_what_poll_returns(void **state)
{
    (void)state;
    struct run r;
    run_lesson(&r, "21-nonblocking-connect.tcps");
    static const struct {
        const char *host, *asked, *answer;
    } want[] = {{"client", "poll(POLLOUT)", "POLLOUT"},
                {"server", "poll(POLLIN)", "POLLIN"},
                {"server", "poll(POLLIN)", "POLLIN"},
                {"server", "poll(POLLIN)", "POLLIN"},
                {"client", "poll(POLLOUT)", "POLLOUT|POLLERR|POLLHUP"}};
    size_t k = 0;
    for (size_t i = 0; i < r.qz.n; i++) {
        const struct quiz_q *q = &r.qz.q[i];
        if (q->kind != QUIZ_READY)
            continue;
        assert_true(k < sizeof want / sizeof want[0]);
        assert_string_equal(r.tl->hosts[q->host].name, want[k].host);
        assert_non_null(strstr(q->text_en, want[k].asked));
        assert_non_null(strstr(q->text_zh, want[k].asked));
        assert_string_equal(answer(q), want[k].answer);
        /* The answer is the recorded event's, and the choices all differ. */
        const struct tev *ev = r.tl->events[q->ev];
        assert_int_equal(ev->kind, TEV_READY);
        char buf[48];
        assert_string_equal(answer(q), tcp_poll_str(ev->u.ready.revents, false, buf, sizeof buf));
        assert_int_equal(q->nchoices, 4);
        for (int a = 0; a < q->nchoices; a++)
            for (int b = a + 1; b < q->nchoices; b++)
                assert_string_not_equal(q->choice_en[a], q->choice_en[b]);
        int chosen;
        assert_int_equal(quiz_grade(q, want[k].answer, &chosen), QUIZ_RIGHT);
        assert_int_equal(quiz_grade(q, "POLLIN|POLLOUT", &chosen), QUIZ_WRONG);
        k++;
    }
    assert_int_equal(k, sizeof want / sizeof want[0]);
    /* The refused connect's wrong answer is told about SO_ERROR. */
    const struct quiz_q *q = NULL;
    for (size_t i = 0; i < r.qz.n; i++)
        if (r.qz.q[i].kind == QUIZ_READY)
            q = &r.qz.q[i];
    char hint[768];
    int wrong = (q->correct + 1) % q->nchoices;
    assert_non_null(strstr(quiz_hint(q, wrong, false, hint, sizeof hint), "SO_ERROR"));
    assert_string_equal(quiz_kind_name(QUIZ_READY), "ready");
    run_free(&r);
}

/* Lesson 24: each recvfrom() that returns data is asked for its size, and
 * the answer is one datagram's (6, 6, then 3 and 3 for "one" and "two"),
 * not the bytes waiting; the recvfrom() of the lost datagram waits and is
 * not asked. */
static void test_lesson24_asks_recvfrom_sizes_one_datagram_each(void **state)
{
    (void)state;
    struct run r;
    run_lesson(&r, "24-tcp-next-to-udp.tcps");
    static const struct {
        const char *host;
        long bytes;
    } want[] = {{"server", 6}, {"client", 6}, {"server", 3}, {"server", 3}};
    size_t k = 0;
    for (size_t i = 0; i < r.qz.n; i++) {
        const struct quiz_q *q = &r.qz.q[i];
        if (q->kind != QUIZ_CALL || !strstr(q->text_en, "recvfrom()"))
            continue;
        assert_true(k < sizeof want / sizeof want[0]);
        assert_string_equal(r.tl->hosts[q->host].name, want[k].host);
        assert_int_equal(q->nchoices, 0);
        assert_int_equal(q->number, want[k].bytes);
        assert_int_equal(r.tl->events[q->ev]->u.call.result, want[k].bytes);
        int chosen;
        assert_int_equal(quiz_grade(q, want[k].bytes == 3 ? "6" : "3", &chosen), QUIZ_WRONG);
        char hint[768];
        assert_non_null(strstr(quiz_hint(q, 6, false, hint, sizeof hint), "boundaries"));
        k++;
    }
    assert_int_equal(k, sizeof want / sizeof want[0]);
    run_free(&r);
}

static void test_right_answer_as_letter_digit_text_or_tcpdump_flags(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, HANDSHAKE);
    const struct quiz_q *q = find(&r, QUIZ_FLAGS, "server", NULL);
    int chosen;
    char letter[3] = {(char)('a' + q->correct), 0};
    char digit[2] = {(char)('1' + q->correct), 0};
    assert_int_equal(quiz_grade(q, letter, &chosen), QUIZ_RIGHT);
    assert_int_equal(chosen, q->correct);
    letter[0] = (char)('A' + q->correct);
    letter[1] = ')';
    assert_int_equal(quiz_grade(q, letter, &chosen), QUIZ_RIGHT);
    assert_int_equal(quiz_grade(q, digit, &chosen), QUIZ_RIGHT);
    assert_int_equal(quiz_grade(q, "syn, ack", &chosen), QUIZ_RIGHT);
    assert_int_equal(quiz_grade(q, "S.", &chosen), QUIZ_RIGHT);
    assert_int_equal(quiz_grade(q, "S", &chosen), QUIZ_WRONG);
    assert_int_equal(quiz_grade(q, "e", &chosen), QUIZ_INVALID);
    assert_int_equal(quiz_grade(q, "URG", &chosen), QUIZ_INVALID);
    assert_int_equal(quiz_grade(q, "", &chosen), QUIZ_INVALID);

    q = find(&r, QUIZ_ACK, "server", NULL);
    assert_int_equal(quiz_grade(q, "1", &chosen), QUIZ_RIGHT);
    assert_int_equal(quiz_grade(q, " 1 ", &chosen), QUIZ_RIGHT);
    assert_int_equal(quiz_grade(q, "0", &chosen), QUIZ_WRONG);
    assert_int_equal(quiz_grade(q, "one", &chosen), QUIZ_INVALID);
    assert_int_equal(quiz_grade(q, "1x", &chosen), QUIZ_INVALID);
    run_free(&r);
}

static void test_wrong_answers_get_the_hint_for_their_misconception(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, HANDSHAKE);
    char buf[768];
    const struct quiz_q *q = find(&r, QUIZ_ACK, "server", NULL);
    /* ack = 0: forgot that the SYN takes a sequence number. */
    assert_non_null(strstr(quiz_hint(q, 0, false, buf, sizeof buf), "one sequence number"));
    assert_non_null(strstr(quiz_hint(q, 0, true, buf, sizeof buf), "序列号"));
    assert_null(strstr(quiz_hint(q, 7, false, buf, sizeof buf), "one sequence number"));

    q = find(&r, QUIZ_STATE, "server", "in LISTEN");
    assert_non_null(strstr(quiz_hint(q, 0, false, buf, sizeof buf), "SYN_RECEIVED"));
    run_free(&r);

    run_text(&r, HANDSHAKE "client: close\nexpect server state CLOSE_WAIT\nconn: close\n"
                           "expect client state TIME_WAIT\n");
    q = find(&r, QUIZ_STATE, "client", "in FIN_WAIT_2");
    int closed = -1;
    for (int i = 0; i < q->nchoices; i++)
        if (!strcmp(q->choice_en[i], "CLOSED"))
            closed = i;
    assert_true(closed >= 0);
    assert_non_null(strstr(quiz_hint(q, closed, false, buf, sizeof buf), "2 MSL"));
    assert_non_null(strstr(quiz_hint(q, closed, true, buf, sizeof buf), "2MSL"));
    q = find(&r, QUIZ_STATE, "server", "in ESTABLISHED");
    assert_non_null(strstr(quiz_hint(q, 0, false, buf, sizeof buf), "never called close()"));
    run_free(&r);
}

/* Write text to a temporary file; returns its path (static buffer). */
static const char *temp_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/tcplab-quiz-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void expect_bad_file(const struct run *r, const char *text, int line, int col,
                            const char *msg_has)
{
    struct quiz_answers a;
    struct scn_error err;
    const char *p = temp_file(text);
    assert_int_equal(quiz_answers_read(&r->qz, p, &a, &err), -1);
    unlink(p);
    assert_string_equal(err.file, p);
    assert_int_equal(err.line, line);
    assert_int_equal(err.col, col);
    if (!strstr(err.msg, msg_has))
        fail_msg("message '%s' lacks '%s'", err.msg, msg_has);
}

static void test_answer_file_errors_name_line_and_column(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, HANDSHAKE);
    const struct quiz_q *num = find(&r, QUIZ_ACK, "server", NULL);
    size_t num_id = (size_t)(num - r.qz.q) + 1;
    expect_bad_file(&r, "# ok\n\n99 a\n", 3, 1, "no question 99");
    expect_bad_file(&r, "1 a\n  1 b\n", 2, 3, "answered twice (first on line 1)");
    expect_bad_file(&r, "1 z\n", 1, 3, "not a choice of question 1");
    expect_bad_file(&r, "b 1\n", 1, 1, "question number");
    expect_bad_file(&r, "1\n", 1, 2, "no answer");
    expect_bad_file(&r, "1x a\n", 1, 2, "space");
    char text[64];
    snprintf(text, sizeof text, "%zu many\n", num_id);
    expect_bad_file(&r, text, 1, num_id >= 10 ? 4 : 3, "wants a number");
    struct quiz_answers a;
    struct scn_error err;
    assert_int_equal(quiz_answers_read(&r.qz, "/nonexistent/answers", &a, &err), -1);
    assert_non_null(strstr(err.msg, "cannot read"));
    run_free(&r);
}

static void test_graded_json_counts_right_wrong_and_missing(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, HANDSHAKE);
    /* Question 1 right (by its text), the ack question wrong, the rest left out. */
    const struct quiz_q *num = find(&r, QUIZ_ACK, "server", NULL);
    size_t num_id = (size_t)(num - r.qz.q) + 1;
    char text[256], right[96];
    snprintf(text, sizeof text, "1: %s  # my guess\n%zu 0\n",
             quiz_answer_text(&r.qz.q[0], false, right, sizeof right), num_id);
    const char *p = temp_file(text);
    struct quiz_answers a;
    struct scn_error err;
    assert_int_equal(quiz_answers_read(&r.qz, p, &a, &err), 0);
    unlink(p);
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    struct quiz_score sc = quiz_write_json(&r.qz, &a, "q.tcps", false, f);
    fclose(f);
    assert_int_equal(sc.questions, r.qz.n);
    assert_int_equal(sc.answered, 2);
    assert_int_equal(sc.right, 1);
    assert_non_null(strstr(out, "\"id\":1,"));
    assert_non_null(strstr(out, "\"right\":true"));
    assert_non_null(strstr(out, "\"given\":\"0\",\"expected\":\"1\",\"right\":false,\"hint\":"));
    assert_non_null(strstr(out, "\"given\":null"));
    snprintf(text, sizeof text, "\"questions\":%zu,\"answered\":2,\"right\":1,", r.qz.n);
    assert_non_null(strstr(out, text));
    assert_int_equal(out[outlen - 1], '\n');
    free(out);
    quiz_answers_free(&a);
    run_free(&r);
}

static bool on_screen(const struct screen *s, const char *text)
{
    char buf[2048];
    for (int y = 0; y < s->h; y++) {
        screen_row_text(s, y, buf, sizeof buf);
        if (strstr(buf, text))
            return true;
    }
    return false;
}

static void test_session_asks_reveals_and_keeps_score_on_screen(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, HANDSHAKE);
    struct quiz_session qs;
    assert_int_equal(quiz_session_init(&qs, r.tl), 0);
    struct ui_player p;
    ui_player_init(&p, r.tl);
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    o.quiz = &qs;
    struct screen *s = screen_new(80, 24);

    size_t i = quiz_session_pending(&qs, 1);
    assert_int_equal(i, 0);
    quiz_session_ask(&qs, i);
    ui_render_play(s, &p, &o);
    assert_true(on_screen(s, "quiz \u00b7 score 0/0"));
    assert_true(on_screen(s, "Q1: server is in CLOSED. Which state does it enter next?"));
    assert_true(on_screen(s, "1-4 choose"));
    /* Not an answer: still asked. */
    assert_int_equal(quiz_session_answer(&qs, "9"), QUIZ_INVALID);
    assert_int_equal(qs.phase, QUIZ_ASKING);
    assert_int_equal(quiz_session_answer(&qs, "LISTEN"), QUIZ_RIGHT);
    assert_int_equal(qs.phase, QUIZ_REVEALED);
    ui_player_next(&p);
    ui_render_play(s, &p, &o);
    assert_true(on_screen(s, "\u2713 Right: LISTEN"));
    assert_true(on_screen(s, "quiz \u00b7 score 1/1"));
    assert_int_equal(quiz_session_pending(&qs, 1), SIZE_MAX); /* never asked twice */

    /* A wrong answer, in Chinese, with the hint. */
    size_t k = qs.qz.q[1].step;
    quiz_session_ask(&qs, quiz_session_pending(&qs, k));
    const struct quiz_q *q = &qs.qz.q[qs.cur];
    char wrong[2] = {(char)('a' + (q->correct + 1) % q->nchoices), 0};
    assert_int_equal(quiz_session_answer(&qs, wrong), QUIZ_WRONG);
    o.zh = true;
    ui_render_play(s, &p, &o);
    assert_true(on_screen(s, "\u6d4b\u9a8c \u00b7 \u5f97\u5206 1/2")); /* 测验 · 得分 1/2 */
    assert_true(on_screen(s, "\u7b54\u9519\u4e86"));                   /* 答错了 */
    /* A skip counts as asked. */
    quiz_session_ask(&qs, quiz_session_pending(&qs, k));
    quiz_session_skip(&qs);
    assert_int_equal(qs.asked, 3);
    assert_int_equal(qs.right_count, 1);
    screen_free(s);
    ui_player_free(&p);
    quiz_session_free(&qs);
    run_free(&r);
}

/* A scenario's own question comes first in its step, in both languages,
 * and its hint speaks to every question of that step. */
static void test_written_question_and_hint_join_the_generated_ones(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, HANDSHAKE "client: close\n"
                           "  ask en \"Who will wait in TIME_WAIT?\" \"the server\" *\"the client\"\n"
                           "  ask zh \"谁会在 TIME_WAIT 中等待？\" \"服务器\" *\"客户端\"\n"
                           "  hint en \"The side that closes first waits.\"\n"
                           "expect server state CLOSE_WAIT\n");
    const struct quiz_q *q = find(&r, QUIZ_ASKED, NULL, "TIME_WAIT");
    assert_non_null(q);
    assert_int_equal(q->nchoices, 2);
    assert_int_equal(q->correct, 1);
    assert_string_equal(q->choice_zh[1], "客户端");
    assert_string_equal(q->text_zh, "谁会在 TIME_WAIT 中等待？");
    size_t n, first = quiz_first_of_step(&r.qz, q->step, &n);
    assert_ptr_equal(&r.qz.q[first], q); /* before the ones made from the run */
    assert_true(n >= 2);
    int chosen;
    assert_int_equal(quiz_grade(q, "the client", &chosen), QUIZ_RIGHT);
    assert_int_equal(quiz_grade(q, "服务器", &chosen), QUIZ_WRONG);
    char buf[768];
    assert_string_equal(quiz_hint(q, 0, false, buf, sizeof buf),
                        "The side that closes first waits.");
    /* zh falls back to the English hint; generated questions get it first. */
    assert_non_null(strstr(quiz_hint(q, 0, true, buf, sizeof buf), "closes first"));
    const struct quiz_q *gen = &r.qz.q[first + 1];
    assert_int_equal(gen->step, q->step);
    assert_true(strncmp(quiz_hint(gen, -1, false, buf, sizeof buf),
                        "The side that closes first waits. ", 34) == 0);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_asks_listener_state_synack_flags_and_ack),
        cmocka_unit_test(test_questions_come_before_their_step_and_at_most_four_per_step),
        cmocka_unit_test(test_teardown_asks_time_wait_and_recv_zero),
        cmocka_unit_test(test_refused_connect_asks_for_rst_and_econnrefused),
        cmocka_unit_test(test_lesson21_asks_what_poll_returns),
        cmocka_unit_test(test_lesson24_asks_recvfrom_sizes_one_datagram_each),
        cmocka_unit_test(test_right_answer_as_letter_digit_text_or_tcpdump_flags),
        cmocka_unit_test(test_wrong_answers_get_the_hint_for_their_misconception),
        cmocka_unit_test(test_answer_file_errors_name_line_and_column),
        cmocka_unit_test(test_graded_json_counts_right_wrong_and_missing),
        cmocka_unit_test(test_session_asks_reveals_and_keeps_score_on_screen),
        cmocka_unit_test(test_written_question_and_hint_join_the_generated_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
