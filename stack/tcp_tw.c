/*
 * tcp_tw.c — TIME_WAIT records: what a connection in TIME_WAIT keeps once
 * no descriptor refers to it.
 *
 * RFC 9293 §3.6.1: TIME_WAIT keeps a connection for 2*MSL so that its old
 * duplicates die before the 4-tuple is used again, and so that a lost ACK
 * of the peer's FIN can be sent again. For that it needs the 4-tuple, the
 * sequence numbers, the window it advertised, the timestamps (RFC 7323 PAWS,
 * RFC 6191's reopening), the send window for RFC 5961's ACK test and the
 * challenge-ACK rate limit: struct tcp_tw, 136 bytes, instead of a 900-odd
 * byte block whose congestion control, RTT estimator, SACK scoreboard and
 * rings TIME_WAIT never reads. A busy server has far more connections in
 * TIME_WAIT than open ones, so that is most of what it holds.
 *
 * The record is the block's stand-in in the same 4-tuple table, timer heap
 * and TIME_WAIT list (struct tcp_node, conn_table.c, tcp_limit.c):
 *   - at the end of each call (stack_reap), a block in TIME_WAIT without a
 *     descriptor that has nothing left but TIME_WAIT — no ACK held for the
 *     batch, no timer but 2MSL, no urgent pointer, no pending error —
 *     becomes a record (tcp_tw_compact_noted); any other block stays whole;
 *   - a segment for the 4-tuple turns the record back into a block
 *     (tcp_tw_expand, from tcp_input), so the steps of tcp_in.c run on a
 *     block exactly as before, and the block becomes a record again at the
 *     end of that call if it is still in TIME_WAIT;
 *   - its 2MSL timeout and the TIME_WAIT limit close the record as it is,
 *     with the events tcp_set_state() would have reported (tcp_tw_close).
 * So the event stream, every golden trace and every packet are the same
 * with and without records; only the memory differs.
 */
#include <string.h>

#include "tcp_internal.h"

/* ---- which blocks become records --------------------------------------------- */

void tcp_tw_note(struct stack *s, struct tcp_conn *c)
{
    if (c->tw_pending)
        return;
    c->tw_pending = 1;
    c->tw_pending_next = s->tw_noted;
    s->tw_noted = c;
}

/* Has the block nothing left but what a record keeps? Every field a record
 * does not keep either is not read in TIME_WAIT or has the value checked
 * here, which tcp_tw_expand() gives it back. */
static bool tcp_tw_compactable(const struct stack *s, const struct tcp_conn *c)
{
    if (s->cfg.time_wait_blocks || c->state != TCP_TIME_WAIT || c->sd >= 0 || c->dead ||
        c->listener || c->listening || c->in_accept_q || !c->hashed)
        return false;
    if (c->ack_owed || c->ack_held || c->err || c->snd_urg || c->rcv_urg || c->backoff ||
        c->rcv_fin_held || !c->rcv_fin || !c->fin_queued || !c->connected)
        return false;
    for (int t = 0; t < TCP_NTIMERS; t++)
        if (t != TCP_TIMER_TIME_WAIT && c->timers[t] != TCP_TIME_NEVER)
            return false;
    if (c->sndq.buf || c->rcvq.buf || c->ooo.n || c->ooo_held || c->srcv.dsack || c->sb.n)
        return false;
    /* our FIN sent and acknowledged, the peer's received */
    return c->snd_una == c->snd_nxt && c->snd_max == c->snd_nxt && c->fin_seq + 1 == c->snd_nxt &&
           c->rcv_fin_seq + 1 == c->rcv_nxt;
}

/* Put `to` where `from` is in the table, the heap and the TIME_WAIT list. */
static void tcp_tw_replace(struct stack *s, struct tcp_node *from, struct tcp_node *to)
{
    struct tcp_node **pp = conn_hash_link(s, from);
    *pp = to;
    to->hnext = from->hnext;
    to->deadline = from->deadline;
    to->heap_idx = from->heap_idx;
    if (to->heap_idx != TCP_HEAP_NONE)
        s->heap[to->heap_idx] = to;
    to->tw_prev = from->tw_prev;
    to->tw_next = from->tw_next;
    if (to->tw_prev)
        to->tw_prev->tw_next = to;
    else
        s->tw_head = to;
    if (to->tw_next)
        to->tw_next->tw_prev = to;
    else
        s->tw_tail = to;
}

