/*
 * tcp_out.c — what the engine sends: data from the send queue, SYN and FIN,
 * ACKs and window updates, probes and retransmissions.
 *
 * The send queue holds every byte from SND.UNA on; bytes between SND.UNA
 * and SND.NXT are in flight, the rest wait for window. tcp_output() sends
 * as much as the rules allow:
 *   - the peer's window (RFC 9293 §3.8.6) and the congestion window
 *     (RFC 5681, tcp_cc.c): never past SND.UNA + min(SND.WND, cwnd);
 *   - in SACK-based loss recovery (RFC 6675 §5, tcp_sack.c) instead: one
 *     segment chosen by NextSeg while cwnd - pipe >= 1 SMSS;
 *   - sender silly-window avoidance (§3.8.6.2.1): a segment smaller than
 *     the MSS goes only if it carries everything queued (and Nagle agrees)
 *     or at least half the largest window the peer ever offered;
 *   - Nagle (RFC 1122 §4.2.3.4, switchable with TCP_NODELAY): while data is
 *     in flight, a small tail waits for the ACK;
 *   - PSH on the segment that empties the queue; FIN after the last byte;
 *   - with segmentation offload (stack_config.out_seg_max) several full
 *     segments leave as one larger one (tcp_gso_len), for the device to cut.
 *     Everything above still counts bytes, so the device's segments are the
 *     ones this loop would have sent one at a time.
 * The receive side's window is advertised here too, with receiver
 * silly-window avoidance (§3.8.6.2.2).
 */
#include <string.h>

#include "tcp_internal.h"

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* The window field for a non-SYN segment. RFC 9293 §3.8.6.2.2: the right
 * edge only moves when it can move by min(buffer/2, MSS), so a slow reader
 * does not make the peer send tiny segments. Records RCV.ADV. */
static inline uint16_t tcp_window_field(struct tcp_conn *c)
{
    uint32_t space = tcp_rcv_space(c);
    uint32_t adv = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t wnd = space;
    if (space > adv && space - adv < min_u32(c->rcvbuf / 2, c->mss))
        wnd = adv;
    uint32_t field = wnd >> c->rcv_wscale;
    /* With scaling, rounding down the edge we already promised would look
     * like a shrinking window (RFC 7323 §2.4); round it up if it fits. */
    if (wnd == adv && (field << c->rcv_wscale) < adv && ((field + 1) << c->rcv_wscale) <= space)
        field++;
    if (field > 65535)
        field = 65535;
    uint32_t edge = c->rcv_nxt + (field << c->rcv_wscale);
    if (seq_gt(edge, c->rcv_adv))
        c->rcv_adv = edge;
    return (uint16_t)field;
}

/* The TEV_SEGMENT event of a packet in s->pkt. Out of line: only an
 * observer pays for building it. */
__attribute__((noinline)) static void tcp_emit_event(struct stack *s, const struct tcp_conn *c,
                                                     uint32_t src, uint32_t dst,
                                                     const struct wire_tcp *th, size_t len,
                                                     bool retransmission, bool probe)
{
    struct tev ev;
    stack_event_init(s, &ev, TEV_SEGMENT, c);
    ev.tuple.laddr = src;
    ev.tuple.raddr = dst;
    ev.tuple.lport = th->sport;
    ev.tuple.rport = th->dport;
    ev.u.seg.dir = TEV_OUT;
    ev.u.seg.tcp = *th;
    ev.u.seg.src = src;
    ev.u.seg.dst = dst;
    ev.u.seg.raw = s->pkt;
    ev.u.seg.raw_len = len;
    ev.u.seg.retransmission = retransmission;
    ev.u.seg.probe = probe;
    ev.u.seg.cookie = s->emitting_cookie;
    stack_emit(s, &ev);
}

/* The built packet in s->pkt leaves: counted, then handed to the output
 * (with segmentation offload when it holds more than one MSS of data). Its
 * event, if anyone observes, is the caller's, before this. */
