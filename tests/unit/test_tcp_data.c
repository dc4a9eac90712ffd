/*
 * test_tcp_data.c — data transfer in ESTABLISHED (RFC 9293 §3.8, §3.10.7.4
 * "seventh, process the segment text"): in-order delivery, out-of-order
 * segments held and reassembled, duplicates delivered once, the receive
 * window, Nagle's algorithm (RFC 1122 §4.2.3.4) on and off, and the errors
 * the socket calls return. The peer's ISN sits just below 2^32, so every
 * stream here crosses the wrap of the sequence space.
 */
#include "tcptest.h"

/* Read everything available and check it is the pattern from offset `from`. */
static size_t recv_and_check_pattern(struct tt *t, size_t from, size_t want)
{
    uint8_t buf[8192];
    size_t got = 0;
    for (;;) {
        ssize_t n = tcp_recv(t->s, t->now, t->sd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != tt_pattern(from + got + (size_t)i))
                tt_fail_at(__FILE__, __LINE__, "byte %zu of the stream is wrong",
                           from + got + (size_t)i);
        got += (size_t)n;
    }
    assert_int_equal(got, want);
    return got;
}

static void test_in_order_data_is_delivered_and_acked(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect(t, TCP_ACK, 1, 101, 0);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLIN);
    assert_int_equal(tt_status(t).recv_queue, 100);
    recv_and_check_pattern(t, 0, 100);
    assert_int_equal(tt_status(t).recv_queue, 0);
    char c;
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, &c, 1), -EAGAIN);
    tt_free(t);
}

/* RFC 9293 §3.10.7.4: segments beyond RCV.NXT are held (not delivered) and
 * delivered in order once the gap is filled; each out-of-order arrival is
 * answered with an ACK of RCV.NXT. */
static void test_out_of_order_segments_are_held_and_reassembled(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in_data(t, 1001, 1, NULL, 500); /* third piece */
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_in_data(t, 501, 1, NULL, 500); /* second piece */
    tt_expect(t, TCP_ACK, 1, 1, 0);
    char c;
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, &c, 1), -EAGAIN);
    tt_in_data(t, 1, 1, NULL, 500); /* the gap is filled: everything at once */
    tt_expect(t, TCP_ACK, 1, 1501, 0);
    recv_and_check_pattern(t, 0, 1500);
    tt_free(t);
}

/* Out-of-order pieces that overlap each other and the in-order data. */
static void test_overlapping_out_of_order_segments_reassemble_exactly(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in_data(t, 301, 1, NULL, 300); /* 300..599 */
    tt_in_data(t, 201, 1, NULL, 200); /* 200..399, overlaps */
    tt_in_data(t, 551, 1, NULL, 100); /* 550..649, overlaps */
    tt_drain(t);
    tt_in_data(t, 1, 1, NULL, 250); /* 0..249 */
    tt_expect(t, TCP_ACK, 1, 651, 0);
    recv_and_check_pattern(t, 0, 650);
    tt_free(t);
}

/* Out-of-order pieces that touch end to end are one range, whichever
 * order they come in: nine of them after a hole must all be held (the
 * assembler's limit is on separate ranges, docs/engine.md), and filling
 * the hole delivers all ten. */
static void test_touching_out_of_order_segments_are_held_as_one_range(void **state)
{
    for (int descending = 0; descending < 2; descending++) {
        struct tt *t = tt_established(NULL);
        for (int i = 0; i < 9; i++) {
            int k = descending ? 9 - i : 1 + i; /* pieces 1..9 of 100 bytes */
            tt_in_data(t, 1 + 100 * (uint32_t)k, 1, NULL, 100);
            tt_expect(t, TCP_ACK, 1, 1, 0);
        }
        tt_in_data(t, 1, 1, NULL, 100);
        tt_expect(t, TCP_ACK, 1, 1001, 0);
        recv_and_check_pattern(t, 0, 1000);
        tt_free(t);
    }
}

/* A held range grown by an overlapping piece keeps its far end: the piece
 * [100,299) against the held [200,300) makes [100,300), and filling the
 * hole acknowledges all 300 bytes. */
