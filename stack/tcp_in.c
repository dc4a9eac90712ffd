/*
 * tcp_in.c — RFC 9293 §3.10.7 SEGMENT ARRIVES.
 *
 * Read this file next to the RFC. The segment is first matched to a
 * connection (conn_table.c); then, as in the RFC:
 *   §3.10.7.1  no connection (CLOSED)     tcp_in_closed()
 *   §3.10.7.2  LISTEN                     tcp_in_listen()
 *   §3.10.7.3  SYN-SENT                   tcp_in_syn_sent()
 *   §3.10.7.4  every other state          tcp_in_other_states(), in the
 *              RFC's eight steps: sequence number, RST, security, SYN,
 *              ACK, URG, segment text, FIN.
 * The segment travels as a `struct tcp_seg` argument; nothing is global.
 * Every state change goes through tcp_set_state() (tcp_conn.c), every RST
 * decision through tcp_rst.c.
 */
#include <string.h>

#include "tcp_internal.h"

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static void tcp_drop_seg(struct stack *s, const struct tcp_conn *c, const struct tcp_seg *seg,
                         int reason)
{
    stack_drop(s, c, reason, seg->raw, seg->raw_len);
}

/* Options of a SYN we received: the send MSS (RFC 9293 §3.7.1: 536 if the
 * peer said nothing), window scaling (RFC 7323 §2.2: used only if both
 * SYNs carried the option; shifts above 14 are taken as 14, §2.3) and
 * timestamps (RFC 7323 §3.2, tcp_ts.c). */
static void tcp_take_syn_options(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    const struct wire_tcp_opts *o = &seg->th->opts;
    uint16_t peer_mss = o->has_mss ? o->mss : 536;
    c->mss = peer_mss < s->cfg.mss ? peer_mss : s->cfg.mss;
    if (c->mss < 64)
        c->mss = 64;
    if (o->has_wscale && s->cfg.window_scaling) {
        c->ws_ok = 1;
        c->snd_wscale = o->wscale > 14 ? 14 : o->wscale;
        c->rcv_wscale = s->cfg.wscale;
    } else {
        c->ws_ok = 0;
        c->snd_wscale = 0;
        c->rcv_wscale = 0;
    }
    tcp_ts_take_syn(s, c, o);
    /* RFC 2018 §2: SACK is used if both SYNs carried SACK-permitted (a SYN
     * we send offers it when cfg.sack; a SYN,ACK only answers an offer). */
    c->sack_ok = o->sack_permitted && tcp_sack_wanted(s, c);
}

/* RFC 9293 §3.10.7.4 fifth step, the window update rule: take SEG.WND only
 * from a segment newer than the one it was last taken from. */
static void tcp_update_send_window(struct tcp_conn *c, const struct tcp_seg *seg, bool syn)
{
    c->snd_wnd = syn ? seg->wnd : seg->wnd << c->snd_wscale;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    if (c->snd_wnd > c->max_snd_wnd)
        c->max_snd_wnd = c->snd_wnd;
    if (c->snd_wnd > 0)
        c->persist_backoff = 0;
}

/* Our SYN has been acknowledged (SYN_SENT or SYN_RECEIVED). */
static void tcp_syn_acked(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    bool syn_timed_out = c->backoff > 0;
    c->snd_una = seg->ack;
    /* RFC 7323 §4.1: the SYN's echo times the handshake even when the SYN
     * went out more than once; without it, Karn's timed SYN. */
    if (!tcp_ts_rtt(s, c, seg) && c->rtt_timing && seq_gt(seg->ack, c->rtt_seq))
        tcp_rtt_take(s, c, s->now - c->rtt_start, false, 0);
    c->rtt_timing = 0;
    c->backoff = 0;
    if (syn_timed_out && !c->rtt.measured)
        tcp_rtt_after_lost_syn_5_7(&c->rtt, &s->cfg);
    tcp_timer_cancel(s, c, TCP_TIMER_RTX);
    tcp_timer_cancel(s, c, TCP_TIMER_USER);
}

/* Just entered ESTABLISHED: a CLOSE issued during the handshake can now
 * send its FIN (RFC 9293 §3.10.4, "queue for processing after entering
 * ESTABLISHED state"). */
static void tcp_after_established(struct stack *s, struct tcp_conn *c)
{
    if (c->close_pending) {
        c->close_pending = 0;
        tcp_close_send_side(s, c, "close()");
    }
}

/* ==== §3.10.7.1 CLOSED ==================================================== */

/* "If the state is CLOSED (i.e., TCB does not exist), then all data in the
 * incoming segment is discarded. An incoming segment containing a RST is
 * discarded. An incoming segment not containing a RST causes a RST to be
 * sent in response." */
static void tcp_in_closed(struct stack *s, const struct tcp_seg *seg)
{
    if (seg->flags & TCP_RST) {
        tcp_drop_seg(s, NULL, seg, TCP_DROP_NO_CONNECTION);
        return;
    }
    tcp_rst_reply(s, seg);
}

/* ==== §3.10.7.2 LISTEN ===================================================== */

/* A passive open's new block: in the listener's SYN queue, with the
 * listener's socket options, born in LISTEN as a copy of it. */
static void tcp_child_of_listener(struct tcp_conn *c, struct tcp_conn *l)
{
    c->passive = 1;
    c->listener = l;
    l->syn_q_len++;
    c->sndbuf = l->sndbuf;
    c->rcvbuf = l->rcvbuf;
    c->opt_nodelay = l->opt_nodelay;
    c->opt_delack = l->opt_delack;
    c->opt_no_sack = l->opt_no_sack;
    c->opt_keepalive = l->opt_keepalive;
    c->ka_idle_us = l->ka_idle_us;
    c->ka_intvl_us = l->ka_intvl_us;
    c->ka_cnt = l->ka_cnt;
    c->user_timeout_us = l->user_timeout_us;
    c->ip_ttl = l->ip_ttl;
    c->ip_tos = l->ip_tos;
    c->state = TCP_LISTEN;
}

static void tcp_in_other_states(struct stack *s, struct tcp_conn *c, struct tcp_seg *seg);

/* SYN cookies (RFC 4987 §3.6, syncookie.c): the SYN,ACK that keeps no state. */
static void tcp_send_cookie(struct stack *s, struct tcp_conn *l, const struct tcp_seg *seg,
                            const struct tcp_tuple *t)
{
    const struct wire_tcp_opts *o = &seg->th->opts;
    uint16_t mss;
    struct wire_tcp th;
    memset(&th, 0, sizeof th);
    th.sport = t->lport;
    th.dport = t->rport;
    th.seq = tcp_cookie_make(s, t, seg->seq, o->has_mss ? o->mss : 536, &mss);
    th.ack = seg->seq + 1;
    th.flags = TCP_SYN | TCP_ACK;
    th.opts.has_mss = true; /* ours */
    th.opts.mss = s->cfg.mss;
    if (s->cfg.timestamps && o->has_ts) {
        /* The peer's window scale and SACK-permitted ride in our TSval
         * (syncookie.c), so window scaling can be agreed after all. */
        struct tcp_cookie_opts co = {
            .ws_ok = o->has_wscale && s->cfg.window_scaling,
            .wscale = o->wscale,
            .sack_ok = o->sack_permitted && tcp_sack_wanted(s, l),
        };
        th.opts.sack_permitted = co.sack_ok; /* RFC 2018 §2, remembered in the TSval */
        th.opts.has_ts = true;
        th.opts.ts_val = tcp_cookie_ts_encode(tcp_ts_now_for(s, t), &co);
        th.opts.ts_ecr = o->ts_val;
        if (co.ws_ok) {
            th.opts.has_wscale = true;
            th.opts.wscale = s->cfg.wscale;
        }
    }
    th.win = (uint16_t)min_u32(l->rcvbuf, 65535);
    s->stats.cookies_sent++;
    l->cookie_last_us = s->now + 1;
    s->emitting_cookie = true;
    tcp_emit_packet(s, l, t->laddr, t->raddr, &th, NULL, 0, false, false);
    s->emitting_cookie = false;
}

