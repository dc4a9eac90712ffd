/*
 * test_tcp_tw.c — TIME_WAIT records (stack/tcp_tw.c): a connection in
 * TIME_WAIT that no descriptor refers to is kept as a 136-byte record instead
 * of its whole block. What it costs (a memory figure, not a time), and that
 * TIME_WAIT behaves on a record exactly as on a block: RFC 9293's re-ACK of a
 * retransmitted FIN and the 2MSL restart, RFC 1337's ignored RST, RFC 5961's
 * rate-limited challenge ACK, an old duplicate ACKed, RFC 6191's reopening
 * by a new SYN, the TIME_WAIT limit, the 2MSL timeout — and, the strongest
 * check, one long script run with records and with whole blocks
 * (stack_config.time_wait_blocks) gives the same events and packets, byte
 * for byte.
 */
#include "tcptest.h"
#include "seq.h"

#define PEER_TS 1000000u

/* A passive connection from the peer's port `pport` that the application
 * accepts and closes first, through FIN_WAIT_1 and FIN_WAIT_2 to TIME_WAIT
 * (the peer's FIN comes with its ACK of ours). With `ts` both SYNs carry
 * TSopt (RFC 7323) and SACK-permitted (RFC 2018). Leaves t->iss and t->pport set for this
 * connection; returns the TSval of the stack's SYN,ACK (0 without timestamps). */
static uint32_t passive_to_time_wait(struct tt *t, uint16_t pport, bool ts)
{
    t->pport = pport;
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0, .opts = {.has_mss = true, .mss = 1460}};
    if (ts) {
        syn.opts.has_ts = true;
        syn.opts.ts_val = PEER_TS;
        syn.opts.sack_permitted = true;
    }
    tt_in_seg(t, &syn);
    const struct tt_pkt *sa = tt_next(t);
    assert_non_null(sa);
    assert_int_equal(sa->tcp.flags, TCP_SYN | TCP_ACK);
    t->iss = sa->tcp.seq;
    t->iss_known = true;
    uint32_t our_ts = sa->tcp.opts.ts_val;
    struct tt_seg ack = {.flags = TCP_ACK, .seq = 1, .ack = 1};
    if (ts)
        ack.opts = (struct wire_tcp_opts){.has_ts = true, .ts_val = PEER_TS + 1, .ts_ecr = our_ts};
    tt_in_seg(t, &ack);
    int sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(sd >= 0);
    assert_int_equal(tcp_close(t->s, t->now, sd), 0);
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    struct tt_seg finack = {.flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 2};
    if (ts)
        finack.opts =
            (struct wire_tcp_opts){.has_ts = true, .ts_val = PEER_TS + 2, .ts_ecr = our_ts};
    tt_in_seg(t, &finack);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_assert_state(t, TCP_TIME_WAIT);
    return ts ? our_ts : 0;
}

static struct tt *listening(const struct stack_config *cfg)
{
    struct tt *t = tt_new(cfg);
    tt_do_listen(t, 64);
    return t;
}

/* ---- what it costs --------------------------------------------------------------- */

/* Issue #11: at most 256 bytes per TIME_WAIT entry — the record, its share of
 * the 4-tuple table and of the timer heap — counted by the stack's own
 * allocator (stack_stats.mem_bytes), after N connections reached TIME_WAIT.
 * The same run with whole blocks costs several times that: the figure
 * measures what it says. */
static uint64_t bytes_per_time_wait_entry(bool blocks)
{
    enum { N = 2000 };
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.time_wait_blocks = blocks;
    struct tt *t = listening(&cfg);
    uint64_t before = tt_stats(t).mem_bytes;
    for (uint16_t i = 0; i < N; i++) {
        passive_to_time_wait(t, (uint16_t)(20000 + i), i % 2 == 0);
        tt_drain(t);
    }
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.conns_time_wait, N);
    assert_int_equal(ss.time_wait_records, blocks ? 0 : N);
    uint64_t per = (ss.mem_bytes - before) / N;
    tt_free(t);
    return per;
}

