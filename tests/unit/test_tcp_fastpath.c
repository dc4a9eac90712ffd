/*
 * test_tcp_fastpath.c — the receive fast path (header prediction,
 * docs/engine.md "The receive fast path") and the bare ACKs made from a
 * per-connection template (tcp_out.c) change no behaviour.
 *
 * The proof is a comparison: two stacks with the same configuration, one
 * with stack_config.no_fast_path, are fed the same long random mix of
 * segments — in order, out of order, duplicates, old timestamps (PAWS),
 * window changes, pure ACKs, a ring that fills because the application
 * stops reading, delayed-ACK timeouts, a TTL and Diffserv byte changed
 * half-way (the template is rebuilt) — and must send the same bytes and
 * report the same events, and the application must read the same stream.
 * Then the rules the fast path must still apply are checked on it directly.
 */
#include "tcptest.h"

#define PEER_TS 5000u

/* An active open with timestamps and SACK agreed (both SYNs carry them). */
static struct tt *established_ts_sack(const struct stack_config *cfg)
{
    struct tt *t = tt_new(cfg);
    tt_do_connect(t);
    const struct tev *syn = tt_last_event(t, TEV_SEGMENT);
    assert_non_null(syn);
    assert_true(syn->u.seg.tcp.opts.has_ts);
    struct tt_seg synack = {.flags = TCP_SYN | TCP_ACK,
                            .seq = 0,
                            .ack = 1,
                            .opts = {.has_mss = true,
                                     .mss = 1460,
                                     .sack_permitted = true,
                                     .has_ts = true,
                                     .ts_val = PEER_TS,
                                     .ts_ecr = syn->u.seg.tcp.opts.ts_val}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    return t;
}

static void expect_same_event(const struct tev *a, const struct tev *b, size_t i)
{
    if (a->kind != b->kind || a->t_us != b->t_us)
        fail_msg("event %zu: kind %d at %llu vs kind %d at %llu", i, a->kind,
                 (unsigned long long)a->t_us, b->kind, (unsigned long long)b->t_us);
    switch (a->kind) {
    case TEV_SEGMENT:
        if (a->u.seg.dir != b->u.seg.dir || a->u.seg.raw_len != b->u.seg.raw_len ||
            memcmp(a->u.seg.raw, b->u.seg.raw, a->u.seg.raw_len) != 0)
            fail_msg("event %zu: segments differ", i);
        break;
    case TEV_STATE:
        if (a->u.state.from != b->u.state.from || a->u.state.to != b->u.state.to)
            fail_msg("event %zu: state changes differ", i);
        break;
    case TEV_TIMER:
        if (a->u.timer.which != b->u.timer.which || a->u.timer.action != b->u.timer.action ||
            a->u.timer.deadline_us != b->u.timer.deadline_us)
            fail_msg("event %zu: timer events differ", i);
        break;
    case TEV_DROP:
        if (a->u.drop.reason != b->u.drop.reason)
            fail_msg("event %zu: drop reasons %d vs %d", i, a->u.drop.reason, b->u.drop.reason);
        break;
    default:
        break;
    }
}

static void expect_same_status(const struct tt *a, const struct tt *b, int step)
{
    struct tcp_status x = tt_status(a), y = tt_status(b);
    if (x.state != y.state || x.snd_una != y.snd_una || x.snd_nxt != y.snd_nxt ||
        x.snd_wnd != y.snd_wnd || x.rcv_nxt != y.rcv_nxt || x.rcv_wnd != y.rcv_wnd ||
        x.recv_queue != y.recv_queue || x.cwnd != y.cwnd || x.ssthresh != y.ssthresh ||
        x.backoff != y.backoff)
        fail_msg("step %d: the connections' status differs", step);
}

/* Read up to `max` bytes from both; they must get the same bytes. */
static size_t read_both(struct tt *a, struct tt *b, size_t max)
{
    static uint8_t ba[70000], bb[70000];
    ssize_t na = tcp_recv(a->s, a->now, a->sd, ba, max);
    ssize_t nb = tcp_recv(b->s, b->now, b->sd, bb, max);
    assert_int_equal(na, nb);
    if (na > 0)
        assert_memory_equal(ba, bb, (size_t)na);
    return na > 0 ? (size_t)na : 0;
}

static void run_twins(bool timestamps, bool delayed_ack, unsigned seed)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.timestamps = timestamps;
    cfg.delayed_ack = delayed_ack;
    cfg.rcvbuf = 16384; /* small: the ring fills when the reader stops */
    struct stack_config slow = cfg;
    slow.no_fast_path = true;
    struct tt *a = timestamps ? established_ts_sack(&cfg) : tt_established(&cfg);
    struct tt *b = timestamps ? established_ts_sack(&slow) : tt_established(&slow);

