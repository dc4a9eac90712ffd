/*
 * pkt_run.c — run a parsed .pkt script against one tcplab stack on a
 * virtual clock: time, packets in and out, the diagnostics, the timeline.
 *
 * The clock only moves forward, to the next event of the script or the
 * engine's next timer, whichever comes first; nothing sleeps. Each event:
 *   <  build the packet the script describes (its relative sequence and
 *      acknowledgment numbers mapped to the live ones, packetdrill's way)
 *      and hand it to stack_input() at the event's time;
 *   >  take the oldest packet the engine sent and not yet matched; if there
 *      is none, let time run (timers fire) until the event's time plus the
 *      tolerance. It must have been sent within the tolerance of the
 *      event's time and match flags, sequence range, ack, window, options;
 *   call  pkt_sys.c. A blocking call (`t1...t2`) is retried after every
 *      packet and timer until it returns, and must return at t2.
 * The first mismatch ends the run with a packetdrill-style account: the
 * script line, the expected and the actual packet or result, the times.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_runner.h"
#include "scenario.h"
#include "tcp.h"
#include "wire.h"

static void verdict(struct pkt_runner *r, enum pkt_verdict v, int line, const char *fmt,
                    va_list ap)
{
    if (r->verdict != PKT_PASS)
        return;
    r->verdict = v;
    r->verdict_line = line;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (v == PKT_SKIP) {
        scn_text_printf(&r->report, "%s:%d: %s", r->s->name, line, msg);
        return;
    }
    scn_text_printf(&r->report, "%s:%d: %s\n", r->s->name, line, pkt_script_line(r->s, line));
    scn_text_printf(&r->report, "  %s\n", msg);
}

void pkt_fail(struct pkt_runner *r, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verdict(r, PKT_FAIL, line, fmt, ap);
    va_end(ap);
}

void pkt_skip(struct pkt_runner *r, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verdict(r, PKT_SKIP, line, fmt, ap);
    va_end(ap);
}

static double secs(uint64_t us)
{
    return (double)us / 1e6;
}

/* ---- engine callbacks ----------------------------------------------------------- */

static void on_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct pkt_runner *r = ctx;
    if (r->qlen == r->qcap) {
        size_t cap = r->qcap ? r->qcap * 2 : 64;
        void *q = realloc(r->q, cap * sizeof *r->q);
        if (!q) {
            r->oom = true;
            return;
        }
        r->q = q;
        r->qcap = cap;
    }
    uint8_t *copy = malloc(len);
    if (!copy) {
        r->oom = true;
        return;
    }
    memcpy(copy, pkt, len);
    r->q[r->qlen].t = r->now;
    r->q[r->qlen].data = copy;
    r->q[r->qlen].len = len;
    r->qlen++;
}

static void on_event(void *ctx, const struct tev *ev)
{
    struct pkt_runner *r = ctx;
    if (r->user_fn)
        r->user_fn(r->user_ctx, ev);
    if (r->nevents == r->events_cap) {
        size_t cap = r->events_cap ? r->events_cap * 2 : 256;
        struct tev **v = realloc(r->events, cap * sizeof *v);
        if (!v) {
            r->oom = true;
            return;
        }
        r->events = v;
        r->events_cap = cap;
    }
    struct tev *c = tev_clone(ev);
    if (!c) {
        r->oom = true;
        return;
    }
    r->events[r->nevents++] = c;
}

/* ---- flows -------------------------------------------------------------------- */

static struct pkt_flow *flow_by_rport(struct pkt_runner *r, uint16_t rport)
{
    for (size_t i = 0; i < r->nflows; i++)
        if (r->flows[i].rport == rport)
            return &r->flows[i];
    return NULL;
}

static struct pkt_flow *flow_add(struct pkt_runner *r, uint16_t rport, uint16_t lport)
{
    struct pkt_flow *f = flow_by_rport(r, rport);
    if (f)
        return f;
    if (r->nflows == PKT_MAX_FLOWS)
        return &r->flows[PKT_MAX_FLOWS - 1];
    f = &r->flows[r->nflows++];
    memset(f, 0, sizeof *f);
    f->rport = rport;
    f->lport = lport;
    return f;
}

