/*
 * tcp_timer.c — RFC 9293 §3.10.8 Timeouts, and the round-trip estimator
 * of RFC 6298 that sets the retransmission timeout.
 *
 * Each connection has one deadline per timer (TCP_TIMER_RTX, PERSIST,
 * KEEPALIVE, DELACK, TIME_WAIT, USER); the earliest of them places the
 * connection in the stack's min-heap, so the stack's next deadline is the
 * heap's top. stack_tick() fires whatever is due, earliest first. Arming,
 * firing and cancelling are reported as TEV_TIMER events.
 *
 * The heap's key may be early, never late: a timer that is cancelled or
 * moves later (the delayed ACK armed and cancelled every second segment,
 * the retransmission timer restarted by every ACK) leaves the key where it
 * was, and the key is put right only when it reaches the top — when the
 * stack is asked for its next deadline or the key comes due
 * (tcp_timer_settle). Between two wake-ups a connection's timers can change
 * many times for one heap update.
 */
#include "tcp_internal.h"

/* RFC 6298's clock granularity G: we count microseconds, but an RTO finer
 * than a millisecond teaches nothing. */
#define TCP_CLOCK_G_US 1000

/* ---- RFC 6298: computing the RTO --------------------------------------------- */

/* (2.4) and (2.5): never below the minimum, never above the maximum. */
static void tcp_rtt_clamp_2_4_2_5(struct tcp_rtt *r, const struct stack_config *cfg)
{
    if (r->rto_us < cfg->rto_min_us)
        r->rto_us = cfg->rto_min_us;
    if (r->rto_us > cfg->rto_max_us)
        r->rto_us = cfg->rto_max_us;
}

/* RTO <- SRTT + max (G, K*RTTVAR), K = 4 */
static void tcp_rtt_set_rto(struct tcp_rtt *r, const struct stack_config *cfg)
{
    uint64_t k = 4 * r->rttvar_us;
    r->rto_us = r->srtt_us + (k > TCP_CLOCK_G_US ? k : TCP_CLOCK_G_US);
    tcp_rtt_clamp_2_4_2_5(r, cfg);
}

/* (2.1) Until a round-trip time measurement has been made, RTO <- 1 second
 * (cfg.rto_initial_us). */
void tcp_rtt_init_2_1(struct tcp_rtt *r, const struct stack_config *cfg)
{
    r->srtt_us = 0;
    r->rttvar_us = 0;
    r->rto_us = cfg->rto_initial_us;
    r->measured = false;
    tcp_rtt_clamp_2_4_2_5(r, cfg);
}

/* (2.2) When the first RTT measurement R is made:
 *   SRTT <- R, RTTVAR <- R/2, RTO <- SRTT + max (G, K*RTTVAR) */
void tcp_rtt_first_sample_2_2(struct tcp_rtt *r, uint64_t rtt_us, const struct stack_config *cfg)
{
    r->srtt_us = rtt_us;
    r->rttvar_us = rtt_us / 2;
    r->measured = true;
    tcp_rtt_set_rto(r, cfg);
}

/* (2.3) When a subsequent RTT measurement R' is made (alpha = 1/8, beta = 1/4):
 *   RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
 *   SRTT <- (1 - alpha) * SRTT + alpha * R'       (RTTVAR first, with the old SRTT) */
void tcp_rtt_next_sample_2_3(struct tcp_rtt *r, uint64_t rtt_us, const struct stack_config *cfg)
{
    uint64_t delta = r->srtt_us > rtt_us ? r->srtt_us - rtt_us : rtt_us - r->srtt_us;
    r->rttvar_us = (3 * r->rttvar_us + delta) / 4;
    r->srtt_us = (7 * r->srtt_us + rtt_us) / 8;
    tcp_rtt_set_rto(r, cfg);
}

void tcp_rtt_sample(struct tcp_rtt *r, uint64_t rtt_us, const struct stack_config *cfg)
{
    if (r->measured)
        tcp_rtt_next_sample_2_3(r, rtt_us, cfg);
    else
        tcp_rtt_first_sample_2_2(r, rtt_us, cfg);
}