static inline void tcp_packet_out(struct stack *s, const struct tcp_conn *c, size_t len, bool gso)
{
    s->stats.pkts_out++;
    if (gso)
        s->cfg.output_gso(s->cfg.output_ctx, s->pkt, len, c->mss);
    else
        s->cfg.output(s->cfg.output_ctx, s->pkt, len);
}

void tcp_emit_packet(struct stack *s, const struct tcp_conn *c, uint32_t src, uint32_t dst,
                     struct wire_tcp *th, const uint8_t *payload, size_t n, bool retransmission,
                     bool probe)
{
    /* More than one MSS of data: segmentation offload (stack_config.out_seg_max). */
    bool gso = c && n > c->mss;
    size_t len =
        gso ? wire_tcp_build_partial(s->pkt, s->pkt_cap, src, dst, s->ip_id++, th, payload, n)
            : wire_tcp_build(s->pkt, s->pkt_cap, src, dst, s->ip_id++, th, payload, n);
    if (!len)
        return;
    /* RFC 9293 §3.9.1.9, §3.9.2 (MUST-48, MUST-49): the application's
     * Diffserv field and TTL; a reset for no connection takes the stack's. */
    uint8_t ttl = c ? c->ip_ttl : s->cfg.ttl, tos = c ? c->ip_tos : 0;
    if (ttl != WIRE_DEFAULT_TTL || tos != 0)
        wire_ipv4_set_tos_ttl(s->pkt, tos, ttl);
    if (retransmission)
        s->stats.retransmissions++;
    if (stack_observed(s))
        tcp_emit_event(s, c, src, dst, th, len, retransmission, probe);
    tcp_packet_out(s, c, len, gso);
}

/* A segment with ACK is going out: it settles the ACK we owed. */
static void tcp_ack_sent(struct stack *s, struct tcp_conn *c)
{
    c->ack_owed = 0;
    c->delack_bytes = 0;
    if (tcp_timer_armed(c, TCP_TIMER_DELACK))
        tcp_timer_cancel(s, c, TCP_TIMER_DELACK);
}

/* Send one segment of connection c: `n` bytes from send-queue offset
 * `qoff`, with the given flags. Every segment but the first SYN carries
 * ACK, so sending one settles any ACK we owe. */
