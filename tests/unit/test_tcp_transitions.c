/*
 * test_tcp_transitions.c — every edge of RFC 9293 Figure 5 (and the edges
 * its text adds, as listed in tcp_transitions[]), one test per edge, each
 * named after the edge and its trigger. The last test checks that the tests
 * before it, together, took every edge of the table: if an edge is added to
 * tcp_transitions[], this file must grow a test for it.
 */
#include "tcptest.h"

/* ---- opening ------------------------------------------------------------ */

static void test_closed_to_listen_on_passive_open(void **state)
{
    struct tt *t = tt_new(NULL);
    tt_do_listen(t, 4);
    tt_expect_state_event(t, TCP_CLOSED, TCP_LISTEN, NULL);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, t->lsd, &st), 0);
    assert_int_equal(st.state, TCP_LISTEN);
    assert_true(st.listening);
    tt_expect_nothing(t);
    tt_free(t);
}

static void test_closed_to_syn_sent_on_active_open(void **state)
{
    struct tt *t = tt_new(NULL);
    t->sd = tcp_socket(t->s, t->now);
    assert_true(t->sd >= 0);
    assert_int_equal(tcp_connect(t->s, t->now, t->sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
    const struct tt_pkt *syn = tt_next(t);
    assert_non_null(syn);
    assert_int_equal(syn->tcp.flags, TCP_SYN);
    t->iss = syn->tcp.seq;
    t->sport = syn->tcp.sport;
    t->pport = TT_SERVER_PORT;
    /* The SYN carries our MSS (RFC 9293 §3.7.1). */
    assert_true(syn->tcp.opts.has_mss);
    assert_int_equal(syn->tcp.opts.mss, 1460);
    assert_int_equal(syn->tcp.payload_len, 0);
    tt_expect_state_event(t, TCP_CLOSED, TCP_SYN_SENT, NULL);
    tt_assert_state(t, TCP_SYN_SENT);
    tt_free(t);
}

static void test_listen_to_syn_received_on_syn(void **state)
{
    struct tt *t = tt_listener(NULL);
    tt_do_peer_syn(t);
    tt_expect_state_event(t, TCP_LISTEN, TCP_SYN_RECEIVED, NULL);
    tt_assert_state(t, TCP_SYN_RECEIVED);
    /* The listener itself stays in LISTEN. */
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, t->lsd, &st), 0);
    assert_int_equal(st.state, TCP_LISTEN);
    tt_free(t);
}

/* RFC 9293 §3.10.2, SEND in LISTEN: "If the remote socket is specified, then
 * change the connection from passive to active, select an ISS. Send a SYN
 * segment ... Enter SYN-SENT state." The socket API's way of naming the
 * remote socket is connect(). */
static void test_listen_to_syn_sent_on_send(void **state)
{
    struct tt *t = tt_listener(NULL);
    assert_int_equal(tcp_connect(t->s, t->now, t->lsd, TT_PEER_ADDR, 81), 0);
    const struct tt_pkt *syn = tt_next(t);
    assert_non_null(syn);
    assert_int_equal(syn->tcp.flags, TCP_SYN);
    assert_int_equal(syn->tcp.sport, TT_SERVER_PORT);
    assert_int_equal(syn->tcp.dport, 81);
    tt_expect_state_event(t, TCP_LISTEN, TCP_SYN_SENT, NULL);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, t->lsd, &st), 0);
    assert_int_equal(st.state, TCP_SYN_SENT);
    tt_free(t);
}

static void test_listen_to_closed_on_close(void **state)
{
    struct tt *t = tt_listener(NULL);
    assert_int_equal(tcp_close(t->s, t->now, t->lsd), 0);
    tt_expect_state_event(t, TCP_LISTEN, TCP_CLOSED, NULL);
    tt_expect_nothing(t);
    /* Nobody listens any more: a SYN is refused. */
    tt_in(t, TCP_SYN, 0, 0, NULL);
    const struct tt_pkt *rst = tt_next(t);
    assert_non_null(rst);
    assert_int_equal(rst->tcp.flags, TCP_RST | TCP_ACK);
    tt_free(t);
}

