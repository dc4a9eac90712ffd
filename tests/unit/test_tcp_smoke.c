/*
 * test_tcp_smoke.c — the engine engineer's own quick checks: two stacks
 * joined by an in-memory queue (no vlink), driven by a virtual clock. The
 * full specification suite lives in the other test_tcp_*.c files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp.h"
#include "tcp_internal.h"

#define ADDR_A     0x0a070001u
#define ADDR_B     0x0a070002u
#define MAXQ       4096
#define LATENCY_US 1000

struct qpkt {
    uint8_t data[1600];
    size_t len;
    int to;
    uint64_t at;
};

struct net {
    struct stack *st[2];
    struct qpkt *q;
    size_t head, tail;
    uint64_t now;
    unsigned drop_every; /* drop every Nth packet (0: none) */
    unsigned sent;
    int states[2][TCP_NSTATES]; /* TEV_STATE "to" counts per host */
};

struct ep {
    struct net *net;
    int idx;
};

static struct ep eps[2];

static void out_cb(void *ctx, const uint8_t *pkt, size_t len)
{
    struct ep *e = ctx;
    struct net *n = e->net;
    n->sent++;
    if (n->drop_every && n->sent % n->drop_every == 0)
        return;
    assert_true(n->tail - n->head < MAXQ);
    assert_true(len <= sizeof n->q[0].data);
    struct qpkt *p = &n->q[n->tail++ % MAXQ];
    memcpy(p->data, pkt, len);
    p->len = len;
    p->to = 1 - e->idx;
    p->at = n->now + LATENCY_US;
}

static void ev_cb(void *ctx, const struct tev *ev)
{
    struct ep *e = ctx;
    if (getenv("SMOKE_TRACE")) {
        char fl[10];
        if (ev->kind == TEV_SEGMENT)
            fprintf(stderr, "%8llu %s %s %s seq=%u ack=%u len=%zu win=%u%s\n",
                    (unsigned long long)ev->t_us, ev->host, ev->u.seg.dir ? "out" : "in ",
                    wire_flags_str(ev->u.seg.tcp.flags, fl), ev->u.seg.tcp.seq, ev->u.seg.tcp.ack,
                    ev->u.seg.tcp.payload_len, ev->u.seg.tcp.win,
                    ev->u.seg.retransmission ? " RTX" : "");
        else if (ev->kind == TEV_STATE)
            fprintf(stderr, "%8llu %s state %s -> %s (%s)\n", (unsigned long long)ev->t_us,
                    ev->host, tcp_state_name(ev->u.state.from), tcp_state_name(ev->u.state.to),
                    ev->u.state.cause);
        else if (ev->kind == TEV_DROP)
            fprintf(stderr, "%8llu %s drop %s\n", (unsigned long long)ev->t_us, ev->host,
                    tev_drop_reason_name(ev->u.drop.reason));
        else if (ev->kind == TEV_TIMER && ev->u.timer.action == TEV_TIMER_FIRE)
            fprintf(stderr, "%8llu %s timer %s fired\n", (unsigned long long)ev->t_us, ev->host,
                    tcp_timer_name(ev->u.timer.which));
    }
    if (ev->kind == TEV_STATE)
        e->net->states[e->idx][ev->u.state.to]++;
}

static void net_init_cfg(struct net *n, bool observe, void (*tweak)(struct stack_config *));

static void net_init(struct net *n, bool observe)
{
    net_init_cfg(n, observe, NULL);
}

static void net_init_cfg(struct net *n, bool observe, void (*tweak)(struct stack_config *))
{
    memset(n, 0, sizeof *n);
    n->q = calloc(MAXQ, sizeof *n->q);
    for (int i = 0; i < 2; i++) {
        eps[i].net = n;
        eps[i].idx = i;
        struct stack_config cfg;
        stack_config_defaults(&cfg);
        cfg.name = i ? "b" : "a";
        cfg.addr = i ? ADDR_B : ADDR_A;
        cfg.output = out_cb;
        cfg.output_ctx = &eps[i];
        if (observe) {
            cfg.on_event = ev_cb;
            cfg.event_ctx = &eps[i];
        }
        if (tweak)
            tweak(&cfg);
        n->st[i] = stack_new(&cfg);
        assert_non_null(n->st[i]);
    }
}