/* Is an ACK arriving at this listener perhaps the answer to a cookie? Only
 * if cookies are always on, or one was sent in the last two periods (as
 * Linux asks); otherwise it gets the RFC's reset. */
static bool tcp_cookie_expected(const struct stack *s, const struct tcp_conn *l)
{
    if (s->cfg.syncookies == TCP_SYNCOOKIES_ALWAYS)
        return true;
    return s->cfg.syncookies == TCP_SYNCOOKIES_AUTO && l->cookie_last_us &&
           s->now - (l->cookie_last_us - 1) < 128ull * 1000000;
}

/* The ACK of a cookie SYN,ACK: check the cookie, then make the connection
 * the SYN would have made (SYN_RECEIVED) and let the ACK complete it. */

/* A connection for a SYN (or a cookie's ACK) that a listener admits: within the
 * connection limit, hashed under its 4-tuple, holding the port, and a child of l.
 * NULL when the limit or memory says no (the limit's drop is counted and emitted). */
static struct tcp_conn *tcp_listen_new_child(struct stack *s, struct tcp_conn *l,
                                             const struct tcp_seg *seg,
                                             const struct tcp_tuple *tuple)
{
    if (!tcp_limit_conn_ok(s)) {
        tcp_drop_seg(s, l, seg, TCP_DROP_CONN_LIMIT);
        return NULL;
    }
    struct tcp_conn *c = conn_new(s);
    if (!c)
        return NULL;
    c->tuple = *tuple;
    if (conn_hash_insert(s, c) < 0) {
        conn_destroy(s, c);
        return NULL;
    }
    port_ref(s, c);
    tcp_child_of_listener(c, l);
    return c;
}

static void tcp_in_cookie_ack(struct stack *s, struct tcp_conn *l, const struct tcp_seg *seg,
                              const struct tcp_tuple *tuple)
{
    uint16_t mss;
    const struct wire_tcp_opts *o = &seg->th->opts;
    /* An ACK with TSopt answers a cookie SYN,ACK that carried it (we send
     * TSopt only to a SYN that had it): its TSecr must decode. */
    struct tcp_cookie_opts co = {0};
    bool ts = s->cfg.timestamps && o->has_ts;
    if (tcp_cookie_check(s, tuple, seg->seq - 1, seg->ack - 1, &mss) < 0 ||
        (ts && tcp_cookie_ts_decode(o->ts_ecr, tcp_ts_now_for(s, tuple), &co) < 0)) {
        s->stats.cookies_bad++;
        tcp_drop_seg(s, l, seg, TCP_DROP_BAD_COOKIE);
        return;
    }
    if (l->acc_q_len >= l->backlog) {
        tcp_drop_seg(s, l, seg, TCP_DROP_BACKLOG_FULL);
        return;
    }
    struct tcp_conn *c = tcp_listen_new_child(s, l, seg, tuple);
    if (!c)
        return;
    s->stats.cookies_ok++;
    c->irs = seg->seq - 1;
    c->rcv_nxt = seg->seq;
    c->rcv_adv = c->rcv_nxt + min_u32(c->rcvbuf, 65535);
    c->iss = seg->ack - 1;
    c->snd_una = c->iss;
    c->snd_nxt = c->snd_max = c->iss + 1;
    c->rtx_high = c->iss;
    c->mss = mss < s->cfg.mss ? mss : s->cfg.mss;
    if (ts) {
        struct wire_tcp_opts syn_ts = {.has_ts = true, .ts_val = o->ts_val};
        tcp_ts_take_syn(s, c, &syn_ts);
        c->last_ack_sent = c->rcv_nxt; /* what the cookie SYN,ACK acknowledged */
    }
    if (co.ws_ok) {
        c->ws_ok = 1;
        c->snd_wscale = co.wscale;
        c->rcv_wscale = s->cfg.wscale;
    }
    c->sack_ok = co.sack_ok && tcp_sack_wanted(s, c);
    c->snd_wnd = seg->wnd << c->snd_wscale; /* unscaled unless the TSecr brought a shift */
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = seg->seq - 1;
    c->snd_wl2 = c->iss;
    c->last_rcv_us = s->now;
    tcp_set_state(s, c, TCP_SYN_RECEIVED, "valid SYN cookie");
    struct tcp_seg ack = *seg;
    /* The TSecr echoes a TSval whose low bits were options, not time: no
     * RTT sample from it (0 is "nothing echoed", tcp_ts_rtt). */
    struct wire_tcp th = *seg->th;
    th.opts.ts_ecr = 0;
    ack.th = &th;
    tcp_in_other_states(s, c, &ack);
}

/* `tw_snd_nxt` is set when the SYN reopens a 4-tuple in TIME_WAIT: the old
 * connection's SND.NXT, which the new ISS must lie beyond. */