/* Simultaneous open, RFC 9293 §3.5 Figure 8: a SYN arrives while our own SYN
 * is out; we answer SYN,ACK with our same ISS and wait for its ACK. */
static void test_syn_sent_to_syn_received_on_simultaneous_syn(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &syn);
    tt_expect(t, TCP_SYN | TCP_ACK, 0, 1, 0);
    tt_expect_state_event(t, TCP_SYN_SENT, TCP_SYN_RECEIVED, NULL);
    tt_assert_state(t, TCP_SYN_RECEIVED);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_SYN_RECEIVED, TCP_ESTABLISHED, NULL);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

static void test_syn_sent_to_established_on_syn_ack(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    struct tt_seg synack = {
        .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_expect_state_event(t, TCP_SYN_SENT, TCP_ESTABLISHED, NULL);
    tt_assert_state(t, TCP_ESTABLISHED);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.iss, t->iss);
    assert_int_equal(st.irs, t->peer_isn);
    assert_int_equal(st.snd_una, t->iss + 1);
    assert_int_equal(st.snd_nxt, t->iss + 1);
    assert_int_equal(st.rcv_nxt, t->peer_isn + 1);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLOUT);
    tt_free(t);
}

/* RFC 9293 §3.10.4, CLOSE in SYN-SENT: delete the TCB; nothing is sent. */
static void test_syn_sent_to_closed_on_close(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect_state_event(t, TCP_SYN_SENT, TCP_CLOSED, NULL);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_CLOSED);
    /* and no retransmission of the SYN later */
    tt_advance(t, 10 * TT_SEC);
    tt_expect_nothing(t);
    tt_free(t);
}

static void test_syn_sent_to_closed_on_rst(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    tt_in(t, TCP_RST | TCP_ACK, 0, 1, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_SYN_SENT, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

static void test_syn_received_to_established_on_ack_of_syn(void **state)
{
    struct tt *t = tt_syn_received(NULL);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_SYN_RECEIVED, TCP_ESTABLISHED, NULL);
    tt_assert_state(t, TCP_ESTABLISHED);
    int sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(sd >= 0);
    assert_int_not_equal(sd, t->lsd);
    tt_free(t);
}

/* RFC 9293 §3.10.4, CLOSE in SYN-RECEIVED with nothing to send: send FIN,
 * enter FIN-WAIT-1. A connection in SYN_RECEIVED with a descriptor comes
 * from a simultaneous open. */
static void test_syn_received_to_fin_wait_1_on_close(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    tt_in(t, TCP_SYN, 0, 0, NULL);
    tt_expect(t, TCP_SYN | TCP_ACK, 0, 1, 0);
    tt_assert_state(t, TCP_SYN_RECEIVED);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    tt_expect_state_event(t, TCP_SYN_RECEIVED, TCP_FIN_WAIT_1, NULL);
    tt_assert_state(t, TCP_FIN_WAIT_1);
    tt_free(t);
}

/* RFC 9293 §3.10.7.4, SYN-RECEIVED, RST: "If this connection was initiated
 * with a passive OPEN, then return this connection to the LISTEN state". */
static void test_syn_received_to_listen_on_rst(void **state)
{
    struct tt *t = tt_syn_received(NULL);
    tt_in(t, TCP_RST, 1, 0, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_SYN_RECEIVED, TCP_LISTEN, NULL);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, t->lsd, &st), 0);
    assert_int_equal(st.state, TCP_LISTEN);
    assert_int_equal(st.syn_queue_len, 0);
    assert_int_equal(st.accept_queue_len, 0);
    assert_int_equal(tcp_accept(t->s, t->now, t->lsd, NULL), -EAGAIN);
    tt_free(t);
}

