/*
 * tcp_cc.c — congestion control: RFC 5681 with NewReno fast recovery
 * (RFC 6582) and limited transmit (RFC 3042).
 *
 * The sender may have at most min(cwnd, rwnd) bytes in flight (RFC 5681
 * §3.1). cwnd starts at the initial window, grows by up to one SMSS per ACK
 * while below ssthresh (slow start) and by about one SMSS per round trip
 * above it (congestion avoidance). Three duplicate ACKs halve it (fast
 * retransmit, fast recovery); a retransmission timeout sets it to one
 * segment (the loss window). A connection idle for longer than an RTO starts
 * again from the initial window (§4.1).
 *
 * What is algorithm-specific — how cwnd grows, and the ssthresh after a loss
 * — is a `struct tcp_cc_ops`: NewReno below, CUBIC (RFC 9438) in
 * tcp_cubic.c, chosen by cfg.cc_algo. Everything else here is shared. Loss
 * detection stays where the ACKs are read (tcp_in.c : tcp_ack_received) and
 * where the timer fires (tcp_timer.c : tcp_timeout_rtx); they call in here.
 *
 * With SACK (tcp_sack.c) fast recovery follows RFC 6675 instead of RFC 6582:
 * cwnd = ssthresh on entry, no inflation, and what may be sent is
 * cwnd - pipe, the scoreboard's estimate of the bytes in the network.
 *
 * A reduction can be taken back (RFC 3708 detection, the Eifel response
 * of RFC 4015 in spirit): the cwnd and ssthresh from before it are kept,
 * and when the receiver's D-SACKs show that every byte retransmitted since
 * had arrived before (the loss was reordering or a late ACK, not a loss),
 * they are restored (cause "undo").
 *
 * Every change of cwnd, ssthresh or phase is reported as a TEV_CC event.
 */
#include <string.h>

#include "tcp_internal.h"

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static inline uint32_t max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

/* FlightSize: "The amount of data that has been sent but not yet
 * cumulatively acknowledged" (RFC 5681 §2). */
static uint32_t tcp_flight_size(const struct tcp_conn *c)
{
    return c->snd_nxt - c->snd_una;
}

/* What the cc event calls "flight": in SACK-based recovery RFC 6675's pipe,
 * which is what limits sending then (cwnd - pipe >= 1 SMSS). */
static uint32_t tcp_cc_told_flight(const struct tcp_conn *c)
{
    return c->sack_recovery ? c->sb.pipe : tcp_flight_size(c);
}

static enum tcp_cc_phase tcp_cc_growth_phase(const struct tcp_cc *cc)
{
    if (cc->cwnd >= cc->ssthresh)
        return TCP_CC_AVOIDANCE;
    return cc->hystart.css ? TCP_CC_CSS : TCP_CC_SLOW_START;
}

void tcp_cc_rtt_sample(struct tcp_conn *c, uint64_t rtt_us)
{
    struct tcp_hystart *hy = &c->cc.hystart;
    if (!hy->on)
        return;
    hy->rtt_us = rtt_us;
    hy->have_rtt = true;
}

/* Report cwnd, ssthresh and the phase if any of them changed. */
static void tcp_cc_report(struct stack *s, struct tcp_conn *c, const char *cause)
{
    struct tcp_cc *cc = &c->cc;
    if (cc->told && cc->told_cwnd == cc->cwnd && cc->told_ssthresh == cc->ssthresh &&
        cc->told_phase == cc->phase)
        return;
    cc->told = true;
    cc->told_cwnd = cc->cwnd;
    cc->told_ssthresh = cc->ssthresh;
    cc->told_phase = cc->phase;
    if (!stack_observed(s))
        return;
    struct tev ev;
    stack_event_init(s, &ev, TEV_CC, c);
    ev.u.cc.cwnd = cc->cwnd;
    ev.u.cc.ssthresh = cc->ssthresh;
    ev.u.cc.flight = tcp_cc_told_flight(c);
    ev.u.cc.phase = (enum tcp_cc_phase)cc->phase;
    ev.u.cc.cause = cause;
    ev.u.cc.algo = cc->ops->name;
    if (cc->ops == &tcp_cc_cubic) {
        ev.u.cc.w_max = cc->cubic.w_max;
        ev.u.cc.k_us = cc->cubic.in_epoch ? cc->cubic.k_us : 0;
    }
    stack_emit(s, &ev);
}

/* ---- NewReno (RFC 5681 §3.1, RFC 6582) ----------------------------------- */

/* "During slow start, a TCP increments cwnd by at most SMSS bytes for each
 * ACK received that cumulatively acknowledges new data" (cwnd += min(N,
 * SMSS), appropriate byte counting with L = 1 SMSS, RFC 3465). "During
 * congestion avoidance, cwnd is incremented by roughly 1 full-sized segment
 * per round-trip time": counted in bytes, one SMSS for every cwnd bytes
 * acknowledged (the RFC's recommended byte-counting form). */
