/*
 * test_tcp_ts.c — RFC 7323 §3-5 timestamps: negotiation (§3.2), TSopt on
 * every segment, TS.Recent and Last.ACK.sent (§4.3), RTTM (§4.1), PAWS
 * (§5.3, §5.5), RFC 6191's TIME_WAIT rule, and SYN cookies that keep the
 * window scale and SACK-permitted in the TSval (RFC 4987 §3.6, as Linux).
 *
 * The peer is scripted; its TSvals start at PEER_TS. The stack's TSvals are
 * read back from what it sent.
 */
#include "tcptest.h"

#define PEER_TS 1000000u

static struct wire_tcp_opts ts_opts(uint32_t val, uint32_t ecr)
{
    struct wire_tcp_opts o = {.has_ts = true, .ts_val = val, .ts_ecr = ecr};
    return o;
}

/* An active open where both SYNs carry TSopt. Returns the stack's SYN TSval
 * in *syn_ts. */
static struct tt *ts_established(const struct stack_config *cfg, uint32_t *syn_ts)
{
    struct tt *t = tt_new(cfg);
    tt_do_connect(t);
    assert_int_equal(t->out_len, t->out_head); /* tt_do_connect consumed the SYN */
    const struct tev *last = NULL;
    for (size_t i = t->ev_len; i-- > 0;)
        if (t->ev[i]->kind == TEV_SEGMENT && t->ev[i]->u.seg.dir == TEV_OUT) {
            last = t->ev[i];
            break;
        }
    assert_non_null(last);
    assert_true(last->u.seg.tcp.opts.has_ts);   /* §3.2: offered in the SYN */
    assert_int_equal(last->u.seg.tcp.opts.ts_ecr, 0);
    uint32_t v = last->u.seg.tcp.opts.ts_val;
    struct tt_seg synack = {.flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1,
                            .opts = {.has_mss = true, .mss = 1460, .has_ts = true,
                                     .ts_val = PEER_TS, .ts_ecr = v}};
    tt_in_seg(t, &synack);
    const struct tt_pkt *ack = tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_true(ack->tcp.opts.has_ts);
    assert_int_equal(ack->tcp.opts.ts_ecr, PEER_TS); /* TS.Recent from the SYN,ACK */
    tt_assert_state(t, TCP_ESTABLISHED);
    if (syn_ts)
        *syn_ts = v;
    return t;
}

/* The peer sends text with a TSopt. */
static void in_data_ts(struct tt *t, uint32_t rseq, uint32_t rack, const char *text, uint32_t val,
                       uint32_t ecr)
{
    struct tt_seg seg = {.flags = TCP_ACK | TCP_PSH, .seq = rseq, .ack = rack, .data = text,
                         .len = text ? strlen(text) : 0, .opts = ts_opts(val, ecr)};
    if (!text)
        seg.flags = TCP_ACK;
    tt_in_seg(t, &seg);
}

/* The peer's SYN with TSopt (TSval PEER_TS) to the listener: returns the
 * SYN,ACK and learns the stack's ISS from it. */
static const struct tt_pkt *peer_syn_with_ts(struct tt *t)
{
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0,
                         .opts = {.has_mss = true, .mss = 1460, .has_ts = true, .ts_val = PEER_TS}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *sa = tt_next(t);
    assert_non_null(sa);
    assert_int_equal(sa->tcp.flags, TCP_SYN | TCP_ACK);
    t->iss = sa->tcp.seq;
    t->iss_known = true;
    return sa;
}

/* The TSval of the newest segment the stack sent. */
static uint32_t last_out_tsval(const struct tt *t)
{
    for (size_t i = t->ev_len; i-- > 0;)
        if (t->ev[i]->kind == TEV_SEGMENT && t->ev[i]->u.seg.dir == TEV_OUT)
            return t->ev[i]->u.seg.tcp.opts.ts_val;
    fail_msg("the stack sent nothing");
    return 0;
}

static const struct tev *last_rtt(const struct tt *t)
{
    for (size_t i = t->ev_len; i-- > 0;)
        if (t->ev[i]->kind == TEV_RTT)
            return t->ev[i];
    return NULL;
}

/* ---- §3.2 negotiation ------------------------------------------------------ */

