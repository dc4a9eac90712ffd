/*
 * test_vlink.c — the virtual link, with real stacks on it: packets are routed
 * by address and delivered after the latency, never from inside a stack's
 * output; each impairment does exactly what it says to exactly the packets it
 * matches and reports itself as a TEV_LINK event; the same seed gives the same
 * run; and time jumps, so a minute of virtual time is a handful of steps.
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
#include "vlink.h"
#include "wire.h"

#define CLIENT_ADDR 0x0a070002u /* 10.7.0.2 */
#define SERVER_ADDR 0x0a070001u /* 10.7.0.1 */
#define PORT        8080
#define MS          1000ull
#define SEC         1000000ull
#define MAX_EVENTS  4096

/* What a test needs to know about one event, copied out of the callback. */
struct rec {
    enum tev_kind kind;
    uint64_t t_us;
    char host[16];
    enum tev_dir dir; /* SEGMENT */
    uint8_t flags;    /* SEGMENT, or LINK with a TCP packet */
    uint32_t seq;
    char data[32]; /* SEGMENT / LINK: start of the payload, NUL-terminated */
    size_t data_len;
    enum tcp_state to;           /* STATE */
    enum tev_link_action action; /* LINK */
    char link_to[16];
    long arg;
};

struct net {
    struct vlink *l;
    int client, server;
    struct stack *c, *s;
    int csd, lsd, ssd;
    struct rec ev[MAX_EVENTS];
    size_t nev;
};

/* The payload of a raw IPv4/TCP packet, found without trusting the wire
 * module's parser (so a corrupted packet is still described). */
static void copy_tcp_payload(const uint8_t *raw, size_t len, struct rec *r)
{
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    if (wire_ipv4_parse(raw, len, &ip) != WIRE_OK || wire_tcp_parse(&ip, &tcp) != WIRE_OK)
        return;
    r->flags = tcp.flags;
    r->seq = tcp.seq;
    r->data_len = tcp.payload_len;
    size_t n = tcp.payload_len < sizeof r->data - 1 ? tcp.payload_len : sizeof r->data - 1;
    memcpy(r->data, tcp.payload, n);
    r->data[n] = '\0';
}

static void record(void *ctx, const struct tev *ev)
{
    struct net *n = ctx;
    if (n->nev >= MAX_EVENTS)
        return;
    struct rec *r = &n->ev[n->nev++];
    memset(r, 0, sizeof *r);
    r->kind = ev->kind;
    r->t_us = ev->t_us;
    snprintf(r->host, sizeof r->host, "%s", ev->host ? ev->host : "");
    switch (ev->kind) {
    case TEV_SEGMENT:
        r->dir = ev->u.seg.dir;
        copy_tcp_payload(ev->u.seg.raw, ev->u.seg.raw_len, r);
        break;
    case TEV_STATE:
        r->to = ev->u.state.to;
        break;
    case TEV_LINK:
        r->action = ev->u.link.action;
        r->arg = ev->u.link.arg;
        snprintf(r->link_to, sizeof r->link_to, "%s", ev->u.link.to ? ev->u.link.to : "");
        if (ev->u.link.raw)
            copy_tcp_payload(ev->u.link.raw, ev->u.link.raw_len, r);
        break;
    default:
        break;
    }
}

static struct net *net_new(uint64_t seed)
{
    struct net *n = calloc(1, sizeof *n);
    assert_non_null(n);
    struct vlink_config lc;
    vlink_config_defaults(&lc);
    lc.seed = seed;
    lc.on_event = record;
    lc.event_ctx = n;
    n->l = vlink_new(&lc);
    assert_non_null(n->l);

    struct stack_config sc;
    stack_config_defaults(&sc);
    sc.name = "client";
    sc.addr = CLIENT_ADDR;
    sc.nagle = false; /* each send is its own segment, so tests can pick one */
    n->client = vlink_add_host(n->l, &sc);
    sc.name = "server";
    sc.addr = SERVER_ADDR;
    n->server = vlink_add_host(n->l, &sc);
    assert_int_equal(n->client, 0);
    assert_int_equal(n->server, 1);
    n->c = vlink_stack(n->l, n->client);
    n->s = vlink_stack(n->l, n->server);
    n->csd = n->lsd = n->ssd = -1;
    return n;
}

