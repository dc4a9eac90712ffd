/*
 * scn_run.c — run a parsed scenario: the step loop. Set up the network,
 * execute the steps in order (calls, impairments, injections, reboots,
 * waits, expectations), and hand back the result and the timeline the UI
 * plays back.
 *
 * Second stage of the scenario data flow (docs/architecture.md). Time moves
 * only when a step waits: `wait`, or an expectation waiting for what it
 * expects (docs/scenarios.md); the expectations themselves are checked in
 * scn_run_expect.c. Meanwhile every event of every host comes through
 * scn_rt_event() (scn_run_record.c), which keeps what the expectations need
 * and clones the event into the timeline, attributed to the running step.
 *
 * Hosts behave like one-threaded programs: a blocking call (accept, connect,
 * send, recv) stays pending until the socket allows it (scn_run_wait.c).
 *
 * The runner owns two small interfaces (scn_rt.h) and is written once
 * against them: struct scn_net, the network that moves time (the virtual
 * link, scn_vlink.c, or the TUN device, scn_tun.c), and struct
 * scn_host_ops, the socket calls of a host (a tcplab stack,
 * scn_host_stack.c, or kernel sockets, scn_tun.c). Neither calls back into
 * this file: what they observe goes to scn_run_record.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_rt.h"

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
    int sd = rt->hosts[t->host].ops->socket(rt, t->host);
    scn_rt_record_call(rt, t->host, -1, TCP_CALL_SOCKET, sd, NULL, 0, true);
    if (sd < 0)
        return -1;
    k = scn_rt_new_sock(rt, t->host, sd);
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
    scn_rt_fail_begin(rt, st);
    scn_rt_rep(rt, "    could not make the call: %s\n", why);
}

static void exec_call(struct scn_rt *rt, const struct scn_stmt *st)
{
    int h = st->u.call.tgt.host;
    struct scn_rt_host *H = &rt->hosts[h];
    enum tcp_call call = st->u.call.call;
    if (H->pend.active) {
        /* One thread per host: wait for the call it is blocked in. */
        scn_rt_run_until(rt, scn_rt_deadline_in(rt, st->timeout_us), pending_done, &H->pend);
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
        r = st->u.call.udp ? rt->hosts[h].ops->udp_socket(rt, h) : rt->hosts[h].ops->socket(rt, h);
        scn_rt_record_call(rt, h, -1, call, r, NULL, 0, true);
        if (r >= 0 && (k = scn_rt_new_sock(rt, h, r)) >= 0) {
            H->cur = k;
            rt->socks[k].udp = st->u.call.udp;
            scn_rt_name_sock(rt, k, st->u.call.as_sock);
            scn_rt_record(&rt->socks[k].last[call], r, NULL, 0, true);
        }
        return;
    case TCP_CALL_BIND:
    case TCP_CALL_LISTEN:
    case TCP_CALL_CONNECT:
    case TCP_CALL_SETSOCKOPT:
    case TCP_CALL_FCNTL:
        k = sock_for_call(rt, st, true);
        break;
    case TCP_CALL_ACCEPT:
        k = sock_for_call(rt, st, false);
        if (k < 0 || !rt->socks[k].listening)
            k = H->last_listener >= 0 && rt->socks[H->last_listener].sd >= 0 ? H->last_listener
                                                                             : -1;
        if (k < 0) {
            scn_rt_record_call(rt, h, -1, call, -EINVAL, NULL, 0, true);
            call_failed(rt, st, "the host has no listening socket to accept from");
            return;
        }
        break;
    default:
        k = sock_for_call(rt, st, false);
        break;
    }
    if (k < 0) {
        scn_rt_record_call(rt, h, -1, call, -EBADF, NULL, 0, true);
        call_failed(rt, st, "the host has no open socket (it was closed, or never made)");
        return;
    }
    struct scn_rt_sock *so = &rt->socks[k];
    struct scn_rt_pending *p = &H->pend;
    bool dgram_call = call == TCP_CALL_SENDTO || call == TCP_CALL_RECVFROM;
    if (dgram_call != so->udp && call != TCP_CALL_BIND && call != TCP_CALL_CLOSE &&
        call != TCP_CALL_POLL && call != TCP_CALL_FCNTL) {
        scn_rt_record_call(rt, h, k, call, so->udp ? -EOPNOTSUPP : -EDESTADDRREQ, NULL, 0, true);
        call_failed(rt, st,
                    so->udp ? "a UDP socket sends with sendto and reads with recvfrom"
                            : "sendto and recvfrom need a UDP socket (`socket udp`)");
        return;
    }
    switch (call) {
    case TCP_CALL_BIND:
        r = rt->hosts[h].ops->bind(rt, h, so->sd, st->u.call.port);
        if (r == 0)
            so->lport = st->u.call.port;
        scn_rt_record_call(rt, h, k, call, r, NULL, 0, true);
        break;
    case TCP_CALL_LISTEN:
        r = 0;
        if (st->u.call.port && so->lport != st->u.call.port) {
            r = rt->hosts[h].ops->bind(rt, h, so->sd, st->u.call.port);
            if (r == 0)
                so->lport = st->u.call.port;
        }
        if (r == 0)
            r = rt->hosts[h].ops->listen(rt, h, so->sd, st->u.call.backlog);
        if (r == 0) {
            so->listening = true;
            H->last_listener = k;
        }
        scn_rt_name_sock(rt, k, st->u.call.as_sock);
        scn_rt_record_call(rt, h, k, call, r, NULL, 0, true);
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
        r = rt->hosts[h].ops->connect(rt, h, so->sd, addr, st->u.call.port);
        rt->connecting = false;
        /* The local port is known at once (the kernel's SYN is read only at
         * the next step, and is attributed to this host by it); the peer may
         * not be yet, but it is where we connected to. */
        if (rt->hosts[h].ops->tuple(rt, h, so->sd, &so->tuple) && so->tuple.lport) {
            if (!so->tuple.rport) {
                so->tuple.raddr = addr;
                so->tuple.rport = st->u.call.port;
            }
            so->have_tuple = true;
            so->lport = so->tuple.lport;
        }
        if (r < 0 || so->nonblock) {
            /* A non-blocking connect() returns at once: "in progress". */
            scn_rt_record_call(rt, h, k, call, r < 0 ? r : -EINPROGRESS, NULL, 0, true);
            break;
        }
        scn_rt_record_call(rt, h, k, call, 0, NULL, 0, false);
        *p = (struct scn_rt_pending){.active = true, .call = call, .sock = k, .line = st->line};
        break;
    }
    case TCP_CALL_ACCEPT:
        scn_rt_record_call(rt, h, k, call, 0, NULL, 0, false);
        *p = (struct scn_rt_pending){.active = true,
                                     .call = call,
                                     .sock = k,
                                     .line = st->line,
                                     .as_sock = st->u.call.as_sock};
        break;
    case TCP_CALL_SEND:
        scn_rt_record_call(rt, h, k, call, 0, NULL, 0, false);
        *p = (struct scn_rt_pending){
            .active = true, .call = call, .sock = k, .line = st->line, .len = st->u.call.len};
        if (st->u.call.data) {
            p->data = st->u.call.data;
        } else {
            p->owned = malloc(st->u.call.len ? st->u.call.len : 1);
            if (!p->owned) {
                scn_rt_complete(rt, h, -ENOMEM, NULL, 0);
                break;
            }
            for (size_t i = 0; i < st->u.call.len; i++)
                p->owned[i] = (uint8_t)('a' + i % 26);
            p->data = p->owned;
        }
        if (p->len == 0)
            scn_rt_complete(rt, h, 0, NULL, 0);
        break;
    case TCP_CALL_SENDTO: {
        /* One datagram, at once: UDP has nothing to wait for. */
        uint32_t addr =
            st->u.call.dst_host >= 0 ? rt->hosts[st->u.call.dst_host].addr : st->u.call.dst_addr;
        uint8_t *owned = NULL;
        const uint8_t *data = st->u.call.data;
        if (!data) {
            owned = malloc(st->u.call.len ? st->u.call.len : 1);
            for (size_t i = 0; owned && i < st->u.call.len; i++)
                owned[i] = (uint8_t)('a' + i % 26);
            data = owned;
        }
        r = data ? (int)rt->hosts[h].ops->sendto(rt, h, so->sd, addr, st->u.call.port, data,
                                                 st->u.call.len)
                 : -ENOMEM;
        free(owned);
        if (!so->lport && rt->hosts[h].ops->tuple(rt, h, so->sd, &so->tuple))
            so->lport = so->tuple.lport;
        scn_rt_record_call(rt, h, k, call, r, NULL, 0, true);
        break;
    }
    case TCP_CALL_RECV:
    case TCP_CALL_RECVFROM:
        scn_rt_record_call(rt, h, k, call, 0, NULL, 0, false);
        *p = (struct scn_rt_pending){
            .active = true, .call = call, .sock = k, .line = st->line, .len = st->u.call.len};
        break;
    case TCP_CALL_SHUTDOWN:
        r = rt->hosts[h].ops->shutdown(rt, h, so->sd, st->u.call.how);
        scn_rt_record_call(rt, h, k, call, r, NULL, 0, true);
        break;
    case TCP_CALL_CLOSE:
    case TCP_CALL_ABORT:
        if (!so->have_tuple && !so->listening &&
            rt->hosts[h].ops->tuple(rt, h, so->sd, &so->tuple) && so->tuple.rport)
            so->have_tuple = true;
        r = rt->hosts[h].ops->close(rt, h, so->sd, call == TCP_CALL_ABORT);
        scn_rt_record_call(rt, h, k, call, r, NULL, 0, true);
        so->sd = -1;
        break;
    case TCP_CALL_SETSOCKOPT:
        r = rt->hosts[h].ops->setsockopt(rt, h, so->sd, st->u.call.opt, st->u.call.value);
        scn_rt_record_call(rt, h, k, call, r, NULL, 0, true);
        break;
    case TCP_CALL_FCNTL:
        r = rt->hosts[h].ops->nonblock(rt, h, so->sd);
        if (r == 0)
            so->nonblock = true;
        scn_rt_record_call(rt, h, k, call, r, NULL, 0, true);
        break;
    case TCP_CALL_GETSOCKOPT: {
        int e = 0;
        r = rt->hosts[h].ops->so_error(rt, h, so->sd, &e);
        scn_rt_record_call(rt, h, k, call, r < 0 ? r : e, NULL, 0, true);
        break;
    }
    case TCP_CALL_POLL:
        /* Blocks until one of the asked events is ready (no timeout). On the
         * timeline the call is made now ("waits") and returns as TEV_READY. */
        scn_rt_emit_call(rt, h, so->sd, call, st->u.call.value, -EINPROGRESS);
        scn_rt_record_call(rt, h, k, call, 0, NULL, 0, false);
        *p = (struct scn_rt_pending){.active = true,
                                     .call = call,
                                     .sock = k,
                                     .line = st->line,
                                     .events = (unsigned)st->u.call.value};
        break;
    default:
        break;
    }
    if (so->nonblock && p->active && p->call != TCP_CALL_POLL)
        scn_rt_try_once(rt, h);
    if (H->kernel && rt->net.kernel_changed)
        rt->net.kernel_changed(rt);
    scn_rt_service(rt);
}