    srand(seed);
    static uint8_t data[1460];
    uint32_t next = 1;     /* the peer's next new byte, relative */
    uint32_t ts = PEER_TS; /* the peer's clock */
    bool reading = true;
    uint32_t acked = 0; /* the stack's bytes the peer has acknowledged */
    for (int step = 0; step < 4000; step++) {
        int r = rand() % 100;
        uint32_t len = 1 + (uint32_t)rand() % 1460;
        for (uint32_t i = 0; i < len; i++)
            data[i] = tt_pattern(next - 1 + i);
        struct tt_seg seg = {
            .flags = TCP_ACK | TCP_PSH, .seq = next, .ack = 1, .data = data, .len = len};
        if (timestamps)
            seg.opts = (struct wire_tcp_opts){.has_ts = true, .ts_val = ++ts, .ts_ecr = 0};
        if (r < 55) { /* the next bytes in order */
            if (r < 10)
                seg.flags = TCP_ACK;
            next += len;
        } else if (r < 62) { /* ahead of a hole; filled later by the in-order ones */
            seg.seq = next + len * (1 + (uint32_t)rand() % 3);
            for (uint32_t i = 0; i < len; i++)
                data[i] = tt_pattern(seg.seq - 1 + i);
        } else if (r < 68 && next > len + 1) { /* an old duplicate */
            seg.seq = next - len;
            for (uint32_t i = 0; i < len; i++)
                data[i] = tt_pattern(seg.seq - 1 + i);
        } else if (r < 72 && timestamps) { /* in order, but an old TSval: PAWS */
            seg.opts.ts_val = ts - 100;
        } else if (r < 77) { /* the next bytes, with another window */
            seg.win = (uint16_t)(1000 + rand() % 64535);
            next += len;
        } else if (r < 80) { /* a pure ACK */
            seg.data = NULL;
            seg.len = 0;
        } else if (r < 90) {
            if (rand() % 4 == 0)
                reading = !reading;
            if (reading)
                read_both(a, b, 1 + (size_t)rand() % 20000);
            continue;
        } else {
            uint64_t us = (uint64_t)(rand() % 60000);
            tt_advance(a, us);
            tt_advance(b, us);
            continue;
        }
        if (step == 2000) { /* IP_TTL, IP_TOS: the ACKs' IPv4 header changes */
            assert_int_equal(tcp_setsockopt(a->s, a->now, a->sd, TCP_OPT_TTL, 33), 0);
            assert_int_equal(tcp_setsockopt(b->s, b->now, b->sd, TCP_OPT_TTL, 33), 0);
            assert_int_equal(tcp_setsockopt(a->s, a->now, a->sd, TCP_OPT_TOS, 0x28), 0);
            assert_int_equal(tcp_setsockopt(b->s, b->now, b->sd, TCP_OPT_TOS, 0x28), 0);
        }
        if (rand() % 8 == 0) { /* the application sends too, the peer ACKs some of it */
            size_t n = (size_t)rand() % 3000;
            static uint8_t out[3000];
            assert_int_equal(tcp_send(a->s, a->now, a->sd, out, n),
                             tcp_send(b->s, b->now, b->sd, out, n));
        }
        uint32_t sent = tt_status(a).snd_nxt - (a->iss + 1);
        if (sent > acked && rand() % 3 == 0)
            acked += 1 + (uint32_t)rand() % (sent - acked);
        seg.ack = 1 + acked;
        tt_in_seg(a, &seg);
        tt_in_seg(b, &seg);
        expect_same_status(a, b, step);
        if (next - 1 > 2000000)
            break;
    }
    while (read_both(a, b, sizeof(uint8_t[65536])) > 0)
        ;
    tt_in(a, TCP_FIN | TCP_ACK, next, 1, NULL);
    tt_in(b, TCP_FIN | TCP_ACK, next, 1, NULL);
    tt_advance(a, 1000000);
    tt_advance(b, 1000000);

    assert_int_equal(a->out_len, b->out_len);
    for (size_t i = 0; i < a->out_len; i++)
        if (a->out[i].len != b->out[i].len || a->out[i].t_us != b->out[i].t_us ||
            memcmp(a->out[i].raw, b->out[i].raw, a->out[i].len) != 0)
            fail_msg("packet %zu sent differs", i);
    assert_int_equal(a->ev_len, b->ev_len);
    for (size_t i = 0; i < a->ev_len; i++)
        expect_same_event(a->ev[i], b->ev[i], i);
    struct tcp_status sa = tt_status(a), sb = tt_status(b);
    assert_int_equal(sa.state, sb.state);
    assert_int_equal(sa.rcv_nxt, sb.rcv_nxt);
    /* the comparison means something only if the mix really was mixed */
    assert_true(tt_count_drops(a, TCP_DROP_UNACCEPTABLE) > 0);
    if (timestamps)
        assert_true(tt_count_drops(a, TCP_DROP_PAWS) > 0);
    assert_true(a->out_len > 1000);
    tt_free(a);
    tt_free(b);
}

