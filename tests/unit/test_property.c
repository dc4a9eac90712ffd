/*
 * test_property.c — the engine's central promise, checked on many random
 * conversations: whatever the network does (loss up to 30%, reordering,
 * duplication), every byte handed to send() on one side comes out of recv()
 * on the other exactly once and in order, and after both sides close, both
 * connections end in CLOSED or TIME_WAIT.
 *
 * Each seed drives one conversation between two stacks on the virtual link:
 * a random stream each way (sizes and bytes from the seed), written and read
 * in random chunk sizes, both directions at once, then both sides close;
 * MSS, buffers, window scaling, delayed ACK, Nagle, (one host in four) a
 * small out-of-order limit and congestion control (on or off, initial
 * window 1-10 segments) vary per seed, and
 * one seed in three has a delay that changes (reordering in bulk), one in
 * five has its cable cut for up to a minute.
 * A second test runs 100 seeds of 2-6 concurrent connections between the
 * same two stacks, each connection with its own two streams.
 * Everything is deterministic: a failing seed fails the same way every time,
 * and TCPLAB_PROPERTY_SEED=N (or TCPLAB_PROPERTY_MULTI_SEED=N for the
 * second test) replays just that one, with a summary of what the link did;
 * TCPLAB_PROPERTY_TRACE=K adds its last K events. TCPLAB_PROPERTY_SEEDS=N
 * changes how many seeds the first test runs (500); TCPLAB_PROPERTY_ALL_ON=1
 * turns congestion control, timestamps and SACK on at both hosts in every
 * seed.
 */
#include "tcptest.h"

#define DEFAULT_SEEDS 500
#define MIN_STREAM    (20 * 1024) /* per direction */
#define MAX_STREAM    (200 * 1024)
#define MAX_LOSS      0.30
#define MAX_STEPS     5000000UL
/* A stall is a day of virtual time in which no application byte moves;
 * slow recovery (RTO backed off to rto_max) is allowed, a livelock is not. */
#define STALL_US (24 * 3600 * TT_SEC)

/* TCPLAB_PROPERTY_ALL_ON=1: congestion control, timestamps and SACK on at
 * both hosts in every seed, instead of the mix of on and off. */
static bool all_features_on(void)
{
    const char *v = getenv("TCPLAB_PROPERTY_ALL_ON");
    return v && *v && *v != '0';
}