static void net_free(struct net *n)
{
    vlink_free(n->l);
    free(n);
}

static uint64_t now(const struct net *n)
{
    return vlink_now(n->l);
}

static void server_listen(struct net *n)
{
    n->lsd = tcp_socket(n->s, now(n));
    assert_true(n->lsd >= 0);
    assert_int_equal(tcp_bind(n->s, now(n), n->lsd, PORT), 0);
    assert_int_equal(tcp_listen(n->s, now(n), n->lsd, 4), 0);
}

static void client_connect(struct net *n, uint32_t addr)
{
    n->csd = tcp_socket(n->c, now(n));
    assert_true(n->csd >= 0);
    assert_int_equal(tcp_connect(n->c, now(n), n->csd, addr, PORT), 0);
}

static void run_for(struct net *n, uint64_t us)
{
    vlink_run_until(n->l, now(n) + us);
}

static enum tcp_state state_of(struct stack *s, int sd)
{
    struct tcp_status st;
    if (tcp_status(s, sd, &st) != 0)
        return TCP_CLOSED;
    return st.state;
}

/* Both sides ESTABLISHED and the server has accepted: the starting point of
 * most tests. */
static void establish(struct net *n)
{
    server_listen(n);
    client_connect(n, SERVER_ADDR);
    assert_true(vlink_run_idle(n->l, 10 * MS, 1000));
    assert_int_equal(state_of(n->c, n->csd), TCP_ESTABLISHED);
    n->ssd = tcp_accept(n->s, now(n), n->lsd, NULL);
    assert_true(n->ssd >= 0);
    assert_int_equal(state_of(n->s, n->ssd), TCP_ESTABLISHED);
}

static void client_send(struct net *n, const char *text)
{
    assert_int_equal(tcp_send(n->c, now(n), n->csd, text, strlen(text)), (ssize_t)strlen(text));
}

/* Everything the server can read now, as a string. */
static const char *server_read(struct net *n)
{
    static char buf[256];
    size_t have = 0;
    ssize_t got;
    while (have < sizeof buf - 1 &&
           (got = tcp_recv(n->s, now(n), n->ssd, buf + have, sizeof buf - 1 - have)) > 0)
        have += (size_t)got;
    buf[have] = '\0';
    return buf;
}

static size_t count_link(const struct net *n, enum tev_link_action action)
{
    size_t c = 0;
    for (size_t i = 0; i < n->nev; i++)
        c += n->ev[i].kind == TEV_LINK && n->ev[i].action == action;
    return c;
}

/* Segments that arrived at `host` carrying text, in order of arrival. */
static size_t data_arrivals(const struct net *n, const char *host, const struct rec **out,
                            size_t cap)
{
    size_t c = 0;
    for (size_t i = 0; i < n->nev; i++) {
        const struct rec *r = &n->ev[i];
        if (r->kind == TEV_SEGMENT && r->dir == TEV_IN && !strcmp(r->host, host) && r->data_len) {
            if (c < cap)
                out[c] = r;
            c++;
        }
    }
    return c;
}

static const struct rec *find_link(const struct net *n, enum tev_link_action action)
{
    for (size_t i = 0; i < n->nev; i++)
        if (n->ev[i].kind == TEV_LINK && n->ev[i].action == action)
            return &n->ev[i];
    return NULL;
}

/* ---- delivery ------------------------------------------------------------ */

static void test_handshake_crosses_the_link_after_one_latency_per_segment(void **state)
{
    struct net *n = net_new(1);
    server_listen(n);
    client_connect(n, SERVER_ADDR);

    /* The SYN is in flight, not delivered from inside connect(). */
    assert_int_equal(vlink_next_time(n->l), 500);
    struct vlink_stats st;
    vlink_get_stats(n->l, &st);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.delivered, 0);

    assert_true(vlink_step(n->l, TCP_TIME_NEVER)); /* SYN arrives, SYN,ACK leaves */
    assert_int_equal(now(n), 500);
    assert_true(vlink_step(n->l, TCP_TIME_NEVER)); /* SYN,ACK arrives, ACK leaves */
    assert_int_equal(now(n), 1000);
    assert_int_equal(state_of(n->c, n->csd), TCP_ESTABLISHED);
    assert_true(vlink_step(n->l, TCP_TIME_NEVER)); /* ACK arrives */
    assert_int_equal(now(n), 1500);

    n->ssd = tcp_accept(n->s, now(n), n->lsd, NULL);
    assert_true(n->ssd >= 0);
    assert_int_equal(state_of(n->s, n->ssd), TCP_ESTABLISHED);
    vlink_get_stats(n->l, &st);
    assert_int_equal(st.sent, 3);
    assert_int_equal(st.delivered, 3);
    assert_int_equal(st.lost, 0);
    net_free(n);
}

