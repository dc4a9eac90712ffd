/*
 * test_tcp_cubic.c — CUBIC congestion control (RFC 9438, stack/tcp_cubic.c).
 *
 * Two kinds of test. The curve and the per-ACK rules are checked on the
 * algorithm's own table (tcp_cc_cubic) with a bare connection block, an
 * SMSS of 1000 bytes and times chosen so the RFC's formulas come out in
 * round numbers; every expected window is worked out in the comment above
 * its assert. The reductions (§4.6, §4.8) are checked end to end on an
 * established connection (the stack sends, the test plays the receiver),
 * as test_tcp_cc.c does for NewReno.
 *
 * Units: the RFC counts segments and seconds; the engine bytes and
 * microseconds. With SMSS = 1000, 1 segment = 1000 bytes, and
 * C = 0.4 means the curve moves 0.4 segment = 400 bytes in the first
 * second from K, 3.2 segments after two (0.4 * 2^3), 50 after five.
 */
#include <stdlib.h>

#include "tcp_internal.h"
#include "tcptest.h"

#define MSS1000 1000u
#define T0      (100 * TT_SEC) /* any clock value: only differences count */

static struct tcp_conn *bare_cubic_conn(uint32_t cwnd, uint32_t ssthresh)
{
    struct tcp_conn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->mss = MSS1000;
    c->cc.ops = &tcp_cc_cubic;
    c->cc.cwnd = cwnd;
    c->cc.ssthresh = ssthresh;
    return c;
}

/* §4.2, Figure 1 and 2. W_max = 100 segments, cwnd_epoch = 50:
 * K = cbrt((100 - 50) / 0.4) = cbrt(125) = 5 s. W_cubic(t) =
 * 0.4 (t - 5)^3 + 100 segments: t = 0 -> 100 - 50 = 50 (the curve starts
 * at cwnd_epoch); t = 4 -> 99.6; t = 5 -> 100 (the plateau); t = 6 ->
 * 100.4; t = 7 -> 103.2; t = 10 -> 150. Concave below K, convex above,
 * point-symmetric about (K, W_max).
 *
 * Then the per-ACK rule "cwnd += (target - cwnd) / cwnd" per segment, with
 * target = W_cubic(t + RTT), RTT = 1 s:
 *  - concave: cwnd 90 segments at t = 3 s; target = W_cubic(4) = 99.6;
 *    9 segments ACKed: +(99.6 - 90) * 9 / 90 = 0.96 segment -> 90960 bytes.
 *  - convex: cwnd 100 segments at t = 6 s; target = W_cubic(7) = 103.2;
 *    10 segments ACKed: +(103.2 - 100) * 10 / 100 = 0.32 -> 100320 bytes.
 *  - far below the curve the target is capped at 1.5 cwnd: cwnd 50 at
 *    t = 5 s, W_cubic(6) = 100.4 > 75; 1 segment ACKed: +(75 - 50) / 50 =
 *    0.5 segment -> 50500 bytes. */
static void test_rfc9438_s4_2_window_growth_is_cubic_in_time(void **state)
{
    (void)state;
    assert_int_equal(tcp_cubic_k_us(100000, 50000, MSS1000), 5 * TT_SEC);
    uint64_t k = 5 * TT_SEC;
    assert_int_equal(tcp_cubic_w_cubic(100000, k, 0, MSS1000), 50000);
    assert_int_equal(tcp_cubic_w_cubic(100000, k, 4 * TT_SEC, MSS1000), 99600);
    assert_int_equal(tcp_cubic_w_cubic(100000, k, 5 * TT_SEC, MSS1000), 100000);
    assert_int_equal(tcp_cubic_w_cubic(100000, k, 6 * TT_SEC, MSS1000), 100400);
    assert_int_equal(tcp_cubic_w_cubic(100000, k, 7 * TT_SEC, MSS1000), 103200);
    assert_int_equal(tcp_cubic_w_cubic(100000, k, 10 * TT_SEC, MSS1000), 150000);

    struct tcp_conn *c = bare_cubic_conn(90000, 50000);
    struct tcp_cubic *cu = &c->cc.cubic;
    cu->in_epoch = true; /* the stage of the example above, 3 s in */
    cu->t_epoch_us = T0;
    cu->w_max = cu->origin = 100000;
    cu->cwnd_prior = 100000;
    cu->k_us = k;
    cu->w_est = 50000; /* far below: not the Reno-friendly region */
    c->rtt.measured = true;
    c->rtt.srtt_us = 1 * TT_SEC;
    tcp_cc_cubic.cong_avoid(c, 9 * MSS1000, T0 + 3 * TT_SEC);
    assert_int_equal(c->cc.cwnd, 90960);

    c->cc.cwnd = 100000;
    cu->grow_carry = 0;
    tcp_cc_cubic.cong_avoid(c, 10 * MSS1000, T0 + 6 * TT_SEC);
    assert_int_equal(c->cc.cwnd, 100320);

    c->cc.cwnd = 50000;
    cu->grow_carry = 0;
    tcp_cc_cubic.cong_avoid(c, MSS1000, T0 + 5 * TT_SEC);
    assert_int_equal(c->cc.cwnd, 50500);
    free(c);
}