static void test_overlap_extending_a_held_range_keeps_its_end(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in_data(t, 201, 1, NULL, 100); /* [200,300) */
    tt_in_data(t, 101, 1, NULL, 199); /* [100,299) */
    tt_drain(t);
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect(t, TCP_ACK, 1, 301, 0);
    recv_and_check_pattern(t, 0, 300);
    tt_free(t);
}

/* A retransmitted segment whose data was already received is acknowledged
 * (RFC 9293 §3.10.7.4: unacceptable segment -> ACK) and not delivered again. */
static void test_duplicate_segment_data_is_not_delivered_twice(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect(t, TCP_ACK, 1, 101, 0);
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect(t, TCP_ACK, 1, 101, 0);
    tt_in_data(t, 51, 1, NULL, 100); /* half old, half new */
    tt_expect(t, TCP_ACK, 1, 151, 0);
    recv_and_check_pattern(t, 0, 150);
    tt_free(t);
}

/* Sent data stays queued until acknowledged; a partial ACK frees part. */
static void test_sent_data_is_queued_until_acknowledged(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "0123456789", 10), 10);
    tt_expect(t, TCP_ACK, 1, 1, 10);
    assert_int_equal(tt_status(t).send_queue, 10);
    tt_in(t, TCP_ACK, 1, 5, NULL);
    assert_int_equal(tt_status(t).send_queue, 6);
    assert_int_equal(tt_status(t).snd_una, t->iss + 5);
    tt_in(t, TCP_ACK, 1, 11, NULL);
    assert_int_equal(tt_status(t).send_queue, 0);
    tt_expect_nothing(t);
    tt_free(t);
}

/* The sent bytes are the bytes given to send(). */
static void test_sent_segment_carries_the_application_bytes(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "hello, world", 12), 12);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 1, 12);
    assert_memory_equal(p->tcp.payload, "hello, world", 12);
    tt_free(t);
}

/* The window we advertise never exceeds the free receive buffer. */
static void test_advertised_window_shrinks_with_unread_data(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rcvbuf = 4096;
    struct tt *t = tt_established(&cfg);
    tt_in_data(t, 1, 1, NULL, 1000);
    const struct tt_pkt *ack = tt_expect(t, TCP_ACK, 1, 1001, 0);
    assert_true(ack->tcp.win <= 4096 - 1000);
    tt_in_data(t, 1001, 1, NULL, 3096);
    ack = tt_expect(t, TCP_ACK, 1, 4097, 0);
    assert_int_equal(ack->tcp.win, 0);
    /* text beyond the window is not accepted */
    tt_in_data(t, 4097, 1, NULL, 100);
    tt_expect(t, TCP_ACK, 1, 4097, 0);
    recv_and_check_pattern(t, 0, 4096);
    tt_free(t);
}

/* Reading a full buffer reopens the window with a window update. */
static void test_reading_a_full_buffer_sends_a_window_update(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rcvbuf = 4096;
    struct tt *t = tt_established(&cfg);
    tt_in_data(t, 1, 1, NULL, 4096);
    const struct tt_pkt *ack = tt_expect(t, TCP_ACK, 1, 4097, 0);
    assert_int_equal(ack->tcp.win, 0);
    recv_and_check_pattern(t, 0, 4096);
    const struct tt_pkt *upd = tt_expect(t, TCP_ACK, 1, 4097, 0);
    assert_true(upd->tcp.win >= 2048);
    tt_free(t);
}

/* Nagle (RFC 1122 §4.2.3.4): while data is unacknowledged, small segments
 * are held and coalesced until the ACK comes. */
static void test_nagle_holds_small_segments_while_data_is_unacknowledged(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_true(stack_config(t->s)->nagle);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "a", 1), 1);
    tt_expect(t, TCP_ACK, 1, 1, 1);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "b", 1), 1);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "c", 1), 1);
    tt_expect_nothing(t);
    tt_in(t, TCP_ACK, 1, 2, NULL);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 2, 1, 2);
    assert_memory_equal(p->tcp.payload, "bc", 2);
    tt_free(t);
}

static void test_nodelay_sends_small_segments_at_once(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "a", 1), 1);
    tt_expect(t, TCP_ACK, 1, 1, 1);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "b", 1), 1);
    tt_expect(t, TCP_ACK, 2, 1, 1);
    tt_free(t);
}