/* ... "If this connection was initiated with an active OPEN (i.e., came
 * from SYN-SENT state), then the connection was refused". */
static void test_syn_received_to_closed_on_rst_after_active_open(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    tt_in(t, TCP_SYN, 0, 0, NULL);
    tt_expect(t, TCP_SYN | TCP_ACK, 0, 1, 0);
    tt_in(t, TCP_RST, 1, 0, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_SYN_RECEIVED, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ECONNREFUSED);
    tt_free(t);
}

/* ---- closing ------------------------------------------------------------- */

static void test_established_to_fin_wait_1_on_close(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    tt_expect_state_event(t, TCP_ESTABLISHED, TCP_FIN_WAIT_1, NULL);
    tt_assert_state(t, TCP_FIN_WAIT_1);
    tt_free(t);
}

static void test_established_to_close_wait_on_fin(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 1, 2, 0);
    tt_expect_state_event(t, TCP_ESTABLISHED, TCP_CLOSE_WAIT, NULL);
    tt_assert_state(t, TCP_CLOSE_WAIT);
    tt_free(t);
}

static void test_fin_wait_1_to_fin_wait_2_on_ack_of_fin(void **state)
{
    struct tt *t = tt_fin_wait_1(NULL);
    tt_in(t, TCP_ACK, 1, 2, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, NULL);
    tt_assert_state(t, TCP_FIN_WAIT_2);
    tt_free(t);
}

/* Simultaneous close, RFC 9293 §3.6 Figure 13. */
static void test_fin_wait_1_to_closing_on_fin(void **state)
{
    struct tt *t = tt_fin_wait_1(NULL);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_expect_state_event(t, TCP_FIN_WAIT_1, TCP_CLOSING, NULL);
    tt_assert_state(t, TCP_CLOSING);
    tt_free(t);
}

/* RFC 9293 §3.10.7.4: a FIN,ACK that acknowledges our FIN in FIN-WAIT-1 is
 * taken in the RFC's step order — the fifth step (ACK): "if the FIN segment
 * is now acknowledged, then enter FIN-WAIT-2 and continue processing in that
 * state"; the eighth step (FIN) in FIN-WAIT-2: "Enter the TIME-WAIT state".
 * Two transitions, in that order, as Linux and BSD report them (the table
 * has no FIN_WAIT_1 -> TIME_WAIT edge). */
static void test_fin_wait_1_through_fin_wait_2_to_time_wait_on_fin_acking_our_fin(void **state)
{
    struct tt *t = tt_fin_wait_1(NULL);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    /* tt_expect_state_event looks on from the last match: this checks the order */
    tt_expect_state_event(t, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, "ACK of FIN");
    tt_expect_state_event(t, TCP_FIN_WAIT_2, TCP_TIME_WAIT, "FIN");
    assert_false(tcp_transition_legal(TCP_FIN_WAIT_1, TCP_TIME_WAIT));
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_free(t);
}

static void test_fin_wait_2_to_time_wait_on_fin(void **state)
{
    struct tt *t = tt_fin_wait_2(NULL);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_expect_state_event(t, TCP_FIN_WAIT_2, TCP_TIME_WAIT, NULL);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_free(t);
}

static void test_closing_to_time_wait_on_ack_of_fin(void **state)
{
    struct tt *t = tt_closing(NULL);
    tt_in(t, TCP_ACK, 2, 2, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_CLOSING, TCP_TIME_WAIT, NULL);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_free(t);
}

static void test_close_wait_to_last_ack_on_close(void **state)
{
    struct tt *t = tt_close_wait(NULL);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 2, 0);
    tt_expect_state_event(t, TCP_CLOSE_WAIT, TCP_LAST_ACK, NULL);
    tt_assert_state(t, TCP_LAST_ACK);
    tt_free(t);
}

