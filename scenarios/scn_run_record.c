/*
 * scn_run_record.c — what the scenario runner records of a run: the report
 * of failures, and what the events tell. Every event of every host (stacks,
 * the link, kernel peers) comes through scn_rt_event(), which keeps what the
 * expectations need — the segments each host sent (with relative numbers),
 * the connections' states, the dropped packets — and clones the event into
 * the timeline. Both networks (scn_vlink.c, scn_tun.c) feed it; it calls
 * nothing of the step loop, so the runner's files depend on it one way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_rt.h"
#include "seq.h"

#define RT_PAYLOAD_KEEP 65536 /* payload bytes kept per segment for the expectations */
/* ---- the report ------------------------------------------------------------ */

void scn_rt_rep(struct scn_rt *rt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    scn_text_vprintf(&rt->report, fmt, ap);
    va_end(ap);
}

/* Start a failure entry for statement st: "  file:line: text". */
void scn_rt_fail_begin(struct scn_rt *rt, const struct scn_stmt *st)
{
    rt->failures++;
    rt->step_failed = true;
    scn_rt_rep(rt, "  %s:%d: %s\n", rt->s->file, st->line, st->text);
}

void scn_rt_fmt_bytes(char *out, size_t cap, const uint8_t *b, size_t n)
{
    size_t o = 0;
    if (cap < 8)
        return;
    out[o++] = '"';
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        uint8_t c = b[i];
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
        else if (c == '\n')
            o += (size_t)snprintf(out + o, cap - o, "\\n");
        else if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
        if (i + 1 < n && o + 12 >= cap) {
            o += (size_t)snprintf(out + o, cap - o, "...");
            break;
        }
    }
    out[o++] = '"';
    out[o] = 0;
}

void scn_rt_fmt_result(char *out, size_t cap, enum tcp_call call, const struct scn_rt_callrec *r)
{
    if (!r->done) {
        snprintf(out, cap, "blocked (not returned yet)");
    } else if (r->result < 0) {
        const char *n = scn_errno_name((int)r->result);
        snprintf(out, cap, "%s", n ? n : "an error");
        if (!n)
            snprintf(out, cap, "error %ld", r->result);
    } else if (call == TCP_CALL_POLL) {
        tcp_poll_str((unsigned)r->result, true, out, cap); /* as written: out|err|hup */
        for (char *c = out; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    } else if ((call == TCP_CALL_RECV || call == TCP_CALL_RECVFROM) && r->result > 0) {
        char b[200];
        scn_rt_fmt_bytes(b, sizeof b, r->data, r->len);
        snprintf(out, cap, "%ld bytes %s", r->result, b);
    } else {
        snprintf(out, cap, "%ld", r->result);
    }
}

uint64_t scn_rt_now(struct scn_rt *rt)
{
    return rt->net.now(rt);
}

/* ---- what the events tell ------------------------------------------------------ */

static int host_by_name(const struct scn_rt *rt, const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < rt->nhosts; i++)
        if (strcmp(rt->hosts[i].name, name) == 0)
            return (int)i;
    return -1;
}

int scn_rt_host_of(const struct scn_rt *rt, uint32_t addr, uint16_t port, bool kernel_side)
{
    if (!rt->tun || !kernel_side) {
        for (size_t i = 0; i < rt->nhosts; i++)
            if (rt->hosts[i].addr == addr && (!rt->tun || !rt->hosts[i].kernel))
                return (int)i;
        if (!rt->tun)
            return -1;
    }
    /* With --tun every peer is the kernel at one address: the port tells. */
    for (size_t k = 0; k < rt->nsocks; k++) {
        const struct scn_rt_sock *so = &rt->socks[k];
        if (rt->hosts[so->host].kernel && so->lport == port)
            return so->host;
    }
    for (size_t i = 0; i < rt->nhosts; i++)
        for (int k = 0; k < 16; k++)
            if (rt->hosts[i].kernel && rt->target_port[i][k] == port && port)
                return (int)i;
    for (size_t i = 0; i < rt->nhosts; i++)
        if (rt->hosts[i].kernel)
            return (int)i;
    return -1;
}

bool scn_rt_tuple_eq(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
    return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
           a->rport == b->rport;
}