/* splitmix64: small, good enough, and the same everywhere. */
struct prng {
    uint64_t s;
};
static uint64_t prng_next(struct prng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint64_t prng_range(struct prng *r, uint64_t lo, uint64_t hi) /* inclusive */
{
    return lo + prng_next(r) % (hi - lo + 1);
}
static double prng_unit(struct prng *r)
{
    return (double)(prng_next(r) >> 11) / 9007199254740992.0;
}

/* One application: writes its stream, reads the other's, then closes. */
struct app {
    const char *name;
    struct stack *s;
    int sd;
    uint8_t *out; /* what this side sends */
    size_t out_len, sent;
    const uint8_t *want; /* what it must receive: the other side's stream */
    size_t want_len, got;
    bool shut_wr, eof, closed;
};

static char failure[512];

/* Totals over all seeds, printed at the end so a run shows what it covered. */
static struct {
    uint64_t bytes, pkts, lost, duplicated, reordered;
    uint64_t slowest_us, slowest_seed; /* longest conversation in virtual time */
} totals;

static bool violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool violation(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(failure, sizeof failure, fmt, ap);
    va_end(ap);
    return false;
}

/* Let the application do what it can right now; false on a violation. */
static bool app_run(struct app *a, uint64_t now, struct prng *r)
{
    static uint8_t buf[32768];
    if (a->closed)
        return true;
    if (a->sent < a->out_len) {
        size_t chunk = (size_t)prng_range(r, 1, 16384);
        if (chunk > a->out_len - a->sent)
            chunk = a->out_len - a->sent;
        ssize_t n = tcp_send(a->s, now, a->sd, a->out + a->sent, chunk);
        if (n > 0)
            a->sent += (size_t)n;
        else if (n != -EAGAIN)
            return violation("%s: send() = %zd after %zu of %zu bytes", a->name, n, a->sent,
                             a->out_len);
    }
    if (a->sent == a->out_len && !a->shut_wr) {
        int rc = tcp_shutdown(a->s, now, a->sd, TCP_SHUT_WR);
        if (rc != 0)
            return violation("%s: shutdown(WR) = %d", a->name, rc);
        a->shut_wr = true;
    }
    while (!a->eof) {
        size_t chunk = (size_t)prng_range(r, 1, sizeof buf);
        ssize_t n = tcp_recv(a->s, now, a->sd, buf, chunk);
        if (n == -EAGAIN)
            break;
        if (n < 0)
            return violation("%s: recv() = %zd after %zu of %zu bytes", a->name, n, a->got,
                             a->want_len);
        if (n == 0) {
            if (a->got != a->want_len)
                return violation("%s: end of stream after %zu of %zu bytes", a->name, a->got,
                                 a->want_len);
            a->eof = true;
            break;
        }
        if (a->got + (size_t)n > a->want_len)
            return violation("%s: received %zu bytes, more than the %zu sent", a->name,
                             a->got + (size_t)n, a->want_len);
        if (memcmp(buf, a->want + a->got, (size_t)n) != 0) {
            size_t i = 0;
            while (buf[i] == a->want[a->got + i])
                i++;
            return violation(
                "%s: byte %zu of the stream differs (duplicated, lost or reordered data)", a->name,
                a->got + i);
        }
        a->got += (size_t)n;
    }
    if (a->eof && a->shut_wr) {
        int rc = tcp_close(a->s, now, a->sd);
        if (rc != 0)
            return violation("%s: close() = %d", a->name, rc);
        a->closed = true;
    }
    return true;
}

struct conn_check {
    int bad;
    enum tcp_state state;
};
static void check_visit(void *ctx, int sd, const struct tcp_status *st)
{
    struct conn_check *c = ctx;
    if (st->state != TCP_CLOSED && st->state != TCP_TIME_WAIT) {
        c->bad++;
        c->state = st->state;
    }
}
static int conns_not_finished(const struct stack *s, enum tcp_state *example)
{
    struct conn_check c = {0, TCP_CLOSED};
    stack_foreach_conn(s, check_visit, &c);
    if (example)
        *example = c.state;
    return c.bad;
}

static void fill_random(struct prng *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(prng_next(r) >> 56);
}

/* The last `n` segment, state, timer, drop, cc and sack events, one line each. */
static void print_tail(const struct tt_pair *p, size_t n)
{
    size_t from = p->ev_len > n ? p->ev_len - n : 0;
    for (size_t i = from; i < p->ev_len; i++) {
        const struct tev *ev = p->ev[i];
        char fl[10];
        switch (ev->kind) {
        case TEV_SEGMENT:
            printf("%12.6f %-6s %s %-3s seq=%u ack=%u len=%zu win=%u sack=%u%s%s\n",
                   ev->t_us / 1e6, ev->host, ev->u.seg.dir == TEV_OUT ? "out" : "in ",
                   wire_flags_str(ev->u.seg.tcp.flags, fl), ev->u.seg.tcp.seq, ev->u.seg.tcp.ack,
                   ev->u.seg.tcp.payload_len, ev->u.seg.tcp.win, ev->u.seg.tcp.opts.n_sack,
                   ev->u.seg.retransmission ? " (rtx)" : "", ev->u.seg.probe ? " (probe)" : "");
            break;
        case TEV_CC:
            printf("%12.6f %-6s cc %s cwnd=%u ssthresh=%u flight=%u (%s)\n", ev->t_us / 1e6,
                   ev->host, tcp_cc_phase_name(ev->u.cc.phase), ev->u.cc.cwnd, ev->u.cc.ssthresh,
                   ev->u.cc.flight, ev->u.cc.cause);
            break;
        case TEV_SACK:
            printf("%12.6f %-6s sack %s %s %u:%u\n", ev->t_us / 1e6, ev->host,
                   tev_sack_what_name(ev->u.sack.what),
                   ev->u.sack.reason ? ev->u.sack.reason : "", ev->u.sack.left, ev->u.sack.right);
            break;
        case TEV_STATE:
            printf("%12.6f %-6s state %s -> %s (%s)\n", ev->t_us / 1e6, ev->host,
                   tcp_state_name(ev->u.state.from), tcp_state_name(ev->u.state.to),
                   ev->u.state.cause);
            break;
        case TEV_TIMER:
            printf("%12.6f %-6s timer %s %s deadline=%.6f backoff=%u\n", ev->t_us / 1e6, ev->host,
                   tcp_timer_name(ev->u.timer.which),
                   ev->u.timer.action == TEV_TIMER_ARM    ? "arm"
                   : ev->u.timer.action == TEV_TIMER_FIRE ? "fire"
                                                          : "cancel",
                   ev->u.timer.deadline_us / 1e6, ev->u.timer.backoff);
            break;
        case TEV_DROP:
            printf("%12.6f %-6s drop %s\n", ev->t_us / 1e6, ev->host,
                   tev_drop_reason_name(ev->u.drop.reason));
            break;
        case TEV_LINK:
            printf("%12.6f link   %s %s->%s\n", ev->t_us / 1e6,
                   tev_link_action_name(ev->u.link.action), ev->u.link.from ? ev->u.link.from : "",
                   ev->u.link.to ? ev->u.link.to : "");
            break;
        default:
            break;
        }
    }
}

static struct stack_config property_config(const char *name, uint32_t addr, uint8_t key)
{
    struct stack_config cfg;
    stack_config_defaults(&cfg);
    cfg.name = name;
    cfg.addr = addr;
    cfg.isn_key[0] = key;
    /* The property is about the data, not about giving up: at 30% loss a
     * segment and its ACK both get through only half the time, so allow
     * more retries than the default before ETIMEDOUT. */
    cfg.data_retries = 40;
    cfg.syn_retries = 40;
    cfg.synack_retries = 40;
    return cfg;
}

/* One conversation. Returns true if the property held; else `failure`
 * says why. `verbose` prints what happened. */
static bool run_seed(uint64_t seed, bool verbose)
{
    struct prng r = {seed * 0x100000001b3ull + 1};
    size_t len_c = (size_t)prng_range(&r, MIN_STREAM, MAX_STREAM);
    size_t len_s = (size_t)prng_range(&r, MIN_STREAM, MAX_STREAM);
    double loss = prng_unit(&r) * MAX_LOSS;
    unsigned reorder_pct = (unsigned)prng_range(&r, 0, 20);
    unsigned dup_pct = (unsigned)prng_range(&r, 0, 20);
    bool jitter = prng_range(&r, 0, 2) == 0; /* one seed in three */
    /* One seed in five also has the cable cut once for up to a minute. */
    bool outage = prng_range(&r, 0, 4) == 0;
    uint64_t cut_after = (uint64_t)prng_range(&r, 0, 2000) * 1000;
    uint64_t cut_for = (uint64_t)prng_range(&r, 1, 60000) * 1000;

    struct stack_config ccfg = property_config("client", TT_STACK_ADDR, 1);
    struct stack_config scfg = property_config("server", TT_PEER_ADDR, 2);
    /* Vary what shapes the flow: small buffers (zero windows, persist
     * probes), small MSS, window scaling, delayed ACK and Nagle. */
    struct stack_config *cfgs[2] = {&ccfg, &scfg};
    for (int i = 0; i < 2; i++) {
        struct stack_config *k = cfgs[i];
        k->delayed_ack = prng_range(&r, 0, 1);
        k->nagle = prng_range(&r, 0, 1);
        k->window_scaling = prng_range(&r, 0, 1);
        k->wscale = (uint8_t)prng_range(&r, 0, 8);
        k->mss = (uint16_t)prng_range(&r, 200, 1460);
        k->rcvbuf = (uint32_t)prng_range(&r, 2048, 128 * 1024);
        k->sndbuf = (uint32_t)prng_range(&r, 2048, 128 * 1024);
        /* Congestion control (RFC 5681) on in three seeds of four, with an
         * initial window of 1 to 10 segments; taken from the seed, not the
         * PRNG, so the draws above stay what they were. */
        k->congestion_control = (seed + (uint64_t)i) % 4 != 0;
        k->init_cwnd = (uint8_t)(1 + (seed * 7 + (uint64_t)i) % 10);
        /* RFC 7323 timestamps offered by each host in two seeds of three,
         * so both, one (not agreed) or neither offer them; RTTM and PAWS
         * then run under loss, reordering and duplicates. */
        k->timestamps = (seed / 4 + (uint64_t)i) % 3 != 0;
        /* SACK (RFC 2018, RFC 6675 recovery) offered by each host in two
         * seeds of three, on a cycle of its own (seed / 12), so every mix of
         * cc, timestamps and SACK on and off comes up. */
        k->sack = (seed / 12 + (uint64_t)i * 2) % 3 != 0;
        /* With congestion control on, CUBIC (RFC 9438) or NewReno: bit i
         * of seed / 36 picks host i's, so both, either or neither run
         * CUBIC, on a cycle of its own that meets every mix of SACK and
         * timestamps. */
        k->cc_algo = ((seed / 36) >> i) & 1 ? TCP_CC_CUBIC : TCP_CC_NEWRENO;
        if (all_features_on()) /* TCPLAB_PROPERTY_ALL_ON=1: every seed with all three */
            k->congestion_control = k->timestamps = k->sack = true;
    }
    /* One host in four holds at most 1..4096 out-of-order bytes (the limit
     * a flood meets, stack_config.max_ooo_conn): the excess is dropped and
     * must come again. From its own generator, so the draws above (and what
     * each seed did before) stay as they were. */
    struct prng rl = {seed * 0x9E3779B97F4A7C15ull + 7};
    for (int i = 0; i < 2; i++)
        if (prng_range(&rl, 0, 3) == 0)
            cfgs[i]->max_ooo_conn = (uint32_t)prng_range(&rl, 1, 4096);
    struct tt_pair *p = tt_pair_new(&ccfg, &scfg, seed);
    /* TCPLAB_PROPERTY_TRACE=N with a replayed seed prints the last N events. */
    const char *trace = verbose ? getenv("TCPLAB_PROPERTY_TRACE") : NULL;
    p->record = trace && atoi(trace) > 0;
    failure[0] = 0;
    bool ok = true;

    struct app c = {.name = "client", .s = p->c, .out_len = len_c};
    struct app s = {.name = "server", .s = p->s, .out_len = len_s};
    c.out = malloc(len_c);
    s.out = malloc(len_s);
    fill_random(&r, c.out, len_c);
    fill_random(&r, s.out, len_s);
    c.want = s.out;
    c.want_len = len_s;
    s.want = c.out;
    s.want_len = len_c;

    /* The handshake itself also runs through the impaired link. */
    vlink_set_loss(p->l, VLINK_ANY, VLINK_ANY, loss);
    if (!tt_pair_connect(p, 3600 * TT_SEC)) {
        ok = violation("the handshake did not complete");
        goto out;
    }
    c.sd = p->csd;
    s.sd = p->ssd;
    const struct vlink_match any = {.from = VLINK_ANY, .to = VLINK_ANY};
    unsigned long steps = 0;
    uint64_t start = vlink_now(p->l), last_progress = start;
    size_t last_moved = 0;
    while (!(c.closed && s.closed)) {
        uint64_t now = vlink_now(p->l);
        if (!app_run(&c, now, &r) || !app_run(&s, now, &r)) {
            ok = false;
            goto out;
        }
        if (prng_range(&r, 0, 99) < reorder_pct)
            vlink_reorder_next(p->l, &any, prng_range(&r, 100, 20000));
        if (prng_range(&r, 0, 99) < dup_pct)
            vlink_duplicate_next(p->l, &any, 1);
        if (jitter && prng_range(&r, 0, 99) < 5) /* changing delay reorders in bulk */
            vlink_set_delay(p->l, (int)prng_range(&r, 0, 1), VLINK_ANY,
                            (uint64_t)prng_range(&r, 0, 5000));
        if (outage && !vlink_is_cut(p->l) && now >= start + cut_after &&
            now < start + cut_after + cut_for)
            vlink_cut(p->l);
        if (vlink_is_cut(p->l) && now >= start + cut_after + cut_for)
            vlink_restore(p->l);
        size_t moved = c.sent + c.got + s.sent + s.got;
        if (moved != last_moved) {
            last_moved = moved;
            last_progress = now;
        }
        if (++steps > MAX_STEPS || now - last_progress > STALL_US) {
            struct tcp_status cs = {0}, ss = {0};
            tcp_status(c.s, c.sd, &cs);
            tcp_status(s.s, s.sd, &ss);
            ok = violation(
                "no progress for %.0f s of virtual time (%lu steps, %.0f s in all): client (%s, "
                "snd_wnd %u, send_queue %u, recv_queue %u, rcv_wnd %u, backoff %u) "
                "sent %zu/%zu got %zu/%zu; server (%s, snd_wnd %u, send_queue %u, "
                "recv_queue %u, rcv_wnd %u, backoff %u) sent %zu/%zu got %zu/%zu",
                (now - last_progress) / 1e6, steps, (now - start) / 1e6, tcp_state_name(cs.state),
                cs.snd_wnd, cs.send_queue, cs.recv_queue, cs.rcv_wnd, cs.backoff, c.sent, c.out_len,
                c.got, c.want_len, tcp_state_name(ss.state), ss.snd_wnd, ss.send_queue,
                ss.recv_queue, ss.rcv_wnd, ss.backoff, s.sent, s.out_len, s.got, s.want_len);
            goto out;
        }
        if (c.closed && s.closed)
            break;
        if (!vlink_step(p->l, now + 3600 * TT_SEC)) {
            ok = violation("the link went quiet for an hour with the transfer unfinished: client "
                           "sent %zu/%zu got %zu/%zu, server sent %zu/%zu got %zu/%zu",
                           c.sent, c.out_len, c.got, c.want_len, s.sent, s.out_len, s.got,
                           s.want_len);
            goto out;
        }
    }
    /* Both applications have closed: let the FIN exchange finish. */
    for (unsigned long n = 0; n < MAX_STEPS; n++) {
        if (!conns_not_finished(p->c, NULL) && !conns_not_finished(p->s, NULL))
            break;
        if (!vlink_step(p->l, vlink_now(p->l) + 3600 * TT_SEC))
            break;
    }
    enum tcp_state cst = TCP_CLOSED, sst = TCP_CLOSED;
    if (conns_not_finished(p->c, &cst) || conns_not_finished(p->s, &sst))
        ok = violation("after both closed: client connection in %s, server connection in %s",
                       tcp_state_name(cst), tcp_state_name(sst));
out:;
    struct vlink_stats ls;
    vlink_get_stats(p->l, &ls);
    totals.bytes += c.got + s.got;
    totals.pkts += ls.sent;
    totals.lost += ls.lost;
    totals.duplicated += ls.duplicated;
    totals.reordered += ls.reordered;
    if (vlink_now(p->l) > totals.slowest_us) {
        totals.slowest_us = vlink_now(p->l);
        totals.slowest_seed = seed;
    }
    if (p->record)
        print_tail(p, (size_t)atoi(trace));
    if (verbose) {
        for (int i = 0; i < 2; i++)
            printf("%s: mss %u rcvbuf %u sndbuf %u wscale %s%u delayed_ack %d nagle %d cc %s iw %u "
                   "ts %s sack %s\n",
                   cfgs[i]->name, cfgs[i]->mss, cfgs[i]->rcvbuf, cfgs[i]->sndbuf,
                   cfgs[i]->window_scaling ? "on " : "off ", cfgs[i]->wscale, cfgs[i]->delayed_ack,
                   cfgs[i]->nagle,
                   cfgs[i]->congestion_control ? tcp_cc_algo_name(cfgs[i]->cc_algo) : "off",
                   cfgs[i]->init_cwnd, cfgs[i]->timestamps ? "on" : "off",
                   cfgs[i]->sack ? "on" : "off");
        printf("seed %llu: client->server %zu bytes, server->client %zu bytes, loss %.1f%%, "
               "reorder %u%%, duplicate %u%%, jitter %s, cable cut %s; link sent %llu, lost %llu, "
               "duplicated "
               "%llu, "
               "reordered %llu; virtual time %.1f s\n",
               (unsigned long long)seed, len_c, len_s, loss * 100, reorder_pct, dup_pct,
               jitter ? "yes" : "no", outage ? "once" : "never", (unsigned long long)ls.sent,
               (unsigned long long)ls.lost, (unsigned long long)ls.duplicated,
               (unsigned long long)ls.reordered, vlink_now(p->l) / 1e6);
    }
    free(c.out);
    free(s.out);
    tt_pair_free(p);
    return ok;
}

static void test_every_byte_arrives_once_in_order_under_loss_reorder_duplication(void **state)
{
    const char *one = getenv("TCPLAB_PROPERTY_SEED");
    const char *other = getenv("TCPLAB_PROPERTY_MULTI_SEED");
    if (other && *other && !(one && *one))
        skip(); /* replaying one seed of the other test */
    if (one && *one) {
        uint64_t seed = strtoull(one, NULL, 10);
        if (!run_seed(seed, true)) {
            print_error("property test failed at seed %llu: %s\n", (unsigned long long)seed,
                        failure);
            fail_msg("seed %llu failed", (unsigned long long)seed);
        }
        return;
    }
    const char *nstr = getenv("TCPLAB_PROPERTY_SEEDS");
    unsigned long nseeds = nstr && *nstr ? strtoul(nstr, NULL, 10) : DEFAULT_SEEDS;
    unsigned long failed = 0;
    for (uint64_t seed = 1; seed <= nseeds; seed++) {
        if (run_seed(seed, false))
            continue;
        if (++failed <= 10)
            print_error("property test failed at seed %llu (replay: TCPLAB_PROPERTY_SEED=%llu "
                        "./test_property): %s\n",
                        (unsigned long long)seed, (unsigned long long)seed, failure);
    }
    printf("%lu seeds: %.1f MB delivered and checked; the link carried %llu packets, lost %llu, "
           "duplicated %llu, reordered %llu; the slowest seed (%llu) took %.0f s of virtual time\n",
           nseeds, totals.bytes / 1e6, (unsigned long long)totals.pkts,
           (unsigned long long)totals.lost, (unsigned long long)totals.duplicated,
           (unsigned long long)totals.reordered, (unsigned long long)totals.slowest_seed,
           totals.slowest_us / 1e6);
    if (failed)
        fail_msg("%lu of %lu seeds failed", failed, nseeds);
}

/* Several connections at once between the same two stacks, each with its
 * own two streams, over the same impaired link: the connection table and
 * the timers of many connections must keep every stream apart. */
#define MULTI_MAX 6
static bool run_multi_seed(uint64_t seed)
{
    struct prng r = {seed * 0x9e3779b97f4a7c15ull + 7};
    int n = (int)prng_range(&r, 2, MULTI_MAX);
    double loss = prng_unit(&r) * 0.2;
    struct stack_config ccfg = property_config("client", TT_STACK_ADDR, 3);
    struct stack_config scfg = property_config("server", TT_PEER_ADDR, 4);
    struct tt_pair *p = tt_pair_new(&ccfg, &scfg, seed);
    p->record = false;
    failure[0] = 0;
    bool ok = true;
    struct app apps[2 * MULTI_MAX];
    memset(apps, 0, sizeof apps);
    vlink_set_loss(p->l, VLINK_ANY, VLINK_ANY, loss);

    uint64_t now = vlink_now(p->l);
    int lsd = tcp_socket(p->s, now);
    tcp_bind(p->s, now, lsd, TT_SERVER_PORT);
    tcp_listen(p->s, now, lsd, MULTI_MAX);
    for (int i = 0; i < n; i++) {
        struct app *c = &apps[2 * i], *sv = &apps[2 * i + 1];
        c->name = "client";
        c->s = p->c;
        sv->name = "server";
        sv->s = p->s;
        sv->sd = -1;
        c->out_len = (size_t)prng_range(&r, 5 * 1024, 40 * 1024);
        sv->out_len = (size_t)prng_range(&r, 5 * 1024, 40 * 1024);
        c->out = malloc(c->out_len);
        sv->out = malloc(sv->out_len);
        fill_random(&r, c->out, c->out_len);
        fill_random(&r, sv->out, sv->out_len);
        c->want = sv->out;
        c->want_len = sv->out_len;
        sv->want = c->out;
        sv->want_len = c->out_len;
        c->sd = tcp_socket(p->c, now);
        tcp_connect(p->c, now, c->sd, TT_PEER_ADDR, TT_SERVER_PORT);
    }
    /* accept them all, and pair each server socket with its client by port */
    int accepted = 0;
    for (unsigned long steps = 0; accepted < n && steps < MAX_STEPS; steps++) {
        struct tcp_tuple tu;
        int sd = tcp_accept(p->s, vlink_now(p->l), lsd, &tu);
        if (sd >= 0) {
            for (int i = 0; i < n; i++) {
                struct tcp_status st;
                if (tcp_status(p->c, apps[2 * i].sd, &st) == 0 && st.tuple.lport == tu.rport)
                    apps[2 * i + 1].sd = sd;
            }
            accepted++;
            continue;
        }
        if (!vlink_step(p->l, vlink_now(p->l) + 3600 * TT_SEC))
            break;
    }
    for (int i = 0; i < n && ok; i++)
        if (apps[2 * i + 1].sd < 0)
            ok = violation("connection %d was never accepted (%d of %d were)", i, accepted, n);
    unsigned long steps = 0;
    uint64_t last_progress = vlink_now(p->l);
    size_t last_moved = 0;
    while (ok) {
        now = vlink_now(p->l);
        bool all_closed = true;
        size_t moved = 0;
        for (int i = 0; i < 2 * n && ok; i++) {
            ok = app_run(&apps[i], now, &r);
            all_closed &= apps[i].closed;
            moved += apps[i].sent + apps[i].got;
        }
        if (!ok || all_closed)
            break;
        if (moved != last_moved) {
            last_moved = moved;
            last_progress = now;
        }
        if (++steps > MAX_STEPS || now - last_progress > STALL_US ||
            !vlink_step(p->l, now + 3600 * TT_SEC)) {
            ok = violation("%d connections: no progress (%zu bytes moved in all)", n, moved);
            break;
        }
    }
    for (unsigned long k = 0; ok && k < MAX_STEPS; k++) {
        if (!conns_not_finished(p->c, NULL) && !conns_not_finished(p->s, NULL))
            break;
        if (!vlink_step(p->l, vlink_now(p->l) + 3600 * TT_SEC))
            break;
    }
    enum tcp_state cst = TCP_CLOSED, sst = TCP_CLOSED;
    if (ok && (conns_not_finished(p->c, &cst) || conns_not_finished(p->s, &sst)))
        ok = violation("after all closed: a client connection in %s, a server one in %s",
                       tcp_state_name(cst), tcp_state_name(sst));
    for (int i = 0; i < 2 * n; i++)
        free(apps[i].out);
    tt_pair_free(p);
    return ok;
}

static void test_concurrent_connections_each_deliver_their_streams_under_loss(void **state)
{
    const char *one = getenv("TCPLAB_PROPERTY_MULTI_SEED");
    const char *other = getenv("TCPLAB_PROPERTY_SEED");
    if (other && *other && !(one && *one))
        skip(); /* replaying one seed of the other test */
    uint64_t first = 1, last = 100;
    if (one && *one)
        first = last = strtoull(one, NULL, 10);
    unsigned long failed = 0;
    for (uint64_t seed = first; seed <= last; seed++) {
        if (run_multi_seed(seed))
            continue;
        if (++failed <= 10)
            print_error("property test (concurrent connections) failed at seed %llu (replay: "
                        "TCPLAB_PROPERTY_MULTI_SEED=%llu ./test_property): %s\n",
                        (unsigned long long)seed, (unsigned long long)seed, failure);
    }
    if (failed)
        fail_msg("%lu seeds failed", failed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_arrives_once_in_order_under_loss_reorder_duplication),
        cmocka_unit_test(test_concurrent_connections_each_deliver_their_streams_under_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