static void test_fast_path_sends_and_reports_exactly_what_the_full_steps_do(void **state)
{
    run_twins(false, false, 1);
    run_twins(false, true, 2);
}

static void test_fast_path_with_timestamps_and_sack_matches_the_full_steps(void **state)
{
    run_twins(true, true, 3);
    run_twins(true, false, 4);
}

/* RFC 7323 §5.3 R1 on a segment that is otherwise exactly the predicted
 * one: in order, only ACK and PSH, nothing new acknowledged. */
static void test_rfc7323_paws_drops_old_in_order_segment_on_the_fast_path(void **state)
{
    struct tt *t = established_ts_sack(NULL);
    struct tt_seg seg = {.flags = TCP_ACK | TCP_PSH,
                         .seq = 1,
                         .ack = 1,
                         .data = "hello",
                         .len = 5,
                         .opts = {.has_ts = true, .ts_val = PEER_TS + 1}};
    tt_in_seg(t, &seg);
    tt_expect(t, TCP_ACK, 1, 6, 0);
    seg.seq = 6;
    seg.data = "world";
    seg.opts.ts_val = PEER_TS - 1; /* older than TS.Recent */
    size_t drops = t->ev_len;
    tt_in_seg(t, &seg);
    assert_int_equal(tt_last_drop_reason(t, drops), TCP_DROP_PAWS);
    tt_expect(t, TCP_ACK, 1, 6, 0); /* "send an acknowledgment in reply" */
    assert_int_equal(tt_status(t).recv_queue, 5);
    tt_free(t);
}

/* RFC 9293 §3.10.7.4 fifth step: the window of a predicted segment updates
 * SND.WND (SND.WL1 < SEG.SEQ), and the stack's next send respects it. */
static void test_window_in_a_predicted_segment_updates_snd_wnd(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.nagle = false;
    struct tt *t = tt_established(&cfg);
    tt_in_data(t, 1, 1, NULL, 3); /* the receive ring exists from now on */
    tt_expect(t, TCP_ACK, 1, 4, 0);
    struct tt_seg seg = {
        .flags = TCP_ACK | TCP_PSH, .seq = 4, .ack = 1, .data = "abc", .len = 3, .win = 2000};
    tt_in_seg(t, &seg);
    tt_expect(t, TCP_ACK, 1, 7, 0);
    assert_int_equal(tt_status(t).snd_wnd, 2000);
    static uint8_t big[4000];
    assert_int_equal(tcp_send(t->s, t->now, t->sd, big, sizeof big), (ssize_t)sizeof big);
    tt_expect(t, TCP_ACK, 1, 7, 1460);
    tt_expect_nothing(t); /* 540 more would fit, but SWS avoidance waits (MUST-38) */
    tt_free(t);
}

/* A segment of exactly the predicted shape with one payload bit flipped is
 * still dropped as bad_checksum before any step: nothing delivered, nothing
 * sent, the ring as it was; the intact segment then goes through. */
static void test_bad_checksum_on_a_predicted_segment_is_dropped_and_leaves_the_ring(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in_data(t, 1, 1, NULL, 100); /* the receive ring exists from now on */
    tt_expect(t, TCP_ACK, 1, 101, 0);
    static uint8_t text[1460], pkt[1600];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = tt_pattern(100 + i);
    struct tt_seg seg = {
        .flags = TCP_ACK | TCP_PSH, .seq = 101, .ack = 1, .data = text, .len = sizeof text};
    size_t n = tt_build(t, &seg, pkt, sizeof pkt);
    pkt[n - 700] ^= 0x04;
    size_t from = t->ev_len;
    tt_input_raw(t, pkt, n);
    assert_int_equal(tt_last_drop_reason(t, from), WIRE_ERR_BAD_CHECKSUM);
    tt_expect_nothing(t);
    assert_int_equal(tt_status(t).recv_queue, 100);
    pkt[n - 700] ^= 0x04;
    tt_input_raw(t, pkt, n);
    tt_expect(t, TCP_ACK, 1, 1561, 0);
    uint8_t got[1560];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, got, sizeof got), (ssize_t)sizeof got);
    for (size_t i = 0; i < sizeof got; i++)
        if (got[i] != tt_pattern(i))
            fail_msg("byte %zu of the stream is wrong", i);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_path_sends_and_reports_exactly_what_the_full_steps_do),
        cmocka_unit_test(test_fast_path_with_timestamps_and_sack_matches_the_full_steps),
        cmocka_unit_test(test_rfc7323_paws_drops_old_in_order_segment_on_the_fast_path),
        cmocka_unit_test(test_window_in_a_predicted_segment_updates_snd_wnd),
        cmocka_unit_test(test_bad_checksum_on_a_predicted_segment_is_dropped_and_leaves_the_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
