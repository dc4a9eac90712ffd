/*
 * scn_run.c — run a parsed scenario: drive the hosts, let time pass, check
 * every expectation, and record the timeline the UI plays back.
 *
 * Second stage of the scenario data flow in DESIGN.md. The runner executes
 * the steps in order. Time moves only when a step waits: `wait`, or an
 * expectation waiting for what it expects (docs/scenarios.md). Meanwhile
 * every event of every host comes through scn_rt_event(), which keeps what
 * the expectations need — the segments each host sent (with relative
 * numbers), the connections' states, the dropped packets — and clones the
 * event into the timeline, attributed to the step that was running.
 *
 * Hosts behave like one-threaded programs: a blocking call (accept, connect,
 * send, recv) stays pending and is completed by service() after every
 * happening on the network, at the moment the socket allows it.
 *
 * The network is the virtual link (below) or, with --tun, the TUN device
 * and kernel sockets (scn_tun.c); both sit behind struct scn_net.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../stack/seq.h"
#include "../tun/vlink.h"
#include "scn_rt.h"

#define RT_MAX_STEPS_PER_WAIT 50000000ul /* safety net against an engine that never settles */
#define RT_PAYLOAD_KEEP       65536

/* ---- the report ------------------------------------------------------------ */

static void rep(struct scn_rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rep(struct scn_rt *rt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (rt->rlen + (size_t)n + 1 > rt->rcap) {
        size_t cap = (rt->rcap ? rt->rcap * 2 : 1024) + (size_t)n;
        char *r = realloc(rt->report, cap);
        if (!r)
            return;
        rt->report = r;
        rt->rcap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(rt->report + rt->rlen, rt->rcap - rt->rlen, fmt, ap);
    va_end(ap);
    rt->rlen += (size_t)n;
}

/* Start a failure entry for statement st: "  file:line: text". */
static void fail_begin(struct scn_rt *rt, const struct scn_stmt *st)
{
    rt->failures++;
    rt->step_failed = true;
    rep(rt, "  %s:%d: %s\n", rt->s->file, st->line, st->text);
}

static void fmt_bytes(char *out, size_t cap, const uint8_t *b, size_t n)
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

static void fmt_result(char *out, size_t cap, enum tcp_call call, const struct scn_rt_callrec *r)
{
    if (!r->done) {
        snprintf(out, cap, "blocked (not returned yet)");
    } else if (r->result < 0) {
        const char *n = scn_errno_name((int)r->result);
        snprintf(out, cap, "%s", n ? n : "an error");
        if (!n)
            snprintf(out, cap, "error %ld", r->result);
    } else if (call == TCP_CALL_RECV && r->result > 0) {
        char b[200];
        fmt_bytes(b, sizeof b, r->data, r->len);
        snprintf(out, cap, "%ld bytes %s", r->result, b);
    } else {
        snprintf(out, cap, "%ld", r->result);
    }
}

/* ---- hosts: one face for stacks and kernel sockets ---------------------------- */

static uint64_t now(struct scn_rt *rt)
{
    return rt->net.now(rt);
}

static int h_socket(struct scn_rt *rt, int h)
{
    struct scn_rt_host *H = &rt->hosts[h];
    return H->kernel ? kpeer_socket(H->kp) : tcp_socket(H->stack, now(rt));
}

static int h_bind(struct scn_rt *rt, int h, int sd, uint16_t port)
{
    struct scn_rt_host *H = &rt->hosts[h];
    return H->kernel ? kpeer_bind(H->kp, sd, 0, port) : tcp_bind(H->stack, now(rt), sd, port);
}

static int h_listen(struct scn_rt *rt, int h, int sd, int backlog)
{
    struct scn_rt_host *H = &rt->hosts[h];
    return H->kernel ? kpeer_listen(H->kp, sd, backlog)
                     : tcp_listen(H->stack, now(rt), sd, backlog);
}

static int h_accept(struct scn_rt *rt, int h, int sd, struct tcp_tuple *t)
{
    struct scn_rt_host *H = &rt->hosts[h];
    return H->kernel ? kpeer_accept(H->kp, sd, t) : tcp_accept(H->stack, now(rt), sd, t);
}

static int h_connect(struct scn_rt *rt, int h, int sd, uint32_t addr, uint16_t port)
{
    struct scn_rt_host *H = &rt->hosts[h];
    return H->kernel ? kpeer_connect(H->kp, sd, addr, port)
                     : tcp_connect(H->stack, now(rt), sd, addr, port);
}

static long h_send(struct scn_rt *rt, int h, int sd, const uint8_t *b, size_t n)
{
    struct scn_rt_host *H = &rt->hosts[h];
    return H->kernel ? kpeer_send(H->kp, sd, b, n) : tcp_send(H->stack, now(rt), sd, b, n);
}

static long h_recv(struct scn_rt *rt, int h, int sd, uint8_t *b, size_t n)
{
    struct scn_rt_host *H = &rt->hosts[h];
    return H->kernel ? kpeer_recv(H->kp, sd, b, n) : tcp_recv(H->stack, now(rt), sd, b, n);
}

static int h_shutdown(struct scn_rt *rt, int h, int sd, int how)
{
    struct scn_rt_host *H = &rt->hosts[h];
    return H->kernel ? kpeer_shutdown(H->kp, sd, (enum tcp_shut)how)
                     : tcp_shutdown(H->stack, now(rt), sd, (enum tcp_shut)how);
}

static int h_close(struct scn_rt *rt, int h, int sd, bool abort)
{
    struct scn_rt_host *H = &rt->hosts[h];
    if (H->kernel)
        return abort ? kpeer_abort(H->kp, sd) : kpeer_close(H->kp, sd);
    return abort ? tcp_abort(H->stack, now(rt), sd) : tcp_close(H->stack, now(rt), sd);
}

static int h_setsockopt(struct scn_rt *rt, int h, int sd, enum tcp_sockopt opt, long v)
{
    struct scn_rt_host *H = &rt->hosts[h];
    return H->kernel ? kpeer_setsockopt(H->kp, sd, opt, v)
                     : tcp_setsockopt(H->stack, now(rt), sd, opt, v);
}

static unsigned h_poll(struct scn_rt *rt, int h, int sd)
{
    struct scn_rt_host *H = &rt->hosts[h];
    return H->kernel ? kpeer_poll(H->kp, sd) : tcp_poll(H->stack, sd);
}

/* The socket's pending error (negative errno) or 0. */
static int h_error(struct scn_rt *rt, int h, int sd)
{
    struct scn_rt_host *H = &rt->hosts[h];
    if (H->kernel)
        return kpeer_error(H->kp, sd);
    struct tcp_status st;
    if (tcp_status(H->stack, sd, &st) < 0)
        return 0;
    return st.error;
}

/* State of an open descriptor, or -1. */
static int h_state(struct scn_rt *rt, int h, int sd)
{
    struct scn_rt_host *H = &rt->hosts[h];
    if (H->kernel)
        return kpeer_state(H->kp, sd);
    struct tcp_status st;
    if (tcp_status(H->stack, sd, &st) < 0)
        return -1;
    return (int)st.state;
}

static bool h_tuple(struct scn_rt *rt, int h, int sd, struct tcp_tuple *t)
{
    struct scn_rt_host *H = &rt->hosts[h];
    if (H->kernel)
        return kpeer_tuple(H->kp, sd, t) == 0;
    struct tcp_status st;
    if (tcp_status(H->stack, sd, &st) < 0)
        return false;
    *t = st.tuple;
    return true;
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

static bool tuple_eq(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
    return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
           a->rport == b->rport;
}

static struct scn_rt_conn *conn_find(struct scn_rt *rt, int h, const struct tcp_tuple *t)
{
    /* Newest first: a new incarnation of a tuple shadows the old one. */
    for (size_t i = rt->nconns; i-- > 0;)
        if (rt->conns[i].host == h && tuple_eq(&rt->conns[i].t, t))
            return &rt->conns[i];
    return NULL;
}

static void conn_update(struct scn_rt *rt, int h, const struct tcp_tuple *t, enum tcp_state to)
{
    if (h < 0 || to >= TCP_NSTATES)
        return;
    struct scn_rt_conn *c = conn_find(rt, h, t);
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

static struct scn_rt_isn *isn_entry(struct scn_rt *rt, uint32_t saddr, uint16_t sport,
                                    uint32_t daddr, uint16_t dport, bool create)
{
    for (size_t i = 0; i < rt->nisns; i++) {
        struct scn_rt_isn *e = &rt->isns[i];
        if (e->saddr == saddr && e->sport == sport && e->daddr == daddr && e->dport == dport)
            return e;
    }
    if (!create)
        return NULL;
    if (rt->nisns == rt->capisns) {
        size_t cap = rt->capisns ? rt->capisns * 2 : 16;
        struct scn_rt_isn *n = realloc(rt->isns, cap * sizeof *n);
        if (!n)
            return NULL;
        rt->isns = n;
        rt->capisns = cap;
    }
    struct scn_rt_isn *e = &rt->isns[rt->nisns++];
    memset(e, 0, sizeof *e);
    e->saddr = saddr;
    e->sport = sport;
    e->daddr = daddr;
    e->dport = dport;
    return e;
}

/* Record one segment sent by `from`: relative numbers as tcpdump counts them
 * (from the first sequence number seen from each side, the ISN when the SYN
 * was seen), and whether it repeats sequence space already sent. */
static void observe(struct scn_rt *rt, int from, int to, uint64_t t_us, uint32_t src, uint32_t dst,
                    const struct wire_tcp *tcp)
{
    struct scn_rt_isn *e = isn_entry(rt, src, tcp->sport, dst, tcp->dport, false);
    bool syn = tcp->flags & TCP_SYN, fin = tcp->flags & TCP_FIN;
    if (!e || (syn && tcp->seq != e->isn)) {
        /* A first segment, or a SYN with a new ISN: a new incarnation. */
        e = isn_entry(rt, src, tcp->sport, dst, tcp->dport, true);
        if (!e)
            return;
        e->isn = tcp->seq;
        e->have_hi = false;
    }
    struct scn_rt_isn *r = isn_entry(rt, dst, tcp->dport, src, tcp->sport, false);
    if (rt->nsegs == rt->capsegs) {
        size_t cap = rt->capsegs ? rt->capsegs * 2 : 64;
        struct scn_rt_seg *n = realloc(rt->segs, cap * sizeof *n);
        if (!n)
            return;
        rt->segs = n;
        rt->capsegs = cap;
    }
    struct scn_rt_seg *g = &rt->segs[rt->nsegs];
    memset(g, 0, sizeof *g);
    g->from = from;
    g->to = to;
    g->t_us = t_us;
    g->flags = tcp->flags;
    g->rseq = tcp->seq - e->isn;
    g->rack = r ? tcp->ack - r->isn : tcp->ack;
    g->len = (uint32_t)tcp->payload_len;
    g->win = tcp->win;
    g->opts = tcp->opts;
    uint32_t end = tcp->seq + (uint32_t)tcp->payload_len + syn + fin;
    if (tcp->payload_len || syn || fin) {
        g->rtx = e->have_hi && seq_lt(tcp->seq, e->hi);
        if (!e->have_hi || seq_gt(end, e->hi))
            e->hi = end;
        e->have_hi = true;
    }
    if (tcp->payload_len && tcp->payload) {
        g->plen = tcp->payload_len < RT_PAYLOAD_KEEP ? tcp->payload_len : RT_PAYLOAD_KEEP;
        g->payload = malloc(g->plen);
        if (g->payload)
            memcpy(g->payload, tcp->payload, g->plen);
        else
            g->plen = 0;
    }
    rt->nsegs++;
}

void scn_rt_observe_packet(struct scn_rt *rt, int from, uint64_t t_us, const uint8_t *pkt,
                           size_t len)
{
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    if (wire_ipv4_parse(pkt, len, &ip) != WIRE_OK || ip.proto != WIRE_PROTO_TCP ||
        wire_tcp_parse(&ip, &tcp) != WIRE_OK)
        return;
    int to = scn_rt_host_of(rt, ip.dst, tcp.dport, rt->tun && !rt->hosts[from].kernel);
    observe(rt, from, to, t_us, ip.src, ip.dst, &tcp);
    if (!rt->hosts[from].kernel)
        return;
    /* The kernel reports nothing of what it sends: say it for it, as a
     * stack would, so the timeline has the segment leaving the kernel in
     * the step that expected it (the stack's "in" follows one step later). */
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_SEGMENT;
    ev.t_us = t_us;
    ev.host = rt->hosts[from].name;
    ev.sd = -1;
    ev.tuple = (struct tcp_tuple){
        .laddr = ip.src, .raddr = ip.dst, .lport = tcp.sport, .rport = tcp.dport};
    ev.u.seg.dir = TEV_OUT;
    ev.u.seg.tcp = tcp;
    ev.u.seg.src = ip.src;
    ev.u.seg.dst = ip.dst;
    ev.u.seg.raw = pkt;
    ev.u.seg.raw_len = len;
    ev.u.seg.retransmission = rt->nsegs && rt->segs[rt->nsegs - 1].rtx;
    scn_rt_event(rt, &ev);
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

/* A call's return that the engine does not report by itself (a blocking
 * connect() returning), so the timeline shows when the program went on. */
static void emit_return(struct scn_rt *rt, int h, const struct scn_rt_sock *so, enum tcp_call call,
                        long result)
{
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_CALL;
    ev.t_us = now(rt);
    ev.host = rt->hosts[h].name;
    ev.sd = so->sd;
    ev.tuple = so->tuple;
    ev.u.call.call = call;
    ev.u.call.result = result;
    ev.u.call.arg = so->tuple.rport;
    scn_rt_event(rt, &ev);
}

/* ---- sockets and blocking calls -------------------------------------------------- */

static int new_sock(struct scn_rt *rt, int h, int sd)
{
    if (rt->nsocks == RT_MAX_SOCKS)
        return -1;
    struct scn_rt_sock *so = &rt->socks[rt->nsocks];
    memset(so, 0, sizeof *so);
    so->host = h;
    so->sd = sd;
    so->name = -1;
    return (int)rt->nsocks++;
}

static void name_sock(struct scn_rt *rt, int k, int name)
{
    if (name >= 0 && k >= 0) {
        rt->named[name] = k;
        rt->socks[k].name = name;
    }
}

static void record(struct scn_rt_callrec *r, long result, const uint8_t *data, size_t len,
                   bool done)
{
    free(r->data);
    memset(r, 0, sizeof *r);
    r->made = true;
    r->done = done;
    r->result = result;
    if (data && len) {
        r->data = malloc(len);
        if (r->data) {
            memcpy(r->data, data, len);
            r->len = len;
        }
    }
}

static void record_call(struct scn_rt *rt, int h, int k, enum tcp_call call, long result,
                        const uint8_t *data, size_t len, bool done)
{
    record(&rt->hosts[h].last[call], result, data, len, done);
    if (k >= 0)
        record(&rt->socks[k].last[call], result, data, len, done);
}

static void complete(struct scn_rt *rt, int h, long result, const uint8_t *data, size_t len)
{
    struct scn_rt_pending *p = &rt->hosts[h].pend;
    record_call(rt, h, p->sock, p->call, result, data, len, true);
    free(p->owned);
    memset(p, 0, sizeof *p);
}

static void service_host(struct scn_rt *rt, int h)
{
    struct scn_rt_host *H = &rt->hosts[h];
    struct scn_rt_pending *p = &H->pend;
    struct scn_rt_sock *so = &rt->socks[p->sock];
    if (so->sd < 0) {
        complete(rt, h, -EBADF, NULL, 0);
        return;
    }
    unsigned ev = h_poll(rt, h, so->sd);
    switch (p->call) {
    case TCP_CALL_ACCEPT: {
        if (!(ev & (TCP_POLLIN | TCP_POLLERR)))
            return;
        struct tcp_tuple t;
        memset(&t, 0, sizeof t);
        int r = h_accept(rt, h, so->sd, &t);
        if (r == -EAGAIN)
            return;
        int as = p->as_sock;

        if (r >= 0) {
            int k = new_sock(rt, h, r);
            if (k >= 0) {
                rt->socks[k].accepted = true;
                rt->socks[k].tuple = t;
                rt->socks[k].have_tuple = true;
                rt->socks[k].lport = t.lport;
                name_sock(rt, k, as);
                H->cur = k;
                record(&rt->socks[k].last[TCP_CALL_ACCEPT], r, NULL, 0, true);
            }
        }
        complete(rt, h, r, NULL, 0);
        break;
    }
    case TCP_CALL_CONNECT: {
        int st = h_state(rt, h, so->sd);
        if (ev & TCP_POLLERR) {
            int e = h_error(rt, h, so->sd);
            long r = e ? e : -ECONNREFUSED;
            emit_return(rt, h, so, TCP_CALL_CONNECT, r);
            complete(rt, h, r, NULL, 0);
        } else if ((ev & TCP_POLLOUT) || st == TCP_ESTABLISHED || st == TCP_CLOSE_WAIT) {
            if (!so->have_tuple && h_tuple(rt, h, so->sd, &so->tuple) && so->tuple.rport) {
                so->have_tuple = true;
                so->lport = so->tuple.lport;
            }
            emit_return(rt, h, so, TCP_CALL_CONNECT, 0);
            complete(rt, h, 0, NULL, 0);
        } else if (st == TCP_CLOSED) {
            int e = h_error(rt, h, so->sd);
            if (e) {
                emit_return(rt, h, so, TCP_CALL_CONNECT, e);
                complete(rt, h, e, NULL, 0);
            }
        }
        break;
    }
    case TCP_CALL_RECV: {
        if (!(ev & (TCP_POLLIN | TCP_POLLERR | TCP_POLLHUP)))
            return;
        uint8_t *buf = malloc(p->len);
        if (!buf)
            return;
        long r = h_recv(rt, h, so->sd, buf, p->len);
        if (r != -EAGAIN)
            complete(rt, h, r, buf, r > 0 ? (size_t)r : 0);
        free(buf);
        break;
    }
    case TCP_CALL_SEND:
        while (p->active && (ev & (TCP_POLLOUT | TCP_POLLERR))) {
            long r = h_send(rt, h, so->sd, p->data + p->off, p->len - p->off);
            if (r == -EAGAIN || r == 0)
                return;
            if (r < 0) {
                complete(rt, h, r, NULL, 0);
                return;
            }
            p->off += (size_t)r;
            if (p->off >= p->len) {
                complete(rt, h, (long)p->len, NULL, 0);
                return;
            }
            ev = h_poll(rt, h, so->sd);
        }
        break;
    default:
        complete(rt, h, -EINVAL, NULL, 0);
        break;
    }
}

/* Complete whatever blocked calls can return now. */
static void service(struct scn_rt *rt)
{
    for (size_t h = 0; h < rt->nhosts; h++)
        if (rt->hosts[h].pend.active)
            service_host(rt, (int)h);
}

/* ---- letting time pass ---------------------------------------------------------- */

typedef bool (*scn_rt_cond)(struct scn_rt *rt, const void *arg);

/* Run the network until cond holds (checked after every happening) or the
 * clock reaches `deadline`. True if cond held. */
static bool run_until(struct scn_rt *rt, uint64_t deadline, scn_rt_cond cond, const void *arg)
{
    service(rt);
    for (unsigned long n = 0; n < RT_MAX_STEPS_PER_WAIT; n++) {
        if (cond && cond(rt, arg))
            return true;
        if (rt->fatal)
            return false;
        if (now(rt) >= deadline)
            return false;
        int err = 0;
        bool did = rt->net.step(rt, deadline, &err);
        if (err < 0) {
            rt->fatal = err;
            return false;
        }
        service(rt);
        if (!did)
            return cond ? cond(rt, arg) : false;
    }
    return false;
}

static uint64_t deadline_in(struct scn_rt *rt, uint64_t us)
{
    uint64_t n = now(rt);
    return n + us < n ? TCP_TIME_NEVER - 1 : n + us;
}

/* ---- states ----------------------------------------------------------------------- */

static enum tcp_state sock_state(struct scn_rt *rt, int k)
{
    struct scn_rt_sock *so = &rt->socks[k];
    if (so->sd >= 0) {
        if (so->listening)
            return TCP_LISTEN;
        int st = h_state(rt, so->host, so->sd);
        if (st >= 0 && st < TCP_NSTATES)
            return (enum tcp_state)st;
    }
    if (so->have_tuple) {
        struct scn_rt_conn *c = conn_find(rt, so->host, &so->tuple);
        if (c)
            return c->state;
    }
    return TCP_CLOSED;
}

/* The newest connection that arrived on a listening socket. */
static struct scn_rt_conn *newest_child(struct scn_rt *rt, int k)
{
    struct scn_rt_sock *so = &rt->socks[k];
    struct scn_rt_conn *best = NULL;
    for (size_t i = 0; i < rt->nconns; i++) {
        struct scn_rt_conn *c = &rt->conns[i];
        if (c->host == so->host && c->t.lport == so->lport && c->t.rport != 0 &&
            (!best || c->born > best->born))
            best = c;
    }
    return best;
}

/* The connection a target's state means (docs/scenarios.md "States"). */
static enum tcp_state target_state(struct scn_rt *rt, const struct scn_target *t,
                                   struct scn_rt_conn **conn)
{
    *conn = NULL;
    int k = t->sock >= 0 ? rt->named[t->sock] : rt->hosts[t->host].cur;
    if (k < 0)
        return TCP_CLOSED;
    struct scn_rt_sock *so = &rt->socks[k];
    if (t->sock < 0 && so->listening && so->sd >= 0) {
        struct scn_rt_conn *c = newest_child(rt, k);
        if (!c)
            return TCP_LISTEN;
        *conn = c;
        return c->state;
    }
    if (so->have_tuple)
        *conn = conn_find(rt, so->host, &so->tuple);
    return sock_state(rt, k);
}

struct state_arg {
    const struct scn_target *tgt;
    enum tcp_state want;
    uint64_t mark;
};

static bool state_holds(struct scn_rt *rt, const void *arg)
{
    const struct state_arg *a = arg;
    struct scn_rt_conn *c;
    enum tcp_state st = target_state(rt, a->tgt, &c);
    if (st == a->want)
        return true;
    /* Passed through it since the statement started (within one instant). */
    return c && c->entered[a->want] > a->mark;
}

static const char *target_name(const struct scn_rt *rt, const struct scn_target *t)
{
    return t->sock >= 0 ? rt->s->socks[t->sock].name : rt->hosts[t->host].name;
}

/* ---- executing steps ---------------------------------------------------------------- */

static int sock_for_call(struct scn_rt *rt, const struct scn_stmt *st, bool create)
{
    const struct scn_target *t = &st->u.call.tgt;
    int k = t->sock >= 0 ? rt->named[t->sock] : rt->hosts[t->host].cur;
    if (k >= 0 && rt->socks[k].sd >= 0)
        return k;
    if (!create || t->sock >= 0)
        return -1;
    /* An implicit socket(): the host has none open. */
    int sd = h_socket(rt, t->host);
    record_call(rt, t->host, -1, TCP_CALL_SOCKET, sd, NULL, 0, true);
    if (sd < 0)
        return -1;
    k = new_sock(rt, t->host, sd);
    if (k >= 0)
        rt->hosts[t->host].cur = k;
    return k;
}

static bool pending_done(struct scn_rt *rt, const void *arg)
{
    (void)rt;
    return !((const struct scn_rt_pending *)arg)->active;
}

static void call_failed(struct scn_rt *rt, const struct scn_stmt *st, const char *why)
{
    fail_begin(rt, st);
    rep(rt, "    could not make the call: %s\n", why);
}

static void exec_call(struct scn_rt *rt, const struct scn_stmt *st)
{
    int h = st->u.call.tgt.host;
    struct scn_rt_host *H = &rt->hosts[h];
    enum tcp_call call = st->u.call.call;
    if (H->pend.active) {
        /* One thread per host: wait for the call it is blocked in. */
        run_until(rt, deadline_in(rt, st->timeout_us), pending_done, &H->pend);
        if (H->pend.active) {
            char why[200];
            snprintf(why, sizeof why, "%s is still blocked in %s() (line %d)", H->name,
                     tcp_call_name(H->pend.call), H->pend.line);
            call_failed(rt, st, why);
            return;
        }
    }
    if (st->u.call.tgt.sock >= 0 && rt->named[st->u.call.tgt.sock] < 0) {
        call_failed(rt, st, "that socket was never created (its accept() or socket() failed)");
        return;
    }
    int k, r;
    switch (call) {
    case TCP_CALL_SOCKET:
        r = h_socket(rt, h);
        record_call(rt, h, -1, call, r, NULL, 0, true);
        if (r >= 0 && (k = new_sock(rt, h, r)) >= 0) {
            H->cur = k;
            name_sock(rt, k, st->u.call.as_sock);
            record(&rt->socks[k].last[call], r, NULL, 0, true);
        }
        return;
    case TCP_CALL_BIND:
    case TCP_CALL_LISTEN:
    case TCP_CALL_CONNECT:
    case TCP_CALL_SETSOCKOPT:
        k = sock_for_call(rt, st, true);
        break;
    case TCP_CALL_ACCEPT:
        k = sock_for_call(rt, st, false);
        if (k < 0 || !rt->socks[k].listening)
            k = H->last_listener >= 0 && rt->socks[H->last_listener].sd >= 0 ? H->last_listener
                                                                             : -1;
        if (k < 0) {
            record_call(rt, h, -1, call, -EINVAL, NULL, 0, true);
            call_failed(rt, st, "the host has no listening socket to accept from");
            return;
        }
        break;
    default:
        k = sock_for_call(rt, st, false);
        break;
    }
    if (k < 0) {
        record_call(rt, h, -1, call, -EBADF, NULL, 0, true);
        call_failed(rt, st, "the host has no open socket (it was closed, or never made)");
        return;
    }
    struct scn_rt_sock *so = &rt->socks[k];
    struct scn_rt_pending *p = &H->pend;
    switch (call) {
    case TCP_CALL_BIND:
        r = h_bind(rt, h, so->sd, st->u.call.port);
        if (r == 0)
            so->lport = st->u.call.port;
        record_call(rt, h, k, call, r, NULL, 0, true);
        break;
    case TCP_CALL_LISTEN:
        r = 0;
        if (st->u.call.port && so->lport != st->u.call.port) {
            r = h_bind(rt, h, so->sd, st->u.call.port);
            if (r == 0)
                so->lport = st->u.call.port;
        }
        if (r == 0)
            r = h_listen(rt, h, so->sd, st->u.call.backlog);
        if (r == 0) {
            so->listening = true;
            H->last_listener = k;
        }
        name_sock(rt, k, st->u.call.as_sock);
        record_call(rt, h, k, call, r, NULL, 0, true);
        break;
    case TCP_CALL_CONNECT: {
        uint32_t addr = st->u.call.dst_addr;
        int dh = st->u.call.dst_host;
        if (dh >= 0) {
            addr = rt->hosts[dh].addr;
            for (int i = 0; i < 16; i++)
                if (rt->target_port[dh][i] == 0 || rt->target_port[dh][i] == st->u.call.port) {
                    rt->target_port[dh][i] = st->u.call.port;
                    break;
                }
        }
        rt->connecting = true;
        r = h_connect(rt, h, so->sd, addr, st->u.call.port);
        rt->connecting = false;
        /* The local port is known at once (the kernel's SYN is read only at
         * the next step, and is attributed to this host by it); the peer may
         * not be yet, but it is where we connected to. */
        if (h_tuple(rt, h, so->sd, &so->tuple) && so->tuple.lport) {
            if (!so->tuple.rport) {
                so->tuple.raddr = addr;
                so->tuple.rport = st->u.call.port;
            }
            so->have_tuple = true;
            so->lport = so->tuple.lport;
        }
        if (r < 0) {
            record_call(rt, h, k, call, r, NULL, 0, true);
            break;
        }
        record_call(rt, h, k, call, 0, NULL, 0, false);
        *p = (struct scn_rt_pending){.active = true, .call = call, .sock = k, .line = st->line};
        break;
    }
    case TCP_CALL_ACCEPT:
        record_call(rt, h, k, call, 0, NULL, 0, false);
        *p = (struct scn_rt_pending){.active = true,
                                     .call = call,
                                     .sock = k,
                                     .line = st->line,
                                     .as_sock = st->u.call.as_sock};
        break;
    case TCP_CALL_SEND:
        record_call(rt, h, k, call, 0, NULL, 0, false);
        *p = (struct scn_rt_pending){
            .active = true, .call = call, .sock = k, .line = st->line, .len = st->u.call.len};
        if (st->u.call.data) {
            p->data = st->u.call.data;
        } else {
            p->owned = malloc(st->u.call.len ? st->u.call.len : 1);
            if (!p->owned) {
                complete(rt, h, -ENOMEM, NULL, 0);
                break;
            }
            for (size_t i = 0; i < st->u.call.len; i++)
                p->owned[i] = (uint8_t)('a' + i % 26);
            p->data = p->owned;
        }
        if (p->len == 0)
            complete(rt, h, 0, NULL, 0);
        break;
    case TCP_CALL_RECV:
        record_call(rt, h, k, call, 0, NULL, 0, false);
        *p = (struct scn_rt_pending){
            .active = true, .call = call, .sock = k, .line = st->line, .len = st->u.call.len};
        break;
    case TCP_CALL_SHUTDOWN:
        r = h_shutdown(rt, h, so->sd, st->u.call.how);
        record_call(rt, h, k, call, r, NULL, 0, true);
        break;
    case TCP_CALL_CLOSE:
    case TCP_CALL_ABORT:
        if (!so->have_tuple && !so->listening && h_tuple(rt, h, so->sd, &so->tuple) &&
            so->tuple.rport)
            so->have_tuple = true;
        r = h_close(rt, h, so->sd, call == TCP_CALL_ABORT);
        record_call(rt, h, k, call, r, NULL, 0, true);
        so->sd = -1;
        break;
    case TCP_CALL_SETSOCKOPT:
        r = h_setsockopt(rt, h, so->sd, st->u.call.opt, st->u.call.value);
        record_call(rt, h, k, call, r, NULL, 0, true);
        break;
    default:
        break;
    }
    if (H->kernel && rt->net.kernel_changed)
        rt->net.kernel_changed(rt);
    service(rt);
}

static void to_vmatch(const struct scn_netmatch *m, struct vlink_match *vm)
{
    vm->from = m->from < 0 ? VLINK_ANY : m->from;
    vm->to = m->to < 0 ? VLINK_ANY : m->to;
    vm->mask = m->any_flags ? 0 : 0xFF;
    vm->value = m->any_flags ? 0 : m->flags;
    vm->payload_only = m->data;
}

/* The connection `from` has to `to`: its focus socket's tuple. */
static bool focus_tuple(struct scn_rt *rt, int from, int to, struct tcp_tuple *t)
{
    struct scn_target tgt = {.host = from, .sock = -1};
    struct scn_rt_conn *c;
    target_state(rt, &tgt, &c);
    if (c && c->t.raddr == rt->hosts[to].addr) {
        *t = c->t;
        return true;
    }
    /* Any connection of `from` towards `to`, newest first. */
    for (size_t i = rt->nconns; i-- > 0;)
        if (rt->conns[i].host == from && rt->conns[i].t.raddr == rt->hosts[to].addr) {
            *t = rt->conns[i].t;
            return true;
        }
    return false;
}

static void exec_inject(struct scn_rt *rt, const struct scn_stmt *st)
{
    int from = st->u.inject.from, to = st->u.inject.to;
    struct tcp_tuple t;
    if (!focus_tuple(rt, from, to, &t)) {
        fail_begin(rt, st);
        rep(rt, "    could not inject: %s has no connection to %s\n", rt->hosts[from].name,
            rt->hosts[to].name);
        return;
    }
    struct scn_rt_isn *mine = isn_entry(rt, t.laddr, t.lport, t.raddr, t.rport, false);
    struct scn_rt_isn *theirs = isn_entry(rt, t.raddr, t.rport, t.laddr, t.lport, false);
    uint32_t snext = mine ? (mine->have_hi ? mine->hi : mine->isn) : 0;
    uint32_t anext = theirs ? (theirs->have_hi ? theirs->hi : theirs->isn) : 0;
    struct wire_tcp tcp;
    memset(&tcp, 0, sizeof tcp);
    tcp.sport = t.lport;
    tcp.dport = t.rport;
    tcp.flags = st->u.inject.flags;
    const struct scn_injnum *sq = &st->u.inject.seq, *ak = &st->u.inject.ack;
    if (st->u.inject.seq_set && !sq->from_next)
        tcp.seq = (mine ? mine->isn : 0) + (uint32_t)sq->v;
    else
        tcp.seq = snext + (uint32_t)(st->u.inject.seq_set ? sq->v : 0);
    if (tcp.flags & TCP_ACK) {
        if (st->u.inject.ack_set && !ak->from_next)
            tcp.ack = (theirs ? theirs->isn : 0) + (uint32_t)ak->v;
        else
            tcp.ack = anext + (uint32_t)(st->u.inject.ack_set ? ak->v : 0);
    }
    tcp.win = st->u.inject.win >= 0 ? (uint16_t)st->u.inject.win : 8192;
    uint8_t payload[1400];
    const uint8_t *data = st->u.inject.data;
    size_t len = st->u.inject.len;
    if (!data) {
        for (size_t i = 0; i < len && i < sizeof payload; i++)
            payload[i] = (uint8_t)('a' + i % 26);
        data = payload;
    }
    uint8_t pkt[1600];
    size_t n = wire_tcp_build(pkt, sizeof pkt, t.laddr, t.raddr, 0x7777, &tcp, data, len);
    if (n == 0) {
        fail_begin(rt, st);
        rep(rt, "    could not build the segment (too long)\n");
        return;
    }
    if (st->u.inject.badsum && n >= 20 + 18)
        pkt[20 + 16] ^= 0x5A; /* the TCP checksum's first byte */
    rt->net.inject(rt, to, pkt, n);
    service(rt);
}

static void exec_reboot(struct scn_rt *rt, const struct scn_stmt *st)
{
    int h = st->u.reboot_host;
    struct scn_rt_host *H = &rt->hosts[h];
    /* The crash: every socket is dropped while the cable is cut, so its
     * RSTs never reach the wire. What is left is a host that knows nothing. */
    rt->rebooting = true;
    rt->net.cut(rt, true);
    for (size_t k = 0; k < rt->nsocks; k++) {
        struct scn_rt_sock *so = &rt->socks[k];
        if (so->host == h && so->sd >= 0) {
            h_close(rt, h, so->sd, true);
            so->sd = -1;
        }
    }
    free(H->pend.owned);
    memset(&H->pend, 0, sizeof H->pend);
    H->cur = -1;
    H->last_listener = -1;
    rt->net.cut(rt, false);
    rt->rebooting = false;
    (void)st;
}

/* ---- expectations -------------------------------------------------------------- */

struct seg_arg {
    int from, to;
    bool any_flags;
    uint8_t flags;
};

/* The index of the segment an expectation takes: the oldest one from A to B
 * not taken yet whose flags are the ones expected; -1 if none yet. */
static long seg_candidate(struct scn_rt *rt, const struct seg_arg *a)
{
    for (size_t i = rt->exchange; i < rt->nsegs; i++) {
        const struct scn_rt_seg *g = &rt->segs[i];
        if (g->taken || g->from != a->from || g->to != a->to)
            continue;
        if (!a->any_flags && g->flags != a->flags)
            continue;
        return (long)i;
    }
    return -1;
}

static bool seg_ready(struct scn_rt *rt, const void *arg)
{
    return seg_candidate(rt, arg) >= 0;
}

static void fmt_seg(struct scn_rt *rt, const struct scn_rt_seg *g, char *out, size_t cap)
{
    char fl[10];
    wire_flags_str(g->flags, fl);
    size_t o = (size_t)snprintf(out, cap, "%s -> %s %s seq=%u", rt->hosts[g->from].name,
                                g->to >= 0 ? rt->hosts[g->to].name : "?", fl, g->rseq);
    if (g->flags & TCP_ACK)
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, " ack=%u", g->rack);
    o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, " len=%u win=%u", g->len, g->win);
    if (g->opts.has_mss)
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, " mss=%u", g->opts.mss);
    if (g->opts.has_wscale)
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, " wscale=%u", g->opts.wscale);
    if (g->opts.sack_permitted)
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, " sackok=yes");
    if (g->opts.has_ts)
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, " ts=yes");
    if (g->rtx)
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, " rtx=yes");
    if (g->plen && o + 20 < cap) {
        out[o++] = ' ';
        fmt_bytes(out + o, cap - o, g->payload, g->plen < 40 ? g->plen : 40);
        o = strlen(out);
    }
    if (o + 2 < cap)
        snprintf(out + o, cap - o, " (t=%.3fs)", (double)(g->t_us - rt->t0) / 1e6);
}

