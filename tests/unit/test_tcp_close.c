/*
 * test_tcp_close.c — orderly release (RFC 9293 §3.6): half-close, end of
 * stream, FIN retransmission, simultaneous close, and TIME_WAIT — its 2*MSL
 * timer, its re-ACK of a retransmitted FIN, and the port it holds.
 */
#include "seq.h"
#include "tcptest.h"

/* RFC 9293 §3.6.1: TIME_WAIT lasts 2*MSL, then the connection is deleted. */
static void test_time_wait_expires_after_exactly_2msl(void **state)
{
    struct tt *t = tt_time_wait(NULL);
    uint64_t entered = t->now;
    struct tcp_status st;
    assert_true(tt_find_conn(t, &st));
    assert_int_equal(st.timers[TCP_TIMER_TIME_WAIT], entered + 2 * TT_MSL_US);
    assert_true(st.timers[TCP_TIMER_RTX] == TCP_TIME_NEVER);
    tt_advance(t, 2 * TT_MSL_US - 1);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_advance(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(t->now - entered, 2 * TT_MSL_US);
    tt_expect_state_event(t, TCP_TIME_WAIT, TCP_CLOSED, NULL);
    tt_expect_nothing(t);
    struct stack_stats ss;
    stack_get_stats(t->s, &ss);
    assert_int_equal(ss.conns_time_wait, 0);
    tt_free(t);
}

/* cfg.msl_us is honoured: MSL 5 s gives a 10 s TIME_WAIT. */
static void test_time_wait_lasts_twice_the_configured_msl(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.msl_us = 5 * TT_SEC;
    struct tt *t = tt_time_wait(&cfg);
    struct stack_stats ss;
    stack_get_stats(t->s, &ss);
    assert_int_equal(ss.conns_time_wait, 1);
    tt_advance(t, 10 * TT_SEC - 1);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_advance(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

/* RFC 9293 §3.10.7.4, FIN in TIME-WAIT: "Remain in the TIME-WAIT state.
 * Restart the 2 MSL time-wait timeout." — and the FIN is acknowledged
 * again (its first ACK was lost, which is why it came back). */
static void test_time_wait_reacks_retransmitted_fin_and_restarts_2msl(void **state)
{
    struct tt *t = tt_time_wait(NULL);
    uint64_t entered = t->now;
    tt_advance(t, 10 * TT_SEC);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    uint64_t restarted = t->now;
    /* the first 2MSL has passed, but the timer was restarted */
    tt_advance(t, entered + 2 * TT_MSL_US - t->now);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_advance(t, restarted + 2 * TT_MSL_US - 1 - t->now);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_advance(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

/* A port held by a connection in TIME_WAIT cannot be bound again, unless
 * SO_REUSEADDR says so. */
static void test_bind_to_port_in_time_wait_is_eaddrinuse_unless_reuseaddr(void **state)
{
    struct tt *t = tt_time_wait(NULL);
    int sd = tcp_socket(t->s, t->now);
    assert_true(sd >= 0);
    assert_int_equal(tcp_bind(t->s, t->now, sd, t->sport), -EADDRINUSE);
    int sd2 = tcp_socket(t->s, t->now);
    assert_true(sd2 >= 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, sd2, TCP_OPT_REUSEADDR, 1), 0);
    assert_int_equal(tcp_bind(t->s, t->now, sd2, t->sport), 0);
    /* TIME_WAIT itself is untouched by the new binding */
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_free(t);
}

/* Once TIME_WAIT is over and nothing else holds the port, bind succeeds. */
static void test_bind_to_port_after_time_wait_expired_succeeds(void **state)
{
    struct tt *t = tt_time_wait(NULL);
    tt_advance(t, 2 * TT_MSL_US);
    tt_assert_state(t, TCP_CLOSED);
    int sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_bind(t->s, t->now, sd, t->sport), 0);
    tt_free(t);
}

/* RFC 9293 §3.6: our FIN is retransmitted like data until acknowledged. */
static void test_fin_wait_1_retransmits_fin_after_rto(void **state)
{
    struct tt *t = tt_fin_wait_1(NULL);
    uint64_t dt = tt_wait_output(t, 10 * TT_SEC);
    assert_int_equal(dt, 1 * TT_SEC);
    const struct tt_pkt *fin = tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    (void)fin;
    tt_in(t, TCP_ACK, 1, 2, NULL);
    tt_assert_state(t, TCP_FIN_WAIT_2);
    tt_advance(t, 10 * TT_SEC);
    tt_expect_nothing(t);
    tt_free(t);
}

static void test_last_ack_retransmits_fin_after_rto(void **state)
{
    struct tt *t = tt_last_ack(NULL);
    assert_int_equal(tt_wait_output(t, 10 * TT_SEC), 1 * TT_SEC);
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 2, 0);
    tt_in(t, TCP_ACK, 2, 2, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

/* The FIN is retransmitted like data, and like data it is given up after
 * cfg.data_retries: FIN_WAIT_1 -> CLOSED with ETIMEDOUT (1+2+4 s). */
static void test_unacknowledged_fin_is_given_up_after_data_retries(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.data_retries = 2;
    struct tt *t = tt_fin_wait_1(&cfg);
    uint64_t start = t->now;
    for (int i = 0; i < 2; i++) {
        assert_int_not_equal(tt_wait_output(t, 100 * TT_SEC), TCP_TIME_NEVER);
        tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    }
    tt_advance(t, start + 7 * TT_SEC - 1 - t->now);
    tt_assert_state(t, TCP_FIN_WAIT_1);
    tt_advance(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    tt_expect_state_event(t, TCP_FIN_WAIT_1, TCP_CLOSED, NULL);
    tt_free(t);
}

/* The peer did not get our ACK of its FIN and sends the FIN again: in
 * CLOSE_WAIT and LAST_ACK it is acknowledged again (an old segment gets an
 * ACK, RFC 9293 §3.10.7.4) and the state stays. */
static void test_close_wait_reacks_retransmitted_fin(void **state)
{
    struct tt *t = tt_close_wait(NULL);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 1, 2, 0);
    tt_assert_state(t, TCP_CLOSE_WAIT);
    tt_free(t);
}

static void test_last_ack_reacks_retransmitted_fin(void **state)
{
    struct tt *t = tt_last_ack(NULL);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_assert_state(t, TCP_LAST_ACK);
    tt_in(t, TCP_ACK, 2, 2, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

/* In CLOSING, the peer's retransmitted FIN is acknowledged again too. */
static void test_closing_reacks_retransmitted_fin(void **state)
{
    struct tt *t = tt_closing(NULL);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_assert_state(t, TCP_CLOSING);
    tt_free(t);
}

/* After TIME_WAIT has ended the connection is gone: a late FIN is
 * answered as any segment for no connection is, <SEQ=SEG.ACK><CTL=RST>
 * (RFC 9293 §3.10.7.1). */
static void test_late_fin_after_time_wait_gets_rst(void **state)
{
    struct tt *t = tt_time_wait(NULL);
    tt_advance(t, 2 * TT_MSL_US);
    tt_assert_state(t, TCP_CLOSED);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_RST, 2, 0, 0);
    tt_free(t);
}

/* RFC 1122 §4.2.2.13: "if new data is received after CLOSE is called, its
 * TCP SHOULD send a RST to show that data was lost." Here the application
 * closed (FIN_WAIT_2, no descriptor) and the peer still sends text. */
static void test_data_arriving_after_close_gets_rst(void **state)
{
    struct tt *t = tt_fin_wait_2(NULL);
    tt_in_data(t, 1, 2, "late", 4);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_true(p->tcp.flags & TCP_RST);
    assert_int_equal(tt_state(t), TCP_CLOSED);
    tt_free(t);
}

/* RFC 1122 §4.2.2.13: a host MAY reopen a connection straight from
 * TIME_WAIT on a new SYN if it "assigns its initial sequence number for the
 * new connection to be larger than the largest sequence number it used on
 * the previous connection incarnation". docs/engine.md says the engine does
 * this for a SYN above RCV.NXT when a listener exists; the new ISS must then
 * be above the old SND.NXT. An old SYN (at or below RCV.NXT) is not a new
 * connection: TIME_WAIT stays. */
static void test_time_wait_reopened_by_new_syn_uses_a_larger_isn(void **state)
{
    struct tt *t = tt_established_passive(NULL);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    tt_in(t, TCP_ACK, 1, 2, NULL);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_assert_state(t, TCP_TIME_WAIT);
    uint32_t old_snd_nxt = t->iss + 2;

    tt_advance(t, 1 * TT_SEC);
    tt_in(t, TCP_SYN, 0, 0, NULL); /* an old duplicate SYN */
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_drain(t);

    tt_in(t, TCP_SYN, 100000, 0, NULL); /* a new incarnation */
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->tcp.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(p->tcp.ack, t->peer_isn + 100001);
    assert_true(seq_gt(p->tcp.seq, old_snd_nxt));
    tt_free(t);
}

/* An orphaned FIN_WAIT_2 (the application closed; the peer acknowledged
 * our FIN but never sends its own) does not live forever: docs/engine.md
 * closes it after 2*MSL, as BSD does. With the descriptor still open
 * (shutdown) it waits, as the RFC says. */
static void test_orphaned_fin_wait_2_is_closed_after_2msl(void **state)
{
    struct tt *t = tt_fin_wait_2(NULL);
    tt_advance(t, 2 * TT_MSL_US - 1);
    tt_assert_state(t, TCP_FIN_WAIT_2);
    tt_advance(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);

    t = tt_established(NULL);
    assert_int_equal(tcp_shutdown(t->s, t->now, t->sd, TCP_SHUT_WR), 0);
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    tt_in(t, TCP_ACK, 1, 2, NULL);
    tt_advance(t, 10 * TT_MSL_US);
    tt_assert_state(t, TCP_FIN_WAIT_2);
    tt_free(t);
}

/* shutdown(SHUT_WR) while the handshake is still going: the FIN waits
 * until the connection is ESTABLISHED (RFC 9293 §3.10.4, CLOSE in SYN-SENT
 * with a send pending: "queue for processing after entering ESTABLISHED";
 * docs/engine.md). */
static void test_shutdown_write_in_syn_sent_sends_fin_once_established(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    assert_int_equal(tcp_shutdown(t->s, t->now, t->sd, TCP_SHUT_WR), 0);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_SYN_SENT);
    tt_in(t, TCP_SYN | TCP_ACK, 0, 1, NULL);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    if (!(p->tcp.flags & TCP_FIN)) { /* a bare ACK first, then the FIN */
        assert_int_equal(p->tcp.flags, TCP_ACK);
        p = tt_next(t);
        assert_non_null(p);
    }
    assert_int_equal(p->tcp.flags, TCP_FIN | TCP_ACK);
    assert_int_equal(p->rseq, 1);
    assert_int_equal(p->rack, 1);
    tt_assert_state(t, TCP_FIN_WAIT_1);
    tt_free(t);
}

/* Half-close: shutdown(SHUT_WR) sends FIN, but the receive side stays open
 * (RFC 9293 §3.6: "the user who CLOSEs may continue to RECEIVE until the
 * other side also CLOSEs"). */
static void test_shutdown_write_sends_fin_and_still_receives(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_shutdown(t->s, t->now, t->sd, TCP_SHUT_WR), 0);
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_FIN_WAIT_1);
    tt_in(t, TCP_ACK, 1, 2, NULL);
    tt_assert_state(t, TCP_FIN_WAIT_2);
    tt_in_data(t, 1, 2, "hello", 5);
    tt_expect(t, TCP_ACK, 2, 6, 0);
    char buf[16];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 5);
    assert_memory_equal(buf, "hello", 5);
    tt_in(t, TCP_FIN | TCP_ACK, 6, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 7, 0);
    tt_assert_state(t, TCP_TIME_WAIT);
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 0);
    tt_free(t);
}

