/*
 * test_tcp_listen.c — passive open (RFC 9293 §3.10.7.2, LISTEN) and the
 * listen backlog: a SYN queue of half-open connections and an accept queue
 * of completed ones, each bounded, both visible in tcp_status(); accept()
 * hands out a new descriptor distinct from the listener.
 */
#include "tcptest.h"

/* The peer's SYN from its port `pport`; true if the listener answered with
 * SYN,ACK (then t->iss is that connection's ISS). */
static bool peer_syn_from(struct tt *t, uint16_t pport)
{
    t->pport = pport;
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *p = tt_next(t);
    if (!p)
        return false;
    if (p->tcp_err != WIRE_OK || p->tcp.flags != (TCP_SYN | TCP_ACK) || p->tcp.dport != pport)
        tt_fail_at(__FILE__, __LINE__, "a SYN was answered with something other than SYN,ACK");
    t->iss = p->tcp.seq;
    return true;
}

/* Complete the handshake of the connection from `pport`. */
static void peer_ack_from(struct tt *t, uint16_t pport, uint32_t iss)
{
    t->pport = pport;
    t->iss = iss;
    tt_in(t, TCP_ACK, 1, 1, NULL);
}

static struct tcp_status listener_status(const struct tt *t)
{
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, t->lsd, &st), 0);
    assert_true(st.listening);
    return st;
}

static void test_accept_returns_a_new_descriptor_distinct_from_the_listener(void **state)
{
    struct tt *t = tt_syn_received(NULL);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    struct tcp_tuple tu;
    memset(&tu, 0, sizeof tu);
    int sd = tcp_accept(t->s, t->now, t->lsd, &tu);
    assert_true(sd >= 0);
    assert_int_not_equal(sd, t->lsd);
    assert_int_equal(tu.raddr, TT_PEER_ADDR);
    assert_int_equal(tu.rport, TT_PEER_CLIENT_PORT);
    assert_int_equal(tu.lport, TT_SERVER_PORT);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, sd, &st), 0);
    assert_int_equal(st.state, TCP_ESTABLISHED);
    assert_false(st.listening);
    assert_int_equal(listener_status(t).state, TCP_LISTEN);
    /* the listener still listens */
    assert_true(peer_syn_from(t, TT_PEER_CLIENT_PORT + 1));
    tt_free(t);
}

static void test_accept_with_no_completed_connection_is_eagain(void **state)
{
    struct tt *t = tt_listener(NULL);
    assert_int_equal(tcp_accept(t->s, t->now, t->lsd, NULL), -EAGAIN);
    assert_false(tcp_poll(t->s, t->lsd) & TCP_POLLIN);
    tt_do_peer_syn(t); /* half-open is not enough */
    assert_int_equal(tcp_accept(t->s, t->now, t->lsd, NULL), -EAGAIN);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    assert_true(tcp_poll(t->s, t->lsd) & TCP_POLLIN);
    assert_true(tcp_accept(t->s, t->now, t->lsd, NULL) >= 0);
    tt_free(t);
}

/* The SYN queue holds half-open connections, the accept queue completed
 * ones; tcp_status() shows both. */
static void test_syn_queue_and_accept_queue_are_visible_in_status(void **state)
{
    struct tt *t = tt_new(NULL);
    tt_do_listen(t, 4);
    struct tcp_status st = listener_status(t);
    assert_int_equal(st.backlog, 4);
    assert_int_equal(st.syn_queue_len, 0);
    assert_int_equal(st.accept_queue_len, 0);
    assert_true(peer_syn_from(t, 50001));
    uint32_t iss1 = t->iss;
    assert_true(peer_syn_from(t, 50002));
    st = listener_status(t);
    assert_int_equal(st.syn_queue_len, 2);
    assert_int_equal(st.accept_queue_len, 0);
    peer_ack_from(t, 50001, iss1);
    tt_expect_nothing(t);
    st = listener_status(t);
    assert_int_equal(st.syn_queue_len, 1);
    assert_int_equal(st.accept_queue_len, 1);
    int sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(sd >= 0);
    st = listener_status(t);
    assert_int_equal(st.syn_queue_len, 1);
    assert_int_equal(st.accept_queue_len, 0);
    tt_free(t);
}

