/*
 * vlink.c — the virtual link: stacks joined in memory under a discrete-event
 * clock (tun/ in docs/architecture.md, the simulation side).
 *
 * A packet a stack sends is copied into the link, routed by its destination
 * IPv4 address, passed through the impairment rules and put in flight with a
 * delivery time (now + latency + any delay). Nothing is delivered from inside
 * a stack's output callback: delivery happens only in vlink_step(), which
 * jumps the clock to the next delivery or stack timer and does everything due
 * at that instant. So the stacks are never re-entered, and a 2*MSL wait is one
 * jump of the clock.
 *
 * Each direction (sender, receiver) is a FIFO: a packet never overtakes one
 * sent before it on the same direction, even when a delay rule is removed —
 * except through the reorder impairment, which exists to do exactly that.
 *
 * Randomness comes only from the link's own PRNG (xoshiro256**, seeded with
 * splitmix64 from the configured seed) and is drawn only when a random-loss
 * rule matches, so the same seed and the same calls give the same run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlink.h"

#define VLINK_MAX_RULES 16
/* Bound on the delivery/timer rounds at one instant: a safety net against an
 * engine that keeps asking for time it has already been given. */
#define VLINK_MAX_ROUNDS_PER_INSTANT 100000

/* A packet in flight, owned by the link. Kept in one list sorted by due_us;
 * packets due at the same instant stay in the order they were queued, so
 * delivery order is total and deterministic. */
struct vlink_pkt {
    struct vlink_pkt *next;
    uint64_t due_us;
    int from, to;
    size_t len;
    uint8_t data[];
};

struct vlink_host {
    struct vlink *link;
    int index;
    char *name; /* owned copy, outlives the stack */
    uint32_t addr;
    struct stack *stack;
};

/* A one-shot rule: applies to the next `count` matching packets. */
struct vlink_count_rule {
    struct vlink_match m;
    unsigned count;
};

/* Random loss or delay for a direction (from/to may be VLINK_ANY). */
struct vlink_dir_rule {
    int from, to;
    double p;          /* loss probability */
    uint64_t delay_us; /* added delay */
};

struct vlink_reorder_rule {
    struct vlink_match m;
    uint64_t hold_us;
    unsigned by; /* packets that overtake it */
};

/* A packet held back by the reorder impairment, one slot per direction. */
struct vlink_held {
    struct vlink_pkt *pkt; /* NULL when nothing is held */
    uint64_t release_us;   /* deliver then if not overtaken enough; NEVER = no limit */
    unsigned left;         /* packets still to overtake it */
};

#define VLINK_NDIRS (VLINK_MAX_HOSTS * VLINK_MAX_HOSTS)

struct vlink {
    struct vlink_config cfg;
    uint64_t now;
    uint64_t prng[4];

    struct vlink_host hosts[VLINK_MAX_HOSTS];
    int nhosts;

    struct vlink_pkt *inflight; /* sorted by due_us, ties in queueing order */
    struct vlink_pkt *inflight_tail;
    uint64_t last_due[VLINK_NDIRS];
    struct vlink_held held[VLINK_NDIRS];

    struct vlink_count_rule drops[VLINK_MAX_RULES];
    unsigned ndrops;
    struct vlink_count_rule dups[VLINK_MAX_RULES];
    unsigned ndups;
    struct vlink_reorder_rule reorders[VLINK_MAX_RULES];
    unsigned nreorders;
    struct vlink_dir_rule losses[VLINK_MAX_RULES];
    unsigned nlosses;
    struct vlink_dir_rule delays[VLINK_MAX_RULES];
    unsigned ndelays;

    bool cut;
    struct vlink_stats stats;
};

/* ---- PRNG: splitmix64 to seed xoshiro256** ------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 bits of precision. */
static double prng_unit(struct vlink *l)
{
    return (double)(xoshiro_next(l->prng) >> 11) * 0x1.0p-53;
}