static void test_rfc7323_s3_2_syn_offers_tsopt_only_when_configured(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.timestamps = false;
    struct tt *t = tt_new(&cfg);
    t->sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_connect(t->s, t->now, t->sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
    const struct tt_pkt *syn = tt_next(t);
    assert_non_null(syn);
    assert_false(syn->tcp.opts.has_ts);
    tt_free(t);
}

/* "a TCP MAY send the TSopt in other segments only if it received a TSopt
 * in the initial <SYN> or <SYN,ACK>": a SYN,ACK without it switches it off. */
static void test_rfc7323_s3_2_tsopt_used_only_if_both_sent_it(void **state)
{
    struct tt *t = tt_established(NULL); /* the peer's SYN,ACK has no TSopt */
    assert_false(tt_status(t).ts_ok);
    assert_int_equal(tt_status(t).mss, 1460); /* no 12 bytes given up */
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "hello", 5), 5);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 5);
    assert_false(p->tcp.opts.has_ts);
    tt_free(t);
}

/* A listener answers a SYN with TSopt with TSopt, echoing the SYN's TSval;
 * one without gets none. */
static void test_rfc7323_s3_2_synack_echoes_the_syn_tsval(void **state)
{
    struct tt *t = tt_listener(NULL);
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0,
                         .opts = {.has_mss = true, .mss = 1460, .has_ts = true, .ts_val = PEER_TS}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *sa = tt_next(t);
    assert_non_null(sa);
    assert_int_equal(sa->tcp.flags, TCP_SYN | TCP_ACK);
    assert_true(sa->tcp.opts.has_ts);
    assert_int_equal(sa->tcp.opts.ts_ecr, PEER_TS);
    tt_free(t);

    t = tt_listener(NULL);
    tt_do_peer_syn(t); /* no TSopt */
    tt_free(t);
}

/* §3.2: "TSopt MUST be sent in every non-<RST> segment for the duration of
 * the connection": data, pure ACKs, FIN; TSval never goes backwards. */
static void test_rfc7323_tsopt_on_every_segment(void **state)
{
    uint32_t syn_ts;
    struct tt *t = ts_established(NULL, &syn_ts);
    uint32_t prev = syn_ts;
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "abc", 3), 3);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 3);
    assert_true(p->tcp.opts.has_ts);
    assert_true((int32_t)(p->tcp.opts.ts_val - prev) >= 0);
    prev = p->tcp.opts.ts_val;
    tt_advance(t, 5 * TT_MS);
    in_data_ts(t, 1, 4, "xyz", PEER_TS + 5, prev);
    p = tt_expect(t, TCP_ACK, 4, 4, 0);
    assert_true(p->tcp.opts.has_ts);
    assert_int_equal(p->tcp.opts.ts_ecr, PEER_TS + 5);
    assert_int_equal(p->tcp.opts.ts_val - prev, 5); /* a 1 ms clock */
    prev = p->tcp.opts.ts_val;
    char rd[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, rd, sizeof rd), 3);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    p = tt_expect(t, TCP_FIN | TCP_ACK, 4, 4, 0);
    assert_true(p->tcp.opts.has_ts);
    assert_true((int32_t)(p->tcp.opts.ts_val - prev) >= 0);
    tt_free(t);
}

/* RFC 6691: the MSS limits text plus TCP options beyond the basic header.
 * With TSopt taken off already, a full-sized data segment has no room left
 * for SACK blocks: it goes without them rather than past the peer's MSS
 * (a later ACK carries them). A small one keeps the blocks that fit. */