struct scn_rt_conn *scn_rt_conn_find(struct scn_rt *rt, int h, const struct tcp_tuple *t)
{
    /* Newest first: a new incarnation of a tuple shadows the old one. */
    for (size_t i = rt->nconns; i-- > 0;)
        if (rt->conns[i].host == h && scn_rt_tuple_eq(&rt->conns[i].t, t))
            return &rt->conns[i];
    return NULL;
}

static void conn_update(struct scn_rt *rt, int h, const struct tcp_tuple *t, enum tcp_state to)
{
    if (h < 0 || to >= TCP_NSTATES)
        return;
    struct scn_rt_conn *c = scn_rt_conn_find(rt, h, t);
    if (!c || (c->state == TCP_CLOSED && to != TCP_CLOSED)) {
        if (rt->nconns == rt->capconns) {
            size_t cap = rt->capconns ? rt->capconns * 2 : 16;
            struct scn_rt_conn *n = realloc(rt->conns, cap * sizeof *n);
            if (!n)
                return;
            rt->conns = n;
            rt->capconns = cap;
        }
        c = &rt->conns[rt->nconns++];
        memset(c, 0, sizeof *c);
        c->host = h;
        c->t = *t;
        c->born = ++rt->conn_order;
    }
    c->state = to;
    c->entered[to] = rt->evcount;
}

/* A new entry in the list the expectations take from, with the first
 * bytes of its payload; NULL when memory ran out. */
static struct scn_rt_seg *new_seg(struct scn_rt *rt, int from, int to, uint64_t t_us,
                                  const uint8_t *payload, size_t len)
{
    if (rt->nsegs == rt->capsegs) {
        size_t cap = rt->capsegs ? rt->capsegs * 2 : 64;
        struct scn_rt_seg *n = realloc(rt->segs, cap * sizeof *n);
        if (!n)
            return NULL;
        rt->segs = n;
        rt->capsegs = cap;
    }
    struct scn_rt_seg *g = &rt->segs[rt->nsegs++];
    memset(g, 0, sizeof *g);
    g->from = from;
    g->to = to;
    g->t_us = t_us;
    g->len = (uint32_t)len;
    if (len && payload) {
        g->plen = len < RT_PAYLOAD_KEEP ? len : RT_PAYLOAD_KEEP;
        g->payload = malloc(g->plen);
        if (g->payload)
            memcpy(g->payload, payload, g->plen);
        else
            g->plen = 0;
    }
    return g;
}

/* Record one segment sent by `from`: its numbers relative to each side's
 * ISN by the text trace's own rule (relseq.h), and whether it repeats
 * sequence space already sent. */
static void observe(struct scn_rt *rt, int from, int to, uint64_t t_us, uint32_t src, uint32_t dst,
                    const struct wire_tcp *tcp)
{
    struct relseq_seg rel;
    if (!relseq_observe(&rt->seqs, src, tcp->sport, dst, tcp->dport, tcp, &rel))
        return;
    struct scn_rt_seg *g = new_seg(rt, from, to, t_us, tcp->payload, tcp->payload_len);
    if (!g)
        return;
    g->flags = tcp->flags;
    g->rseq = rel.seq;
    g->rack = rel.ack;
    g->win = tcp->win;
    g->opts = tcp->opts;
    g->rtx = rel.repeats;
}

/* Record one UDP datagram sent by `from`: a "segment" with no numbers. */
static void observe_udp(struct scn_rt *rt, int from, int to, uint64_t t_us,
                        const struct wire_udp *udp)
{
    struct scn_rt_seg *g = new_seg(rt, from, to, t_us, udp->payload, udp->payload_len);
    if (g)
        g->udp = true;
}

/* The kernel reports nothing of what it sends: say it for it, as a stack
 * would, so the timeline has the segment (or datagram: exactly one of tcp,
 * udp is given) leaving the kernel in the step that expected it (the
 * stack's "in" follows one step later). */
