/*
 * test_tcp_rst.c — when the engine sends a reset, and which resets it
 * believes. Generation follows RFC 9293 §3.10.7.1 (CLOSED), §3.10.7.2
 * (LISTEN), §3.10.7.3 (SYN-SENT) and §3.10.7.4 (unacceptable ACK in
 * SYN-RECEIVED), ABORT (§3.10.5) and close with unread data (RFC 2525 §2.17).
 * Acceptance follows RFC 5961 §3 (exact sequence number only; in window gets
 * a challenge ACK), §4 (SYN in a synchronized state gets a challenge ACK)
 * and RFC 1337 (TIME_WAIT ignores RST).
 */
#include "tcptest.h"

/* A harness with no socket at all: segments go to port 81, where nobody is. */
static struct tt *tt_nobody_home(void)
{
    struct tt *t = tt_new(NULL);
    t->sport = 81;
    t->pport = TT_PEER_CLIENT_PORT;
    t->iss = 0; /* a reset to a SYN uses sequence number zero */
    return t;
}

/* ---- generation ---------------------------------------------------------- */

/* §3.10.7.1: "If the ACK bit is off, sequence number zero is used,
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>" (a SYN counts one). */
static void test_syn_to_port_without_listener_gets_rst_ack_acking_seq_plus_one(void **state)
{
    struct tt *t = tt_nobody_home();
    tt_in(t, TCP_SYN, 0, 0, NULL);
    tt_expect(t, TCP_RST | TCP_ACK, 0, 1, 0);
    tt_expect_nothing(t);
    assert_false(tt_find_conn(t, NULL));
    tt_free(t);
}

/* The same rule counts the text too: ACK = SEG.SEQ + SEG.LEN. */
static void test_segment_without_ack_to_closed_port_gets_rst_acking_its_length(void **state)
{
    struct tt *t = tt_nobody_home();
    struct tt_seg seg = {.flags = TCP_PSH, .seq = 5, .data = "hello", .len = 5};
    tt_in_seg(t, &seg);
    tt_expect(t, TCP_RST | TCP_ACK, 0, 10, 0);
    tt_free(t);
}

/* §3.10.7.1: "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>". */
static void test_ack_to_port_without_listener_gets_rst_with_seq_of_its_ack(void **state)
{
    struct tt *t = tt_nobody_home();
    struct tt_seg seg = {
        .flags = TCP_ACK, .seq = t->peer_isn + 1, .ack = 123456789, .absolute = true};
    tt_in_seg(t, &seg);
    tt_expect(t, TCP_RST, 123456789, 0, 0);
    tt_free(t);
}

/* §3.10.7.1: "An incoming segment containing a RST is discarded." */
static void test_rst_to_port_without_listener_is_dropped_silently(void **state)
{
    struct tt *t = tt_nobody_home();
    tt_in(t, TCP_RST, 1, 0, NULL);
    tt_expect_nothing(t);
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_NO_CONNECTION);
    tt_free(t);
}

/* §3.10.7.2: any ACK arriving in LISTEN is bad: <SEQ=SEG.ACK><CTL=RST>. */
static void test_ack_to_listener_gets_rst_with_seq_of_its_ack(void **state)
{
    struct tt *t = tt_listener(NULL);
    struct tt_seg seg = {.flags = TCP_ACK, .seq = 1000, .ack = 0x80000000u, .absolute = true};
    tt_in_seg(t, &seg);
    tt_expect(t, TCP_RST, 0x80000000u, 0, 0);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, t->lsd, &st), 0);
    assert_int_equal(st.state, TCP_LISTEN);
    assert_int_equal(st.syn_queue_len, 0);
    tt_free(t);
}

/* §3.10.7.2: "first check for a RST ... ignored" in LISTEN. */
static void test_rst_to_listener_is_ignored(void **state)
{
    struct tt *t = tt_listener(NULL);
    tt_in(t, TCP_RST, 0, 0, NULL);
    tt_expect_nothing(t);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, t->lsd, &st), 0);
    assert_int_equal(st.state, TCP_LISTEN);
    tt_free(t);
}

/* §3.10.7.3: in SYN-SENT, "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a
 * reset (unless the RST bit is set ...) <SEQ=SEG.ACK><CTL=RST>". */