static void test_last_ack_to_closed_on_ack_of_fin(void **state)
{
    struct tt *t = tt_last_ack(NULL);
    tt_in(t, TCP_ACK, 2, 2, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_LAST_ACK, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

static void test_time_wait_to_closed_on_2msl_timeout(void **state)
{
    struct tt *t = tt_time_wait(NULL);
    tt_advance(t, 2 * TT_MSL_US);
    tt_expect_state_event(t, TCP_TIME_WAIT, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_expect_nothing(t);
    tt_free(t);
}

/* ---- reset and abort in the synchronized states (RFC 9293 §3.10.7.4,
 * "second, check the RST bit"; RFC 5961 §3.2: the RST must carry exactly
 * RCV.NXT to be accepted) ------------------------------------------------- */

static void test_established_to_closed_on_rst(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_in(t, TCP_RST, 1, 0, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_ESTABLISHED, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

static void test_established_to_closed_on_abort(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_abort(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect_rst(t, 1);
    tt_expect_state_event(t, TCP_ESTABLISHED, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

static void test_fin_wait_1_to_closed_on_rst(void **state)
{
    struct tt *t = tt_fin_wait_1(NULL);
    tt_in(t, TCP_RST, 1, 0, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_FIN_WAIT_1, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

static void test_fin_wait_2_to_closed_on_rst(void **state)
{
    struct tt *t = tt_fin_wait_2(NULL);
    tt_in(t, TCP_RST, 1, 0, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_FIN_WAIT_2, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

static void test_close_wait_to_closed_on_rst(void **state)
{
    struct tt *t = tt_close_wait(NULL);
    tt_in(t, TCP_RST, 2, 0, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_CLOSE_WAIT, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ECONNRESET);
    tt_free(t);
}

static void test_closing_to_closed_on_rst(void **state)
{
    struct tt *t = tt_closing(NULL);
    tt_in(t, TCP_RST, 2, 0, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_CLOSING, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

static void test_last_ack_to_closed_on_rst(void **state)
{
    struct tt *t = tt_last_ack(NULL);
    tt_in(t, TCP_RST, 2, 0, NULL);
    tt_expect_nothing(t);
    tt_expect_state_event(t, TCP_LAST_ACK, TCP_CLOSED, NULL);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

/* Every TEV_STATE event says what caused it (the UI and the traces print
 * it), and every state change is a legal edge of the table. */
static void test_every_state_event_names_its_cause_and_is_legal(void **state)
{
    struct tt *(*builders[])(const struct stack_config *) = {
        tt_syn_received, tt_established_passive, tt_time_wait, tt_closing, tt_last_ack,
    };
    for (size_t b = 0; b < sizeof builders / sizeof builders[0]; b++) {
        struct tt *t = builders[b](NULL);
        tt_advance(t, 3 * TT_MSL_US);
        size_t n = 0;
        for (size_t i = 0; i < t->ev_len; i++) {
            const struct tev *ev = t->ev[i];
            if (ev->kind != TEV_STATE)
                continue;
            n++;
            if (!ev->u.state.cause || !ev->u.state.cause[0])
                tt_fail_at(__FILE__, __LINE__, "state event %s -> %s has no cause",
                           tcp_state_name(ev->u.state.from), tcp_state_name(ev->u.state.to));
            if (!tcp_transition_legal(ev->u.state.from, ev->u.state.to))
                tt_fail_at(__FILE__, __LINE__, "state event %s -> %s is not in tcp_transitions[]",
                           tcp_state_name(ev->u.state.from), tcp_state_name(ev->u.state.to));
        }
        assert_true(n >= 2);
        tt_free(t);
    }
}

/* Every packet the stack sends is reported once as an outgoing TEV_SEGMENT
 * (the traces, the pcap and the UI rely on it), with the same bytes. */
static void test_every_sent_segment_is_reported_once(void **state)
{
    struct tt *t = tt_time_wait(NULL);
    tt_advance(t, 3 * TT_MSL_US);
    size_t n = 0;
    for (size_t i = 0; i < t->ev_len; i++) {
        const struct tev *ev = t->ev[i];
        if (ev->kind != TEV_SEGMENT || ev->u.seg.dir != TEV_OUT)
            continue;
        assert_true(n < t->out_len);
        assert_int_equal(ev->u.seg.raw_len, t->out[n].len);
        assert_memory_equal(ev->u.seg.raw, t->out[n].raw, t->out[n].len);
        n++;
    }
    assert_int_equal(n, t->out_len);
    assert_true(n >= 3);
    tt_free(t);
}

/* Each socket call is reported as a TEV_CALL with its result. */
static void test_socket_calls_are_reported_with_their_results(void **state)
{
    struct tt *t = tt_new(NULL);
    int sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_connect(t->s, t->now, sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
    char c;
    assert_int_equal(tcp_recv(t->s, t->now, sd, &c, 1), -EAGAIN);
    bool saw_socket = false, saw_connect = false, saw_recv = false;
    for (size_t i = 0; i < t->ev_len; i++) {
        const struct tev *ev = t->ev[i];
        if (ev->kind != TEV_CALL)
            continue;
        if (ev->u.call.call == TCP_CALL_SOCKET && ev->u.call.result == sd)
            saw_socket = true;
        if (ev->u.call.call == TCP_CALL_CONNECT && ev->u.call.result == 0 && ev->sd == sd)
            saw_connect = true;
        if (ev->u.call.call == TCP_CALL_RECV && ev->u.call.result == -EAGAIN)
            saw_recv = true;
    }
    assert_true(saw_socket);
    assert_true(saw_connect);
    assert_true(saw_recv);
    tt_free(t);
}

/* ---- the whole table ------------------------------------------------------- */

/* Runs last: every edge of tcp_transitions[] must have been reported as a
 * TEV_STATE event by one of the tests above. */
static void test_every_figure_5_transition_is_exercised(void **state)
{
    char missing[2048] = "";
    size_t n = 0, nmissing = 0;
    for (size_t i = 0; i < tcp_ntransitions; i++) {
        const struct tcp_transition *e = &tcp_transitions[i];
        if (tt_edge_seen(e->from, e->to))
            continue;
        nmissing++;
        if (n < sizeof missing - 80)
            n += (size_t)snprintf(missing + n, sizeof missing - n, "\n  %s -> %s (%s)",
                                  tcp_state_name(e->from), tcp_state_name(e->to), e->event);
    }
    if (nmissing)
        tt_fail_at(__FILE__, __LINE__, "%zu edge(s) of tcp_transitions[] never observed:%s",
                   nmissing, missing);
}

/* States a sampler missed: the shortest way through the table between two
 * seen, each step of it a legal edge; nothing for a direct edge. */
static void test_state_path_names_the_states_passed_unseen(void **state)
{
    (void)state;
    enum tcp_state via[TCP_NSTATES];
    assert_int_equal(tcp_state_path(TCP_SYN_SENT, TCP_ESTABLISHED, via, TCP_NSTATES), 0);
    assert_int_equal(tcp_state_path(TCP_LISTEN, TCP_LISTEN, via, TCP_NSTATES), 0);
    assert_int_equal(tcp_state_path(TCP_SYN_SENT, TCP_FIN_WAIT_1, via, TCP_NSTATES), 1);
    assert_int_equal(via[0], TCP_ESTABLISHED);
    assert_int_equal(tcp_state_path(TCP_ESTABLISHED, TCP_TIME_WAIT, via, TCP_NSTATES), 2);
    assert_int_equal(via[0], TCP_FIN_WAIT_1);
    assert_int_equal(via[1], TCP_FIN_WAIT_2);
    assert_int_equal(tcp_state_path(TCP_ESTABLISHED, TCP_LAST_ACK, via, TCP_NSTATES), 1);
    assert_int_equal(via[0], TCP_CLOSE_WAIT);
    for (int from = 0; from < TCP_NSTATES; from++)
        for (int to = 0; to < TCP_NSTATES; to++) {
            size_t n = tcp_state_path(from, to, via, TCP_NSTATES);
            enum tcp_state at = (enum tcp_state)from;
            for (size_t i = 0; i < n; i++) {
                assert_true(tcp_transition_legal(at, via[i]));
                at = via[i];
            }
            if (n)
                assert_true(tcp_transition_legal(at, (enum tcp_state)to));
        }
    /* A short buffer gets the first states, the count stays true. */
    assert_int_equal(tcp_state_path(TCP_ESTABLISHED, TCP_TIME_WAIT, via, 1), 2);
    assert_int_equal(via[0], TCP_FIN_WAIT_1);
    assert_int_equal(tcp_state_path(TCP_NSTATES, TCP_CLOSED, via, TCP_NSTATES), 0);
}

int main(void)
{
    tt_edges_reset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_to_listen_on_passive_open),
        cmocka_unit_test(test_closed_to_syn_sent_on_active_open),
        cmocka_unit_test(test_listen_to_syn_received_on_syn),
        cmocka_unit_test(test_listen_to_syn_sent_on_send),
        cmocka_unit_test(test_listen_to_closed_on_close),
        cmocka_unit_test(test_syn_sent_to_syn_received_on_simultaneous_syn),
        cmocka_unit_test(test_syn_sent_to_established_on_syn_ack),
        cmocka_unit_test(test_syn_sent_to_closed_on_close),
        cmocka_unit_test(test_syn_sent_to_closed_on_rst),
        cmocka_unit_test(test_syn_received_to_established_on_ack_of_syn),
        cmocka_unit_test(test_syn_received_to_fin_wait_1_on_close),
        cmocka_unit_test(test_syn_received_to_listen_on_rst),
        cmocka_unit_test(test_syn_received_to_closed_on_rst_after_active_open),
        cmocka_unit_test(test_established_to_fin_wait_1_on_close),
        cmocka_unit_test(test_established_to_close_wait_on_fin),
        cmocka_unit_test(test_fin_wait_1_to_fin_wait_2_on_ack_of_fin),
        cmocka_unit_test(test_fin_wait_1_to_closing_on_fin),
        cmocka_unit_test(test_fin_wait_1_through_fin_wait_2_to_time_wait_on_fin_acking_our_fin),
        cmocka_unit_test(test_fin_wait_2_to_time_wait_on_fin),
        cmocka_unit_test(test_closing_to_time_wait_on_ack_of_fin),
        cmocka_unit_test(test_close_wait_to_last_ack_on_close),
        cmocka_unit_test(test_last_ack_to_closed_on_ack_of_fin),
        cmocka_unit_test(test_time_wait_to_closed_on_2msl_timeout),
        cmocka_unit_test(test_established_to_closed_on_rst),
        cmocka_unit_test(test_established_to_closed_on_abort),
        cmocka_unit_test(test_fin_wait_1_to_closed_on_rst),
        cmocka_unit_test(test_fin_wait_2_to_closed_on_rst),
        cmocka_unit_test(test_close_wait_to_closed_on_rst),
        cmocka_unit_test(test_closing_to_closed_on_rst),
        cmocka_unit_test(test_last_ack_to_closed_on_rst),
        cmocka_unit_test(test_every_state_event_names_its_cause_and_is_legal),
        cmocka_unit_test(test_socket_calls_are_reported_with_their_results),
        cmocka_unit_test(test_every_sent_segment_is_reported_once),
        /* must stay last */
        cmocka_unit_test(test_every_figure_5_transition_is_exercised),
        cmocka_unit_test(test_state_path_names_the_states_passed_unseen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