/* §4.3, the Reno-friendly region. A loss at W_max = 10 segments leaves
 * cwnd = cwnd_epoch = 7; K = cbrt(3 / 0.4) = cbrt(7.5) = 1.957 s. With a
 * 1 ms round trip the curve hardly moves in the first rounds:
 * W_cubic(1 ms) = 10 - 0.4 * 1.956^3 = 7.007 segments (7007 bytes),
 * W_cubic(2 ms) = 7.012. Reno would have grown by α_cubic = 9/17 segment
 * per round: W_est = 7000 + 9 * 7000 * 1000 / (17 * 7000) = 7529 after
 * one window of ACKs (remainder 49000 carried), then
 * 7529 + (9 * 7529 * 1000 + 49000) / (17 * 7529) = 7529 + 529 = 8058.
 * W_cubic < W_est, so "cwnd SHOULD be set to W_est": 7529, then 8058 —
 * linear, about half a segment per round trip, not the cubic's 5 and 12
 * bytes. */
static void test_rfc9438_s4_3_reno_friendly_region(void **state)
{
    (void)state;
    struct tcp_conn *c = bare_cubic_conn(10000, 65535);
    uint32_t ssthresh = tcp_cc_cubic.ssthresh(c, 10000);
    assert_int_equal(ssthresh, 7000);
    c->cc.ssthresh = ssthresh;
    c->cc.cwnd = ssthresh; /* what tcp_cc.c does at the end of recovery */
    /* The first ACK in avoidance starts the stage (t = 0: W_cubic = 7000
     * plus 2 bytes as K is rounded down to the ms; W_est = 7000): one
     * window of ACKs follows,
     * round by round, 1 ms apart. */
    tcp_cc_cubic.cong_avoid(c, 0, T0);
    assert_int_equal(c->cc.cubic.k_us, 1957 * TT_MS);
    assert_int_equal(tcp_cubic_w_cubic(10000, c->cc.cubic.k_us, 1 * TT_MS, MSS1000), 7007);
    tcp_cc_cubic.cong_avoid(c, 7000, T0 + 1 * TT_MS);
    assert_int_equal(c->cc.cubic.w_est, 7529);
    assert_int_equal(c->cc.cwnd, 7529);
    assert_int_equal(tcp_cubic_w_cubic(10000, c->cc.cubic.k_us, 2 * TT_MS, MSS1000), 7012);
    tcp_cc_cubic.cong_avoid(c, 7529, T0 + 2 * TT_MS);
    assert_int_equal(c->cc.cwnd, 8058);
    free(c);
}

/* Fast convergence (§4.7). A first loss at cwnd 100 segments: W_max = 100,
 * ssthresh = 0.7 * 100 = 70. A second loss at cwnd 80, below that W_max:
 * the flow is losing ground, so W_max = 80 * (1 + 0.7) / 2 = 68 segments,
 * and ssthresh = 0.7 * 80 = 56. The next stage's K is then
 * cbrt((68 - 56) / 0.4) = cbrt(30) = 3.107 s instead of cbrt(60) = 3.915 s
 * with W_max = 80. A third loss at cwnd 90, above W_max = 68: W_max = 90. */