struct pkt_flow *pkt_flow_primary(struct pkt_runner *r)
{
    if (r->nflows)
        return &r->flows[r->cur_flow];
    return flow_add(r, r->cfg.remote_port, r->cfg.bind_port);
}

void pkt_flow_select(struct pkt_runner *r, uint16_t rport, uint16_t lport)
{
    struct pkt_flow *f = flow_add(r, rport, lport);
    f->lport = lport;
    f->have_isn = false;
    r->cur_flow = (size_t)(f - r->flows);
}

/* The flow of a script packet: `<@PORT` or the primary one. */
static struct pkt_flow *flow_of_event(struct pkt_runner *r, const struct pkt_packet *pk)
{
    struct pkt_flow *primary = pkt_flow_primary(r);
    if (pk->rport < 0)
        return primary;
    return flow_add(r, (uint16_t)pk->rport, primary->lport);
}

/* ---- clock -------------------------------------------------------------------- */

static void check_overdue(struct pkt_runner *r)
{
    if (!r->pend.active || pkt_stopped(r))
        return;
    if (r->now > r->pend.expect_us + r->cfg.tolerance_us) {
        const struct pkt_event *ev = &r->s->events[r->pend.ev];
        pkt_fail(r, ev->line,
                 "blocking system call %s() should have returned at %.6f sec but is still "
                 "blocked at %.6f sec; tolerance %.6f sec",
                 ev->sc.name, secs(r->pend.expect_us), secs(r->now), secs(r->cfg.tolerance_us));
    }
}

static uint64_t next_deadline(const struct pkt_runner *r)
{
    uint64_t d = stack_next_deadline(r->st);
    if (r->pend.active && r->pend.deadline_us < d)
        d = r->pend.deadline_us;
    return d;
}

enum stop_when { STOP_AT_TIME, STOP_AT_PACKET, STOP_AT_UNBLOCKED };

static bool stop_now(const struct pkt_runner *r, enum stop_when w)
{
    return (w == STOP_AT_PACKET && r->qhead < r->qlen) || (w == STOP_AT_UNBLOCKED && !r->pend.active);
}

/* Run the engine's timers up to `t` (the clock ends at t), retrying a
 * blocked call after each; or stop early, as soon as the engine has sent
 * something, or the blocked call has returned. */
static void advance_to(struct pkt_runner *r, uint64_t t, enum stop_when w)
{
    unsigned guard = 0;
    while (!pkt_stopped(r) && !stop_now(r, w)) {
        uint64_t d = next_deadline(r);
        if (d > t || d == TCP_TIME_NEVER)
            break;
        if (d > r->now)
            r->now = d;
        stack_tick(r->st, r->now);
        if (r->pend.active)
            pkt_sys_retry(r);
        check_overdue(r);
        if (++guard > 10000000) {
            pkt_fail(r, r->verdict_line, "the engine's timers do not advance (internal error)");
            return;
        }
    }
    if (pkt_stopped(r) || stop_now(r, w))
        return;
    if (t > r->now)
        r->now = t;
    if (r->pend.active)
        pkt_sys_retry(r);
    check_overdue(r);
}

/* ---- packets: strings ------------------------------------------------------------ */

static void opts_str(struct scn_text *t, const struct pkt_opt *o, unsigned n)
{
    scn_text_printf(t, " <");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            scn_text_printf(t, ",");
        switch (o[i].kind) {
        case PKT_O_NOP: scn_text_printf(t, "nop"); break;
        case PKT_O_EOL: scn_text_printf(t, "eol"); break;
        case PKT_O_MSS: scn_text_printf(t, "mss %u", o[i].a); break;
        case PKT_O_WSCALE: scn_text_printf(t, "wscale %u", o[i].a); break;
        case PKT_O_SACKOK: scn_text_printf(t, "sackOK"); break;
        case PKT_O_TS: scn_text_printf(t, "TS val %u ecr %u", o[i].a, o[i].b); break;
        case PKT_O_SACK:
            scn_text_printf(t, "sack");
            for (unsigned k = 0; k < o[i].nsack; k++)
                scn_text_printf(t, " %u:%u", o[i].sack[k][0], o[i].sack[k][1]);
            break;
        }
    }
    scn_text_printf(t, ">");
}