static void tcp_in_listen(struct stack *s, struct tcp_conn *l, const struct tcp_seg *seg,
                          const struct tcp_tuple *tuple, const uint32_t *tw_snd_nxt)
{
    /* First, check for a RST: "An incoming RST segment could not be valid
     * since it could not have been sent in response to anything sent by
     * this incarnation of the connection. An incoming RST should be
     * ignored." */
    if (seg->flags & TCP_RST) {
        tcp_drop_seg(s, l, seg, TCP_DROP_NO_CONNECTION);
        return;
    }
    /* Second, check for an ACK: "Any acknowledgment is bad if it arrives on
     * a connection still in the LISTEN state. An acceptable reset segment
     * should be formed for any arriving ACK-bearing segment." */
    if (seg->flags & TCP_ACK) {
        if (!(seg->flags & TCP_SYN) && tcp_cookie_expected(s, l)) {
            tcp_in_cookie_ack(s, l, seg, tuple);
            return;
        }
        tcp_drop_seg(s, l, seg, TCP_DROP_BAD_ACK);
        tcp_rst_reply(s, seg);
        return;
    }
    /* Third, check for a SYN. */
    if (!(seg->flags & TCP_SYN)) {
        /* Fourth, other control or text: "drop the segment and return". */
        tcp_drop_seg(s, l, seg, TCP_DROP_NO_CONNECTION);
        return;
    }
    /* The listen backlog: half-open connections wait in the SYN queue,
     * complete ones in the accept queue. Like Linux, a SYN that finds the
     * accept queue full is dropped silently (the client will retry it); one
     * that finds the SYN queue full gets a SYN cookie (RFC 4987 §3.6), or
     * with cookies off is dropped too. */
    bool syn_q_full = l->syn_q_len >= l->backlog;
    if (syn_q_full)
        s->stats.limit_syn_queue++;
    if (l->acc_q_len >= l->backlog) {
        tcp_drop_seg(s, l, seg, TCP_DROP_BACKLOG_FULL);
        return;
    }
    /* A SYN that reopens TIME_WAIT never gets a cookie (as in Linux): a
     * cookie is an ISS the stack cannot choose, and this one must lie beyond
     * the old incarnation's SND.NXT. It takes a SYN queue entry even when
     * the queue is full — the TIME_WAIT entry it replaces was just freed. */
    if (!tw_snd_nxt && (s->cfg.syncookies == TCP_SYNCOOKIES_ALWAYS ||
                        (syn_q_full && s->cfg.syncookies == TCP_SYNCOOKIES_AUTO))) {
        tcp_send_cookie(s, l, seg, tuple);
        return;
    }
    if (syn_q_full && !tw_snd_nxt) {
        tcp_drop_seg(s, l, seg, TCP_DROP_BACKLOG_FULL);
        return;
    }
    struct tcp_conn *c = tcp_listen_new_child(s, l, seg, tuple);
    if (!c)
        return;

    /* "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ ... ISS should be
     * selected and a SYN segment sent of the form
     * <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. SND.NXT is set to ISS+1 and
     * SND.UNA to ISS. The connection state should be changed to
     * SYN-RECEIVED." Text sent with the SYN is not kept (like Linux without
     * TCP Fast Open): it is not acknowledged, so the peer sends it again. */
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    c->iss = tcp_isn(s->cfg.isn_key, tuple, s->now);
    /* RFC 1122 §4.2.2.13 (and RFC 6191 §2 without timestamps): a TIME_WAIT
     * reopened by a new SYN is safe only if the new ISS is larger than any
     * sequence number the old incarnation used. The clock-driven ISN of
     * RFC 6528 need not be: the old connection may have sent faster than
     * the clock runs, or closed a moment ago. Then start a full window past
     * the old SND.NXT, as Linux does (tcp_timewait_state_process). */
    if (tw_snd_nxt && !seq_gt(c->iss, *tw_snd_nxt + 65535u + 2u))
        c->iss = *tw_snd_nxt + 65535u + 2u;
    c->snd_una = c->iss;
    c->snd_nxt = c->iss;
    tcp_take_syn_options(s, c, seg);
    tcp_update_send_window(c, seg, true);
    c->last_rcv_us = s->now;
    /* Third step, security: this stack has no security compartments. */
    tcp_set_state(s, c, TCP_SYN_RECEIVED, "rcvd SYN");
    tcp_send_syn(s, c, false);
}

/* ==== §3.10.7.3 SYN-SENT =================================================== */

static void tcp_in_text_and_fin(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg);

static void tcp_in_syn_sent(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    /* First, check the ACK bit: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
     * send a reset (unless the RST bit is set, if so drop the segment and
     * return) <SEQ=SEG.ACK><CTL=RST>". */
    if ((seg->flags & TCP_ACK) && (seq_leq(seg->ack, c->iss) || seq_gt(seg->ack, c->snd_nxt))) {
        tcp_drop_seg(s, c, seg, TCP_DROP_BAD_ACK);
        tcp_rst_reply(s, seg);
        return;
    }
    /* Second, check the RST bit: "If the ACK was acceptable, then signal
     * to the user "error: connection reset", drop the segment, enter CLOSED
     * state ... Otherwise (no ACK), drop the segment and return." The
     * socket API calls this "connection refused". */
    if (seg->flags & TCP_RST) {
        if (tcp_rst_acceptable_syn_sent(c, seg))
            tcp_conn_fail(s, c, -ECONNREFUSED, "rcvd RST");
        else
            tcp_drop_seg(s, c, seg, TCP_DROP_RST_OUT_OF_WINDOW);
        return;
    }
    /* Third, security: not implemented (no compartments). */
    /* Fifth: "If neither of the SYN or RST bits is set, then drop the
     * segment and return." */
    if (!(seg->flags & TCP_SYN)) {
        tcp_drop_seg(s, c, seg, TCP_DROP_UNACCEPTABLE);
        return;
    }
    /* RFC 7323 §3.2: the SYN,ACK's TSecr must echo our SYN's TSval; one
     * from the future is not an answer to our SYN (Linux drops it too). */
    if ((seg->flags & TCP_ACK) && s->cfg.timestamps && seg->th->opts.has_ts &&
        tcp_ts_ecr_future(seg->th->opts.ts_ecr, c->ts_last_sent)) {
        tcp_drop_seg(s, c, seg, TCP_DROP_TS_ECR_FUTURE);
        return;
    }
    /* Fourth, check the SYN bit: "RCV.NXT is set to SEG.SEQ+1, IRS is set
     * to SEG.SEQ. SND.UNA should be advanced to equal SEG.ACK (if there is
     * an ACK), and any segments on the retransmission queue that are thereby
     * acknowledged should be removed." */
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    c->last_rcv_us = s->now;
    tcp_take_syn_options(s, c, seg);
    if (seg->flags & TCP_ACK) {
        /* "If SND.UNA > ISS (our SYN has been ACKed), change the connection
         * state to ESTABLISHED, form an ACK segment <SEQ=SND.NXT>
         * <ACK=RCV.NXT><CTL=ACK> and send it. Data or controls that were
         * queued for transmission MAY be included. ... If there are other
         * controls or text in the segment, then continue processing at the
         * sixth step." */
        tcp_syn_acked(s, c, seg);
        tcp_update_send_window(c, seg, true);
        tcp_set_state(s, c, TCP_ESTABLISHED, "rcvd SYN,ACK");
        c->ack_owed = 1;
        if (seg->data_len || (seg->flags & TCP_FIN)) {
            struct tcp_seg rest = *seg; /* the SYN's sequence number is used up */
            rest.seq = seg->seq + 1;
            rest.flags &= (uint8_t)~TCP_SYN;
            tcp_in_text_and_fin(s, c, &rest);
        }
        tcp_after_established(s, c);
        tcp_output(s, c); /* queued data carries the ACK */
        if (c->ack_owed)
            tcp_send_ack(s, c);
        return;
    }
    /* "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment
     * <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it." — simultaneous
     * open: both ends sent a SYN and each received the other's. */
    tcp_update_send_window(c, seg, true);
    tcp_set_state(s, c, TCP_SYN_RECEIVED, "rcvd SYN");
    c->rtt_timing = 0; /* our SYN goes out twice: Karn */
    tcp_send_syn(s, c, false);
}

/* ==== §3.10.7.4 Other states ============================================== */

/* The acceptability test of the first step (the table in §3.10.7.4):
 *   SEG.LEN = 0, RCV.WND = 0:  SEG.SEQ = RCV.NXT
 *   SEG.LEN = 0, RCV.WND > 0:  RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *   SEG.LEN > 0, RCV.WND = 0:  not acceptable
 *   SEG.LEN > 0, RCV.WND > 0:  RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *                           or RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND */
static bool tcp_seq_acceptable(const struct tcp_conn *c, const struct tcp_seg *seg, uint32_t wnd)
{
    uint32_t nxt = c->rcv_nxt;
    if (seg->len == 0) {
        if (wnd == 0)
            return seg->seq == nxt;
        return seq_in_range(seg->seq, nxt, nxt + wnd);
    }
    if (wnd == 0)
        return false;
    return seq_in_range(seg->seq, nxt, nxt + wnd) ||
           seq_in_range(seg->seq + seg->len - 1, nxt, nxt + wnd);
}

