/*
 * test_tcp_cc.c — congestion control (RFC 9293 §3.8.2, MUST-19: RFC 5681):
 * the initial window (RFC 5681 §3.1, RFC 6928), slow start, congestion
 * avoidance, fast retransmit and NewReno fast recovery (RFC 5681 §3.2,
 * RFC 6582), the loss window after a timeout, limited transmit (RFC 3042)
 * and restart after idle (RFC 5681 §4.1). The stack sends; the test plays
 * the receiver and reads cwnd and ssthresh from tcp_status() and TEV_CC.
 */
#include "tcptest.h"

#define SMSS 1460

static char bulk[64 * 1024];

/* An established connection with an initial window of `iw` segments. */
static struct tt *conn_with_iw(unsigned iw)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.init_cwnd = (uint8_t)iw;
    cfg.sndbuf = sizeof bulk;
    struct tt *t = tt_established(&cfg);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    memset(bulk, 'c', sizeof bulk);
    return t;
}

/* Expect `n` full segments from relative sequence number `rseq` on. */
static void expect_segments(struct tt *t, uint32_t rseq, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        tt_expect(t, TCP_ACK, rseq + i * SMSS, 1, SMSS);
}

/* The most recent TEV_CC event. */
static const struct tev *last_cc(const struct tt *t)
{
    return tt_last_event(t, TEV_CC);
}

/* MUST-19, RFC 5681 §3.1: the first flight is the initial window; each ACK
 * in slow start lets cwnd grow by one SMSS, so two more segments go. */
static void test_must19_initial_window_then_slow_start(void **state)
{
    struct tt *t = conn_with_iw(2);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.cwnd, 2 * SMSS);
    assert_int_equal(st.ssthresh, 65535);
    assert_int_equal(st.cc_phase, TCP_CC_SLOW_START);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 10 * SMSS), 10 * SMSS);
    expect_segments(t, 1, 2);
    tt_expect_nothing(t); /* the window is 65535, cwnd 2920 */
    tt_in(t, TCP_ACK, 1, 1 + SMSS, NULL);
    assert_int_equal(tt_status(t).cwnd, 3 * SMSS);
    expect_segments(t, 1 + 2 * SMSS, 2); /* one for the ACK, one for the growth */
    tt_expect_nothing(t);
    const struct tev *ev = last_cc(t);
    assert_non_null(ev);
    assert_int_equal(ev->u.cc.cwnd, 3 * SMSS);
    assert_int_equal(ev->u.cc.phase, TCP_CC_SLOW_START);
    assert_string_equal(ev->u.cc.cause, "ack");
    tt_free(t);
}

/* RFC 6928 in the default configuration: 10 segments (at most 14600 bytes). */
static void test_must19_rfc6928_initial_window_of_ten_segments(void **state)
{
    struct tt *t = conn_with_iw(10);
    assert_int_equal(tt_status(t).cwnd, 10 * SMSS);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 20 * SMSS), 20 * SMSS);
    expect_segments(t, 1, 10);
    tt_expect_nothing(t);
    tt_free(t);
}

/* RFC 5681 §3.1, congestion avoidance: above ssthresh cwnd grows by one
 * SMSS only once a whole cwnd of data has been acknowledged. */
