/*
 * vlink.h — the virtual link: stacks joined in memory under a discrete-event
 * clock, with deterministic impairments.
 *
 * This is the simulation side of tun/ in docs/architecture.md. A `struct vlink` owns a
 * virtual clock, a set of attached stacks (hosts, routed by IPv4 address) and
 * the packets in flight between them. vlink_step() jumps the clock straight
 * to the next thing that happens — a packet's arrival or a stack's timer — so
 * a 2*MSL wait costs no wall time. Every impairment is decided by rules or by
 * a PRNG seeded at creation, so the same seed gives the same run, byte for
 * byte.
 *
 * Impairments (each reported as a TEV_LINK event):
 *   drop the next N packets matching a direction and flags; drop at random
 *   with a probability; delay; duplicate; reorder (hold one packet so the
 *   next overtakes it); cut and restore the cable.
 */
#ifndef TCPLAB_VLINK_H
#define TCPLAB_VLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../stack/event.h"
#include "../stack/tcp.h"

#define VLINK_MAX_HOSTS 8
#define VLINK_ANY (-1) /* matches any host in a rule's from/to */

struct vlink_config {
    uint64_t seed;          /* PRNG seed for random impairments */
    uint64_t latency_us;    /* one-way propagation delay (default 500 us) */
    uint64_t start_us;      /* initial clock value (default 0) */
    tev_fn on_event;        /* receives TEV_LINK events and every host's events */
    void *event_ctx;
};
void vlink_config_defaults(struct vlink_config *cfg);

struct vlink;

struct vlink *vlink_new(const struct vlink_config *cfg);
void vlink_free(struct vlink *l);   /* frees the attached stacks too */

/* Create a stack on the link. The link fills in cfg->output and
 * cfg->on_event (events are forwarded to the link's on_event); everything
 * else is the caller's. Returns the host index (0, 1, ...) or -1. */
int vlink_add_host(struct vlink *l, const struct stack_config *cfg);
struct stack *vlink_stack(struct vlink *l, int host);
const char *vlink_host_name(const struct vlink *l, int host);
int vlink_host_by_name(const struct vlink *l, const char *name);
int vlink_nhosts(const struct vlink *l);

uint64_t vlink_now(const struct vlink *l);

/* The time of the next thing that will happen (a delivery or a timer), or
 * TCP_TIME_NEVER. */
uint64_t vlink_next_time(const struct vlink *l);

/* Advance to the next thing that happens, if it is at or before `limit`, and
 * do it (deliver all packets due then, fire all timers due then). Returns
 * true if something happened; otherwise sets the clock to `limit` and
 * returns false. */
bool vlink_step(struct vlink *l, uint64_t limit);

/* Step until the clock reaches t (nothing left before t). */
void vlink_run_until(struct vlink *l, uint64_t t);

/* Step until nothing is left in flight and no timer is due before
 * now + horizon_us; returns false if max_steps was reached first. */
bool vlink_run_idle(struct vlink *l, uint64_t horizon_us, unsigned long max_steps);

/* ---- impairments -------------------------------------------------------- */

/* A packet matches when it goes from `from` to `to` (host index or
 * VLINK_ANY) and (flags & mask) == value; mask 0 matches any packet. With
 * `payload_only`, only segments carrying data match. */
struct vlink_match {
    int from, to;
    uint8_t mask, value;
    bool payload_only;
};

/* Drop the next `count` matching packets. */
void vlink_drop_next(struct vlink *l, const struct vlink_match *m, unsigned count);
/* Drop each matching packet with probability p (0..1); p = 0 removes the rule. */
void vlink_set_loss(struct vlink *l, int from, int to, double p);
/* Add delay_us to every packet from -> to from now on (0 removes it). */
void vlink_set_delay(struct vlink *l, int from, int to, uint64_t delay_us);
/* Deliver the next `count` matching packets twice. */
void vlink_duplicate_next(struct vlink *l, const struct vlink_match *m, unsigned count);
/* Hold the next matching packet back until after the one that follows it on
 * the same direction (or hold_us, whichever comes first). */
void vlink_reorder_next(struct vlink *l, const struct vlink_match *m, uint64_t hold_us);
/* The same, until `by` (1 or more) packets have overtaken it. */
void vlink_reorder_next_by(struct vlink *l, const struct vlink_match *m, uint64_t hold_us,
                           unsigned by);
/* Cut the cable: every packet is lost until vlink_restore(). */
void vlink_cut(struct vlink *l);
void vlink_restore(struct vlink *l);
bool vlink_is_cut(const struct vlink *l);

/* Packets lost / delivered so far, for tests. */
struct vlink_stats {
    uint64_t sent, delivered, lost, duplicated, reordered, delayed;
};
void vlink_get_stats(const struct vlink *l, struct vlink_stats *out);

#endif