static void flags_str(struct scn_text *t, uint8_t flags)
{
    char b[10];
    wire_flags_str(flags, b);
    /* tcpdump writes a bare ACK as "."; packetdrill too */
    scn_text_printf(t, "%s", b[0] ? b : "-");
}

static void script_packet_str(struct scn_text *t, const struct pkt_packet *pk)
{
    flags_str(t, pk->flags);
    scn_text_printf(t, " %u:%u(%u)", pk->seq, pk->end, pk->len);
    if (pk->has_ack)
        scn_text_printf(t, " ack %u", pk->ack);
    if (pk->has_win)
        scn_text_printf(t, " win %u", pk->win);
    if (pk->opts_mode == PKT_OPTS_ANY)
        scn_text_printf(t, " <...>");
    else if (pk->opts_mode == PKT_OPTS_LIST)
        opts_str(t, pk->opts, pk->nopts);
}

/* A packet the engine sent, in the script's terms. */
struct live_pkt {
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    struct pkt_opt opts[PKT_MAX_OPTS];
    unsigned nopts;
    bool opts_bad;     /* more options than we keep, or an unknown kind */
    uint32_t rel_seq;  /* seq in script numbers */
};

static void parse_live_opts(struct live_pkt *lp)
{
    const uint8_t *o = (const uint8_t *)lp->ip.payload + WIRE_TCP_HDR_LEN;
    size_t n = lp->tcp.data_off - WIRE_TCP_HDR_LEN;
    lp->nopts = 0;
    for (size_t i = 0; i < n;) {
        if (lp->nopts == PKT_MAX_OPTS) {
            lp->opts_bad = true;
            return;
        }
        struct pkt_opt *x = &lp->opts[lp->nopts];
        memset(x, 0, sizeof *x);
        uint8_t kind = o[i];
        if (kind == 0) {
            x->kind = PKT_O_EOL;
            lp->nopts++;
            return; /* the rest is padding */
        }
        if (kind == 1) {
            x->kind = PKT_O_NOP;
            lp->nopts++;
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n) {
            lp->opts_bad = true;
            return;
        }
        uint8_t len = o[i + 1];
        const uint8_t *v = o + i + 2;
        switch (kind) {
        case 2: x->kind = PKT_O_MSS; x->a = (uint32_t)(v[0] << 8 | v[1]); break;
        case 3: x->kind = PKT_O_WSCALE; x->a = v[0]; break;
        case 4: x->kind = PKT_O_SACKOK; break;
        case 5:
            x->kind = PKT_O_SACK;
            for (unsigned k = 0; k < (unsigned)(len - 2) / 8 && k < PKT_MAX_SACK; k++) {
                const uint8_t *b = v + 8 * k;
                x->sack[k][0] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
                x->sack[k][1] = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
                x->nsack++;
            }
            break;
        case 8:
            x->kind = PKT_O_TS;
            x->a = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
            x->b = (uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 | (uint32_t)v[6] << 8 | v[7];
            break;
        default:
            lp->opts_bad = true;
            return;
        }
        lp->nopts++;
        i += len;
    }
}

static void live_packet_str(struct scn_text *t, const struct live_pkt *lp, uint32_t rel_seq)
{
    flags_str(t, lp->tcp.flags);
    scn_text_printf(t, " %u:%u(%zu)", rel_seq, rel_seq + (uint32_t)lp->tcp.payload_len,
                    lp->tcp.payload_len);
    if (lp->tcp.flags & TCP_ACK)
        scn_text_printf(t, " ack %u", lp->tcp.ack);
    scn_text_printf(t, " win %u", lp->tcp.win);
    if (lp->nopts)
        opts_str(t, lp->opts, lp->nopts);
}

/* ---- packets: in ---------------------------------------------------------------- */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static size_t build_options(const struct pkt_runner *r, const struct pkt_flow *f,
                            const struct pkt_packet *pk, uint8_t *o)
{
    size_t n = 0;
    for (unsigned i = 0; i < pk->nopts && n < WIRE_TCP_MAX_OPT_LEN; i++) {
        const struct pkt_opt *x = &pk->opts[i];
        size_t need = x->kind == PKT_O_MSS ? 4 : x->kind == PKT_O_WSCALE ? 3
                      : x->kind == PKT_O_SACKOK ? 2 : x->kind == PKT_O_TS ? 10
                      : x->kind == PKT_O_SACK ? 2 + 8 * x->nsack : 1;
        if (n + need > WIRE_TCP_MAX_OPT_LEN)
            break;
        switch (x->kind) {
        case PKT_O_NOP: o[n] = 1; break;
        case PKT_O_EOL: o[n] = 0; break;
        case PKT_O_MSS: o[n] = 2; o[n + 1] = 4; put16(o + n + 2, x->a); break;
        case PKT_O_WSCALE: o[n] = 3; o[n + 1] = 3; o[n + 2] = (uint8_t)x->a; break;
        case PKT_O_SACKOK: o[n] = 4; o[n + 1] = 2; break;
        case PKT_O_TS: {
            uint32_t ecr = x->b;
            /* the echo of one of the engine's timestamps, as the script numbered it */
            if (ecr && f->have_ts)
                ecr = ecr - f->ts_script + f->ts_live;
            o[n] = 8;
            o[n + 1] = 10;
            put32(o + n + 2, x->a);
            put32(o + n + 6, ecr);
            break;
        }
        case PKT_O_SACK:
            o[n] = 5;
            o[n + 1] = (uint8_t)need;
            for (unsigned k = 0; k < x->nsack; k++) {
                /* SACK blocks name the engine's bytes */
                uint32_t off = f->have_isn ? f->isn_live - f->isn_script : 0;
                put32(o + n + 2 + 8 * k, x->sack[k][0] + off);
                put32(o + n + 6 + 8 * k, x->sack[k][1] + off);
            }
            break;
        }
        n += need;
    }
    (void)r;
    while (n % 4)
        o[n++] = 0; /* pad with end-of-list */
    return n;
}

static void inject(struct pkt_runner *r, const struct pkt_event *ev)
{
    const struct pkt_packet *pk = &ev->pkt;
    struct pkt_flow *f = flow_of_event(r, pk);
    if (!f->lport)
        f->lport = r->cfg.bind_port;
    size_t cap = 20 + 20 + 40 + pk->len;
    uint8_t *b = calloc(1, cap);
    if (!b) {
        r->oom = true;
        return;
    }
    uint8_t *tcp = b + 20;
    size_t olen = pk->opts_mode == PKT_OPTS_LIST ? build_options(r, f, pk, tcp + 20) : 0;
    size_t tcplen = 20 + olen + pk->len;
    size_t total = 20 + tcplen;
    /* payload: a recognisable pattern, not zeros */
    for (uint32_t i = 0; i < pk->len; i++)
        tcp[20 + olen + i] = (uint8_t)('a' + (pk->seq + i) % 26);
    b[0] = 0x45;
    b[1] = pk->ecn > 0 ? (uint8_t)pk->ecn : 0;
    put16(b + 2, (uint32_t)total);
    put16(b + 4, r->ip_id++);
    put16(b + 6, 0x4000);
    b[8] = 64;
    b[9] = WIRE_PROTO_TCP;
    put32(b + 12, r->cfg.remote_ip);
    put32(b + 16, r->cfg.local_ip);
    put16(b + 10, wire_sum_fold(wire_sum(b, 20, 0)));
    uint32_t ack = pk->ack;
    if (pk->has_ack && f->have_isn)
        ack = pk->ack - f->isn_script + f->isn_live;
    put16(tcp, f->rport);
    put16(tcp + 2, f->lport);
    put32(tcp + 4, pk->seq);
    put32(tcp + 8, pk->has_ack ? ack : 0);
    tcp[12] = (uint8_t)(((20 + olen) / 4) << 4);
    tcp[13] = pk->flags;
    put16(tcp + 14, pk->has_win ? pk->win : r->cfg.default_win);
    uint32_t src = r->cfg.remote_ip, dst = r->cfg.local_ip;
    uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
                      WIRE_PROTO_TCP + (uint32_t)tcplen;
    put16(tcp + 16, wire_sum_fold(wire_sum(tcp, tcplen, pseudo)));
    stack_input(r->st, r->now, b, total);
    free(b);
    if (r->pend.active)
        pkt_sys_retry(r);
}

/* ---- packets: out --------------------------------------------------------------- */

static bool opts_equal(const struct pkt_runner *r, const struct pkt_flow *f,
                       const struct pkt_packet *pk, const struct live_pkt *lp, char *why,
                       size_t whysz)
{
    (void)r;
    if (pk->opts_mode == PKT_OPTS_ANY)
        return true;
    if (lp->opts_bad) {
        snprintf(why, whysz, "the live packet has options tcplab cannot show");
        return false;
    }
    unsigned want = pk->opts_mode == PKT_OPTS_LIST ? pk->nopts : 0;
    if (want != lp->nopts) {
        snprintf(why, whysz, "bad outbound TCP options: expected %u options, live packet has %u",
                 want, lp->nopts);
        return false;
    }
    for (unsigned i = 0; i < want; i++) {
        const struct pkt_opt *a = &pk->opts[i], *b = &lp->opts[i];
        if (a->kind != b->kind) {
            snprintf(why, whysz, "bad outbound TCP option %u: a different kind of option", i + 1);
            return false;
        }
        bool same = true;
        switch (a->kind) {
        case PKT_O_MSS:
        case PKT_O_WSCALE:
            same = a->a == b->a;
            break;
        case PKT_O_TS:
            /* TS val is the engine's clock: not compared; ecr echoes the script's */
            same = a->b == b->b;
            break;
        case PKT_O_SACK:
            same = a->nsack == b->nsack;
            for (unsigned k = 0; same && k < a->nsack; k++)
                same = a->sack[k][0] == b->sack[k][0] && a->sack[k][1] == b->sack[k][1];
            break;
        default:
            break;
        }
        if (!same) {
            snprintf(why, whysz, "bad value outbound TCP option %u", i + 1);
            return false;
        }
    }
    (void)f;
    return true;
}

static void expect_packet(struct pkt_runner *r, const struct pkt_event *ev, uint64_t lo,
                          uint64_t hi)
{
    const struct pkt_packet *pk = &ev->pkt;
    uint64_t tol = r->cfg.tolerance_us;
    uint64_t lo_t = lo > tol ? lo - tol : 0, hi_t = hi == TCP_TIME_NEVER ? hi : hi + tol;
    if (r->qhead == r->qlen)
        advance_to(r, hi_t == TCP_TIME_NEVER ? r->now + PKT_TIME_LIMIT : hi_t, STOP_AT_PACKET);
    if (pkt_stopped(r))
        return;
    struct scn_text t = {0};
    if (r->qhead == r->qlen) {
        script_packet_str(&t, pk);
        pkt_fail(r, ev->line,
                 "error handling packet: timed out waiting for an outbound packet\n"
                 "    script packet: %9.6f %s\n"
                 "    actual packet: none was sent by %.6f sec (tolerance %.6f sec)",
                 secs(lo), t.buf ? t.buf : "", secs(r->now), secs(tol));
        free(t.buf);
        return;
    }
    uint64_t at = r->q[r->qhead].t;
    struct live_pkt lp;
    memset(&lp, 0, sizeof lp);
    int e = wire_ipv4_parse(r->q[r->qhead].data, r->q[r->qhead].len, &lp.ip);
    if (!e)
        e = wire_tcp_parse(&lp.ip, &lp.tcp);
    uint8_t *raw = r->q[r->qhead].data; /* lp points into it: freed at the end */
    r->qhead++;
    if (e) {
        pkt_fail(r, ev->line, "error handling packet: the engine sent a packet that is not TCP "
                              "(%s)", wire_err_name(e));
        free(raw);
        return;
    }
    parse_live_opts(&lp);
    /* which flow: the packet's destination port is the script's port */
    struct pkt_flow *f = flow_by_rport(r, lp.tcp.dport);
    if (!f) {
        struct pkt_flow *want = flow_of_event(r, pk);
        if (!want->lport || want->lport == lp.tcp.sport)
            f = want;
    }
    struct pkt_flow scratch = {0};
    if (!f)
        f = &scratch;
    if (!f->lport)
        f->lport = lp.tcp.sport;
    /* learn the engine's ISN from its SYN (packetdrill's local ISN) */
    if ((lp.tcp.flags & TCP_SYN) && (pk->flags & TCP_SYN)) {
        f->have_isn = true;
        f->isn_live = lp.tcp.seq;
        f->isn_script = pk->seq;
    }
    uint32_t rel_seq = f->have_isn ? lp.tcp.seq - f->isn_live + f->isn_script : lp.tcp.seq;
    char why[200] = "";
    if (at < lo_t || (hi_t != TCP_TIME_NEVER && at > hi_t))
        snprintf(why, sizeof why,
                 "timing error: expected outbound packet at %.6f sec but happened at %.6f sec; "
                 "tolerance %.6f sec",
                 secs(lo), secs(at), secs(tol));
    else if (pk->rport >= 0 && lp.tcp.dport != pk->rport)
        snprintf(why, sizeof why, "live packet went to port %u, expected port %d", lp.tcp.dport,
                 pk->rport);
    else if (lp.tcp.flags != pk->flags) {
        struct scn_text a = {0}, b = {0};
        flags_str(&a, pk->flags);
        flags_str(&b, lp.tcp.flags);
        snprintf(why, sizeof why, "live packet field tcp_flags: expected: %s vs actual: %s",
                 a.buf ? a.buf : "", b.buf ? b.buf : "");
        free(a.buf);
        free(b.buf);
    } else if (rel_seq != pk->seq)
        snprintf(why, sizeof why, "live packet field tcp_seq: expected: %u vs actual: %u",
                 pk->seq, rel_seq);
    else if (lp.tcp.payload_len != pk->len)
        snprintf(why, sizeof why,
                 "live packet payload: expected %u bytes of payload but got %zu bytes", pk->len,
                 lp.tcp.payload_len);
    else if ((pk->flags & TCP_ACK) && lp.tcp.ack != pk->ack)
        snprintf(why, sizeof why, "live packet field tcp_ack_seq: expected: %u vs actual: %u",
                 pk->ack, lp.tcp.ack);
    else if (pk->has_win && lp.tcp.win != pk->win)
        snprintf(why, sizeof why, "live packet field tcp_window: expected: %u vs actual: %u",
                 pk->win, lp.tcp.win);
    else if (pk->ecn >= 0 && (lp.ip.tos & 3) != pk->ecn)
        snprintf(why, sizeof why, "live packet field ip_ecn: expected: %d vs actual: %d", pk->ecn,
                 lp.ip.tos & 3);
    else
        opts_equal(r, f, pk, &lp, why, sizeof why);
    if (!why[0]) {
        /* remember the engine's first timestamp, to map the script's echoes */
        for (unsigned i = 0; i < lp.nopts && i < pk->nopts; i++)
            if (lp.opts[i].kind == PKT_O_TS && pk->opts[i].kind == PKT_O_TS && !f->have_ts) {
                f->have_ts = true;
                f->ts_live = lp.opts[i].a;
                f->ts_script = pk->opts[i].a;
            }
        r->last_us = (int64_t)(ev->time.kind == PKT_T_ANY || ev->time.kind == PKT_T_RANGE ? at : lo);
        free(raw);
        return;
    }
    script_packet_str(&t, pk);
    struct scn_text a = {0};
    live_packet_str(&a, &lp, rel_seq);
    pkt_fail(r, ev->line,
             "error handling packet: %s\n"
             "    script packet: %9.6f %s\n"
             "    actual packet: %9.6f %s",
             why, secs(lo), t.buf ? t.buf : "", secs(at), a.buf ? a.buf : "");
    free(t.buf);
    free(a.buf);
    free(raw);
}

/* ---- events ------------------------------------------------------------------- */

static int64_t event_time(const struct pkt_runner *r, const struct pkt_event *ev, int64_t *hi)
{
    const struct pkt_time *t = &ev->time;
    int64_t lo;
    switch (t->kind) {
    case PKT_T_ABS: lo = t->us; break;
    case PKT_T_REL: lo = r->last_us + t->us; break;
    case PKT_T_RANGE:
        lo = t->rel1 ? r->last_us + t->us : t->us;
        *hi = t->rel2 ? (t->rel1 ? r->last_us : (int64_t)lo) + t->us2 : t->us2;
        return lo;
    case PKT_T_ANY:
    default:
        lo = (int64_t)r->now;
        *hi = -1;
        return lo;
    }
    *hi = lo;
    return lo;
}

static void run_event(struct pkt_runner *r, size_t i)
{
    const struct pkt_event *ev = &r->s->events[i];
    int64_t hi = 0;
    int64_t lo = event_time(r, ev, &hi);
    if (lo < 0)
        lo = 0;
    if ((uint64_t)lo > PKT_TIME_LIMIT) {
        pkt_skip(r, ev->line, "the script runs longer than a day of virtual time");
        return;
    }
    /* A blocked call returns before the next call starts (packetdrill waits
     * for it), and before the script goes past the time it should return. */
    if (r->pend.active) {
        uint64_t due = r->pend.expect_us + r->cfg.tolerance_us;
        if (ev->kind == PKT_EV_SYSCALL || (uint64_t)lo > due) {
            advance_to(r, due, STOP_AT_UNBLOCKED);
            if (r->pend.active && !pkt_stopped(r)) {
                r->now = due + 1;
                check_overdue(r);
            }
        }
        if (pkt_stopped(r))
            return;
    }
    if (ev->kind == PKT_EV_PACKET && ev->pkt.outbound) {
        expect_packet(r, ev, (uint64_t)lo,
                      ev->time.kind == PKT_T_ANY ? TCP_TIME_NEVER : (uint64_t)(hi < lo ? lo : hi));
        return;
    }
    advance_to(r, (uint64_t)lo, STOP_AT_TIME);
    if (pkt_stopped(r))
        return;
    /* t1...t2: t2 has the base t1 has (+0.1...0.2 is 0.2 after the previous event) */
    if (ev->kind == PKT_EV_SYSCALL && ev->sc.has_end)
        r->call_end_us = (uint64_t)((ev->time.kind == PKT_T_REL ? r->last_us : 0) + ev->sc.end_us);
    else
        r->call_end_us = r->now;
    if (r->call_end_us < r->now)
        r->call_end_us = r->now;
    r->last_us = ev->time.kind == PKT_T_ANY || ev->time.kind == PKT_T_RANGE ? (int64_t)r->now : lo;
    if (ev->kind == PKT_EV_PACKET)
        inject(r, ev);
    else
        pkt_sys_start(r, i);
}

/* ---- timeline ------------------------------------------------------------------ */

static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return strdup(b ? b + 1 : path);
}