static void report_kernel_sent(struct scn_rt *rt, int from, uint64_t t_us, const uint8_t *pkt,
                               size_t len, const struct wire_ipv4 *ip, const struct wire_tcp *tcp,
                               const struct wire_udp *udp)
{
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.t_us = t_us;
    ev.host = rt->hosts[from].name;
    ev.sd = -1;
    ev.tuple = (struct tcp_tuple){.laddr = ip->src,
                                  .raddr = ip->dst,
                                  .lport = tcp ? tcp->sport : udp->sport,
                                  .rport = tcp ? tcp->dport : udp->dport};
    if (tcp) {
        ev.kind = TEV_SEGMENT;
        ev.u.seg.dir = TEV_OUT;
        ev.u.seg.tcp = *tcp;
        ev.u.seg.src = ip->src;
        ev.u.seg.dst = ip->dst;
        ev.u.seg.raw = pkt;
        ev.u.seg.raw_len = len;
        ev.u.seg.retransmission = rt->nsegs && rt->segs[rt->nsegs - 1].rtx;
    } else {
        ev.kind = TEV_DATAGRAM;
        ev.u.dgram.dir = TEV_OUT;
        ev.u.dgram.udp = *udp;
        ev.u.dgram.src = ip->src;
        ev.u.dgram.dst = ip->dst;
        ev.u.dgram.raw = pkt;
        ev.u.dgram.raw_len = len;
    }
    scn_rt_event(rt, &ev);
}

void scn_rt_observe_packet(struct scn_rt *rt, int from, uint64_t t_us, const uint8_t *pkt,
                           size_t len)
{
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    struct wire_udp udp;
    if (wire_ipv4_parse(pkt, len, &ip) != WIRE_OK)
        return;
    bool kernel = rt->hosts[from].kernel;
    if (ip.proto == WIRE_PROTO_UDP && wire_udp_parse(&ip, &udp) == WIRE_OK) {
        int to = scn_rt_host_of(rt, ip.dst, udp.dport, rt->tun && !kernel);
        observe_udp(rt, from, to, t_us, &udp);
        if (kernel)
            report_kernel_sent(rt, from, t_us, pkt, len, &ip, NULL, &udp);
        return;
    }
    if (ip.proto != WIRE_PROTO_TCP || wire_tcp_parse(&ip, &tcp) != WIRE_OK)
        return;
    int to = scn_rt_host_of(rt, ip.dst, tcp.dport, rt->tun && !kernel);
    observe(rt, from, to, t_us, ip.src, ip.dst, &tcp);
    if (kernel)
        report_kernel_sent(rt, from, t_us, pkt, len, &ip, &tcp, NULL);
}

static void add_drop(struct scn_rt *rt, int h, int reason, uint64_t t)
{
    if (rt->ndrops == rt->capdrops) {
        size_t cap = rt->capdrops ? rt->capdrops * 2 : 16;
        struct scn_rt_drop *n = realloc(rt->drops, cap * sizeof *n);
        if (!n)
            return;
        rt->drops = n;
        rt->capdrops = cap;
    }
    rt->drops[rt->ndrops++] = (struct scn_rt_drop){.host = h, .reason = reason, .t_us = t};
}

/* The timeline keeps its own copies of host names (events outlive the run). */
static const char *tl_name(const struct scn_rt *rt, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < rt->tl->nhosts; i++)
        if (strcmp(rt->tl->hosts[i].name, name) == 0)
            return rt->tl->hosts[i].name;
    if (strcmp(name, "link") == 0)
        return "link";
    if (strcmp(name, "kernel") == 0)
        return "kernel";
    return "?";
}

static void timeline_add(struct scn_rt *rt, const struct tev *ev)
{
    struct scn_timeline *tl = rt->tl;
    if (tl->nevents == rt->cap_events) {
        size_t cap = rt->cap_events ? rt->cap_events * 2 : 256;
        struct tev **n = realloc(tl->events, cap * sizeof *n);
        if (!n)
            return;
        tl->events = n;
        rt->cap_events = cap;
    }
    struct tev *c = tev_clone(ev);
    if (!c)
        return;
    c->host = tl_name(rt, ev->host);
    if (c->kind == TEV_LINK) {
        c->u.link.from = tl_name(rt, ev->u.link.from);
        c->u.link.to = tl_name(rt, ev->u.link.to);
    }
    tl->events[tl->nevents++] = c;
}

