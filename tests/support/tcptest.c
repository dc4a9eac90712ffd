/*
 * tcptest.c — the single-stack harness (a scripted peer, captured output,
 * recorded events, virtual time), the builders that put a connection in each
 * state of RFC 9293 Figure 5, and the two-stack helper on the virtual link.
 * See tcptest.h for how tests use it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcptest.h"

/* ---- failure reporting -------------------------------------------------- */

void tt_fail_at(const char *file, int line, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("%s:%d: %s\n", file, line, msg);
    _fail(file, line);
    abort(); /* _fail() does not return inside a cmocka test */
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "tcptest: out of memory\n");
        abort();
    }
    return q;
}

/* ---- Figure 5 edge coverage (process-wide, see tcptest.h) -------------- */

static bool edges_seen[TCP_NSTATES][TCP_NSTATES];

void tt_edges_reset(void)
{
    memset(edges_seen, 0, sizeof edges_seen);
}

bool tt_edge_seen(enum tcp_state from, enum tcp_state to)
{
    return (unsigned)from < TCP_NSTATES && (unsigned)to < TCP_NSTATES && edges_seen[from][to];
}

static void note_edge(const struct tev *ev)
{
    if (ev->kind == TEV_STATE && (unsigned)ev->u.state.from < TCP_NSTATES &&
        (unsigned)ev->u.state.to < TCP_NSTATES)
        edges_seen[ev->u.state.from][ev->u.state.to] = true;
}

/* ---- capture ------------------------------------------------------------- */

static void tt_on_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct tt *t = ctx;
    if (t->out_len == t->out_cap) {
        t->out_cap = t->out_cap ? 2 * t->out_cap : 64;
        t->out = xrealloc(t->out, t->out_cap * sizeof *t->out);
    }
    struct tt_pkt *p = &t->out[t->out_len++];
    memset(p, 0, sizeof *p);
    p->raw = xrealloc(NULL, len ? len : 1);
    memcpy(p->raw, pkt, len);
    p->len = len;
    p->t_us = t->now;
    p->ip_err = wire_ipv4_parse(p->raw, len, &p->ip);
    p->tcp_err = p->ip_err == WIRE_OK ? wire_tcp_parse(&p->ip, &p->tcp) : p->ip_err;
}

/* Segmentation offload (cfg.out_seg_max): finish the partial checksum as
 * the device would, then capture the packet like any other. */
static void tt_on_output_gso(void *ctx, const uint8_t *pkt, size_t len, uint16_t mss)
{
    struct tt *t = ctx;
    uint8_t *copy = xrealloc(NULL, len);
    memcpy(copy, pkt, len);
    size_t ihl = (size_t)(copy[0] & 15) * 4;
    uint16_t c = wire_sum_fold(wire_sum(copy + ihl, len - ihl, 0));
    copy[ihl + 16] = (uint8_t)(c >> 8);
    copy[ihl + 17] = (uint8_t)c;
    tt_on_output(t, copy, len);
    free(copy);
    t->out[t->out_len - 1].gso_mss = mss;
}

static void tt_on_event(void *ctx, const struct tev *ev)
{
    struct tt *t = ctx;
    note_edge(ev);
    if (t->ev_len == t->ev_cap) {
        t->ev_cap = t->ev_cap ? 2 * t->ev_cap : 256;
        t->ev = xrealloc(t->ev, t->ev_cap * sizeof *t->ev);
    }
    t->ev[t->ev_len++] = tev_clone(ev);
}

/* ---- the harness -------------------------------------------------------- */

void tt_config(struct stack_config *cfg)
{
    stack_config_defaults(cfg);
    cfg->name = "stack";
    cfg->addr = TT_STACK_ADDR;
    cfg->delayed_ack = false;
}