/* Nagle never holds back a full-sized segment. */
static void test_nagle_sends_full_sized_segments(void **state)
{
    struct tt *t = tt_established(NULL);
    static char buf[2 * 1460 + 10];
    memset(buf, 'z', sizeof buf);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, sizeof buf), (ssize_t)sizeof buf);
    tt_expect(t, TCP_ACK, 1, 1, 1460);
    tt_expect(t, TCP_ACK, 1461, 1, 1460);
    tt_expect_nothing(t); /* the 10-byte tail waits for an ACK */
    tt_in(t, TCP_ACK, 1, 2921, NULL);
    tt_expect(t, TCP_ACK, 2921, 1, 10);
    tt_free(t);
}

/* The send window limits what is in flight: a two-segment peer window lets
 * two segments out, the rest after the ACK. */
static void test_sender_respects_the_peer_window(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    tt_in_win(t, TCP_ACK, 1, 1, 2920);
    static char buf[5000];
    memset(buf, 'w', sizeof buf);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, sizeof buf), 5000);
    tt_expect(t, TCP_ACK, 1, 1, 1460);
    tt_expect(t, TCP_ACK, 1461, 1, 1460);
    tt_expect_nothing(t);
    tt_in_win(t, TCP_ACK, 1, 2921, 2920);
    tt_expect(t, TCP_ACK, 2921, 1, 1460);
    tt_expect(t, TCP_ACK, 4381, 1, 620);
    tt_expect_nothing(t);
    tt_free(t);
}

/* RFC 9293 §3.4 acceptability test: a segment starting at RCV.NXT+RCV.WND
 * lies just outside the window. It is not acceptable: an ACK is sent and
 * the whole segment is dropped — its ACK field too (§3.10.7.4, first). */
static void test_segment_starting_at_the_right_window_edge_is_unacceptable(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rcvbuf = 4096;
    struct tt *t = tt_established(&cfg);
    assert_int_equal(tt_status(t).rcv_wnd, 4096);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "abc", 3), 3);
    tt_expect(t, TCP_ACK, 1, 1, 3);
    size_t mark = t->ev_len;
    tt_in_data(t, 1 + 4096, 4, NULL, 10);
    tt_expect(t, TCP_ACK, 4, 1, 0);
    assert_int_equal(tt_last_drop_reason(t, mark), TCP_DROP_UNACCEPTABLE);
    assert_int_equal(tt_status(t).send_queue, 3); /* its ACK was not taken */
    /* one byte earlier it is acceptable (trimmed to the window) */
    tt_in_data(t, 4096, 4, NULL, 10);
    assert_int_equal(tt_status(t).send_queue, 0);
    tt_free(t);
}

/* A FIN beyond a hole is held like text (RFC 9293 §3.10.7.4, eighth: the
 * FIN is processed only when everything before it has arrived). */
static void test_fin_beyond_a_hole_waits_for_the_hole(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t tail[100];
    for (size_t i = 0; i < sizeof tail; i++)
        tail[i] = tt_pattern(100 + i);
    struct tt_seg seg = {
        .flags = TCP_FIN | TCP_ACK, .seq = 101, .ack = 1, .data = tail, .len = 100};
    tt_in_seg(t, &seg);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect(t, TCP_ACK, 1, 202, 0); /* 200 bytes and the FIN */
    tt_assert_state(t, TCP_CLOSE_WAIT);
    recv_and_check_pattern(t, 0, 200);
    char c;
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, &c, 1), 0);
    tt_free(t);
}

/* send() takes no more than the send buffer holds; the rest is the
 * caller's (-EAGAIN when full), and POLLOUT comes back once ACKs free room. */
static void test_send_takes_at_most_the_free_send_buffer(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.sndbuf = 4096;
    struct tt *t = tt_established(&cfg);
    tt_in_win(t, TCP_ACK, 1, 1, 1460); /* a small peer window keeps data queued */
    static char buf[10000];
    memset(buf, 's', sizeof buf);
    ssize_t n = tcp_send(t->s, t->now, t->sd, buf, sizeof buf);
    assert_true(n > 0 && n <= 4096);
    while (n < 4096) {
        ssize_t m = tcp_send(t->s, t->now, t->sd, buf, sizeof buf);
        if (m <= 0)
            break;
        n += m;
    }
    assert_int_equal(n, 4096);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, sizeof buf), -EAGAIN);
    assert_false(tcp_poll(t->s, t->sd) & TCP_POLLOUT);
    assert_int_equal(tt_status(t).send_queue, 4096);
    tt_drain(t);
    tt_in_win(t, TCP_ACK, 1, 1461, 1460);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLOUT);
    tt_free(t);
}

