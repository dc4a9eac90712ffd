/*
 * tcp_conn.c — the life of a connection block (RFC 9293 §3.3.1 TCB): its
 * creation, every change of state, and its end.
 *
 * tcp_set_state() is the only place a connection's state changes. It checks
 * the change against the table of Figure 5 (tcp_state.c), reports it as a
 * TEV_STATE event with a cause a student can read ("rcvd SYN,ACK",
 * "close()", "2MSL timeout"), and does what entering the new state implies.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

struct tcp_conn *conn_new(struct stack *s)
{
    struct tcp_conn *c = stack_mem_alloc(s, sizeof *c, STACK_MEM_CONN);
    if (!c)
        return NULL;
    c->sd = -1;
    c->node.kind = TCP_NODE_CONN;
    c->node.heap_idx = TCP_HEAP_NONE;
    c->node.deadline = TCP_TIME_NEVER;
    for (int t = 0; t < TCP_NTIMERS; t++)
        c->timers[t] = TCP_TIME_NEVER;
    c->state = TCP_CLOSED;
    c->sndbuf = s->cfg.sndbuf;
    c->rcvbuf = s->cfg.rcvbuf;
    c->opt_nodelay = !s->cfg.nagle;
    c->opt_delack = s->cfg.delayed_ack;
    c->ka_idle_us = s->cfg.keepalive_idle_us;
    c->ka_intvl_us = s->cfg.keepalive_intvl_us;
    c->ka_cnt = s->cfg.keepalive_probes;
    c->ip_ttl = s->cfg.ttl;
    c->mss = 536; /* RFC 9293 §3.7.1: the default send MSS until told otherwise */
    tcp_rtt_init_2_1(&c->rtt, &s->cfg);
    return c;
}

void conn_destroy(struct stack *s, struct tcp_conn *c)
{
    rbuf_release(s, &c->sndq);
    rbuf_release(s, &c->rcvq);
    stack_mem_free(s, c, sizeof *c, STACK_MEM_CONN);
}

void conn_maybe_bury(struct stack *s, struct tcp_conn *c)
{
    if (c->dead || c->sd >= 0 || c->listener || c->state != TCP_CLOSED)
        return;
    c->ooo.n = 0;
    tcp_ooo_account(s, c);
    c->dead = 1;
    c->qnext = s->graveyard;
    s->graveyard = c;
}

/* Take a passive open out of its listener's SYN or accept queue. */
static void conn_detach_from_listener(struct tcp_conn *c)
{
    struct tcp_conn *l = c->listener;
    if (!l)
        return;
    if (c->in_accept_q) {
        struct tcp_conn **pp = &l->acc_head, *prev = NULL;
        while (*pp && *pp != c) {
            prev = *pp;
            pp = &(*pp)->qnext;
        }
        if (*pp) {
            *pp = c->qnext;
            if (l->acc_tail == c)
                l->acc_tail = prev;
            l->acc_q_len--;
        }
        c->in_accept_q = 0;
    } else if (l->syn_q_len) {
        l->syn_q_len--;
    }
    c->qnext = NULL;
    c->listener = NULL;
}

void conn_drop_child(struct stack *s, struct tcp_conn *c)
{
    tcp_timer_cancel_all(s, c);
    conn_hash_remove(s, c);
    port_unref(s, c);
    conn_detach_from_listener(c);
    if (c->state != TCP_CLOSED)
        c->state = TCP_CLOSED; /* already reported (→ LISTEN or → CLOSED) */
    conn_maybe_bury(s, c);
}

/* RFC 9293 §3.6.1 and §3.10.7.4: TIME_WAIT only has to remember the
 * 4-tuple, RCV.NXT and SND.NXT for 2*MSL, so the buffers go (unless the
 * application still has data to read), and once no descriptor refers to
 * it the block gives way to a small record (tcp_tw.c). */
static void conn_enter_time_wait(struct stack *s, struct tcp_conn *c)
{
    tcp_timer_cancel_all(s, c);
    rbuf_release(s, &c->sndq);
    if (c->sd < 0 || c->rcvq.len == 0)
        rbuf_release(s, &c->rcvq);
    c->ooo.n = 0;
    tcp_ooo_account(s, c);
    s->stats.conns_time_wait++;
    tcp_timer_arm(s, c, TCP_TIMER_TIME_WAIT, s->now + 2 * s->cfg.msl_us);
    tcp_tw_enter(s, c);
    tcp_tw_note(s, c); /* a record at the end of the call, if nothing else is left */
}

