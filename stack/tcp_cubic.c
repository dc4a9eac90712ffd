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

/* One ACK of `acked` new bytes outside recovery. Below ssthresh CUBIC uses
 * standard slow start (§4.10 allows HyStart++; not done here), as NewReno.
 * Above: the congestion avoidance of §4.2-§4.5. */
static void tcp_cubic_cong_avoid(struct tcp_conn *c, uint32_t acked, uint64_t now_us)
{
    struct tcp_cc *cc = &c->cc;
    struct tcp_cubic *cu = &cc->cubic;
    uint32_t smss = c->mss;
    if (cc->cwnd < cc->ssthresh) {
        uint64_t next = (uint64_t)cc->cwnd + (acked < smss ? acked : smss);
        cc->cwnd = next > CUBIC_CWND_MAX ? CUBIC_CWND_MAX : (uint32_t)next;
        cu->in_epoch = false;
        return;
    }
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
