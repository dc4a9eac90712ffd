/*
 * tcp_cubic.c — CUBIC congestion control (RFC 9438), the second
 * `struct tcp_cc_ops` beside NewReno (tcp_cc.c), and what Linux runs.
 *
 * NewReno grows cwnd by one segment per round trip, whatever happened
 * before. CUBIC grows it as a function of the time since the last
 * reduction: a cubic curve whose plateau is W_max, the window at which the
 * last loss happened. Right after a loss the curve climbs fast towards
 * W_max (the concave region, §4.4), flattens near it, and if no loss comes
 * it climbs faster and faster beyond it, probing for more (the convex
 * region, §4.5). Where the curve would be slower than Reno would have been
 * over the same time, CUBIC uses Reno's estimate instead (the Reno-friendly
 * region, §4.3). A loss multiplies cwnd by β_cubic = 0.7 instead of 0.5
 * (§4.6).
 *
 * Everything else (slow start below ssthresh, fast retransmit, fast
 * recovery with or without SACK, the loss window after a timeout, restart
 * after idle) is the shared code in tcp_cc.c, which calls the three hooks
 * below. Time comes in as the stack's clock; the round-trip time is the
 * RFC 6298 estimator's SRTT (tcp_timer.c).
 *
 * All arithmetic is integer (no libm): the same inputs give the same
 * windows on every machine, so replays stay byte-identical. Windows are in
 * bytes, as in the rest of the engine; the RFC's formulas are in segments,
 * so SMSS appears where the RFC has none. Time inside the curve is in
 * milliseconds, which keeps (t - K)^3 within 64 bits for 2000 s.
 */
#include "tcp_internal.h"

/* §4.6 / §5: β_cubic = 0.7 and C = 0.4, as fractions. */
#define CUBIC_BETA_NUM 7
#define CUBIC_BETA_DEN 10
/* §4.3: α_cubic = 3 * (1 - β_cubic) / (1 + β_cubic) = 0.9 / 1.7 = 9/17. */
#define CUBIC_ALPHA_NUM 9
#define CUBIC_ALPHA_DEN 17
/* 1 / C in ms^3 per second^3: a window offset of one segment takes
 * (t - K)^3 = 2.5 s^3 = 2.5e9 ms^3. */
#define CUBIC_MS3_PER_SEGMENT 2500000000ull
/* (t - K) beyond this many ms is treated as this (the cube stays < 2^63). */
#define CUBIC_T_MAX_MS 2000000
/* cwnd never grows past this (stays clear of uint32 overflow). */
#define CUBIC_CWND_MAX 0x7fffffffu

/* Integer cube root, rounded down: the binary method, one bit of the root
 * per three bits of x, from the top. */
static uint64_t cubic_root(uint64_t x)
{
    uint64_t y = 0;
    for (int s = 63; s >= 0; s -= 3) {
        y <<= 1;
        uint64_t b = 3 * y * (y + 1) + 1;
        if ((x >> s) >= b) {
            x -= b << s;
            y++;
        }
    }
    return y;
}

/* Figure 2: K = cubic_root((W_max - cwnd_epoch) / C), the time the curve
 * takes to climb from cwnd_epoch back to W_max. In segments and seconds;
 * here ΔW bytes / SMSS segments, times 2.5e9 ms^3 per segment, cube-rooted
 * to ms. */
uint64_t tcp_cubic_k_us(uint32_t w_max, uint32_t cwnd_epoch, uint32_t smss)
{
    if (w_max <= cwnd_epoch || smss == 0)
        return 0;
    uint64_t dw = (uint64_t)(w_max - cwnd_epoch); /* < 2^32: dw * 2.5e9 < 2^64 */
    return cubic_root(dw * CUBIC_MS3_PER_SEGMENT / smss) * 1000;
}

/* Figure 1: W_cubic(t) = C * (t - K)^3 + W_max, in bytes. The offset
 * C * d^3 segments is d^3 * SMSS / 2.5e9 bytes for d in ms, computed as
 * quotient and remainder so nothing overflows. */
int64_t tcp_cubic_w_cubic(uint32_t w_max, uint64_t k_us, uint64_t t_us, uint32_t smss)
{
    int64_t d = (int64_t)(t_us / 1000) - (int64_t)(k_us / 1000);
    bool below = d < 0; /* t < K: the curve is still under W_max */
    uint64_t m = (uint64_t)(below ? -d : d);
    if (m > CUBIC_T_MAX_MS)
        m = CUBIC_T_MAX_MS;
    uint64_t cube = m * m * m;
    uint64_t off = (cube / CUBIC_MS3_PER_SEGMENT) * smss +
                   (cube % CUBIC_MS3_PER_SEGMENT) * smss / CUBIC_MS3_PER_SEGMENT;
    return below ? (int64_t)w_max - (int64_t)off : (int64_t)w_max + (int64_t)off;
}