static void test_syn_sent_unacceptable_ack_gets_rst_and_connection_stays(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    tt_in(t, TCP_SYN | TCP_ACK, 0, 5, NULL); /* acknowledges bytes never sent */
    tt_expect_rst(t, 5);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_SYN_SENT);
    /* the ACK of exactly ISS is just as unacceptable */
    tt_in(t, TCP_ACK, 0, 0, NULL);
    tt_expect_rst(t, 0);
    tt_assert_state(t, TCP_SYN_SENT);
    /* and the real SYN,ACK still completes the handshake */
    tt_in(t, TCP_SYN | TCP_ACK, 0, 1, NULL);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

/* §3.10.7.4, SYN-RECEIVED: "If the segment acknowledgment is not
 * acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST> and send it." */
static void test_syn_received_unacceptable_ack_gets_rst(void **state)
{
    struct tt *t = tt_syn_received(NULL);
    tt_in(t, TCP_ACK, 1, 7, NULL);
    tt_expect_rst(t, 7);
    tt_assert_state(t, TCP_SYN_RECEIVED);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

/* §3.10.5 ABORT: "Send a reset segment: <SEQ=SND.NXT><CTL=RST>", the user
 * learns nothing more, and queued data is thrown away. */
static void test_abort_sends_rst_at_snd_nxt(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "abc", 3), 3);
    tt_expect(t, TCP_ACK, 1, 1, 3);
    assert_int_equal(tcp_abort(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect_rst(t, 4);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_CLOSED);
    tt_advance(t, 10 * TT_SEC); /* no retransmission of the aborted data */
    tt_expect_nothing(t);
    tt_free(t);
}

/* §3.10.7.1 after an ABORT: the connection's segments had just been
 * finding it (conn_lookup_segment remembers the last one found), yet the
 * next one finds no connection and is answered as CLOSED answers. */
static void test_segment_after_abort_finds_no_connection_and_gets_rst(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in_data(t, 1, 1, NULL, 10);
    tt_expect(t, TCP_ACK, 1, 11, 0);
    assert_int_equal(tcp_abort(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect_rst(t, 1);
    tt_in_data(t, 11, 1, NULL, 10);
    tt_expect_rst(t, 1); /* the RST's seq is the segment's ACK */
    tt_expect_nothing(t);
    tt_free(t);
}

/* RFC 2525 §2.17 and RFC 9293 §3.10.4 (CLOSE): closing with data the
 * application never read resets the connection instead of a FIN. */
static void test_close_with_unread_data_sends_rst_not_fin(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in_data(t, 1, 1, NULL, 10);
    tt_expect(t, TCP_ACK, 1, 11, 0);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    const struct tt_pkt *rst = tt_expect_rst(t, 1);
    (void)rst;
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

/* SO_LINGER {1, 0}: close() is an abort. */
static void test_close_with_linger0_sends_rst(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_LINGER0, 1), 0);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect_rst(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

/* ---- acceptance ------------------------------------------------------------ */

/* §3.10.7.3: "If the ACK was acceptable, then signal to the user 'error:
 * connection reset', drop the segment, enter CLOSED state" — for connect(),
 * ECONNREFUSED. */
static void test_syn_sent_rst_with_acceptable_ack_refuses_connection(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    tt_in(t, TCP_RST | TCP_ACK, 0, 1, NULL);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ECONNREFUSED);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLERR);
    char buf[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), -ECONNREFUSED);
    tt_advance(t, 10 * TT_SEC); /* and the SYN is not retransmitted */
    tt_expect_nothing(t);
    tt_free(t);
}

/* §3.10.7.3: a RST whose ACK is not acceptable is dropped. */
static void test_syn_sent_rst_with_unacceptable_ack_is_ignored(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    tt_in(t, TCP_RST | TCP_ACK, 0, 7, NULL);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_SYN_SENT);
    assert_int_equal(tt_status(t).error, 0);
    tt_free(t);
}

/* §3.10.7.3: "If the ACK bit is not set ... drop the segment" (RST without
 * ACK cannot be matched to our SYN). */
static void test_syn_sent_rst_without_ack_is_ignored(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    tt_in(t, TCP_RST, 0, 0, NULL);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_SYN_SENT);
    tt_free(t);
}

/* RFC 5961 §3.2: "If the RST bit is set and the sequence number exactly
 * matches the next expected sequence number (RCV.NXT), then TCP MUST reset
 * the connection." */