static bool cmp_ok(const struct scn_cmp *c, int64_t v)
{
    switch (c->op) {
    case SCN_OP_NONE:
        return true;
    case SCN_OP_EQ:
        return v == c->v;
    case SCN_OP_NE:
        return v != c->v;
    case SCN_OP_LT:
        return v < c->v;
    case SCN_OP_LE:
        return v <= c->v;
    case SCN_OP_GT:
        return v > c->v;
    case SCN_OP_GE:
        return v >= c->v;
    }
    return false;
}

static const char *op_str(enum scn_op op)
{
    static const char *const s[] = {"", "=", "!=", "<", "<=", ">", ">="};
    return s[op];
}

static bool time_ok(const struct scn_rt *rt, int64_t want, int64_t got)
{
    int64_t d = got - want;
    if (d < 0)
        d = -d;
    double allow = rt->net.time_tolerance * (double)want + (double)rt->net.time_slack_us;
    return (double)d <= allow;
}

/* Compare a segment with the spec; describe every difference into why. */
static bool seg_matches(struct scn_rt *rt, const struct scn_segspec *sp, size_t idx, char *why,
                        size_t cap)
{
    const struct scn_rt_seg *g = &rt->segs[idx];
    size_t o = 0;
    why[0] = 0;
#define DIFF(...)                                                                                  \
    do {                                                                                           \
        if (o < cap)                                                                               \
            o += (size_t)snprintf(why + o, cap - o, "%s", o ? "; " : "");                          \
        if (o < cap)                                                                               \
            o += (size_t)snprintf(why + o, cap - o, __VA_ARGS__);                                  \
    } while (0)
    if (!sp->any_flags && g->flags != sp->flags) {
        char a[10], b[10];
        DIFF("flags are %s, expected %s", wire_flags_str(g->flags, a),
             wire_flags_str(sp->flags, b));
    }
    if (!cmp_ok(&sp->seq, g->rseq))
        DIFF("seq is %u, expected seq%s%lld", g->rseq, op_str(sp->seq.op), (long long)sp->seq.v);
    if (sp->ack.op != SCN_OP_NONE && !(g->flags & TCP_ACK))
        DIFF("no ACK flag, so no ack number");
    else if (!cmp_ok(&sp->ack, g->rack))
        DIFF("ack is %u, expected ack%s%lld", g->rack, op_str(sp->ack.op), (long long)sp->ack.v);
    if (!cmp_ok(&sp->len, g->len))
        DIFF("len is %u, expected len%s%lld", g->len, op_str(sp->len.op), (long long)sp->len.v);
    if (!cmp_ok(&sp->win, g->win))
        DIFF("win is %u, expected win%s%lld", g->win, op_str(sp->win.op), (long long)sp->win.v);
    if (sp->mss == -2 && g->opts.has_mss)
        DIFF("has mss=%u, expected no MSS option", g->opts.mss);
    else if (sp->mss >= 0 && (!g->opts.has_mss || g->opts.mss != sp->mss))
        DIFF("mss is %s%u, expected %d", g->opts.has_mss ? "" : "absent ",
             g->opts.has_mss ? g->opts.mss : 0, sp->mss);
    if (sp->wscale == -2 && g->opts.has_wscale)
        DIFF("has wscale=%u, expected no window scale option", g->opts.wscale);
    else if (sp->wscale >= 0 && (!g->opts.has_wscale || g->opts.wscale != sp->wscale))
        DIFF("wscale is %s%u, expected %d", g->opts.has_wscale ? "" : "absent ",
             g->opts.has_wscale ? g->opts.wscale : 0, sp->wscale);
    if (sp->sackok >= 0 && g->opts.sack_permitted != (sp->sackok == 1))
        DIFF("sackok is %s", g->opts.sack_permitted ? "yes" : "no");
    if (sp->ts >= 0 && g->opts.has_ts != (sp->ts == 1))
        DIFF("ts is %s", g->opts.has_ts ? "yes" : "no");
    if (sp->rtx >= 0 && g->rtx != (sp->rtx == 1))
        DIFF("%s", g->rtx ? "it is a retransmission" : "it is not a retransmission");
    if (sp->payload_set &&
        (g->len != sp->payload_len || g->plen < sp->payload_len ||
         (sp->payload_len && memcmp(g->payload, sp->payload, sp->payload_len) != 0)))
        DIFF("the payload differs");
    if (sp->t_us >= 0 && !time_ok(rt, sp->t_us, (int64_t)(g->t_us - rt->t0)))
        DIFF("sent at t=%.3fs, expected t=%.3fs", (double)(g->t_us - rt->t0) / 1e6,
             (double)sp->t_us / 1e6);
    if (sp->gap_us >= 0) {
        long prev = -1;
        for (size_t i = 0; i < idx; i++)
            if (rt->segs[i].from == g->from && rt->segs[i].to == g->to)
                prev = (long)i;
        if (prev < 0)
            DIFF("no earlier segment in this direction to measure a gap from");
        else if (!time_ok(rt, sp->gap_us, (int64_t)(g->t_us - rt->segs[prev].t_us)))
            DIFF("gap is %.3fs, expected %.3fs", (double)(g->t_us - rt->segs[prev].t_us) / 1e6,
                 (double)sp->gap_us / 1e6);
    }
#undef DIFF
    return o == 0;
}