/* SND.UNA < SEG.ACK: new data acknowledged. */
static void tcp_ack_new_data(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    uint32_t ack = seg->ack;
    /* "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any
     * segments on the retransmission queue that are thereby entirely
     * acknowledged are removed." The queue is the send ring: drop the
     * acknowledged bytes (our FIN, if acknowledged, is not a byte). */
    uint32_t data = ack - c->snd_una;
    if (c->fin_queued && seq_gt(ack, c->fin_seq))
        data = c->fin_seq - c->snd_una;
    uint32_t acked = data; /* bytes of data, for cwnd (RFC 5681 counts bytes) */
    rbuf_consume(&c->sndq, min_u32(data, c->sndq.len));
    /* Karn's algorithm in full: an ACK that newly covers retransmitted
     * bytes was caused by the retransmission, whatever else it covers
     * - it gives no RTT sample (Linux: FLAG_RETRANS_DATA_ACKED). */
    if (seq_lt(c->snd_una, c->rtx_high))
        c->rtt_timing = 0;
    c->snd_una = ack;
    tcp_sack_cumulative_ack(&c->sb, ack);
    if (seq_gt(ack, c->snd_nxt))
        c->snd_nxt = ack; /* go-back-N: the receiver already had these */
    c->dupacks = 0;
    /* RFC 7323 §4.1 with timestamps: every such ACK's TSecr is a
     * sample, retransmitted data included. Without: RFC 6298 §3, the
     * timed segment was sent once and is now acked. */
    if (tcp_ts_rtt(s, c, seg)) {
        c->rtt_timing = 0;
    } else if (c->rtt_timing && seq_gt(ack, c->rtt_seq)) {
        tcp_rtt_take(s, c, s->now - c->rtt_start, false, 0);
        c->rtt_timing = 0;
    }
    c->backoff = 0;
    if (c->in_recovery) {
        if (seq_lt(ack, c->recover)) {
            /* Partial ACK. In NewReno fast recovery: retransmit the next
             * hole (RFC 6582 §3.2 step 5); with SACK, NextSeg chooses in
             * tcp_output() (RFC 6675 §5 (C)); after a timeout the go-back-N
             * output sends it anyway. */
            if (!c->rto_recovery && !c->sack_recovery)
                tcp_retransmit_first(s, c);
            tcp_cc_on_ack(s, c, acked, true);
        } else {
            /* RFC 6675 §5 (A): "An incoming cumulative ACK for a sequence
             * number greater than RecoveryPoint signals the end of loss
             * recovery". */
            bool sack = c->sack_recovery;
            c->in_recovery = 0;
            c->rto_recovery = 0;
            c->sack_recovery = 0;
            tcp_cc_recovery_done(s, c, sack);
        }
    } else {
        tcp_cc_on_ack(s, c, acked, false);
    }
    /* RFC 6298 (5.2) all data acknowledged: stop the timer; (5.3) new
     * data acknowledged: restart it. The user timeout restarts too. */
    if (c->snd_una == c->snd_max) {
        tcp_timer_cancel(s, c, TCP_TIMER_RTX);
        tcp_timer_cancel(s, c, TCP_TIMER_USER);
    } else {
        tcp_timer_arm(s, c, TCP_TIMER_RTX, s->now + c->rtt.rto_us);
        if (c->user_timeout_us)
            tcp_timer_arm(s, c, TCP_TIMER_USER, s->now + c->user_timeout_us);
    }
}

/* Fifth step for the synchronized states: the ACK field. */
static void tcp_ack_received(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    uint32_t ack = seg->ack;
    uint32_t new_wnd = seg->wnd << c->snd_wscale;
    /* Judged before SND.UNA moves: the window rule below is about this ACK.
     * SND.MAX, not SND.NXT: after a timeout SND.NXT went back (go-back-N). */
    bool ack_in_window = seq_leq(c->snd_una, ack) && seq_leq(ack, c->snd_max);
    /* RFC 6675 Update(): the SACK blocks first, checked (tcp_sack.c). */
    uint32_t sacked = tcp_sack_on_ack(s, c, seg);
    if (seq_gt(ack, c->snd_una)) {
        tcp_ack_new_data(s, c, seg);
    } else if (ack == c->snd_una && c->snd_nxt != c->snd_una &&
               ((seg->data_len == 0 && !(seg->flags & (TCP_SYN | TCP_FIN)) &&
                 new_wnd == c->snd_wnd) ||
                sacked > 0)) {
        /* A duplicate ACK (RFC 5681 §2; with SACK, RFC 6675 §2: one whose
         * blocks SACK new data, whatever else it carries). The first two
         * may each let one new segment out (limited transmit, RFC 3042:
         * tcp_cc_window()). The third in a row means a segment was lost
         * while later ones arrived: fast retransmit and fast recovery
         * without waiting for the timer (RFC 5681 §3.2, RFC 6582; with
         * SACK RFC 6675 §5, which also starts when IsLost(HighACK + 1):
         * three segments' worth SACKed above the hole). */
        ++c->dupacks;
        bool lost = c->sack_ok && tcp_sack_is_lost(&c->sb, c->snd_una, c->mss);
        if ((c->dupacks == 3 || lost) && !c->in_recovery) {
            if (c->sack_ok && c->sb.n) {
                tcp_sack_enter_recovery(s, c);
            } else {
                c->in_recovery = 1;
                c->recover = c->snd_max;
                tcp_cc_enter_recovery(s, c);
                tcp_retransmit_first(s, c);
            }
        } else if (c->dupacks > 3 && c->in_recovery) {
            tcp_cc_dupack_in_recovery(s, c);
        }
    }
    /* "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated.
     * If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)),
     * set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set
     * SND.WL2 <- SEG.ACK." An old ACK (SEG.ACK < SND.UNA) in a segment with
     * a newer SEG.SEQ must not: its window is measured from an edge that has
     * already moved, and it could reopen a window the peer has closed. */
    if (ack_in_window &&
        (seq_lt(c->snd_wl1, seg->seq) || (c->snd_wl1 == seg->seq && seq_leq(c->snd_wl2, ack))))
        tcp_update_send_window(c, seg, false);
}

/* The seventh step's usual case: n bytes at RCV.NXT that fit in the ring. */
static void tcp_text_in_order(struct stack *s, struct tcp_conn *c, const uint8_t *data, uint32_t n)
{
    rbuf_write_at(&c->rcvq, c->rcvq.len, data, n);
    uint32_t adv = n;
    if (c->ooo.n || c->ooo_held) { /* the text may reach what is held out of order */
        adv = tcp_asm_advance(&c->ooo, n);
        tcp_ooo_account(s, c);
    }
    c->rcvq.len += adv;
    c->rcv_nxt += adv;
    /* RFC 9293 §3.8.6.3 / RFC 1122 §4.2.3.2: delay the ACK, but ACK
     * at least every second full-sized segment, and at once when a
     * hole was filled (RFC 5681 §4.2). */
    c->delack_bytes += n;
    if (adv > n || c->ooo.n || !c->opt_delack || c->delack_bytes >= 2u * c->mss)
        c->ack_owed = 1;
    else if (!tcp_timer_armed(c, TCP_TIMER_DELACK))
        tcp_timer_arm(s, c, TCP_TIMER_DELACK, s->now + s->cfg.delack_us);
}

/* How much of a segment's text the seventh step took. */
enum tcp_text { TCP_TEXT_ALL, TCP_TEXT_HELD, TCP_TEXT_CUT };

