/*
 * test_tcp_gso.c — segmentation offload on the send side
 * (stack_config.out_seg_max, output_gso): one packet carries the segments
 * the one-by-one loop would have sent — no more than the peer's window and
 * the congestion window allow, a small tail only where SWS avoidance and
 * Nagle (RFC 9293 §3.8.6.2.1, RFC 1122 §4.2.3.4) would have let it go with
 * them, the FIN on the last byte — handed over with the MSS to cut at and a
 * checksum left partial (the harness completes it as the device would, then
 * parses the packet like any other). And the receive side's trust in a
 * checksum the device vouches for (stack_input_csum_ok).
 */
#include "tcptest.h"

static struct stack_config gso_config(uint32_t out_seg_max)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.out_seg_max = out_seg_max;
    return cfg;
}

static void send_pattern(struct tt *t, size_t n)
{
    static uint8_t buf[1 << 17];
    for (size_t i = 0; i < n; i++)
        buf[i] = tt_pattern(i);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, n), (ssize_t)n);
}

/* RFC 5681 §3.1: the initial window (10 segments) bounds what is in
 * flight, and a packet carries at most a quarter of the window (so a lost
 * one is followed by three whose duplicate ACKs start fast retransmit,
 * §3.2): five packets of two segments, cut at the MSS. */
static void test_rfc5681_gso_sends_the_initial_window_in_quarters(void **state)
{
    struct stack_config cfg = gso_config(STACK_GSO_MAX);
    struct tt *t = tt_established(&cfg);
    send_pattern(t, 20000);
    for (uint32_t i = 0; i < 5; i++) {
        const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1 + i * 2920, 1, 2920);
        assert_int_equal(p->gso_mss, 1460);
        assert_int_equal(p->tcp_err, WIRE_OK); /* the completed checksum verifies */
        for (size_t k = 0; k < p->tcp.payload_len; k++)
            assert_int_equal(p->tcp.payload[k], tt_pattern(i * 2920 + k));
    }
    tt_expect_nothing(t);
    tt_free(t);
}

/* Without the congestion window the peer's 65535-byte window is the
 * limit, and each packet carries the full segments of a quarter of it;
 * the 1295-byte tail waits for an ACK (Nagle). */
static void test_gso_packets_grow_with_the_window(void **state)
{
    struct stack_config cfg = gso_config(STACK_GSO_MAX);
    cfg.congestion_control = false;
    struct tt *t = tt_established(&cfg);
    send_pattern(t, 65535);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(tt_expect(t, TCP_ACK, 1 + i * 16060, 1, 16060)->gso_mss, 1460);
    tt_expect_nothing(t);
    tt_free(t);
}

/* Without offload the same send goes as ten segments of one MSS. */
static void test_without_gso_the_same_bytes_go_one_segment_at_a_time(void **state)
{
    struct tt *t = tt_established(NULL);
    send_pattern(t, 20000);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(tt_expect(t, TCP_ACK, 1 + i * 1460, 1, 1460)->gso_mss, 0);
    tt_expect_nothing(t);
    tt_free(t);
}

/* Nagle: the 10-byte tail would wait for an ACK after two full segments,
 * so it is not in the packet; it goes alone when the ACK comes. */
static void test_rfc1122_nagle_gso_leaves_out_a_tail_nagle_would_hold(void **state)
{
    struct stack_config cfg = gso_config(STACK_GSO_MAX);
    struct tt *t = tt_established(&cfg);
    send_pattern(t, 2 * 1460 + 10);
    assert_int_equal(tt_expect(t, TCP_ACK, 1, 1, 2920)->gso_mss, 1460);
    tt_expect_nothing(t);
    tt_in(t, TCP_ACK, 1, 2921, NULL);
    assert_int_equal(tt_expect(t, TCP_ACK, 2921, 1, 10)->gso_mss, 0);
    tt_free(t);
}

/* With TCP_NODELAY the tail would follow at once: it rides in the packet. */
static void test_gso_with_nodelay_carries_the_tail(void **state)
{
    struct stack_config cfg = gso_config(STACK_GSO_MAX);
    struct tt *t = tt_established(&cfg);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    send_pattern(t, 2 * 1460 + 10);
    assert_int_equal(tt_expect(t, TCP_ACK, 1, 1, 2930)->gso_mss, 1460);
    tt_expect_nothing(t);
    tt_free(t);
}