static void test_rfc9438_s4_7_fast_convergence(void **state)
{
    (void)state;
    struct tcp_conn *c = bare_cubic_conn(100000, 65535);
    assert_int_equal(tcp_cc_cubic.ssthresh(c, 100000), 70000);
    assert_int_equal(c->cc.cubic.w_max, 100000);

    c->cc.cwnd = 80000;
    c->cc.ssthresh = tcp_cc_cubic.ssthresh(c, 80000);
    assert_int_equal(c->cc.ssthresh, 56000);
    assert_int_equal(c->cc.cubic.w_max, 68000);
    c->cc.cwnd = c->cc.ssthresh;
    tcp_cc_cubic.cong_avoid(c, 0, T0);
    assert_true(c->cc.cubic.in_epoch);
    assert_int_equal(c->cc.cubic.k_us, 3107 * TT_MS);

    c->cc.cwnd = 90000;
    tcp_cc_cubic.ssthresh(c, 90000);
    assert_int_equal(c->cc.cubic.w_max, 90000);
    free(c);
}

/* ---- HyStart++ (RFC 9406) on a bare connection ------------------------- */

/* One round of `n` ACKs of one segment each, every one with an RTT sample
 * of `rtt_ms`: SND.NXT is put where the round's windowEnd will be read
 * (the round begins with its first ACK, which passes the previous
 * windowEnd), and each ACK goes through CUBIC's slow start. */
static void hystart_round(struct tcp_conn *c, unsigned n, unsigned rtt_ms)
{
    c->snd_nxt = c->snd_una + n * MSS1000;
    for (unsigned i = 0; i < n; i++) {
        c->snd_una += MSS1000;
        tcp_cc_rtt_sample(c, rtt_ms * TT_MS);
        tcp_cc_cubic.cong_avoid(c, MSS1000, T0);
    }
}

static struct tcp_conn *hystart_conn(void)
{
    struct tcp_conn *c = bare_cubic_conn(10 * MSS1000, 0x7fffffffu);
    c->snd_una = c->snd_nxt = 1;
    tcp_hystart_init(c);
    return c;
}

/* §4.2: a 20 ms round, then RTT 30 ms >= 20 + max(4, min(20 / 8, 16)) =
 * 24 ms: after N_RTT_SAMPLE = 8 samples of the round the sender leaves slow
 * start for CSS (not at 7: too few samples to judge). In CSS an ACK of one
 * segment adds a quarter of one (CSS_GROWTH_DIVISOR = 4). The RTT stays up:
 * CSS_ROUNDS = 5 rounds, the partial one it began in counted, and then
 * congestion avoidance with ssthresh = cwnd. */
static void test_rfc9406_hystart_leaves_slow_start_on_rtt_increase(void **state)
{
    (void)state;
    struct tcp_conn *c = hystart_conn();
    hystart_round(c, 10, 20);
    assert_int_equal(c->cc.cwnd, 20 * MSS1000); /* standard slow start */
    c->snd_nxt = c->snd_una + 20 * MSS1000;   /* round 2: 20 ACKs */
    for (unsigned i = 1; i <= 8; i++) {
        c->snd_una += MSS1000;
        tcp_cc_rtt_sample(c, 30 * TT_MS);
        tcp_cc_cubic.cong_avoid(c, MSS1000, T0);
        assert_true(c->cc.hystart.css == (i == 8)); /* the 8th sample: 30 >= 20 + 4 */
    }
    assert_int_equal(c->cc.cwnd, 28 * MSS1000);
    uint32_t at = c->cc.cwnd;
    c->snd_una += MSS1000;
    tcp_cc_cubic.cong_avoid(c, MSS1000, T0);
    assert_int_equal(c->cc.cwnd, at + MSS1000 / 4);
    c->snd_una = c->snd_nxt; /* the rest of this (partial, 1st) CSS round */
    for (unsigned r = 2; r <= 5; r++) {
        hystart_round(c, 10, 30);
        assert_true(c->cc.hystart.css);
        assert_int_equal(c->cc.ssthresh, 0x7fffffffu);
    }
    hystart_round(c, 1, 30); /* the 6th round begins: CSS is over */
    assert_false(c->cc.hystart.css);
    assert_false(c->cc.hystart.on);
    assert_int_equal(c->cc.ssthresh, c->cc.cwnd);
    free(c);
}

/* §4.2: in CSS, a round whose smallest RTT is back below the baseline
 * (the RTT at which CSS began) shows the rise was jitter, not a queue:
 * "resume slow start including HyStart++" (an ACK adds a whole segment
 * again). */
