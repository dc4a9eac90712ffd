/*
 * test_tcp_open.c — opening a connection (RFC 9293 §3.5): the options the
 * handshake negotiates (MSS, §3.7.1; window scale, RFC 7323 §2), the numbers
 * it sets up, and simultaneous open between two real stacks.
 */
#include "tcptest.h"

static struct tt *established_with_synack(const struct stack_config *cfg,
                                          const struct wire_tcp_opts *opts, uint16_t win)
{
    struct tt *t = tt_syn_sent(cfg);
    struct tt_seg synack = {
        .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1, .opts = *opts, .win = win};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    return t;
}

/* RFC 9293 §3.7.1: the segments we send are no larger than the MSS the
 * peer announced. */
static void test_mss_negotiation_uses_the_peer_mss(void **state)
{
    struct wire_tcp_opts o = {.has_mss = true, .mss = 536};
    struct tt *t = established_with_synack(NULL, &o, 0);
    assert_int_equal(tt_status(t).mss, 536);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    static char buf[1000];
    memset(buf, 'm', sizeof buf);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, sizeof buf), 1000);
    tt_expect(t, TCP_ACK, 1, 1, 536);
    tt_expect(t, TCP_ACK, 537, 1, 464);
    tt_free(t);
}

/* ... and no larger than our own MSS either. */
static void test_mss_negotiation_uses_our_mss_when_smaller(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.mss = 1000;
    struct tt *t = tt_syn_sent(&cfg);
    struct tt_seg synack = {
        .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(tt_status(t).mss, 1000);
    tt_free(t);
}

static void test_syn_announces_the_configured_mss(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.mss = 1200;
    struct tt *t = tt_new(&cfg);
    t->sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_connect(t->s, t->now, t->sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
    const struct tt_pkt *syn = tt_next(t);
    assert_non_null(syn);
    assert_true(syn->tcp.opts.has_mss);
    assert_int_equal(syn->tcp.opts.mss, 1200);
    tt_free(t);
}

/* RFC 9293 §3.7.1: without an MSS option the peer is assumed to take 536. */
static void test_mss_defaults_to_536_without_the_option(void **state)
{
    struct wire_tcp_opts none = {0};
    struct tt *t = established_with_synack(NULL, &none, 0);
    assert_int_equal(tt_status(t).mss, 536);
    tt_free(t);
}

/* RFC 7323 §2.2/2.3: window scaling is in effect only if both SYNs carry
 * the option; then windows in non-SYN segments are shifted. */
static void test_window_scale_is_used_when_both_offer_it(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.window_scaling = true;
    cfg.wscale = 7;
    cfg.rcvbuf = 256 * 1024;
    struct tt *t = tt_new(&cfg);
    tt_do_connect(t);
    /* our SYN offered shift 7 */
    const struct tt_pkt *syn = &t->out[t->out_head - 1];
    assert_true(syn->tcp.opts.has_wscale);
    assert_int_equal(syn->tcp.opts.wscale, 7);
    struct tt_seg synack = {
        .flags = TCP_SYN | TCP_ACK,
        .seq = 0,
        .ack = 1,
        .opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 2}};
    tt_in_seg(t, &synack);
    const struct tt_pkt *ack = tt_expect(t, TCP_ACK, 1, 1, 0);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.snd_wscale, 2);
    assert_int_equal(st.rcv_wscale, 7);
    /* our advertised window is our receive window shifted right by 7 */
    assert_int_equal(ack->tcp.win, st.rcv_wnd >> 7);
    assert_true(st.rcv_wnd > 65535);
    /* the peer's window field is shifted left by 2 */
    tt_in_win(t, TCP_ACK, 1, 1, 1000);
    assert_int_equal(tt_status(t).snd_wnd, 4000);
    tt_free(t);
}

static void test_window_scale_is_not_used_when_the_peer_does_not_offer_it(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.window_scaling = true;
    cfg.rcvbuf = 256 * 1024;
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460};
    struct tt *t = established_with_synack(&cfg, &o, 0);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.snd_wscale, 0);
    assert_int_equal(st.rcv_wscale, 0);
    tt_in_win(t, TCP_ACK, 1, 1, 1000);
    assert_int_equal(tt_status(t).snd_wnd, 1000);
    /* our window field is unscaled and so at most 65535 */
    tt_in_data(t, 1, 1, NULL, 10);
    const struct tt_pkt *ack = tt_expect(t, TCP_ACK, 1, 11, 0);
    assert_true(ack->tcp.win <= 65535);
    assert_true(ack->tcp.win >= 60000);
    tt_free(t);
}

/* RFC 7323 §2.2: a SYN,ACK may carry the option only if the SYN did. */
static void test_synack_carries_window_scale_only_if_the_syn_did(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.window_scaling = true;
    struct tt *t = tt_listener(&cfg);
    tt_do_peer_syn(t); /* a SYN without window scale */
    const struct tt_pkt *synack = &t->out[t->out_head - 1];
    assert_false(synack->tcp.opts.has_wscale);
    tt_free(t);

    t = tt_listener(&cfg);
    struct tt_seg syn = {.flags = TCP_SYN,
                         .seq = 0,
                         .opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 3}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->tcp.flags, TCP_SYN | TCP_ACK);
    assert_true(p->tcp.opts.has_wscale);
    assert_int_equal(p->tcp.opts.wscale, 7);
    tt_free(t);
}

