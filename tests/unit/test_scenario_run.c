/*
 * test_scenario_run.c — the scenario runner on the virtual link: expectations
 * that hold pass and ones that do not fail with an account naming the line,
 * what was expected and what happened; accept() gives a socket distinct from
 * the listener; a host blocked in a call holds its next call back; the
 * timeline gives every event to exactly one step; the same seed replays the
 * same events.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario.h"

#define HOSTS "hosts client=stack server=peer\n"
#define CONNECTED                                                                                  \
    HOSTS "server: listen 8080 as l\nclient: connect server:8080\nserver: accept as c\n"           \
          "expect c accept = ok\n"

struct run {
    struct scn *s;
    struct scn_result res;
    struct scn_timeline *tl;
};

static void run_text(struct run *r, const char *text, uint64_t seed)
{
    struct scn_error err;
    memset(r, 0, sizeof *r);
    r->s = scn_parse_string("r.tcps", text, strlen(text), &err);
    if (!r->s)
        fail_msg("parse: %d:%d: %s", err.line, err.col, err.msg);
    struct scn_run_opts opts = {.seed = seed};
    assert_int_equal(scn_run(r->s, &opts, &r->res, &r->tl), 0);
    assert_non_null(r->tl);
}

static void run_free(struct run *r)
{
    scn_result_free(&r->res);
    scn_timeline_free(r->tl);
    scn_free(r->s);
}

static void test_true_expectations_pass_without_a_report(void **state)
{
    (void)state;
    struct run r;
    run_text(&r,
             CONNECTED "expect client state ESTABLISHED\nclient: close\n"
                       "expect client -> server F. seq=1 ack=1\nexpect server state CLOSE_WAIT\n"
                       "c: recv\nexpect c recv = 0\n",
             0);
    assert_int_equal(r.res.failures, 0);
    assert_int_equal(r.res.expectations, 5);
    run_free(&r);
}

static void test_wrong_segment_expectation_reports_line_expected_and_happened(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, CONNECTED "client: close\nexpect client -> server F. seq=1 ack=7\n", 0);
    assert_int_equal(r.res.failures, 1);
    assert_non_null(r.res.report);
    assert_non_null(strstr(r.res.report, "r.tcps:7: expect client -> server F. seq=1 ack=7"));
    assert_non_null(strstr(r.res.report, "expected: client -> server F. seq=1 ack=7"));
    assert_non_null(strstr(r.res.report, "happened: client -> server F. seq=1 ack=1"));
    assert_non_null(strstr(r.res.report, "ack is 1, expected ack=7"));
    run_free(&r);
}

static void test_refused_connect_is_a_checkable_call_result(void **state)
{
    (void)state;
    struct run r;
    run_text(&r,
             HOSTS "client: connect server:9\nexpect client connect = ECONNREFUSED\n"
                   "expect server -> client R. ack=1\n",
             0);
    assert_int_equal(r.res.failures, 0);
    run_free(&r);
    run_text(&r, HOSTS "client: connect server:9\nexpect client connect = ok\n", 0);
    assert_int_equal(r.res.failures, 1);
    assert_non_null(strstr(r.res.report, "returned ECONNREFUSED"));
    run_free(&r);
}

static void test_accept_returns_a_new_socket_distinct_from_the_listener(void **state)
{
    (void)state;
    struct run r;
    run_text(&r, CONNECTED "expect l state LISTEN\nexpect c state ESTABLISHED\n", 0);
    assert_int_equal(r.res.failures, 0);
    long listener = -1, accepted = -1;
    for (size_t i = 0; i < r.tl->nevents; i++) {
        const struct tev *ev = r.tl->events[i];
        if (ev->kind != TEV_CALL || strcmp(ev->host, "server") != 0)
            continue;
        if (ev->u.call.call == TCP_CALL_SOCKET)
            listener = ev->u.call.result;
        if (ev->u.call.call == TCP_CALL_ACCEPT)
            accepted = ev->u.call.result;
    }
    assert_true(listener >= 0);
    assert_true(accepted >= 0);
    assert_true(accepted != listener);
    run_free(&r);
}

static void test_host_blocked_in_accept_holds_back_its_next_call(void **state)
{
    (void)state;
    struct run r;
    /* Nobody connects: recv cannot even start. */
    run_text(&r,
             HOSTS "timeout 5s\nserver: listen 80\nserver: accept as c\n"
                   "expect server accept = blocked\nc: recv\n",
             0);
    assert_int_equal(r.res.failures, 1);
    assert_non_null(strstr(r.res.report, "still blocked in accept() (line 4)"));
    run_free(&r);
}

