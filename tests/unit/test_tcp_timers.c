/*
 * test_tcp_timers.c — the engine's timers in virtual time: retransmission
 * (RFC 6298: initial RTO, exponential backoff, ceiling, the SRTT/RTTVAR
 * formulas, Karn's rule), SYN and data retry limits (ETIMEDOUT), fast
 * retransmit (RFC 5681 §3.2), keepalive (RFC 1122 §4.2.3.6), zero-window
 * probing (RFC 9293 §3.8.6.1) and the delayed ACK (RFC 1122 §4.2.3.2).
 * Times are virtual: the assertions are about behaviour, not speed.
 */
#include "tcptest.h"

/* Send `len` bytes and check they leave at once as one segment at seq 1. */
static void send_one_segment(struct tt *t, uint32_t rseq, size_t len)
{
    char buf[1460];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, len), (ssize_t)len);
    tt_expect(t, TCP_ACK, rseq, 1, len);
}

/* RFC 6298 (2.1) initial RTO 1 s; (5.5) back off by doubling on each
 * expiry; (2.5) a maximum may be placed on RTO (cfg.rto_max_us, 120 s). */
static void test_rto_starts_at_one_second_and_doubles_on_each_retransmission(void **state)
{
    struct tt *t = tt_established(NULL);
    send_one_segment(t, 1, 1);
    const uint64_t want[] = {1, 2, 4, 8, 16, 32, 64, 120, 120};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t dt = tt_wait_output(t, 200 * TT_SEC);
        if (dt != want[i] * TT_SEC)
            tt_fail_at(__FILE__, __LINE__,
                       "retransmission %zu came %.3f s after the previous one, expected %llu s",
                       i + 1, dt == TCP_TIME_NEVER ? -1.0 : dt / 1e6, (unsigned long long)want[i]);
        tt_expect(t, TCP_ACK, 1, 1, 1);
        assert_int_equal(tt_status(t).backoff, i + 1);
    }
    struct stack_stats ss;
    stack_get_stats(t->s, &ss);
    assert_int_equal(ss.retransmissions, 9);
    tt_free(t);
}

static void test_rto_backoff_is_capped_at_rto_max(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rto_max_us = 10 * TT_SEC;
    struct tt *t = tt_established(&cfg);
    send_one_segment(t, 1, 1);
    const uint64_t want[] = {1, 2, 4, 8, 10, 10, 10};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(tt_wait_output(t, 100 * TT_SEC), want[i] * TT_SEC);
        tt_expect(t, TCP_ACK, 1, 1, 1);
        assert_true(tt_status(t).rto_us <= 10 * TT_SEC);
    }
    tt_free(t);
}

/* The ACK of retransmitted data ends the backoff: new data starts from a
 * fresh retransmission count. */
static void test_ack_after_retransmission_resets_backoff(void **state)
{
    struct tt *t = tt_established(NULL);
    send_one_segment(t, 1, 1);
    assert_int_equal(tt_wait_output(t, 10 * TT_SEC), 1 * TT_SEC);
    tt_expect(t, TCP_ACK, 1, 1, 1);
    tt_in(t, TCP_ACK, 1, 2, NULL);
    assert_int_equal(tt_status(t).backoff, 0);
    assert_int_equal(tt_status(t).send_queue, 0);
    tt_advance(t, 100 * TT_SEC);
    tt_expect_nothing(t);
    tt_free(t);
}

/* Data retries exhausted (cfg.data_retries): the connection is dropped with
 * ETIMEDOUT one RTO after the last retransmission: 1+2+4+8 = 15 s. */
static void test_data_retries_exhausted_gives_etimedout(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.data_retries = 3;
    struct tt *t = tt_established(&cfg);
    uint64_t start = t->now;
    send_one_segment(t, 1, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_not_equal(tt_wait_output(t, 100 * TT_SEC), TCP_TIME_NEVER);
        tt_expect(t, TCP_ACK, 1, 1, 1);
    }
    tt_advance(t, start + 15 * TT_SEC - 1 - t->now);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_advance(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    tt_expect_state_event(t, TCP_ESTABLISHED, TCP_CLOSED, NULL);
    assert_int_equal(tt_status(t).error, -ETIMEDOUT);
    char buf[4];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), -ETIMEDOUT);
    tt_free(t);
}