/* Our ACK of the SYN,ACK was lost and the peer sends SYN,ACK again: it
 * must be acknowledged again (RFC 9293 §3.10.7.4 / RFC 5961 §4: an ACK with
 * SND.NXT and RCV.NXT), and nothing changes. */
static void test_retransmitted_syn_ack_in_established_is_acked_again(void **state)
{
    struct tt *t = tt_established(NULL);
    struct tt_seg synack = {
        .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_in_data(t, 1, 1, NULL, 10);
    tt_expect(t, TCP_ACK, 1, 11, 0);
    tt_free(t);
}

/* Data the peer sends after its FIN is not part of the stream. */
static void test_data_after_the_peers_fin_is_not_delivered(void **state)
{
    struct tt *t = tt_close_wait(NULL);
    tt_in_data(t, 2, 1, NULL, 10);
    const struct tt_pkt *p = tt_next(t);
    if (p) /* an ACK may answer it; it must still say RCV.NXT = 2 */
        assert_int_equal(p->rack, 2);
    char c;
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, &c, 1), 0);
    tt_free(t);
}

/* RFC 9293 §3.10.7.4: "If the RCV.WND is zero, no segments will be
 * acceptable, but special allowance should be made to accept valid ACKs".
 * With our buffer full, the peer's ACK of our data must still count. */
static void test_zero_receive_window_still_accepts_acks(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rcvbuf = 4096;
    struct tt *t = tt_established(&cfg);
    tt_in_data(t, 1, 1, NULL, 4096);
    const struct tt_pkt *ack = tt_expect(t, TCP_ACK, 1, 4097, 0);
    assert_int_equal(ack->tcp.win, 0);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "reply", 5), 5);
    tt_expect(t, TCP_ACK, 1, 4097, 5);
    tt_in(t, TCP_ACK, 4097, 6, NULL);
    assert_int_equal(tt_status(t).send_queue, 0);
    tt_advance(t, 10 * TT_SEC); /* and no retransmission follows */
    tt_expect_nothing(t);
    tt_free(t);
}

/* The peer probes our zero window with one byte: it is not accepted, and
 * the answer is an ACK of RCV.NXT with the (still zero) window. */
static void test_zero_window_probe_from_peer_is_answered_with_current_window(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rcvbuf = 4096;
    struct tt *t = tt_established(&cfg);
    tt_in_data(t, 1, 1, NULL, 4096);
    tt_expect(t, TCP_ACK, 1, 4097, 0);
    tt_in_data(t, 4097, 1, NULL, 1);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 4097, 0);
    assert_int_equal(p->tcp.win, 0);
    assert_int_equal(tt_status(t).recv_queue, 4096);
    tt_free(t);
}

/* tcp_poll() as poll(2) means it: POLLOUT once connected; POLLIN for data
 * and for the end of the stream; POLLHUP when both directions are done;
 * POLLERR (and POLLIN: recv() returns the error) after a reset. */
static void test_poll_reports_readiness_like_poll2(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    assert_false(tcp_poll(t->s, t->sd) & TCP_POLLOUT);
    tt_in(t, TCP_SYN | TCP_ACK, 0, 1, NULL);
    tt_drain(t);
    unsigned ev = tcp_poll(t->s, t->sd);
    assert_true(ev & TCP_POLLOUT);
    assert_false(ev & (TCP_POLLIN | TCP_POLLERR | TCP_POLLHUP));
    tt_in_data(t, 1, 1, NULL, 10);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLIN);
    recv_and_check_pattern(t, 0, 10);
    assert_false(tcp_poll(t->s, t->sd) & TCP_POLLIN);
    tt_in(t, TCP_FIN | TCP_ACK, 11, 1, NULL);
    ev = tcp_poll(t->s, t->sd);
    assert_true(ev & TCP_POLLIN);
    assert_false(ev & TCP_POLLHUP); /* we can still send */
    assert_int_equal(tcp_shutdown(t->s, t->now, t->sd, TCP_SHUT_WR), 0);
    tt_in(t, TCP_ACK, 12, 2, NULL);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLHUP);
    tt_free(t);

    t = tt_established(NULL);
    tt_in(t, TCP_RST, 1, 0, NULL);
    ev = tcp_poll(t->s, t->sd);
    assert_true(ev & TCP_POLLERR);
    assert_true(ev & TCP_POLLIN);
    tt_free(t);
}