static void test_packet_to_an_address_no_host_owns_is_lost_with_a_link_event(void **state)
{
    struct net *n = net_new(1);
    client_connect(n, 0x0a070063u); /* 10.7.0.99: nobody */
    const struct rec *lost = find_link(n, TEV_LINK_LOST);
    assert_non_null(lost);
    assert_string_equal(lost->host, "link");
    assert_string_equal(lost->link_to, "10.7.0.99");
    assert_int_equal(lost->flags, TCP_SYN);
    struct vlink_stats st;
    vlink_get_stats(n->l, &st);
    assert_int_equal(st.lost, 1);
    assert_int_equal(st.delivered, 0);
    net_free(n);
}

static void test_delay_adds_to_the_latency_of_one_direction_only(void **state)
{
    struct net *n = net_new(1);
    vlink_set_delay(n->l, n->client, n->server, 100 * MS);
    server_listen(n);
    client_connect(n, SERVER_ADDR);
    assert_true(vlink_run_idle(n->l, 10 * MS, 1000));
    assert_int_equal(state_of(n->c, n->csd), TCP_ESTABLISHED);

    /* SYN at 0 arrives at 100.5 ms; SYN,ACK back at 101 ms; ACK at 201.5 ms. */
    uint64_t arrivals[3];
    size_t k = 0;
    for (size_t i = 0; i < n->nev && k < 3; i++)
        if (n->ev[i].kind == TEV_SEGMENT && n->ev[i].dir == TEV_IN)
            arrivals[k++] = n->ev[i].t_us;
    assert_int_equal(k, 3);
    assert_int_equal(arrivals[0], 100 * MS + 500);
    assert_int_equal(arrivals[1], 101 * MS);
    assert_int_equal(arrivals[2], 201 * MS + 500);
    assert_int_equal(count_link(n, TEV_LINK_DELAYED), 2);
    net_free(n);
}

/* ---- drop ------------------------------------------------------------------ */

static void test_drop_next_drops_exactly_the_matching_syn_ack(void **state)
{
    struct net *n = net_new(1);
    /* Any direction: the client's SYN goes first and must not match. */
    struct vlink_match synack = {
        .from = VLINK_ANY, .to = VLINK_ANY, .mask = TCP_SYN | TCP_ACK, .value = TCP_SYN | TCP_ACK};
    vlink_drop_next(n->l, &synack, 1);
    server_listen(n);
    client_connect(n, SERVER_ADDR);
    assert_true(vlink_run_idle(n->l, 10 * SEC, 1000));

    /* Only the first SYN,ACK was lost: the server retransmitted it after its
     * initial RTO (1 s, RFC 6298 (2.1)) and the handshake completed. */
    assert_int_equal(count_link(n, TEV_LINK_LOST), 1);
    const struct rec *lost = find_link(n, TEV_LINK_LOST);
    assert_int_equal(lost->flags, TCP_SYN | TCP_ACK);
    assert_string_equal(lost->link_to, "client");
    assert_int_equal(state_of(n->c, n->csd), TCP_ESTABLISHED);
    n->ssd = tcp_accept(n->s, now(n), n->lsd, NULL);
    assert_true(n->ssd >= 0);
    struct vlink_stats st;
    vlink_get_stats(n->l, &st);
    assert_int_equal(st.lost, 1);
    assert_int_equal(st.delivered, st.sent - 1);
    net_free(n);
}