/* syn_retries = 3: SYN at 0, again at 1, 3 and 7 s, ETIMEDOUT at 15 s. */
static void test_syn_retries_exhausted_gives_etimedout(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.syn_retries = 3;
    struct tt *t = tt_syn_sent(&cfg);
    uint64_t start = t->now;
    const uint64_t at[] = {1, 3, 7};
    for (size_t i = 0; i < 3; i++) {
        assert_int_not_equal(tt_wait_output(t, 100 * TT_SEC), TCP_TIME_NEVER);
        assert_int_equal(t->now - start, at[i] * TT_SEC);
        tt_expect(t, TCP_SYN, 0, 0, 0);
    }
    tt_advance(t, start + 15 * TT_SEC - 1 - t->now);
    tt_assert_state(t, TCP_SYN_SENT);
    tt_advance(t, 1);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_CLOSED);
    tt_expect_state_event(t, TCP_SYN_SENT, TCP_CLOSED, NULL);
    assert_int_equal(tt_status(t).error, -ETIMEDOUT);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLERR);
    tt_free(t);
}

/* A passive connection whose SYN,ACK is never answered is given up after
 * cfg.synack_retries retransmissions and leaves the SYN queue. */
static void test_synack_retries_exhausted_frees_the_syn_queue(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.synack_retries = 2;
    struct tt *t = tt_syn_received(&cfg);
    for (int i = 0; i < 2; i++) {
        assert_int_not_equal(tt_wait_output(t, 100 * TT_SEC), TCP_TIME_NEVER);
        tt_expect(t, TCP_SYN | TCP_ACK, 0, 1, 0);
    }
    tt_advance(t, 100 * TT_SEC);
    tt_assert_state(t, TCP_CLOSED);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, t->lsd, &st), 0);
    assert_int_equal(st.syn_queue_len, 0);
    assert_int_equal(st.state, TCP_LISTEN);
    tt_free(t);
}

/* Takes the handshake and up to one data exchange so that exactly one RTT
 * sample of `r1` has been made; returns the connection. */
static struct tt *connection_with_first_rtt_sample(const struct stack_config *cfg, uint64_t r1)
{
    struct tt *t = tt_syn_sent(cfg);
    tt_advance(t, r1);
    struct tt_seg synack = {
        .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    if (tt_status(t).srtt_us == 0) {
        /* The engine does not time the SYN: time a data segment instead. */
        send_one_segment(t, 1, 1);
        tt_advance(t, r1);
        tt_in(t, TCP_ACK, 1, 2, NULL);
    }
    return t;
}

/* RFC 6298 (2.2): first sample R: SRTT = R, RTTVAR = R/2,
 * RTO = SRTT + max(G, 4*RTTVAR); (2.3) next sample R':
 * RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'| (with the old SRTT), then
 * SRTT = 7/8 SRTT + 1/8 R'. */
static void test_rtt_estimator_follows_rfc6298_formulas(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rto_min_us = 200 * TT_MS; /* so RTO shows the formula, not the floor */
    struct tt *t = connection_with_first_rtt_sample(&cfg, 100 * TT_MS);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.srtt_us, 100000);
    assert_int_equal(st.rttvar_us, 50000);
    assert_int_equal(st.rto_us, 300000);

    uint32_t next = st.snd_nxt - t->iss;
    send_one_segment(t, next, 1);
    tt_advance(t, 250 * TT_MS); /* a slower sample, still inside the 300 ms RTO */
    tt_expect_nothing(t);
    tt_in(t, TCP_ACK, 1, next + 1, NULL);
    st = tt_status(t);
    assert_int_equal(st.rttvar_us, 75000); /* 3/4*50 + 1/4*|100-250| ms */
    assert_int_equal(st.srtt_us, 118750);  /* 7/8*100 + 1/8*250 ms */
    assert_int_equal(st.rto_us, 418750);   /* 118.75 + 4*75 ms */
    tt_free(t);
}

/* RFC 6298 (2.4): "Whenever RTO is computed, if it is less than 1 second,
 * then the RTO SHOULD be rounded up to 1 second" — cfg.rto_min_us. */