/* §4.2: "t_epoch" is when the current congestion avoidance stage began,
 * cwnd_epoch the cwnd then. K follows from Figure 2. Two cases the formula
 * leaves open: after a timeout (§4.8) "K is set to 0, and W_max is set to
 * the congestion window size at the beginning of the current congestion
 * avoidance stage"; and with no loss yet, or a cwnd already above W_max,
 * the curve starts flat at cwnd_epoch (K = 0), as Linux does, so the stage
 * begins in the convex region. */
static void tcp_cubic_start_epoch_4_2(struct tcp_cc *cc, uint32_t smss, uint64_t now_us)
{
    struct tcp_cubic *cu = &cc->cubic;
    cu->in_epoch = true;
    cu->t_epoch_us = now_us;
    cu->cwnd_epoch = cc->cwnd;
    cu->w_est = cc->cwnd; /* §4.3: "W_est is set equal to cwnd_epoch" */
    cu->est_carry = 0;
    cu->grow_carry = 0;
    if (cu->after_timeout) {
        cu->after_timeout = false;
        cu->w_max = cc->cwnd;
    }
    if (cu->w_max > cc->cwnd) {
        cu->origin = cu->w_max;
        cu->k_us = tcp_cubic_k_us(cu->w_max, cc->cwnd, smss);
    } else {
        cu->origin = cc->cwnd;
        cu->k_us = 0;
    }
}

/* §4.3: "W_est = W_est + α_cubic * segments_acked / cwnd", Reno's window
 * had it grown by α_cubic segments per round trip since t_epoch; α_cubic
 * is 9/17 so that CUBIC with β = 0.7 takes the same share as Reno with
 * β = 0.5, and becomes 1 "once W_est has grown to reach the cwnd at the
 * time of most recently setting ssthresh". In bytes: + α * acked * SMSS /
 * cwnd, with the remainder carried. */
static void tcp_cubic_reno_friendly_4_3(struct tcp_cc *cc, uint32_t acked, uint32_t smss)
{
    struct tcp_cubic *cu = &cc->cubic;
    uint64_t alpha = cu->w_est >= cu->cwnd_prior ? CUBIC_ALPHA_DEN : CUBIC_ALPHA_NUM;
    uint64_t num = alpha * acked * smss + cu->est_carry;
    uint64_t den = (uint64_t)CUBIC_ALPHA_DEN * cc->cwnd;
    uint64_t w = cu->w_est + num / den;
    cu->est_carry = num % den;
    cu->w_est = w > CUBIC_CWND_MAX ? CUBIC_CWND_MAX : (uint32_t)w;
}

/* §4.4 (concave, cwnd < W_max) and §4.5 (convex, cwnd >= W_max) grow the
 * same way: aim at where the curve will be one RTT from now,
 * target = W_cubic(t + RTT) kept within [cwnd, 1.5 * cwnd] (§4.2), and
 * "cwnd MUST be incremented by (target - cwnd) / cwnd" per acknowledged
 * segment, in bytes (target - cwnd) * acked / cwnd. */
static void tcp_cubic_grow_to_target_4_2(struct tcp_cc *cc, uint32_t acked, int64_t w_next)
{
    struct tcp_cubic *cu = &cc->cubic;
    uint64_t cwnd = cc->cwnd;
    uint64_t target = w_next < (int64_t)cwnd ? cwnd : (uint64_t)w_next;
    if (target > cwnd + cwnd / 2)
        target = cwnd + cwnd / 2;
    uint64_t num = (target - cwnd) * acked + cu->grow_carry;
    uint64_t next = cwnd + num / cwnd;
    cu->grow_carry = num % cwnd;
    cc->cwnd = next > CUBIC_CWND_MAX ? CUBIC_CWND_MAX : (uint32_t)next;
}

/* ---- HyStart++ (RFC 9406), the initial slow start -------------------------
 *
 * Slow start doubles cwnd every round trip until a loss; by then the
 * bottleneck's queue has overflowed by up to a whole window. HyStart++
 * watches the round trip instead: when the smallest RTT of a round is
 * clearly above the previous round's (a queue is building), it leaves slow
 * start for Conservative Slow Start (CSS, phase "css"), which grows 1/4 as
 * fast; if the RTT falls back below where it rose to, the rise was jitter
 * and slow start resumes; after CSS_ROUNDS rounds in CSS it settles into
 * congestion avoidance with ssthresh = cwnd.
 *
 * Rounds are counted by sequence number (windowEnd = SND.NXT; the round
 * ends when the byte at windowEnd, the first sent in the next round, is
 * acknowledged). RTT samples are RFC 7323's, one per
 * ACK (tcp_ts.c); without timestamps there is one per round trip, never
 * N_RTT_SAMPLE, and slow start stays standard. L, the cap on the bytes an
 * ACK may add, stays RFC 5681's one SMSS (appropriate byte counting with
 * L = 1, as the rest of the engine) rather than the RFC's 8 for an unpaced
 * sender: more conservative, and the windows of standard slow start are
 * unchanged. */