/* The connection `from` has to `to`: its focus socket's tuple. */
static bool focus_tuple(struct scn_rt *rt, int from, int to, struct tcp_tuple *t)
{
    struct scn_target tgt = {.host = from, .sock = -1};
    struct scn_rt_conn *c;
    scn_rt_target_state(rt, &tgt, &c);
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

/* The TSval of the last segment `from` sent to `to` with a TSopt, or 0. */
static uint32_t last_tsval(const struct scn_rt *rt, int from, int to)
{
    for (size_t i = rt->nsegs; i-- > 0;)
        if (rt->segs[i].from == from && rt->segs[i].to == to && rt->segs[i].opts.has_ts)
            return rt->segs[i].opts.ts_val;
    return 0;
}

static void exec_inject(struct scn_rt *rt, const struct scn_stmt *st)
{
    int from = st->u.inject.from, to = st->u.inject.to;
    struct tcp_tuple t;
    if (!focus_tuple(rt, from, to, &t)) {
        scn_rt_fail_begin(rt, st);
        scn_rt_rep(rt, "    could not inject: %s has no connection to %s\n", rt->hosts[from].name,
                   rt->hosts[to].name);
        return;
    }
    const struct relseq_side *mine = relseq_side(&rt->seqs, t.laddr, t.lport, t.raddr, t.rport);
    const struct relseq_side *theirs = relseq_side(&rt->seqs, t.raddr, t.rport, t.laddr, t.lport);
    uint32_t snext = mine ? (mine->have_next ? mine->next : mine->base) : 0;
    uint32_t anext = theirs ? (theirs->have_next ? theirs->next : theirs->base) : 0;
    struct wire_tcp tcp;
    memset(&tcp, 0, sizeof tcp);
    tcp.sport = t.lport;
    tcp.dport = t.rport;
    tcp.flags = st->u.inject.flags;
    const struct scn_injnum *sq = &st->u.inject.seq, *ak = &st->u.inject.ack;
    if (st->u.inject.seq_set && !sq->from_next)
        tcp.seq = (mine ? mine->base : 0) + (uint32_t)sq->v;
    else
        tcp.seq = snext + (uint32_t)(st->u.inject.seq_set ? sq->v : 0);
    if (tcp.flags & TCP_ACK) {
        if (st->u.inject.ack_set && !ak->from_next)
            tcp.ack = (theirs ? theirs->base : 0) + (uint32_t)ak->v;
        else
            tcp.ack = anext + (uint32_t)(st->u.inject.ack_set ? ak->v : 0);
    }
    tcp.win = st->u.inject.win >= 0 ? (uint16_t)st->u.inject.win : 8192;
    if (st->u.inject.tsval_set) {
        /* RFC 7323 TSopt: TSval from A's last one (or as written), TSecr
         * echoing B's last one, as A would. */
        const struct scn_injnum *tv = &st->u.inject.tsval;
        tcp.opts.has_ts = true;
        tcp.opts.ts_val = tv->from_next ? last_tsval(rt, from, to) + (uint32_t)tv->v
                                        : (uint32_t)tv->v;
        tcp.opts.ts_ecr = (tcp.flags & TCP_ACK) ? last_tsval(rt, to, from) : 0;
    }
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
        scn_rt_fail_begin(rt, st);
        scn_rt_rep(rt, "    could not build the segment (too long)\n");
        return;
    }
    if (st->u.inject.badsum && n >= 20 + 18)
        pkt[20 + 16] ^= 0x5A; /* the TCP checksum's first byte */
    rt->net.inject(rt, to, pkt, n);
    scn_rt_service(rt);
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
            rt->hosts[h].ops->close(rt, h, so->sd, true);
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
        rt->net.reorder_next(rt, &st->u.net.m, st->u.net.dur_us, st->u.net.count);
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
        scn_rt_run_until(rt, scn_rt_deadline_in(rt, st->u.time.dur_us), NULL, NULL);
        break;
    case SCN_WAIT_UNTIL:
        scn_rt_exec_expect_state(rt, st, true);
        break;
    case SCN_EXPECT_SEG:
        scn_rt_exec_expect_seg(rt, st);
        break;
    case SCN_EXPECT_NOTHING:
        scn_rt_exec_expect_nothing(rt, st);
        break;
    case SCN_EXPECT_STATE:
        scn_rt_exec_expect_state(rt, st, false);
        break;
    case SCN_EXPECT_QUEUE:
        scn_rt_exec_expect_queue(rt, st);
        break;
    case SCN_EXPECT_CALL:
        scn_rt_exec_expect_call(rt, st);
        break;
    case SCN_EXPECT_DROP:
        scn_rt_exec_expect_drop(rt, st);
        break;
    }
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
        (void)scn_ask_copy_to_step(&s->stmts[i], &tl->steps[i]);
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
        scn_ask_free_step(&tl->steps[i]);
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
    relseq_free(&rt->seqs);
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
    relseq_init(&rt->seqs, true);
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
        err = scn_vlink_setup(rt, msg, sizeof msg);
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
    rt->t0 = scn_rt_now(rt);
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
        scn_rt_rep(rt, "  the network failed: %s\n", strerror(-rt->fatal));
    }
    if (rt->tl) {
        timeline_labels(rt);
        *tlp = rt->tl;
    }
    rt->net.destroy(rt);
    res->expectations = rt->expectations;
    res->failures = rt->failures;
    res->report = rt->report.buf;
    rt->report = (struct scn_text){0};
    rt_free(rt);
    free(rt);
    return 0;
}