static void test_rfc9406_css_resumes_slow_start_when_rtt_falls_back(void **state)
{
    (void)state;
    struct tcp_conn *c = hystart_conn();
    hystart_round(c, 10, 20);
    hystart_round(c, 10, 30);
    assert_true(c->cc.hystart.css);
    hystart_round(c, 10, 22); /* below the 30 ms baseline */
    assert_false(c->cc.hystart.css);
    assert_true(c->cc.hystart.on);
    uint32_t at = c->cc.cwnd;
    hystart_round(c, 1, 22);
    assert_int_equal(c->cc.cwnd, at + MSS1000);
    free(c);
}

/* §4.4: HyStart++ "only for the initial slow start"; §4.2: a loss during
 * it ends it (the loss response sets ssthresh). After a fast retransmit in
 * CSS, slow start below the new ssthresh is standard: an RTT rise no longer
 * leads to CSS, and each ACK adds a whole segment. */
static void test_rfc9406_loss_ends_hystart_for_the_connection(void **state)
{
    (void)state;
    struct stack_config cfg;
    tt_config(&cfg);
    struct tt *t = tt_new(&cfg); /* only its stack: the cc events go nowhere */
    struct tcp_conn *c = hystart_conn();
    hystart_round(c, 10, 20);
    hystart_round(c, 10, 30);
    assert_true(c->cc.hystart.css);
    tcp_cc_enter_recovery(t->s, c); /* three duplicate ACKs */
    assert_false(c->cc.hystart.on);
    assert_false(c->cc.hystart.css);
    c->snd_una = c->snd_nxt;
    tcp_cc_recovery_done(t->s, c, false);
    c->cc.ssthresh = 100 * MSS1000; /* well below it: slow start again */
    c->cc.cwnd = 10 * MSS1000;
    hystart_round(c, 10, 20);
    uint32_t at = c->cc.cwnd;
    hystart_round(c, 10, 40);
    assert_false(c->cc.hystart.css);
    assert_int_equal(c->cc.cwnd, at + 10 * MSS1000);
    free(c);
    tt_free(t);
}

/* ---- end to end: the stack sends, the test is the receiver ----------- */

#define SMSS 1460

static char bulk[64 * 1024];

static struct tt *cubic_conn_with_iw(unsigned iw)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.cc_algo = TCP_CC_CUBIC;
    cfg.init_cwnd = (uint8_t)iw;
    cfg.sndbuf = sizeof bulk;
    struct tt *t = tt_established(&cfg);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    memset(bulk, 'u', sizeof bulk);
    return t;
}

/* §4.6: on the third duplicate ACK, "ssthresh = flight_size * β_cubic":
 * 10 segments in flight (14600 bytes) give 0.7 * 14600 = 10220, where
 * NewReno would give 7300. Fast recovery itself is the shared RFC 6582
 * one: cwnd = ssthresh + 3 SMSS = 10220 + 4380 = 14600. W_max, the window
 * the loss happened at, is 14600, and the cc event says "cubic". */
static void test_rfc9438_s4_6_multiplicative_decrease_beta_0_7(void **state)
{
    (void)state;
    struct tt *t = cubic_conn_with_iw(10);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 10 * SMSS), 10 * SMSS);
    for (unsigned i = 0; i < 10; i++)
        tt_expect(t, TCP_ACK, 1 + i * SMSS, 1, SMSS);
    for (int i = 0; i < 3; i++)
        tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 1, 1, SMSS); /* fast retransmit */
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.ssthresh, 10220);
    assert_int_equal(st.cwnd, 14600);
    assert_int_equal(st.cc_phase, TCP_CC_RECOVERY);
    const struct tev *ev = tt_last_event(t, TEV_CC);
    assert_non_null(ev);
    assert_string_equal(ev->u.cc.algo, "cubic");
    assert_string_equal(ev->u.cc.cause, "dupack");
    assert_int_equal(ev->u.cc.w_max, 14600);
    /* the full ACK ends recovery: cwnd = min(ssthresh, FlightSize 0 + SMSS
     * + SMSS) = 2920, below ssthresh: slow start back up */
    tt_in(t, TCP_ACK, 1, 1 + 10 * SMSS, NULL);
    assert_int_equal(tt_status(t).cwnd, 2 * SMSS);
    assert_int_equal(tt_status(t).ssthresh, 10220);
    tt_free(t);

    /* FlightSize counts at most cwnd: with cwnd 3 segments (4380) and two
     * more sent by limited transmit (RFC 3042), FlightSize is 7300 but
     * ssthresh = 0.7 * 4380 = 3066, below the cwnd the loss happened at
     * (0.7 * 7300 = 5110 would be above it). An application-limited flow
     * (FlightSize 2920 under cwnd 14600) is cut from what it had in
     * flight: 0.7 * 2920 = 2044, then the 2 SMSS floor: 2920. */
    struct tcp_conn *c = bare_cubic_conn(3 * SMSS, 65535);
    c->mss = SMSS;
    assert_int_equal(tcp_cc_cubic.ssthresh(c, 5 * SMSS), 3066);
    c->cc.cwnd = 10 * SMSS;
    assert_int_equal(tcp_cc_cubic.ssthresh(c, 2 * SMSS), 2 * SMSS);
    free(c);
}