static void test_send_after_shutdown_write_is_epipe(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_shutdown(t->s, t->now, t->sd, TCP_SHUT_WR), 0);
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "x", 1), -EPIPE);
    tt_expect_nothing(t);
    tt_free(t);
}

/* The peer's FIN is the end of the stream: the data before it is read first,
 * then recv returns 0, and keeps returning 0. */
static void test_recv_returns_data_then_zero_after_fin(void **state)
{
    struct tt *t = tt_established(NULL);
    struct tt_seg seg = {
        .flags = TCP_FIN | TCP_ACK | TCP_PSH, .seq = 1, .ack = 1, .data = "bye", .len = 3};
    tt_in_seg(t, &seg);
    tt_expect(t, TCP_ACK, 1, 5, 0);
    tt_assert_state(t, TCP_CLOSE_WAIT);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLIN);
    char buf[16];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 3);
    assert_memory_equal(buf, "bye", 3);
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 0);
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 0);
    tt_free(t);
}

/* In CLOSE_WAIT we can still send (the peer only closed its direction). */
static void test_close_wait_can_still_send(void **state)
{
    struct tt *t = tt_close_wait(NULL);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "late", 4), 4);
    tt_expect(t, TCP_ACK, 1, 2, 4);
    tt_in(t, TCP_ACK, 2, 5, NULL);
    assert_int_equal(tt_status(t).send_queue, 0);
    tt_free(t);
}