static void test_drop_next_with_payload_only_spares_pure_acks(void **state)
{
    struct net *n = net_new(1);
    establish(n);
    struct vlink_match data = {.from = n->client, .to = n->server, .payload_only = true};
    vlink_drop_next(n->l, &data, 1);

    /* The client's pure ACK of the server's "hi" passes the rule... */
    assert_int_equal(tcp_send(n->s, now(n), n->ssd, "hi", 2), 2);
    run_for(n, 100 * MS);
    struct tcp_status st;
    assert_int_equal(tcp_status(n->s, n->ssd, &st), 0);
    assert_int_equal(st.send_queue, 0); /* "hi" was acknowledged */
    assert_int_equal(count_link(n, TEV_LINK_LOST), 0);

    /* ...and the first segment with text is the one that dies. */
    client_send(n, "first");
    run_for(n, 100 * MS);
    assert_string_equal(server_read(n), ""); /* lost, not yet retransmitted */
    const struct rec *lost = find_link(n, TEV_LINK_LOST);
    assert_non_null(lost);
    assert_string_equal(lost->data, "first");

    assert_true(vlink_run_idle(n->l, 10 * SEC, 1000));
    assert_string_equal(server_read(n), "first"); /* the retransmission got through */
    assert_int_equal(count_link(n, TEV_LINK_LOST), 1);
    net_free(n);
}

/* ---- reorder and duplicate --------------------------------------------- */

static void test_reorder_next_lets_the_following_segment_overtake(void **state)
{
    struct net *n = net_new(1);
    establish(n);
    struct vlink_match data = {.from = n->client, .to = n->server, .payload_only = true};
    vlink_reorder_next(n->l, &data, 0);
    client_send(n, "AAA");
    client_send(n, "BBB");
    assert_true(vlink_run_idle(n->l, 10 * SEC, 1000));

    const struct rec *arr[4];
    assert_true(data_arrivals(n, "server", arr, 4) >= 2);
    assert_string_equal(arr[0]->data, "BBB");
    assert_string_equal(arr[1]->data, "AAA");
    assert_int_equal(arr[0]->t_us, arr[1]->t_us); /* released right behind it */
    assert_int_equal(count_link(n, TEV_LINK_REORDERED), 1);
    /* The receiver put the stream back in order. */
    assert_string_equal(server_read(n), "AAABBB");
    net_free(n);
}

/* `by 3`: the held packet waits for three to overtake it, not one. */
static void test_reorder_by_three_lets_three_overtake(void **state)
{
    struct net *n = net_new(1);
    establish(n);
    struct vlink_match data = {.from = n->client, .to = n->server, .payload_only = true};
    vlink_reorder_next_by(n->l, &data, 0, 3);
    client_send(n, "A");
    client_send(n, "B");
    client_send(n, "C");
    client_send(n, "D");
    client_send(n, "E");
    assert_true(vlink_run_idle(n->l, 10 * SEC, 1000));

    const struct rec *arr[8];
    assert_true(data_arrivals(n, "server", arr, 8) >= 5);
    assert_string_equal(arr[0]->data, "B");
    assert_string_equal(arr[1]->data, "C");
    assert_string_equal(arr[2]->data, "D");
    assert_string_equal(arr[3]->data, "A"); /* right behind the third */
    assert_int_equal(arr[2]->t_us, arr[3]->t_us);
    assert_string_equal(arr[4]->data, "E");
    assert_string_equal(server_read(n), "ABCDE");
    net_free(n);
}

static void test_reorder_hold_limit_releases_a_packet_nothing_overtakes(void **state)
{
    struct net *n = net_new(1);
    establish(n);
    struct vlink_match data = {.from = n->client, .to = n->server, .payload_only = true};
    vlink_reorder_next(n->l, &data, 50 * MS);
    uint64_t sent_at = now(n);
    client_send(n, "alone");
    assert_true(vlink_run_idle(n->l, 10 * MS, 1000));

    const struct rec *arr[2];
    assert_int_equal(data_arrivals(n, "server", arr, 2), 1);
    assert_int_equal(arr[0]->t_us, sent_at + 500 + 50 * MS);
    assert_string_equal(server_read(n), "alone");
    net_free(n);
}