static void tcp_newreno_cong_avoid(struct tcp_conn *c, uint32_t acked, uint64_t now_us)
{
    (void)now_us;
    struct tcp_cc *cc = &c->cc;
    uint32_t smss = c->mss;
    if (cc->cwnd < cc->ssthresh) {
        cc->cwnd += min_u32(acked, smss);
        return;
    }
    cc->acked_in_ca += acked;
    if (cc->acked_in_ca >= cc->cwnd) {
        cc->acked_in_ca -= cc->cwnd;
        cc->cwnd += smss;
    }
}

/* RFC 5681 (4): "ssthresh = max (FlightSize / 2, 2*SMSS)". */
static uint32_t tcp_newreno_ssthresh(struct tcp_conn *c, uint32_t flight)
{
    return max_u32(flight / 2, 2u * c->mss);
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "newreno",
    .cong_avoid = tcp_newreno_cong_avoid,
    .ssthresh = tcp_newreno_ssthresh,
};

/* ---- shared by every algorithm ------------------------------------------ */

int tcp_cc_algo_parse(const char *word)
{
    if (!strcmp(word, "newreno"))
        return TCP_CC_NEWRENO;
    if (!strcmp(word, "cubic"))
        return TCP_CC_CUBIC;
    return -1;
}

const char *tcp_cc_algo_name(enum tcp_cc_algo a)
{
    return a == TCP_CC_CUBIC ? tcp_cc_cubic.name : tcp_cc_newreno.name;
}

/* RFC 5681 §3.1: "IW, the initial value of cwnd, MUST be set" to at most
 * 4 segments (fewer for large SMSS); RFC 6928 raises it to
 * min(10*MSS, max(2*MSS, 14600)), which Linux uses. cfg.init_cwnd picks
 * the number of segments; RFC 6928's byte cap applies to 10 and more. */
static uint32_t tcp_cc_initial_window(const struct stack *s, const struct tcp_conn *c)
{
    uint32_t segs = s->cfg.init_cwnd ? s->cfg.init_cwnd : 1;
    uint32_t iw = segs * c->mss;
    if (segs >= 10)
        iw = min_u32(iw, max_u32(2u * c->mss, 14600));
    return iw;
}

void tcp_cc_init(struct stack *s, struct tcp_conn *c)
{
    struct tcp_cc *cc = &c->cc;
    if (!s->cfg.congestion_control) {
        cc->ops = NULL;
        return;
    }
    cc->ops = s->cfg.cc_algo == TCP_CC_CUBIC ? &tcp_cc_cubic : &tcp_cc_newreno;
    cc->cubic = (struct tcp_cubic){0};
    cc->undo = (struct tcp_cc_undo){0};
    if (cc->ops == &tcp_cc_cubic)
        tcp_hystart_init(c);
    else
        cc->hystart = (struct tcp_hystart){0};
    cc->cwnd = tcp_cc_initial_window(s, c);
    /* "The initial value of ssthresh SHOULD be set arbitrarily high (e.g.,
     * to the size of the largest possible advertised window)". */
    cc->ssthresh = 65535u << c->snd_wscale;
    cc->acked_in_ca = 0;
    cc->phase = TCP_CC_SLOW_START;
    cc->last_send_us = s->now;
    tcp_cc_report(s, c, "ack");
}

uint32_t tcp_cc_window(const struct tcp_conn *c)
{
    const struct tcp_cc *cc = &c->cc;
    if (!cc->ops)
        return UINT32_MAX;
    /* RFC 3042: on the first and second duplicate ACK, one new segment each
     * may go, "provided that the receiver's advertised window allows" and
     * FlightSize stays within cwnd + 2*SMSS; cwnd itself is not changed. */
    if (!c->in_recovery && c->dupacks > 0 && c->dupacks < 3)
        return cc->cwnd + (uint32_t)c->dupacks * c->mss;
    return cc->cwnd;
}

void tcp_cc_on_ack(struct stack *s, struct tcp_conn *c, uint32_t acked, bool partial)
{
    struct tcp_cc *cc = &c->cc;
    if (!cc->ops)
        return;
    if (partial && cc->phase == TCP_CC_RECOVERY && c->sack_recovery)
        return; /* RFC 6675: cwnd stays at ssthresh; pipe decides what goes */
    if (partial && cc->phase == TCP_CC_RECOVERY) {
        /* RFC 6582 §3.2 step 5, partial ACK: "deflate the congestion window
         * by the amount of new data acknowledged by the Cumulative
         * Acknowledgment field. If the partial ACK acknowledges at least one
         * SMSS of new data, then add back SMSS bytes to the congestion
         * window." (The first unacknowledged segment was retransmitted by
         * the caller.) */
        cc->cwnd = acked < cc->cwnd ? cc->cwnd - acked : 0;
        if (acked >= c->mss)
            cc->cwnd += c->mss;
        cc->cwnd = max_u32(cc->cwnd, c->mss);
        tcp_cc_report(s, c, "ack");
        return;
    }
    /* Slow start after a timeout (phase LOSS) or normal growth. */
    cc->ops->cong_avoid(c, acked, s->now);
    if (cc->phase != TCP_CC_LOSS)
        cc->phase = tcp_cc_growth_phase(cc);
    tcp_cc_report(s, c, "ack");
}