/* Close after sending: the FIN follows the queued data, seq after it. */
static void test_close_sends_fin_after_queued_data(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "data", 4), 4);
    tt_expect(t, TCP_ACK, 1, 1, 4);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect(t, TCP_FIN | TCP_ACK, 5, 1, 0);
    tt_in(t, TCP_ACK, 1, 6, NULL);
    tt_assert_state(t, TCP_FIN_WAIT_2);
    tt_free(t);
}

/* Simultaneous close between two real stacks on the virtual link (RFC 9293
 * Figure 13): both FINs cross, both sides go FIN_WAIT_1 -> CLOSING ->
 * TIME_WAIT. */
static void test_simultaneous_close_goes_through_closing_to_time_wait(void **state)
{
    struct tt_pair *p = tt_pair_new(NULL, NULL, 1);
    assert_true(tt_pair_connect(p, 10 * TT_SEC));
    uint64_t now = tt_pair_now(p);
    assert_int_equal(tcp_shutdown(p->c, now, p->csd, TCP_SHUT_WR), 0);
    assert_int_equal(tcp_shutdown(p->s, now, p->ssd, TCP_SHUT_WR), 0);
    tt_pair_run(p, 1 * TT_SEC);
    assert_int_equal(tt_pair_state(p, p->c, p->csd), TCP_TIME_WAIT);
    assert_int_equal(tt_pair_state(p, p->s, p->ssd), TCP_TIME_WAIT);
    assert_int_equal(tt_pair_count_state(p, "client", TCP_FIN_WAIT_1, TCP_CLOSING), 1);
    assert_int_equal(tt_pair_count_state(p, "client", TCP_CLOSING, TCP_TIME_WAIT), 1);
    assert_int_equal(tt_pair_count_state(p, "server", TCP_FIN_WAIT_1, TCP_CLOSING), 1);
    assert_int_equal(tt_pair_count_state(p, "server", TCP_CLOSING, TCP_TIME_WAIT), 1);
    tt_pair_run(p, 2 * TT_MSL_US);
    assert_int_equal(tt_pair_state(p, p->c, p->csd), TCP_CLOSED);
    assert_int_equal(tt_pair_state(p, p->s, p->ssd), TCP_CLOSED);
    tt_pair_free(p);
}