void scn_rt_event(void *ctx, const struct tev *ev)
{
    struct scn_rt *rt = ctx;
    struct tev copy;
    if (rt->rebooting) {
        /* A crash says nothing on the wire and makes no calls: what is left
         * to see is each connection vanishing. */
        if (ev->kind == TEV_CALL || ev->kind == TEV_SEGMENT || ev->kind == TEV_LINK)
            return;
        if (ev->kind == TEV_STATE) {
            copy = *ev;
            copy.u.state.cause = "host rebooted";
            ev = &copy;
        }
    } else if (rt->connecting && ev->kind == TEV_CALL && ev->u.call.call == TCP_CALL_CONNECT &&
               ev->u.call.result == 0) {
        /* The engine's connect() returns at once (the SYN is out); the
         * program's connect() blocks: on the timeline it is in progress. */
        copy = *ev;
        copy.u.call.result = -EINPROGRESS;
        ev = &copy;
    }
    rt->evcount++;
    int h;
    switch (ev->kind) {
    case TEV_SEGMENT:
        h = host_by_name(rt, ev->host);
        if (ev->u.seg.dir == TEV_OUT && h >= 0 && !rt->hosts[h].kernel) {
            int to = scn_rt_host_of(rt, ev->u.seg.dst, ev->u.seg.tcp.dport, rt->tun);
            observe(rt, h, to, ev->t_us, ev->u.seg.src, ev->u.seg.dst, &ev->u.seg.tcp);
        }
        break;
    case TEV_DATAGRAM:
        h = host_by_name(rt, ev->host);
        if (ev->u.dgram.dir == TEV_OUT && h >= 0 && !rt->hosts[h].kernel)
            observe_udp(rt, h, scn_rt_host_of(rt, ev->u.dgram.dst, ev->u.dgram.udp.dport, rt->tun),
                        ev->t_us, &ev->u.dgram.udp);
        break;
    case TEV_STATE:
        conn_update(rt, host_by_name(rt, ev->host), &ev->tuple, ev->u.state.to);
        break;
    case TEV_KERNEL:
        h = scn_rt_host_of(rt, ev->tuple.laddr, ev->tuple.lport, true);
        conn_update(rt, h, &ev->tuple, ev->u.kernel.gone ? TCP_CLOSED : ev->u.kernel.state);
        break;
    case TEV_DROP:
        h = host_by_name(rt, ev->host);
        if (h >= 0)
            add_drop(rt, h, ev->u.drop.reason, ev->t_us);
        break;
    default:
        break;
    }
    if (rt->tl)
        timeline_add(rt, ev);
    if (rt->opts && rt->opts->on_event)
        rt->opts->on_event(rt->opts->event_ctx, ev);
}

static void event_init(struct scn_rt *rt, struct tev *ev, enum tev_kind kind, int h, int sd)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->t_us = scn_rt_now(rt);
    ev->host = rt->hosts[h].name;
    ev->sd = sd;
}

/* A call's return that the engine does not report by itself (a blocking
 * connect() returning), so the timeline shows when the program went on. */
void scn_rt_emit_return(struct scn_rt *rt, int h, const struct scn_rt_sock *so, enum tcp_call call,
                        long result)
{
    struct tev ev;
    event_init(rt, &ev, TEV_CALL, h, so->sd);
    ev.tuple = so->tuple;
    ev.u.call.call = call;
    ev.u.call.result = result;
    ev.u.call.arg = so->tuple.rport;
    scn_rt_event(rt, &ev);
}

void scn_rt_emit_call(struct scn_rt *rt, int h, int sd, enum tcp_call call, long arg, long result)
{
    struct tev ev;
    event_init(rt, &ev, TEV_CALL, h, sd);
    ev.u.call.call = call;
    ev.u.call.result = result;
    ev.u.call.arg = arg;
    scn_rt_event(rt, &ev);
}

void scn_rt_emit_ready(struct scn_rt *rt, int h, const struct scn_rt_sock *so, unsigned events,
                       unsigned revents)
{
    struct tev ev;
    event_init(rt, &ev, TEV_READY, h, so->sd);
    if (so->have_tuple)
        ev.tuple = so->tuple;
    ev.u.ready.events = events;
    ev.u.ready.revents = revents;
    scn_rt_event(rt, &ev);
}