static void tcp_xmit(struct stack *s, struct tcp_conn *c, uint32_t seq, uint8_t flags,
                     uint32_t qoff, uint32_t n, bool retransmission, bool probe)
{
    struct wire_tcp th;
    memset(&th, 0, sizeof th);
    th.sport = c->tuple.lport;
    th.dport = c->tuple.rport;
    th.seq = seq;
    th.flags = flags;
    if (flags & TCP_ACK)
        th.ack = c->rcv_nxt;
    if (flags & TCP_SYN) {
        /* RFC 9293 §3.7.1: MSS option; RFC 7323 §2.2: window scale, offered
         * in our SYN when configured, and in a SYN,ACK only if the peer's SYN
         * offered it. The window in a SYN is never scaled. */
        th.opts.has_mss = true;
        th.opts.mss = s->cfg.mss;
        bool offer = c->state == TCP_SYN_SENT ? s->cfg.window_scaling : c->ws_ok;
        if (offer) {
            th.opts.has_wscale = true;
            th.opts.wscale = s->cfg.wscale;
        }
        /* RFC 2018 §2: SACK-permitted "may be sent in a SYN by a TCP that has
         * been extended to receive (and presumably process) the SACK option
         * once the connection has opened"; in a SYN,ACK only if the SYN had it. */
        th.opts.sack_permitted = c->state == TCP_SYN_SENT ? tcp_sack_wanted(s, c) : c->sack_ok;
        uint32_t space = c->rcvbuf - c->rcvq.len;
        th.win = (uint16_t)min_u32(space, 65535);
        c->rcv_adv = c->rcv_nxt + th.win;
    } else {
        th.win = tcp_window_field(c);
        if (c->sack_ok && (flags & TCP_ACK)) {
            tcp_sack_fill_option(c, &th.opts); /* RFC 2018 §4 */
            /* RFC 6691: text and options beyond the basic header together
             * stay within the MSS (c->mss has TSopt's 12 bytes off already).
             * A data segment keeps the SACK blocks that fit beside its text
             * (NOP, NOP, kind, length, 8 bytes a block: wire.c); the next
             * ACK carries the rest. */
            uint32_t room = c->mss > n ? c->mss - n : 0;
            uint32_t fit = room >= 12 ? (room - 4) / 8 : 0;
            if (n && th.opts.n_sack > fit)
                th.opts.n_sack = (uint8_t)fit;
        }
    }
    tcp_ts_fill(s, c, &th); /* RFC 7323 §3.2: TSopt in every segment once agreed */
    /* RFC 9293 §3.8.5: the urgent field "is carried in all segments
     * transmitted" until the urgent data is acknowledged; SEG.UP is an offset
     * from SEG.SEQ to the byte after the urgent data (MUST-62). */
    if (c->snd_urg && (flags & TCP_ACK) && !(flags & TCP_SYN)) {
        if (seq_lt(seq, c->snd_up)) {
            uint32_t up = c->snd_up - seq;
            th.flags |= TCP_URG;
            th.urg = (uint16_t)(up > 65535 ? 65535 : up);
        } else if (seq_leq(c->snd_up, c->snd_una)) {
            c->snd_urg = 0; /* all of it acknowledged */
        }
    }
    const uint8_t *payload = NULL;
    if (n) {
        payload = rbuf_peek(&c->sndq, qoff, n);
        if (!payload) {
            rbuf_read_at(&c->sndq, qoff, s->payload_tmp, n);
            payload = s->payload_tmp;
        }
    }
    if (flags & TCP_ACK)
        tcp_ack_sent(s, c);
    tcp_emit_packet(s, c, c->tuple.laddr, c->tuple.raddr, &th, payload, n, retransmission, probe);
}

void tcp_send_syn(struct stack *s, struct tcp_conn *c, bool retransmission)
{
    uint8_t flags = c->state == TCP_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;
    tcp_xmit(s, c, c->iss, flags, 0, 0, retransmission, false);
    c->snd_nxt = c->iss + 1;
    c->snd_max = c->snd_nxt;
    c->rtx_high = c->iss;
    if (!retransmission && !tcp_timer_armed(c, TCP_TIMER_RTX)) {
        c->rtt_timing = 1;
        c->rtt_seq = c->iss;
        c->rtt_start = s->now;
        tcp_timer_arm_rtx(s, c);
    }
}

/* Would tcp_xmit() give this bare ACK nothing but the header, the window
 * and TSopt? Then the connection's template (wire_ack_template) makes the
 * same bytes. Not with SACK blocks to report (RFC 2018 §4: a D-SACK, blocks
 * remembered or held out of order; tcp_sack_fill_option) or an urgent
 * pointer to carry (RFC 9293 §3.8.5), nor with stack_config.no_fast_path,
 * which the tests use to compare the two ways (test_tcp_fastpath.c). */
static bool tcp_ack_fits_template(const struct stack *s, const struct tcp_conn *c)
{
    if (s->cfg.no_fast_path || c->snd_urg)
        return false;
    return !c->sack_ok || (!c->srcv.dsack && c->srcv.n_recent == 0 && c->ooo.n == 0);
}

/* tcp_xmit()'s bare ACK, the same fields in the same order (the window and
 * RCV.ADV, TSopt and Last.ACK.sent, the delayed ACK settled, then the
 * packet), written over the template instead of built field by field. */