static void test_time_wait_entry_costs_at_most_256_bytes(void **state)
{
    uint64_t per_record = bytes_per_time_wait_entry(false);
    uint64_t per_block = bytes_per_time_wait_entry(true);
    print_message("bytes per TIME_WAIT entry: %llu as a record, %llu as a block\n",
                  (unsigned long long)per_record, (unsigned long long)per_block);
    assert_true(per_record <= 256);
    assert_true(per_block > 4 * per_record);
}

/* The record goes back to a block for a segment and becomes a record again
 * once the segment is dealt with; at its end nothing of it is left. */
static void test_time_wait_record_leaves_no_memory_behind(void **state)
{
    struct tt *t = listening(NULL);
    uint64_t before = tt_stats(t).mem_bytes;
    passive_to_time_wait(t, 48000, true);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    uint64_t as_record = tt_stats(t).mem_bytes;
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL); /* expanded, then a record again */
    tt_expect(t, TCP_ACK, 2, 2, 0);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    assert_int_equal(tt_stats(t).mem_bytes, as_record);
    tt_advance(t, 2 * TT_MSL_US);
    tt_assert_state(t, TCP_CLOSED);
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.time_wait_records, 0);
    assert_int_equal(ss.conns_time_wait, 0);
    assert_int_equal(ss.conns_active, 0);
    /* the tables keep the size they grew to; the record itself is gone */
    assert_true(ss.mem_bytes < as_record);
    assert_true(ss.mem_bytes >= before);
    tt_free(t);
}

/* ---- TIME_WAIT on a record --------------------------------------------------------- */

/* RFC 9293 §3.10.7.4, FIN in TIME-WAIT: "Acknowledge it, and restart the 2
 * MSL timeout." The record's 2MSL deadline is the restarted one, and it
 * fires exactly then, with the events a block's timer gives. */
static void test_rfc9293_time_wait_record_reacks_fin_and_restarts_2msl(void **state)
{
    struct tt *t = listening(NULL);
    passive_to_time_wait(t, 48000, false);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    tt_advance(t, 10 * TT_SEC);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    uint64_t restarted = t->now;
    struct tcp_status st;
    assert_true(tt_find_conn(t, &st));
    assert_int_equal(st.state, TCP_TIME_WAIT);
    assert_int_equal(st.timers[TCP_TIMER_TIME_WAIT], restarted + 2 * TT_MSL_US);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    tt_advance(t, 2 * TT_MSL_US - 1);
    tt_assert_state(t, TCP_TIME_WAIT);
    size_t mark = t->ev_len;
    tt_advance(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    /* FIRE, then TIME_WAIT -> CLOSED "2MSL timeout", then nothing */
    assert_int_equal(t->ev_len, mark + 2);
    const struct tev *fire = t->ev[mark], *closed = t->ev[mark + 1];
    assert_int_equal(fire->kind, TEV_TIMER);
    assert_int_equal(fire->u.timer.which, TCP_TIMER_TIME_WAIT);
    assert_int_equal(fire->u.timer.action, TEV_TIMER_FIRE);
    assert_int_equal(fire->u.timer.deadline_us, restarted + 2 * TT_MSL_US);
    assert_int_equal(fire->tuple.rport, 48000);
    assert_int_equal(fire->sd, -1);
    assert_int_equal(closed->kind, TEV_STATE);
    assert_int_equal(closed->u.state.from, TCP_TIME_WAIT);
    assert_int_equal(closed->u.state.to, TCP_CLOSED);
    assert_string_equal(closed->u.state.cause, "2MSL timeout");
    tt_expect_nothing(t);
    tt_free(t);
}

/* RFC 1337: TIME_WAIT ignores a RST ("TIME-WAIT assassination"), in the
 * window or not; the record stays and still answers. */
static void test_rfc1337_time_wait_record_ignores_rst(void **state)
{
    struct tt *t = listening(NULL);
    passive_to_time_wait(t, 48000, false);
    tt_in(t, TCP_RST, 2, 0, NULL);
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_RST_IN_TIME_WAIT);
    tt_in(t, TCP_RST | TCP_ACK, 2, 2, NULL);
    assert_int_equal(tt_count_drops(t, TCP_DROP_RST_IN_TIME_WAIT), 2);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_TIME_WAIT);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_free(t);
}