/* §4.8: a retransmission timeout sets cwnd to one segment, as Reno, but
 * ssthresh with β_cubic: 4 segments in flight (5840) -> 0.7 * 5840 = 4088.
 * The first avoidance stage after it starts the curve flat at its own
 * cwnd_epoch: "K is set to 0, and W_max is set to the congestion window
 * size at the beginning of the current congestion avoidance stage". Here
 * slow start from 1460 crosses 4088 at 4380 (two ACKs of one segment);
 * the third ACK starts the stage with cwnd_epoch = W_max = 4380, K = 0,
 * W_cubic(0) = 4380. W_est = 4380 + 9 * 1460 * 1460 / (17 * 4380) =
 * 4380 + 257 (α_cubic is still 9/17: W_est < cwnd_prior = 5840) = 4637
 * is above it: the Reno-friendly region, cwnd = 4637. */
static void test_rfc9438_s4_8_timeout(void **state)
{
    (void)state;
    struct tt *t = cubic_conn_with_iw(4);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 4 * SMSS), 4 * SMSS);
    for (unsigned i = 0; i < 4; i++)
        tt_expect(t, TCP_ACK, 1 + i * SMSS, 1, SMSS);
    assert_true(tt_wait_output(t, 10 * TT_SEC) != TCP_TIME_NEVER);
    tt_expect(t, TCP_ACK, 1, 1, SMSS); /* the retransmission */
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.cwnd, SMSS);
    assert_int_equal(st.ssthresh, 4088);
    assert_int_equal(st.cc_phase, TCP_CC_LOSS);
    assert_string_equal(tt_last_event(t, TEV_CC)->u.cc.cause, "rto");
    assert_int_equal(tt_last_event(t, TEV_CC)->u.cc.w_max, 4 * SMSS); /* §4.7: cwnd at the loss */
    tt_in(t, TCP_ACK, 1, 1 + 4 * SMSS, NULL); /* everything arrived: loss phase over */
    assert_int_equal(tt_status(t).cwnd, SMSS);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 20 * SMSS), 20 * SMSS);
    tt_drain(t);
    uint32_t una = 1 + 4 * SMSS;
    for (int i = 0; i < 2; i++) { /* slow start: 2920, 4380 */
        una += SMSS;
        tt_in(t, TCP_ACK, 1, una, NULL);
        tt_drain(t);
    }
    assert_int_equal(tt_status(t).cwnd, 3 * SMSS);
    assert_int_equal(tt_status(t).cc_phase, TCP_CC_AVOIDANCE);
    una += SMSS;
    tt_in(t, TCP_ACK, 1, una, NULL);
    assert_int_equal(tt_status(t).cwnd, 4637);
    const struct tev *ev = tt_last_event(t, TEV_CC);
    assert_int_equal(ev->u.cc.w_max, 3 * SMSS);
    assert_int_equal(ev->u.cc.k_us, 0);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9438_s4_2_window_growth_is_cubic_in_time),
        cmocka_unit_test(test_rfc9438_s4_3_reno_friendly_region),
        cmocka_unit_test(test_rfc9438_s4_6_multiplicative_decrease_beta_0_7),
        cmocka_unit_test(test_rfc9438_s4_7_fast_convergence),
        cmocka_unit_test(test_rfc9438_s4_8_timeout),
        cmocka_unit_test(test_rfc9406_hystart_leaves_slow_start_on_rtt_increase),
        cmocka_unit_test(test_rfc9406_css_resumes_slow_start_when_rtt_falls_back),
        cmocka_unit_test(test_rfc9406_loss_ends_hystart_for_the_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