/* A full accept queue: the SYN of one more client is dropped (no SYN,ACK,
 * a TEV_DROP backlog_full), so the client retries later; after accept()
 * makes room, its retransmitted SYN is answered. */
static void test_backlog_overflow_drops_syn_when_accept_queue_full(void **state)
{
    struct tt *t = tt_new(NULL);
    tt_do_listen(t, 2);
    for (uint16_t i = 0; i < 2; i++) {
        assert_true(peer_syn_from(t, 50001 + i));
        peer_ack_from(t, 50001 + i, t->iss);
        tt_expect_nothing(t);
    }
    struct tcp_status st = listener_status(t);
    assert_int_equal(st.accept_queue_len, 2);
    size_t drops = tt_count_drops(t, TCP_DROP_BACKLOG_FULL);
    assert_false(peer_syn_from(t, 50003));
    assert_int_equal(tt_count_drops(t, TCP_DROP_BACKLOG_FULL), drops + 1);
    struct stack_stats ss;
    stack_get_stats(t->s, &ss);
    assert_true(ss.drops_by_reason[STACK_DROP_INDEX(TCP_DROP_BACKLOG_FULL)] >= 1);
    st = listener_status(t);
    assert_int_equal(st.accept_queue_len, 2);
    assert_int_equal(st.syn_queue_len, 0);
    /* room again */
    assert_true(tcp_accept(t->s, t->now, t->lsd, NULL) >= 0);
    assert_true(peer_syn_from(t, 50003));
    tt_free(t);
}

/* The SYN queue is bounded too: a flood of SYNs that never complete does
 * not grow it without limit, and with SYN cookies off the excess is dropped
 * with backlog_full (with cookies, test_tcp_limits.c). */
static void test_syn_queue_is_bounded_and_overflow_is_dropped(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.syncookies = TCP_SYNCOOKIES_NEVER;
    struct tt *t = tt_new(&cfg);
    tt_do_listen(t, 2);
    unsigned answered = 0;
    for (uint16_t i = 0; i < 64; i++)
        answered += peer_syn_from(t, (uint16_t)(40000 + i));
    struct tcp_status st = listener_status(t);
    assert_true(answered < 64);
    assert_int_equal(st.syn_queue_len, answered);
    assert_true(tt_count_drops(t, TCP_DROP_BACKLOG_FULL) >= 64 - answered);
    tt_free(t);
}

/* A retransmitted SYN for a half-open connection is answered with the same
 * SYN,ACK and does not make a second connection. */
static void test_retransmitted_syn_gets_same_synack_and_no_second_connection(void **state)
{
    struct tt *t = tt_syn_received(NULL);
    uint32_t iss = t->iss;
    tt_advance(t, 200 * TT_MS);
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->tcp.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(p->tcp.seq, iss);
    assert_int_equal(p->rack, 1);
    assert_int_equal(listener_status(t).syn_queue_len, 1);
    tt_free(t);
}

/* Data may ride on the ACK completing the handshake; it is delivered to the
 * accepted connection. */
static void test_data_on_the_handshake_ack_reaches_the_accepted_socket(void **state)
{
    struct tt *t = tt_syn_received(NULL);
    tt_in_data(t, 1, 1, "early", 5);
    tt_expect(t, TCP_ACK, 1, 6, 0);
    t->sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(t->sd >= 0);
    char buf[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 5);
    assert_memory_equal(buf, "early", 5);
    tt_free(t);
}

/* Closing a listener (RFC 9293 §3.10.4, CLOSE in LISTEN) must not leave
 * connections nobody will ever accept: a completed one still in the accept
 * queue is reset (as Linux does), and the listener's port is free again. */
static void test_closing_listener_resets_unaccepted_connections(void **state)
{
    struct tt *t = tt_syn_received(NULL);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    assert_int_equal(listener_status(t).accept_queue_len, 1);
    assert_int_equal(tcp_close(t->s, t->now, t->lsd), 0);
    t->lsd = -1;
    tt_expect_rst(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    int sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_bind(t->s, t->now, sd, TT_SERVER_PORT), 0);
    tt_free(t);
}

/* ... and a half-open connection is forgotten with its listener: the
 * peer's ACK that would have completed it gets a reset (<SEQ=SEG.ACK>). */