static void test_rto_is_not_below_rto_min(void **state)
{
    struct tt *t = connection_with_first_rtt_sample(NULL, 10 * TT_MS);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.srtt_us, 10000);
    assert_int_equal(st.rto_us, 1 * TT_SEC);
    tt_free(t);
}

/* Karn's rule (RFC 6298 §3): no RTT sample from a segment that was
 * retransmitted, because its ACK cannot say which copy it answers. */
static void test_karn_no_rtt_sample_from_retransmitted_segment(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rto_min_us = 200 * TT_MS;
    struct tt *t = connection_with_first_rtt_sample(&cfg, 100 * TT_MS);
    struct tcp_status before = tt_status(t);
    uint32_t next = before.snd_nxt - t->iss;
    send_one_segment(t, next, 1);
    assert_int_equal(tt_wait_output(t, 10 * TT_SEC), before.rto_us);
    tt_expect(t, TCP_ACK, next, 1, 1); /* the retransmission */
    tt_advance(t, 50 * TT_MS);
    tt_in(t, TCP_ACK, 1, next + 1, NULL);
    struct tcp_status after = tt_status(t);
    assert_int_equal(after.srtt_us, before.srtt_us);
    assert_int_equal(after.rttvar_us, before.rttvar_us);
    assert_int_equal(after.send_queue, 0);
    tt_free(t);
}

/* Karn's algorithm in full (Karn & Partridge 1987; RFC 6298 §3 and §5):
 * an ACK that newly acknowledges any retransmitted byte gives no RTT sample
 * — not even for a segment sent once that it also covers, because that ACK
 * was triggered by the retransmission filling the hole, not by the segment
 * being timed (BSD stops timing on every retransmission; Linux drops the
 * sample when retransmitted data is acknowledged). The backed-off RTO is
 * kept until an ACK covers only segments sent once; that ACK gives a sample
 * and RTO is computed afresh. */
static void test_karn_no_rtt_sample_from_an_ack_covering_retransmitted_data(void **state)
{
    /* Without congestion control, so new data can go out during the repair
     * (with it, the loss window of one segment would hold it back). */
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.congestion_control = false;
    struct tt *t = connection_with_first_rtt_sample(&cfg, 100 * TT_MS);
    assert_int_equal(tt_status(t).srtt_us, 100000);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    uint32_t base = tt_status(t).snd_nxt - t->iss; /* first unsent byte */
    static char buf[4 * 1460];
    memset(buf, 'k', sizeof buf);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, 3 * 1460), 3 * 1460);
    tt_expect(t, TCP_ACK, base, 1, 1460);
    tt_expect(t, TCP_ACK, base + 1460, 1, 1460);
    tt_expect(t, TCP_ACK, base + 2920, 1, 1460);
    /* all three lost: the RTO (1 s) fires and the first is sent again */
    assert_int_equal(tt_wait_output(t, 10 * TT_SEC), 1 * TT_SEC);
    tt_expect(t, TCP_ACK, base, 1, 1460);
    assert_int_equal(tt_status(t).rto_us, 2 * TT_SEC); /* backed off */
    /* it arrives; the second is still missing: the engine repairs that hole */
    tt_advance(t, 100 * TT_MS);
    tt_in(t, TCP_ACK, 1, base + 1460, NULL);
    tt_drain(t);
    /* new data, sent once, while the repair goes on */
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, 1460), 1460);
    tt_expect(t, TCP_ACK, base + 4380, 1, 1460);
    tt_advance(t, 100 * TT_MS);
    tt_in(t, TCP_ACK, 1, base + 2920, NULL); /* second repaired, third missing */
    tt_drain(t);
    tt_advance(t, 100 * TT_MS);
    /* The ACK of everything covers the resent third segment: no sample. */
    tt_in(t, TCP_ACK, 1, base + 5840, NULL);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.send_queue, 0);
    assert_int_equal(st.srtt_us, 100000);
    assert_int_equal(st.rttvar_us, 50000);
    /* A segment sent once and acknowledged on its own gives the sample
     * R = 150 ms: RTTVAR = 3/4*50 + 1/4*|100-150| = 50 ms, SRTT = 7/8*100 +
     * 1/8*150 = 106.25 ms, RTO = max(1 s, 306.25 ms) = 1 s. */
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, 100), 100);
    tt_expect(t, TCP_ACK, base + 5840, 1, 100);
    tt_advance(t, 150 * TT_MS);
    tt_in(t, TCP_ACK, 1, base + 5940, NULL);
    st = tt_status(t);
    assert_int_equal(st.srtt_us, 106250);
    assert_int_equal(st.rttvar_us, 50000);
    assert_int_equal(st.rto_us, 1 * TT_SEC);
    tt_free(t);
}