struct tt *tt_new(const struct stack_config *cfg)
{
    struct tt *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    if (cfg)
        t->cfg = *cfg;
    else
        tt_config(&t->cfg);
    t->cfg.output = tt_on_output;
    t->cfg.output_ctx = t;
    if (t->cfg.out_seg_max)
        t->cfg.output_gso = tt_on_output_gso;
    t->cfg.on_event = tt_on_event;
    t->cfg.event_ctx = t;
    t->now = 1 * TT_SEC;
    t->sd = -1;
    t->lsd = -1;
    t->peer_isn = TT_PEER_ISN;
    t->peer_win = TT_PEER_WIN;
    t->ip_id = 1;
    t->s = stack_new(&t->cfg);
    if (!t->s)
        tt_fail_at(__FILE__, __LINE__, "stack_new() failed");
    return t;
}

void tt_free(struct tt *t)
{
    if (!t)
        return;
    stack_free(t->s);
    for (size_t i = 0; i < t->out_len; i++)
        free(t->out[i].raw);
    free(t->out);
    for (size_t i = 0; i < t->ev_len; i++)
        tev_free(t->ev[i]);
    free(t->ev);
    free(t);
}

/* ---- the scripted peer -------------------------------------------------- */

size_t tt_build(struct tt *t, const struct tt_seg *seg, uint8_t *buf, size_t cap)
{
    struct wire_tcp h;
    memset(&h, 0, sizeof h);
    h.sport = seg->sport ? seg->sport : t->pport;
    h.dport = seg->dport ? seg->dport : t->sport;
    h.seq = seg->absolute ? seg->seq : t->peer_isn + seg->seq;
    h.ack = seg->absolute ? seg->ack : t->iss + seg->ack;
    if (!(seg->flags & TCP_ACK) && !seg->absolute)
        h.ack = 0;
    h.flags = seg->flags;
    h.win = seg->win0 ? 0 : seg->win ? seg->win : t->peer_win;
    h.opts = seg->opts;
    return wire_tcp_build(buf, cap, TT_PEER_ADDR, TT_STACK_ADDR, t->ip_id++, &h, seg->data,
                          seg->len);
}

void tt_input_raw(struct tt *t, const uint8_t *pkt, size_t len)
{
    stack_input(t->s, t->now, pkt, len);
}

void tt_in_seg(struct tt *t, const struct tt_seg *seg)
{
    uint8_t buf[65600];
    size_t n = tt_build(t, seg, buf, sizeof buf);
    if (n == 0)
        tt_fail_at(__FILE__, __LINE__, "wire_tcp_build() could not build the peer's segment");
    tt_input_raw(t, buf, n);
}

void tt_in(struct tt *t, uint8_t flags, uint32_t rseq, uint32_t rack, const char *data)
{
    struct tt_seg seg = {.flags = flags, .seq = rseq, .ack = rack};
    if (data) {
        seg.data = data;
        seg.len = strlen(data);
    }
    tt_in_seg(t, &seg);
}

void tt_in_data(struct tt *t, uint32_t rseq, uint32_t rack, const void *data, size_t len)
{
    uint8_t *tmp = NULL;
    if (!data) {
        tmp = xrealloc(NULL, len ? len : 1);
        for (size_t i = 0; i < len; i++)
            tmp[i] = tt_pattern(rseq - 1 + i);
        data = tmp;
    }
    struct tt_seg seg = {
        .flags = TCP_ACK | TCP_PSH, .seq = rseq, .ack = rack, .data = data, .len = len};
    tt_in_seg(t, &seg);
    free(tmp);
}

void tt_in_win(struct tt *t, uint8_t flags, uint32_t rseq, uint32_t rack, uint16_t win)
{
    struct tt_seg seg = {.flags = flags, .seq = rseq, .ack = rack, .win = win, .win0 = win == 0};
    tt_in_seg(t, &seg);
}

/* ---- what the stack sent ------------------------------------------------ */

size_t tt_pending(const struct tt *t)
{
    return t->out_len - t->out_head;
}

