/*
 * test_tcp_limits.c — what a remote peer can make the stack hold is bounded
 * (stack_config max_conns, max_time_wait, max_ooo_conn, max_ooo_total, the
 * SYN queue), and SYN cookies (RFC 4987 §3.6) keep a full SYN queue from
 * shutting real clients out. Each limit is hit here and its counter in
 * stack_stats checked; a wrong or stale cookie never makes a connection.
 */
#include "seq.h"
#include "tcptest.h"

/* The peer's SYN from port `pport`: the stack's answer (NULL if none). */
static const struct tt_pkt *syn_from(struct tt *t, uint16_t pport)
{
    t->pport = pport;
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *p = tt_next(t);
    if (p && p->tcp.flags == (TCP_SYN | TCP_ACK))
        t->iss = p->tcp.seq;
    return p;
}

static size_t count_cookie_segments(const struct tt *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ev_len; i++)
        if (t->ev[i]->kind == TEV_SEGMENT && t->ev[i]->u.seg.dir == TEV_OUT &&
            t->ev[i]->u.seg.cookie)
            n++;
    return n;
}

static struct tt *listener_with(int backlog, enum tcp_syncookies mode)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.syncookies = mode;
    struct tt *t = tt_new(&cfg);
    tt_do_listen(t, backlog);
    return t;
}

/* ---- SYN queue and SYN cookies ------------------------------------------------ */

/* auto (the default): SYNs beyond the SYN queue are answered with cookie
 * SYN,ACKs that keep no state; the queue and the blocks stay bounded. */
static void test_full_syn_queue_answers_with_cookies_and_keeps_no_state(void **state)
{
    struct tt *t = listener_with(2, TCP_SYNCOOKIES_AUTO);
    for (uint16_t i = 0; i < 10; i++) {
        const struct tt_pkt *p = syn_from(t, (uint16_t)(41000 + i));
        assert_non_null(p);
        assert_int_equal(p->tcp.flags, TCP_SYN | TCP_ACK);
        if (i >= 2) /* a cookie SYN,ACK offers no window scale: it could not be remembered */
            assert_false(p->tcp.opts.has_wscale);
    }
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.syn_queue, 2);
    assert_int_equal(ss.conns_active, 2);
    assert_int_equal(ss.cookies_sent, 8);
    assert_int_equal(ss.limit_syn_queue, 8);
    assert_int_equal(count_cookie_segments(t), 8);
    tt_free(t);
}

/* The ACK that echoes a cookie makes the connection: accept() returns it,
 * it is ESTABLISHED with the MSS the SYN asked for, and data flows. */
static void test_valid_cookie_ack_makes_an_established_connection(void **state)
{
    struct tt *t = listener_with(1, TCP_SYNCOOKIES_AUTO);
    assert_non_null(syn_from(t, 42000)); /* fills the SYN queue */
    const struct tt_pkt *p = syn_from(t, 42001);
    assert_non_null(p);
    assert_int_equal(tt_stats(t).cookies_sent, 1);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.cookies_ok, 1);
    assert_int_equal(ss.conns_active, 2);
    struct tcp_tuple tuple;
    int sd = tcp_accept(t->s, t->now, t->lsd, &tuple);
    assert_true(sd >= 0);
    assert_int_equal(tuple.rport, 42001);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, sd, &st), 0);
    assert_int_equal(st.state, TCP_ESTABLISHED);
    assert_int_equal(st.mss, 1460);
    assert_int_equal(st.iss, t->iss);
    tt_in(t, TCP_ACK | TCP_PSH, 1, 1, "hello");
    tt_expect(t, TCP_ACK, 1, 6, 0);
    char buf[16];
    assert_int_equal(tcp_recv(t->s, t->now, sd, buf, sizeof buf), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(tcp_send(t->s, t->now, sd, "back", 4), 4);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 6, 4);
    tt_free(t);
}

/* A wrong cookie is dropped with bad_cookie: no connection, no answer. */
static void test_wrong_cookie_is_dropped_and_makes_no_connection(void **state)
{
    struct tt *t = listener_with(1, TCP_SYNCOOKIES_AUTO);
    assert_non_null(syn_from(t, 43000));
    assert_non_null(syn_from(t, 43001)); /* a cookie: t->iss */
    uint64_t active = tt_stats(t).conns_active;
    size_t drops = tt_count_drops(t, TCP_DROP_BAD_COOKIE);
    tt_in(t, TCP_ACK, 1, 2, NULL); /* ACK = cookie + 2 */
    tt_expect_nothing(t);
    t->iss ^= 0x00010000; /* a cookie for another MSS / hash */
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    t->pport = 43002; /* an ACK from a port that never sent a SYN */
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    assert_int_equal(tt_count_drops(t, TCP_DROP_BAD_COOKIE), drops + 3);
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.cookies_bad, 3);
    assert_int_equal(ss.cookies_ok, 0);
    assert_int_equal(ss.conns_active, active);
    assert_int_equal(tcp_accept(t->s, t->now, t->lsd, NULL), -EAGAIN);
    tt_free(t);
}