/* ---- looking into packets (without trusting them) ------------------------ */

/* What the rules match on. The link does not validate packets — a corrupted
 * one is delivered as it is, for the stack to reject — it only peeks. */
struct vlink_peek {
    bool ipv4;
    uint32_t src, dst;
    bool tcp;
    uint16_t sport, dport;
    uint8_t flags;
    size_t payload_len;
};

static uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16_at(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void peek_packet(const uint8_t *pkt, size_t len, struct vlink_peek *out)
{
    memset(out, 0, sizeof *out);
    if (len < WIRE_IPV4_HDR_LEN || pkt[0] >> 4 != 4)
        return;
    out->ipv4 = true;
    out->src = be32_at(pkt + 12);
    out->dst = be32_at(pkt + 16);
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    size_t total = be16_at(pkt + 2);
    if (total > len)
        total = len;
    if (pkt[9] != WIRE_PROTO_TCP || ihl < WIRE_IPV4_HDR_LEN || total < ihl + WIRE_TCP_HDR_LEN)
        return;
    const uint8_t *tcp = pkt + ihl;
    size_t data_off = (size_t)(tcp[12] >> 4) * 4;
    out->tcp = true;
    out->sport = be16_at(tcp);
    out->dport = be16_at(tcp + 2);
    out->flags = tcp[13];
    out->payload_len = total - ihl > data_off ? total - ihl - data_off : 0;
}

static bool host_matches(int rule_host, int host)
{
    return rule_host == VLINK_ANY || rule_host == host;
}

static bool packet_matches(const struct vlink_match *m, int from, int to,
                           const struct vlink_peek *pk)
{
    if (!host_matches(m->from, from) || !host_matches(m->to, to))
        return false;
    if (m->mask && (!pk->tcp || (pk->flags & m->mask) != m->value))
        return false;
    if (m->payload_only && (!pk->tcp || pk->payload_len == 0))
        return false;
    return true;
}

static int dir_index(int from, int to)
{
    return from * VLINK_MAX_HOSTS + to;
}

/* ---- events -------------------------------------------------------------- */

static void emit(struct vlink *l, const struct tev *ev)
{
    if (l->cfg.on_event)
        l->cfg.on_event(l->cfg.event_ctx, ev);
}

static void emit_link(struct vlink *l, enum tev_link_action action, const char *from,
                      const char *to, const uint8_t *raw, size_t len, uint64_t until_us, long arg)
{
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_LINK;
    ev.t_us = l->now;
    ev.host = "link";
    ev.sd = -1;
    if (raw) {
        struct vlink_peek pk;
        peek_packet(raw, len, &pk);
        ev.tuple.laddr = pk.src;
        ev.tuple.raddr = pk.dst;
        ev.tuple.lport = pk.sport;
        ev.tuple.rport = pk.dport;
    }
    ev.u.link.action = action;
    ev.u.link.from = from;
    ev.u.link.to = to;
    ev.u.link.raw = raw;
    ev.u.link.raw_len = len;
    ev.u.link.until_us = until_us;
    ev.u.link.arg = arg;
    emit(l, &ev);
}

static void emit_pkt(struct vlink *l, enum tev_link_action action, const struct vlink_pkt *p,
                     uint64_t until_us, long arg)
{
    emit_link(l, action, l->hosts[p->from].name, l->hosts[p->to].name, p->data, p->len, until_us,
              arg);
}

/* ---- the in-flight queue ------------------------------------------------- */

static void queue_insert(struct vlink *l, struct vlink_pkt *p)
{
    struct vlink_pkt **pp = &l->inflight;
    /* Usually the latest packet is due last: append without walking. */
    if (l->inflight_tail && l->inflight_tail->due_us <= p->due_us)
        pp = &l->inflight_tail->next;
    while (*pp && (*pp)->due_us <= p->due_us)
        pp = &(*pp)->next;
    p->next = *pp;
    *pp = p;
    if (!p->next)
        l->inflight_tail = p;
}

static struct vlink_pkt *queue_pop(struct vlink *l)
{
    struct vlink_pkt *p = l->inflight;
    l->inflight = p->next;
    if (!l->inflight)
        l->inflight_tail = NULL;
    return p;
}

static struct vlink_pkt *pkt_copy(const struct vlink_pkt *p)
{
    struct vlink_pkt *c = malloc(sizeof *c + p->len);
    if (!c)
        return NULL;
    memcpy(c, p, sizeof *c + p->len);
    c->next = NULL;
    return c;
}

/* Put a packet in flight on its direction, keeping the direction FIFO. A
 * packet held for reordering on this direction is released right behind
 * the last of the packets that were to overtake it. */
static void send_in_order(struct vlink *l, struct vlink_pkt *p, uint64_t due)
{
    int d = dir_index(p->from, p->to);
    if (due < l->last_due[d])
        due = l->last_due[d];
    l->last_due[d] = due;
    p->due_us = due;
    queue_insert(l, p);

    struct vlink_held *h = &l->held[d];
    if (h->pkt && --h->left == 0) {
        struct vlink_pkt *held = h->pkt;
        h->pkt = NULL;
        held->due_us = due;
        queue_insert(l, held); /* same instant, queued later: delivered right after */
    }
}

/* ---- impairments, in the order they apply to a packet being sent -------- */

static bool take_count_rule(struct vlink_count_rule *rules, unsigned *n, int from, int to,
                            const struct vlink_peek *pk)
{
    for (unsigned i = 0; i < *n; i++) {
        if (!packet_matches(&rules[i].m, from, to, pk))
            continue;
        if (--rules[i].count == 0) {
            memmove(&rules[i], &rules[i + 1], (*n - i - 1) * sizeof rules[0]);
            (*n)--;
        }
        return true;
    }
    return false;
}

static bool random_loss(struct vlink *l, int from, int to)
{
    bool lost = false;
    for (unsigned i = 0; i < l->nlosses; i++) {
        const struct vlink_dir_rule *r = &l->losses[i];
        if (host_matches(r->from, from) && host_matches(r->to, to) && prng_unit(l) < r->p)
            lost = true;
    }
    return lost;
}

static uint64_t added_delay(const struct vlink *l, int from, int to)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < l->ndelays; i++)
        if (host_matches(l->delays[i].from, from) && host_matches(l->delays[i].to, to))
            sum += l->delays[i].delay_us;
    return sum;
}