/* Seventh step: "ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2: Once in the
 * ESTABLISHED state, it is possible to deliver segment text to user RECEIVE
 * buffers." Text beyond RCV.NXT is "held for later processing" in place in
 * the receive ring (see rbuf.c). */
static enum tcp_text tcp_in_text(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    if (seg->data_len == 0)
        return TCP_TEXT_ALL;
    if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 && c->state != TCP_FIN_WAIT_2)
        return TCP_TEXT_ALL; /* "This should not occur ... Ignore the segment text." */
    if (c->state != TCP_ESTABLISHED && ((c->sd < 0 && !c->listener) || c->shut_rd)) {
        /* RFC 1122 §4.2.2.13: "if new data is received after CLOSE is
         * called, its TCP SHOULD send a RST to show that data was lost."
         * Acknowledging bytes nobody will read would tell the peer they
         * were delivered. Linux does the same (and for SHUT_RD). */
        if (seq_gt(seg->seq + seg->data_len, c->rcv_nxt)) {
            tcp_rst_abort(s, c);
            tcp_conn_fail(s, c, -ECONNRESET, "rcvd data after close()");
            return TCP_TEXT_CUT;
        }
        c->ack_owed = 1; /* only old bytes: acknowledge them again */
        return TCP_TEXT_ALL;
    }
    if (!c->rcvq.buf && rbuf_init(s, &c->rcvq, c->rcvbuf) < 0) {
        /* No ring to put it in: as if the window were full (the peer
         * retransmits), and named so the reason shows. */
        tcp_drop_seg(s, c, seg, TCP_DROP_MEM_LIMIT);
        return TCP_TEXT_CUT;
    }
    const uint8_t *data = seg->data;
    uint32_t n = seg->data_len;
    int32_t off = (int32_t)(seg->seq - c->rcv_nxt);
    if (off < 0) { /* "only the new parts are processed" */
        uint32_t old = (uint32_t)-off;
        /* RFC 2883: the old part arrived twice, the next ACK says so */
        tcp_sack_rcv_note_dup(c, seg->seq, seg->seq + min_u32(old, n));
        if (old >= n) {
            c->ack_owed = 1;
            return TCP_TEXT_ALL;
        }
        data += old;
        n -= old;
        off = 0;
    }
    uint32_t space = c->rcvbuf - c->rcvq.len;
    if ((uint32_t)off >= space) {
        tcp_drop_seg(s, c, seg, TCP_DROP_RCV_WINDOW_FULL);
        c->ack_owed = 1;
        return TCP_TEXT_CUT;
    }
    enum tcp_text result = off == 0 ? TCP_TEXT_ALL : TCP_TEXT_HELD;
    if ((uint32_t)off + n > space) { /* trim to the window */
        n = space - (uint32_t)off;
        result = TCP_TEXT_CUT;
    }
    if (off == 0) {
        tcp_text_in_order(s, c, data, n);
    } else {
        /* Out of order: keep it in place in the receive ring, remember the
         * range, and send a duplicate ACK at once (RFC 5681 §4.2). */
        struct tcp_asm after = c->ooo;
        if (c->sack_ok && tcp_asm_add(&after, (uint32_t)off, n) == 0 &&
            tcp_asm_bytes(&after) == tcp_asm_bytes(&c->ooo)) {
            /* every byte of it was held already: a duplicate (RFC 2883) */
            tcp_sack_rcv_note_dup(c, c->rcv_nxt + (uint32_t)off, c->rcv_nxt + (uint32_t)off + n);
            c->ack_owed = 1;
            return result;
        }
        after = c->ooo;
        if (tcp_asm_add(&after, (uint32_t)off, n) < 0) {
            tcp_drop_seg(s, c, seg, TCP_DROP_RCV_WINDOW_FULL);
            result = TCP_TEXT_CUT;
        } else if (!tcp_limit_ooo_ok(s, c, tcp_asm_bytes(&after))) {
            tcp_drop_seg(s, c, seg, TCP_DROP_OOO_LIMIT);
            result = TCP_TEXT_CUT;
        } else {
            c->ooo = after;
            tcp_ooo_account(s, c);
            rbuf_write_at(&c->rcvq, c->rcvq.len + (uint32_t)off, data, n);
            if (c->sack_ok)
                tcp_sack_rcv_note_ooo(c, c->rcv_nxt + (uint32_t)off); /* RFC 2018 §4 */
        }
        c->ack_owed = 1;
    }
    return result;
}

/* Eighth step: the FIN bit. A FIN is processed when everything before it
 * has arrived; one that comes early is remembered until then. */
static void tcp_in_fin(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg,
                       enum tcp_text text)
{
    if ((seg->flags & TCP_FIN) && text != TCP_TEXT_CUT && !c->rcv_fin) {
        uint32_t fin_seq = seg->seq + seg->data_len;
        if (seq_geq(fin_seq, c->rcv_nxt)) {
            c->rcv_fin_held = 1;
            c->rcv_fin_seq = fin_seq;
            /* RFC 5681 §4.2: an out-of-order segment, a lone FIN too, is
             * acknowledged at once with a duplicate ACK. */
            if (fin_seq != c->rcv_nxt)
                c->ack_owed = 1;
        }
    }
    if (!c->rcv_fin_held || c->rcv_fin_seq != c->rcv_nxt || c->rcv_fin)
        return;
    /* "If the FIN bit is set, signal the user "connection closing" and
     * return any pending RECEIVEs with same message, advance RCV.NXT over
     * the FIN, and send an acknowledgment for the FIN." */
    c->rcv_fin = 1;
    c->rcv_fin_held = 0;
    c->rcv_nxt += 1;
    c->rcv_adv += 1; /* the FIN takes sequence space, not buffer space: same window */
    c->ack_owed = 1;
    switch (c->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        tcp_set_state(s, c, TCP_CLOSE_WAIT, "rcvd FIN");
        break;
    case TCP_FIN_WAIT_1:
        /* "If our FIN has been ACKed (perhaps in this segment), then enter
         * TIME-WAIT ...; otherwise, enter the CLOSING state." An ACK of our
         * FIN has already moved us to FIN-WAIT-2 in the fifth step, so here
         * our FIN is not acknowledged: simultaneous close. */
        tcp_set_state(s, c, TCP_CLOSING, "rcvd FIN");
        break;
    case TCP_FIN_WAIT_2:
        tcp_set_state(s, c, TCP_TIME_WAIT, "rcvd FIN");
        break;
    default:
        break; /* CLOSE-WAIT, CLOSING, LAST-ACK: "Remain in the ... state." */
    }
}

/* Sixth, check the URG bit: "ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2: If the
 * URG bit is set, RCV.UP <- max(RCV.UP,SEG.UP), and signal the user that the
 * remote side has urgent data if the urgent pointer (RCV.UP) is in advance of
 * the data consumed." The pointer is SEG.SEQ + SEG.UP, the byte after the
 * urgent data (MUST-62); the bytes themselves are delivered in line (as
 * SO_OOBINLINE: any length, MUST-31), and the signal is TCP_POLLPRI with
 * tcp_status().urgent_pending counting what is left (MUST-32, MUST-33). In
 * the other states "Ignore the URG". */