/* A cookie is good for 64 to 128 s; an older one is stale: bad_cookie. */
static void test_stale_cookie_is_dropped(void **state)
{
    struct tt *t = listener_with(4, TCP_SYNCOOKIES_ALWAYS);
    assert_non_null(syn_from(t, 44000));
    tt_advance(t, 200 * 1000000ull);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    assert_int_equal(tt_count_drops(t, TCP_DROP_BAD_COOKIE), 1);
    assert_int_equal(tt_stats(t).conns_active, 0);
    /* while a fresh one works */
    assert_non_null(syn_from(t, 44001));
    tt_advance(t, 30 * 1000000ull);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    assert_int_equal(tt_stats(t).cookies_ok, 1);
    assert_true(tcp_accept(t->s, t->now, t->lsd, NULL) >= 0);
    tt_free(t);
}

/* RFC 4987 §3.6: a cookie SYN,ACK keeps no state, so nothing ever sends it
 * again. If the peer's final ACK is lost (bench/soak.sh lost a few at tl0's
 * full queue) and the server speaks first (daytime), the peer is ESTABLISHED
 * and silent and the stack knows nothing: the connection waits for the peer's
 * next segment. That one still acknowledges the cookie, so it makes the
 * connection — here the peer's FIN after its 10 s timeout, which the server's
 * answer then meets with a RST (the soak's "recv timeout" failures). */
static void test_rfc4987_lost_cookie_ack_waits_for_the_peers_next_segment(void **state)
{
    struct tt *t = listener_with(4, TCP_SYNCOOKIES_ALWAYS);
    assert_non_null(syn_from(t, 45000)); /* a cookie: t->iss */
    /* The final ACK is lost: 10 s on, no SYN,ACK again and nothing to accept. */
    tt_advance(t, 10 * 1000000ull);
    tt_expect_nothing(t);
    assert_int_equal(tt_stats(t).conns_active, 0);
    assert_int_equal(tcp_accept(t->s, t->now, t->lsd, NULL), -EAGAIN);
    /* The peer gives up: its FIN acknowledges the cookie and makes the
     * connection, already in CLOSE_WAIT. */
    tt_in(t, TCP_ACK | TCP_FIN, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 1, 2, 0);
    assert_int_equal(tt_stats(t).cookies_ok, 1);
    int sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(sd >= 0);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, sd, &st), 0);
    assert_int_equal(st.state, TCP_CLOSE_WAIT);
    assert_int_equal(st.iss, t->iss);
    /* The server's text goes to a peer that has closed: it answers RST. */
    assert_int_equal(tcp_send(t->s, t->now, sd, "day\r\n", 5), 5);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 2, 5);
    tt_in(t, TCP_RST, 2, 0, NULL);
    assert_int_equal(tcp_status(t->s, sd, &st), 0);
    assert_int_equal(st.state, TCP_CLOSED);
    tt_free(t);
}

/* always: every SYN gets a cookie, and not one block is made for it. */
static void test_always_mode_keeps_no_half_open_connection(void **state)
{
    struct tt *t = listener_with(8, TCP_SYNCOOKIES_ALWAYS);
    for (uint16_t i = 0; i < 5; i++)
        assert_non_null(syn_from(t, (uint16_t)(45000 + i)));
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.cookies_sent, 5);
    assert_int_equal(ss.conns_active, 0);
    assert_int_equal(ss.syn_queue, 0);
    tt_free(t);
}

/* never: a full SYN queue drops the SYN, and an ACK to the listener is the
 * RFC's bad ACK (a RST), not a cookie check. */
static void test_never_mode_drops_and_resets_stray_acks(void **state)
{
    struct tt *t = listener_with(1, TCP_SYNCOOKIES_NEVER);
    assert_non_null(syn_from(t, 46000));
    assert_null(syn_from(t, 46001));
    assert_int_equal(tt_count_drops(t, TCP_DROP_BACKLOG_FULL), 1);
    t->pport = 46002;
    tt_in(t, TCP_ACK, 1, 1, NULL);
    assert_int_equal(tt_next(t)->tcp.flags, TCP_RST);
    assert_int_equal(tt_count_drops(t, TCP_DROP_BAD_COOKIE), 0);
    assert_int_equal(tt_stats(t).cookies_sent, 0);
    tt_free(t);
}

