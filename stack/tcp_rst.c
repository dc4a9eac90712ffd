/*
 * tcp_rst.c — the one place where resets are made and judged.
 *
 * Generating RST (RFC 9293 §3.5.2 "Reset Generation"):
 *   1. A segment for a connection that does not exist (no connection, no
 *      listener) gets a RST, unless it is itself a RST (§3.10.7.1).
 *   2. In a non-synchronized state (LISTEN, SYN_SENT, SYN_RECEIVED), a
 *      segment acknowledging something never sent gets a RST (§3.10.7.2,
 *      §3.10.7.3, §3.10.7.4 fifth step).
 *      For 1 and 2 the RST's numbers come from the offending segment:
 *        if it had ACK:   <SEQ=SEG.ACK><CTL=RST>
 *        otherwise:       <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
 *   3. ABORT (§3.10.5) in a synchronized state, and CLOSE with data the
 *      application never read (RFC 2525 §2.17), or with SO_LINGER {1, 0}.
 *      A keepalive timeout also resets the connection, as Linux does.
 *
 * Accepting RST (§3.10.7.4 second step, hardened by RFC 5961 §3):
 *   - SYN_SENT: acceptable only if its ACK acknowledges our SYN.
 *   - otherwise, once it is inside the receive window (first step):
 *       SEG.SEQ == RCV.NXT exactly     → reset the connection
 *       in the window but not exact    → send a challenge ACK, drop it
 *       (out of the window: dropped by the first step, no answer)
 *   - TIME_WAIT ignores RST altogether (RFC 1337, "TIME-WAIT assassination").
 *
 * Challenge ACKs (RFC 5961 §3.2, §4.2, §5.2) are <SEQ=SND.NXT><ACK=RCV.NXT>
 * <CTL=ACK>. RFC 5961 §7: "An implementation SHOULD include an ACK
 * throttling mechanism": at most one per cfg.invalid_ratelimit_us (500 ms)
 * per connection, shared with the duplicate ACKs sent to out-of-window
 * segments (RFC 5961 §5, Linux's tcp_invalid_ratelimit), and at most
 * TCP_CHALLENGE_ACK_LIMIT per second per stack (Linux's default is 1000 too).
 */
#include <string.h>

#include "tcp_internal.h"

void tcp_rst_reply(struct stack *s, const struct tcp_seg *seg)
{
    if (seg->flags & TCP_RST)
        return; /* never answer a RST with a RST */
    struct wire_tcp th;
    memset(&th, 0, sizeof th);
    th.sport = seg->th->dport;
    th.dport = seg->th->sport;
    if (seg->flags & TCP_ACK) {
        th.seq = seg->ack;
        th.flags = TCP_RST;
    } else {
        th.seq = 0;
        th.ack = seg->seq + seg->len;
        th.flags = TCP_RST | TCP_ACK;
    }
    tcp_emit_packet(s, NULL, seg->ip->dst, seg->ip->src, &th, NULL, 0, false, false);
}

/* §3.10.5 ABORT: "Send a reset segment: <SEQ=SND.NXT><CTL=RST>". Like
 * Linux we also set ACK (RCV.NXT), which the RFC allows and which makes the
 * RST acceptable to a peer in SYN_SENT-like corner cases. */
void tcp_rst_abort(struct stack *s, struct tcp_conn *c)
{
    struct wire_tcp th;
    memset(&th, 0, sizeof th);
    th.sport = c->tuple.lport;
    th.dport = c->tuple.rport;
    th.seq = c->snd_nxt;
    th.ack = c->rcv_nxt;
    th.flags = TCP_RST | TCP_ACK;
    tcp_ts_fill(s, c, &th); /* RFC 7323 §3.2: TSopt SHOULD be sent in a RST too */
    tcp_emit_packet(s, c, c->tuple.laddr, c->tuple.raddr, &th, NULL, 0, false, false);
}

bool tcp_rst_acceptable_syn_sent(const struct tcp_conn *c, const struct tcp_seg *seg)
{
    return (seg->flags & TCP_ACK) && seq_gt(seg->ack, c->iss) && seq_leq(seg->ack, c->snd_nxt);
}

enum tcp_rst_verdict tcp_rst_check(const struct tcp_conn *c, const struct tcp_seg *seg)
{
    if (c->state == TCP_TIME_WAIT)
        return TCP_RST_IGNORE; /* RFC 1337 */
    if (seg->seq == c->rcv_nxt)
        return TCP_RST_ACCEPT; /* RFC 5961 §3.2 (1) */
    uint32_t wnd = tcp_rcv_space(c);
    if (seq_in_range(seg->seq, c->rcv_nxt, c->rcv_nxt + (wnd ? wnd : 1)))
        return TCP_RST_CHALLENGE; /* RFC 5961 §3.2 (3) */
    return TCP_RST_DROP;          /* RFC 5961 §3.2 (2) */
}

bool tcp_oow_ack_allowed(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    if (seg && seg->len > 0 && !(seg->flags & TCP_SYN))
        return true;
    if (c->oow_acked && s->now - c->last_oow_ack_us < s->cfg.invalid_ratelimit_us)
        return false;
    c->oow_acked = 1;
    c->last_oow_ack_us = s->now;
    return true;
}

void tcp_send_challenge_ack(struct stack *s, struct tcp_conn *c)
{
    if (!tcp_oow_ack_allowed(s, c, NULL))
        return; /* throttled for this connection (the drop was reported) */
    if (s->now - s->challenge_window_us >= 1000000) {
        s->challenge_window_us = s->now;
        s->challenge_acks = 0;
    }
    if (s->challenge_acks >= TCP_CHALLENGE_ACK_LIMIT)
        return; /* throttled (the drop event was already reported) */
    s->challenge_acks++;
    tcp_send_ack(s, c);
}