static void tcp_send_ack_from_template(struct stack *s, struct tcp_conn *c)
{
    struct wire_ack_template *t = &c->ack_tpl;
    /* made again after IP_TTL or IP_TOS (tcp_setsockopt empties it) and when
     * a new incarnation of the connection settled timestamps otherwise */
    if (!t->len || t->ts != c->ts_ok)
        wire_ack_template_init(t, c->tuple.laddr, c->tuple.raddr, c->tuple.lport, c->tuple.rport,
                               c->ts_ok, c->ip_tos, c->ip_ttl);
    uint32_t seq = c->snd_max, ack = c->rcv_nxt;
    uint16_t win = tcp_window_field(c);
    uint32_t ts_val = 0, ts_ecr = 0;
    if (c->ts_ok)
        tcp_ts_stamp(s, c, true, ack, &ts_val, &ts_ecr);
    tcp_ack_sent(s, c);
    size_t len = wire_ack_template_fill(s->pkt, t, s->ip_id++, seq, ack, win, ts_val, ts_ecr);
    if (stack_observed(s)) {
        /* the header as the event reports it: what the bytes say */
        struct wire_ipv4 ip;
        struct wire_tcp th;
        if (wire_ipv4_parse(s->pkt, len, &ip) == WIRE_OK && wire_tcp_parse(&ip, &th) == WIRE_OK)
            tcp_emit_event(s, c, c->tuple.laddr, c->tuple.raddr, &th, len, false, false);
    }
    tcp_packet_out(s, c, len, false);
}

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. While a timeout's go-back-N is
 * resending old sequence space SND.NXT is behind SND.MAX; a bare ACK then
 * carries SND.MAX, the next byte never sent (as BSD does), or the peer would
 * find its sequence number old and ignore the ACK in it. */
void tcp_send_ack(struct stack *s, struct tcp_conn *c)
{
    if (c->state == TCP_SYN_SENT || c->state == TCP_CLOSED || c->state == TCP_LISTEN)
        return;
    if (tcp_ack_fits_template(s, c))
        tcp_send_ack_from_template(s, c);
    else
        tcp_xmit(s, c, c->snd_max, TCP_ACK, 0, 0, false, false);
}

/* ACK once per batch. RFC 1122 §4.2.3.2 lets an ACK wait (less than 0.5 s;
 * at least one for every second full-sized segment). Inside a batch
 * (stack_batch_begin: the TUN loop draining its device) the ACK a segment
 * leaves owed waits until the same connection's next segment arrives or the
 * batch ends — after the application has run, so reply data or a FIN can
 * carry it. The number of ACKs is the one-by-one number (every second full
 * segment, one per GSO super-packet); only their moment moves, by less than
 * one wake-up. */
void tcp_send_owed_ack(struct stack *s, struct tcp_conn *c)
{
    if (!s->batching || s->nheld == TCP_ACK_HOLD_MAX) {
        tcp_send_ack(s, c);
        return;
    }
    if (!c->ack_held) {
        c->ack_held = 1;
        s->held[s->nheld++] = c->tuple;
    }
}

void tcp_release_held_ack(struct stack *s, struct tcp_conn *c)
{
    c->ack_held = 0;
    if (c->ack_owed) /* else data, a FIN or a window update carried it */
        tcp_send_ack(s, c);
}

void stack_batch_begin(struct stack *s)
{
    s->batching = true;
}

void stack_batch_end(struct stack *s, uint64_t now)
{
    s->now = now;
    s->batching = false;
    for (uint32_t i = 0; i < s->nheld; i++) {
        struct tcp_conn *c = conn_lookup(s, &s->held[i]);
        if (c && c->ack_held)
            tcp_release_held_ack(s, c);
    }
    s->nheld = 0;
    stack_reap(s);
}

/* RFC 1122 §4.2.3.6: a keepalive probe is an ACK with SEG.SEQ = SND.NXT-1,
 * which the peer must answer with an ACK. We send no garbage byte. */
void tcp_send_keepalive_probe(struct stack *s, struct tcp_conn *c)
{
    tcp_xmit(s, c, c->snd_max - 1, TCP_ACK, 0, 0, false, true);
}

