/*
 * scn_tun.c — the scenario runner's real network (`tcplab replay --tun`):
 * the scenario's one `stack` host is a tcplab stack on a TUN device at
 * 10.7.0.2, and every `peer` host is a set of the kernel's own sockets
 * (tun/kpeer.h) at 10.7.0.1, in real time.
 *
 * This is the --tun half of the scenario data flow (docs/architecture.md).
 * It implements both of the runner's interfaces (scn_rt.h): the network,
 * struct scn_net, and the kernel-peer host, struct scn_host_ops (the stack
 * host is scn_host_stack.c's); what it sees goes to scn_run_record.c. It has its
 * own small loop rather than tun/tun_loop.h because the scenario's network
 * statements must act on every packet between the device and the stack:
 * each packet is recorded for the expectations first (it was sent), then
 * passed through the impairments (drop, loss, delay, duplicate, reorder,
 * cut), in both directions, exactly as the virtual link does in memory.
 * The kernel's view of its sockets comes from the sock:inet_sock_set_state
 * tracepoint where tracefs can be had (tun/ktrace.h: every change, as it
 * happens) and from sock_diag (tun/kdiag.h), polled while the scenario
 * runs, for what the tracepoint does not tell (TIME_WAIT, sockets gone) or
 * for everything when there is no tracing; both as TEV_KERNEL events, the
 * sampled ones reconciled with the traced ones (kernel_told()).
 *
 * Everything here must run inside a private network namespace (the tests
 * use `unshare --net`); without the rights the device cannot be created and
 * the run stops with the TUN module's message.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kdiag.h"
#include "ktrace.h"
#include "tun_dev.h"
#include "scn_rt.h"

#define TN_MAX_RULES         16
#define TN_KDIAG_INTERVAL_US 20000
#define TN_KERNEL_POLL_US    5000 /* how often blocked kernel calls are looked at */
#define TN_MAX_PKT           65536
#define TN_MAX_TOLD          256 /* kernel sockets whose last state told is kept */

struct tn_rule {
    struct scn_netmatch m;
    unsigned count;
    uint64_t hold_us;
    unsigned by; /* reorder: packets that overtake it */
};

struct tn_dirrule {
    int from, to; /* -1 = any */
    double p;
    uint64_t delay_us;
};

/* A packet held back (delay, reorder), to be delivered at `due`. */
struct tn_held {
    struct tn_held *next;
    uint64_t due;
    bool to_stack;
    int from, to;
    bool reorder;  /* released early when packets of its direction pass it... */
    unsigned left; /* ... this many more */
    size_t len;
    uint8_t data[];
};

