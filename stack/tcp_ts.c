/*
 * tcp_ts.c — RFC 7323 §3-5: the Timestamps option, round-trip time
 * measurement (RTTM) and protection against wrapped sequences (PAWS).
 *
 * Where it sits in the data flow: tcp_out.c asks tcp_ts_fill() to put
 * TSopt into each segment it sends; tcp_in.c calls tcp_ts_take_syn() when a
 * SYN arrives, tcp_ts_check() before the first step of §3.10.7.4 ("check
 * sequence number"), tcp_ts_take_recent() after it, and tcp_ts_rtt() when
 * an ACK advances SND.UNA.
 *
 * The variables are the RFC's (§4.3): TS.Recent, the peer's timestamp we
 * echo, and Last.ACK.sent, the ACK field of our last segment. Our clock
 * (§5.4) ticks once a millisecond from the engine's passed-in time, plus a
 * per-connection offset (tcp_ts_offset), as Linux does, so the TSval does
 * not tell an observer the host's uptime.
 *
 * Choices where the RFC leaves room, with what Linux does:
 *   - A segment without TSopt after timestamps were agreed: RFC 7323 §3.2
 *     says a TCP SHOULD silently drop it. Linux processes it normally
 *     (only PAWS and TS.Recent are skipped); so does this engine — a peer
 *     or middlebox that strips the option on some segments must not stall
 *     the connection.
 *   - TSopt on a connection that did not agree to it (§3.2): ignored.
 *   - A TSecr greater than any TSval we have sent cannot be an echo of
 *     ours: the segment is dropped (`ts_ecr_future`) and never used for the
 *     RTT or the congestion window. (Linux only ignores it for the RTT.)
 *   - An RST is never subjected to PAWS and its TSopt updates nothing
 *     (§3.2, §5.2).
 *   - PAWS is the RFC's strict SEG.TSval < TS.Recent (Linux allows one tick
 *     and lets some "disordered" pure ACKs through).
 */
#include <string.h>

#include "tcp_internal.h"

/* §5.5: a TS.Recent older than 24 days is no longer valid — the peer's
 * clock (at most 1 ms per tick) may have wrapped half its space since. */
#define TCP_PAWS_IDLE_US (24ull * 24 * 3600 * 1000000)

uint32_t tcp_ts_now(const struct stack *s, const struct tcp_conn *c)
{
    return (uint32_t)(s->now / 1000) + c->ts_offset;
}

uint32_t tcp_ts_now_for(const struct stack *s, const struct tcp_tuple *t)
{
    return (uint32_t)(s->now / 1000) + tcp_ts_offset(s, t);
}

bool tcp_ts_ecr_future(uint32_t ts_ecr, uint32_t newest)
{
    return ts_ecr != 0 && seq_gt(ts_ecr, newest);
}

uint32_t tcp_ts_offset(const struct stack *s, const struct tcp_tuple *t)
{
    uint8_t m[1 + 4 + 4 + 2 + 2];
    m[0] = 'T'; /* not the message tcp_isn() or a cookie hashes */
    memcpy(m + 1, &t->laddr, 4);
    memcpy(m + 5, &t->raddr, 4);
    memcpy(m + 9, &t->lport, 2);
    memcpy(m + 11, &t->rport, 2);
    return (uint32_t)tcp_siphash24(s->cfg.isn_key, m, sizeof m);
}

void tcp_ts_take_syn(struct stack *s, struct tcp_conn *c, const struct wire_tcp_opts *o)
{
    /* §3.2: "a TCP MAY send the TSopt in other segments only if it received
     * a TSopt in the initial <SYN> or <SYN,ACK> segment"; we offer it in
     * our SYN exactly when configured, so "both sent it" is this. */
    c->ts_ok = s->cfg.timestamps && o->has_ts;
    if (!c->ts_ok)
        return;
    c->ts_offset = tcp_ts_offset(s, &c->tuple);
    c->ts_recent = o->ts_val;
    c->ts_recent_us = s->now;
    c->ts_last_sent = tcp_ts_now(s, c); /* nothing sent is newer */
    /* RFC 6691 / RFC 7323: the MSS option counts no TCP options, so the
     * 12 bytes TSopt takes in every segment come off the payload. */
    if (c->mss > 64 + TCP_TSOPT_LEN)
        c->mss -= TCP_TSOPT_LEN;
}

void tcp_ts_fill(struct stack *s, struct tcp_conn *c, struct wire_tcp *th)
{
    if ((th->flags & TCP_SYN) && !(th->flags & TCP_ACK)) {
        /* Our SYN (first or retransmitted): offered when configured. TSecr
         * is 0: nothing to echo yet (§3.2: valid only with ACK). */
        if (!s->cfg.timestamps)
            return;
        c->ts_offset = tcp_ts_offset(s, &c->tuple);
        th->opts.has_ts = true;
        th->opts.ts_val = c->ts_last_sent = tcp_ts_now(s, c);
        th->opts.ts_ecr = 0;
        return;
    }
    if (!c->ts_ok)
        return;
    th->opts.has_ts = true;
    tcp_ts_stamp(s, c, th->flags & TCP_ACK, th->ack, &th->opts.ts_val, &th->opts.ts_ecr);
}

void tcp_ts_stamp(struct stack *s, struct tcp_conn *c, bool has_ack, uint32_t ack, uint32_t *ts_val,
                  uint32_t *ts_ecr)
{
    *ts_val = c->ts_last_sent = tcp_ts_now(s, c);
    *ts_ecr = c->ts_recent; /* §4.3 (1) */
    if (has_ack)
        c->last_ack_sent = ack;
}