static void exec_expect_seg(struct scn_rt *rt, const struct scn_stmt *st)
{
    const struct scn_segspec *sp = &st->u.seg;
    struct seg_arg a = {
        .from = sp->from, .to = sp->to, .any_flags = sp->any_flags, .flags = sp->flags};
    rt->expectations++;
    bool got = run_until(rt, deadline_in(rt, st->timeout_us), seg_ready, &a);
    /* Segments with other flags passed over on the way can no longer be taken. */
    long idx = got ? seg_candidate(rt, &a) : -1;
    char skipped[600] = "";
    size_t so = 0;
    for (size_t i = rt->exchange; i < rt->nsegs && (idx < 0 || i < (size_t)idx); i++) {
        struct scn_rt_seg *g = &rt->segs[i];
        if (g->taken || g->from != a.from || g->to != a.to)
            continue;
        g->taken = g->skipped = true;
        if (so + 200 < sizeof skipped) {
            char b[300];
            fmt_seg(rt, g, b, sizeof b);
            so += (size_t)snprintf(skipped + so, sizeof skipped - so, "    passed:   %s\n", b);
        }
    }
    if (idx < 0) {
        fail_begin(rt, st);
        rep(rt, "    expected: %s\n", st->text + strlen("expect "));
        rep(rt, "    happened: no such segment from %s to %s within %.3fs\n",
            rt->hosts[a.from].name, rt->hosts[a.to].name, (double)st->timeout_us / 1e6);
        rep(rt, "%s", skipped);
        for (size_t i = 0; i < rt->exchange; i++) {
            const struct scn_rt_seg *g = &rt->segs[i];
            if (!g->taken && g->from == a.from && g->to == a.to &&
                (a.any_flags || g->flags == a.flags)) {
                char b[300];
                fmt_seg(rt, g, b, sizeof b);
                rep(rt,
                    "    note:     a matching segment was sent earlier, before the statement "
                    "on line %d began a new exchange:\n              %s\n",
                    rt->exchange_line, b);
                break;
            }
        }
        return;
    }
    rt->segs[idx].taken = true;
    char why[600];
    if (!seg_matches(rt, sp, (size_t)idx, why, sizeof why)) {
        char b[400];
        fmt_seg(rt, &rt->segs[idx], b, sizeof b);
        fail_begin(rt, st);
        rep(rt, "%s", skipped);
        rep(rt, "    expected: %s\n", st->text + strlen("expect "));
        rep(rt, "    happened: %s\n", b);
        rep(rt, "    because:  %s\n", why);
    }
}