static struct vlink_reorder_rule *reorder_rule_for(struct vlink *l, int from, int to,
                                                   const struct vlink_peek *pk)
{
    for (unsigned i = 0; i < l->nreorders; i++)
        if (packet_matches(&l->reorders[i].m, from, to, pk))
            return &l->reorders[i];
    return NULL;
}

static void remove_reorder_rule(struct vlink *l, struct vlink_reorder_rule *r)
{
    unsigned i = (unsigned)(r - l->reorders);
    memmove(&l->reorders[i], &l->reorders[i + 1], (l->nreorders - i - 1) * sizeof *r);
    l->nreorders--;
}

static void lose(struct vlink *l, struct vlink_pkt *p, enum tev_link_action why)
{
    emit_pkt(l, why, p, 0, 0);
    l->stats.lost++;
    free(p);
}

/* A stack handed the link a packet (its output callback). */
static void host_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct vlink_host *src = ctx;
    struct vlink *l = src->link;
    l->stats.sent++;

    struct vlink_peek pk;
    peek_packet(pkt, len, &pk);
    int to = -1;
    for (int i = 0; pk.ipv4 && i < l->nhosts; i++)
        if (l->hosts[i].addr == pk.dst)
            to = i;
    if (to < 0) {
        char dst[16];
        wire_addr_str(pk.dst, dst);
        emit_link(l, TEV_LINK_LOST, src->name, pk.ipv4 ? dst : "?", pkt, len, 0, 0);
        l->stats.lost++;
        return;
    }

    struct vlink_pkt *p = malloc(sizeof *p + len);
    if (!p) {
        l->stats.lost++;
        return;
    }
    memset(p, 0, sizeof *p);
    p->from = src->index;
    p->to = to;
    p->len = len;
    memcpy(p->data, pkt, len);

    if (l->cut) {
        lose(l, p, TEV_LINK_CUT);
        return;
    }
    if (take_count_rule(l->drops, &l->ndrops, p->from, to, &pk) || random_loss(l, p->from, to)) {
        lose(l, p, TEV_LINK_LOST);
        return;
    }

    uint64_t due = l->now + l->cfg.latency_us;
    uint64_t delay = added_delay(l, p->from, to);
    if (delay) {
        due += delay;
        l->stats.delayed++;
        emit_pkt(l, TEV_LINK_DELAYED, p, due, (long)delay);
    }

    bool dup = take_count_rule(l->dups, &l->ndups, p->from, to, &pk);
    struct vlink_pkt *copy = dup ? pkt_copy(p) : NULL;

    int d = dir_index(p->from, to);
    struct vlink_reorder_rule *r = l->held[d].pkt ? NULL : reorder_rule_for(l, p->from, to, &pk);
    if (r) {
        /* Held back: the next packet on this direction goes first. */
        uint64_t release = r->hold_us ? due + r->hold_us : TCP_TIME_NEVER;
        l->held[d].left = r->by;
        remove_reorder_rule(l, r);
        l->held[d].pkt = p;
        l->held[d].release_us = release;
        l->stats.reordered++;
        emit_pkt(l, TEV_LINK_REORDERED, p, release == TCP_TIME_NEVER ? 0 : release, 0);
    } else {
        send_in_order(l, p, due);
    }
    if (copy) {
        l->stats.duplicated++;
        emit_pkt(l, TEV_LINK_DUPLICATED, copy, due, 0);
        send_in_order(l, copy, due);
    }
}