static void test_closing_listener_forgets_half_open_connections(void **state)
{
    struct tt *t = tt_syn_received(NULL);
    assert_int_equal(tcp_close(t->s, t->now, t->lsd), 0);
    t->lsd = -1;
    tt_drain(t);
    tt_assert_state(t, TCP_CLOSED);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_RST, 1, 0, 0);
    tt_free(t);
}

/* RFC 5961 §3.2 holds in SYN_RECEIVED too: a RST in the window but not at
 * RCV.NXT gets a challenge ACK and the half-open connection stays. */
static void test_syn_received_rst_in_window_but_not_exact_gets_challenge_ack(void **state)
{
    struct tt *t = tt_syn_received(NULL);
    tt_in(t, TCP_RST, 10, 0, NULL);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_SYN_RECEIVED);
    assert_int_equal(listener_status(t).syn_queue_len, 1);
    tt_free(t);
}

/* The connection table keeps many connections apart: 300 clients to one
 * listener, each sending its own message, each answered on its own
 * connection (lookup by 4-tuple, docs/architecture.md). */
static void test_many_concurrent_connections_keep_their_data_apart(void **state)
{
    enum { N = 300 };
    struct tt_pair *p = tt_pair_new(NULL, NULL, 7);
    p->record = false;
    uint64_t now = tt_pair_now(p);
    p->lsd = tcp_socket(p->s, now);
    assert_int_equal(tcp_bind(p->s, now, p->lsd, TT_SERVER_PORT), 0);
    assert_int_equal(tcp_listen(p->s, now, p->lsd, N), 0);
    int csd[N], ssd[N];
    for (int i = 0; i < N; i++) {
        csd[i] = tcp_socket(p->c, now);
        assert_true(csd[i] >= 0);
        assert_int_equal(tcp_connect(p->c, now, csd[i], TT_PEER_ADDR, TT_SERVER_PORT), 0);
    }
    tt_pair_run(p, 1 * TT_SEC);
    int accepted = 0;
    for (;;) {
        struct tcp_tuple tu;
        int sd = tcp_accept(p->s, tt_pair_now(p), p->lsd, &tu);
        if (sd < 0)
            break;
        ssd[accepted++] = sd;
    }
    assert_int_equal(accepted, N);
    for (int i = 0; i < N; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "client %d", i);
        assert_int_equal(tcp_send(p->c, tt_pair_now(p), csd[i], msg, (size_t)len), len);
    }
    tt_pair_run(p, 1 * TT_SEC);
    /* each server socket echoes what it got back on the same connection */
    for (int i = 0; i < N; i++) {
        char buf[64];
        ssize_t n = tcp_recv(p->s, tt_pair_now(p), ssd[i], buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal(tcp_send(p->s, tt_pair_now(p), ssd[i], buf, (size_t)n), n);
    }
    tt_pair_run(p, 1 * TT_SEC);
    for (int i = 0; i < N; i++) {
        char want[32], buf[64];
        int len = snprintf(want, sizeof want, "client %d", i);
        ssize_t n = tcp_recv(p->c, tt_pair_now(p), csd[i], buf, sizeof buf);
        assert_int_equal(n, len);
        assert_memory_equal(buf, want, (size_t)len);
    }
    tt_pair_free(p);
}

/* When the ephemeral port range is used up, connect() fails with an error
 * and sends nothing — it does not reuse a port in use. */