static void count_conn(void *ctx, int sd, const struct tcp_status *st)
{
    if (st->state != TCP_CLOSED)
        ++*(unsigned *)ctx;
}

/* The ordinary four-way teardown between two stacks: the side that closes
 * first ends in TIME_WAIT, the other in CLOSED. */
static void test_four_way_teardown_between_two_stacks(void **state)
{
    struct tt_pair *p = tt_pair_new(NULL, NULL, 2);
    assert_true(tt_pair_connect(p, 10 * TT_SEC));
    assert_int_equal(tcp_close(p->c, tt_pair_now(p), p->csd), 0);
    tt_pair_run(p, 1 * TT_SEC);
    assert_int_equal(tt_pair_state(p, p->s, p->ssd), TCP_CLOSE_WAIT);
    char buf[4];
    assert_int_equal(tcp_recv(p->s, tt_pair_now(p), p->ssd, buf, sizeof buf), 0);
    assert_int_equal(tcp_close(p->s, tt_pair_now(p), p->ssd), 0);
    tt_pair_run(p, 1 * TT_SEC);
    assert_int_equal(tt_pair_count_state(p, "client", TCP_FIN_WAIT_2, TCP_TIME_WAIT), 1);
    assert_int_equal(tt_pair_count_state(p, "server", TCP_LAST_ACK, TCP_CLOSED), 1);
    struct stack_stats cs;
    stack_get_stats(p->c, &cs);
    assert_int_equal(cs.conns_time_wait, 1);
    unsigned left = 0;
    stack_foreach_conn(p->s, count_conn, &left);
    assert_int_equal(left, 0); /* the server's connection block is gone */
    tt_pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_wait_expires_after_exactly_2msl),
        cmocka_unit_test(test_time_wait_lasts_twice_the_configured_msl),
        cmocka_unit_test(test_time_wait_reacks_retransmitted_fin_and_restarts_2msl),
        cmocka_unit_test(test_bind_to_port_in_time_wait_is_eaddrinuse_unless_reuseaddr),
        cmocka_unit_test(test_bind_to_port_after_time_wait_expired_succeeds),
        cmocka_unit_test(test_fin_wait_1_retransmits_fin_after_rto),
        cmocka_unit_test(test_last_ack_retransmits_fin_after_rto),
        cmocka_unit_test(test_unacknowledged_fin_is_given_up_after_data_retries),
        cmocka_unit_test(test_close_wait_reacks_retransmitted_fin),
        cmocka_unit_test(test_last_ack_reacks_retransmitted_fin),
        cmocka_unit_test(test_closing_reacks_retransmitted_fin),
        cmocka_unit_test(test_late_fin_after_time_wait_gets_rst),
        cmocka_unit_test(test_data_arriving_after_close_gets_rst),
        cmocka_unit_test(test_time_wait_reopened_by_new_syn_uses_a_larger_isn),
        cmocka_unit_test(test_orphaned_fin_wait_2_is_closed_after_2msl),
        cmocka_unit_test(test_shutdown_write_in_syn_sent_sends_fin_once_established),
        cmocka_unit_test(test_shutdown_write_sends_fin_and_still_receives),
        cmocka_unit_test(test_send_after_shutdown_write_is_epipe),
        cmocka_unit_test(test_recv_returns_data_then_zero_after_fin),
        cmocka_unit_test(test_close_wait_can_still_send),
        cmocka_unit_test(test_close_sends_fin_after_queued_data),
        cmocka_unit_test(test_simultaneous_close_goes_through_closing_to_time_wait),
        cmocka_unit_test(test_four_way_teardown_between_two_stacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