/* The FIN goes with the last byte, tail and all (the device puts it on the
 * last segment it cuts). The window is closed while the data and the FIN
 * are queued, so all of it waits for one window update. */
static void test_gso_fin_rides_with_the_last_bytes(void **state)
{
    struct stack_config cfg = gso_config(STACK_GSO_MAX);
    struct tt *t = tt_established(&cfg);
    tt_in_win(t, TCP_ACK, 1, 1, 0);
    send_pattern(t, 3000);
    assert_int_equal(tcp_shutdown(t->s, t->now, t->sd, TCP_SHUT_WR), 0);
    tt_expect_nothing(t);
    tt_in_win(t, TCP_ACK, 1, 1, 65535);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK | TCP_FIN, 1, 1, 3000);
    assert_int_equal(p->gso_mss, 1460);
    tt_expect_nothing(t);
    tt_free(t);
}

/* The peer's window (RFC 9293 §3.8.6) bounds the packets: 11680 bytes of
 * window, four packets of two segments (a quarter each), the rest after
 * the window opens. */
static void test_rfc9293_gso_respects_the_peer_window(void **state)
{
    struct stack_config cfg = gso_config(STACK_GSO_MAX);
    struct tt *t = tt_established(&cfg);
    tt_in_win(t, TCP_ACK, 1, 1, 11680);
    send_pattern(t, 20000);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(tt_expect(t, TCP_ACK, 1 + i * 2920, 1, 2920)->gso_mss, 1460);
    tt_expect_nothing(t);
    tt_free(t);
}

static void discard_output(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx, (void)pkt, (void)len;
}

/* out_seg_max above what one IPv4 packet holds is cut down to
 * STACK_GSO_MAX; without an output_gso there is no offload. */
static void test_gso_size_is_bounded_and_needs_output_gso(void **state)
{
    struct stack_config cfg = gso_config(1u << 20);
    struct tt *t = tt_new(&cfg);
    assert_int_equal(stack_config(t->s)->out_seg_max, STACK_GSO_MAX);
    tt_free(t);
    tt_config(&cfg);
    cfg.output = discard_output;
    cfg.out_seg_max = STACK_GSO_MAX; /* but no output_gso */
    struct stack *s = stack_new(&cfg);
    assert_non_null(s);
    assert_int_equal(stack_config(s)->out_seg_max, 0);
    stack_free(s);
}

/* Receive side: a segment whose checksum field is partial (as the local
 * kernel hands it over with TUN offloads) is dropped as bad_checksum by
 * stack_input() and taken by stack_input_csum_ok(), for which the device
 * vouches. */
static void test_partial_checksum_is_trusted_only_when_the_device_vouches(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[2048];
    struct tt_seg seg = {.flags = TCP_ACK | TCP_PSH, .seq = 1, .ack = 1, .data = "abcd", .len = 4};
    size_t n = tt_build(t, &seg, pkt, sizeof pkt);
    pkt[20 + 16] ^= 0x5a; /* not the checksum of this segment any more */
    stack_input(t->s, t->now, pkt, n);
    assert_int_equal(tt_count_drops(t, WIRE_ERR_BAD_CHECKSUM), 1);
    tt_expect_nothing(t);
    stack_input_csum_ok(t->s, t->now, pkt, n);
    tt_expect(t, TCP_ACK, 1, 5, 0);
    assert_int_equal(tt_status(t).recv_queue, 4);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5681_gso_sends_the_initial_window_in_quarters),
        cmocka_unit_test(test_gso_packets_grow_with_the_window),
        cmocka_unit_test(test_without_gso_the_same_bytes_go_one_segment_at_a_time),
        cmocka_unit_test(test_rfc1122_nagle_gso_leaves_out_a_tail_nagle_would_hold),
        cmocka_unit_test(test_gso_with_nodelay_carries_the_tail),
        cmocka_unit_test(test_gso_fin_rides_with_the_last_bytes),
        cmocka_unit_test(test_rfc9293_gso_respects_the_peer_window),
        cmocka_unit_test(test_gso_size_is_bounded_and_needs_output_gso),
        cmocka_unit_test(test_partial_checksum_is_trusted_only_when_the_device_vouches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