/* §4.3 constants. */
#define HYSTART_MIN_RTT_THRESH_US 4000
#define HYSTART_MAX_RTT_THRESH_US 16000
#define HYSTART_MIN_RTT_DIVISOR   8
#define HYSTART_N_RTT_SAMPLE      8
#define HYSTART_CSS_GROWTH_DIV    4
#define HYSTART_CSS_ROUNDS        5
#define HYSTART_INFINITY          UINT64_MAX

void tcp_hystart_init(struct tcp_conn *c)
{
    c->cc.hystart = (struct tcp_hystart){
        .on = true,
        .window_end = c->snd_nxt,
        .cur_min_us = HYSTART_INFINITY,
        .last_min_us = HYSTART_INFINITY,
        .css_baseline_us = HYSTART_INFINITY,
    };
}

/* "At the start of each round during standard slow start and CSS":
 * lastRoundMinRTT = currentRoundMinRTT, currentRoundMinRTT = infinity,
 * rttSampleCount = 0. "CSS lasts at most CSS_ROUNDS rounds. If the
 * transition into CSS happens in the middle of a round, that partial round
 * counts towards the limit. If CSS_ROUNDS rounds are complete, enter
 * congestion avoidance by setting the ssthresh to the current cwnd." */
static void tcp_hystart_round_4_2(struct tcp_conn *c)
{
    struct tcp_cc *cc = &c->cc;
    struct tcp_hystart *hy = &cc->hystart;
    if (!seq_gt(c->snd_una, hy->window_end))
        return; /* windowEnd's byte (the first sent after it) not yet acknowledged */
    hy->window_end = c->snd_nxt;
    hy->last_min_us = hy->cur_min_us;
    hy->cur_min_us = HYSTART_INFINITY;
    hy->samples = 0;
    if (hy->css && ++hy->css_rounds > HYSTART_CSS_ROUNDS) {
        cc->ssthresh = cc->cwnd;
        hy->on = false;
        hy->css = false;
    }
}

/* The RTT checks, once a round has N_RTT_SAMPLE samples. In slow start:
 * "RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR,
 * MAX_RTT_THRESH)); if (currentRoundMinRTT >= (lastRoundMinRTT +
 * RttThresh)) { cssBaselineMinRtt = currentRoundMinRTT; exit slow start
 * and enter CSS }". In CSS: "if (currentRoundMinRTT < cssBaselineMinRtt)
 * { cssBaselineMinRtt = infinity; resume slow start including HyStart++ }". */
static void tcp_hystart_check_4_2(struct tcp_hystart *hy)
{
    if (hy->samples < HYSTART_N_RTT_SAMPLE || hy->cur_min_us == HYSTART_INFINITY)
        return;
    if (hy->css) {
        if (hy->cur_min_us < hy->css_baseline_us) {
            hy->css_baseline_us = HYSTART_INFINITY;
            hy->css = false;
        }
        return;
    }
    if (hy->last_min_us == HYSTART_INFINITY)
        return;
    uint64_t thresh = hy->last_min_us / HYSTART_MIN_RTT_DIVISOR;
    if (thresh > HYSTART_MAX_RTT_THRESH_US)
        thresh = HYSTART_MAX_RTT_THRESH_US;
    if (thresh < HYSTART_MIN_RTT_THRESH_US)
        thresh = HYSTART_MIN_RTT_THRESH_US;
    if (hy->cur_min_us >= hy->last_min_us + thresh) {
        hy->css_baseline_us = hy->cur_min_us;
        hy->css = true;
        hy->css_rounds = 1; /* this partial round counts */
    }
}

/* One ACK in the initial slow start: "cwnd = cwnd + min(N, L * SMSS)", or
 * in CSS "cwnd = cwnd + (min(N, L * SMSS) / CSS_GROWTH_DIVISOR)"; then
 * "currentRoundMinRTT = min(currentRoundMinRTT, currRTT); rttSampleCount
 * += 1" for an ACK that brought a sample. */
static uint32_t tcp_hystart_increase(struct tcp_conn *c, uint32_t acked)
{
    struct tcp_hystart *hy = &c->cc.hystart;
    tcp_hystart_round_4_2(c);
    if (!hy->on)
        return 0; /* CSS is over: ssthresh = cwnd, avoidance from the next ACK */
    uint32_t n = acked < c->mss ? acked : c->mss;
    if (hy->css) {
        uint32_t sum = n + hy->css_carry;
        n = sum / HYSTART_CSS_GROWTH_DIV;
        hy->css_carry = sum % HYSTART_CSS_GROWTH_DIV;
    }
    if (hy->have_rtt) {
        hy->have_rtt = false;
        if (hy->rtt_us < hy->cur_min_us)
            hy->cur_min_us = hy->rtt_us;
        if (hy->samples < UINT8_MAX)
            hy->samples++;
        tcp_hystart_check_4_2(hy);
    }
    return n;
}