/* RFC 5961 §4.2 and §7: an old SYN gets a challenge ACK, but only one per
 * invalid_ratelimit_us (500 ms) per connection — the limit's clock is in the
 * record, so the second SYN, which finds a record again, is not answered. */
static void test_rfc5961_time_wait_record_rate_limits_challenge_acks(void **state)
{
    struct tt *t = listening(NULL);
    passive_to_time_wait(t, 48000, false);
    tt_advance(t, TT_SEC);
    tt_in(t, TCP_SYN, 0, 0, NULL); /* the old incarnation's SYN: not beyond RCV.NXT */
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_SYN_CHALLENGED);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    tt_advance(t, 100 * TT_MS);
    tt_in(t, TCP_SYN, 0, 0, NULL);
    tt_expect_nothing(t);
    tt_advance(t, 500 * TT_MS);
    tt_in(t, TCP_SYN, 0, 0, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    assert_int_equal(tt_count_drops(t, TCP_DROP_SYN_CHALLENGED), 3);
    /* an ACK of something never sent: the same limiter (RFC 5961 §5.2, §7) */
    tt_in(t, TCP_ACK, 2, 50, NULL);
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_BAD_ACK);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_free(t);
}

/* RFC 9293 §3.10.7.4 first step: an old duplicate (text below RCV.NXT) is
 * not acceptable; it is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
static void test_time_wait_record_acks_old_duplicate_segment(void **state)
{
    struct tt *t = listening(NULL);
    passive_to_time_wait(t, 48000, false);
    tt_advance(t, TT_SEC);
    tt_in_data(t, 1, 1, "o", 1); /* wholly below RCV.NXT (2): the FIN's place or before */
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_UNACCEPTABLE);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_in_data(t, 1, 1, "o", 1); /* text is always answered, never rate-limited */
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_assert_state(t, TCP_TIME_WAIT);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    tt_free(t);
}

/* RFC 6191 §2 with timestamps: a SYN with a newer TSval opens a new
 * connection on the record's 4-tuple; one with an older TSval is dropped by
 * PAWS and ACKed, and the record stays. */
static void test_rfc6191_time_wait_record_reopened_by_newer_tsval(void **state)
{
    struct tt *t = listening(NULL);
    passive_to_time_wait(t, 48000, true);
    struct tt_seg old = {.flags = TCP_SYN,
                         .seq = 1000,
                         .opts = {.has_mss = true, .mss = 1460, .has_ts = true, .ts_val = PEER_TS}};
    tt_in_seg(t, &old);
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_PAWS);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    struct tt_seg syn = {
        .flags = TCP_SYN,
        .seq = 0,
        .opts = {.has_mss = true, .mss = 1460, .has_ts = true, .ts_val = PEER_TS + 100}};
    tt_in_seg(t, &syn);
    tt_expect_state_event(t, TCP_TIME_WAIT, TCP_CLOSED, "rcvd SYN for a new connection");
    const struct tt_pkt *sa = tt_next(t);
    assert_non_null(sa);
    assert_int_equal(sa->tcp.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(sa->tcp.opts.ts_ecr, PEER_TS + 100);
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.conns_time_wait, 0);
    assert_int_equal(ss.time_wait_records, 0);
    assert_int_equal(ss.syn_queue, 1);
    tt_free(t);
}