static void test_rst_with_seq_equal_rcv_nxt_resets_connection(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in(t, TCP_RST, 1, 0, NULL);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ECONNRESET);
    char buf[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), -ECONNRESET);
    tt_free(t);
}

/* RFC 5961 §3.2: "If the RST bit is set and the sequence number does not
 * exactly match the next expected sequence value, yet is within the current
 * receive window, TCP MUST send an acknowledgment (challenge ACK):
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>" and keep the connection. */
static void test_rst_in_window_but_not_exact_gets_challenge_ack(void **state)
{
    struct tt *t = tt_established(NULL);
    size_t mark = t->ev_len;
    tt_in(t, TCP_RST, 100, 0, NULL);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_ESTABLISHED);
    assert_int_equal(tt_last_drop_reason(t, mark), TCP_DROP_RST_CHALLENGED);
    /* the connection still works */
    tt_in_data(t, 1, 1, NULL, 5);
    tt_expect(t, TCP_ACK, 1, 6, 0);
    tt_free(t);
}

/* RFC 5961 §3.2: "If the RST bit is set and the sequence number is outside
 * the current receive window, silently drop the segment." */
static void test_rst_out_of_window_is_dropped_silently(void **state)
{
    struct tt *t = tt_established(NULL);
    size_t mark = t->ev_len;
    tt_in(t, TCP_RST, 1 + 200000, 0, NULL); /* beyond RCV.NXT + RCV.WND */
    tt_expect_nothing(t);
    assert_int_equal(tt_last_drop_reason(t, mark), TCP_DROP_RST_OUT_OF_WINDOW);
    mark = t->ev_len;
    tt_in(t, TCP_RST, (uint32_t)-100, 0, NULL); /* before RCV.NXT */
    tt_expect_nothing(t);
    assert_int_equal(tt_last_drop_reason(t, mark), TCP_DROP_RST_OUT_OF_WINDOW);
    tt_assert_state(t, TCP_ESTABLISHED);
    assert_int_equal(tt_status(t).error, 0);
    tt_free(t);
}

/* RFC 5961 §4.2: a SYN in a synchronized state, whatever its sequence
 * number, gets a challenge ACK and the connection is kept. */
static void test_syn_in_established_gets_challenge_ack(void **state)
{
    struct tt *t = tt_established(NULL);
    size_t mark = t->ev_len;
    tt_in(t, TCP_SYN, 1, 0, NULL); /* in window */
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_expect_nothing(t);
    assert_int_equal(tt_last_drop_reason(t, mark), TCP_DROP_SYN_CHALLENGED);
    tt_advance(t, 500 * TT_MS);              /* past the per-connection limit (RFC 5961 §7) */
    tt_in(t, TCP_SYN, 0x40000000u, 0, NULL); /* far outside */
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    assert_int_equal(tt_status(t).error, 0);
    tt_free(t);
}

/* RFC 1337 ("TIME-WAIT assassination"): a RST in TIME_WAIT, even with the
 * exact sequence number, must not cut TIME_WAIT short. */
static void test_rst_in_time_wait_is_ignored(void **state)
{
    struct tt *t = tt_time_wait(NULL);
    size_t mark = t->ev_len;
    tt_in(t, TCP_RST, 2, 0, NULL);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_TIME_WAIT);
    assert_int_equal(tt_last_drop_reason(t, mark), TCP_DROP_RST_IN_TIME_WAIT);
    tt_free(t);
}

/* RFC 9293 §3.10.7.4, fifth: a segment without ACK in a synchronized state
 * is dropped. */
static void test_segment_without_ack_in_established_is_dropped(void **state)
{
    struct tt *t = tt_established(NULL);
    size_t mark = t->ev_len;
    struct tt_seg seg = {.flags = TCP_PSH, .seq = 1, .data = "abc", .len = 3};
    tt_in_seg(t, &seg);
    tt_expect_nothing(t);
    assert_int_equal(tt_last_drop_reason(t, mark), TCP_DROP_NO_ACK);
    char buf[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), -EAGAIN);
    tt_free(t);
}

/* RFC 9293 §3.10.7.4, fifth, ESTABLISHED: "If the ACK acks something not
 * yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment". */
static void test_ack_of_unsent_data_gets_ack_and_is_dropped(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in_data(t, 1, 500, "abc", 3);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    char buf[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), -EAGAIN);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