/* One ACK of `acked` new bytes outside recovery. Below ssthresh slow
 * start: HyStart++ in the initial one (§4.10 allows it, above), standard
 * after a loss, as NewReno. Above: the congestion avoidance of §4.2-§4.5. */
static void tcp_cubic_cong_avoid(struct tcp_conn *c, uint32_t acked, uint64_t now_us)
{
    struct tcp_cc *cc = &c->cc;
    struct tcp_cubic *cu = &cc->cubic;
    uint32_t smss = c->mss;
    if (cc->cwnd < cc->ssthresh) {
        uint32_t n = cc->hystart.on ? tcp_hystart_increase(c, acked) : (acked < smss ? acked : smss);
        uint64_t next = (uint64_t)cc->cwnd + n;
        cc->cwnd = next > CUBIC_CWND_MAX ? CUBIC_CWND_MAX : (uint32_t)next;
        cu->in_epoch = false;
        return;
    }
    cc->hystart.on = false;
    cc->hystart.css = false;
    if (!cu->in_epoch)
        tcp_cubic_start_epoch_4_2(cc, smss, now_us);
    uint64_t t = now_us - cu->t_epoch_us;
    /* "RTT is the smoothed round-trip time" (§4.2); none before a sample. */
    uint64_t rtt = c->rtt.measured ? c->rtt.srtt_us : 0;
    tcp_cubic_reno_friendly_4_3(cc, acked, smss);
    int64_t w_now = tcp_cubic_w_cubic(cu->origin, cu->k_us, t, smss);
    if (w_now < (int64_t)cu->w_est) {
        /* §4.3: "If W_cubic(t) is less than W_est, then the protocol is in
         * the Reno-friendly region and cwnd SHOULD be set to W_est". */
        if (cu->w_est > cc->cwnd)
            cc->cwnd = cu->w_est;
        return;
    }
    tcp_cubic_grow_to_target_4_2(cc, acked, tcp_cubic_w_cubic(cu->origin, cu->k_us, t + rtt, smss));
}

/* A loss (fast retransmit, or the first timeout of a segment). §4.7 fast
 * convergence: if this loss came below the previous W_max the flow is
 * losing ground to newcomers, so it remembers an even lower plateau,
 * "W_max = cwnd * (1 + β_cubic) / 2" (0.85 cwnd), to release bandwidth
 * sooner; otherwise W_max = cwnd. §4.6 multiplicative decrease:
 * "ssthresh = flight_size * β_cubic", at least 2 segments; tcp_cc.c then
 * sets cwnd from it, as for every algorithm. FlightSize is taken at most
 * cwnd: the two segments limited transmit (RFC 3042) sent beyond cwnd
 * would otherwise make 0.7 * FlightSize larger than the cwnd the loss
 * happened at when cwnd is small (3 segments + 2: 0.7 * 5 = 3.5), a
 * "decrease" that grows the window. (§4.6 also allows cwnd itself, as
 * Linux uses; the smaller of the two keeps an application-limited flow's
 * reduction based on what it really had in flight.) */
static uint32_t tcp_cubic_ssthresh(struct tcp_conn *c, uint32_t flight)
{
    struct tcp_cc *cc = &c->cc;
    struct tcp_cubic *cu = &cc->cubic;
    uint32_t cwnd = cc->cwnd;
    if (cwnd < cu->w_max)
        cu->w_max =
            (uint32_t)((uint64_t)cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) / (2 * CUBIC_BETA_DEN));
    else
        cu->w_max = cwnd;
    cu->cwnd_prior = cwnd;
    cu->in_epoch = false;
    uint32_t base = flight < cwnd ? flight : cwnd;
    uint32_t ssthresh = (uint32_t)((uint64_t)base * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
    return ssthresh > 2u * c->mss ? ssthresh : 2u * c->mss;
}

/* §4.8: "In the case of a timeout, CUBIC follows Reno to reduce cwnd"
 * (one segment, tcp_cc.c) "but sets ssthresh using β_cubic" (done above);
 * the first congestion avoidance stage after it starts the curve flat at
 * its own cwnd_epoch (tcp_cubic_start_epoch_4_2). */
static void tcp_cubic_on_timeout_4_8(struct tcp_conn *c)
{
    c->cc.cubic.after_timeout = true;
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .cong_avoid = tcp_cubic_cong_avoid,
    .ssthresh = tcp_cubic_ssthresh,
    .on_timeout = tcp_cubic_on_timeout_4_8,
};