static void test_must19_congestion_avoidance_grows_one_segment_per_window(void **state)
{
    struct tt *t = conn_with_iw(4);
    /* A timeout makes ssthresh 2 segments (FlightSize 4 / 2) and cwnd 1. */
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 4 * SMSS), 4 * SMSS);
    expect_segments(t, 1, 4);
    assert_true(tt_wait_output(t, 10 * TT_SEC) != TCP_TIME_NEVER);
    tt_expect(t, TCP_ACK, 1, 1, SMSS); /* the retransmission */
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.cwnd, SMSS);
    assert_int_equal(st.ssthresh, 2 * SMSS);
    assert_int_equal(st.cc_phase, TCP_CC_LOSS);
    tt_in(t, TCP_ACK, 1, 1 + 4 * SMSS, NULL); /* everything arrived */
    st = tt_status(t);
    assert_int_equal(st.cwnd, SMSS); /* the end of the loss phase: no growth yet */
    assert_int_equal(st.cc_phase, TCP_CC_SLOW_START);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 20 * SMSS), 20 * SMSS);
    tt_drain(t);
    uint32_t una = 1 + 4 * SMSS;
    una += SMSS;
    tt_in(t, TCP_ACK, 1, una, NULL); /* slow start: 2 segments = ssthresh */
    assert_int_equal(tt_status(t).cwnd, 2 * SMSS);
    assert_int_equal(tt_status(t).cc_phase, TCP_CC_AVOIDANCE);
    una += SMSS;
    tt_in(t, TCP_ACK, 1, una, NULL); /* half a window acknowledged */
    assert_int_equal(tt_status(t).cwnd, 2 * SMSS);
    una += SMSS;
    tt_in(t, TCP_ACK, 1, una, NULL); /* a whole window: one more segment */
    assert_int_equal(tt_status(t).cwnd, 3 * SMSS);
    tt_free(t);
}

/* RFC 5681 §3.2 with RFC 6582: the third duplicate ACK retransmits the
 * first segment, ssthresh = FlightSize / 2 and cwnd = ssthresh + 3 SMSS;
 * each further duplicate ACK adds one SMSS; a partial ACK retransmits the
 * next hole and deflates cwnd; the full ACK ends recovery with
 * cwnd = min(ssthresh, FlightSize + SMSS). */
static void test_must19_fast_retransmit_and_newreno_fast_recovery(void **state)
{
    struct tt *t = conn_with_iw(10);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 10 * SMSS), 10 * SMSS);
    expect_segments(t, 1, 10);
    /* segments 1 and 3 are lost; 2, 4, 5, ... arrive */
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t); /* limited transmit: no new data is queued */
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 1, 1, SMSS); /* fast retransmit */
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.ssthresh, 5 * SMSS);
    assert_int_equal(st.cwnd, 8 * SMSS);
    assert_int_equal(st.cc_phase, TCP_CC_RECOVERY);
    assert_string_equal(last_cc(t)->u.cc.cause, "dupack");
    tt_in(t, TCP_ACK, 1, 1, NULL);
    assert_int_equal(tt_status(t).cwnd, 9 * SMSS);
    /* partial ACK: segment 2 was there, 3 is missing */
    tt_in(t, TCP_ACK, 1, 1 + 2 * SMSS, NULL);
    tt_expect(t, TCP_ACK, 1 + 2 * SMSS, 1, SMSS);
    assert_int_equal(tt_status(t).cwnd, 9 * SMSS - 2 * SMSS + SMSS);
    assert_int_equal(tt_status(t).cc_phase, TCP_CC_RECOVERY);
    /* full ACK */
    tt_in(t, TCP_ACK, 1, 1 + 10 * SMSS, NULL);
    st = tt_status(t);
    assert_int_equal(st.cwnd, 2 * SMSS); /* min(ssthresh, max(FlightSize 0, SMSS) + SMSS) */
    assert_int_equal(st.cc_phase, TCP_CC_SLOW_START);
    tt_free(t);
}

/* RFC 5681 (4): on a retransmission timeout ssthresh = max(FlightSize/2,
 * 2 SMSS) and cwnd = the loss window, one segment; a second timeout of the
 * same segment holds ssthresh. */