static void test_rfc6691_full_data_segment_leaves_out_sack_blocks(void **state)
{
    struct tt *t = tt_new(NULL);
    tt_do_connect(t);
    uint32_t v = 0;
    for (size_t i = t->ev_len; i-- > 0;)
        if (t->ev[i]->kind == TEV_SEGMENT && t->ev[i]->u.seg.dir == TEV_OUT) {
            v = t->ev[i]->u.seg.tcp.opts.ts_val;
            break;
        }
    struct tt_seg synack = {.flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1,
                            .opts = {.has_mss = true, .mss = 1460, .sack_permitted = true,
                                     .has_ts = true, .ts_val = PEER_TS, .ts_ecr = v}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    in_data_ts(t, 11, 1, "beyond", PEER_TS + 1, 0); /* a hole at 1..10 */
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(p->tcp.opts.n_sack, 1);
    static char buf[1448 + 100];
    memset(buf, 'f', sizeof buf);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, sizeof buf), (ssize_t)sizeof buf);
    p = tt_expect(t, TCP_ACK, 1, 1, 1448);
    assert_int_equal(p->len, 20 + 20 + 1460); /* MSS 1460: TSopt and text, no SACK */
    assert_int_equal(p->tcp.opts.n_sack, 0);
    p = tt_expect(t, TCP_ACK | TCP_PSH, 1449, 1, 100);
    assert_int_equal(p->tcp.opts.n_sack, 1); /* room for it beside 100 bytes */
    tt_free(t);
}

/* §3.2: TSopt "SHOULD be sent in an <RST> segment": an abort's RST has it. */
static void test_rfc7323_s3_2_rst_of_an_abort_carries_tsopt(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    assert_int_equal(tcp_abort(t->s, t->now, t->sd), 0);
    t->sd = -1;
    const struct tt_pkt *p = tt_expect_rst(t, 1);
    assert_true(p->tcp.opts.has_ts);
    assert_int_equal(p->tcp.opts.ts_ecr, PEER_TS);
    tt_free(t);
}

/* Bad input in SYN_SENT: a SYN,ACK whose TSecr is beyond any TSval we sent
 * is no answer to our SYN (as Linux): dropped, still SYN_SENT. */
static void test_rfc7323_synack_with_tsecr_from_the_future_is_dropped(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    struct tt_seg synack = {.flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1,
                            .opts = {.has_mss = true, .mss = 1460, .has_ts = true,
                                     .ts_val = PEER_TS, .ts_ecr = 0}};
    /* Our clock plus a day of milliseconds cannot have been sent. */
    for (size_t i = t->ev_len; i-- > 0;)
        if (t->ev[i]->kind == TEV_SEGMENT && t->ev[i]->u.seg.dir == TEV_OUT) {
            synack.opts.ts_ecr = t->ev[i]->u.seg.tcp.opts.ts_val + 86400000u;
            break;
        }
    tt_in_seg(t, &synack);
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_TS_ECR_FUTURE);
    tt_assert_state(t, TCP_SYN_SENT);
    tt_expect_nothing(t);
    tt_free(t);
}

/* RFC 6691: the MSS counts no options, so TSopt's 12 bytes come off each
 * segment's text (1448 for 1460, as Linux). */
static void test_rfc7323_effective_mss_leaves_room_for_tsopt(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    assert_true(tt_status(t).ts_ok);
    assert_int_equal(tt_status(t).mss, 1448);
    static char buf[2000];
    memset(buf, 'm', sizeof buf);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, sizeof buf), 2000);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 1, 1448);
    assert_int_equal(p->len, 20 + 32 + 1448); /* IP + TCP with TSopt + text = 1500 */
    tt_free(t);
}

/* §3.2: a TSopt on a connection that did not agree to timestamps is
 * ignored and the segment processed normally. */
static void test_rfc7323_s3_2_tsopt_ignored_when_not_negotiated(void **state)
{
    struct tt *t = tt_established(NULL);
    in_data_ts(t, 1, 1, "data", 5, 0);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 5, 0);
    assert_false(p->tcp.opts.has_ts);
    assert_int_equal(tt_count_events(t, TEV_DROP), 0);
    tt_free(t);
}

/* §3.2: "If a non-<RST> segment is received without a TSopt, a TCP SHOULD
 * silently drop the segment." Like Linux, this engine accepts it (without
 * PAWS, TS.Recent or an RTT sample): the documented deviation. */
static void test_rfc7323_s3_2_segment_without_tsopt_accepted_as_linux(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    tt_in(t, TCP_ACK | TCP_PSH, 1, 1, "plain");
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 6, 0);
    assert_true(p->tcp.opts.has_ts);
    assert_int_equal(p->tcp.opts.ts_ecr, PEER_TS); /* TS.Recent unchanged */
    assert_int_equal(tt_count_events(t, TEV_DROP), 0);
    tt_free(t);
}