/* A non-blocking connect() answered by RST: the socket becomes readable
 * and writable at once, with POLLERR and POLLHUP, as Linux's tcp_poll() has
 * it (the send side is shut, so a write would not block); the outcome is in
 * SO_ERROR, which reading clears, and then POLLERR is gone. */
static void test_refused_connect_is_writable_and_so_error_says_why(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    int err = -1;
    assert_int_equal(tcp_so_error(t->s, t->now, t->sd, &err), 0);
    assert_int_equal(err, 0); /* in progress: no error yet */
    tt_in(t, TCP_RST | TCP_ACK, 0, 1, NULL);
    unsigned ev = tcp_poll(t->s, t->sd);
    assert_int_equal(ev & (TCP_POLLOUT | TCP_POLLERR | TCP_POLLHUP),
                     TCP_POLLOUT | TCP_POLLERR | TCP_POLLHUP);
    assert_int_equal(tcp_so_error(t->s, t->now, t->sd, &err), 0);
    assert_int_equal(err, -ECONNREFUSED);
    assert_false(tcp_poll(t->s, t->sd) & TCP_POLLERR);
    assert_int_equal(tcp_so_error(t->s, t->now, t->sd, &err), 0);
    assert_int_equal(err, 0); /* read once, cleared */
    assert_int_equal(tcp_so_error(t->s, t->now, 999, &err), -EBADF);
    tt_free(t);
    (void)state;
}

/* An idle stack asks for no wake-up: with no data in flight, no delayed
 * ACK, no keepalive and no TIME_WAIT, stack_next_deadline() is NEVER (the
 * real-time loop must not spin), and TIME_WAIT leaves no timer behind. */
static void test_idle_stack_has_no_pending_deadline(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "x", 1), 1);
    tt_in(t, TCP_ACK, 1, 2, NULL);
    assert_true(stack_next_deadline(t->s) == TCP_TIME_NEVER);
    tt_free(t);
    t = tt_time_wait(NULL);
    assert_true(stack_next_deadline(t->s) != TCP_TIME_NEVER);
    tt_advance(t, 2 * TT_MSL_US);
    assert_true(stack_next_deadline(t->s) == TCP_TIME_NEVER);
    tt_free(t);
}

/* Our own sequence numbers across 2^32 (RFC 9293 §3.4: all arithmetic is
 * modulo 2^32). The ISS cannot be chosen through the API, but RFC 6528
 * makes it a hash plus a 4-microsecond clock: the test measures that slope
 * and opens the connection at the moment that puts the ISS 2001 below 2^32
 * (skipped if the ISS does not follow such a clock). */
static void test_send_sequence_numbers_cross_the_2_32_wrap(void **state)
{
    struct tt *a = tt_new(NULL), *b = tt_new(NULL);
    b->now = a->now + 4000;
    tt_do_connect(a);
    tt_do_connect(b);
    uint32_t iss0 = a->iss, slope = b->iss - a->iss;
    uint64_t t0 = a->now;
    tt_free(a);
    tt_free(b);
    if (slope != 1000)
        skip();
    const uint32_t want = 0xffffffffu - 2000;
    struct tt *t = tt_new(NULL);
    t->now = t0 + 4 * (uint64_t)(uint32_t)(want - iss0);
    tt_do_connect(t);
    if (t->iss != want) {
        tt_free(t);
        skip();
    }
    struct tt_seg synack = {
        .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    static char buf[6000];
    memset(buf, 'w', sizeof buf);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, sizeof buf), 6000);
    tt_expect(t, TCP_ACK, 1, 1, 1460);
    tt_expect(t, TCP_ACK, 1461, 1, 1460); /* this one crosses 2^32 */
    tt_expect(t, TCP_ACK, 2921, 1, 1460);
    tt_in(t, TCP_ACK, 1, 2921, NULL); /* an ACK number past the wrap */
    assert_int_equal(tt_status(t).send_queue, 6000 - 2920);
    tt_drain(t);
    tt_in(t, TCP_ACK, 1, 6001, NULL);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.send_queue, 0);
    assert_int_equal(st.snd_una, want + 6001); /* a small number now */
    assert_true(st.snd_una < 6001);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect(t, TCP_FIN | TCP_ACK, 6001, 1, 0);
    tt_in(t, TCP_ACK, 1, 6002, NULL);
    tt_assert_state(t, TCP_FIN_WAIT_2);
    tt_free(t);
}