static void exec_expect_nothing(struct scn_rt *rt, const struct scn_stmt *st)
{
    rt->expectations++;
    size_t first = rt->nsegs;
    run_until(rt, deadline_in(rt, st->u.time.dur_us), NULL, NULL);
    for (size_t i = first; i < rt->nsegs; i++) {
        const struct scn_rt_seg *g = &rt->segs[i];
        if (st->u.time.from >= 0 && (g->from != st->u.time.from || g->to != st->u.time.to))
            continue;
        char b[400];
        fmt_seg(rt, g, b, sizeof b);
        fail_begin(rt, st);
        rep(rt, "    expected: silence for %.3fs\n", (double)st->u.time.dur_us / 1e6);
        rep(rt, "    happened: %s\n", b);
        return;
    }
}

static void exec_expect_state(struct scn_rt *rt, const struct scn_stmt *st, bool is_wait)
{
    if (!is_wait)
        rt->expectations++;
    struct state_arg a = {.tgt = &st->u.time.tgt, .want = st->u.time.state, .mark = rt->evcount};
    if (run_until(rt, deadline_in(rt, st->timeout_us), state_holds, &a))
        return;
    struct scn_rt_conn *c;
    enum tcp_state now_st = target_state(rt, &st->u.time.tgt, &c);
    fail_begin(rt, st);
    rep(rt, "    expected: %s in %s\n", target_name(rt, &st->u.time.tgt),
        tcp_state_name(st->u.time.state));
    rep(rt, "    happened: %s is in %s (waited %.3fs)\n", target_name(rt, &st->u.time.tgt),
        tcp_state_name(now_st), (double)st->timeout_us / 1e6);
}