/* ---- §4 RTTM ---------------------------------------------------------------- */

/* §4.1: the RTT is our clock now minus the TSecr of an ACK that advances
 * SND.UNA; the sample goes to the RFC 6298 estimator (first sample: SRTT =
 * R, RTTVAR = R/2). */
static void test_rfc7323_rttm_sample_from_tsecr(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    struct tcp_status before = tt_status(t);
    assert_true(before.srtt_us == 0 && last_rtt(t) && last_rtt(t)->u.rtt.from_ts);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "ping", 4), 4);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 4);
    tt_advance(t, 50 * TT_MS);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "pong", 4), 4);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK | TCP_PSH, 5, 1, 4);
    uint32_t second_ts = p->tcp.opts.ts_val;
    tt_advance(t, 30 * TT_MS);
    /* One ACK covers both and echoes the second's TSval (the first was
     * lost, say, and its retransmission raced the second): the sample is
     * what the TSecr says, 30 ms, not the 80 ms the first has waited — the
     * timed (Karn) sample would be 80 ms. */
    in_data_ts(t, 1, 9, NULL, PEER_TS + 80, second_ts);
    const struct tev *r = last_rtt(t);
    assert_non_null(r);
    assert_true(r->u.rtt.from_ts);
    assert_int_equal(r->u.rtt.ts_ecr, second_ts);
    assert_int_equal(r->u.rtt.sample_us, 30 * TT_MS);
    /* RFC 6298 (2.3) on top of the handshake's sample (the SYN,ACK's echo) */
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.srtt_us, (7 * before.srtt_us + 30 * TT_MS) / 8);
    tt_free(t);
}

/* With timestamps Karn's rule is not needed: the ACK of a retransmission
 * echoes the retransmission's TSval and gives a sample. */
static void test_rfc7323_rttm_sample_from_retransmitted_data(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    size_t rtt_before = tt_count_events(t, TEV_RTT);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "lost", 4), 4);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 4);
    assert_true(tt_wait_output(t, 5 * TT_SEC) != TCP_TIME_NEVER);
    const struct tt_pkt *rtx = tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 4);
    uint32_t rtx_ts = rtx->tcp.opts.ts_val;
    tt_advance(t, 20 * TT_MS);
    in_data_ts(t, 1, 5, NULL, PEER_TS + 1, rtx_ts);
    assert_int_equal(tt_count_events(t, TEV_RTT), rtt_before + 1);
    const struct tev *r = last_rtt(t);
    assert_true(r->u.rtt.from_ts);
    assert_int_equal(r->u.rtt.sample_us, 20 * TT_MS);
    tt_free(t);
}

/* Bad input: a TSecr beyond any TSval we sent is no echo of ours — the
 * segment is dropped (ts_ecr_future) and gives no RTT, no cwnd growth. */
static void test_rfc7323_tsecr_from_the_future_is_dropped(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "data", 4), 4);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 4);
    uint32_t sent_ts = p->tcp.opts.ts_val;
    size_t rtt_before = tt_count_events(t, TEV_RTT);
    uint32_t cwnd = tt_status(t).cwnd;
    in_data_ts(t, 1, 5, NULL, PEER_TS + 1, sent_ts + 100000);
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_TS_ECR_FUTURE);
    assert_int_equal(tt_count_events(t, TEV_RTT), rtt_before);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.snd_una, st.iss + 1); /* the ACK was not taken */
    assert_int_equal(st.cwnd, cwnd);
    tt_expect_nothing(t);
    tt_free(t);
}

/* ---- §4.3 TS.Recent -------------------------------------------------------- */

/* §4.3 (2): TS.Recent takes a TSval only from a segment with SEG.SEQ =<
 * Last.ACK.sent: an out-of-order segment beyond the hole does not move it;
 * the one that fills the hole does (§4.1 case C). */
static void test_rfc7323_s4_3_ts_recent_only_up_to_last_ack_sent(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    in_data_ts(t, 11, 1, "later", PEER_TS + 20, 0);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 1, 0); /* duplicate ACK */
    assert_int_equal(p->tcp.opts.ts_ecr, PEER_TS);
    in_data_ts(t, 1, 1, "0123456789", PEER_TS + 30, 0);
    p = tt_expect(t, TCP_ACK, 1, 16, 0);
    assert_int_equal(p->tcp.opts.ts_ecr, PEER_TS + 30);
    tt_free(t);
}

