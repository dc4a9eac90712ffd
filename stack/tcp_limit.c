/*
 * tcp_limit.c — hard limits on what remote peers can make the stack hold.
 *
 * A peer (or a thousand spoofed ones) decides how many SYNs arrive, how
 * much text it sends out of order and how many connections it closes
 * first; each of those costs memory here. The limits are fields of
 * struct stack_config, and each one reached is counted in stack_stats:
 *
 *   max_conns      connection blocks of any state; a SYN that would make one
 *                  more is dropped (reason conn_limit). Listeners, and blocks
 *                  the application opens itself, do not need the check.
 *   SYN queue      per listener, its backlog (tcp_listen); when full, a SYN
 *                  is answered with a SYN cookie (syncookie.c) or dropped.
 *   max_ooo_conn   out-of-order bytes one connection holds beyond a hole,
 *   max_ooo_total  and all connections together; a segment that would pass
 *                  either is dropped (ooo_limit) and the peer retransmits it
 *                  once the hole is filled.
 *   max_time_wait  TIME_WAIT entries (blocks or records, tcp_tw.c). One more
 *                  closes the OLDEST (cause
 *                  "TIME_WAIT limit"): it has waited longest, so the
 *                  duplicates it guards against are the likeliest to have
 *                  died already (RFC 9293 §3.6.1); Linux instead refuses the
 *                  new one (tcp_max_tw_buckets).
 * Every check is O(1), so a flood costs a bounded amount of work per packet.
 */
#include "tcp_internal.h"

bool tcp_limit_conn_ok(struct stack *s)
{
    if (s->nhashed < s->cfg.max_conns)
        return true;
    s->stats.limit_conns++;
    return false;
}

uint32_t tcp_asm_bytes(const struct tcp_asm *a)
{
    uint32_t n = 0;
    for (int i = 0; i < a->n; i++)
        n += a->iv[i].len;
    return n;
}

bool tcp_limit_ooo_ok(struct stack *s, const struct tcp_conn *c, uint32_t held_after)
{
    if (held_after <= c->ooo_held)
        return true; /* holds no more than before: always fine */
    uint64_t total = s->ooo_bytes - c->ooo_held + held_after;
    if (held_after <= s->cfg.max_ooo_conn && total <= s->cfg.max_ooo_total)
        return true;
    s->stats.limit_ooo++;
    return false;
}

/* After any change to c->ooo: keep the per-stack total exact. */
void tcp_ooo_account(struct stack *s, struct tcp_conn *c)
{
    if (c->ooo.n == 0 && c->ooo_held == 0)
        return; /* nothing held before or now: the in-order fast path */
    uint32_t held = tcp_asm_bytes(&c->ooo);
    s->ooo_bytes = s->ooo_bytes - c->ooo_held + held;
    c->ooo_held = held;
}

/* c has just entered TIME_WAIT (and been counted): append it to the list,
 * then close the oldest blocks while there are too many. */
void tcp_tw_enter(struct stack *s, struct tcp_conn *c)
{
    struct tcp_node *n = &c->node;
    n->tw_next = NULL;
    n->tw_prev = s->tw_tail;
    if (s->tw_tail)
        s->tw_tail->tw_next = n;
    else
        s->tw_head = n;
    s->tw_tail = n;
    while (s->stats.conns_time_wait > s->cfg.max_time_wait && s->tw_head != n) {
        s->stats.limit_time_wait++;
        static const char cause[] = "TIME_WAIT limit: oldest closed";
        struct tcp_conn *oldest = tcp_node_conn(s->tw_head);
        if (oldest)
            tcp_set_state(s, oldest, TCP_CLOSED, cause);
        else
            tcp_tw_close(s, (struct tcp_tw *)s->tw_head, cause);
    }
}

/* c leaves TIME_WAIT (timeout, new SYN, limit): take it off the list. */
void tcp_tw_leave(struct stack *s, struct tcp_node *n)
{
    if (n->tw_prev)
        n->tw_prev->tw_next = n->tw_next;
    else if (s->tw_head == n)
        s->tw_head = n->tw_next;
    if (n->tw_next)
        n->tw_next->tw_prev = n->tw_prev;
    else if (s->tw_tail == n)
        s->tw_tail = n->tw_prev;
    n->tw_prev = n->tw_next = NULL;
}