static struct scn_timeline *make_timeline(struct pkt_runner *r, const size_t *first, size_t n)
{
    struct scn_timeline *tl = calloc(1, sizeof *tl);
    if (!tl)
        return NULL;
    char *b = base_name(r->s->name);
    size_t tn = (b ? strlen(b) : 0) + 32;
    tl->title_en = malloc(tn);
    tl->title_zh = malloc(tn);
    if (tl->title_en)
        snprintf(tl->title_en, tn, "packetdrill: %s", b ? b : "");
    if (tl->title_zh)
        snprintf(tl->title_zh, tn, "packetdrill 脚本: %s", b ? b : "");
    free(b);
    tl->nhosts = 2;
    char a[16];
    snprintf(tl->hosts[0].name, sizeof tl->hosts[0].name, "%s", r->cfg.stack.name);
    snprintf(tl->hosts[0].label, sizeof tl->hosts[0].label, "%s · tcplab stack",
             wire_addr_str(r->cfg.local_ip, a));
    tl->hosts[0].addr = r->cfg.local_ip;
    snprintf(tl->hosts[1].name, sizeof tl->hosts[1].name, "script");
    snprintf(tl->hosts[1].label, sizeof tl->hosts[1].label, "%s · the .pkt script",
             wire_addr_str(r->cfg.remote_ip, a));
    tl->hosts[1].addr = r->cfg.remote_ip;
    tl->events = r->events;
    tl->nevents = r->nevents;
    r->events = NULL;
    r->nevents = 0;
    tl->steps = calloc(n ? n : 1, sizeof *tl->steps);
    if (!tl->steps) {
        scn_timeline_free(tl);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct scn_step *st = &tl->steps[i];
        st->line = r->s->events[i].line;
        st->text = strdup(pkt_script_line(r->s, st->line));
        st->first_event = first[i];
        st->end_event = i + 1 < n ? first[i + 1] : tl->nevents;
        st->failed = r->verdict == PKT_FAIL && r->verdict_line == st->line;
    }
    tl->nsteps = n;
    return tl;
}