/* Three full segments in flight; the first is "lost" and the peer answers
 * the later ones with duplicate ACKs of 1. */
static struct tt *three_segments_in_flight(void)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    static char buf[3 * 1460];
    memset(buf, 'd', sizeof buf);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, sizeof buf), (ssize_t)sizeof buf);
    tt_expect(t, TCP_ACK, 1, 1, 1460);
    tt_expect(t, TCP_ACK, 1461, 1, 1460);
    tt_expect(t, TCP_ACK, 2921, 1, 1460);
    tt_expect_nothing(t);
    return t;
}

/* RFC 5681 §3.2: "The TCP sender SHOULD use the 'fast retransmit'
 * algorithm ... arrival of 3 duplicate ACKs ... as an indication that a
 * segment has been lost", and retransmit it at once, before the RTO. */
static void test_fast_retransmit_on_third_duplicate_ack(void **state)
{
    struct tt *t = three_segments_in_flight();
    tt_advance(t, 10 * TT_MS);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 1, 1460);
    assert_true(p->t_us < 1 * TT_SEC + t->now); /* sent now, not at the RTO */
    assert_int_equal(p->t_us, t->now);
    tt_free(t);
}

static void test_no_fast_retransmit_on_two_duplicate_acks(void **state)
{
    struct tt *t = three_segments_in_flight();
    tt_advance(t, 10 * TT_MS);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_advance(t, 500 * TT_MS); /* still before the RTO */
    tt_expect_nothing(t);
    tt_free(t);
}

/* Keepalive, RFC 1122 §4.2.3.6: after KEEPIDLE of silence a probe
 * (SEG.SEQ = SND.NXT-1, zero or one garbage octet) is sent; unanswered, it
 * is repeated every KEEPINTVL; after KEEPCNT unanswered probes the
 * connection is dropped with ETIMEDOUT. */
static void expect_keepalive_probe(struct tt *t, int line)
{
    const struct tt_pkt *p = tt_next(t);
    if (!p || p->tcp_err != WIRE_OK)
        tt_fail_at(__FILE__, line, "expected a keepalive probe, got %s", p ? "garbage" : "nothing");
    if (p->tcp.flags != TCP_ACK || p->rseq != 0 || p->rack != 1 || p->tcp.payload_len > 1)
        tt_fail_at(__FILE__, line,
                   "a keepalive probe is ACK seq=SND.NXT-1 (0) ack=1 len 0 or 1; got flags %#x "
                   "seq=%u ack=%u len=%zu",
                   p->tcp.flags, p->rseq, p->rack, p->tcp.payload_len);
}

static struct tt *connection_with_keepalive(void)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPIDLE, 10), 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPINTVL, 2), 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPCNT, 3), 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPALIVE, 1), 0);
    return t;
}

static void test_keepalive_probes_after_idle_then_interval_then_etimedout(void **state)
{
    struct tt *t = connection_with_keepalive();
    uint64_t start = t->now;
    const uint64_t at[] = {10, 12, 14};
    for (size_t i = 0; i < 3; i++) {
        assert_int_not_equal(tt_wait_output(t, 100 * TT_SEC), TCP_TIME_NEVER);
        assert_int_equal(t->now - start, at[i] * TT_SEC);
        expect_keepalive_probe(t, __LINE__);
        tt_assert_state(t, TCP_ESTABLISHED);
    }
    tt_advance(t, start + 16 * TT_SEC - 1 - t->now);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_advance(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ETIMEDOUT);
    tt_free(t);
}