/* Every event of every host goes to the link's sink, in the order it happens. */
static void host_event(void *ctx, const struct tev *ev)
{
    emit(ctx, ev);
}

/* ---- public API ---------------------------------------------------------- */

void vlink_config_defaults(struct vlink_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    cfg->latency_us = 500;
    cfg->start_us = 0;
}

struct vlink *vlink_new(const struct vlink_config *cfg)
{
    struct vlink *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->cfg = *cfg;
    l->now = cfg->start_us;
    uint64_t x = cfg->seed;
    for (int i = 0; i < 4; i++)
        l->prng[i] = splitmix64(&x);
    return l;
}

void vlink_free(struct vlink *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->nhosts; i++) {
        stack_free(l->hosts[i].stack);
        free(l->hosts[i].name);
    }
    while (l->inflight)
        free(queue_pop(l));
    for (int d = 0; d < VLINK_NDIRS; d++)
        free(l->held[d].pkt);
    free(l);
}

int vlink_add_host(struct vlink *l, const struct stack_config *cfg)
{
    if (l->nhosts >= VLINK_MAX_HOSTS)
        return -1;
    for (int i = 0; i < l->nhosts; i++)
        if (l->hosts[i].addr == cfg->addr)
            return -1; /* routing by address needs each address once */

    int index = l->nhosts;
    struct vlink_host *h = &l->hosts[index];
    char fallback[16];
    snprintf(fallback, sizeof fallback, "host%d", index);
    h->name = strdup(cfg->name ? cfg->name : fallback);
    if (!h->name)
        return -1;
    h->link = l;
    h->index = index;
    h->addr = cfg->addr;

    struct stack_config c = *cfg;
    c.name = h->name;
    c.output = host_output;
    c.output_ctx = h;
    c.on_event = host_event;
    c.event_ctx = l;
    l->nhosts++; /* before stack_new, which may already emit events */
    h->stack = stack_new(&c);
    if (!h->stack) {
        l->nhosts--;
        free(h->name);
        h->name = NULL;
        return -1;
    }
    return index;
}

