/*
 * stack.c — one TCP/IPv4 host: its configuration, its counters, and the
 * front door for packets (stack_input) and time (stack_tick).
 *
 * A packet goes: wire_ipv4_parse → (ICMP echo request: answer it; UDP:
 * udp.c) →
 * wire_tcp_parse → tcp_input (tcp_in.c, RFC 9293 §3.10.7). Anything that
 * fails on the way is dropped with a TEV_DROP event naming the reason.
 * Every entry point records `now` in the stack, so the functions below it
 * can stamp events and arm timers without a clock of their own, and frees
 * the connections that died during the call on the way out.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

void stack_config_defaults(struct stack_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->name = "stack";
    cfg->addr = 0x0a070002; /* 10.7.0.2 */
    cfg->mss = 1460;
    cfg->sndbuf = 65536;
    cfg->rcvbuf = 65536;
    cfg->window_scaling = false;
    cfg->wscale = 7;
    cfg->timestamps = true;
    cfg->delayed_ack = true;
    cfg->delack_us = 40000;
    cfg->nagle = true;
    cfg->rto_initial_us = 1000000;
    cfg->rto_min_us = 1000000;
    cfg->rto_max_us = 120000000;
    cfg->invalid_ratelimit_us = 500000;
    cfg->ttl = WIRE_DEFAULT_TTL;
    cfg->congestion_control = true;
    cfg->init_cwnd = 10;
    cfg->sack = true;
    cfg->syn_retries = 7; /* RFC 9293 MUST-23: give a SYN at least 3 minutes (247 s) */
    cfg->synack_retries = 5;
    cfg->data_retries = 15;
    cfg->msl_us = 30000000;
    cfg->keepalive_idle_us = 7200ULL * 1000000;
    cfg->keepalive_intvl_us = 75ULL * 1000000;
    cfg->keepalive_probes = 9;
    cfg->ephemeral_lo = 40000;
    cfg->ephemeral_hi = 60999;
    cfg->max_sockets = 1u << 20;
    cfg->max_conns = 65536;
    cfg->max_time_wait = 16384;
    cfg->max_ooo_conn = 65536;
    cfg->max_ooo_total = 4u << 20;
    cfg->max_ring_total = 1ull << 30;
    cfg->syncookies = TCP_SYNCOOKIES_AUTO;
}

/* The linearised payload of one outgoing segment: an MSS, or with send-side
 * GSO one offload segment. */
static size_t payload_tmp_size(const struct stack *s)
{
    return (s->cfg.out_seg_max > s->cfg.mss ? s->cfg.out_seg_max : s->cfg.mss) + 1;
}

struct stack *stack_new(const struct stack_config *cfg)
{
    if (!cfg || !cfg->output || cfg->mss < 64 || cfg->ephemeral_lo == 0 ||
        cfg->ephemeral_lo > cfg->ephemeral_hi || cfg->max_sockets == 0)
        return NULL;
    struct stack *s = stack_mem_raw_alloc(&cfg->allocator, sizeof *s, STACK_MEM_STACK);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    stack_mem_counted(s, sizeof *s, STACK_MEM_STACK);
    if (!s->cfg.name)
        s->cfg.name = "stack";
    if (s->cfg.wscale > 14)
        s->cfg.wscale = 14; /* RFC 7323 §2.3 */
    /* RFC 9293 §3.8.6.3 (MUST-40): "the delay MUST be less than 0.5
     * seconds", whatever the configuration asks. */
    if (s->cfg.delack_us > TCP_DELACK_MAX_US)
        s->cfg.delack_us = TCP_DELACK_MAX_US;
    if (s->cfg.ttl == 0)
        s->cfg.ttl = WIRE_DEFAULT_TTL; /* a zeroed config still sends packets that live */
    if (s->cfg.rto_min_us == 0)
        s->cfg.rto_min_us = 1;
    if (s->cfg.rto_max_us < s->cfg.rto_min_us)
        s->cfg.rto_max_us = s->cfg.rto_min_us;
    /* A configuration made without stack_config_defaults() gets the default
     * limits, not limits of zero. */
    struct stack_config d;
    stack_config_defaults(&d);
    if (!s->cfg.max_conns)
        s->cfg.max_conns = d.max_conns;
    if (!s->cfg.max_time_wait)
        s->cfg.max_time_wait = d.max_time_wait;
    if (!s->cfg.max_ooo_conn)
        s->cfg.max_ooo_conn = d.max_ooo_conn;
    if (!s->cfg.max_ooo_total)
        s->cfg.max_ooo_total = d.max_ooo_total;
    if (!s->cfg.max_ring_total)
        s->cfg.max_ring_total = d.max_ring_total;
    if (!s->cfg.output_gso || s->cfg.out_seg_max <= s->cfg.mss)
        s->cfg.out_seg_max = 0; /* no offload: one MSS per packet */
    if (s->cfg.out_seg_max > STACK_GSO_MAX)
        s->cfg.out_seg_max = STACK_GSO_MAX;
    /* One packet: the largest IPv4 datagram (an ICMP echo reply can be that big). */
    s->pkt_cap = 65535;
    s->pkt = stack_mem_alloc(s, s->pkt_cap, STACK_MEM_SCRATCH);
    s->payload_tmp = stack_mem_alloc(s, payload_tmp_size(s), STACK_MEM_SCRATCH);
    if (!s->pkt || !s->payload_tmp || conn_table_init(s) < 0) {
        stack_free(s);
        return NULL;
    }
    return s;
}