static void test_connect_fails_cleanly_when_ephemeral_ports_run_out(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.ephemeral_lo = 40000;
    cfg.ephemeral_hi = 40002;
    struct tt *t = tt_new(&cfg);
    uint16_t ports[3];
    for (int i = 0; i < 3; i++) {
        int sd = tcp_socket(t->s, t->now);
        assert_int_equal(tcp_connect(t->s, t->now, sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
        const struct tt_pkt *syn = tt_next(t);
        assert_non_null(syn);
        ports[i] = syn->tcp.sport;
        assert_true(ports[i] >= 40000 && ports[i] <= 40002);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(ports[i], ports[j]);
    }
    int sd = tcp_socket(t->s, t->now);
    int rc = tcp_connect(t->s, t->now, sd, TT_PEER_ADDR, TT_SERVER_PORT);
    assert_true(rc < 0);
    tt_expect_nothing(t);
    tt_free(t);
}

/* The descriptor table is bounded by cfg.max_sockets: one more socket()
 * fails with an error instead of growing without limit. */
static void test_socket_fails_cleanly_when_descriptors_run_out(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.max_sockets = 4;
    struct tt *t = tt_new(&cfg);
    for (int i = 0; i < 4; i++)
        assert_true(tcp_socket(t->s, t->now) >= 0);
    assert_true(tcp_socket(t->s, t->now) < 0);
    tt_free(t);
}

/* The ACK completing a handshake finds the accept queue full: it is
 * dropped (the connection stays half-open, docs/engine.md, as Linux), and
 * once accept() has made room the SYN,ACK retransmission gets the
 * handshake completed. */
static void test_handshake_completed_when_accept_queue_has_room_again(void **state)
{
    struct tt *t = tt_new(NULL);
    tt_do_listen(t, 2);
    assert_true(peer_syn_from(t, 50001)); /* B: stays half-open for now */
    uint32_t iss_b = t->iss;
    for (uint16_t port = 50002; port <= 50003; port++) { /* A and C complete */
        assert_true(peer_syn_from(t, port));
        peer_ack_from(t, port, t->iss);
    }
    assert_int_equal(listener_status(t).accept_queue_len, 2); /* full */
    peer_ack_from(t, 50001, iss_b);                           /* B's ACK finds it full: dropped */
    tt_expect_nothing(t);
    assert_int_equal(listener_status(t).accept_queue_len, 2);
    assert_int_equal(listener_status(t).syn_queue_len, 1);
    assert_true(tcp_accept(t->s, t->now, t->lsd, NULL) >= 0);
    /* B's SYN,ACK is retransmitted and B answers it */
    assert_int_not_equal(tt_wait_output(t, 10 * TT_SEC), TCP_TIME_NEVER);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->tcp.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(p->tcp.dport, 50001);
    peer_ack_from(t, 50001, iss_b);
    assert_int_equal(listener_status(t).accept_queue_len, 2);
    assert_int_equal(listener_status(t).syn_queue_len, 0);
    tt_free(t);
}

/* Text on a SYN is not kept (docs/engine.md: as Linux without Fast Open):
 * the SYN,ACK acknowledges the SYN only, so the peer sends the text again,
 * and it is delivered exactly once. */
static void test_data_on_syn_is_not_acknowledged_and_arrives_once_when_resent(void **state)
{
    struct tt *t = tt_listener(NULL);
    struct tt_seg syn = {.flags = TCP_SYN,
                         .seq = 0,
                         .data = "abc",
                         .len = 3,
                         .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->tcp.flags, TCP_SYN | TCP_ACK);
    t->iss = p->tcp.seq;
    assert_int_equal(p->tcp.ack, t->peer_isn + 1);
    tt_in_data(t, 1, 1, "abc", 3);
    tt_expect(t, TCP_ACK, 1, 4, 0);
    t->sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(t->sd >= 0);
    char buf[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 3);
    assert_memory_equal(buf, "abc", 3);
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), -EAGAIN);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_returns_a_new_descriptor_distinct_from_the_listener),
        cmocka_unit_test(test_accept_with_no_completed_connection_is_eagain),
        cmocka_unit_test(test_syn_queue_and_accept_queue_are_visible_in_status),
        cmocka_unit_test(test_backlog_overflow_drops_syn_when_accept_queue_full),
        cmocka_unit_test(test_syn_queue_is_bounded_and_overflow_is_dropped),
        cmocka_unit_test(test_retransmitted_syn_gets_same_synack_and_no_second_connection),
        cmocka_unit_test(test_data_on_the_handshake_ack_reaches_the_accepted_socket),
        cmocka_unit_test(test_closing_listener_resets_unaccepted_connections),
        cmocka_unit_test(test_closing_listener_forgets_half_open_connections),
        cmocka_unit_test(test_many_concurrent_connections_keep_their_data_apart),
        cmocka_unit_test(test_connect_fails_cleanly_when_ephemeral_ports_run_out),
        cmocka_unit_test(test_socket_fails_cleanly_when_descriptors_run_out),
        cmocka_unit_test(test_handshake_completed_when_accept_queue_has_room_again),
        cmocka_unit_test(test_data_on_syn_is_not_acknowledged_and_arrives_once_when_resent),
        cmocka_unit_test(test_syn_received_rst_in_window_but_not_exact_gets_challenge_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