/* ---- errors like the socket API ---------------------------------------- */

static void test_send_on_unconnected_socket_is_enotconn(void **state)
{
    struct tt *t = tt_new(NULL);
    int sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_send(t->s, t->now, sd, "x", 1), -ENOTCONN);
    char c;
    assert_int_equal(tcp_recv(t->s, t->now, sd, &c, 1), -ENOTCONN);
    tt_expect_nothing(t);
    tt_free(t);
}

static void test_send_on_closed_descriptor_is_ebadf(void **state)
{
    struct tt *t = tt_established(NULL);
    int sd = t->sd;
    assert_int_equal(tcp_close(t->s, t->now, sd), 0);
    t->sd = -1;
    assert_int_equal(tcp_send(t->s, t->now, sd, "x", 1), -EBADF);
    tt_free(t);
}

/* After the peer's reset, the first call reports ECONNRESET; sending is
 * then EPIPE, as on a socket whose connection is gone. */
static void test_send_after_reset_reports_econnreset_then_epipe(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in(t, TCP_RST, 1, 0, NULL);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "x", 1), -ECONNRESET);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "x", 1), -EPIPE);
    tt_expect_nothing(t);
    tt_free(t);
}

static void test_connect_on_connected_socket_is_eisconn(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_connect(t->s, t->now, t->sd, TT_PEER_ADDR, TT_SERVER_PORT), -EISCONN);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

static void test_listen_on_port_in_use_is_eaddrinuse(void **state)
{
    struct tt *t = tt_listener(NULL);
    int sd = tcp_socket(t->s, t->now);
    int rc = tcp_bind(t->s, t->now, sd, TT_SERVER_PORT);
    if (rc == 0)
        rc = tcp_listen(t->s, t->now, sd, 4);
    assert_int_equal(rc, -EADDRINUSE);
    tt_free(t);
}

/* SO_REUSEADDR lets a port held in TIME_WAIT be taken, never one with a
 * listener on it (as Linux). */
static void test_reuseaddr_does_not_take_a_listening_port(void **state)
{
    struct tt *t = tt_listener(NULL);
    int sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_setsockopt(t->s, t->now, sd, TCP_OPT_REUSEADDR, 1), 0);
    int rc = tcp_bind(t->s, t->now, sd, TT_SERVER_PORT);
    if (rc == 0)
        rc = tcp_listen(t->s, t->now, sd, 4);
    assert_int_equal(rc, -EADDRINUSE);
    tt_free(t);
}

/* RFC 9293 §3.8.6.2.1 (MUST-38), sender SWS avoidance: 3000 bytes queued,
 * the peer opens its window 10 and then 20 bytes: nothing goes at once
 * (less than an MSS, less than half the largest window, not all the queued
 * data); the override timeout then sends one segment of what fits. */
static void test_must38_sender_sws_avoidance(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    tt_in_win(t, TCP_ACK, 1, 1, 10);
    static char buf[3000];
    memset(buf, 'q', sizeof buf);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, sizeof buf), 3000);
    tt_expect_nothing(t); /* TCP_NODELAY does not turn SWS avoidance off */
    tt_in_win(t, TCP_ACK, 1, 1, 20);
    tt_expect_nothing(t);
    assert_true(tt_wait_output(t, 10 * TT_SEC) != TCP_TIME_NEVER);
    tt_expect(t, TCP_ACK, 1, 1, 20); /* the override timeout */
    tt_expect_nothing(t);
    /* All of a small remainder goes at once (the data is pushed). */
    tt_in_win(t, TCP_ACK, 1, 21, 65535);
    tt_expect(t, TCP_ACK, 21, 1, 1460);
    tt_expect(t, TCP_ACK, 1481, 1, 1460);
    tt_expect(t, TCP_ACK, 2941, 1, 60);
    tt_free(t);
}