/* ---- the run ------------------------------------------------------------------ */

int pkt_run(const struct pkt_script *s, const struct pkt_config *cfg, tev_fn user_fn,
            void *user_ctx, struct pkt_result *res, struct scn_timeline **tl)
{
    memset(res, 0, sizeof *res);
    if (tl)
        *tl = NULL;
    struct pkt_runner *r = calloc(1, sizeof *r);
    size_t *first = calloc(s->nevents + 1, sizeof *first);
    if (!r || !first) {
        free(r);
        free(first);
        return -ENOMEM;
    }
    r->s = s;
    r->cfg = *cfg;
    r->user_fn = user_fn;
    r->user_ctx = user_ctx;
    r->verdict = PKT_PASS;
    r->pend.deadline_us = TCP_TIME_NEVER;
    int line;
    char reason[200];
    if (s->skip_line) {
        pkt_skip(r, s->skip_line, "%s", s->skip_reason);
    } else if (pkt_apply_script_options(s, &r->cfg, &line, reason, sizeof reason)) {
        pkt_skip(r, line, "%s", reason);
    } else {
        r->cfg.stack.addr = r->cfg.local_ip;
        r->cfg.stack.output = on_output;
        r->cfg.stack.output_ctx = r;
        r->cfg.stack.on_event = on_event;
        r->cfg.stack.event_ctx = r;
        r->st = stack_new(&r->cfg.stack);
        if (!r->st)
            pkt_skip(r, 1, "the engine refused this configuration (--set values out of range?)");
    }
    size_t ran = 0;
    for (size_t i = 0; r->st && i < s->nevents && !pkt_stopped(r); i++) {
        first[i] = r->nevents;
        run_event(r, i);
        ran = i + 1;
    }
    if (r->st && !pkt_stopped(r) && r->pend.active) {
        const struct pkt_event *ev = &s->events[r->pend.ev];
        advance_to(r, r->pend.expect_us + r->cfg.tolerance_us, STOP_AT_UNBLOCKED);
        if (r->pend.active && !pkt_stopped(r))
            pkt_fail(r, ev->line, "blocking system call %s() never returned (the script ended)",
                     ev->sc.name);
    }
    if (r->oom)
        pkt_fail(r, 0, "out of memory");
    if (r->st)
        pkt_sys_cleanup(r);
    res->verdict = r->verdict;
    res->line = r->verdict_line;
    res->events = (unsigned)ran;
    res->report = r->report.buf;
    if (tl && r->st)
        *tl = make_timeline(r, first, ran);
    for (size_t i = 0; i < r->nevents; i++)
        tev_free(r->events[i]);
    free(r->events);
    for (size_t i = r->qhead; i < r->qlen; i++)
        free(r->q[i].data);
    free(r->q);
    if (r->st)
        stack_free(r->st);
    free(first);
    free(r);
    return 0;
}

void pkt_result_free(struct pkt_result *r)
{
    if (!r)
        return;
    free(r->report);
    r->report = NULL;
}

int pkt_run_file(const char *path, const struct pkt_config *cfg, struct pkt_result *res,
                 struct scn_timeline **tl, struct pkt_error *err)
{
    struct pkt_script *s = pkt_parse_file_for(path, cfg->profile, err);
    if (!s)
        return 2;
    int rc = pkt_run(s, cfg, NULL, NULL, res, tl);
    pkt_script_free(s);
    if (rc < 0) {
        snprintf(err->msg, sizeof err->msg, "%s", strerror(-rc));
        err->line = 1;
        return 2;
    }
    return 0;
}