void stack_free(struct stack *s)
{
    if (!s)
        return;
    s->tw_noted = NULL; /* every block goes below, noted or not */
    if (s->buckets) {
        for (uint32_t i = 0; i < s->nbuckets; i++) {
            struct tcp_node *e = s->buckets[i];
            while (e) {
                struct tcp_node *next = e->hnext;
                struct tcp_conn *c = tcp_node_conn(e);
                if (!c)
                    tcp_tw_free(s, (struct tcp_tw *)e);
                else if (c->sd < 0 || !fd_get(s, c->sd))
                    conn_destroy(s, c);
                e = next;
            }
        }
    }
    for (uint32_t i = 0; i < s->fds_cap; i++)
        if (s->fds[i])
            conn_destroy(s, s->fds[i]);
    stack_reap(s);
    conn_table_free(s);
    udp_table_free(s);
    stack_mem_free(s, s->pkt, s->pkt_cap, STACK_MEM_SCRATCH);
    stack_mem_free(s, s->payload_tmp, payload_tmp_size(s), STACK_MEM_SCRATCH);
    struct stack_allocator a = s->cfg.allocator;
    stack_mem_raw_free(&a, s, sizeof *s, STACK_MEM_STACK);
}

const struct stack_config *stack_config(const struct stack *s)
{
    return &s->cfg;
}

void stack_get_stats(const struct stack *s, struct stack_stats *out)
{
    *out = s->stats;
    out->conns_active = s->nhashed;
    out->ooo_bytes = s->ooo_bytes;
    out->syn_queue = 0;
    for (int i = 0; i < TCP_LISTEN_BUCKETS; i++)
        for (const struct tcp_node *l = s->listeners[i]; l; l = l->hnext)
            out->syn_queue += tcp_node_conn_const(l)->syn_q_len;
}

uint64_t stack_next_deadline(struct stack *s)
{
    tcp_timers_settle_top(s);
    return s->heap_len ? s->heap[0]->deadline : TCP_TIME_NEVER;
}

/* ---- events ---------------------------------------------------------------- */

void stack_event_init_tuple(const struct stack *s, struct tev *ev, enum tev_kind kind, int sd,
                            const struct tcp_tuple *t)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->t_us = s->now;
    ev->host = s->cfg.name;
    ev->sd = sd;
    if (t)
        ev->tuple = *t;
}

void stack_event_init(const struct stack *s, struct tev *ev, enum tev_kind kind,
                      const struct tcp_conn *c)
{
    stack_event_init_tuple(s, ev, kind, c ? c->sd : -1, c ? &c->tuple : NULL);
}

void stack_emit(struct stack *s, const struct tev *ev)
{
    if (s->cfg.on_event)
        s->cfg.on_event(s->cfg.event_ctx, ev);
}

void stack_drop(struct stack *s, const struct tcp_conn *c, int reason, const uint8_t *raw,
                size_t len)
{
    s->stats.drops++;
    int idx = STACK_DROP_INDEX(reason);
    if (idx >= 0 &&
        idx < (int)(sizeof s->stats.drops_by_reason / sizeof s->stats.drops_by_reason[0]))
        s->stats.drops_by_reason[idx]++;
    if (!stack_observed(s))
        return;
    struct tev ev;
    stack_event_init(s, &ev, TEV_DROP, c);
    ev.u.drop.reason = reason;
    ev.u.drop.dir = TEV_IN;
    ev.u.drop.raw = raw;
    ev.u.drop.raw_len = len;
    stack_emit(s, &ev);
}

long stack_call(struct stack *s, int sd, const struct tcp_conn *c, enum tcp_call call, long arg,
                long result)
{
    if (stack_observed(s)) {
        struct tev ev;
        stack_event_init(s, &ev, TEV_CALL, c);
        ev.sd = sd;
        ev.u.call.call = call;
        ev.u.call.arg = arg;
        ev.u.call.result = result;
        stack_emit(s, &ev);
    }
    stack_reap(s);
    return result;
}

void stack_reap_dead(struct stack *s)
{
    tcp_tw_compact_noted(s); /* first: a noted block may be on the graveyard */
    while (s->graveyard) {
        struct tcp_conn *c = s->graveyard;
        s->graveyard = c->qnext;
        conn_destroy(s, c);
    }
}