static void net_free(struct net *n)
{
    stack_free(n->st[0]);
    stack_free(n->st[1]);
    free(n->q);
}

/* Deliver packets and fire timers until nothing is left or `limit_us` of
 * virtual time has passed. */
static void net_run(struct net *n, uint64_t limit_us)
{
    uint64_t end = n->now + limit_us;
    for (int steps = 0; steps < 1000000; steps++) {
        uint64_t t = TCP_TIME_NEVER;
        if (n->head != n->tail)
            t = n->q[n->head % MAXQ].at;
        for (int i = 0; i < 2; i++) {
            uint64_t d = stack_next_deadline(n->st[i]);
            if (d < t)
                t = d;
        }
        if (t == TCP_TIME_NEVER || t > end) {
            n->now = end; /* nothing happens until then */
            break;
        }
        if (t > n->now)
            n->now = t;
        if (n->head != n->tail && n->q[n->head % MAXQ].at <= n->now) {
            struct qpkt *p = &n->q[n->head++ % MAXQ];
            stack_input(n->st[p->to], n->now, p->data, p->len);
        } else {
            for (int i = 0; i < 2; i++)
                stack_tick(n->st[i], n->now);
        }
    }
}

static int state_of(struct net *n, int i, int sd)
{
    struct tcp_status st;
    assert_int_equal(tcp_status(n->st[i], sd, &st), 0);
    return st.state;
}