/* The listening socket a queue expectation means, or -1. */
static int queue_listener(struct scn_rt *rt, const struct scn_target *t)
{
    struct scn_rt_host *H = &rt->hosts[t->host];
    int k = t->sock >= 0 ? rt->named[t->sock] : H->cur;
    if (k < 0 || !rt->socks[k].listening)
        k = H->last_listener;
    if (k < 0 || rt->socks[k].sd < 0)
        return -1;
    return k;
}

static void queue_lengths(struct scn_rt *rt, int h, int k, long *syn, long *acc)
{
    struct scn_rt_host *H = &rt->hosts[h];
    *syn = *acc = 0;
    if (!H->kernel) {
        struct tcp_status s;
        if (tcp_status(H->stack, rt->socks[k].sd, &s) == 0) {
            *syn = s.syn_queue_len;
            *acc = s.accept_queue_len;
        }
        return;
    }
    /* The kernel's queues, counted from its connections on that port. */
    for (size_t i = 0; i < rt->nconns; i++) {
        const struct scn_rt_conn *c = &rt->conns[i];
        if (c->host != h || c->t.lport != rt->socks[k].lport || !c->t.rport)
            continue;
        bool accepted = false;
        for (size_t j = 0; j < rt->nsocks; j++)
            if (rt->socks[j].accepted && rt->socks[j].host == h &&
                tuple_eq(&rt->socks[j].tuple, &c->t))
                accepted = true;
        if (c->state == TCP_SYN_RECEIVED)
            (*syn)++;
        else if (c->state == TCP_ESTABLISHED && !accepted)
            (*acc)++;
    }
}