const struct tt_pkt *tt_next(struct tt *t)
{
    if (t->out_head == t->out_len)
        return NULL;
    struct tt_pkt *p = &t->out[t->out_head++];
    if (p->tcp_err == WIRE_OK) {
        p->rseq = p->tcp.seq - t->iss;
        p->rack = p->tcp.ack - t->peer_isn;
    }
    return p;
}

void tt_drain(struct tt *t)
{
    t->out_head = t->out_len;
}

static void describe_pkt(const struct tt *t, const struct tt_pkt *p, char *buf, size_t cap)
{
    char fl[10];
    if (p->tcp_err != WIRE_OK) {
        snprintf(buf, cap, "a packet that does not parse as TCP (%s)", wire_err_name(p->tcp_err));
        return;
    }
    snprintf(buf, cap, "%s seq=%u ack=%u len=%zu win=%u (%u->%u) at t=%.6fs",
             wire_flags_str(p->tcp.flags, fl), p->tcp.seq - t->iss, p->tcp.ack - t->peer_isn,
             p->tcp.payload_len, p->tcp.win, p->tcp.sport, p->tcp.dport, p->t_us / 1e6);
}

const struct tt_pkt *tt_expect_(struct tt *t, const char *file, int line, uint8_t flags,
                                uint32_t rseq, uint32_t rack, size_t len)
{
    char fl[10], got[200];
    wire_flags_str(flags, fl);
    const struct tt_pkt *p = tt_next(t);
    if (!p)
        tt_fail_at(file, line,
                   "expected the stack to send %s seq=%u ack=%u len=%zu, it sent nothing", fl, rseq,
                   rack, len);
    describe_pkt(t, p, got, sizeof got);
    if (p->tcp_err != WIRE_OK)
        tt_fail_at(file, line, "expected %s seq=%u ack=%u len=%zu, got %s", fl, rseq, rack, len,
                   got);
    uint8_t mask = (flags & TCP_PSH) ? 0xff : (uint8_t)~TCP_PSH;
    bool ok = (p->tcp.flags & mask) == (flags & mask) && p->rseq == rseq &&
              p->tcp.payload_len == len && (!(flags & TCP_ACK) || p->rack == rack);
    if (!ok)
        tt_fail_at(file, line, "expected %s seq=%u ack=%u len=%zu, got %s", fl, rseq, rack, len,
                   got);
    if (p->ip.dst != TT_PEER_ADDR || p->ip.src != TT_STACK_ADDR || p->tcp.dport != t->pport ||
        p->tcp.sport != t->sport)
        tt_fail_at(file, line, "segment %s is not addressed to the peer's connection %u->%u", got,
                   t->sport, t->pport);
    return p;
}

const struct tt_pkt *tt_expect_rst_(struct tt *t, const char *file, int line, uint32_t rseq)
{
    char got[200];
    const struct tt_pkt *p = tt_next(t);
    if (!p)
        tt_fail_at(file, line, "expected the stack to send RST seq=%u, it sent nothing", rseq);
    describe_pkt(t, p, got, sizeof got);
    if (p->tcp_err != WIRE_OK || !(p->tcp.flags & TCP_RST) ||
        (p->tcp.flags & (TCP_SYN | TCP_FIN)) || p->rseq != rseq || p->tcp.payload_len != 0)
        tt_fail_at(file, line, "expected RST seq=%u, got %s", rseq, got);
    return p;
}

void tt_expect_nothing_(struct tt *t, const char *file, int line)
{
    const struct tt_pkt *p = tt_next(t);
    if (p) {
        char got[200];
        describe_pkt(t, p, got, sizeof got);
        tt_fail_at(file, line, "expected the stack to send nothing, it sent %s", got);
    }
}

/* ---- time ---------------------------------------------------------------- */

#define TT_MAX_TICKS 1000000