static void test_timeline_gives_every_event_to_one_step_in_order(void **state)
{
    (void)state;
    struct run r;
    run_text(&r,
             CONNECTED "  say en \"accepted\"\nclient: send \"hi\"\nc: recv\n"
                       "expect c recv = \"hi\"\n",
             0);
    assert_int_equal(r.res.failures, 0);
    assert_int_equal(r.tl->nsteps, 7);
    assert_int_equal(r.tl->steps[0].first_event, 0);
    for (size_t i = 0; i < r.tl->nsteps; i++) {
        assert_true(r.tl->steps[i].first_event <= r.tl->steps[i].end_event);
        if (i > 0)
            assert_int_equal(r.tl->steps[i].first_event, r.tl->steps[i - 1].end_event);
    }
    assert_int_equal(r.tl->steps[r.tl->nsteps - 1].end_event, r.tl->nevents);
    assert_string_equal(r.tl->steps[3].say_en, "accepted");
    assert_string_equal(r.tl->steps[4].text, "client: send \"hi\"");
    for (size_t i = 1; i < r.tl->nevents; i++)
        assert_true(r.tl->events[i]->t_us >= r.tl->events[i - 1]->t_us);
    /* The client's data segment belongs to the step of the send. */
    bool found = false;
    for (size_t e = r.tl->steps[4].first_event; e < r.tl->steps[4].end_event; e++) {
        const struct tev *ev = r.tl->events[e];
        if (ev->kind == TEV_SEGMENT && ev->u.seg.dir == TEV_OUT && ev->u.seg.tcp.payload_len == 2)
            found = true;
    }
    assert_true(found);
    assert_string_equal(r.tl->hosts[0].name, "client");
    assert_false(r.tl->hosts[0].kernel);
    run_free(&r);
}

static void test_same_seed_replays_the_same_events(void **state)
{
    (void)state;
    const char *text = CONNECTED "loss 0.3 both\nclient: send 30000 bytes\nclient: close\n"
                                 "wait 120s\n";
    struct run a, b, c;
    run_text(&a, text, 5);
    run_text(&b, text, 5);
    run_text(&c, text, 6);
    assert_int_equal(a.tl->nevents, b.tl->nevents);
    bool differs = c.tl->nevents != a.tl->nevents;
    for (size_t i = 0; i < a.tl->nevents; i++) {
        const struct tev *x = a.tl->events[i], *y = b.tl->events[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->t_us, y->t_us);
        assert_string_equal(x->host, y->host);
        if (x->kind == TEV_SEGMENT) {
            assert_int_equal(x->u.seg.tcp.seq, y->u.seg.tcp.seq);
            assert_int_equal(x->u.seg.tcp.flags, y->u.seg.tcp.flags);
        }
        if (!differs && i < c.tl->nevents &&
            (c.tl->events[i]->kind != x->kind || c.tl->events[i]->t_us != x->t_us))
            differs = true;
    }
    assert_true(differs); /* the seed reaches the link */
    run_free(&a);
    run_free(&b);
    run_free(&c);
}

static void test_state_passed_through_within_one_instant_is_seen(void **state)
{
    (void)state;
    struct run r;
    /* Simultaneous close: CLOSING lasts one round trip; TIME_WAIT 2*MSL. */
    run_text(&r,
             CONNECTED "client: close\nc: close\nexpect client state CLOSING\n"
                       "expect client state TIME_WAIT\nwait 2msl\nexpect client state CLOSED\n",
             0);
    assert_int_equal(r.res.failures, 0);
    run_free(&r);
}

static void test_tun_run_of_a_file_without_a_stack_host_is_refused(void **state)
{
    (void)state;
    struct scn_error err;
    const char *text = "hosts a=peer b=peer\n";
    struct scn *s = scn_parse_string("t.tcps", text, strlen(text), &err);
    assert_non_null(s);
    struct scn_run_opts opts = {.tun = true};
    struct scn_result res;
    struct scn_timeline *tl = NULL;
    assert_int_equal(scn_run(s, &opts, &res, &tl), -EINVAL);
    assert_null(tl);
    assert_non_null(res.report);
    assert_non_null(strstr(res.report, "exactly one stack host"));
    scn_result_free(&res);
    scn_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_true_expectations_pass_without_a_report),
        cmocka_unit_test(test_wrong_segment_expectation_reports_line_expected_and_happened),
        cmocka_unit_test(test_refused_connect_is_a_checkable_call_result),
        cmocka_unit_test(test_accept_returns_a_new_socket_distinct_from_the_listener),
        cmocka_unit_test(test_host_blocked_in_accept_holds_back_its_next_call),
        cmocka_unit_test(test_timeline_gives_every_event_to_one_step_in_order),
        cmocka_unit_test(test_same_seed_replays_the_same_events),
        cmocka_unit_test(test_state_passed_through_within_one_instant_is_seen),
        cmocka_unit_test(test_tun_run_of_a_file_without_a_stack_host_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