static bool queue_holds(struct scn_rt *rt, const void *arg)
{
    const struct scn_stmt *st = arg;
    int k = queue_listener(rt, &st->u.queue.tgt);
    if (k < 0)
        return false;
    long syn, acc;
    queue_lengths(rt, st->u.queue.tgt.host, k, &syn, &acc);
    return (st->u.queue.syn == SCN_NO_VALUE || st->u.queue.syn == syn) &&
           (st->u.queue.accept == SCN_NO_VALUE || st->u.queue.accept == acc);
}

static void exec_expect_queue(struct scn_rt *rt, const struct scn_stmt *st)
{
    rt->expectations++;
    if (run_until(rt, deadline_in(rt, st->timeout_us), queue_holds, st))
        return;
    int k = queue_listener(rt, &st->u.queue.tgt);
    fail_begin(rt, st);
    if (k < 0) {
        rep(rt, "    happened: %s has no listening socket\n", target_name(rt, &st->u.queue.tgt));
        return;
    }
    long syn, acc;
    queue_lengths(rt, st->u.queue.tgt.host, k, &syn, &acc);
    rep(rt, "    happened: syn=%ld accept=%ld (waited %.3fs)\n", syn, acc,
        (double)st->timeout_us / 1e6);
}

struct call_arg {
    const struct scn_rt_callrec *rec;
};