/* ---- connections, TIME_WAIT, out-of-order data ------------------------------------ */

static void test_max_conns_drops_syns_beyond_it(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.max_conns = 3;
    struct tt *t = tt_new(&cfg);
    tt_do_listen(t, 16);
    unsigned answered = 0;
    for (uint16_t i = 0; i < 5; i++)
        answered += syn_from(t, (uint16_t)(47000 + i)) != NULL;
    assert_int_equal(answered, 3);
    assert_int_equal(tt_count_drops(t, TCP_DROP_CONN_LIMIT), 2);
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.limit_conns, 2);
    assert_int_equal(ss.conns_active, 3);
    tt_free(t);
}

/* An established passive connection from `pport`; returns its descriptor. */
static int established_from(struct tt *t, uint16_t pport)
{
    assert_non_null(syn_from(t, pport));
    tt_in(t, TCP_ACK, 1, 1, NULL);
    int sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(sd >= 0);
    return sd;
}

static void send_at(struct tt *t, uint16_t pport, uint32_t rseq, size_t len)
{
    static uint8_t data[4096];
    t->pport = pport;
    tt_in_data(t, rseq, 1, data, len);
    tt_drain(t);
}

static void test_out_of_order_bytes_are_bounded_per_connection(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.max_ooo_conn = 1000;
    struct tt *t = tt_new(&cfg);
    tt_do_listen(t, 16);
    int sd = established_from(t, 49000);
    uint32_t iss = t->iss;
    send_at(t, 49000, 101, 800); /* a hole of 100 bytes, 800 held */
    assert_int_equal(tt_stats(t).ooo_bytes, 800);
    size_t drops = tt_count_drops(t, TCP_DROP_OOO_LIMIT);
    t->iss = iss;
    send_at(t, 49000, 1001, 300); /* would hold 1100 */
    assert_int_equal(tt_count_drops(t, TCP_DROP_OOO_LIMIT), drops + 1);
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.ooo_bytes, 800);
    assert_int_equal(ss.limit_ooo, 1);
    send_at(t, 49000, 1, 100); /* the hole filled: everything is in order */
    assert_int_equal(tt_stats(t).ooo_bytes, 0);
    char buf[2048];
    assert_int_equal(tcp_recv(t->s, t->now, sd, buf, sizeof buf), 900);
    tt_free(t);
}

static void test_out_of_order_bytes_are_bounded_in_total(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.max_ooo_total = 1500;
    struct tt *t = tt_new(&cfg);
    tt_do_listen(t, 16);
    established_from(t, 49100);
    uint32_t iss_a = t->iss;
    int b = established_from(t, 49101);
    uint32_t iss_b = t->iss;
    t->iss = iss_a;
    send_at(t, 49100, 11, 1000);
    t->iss = iss_b;
    send_at(t, 49101, 11, 800); /* 1800 in total: dropped */
    assert_int_equal(tt_count_drops(t, TCP_DROP_OOO_LIMIT), 1);
    t->iss = iss_b;
    send_at(t, 49101, 11, 500); /* 1500: fine */
    assert_int_equal(tt_stats(t).ooo_bytes, 1500);
    /* closing a connection gives its share back */
    assert_int_equal(tcp_abort(t->s, t->now, b), 0);
    assert_int_equal(tt_stats(t).ooo_bytes, 1000);
    tt_free(t);
}

/* ---- memory: the ring budget, the accounting ------------------------------------------ */

/* An allocator that counts what it hands out (cfg.allocator). */
struct counting {
    size_t live_bytes, live_blocks, allocs;
};

static void *counting_alloc(void *ctx, size_t size, enum stack_mem_kind kind)
{
    struct counting *m = ctx;
    (void)kind;
    m->live_bytes += size;
    m->live_blocks++;
    m->allocs++;
    return calloc(1, size);
}

static void counting_free(void *ctx, void *p, size_t size, enum stack_mem_kind kind)
{
    struct counting *m = ctx;
    (void)kind;
    m->live_bytes -= size;
    m->live_blocks--;
    free(p);
}

static void count_with(struct stack_config *cfg, struct counting *m)
{
    *m = (struct counting){0};
    cfg->allocator =
        (struct stack_allocator){.alloc = counting_alloc, .free = counting_free, .ctx = m};
}

/* A listener (backlog 16 unless `backlog`) on a default stack whose every
 * block is counted in *m. */