struct stack *vlink_stack(struct vlink *l, int host)
{
    return host >= 0 && host < l->nhosts ? l->hosts[host].stack : NULL;
}

const char *vlink_host_name(const struct vlink *l, int host)
{
    return host >= 0 && host < l->nhosts ? l->hosts[host].name : NULL;
}

int vlink_host_by_name(const struct vlink *l, const char *name)
{
    for (int i = 0; i < l->nhosts; i++)
        if (!strcmp(l->hosts[i].name, name))
            return i;
    return -1;
}

int vlink_nhosts(const struct vlink *l)
{
    return l->nhosts;
}

uint64_t vlink_now(const struct vlink *l)
{
    return l->now;
}

static uint64_t next_held_release(const struct vlink *l)
{
    uint64_t t = TCP_TIME_NEVER;
    for (int d = 0; d < VLINK_NDIRS; d++)
        if (l->held[d].pkt && l->held[d].release_us < t)
            t = l->held[d].release_us;
    return t;
}

uint64_t vlink_next_time(const struct vlink *l)
{
    uint64_t t = next_held_release(l);
    if (l->inflight && l->inflight->due_us < t)
        t = l->inflight->due_us;
    for (int i = 0; i < l->nhosts; i++) {
        uint64_t d = stack_next_deadline(l->hosts[i].stack);
        if (d < t)
            t = d;
    }
    return t;
}

/* Held packets whose hold time is over go in flight, due now. */
static bool release_held(struct vlink *l)
{
    bool any = false;
    for (int d = 0; d < VLINK_NDIRS; d++) {
        struct vlink_held *h = &l->held[d];
        if (h->pkt && h->release_us <= l->now) {
            struct vlink_pkt *p = h->pkt;
            h->pkt = NULL;
            send_in_order(l, p, l->now);
            any = true;
        }
    }
    return any;
}

static bool deliver_due(struct vlink *l)
{
    bool any = false;
    while (l->inflight && l->inflight->due_us <= l->now) {
        struct vlink_pkt *p = queue_pop(l);
        any = true;
        if (l->cut) {
            lose(l, p, TEV_LINK_CUT); /* in flight when the cable was cut */
            continue;
        }
        l->stats.delivered++;
        stack_input(l->hosts[p->to].stack, l->now, p->data, p->len);
        free(p);
    }
    return any;
}

static bool tick_due(struct vlink *l)
{
    bool any = false;
    for (int i = 0; i < l->nhosts; i++) {
        if (stack_next_deadline(l->hosts[i].stack) <= l->now) {
            stack_tick(l->hosts[i].stack, l->now);
            any = true;
        }
    }
    return any;
}

bool vlink_step(struct vlink *l, uint64_t limit)
{
    uint64_t next = vlink_next_time(l);
    if (next == TCP_TIME_NEVER || next > limit) {
        if (limit != TCP_TIME_NEVER && limit > l->now)
            l->now = limit;
        return false;
    }
    if (next > l->now)
        l->now = next;
    /* Everything due at this instant: packets first, then timers; repeat in
     * case that produced more work for the same instant (zero latency). */
    for (int round = 0; round < VLINK_MAX_ROUNDS_PER_INSTANT; round++) {
        bool did = release_held(l);
        did |= deliver_due(l);
        did |= tick_due(l);
        if (!did)
            break;
    }
    return true;
}

void vlink_run_until(struct vlink *l, uint64_t t)
{
    while (vlink_step(l, t))
        ;
}

/* True if nothing will happen before `until` apart from packets held for
 * reordering with no time limit (they wait for traffic that may never come). */