/* (5.5) The host MUST set RTO <- RTO * 2 ("back off the timer"); the
 * maximum of (2.5) applies. */
void tcp_rtt_backoff_5_5(struct tcp_rtt *r, const struct stack_config *cfg)
{
    r->rto_us *= 2;
    tcp_rtt_clamp_2_4_2_5(r, cfg);
}

/* (5.7) "If the timer expires awaiting the ACK of a SYN segment and the TCP
 * implementation is using an RTO less than 3 seconds, the RTO MUST be
 * re-initialized to 3 seconds when data transmission begins (i.e., after
 * the three-way handshake completes)." Called only when Karn's rule left
 * no RTT sample (the SYN went out more than once). */
void tcp_rtt_after_lost_syn_5_7(struct tcp_rtt *r, const struct stack_config *cfg)
{
    if (cfg->rto_initial_us < 3000000) {
        r->rto_us = 3000000;
        tcp_rtt_clamp_2_4_2_5(r, cfg);
    }
}

/* ---- arming and cancelling ------------------------------------------------------ */

/* Out of line: only an observer pays for building the event (inlined, its
 * struct tev made every arm and cancel save registers and a frame). */
__attribute__((noinline)) void tcp_timer_event(struct stack *s, const struct tcp_conn *c, enum tcp_timer t,
                     enum tev_timer_action action, uint64_t deadline)
{
    struct tev ev;
    stack_event_init(s, &ev, TEV_TIMER, c);
    ev.u.timer.which = t;
    ev.u.timer.action = action;
    ev.u.timer.deadline_us = deadline;
    ev.u.timer.backoff = c->backoff;
    stack_emit(s, &ev);
}

static uint64_t tcp_timer_earliest(const struct tcp_conn *c)
{
    uint64_t d = TCP_TIME_NEVER;
    for (int t = 0; t < TCP_NTIMERS; t++)
        if (c->timers[t] < d)
            d = c->timers[t];
    return d;
}

void tcp_timer_settle(struct stack *s, struct tcp_conn *c)
{
    uint64_t d = tcp_timer_earliest(c);
    if (d != c->node.deadline) {
        c->node.deadline = d;
        conn_heap_update(s, &c->node);
    }
}

/* tcp_timer_set(), tcp_timer_arm() and tcp_timer_cancel() are inline in
 * tcp_internal.h: the delayed ACK is armed and cancelled every second
 * segment. */

void tcp_timer_cancel_all(struct stack *s, struct tcp_conn *c)
{
    for (int t = 0; t < TCP_NTIMERS; t++)
        tcp_timer_cancel(s, c, (enum tcp_timer)t);
    tcp_timer_settle(s, c); /* out of the heap now: the block may be freed */
}

void tcp_timers_settle_top(struct stack *s)
{
    while (s->heap_len) {
        struct tcp_conn *c = tcp_node_conn(s->heap[0]);
        if (!c || c->node.deadline == tcp_timer_earliest(c))
            return; /* a record's key is its 2MSL timeout: always exact */
        tcp_timer_settle(s, c);
    }
}

/* RFC 6298 (5.1)/(5.3): (re)start the retransmission timer to expire after
 * RTO; with a user timeout, also start that clock if it is not running. */
void tcp_timer_arm_rtx(struct stack *s, struct tcp_conn *c)
{
    tcp_timer_arm(s, c, TCP_TIMER_RTX, s->now + c->rtt.rto_us);
    if (c->user_timeout_us && !tcp_timer_armed(c, TCP_TIMER_USER))
        tcp_timer_arm(s, c, TCP_TIMER_USER, s->now + c->user_timeout_us);
}

/* RFC 1122 §4.2.3.6: probe after the connection has been idle (nothing
 * received) for the keepalive time. */
void tcp_timer_arm_keepalive(struct stack *s, struct tcp_conn *c)
{
    if (!c->opt_keepalive ||
        (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT && c->state != TCP_FIN_WAIT_2)) {
        tcp_timer_cancel(s, c, TCP_TIMER_KEEPALIVE);
        return;
    }
    uint64_t at = c->last_rcv_us + c->ka_idle_us;
    if (at < s->now)
        at = s->now;
    tcp_timer_arm(s, c, TCP_TIMER_KEEPALIVE, at);
}