void tt_advance(struct tt *t, uint64_t us)
{
    uint64_t target = t->now + us;
    for (int guard = 0;; guard++) {
        uint64_t d = stack_next_deadline(t->s);
        if (d == TCP_TIME_NEVER || d > target)
            break;
        if (guard > TT_MAX_TICKS)
            tt_fail_at(
                __FILE__, __LINE__,
                "stack_next_deadline() stays at %llu after stack_tick(): a timer never clears",
                (unsigned long long)d);
        if (d > t->now)
            t->now = d;
        stack_tick(t->s, t->now);
    }
    t->now = target;
}

uint64_t tt_fire_next(struct tt *t)
{
    uint64_t d = stack_next_deadline(t->s);
    if (d == TCP_TIME_NEVER)
        return TCP_TIME_NEVER;
    uint64_t start = t->now;
    if (d > t->now)
        t->now = d;
    stack_tick(t->s, t->now);
    return t->now - start;
}

uint64_t tt_wait_output(struct tt *t, uint64_t max_us)
{
    uint64_t start = t->now;
    for (int guard = 0; tt_pending(t) == 0; guard++) {
        uint64_t d = stack_next_deadline(t->s);
        if (d == TCP_TIME_NEVER || d > start + max_us || guard > TT_MAX_TICKS)
            return TCP_TIME_NEVER;
        tt_fire_next(t);
    }
    return t->now - start;
}

/* ---- state ---------------------------------------------------------------- */

struct find_ctx {
    const struct tt *t;
    bool found;
    struct tcp_status st;
};

static void find_visit(void *ctx, int sd, const struct tcp_status *st)
{
    struct find_ctx *f = ctx;
    (void)sd;
    if (st->tuple.lport != f->t->sport || st->tuple.rport != f->t->pport ||
        st->tuple.raddr != TT_PEER_ADDR)
        return;
    /* Prefer a live connection over a CLOSED leftover with the same tuple. */
    if (!f->found || (f->st.state == TCP_CLOSED && st->state != TCP_CLOSED)) {
        f->st = *st;
        f->found = true;
    }
}

bool tt_find_conn(const struct tt *t, struct tcp_status *out)
{
    struct find_ctx f = {.t = t};
    stack_foreach_conn(t->s, find_visit, &f);
    if (f.found && out)
        *out = f.st;
    return f.found;
}

enum tcp_state tt_state(const struct tt *t)
{
    struct tcp_status st;
    return tt_find_conn(t, &st) ? st.state : TCP_CLOSED;
}

struct stack_stats tt_stats(const struct tt *t)
{
    struct stack_stats ss;
    stack_get_stats(t->s, &ss);
    return ss;
}

struct tcp_status tt_status(const struct tt *t)
{
    struct tcp_status st;
    memset(&st, 0, sizeof st);
    int rc = tcp_status(t->s, t->sd, &st);
    if (rc != 0)
        tt_fail_at(__FILE__, __LINE__, "tcp_status(sd %d) = %d", t->sd, rc);
    return st;
}

void tt_assert_state_(const struct tt *t, const char *file, int line, enum tcp_state want)
{
    enum tcp_state got = tt_state(t);
    if (got != want)
        tt_fail_at(file, line, "expected the connection in %s, it is in %s%s", tcp_state_name(want),
                   tcp_state_name(got), tt_find_conn(t, NULL) ? "" : " (no connection block)");
    if (t->sd >= 0) {
        struct tcp_status st;
        int rc = tcp_status(t->s, t->sd, &st);
        if (rc != 0)
            tt_fail_at(file, line, "tcp_status(sd %d) = %d, expected the state %s", t->sd, rc,
                       tcp_state_name(want));
        if (st.state != want)
            tt_fail_at(file, line, "tcp_status(sd %d).state is %s, expected %s", t->sd,
                       tcp_state_name(st.state), tcp_state_name(want));
    }
}