/* Zero-window probe (RFC 9293 §3.8.6.1). RFC 9293 suggests sending one new
 * byte; like Linux we send an ACK with the already-acknowledged sequence
 * number SND.UNA-1, which the receiver must answer with an ACK carrying its
 * current window — no byte is pushed into a closed window. */
void tcp_send_window_probe(struct stack *s, struct tcp_conn *c)
{
    tcp_xmit(s, c, c->snd_una - 1, TCP_ACK, 0, 0, false, true);
}

/* A segment of n < MSS bytes, `avail` queued: may it go now?
 * RFC 9293 §3.8.6.2.1 (MUST-38), sender SWS avoidance, with D = avail and
 * U = the usable window, sends when
 *   (1) a maximum-sized segment can be sent (the caller's n >= MSS), or
 *   (2) "the data is pushed and all queued data can be sent now" — every
 *       send() pushes here — if Nagle agrees (RFC 1122 §4.2.3.4: nothing
 *       unacknowledged in flight, or TCP_NODELAY), or
 *   (3) "at least a fraction Fs of the maximum window can be sent", Fs = 1/2,
 *   (4) or the override timeout fires: the persist timer, which then calls
 *       tcp_output_forced() (tcp_timer.c).
 * A window-limited sliver (n < avail) therefore waits, Nagle or not. */
static bool tcp_sws_allows_small(const struct tcp_conn *c, uint32_t n, uint32_t avail)
{
    if (n == avail)
        return c->opt_nodelay || c->snd_nxt == c->snd_una;
    return n >= c->max_snd_wnd / 2;
}

/* Segmentation offload: after a full-sized segment is allowed, how much
 * one packet carries — as many full segments as the window, the queue and
 * out_seg_max allow, plus the tail that would have followed them at once:
 * the FIN's last bytes, or a small tail that SWS avoidance and Nagle let go
 * with the full segments already in flight (like Linux's
 * tcp_mss_split_point). So the segments the device cuts are those the
 * one-by-one loop would have sent. */
static uint32_t tcp_gso_len(const struct stack *s, const struct tcp_conn *c, uint32_t avail,
                            uint32_t room, uint32_t wnd)
{
    /* At most a quarter of the window per packet: a lost packet is then
     * followed by three more, whose duplicate ACKs (a receiver sends one
     * per out-of-order packet, whatever its size) start fast retransmit
     * (RFC 5681 §3.2) instead of waiting out the RTO. */
    uint32_t max = min_u32(s->cfg.out_seg_max, wnd / 4);
    if (max < c->mss)
        max = c->mss;
    uint32_t want = min_u32(avail, room);
    if (want > max)
        return max - max % c->mss; /* full segments only; the rest in the next packet */
    uint32_t tail = want % c->mss;
    if (tail == 0)
        return want;
    /* tcp_sws_allows_small() for the tail, with the full segments in flight. */
    bool tail_goes = want == avail ? c->fin_queued || c->opt_nodelay : tail >= c->max_snd_wnd / 2;
    return tail_goes ? want : want - tail;
}

/* Go-back-N after a timeout with SACK: bytes the receiver has SACKed since
 * (the scoreboard was cleared at the timeout, RFC 2018 §8) need not go
 * again. Moves SND.NXT past them; returns how far the next segment may reach
 * before the next SACKed range. */
static uint32_t tcp_skip_sacked(struct tcp_conn *c)
{
    uint32_t limit = c->snd_max;
    const struct tcp_scoreboard *sb = &c->sb;
    for (unsigned i = 0; i < sb->n; i++) {
        if (seq_leq(sb->r[i].right, c->snd_nxt))
            continue;
        if (seq_leq(sb->r[i].left, c->snd_nxt)) {
            c->snd_nxt = seq_min(sb->r[i].right, c->snd_max);
            continue;
        }
        limit = sb->r[i].left;
        break;
    }
    return limit;
}