/* ---- §5 PAWS ------------------------------------------------------------------ */

/* §5.3 R1: SEG.TSval < TS.Recent: not acceptable; an ACK is sent and the
 * segment dropped — its text is not delivered. */
static void test_rfc7323_paws_drops_old_segment(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    in_data_ts(t, 1, 1, "new", PEER_TS + 10, 0);
    tt_expect(t, TCP_ACK, 1, 4, 0);
    in_data_ts(t, 4, 1, "old", PEER_TS + 5, 0); /* in window, but its TSval is older */
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_PAWS);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 4, 0);
    assert_int_equal(p->tcp.opts.ts_ecr, PEER_TS + 10);
    assert_int_equal(tt_status(t).recv_queue, 3);
    tt_free(t);
}

/* The ACKs PAWS sends go through the invalid-segment limiter (RFC 5961 §7,
 * cfg.invalid_ratelimit_us), so two stacks cannot ACK each other forever. */
static void test_rfc7323_s5_3_paws_acks_are_rate_limited(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    in_data_ts(t, 1, 1, NULL, PEER_TS + 10, 0); /* TS.Recent = PEER_TS + 10 */
    for (int i = 0; i < 5; i++)
        in_data_ts(t, 1, 1, NULL, PEER_TS + 5, 0);
    assert_int_equal(tt_count_drops(t, TCP_DROP_PAWS), 5);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_expect_nothing(t);
    tt_free(t);
}

/* §3.2 / §5.2: a RST is never subjected to PAWS. */
static void test_rfc7323_s5_3_rst_exempt_from_paws(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    in_data_ts(t, 1, 1, NULL, PEER_TS + 10, 0);
    struct tt_seg rst = {.flags = TCP_RST, .seq = 1, .opts = ts_opts(PEER_TS, 0)};
    tt_in_seg(t, &rst);
    assert_int_equal(tt_count_drops(t, TCP_DROP_PAWS), 0);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

/* §5.5: a TS.Recent older than 24 days is invalid; PAWS lets the segment
 * through and TS.Recent takes its TSval. */
static void test_rfc7323_s5_5_paws_forgets_ts_recent_after_24_days(void **state)
{
    struct tt *t = ts_established(NULL, NULL);
    in_data_ts(t, 1, 1, NULL, PEER_TS + 10, 0);
    uint32_t ours = last_out_tsval(t); /* the handshake ACK's */
    tt_advance(t, 25ull * 24 * 3600 * TT_SEC);
    tt_drain(t);
    /* It echoes our last TSval, now more than 2^31 ticks behind our clock:
     * still no TSecr "from the future". */
    in_data_ts(t, 1, 1, "wrap", PEER_TS + 5, ours);
    assert_int_equal(tt_count_drops(t, TCP_DROP_TS_ECR_FUTURE), 0);
    assert_int_equal(tt_count_drops(t, TCP_DROP_PAWS), 0);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 5, 0);
    assert_int_equal(p->tcp.opts.ts_ecr, PEER_TS + 5);
    tt_free(t);
}

/* ---- RFC 6191: a new SYN to a tuple in TIME_WAIT -------------------------- */

/* A passive connection with timestamps that the stack closes first and
 * that ends in TIME_WAIT. */
static struct tt *ts_time_wait_passive(void)
{
    struct tt *t = tt_listener(NULL);
    const struct tt_pkt *sa = peer_syn_with_ts(t);
    uint32_t our = sa->tcp.opts.ts_val;
    in_data_ts(t, 1, 1, NULL, PEER_TS + 1, our);
    t->sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(t->sd >= 0);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    struct tt_seg finack = {.flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 2,
                            .opts = ts_opts(PEER_TS + 2, our)};
    tt_in_seg(t, &finack);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_assert_state(t, TCP_TIME_WAIT);
    return t;
}

/* RFC 6191 §2 first rule: a newer TSval reopens the tuple even when the
 * SYN's sequence number is below the old RCV.NXT. */