/* ---- packets in --------------------------------------------------------------- */

/* Answer an ICMP echo request (so `ping` works against the stack). */
static void stack_icmp_input(struct stack *s, const struct wire_ipv4 *ip, const uint8_t *pkt,
                             size_t len)
{
    struct wire_icmp_echo echo;
    int err = wire_icmp_echo_parse(ip, &echo);
    if (err == WIRE_ERR_NOT_ECHO) {
        stack_drop(s, NULL, TCP_DROP_ICMP_UNHANDLED, pkt, len);
        return;
    }
    if (err) {
        stack_drop(s, NULL, err, pkt, len);
        return;
    }
    size_t n = wire_icmp_echo_reply_build(s->pkt, s->pkt_cap, ip, &echo, s->ip_id++);
    if (!n)
        return;
    if (s->cfg.ttl != WIRE_DEFAULT_TTL)
        wire_ipv4_set_tos_ttl(s->pkt, 0, s->cfg.ttl);
    if (stack_observed(s)) {
        struct tev ev;
        stack_event_init(s, &ev, TEV_ICMP, NULL);
        ev.u.icmp.src = ip->src;
        ev.u.icmp.dst = ip->dst;
        ev.u.icmp.id = echo.id;
        ev.u.icmp.seqno = echo.seqno;
        stack_emit(s, &ev);
    }
    s->stats.pkts_out++;
    s->cfg.output(s->cfg.output_ctx, s->pkt, n);
}

/* Inline into both entries: one call less for every packet. */
static inline void stack_input_ex(struct stack *s, uint64_t now, const uint8_t *pkt, size_t len,
                                  bool tcp_csum_ok);

void stack_input(struct stack *s, uint64_t now, const uint8_t *pkt, size_t len)
{
    stack_input_ex(s, now, pkt, len, false);
}

void stack_input_csum_ok(struct stack *s, uint64_t now, const uint8_t *pkt, size_t len)
{
    stack_input_ex(s, now, pkt, len, true);
}

static inline void stack_input_ex(struct stack *s, uint64_t now, const uint8_t *pkt, size_t len,
                                  bool tcp_csum_ok)
{
    s->now = now;
    s->stats.pkts_in++;
    struct wire_ipv4 ip;
    int err = wire_ipv4_parse(pkt, len, &ip);
    if (err) {
        stack_drop(s, NULL, err, pkt, len);
        return;
    }
    if (ip.dst != s->cfg.addr) {
        stack_drop(s, NULL, TCP_DROP_NOT_FOR_US, pkt, len);
        return;
    }
    if (!tcp_addr_is_unicast(ip.src)) {
        /* RFC 9293 MUST-63 (for every segment, as §3.9.2.3 advises): no
         * state, and no answer — a RST or SYN,ACK would go to everyone. */
        stack_drop(s, NULL, TCP_DROP_BAD_SOURCE, pkt, len);
        return;
    }
    if (ip.proto == WIRE_PROTO_ICMP) {
        stack_icmp_input(s, &ip, pkt, len);
        return;
    }
    if (ip.proto == WIRE_PROTO_UDP) {
        udp_input(s, &ip, pkt, len);
        return;
    }
    if (ip.proto != WIRE_PROTO_TCP) {
        stack_drop(s, NULL, TCP_DROP_OTHER_PROTOCOL, pkt, len);
        return;
    }
    struct wire_tcp th;
    err = wire_tcp_parse_ex(&ip, &th, !tcp_csum_ok);
    if (err) {
        stack_drop(s, NULL, err, pkt, len);
        return;
    }
    tcp_input(s, &ip, &th, pkt, len);
    stack_reap(s);
}

void stack_tick(struct stack *s, uint64_t now)
{
    s->now = now;
    tcp_timers_run(s);
    stack_reap(s);
}

void stack_foreach_conn(const struct stack *s, tcp_conn_visit_fn fn, void *ctx)
{
    struct tcp_status st;
    for (uint32_t i = 0; i < s->nbuckets; i++)
        for (const struct tcp_node *e = s->buckets[i]; e; e = e->hnext) {
            const struct tcp_conn *c = tcp_node_conn_const(e);
            if (!c) {
                tcp_tw_fill_status((const struct tcp_tw *)e, &st);
                fn(ctx, -1, &st);
                continue;
            }
            conn_fill_status(s, c, &st);
            fn(ctx, c->sd, &st);
        }
    /* Sockets with a descriptor but no place in the table (not yet
     * connected, or connection finished) are connection blocks too. */
    for (uint32_t i = 0; i < s->fds_cap; i++) {
        const struct tcp_conn *c = s->fds[i];
        if (c && !c->hashed && !c->listening) {
            conn_fill_status(s, c, &st);
            fn(ctx, c->sd, &st);
        }
    }
}