/* RFC 6191's fourth rule without timestamps: a SYN beyond RCV.NXT reopens. */
static void test_rfc6191_time_wait_record_reopened_by_higher_sequence(void **state)
{
    struct tt *t = listening(NULL);
    passive_to_time_wait(t, 48000, false);
    tt_in(t, TCP_SYN, 100000, 0, NULL);
    const struct tt_pkt *sa = tt_next(t);
    assert_non_null(sa);
    assert_int_equal(sa->tcp.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(sa->tcp.ack, t->peer_isn + 100001);
    assert_int_equal(tt_stats(t).conns_time_wait, 0);
    tt_free(t);
}

/* RFC 1122 §4.2.2.13: a SYN may reopen TIME_WAIT only if the new
 * connection's ISN is larger than the largest sequence number the old one
 * used. Reopened at once, the clock-driven ISN (RFC 6528) for the same
 * 4-tuple is the old ISS again, not beyond the old SND.NXT (ISS + SYN + FIN);
 * the stack must start past it. */
static void test_rfc1122_time_wait_reopen_iss_beyond_old_snd_nxt(void **state)
{
    struct tt *t = listening(NULL);
    passive_to_time_wait(t, 48000, false);
    uint32_t old_snd_nxt = t->iss + 2;
    tt_in(t, TCP_SYN, 100000, 0, NULL);
    const struct tt_pkt *sa = tt_next(t);
    assert_non_null(sa);
    assert_int_equal(sa->tcp.flags, TCP_SYN | TCP_ACK);
    assert_true(seq_gt(sa->tcp.seq, old_snd_nxt));
    tt_free(t);
}

/* The same reopening while a SYN flood holds the listener's SYN queue full
 * (cookies on, RFC 4987 §3.6): a cookie is an ISS the stack cannot choose,
 * so the reopening SYN gets a SYN queue entry of its own (the TIME_WAIT
 * entry it replaces was just freed), with an ISS past the old SND.NXT; the
 * next SYN from elsewhere still gets a cookie. */
static void test_rfc4987_time_wait_reopen_is_never_answered_with_a_cookie(void **state)
{
    struct tt *t = listening(NULL); /* backlog 64, cookies auto */
    passive_to_time_wait(t, 48000, false);
    uint32_t old_snd_nxt = t->iss + 2;
    for (uint16_t i = 0; i < 64; i++) {
        t->pport = (uint16_t)(30000 + i);
        tt_in(t, TCP_SYN, 0, 0, NULL);
    }
    tt_drain(t);
    assert_int_equal(tt_stats(t).syn_queue, 64);
    assert_int_equal(tt_stats(t).cookies_sent, 0);
    t->pport = 48000;
    tt_in(t, TCP_SYN, 100000, 0, NULL);
    const struct tt_pkt *sa = tt_next(t);
    assert_non_null(sa);
    assert_int_equal(sa->tcp.flags, TCP_SYN | TCP_ACK);
    assert_true(seq_gt(sa->tcp.seq, old_snd_nxt));
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.cookies_sent, 0);
    assert_int_equal(ss.syn_queue, 65);
    assert_int_equal(ss.conns_time_wait, 0);
    t->pport = 40000;
    tt_in(t, TCP_SYN, 0, 0, NULL);
    assert_int_equal(tt_stats(t).cookies_sent, 1);
    tt_free(t);
}

/* max_time_wait: the oldest entry, a record, is closed for the newest, with
 * the events a block gives (TIME_WAIT -> CLOSED, its 2MSL timer cancelled);
 * the others stay in TIME_WAIT and its 4-tuple is free again. */