static void test_rfc6191_time_wait_accepts_syn_with_newer_tsval(void **state)
{
    struct tt *t = ts_time_wait_passive();
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0, /* old ISN: not beyond RCV.NXT */
                         .opts = {.has_mss = true, .mss = 1460, .has_ts = true,
                                  .ts_val = PEER_TS + 100}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *sa = tt_next(t);
    assert_non_null(sa);
    assert_int_equal(sa->tcp.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(sa->tcp.opts.ts_ecr, PEER_TS + 100);
    tt_free(t);
}

/* ... and an older TSval does not: PAWS drops it and ACKs (as Linux). */
static void test_rfc6191_time_wait_refuses_syn_with_older_tsval(void **state)
{
    struct tt *t = ts_time_wait_passive();
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 1000, /* beyond RCV.NXT, but TSval older */
                         .opts = {.has_mss = true, .mss = 1460, .has_ts = true, .ts_val = PEER_TS}};
    tt_in_seg(t, &syn);
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_PAWS);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_free(t);
}

/* ---- SYN cookies with timestamps (RFC 4987 §3.6, as Linux) ---------------- */

static struct stack_config cookie_cfg(void)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.syncookies = TCP_SYNCOOKIES_ALWAYS;
    cfg.window_scaling = true;
    cfg.wscale = 7;
    return cfg;
}

/* The cookie SYN,ACK carries TSopt whose TSval's low 6 bits are the peer's
 * shift and SACK-permitted; the ACK's TSecr brings them back, so window
 * scaling works on a connection made from a cookie. */
static void test_rfc4987_cookie_keeps_wscale_and_sack_in_tsval(void **state)
{
    struct stack_config cfg = cookie_cfg();
    struct tt *t = tt_listener(&cfg);
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0,
                         .opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 9,
                                  .sack_permitted = true, .has_ts = true, .ts_val = PEER_TS}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *sa = tt_next(t);
    assert_non_null(sa);
    assert_int_equal(sa->tcp.flags, TCP_SYN | TCP_ACK);
    assert_true(sa->tcp.opts.has_ts);
    assert_true(sa->tcp.opts.has_wscale);
    assert_int_equal(sa->tcp.opts.ts_ecr, PEER_TS);
    assert_int_equal(sa->tcp.opts.ts_val & 0x3f, 9 | 0x10);
    assert_true(sa->tcp.opts.sack_permitted); /* RFC 2018 §2: answered in the SYN,ACK */
    t->iss = sa->tcp.seq;
    t->iss_known = true;
    in_data_ts(t, 1, 1, NULL, PEER_TS + 1, sa->tcp.opts.ts_val);
    t->sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(t->sd >= 0);
    struct tcp_status st = tt_status(t);
    assert_true(st.ts_ok);
    assert_int_equal(st.snd_wscale, 9);
    assert_int_equal(st.rcv_wscale, 7);
    assert_int_equal(st.snd_wnd, (uint32_t)TT_PEER_WIN << 9);
    assert_int_equal(st.mss, 1448);
    /* SACK-permitted came back too: an out-of-order segment is SACKed. */
    in_data_ts(t, 11, 1, "beyond", PEER_TS + 2, 0);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(p->tcp.opts.n_sack, 1);
    assert_true(p->tcp.opts.has_ts);
    tt_free(t);
}

/* Bad input: a cookie ACK whose TSecr cannot be one of ours (the ECN bit
 * we never set, or from the future) is a bad cookie: no connection. */
static void test_rfc4987_cookie_ack_with_bad_tsecr_is_bad_cookie(void **state)
{
    struct stack_config cfg = cookie_cfg();
    struct tt *t = tt_listener(&cfg);
    const struct tt_pkt *sa = peer_syn_with_ts(t);
    uint32_t v = sa->tcp.opts.ts_val;
    in_data_ts(t, 1, 1, NULL, PEER_TS + 1, v | 0x20);
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_BAD_COOKIE);
    in_data_ts(t, 1, 1, NULL, PEER_TS + 1, v + 100000);
    assert_int_equal(tt_count_drops(t, TCP_DROP_BAD_COOKIE), 2);
    assert_int_equal(tcp_accept(t->s, t->now, t->lsd, NULL), -EAGAIN);
    /* The right echo still works. */
    in_data_ts(t, 1, 1, NULL, PEER_TS + 1, v);
    assert_true(tcp_accept(t->s, t->now, t->lsd, NULL) >= 0);
    tt_free(t);
}