/* One segment from SND.NXT: new data, or old sequence space again after a
 * timeout (go-back-N). `cc_room` bytes at most by the congestion window.
 * Returns false when nothing (more) may go. */
static bool tcp_output_segment(struct stack *s, struct tcp_conn *c, uint32_t cc_room, bool *force)
{
    uint32_t seg_limit = UINT32_MAX;
    if (c->sack_ok && c->sb.n && seq_lt(c->snd_nxt, c->snd_max)) {
        uint32_t limit = tcp_skip_sacked(c);
        seg_limit = limit - c->snd_nxt;
    }
    uint32_t off = c->snd_nxt - c->snd_una; /* bytes in flight */
    uint32_t qlen = c->sndq.len;
    if (off > qlen)
        return false; /* our FIN has been sent: nothing follows it */
    uint32_t avail = qlen - off;
    uint32_t wnd_end = c->snd_una + c->snd_wnd;
    uint32_t room = seq_gt(wnd_end, c->snd_nxt) ? wnd_end - c->snd_nxt : 0;
    room = min_u32(room, cc_room);
    uint32_t n = min_u32(min_u32(min_u32(avail, c->mss), room), seg_limit);
    /* The FIN goes with (or after) the last byte. A bare FIN needs no
     * window: it carries no data. */
    bool fin = c->fin_queued && n == avail;
    if (n == 0 && !fin)
        return false;
    if (n < c->mss && !fin && !*force && n != seg_limit && !tcp_sws_allows_small(c, n, avail))
        return false;
    *force = false;
    /* Segmentation offload for new data (retransmissions go one by one). */
    if (n == c->mss && s->cfg.out_seg_max && !seq_lt(c->snd_nxt, c->snd_max)) {
        n = tcp_gso_len(s, c, avail, room, min_u32(c->snd_wnd, tcp_cc_window(c)));
        fin = c->fin_queued && n == avail;
    }
    uint8_t flags = TCP_ACK;
    if (n > 0 && n == avail)
        flags |= TCP_PSH;
    if (fin)
        flags |= TCP_FIN;
    /* Below SND.MAX this is sequence space sent before a timeout, sent
     * again (go-back-N): a retransmission, never timed (Karn). */
    bool again = seq_lt(c->snd_nxt, c->snd_max);
    uint32_t end = c->snd_nxt + n + (fin ? 1 : 0);
    tcp_xmit(s, c, c->snd_nxt, flags, off, n, again, false);
    if (n > 0)
        c->cc.last_send_us = s->now;
    if (again) {
        if (seq_gt(end, c->rtx_high))
            c->rtx_high = end;
        tcp_cc_note_retransmit(c, c->snd_nxt, n);
    } else if (!c->rtt_timing) { /* RFC 6298: time one segment per round trip */
        c->rtt_timing = 1;
        c->rtt_seq = c->snd_nxt;
        c->rtt_start = s->now;
    }
    c->snd_nxt = end;
    if (seq_gt(c->snd_nxt, c->snd_max))
        c->snd_max = c->snd_nxt;
    if (!tcp_timer_armed(c, TCP_TIMER_RTX))
        tcp_timer_arm_rtx(s, c); /* RFC 6298 (5.1) */
    return !fin;
}

/* Is there new data the peer's window would take now (NextSeg rule 2)? */
static bool tcp_new_data_sendable(const struct tcp_conn *c)
{
    uint32_t off = c->snd_nxt - c->snd_una;
    if (off > c->sndq.len)
        return false;
    if (off == c->sndq.len)
        return c->fin_queued; /* the FIN is still to go */
    return seq_lt(c->snd_nxt, c->snd_una + c->snd_wnd);
}

/* RFC 6675 §5 (4.4) and (C): "while (cwnd - pipe) >= 1 SMSS": NextSeg(),
 * send it, and for a retransmission move HighRxt. Each step adds to pipe,
 * so the loop ends; the bound is a guard. */
