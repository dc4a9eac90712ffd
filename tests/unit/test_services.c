/*
 * test_services.c — the TUN services (tun/services.c) learn which
 * connections have work through the stack's readiness callback
 * (stack_config.on_ready), not through the event stream: the loop builds
 * events only for someone who reads them, so a server without an observer
 * must still accept, echo, answer and close. Each test serves a connection
 * the harness's peer opens; nothing but svc_ready() tells the services that
 * a segment arrived.
 */
#include <string.h>

#include "tcptest.h"
#include "services.h"

struct fx {
    struct svc_server *sv;
    unsigned segments; /* on_ready calls for an arrived segment */
    unsigned states;   /* on_ready calls for a state change */
    unsigned states_unaccepted; /* of which with no descriptor yet (sd -1) */
};

static void ready(void *ctx, int sd, const struct tev *state)
{
    struct fx *f = ctx;
    if (state) {
        assert_int_equal(state->kind, TEV_STATE);
        f->states++;
        f->states_unaccepted += sd < 0;
    } else {
        assert_true(sd >= 0);
        f->segments++;
    }
    if (f->sv)
        svc_ready(f->sv, sd, state);
}

/* A stack whose services listen on `port`; the peer connects to it. */
static struct tt *serving(struct fx *f, uint16_t port, enum svc_kind kind)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.on_ready = ready;
    cfg.ready_ctx = f;
    struct tt *t = tt_new(&cfg);
    struct svc_spec spec = {port, kind};
    int err = 0;
    f->sv = svc_new(t->s, t->now, &spec, 1, &err);
    assert_non_null(f->sv);
    t->sport = port;
    t->pport = TT_PEER_CLIENT_PORT;
    tt_do_peer_syn(t);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    svc_run(f->sv, t->now);
    struct svc_stats st;
    svc_get_stats(f->sv, &st);
    assert_int_equal(st.accepted, 1);
    return t;
}

static void test_echo_is_served_from_readiness_alone(void **state)
{
    (void)state;
    struct fx f = {0};
    struct tt *t = serving(&f, 7, SVC_ECHO);
    unsigned before = f.segments;
    tt_in_data(t, 1, 1, "hello", 5);
    assert_int_equal(f.segments, before + 1); /* the segment for the accepted descriptor */
    tt_expect(t, TCP_ACK, 1, 6, 0);
    svc_run(f.sv, t->now);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 6, 5);
    assert_memory_equal(p->tcp.payload, "hello", 5);
    /* The peer closes: echo has nothing left to send and closes too. */
    tt_in(t, TCP_FIN | TCP_ACK, 6, 6, NULL);
    tt_expect(t, TCP_ACK, 6, 7, 0);
    svc_run(f.sv, t->now);
    tt_expect(t, TCP_FIN | TCP_ACK, 6, 7, 0);
    svc_free(f.sv);
    tt_free(t);
}

/* The http page tells the connection's states, including the ones it went
 * through before it was accepted (no descriptor yet): the readiness
 * callback carries every state change for that. */
static void test_http_page_has_states_from_before_accept(void **state)
{
    (void)state;
    struct fx f = {0};
    struct tt *t = serving(&f, 80, SVC_HTTP);
    assert_true(f.states_unaccepted >= 2); /* LISTEN -> SYN_RCVD -> ESTABLISHED */
    const char req[] = "GET / HTTP/1.0\r\n\r\n";
    tt_in_data(t, 1, 1, req, sizeof req - 1);
    tt_expect(t, TCP_ACK, 1, 1 + (uint32_t)(sizeof req - 1), 0);
    svc_run(f.sv, t->now);
    char page[8192];
    size_t len = 0;
    bool fin = false;
    for (const struct tt_pkt *p; !fin && (p = tt_next(t));) {
        assert_true(len + p->tcp.payload_len <= sizeof page - 1);
        memcpy(page + len, p->tcp.payload, p->tcp.payload_len);
        len += p->tcp.payload_len;
        fin = p->tcp.flags & TCP_FIN;
    }
    page[len] = 0;
    assert_true(fin); /* http closes first */
    assert_non_null(strstr(page, "HTTP/1.0 200 OK"));
    assert_non_null(strstr(page, "LISTEN"));
    assert_non_null(strstr(page, "-> ESTABLISHED"));
    svc_free(f.sv);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_is_served_from_readiness_alone),
        cmocka_unit_test(test_http_page_has_states_from_before_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