/* Without timestamps in the SYN the cookie keeps only the MSS. */
static void test_rfc4987_cookie_without_ts_has_no_wscale(void **state)
{
    struct stack_config cfg = cookie_cfg();
    struct tt *t = tt_listener(&cfg);
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0,
                         .opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 9}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *sa = tt_next(t);
    assert_non_null(sa);
    assert_false(sa->tcp.opts.has_ts);
    assert_false(sa->tcp.opts.has_wscale);
    tt_free(t);
}

/* ---- two stacks: both offer, both agree ------------------------------------ */

static void test_rfc7323_two_stacks_agree_and_measure_from_tsecr(void **state)
{
    struct tt_pair *p = tt_pair_new(NULL, NULL, 7);
    assert_true(tt_pair_connect(p, 5 * TT_SEC));
    static char buf[20000];
    memset(buf, 'z', sizeof buf);
    assert_int_equal(tcp_send(p->c, tt_pair_now(p), p->csd, buf, sizeof buf), (ssize_t)sizeof buf);
    tt_pair_run(p, 2 * TT_SEC);
    size_t ts_samples = 0, timed = 0;
    for (size_t i = 0; i < p->ev_len; i++)
        if (p->ev[i]->kind == TEV_RTT)
            *(p->ev[i]->u.rtt.from_ts ? &ts_samples : &timed) += 1;
    assert_true(ts_samples > 1);
    assert_int_equal(timed, 0);
    struct tcp_status st;
    assert_int_equal(tcp_status(p->c, p->csd, &st), 0);
    assert_true(st.ts_ok);
    assert_int_equal(st.send_queue, 0);
    tt_pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7323_s3_2_syn_offers_tsopt_only_when_configured),
        cmocka_unit_test(test_rfc7323_s3_2_tsopt_used_only_if_both_sent_it),
        cmocka_unit_test(test_rfc7323_s3_2_synack_echoes_the_syn_tsval),
        cmocka_unit_test(test_rfc7323_tsopt_on_every_segment),
        cmocka_unit_test(test_rfc7323_effective_mss_leaves_room_for_tsopt),
        cmocka_unit_test(test_rfc7323_s3_2_rst_of_an_abort_carries_tsopt),
        cmocka_unit_test(test_rfc6691_full_data_segment_leaves_out_sack_blocks),
        cmocka_unit_test(test_rfc7323_synack_with_tsecr_from_the_future_is_dropped),
        cmocka_unit_test(test_rfc7323_s3_2_tsopt_ignored_when_not_negotiated),
        cmocka_unit_test(test_rfc7323_s3_2_segment_without_tsopt_accepted_as_linux),
        cmocka_unit_test(test_rfc7323_rttm_sample_from_tsecr),
        cmocka_unit_test(test_rfc7323_rttm_sample_from_retransmitted_data),
        cmocka_unit_test(test_rfc7323_tsecr_from_the_future_is_dropped),
        cmocka_unit_test(test_rfc7323_s4_3_ts_recent_only_up_to_last_ack_sent),
        cmocka_unit_test(test_rfc7323_paws_drops_old_segment),
        cmocka_unit_test(test_rfc7323_s5_3_paws_acks_are_rate_limited),
        cmocka_unit_test(test_rfc7323_s5_3_rst_exempt_from_paws),
        cmocka_unit_test(test_rfc7323_s5_5_paws_forgets_ts_recent_after_24_days),
        cmocka_unit_test(test_rfc6191_time_wait_accepts_syn_with_newer_tsval),
        cmocka_unit_test(test_rfc6191_time_wait_refuses_syn_with_older_tsval),
        cmocka_unit_test(test_rfc4987_cookie_keeps_wscale_and_sack_in_tsval),
        cmocka_unit_test(test_rfc4987_cookie_ack_with_bad_tsecr_is_bad_cookie),
        cmocka_unit_test(test_rfc4987_cookie_without_ts_has_no_wscale),
        cmocka_unit_test(test_rfc7323_two_stacks_agree_and_measure_from_tsecr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