/* RFC 7323 §2.3: a shift above 14 is used as 14. */
static void test_window_scale_above_14_is_used_as_14(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.window_scaling = true;
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 15};
    struct tt *t = established_with_synack(&cfg, &o, 0);
    assert_int_equal(tt_status(t).snd_wscale, 14);
    tt_free(t);
}

/* With window scaling switched off, neither SYN nor SYN,ACK offers it. */
static void test_window_scale_not_offered_when_disabled(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    assert_false(t->out[t->out_head - 1].tcp.opts.has_wscale);
    tt_free(t);
    t = tt_listener(NULL);
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0, .opts = {.has_wscale = true, .wscale = 3}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_false(p->tcp.opts.has_wscale);
    tt_free(t);
}

/* RFC 6528: ISNs differ between connections (a keyed hash plus a clock),
 * and the same key and time give the same ISN (reproducible runs). */
static void test_isn_differs_per_connection_and_is_reproducible(void **state)
{
    struct tt *a = tt_syn_sent(NULL);
    struct tt *b = tt_syn_sent(NULL);
    assert_int_equal(a->iss, b->iss); /* same key, same time, same port */
    assert_int_equal(a->sport, b->sport);
    int sd = tcp_socket(a->s, a->now);
    assert_int_equal(tcp_connect(a->s, a->now, sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
    const struct tt_pkt *syn2 = tt_next(a);
    assert_non_null(syn2);
    assert_int_not_equal(syn2->tcp.sport, a->sport);
    assert_int_not_equal(syn2->tcp.seq, a->iss);
    tt_free(a);
    tt_free(b);
}

/* Simultaneous open between two stacks (RFC 9293 Figure 8): each side
 * binds its port and connects to the other's at the same moment; both go
 * SYN_SENT -> SYN_RECEIVED -> ESTABLISHED and data then flows. */
static void test_simultaneous_open_between_two_stacks(void **state)
{
    struct tt_pair *p = tt_pair_new(NULL, NULL, 3);
    uint64_t now = tt_pair_now(p);
    int a = tcp_socket(p->c, now), b = tcp_socket(p->s, now);
    assert_int_equal(tcp_bind(p->c, now, a, 5000), 0);
    assert_int_equal(tcp_bind(p->s, now, b, 6000), 0);
    assert_int_equal(tcp_connect(p->c, now, a, TT_PEER_ADDR, 6000), 0);
    assert_int_equal(tcp_connect(p->s, now, b, TT_STACK_ADDR, 5000), 0);
    tt_pair_run(p, 5 * TT_SEC);
    assert_int_equal(tt_pair_state(p, p->c, a), TCP_ESTABLISHED);
    assert_int_equal(tt_pair_state(p, p->s, b), TCP_ESTABLISHED);
    assert_int_equal(tt_pair_count_state(p, "client", TCP_SYN_SENT, TCP_SYN_RECEIVED), 1);
    assert_int_equal(tt_pair_count_state(p, "client", TCP_SYN_RECEIVED, TCP_ESTABLISHED), 1);
    assert_int_equal(tt_pair_count_state(p, "server", TCP_SYN_SENT, TCP_SYN_RECEIVED), 1);
    assert_int_equal(tt_pair_count_state(p, "server", TCP_SYN_RECEIVED, TCP_ESTABLISHED), 1);
    assert_int_equal(tcp_send(p->c, tt_pair_now(p), a, "ping", 4), 4);
    tt_pair_run(p, 1 * TT_SEC);
    char buf[8];
    assert_int_equal(tcp_recv(p->s, tt_pair_now(p), b, buf, sizeof buf), 4);
    assert_memory_equal(buf, "ping", 4);
    tt_pair_free(p);
}

/* A whole conversation between two stacks: handshake, data each way. */
static void test_two_stacks_connect_and_exchange_data(void **state)
{
    struct tt_pair *p = tt_pair_new(NULL, NULL, 4);
    assert_true(tt_pair_connect(p, 10 * TT_SEC));
    assert_int_not_equal(p->ssd, p->lsd);
    assert_int_equal(tcp_send(p->c, tt_pair_now(p), p->csd, "request", 7), 7);
    tt_pair_run(p, 1 * TT_SEC);
    char buf[16];
    assert_int_equal(tcp_recv(p->s, tt_pair_now(p), p->ssd, buf, sizeof buf), 7);
    assert_memory_equal(buf, "request", 7);
    assert_int_equal(tcp_send(p->s, tt_pair_now(p), p->ssd, "response", 8), 8);
    tt_pair_run(p, 1 * TT_SEC);
    assert_int_equal(tcp_recv(p->c, tt_pair_now(p), p->csd, buf, sizeof buf), 8);
    assert_memory_equal(buf, "response", 8);
    tt_pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mss_negotiation_uses_the_peer_mss),
        cmocka_unit_test(test_mss_negotiation_uses_our_mss_when_smaller),
        cmocka_unit_test(test_syn_announces_the_configured_mss),
        cmocka_unit_test(test_mss_defaults_to_536_without_the_option),
        cmocka_unit_test(test_window_scale_is_used_when_both_offer_it),
        cmocka_unit_test(test_window_scale_is_not_used_when_the_peer_does_not_offer_it),
        cmocka_unit_test(test_synack_carries_window_scale_only_if_the_syn_did),
        cmocka_unit_test(test_window_scale_above_14_is_used_as_14),
        cmocka_unit_test(test_window_scale_not_offered_when_disabled),
        cmocka_unit_test(test_isn_differs_per_connection_and_is_reproducible),
        cmocka_unit_test(test_simultaneous_open_between_two_stacks),
        cmocka_unit_test(test_two_stacks_connect_and_exchange_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