/* ---- the timeouts ------------------------------------------------------------------ */

/* RETRANSMISSION TIMEOUT: "For any state if the retransmission timeout
 * expires on a segment in the retransmission queue, send the segment at the
 * front of the retransmission queue again, reinitialize the retransmission
 * timer, and return." With RFC 6298 §5: back off (5.5), retransmit the
 * earliest unacknowledged segment (5.4), restart the timer (5.6). After
 * too many tries the connection is given up with ETIMEDOUT. */
static void tcp_timeout_rtx(struct stack *s, struct tcp_conn *c)
{
    unsigned limit;
    switch (c->state) {
    case TCP_SYN_SENT:
        limit = s->cfg.syn_retries;
        break;
    case TCP_SYN_RECEIVED:
        limit = c->passive ? s->cfg.synack_retries : s->cfg.syn_retries;
        break;
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_CLOSE_WAIT:
    case TCP_CLOSING:
    case TCP_LAST_ACK:
        if (c->snd_una == c->snd_max)
            return; /* nothing outstanding */
        limit = s->cfg.data_retries;
        break;
    default:
        return;
    }
    if (c->backoff >= limit) {
        if (c->passive && c->state == TCP_SYN_RECEIVED && c->sd < 0)
            tcp_set_state(s, c, TCP_CLOSED, "retransmission timeout");
        else
            tcp_conn_fail(s, c, -ETIMEDOUT, "retransmission timeout");
        return;
    }
    c->backoff++;
    tcp_rtt_backoff_5_5(&c->rtt, &s->cfg);
    if (tcp_state_synchronized(c->state))
        tcp_cc_on_rto(s, c);
    c->rtt_timing = 0; /* Karn's rule */
    c->dupacks = 0;
    if (c->sack_ok)
        tcp_sack_on_rto(c);
    if (tcp_state_synchronized(c->state) && seq_gt(c->snd_una, c->iss)) {
        /* Everything up to SND.MAX may be lost. Like BSD and Linux, start
         * again from SND.UNA (go-back-N): the first segment now (5.4), the
         * rest as the ACKs come back and cwnd, one segment now, allows.
         * The receiver's cumulative ACKs skip what it already holds. */
        c->in_recovery = 1;
        c->rto_recovery = 1;
        c->recover = c->snd_max;
        c->snd_nxt = c->snd_una;
        c->snd_nxt += tcp_retransmit_first(s, c);
    } else {
        tcp_retransmit_first(s, c);
    }
    tcp_timer_arm(s, c, TCP_TIMER_RTX, s->now + c->rtt.rto_us);
}

/* PERSIST (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17): the peer's window is
 * zero and data waits; probe it, backing off exponentially, for as long as
 * the peer keeps answering. If the window is open but too small for SWS
 * avoidance, this is the "override timeout": send what fits. */
static void tcp_timeout_persist(struct stack *s, struct tcp_conn *c)
{
    if (c->snd_nxt != c->snd_una || c->sndq.len == 0)
        return;
    if (c->snd_wnd > 0) {
        /* The window is open but too small for SWS avoidance: this is the
         * override timeout (RFC 9293 §3.8.6.2.1). Sending is no probe of a
         * closed window, so it does not back the timer off. */
        tcp_output_forced(s, c);
    } else {
        tcp_send_window_probe(s, c);
        if (c->persist_backoff < 16)
            c->persist_backoff++;
    }
    if (c->snd_nxt == c->snd_una) {
        uint64_t d = c->rtt.rto_us << c->persist_backoff;
        if (d > s->cfg.rto_max_us)
            d = s->cfg.rto_max_us;
        tcp_timer_arm(s, c, TCP_TIMER_PERSIST, s->now + d);
    }
}

/* KEEPALIVE (RFC 1122 §4.2.3.6): after keepalive_idle without hearing from
 * the peer, send a probe every keepalive_intvl; after keepalive_probes
 * unanswered probes the connection is dead: RST (as Linux) and ETIMEDOUT. */