/* The fields a record keeps, by the name they have in both structs: one
 * list, so what is saved is what is given back. */
/* clang-format off */
#define TCP_TW_KEPT(X)                                                                  \
    X(tuple) X(iss) X(irs) X(snd_nxt) X(snd_wnd) X(snd_wl1) X(snd_wl2) X(max_snd_wnd)   \
    X(rcv_nxt) X(rcv_adv) X(rcvbuf)                                                     \
    X(ts_offset) X(ts_recent) X(last_ack_sent) X(ts_last_sent) X(ts_recent_us)          \
    X(last_oow_ack_us) X(mss) X(snd_wscale) X(rcv_wscale) X(ip_ttl) X(ip_tos)           \
    X(bound) X(passive) X(ws_ok) X(sack_ok) X(ts_ok) X(oow_acked)
/* clang-format on */

static void tcp_tw_compact(struct stack *s, struct tcp_conn *c)
{
    struct tcp_tw *tw = stack_mem_alloc(s, sizeof *tw, STACK_MEM_TW);
    if (!tw)
        return; /* the block stays: bigger, just as correct */
    tw->node.kind = TCP_NODE_TW;
    tcp_timer_settle(s, c); /* the record's key is its 2MSL deadline, exactly */
#define TCP_TW_SAVE(f) tw->f = c->f;
    TCP_TW_KEPT(TCP_TW_SAVE)
#undef TCP_TW_SAVE
    tcp_tw_replace(s, &c->node, &tw->node);
    conn_destroy(s, c);
    s->stats.time_wait_records++;
}

void tcp_tw_compact_noted(struct stack *s)
{
    struct tcp_conn **pp = &s->tw_noted;
    while (*pp) {
        struct tcp_conn *c = *pp;
        if (c->state == TCP_TIME_WAIT && c->ack_held) {
            pp = &c->tw_pending_next; /* its ACK goes at the batch's end: then */
            continue;
        }
        *pp = c->tw_pending_next;
        c->tw_pending = 0;
        c->tw_pending_next = NULL;
        if (tcp_tw_compactable(s, c))
            tcp_tw_compact(s, c);
    }
}

/* ---- a record back as a block ------------------------------------------------- */

struct tcp_conn *tcp_tw_expand(struct stack *s, struct tcp_tw *tw)
{
    struct tcp_conn *c = conn_new(s);
    if (!c)
        return NULL;
#define TCP_TW_RESTORE(f) c->f = tw->f;
    TCP_TW_KEPT(TCP_TW_RESTORE)
#undef TCP_TW_RESTORE
    /* what follows from TIME_WAIT (tcp_tw_compactable); the rest is
     * conn_new()'s: zero, or the stack's defaults */
    c->state = TCP_TIME_WAIT;
    c->hashed = 1;
    c->connected = 1;
    c->fin_queued = 1;
    c->rcv_fin = 1;
    c->snd_una = c->snd_max = tw->snd_nxt;
    c->fin_seq = tw->snd_nxt - 1;
    c->rcv_fin_seq = tw->rcv_nxt - 1;
    c->timers[TCP_TIMER_TIME_WAIT] = tw->node.deadline;
    tcp_tw_replace(s, &tw->node, &c->node);
    c->node.kind = TCP_NODE_CONN;
    stack_mem_free(s, tw, sizeof *tw, STACK_MEM_TW);
    s->stats.time_wait_records--;
    tcp_tw_note(s, c);
    return c;
}

/* ---- the end of a record ------------------------------------------------------ */