const struct tev *tt_expect_state_event_(struct tt *t, const char *file, int line,
                                         enum tcp_state from, enum tcp_state to,
                                         const char *cause_has)
{
    for (size_t i = t->ev_mark; i < t->ev_len; i++) {
        const struct tev *ev = t->ev[i];
        if (ev->kind != TEV_STATE || ev->u.state.from != from || ev->u.state.to != to)
            continue;
        if (cause_has && (!ev->u.state.cause || !strstr(ev->u.state.cause, cause_has)))
            tt_fail_at(file, line,
                       "state event %s -> %s has cause \"%s\", expected it to mention \"%s\"",
                       tcp_state_name(from), tcp_state_name(to),
                       ev->u.state.cause ? ev->u.state.cause : "(null)", cause_has);
        t->ev_mark = i + 1;
        return ev;
    }
    char seen[1024] = "";
    size_t n = 0;
    for (size_t i = t->ev_mark; i < t->ev_len && n < sizeof seen - 64; i++)
        if (t->ev[i]->kind == TEV_STATE)
            n += (size_t)snprintf(seen + n, sizeof seen - n, " %s->%s",
                                  tcp_state_name(t->ev[i]->u.state.from),
                                  tcp_state_name(t->ev[i]->u.state.to));
    tt_fail_at(file, line, "expected a state event %s -> %s; state events since the last check:%s",
               tcp_state_name(from), tcp_state_name(to), n ? seen : " none");
}

size_t tt_count_events(const struct tt *t, enum tev_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ev_len; i++)
        n += t->ev[i]->kind == kind;
    return n;
}

const struct tev *tt_last_event(const struct tt *t, enum tev_kind kind)
{
    for (size_t i = t->ev_len; i-- > 0;)
        if (t->ev[i]->kind == kind)
            return t->ev[i];
    return NULL;
}

int tt_last_drop_reason(const struct tt *t, size_t from)
{
    for (size_t i = t->ev_len; i > from; i--)
        if (t->ev[i - 1]->kind == TEV_DROP)
            return t->ev[i - 1]->u.drop.reason;
    return 0;
}

size_t tt_count_drops(const struct tt *t, int reason)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ev_len; i++)
        n += t->ev[i]->kind == TEV_DROP && t->ev[i]->u.drop.reason == reason;
    return n;
}

/* ---- builders -------------------------------------------------------------- */

static void check_call(const char *what, long rc, long want)
{
    if (rc != want)
        tt_fail_at(__FILE__, __LINE__, "%s returned %ld, expected %ld", what, rc, want);
}

const struct tt_pkt *tt_do_connect(struct tt *t)
{
    t->sd = tcp_socket(t->s, t->now);
    if (t->sd < 0)
        tt_fail_at(__FILE__, __LINE__, "tcp_socket() = %d", t->sd);
    return tt_connect_sd(t);
}