static struct tt *counted_listener(struct stack_config *cfg, struct counting *m, int backlog)
{
    tt_config(cfg);
    count_with(cfg, m);
    struct tt *t = tt_new(cfg);
    tt_do_listen(t, backlog);
    return t;
}

/* The next segment of a flood: seq and ack from a fixed pseudo-random
 * sequence (*x its state), absolute, ports and flags left to the caller. */
static struct tt_seg flood_seg(uint32_t *x)
{
    *x = *x * 1103515245u + 12345u;
    return (struct tt_seg){.absolute = true, .seq = *x, .ack = *x * 7u};
}

/* Three 4 KB rings fit in a 12 KB budget; a fourth connection's data finds
 * no ring: dropped as mem_limit, nothing acknowledged, counted. When one
 * connection goes its ring is given back and the retransmission gets in. */
static void test_rings_of_all_connections_stay_within_max_ring_total(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rcvbuf = cfg.sndbuf = 4096;
    cfg.max_ring_total = 3 * 4096;
    struct tt *t = tt_new(&cfg);
    tt_do_listen(t, 16);
    int sd[4];
    uint32_t iss[4];
    for (int i = 0; i < 4; i++) {
        sd[i] = established_from(t, (uint16_t)(49200 + i));
        iss[i] = t->iss;
    }
    for (int i = 0; i < 3; i++) {
        t->iss = iss[i];
        send_at(t, (uint16_t)(49200 + i), 1, 100);
    }
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.ring_bytes, 3 * 4096);
    assert_int_equal(ss.limit_ring, 0);

    t->iss = iss[3];
    send_at(t, 49203, 1, 100);
    ss = tt_stats(t);
    assert_int_equal(tt_count_drops(t, TCP_DROP_MEM_LIMIT), 1);
    assert_int_equal(ss.limit_ring, 1);
    assert_int_equal(ss.ring_bytes, 3 * 4096);
    char buf[256];
    assert_int_equal(tcp_recv(t->s, t->now, sd[3], buf, sizeof buf), -EAGAIN);
    /* the application cannot get past it either */
    assert_int_equal(tcp_send(t->s, t->now, sd[3], "x", 1), -ENOBUFS);

    assert_int_equal(tcp_abort(t->s, t->now, sd[0]), 0);
    assert_int_equal(tt_stats(t).ring_bytes, 2 * 4096);
    t->iss = iss[3];
    send_at(t, 49203, 1, 100); /* the peer retransmits */
    assert_int_equal(tcp_recv(t->s, t->now, sd[3], buf, sizeof buf), 100);
    assert_int_equal(tt_stats(t).ring_bytes, 3 * 4096);
    tt_free(t);
}

/* stack_stats' memory figures are what went through cfg.allocator, and
 * stack_free() gives every block back. */
static void test_memory_counted_is_what_the_allocator_handed_out(void **state)
{
    struct stack_config cfg;
    struct counting m;
    struct tt *t = counted_listener(&cfg, &m, 16);
    for (int i = 0; i < 40; i++) { /* past the first sizes of every table */
        established_from(t, (uint16_t)(49300 + i));
        send_at(t, (uint16_t)(49300 + i), 1, 200);
    }
    struct stack_stats ss = tt_stats(t);
    assert_int_equal(ss.mem_bytes, m.live_bytes);
    assert_true(ss.mem_peak >= ss.mem_bytes);
    assert_int_equal(ss.ring_bytes, 40 * (uint64_t)cfg.rcvbuf);
    stack_free(t->s);
    t->s = NULL;
    assert_int_equal(m.live_blocks, 0);
    assert_int_equal(m.live_bytes, 0);
    tt_free(t);
}

/* ---- floods cost bounded work ------------------------------------------------------ */

/* RSTs and ACKs to random 4-tuples, fragments, and ACKs with random cookies
 * at a listener: each is dropped (or, for an ACK with no listener, answered
 * by exactly one RST) and not one block is made. */