static void test_time_wait_limit_closes_the_oldest_record(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.max_time_wait = 2;
    struct tt *t = listening(&cfg);
    passive_to_time_wait(t, 48000, false);
    uint64_t deadline0 = t->now + 2 * TT_MSL_US;
    passive_to_time_wait(t, 48001, false);
    assert_int_equal(tt_stats(t).time_wait_records, 2);
    size_t mark = t->ev_len;
    passive_to_time_wait(t, 48002, false);
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.conns_time_wait, 2);
    assert_int_equal(ss.time_wait_records, 2);
    assert_int_equal(ss.limit_time_wait, 1);
    assert_int_equal(ss.conns_active, 2);
    size_t i = mark;
    while (i < t->ev_len && !(t->ev[i]->kind == TEV_STATE && t->ev[i]->tuple.rport == 48000))
        i++;
    assert_true(i + 1 < t->ev_len);
    assert_int_equal(t->ev[i]->u.state.from, TCP_TIME_WAIT);
    assert_int_equal(t->ev[i]->u.state.to, TCP_CLOSED);
    assert_string_equal(t->ev[i]->u.state.cause, "TIME_WAIT limit: oldest closed");
    const struct tev *cancel = t->ev[i + 1];
    assert_int_equal(cancel->kind, TEV_TIMER);
    assert_int_equal(cancel->tuple.rport, 48000);
    assert_int_equal(cancel->u.timer.which, TCP_TIMER_TIME_WAIT);
    assert_int_equal(cancel->u.timer.action, TEV_TIMER_CANCEL);
    assert_int_equal(cancel->u.timer.deadline_us, deadline0);
    /* only the oldest left TIME_WAIT */
    for (size_t j = mark; j < t->ev_len; j++)
        if (t->ev[j]->kind == TEV_STATE && t->ev[j]->u.state.from == TCP_TIME_WAIT)
            assert_int_equal(t->ev[j]->tuple.rport, 48000);
    /* the two newest still answer as TIME_WAIT does: a retransmitted FIN is ACKed */
    t->pport = 48002;
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    /* the evicted 4-tuple has no connection: a FIN on it gets a RST */
    t->pport = 48000;
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_true(p->tcp.flags & TCP_RST);
    tt_free(t);
}

/* An active close: the record holds the local port (bind() says EADDRINUSE
 * unless SO_REUSEADDR) and lets it go at its 2MSL timeout. */
static void test_time_wait_record_holds_its_port_until_2msl(void **state)
{
    struct tt *t = tt_time_wait(NULL);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    int sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_bind(t->s, t->now, sd, t->sport), -EADDRINUSE);
    int sd2 = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_setsockopt(t->s, t->now, sd2, TCP_OPT_REUSEADDR, 1), 0);
    assert_int_equal(tcp_bind(t->s, t->now, sd2, t->sport), 0);
    assert_int_equal(tcp_close(t->s, t->now, sd2), 0);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_advance(t, 2 * TT_MSL_US);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tcp_bind(t->s, t->now, sd, t->sport), 0);
    tt_free(t);
}

/* A connection in TIME_WAIT whose descriptor is still open (shutdown, then
 * the peer's FIN) stays a block; close() makes it a record. */
static void test_time_wait_with_a_descriptor_becomes_a_record_at_close(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_shutdown(t->s, t->now, t->sd, TCP_SHUT_WR), 0);
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_assert_state(t, TCP_TIME_WAIT);
    assert_int_equal(tt_stats(t).time_wait_records, 0);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_free(t);
}

/* Without memory for the block a segment needs, the segment is dropped
 * with a named reason and the record stays; the peer's next try is answered
 * once there is memory again. Closing a record needs none. */
struct failing {
    bool fail_conn; /* refuse connection blocks */
};

static void *failing_alloc(void *ctx, size_t size, enum stack_mem_kind kind)
{
    struct failing *f = ctx;
    if (f->fail_conn && kind == STACK_MEM_CONN)
        return NULL;
    return calloc(1, size);
}

static void failing_free(void *ctx, void *p, size_t size, enum stack_mem_kind kind)
{
    (void)ctx;
    (void)size;
    (void)kind;
    free(p);
}