static void test_must19_rto_sets_cwnd_to_one_segment(void **state)
{
    struct tt *t = conn_with_iw(10);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 8 * SMSS), 8 * SMSS);
    expect_segments(t, 1, 8);
    assert_true(tt_wait_output(t, 10 * TT_SEC) != TCP_TIME_NEVER);
    tt_expect(t, TCP_ACK, 1, 1, SMSS);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.cwnd, SMSS);
    assert_int_equal(st.ssthresh, 4 * SMSS);
    assert_int_equal(st.cc_phase, TCP_CC_LOSS);
    assert_string_equal(last_cc(t)->u.cc.cause, "rto");
    assert_true(tt_wait_output(t, 10 * TT_SEC) != TCP_TIME_NEVER);
    tt_expect(t, TCP_ACK, 1, 1, SMSS);
    assert_int_equal(tt_status(t).ssthresh, 4 * SMSS); /* held */
    tt_free(t);
}

/* RFC 3042 limited transmit: the first and second duplicate ACKs each let
 * one new segment out, without changing cwnd. */
static void test_rfc3042_limited_transmit(void **state)
{
    struct tt *t = conn_with_iw(2);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 8 * SMSS), 8 * SMSS);
    expect_segments(t, 1, 2);
    tt_expect_nothing(t);
    tt_in(t, TCP_ACK, 1, 1, NULL); /* the first is lost, the second arrived */
    tt_expect(t, TCP_ACK, 1 + 2 * SMSS, 1, SMSS);
    tt_expect_nothing(t);
    assert_int_equal(tt_status(t).cwnd, 2 * SMSS);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 1 + 3 * SMSS, 1, SMSS);
    tt_expect_nothing(t);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 1, 1, SMSS); /* the third: fast retransmit */
    tt_free(t);
}

/* RFC 5681 §4.1: after more than an RTO without sending, cwnd goes back to
 * the restart window, min(IW, cwnd), before new data is sent. */
static void test_rfc5681_s4_1_restart_after_idle(void **state)
{
    struct tt *t = conn_with_iw(2);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 4 * SMSS), 4 * SMSS);
    expect_segments(t, 1, 2);
    tt_in(t, TCP_ACK, 1, 1 + 2 * SMSS, NULL);
    expect_segments(t, 1 + 2 * SMSS, 2);
    tt_in(t, TCP_ACK, 1, 1 + 4 * SMSS, NULL);
    assert_int_equal(tt_status(t).cwnd, 4 * SMSS);
    tt_advance(t, 500 * TT_MS); /* less than the RTO (1 s): no restart */
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 4 * SMSS), 4 * SMSS);
    expect_segments(t, 1 + 4 * SMSS, 4);
    tt_in(t, TCP_ACK, 1, 1 + 8 * SMSS, NULL);
    assert_int_equal(tt_status(t).cwnd, 5 * SMSS);
    tt_advance(t, 5 * TT_SEC);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 4 * SMSS), 4 * SMSS);
    expect_segments(t, 1 + 8 * SMSS, 2);
    tt_expect_nothing(t);
    assert_int_equal(tt_status(t).cwnd, 2 * SMSS);
    assert_string_equal(last_cc(t)->u.cc.cause, "idle");
    tt_free(t);
}

/* Switched off (cfg.congestion_control = false), the sender fills the
 * peer's window, as before congestion control existed. */
static void test_congestion_control_off_fills_the_peer_window(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.congestion_control = false;
    struct tt *t = tt_established(&cfg);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    assert_int_equal(tt_status(t).cwnd, 0);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 30 * SMSS), 30 * SMSS);
    expect_segments(t, 1, 30); /* 43800 bytes: within the 65535 window */
    assert_null(last_cc(t));
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_must19_initial_window_then_slow_start),
        cmocka_unit_test(test_must19_rfc6928_initial_window_of_ten_segments),
        cmocka_unit_test(test_must19_congestion_avoidance_grows_one_segment_per_window),
        cmocka_unit_test(test_must19_fast_retransmit_and_newreno_fast_recovery),
        cmocka_unit_test(test_must19_rto_sets_cwnd_to_one_segment),
        cmocka_unit_test(test_rfc3042_limited_transmit),
        cmocka_unit_test(test_rfc5681_s4_1_restart_after_idle),
        cmocka_unit_test(test_congestion_control_off_fills_the_peer_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