static void test_floods_of_rsts_acks_and_fragments_make_nothing(void **state)
{
    struct stack_config cfg;
    struct counting m;
    struct tt *t = counted_listener(&cfg, &m, 1);
    assert_non_null(syn_from(t, 50100));
    assert_non_null(syn_from(t, 50101)); /* a cookie: the listener now checks ACKs */
    struct stack_stats before = tt_stats(t);
    size_t allocs = m.allocs, events = t->ev_len;
    uint32_t x = 12345;
    uint8_t pkt[128];
    for (int i = 0; i < 3000; i++) {
        struct tt_seg seg = flood_seg(&x);
        seg.sport = (uint16_t)(1024 + (x >> 16) % 60000);
        seg.dport = (uint16_t)(i % 3 == 2 ? 80 : 1 + (x >> 8) % 79);
        seg.flags = i % 3 == 0 ? TCP_RST : TCP_ACK;
        size_t n = tt_build(t, &seg, pkt, sizeof pkt);
        if (i % 5 == 4) { /* a fragment: MF set, header checksum made good again */
            pkt[6] |= 0x20;
            pkt[10] = pkt[11] = 0;
            uint16_t c = wire_sum_fold(wire_sum(pkt, 20, 0));
            pkt[10] = (uint8_t)(c >> 8);
            pkt[11] = (uint8_t)c;
        }
        tt_input_raw(t, pkt, n);
        tt_drain(t);
    }
    struct stack_stats after = tt_stats(t);
    assert_int_equal(after.conns_active, before.conns_active);
    assert_int_equal(after.cookies_ok, 0);
    assert_true(after.cookies_bad > 0);
    assert_int_equal(after.pkts_in - before.pkts_in, 3000);
    /* at most one answer per packet: RSTs to ACKs for closed ports */
    assert_true(after.pkts_out - before.pkts_out <= 1000);
    assert_true(after.drops_by_reason[STACK_DROP_INDEX(WIRE_ERR_FRAGMENT)] >= 600);
    /* bounded work: not one allocation, at most two events (a drop, or a
     * segment in and a RST out) per packet */
    assert_int_equal(m.allocs, allocs);
    assert_int_equal(after.mem_bytes, before.mem_bytes);
    assert_true(t->ev_len - events <= 2 * 3000);
    tt_free(t);
}

/* The same floods aimed at a live connection's 4-tuple (random sequence
 * numbers): RSTs are dropped or challenged, ACKs answered at most at the
 * RFC 5961 rate limits; nothing is allocated and the connection survives. */
static void test_floods_at_a_live_connection_allocate_nothing(void **state)
{
    struct stack_config cfg;
    struct counting m;
    struct tt *t = counted_listener(&cfg, &m, 16);
    int sd = established_from(t, 50200);
    send_at(t, 50200, 1, 100); /* its receive ring exists */
    struct stack_stats before = tt_stats(t);
    size_t allocs = m.allocs, events = t->ev_len;
    uint32_t x = 777;
    uint8_t pkt[128];
    for (int i = 0; i < 3000; i++) {
        struct tt_seg seg = flood_seg(&x);
        seg.sport = 50200;
        seg.dport = 80;
        seg.flags = i % 2 ? TCP_RST : TCP_ACK;
        if (seq_geq(seg.seq, t->peer_isn) && seq_lt(seg.seq, t->peer_isn + 70000))
            seg.seq += 0x40000000u; /* never the exact RST that may close it */
        size_t n = tt_build(t, &seg, pkt, sizeof pkt);
        tt_input_raw(t, pkt, n);
        tt_drain(t);
    }
    struct stack_stats after = tt_stats(t);
    assert_int_equal(m.allocs, allocs);
    assert_int_equal(after.mem_bytes, before.mem_bytes);
    assert_true(after.pkts_out - before.pkts_out <= 3000);
    assert_true(t->ev_len - events <= 3 * 3000);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, sd, &st), 0);
    assert_int_equal(st.state, TCP_ESTABLISHED);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_syn_queue_answers_with_cookies_and_keeps_no_state),
        cmocka_unit_test(test_valid_cookie_ack_makes_an_established_connection),
        cmocka_unit_test(test_wrong_cookie_is_dropped_and_makes_no_connection),
        cmocka_unit_test(test_stale_cookie_is_dropped),
        cmocka_unit_test(test_rfc4987_lost_cookie_ack_waits_for_the_peers_next_segment),
        cmocka_unit_test(test_always_mode_keeps_no_half_open_connection),
        cmocka_unit_test(test_never_mode_drops_and_resets_stray_acks),
        cmocka_unit_test(test_max_conns_drops_syns_beyond_it),
        cmocka_unit_test(test_out_of_order_bytes_are_bounded_per_connection),
        cmocka_unit_test(test_out_of_order_bytes_are_bounded_in_total),
        cmocka_unit_test(test_rings_of_all_connections_stay_within_max_ring_total),
        cmocka_unit_test(test_memory_counted_is_what_the_allocator_handed_out),
        cmocka_unit_test(test_floods_of_rsts_acks_and_fragments_make_nothing),
        cmocka_unit_test(test_floods_at_a_live_connection_allocate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