struct tn {
    struct scn_rt *rt;
    struct tun_dev *dev;
    struct kdiag *kd;
    struct ktrace *kt; /* NULL: no tracepoint, sock_diag samples alone */
    struct {
        struct tcp_tuple t;
        enum tcp_state state;
    } told[TN_MAX_TOLD]; /* the kernel state last reported, per socket */
    unsigned ntold;
    int stack_host;
    uint64_t start; /* CLOCK_MONOTONIC us at creation */
    uint64_t next_kdiag;
    uint64_t prng;
    bool cut;
    struct tn_rule drops[TN_MAX_RULES], dups[TN_MAX_RULES], reorders[TN_MAX_RULES];
    unsigned ndrops, ndups, nreorders;
    struct tn_dirrule loss[TN_MAX_RULES], delay[TN_MAX_RULES];
    unsigned nloss, ndelay;
    struct tn_held *held;
    bool to_kernel; /* a packet went to the kernel since the last look */
    uint8_t buf[TN_MAX_PKT];
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t tn_clock(void *ctx)
{
    struct tn *t = ctx;
    return mono_us() - t->start;
}

static uint64_t t_now(struct scn_rt *rt)
{
    return tn_clock(rt->netctx);
}

static double prng_unit(struct tn *t)
{
    /* xorshift64*: the loss pattern follows the seed, though real timing
     * still decides which packet meets which draw. */
    t->prng ^= t->prng >> 12;
    t->prng ^= t->prng << 25;
    t->prng ^= t->prng >> 27;
    return (double)((t->prng * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

/* ---- packets and the impairment rules ------------------------------------------ */

struct tn_pkt {
    int from, to;
    uint8_t flags;
    bool data;
};

/* Who sends a packet to whom, and what rules may match on. True for TCP
 * and UDP (a rule without flags or `data` matches a datagram too). */
static bool peek(struct tn *t, const uint8_t *pkt, size_t len, bool to_stack, struct tn_pkt *out)
{
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    struct wire_udp udp;
    memset(out, 0, sizeof *out);
    out->from = out->to = -1;
    if (wire_ipv4_parse(pkt, len, &ip) != WIRE_OK)
        return false;
    bool is_tcp = ip.proto == WIRE_PROTO_TCP && wire_tcp_parse(&ip, &tcp) == WIRE_OK;
    bool is_udp = !is_tcp && ip.proto == WIRE_PROTO_UDP && wire_udp_parse(&ip, &udp) == WIRE_OK;
    uint16_t kport = is_tcp   ? (to_stack ? tcp.sport : tcp.dport)
                     : is_udp ? (to_stack ? udp.sport : udp.dport)
                              : 0;
    int peer = scn_rt_host_of(t->rt, 0x0A070001, kport, true);
    out->from = to_stack ? peer : t->stack_host;
    out->to = to_stack ? t->stack_host : peer;
    if (is_tcp) {
        out->flags = tcp.flags;
        out->data = tcp.payload_len > 0;
    }
    return is_tcp || is_udp;
}

static bool host_ok(int rule, int host)
{
    return rule < 0 || rule == host;
}

static bool matches(const struct scn_netmatch *m, const struct tn_pkt *p)
{
    return host_ok(m->from, p->from) && host_ok(m->to, p->to) &&
           (m->any_flags || p->flags == m->flags) && (!m->data || p->data);
}

static struct tn_rule *take_rule(struct tn_rule *rules, unsigned *n, const struct tn_pkt *p)
{
    for (unsigned i = 0; i < *n; i++) {
        if (!matches(&rules[i].m, p))
            continue;
        static struct tn_rule taken;
        taken = rules[i];
        if (--rules[i].count == 0) {
            memmove(&rules[i], &rules[i + 1], (*n - i - 1) * sizeof rules[0]);
            (*n)--;
        }
        return &taken;
    }
    return NULL;
}

static void emit_link(struct tn *t, enum tev_link_action a, const struct tn_pkt *p,
                      const uint8_t *pkt, size_t len, uint64_t until)
{
    struct scn_rt *rt = t->rt;
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_LINK;
    ev.t_us = t_now(rt);
    ev.host = "link";
    ev.sd = -1;
    ev.u.link.action = a;
    ev.u.link.from = p && p->from >= 0 ? rt->hosts[p->from].name : "?";
    ev.u.link.to = p && p->to >= 0 ? rt->hosts[p->to].name : "?";
    ev.u.link.raw = pkt;
    ev.u.link.raw_len = len;
    ev.u.link.until_us = until;
    if (a == TEV_LINK_CABLE) {
        ev.u.link.from = ev.u.link.to = "";
        ev.u.link.arg = t->cut ? 0 : 1;
    }
    scn_rt_event(rt, &ev);
}

static void hold(struct tn *t, bool to_stack, const struct tn_pkt *p, const uint8_t *pkt,
                 size_t len, uint64_t due, unsigned reorder_by);

/* Hand a packet over. One going to the stack is not given to it at once but
 * at the next step, so the runner sees the kernel's segment (and the kernel's
 * state that sent it) before the stack has answered it — as on the virtual
 * link, where every packet spends a little time on the wire. */
static void deliver(struct tn *t, bool to_stack, const struct tn_pkt *p, const uint8_t *pkt,
                    size_t len, bool now)
{
    if (to_stack && !now)
        hold(t, true, p, pkt, len, t_now(t->rt), 0);
    else if (to_stack)
        stack_input(t->rt->hosts[t->stack_host].stack, t_now(t->rt), pkt, len);
    else if (tun_dev_write(t->dev, pkt, len) == 0) /* a full queue loses it, as a wire would */
        t->to_kernel = true;
}

/* reorder_by: a reordered packet, released early once that many packets of
 * its direction have passed it; 0 for one merely delayed. */
static void hold(struct tn *t, bool to_stack, const struct tn_pkt *p, const uint8_t *pkt,
                 size_t len, uint64_t due, unsigned reorder_by)
{
    struct tn_held *h = malloc(sizeof *h + len);
    if (!h)
        return;
    h->due = due;
    h->to_stack = to_stack;
    h->from = p->from;
    h->to = p->to;
    h->reorder = reorder_by > 0;
    h->left = reorder_by;
    h->len = len;
    memcpy(h->data, pkt, len);
    /* Sorted by due time, stable: order within a direction is kept. */
    struct tn_held **pp = &t->held;
    while (*pp && (*pp)->due <= due)
        pp = &(*pp)->next;
    h->next = *pp;
    *pp = h;
}

/* Deliver the held packets that are due; with `now` NEVER, nothing is. */
static bool release_due(struct tn *t, uint64_t now)
{
    bool did = false;
    while (t->held && t->held->due <= now) {
        struct tn_held *h = t->held;
        t->held = h->next;
        struct tn_pkt p = {.from = h->from, .to = h->to};
        deliver(t, h->to_stack, &p, h->data, h->len, true);
        free(h);
        did = true;
    }
    return did;
}

/* A packet passed on its direction: a packet held for reordering there is
 * released right after it if it was the last that was to overtake it. */
static void release_reordered(struct tn *t, const struct tn_pkt *p)
{
    for (struct tn_held **pp = &t->held; *pp;) {
        struct tn_held *h = *pp;
        if (h->reorder && h->from == p->from && h->to == p->to) {
            if (--h->left > 0)
                return;
            *pp = h->next;
            deliver(t, h->to_stack, p, h->data, h->len, false);
            free(h);
            return;
        }
        pp = &h->next;
    }
}

static uint64_t dir_delay(const struct tn *t, const struct tn_pkt *p)
{
    uint64_t d = 0;
    for (unsigned i = 0; i < t->ndelay; i++)
        if (host_ok(t->delay[i].from, p->from) && host_ok(t->delay[i].to, p->to))
            d += t->delay[i].delay_us;
    return d;
}

static bool random_loss(struct tn *t, const struct tn_pkt *p)
{
    for (unsigned i = 0; i < t->nloss; i++)
        if (host_ok(t->loss[i].from, p->from) && host_ok(t->loss[i].to, p->to))
            return prng_unit(t) < t->loss[i].p;
    return false;
}

/* One packet between the device and the stack, through the impairments. */
static void pass(struct tn *t, bool to_stack, const uint8_t *pkt, size_t len)
{
    struct tn_pkt p;
    bool tcp = peek(t, pkt, len, to_stack, &p);
    if (t->cut) {
        emit_link(t, TEV_LINK_CUT, &p, pkt, len, 0);
        return;
    }
    if (tcp && (take_rule(t->drops, &t->ndrops, &p) || random_loss(t, &p))) {
        emit_link(t, TEV_LINK_LOST, &p, pkt, len, 0);
        return;
    }
    uint64_t now = t_now(t->rt);
    uint64_t delay = tcp ? dir_delay(t, &p) : 0;
    bool dup = tcp && take_rule(t->dups, &t->ndups, &p);
    struct tn_rule *r = tcp ? take_rule(t->reorders, &t->nreorders, &p) : NULL;
    if (r) {
        uint64_t until = now + delay + (r->hold_us ? r->hold_us : 1000000);
        emit_link(t, TEV_LINK_REORDERED, &p, pkt, len, until);
        hold(t, to_stack, &p, pkt, len, until, r->by ? r->by : 1);
    } else if (delay) {
        emit_link(t, TEV_LINK_DELAYED, &p, pkt, len, now + delay);
        hold(t, to_stack, &p, pkt, len, now + delay, 0);
    } else {
        deliver(t, to_stack, &p, pkt, len, false);
        if (tcp)
            release_reordered(t, &p);
    }
    if (dup) {
        emit_link(t, TEV_LINK_DUPLICATED, &p, pkt, len, now + delay);
        if (delay)
            hold(t, to_stack, &p, pkt, len, now + delay, 0);
        else
            deliver(t, to_stack, &p, pkt, len, false);
    }
}

/* The stack's output: recorded by its TEV_SEGMENT event already. */
static void stack_output(void *ctx, const uint8_t *pkt, size_t len)
{
    pass(ctx, false, pkt, len);
}

/* ---- the kernel-peer host (struct scn_host_ops) -------------------------------- */

/* A `peer` host is a set of the kernel's own sockets behind tun/kpeer.h;
 * kpeer keeps real time itself, so no call needs the runner's clock. */
static struct kpeer *kp(struct scn_rt *rt, int h)
{
    return rt->hosts[h].kp;
}

static int k_socket(struct scn_rt *rt, int h)
{
    return kpeer_socket(kp(rt, h));
}

static int k_bind(struct scn_rt *rt, int h, int sd, uint16_t port)
{
    return kpeer_bind(kp(rt, h), sd, 0, port);
}

static int k_listen(struct scn_rt *rt, int h, int sd, int backlog)
{
    return kpeer_listen(kp(rt, h), sd, backlog);
}

static int k_accept(struct scn_rt *rt, int h, int sd, struct tcp_tuple *t)
{
    return kpeer_accept(kp(rt, h), sd, t);
}

static int k_connect(struct scn_rt *rt, int h, int sd, uint32_t addr, uint16_t port)
{
    return kpeer_connect(kp(rt, h), sd, addr, port);
}

static long k_send(struct scn_rt *rt, int h, int sd, const uint8_t *b, size_t n)
{
    return kpeer_send(kp(rt, h), sd, b, n);
}

static long k_recv(struct scn_rt *rt, int h, int sd, uint8_t *b, size_t n)
{
    return kpeer_recv(kp(rt, h), sd, b, n);
}

static int k_shutdown(struct scn_rt *rt, int h, int sd, int how)
{
    return kpeer_shutdown(kp(rt, h), sd, (enum tcp_shut)how);
}

static int k_close(struct scn_rt *rt, int h, int sd, bool abort)
{
    return abort ? kpeer_abort(kp(rt, h), sd) : kpeer_close(kp(rt, h), sd);
}

static int k_setsockopt(struct scn_rt *rt, int h, int sd, enum tcp_sockopt opt, long v)
{
    return kpeer_setsockopt(kp(rt, h), sd, opt, v);
}

static int k_nonblock(struct scn_rt *rt, int h, int sd)
{
    return kpeer_nonblock(kp(rt, h), sd);
}

static int k_so_error(struct scn_rt *rt, int h, int sd, int *err)
{
    return kpeer_so_error(kp(rt, h), sd, err);
}

static int k_udp_socket(struct scn_rt *rt, int h)
{
    return kpeer_socket_udp(kp(rt, h));
}

static long k_sendto(struct scn_rt *rt, int h, int sd, uint32_t addr, uint16_t port,
                     const uint8_t *b, size_t n)
{
    return kpeer_sendto(kp(rt, h), sd, addr, port, b, n);
}

static long k_recvfrom(struct scn_rt *rt, int h, int sd, uint8_t *b, size_t n)
{
    return kpeer_recvfrom(kp(rt, h), sd, b, n);
}

static unsigned k_poll(struct scn_rt *rt, int h, int sd)
{
    return kpeer_poll(kp(rt, h), sd);
}

static int k_error(struct scn_rt *rt, int h, int sd)
{
    return kpeer_error(kp(rt, h), sd);
}

static int k_state(struct scn_rt *rt, int h, int sd)
{
    return kpeer_state(kp(rt, h), sd);
}

static bool k_tuple(struct scn_rt *rt, int h, int sd, struct tcp_tuple *t)
{
    return kpeer_tuple(kp(rt, h), sd, t) == 0;
}

static const struct scn_host_ops kernel_host_ops = {
    .socket = k_socket,
    .bind = k_bind,
    .listen = k_listen,
    .accept = k_accept,
    .connect = k_connect,
    .send = k_send,
    .recv = k_recv,
    .shutdown = k_shutdown,
    .close = k_close,
    .setsockopt = k_setsockopt,
    .nonblock = k_nonblock,
    .so_error = k_so_error,
    .udp_socket = k_udp_socket,
    .sendto = k_sendto,
    .recvfrom = k_recvfrom,
    .poll = k_poll,
    .error = k_error,
    .state = k_state,
    .tuple = k_tuple,
};

/* ---- the kernel's states: traced and sampled ------------------------------------ */

static int told_index(struct tn *t, const struct tcp_tuple *tu)
{
    for (unsigned i = 0; i < t->ntold; i++)
        if (scn_rt_tuple_eq(&t->told[i].t, tu))
            return (int)i;
    return -1;
}

/* Remember the state reported for a socket; -1 if it was already that. */
static int kernel_told(struct tn *t, const struct tcp_tuple *tu, enum tcp_state st,
                       enum tcp_state *before)
{
    int i = told_index(t, tu);
    *before = i >= 0 ? t->told[i].state : TCP_NSTATES;
    if (i >= 0 && t->told[i].state == st)
        return -1;
    if (i < 0 && t->ntold < TN_MAX_TOLD)
        i = (int)t->ntold++;
    if (i >= 0) {
        t->told[i].t = *tu;
        t->told[i].state = st;
    }
    return 0;
}

/* The tracepoint's own word: the change and the state before it. */
static void traced_event(void *ctx, const struct tev *ev)
{
    struct tn *t = ctx;
    enum tcp_state before;
    /* A request socket (SYN_RECEIVED) sampled before its full socket was
     * made (at the ACK, LISTEN -> SYN_RECV) is that state told already. */
    if (kernel_told(t, &ev->tuple, ev->u.kernel.state, &before) == 0)
        scn_rt_event(t->rt, ev);
}

/* A sampled state: with the tracepoint on, only what it did not tell (the
 * TIME_WAIT socket, a socket gone), coming from the state last told. */
static void sampled_event(void *ctx, const struct tev *ev)
{
    struct tn *t = ctx;
    if (!t->kt) {
        scn_rt_event(t->rt, ev);
        return;
    }
    enum tcp_state now = ev->u.kernel.gone ? TCP_CLOSED : ev->u.kernel.state, before;
    if (kernel_told(t, &ev->tuple, now, &before) < 0)
        return;
    struct tev copy = *ev;
    if (before != TCP_NSTATES)
        copy.u.kernel.prev = before;
    scn_rt_event(t->rt, &copy);
}

/* A connection of this run: the kernel's end is one of the kernel hosts'
 * sockets, or the stack's end is one of the stack's. */
static bool ours(void *ctx, const struct tcp_tuple *tu)
{
    struct tn *t = ctx;
    struct scn_rt *rt = t->rt;
    for (size_t k = 0; k < rt->nsocks; k++) {
        const struct scn_rt_sock *so = &rt->socks[k];
        if (so->lport && so->lport == (rt->hosts[so->host].kernel ? tu->lport : tu->rport))
            return true;
    }
    for (size_t h = 0; h < rt->nhosts; h++)
        for (int i = 0; i < 16; i++)
            if (rt->target_port[h][i] && rt->target_port[h][i] == tu->lport)
                return true;
    return false;
}

static void kernel_look(struct tn *t, uint64_t now)
{
    if (t->kt)
        ktrace_poll(t->kt, now); /* every change first, then what only sampling tells */
    kdiag_poll(t->kd, now);
}

/* ---- struct scn_net ------------------------------------------------------------ */

static bool kernel_calls_pending(const struct scn_rt *rt)
{
    for (size_t h = 0; h < rt->nhosts; h++)
        if (rt->hosts[h].kernel && rt->hosts[h].pend.active)
            return true;
    return false;
}

static bool t_step(struct scn_rt *rt, uint64_t limit, int *err)
{
    struct tn *t = rt->netctx;
    struct stack *st = rt->hosts[t->stack_host].stack;
    uint64_t now = t_now(rt);
    /* Packets read in an earlier step reach the stack first. */
    bool did = release_due(t, now);
    uint64_t wake = did ? now : limit;
    uint64_t d = stack_next_deadline(st);
    if (d < wake)
        wake = d;
    if (t->held && t->held->due < wake)
        wake = t->held->due;
    if (t->next_kdiag < wake)
        wake = t->next_kdiag;
    if (kernel_calls_pending(rt) && now + TN_KERNEL_POLL_US < wake)
        wake = now + TN_KERNEL_POLL_US;
    if (wake > now) {
        uint64_t ms = (wake - now + 999) / 1000;
        struct pollfd pfd = {.fd = tun_dev_fd(t->dev), .events = POLLIN};
        int r = poll(&pfd, 1, ms > 1000 ? 1000 : (int)ms);
        if (r < 0 && errno != EINTR) {
            *err = -errno;
            return false;
        }
    }
    for (int batch = 0; batch < 256; batch++) {
        ssize_t n = tun_dev_read(t->dev, t->buf, sizeof t->buf);
        if (n == -EAGAIN)
            break;
        if (n < 0) {
            if (!tun_dev_alive(t->dev)) {
                *err = -ENODEV;
                return false;
            }
            break;
        }
        now = t_now(rt);
        struct tn_pkt p;
        if (peek(t, t->buf, (size_t)n, true, &p) && p.from >= 0)
            scn_rt_observe_packet(rt, p.from, now, t->buf, (size_t)n);
        pass(t, true, t->buf, (size_t)n);
        did = true;
    }
    now = t_now(rt);
    if (stack_next_deadline(st) <= now) {
        stack_tick(st, now);
        did = true;
    }
    if (now >= t->next_kdiag || t->to_kernel) {
        /* The kernel handles what we write before the write returns, so
         * looking now sees every state it passed through on the way. */
        t->to_kernel = false;
        kernel_look(t, now);
        t->next_kdiag = now + TN_KDIAG_INTERVAL_US;
    }
    return did || now < limit;
}

static void add_rule(struct tn_rule *rules, unsigned *n, const struct scn_netmatch *m,
                     unsigned count, uint64_t hold_us)
{
    if (*n == TN_MAX_RULES)
        return;
    rules[(*n)++] = (struct tn_rule){.m = *m, .count = count, .hold_us = hold_us};
}

static void t_drop_next(struct scn_rt *rt, const struct scn_netmatch *m, unsigned count)
{
    struct tn *t = rt->netctx;
    add_rule(t->drops, &t->ndrops, m, count, 0);
}

static void t_dup_next(struct scn_rt *rt, const struct scn_netmatch *m, unsigned count)
{
    struct tn *t = rt->netctx;
    add_rule(t->dups, &t->ndups, m, count, 0);
}

static void t_reorder_next(struct scn_rt *rt, const struct scn_netmatch *m, uint64_t hold_us,
                           unsigned by)
{
    struct tn *t = rt->netctx;
    unsigned n = t->nreorders;
    add_rule(t->reorders, &t->nreorders, m, 1, hold_us);
    if (t->nreorders > n)
        t->reorders[n].by = by;
}

static void set_dirrule(struct tn_dirrule *rules, unsigned *n, int from, int to, double p,
                        uint64_t us)
{
    for (unsigned i = 0; i < *n; i++) {
        if (rules[i].from == from && rules[i].to == to) {
            if (p == 0 && us == 0) {
                memmove(&rules[i], &rules[i + 1], (*n - i - 1) * sizeof rules[0]);
                (*n)--;
            } else {
                rules[i].p = p;
                rules[i].delay_us = us;
            }
            return;
        }
    }
    if ((p > 0 || us > 0) && *n < TN_MAX_RULES)
        rules[(*n)++] = (struct tn_dirrule){.from = from, .to = to, .p = p, .delay_us = us};
}

static void t_loss(struct scn_rt *rt, int from, int to, double p)
{
    struct tn *t = rt->netctx;
    set_dirrule(t->loss, &t->nloss, from, to, p, 0);
}

static void t_delay(struct scn_rt *rt, int from, int to, uint64_t us)
{
    struct tn *t = rt->netctx;
    set_dirrule(t->delay, &t->ndelay, from, to, 0, us);
}

static void t_cut(struct scn_rt *rt, bool cut)
{
    struct tn *t = rt->netctx;
    if (t->cut == cut)
        return;
    t->cut = cut;
    emit_link(t, TEV_LINK_CABLE, NULL, NULL, 0, 0);
}

static void t_inject(struct scn_rt *rt, int to, const uint8_t *pkt, size_t len)
{
    struct tn *t = rt->netctx;
    if (to == t->stack_host)
        stack_input(rt->hosts[to].stack, t_now(rt), pkt, len);
    else
        tun_dev_write(t->dev, pkt, len);
}

static void t_kernel_changed(struct scn_rt *rt)
{
    kernel_look(rt->netctx, t_now(rt));
}

static void t_destroy(struct scn_rt *rt)
{
    struct tn *t = rt->netctx;
    if (!t)
        return;
    for (size_t h = 0; h < rt->nhosts; h++) {
        if (rt->hosts[h].kp)
            kpeer_free(rt->hosts[h].kp); /* closes the kernel sockets */
        rt->hosts[h].kp = NULL;
        if (rt->hosts[h].stack)
            stack_free(rt->hosts[h].stack);
        rt->hosts[h].stack = NULL;
    }
    while (t->held) {
        struct tn_held *h = t->held;
        t->held = h->next;
        free(h);
    }
    if (t->kd)
        kdiag_free(t->kd);
    ktrace_close(t->kt);
    if (t->dev)
        tun_dev_close(t->dev); /* removes the interface */
    free(t);
    rt->netctx = NULL;
}

int scn_tun_setup(struct scn_rt *rt, char *msg, size_t msglen)
{
    struct tn *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(msg, msglen, "out of memory");
        return -ENOMEM;
    }
    t->rt = rt;
    t->start = mono_us();
    t->prng = rt->seed * 0x9E3779B97F4A7C15ull | 1;
    t->stack_host = -1;
    rt->netctx = t;
    rt->net = (struct scn_net){
        .now = t_now,
        .step = t_step,
        .drop_next = t_drop_next,
        .dup_next = t_dup_next,
        .reorder_next = t_reorder_next,
        .loss = t_loss,
        .delay = t_delay,
        .cut = t_cut,
        .inject = t_inject,
        .destroy = t_destroy,
        .kernel_changed = t_kernel_changed,
        /* Real time: the kernel's timers are its own, the host is shared. */
        .time_tolerance = 0.10,
        .time_slack_us = 50000,
    };
    for (size_t h = 0; h < rt->nhosts; h++)
        if (!rt->hosts[h].kernel)
            t->stack_host = (int)h;
    if (t->stack_host < 0) {
        snprintf(msg, msglen, "--tun needs one stack host");
        return -EINVAL;
    }

    struct tun_dev_config dc;
    tun_dev_config_defaults(&dc);
    snprintf(dc.name, sizeof dc.name, "tlscn0");
    dc.kernel_addr = 0x0A070001;
    dc.prefix_len = 24;
    char why[256] = "";
    int err = tun_dev_open(&dc, &t->dev, why, sizeof why);
    if (err < 0) {
        snprintf(msg, msglen, "%s%s", why[0] ? why : "cannot create the TUN device",
                 err == -EPERM ? " (for scenarios: sudo tcplab replay --tun FILE)" : "");
        return err;
    }

    struct scn_rt_host *S = &rt->hosts[t->stack_host];
    struct stack_config cfg = S->def->cfg;
    cfg.name = S->name;
    cfg.addr = S->addr;
    cfg.output = stack_output;
    cfg.output_ctx = t;
    cfg.on_event = scn_rt_event;
    cfg.event_ctx = rt;
    if (cfg.mss > tun_dev_mtu(t->dev) - 40)
        cfg.mss = (uint16_t)(tun_dev_mtu(t->dev) - 40);
    S->stack = stack_new(&cfg);
    if (!S->stack) {
        snprintf(msg, msglen, "cannot create the stack (out of memory)");
        return -ENOMEM;
    }
    S->ops = &scn_stack_host_ops;
    for (size_t h = 0; h < rt->nhosts; h++) {
        if (!rt->hosts[h].kernel)
            continue;
        struct kpeer_config kc = {.host = rt->hosts[h].name,
                                  .on_event = scn_rt_event,
                                  .event_ctx = rt,
                                  .clock = tn_clock,
                                  .clock_ctx = t};
        rt->hosts[h].kp = kpeer_new(&kc);
        if (!rt->hosts[h].kp) {
            snprintf(msg, msglen, "out of memory");
            return -ENOMEM;
        }
        rt->hosts[h].ops = &kernel_host_ops;
    }
    int kerr = 0;
    t->kd = kdiag_new(S->addr, "kernel", sampled_event, t, &kerr);
    if (!t->kd) {
        snprintf(msg, msglen, "cannot read the kernel's sockets (sock_diag): %s",
                 strerror(kerr < 0 ? -kerr : kerr));
        return kerr < 0 ? kerr : -EIO;
    }
    struct ktrace_config kc = {.kernel_addr = 0x0A070001,
                               .stack_addr = S->addr,
                               .host = "kernel",
                               .on_event = traced_event,
                               .event_ctx = t,
                               .mine = ours,
                               .mine_ctx = t};
    char kwhy[200] = "";
    t->kt = ktrace_open(&kc, kwhy, sizeof kwhy); /* NULL: sampling alone, as before */
    return 0;
}