/* CLOSED: "delete the TCB". The block leaves the tables at once; the memory
 * goes when no descriptor refers to it (the application may still read the
 * data received before the end, then the error). */
static void conn_enter_closed(struct stack *s, struct tcp_conn *c)
{
    tcp_timer_cancel_all(s, c);
    conn_hash_remove(s, c);
    listener_remove(s, c);
    port_unref(s, c);
    rbuf_release(s, &c->sndq);
    if (c->sd < 0)
        rbuf_release(s, &c->rcvq);
    c->ooo.n = 0;
    tcp_ooo_account(s, c);
    c->ack_tpl.len = 0; /* another connection on this block gets its own */
    conn_detach_from_listener(c);
    conn_maybe_bury(s, c);
}

void tcp_set_state(struct stack *s, struct tcp_conn *c, enum tcp_state to, const char *cause)
{
    enum tcp_state from = c->state;
    assert(tcp_transition_legal(from, to));
    if (from == to)
        return;
    c->state = (uint8_t)to;
    if (from == TCP_TIME_WAIT) {
        s->stats.conns_time_wait--;
        tcp_tw_leave(s, &c->node);
    }
    if (stack_observed(s) || s->cfg.on_ready) {
        struct tev ev;
        stack_event_init(s, &ev, TEV_STATE, c);
        ev.u.state.from = from;
        ev.u.state.to = to;
        ev.u.state.cause = cause;
        stack_emit(s, &ev);
        if (s->cfg.on_ready)
            s->cfg.on_ready(s->cfg.ready_ctx, c->sd, &ev);
    }
    switch (to) {
    case TCP_ESTABLISHED:
        if (!c->connected) {
            c->recover = c->iss; /* RFC 6582 §3.2 step 1 */
            tcp_cc_init(s, c);
        }
        c->connected = 1;
        tcp_timer_arm_keepalive(s, c);
        break;
    case TCP_TIME_WAIT:
        conn_enter_time_wait(s, c);
        break;
    case TCP_CLOSED:
        conn_enter_closed(s, c);
        break;
    default:
        break;
    }
}

void tcp_conn_fail(struct stack *s, struct tcp_conn *c, int err, const char *cause)
{
    c->err = err;
    c->err_taken = 0;
    tcp_set_state(s, c, TCP_CLOSED, cause);
}

void conn_fill_status(const struct stack *s, const struct tcp_conn *c, struct tcp_status *st)
{
    memset(st, 0, sizeof *st);
    st->state = c->state;
    st->tuple = c->tuple;
    st->error = c->err_taken ? 0 : c->err;
    st->listening = c->listening;
    if (c->listening) {
        st->syn_queue_len = c->syn_q_len;
        st->accept_queue_len = c->acc_q_len;
        st->backlog = c->backlog;
    }
    st->iss = c->iss;
    st->irs = c->irs;
    st->snd_una = c->snd_una;
    st->snd_nxt = c->snd_nxt;
    st->snd_wnd = c->snd_wnd;
    st->urgent_pending = tcp_urgent_pending(c);
    st->rcv_nxt = c->rcv_nxt;
    st->rcv_wnd = tcp_rcv_space(c);
    st->send_queue = c->sndq.len;
    st->recv_queue = c->rcvq.len;
    st->mss = c->mss;
    st->snd_wscale = c->snd_wscale;
    st->rcv_wscale = c->rcv_wscale;
    st->ts_ok = c->ts_ok;
    st->ts_recent = c->ts_recent;
    st->srtt_us = c->rtt.srtt_us;
    st->rttvar_us = c->rtt.rttvar_us;
    st->rto_us = c->rtt.rto_us;
    st->cwnd = c->cc.ops ? c->cc.cwnd : 0;
    st->ssthresh = c->cc.ops ? c->cc.ssthresh : 0;
    st->cc_phase = (enum tcp_cc_phase)c->cc.phase;
    st->backoff = c->backoff;
    memcpy(st->timers, c->timers, sizeof st->timers);
    (void)s;
}