static void tcp_in_urg(struct tcp_conn *c, const struct tcp_seg *seg)
{
    if (!(seg->flags & TCP_URG) || seg->th->urg == 0)
        return;
    if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 && c->state != TCP_FIN_WAIT_2)
        return;
    uint32_t up = seg->seq + seg->th->urg;
    if (!c->rcv_urg || seq_gt(up, c->rcv_up)) {
        c->rcv_up = up;
        c->rcv_urg = 1;
    }
}

uint32_t tcp_urgent_pending(const struct tcp_conn *c)
{
    if (!c->rcv_urg)
        return 0;
    uint32_t read_next = c->rcv_nxt - c->rcvq.len - (c->rcv_fin ? 1 : 0);
    return seq_gt(c->rcv_up, read_next) ? c->rcv_up - read_next : 0;
}

static void tcp_in_text_and_fin(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    tcp_in_urg(c, seg);
    enum tcp_text text = tcp_in_text(s, c, seg);
    if (c->state != TCP_CLOSED)
        tcp_in_fin(s, c, seg, text);
}

/* Passive open complete: from the SYN queue to the accept queue. */
static void tcp_move_to_accept_queue(struct tcp_conn *c)
{
    struct tcp_conn *l = c->listener;
    if (!l)
        return;
    if (l->syn_q_len)
        l->syn_q_len--;
    c->in_accept_q = 1;
    c->qnext = NULL;
    if (l->acc_tail)
        l->acc_tail->qnext = c;
    else
        l->acc_head = c;
    l->acc_tail = c;
    l->acc_q_len++;
}

/* Special cases that the RFC's steps would get wrong or that real stacks
 * treat specially, checked before the first step. Returns true if the
 * segment has been dealt with. */
static bool tcp_in_special(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    uint8_t f = seg->flags;
    if (c->state == TCP_SYN_RECEIVED && (f & TCP_SYN) && !(f & TCP_RST) && seg->seq == c->irs) {
        if (!(f & TCP_ACK)) {
            /* The peer sent its SYN again: our SYN,ACK was lost. The first
             * step would answer with a bare ACK the peer (in SYN_SENT)
             * drops; like Linux, send the SYN,ACK again instead. */
            tcp_retransmit_first(s, c);
            return true;
        }
        if (!c->passive && seg->ack == c->snd_nxt) {
            /* Simultaneous open, RFC 9293 Figure 8 line 7: the peer's
             * SYN,ACK acknowledges our SYN. Its SYN was already counted, so
             * the first step would call it old; Linux lets it through, and
             * so do we: ESTABLISHED. */
            tcp_syn_acked(s, c, seg);
            tcp_update_send_window(c, seg, true);
            tcp_set_state(s, c, TCP_ESTABLISHED, "rcvd SYN,ACK");
            tcp_after_established(s, c);
            tcp_output(s, c);
            tcp_send_ack(s, c);
            return true;
        }
    }
    if (c->state == TCP_TIME_WAIT && (f & TCP_SYN) && !(f & (TCP_ACK | TCP_RST)) &&
        tcp_ts_time_wait_syn_ok(s, c, seg)) {
        /* A new SYN for a 4-tuple in TIME_WAIT. RFC 9293 would answer with
         * an ACK (fourth step). Like Linux and BSD (RFC 6191), accept it as
         * a new connection if its timestamp, or without timestamps its
         * sequence number, is beyond anything the old connection used: old
         * duplicates cannot be mistaken for new data (tcp_ts.c). */
        struct tcp_conn *l = listener_lookup(s, c->tuple.lport);
        if (l) {
            struct tcp_tuple t = c->tuple;
            uint32_t old_snd_nxt = c->snd_nxt;
            tcp_set_state(s, c, TCP_CLOSED, "rcvd SYN for a new connection");
            tcp_in_listen(s, l, seg, &t, &old_snd_nxt);
            return true;
        }
    }
    return false;
}

/* What a step of §3.10.7.4 tells the next: go on, or the segment is done. */
enum tcp_step { TCP_STEP_NEXT, TCP_STEP_DONE };

/* "first, check sequence number". `seg` may be trimmed: with a zero
 * receive window only its ACK is processed. */
static enum tcp_step tcp_check_sequence_number(struct stack *s, struct tcp_conn *c,
                                               struct tcp_seg *seg)
{
    uint32_t wnd = tcp_rcv_space(c);
    if (tcp_seq_acceptable(c, seg, wnd))
        return TCP_STEP_NEXT;
    if (wnd == 0 && seg->seq == c->rcv_nxt && !(seg->flags & (TCP_RST | TCP_SYN))) {
        /* "If the RCV.WND is zero, no segments will be acceptable, but
         * special allowance should be made to accept valid ACKs, URGs,
         * and RSTs": process the ACK, drop the text, and say so. */
        if (seg->data_len)
            tcp_drop_seg(s, c, seg, TCP_DROP_RCV_WINDOW_FULL);
        seg->data_len = 0;
        seg->flags &= (uint8_t)~TCP_FIN;
        seg->len = 0;
        c->ack_owed = 1;
        return TCP_STEP_NEXT;
    }
    /* "If an incoming segment is not acceptable, an acknowledgment should
     * be sent in reply (unless the RST bit is set, if so drop the segment
     * and return)". */
    if (seg->flags & TCP_RST) {
        tcp_drop_seg(s, c, seg, TCP_DROP_RST_OUT_OF_WINDOW);
        return TCP_STEP_DONE;
    }
    if (seg->flags & TCP_SYN) {
        /* RFC 5961 §4.2: a SYN gets a challenge ACK "irrespective of the
         * sequence number" — see the fourth step. */
        tcp_drop_seg(s, c, seg, TCP_DROP_SYN_CHALLENGED);
        tcp_send_challenge_ack(s, c);
        return TCP_STEP_DONE;
    }
    if (c->state == TCP_TIME_WAIT && (seg->flags & TCP_FIN)) {
        /* The eighth step's TIME-WAIT rule, reached here because a
         * retransmitted FIN is old: "Acknowledge it, and restart the 2 MSL
         * timeout." */
        tcp_timer_arm(s, c, TCP_TIMER_TIME_WAIT, s->now + 2 * s->cfg.msl_us);
    }
    tcp_drop_seg(s, c, seg, TCP_DROP_UNACCEPTABLE);
    /* RFC 2883 §4: text wholly below RCV.NXT arrived twice: D-SACK it. */
    if (seg->data_len && seq_leq(seg->seq + seg->data_len, c->rcv_nxt) &&
        seq_geq(seg->seq, c->rcv_nxt - c->rcvbuf))
        tcp_sack_rcv_note_dup(c, seg->seq, seg->seq + seg->data_len);
    if (tcp_oow_ack_allowed(s, c, seg))
        tcp_send_ack(s, c);
    return TCP_STEP_DONE;
}

/* "second, check the RST bit", with RFC 5961 §3.2's exact-match rule and
 * RFC 1337's TIME-WAIT rule (both judged in tcp_rst.c). */