static void test_duplicate_next_delivers_twice_and_the_receiver_keeps_one(void **state)
{
    struct net *n = net_new(1);
    establish(n);
    struct vlink_match data = {.from = n->client, .to = n->server, .payload_only = true};
    vlink_duplicate_next(n->l, &data, 1);
    client_send(n, "xyz");
    client_send(n, "123");
    assert_true(vlink_run_idle(n->l, 10 * SEC, 1000));

    const struct rec *arr[4];
    assert_int_equal(data_arrivals(n, "server", arr, 4), 3);
    assert_string_equal(arr[0]->data, "xyz");
    assert_string_equal(arr[1]->data, "xyz");
    assert_string_equal(arr[2]->data, "123");
    assert_int_equal(count_link(n, TEV_LINK_DUPLICATED), 1);
    assert_string_equal(server_read(n), "xyz123");
    struct vlink_stats st;
    vlink_get_stats(n->l, &st);
    assert_int_equal(st.duplicated, 1);
    assert_int_equal(st.delivered, st.sent + 1);
    net_free(n);
}

/* ---- the cable --------------------------------------------------------------- */

static void test_cut_cable_loses_everything_until_restored(void **state)
{
    struct net *n = net_new(1);
    establish(n);
    client_send(n, "in flight"); /* on the wire when the cable is cut */
    vlink_cut(n->l);
    assert_true(vlink_is_cut(n->l));
    client_send(n, " and after");
    run_for(n, 5 * SEC); /* retransmissions die too */
    assert_string_equal(server_read(n), "");
    assert_true(count_link(n, TEV_LINK_CUT) >= 3);
    assert_int_equal(count_link(n, TEV_LINK_CABLE), 1);

    vlink_restore(n->l);
    assert_false(vlink_is_cut(n->l));
    assert_true(vlink_run_idle(n->l, 100 * SEC, 10000));
    assert_string_equal(server_read(n), "in flight and after");
    assert_int_equal(count_link(n, TEV_LINK_CABLE), 2);
    net_free(n);
}

/* ---- random loss and determinism ---------------------------------------- */

/* A digest of a whole run: every event's kind, time, host and flags. */
static uint64_t run_digest(const struct net *n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n->nev; i++) {
        const struct rec *r = &n->ev[i];
        uint64_t fields[] = {r->kind, r->t_us, r->flags, r->seq, r->action, r->to};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            h = (h ^ fields[f]) * 1099511628211ull;
        for (const char *c = r->host; *c; c++)
            h = (h ^ (uint8_t)*c) * 1099511628211ull;
    }
    return h;
}

/* 20 lines over a link that loses 20% each way; returns what arrived. */
static struct net *lossy_transfer(uint64_t seed, char *got, size_t cap)
{
    struct net *n = net_new(seed);
    establish(n);
    vlink_set_loss(n->l, VLINK_ANY, VLINK_ANY, 0.2);
    char line[32];
    for (int i = 0; i < 20; i++) {
        snprintf(line, sizeof line, "line %02d\n", i);
        client_send(n, line);
        run_for(n, 20 * MS);
    }
    assert_true(vlink_run_idle(n->l, 200 * SEC, 100000));
    snprintf(got, cap, "%s", server_read(n));
    return n;
}

static void test_random_loss_is_reproducible_with_the_same_seed(void **state)
{
    char got1[256], got2[256], got3[256];
    struct net *a = lossy_transfer(7, got1, sizeof got1);
    struct net *b = lossy_transfer(7, got2, sizeof got2);
    struct net *c = lossy_transfer(8, got3, sizeof got3);

    struct vlink_stats sa, sb, sc;
    vlink_get_stats(a->l, &sa);
    vlink_get_stats(b->l, &sb);
    vlink_get_stats(c->l, &sc);
    assert_true(sa.lost > 0);
    assert_true(sa.lost < sa.sent);
    assert_int_equal(sa.lost, sb.lost);
    assert_int_equal(sa.sent, sb.sent);
    assert_int_equal(a->nev, b->nev);
    assert_int_equal(run_digest(a), run_digest(b));
    /* Another seed loses other packets. */
    assert_true(run_digest(a) != run_digest(c));

    /* Loss is the link's business: the stream still arrives whole. */
    char want[256] = "";
    for (int i = 0; i < 20; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "line %02d\n", i);
    assert_string_equal(got1, want);
    assert_string_equal(got3, want);
    net_free(a);
    net_free(b);
    net_free(c);
}

