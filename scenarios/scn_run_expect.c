/*
 * scn_run_expect.c — the scenario runner's expectation matching: each
 * `expect` (and `wait until`) waits, within its timeout, for what it
 * expects — the next segments of an exchange, a state, queue lengths, a
 * call's result, a drop — and reports a failure as the file's line, what
 * was expected and what happened (docs/scenarios.md "Expectations").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_rt.h"

/* ---- expectations -------------------------------------------------------------- */

struct seg_arg {
    int from, to;
    bool any_flags;
    uint8_t flags;
    bool udp; /* a datagram is expected: TCP segments are not taken, and back */
};

/* The index of the segment an expectation takes: the oldest one from A to B
 * not taken yet whose flags are the ones expected; -1 if none yet. */
static long seg_candidate(struct scn_rt *rt, const struct seg_arg *a)
{
    for (size_t i = rt->exchange; i < rt->nsegs; i++) {
        const struct scn_rt_seg *g = &rt->segs[i];
        if (g->taken || g->from != a->from || g->to != a->to || g->udp != a->udp)
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
    size_t o;
    if (g->udp)
        o = (size_t)snprintf(out, cap, "%s -> %s udp len=%u", rt->hosts[g->from].name,
                             g->to >= 0 ? rt->hosts[g->to].name : "?", g->len);
    else
        o = (size_t)snprintf(out, cap, "%s -> %s %s seq=%u", rt->hosts[g->from].name,
                             g->to >= 0 ? rt->hosts[g->to].name : "?", fl, g->rseq);
    if (g->udp)
        ; /* no numbers, no window, no options */
    else if (g->flags & TCP_ACK)
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, " ack=%u", g->rack);
    if (!g->udp)
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
        scn_rt_fmt_bytes(out + o, cap - o, g->payload, g->plen < 40 ? g->plen : 40);
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

void scn_rt_exec_expect_seg(struct scn_rt *rt, const struct scn_stmt *st)
{
    const struct scn_segspec *sp = &st->u.seg;
    struct seg_arg a = {.from = sp->from,
                        .to = sp->to,
                        .any_flags = sp->any_flags,
                        .flags = sp->flags,
                        .udp = sp->udp};
    rt->expectations++;
    bool got = scn_rt_run_until(rt, scn_rt_deadline_in(rt, st->timeout_us), seg_ready, &a);
    /* Segments with other flags passed over on the way can no longer be taken. */
    long idx = got ? seg_candidate(rt, &a) : -1;
    char skipped[600] = "";
    size_t so = 0;
    for (size_t i = rt->exchange; i < rt->nsegs && (idx < 0 || i < (size_t)idx); i++) {
        struct scn_rt_seg *g = &rt->segs[i];
        if (g->taken || g->from != a.from || g->to != a.to || g->udp != a.udp)
            continue;
        g->taken = g->skipped = true;
        if (so + 200 < sizeof skipped) {
            char b[300];
            fmt_seg(rt, g, b, sizeof b);
            so += (size_t)snprintf(skipped + so, sizeof skipped - so, "    passed:   %s\n", b);
        }
    }
    if (idx < 0) {
        scn_rt_fail_begin(rt, st);
        scn_rt_rep(rt, "    expected: %s\n", st->text + strlen("expect "));
        scn_rt_rep(rt, "    happened: no such %s from %s to %s within %.3fs\n",
                   a.udp ? "datagram" : "segment", rt->hosts[a.from].name, rt->hosts[a.to].name,
                   (double)st->timeout_us / 1e6);
        scn_rt_rep(rt, "%s", skipped);
        for (size_t i = 0; i < rt->exchange; i++) {
            const struct scn_rt_seg *g = &rt->segs[i];
            if (!g->taken && g->from == a.from && g->to == a.to && g->udp == a.udp &&
                (a.any_flags || g->flags == a.flags)) {
                char b[300];
                fmt_seg(rt, g, b, sizeof b);
                scn_rt_rep(
                    rt,
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
        scn_rt_fail_begin(rt, st);
        scn_rt_rep(rt, "%s", skipped);
        scn_rt_rep(rt, "    expected: %s\n", st->text + strlen("expect "));
        scn_rt_rep(rt, "    happened: %s\n", b);
        scn_rt_rep(rt, "    because:  %s\n", why);
    }
}

void scn_rt_exec_expect_nothing(struct scn_rt *rt, const struct scn_stmt *st)
{
    rt->expectations++;
    size_t first = rt->nsegs;
    scn_rt_run_until(rt, scn_rt_deadline_in(rt, st->u.time.dur_us), NULL, NULL);
    for (size_t i = first; i < rt->nsegs; i++) {
        const struct scn_rt_seg *g = &rt->segs[i];
        if (st->u.time.from >= 0 && (g->from != st->u.time.from || g->to != st->u.time.to))
            continue;
        char b[400];
        fmt_seg(rt, g, b, sizeof b);
        scn_rt_fail_begin(rt, st);
        scn_rt_rep(rt, "    expected: silence for %.3fs\n", (double)st->u.time.dur_us / 1e6);
        scn_rt_rep(rt, "    happened: %s\n", b);
        return;
    }
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
    enum tcp_state st = scn_rt_target_state(rt, a->tgt, &c);
    if (st == a->want)
        return true;
    /* Passed through it since the statement started (within one instant). */
    return c && c->entered[a->want] > a->mark;
}

void scn_rt_exec_expect_state(struct scn_rt *rt, const struct scn_stmt *st, bool is_wait)
{
    if (!is_wait)
        rt->expectations++;
    struct state_arg a = {.tgt = &st->u.time.tgt, .want = st->u.time.state, .mark = rt->evcount};
    if (scn_rt_run_until(rt, scn_rt_deadline_in(rt, st->timeout_us), state_holds, &a))
        return;
    struct scn_rt_conn *c;
    enum tcp_state now_st = scn_rt_target_state(rt, &st->u.time.tgt, &c);
    scn_rt_fail_begin(rt, st);
    scn_rt_rep(rt, "    expected: %s in %s\n", scn_rt_target_name(rt, &st->u.time.tgt),
               tcp_state_name(st->u.time.state));
    scn_rt_rep(rt, "    happened: %s is in %s (waited %.3fs)\n",
               scn_rt_target_name(rt, &st->u.time.tgt), tcp_state_name(now_st),
               (double)st->timeout_us / 1e6);
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
                scn_rt_tuple_eq(&rt->socks[j].tuple, &c->t))
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

void scn_rt_exec_expect_queue(struct scn_rt *rt, const struct scn_stmt *st)
{
    rt->expectations++;
    if (scn_rt_run_until(rt, scn_rt_deadline_in(rt, st->timeout_us), queue_holds, st))
        return;
    int k = queue_listener(rt, &st->u.queue.tgt);
    scn_rt_fail_begin(rt, st);
    if (k < 0) {
        scn_rt_rep(rt, "    happened: %s has no listening socket\n",
                   scn_rt_target_name(rt, &st->u.queue.tgt));
        return;
    }
    long syn, acc;
    queue_lengths(rt, st->u.queue.tgt.host, k, &syn, &acc);
    scn_rt_rep(rt, "    happened: syn=%ld accept=%ld (waited %.3fs)\n", syn, acc,
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

void scn_rt_exec_expect_call(struct scn_rt *rt, const struct scn_stmt *st)
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
        scn_rt_fail_begin(rt, st);
        scn_rt_rep(rt, "    happened: %s made no %s() call\n", scn_rt_target_name(rt, t),
                   tcp_call_name(call));
        return;
    }
    if (st->u.ecall.vk == SCN_VAL_BLOCKED) {
        if (rec->done) {
            char b[300];
            scn_rt_fmt_result(b, sizeof b, call, rec);
            scn_rt_fail_begin(rt, st);
            scn_rt_rep(rt, "    expected: %s() still blocked\n", tcp_call_name(call));
            scn_rt_rep(rt, "    happened: it returned %s\n", b);
        }
        return;
    }
    struct call_arg a = {rec};
    if (!rec->done)
        scn_rt_run_until(rt, scn_rt_deadline_in(rt, st->timeout_us), call_done, &a);
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
        scn_rt_fmt_result(b, sizeof b, call, rec);
        scn_rt_fail_begin(rt, st);
        scn_rt_rep(rt, "    expected: %s() = %s\n", tcp_call_name(call),
                   st->text +
                       (strstr(st->text, " = ") ? strstr(st->text, " = ") - st->text + 3 : 0));
        scn_rt_rep(rt, "    happened: %s() returned %s%s\n", tcp_call_name(call), b,
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

void scn_rt_exec_expect_drop(struct scn_rt *rt, const struct scn_stmt *st)
{
    rt->expectations++;
    struct drop_arg a = {st->u.edrop.host};
    scn_rt_run_until(rt, scn_rt_deadline_in(rt, st->timeout_us), drop_ready, &a);
    long i = drop_candidate(rt, a.host);
    if (i < 0) {
        scn_rt_fail_begin(rt, st);
        scn_rt_rep(rt, "    happened: %s dropped nothing within %.3fs\n", rt->hosts[a.host].name,
                   (double)st->timeout_us / 1e6);
        return;
    }
    rt->drops[i].taken = true;
    if (rt->drops[i].reason != st->u.edrop.reason) {
        scn_rt_fail_begin(rt, st);
        scn_rt_rep(rt, "    happened: %s dropped a packet for %s\n", rt->hosts[a.host].name,
                   tev_drop_reason_name(rt->drops[i].reason));
    }
}