/* RFC 9293 §3.10.7.4, fifth step: the send window is updated only "if
 * SND.UNA =< SEG.ACK =< SND.NXT". A segment with a newer SEG.SEQ but an ACK
 * below SND.UNA must not reopen the peer's zero window. */
static const char *buf100(void)
{
    static char b[100];
    memset(b, 'o', sizeof b);
    return b;
}

static void test_old_ack_does_not_update_the_send_window(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf100(), 100), 100);
    tt_expect(t, TCP_ACK, 1, 1, 100);
    tt_in_win(t, TCP_ACK, 1, 101, 0); /* all acknowledged, window closed */
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf100(), 100), 100);
    tt_expect_nothing(t);
    struct tt_seg old = {
        .flags = TCP_ACK, .seq = 2, .ack = 50, .win = 65535, .data = "x", .len = 1};
    tt_in_seg(t, &old);
    tt_expect(t, TCP_ACK, 101, 1, 0); /* out of order: a duplicate ACK, no data */
    tt_expect_nothing(t);
    assert_int_equal(tt_status(t).snd_wnd, 0);
    /* The same window with a current ACK opens it. */
    tt_in_win(t, TCP_ACK, 1, 101, 65535);
    tt_expect(t, TCP_ACK, 101, 1, 100);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_data_is_delivered_and_acked),
        cmocka_unit_test(test_out_of_order_segments_are_held_and_reassembled),
        cmocka_unit_test(test_overlapping_out_of_order_segments_reassemble_exactly),
        cmocka_unit_test(test_touching_out_of_order_segments_are_held_as_one_range),
        cmocka_unit_test(test_overlap_extending_a_held_range_keeps_its_end),
        cmocka_unit_test(test_duplicate_segment_data_is_not_delivered_twice),
        cmocka_unit_test(test_sent_data_is_queued_until_acknowledged),
        cmocka_unit_test(test_sent_segment_carries_the_application_bytes),
        cmocka_unit_test(test_advertised_window_shrinks_with_unread_data),
        cmocka_unit_test(test_reading_a_full_buffer_sends_a_window_update),
        cmocka_unit_test(test_nagle_holds_small_segments_while_data_is_unacknowledged),
        cmocka_unit_test(test_nodelay_sends_small_segments_at_once),
        cmocka_unit_test(test_nagle_sends_full_sized_segments),
        cmocka_unit_test(test_sender_respects_the_peer_window),
        cmocka_unit_test(test_segment_starting_at_the_right_window_edge_is_unacceptable),
        cmocka_unit_test(test_fin_beyond_a_hole_waits_for_the_hole),
        cmocka_unit_test(test_send_takes_at_most_the_free_send_buffer),
        cmocka_unit_test(test_retransmitted_syn_ack_in_established_is_acked_again),
        cmocka_unit_test(test_data_after_the_peers_fin_is_not_delivered),
        cmocka_unit_test(test_zero_receive_window_still_accepts_acks),
        cmocka_unit_test(test_zero_window_probe_from_peer_is_answered_with_current_window),
        cmocka_unit_test(test_poll_reports_readiness_like_poll2),
        cmocka_unit_test(test_refused_connect_is_writable_and_so_error_says_why),
        cmocka_unit_test(test_idle_stack_has_no_pending_deadline),
        cmocka_unit_test(test_send_sequence_numbers_cross_the_2_32_wrap),
        cmocka_unit_test(test_send_on_unconnected_socket_is_enotconn),
        cmocka_unit_test(test_send_on_closed_descriptor_is_ebadf),
        cmocka_unit_test(test_send_after_reset_reports_econnreset_then_epipe),
        cmocka_unit_test(test_connect_on_connected_socket_is_eisconn),
        cmocka_unit_test(test_listen_on_port_in_use_is_eaddrinuse),
        cmocka_unit_test(test_reuseaddr_does_not_take_a_listening_port),
        cmocka_unit_test(test_must38_sender_sws_avoidance),
        cmocka_unit_test(test_old_ack_does_not_update_the_send_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