static bool call_done(struct scn_rt *rt, const void *arg)
{
    (void)rt;
    return ((const struct call_arg *)arg)->rec->done;
}

static void exec_expect_call(struct scn_rt *rt, const struct scn_stmt *st)
{
    rt->expectations++;
    const struct scn_target *t = &st->u.ecall.tgt;
    enum tcp_call call = st->u.ecall.call;
    const struct scn_rt_callrec *rec;
    if (t->sock >= 0) {
        struct scn_rt_pending *p = &rt->hosts[t->host].pend;
        if (rt->named[t->sock] < 0 && p->active && p->as_sock == t->sock && p->call == call)
            /* `accept as NAME` still blocked: NAME is what it will return. */
            rec = &rt->hosts[t->host].last[call];
        else
            rec = rt->named[t->sock] >= 0 ? &rt->socks[rt->named[t->sock]].last[call] : NULL;
    } else {
        rec = &rt->hosts[t->host].last[call];
    }
    if (!rec || !rec->made) {
        fail_begin(rt, st);
        rep(rt, "    happened: %s made no %s() call\n", target_name(rt, t), tcp_call_name(call));
        return;
    }
    if (st->u.ecall.vk == SCN_VAL_BLOCKED) {
        if (rec->done) {
            char b[300];
            fmt_result(b, sizeof b, call, rec);
            fail_begin(rt, st);
            rep(rt, "    expected: %s() still blocked\n", tcp_call_name(call));
            rep(rt, "    happened: it returned %s\n", b);
        }
        return;
    }
    struct call_arg a = {rec};
    if (!rec->done)
        run_until(rt, deadline_in(rt, st->timeout_us), call_done, &a);
    bool ok = false;
    if (rec->done) {
        switch (st->u.ecall.vk) {
        case SCN_VAL_OK:
            ok = rec->result >= 0;
            break;
        case SCN_VAL_INT:
        case SCN_VAL_ERRNO:
            ok = rec->result == st->u.ecall.v;
            break;
        case SCN_VAL_BYTES:
            ok = rec->result >= 0 && (size_t)rec->result == st->u.ecall.nbytes &&
                 rec->len == st->u.ecall.nbytes &&
                 (rec->len == 0 || memcmp(rec->data, st->u.ecall.bytes, rec->len) == 0);
            break;
        default:
            break;
        }
    }
    if (!ok) {
        char b[300];
        fmt_result(b, sizeof b, call, rec);
        fail_begin(rt, st);
        rep(rt, "    expected: %s() = %s\n", tcp_call_name(call),
            st->text + (strstr(st->text, " = ") ? strstr(st->text, " = ") - st->text + 3 : 0));
        rep(rt, "    happened: %s() returned %s%s\n", tcp_call_name(call), b,
            rec->done ? "" : " — still blocked when the wait ran out");
    }
}

struct drop_arg {
    int host;
};

static long drop_candidate(struct scn_rt *rt, int h)
{
    for (size_t i = rt->drop_exchange; i < rt->ndrops; i++)
        if (!rt->drops[i].taken && rt->drops[i].host == h)
            return (long)i;
    return -1;
}

static bool drop_ready(struct scn_rt *rt, const void *arg)
{
    return drop_candidate(rt, ((const struct drop_arg *)arg)->host) >= 0;
}

static void exec_expect_drop(struct scn_rt *rt, const struct scn_stmt *st)
{
    rt->expectations++;
    struct drop_arg a = {st->u.edrop.host};
    run_until(rt, deadline_in(rt, st->timeout_us), drop_ready, &a);
    long i = drop_candidate(rt, a.host);
    if (i < 0) {
        fail_begin(rt, st);
        rep(rt, "    happened: %s dropped nothing within %.3fs\n", rt->hosts[a.host].name,
            (double)st->timeout_us / 1e6);
        return;
    }
    rt->drops[i].taken = true;
    if (rt->drops[i].reason != st->u.edrop.reason) {
        fail_begin(rt, st);
        rep(rt, "    happened: %s dropped a packet for %s\n", rt->hosts[a.host].name,
            tev_drop_reason_name(rt->drops[i].reason));
    }
}

static void exec_step(struct scn_rt *rt, const struct scn_stmt *st)
{
    switch (st->kind) {
    case SCN_CALL:
        exec_call(rt, st);
        break;
    case SCN_DROP:
        rt->net.drop_next(rt, &st->u.net.m, st->u.net.count);
        break;
    case SCN_DUP:
        rt->net.dup_next(rt, &st->u.net.m, st->u.net.count);
        break;
    case SCN_REORDER:
        rt->net.reorder_next(rt, &st->u.net.m, st->u.net.dur_us);
        break;
    case SCN_LOSS:
        rt->net.loss(rt, st->u.net.m.from, st->u.net.m.to, st->u.net.p);
        break;
    case SCN_DELAY:
        rt->net.delay(rt, st->u.net.m.from, st->u.net.m.to, st->u.net.dur_us);
        break;
    case SCN_CUT:
        rt->net.cut(rt, true);
        break;
    case SCN_RESTORE:
        rt->net.cut(rt, false);
        break;
    case SCN_INJECT:
        exec_inject(rt, st);
        break;
    case SCN_REBOOT:
        exec_reboot(rt, st);
        break;
    case SCN_WAIT:
        run_until(rt, deadline_in(rt, st->u.time.dur_us), NULL, NULL);
        break;
    case SCN_WAIT_UNTIL:
        exec_expect_state(rt, st, true);
        break;
    case SCN_EXPECT_SEG:
        exec_expect_seg(rt, st);
        break;
    case SCN_EXPECT_NOTHING:
        exec_expect_nothing(rt, st);
        break;
    case SCN_EXPECT_STATE:
        exec_expect_state(rt, st, false);
        break;
    case SCN_EXPECT_QUEUE:
        exec_expect_queue(rt, st);
        break;
    case SCN_EXPECT_CALL:
        exec_expect_call(rt, st);
        break;
    case SCN_EXPECT_DROP:
        exec_expect_drop(rt, st);
        break;
    }
}

/* ---- the virtual link ----------------------------------------------------------- */

static uint64_t v_now(struct scn_rt *rt)
{
    return vlink_now(rt->netctx);
}

static bool v_step(struct scn_rt *rt, uint64_t limit, int *err)
{
    (void)err;
    return vlink_step(rt->netctx, limit);
}

static void v_drop_next(struct scn_rt *rt, const struct scn_netmatch *m, unsigned count)
{
    struct vlink_match vm;
    to_vmatch(m, &vm);
    vlink_drop_next(rt->netctx, &vm, count);
}

static void v_dup_next(struct scn_rt *rt, const struct scn_netmatch *m, unsigned count)
{
    struct vlink_match vm;
    to_vmatch(m, &vm);
    vlink_duplicate_next(rt->netctx, &vm, count);
}

static void v_reorder_next(struct scn_rt *rt, const struct scn_netmatch *m, uint64_t hold_us)
{
    struct vlink_match vm;
    to_vmatch(m, &vm);
    vlink_reorder_next(rt->netctx, &vm, hold_us);
}

static void v_loss(struct scn_rt *rt, int from, int to, double p)
{
    vlink_set_loss(rt->netctx, from < 0 ? VLINK_ANY : from, to < 0 ? VLINK_ANY : to, p);
}

static void v_delay(struct scn_rt *rt, int from, int to, uint64_t us)
{
    vlink_set_delay(rt->netctx, from < 0 ? VLINK_ANY : from, to < 0 ? VLINK_ANY : to, us);
}

static void v_cut(struct scn_rt *rt, bool cut)
{
    if (cut)
        vlink_cut(rt->netctx);
    else
        vlink_restore(rt->netctx);
}

static void v_inject(struct scn_rt *rt, int to, const uint8_t *pkt, size_t len)
{
    stack_input(rt->hosts[to].stack, vlink_now(rt->netctx), pkt, len);
}

static void v_destroy(struct scn_rt *rt)
{
    vlink_free(rt->netctx); /* frees the stacks too */
    rt->netctx = NULL;
    for (size_t i = 0; i < rt->nhosts; i++)
        rt->hosts[i].stack = NULL;
}

/* A fixed RFC 6528 key per seed, so a run is reproducible. */
static void seed_key(uint64_t seed, uint8_t key[16])
{
    uint64_t x = seed ^ 0x7463706c61622121ull; /* "tcplab!!" */
    for (int i = 0; i < 16; i += 8) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        memcpy(key + i, &z, 8);
    }
}