/* RFC 9406 §4.2: "If loss or ECN-marking is observed anytime during
 * standard slow start or CSS, enter congestion avoidance by setting the
 * ssthresh" (the loss response does); §4.4: HyStart++ SHOULD be used "only
 * for the initial slow start", standard slow start after. */
static void tcp_hystart_off(struct tcp_cc *cc)
{
    cc->hystart.on = false;
    cc->hystart.css = false;
}

/* ---- undoing a spurious reduction (RFC 3708, RFC 4015) -------------------- */

/* A loss event is about to reduce cwnd: remember what it takes away, and
 * start counting the bytes retransmitted for it (tcp_cc_note_retransmit). */
static void tcp_cc_undo_arm(struct tcp_conn *c)
{
    struct tcp_cc *cc = &c->cc;
    cc->undo = (struct tcp_cc_undo){
        .cwnd = cc->cwnd,
        .ssthresh = cc->ssthresh,
        .w_max = cc->cubic.w_max,
        .cwnd_prior = cc->cubic.cwnd_prior,
        .marker = c->snd_una,
        .rtx_end = c->snd_una,
        .armed = true,
    };
}

void tcp_cc_note_retransmit(struct tcp_conn *c, uint32_t seq, uint32_t len)
{
    struct tcp_cc_undo *u = &c->cc.undo;
    if (!u->armed || len == 0)
        return;
    u->rtx_bytes += len;
    if (seq_gt(seq + len, u->rtx_end))
        u->rtx_end = seq + len;
}

/* Put back what the loss event took (Linux: tcp_undo_cwnd_reduction):
 * cwnd and ssthresh at least as they were, and CUBIC's W_max as if the
 * loss had not been (a new avoidance stage starts from the restored cwnd). */
static void tcp_cc_undo(struct stack *s, struct tcp_conn *c)
{
    struct tcp_cc *cc = &c->cc;
    struct tcp_cc_undo *u = &cc->undo;
    u->armed = false;
    u->pending = false;
    cc->cwnd = max_u32(cc->cwnd, u->cwnd);
    cc->ssthresh = max_u32(cc->ssthresh, u->ssthresh);
    cc->acked_in_ca = 0;
    if (cc->ops == &tcp_cc_cubic) {
        cc->cubic.w_max = u->w_max;
        cc->cubic.cwnd_prior = u->cwnd_prior;
        cc->cubic.after_timeout = false;
        cc->cubic.in_epoch = false;
    }
    cc->phase = tcp_cc_growth_phase(cc);
    tcp_cc_report(s, c, "undo");
}

/* RFC 3708 §3: "the TCP sender ... detects a spurious retransmission when
 * it receives a DSACK for a retransmitted segment"; the congestion response
 * was unnecessary when that holds for all the retransmissions of the loss
 * event. Counted in bytes: each D-SACKed byte between the loss event's
 * SND.UNA and the furthest retransmitted byte takes one off; at zero every
 * retransmission had a twin that arrived. If recovery is still going on,
 * the undo waits for its end (tcp_cc_recovery_done), so the recovery's
 * own arithmetic (RFC 6582 deflation, RFC 6675 pipe) is not disturbed.
 * A D-SACK of data the network itself duplicated looks the same (RFC 3708
 * §5 accepts that risk); one outside the range counts for nothing. */
void tcp_cc_on_dsack(struct stack *s, struct tcp_conn *c, uint32_t left, uint32_t right)
{
    struct tcp_cc_undo *u = &c->cc.undo;
    if (!c->cc.ops || !u->armed || u->rtx_bytes == 0)
        return;
    uint32_t l = seq_max(left, u->marker), r = seq_min(right, u->rtx_end);
    if (!seq_lt(l, r))
        return;
    u->rtx_bytes -= min_u32(r - l, u->rtx_bytes);
    if (u->rtx_bytes > 0)
        return;
    if (c->in_recovery)
        u->pending = true;
    else
        tcp_cc_undo(s, c);
}