static enum tcp_step tcp_check_rst(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    if (!(seg->flags & TCP_RST))
        return TCP_STEP_NEXT;
    switch (tcp_rst_check(c, seg)) {
    case TCP_RST_IGNORE:
        tcp_drop_seg(s, c, seg, TCP_DROP_RST_IN_TIME_WAIT);
        return TCP_STEP_DONE;
    case TCP_RST_CHALLENGE:
        tcp_drop_seg(s, c, seg, TCP_DROP_RST_CHALLENGED);
        tcp_send_challenge_ack(s, c);
        return TCP_STEP_DONE;
    case TCP_RST_DROP:
        tcp_drop_seg(s, c, seg, TCP_DROP_RST_OUT_OF_WINDOW);
        return TCP_STEP_DONE;
    case TCP_RST_ACCEPT:
        break;
    }
    switch (c->state) {
    case TCP_SYN_RECEIVED:
        /* "If this connection was initiated with a passive OPEN (i.e., came
         * from the LISTEN state), then return this connection to LISTEN
         * state and return." The listener is still there; the half-open
         * block is simply freed. "If this connection was initiated with an
         * active OPEN (i.e., came from SYN-SENT state), then the connection
         * was refused". */
        if (c->passive) {
            tcp_set_state(s, c, TCP_LISTEN, "rcvd RST");
            conn_drop_child(s, c);
        } else {
            tcp_conn_fail(s, c, -ECONNREFUSED, "rcvd RST");
        }
        break;
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
    case TCP_CLOSE_WAIT:
        /* "any outstanding RECEIVEs and SEND should receive "reset"
         * responses. All segment queues should be flushed. Users should also
         * receive an unsolicited general "connection reset" signal. Enter
         * the CLOSED state, delete the TCB, and return." */
        tcp_conn_fail(s, c, -ECONNRESET, "rcvd RST");
        break;
    default:
        /* CLOSING, LAST-ACK: "enter the CLOSED state, delete the TCB". */
        tcp_set_state(s, c, TCP_CLOSED, "rcvd RST");
        break;
    }
    return TCP_STEP_DONE;
}

/* "third, check security": this stack has no security compartments, so
 * there is nothing to compare (a documented limit). */

/* "fourth, check the SYN bit" */
static enum tcp_step tcp_check_syn(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    if (!(seg->flags & TCP_SYN))
        return TCP_STEP_NEXT;
    if (c->state == TCP_SYN_RECEIVED && c->passive) {
        /* "If the connection was initiated with a passive OPEN, then return
         * this connection to the LISTEN state and return." */
        tcp_set_state(s, c, TCP_LISTEN, "rcvd SYN");
        conn_drop_child(s, c);
        return TCP_STEP_DONE;
    }
    /* RFC 5961 §4.2: "send a challenge ACK ... After sending the
     * acknowledgment, TCP implementations MUST drop the unacceptable segment
     * and stop processing further." */
    tcp_drop_seg(s, c, seg, TCP_DROP_SYN_CHALLENGED);
    tcp_send_challenge_ack(s, c);
    return TCP_STEP_DONE;
}

/* The fifth step in SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT, then
 * enter ESTABLISHED state and continue processing with the variables below
 * set to: SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK. If
 * the segment acknowledgment is not acceptable, form a reset segment
 * <SEQ=SEG.ACK><CTL=RST> and send it." */
static enum tcp_step tcp_ack_in_syn_received(struct stack *s, struct tcp_conn *c,
                                             const struct tcp_seg *seg)
{
    if (!(seq_lt(c->snd_una, seg->ack) && seq_leq(seg->ack, c->snd_nxt))) {
        tcp_drop_seg(s, c, seg, TCP_DROP_BAD_ACK);
        tcp_rst_reply(s, seg);
        return TCP_STEP_DONE;
    }
    if (c->listener && c->listener->acc_q_len >= c->listener->backlog) {
        /* Accept queue full: like Linux, ignore the ACK; the SYN,ACK will be
         * retransmitted and the peer's ACK with it. */
        tcp_drop_seg(s, c, seg, TCP_DROP_BACKLOG_FULL);
        return TCP_STEP_DONE;
    }
    tcp_syn_acked(s, c, seg);
    tcp_update_send_window(c, seg, false);
    tcp_set_state(s, c, TCP_ESTABLISHED, "rcvd ACK of SYN");
    tcp_move_to_accept_queue(c);
    tcp_after_established(s, c);
    return TCP_STEP_NEXT;
}

/* Closed in SYN_RECEIVED (FIN sent before our SYN was acknowledged, now in
 * FIN_WAIT_1): this ACK must first acknowledge the SYN, as in SYN-RECEIVED. */
static enum tcp_step tcp_ack_of_syn_after_close(struct stack *s, struct tcp_conn *c,
                                                const struct tcp_seg *seg)
{
    if (!(seq_lt(c->snd_una, seg->ack) && seq_leq(seg->ack, c->snd_nxt))) {
        tcp_drop_seg(s, c, seg, TCP_DROP_BAD_ACK);
        tcp_rst_reply(s, seg);
        return TCP_STEP_DONE;
    }
    struct tcp_seg syn_only = *seg;
    syn_only.ack = c->iss + 1;
    tcp_syn_acked(s, c, &syn_only);
    tcp_update_send_window(c, seg, false);
    c->connected = 1;
    if (c->snd_una != c->snd_nxt)
        tcp_timer_arm_rtx(s, c);
    return TCP_STEP_NEXT;
}

/* The fifth step's words for the closing states, once the ACK has been
 * processed as in ESTABLISHED. */
static enum tcp_step tcp_ack_in_closing_states(struct stack *s, struct tcp_conn *c)
{
    switch (c->state) {
    case TCP_CLOSING:
        /* "if the ACK acknowledges our FIN, then enter the TIME-WAIT state;
         * otherwise, ignore the segment." It may have acknowledged data:
         * more can go out afterwards. */
        if (tcp_our_fin_acked(c)) {
            tcp_set_state(s, c, TCP_TIME_WAIT, "rcvd ACK of FIN");
            return TCP_STEP_DONE;
        }
        break;
    case TCP_LAST_ACK:
        /* "The only thing that can arrive in this state is an
         * acknowledgment of our FIN. If our FIN is now acknowledged, delete
         * the TCB, enter the CLOSED state, and return." */
        if (tcp_our_fin_acked(c)) {
            tcp_set_state(s, c, TCP_CLOSED, "rcvd ACK of FIN");
            return TCP_STEP_DONE;
        }
        break;
    case TCP_FIN_WAIT_1:
        /* "In addition to the processing for the ESTABLISHED state, if the
         * FIN segment is now acknowledged, then enter FIN-WAIT-2 and
         * continue processing in that state." A FIN in this same segment
         * then takes FIN-WAIT-2 to TIME-WAIT in the eighth step: two
         * transitions, as Linux and BSD report them. */
        if (tcp_our_fin_acked(c)) {
            tcp_set_state(s, c, TCP_FIN_WAIT_2, "rcvd ACK of FIN");
            /* An orphan in FIN_WAIT_2 would wait forever for a FIN that may
             * never come; bound it with the 2MSL timer (as BSD does). */
            if (c->sd < 0)
                tcp_timer_arm(s, c, TCP_TIMER_TIME_WAIT, s->now + 2 * s->cfg.msl_us);
        }
        break;
    default:
        break;
    }
    return TCP_STEP_NEXT;
}