static int vlink_setup(struct scn_rt *rt, char *msg, size_t msglen)
{
    struct vlink_config vc;
    vlink_config_defaults(&vc);
    vc.seed = rt->seed;
    vc.latency_us = rt->s->latency_us;
    vc.on_event = scn_rt_event;
    vc.event_ctx = rt;
    struct vlink *l = vlink_new(&vc);
    if (!l) {
        snprintf(msg, msglen, "cannot create the virtual link (out of memory)");
        return -ENOMEM;
    }
    rt->netctx = l;
    for (size_t i = 0; i < rt->nhosts; i++) {
        struct stack_config cfg = rt->hosts[i].def->cfg;
        cfg.name = rt->hosts[i].name;
        cfg.addr = rt->hosts[i].addr;
        seed_key(rt->seed, cfg.isn_key);
        int idx = vlink_add_host(l, &cfg);
        if (idx != (int)i) {
            snprintf(msg, msglen, "cannot add host %s to the virtual link", rt->hosts[i].name);
            return -ENOMEM;
        }
        rt->hosts[i].stack = vlink_stack(l, idx);
    }
    rt->net = (struct scn_net){
        .now = v_now,
        .step = v_step,
        .drop_next = v_drop_next,
        .dup_next = v_dup_next,
        .reorder_next = v_reorder_next,
        .loss = v_loss,
        .delay = v_delay,
        .cut = v_cut,
        .inject = v_inject,
        .destroy = v_destroy,
        .time_tolerance = 0,
        .time_slack_us = 0,
    };
    return 0;
}

/* ---- the run -------------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static struct scn_timeline *timeline_new(const struct scn_rt *rt)
{
    const struct scn *s = rt->s;
    struct scn_timeline *tl = calloc(1, sizeof *tl);
    if (!tl)
        return NULL;
    tl->title_en = xstrdup(s->title_en);
    tl->title_zh = xstrdup(s->title_zh);
    tl->tun = rt->tun;
    tl->nhosts = rt->nhosts;
    for (size_t i = 0; i < rt->nhosts; i++) {
        struct scn_host *h = &tl->hosts[i];
        snprintf(h->name, sizeof h->name, "%s", rt->hosts[i].name);
        wire_addr_str(rt->hosts[i].addr, h->label);
        h->kernel = rt->hosts[i].kernel;
        h->addr = rt->hosts[i].addr;
    }
    tl->steps = calloc(s->nstmts ? s->nstmts : 1, sizeof *tl->steps);
    if (!tl->steps) {
        free(tl);
        return NULL;
    }
    tl->nsteps = s->nstmts;
    for (size_t i = 0; i < s->nstmts; i++) {
        tl->steps[i].line = s->stmts[i].line;
        tl->steps[i].text = xstrdup(s->stmts[i].text);
        tl->steps[i].say_en = xstrdup(s->stmts[i].say_en);
        tl->steps[i].say_zh = xstrdup(s->stmts[i].say_zh);
    }
    return tl;
}

void scn_timeline_free(struct scn_timeline *tl)
{
    if (!tl)
        return;
    for (size_t i = 0; i < tl->nevents; i++)
        tev_free(tl->events[i]);
    free(tl->events);
    for (size_t i = 0; i < tl->nsteps; i++) {
        free(tl->steps[i].text);
        free(tl->steps[i].say_en);
        free(tl->steps[i].say_zh);
    }
    free(tl->steps);
    free(tl->title_en);
    free(tl->title_zh);
    free(tl);
}

void scn_result_free(struct scn_result *r)
{
    if (!r)
        return;
    free(r->report);
    r->report = NULL;
}

static void rt_free(struct scn_rt *rt)
{
    for (size_t h = 0; h < rt->nhosts; h++) {
        free(rt->hosts[h].pend.owned);
        for (int c = 0; c < TCP_NCALLS; c++)
            free(rt->hosts[h].last[c].data);
    }
    for (size_t k = 0; k < rt->nsocks; k++)
        for (int c = 0; c < TCP_NCALLS; c++)
            free(rt->socks[k].last[c].data);
    for (size_t i = 0; i < rt->nsegs; i++)
        free(rt->segs[i].payload);
    free(rt->segs);
    free(rt->drops);
    free(rt->conns);
    free(rt->isns);
}

/* The final label of each host: its address, and the port of its first socket. */
static void timeline_labels(struct scn_rt *rt)
{
    for (size_t h = 0; h < rt->nhosts; h++) {
        for (size_t k = 0; k < rt->nsocks; k++) {
            if (rt->socks[k].host == (int)h && rt->socks[k].lport) {
                char a[16];
                snprintf(rt->tl->hosts[h].label, sizeof rt->tl->hosts[h].label, "%s:%u",
                         wire_addr_str(rt->hosts[h].addr, a), rt->socks[k].lport);
                break;
            }
        }
    }
}

int scn_run(const struct scn *s, const struct scn_run_opts *opts, struct scn_result *res,
            struct scn_timeline **tlp)
{
    struct scn_run_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    memset(res, 0, sizeof *res);
    if (tlp)
        *tlp = NULL;
    struct scn_rt *rt = calloc(1, sizeof *rt);
    if (!rt)
        return -ENOMEM;
    rt->s = s;
    rt->opts = opts;
    rt->tun = opts->tun;
    rt->seed = opts->seed ? opts->seed : s->seed;
    rt->nhosts = s->nhosts;
    for (size_t i = 0; i < SCN_MAX_SOCKNAMES; i++)
        rt->named[i] = -1;
    for (size_t i = 0; i < s->nhosts; i++) {
        struct scn_rt_host *H = &rt->hosts[i];
        snprintf(H->name, sizeof H->name, "%s", s->hosts[i].name);
        H->def = &s->hosts[i];
        H->addr = s->hosts[i].addr;
        H->cur = H->last_listener = -1;
        if (rt->tun) {
            H->kernel = s->hosts[i].role == SCN_ROLE_PEER;
            H->addr = H->kernel ? 0x0A070001 : 0x0A070002;
        }
    }
    char msg[512] = "";
    int err;
    if (rt->tun) {
        char why[200];
        if (!scn_tun_check(s, why, sizeof why)) {
            snprintf(msg, sizeof msg, "cannot run with --tun: %s", why);
            err = -EINVAL;
        } else {
            err = scn_tun_setup(rt, msg, sizeof msg);
        }
    } else {
        err = vlink_setup(rt, msg, sizeof msg);
    }
    if (err < 0) {
        if (rt->netctx && rt->net.destroy)
            rt->net.destroy(rt);
        res->report = strdup(msg);
        rt_free(rt);
        free(rt);
        return err;
    }
    if (tlp) {
        rt->tl = timeline_new(rt);
        if (!rt->tl) {
            rt->net.destroy(rt);
            rt_free(rt);
            free(rt);
            return -ENOMEM;
        }
    }
    rt->t0 = now(rt);
    for (size_t i = 0; i < s->nstmts && !rt->fatal; i++) {
        rt->step_failed = false;
        bool is_expect = s->stmts[i].kind >= SCN_EXPECT_SEG;
        if (!is_expect && (i == 0 || s->stmts[i - 1].kind >= SCN_EXPECT_SEG)) {
            /* A new exchange: older segments nobody expected are history. */
            rt->exchange = rt->nsegs;
            rt->drop_exchange = rt->ndrops;
            rt->exchange_line = s->stmts[i].line;
        }
        if (rt->tl)
            rt->tl->steps[i].first_event = i == 0 ? 0 : rt->tl->nevents;
        exec_step(rt, &s->stmts[i]);
        if (rt->tl) {
            rt->tl->steps[i].end_event = rt->tl->nevents;
            rt->tl->steps[i].failed = rt->step_failed;
        }
    }
    if (rt->fatal) {
        rt->failures++;
        rep(rt, "  the network failed: %s\n", strerror(-rt->fatal));
    }
    if (rt->tl) {
        timeline_labels(rt);
        *tlp = rt->tl;
    }
    rt->net.destroy(rt);
    res->expectations = rt->expectations;
    res->failures = rt->failures;
    res->report = rt->report;
    rt->report = NULL;
    rt_free(rt);
    free(rt);
    return 0;
}