static void test_keepalive_answered_keeps_connection(void **state)
{
    struct tt *t = connection_with_keepalive();
    uint64_t last_heard = t->now;
    for (int round = 0; round < 5; round++) {
        assert_int_not_equal(tt_wait_output(t, 100 * TT_SEC), TCP_TIME_NEVER);
        assert_int_equal(t->now - last_heard, 10 * TT_SEC); /* a full idle period each time */
        expect_keepalive_probe(t, __LINE__);
        tt_advance(t, 100 * TT_MS);
        tt_in(t, TCP_ACK, 1, 1, NULL);
        tt_expect_nothing(t);
        last_heard = t->now;
    }
    tt_assert_state(t, TCP_ESTABLISHED);
    assert_int_equal(tt_status(t).error, 0);
    tt_free(t);
}

/* No keepalive unless asked for: an idle connection stays silent. */
static void test_no_keepalive_probes_by_default(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_advance(t, 3 * 3600 * TT_SEC);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

/* A zero-window probe: one byte of new data at SND.UNA, or a bare ACK at
 * SND.UNA-1 (the Linux way). */
static void expect_window_probe(struct tt *t, int line)
{
    const struct tt_pkt *p = tt_next(t);
    if (!p || p->tcp_err != WIRE_OK)
        tt_fail_at(__FILE__, line, "expected a zero-window probe, got %s",
                   p ? "garbage" : "nothing");
    bool one_byte = p->tcp.payload_len == 1 && p->rseq == 1;
    bool bare = p->tcp.payload_len == 0 && p->rseq == 0;
    if (!(p->tcp.flags & TCP_ACK) || (p->tcp.flags & (TCP_SYN | TCP_FIN | TCP_RST)) ||
        !(one_byte || bare))
        tt_fail_at(__FILE__, line, "not a zero-window probe: flags %#x seq=%u len=%zu",
                   p->tcp.flags, p->rseq, p->tcp.payload_len);
}

/* RFC 9293 §3.8.6.1: with a zero send window the sender probes
 * periodically, backing off exponentially, and keeps the connection open
 * while the probes are answered; when the window reopens, data flows. */
static void test_zero_window_persist_probes_back_off_then_data_flows(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in_win(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(tt_status(t).snd_wnd, 0);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "hello", 5), 5);
    tt_expect_nothing(t);
    uint64_t prev = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t dt = tt_wait_output(t, 200 * TT_SEC);
        assert_int_not_equal(dt, TCP_TIME_NEVER);
        if (i == 0)
            assert_int_equal(dt, 1 * TT_SEC); /* the current RTO */
        else
            assert_int_equal(dt, 2 * prev);
        prev = dt;
        expect_window_probe(t, __LINE__);
        tt_expect_nothing(t);
        tt_in_win(t, TCP_ACK, 1, 1, 0); /* still closed */
        tt_expect_nothing(t);
    }
    tt_assert_state(t, TCP_ESTABLISHED);
    /* the window opens */
    tt_in_win(t, TCP_ACK, 1, 1, 1000);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    /* all of "hello" is now sent (a 1-byte probe may already hold "h") */
    uint32_t end = p->rseq + (uint32_t)p->tcp.payload_len;
    assert_int_equal(end, 6);
    tt_in(t, TCP_ACK, 1, 6, NULL);
    assert_int_equal(tt_status(t).send_queue, 0);
    tt_advance(t, 300 * TT_SEC);
    tt_expect_nothing(t);
    tt_free(t);
}

/* RFC 1122 §4.2.3.2: an ACK may be delayed, but by less than 0.5 s, and
 * at least every second full-sized segment must be acknowledged. */
static struct tt *connection_with_delayed_ack(void)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.delayed_ack = true;
    return tt_established(&cfg);
}

static void test_delayed_ack_is_sent_after_delack_timeout(void **state)
{
    struct tt *t = connection_with_delayed_ack();
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect_nothing(t);
    uint64_t dt = tt_wait_output(t, 1 * TT_SEC);
    assert_int_equal(dt, stack_config(t->s)->delack_us);
    assert_true(dt < 500 * TT_MS);
    tt_expect(t, TCP_ACK, 1, 101, 0);
    tt_free(t);
}

static void test_delayed_ack_acks_every_second_full_segment_at_once(void **state)
{
    struct tt *t = connection_with_delayed_ack();
    tt_in_data(t, 1, 1, NULL, 1460);
    tt_expect_nothing(t);
    tt_in_data(t, 1461, 1, NULL, 1460);
    tt_expect(t, TCP_ACK, 1, 2921, 0);
    tt_free(t);
}