static void test_time_wait_record_without_memory_drops_the_segment(void **state)
{
    struct failing f = {false};
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.allocator =
        (struct stack_allocator){.alloc = failing_alloc, .free = failing_free, .ctx = &f};
    struct tt *t = listening(&cfg);
    passive_to_time_wait(t, 48000, true);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    f.fail_conn = true;
    size_t segs = tt_count_events(t, TEV_SEGMENT);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    assert_int_equal(tt_count_events(t, TEV_SEGMENT), segs + 1); /* the segment is shown */
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_MEM_LIMIT);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_TIME_WAIT);
    assert_int_equal(tt_stats(t).time_wait_records, 1);
    f.fail_conn = false;
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    f.fail_conn = true;
    tt_advance(t, 2 * TT_MSL_US);
    tt_assert_state(t, TCP_CLOSED);
    tt_expect_state_event(t, TCP_TIME_WAIT, TCP_CLOSED, "2MSL timeout");
    f.fail_conn = false;
    tt_free(t);
}

/* ---- records and blocks, byte for byte ------------------------------------------- */

/* Every TIME_WAIT path on several connections, some with timestamps: FINs
 * again, old text, RSTs, old and new SYNs, bad ACKs, PAWS, the limit and
 * the 2MSL timeouts. */
/* What stack_foreach_conn() says of the TIME_WAIT connections, in table
 * order, restricted to what a record reports (tcp_tw_fill_status). */
#define TW_VIEW_MAX 16
struct tw_view {
    size_t n;
    struct tcp_status st[TW_VIEW_MAX];
};
static void take_view(const struct tt *t, struct tw_view *v);

/* The TIME_WAIT connections' status is taken after each round into views[3]. */
static void time_wait_script(struct tt *t, struct tw_view views[3])
{
    uint32_t iss[6], our_ts[6];
    for (uint16_t i = 0; i < 6; i++) {
        our_ts[i] = passive_to_time_wait(t, (uint16_t)(48000 + i), i % 2 == 1);
        iss[i] = t->iss;
        tt_advance(t, 250 * TT_MS);
    }
    for (int round = 0; round < 3; round++) {
        for (uint16_t i = 0; i < 6; i++) {
            t->pport = (uint16_t)(48000 + i);
            t->iss = iss[i];
            /* the peer's clock moves on; it echoes our SYN,ACK's TSval */
            struct wire_tcp_opts ts = {
                .has_ts = true, .ts_val = PEER_TS + 3 + (uint32_t)round, .ts_ecr = our_ts[i]};
            /* a SYN of the old incarnation: older TSval, PAWS (a newer one
             * would reopen the connection, RFC 6191) */
            struct wire_tcp_opts ts_old = {.has_ts = true, .ts_val = PEER_TS};
            struct tt_seg fin = {.flags = TCP_FIN | TCP_ACK, .seq = 1, .ack = 2};
            struct tt_seg old = {
                .flags = TCP_ACK | TCP_PSH, .seq = 0, .ack = 2, .data = "x", .len = 1};
            struct tt_seg rst = {.flags = TCP_RST, .seq = 2};
            struct tt_seg oldsyn = {.flags = TCP_SYN, .seq = 0};
            struct tt_seg badack = {.flags = TCP_ACK, .seq = 2, .ack = 900};
            struct tt_seg pure = {
                .flags = TCP_ACK, .seq = 2, .ack = 2, .win = (uint16_t)(1000 + 100 * round)};
            struct tt_seg oldack = {.flags = TCP_ACK, .seq = 2, .ack = 1, .win = 2000};
            if (i % 2 == 1) {
                fin.opts = old.opts = badack.opts = pure.opts = oldack.opts = ts;
                oldsyn.opts = ts_old;
            }
            tt_in_seg(t, &fin);
            tt_in_seg(t, &old);
            tt_in_seg(t, &rst);
            tt_in_seg(t, &oldsyn);
            tt_in_seg(t, &badack);
            tt_in_seg(t, &pure);
            tt_in_seg(t, &oldack);
            tt_advance(t, 300 * TT_MS);
        }
        take_view(t, &views[round]);
    }
    /* PAWS on a SYN, then reopenings: by TSval and by sequence number */
    t->pport = 48001;
    t->iss = iss[1];
    struct tt_seg paws = {.flags = TCP_SYN, .seq = 5000, .opts = {.has_ts = true, .ts_val = 7}};
    tt_in_seg(t, &paws);
    struct tt_seg newts = {
        .flags = TCP_SYN,
        .seq = 0,
        .opts = {.has_mss = true, .mss = 1460, .has_ts = true, .ts_val = PEER_TS + 50}};
    tt_in_seg(t, &newts);
    t->pport = 48002;
    t->iss = iss[2];
    tt_in(t, TCP_SYN, 100000, 0, NULL);
    /* the limit, then every 2MSL timeout */
    for (uint16_t i = 0; i < 4; i++) {
        tt_drain(t); /* the builder reads what comes next */
        passive_to_time_wait(t, (uint16_t)(49000 + i), i % 2 == 0);
    }
    tt_advance(t, 3 * TT_MSL_US);
}