static void tcp_output_sack_recovery(struct stack *s, struct tcp_conn *c)
{
    for (unsigned guard = 0; guard < 4096; guard++) {
        uint32_t pipe = tcp_sack_set_pipe(&c->sb, c->snd_una, c->snd_max, c->mss);
        uint32_t cwnd = tcp_cc_window(c);
        if (cwnd < pipe || cwnd - pipe < c->mss)
            return;
        uint32_t seq, len;
        bool force = false;
        switch (tcp_sack_next_seg(&c->sb, c->snd_una, c->snd_max, c->recover, c->mss,
                                  tcp_new_data_sendable(c), &seq, &len)) {
        case TCP_SACK_NEXT_NONE:
            return;
        case TCP_SACK_NEXT_NEW:
            if (!tcp_output_segment(s, c, c->mss, &force))
                return;
            break;
        case TCP_SACK_NEXT_RTX:
            tcp_retransmit_range(s, c, seq, len);
            c->sb.high_rxt = seq + len;
            break;
        case TCP_SACK_NEXT_RESCUE:
        case TCP_SACK_NEXT_RERTX:
            tcp_retransmit_range(s, c, seq, len);
            break;
        }
    }
}

void tcp_output_ex(struct stack *s, struct tcp_conn *c, bool force)
{
    if (c->snd_nxt == c->snd_una && c->sndq.len > 0)
        tcp_cc_before_send(s, c); /* RFC 5681 §4.1, restart after idle */
    if (c->sack_recovery) {
        tcp_output_sack_recovery(s, c);
    } else {
        /* RFC 5681 §3.1: never more than min(cwnd, rwnd) in flight. */
        for (;;) {
            uint32_t cc_end = c->snd_una + tcp_cc_window(c);
            uint32_t cc_room = seq_gt(cc_end, c->snd_nxt) ? cc_end - c->snd_nxt : 0;
            if (tcp_cc_window(c) == UINT32_MAX)
                cc_room = UINT32_MAX;
            if (!tcp_output_segment(s, c, cc_room, &force))
                break;
        }
    }
    /* RFC 9293 §3.8.6.1: data waiting, nothing in flight, and the window
     * will not let it go — only the persist timer can find out when the
     * window reopens (the peer's window update could be lost). With a small
     * open window the same timer is SWS avoidance's override timeout. */
    bool waiting = c->snd_nxt == c->snd_una && c->sndq.len > 0;
    if (waiting && !tcp_timer_armed(c, TCP_TIMER_PERSIST)) {
        uint64_t d = c->rtt.rto_us << (c->persist_backoff < 16 ? c->persist_backoff : 16);
        if (d > s->cfg.rto_max_us)
            d = s->cfg.rto_max_us;
        tcp_timer_arm(s, c, TCP_TIMER_PERSIST, s->now + d);
    } else if (!waiting && tcp_timer_armed(c, TCP_TIMER_PERSIST)) {
        tcp_timer_cancel(s, c, TCP_TIMER_PERSIST);
        c->persist_backoff = 0;
    }
}

uint32_t tcp_retransmit_first(struct stack *s, struct tcp_conn *c)
{
    if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
        c->rtt_timing = 0; /* Karn: the SYN went out twice */
        tcp_send_syn(s, c, true);
        return 0;
    }
    if (c->snd_una == c->iss) {
        /* Closed in SYN_RECEIVED: our SYN is still unacknowledged. */
        c->rtt_timing = 0;
        tcp_xmit(s, c, c->iss, TCP_SYN | TCP_ACK, 0, 0, true, false);
        return 0;
    }
    uint32_t inflight = c->snd_max - c->snd_una; /* everything ever sent */
    uint32_t qlen = c->sndq.len;
    uint32_t n = min_u32(min_u32(qlen, c->mss), inflight);
    bool fin = c->fin_queued && inflight > qlen && n == qlen;
    if (n == 0 && !fin)
        return 0;
    uint8_t flags = TCP_ACK;
    if (n > 0 && n == qlen)
        flags |= TCP_PSH;
    if (fin)
        flags |= TCP_FIN;
    /* Karn's algorithm (RFC 6298 §3, as BSD does it): stop timing on any
     * retransmission, and remember how far retransmitted data reaches: an
     * ACK covering any of it gives no sample (tcp_in.c). */
    c->rtt_timing = 0;
    uint32_t end = c->snd_una + n + (fin ? 1 : 0);
    if (seq_gt(end, c->rtx_high))
        c->rtx_high = end;
    tcp_xmit(s, c, c->snd_una, flags, 0, n, true, false);
    tcp_cc_note_retransmit(c, c->snd_una, n);
    return n + (fin ? 1 : 0);
}