/* The timer heap's keys may run early (stack/tcp_timer.c), what the stack
 * reports may not: once the ACK of the second segment cancels the delayed
 * ACK, stack_next_deadline() is the retransmission timer's deadline again,
 * and the next timer to fire is that one, at its own time. */
static void test_cancelled_delayed_ack_leaves_no_early_deadline(void **state)
{
    struct tt *t = connection_with_delayed_ack();
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "x", 1), 1);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 1);
    uint64_t rtx = stack_next_deadline(t->s);
    assert_true(rtx > t->now + stack_config(t->s)->delack_us);
    tt_in_data(t, 1, 1, NULL, 1460);
    tt_expect_nothing(t);
    assert_true(stack_next_deadline(t->s) == t->now + stack_config(t->s)->delack_us);
    tt_advance(t, 1000);
    tt_in_data(t, 1461, 1, NULL, 1460);
    tt_expect(t, TCP_ACK, 2, 2921, 0);
    assert_true(stack_next_deadline(t->s) == rtx);
    assert_true(tt_fire_next(t) != TCP_TIME_NEVER);
    assert_true(t->now == rtx);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 2921, 1); /* the retransmission, nothing before it */
    tt_free(t);
}

/* RFC 5681 §4.2: an out-of-order segment is acknowledged at once (a
 * duplicate ACK), delayed ACK or not. */
static void test_out_of_order_segment_is_acked_at_once_even_with_delayed_ack(void **state)
{
    struct tt *t = connection_with_delayed_ack();
    tt_in_data(t, 101, 1, NULL, 100);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_free(t);
}

/* RFC 5681 §4.2: a segment that fills a hole is acknowledged at once. */
static void test_segment_filling_a_hole_is_acked_at_once_even_with_delayed_ack(void **state)
{
    struct tt *t = connection_with_delayed_ack();
    tt_in_data(t, 101, 1, NULL, 100);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect(t, TCP_ACK, 1, 201, 0);
    tt_free(t);
}

static void test_delayed_ack_off_acks_each_segment_at_once(void **state)
{
    struct tt *t = tt_established(NULL); /* the harness turns delayed ACK off */
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect(t, TCP_ACK, 1, 101, 0);
    tt_free(t);
}

/* RFC 9293 §3.10.8, USER TIMEOUT: when data stays unacknowledged longer
 * than the user timeout, the connection is aborted with ETIMEDOUT — long
 * before the retry count would end it. It is checked when the
 * retransmission timer runs, so it may land on the first expiry after
 * the timeout. */
static void test_user_timeout_aborts_unacknowledged_data_with_etimedout(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_USER_TIMEOUT, 5000), 0);
    uint64_t start = t->now;
    send_one_segment(t, 1, 1);
    tt_advance(t, 5 * TT_SEC - 1);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_advance(t, 3 * TT_SEC); /* 1+2+4: the next expiry is at 7 s */
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ETIMEDOUT);
    assert_true(t->now - start <= 8 * TT_SEC);
    tt_free(t);
}

/* The event stream shows the retransmission timer's life: armed when data
 * is sent, fired at the RTO (the retransmission is marked as one on its
 * TEV_SEGMENT), cancelled when everything is acknowledged. */