void tcp_cc_enter_recovery(struct stack *s, struct tcp_conn *c)
{
    struct tcp_cc *cc = &c->cc;
    if (!cc->ops)
        return;
    tcp_cc_undo_arm(c);
    tcp_hystart_off(cc);
    /* RFC 5681 §3.2 step 2: "ssthresh = max (FlightSize / 2, 2*SMSS)";
     * step 3: retransmit (the caller does), "cwnd = ssthresh + 3*SMSS",
     * inflated by the three segments that have left the network. */
    cc->ssthresh = cc->ops->ssthresh(c, tcp_flight_size(c));
    cc->acked_in_ca = 0;
    cc->phase = TCP_CC_RECOVERY;
    if (c->sack_recovery) {
        /* RFC 6675 §5 (4.2): "ssthresh = cwnd = (FlightSize / 2)": no
         * inflation, the scoreboard's pipe counts what has left. */
        cc->cwnd = cc->ssthresh;
        tcp_cc_report(s, c, "sack");
        return;
    }
    cc->cwnd = cc->ssthresh + 3u * c->mss;
    tcp_cc_report(s, c, "dupack");
}

void tcp_cc_dupack_in_recovery(struct stack *s, struct tcp_conn *c)
{
    struct tcp_cc *cc = &c->cc;
    if (!cc->ops || cc->phase != TCP_CC_RECOVERY || c->sack_recovery)
        return;
    /* Step 4: "For each additional duplicate ACK received (after the third),
     * cwnd MUST be incremented by SMSS." */
    cc->cwnd += c->mss;
    tcp_cc_report(s, c, "dupack");
}

void tcp_cc_recovery_done(struct stack *s, struct tcp_conn *c, bool sack)
{
    struct tcp_cc *cc = &c->cc;
    if (!cc->ops)
        return;
    if (cc->phase == TCP_CC_RECOVERY && sack) {
        /* RFC 6675 leaves the exit to RFC 5681 §3.2 step 6: "set cwnd to
         * ssthresh (the value set in step 2)" -- half of what was in flight
         * when the loss was found. */
        cc->cwnd = cc->ssthresh;
    } else if (cc->phase == TCP_CC_RECOVERY) {
        /* RFC 6582 §3.2 step 3, full acknowledgment: "Set cwnd to either
         * (1) min (ssthresh, max(FlightSize, SMSS) + SMSS) or (2) ssthresh";
         * (1) avoids a burst when little is in flight. */
        cc->cwnd = min_u32(cc->ssthresh, max_u32(tcp_flight_size(c), c->mss) + c->mss);
    }
    /* After a timeout (LOSS) slow start simply goes on from where it is. */
    cc->phase = tcp_cc_growth_phase(cc);
    if (cc->undo.pending) {
        tcp_cc_undo(s, c); /* every retransmission was D-SACKed meanwhile */
        return;
    }
    tcp_cc_report(s, c, "ack");
}

void tcp_cc_on_rto(struct stack *s, struct tcp_conn *c)
{
    struct tcp_cc *cc = &c->cc;
    if (!cc->ops)
        return;
    /* RFC 5681 (4) on a timeout, "...when a TCP sender detects segment loss
     * using the retransmission timer and the given segment has already been
     * retransmitted by way of the retransmission timer at least once, the
     * value of ssthresh is held constant." Then "cwnd MUST be set to no more
     * than the loss window, LW, which equals 1 full-sized segment". */
    if (c->backoff <= 1) {
        /* A timeout in fast recovery answers the same loss event: what
         * to undo stays what was there before the fast retransmit. */
        if (!(cc->undo.armed && c->in_recovery))
            tcp_cc_undo_arm(c);
        cc->undo.pending = false;
        tcp_hystart_off(cc);
        cc->ssthresh = cc->ops->ssthresh(c, tcp_flight_size(c));
        if (cc->ops->on_timeout)
            cc->ops->on_timeout(c);
    }
    cc->cwnd = c->mss;
    cc->acked_in_ca = 0;
    cc->phase = TCP_CC_LOSS;
    tcp_cc_report(s, c, "rto");
}

void tcp_cc_before_send(struct stack *s, struct tcp_conn *c)
{
    struct tcp_cc *cc = &c->cc;
    if (!cc->ops)
        return;
    /* RFC 5681 §4.1: "if the TCP has not sent data in an interval exceeding
     * the retransmission timeout", set cwnd to no more than the restart
     * window, RW = min(IW, cwnd), before transmitting. */
    if (c->snd_nxt == c->snd_una && s->now - cc->last_send_us > c->rtt.rto_us) {
        uint32_t rw = min_u32(tcp_cc_initial_window(s, c), cc->cwnd);
        if (rw != cc->cwnd) {
            cc->cwnd = rw;
            cc->phase = tcp_cc_growth_phase(cc);
            tcp_cc_report(s, c, "idle");
        }
    }
    cc->last_send_us = s->now;
}