/* RFC 5961 §5 and Linux's tcp_invalid_ratelimit: a bare ACK outside the
 * window, and an ACK of data never sent, are answered with an ACK at most
 * once per 500 ms per connection, so two ends that disagree cannot ACK each
 * other forever. A segment with text is always answered. */
static void test_rfc5961_s5_acks_to_invalid_segments_are_rate_limited(void **state)
{
    struct tt *t = tt_established(NULL);
    size_t drops = tt_count_drops(t, TCP_DROP_UNACCEPTABLE);
    tt_in(t, TCP_ACK, 200000, 1, NULL); /* beyond the receive window */
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_in(t, TCP_ACK, 200000, 1, NULL);
    tt_expect_nothing(t);                                                  /* throttled ... */
    assert_int_equal(tt_count_drops(t, TCP_DROP_UNACCEPTABLE), drops + 2); /* ... still reported */
    tt_in(t, TCP_ACK, 1, 5000, NULL); /* acknowledges something never sent */
    tt_expect_nothing(t);
    assert_int_equal(tt_last_drop_reason(t, 0), TCP_DROP_BAD_ACK);
    tt_in_data(t, (uint32_t)-100, 1, NULL, 10); /* old text: its sender needs the ACK */
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_advance(t, 500 * TT_MS);
    tt_in(t, TCP_ACK, 1, 5000, NULL);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

/* RFC 5961 §7: "An implementation SHOULD include an ACK throttling
 * mechanism": one challenge ACK per 500 ms per connection. */
static void test_rfc5961_s7_challenge_acks_are_rate_limited(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in(t, TCP_RST, 100, 0, NULL);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_in(t, TCP_RST, 200, 0, NULL);
    tt_in(t, TCP_SYN, 300, 0, NULL);
    tt_expect_nothing(t);
    assert_int_equal(tt_count_drops(t, TCP_DROP_RST_CHALLENGED), 2);
    assert_int_equal(tt_count_drops(t, TCP_DROP_SYN_CHALLENGED), 1);
    tt_advance(t, 499 * TT_MS);
    tt_in(t, TCP_RST, 400, 0, NULL);
    tt_expect_nothing(t);
    tt_advance(t, 1 * TT_MS);
    tt_in(t, TCP_RST, 500, 0, NULL);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syn_to_port_without_listener_gets_rst_ack_acking_seq_plus_one),
        cmocka_unit_test(test_segment_without_ack_to_closed_port_gets_rst_acking_its_length),
        cmocka_unit_test(test_ack_to_port_without_listener_gets_rst_with_seq_of_its_ack),
        cmocka_unit_test(test_rst_to_port_without_listener_is_dropped_silently),
        cmocka_unit_test(test_ack_to_listener_gets_rst_with_seq_of_its_ack),
        cmocka_unit_test(test_rst_to_listener_is_ignored),
        cmocka_unit_test(test_syn_sent_unacceptable_ack_gets_rst_and_connection_stays),
        cmocka_unit_test(test_syn_received_unacceptable_ack_gets_rst),
        cmocka_unit_test(test_abort_sends_rst_at_snd_nxt),
        cmocka_unit_test(test_segment_after_abort_finds_no_connection_and_gets_rst),
        cmocka_unit_test(test_close_with_unread_data_sends_rst_not_fin),
        cmocka_unit_test(test_close_with_linger0_sends_rst),
        cmocka_unit_test(test_syn_sent_rst_with_acceptable_ack_refuses_connection),
        cmocka_unit_test(test_syn_sent_rst_with_unacceptable_ack_is_ignored),
        cmocka_unit_test(test_syn_sent_rst_without_ack_is_ignored),
        cmocka_unit_test(test_rst_with_seq_equal_rcv_nxt_resets_connection),
        cmocka_unit_test(test_rst_in_window_but_not_exact_gets_challenge_ack),
        cmocka_unit_test(test_rst_out_of_window_is_dropped_silently),
        cmocka_unit_test(test_syn_in_established_gets_challenge_ack),
        cmocka_unit_test(test_rst_in_time_wait_is_ignored),
        cmocka_unit_test(test_segment_without_ack_in_established_is_dropped),
        cmocka_unit_test(test_ack_of_unsent_data_gets_ack_and_is_dropped),
        cmocka_unit_test(test_rfc5961_s5_acks_to_invalid_segments_are_rate_limited),
        cmocka_unit_test(test_rfc5961_s7_challenge_acks_are_rate_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