static void tcp_tw_timer_event(struct stack *s, const struct tcp_tw *tw,
                               enum tev_timer_action action, uint64_t deadline)
{
    struct tev ev;
    stack_event_init_tuple(s, &ev, TEV_TIMER, -1, &tw->tuple);
    ev.u.timer.which = TCP_TIMER_TIME_WAIT;
    ev.u.timer.action = action;
    ev.u.timer.deadline_us = deadline;
    ev.u.timer.backoff = 0; /* a record's block had none (tcp_tw_compactable) */
    stack_emit(s, &ev);
}

/* As tcp_set_state(c, TCP_CLOSED) and conn_enter_closed() for a block in
 * TIME_WAIT without a descriptor: the state event, the 2MSL timer
 * cancelled if it still runs, out of the table, the port let go. */
void tcp_tw_close(struct stack *s, struct tcp_tw *tw, const char *cause)
{
    s->stats.conns_time_wait--;
    tcp_tw_leave(s, &tw->node);
    if (stack_observed(s)) {
        struct tev ev;
        stack_event_init_tuple(s, &ev, TEV_STATE, -1, &tw->tuple);
        ev.u.state.from = TCP_TIME_WAIT;
        ev.u.state.to = TCP_CLOSED;
        ev.u.state.cause = cause;
        stack_emit(s, &ev);
    }
    if (tw->node.deadline != TCP_TIME_NEVER) {
        uint64_t was = tw->node.deadline;
        tw->node.deadline = TCP_TIME_NEVER;
        conn_heap_update(s, &tw->node);
        if (stack_observed(s))
            tcp_tw_timer_event(s, tw, TEV_TIMER_CANCEL, was);
    }
    struct tcp_node **pp = conn_hash_link(s, &tw->node);
    if (*pp)
        *pp = tw->node.hnext;
    s->nhashed--;
    if (tw->bound)
        port_unref_port(s, tw->tuple.lport);
    stack_mem_free(s, tw, sizeof *tw, STACK_MEM_TW);
    s->stats.time_wait_records--;
}

/* "If the time-wait timeout expires on a connection, delete the TCB, enter
 * the CLOSED state, and return." (tcp_timers_run, as tcp_timeout_time_wait) */
void tcp_tw_timeout(struct stack *s, struct tcp_tw *tw)
{
    uint64_t when = tw->node.deadline;
    tw->node.deadline = TCP_TIME_NEVER;
    conn_heap_update(s, &tw->node);
    if (stack_observed(s))
        tcp_tw_timer_event(s, tw, TEV_TIMER_FIRE, when);
    tcp_tw_close(s, tw, "2MSL timeout");
}

void tcp_tw_free(struct stack *s, struct tcp_tw *tw)
{
    stack_mem_free(s, tw, sizeof *tw, STACK_MEM_TW);
    s->stats.time_wait_records--;
}

/* tcp_status of a record: what conn_fill_status() says of its block. The
 * round-trip estimator and congestion control are not kept: zero (Linux's
 * `ss -ti` has no such line for a TIME_WAIT socket either). */
void tcp_tw_fill_status(const struct tcp_tw *tw, struct tcp_status *st)
{
    memset(st, 0, sizeof *st);
    st->state = TCP_TIME_WAIT;
    st->tuple = tw->tuple;
    st->iss = tw->iss;
    st->irs = tw->irs;
    st->snd_una = st->snd_nxt = tw->snd_nxt;
    st->snd_wnd = tw->snd_wnd;
    st->rcv_nxt = tw->rcv_nxt;
    uint32_t max = 65535u << tw->rcv_wscale;
    st->rcv_wnd = tw->rcvbuf < max ? tw->rcvbuf : max; /* tcp_rcv_space(), nothing queued */
    st->mss = tw->mss;
    st->snd_wscale = tw->snd_wscale;
    st->rcv_wscale = tw->rcv_wscale;
    st->ts_ok = tw->ts_ok;
    st->ts_recent = tw->ts_recent;
    for (int t = 0; t < TCP_NTIMERS; t++)
        st->timers[t] = TCP_TIME_NEVER;
    st->timers[TCP_TIMER_TIME_WAIT] = tw->node.deadline;
}