static void test_loss_probability_one_loses_every_packet_of_that_direction(void **state)
{
    struct net *n = net_new(3);
    establish(n);
    vlink_set_loss(n->l, n->client, n->server, 1.0);
    client_send(n, "never");
    run_for(n, 3 * SEC);
    assert_string_equal(server_read(n), "");
    vlink_set_loss(n->l, n->client, n->server, 0); /* removes the rule */
    assert_true(vlink_run_idle(n->l, 200 * SEC, 10000));
    assert_string_equal(server_read(n), "never");
    net_free(n);
}

/* ---- time ------------------------------------------------------------------ */

static void test_time_wait_of_two_msl_passes_in_a_few_steps(void **state)
{
    struct net *n = net_new(1);
    establish(n);
    assert_int_equal(tcp_close(n->c, now(n), n->csd), 0);
    assert_true(vlink_run_idle(n->l, 10 * MS, 1000));
    assert_int_equal(tcp_close(n->s, now(n), n->ssd), 0);
    assert_true(vlink_run_idle(n->l, 10 * MS, 1000));

    struct stack_stats cs;
    stack_get_stats(n->c, &cs);
    assert_int_equal(cs.conns_time_wait, 1);
    uint64_t tw_start = now(n);

    /* The clock jumps straight to the 2*MSL deadline instead of ticking
     * through a minute of virtual time. */
    unsigned steps = 0;
    while (vlink_step(n->l, TCP_TIME_NEVER) && steps < 1000) {
        steps++;
        stack_get_stats(n->c, &cs);
        if (cs.conns_active == 0)
            break;
    }
    assert_int_equal(cs.conns_active, 0);
    assert_true(steps <= 5);
    assert_true(now(n) - tw_start >= 2 * stack_config(n->c)->msl_us - 10 * MS);
    assert_true(now(n) - tw_start <= 2 * stack_config(n->c)->msl_us + 10 * MS);
    net_free(n);
}

static void test_run_until_moves_the_clock_even_when_nothing_happens(void **state)
{
    struct net *n = net_new(1);
    assert_int_equal(vlink_next_time(n->l), TCP_TIME_NEVER);
    assert_false(vlink_step(n->l, 60 * SEC));
    assert_int_equal(now(n), 60 * SEC);
    vlink_run_until(n->l, 120 * SEC);
    assert_int_equal(now(n), 120 * SEC);
    net_free(n);
}

static void test_hosts_are_found_by_name_and_addresses_are_unique(void **state)
{
    struct net *n = net_new(1);
    assert_int_equal(vlink_nhosts(n->l), 2);
    assert_int_equal(vlink_host_by_name(n->l, "server"), n->server);
    assert_string_equal(vlink_host_name(n->l, n->client), "client");
    assert_int_equal(vlink_host_by_name(n->l, "nobody"), -1);

    struct stack_config sc;
    stack_config_defaults(&sc);
    sc.name = "imposter";
    sc.addr = SERVER_ADDR; /* taken */
    assert_int_equal(vlink_add_host(n->l, &sc), -1);
    assert_int_equal(vlink_nhosts(n->l), 2);
    net_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_crosses_the_link_after_one_latency_per_segment),
        cmocka_unit_test(test_packet_to_an_address_no_host_owns_is_lost_with_a_link_event),
        cmocka_unit_test(test_delay_adds_to_the_latency_of_one_direction_only),
        cmocka_unit_test(test_drop_next_drops_exactly_the_matching_syn_ack),
        cmocka_unit_test(test_drop_next_with_payload_only_spares_pure_acks),
        cmocka_unit_test(test_reorder_next_lets_the_following_segment_overtake),
        cmocka_unit_test(test_reorder_by_three_lets_three_overtake),
        cmocka_unit_test(test_reorder_hold_limit_releases_a_packet_nothing_overtakes),
        cmocka_unit_test(test_duplicate_next_delivers_twice_and_the_receiver_keeps_one),
        cmocka_unit_test(test_cut_cable_loses_everything_until_restored),
        cmocka_unit_test(test_random_loss_is_reproducible_with_the_same_seed),
        cmocka_unit_test(test_loss_probability_one_loses_every_packet_of_that_direction),
        cmocka_unit_test(test_time_wait_of_two_msl_passes_in_a_few_steps),
        cmocka_unit_test(test_run_until_moves_the_clock_even_when_nothing_happens),
        cmocka_unit_test(test_hosts_are_found_by_name_and_addresses_are_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