void tcp_retransmit_range(struct stack *s, struct tcp_conn *c, uint32_t seq, uint32_t len)
{
    uint32_t qoff = seq - c->snd_una;
    if (qoff > c->sndq.len)
        return; /* only our FIN is there, and tcp_retransmit_first() sends that */
    uint32_t n = min_u32(len, c->sndq.len - qoff);
    bool fin = c->fin_queued && seq_gt(seq + len, c->fin_seq) && qoff + n == c->sndq.len;
    if (n == 0 && !fin)
        return;
    uint8_t flags = TCP_ACK;
    if (n > 0 && qoff + n == c->sndq.len)
        flags |= TCP_PSH;
    if (fin)
        flags |= TCP_FIN;
    c->rtt_timing = 0; /* Karn, as in tcp_retransmit_first() */
    uint32_t end = seq + n + (fin ? 1 : 0);
    if (seq_gt(end, c->rtx_high))
        c->rtx_high = end;
    tcp_xmit(s, c, seq, flags, qoff, n, true, false);
    tcp_cc_note_retransmit(c, seq, n);
}

void tcp_maybe_window_update(struct stack *s, struct tcp_conn *c)
{
    if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 && c->state != TCP_FIN_WAIT_2)
        return;
    uint32_t adv = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t space = tcp_rcv_space(c);
    uint32_t thresh = min_u32(c->rcvbuf / 2, c->mss);
    /* Tell the peer when the window grew by a useful amount and what it
     * knows is at most half of it (so bulk readers do not ACK every read). */
    if (space >= adv + thresh && (adv <= space / 2 || adv < c->mss))
        tcp_send_ack(s, c);
}

void tcp_close_send_side(struct stack *s, struct tcp_conn *c, const char *cause)
{
    switch (c->state) {
    case TCP_SYN_RECEIVED:
        /* §3.10.4 CLOSE in SYN-RECEIVED: "If no SENDs have been issued and
         * there is no pending data to send, then form a FIN segment and
         * send it, and enter FIN-WAIT-1 state; otherwise, queue for
         * processing after entering ESTABLISHED state." */
        if (c->sndq.len == 0) {
            c->fin_queued = 1;
            c->fin_seq = c->iss + 1;
            tcp_set_state(s, c, TCP_FIN_WAIT_1, cause);
            tcp_xmit(s, c, c->fin_seq, TCP_FIN | TCP_ACK, 0, 0, false, false);
            c->snd_nxt = c->fin_seq + 1;
            c->snd_max = c->snd_nxt;
            if (!tcp_timer_armed(c, TCP_TIMER_RTX))
                tcp_timer_arm_rtx(s, c);
        } else {
            c->close_pending = 1;
        }
        break;
    case TCP_SYN_SENT:
        /* §3.10.4 CLOSE in SYN-SENT deletes the TCB (tcp_close does that);
         * a shutdown(SHUT_WR) is kept until the connection is established. */
        c->close_pending = 1;
        break;
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
        c->fin_queued = 1;
        c->fin_seq = c->snd_una + c->sndq.len;
        tcp_set_state(s, c, c->state == TCP_ESTABLISHED ? TCP_FIN_WAIT_1 : TCP_LAST_ACK, cause);
        tcp_output(s, c);
        break;
    default:
        break; /* already closing */
    }
}