static void test_siphash_matches_the_reference_vector(void **state)
{
    (void)state;
    uint8_t key[16], msg[15];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    assert_true(tcp_siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

/* Connect a (client, index 0) to b (server, index 1) on `port`. */
static void open_pair(struct net *n, uint16_t port, int *csd, int *ssd, int *lsd)
{
    *lsd = tcp_socket(n->st[1], n->now);
    assert_int_equal(tcp_bind(n->st[1], n->now, *lsd, port), 0);
    assert_int_equal(tcp_listen(n->st[1], n->now, *lsd, 4), 0);
    *csd = tcp_socket(n->st[0], n->now);
    assert_int_equal(tcp_connect(n->st[0], n->now, *csd, ADDR_B, port), 0);
    net_run(n, 10000000);
    assert_int_equal(state_of(n, 0, *csd), TCP_ESTABLISHED);
    *ssd = tcp_accept(n->st[1], n->now, *lsd, NULL);
    assert_true(*ssd >= 0);
    assert_int_not_equal(*ssd, *lsd);
    assert_int_equal(state_of(n, 1, *ssd), TCP_ESTABLISHED);
}

/* Move `len` bytes from (si, sd) to (ri, rd), checking them. */
static void transfer(struct net *n, int si, int sd, int ri, int rd, size_t len)
{
    uint8_t *src = malloc(len), *dst = malloc(len);
    for (size_t i = 0; i < len; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    size_t sent = 0, got = 0;
    for (int rounds = 0; rounds < 100000 && got < len; rounds++) {
        if (sent < len) {
            ssize_t r = tcp_send(n->st[si], n->now, sd, src + sent, len - sent);
            if (r > 0)
                sent += (size_t)r;
            else
                assert_int_equal(r, -EAGAIN);
        }
        net_run(n, 50000);
        while (got < len) {
            ssize_t r = tcp_recv(n->st[ri], n->now, rd, dst + got, len - got);
            if (r <= 0) {
                assert_int_equal(r, -EAGAIN);
                break;
            }
            got += (size_t)r;
        }
        if (n->head == n->tail && sent == len && got < len)
            net_run(n, 10000000); /* let retransmissions happen */
    }
    assert_int_equal(got, len);
    assert_memory_equal(src, dst, len);
    free(src);
    free(dst);
}

static void test_handshake_data_close_time_wait(void **state)
{
    (void)state;
    struct net n;
    net_init(&n, true);
    int csd, ssd, lsd;
    open_pair(&n, 8080, &csd, &ssd, &lsd);
    transfer(&n, 0, csd, 1, ssd, 200000);
    transfer(&n, 1, ssd, 0, csd, 5000);
    /* client closes first: FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT */
    assert_int_equal(tcp_close(n.st[0], n.now, csd), 0);
    net_run(&n, 100000);
    char b[16];
    assert_int_equal(tcp_recv(n.st[1], n.now, ssd, b, sizeof b), 0);
    assert_int_equal(state_of(&n, 1, ssd), TCP_CLOSE_WAIT);
    assert_int_equal(tcp_close(n.st[1], n.now, ssd), 0);
    net_run(&n, 100000);
    struct stack_stats st;
    stack_get_stats(n.st[0], &st);
    assert_int_equal(st.conns_time_wait, 1);
    assert_int_equal(n.states[0][TCP_FIN_WAIT_2], 1);
    assert_int_equal(n.states[1][TCP_LAST_ACK], 1);
    net_run(&n, 61000000); /* 2 MSL */
    stack_get_stats(n.st[0], &st);
    assert_int_equal(st.conns_time_wait, 0);
    assert_int_equal(st.conns_active, 0);
    stack_get_stats(n.st[1], &st);
    assert_int_equal(st.conns_active, 0);
    net_free(&n);
}

static void test_connect_to_closed_port_is_refused(void **state)
{
    (void)state;
    struct net n;
    net_init(&n, false);
    int csd = tcp_socket(n.st[0], 0);
    assert_int_equal(tcp_connect(n.st[0], 0, csd, ADDR_B, 9), 0);
    net_run(&n, 1000000);
    assert_int_equal(state_of(&n, 0, csd), TCP_CLOSED);
    char b[4];
    assert_int_equal(tcp_recv(n.st[0], n.now, csd, b, 4), -ECONNREFUSED);
    assert_int_equal(tcp_recv(n.st[0], n.now, csd, b, 4), 0);
    net_free(&n);
}

static void test_lossy_transfer_delivers_every_byte(void **state)
{
    (void)state;
    struct net n;
    net_init(&n, true);
    int csd, ssd, lsd;
    open_pair(&n, 80, &csd, &ssd, &lsd);
    n.drop_every = 7;
    transfer(&n, 0, csd, 1, ssd, 300000);
    transfer(&n, 1, ssd, 0, csd, 30000);
    n.drop_every = 0;
    tcp_shutdown(n.st[0], n.now, csd, TCP_SHUT_WR);
    net_run(&n, 1000000);
    char b[4];
    assert_int_equal(tcp_recv(n.st[1], n.now, ssd, b, 4), 0);
    tcp_close(n.st[1], n.now, ssd);
    net_run(&n, 1000000);
    assert_int_equal(tcp_recv(n.st[0], n.now, csd, b, 4), 0);
    assert_int_equal(state_of(&n, 0, csd), TCP_TIME_WAIT);
    net_free(&n);
}

static void test_simultaneous_open_and_close(void **state)
{
    (void)state;
    struct net n;
    net_init(&n, true);
    int a = tcp_socket(n.st[0], 0), b = tcp_socket(n.st[1], 0);
    assert_int_equal(tcp_bind(n.st[0], 0, a, 5000), 0);
    assert_int_equal(tcp_bind(n.st[1], 0, b, 6000), 0);
    assert_int_equal(tcp_connect(n.st[0], 0, a, ADDR_B, 6000), 0);
    assert_int_equal(tcp_connect(n.st[1], 0, b, ADDR_A, 5000), 0);
    net_run(&n, 1000000);
    assert_int_equal(n.states[0][TCP_SYN_RECEIVED], 1);
    assert_int_equal(n.states[1][TCP_SYN_RECEIVED], 1);
    assert_int_equal(state_of(&n, 0, a), TCP_ESTABLISHED);
    assert_int_equal(state_of(&n, 1, b), TCP_ESTABLISHED);
    tcp_close(n.st[0], n.now, a);
    tcp_close(n.st[1], n.now, b);
    net_run(&n, 1000000);
    assert_int_equal(n.states[0][TCP_CLOSING], 1);
    assert_int_equal(n.states[1][TCP_CLOSING], 1);
    assert_int_equal(n.states[0][TCP_TIME_WAIT], 1);
    assert_int_equal(n.states[1][TCP_TIME_WAIT], 1);
    net_free(&n);
}

static void big_windows(struct stack_config *cfg)
{
    cfg->window_scaling = true;
    cfg->rcvbuf = 1u << 20;
    cfg->sndbuf = 1u << 20;
}

/* RFC 7323: both SYNs carry the option, so windows beyond 64 KiB work. */
static void test_window_scaling_moves_windows_beyond_64k(void **state)
{
    (void)state;
    struct net n;
    net_init_cfg(&n, false, big_windows);
    int csd, ssd, lsd;
    open_pair(&n, 443, &csd, &ssd, &lsd);
    struct tcp_status st;
    assert_int_equal(tcp_status(n.st[0], csd, &st), 0);
    assert_int_equal(st.snd_wscale, 7);
    assert_int_equal(st.rcv_wscale, 7);
    /* the client's ACK of the SYN,ACK carried a scaled window */
    assert_int_equal(tcp_status(n.st[1], ssd, &st), 0);
    assert_true(st.snd_wnd > 65535);
    transfer(&n, 0, csd, 1, ssd, 3000000);
    net_free(&n);
}

/* Many connections opened and closed leave only TIME_WAIT blocks, and
 * those go after 2MSL. */
static void test_connection_churn_leaves_nothing_after_2msl(void **state)
{
    (void)state;
    struct net n;
    net_init(&n, false);
    int lsd = tcp_socket(n.st[1], 0);
    assert_int_equal(tcp_bind(n.st[1], 0, lsd, 7), 0);
    assert_int_equal(tcp_listen(n.st[1], 0, lsd, 16), 0);
    for (int i = 0; i < 300; i++) {
        int c = tcp_socket(n.st[0], n.now);
        assert_int_equal(tcp_connect(n.st[0], n.now, c, ADDR_B, 7), 0);
        net_run(&n, 10000);
        int a = tcp_accept(n.st[1], n.now, lsd, NULL);
        assert_true(a >= 0);
        assert_int_equal(tcp_send(n.st[0], n.now, c, "hi", 2), 2);
        net_run(&n, 10000);
        char b[4];
        assert_int_equal(tcp_recv(n.st[1], n.now, a, b, 4), 2);
        tcp_close(n.st[0], n.now, c);
        net_run(&n, 10000);
        tcp_close(n.st[1], n.now, a);
        net_run(&n, 10000);
    }
    struct stack_stats st;
    stack_get_stats(n.st[0], &st);
    assert_int_equal(st.conns_time_wait, 300);
    stack_get_stats(n.st[1], &st);
    assert_int_equal(st.conns_active, 0);
    net_run(&n, 61000000);
    stack_get_stats(n.st[0], &st);
    assert_int_equal(st.conns_time_wait, 0);
    assert_int_equal(st.conns_active, 0);
    assert_true(stack_next_deadline(n.st[0]) == TCP_TIME_NEVER);
    net_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_matches_the_reference_vector),
        cmocka_unit_test(test_handshake_data_close_time_wait),
        cmocka_unit_test(test_connect_to_closed_port_is_refused),
        cmocka_unit_test(test_lossy_transfer_delivers_every_byte),
        cmocka_unit_test(test_simultaneous_open_and_close),
        cmocka_unit_test(test_window_scaling_moves_windows_beyond_64k),
        cmocka_unit_test(test_connection_churn_leaves_nothing_after_2msl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