static void test_rtx_timer_events_show_arm_fire_cancel_and_retransmission_flag(void **state)
{
    struct tt *t = tt_established(NULL);
    size_t mark = t->ev_len;
    uint64_t sent_at = t->now;
    send_one_segment(t, 1, 1);
    assert_int_not_equal(tt_wait_output(t, 10 * TT_SEC), TCP_TIME_NEVER);
    tt_expect(t, TCP_ACK, 1, 1, 1);
    tt_in(t, TCP_ACK, 1, 2, NULL);
    bool armed = false, fired = false, cancelled = false;
    int data_out = 0, retransmitted = 0;
    for (size_t i = mark; i < t->ev_len; i++) {
        const struct tev *ev = t->ev[i];
        if (ev->kind == TEV_TIMER && ev->u.timer.which == TCP_TIMER_RTX) {
            if (ev->u.timer.action == TEV_TIMER_ARM && !armed) {
                armed = true;
                assert_int_equal(ev->u.timer.deadline_us, sent_at + 1 * TT_SEC);
            }
            if (ev->u.timer.action == TEV_TIMER_FIRE) {
                fired = true;
                assert_int_equal(ev->t_us, sent_at + 1 * TT_SEC);
            }
            if (ev->u.timer.action == TEV_TIMER_CANCEL && fired)
                cancelled = true;
        }
        if (ev->kind == TEV_SEGMENT && ev->u.seg.dir == TEV_OUT && ev->u.seg.tcp.payload_len == 1) {
            data_out++;
            retransmitted += ev->u.seg.retransmission;
        }
    }
    assert_true(armed);
    assert_true(fired);
    assert_true(cancelled);
    assert_int_equal(data_out, 2);
    assert_int_equal(retransmitted, 1);
    tt_free(t);
}

/* RFC 6298 (5.7): the SYN timed out once, so there is no RTT sample (Karn);
 * when the handshake completes, the RTO is 3 s, not the backed-off 2 s. */
static void test_rfc6298_5_7_rto_is_3s_after_a_lost_syn(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    assert_true(tt_wait_output(t, 5 * TT_SEC) != TCP_TIME_NEVER);
    tt_expect(t, TCP_SYN, 0, 0, 0); /* the retransmitted SYN */
    struct tt_seg synack = {
        .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    assert_int_equal(tt_status(t).rto_us, 3 * TT_SEC);
    tt_free(t);
}

/* Without a lost SYN, (5.7) does not apply: the SYN's RTT sets the RTO. */
static void test_rfc6298_5_7_not_applied_when_the_syn_was_not_lost(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tt_status(t).rto_us, 1 * TT_SEC); /* RFC 6298 (2.4) minimum */
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rto_starts_at_one_second_and_doubles_on_each_retransmission),
        cmocka_unit_test(test_rto_backoff_is_capped_at_rto_max),
        cmocka_unit_test(test_ack_after_retransmission_resets_backoff),
        cmocka_unit_test(test_data_retries_exhausted_gives_etimedout),
        cmocka_unit_test(test_syn_retries_exhausted_gives_etimedout),
        cmocka_unit_test(test_synack_retries_exhausted_frees_the_syn_queue),
        cmocka_unit_test(test_rtt_estimator_follows_rfc6298_formulas),
        cmocka_unit_test(test_rto_is_not_below_rto_min),
        cmocka_unit_test(test_karn_no_rtt_sample_from_retransmitted_segment),
        cmocka_unit_test(test_karn_no_rtt_sample_from_an_ack_covering_retransmitted_data),
        cmocka_unit_test(test_fast_retransmit_on_third_duplicate_ack),
        cmocka_unit_test(test_no_fast_retransmit_on_two_duplicate_acks),
        cmocka_unit_test(test_keepalive_probes_after_idle_then_interval_then_etimedout),
        cmocka_unit_test(test_keepalive_answered_keeps_connection),
        cmocka_unit_test(test_no_keepalive_probes_by_default),
        cmocka_unit_test(test_zero_window_persist_probes_back_off_then_data_flows),
        cmocka_unit_test(test_delayed_ack_is_sent_after_delack_timeout),
        cmocka_unit_test(test_delayed_ack_acks_every_second_full_segment_at_once),
        cmocka_unit_test(test_cancelled_delayed_ack_leaves_no_early_deadline),
        cmocka_unit_test(test_out_of_order_segment_is_acked_at_once_even_with_delayed_ack),
        cmocka_unit_test(test_segment_filling_a_hole_is_acked_at_once_even_with_delayed_ack),
        cmocka_unit_test(test_delayed_ack_off_acks_each_segment_at_once),
        cmocka_unit_test(test_user_timeout_aborts_unacknowledged_data_with_etimedout),
        cmocka_unit_test(test_rtx_timer_events_show_arm_fire_cancel_and_retransmission_flag),
        cmocka_unit_test(test_rfc6298_5_7_rto_is_3s_after_a_lost_syn),
        cmocka_unit_test(test_rfc6298_5_7_not_applied_when_the_syn_was_not_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