/* Is TS.Recent still worth comparing against (§5.5)? */
static bool tcp_ts_recent_valid(const struct stack *s, const struct tcp_conn *c)
{
    return s->now - c->ts_recent_us <= TCP_PAWS_IDLE_US;
}

bool tcp_ts_check(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    const struct wire_tcp_opts *o = &seg->th->opts;
    if (!c->ts_ok || !o->has_ts || (seg->flags & TCP_RST))
        return true;
    /* Only an ACK's TSecr means anything (§3.2). One beyond the newest
     * TSval we sent is forged or broken (0 is "nothing to echo", see
     * tcp_ts_rtt). Compared with what was sent, not with the clock: after
     * 24.8 days of silence our clock is more than 2^31 ticks past the last
     * echo, which would look like the future. */
    if ((seg->flags & TCP_ACK) && tcp_ts_ecr_future(o->ts_ecr, c->ts_last_sent)) {
        stack_drop(s, c, TCP_DROP_TS_ECR_FUTURE, seg->raw, seg->raw_len);
        return false;
    }
    /* §5.3 R1: "If there is a Timestamps option in the arriving segment,
     * SEG.TSval < TS.Recent, TS.Recent is valid (see later discussion),
     * and if the RST bit is not set, then treat the arriving segment as not
     * acceptable: Send an acknowledgment in reply as specified in RFC 793
     * page 69 and drop the segment." The ACK goes through the same limiter
     * as every other ACK to an unacceptable segment (RFC 5961 §7). */
    if (seq_lt(o->ts_val, c->ts_recent) && tcp_ts_recent_valid(s, c)) {
        stack_drop(s, c, TCP_DROP_PAWS, seg->raw, seg->raw_len);
        if (tcp_oow_ack_allowed(s, c, seg))
            tcp_send_ack(s, c);
        return false;
    }
    return true;
}

void tcp_ts_take_recent(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    const struct wire_tcp_opts *o = &seg->th->opts;
    if (!c->ts_ok || !o->has_ts || (seg->flags & TCP_RST))
        return;
    /* §4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent,
     * then SEG.TSval is copied to TS.Recent". The second half keeps the
     * timestamp of the segment that was due when we last acknowledged, so
     * the echo covers the delay of a delayed ACK and the time a hole took
     * to fill (§4.1 cases A-C). An invalid (24-day old) TS.Recent is
     * replaced whatever it says (§5.5). */
    if ((seq_geq(o->ts_val, c->ts_recent) || !tcp_ts_recent_valid(s, c)) &&
        seq_leq(seg->seq, c->last_ack_sent)) {
        c->ts_recent = o->ts_val;
        c->ts_recent_us = s->now;
    }
}

void tcp_rtt_take(struct stack *s, struct tcp_conn *c, uint64_t rtt_us, bool from_ts,
                  uint32_t ts_ecr)
{
    tcp_rtt_sample(&c->rtt, rtt_us, &s->cfg);
    tcp_cc_rtt_sample(c, rtt_us);
    if (from_ts)
        s->stats.rtt_samples_ts++;
    else
        s->stats.rtt_samples_timed++;
    if (!stack_observed(s))
        return;
    struct tev ev;
    stack_event_init(s, &ev, TEV_RTT, c);
    ev.u.rtt.sample_us = rtt_us;
    ev.u.rtt.srtt_us = c->rtt.srtt_us;
    ev.u.rtt.rttvar_us = c->rtt.rttvar_us;
    ev.u.rtt.rto_us = c->rtt.rto_us;
    ev.u.rtt.from_ts = from_ts;
    ev.u.rtt.ts_ecr = ts_ecr;
    stack_emit(s, &ev);
}

bool tcp_ts_rtt(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    const struct wire_tcp_opts *o = &seg->th->opts;
    /* §4.1: every ACK that advances the left edge gives a sample, the
     * time since the TSval it echoes was sent — retransmitted data too:
     * the echo says which transmission the peer saw, so Karn's ambiguity
     * does not arise. A TSecr of 0 is taken as "none", as Linux does (some
     * stacks send it before they have anything to echo). */
    if (!c->ts_ok || !o->has_ts || o->ts_ecr == 0)
        return false;
    uint32_t ticks = tcp_ts_now(s, c) - o->ts_ecr; /* not in the future: tcp_ts_check */
    if (ticks > INT32_MAX)
        return false; /* an echo from weeks ago is no round trip (Linux ignores it too) */
    tcp_rtt_take(s, c, (uint64_t)ticks * 1000, true, o->ts_ecr);
    return true;
}

bool tcp_ts_time_wait_syn_ok(const struct stack *s, const struct tcp_conn *c,
                             const struct tcp_seg *seg)
{
    const struct wire_tcp_opts *o = &seg->th->opts;
    bool ts_new = s->cfg.timestamps && o->has_ts; /* timestamps in the new incarnation */
    bool seq_newer = seq_gt(seg->seq, c->rcv_nxt);
    /* RFC 6191 §2: with timestamps in both incarnations, a SYN whose TSval
     * is newer than the last one seen is new whatever its sequence number
     * (its first rule); an equal TSval needs a newer sequence number (the
     * second). Without timestamps on either side, as Linux does, only a
     * newer sequence number will do (RFC 6191's fourth rule; its third, a
     * new incarnation without timestamps after one with them, Linux does
     * not take either). Otherwise the old connection stays in TIME_WAIT,
     * and PAWS or the steps of RFC 9293 answer the SYN. */
    if (c->ts_ok && ts_new) {
        if (seq_gt(o->ts_val, c->ts_recent))
            return true;
        return o->ts_val == c->ts_recent && seq_newer;
    }
    return seq_newer;
}