static void tcp_timeout_keepalive(struct stack *s, struct tcp_conn *c)
{
    if (!c->opt_keepalive)
        return;
    if (c->ka_probes == 0 && s->now - c->last_rcv_us < c->ka_idle_us) {
        tcp_timer_arm_keepalive(s, c); /* heard from the peer since: wait again */
        return;
    }
    if (c->snd_una != c->snd_nxt) {
        /* data in flight: the retransmission timer watches the peer */
        tcp_timer_arm(s, c, TCP_TIMER_KEEPALIVE, s->now + c->ka_idle_us);
        return;
    }
    if (c->ka_probes >= c->ka_cnt) {
        tcp_rst_abort(s, c);
        tcp_conn_fail(s, c, -ETIMEDOUT, "keepalive timeout");
        return;
    }
    tcp_send_keepalive_probe(s, c);
    c->ka_probes++;
    tcp_timer_arm(s, c, TCP_TIMER_KEEPALIVE, s->now + c->ka_intvl_us);
}

/* DELAYED ACK (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2): the ACK we held back
 * hoping to piggyback it on data is due. */
static void tcp_timeout_delack(struct stack *s, struct tcp_conn *c)
{
    tcp_send_ack(s, c);
}

/* TIME-WAIT TIMEOUT: "If the time-wait timeout expires on a connection,
 * delete the TCB, enter the CLOSED state, and return." The same timer
 * bounds an orphaned FIN_WAIT_2 (the application closed; a peer that never
 * sends its FIN would keep the block forever), as BSD does. */
static void tcp_timeout_time_wait(struct stack *s, struct tcp_conn *c)
{
    if (c->state == TCP_TIME_WAIT)
        tcp_set_state(s, c, TCP_CLOSED, "2MSL timeout");
    else if (c->state == TCP_FIN_WAIT_2)
        tcp_set_state(s, c, TCP_CLOSED, "FIN_WAIT_2 timeout");
}

/* USER TIMEOUT: "For any state if the user timeout expires, flush all
 * queues, signal the user "error: connection aborted due to user timeout"
 * in general and for any outstanding calls, delete the TCB, enter the
 * CLOSED state, and return." */
static void tcp_timeout_user(struct stack *s, struct tcp_conn *c)
{
    if (c->state == TCP_TIME_WAIT || c->state == TCP_CLOSED || c->state == TCP_LISTEN)
        return;
    tcp_conn_fail(s, c, -ETIMEDOUT, "user timeout");
}

static void tcp_timer_fire(struct stack *s, struct tcp_conn *c, enum tcp_timer t)
{
    switch (t) {
    case TCP_TIMER_RTX:
        tcp_timeout_rtx(s, c);
        break;
    case TCP_TIMER_PERSIST:
        tcp_timeout_persist(s, c);
        break;
    case TCP_TIMER_KEEPALIVE:
        tcp_timeout_keepalive(s, c);
        break;
    case TCP_TIMER_DELACK:
        tcp_timeout_delack(s, c);
        break;
    case TCP_TIMER_TIME_WAIT:
        tcp_timeout_time_wait(s, c);
        break;
    case TCP_TIMER_USER:
        tcp_timeout_user(s, c);
        break;
    default:
        break;
    }
}

void tcp_timers_run(struct stack *s)
{
    while (s->heap_len && s->heap[0]->deadline <= s->now) {
        struct tcp_conn *c = tcp_node_conn(s->heap[0]);
        if (!c) {
            tcp_tw_timeout(s, (struct tcp_tw *)s->heap[0]); /* a record has only 2MSL */
            continue;
        }
        int due = 0;
        for (int t = 1; t < TCP_NTIMERS; t++)
            if (c->timers[t] < c->timers[due])
                due = t;
        uint64_t when = c->timers[due];
        if (when != c->node.deadline) {
            /* An early key: put it right, and take the connections in the
             * order of their real deadlines. */
            tcp_timer_settle(s, c);
            continue;
        }
        c->timers[due] = TCP_TIME_NEVER;
        tcp_timer_settle(s, c);
        if (stack_observed(s))
            tcp_timer_event(s, c, (enum tcp_timer)due, TEV_TIMER_FIRE, when);
        tcp_timer_fire(s, c, (enum tcp_timer)due);
    }
}