static bool same_event(const struct tev *a, const struct tev *b)
{
    if (a->kind != b->kind || a->t_us != b->t_us || a->sd != b->sd ||
        memcmp(&a->tuple, &b->tuple, sizeof a->tuple) != 0)
        return false;
    switch (a->kind) {
    case TEV_SEGMENT:
        return a->u.seg.dir == b->u.seg.dir && a->u.seg.raw_len == b->u.seg.raw_len &&
               memcmp(a->u.seg.raw, b->u.seg.raw, a->u.seg.raw_len) == 0 &&
               a->u.seg.retransmission == b->u.seg.retransmission &&
               a->u.seg.probe == b->u.seg.probe;
    case TEV_STATE:
        return a->u.state.from == b->u.state.from && a->u.state.to == b->u.state.to &&
               strcmp(a->u.state.cause, b->u.state.cause) == 0;
    case TEV_TIMER:
        return a->u.timer.which == b->u.timer.which && a->u.timer.action == b->u.timer.action &&
               a->u.timer.deadline_us == b->u.timer.deadline_us &&
               a->u.timer.backoff == b->u.timer.backoff;
    case TEV_DROP:
        return a->u.drop.reason == b->u.drop.reason && a->u.drop.raw_len == b->u.drop.raw_len;
    case TEV_CALL:
        return a->u.call.call == b->u.call.call && a->u.call.result == b->u.call.result &&
               a->u.call.arg == b->u.call.arg;
    default:
        return true;
    }
}

/* A listener whose children differ from the stack's defaults in every
 * socket option a TIME_WAIT segment shows: receive buffer (the window),
 * TTL and Diffserv byte (RFC 9293 MUST-48, MUST-49). */
static struct tt *listening_with_options(const struct stack_config *cfg)
{
    struct tt *t = tt_new(cfg);
    t->lsd = tcp_socket(t->s, t->now);
    assert_true(t->lsd >= 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->lsd, TCP_OPT_RCVBUF, 30000), 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->lsd, TCP_OPT_TTL, 33), 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->lsd, TCP_OPT_TOS, 0x28), 0);
    assert_int_equal(tcp_bind(t->s, t->now, t->lsd, TT_SERVER_PORT), 0);
    assert_int_equal(tcp_listen(t->s, t->now, t->lsd, 64), 0);
    t->sport = TT_SERVER_PORT;
    return t;
}

static void view_visit(void *ctx, int sd, const struct tcp_status *st)
{
    struct tw_view *v = ctx;
    (void)sd;
    if (st->state != TCP_TIME_WAIT || v->n == TW_VIEW_MAX)
        return;
    struct tcp_status *o = &v->st[v->n++];
    memset(o, 0, sizeof *o);
    o->state = st->state;
    o->tuple = st->tuple;
    o->iss = st->iss;
    o->irs = st->irs;
    o->snd_una = st->snd_una;
    o->snd_nxt = st->snd_nxt;
    o->snd_wnd = st->snd_wnd;
    o->rcv_nxt = st->rcv_nxt;
    o->rcv_wnd = st->rcv_wnd;
    o->mss = st->mss;
    o->snd_wscale = st->snd_wscale;
    o->rcv_wscale = st->rcv_wscale;
    o->ts_ok = st->ts_ok;
    o->ts_recent = st->ts_recent;
    memcpy(o->timers, st->timers, sizeof o->timers);
}