/* "fifth, check the ACK field" */
static enum tcp_step tcp_check_ack(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    if (!(seg->flags & TCP_ACK)) {
        /* "if the ACK bit is off, drop the segment and return" */
        tcp_drop_seg(s, c, seg, TCP_DROP_NO_ACK);
        return TCP_STEP_DONE;
    }
    if (c->state == TCP_SYN_RECEIVED && tcp_ack_in_syn_received(s, c, seg) == TCP_STEP_DONE)
        return TCP_STEP_DONE;
    if (c->snd_una == c->iss && c->state == TCP_FIN_WAIT_1 &&
        tcp_ack_of_syn_after_close(s, c, seg) == TCP_STEP_DONE)
        return TCP_STEP_DONE;
    /* RFC 9293: "If the ACK acks something not yet sent (SEG.ACK > SND.NXT)
     * then send an ACK, drop the segment, and return." RFC 5961 §5.2 adds:
     * an ACK older than SND.UNA - MAX.SND.WND is dropped the same way, and
     * §7 throttles those ACKs: a forged segment must not start an ACK storm
     * between two stacks that now disagree about the sequence space. */
    if (seq_gt(seg->ack, c->snd_max) || seq_lt(seg->ack, c->snd_una - c->max_snd_wnd)) {
        tcp_drop_seg(s, c, seg, TCP_DROP_BAD_ACK);
        tcp_send_challenge_ack(s, c);
        return TCP_STEP_DONE;
    }
    tcp_ack_received(s, c, seg);
    return tcp_ack_in_closing_states(s, c);
}

/* Header prediction (Van Jacobson's, as in BSD's tcp_input): the segment a
 * receiver sees most — ESTABLISHED, the next bytes in order, only ACK (and
 * PSH), acknowledging nothing new, no SACK blocks, fitting in the ring with
 * nothing held out of order and no FIN waiting. For it every step of
 * §3.10.7.4 below but PAWS, TS.Recent, the window update and the text is a
 * test that passes and changes nothing; this does the four in the same
 * order and skips the tests. docs/engine.md ("The receive fast path") goes
 * through the steps one by one. Returns false, having changed nothing, for
 * any other segment. */
static bool tcp_in_predicted(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    if (s->cfg.no_fast_path || c->state != TCP_ESTABLISHED || (seg->flags & ~TCP_PSH) != TCP_ACK ||
        seg->seq != c->rcv_nxt || seg->ack != c->snd_una || seg->data_len == 0 ||
        seg->th->opts.n_sack != 0 || !c->rcvq.buf || c->ooo.n != 0 || c->rcv_fin_held ||
        c->rcvq.len >= c->rcvbuf || seg->data_len > c->rcvbuf - c->rcvq.len)
        return false;
    if (c->ts_ok) { /* RFC 7323 §5.3 R1 (PAWS) and R3: nothing to do without TSopt */
        if (!tcp_ts_check(s, c, seg))
            return true;
        tcp_ts_take_recent(s, c, seg);
    }
    /* The fifth step: SEG.ACK = SND.UNA, so only the window update. */
    if (seq_lt(c->snd_wl1, seg->seq) || (c->snd_wl1 == seg->seq && seq_leq(c->snd_wl2, seg->ack)))
        tcp_update_send_window(c, seg, false);
    tcp_text_in_order(s, c, seg->data, seg->data_len);
    tcp_output(s, c);
    if (c->ack_owed)
        tcp_send_owed_ack(s, c);
    return true;
}

/* §3.10.7.4: SYN-RECEIVED and the synchronized states, the RFC's steps in
 * the RFC's order. The sixth (URG), seventh (text) and eighth (FIN) are
 * tcp_in_text_and_fin(). */
static void tcp_in_other_states(struct stack *s, struct tcp_conn *c, struct tcp_seg *seg)
{
    c->last_rcv_us = s->now;
    c->ka_probes = 0;
    if (tcp_in_predicted(s, c, seg))
        return;
    if (tcp_in_special(s, c, seg))
        return;
    /* RFC 7323 §5.3: PAWS (R1) before the first step, TS.Recent (R3) once
     * the segment has passed it. */
    if (!tcp_ts_check(s, c, seg) || tcp_check_sequence_number(s, c, seg) == TCP_STEP_DONE)
        return;
    tcp_ts_take_recent(s, c, seg);
    if (tcp_check_rst(s, c, seg) == TCP_STEP_DONE || tcp_check_syn(s, c, seg) == TCP_STEP_DONE ||
        tcp_check_ack(s, c, seg) == TCP_STEP_DONE)
        return;
    tcp_in_text_and_fin(s, c, seg);
    if (c->state == TCP_CLOSED)
        return;
    tcp_output(s, c);
    if (c->ack_owed)
        tcp_send_owed_ack(s, c);
}

/* A held ACK (batching) may wait for the next in-order data segment too
 * while the bytes it leaves unacknowledged stay within cfg.batch_ack_max
 * (tcp.h); anything else — a gap, a control bit, an old segment — gets the
 * ACK before it, as RFC 5681 §4.2 asks. */
static bool tcp_held_ack_may_wait(const struct stack *s, const struct tcp_conn *c,
                                  const struct wire_tcp *th)
{
    return th->payload_len != 0 && th->seq == c->rcv_nxt && (th->flags & ~TCP_PSH) == TCP_ACK &&
           c->delack_bytes + th->payload_len <= s->cfg.batch_ack_max;
}

void tcp_input(struct stack *s, const struct wire_ipv4 *ip, const struct wire_tcp *th,
               const uint8_t *raw, size_t len)
{
    struct tcp_seg seg = {
        .ip = ip,
        .th = th,
        .seq = th->seq,
        .ack = th->ack,
        .len = (uint32_t)th->payload_len + ((th->flags & TCP_SYN) ? 1 : 0) +
               ((th->flags & TCP_FIN) ? 1 : 0),
        .wnd = th->win,
        .flags = th->flags,
        .data = th->payload,
        .data_len = (uint32_t)th->payload_len,
        .raw = raw,
        .raw_len = len,
    };
    struct tcp_tuple t = {
        .laddr = ip->dst, .raddr = ip->src, .lport = th->dport, .rport = th->sport};
    struct tcp_node *n = conn_lookup_segment(s, &t);
    struct tcp_conn *c = tcp_node_conn(n);
    /* A TIME_WAIT record: its block again, for the steps below (tcp_tw.c);
     * without memory for it the segment is dropped (the peer sends again). */
    bool no_block = n && !c && !(c = tcp_tw_expand(s, (struct tcp_tw *)n));
    struct tcp_conn *l = c || no_block ? NULL : listener_lookup(s, th->dport);
    if (c && c->ack_held && !tcp_held_ack_may_wait(s, c, th))
        tcp_release_held_ack(s, c); /* before this segment: the ACK count stays */

    if (stack_observed(s)) {
        struct tev ev;
        stack_event_init(s, &ev, TEV_SEGMENT, c ? c : l);
        ev.tuple = t;
        ev.u.seg.dir = TEV_IN;
        ev.u.seg.tcp = *th;
        ev.u.seg.src = ip->src;
        ev.u.seg.dst = ip->dst;
        ev.u.seg.raw = raw;
        ev.u.seg.raw_len = len;
        stack_emit(s, &ev);
    }
    if (c && c->sd >= 0 && s->cfg.on_ready)
        s->cfg.on_ready(s->cfg.ready_ctx, c->sd, NULL);

    if (no_block) {
        tcp_drop_seg(s, NULL, &seg, TCP_DROP_MEM_LIMIT);
        return;
    }
    if (!c) {
        if (l)
            tcp_in_listen(s, l, &seg, &t, NULL);
        else
            tcp_in_closed(s, &seg);
        return;
    }
    if (c->state == TCP_SYN_SENT)
        tcp_in_syn_sent(s, c, &seg);
    else
        tcp_in_other_states(s, c, &seg);
}