const struct tt_pkt *tt_connect_sd(struct tt *t)
{
    check_call("tcp_connect()", tcp_connect(t->s, t->now, t->sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
    const struct tt_pkt *p = tt_next(t);
    if (!p || p->tcp_err != WIRE_OK || p->tcp.flags != TCP_SYN)
        tt_fail_at(__FILE__, __LINE__, "connect() did not send a SYN first");
    t->iss = p->tcp.seq;
    t->iss_known = true;
    t->sport = p->tcp.sport;
    t->pport = TT_SERVER_PORT;
    if (p->tcp.dport != TT_SERVER_PORT || p->ip.dst != TT_PEER_ADDR)
        tt_fail_at(__FILE__, __LINE__, "the SYN is not addressed to 10.7.0.1:80");
    return p;
}

void tt_do_listen(struct tt *t, int backlog)
{
    t->lsd = tcp_socket(t->s, t->now);
    if (t->lsd < 0)
        tt_fail_at(__FILE__, __LINE__, "tcp_socket() = %d", t->lsd);
    check_call("tcp_bind()", tcp_bind(t->s, t->now, t->lsd, TT_SERVER_PORT), 0);
    check_call("tcp_listen()", tcp_listen(t->s, t->now, t->lsd, backlog), 0);
    t->sport = TT_SERVER_PORT;
    t->pport = TT_PEER_CLIENT_PORT;
}

void tt_do_peer_syn(struct tt *t)
{
    struct tt_seg syn = {.flags = TCP_SYN, .seq = 0, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &syn);
    const struct tt_pkt *p = tt_next(t);
    if (!p || p->tcp_err != WIRE_OK || p->tcp.flags != (TCP_SYN | TCP_ACK))
        tt_fail_at(__FILE__, __LINE__, "the listener did not answer the SYN with SYN,ACK");
    t->iss = p->tcp.seq;
    t->iss_known = true;
    if (p->tcp.ack != t->peer_isn + 1)
        tt_fail_at(__FILE__, __LINE__, "the SYN,ACK acknowledges %u, expected the peer's ISN+1",
                   p->tcp.ack - t->peer_isn);
}

struct tt *tt_listener(const struct stack_config *cfg)
{
    struct tt *t = tt_new(cfg);
    tt_do_listen(t, 8);
    return t;
}

struct tt *tt_syn_sent(const struct stack_config *cfg)
{
    struct tt *t = tt_new(cfg);
    tt_do_connect(t);
    tt_assert_state(t, TCP_SYN_SENT);
    return t;
}

struct tt *tt_syn_received(const struct stack_config *cfg)
{
    struct tt *t = tt_listener(cfg);
    tt_do_peer_syn(t);
    tt_assert_state(t, TCP_SYN_RECEIVED);
    return t;
}

struct tt *tt_established(const struct stack_config *cfg)
{
    struct tt *t = tt_syn_sent(cfg);
    struct tt_seg synack = {
        .flags = TCP_SYN | TCP_ACK, .seq = 0, .ack = 1, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    return t;
}

struct tt *tt_established_passive(const struct stack_config *cfg)
{
    struct tt *t = tt_syn_received(cfg);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    t->sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    if (t->sd < 0)
        tt_fail_at(__FILE__, __LINE__, "tcp_accept() = %d after the handshake", t->sd);
    tt_assert_state(t, TCP_ESTABLISHED);
    return t;
}

struct tt *tt_fin_wait_1(const struct stack_config *cfg)
{
    struct tt *t = tt_established(cfg);
    check_call("tcp_close()", tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_FIN_WAIT_1);
    return t;
}

struct tt *tt_fin_wait_2(const struct stack_config *cfg)
{
    struct tt *t = tt_fin_wait_1(cfg);
    tt_in(t, TCP_ACK, 1, 2, NULL);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_FIN_WAIT_2);
    return t;
}

struct tt *tt_time_wait(const struct stack_config *cfg)
{
    struct tt *t = tt_fin_wait_2(cfg);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 2, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_assert_state(t, TCP_TIME_WAIT);
    return t;
}

struct tt *tt_closing(const struct stack_config *cfg)
{
    struct tt *t = tt_fin_wait_1(cfg);
    /* The peer's FIN crosses ours: it does not acknowledge our FIN yet. */
    tt_in(t, TCP_FIN | TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 2, 2, 0);
    tt_assert_state(t, TCP_CLOSING);
    return t;
}

struct tt *tt_close_wait(const struct stack_config *cfg)
{
    struct tt *t = tt_established(cfg);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 1, NULL);
    tt_expect(t, TCP_ACK, 1, 2, 0);
    tt_assert_state(t, TCP_CLOSE_WAIT);
    return t;
}

struct tt *tt_last_ack(const struct stack_config *cfg)
{
    struct tt *t = tt_close_wait(cfg);
    check_call("tcp_close()", tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 2, 0);
    tt_assert_state(t, TCP_LAST_ACK);
    return t;
}

/* ---- two stacks on the virtual link -------------------------------------- */

static void pair_on_event(void *ctx, const struct tev *ev)
{
    struct tt_pair *p = ctx;
    note_edge(ev);
    if (!p->record)
        return;
    if (p->ev_len == p->ev_cap) {
        p->ev_cap = p->ev_cap ? 2 * p->ev_cap : 256;
        p->ev = xrealloc(p->ev, p->ev_cap * sizeof *p->ev);
    }
    p->ev[p->ev_len++] = tev_clone(ev);
}

struct tt_pair *tt_pair_new(const struct stack_config *ccfg, const struct stack_config *scfg,
                            uint64_t seed)
{
    struct tt_pair *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->record = true;
    p->csd = p->lsd = p->ssd = -1;
    struct vlink_config lc;
    vlink_config_defaults(&lc);
    lc.seed = seed;
    lc.on_event = pair_on_event;
    lc.event_ctx = p;
    p->l = vlink_new(&lc);
    if (!p->l)
        tt_fail_at(__FILE__, __LINE__, "vlink_new() failed");

    struct stack_config c, s;
    if (ccfg) {
        c = *ccfg;
    } else {
        stack_config_defaults(&c);
        c.name = "client";
        c.addr = TT_STACK_ADDR;
    }
    if (scfg) {
        s = *scfg;
    } else {
        stack_config_defaults(&s);
        s.name = "server";
        s.addr = TT_PEER_ADDR;
        s.isn_key[0] = 1; /* a different ISN space from the client's */
    }
    p->client = vlink_add_host(p->l, &c);
    p->server = vlink_add_host(p->l, &s);
    if (p->client < 0 || p->server < 0)
        tt_fail_at(__FILE__, __LINE__, "vlink_add_host() failed");
    p->c = vlink_stack(p->l, p->client);
    p->s = vlink_stack(p->l, p->server);
    return p;
}

void tt_pair_free(struct tt_pair *p)
{
    if (!p)
        return;
    vlink_free(p->l);
    for (size_t i = 0; i < p->ev_len; i++)
        tev_free(p->ev[i]);
    free(p->ev);
    free(p);
}

uint64_t tt_pair_now(const struct tt_pair *p)
{
    return vlink_now(p->l);
}

void tt_pair_run(struct tt_pair *p, uint64_t us)
{
    vlink_run_until(p->l, vlink_now(p->l) + us);
}

enum tcp_state tt_pair_state(const struct tt_pair *p, struct stack *s, int sd)
{
    struct tcp_status st;
    if (sd < 0 || tcp_status(s, sd, &st) != 0)
        return TCP_CLOSED;
    return st.state;
}

bool tt_pair_connect(struct tt_pair *p, uint64_t max_us)
{
    uint64_t now = vlink_now(p->l);
    const struct stack_config *scfg = stack_config(p->s);
    p->lsd = tcp_socket(p->s, now);
    if (p->lsd < 0 || tcp_bind(p->s, now, p->lsd, TT_SERVER_PORT) != 0 ||
        tcp_listen(p->s, now, p->lsd, 16) != 0)
        return false;
    p->csd = tcp_socket(p->c, now);
    if (p->csd < 0 || tcp_connect(p->c, now, p->csd, scfg->addr, TT_SERVER_PORT) != 0)
        return false;
    uint64_t limit = now + max_us;
    for (unsigned long steps = 0; steps < 1000000; steps++) {
        if (p->ssd < 0) {
            int sd = tcp_accept(p->s, vlink_now(p->l), p->lsd, NULL);
            if (sd >= 0)
                p->ssd = sd;
        }
        if (p->ssd >= 0 && tt_pair_state(p, p->c, p->csd) == TCP_ESTABLISHED)
            return true;
        if (!vlink_step(p->l, limit))
            return false;
    }
    return false;
}

size_t tt_pair_count_state(const struct tt_pair *p, const char *host, enum tcp_state from,
                           enum tcp_state to)
{
    size_t n = 0;
    for (size_t i = 0; i < p->ev_len; i++) {
        const struct tev *ev = p->ev[i];
        if (ev->kind == TEV_STATE && ev->u.state.from == from && ev->u.state.to == to &&
            (!host || (ev->host && !strcmp(ev->host, host))))
            n++;
    }
    return n;
}