static void take_view(const struct tt *t, struct tw_view *v)
{
    memset(v, 0, sizeof *v);
    stack_foreach_conn(t->s, view_visit, v);
    assert_true(v->n > 0);
}

static void test_time_wait_records_and_blocks_give_the_same_events(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.max_time_wait = 5;
    struct tt *rec = listening_with_options(&cfg);
    cfg.time_wait_blocks = true;
    struct tt *blk = listening_with_options(&cfg);
    struct tw_view vrec[3], vblk[3];
    time_wait_script(rec, vrec);
    time_wait_script(blk, vblk);
    for (int r = 0; r < 3; r++) {
        assert_int_equal(vrec[r].n, vblk[r].n);
        assert_memory_equal(vrec[r].st, vblk[r].st, vrec[r].n * sizeof vrec[r].st[0]);
    }
    assert_true(rec->ev_len > 300);
    for (size_t i = 0; i < rec->ev_len && i < blk->ev_len; i++)
        if (!same_event(rec->ev[i], blk->ev[i]))
            tt_fail_at(__FILE__, __LINE__,
                       "event %zu differs (kind %d with records, %d with blocks)", i,
                       rec->ev[i]->kind, blk->ev[i]->kind);
    assert_int_equal(rec->ev_len, blk->ev_len);
    assert_int_equal(rec->out_len, blk->out_len);
    for (size_t i = 0; i < rec->out_len; i++) {
        assert_int_equal(rec->out[i].len, blk->out[i].len);
        assert_memory_equal(rec->out[i].raw, blk->out[i].raw, rec->out[i].len);
    }
    struct stack_stats a = tt_stats(rec), b = tt_stats(blk);
    assert_int_equal(a.conns_time_wait, b.conns_time_wait);
    assert_int_equal(a.conns_active, b.conns_active);
    assert_int_equal(a.limit_time_wait, b.limit_time_wait);
    assert_true(a.limit_time_wait > 0);
    assert_memory_equal(a.drops_by_reason, b.drops_by_reason, sizeof a.drops_by_reason);
    assert_int_equal(a.pkts_out, b.pkts_out);
    assert_int_equal(b.time_wait_records, 0);
    tt_free(rec);
    tt_free(blk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_wait_entry_costs_at_most_256_bytes),
        cmocka_unit_test(test_time_wait_record_leaves_no_memory_behind),
        cmocka_unit_test(test_rfc9293_time_wait_record_reacks_fin_and_restarts_2msl),
        cmocka_unit_test(test_rfc1337_time_wait_record_ignores_rst),
        cmocka_unit_test(test_rfc5961_time_wait_record_rate_limits_challenge_acks),
        cmocka_unit_test(test_time_wait_record_acks_old_duplicate_segment),
        cmocka_unit_test(test_rfc6191_time_wait_record_reopened_by_newer_tsval),
        cmocka_unit_test(test_rfc6191_time_wait_record_reopened_by_higher_sequence),
        cmocka_unit_test(test_rfc1122_time_wait_reopen_iss_beyond_old_snd_nxt),
        cmocka_unit_test(test_rfc4987_time_wait_reopen_is_never_answered_with_a_cookie),
        cmocka_unit_test(test_time_wait_limit_closes_the_oldest_record),
        cmocka_unit_test(test_time_wait_record_holds_its_port_until_2msl),
        cmocka_unit_test(test_time_wait_with_a_descriptor_becomes_a_record_at_close),
        cmocka_unit_test(test_time_wait_record_without_memory_drops_the_segment),
        cmocka_unit_test(test_time_wait_records_and_blocks_give_the_same_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