static bool idle_until(const struct vlink *l, uint64_t until)
{
    if (l->inflight || next_held_release(l) != TCP_TIME_NEVER)
        return false;
    uint64_t next = vlink_next_time(l);
    return next == TCP_TIME_NEVER || next > until;
}

bool vlink_run_idle(struct vlink *l, uint64_t horizon_us, unsigned long max_steps)
{
    for (unsigned long steps = 0;; steps++) {
        uint64_t until =
            l->now > TCP_TIME_NEVER - horizon_us ? TCP_TIME_NEVER : l->now + horizon_us;
        if (idle_until(l, until))
            return true;
        if (steps >= max_steps)
            return false;
        vlink_step(l, TCP_TIME_NEVER);
    }
}

/* ---- impairment setters -------------------------------------------------- */

static void add_count_rule(struct vlink_count_rule *rules, unsigned *n, const struct vlink_match *m,
                           unsigned count)
{
    if (count == 0 || *n >= VLINK_MAX_RULES)
        return;
    rules[*n].m = *m;
    rules[*n].count = count;
    (*n)++;
}

void vlink_drop_next(struct vlink *l, const struct vlink_match *m, unsigned count)
{
    add_count_rule(l->drops, &l->ndrops, m, count);
}

void vlink_duplicate_next(struct vlink *l, const struct vlink_match *m, unsigned count)
{
    add_count_rule(l->dups, &l->ndups, m, count);
}

void vlink_reorder_next_by(struct vlink *l, const struct vlink_match *m, uint64_t hold_us,
                           unsigned by)
{
    if (l->nreorders >= VLINK_MAX_RULES)
        return;
    l->reorders[l->nreorders].m = *m;
    l->reorders[l->nreorders].hold_us = hold_us;
    l->reorders[l->nreorders].by = by ? by : 1;
    l->nreorders++;
}

void vlink_reorder_next(struct vlink *l, const struct vlink_match *m, uint64_t hold_us)
{
    vlink_reorder_next_by(l, m, hold_us, 1);
}

/* Set (or with value 0, remove) the rule for exactly this (from, to). */
static void set_dir_rule(struct vlink_dir_rule *rules, unsigned *n, int from, int to, double p,
                         uint64_t delay_us)
{
    bool remove = p <= 0 && delay_us == 0;
    for (unsigned i = 0; i < *n; i++) {
        if (rules[i].from != from || rules[i].to != to)
            continue;
        if (remove) {
            memmove(&rules[i], &rules[i + 1], (*n - i - 1) * sizeof rules[0]);
            (*n)--;
        } else {
            rules[i].p = p;
            rules[i].delay_us = delay_us;
        }
        return;
    }
    if (remove || *n >= VLINK_MAX_RULES)
        return;
    rules[*n] = (struct vlink_dir_rule){.from = from, .to = to, .p = p, .delay_us = delay_us};
    (*n)++;
}

void vlink_set_loss(struct vlink *l, int from, int to, double p)
{
    if (p > 1)
        p = 1;
    set_dir_rule(l->losses, &l->nlosses, from, to, p, 0);
}

void vlink_set_delay(struct vlink *l, int from, int to, uint64_t delay_us)
{
    set_dir_rule(l->delays, &l->ndelays, from, to, 0, delay_us);
}

void vlink_cut(struct vlink *l)
{
    if (l->cut)
        return;
    l->cut = true;
    emit_link(l, TEV_LINK_CABLE, "link", "link", NULL, 0, 0, 0);
}

void vlink_restore(struct vlink *l)
{
    if (!l->cut)
        return;
    l->cut = false;
    emit_link(l, TEV_LINK_CABLE, "link", "link", NULL, 0, 0, 1);
}

bool vlink_is_cut(const struct vlink *l)
{
    return l->cut;
}

void vlink_get_stats(const struct vlink *l, struct vlink_stats *out)
{
    *out = l->stats;
}
