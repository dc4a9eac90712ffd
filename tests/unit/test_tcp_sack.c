/*
 * test_tcp_sack.c — selective acknowledgment: negotiation and the blocks a
 * receiver sends (RFC 2018), duplicate reports (D-SACK, RFC 2883), and the
 * sender's scoreboard and loss recovery (RFC 6675).
 *
 * The scoreboard routines (Update, IsLost, SetPipe, NextSeg) are sans-I/O
 * and are called directly on a struct tcp_scoreboard; the rest drives one
 * stack with a scripted peer (tests/support/tcptest.h) and asserts on the
 * segments it sends and the TEV_SACK / TEV_CC events.
 */
#include "tcptest.h"

#include "tcp_internal.h"

#define SMSS 1460

static char bulk[64 * 1024];

/* ---- the scoreboard alone (RFC 6675 §4) --------------------------------- */

#define UNA 1000u /* HighACK + 1 in the RFC's terms: SND.UNA */

static uint32_t sb_update(struct tcp_scoreboard *sb, uint32_t l, uint32_t r)
{
    struct wire_sack_block b = {l, r};
    return tcp_sack_update(sb, &b, 1, UNA);
}

static void test_rfc6675_update_merges_blocks_and_counts_only_new_bytes(void **state)
{
    struct tcp_scoreboard sb = {0};
    assert_int_equal(sb_update(&sb, UNA + 2000, UNA + 3000), 1000);
    assert_int_equal(sb_update(&sb, UNA + 5000, UNA + 6000), 1000);
    assert_int_equal(sb.n, 2);
    /* the same block again says nothing new */
    assert_int_equal(sb_update(&sb, UNA + 2000, UNA + 3000), 0);
    /* a block bridging both: only the gap between them is new */
    assert_int_equal(sb_update(&sb, UNA + 2500, UNA + 5500), 2000);
    assert_int_equal(sb.n, 1);
    assert_int_equal(sb.r[0].left, UNA + 2000);
    assert_int_equal(sb.r[0].right, UNA + 6000);
    /* the cumulative ACK passes part of it */
    tcp_sack_cumulative_ack(&sb, UNA + 2500);
    assert_int_equal(sb.r[0].left, UNA + 2500);
    tcp_sack_cumulative_ack(&sb, UNA + 6000);
    assert_int_equal(sb.n, 0);
}

/* Sequence numbers near 2^32: a block that wraps is one block. */
static void test_rfc6675_update_is_wrap_safe(void **state)
{
    struct tcp_scoreboard sb = {0};
    struct wire_sack_block b = {0xfffffff0u, 0x00000100u};
    assert_int_equal(tcp_sack_update(&sb, &b, 1, 0xffffff00u), 0x110);
    assert_true(tcp_sack_is_sacked(&sb, 0xffffffffu));
    assert_true(tcp_sack_is_sacked(&sb, 0));
    assert_false(tcp_sack_is_sacked(&sb, 0x100));
}

/* IsLost: DupThresh (3) discontiguous SACKed ranges above, or more than
 * (DupThresh - 1) * SMSS bytes SACKed above. */
static void test_rfc6675_islost_after_three_segments_or_three_ranges_above(void **state)
{
    struct tcp_scoreboard sb = {0};
    sb_update(&sb, UNA + SMSS, UNA + 3 * SMSS); /* two segments above the hole */
    assert_false(tcp_sack_is_lost(&sb, UNA, SMSS));
    sb_update(&sb, UNA + 3 * SMSS, UNA + 4 * SMSS); /* a third, contiguous */
    assert_true(tcp_sack_is_lost(&sb, UNA, SMSS));

    struct tcp_scoreboard small = {0}; /* three tiny ranges, 30 bytes in all */
    sb_update(&small, UNA + 100, UNA + 110);
    sb_update(&small, UNA + 200, UNA + 210);
    assert_false(tcp_sack_is_lost(&small, UNA, SMSS));
    sb_update(&small, UNA + 300, UNA + 310);
    assert_true(tcp_sack_is_lost(&small, UNA, SMSS));
    assert_false(tcp_sack_is_lost(&small, UNA + 150, SMSS)); /* only two above it */
}

/* SetPipe: an unSACKed byte counts once if not lost, and once more if it
 * was retransmitted (<= HighRxt). */
static void test_rfc6675_setpipe_counts_what_is_still_in_the_network(void **state)
{
    struct tcp_scoreboard sb = {.high_rxt = UNA};
    uint32_t max = UNA + 10 * SMSS;
    assert_int_equal(tcp_sack_set_pipe(&sb, UNA, max, SMSS), 10 * SMSS); /* nothing known */
    /* segment 0 lost, 1-3 SACKed, 4-9 unknown */
    sb_update(&sb, UNA + SMSS, UNA + 4 * SMSS);
    assert_int_equal(tcp_sack_set_pipe(&sb, UNA, max, SMSS), 6 * SMSS);
    sb.high_rxt = UNA + SMSS; /* segment 0 retransmitted */
    assert_int_equal(tcp_sack_set_pipe(&sb, UNA, max, SMSS), 7 * SMSS);
    assert_int_equal(sb.pipe, 7 * SMSS);
}

/* NextSeg: (1) the lowest lost hole above HighRxt, (2) new data, (3) an
 * unSACKed hole that is not yet lost, (4) one rescue retransmission. */
static void test_rfc6675_nextseg_rules_in_order(void **state)
{
    struct tcp_scoreboard sb = {.high_rxt = UNA};
    uint32_t max = UNA + 10 * SMSS, seq = 0, len = 0;
    /* holes at segments 0 and 4; 1-3 and 5 SACKed */
    sb_update(&sb, UNA + SMSS, UNA + 4 * SMSS);
    sb_update(&sb, UNA + 5 * SMSS, UNA + 6 * SMSS);
    assert_int_equal(tcp_sack_next_seg(&sb, UNA, max, max, SMSS, true, &seq, &len),
                     TCP_SACK_NEXT_RTX); /* rule 1: segment 0 is lost */
    assert_int_equal(seq, UNA);
    assert_int_equal(len, SMSS);
    sb.high_rxt = seq + len;
    /* segment 4 has only one SACKed segment above it: not lost; new data first */
    assert_int_equal(tcp_sack_next_seg(&sb, UNA, max, max, SMSS, true, &seq, &len),
                     TCP_SACK_NEXT_NEW);
    assert_int_equal(tcp_sack_next_seg(&sb, UNA, max, max, SMSS, false, &seq, &len),
                     TCP_SACK_NEXT_RTX); /* rule 3 */
    assert_int_equal(seq, UNA + 4 * SMSS);
    sb.high_rxt = seq + len;
    /* rule 4: segments 6-9 are unSACKed above everything: one rescue of the last */
    assert_int_equal(tcp_sack_next_seg(&sb, UNA, max, max, SMSS, false, &seq, &len),
                     TCP_SACK_NEXT_RESCUE);
    assert_int_equal(seq, max - SMSS);
    assert_int_equal(len, SMSS);
    assert_int_equal(sb.high_rxt, UNA + 5 * SMSS); /* "HighRxt MUST NOT be updated" */
    assert_int_equal(tcp_sack_next_seg(&sb, UNA, max, max, SMSS, false, &seq, &len),
                     TCP_SACK_NEXT_NONE); /* once per recovery */
}

/* ---- a connection that agreed to SACK -------------------------------------- */

/* The stack connected; the peer's SYN,ACK said SACK-permitted or not. */
/* A retransmission lost again (RFC 8985's rule that a segment is lost
 * when enough sent after it has been delivered; Linux's lost-retransmit
 * detection). Segment 0 was retransmitted when SND.MAX was 10 segments
 * (its fence). SACKs of data sent before the fence say nothing about it;
 * two segments above the fence are not yet enough (reordering, as
 * IsLost); the third marks it lost, and NextSeg sends it again first,
 * once, without moving HighRxt back. */
static void test_rfc8985_lost_retransmission_found_by_later_sacks(void **state)
{
    struct tcp_scoreboard sb = {0};
    uint32_t fence = UNA + 10 * SMSS, top = UNA + 14 * SMSS;
    sb_update(&sb, UNA + SMSS, fence); /* 1..9, all sent before the retransmission */
    sb.high_rxt = UNA + SMSS;
    tcp_sack_watch_rtx(&sb, UNA, UNA + SMSS, fence);
    assert_int_equal(tcp_sack_find_lost_rtx(&sb, UNA, SMSS), 0);
    sb_update(&sb, fence, fence + 2 * SMSS);
    assert_int_equal(tcp_sack_find_lost_rtx(&sb, UNA, SMSS), 0);
    sb_update(&sb, fence + 2 * SMSS, fence + 3 * SMSS);
    assert_int_equal(tcp_sack_find_lost_rtx(&sb, UNA, SMSS), 1u << 0);
    assert_int_equal(tcp_sack_find_lost_rtx(&sb, UNA, SMSS), 0); /* marked once */
    uint32_t seq = 0, len = 0;
    assert_int_equal(tcp_sack_next_seg(&sb, UNA, top, top, SMSS, false, &seq, &len),
                     TCP_SACK_NEXT_RERTX);
    assert_int_equal(seq, UNA);
    assert_int_equal(len, SMSS);
    assert_int_equal(sb.high_rxt, UNA + SMSS);
    assert_int_equal(sb.rtx[0].fence, top); /* watched again, from now */
    /* next: the rescue retransmission of the tail (rule 4), watched too */
    assert_int_equal(tcp_sack_next_seg(&sb, UNA, top, top, SMSS, false, &seq, &len),
                     TCP_SACK_NEXT_RESCUE);
    assert_int_equal(sb.n_rtx, 2);
    /* what has arrived (acknowledged or SACKed) is no longer watched */
    tcp_sack_cumulative_ack(&sb, fence + 3 * SMSS);
    tcp_sack_find_lost_rtx(&sb, fence + 3 * SMSS, SMSS);
    assert_int_equal(sb.n_rtx, 1);
    sb_update(&sb, top - SMSS, top);
    tcp_sack_find_lost_rtx(&sb, fence + 3 * SMSS, SMSS);
    assert_int_equal(sb.n_rtx, 0);
}

static struct tt *conn_sack(bool peer_offers, unsigned iw)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.init_cwnd = (uint8_t)iw;
    cfg.sndbuf = sizeof bulk;
    struct tt *t = tt_syn_sent(&cfg);
    struct tt_seg synack = {.flags = TCP_SYN | TCP_ACK,
                            .seq = 0,
                            .ack = 1,
                            .opts = {.has_mss = true, .mss = SMSS, .sack_permitted = peer_offers}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    memset(bulk, 's', sizeof bulk);
    return t;
}

/* A pure ACK from the peer of relative `rack`, with SACK blocks given as
 * relative (left, right) pairs of the stack's sequence space. */
static void ack_sack(struct tt *t, uint32_t rack, unsigned n, const uint32_t rel[][2])
{
    struct tt_seg a = {.flags = TCP_ACK, .seq = 1, .ack = rack};
    a.opts.n_sack = (uint8_t)n;
    for (unsigned k = 0; k < n; k++) {
        a.opts.sack[k].left = t->iss + rel[k][0];
        a.opts.sack[k].right = t->iss + rel[k][1];
    }
    tt_in_seg(t, &a);
}

#define SEG(i) (1 + (i) * SMSS) /* relative start of segment i (0-based) */

static const struct tev *last_event(const struct tt *t, enum tev_kind kind)
{
    for (size_t i = t->ev_len; i-- > 0;)
        if (t->ev[i]->kind == kind)
            return t->ev[i];
    return NULL;
}

static void test_rfc2018_sack_permitted_offered_in_syn_and_agreed(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    /* the SYN of a fresh connection carries SACK-permitted */
    struct tt *v = tt_new(&cfg);
    int sd = tcp_socket(v->s, v->now);
    assert_true(sd >= 0);
    assert_int_equal(tcp_connect(v->s, v->now, sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
    const struct tt_pkt *syn = tt_next(v);
    assert_non_null(syn);
    assert_true(syn->tcp.opts.sack_permitted);
    tt_free(v);
    /* and not when switched off */
    cfg.sack = false;
    v = tt_new(&cfg);
    sd = tcp_socket(v->s, v->now);
    assert_int_equal(tcp_connect(v->s, v->now, sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
    syn = tt_next(v);
    assert_non_null(syn);
    assert_false(syn->tcp.opts.sack_permitted);
    tt_free(v);
    struct tt *u = conn_sack(true, 10);
    /* agreed: an out-of-order arrival is answered with a SACK block */
    tt_in_data(u, 1 + 100, 1, "x", 1);
    const struct tt_pkt *p = tt_expect(u, TCP_ACK, 1, 1, 0);
    assert_int_equal(p->tcp.opts.n_sack, 1);
    assert_int_equal(p->tcp.opts.sack[0].left, u->peer_isn + 1 + 100);
    assert_int_equal(p->tcp.opts.sack[0].right, u->peer_isn + 1 + 101);
    tt_free(u);
}

/* TCP_OPT_SACK 0 on one socket: its SYN does not offer SACK, and a SYN it
 * listens for is not answered with SACK-permitted; after connect() it is
 * too late (EINVAL). */
static void test_rfc2018_socket_option_turns_sack_off_for_one_socket(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    struct tt *v = tt_new(&cfg);
    int sd = tcp_socket(v->s, v->now);
    assert_int_equal(tcp_setsockopt(v->s, v->now, sd, TCP_OPT_SACK, 0), 0);
    assert_int_equal(tcp_connect(v->s, v->now, sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
    const struct tt_pkt *syn = tt_next(v);
    assert_non_null(syn);
    assert_false(syn->tcp.opts.sack_permitted);
    assert_int_equal(tcp_setsockopt(v->s, v->now, sd, TCP_OPT_SACK, 1), -EINVAL);
    int other = tcp_socket(v->s, v->now); /* the next socket is not affected */
    assert_int_equal(tcp_connect(v->s, v->now, other, TT_PEER_ADDR, TT_SERVER_PORT + 1), 0);
    syn = tt_next(v);
    assert_non_null(syn);
    assert_true(syn->tcp.opts.sack_permitted);
    tt_free(v);

    struct tt *t = tt_new(&cfg); /* a listener with SACK off: its children too */
    t->lsd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->lsd, TCP_OPT_SACK, 0), 0);
    assert_int_equal(tcp_bind(t->s, t->now, t->lsd, TT_SERVER_PORT), 0);
    assert_int_equal(tcp_listen(t->s, t->now, t->lsd, 8), 0);
    struct tt_seg s = {.flags = TCP_SYN, .opts = {.has_mss = true, .mss = SMSS, .sack_permitted = true}};
    t->pport = TT_PEER_CLIENT_PORT;
    t->sport = TT_SERVER_PORT;
    tt_in_seg(t, &s);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->tcp.flags, TCP_SYN | TCP_ACK);
    assert_false(p->tcp.opts.sack_permitted);
    tt_free(t);
}

/* RFC 2018 §2: without SACK-permitted in the peer's SYN there is no SACK:
 * none sent, and any received is ignored with a reason. */
static void test_rfc2018_no_sack_unless_both_syns_said_so(void **state)
{
    struct tt *t = conn_sack(false, 10);
    tt_in_data(t, 1 + 100, 1, "x", 1);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(p->tcp.opts.n_sack, 0);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 4 * SMSS), 4 * SMSS);
    tt_drain(t);
    const uint32_t blk[][2] = {{SEG(1), SEG(4)}};
    ack_sack(t, 1, 1, blk);
    const struct tev *ev = last_event(t, TEV_SACK);
    assert_non_null(ev);
    assert_int_equal(ev->u.sack.what, TEV_SACK_IGNORED);
    assert_string_equal(ev->u.sack.reason, "not_negotiated");
    assert_int_equal(tt_status(t).cc_phase, TCP_CC_SLOW_START); /* not trusted */
    tt_free(t);
}

/* The passive side answers SACK-permitted only to a SYN that offered it. */
static void test_rfc2018_synack_carries_sack_permitted_only_if_the_syn_did(void **state)
{
    for (int offer = 0; offer < 2; offer++) {
        struct stack_config cfg;
        tt_config(&cfg);
        struct tt *t = tt_listener(&cfg);
        struct tt_seg syn = {.flags = TCP_SYN,
                             .seq = 0,
                             .opts = {.has_mss = true, .mss = SMSS, .sack_permitted = offer}};
        tt_in_seg(t, &syn);
        const struct tt_pkt *p = tt_next(t);
        assert_non_null(p);
        assert_int_equal(p->tcp.flags, TCP_SYN | TCP_ACK);
        assert_int_equal(p->tcp.opts.sack_permitted, offer);
        tt_free(t);
    }
}

/* RFC 2018 §4: the first block holds the most recently received segment;
 * the others follow, most recent first. */
static void test_rfc2018_first_block_holds_the_most_recent_segment(void **state)
{
    struct tt *t = conn_sack(true, 10);
    uint32_t b = t->peer_isn;
    tt_in_data(t, 1 + 1000, 1, "aaaa", 4);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_in_data(t, 1 + 3000, 1, "bbbb", 4);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(p->tcp.opts.n_sack, 2);
    assert_int_equal(p->tcp.opts.sack[0].left, b + 1 + 3000);
    assert_int_equal(p->tcp.opts.sack[1].left, b + 1 + 1000);
    tt_in_data(t, 1 + 1004, 1, "cccc", 4); /* extends the older block */
    p = tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(p->tcp.opts.n_sack, 2);
    assert_int_equal(p->tcp.opts.sack[0].left, b + 1 + 1000);
    assert_int_equal(p->tcp.opts.sack[0].right, b + 1 + 1008);
    assert_int_equal(p->tcp.opts.sack[1].left, b + 1 + 3000);
    tt_free(t);
}

/* RFC 2883 §4: a segment received twice is reported in the first block of
 * the next ACK, once. */
static void test_rfc2883_dsack_reports_a_duplicate_below_rcv_nxt_once(void **state)
{
    struct tt *t = conn_sack(true, 10);
    uint32_t b = t->peer_isn;
    tt_in_data(t, 1, 1, "hello", 5);
    tt_expect(t, TCP_ACK, 1, 6, 0);
    tt_in_data(t, 1, 1, "hello", 5); /* again */
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 6, 0);
    assert_int_equal(p->tcp.opts.n_sack, 1);
    assert_int_equal(p->tcp.opts.sack[0].left, b + 1);
    assert_int_equal(p->tcp.opts.sack[0].right, b + 6);
    tt_in_data(t, 6, 1, "!", 1);
    p = tt_expect(t, TCP_ACK, 1, 7, 0);
    assert_int_equal(p->tcp.opts.n_sack, 0); /* reported once */
    tt_free(t);
}

/* RFC 2883 §4: a duplicate of data held out of order: the D-SACK block
 * first, the larger block containing it second. */
static void test_rfc2883_dsack_of_out_of_order_data_names_its_block_second(void **state)
{
    struct tt *t = conn_sack(true, 10);
    uint32_t b = t->peer_isn;
    tt_in_data(t, 1 + 100, 1, "0123456789", 10);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_in_data(t, 1 + 102, 1, "2345", 4); /* all of it held already */
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(p->tcp.opts.n_sack, 2);
    assert_int_equal(p->tcp.opts.sack[0].left, b + 1 + 102);
    assert_int_equal(p->tcp.opts.sack[0].right, b + 1 + 106);
    assert_int_equal(p->tcp.opts.sack[1].left, b + 1 + 100);
    assert_int_equal(p->tcp.opts.sack[1].right, b + 1 + 110);
    tt_free(t);
}

/* A D-SACK received is reported as an event and changes nothing else. */
static void test_rfc2883_dsack_received_is_an_event_not_a_loss(void **state)
{
    struct tt *t = conn_sack(true, 10);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 2 * SMSS), 2 * SMSS);
    tt_drain(t);
    tt_in(t, TCP_ACK, 1, SEG(1), NULL);
    struct tcp_status before = tt_status(t);
    const uint32_t blk[][2] = {{SEG(0), SEG(1)}}; /* below the cumulative ACK */
    ack_sack(t, SEG(1), 1, blk);
    const struct tev *ev = last_event(t, TEV_SACK);
    assert_non_null(ev);
    assert_int_equal(ev->u.sack.what, TEV_SACK_DSACK);
    assert_int_equal(ev->u.sack.left, t->iss + SEG(0));
    assert_int_equal(ev->u.sack.right, t->iss + SEG(1));
    assert_int_equal(tt_status(t).cwnd, before.cwnd);
    assert_int_equal(tt_status(t).cc_phase, TCP_CC_SLOW_START);
    tt_free(t);
}

/* RFC 3708 §3: the first of five segments is reordered behind the other
 * four. Their SACKs start fast retransmit (cwnd halves); the original then
 * arrives (cumulative ACK of everything: recovery ends), and the
 * retransmission after it is reported in a D-SACK. A D-SACK of a segment
 * that was never retransmitted (the network duplicated it) changes
 * nothing; the D-SACK of the retransmitted one shows the whole response was
 * spurious, and cwnd and ssthresh come back as they were ("undo"). */
static void test_rfc3708_dsack_undoes_spurious_fast_retransmit(void **state)
{
    struct tt *t = conn_sack(true, 10);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 5 * SMSS), 5 * SMSS);
    for (unsigned i = 0; i < 5; i++)
        tt_expect(t, TCP_ACK | (i == 4 ? TCP_PSH : 0), SEG(i), 1, SMSS);
    struct tcp_status before = tt_status(t);
    const uint32_t a1[][2] = {{SEG(1), SEG(2)}};
    const uint32_t a2[][2] = {{SEG(1), SEG(3)}};
    const uint32_t a3[][2] = {{SEG(1), SEG(4)}};
    ack_sack(t, 1, 1, a1);
    ack_sack(t, 1, 1, a2);
    ack_sack(t, 1, 1, a3);
    tt_expect(t, TCP_ACK, SEG(0), 1, SMSS); /* fast retransmit */
    assert_int_equal(tt_status(t).cc_phase, TCP_CC_RECOVERY);
    assert_true(tt_status(t).cwnd < before.cwnd);
    tt_in(t, TCP_ACK, 1, SEG(5), NULL); /* the original arrived: all acknowledged */
    struct tcp_status reduced = tt_status(t);
    assert_int_equal(reduced.ssthresh, 5 * SMSS / 2);
    assert_true(reduced.cwnd < before.cwnd);
    const uint32_t dup3[][2] = {{SEG(3), SEG(4)}}; /* never retransmitted */
    ack_sack(t, SEG(5), 1, dup3);
    assert_int_equal(last_event(t, TEV_SACK)->u.sack.what, TEV_SACK_DSACK);
    assert_int_equal(tt_status(t).cwnd, reduced.cwnd);
    assert_int_equal(tt_status(t).ssthresh, reduced.ssthresh);
    const uint32_t dup0[][2] = {{SEG(0), SEG(1)}}; /* the retransmission's twin */
    ack_sack(t, SEG(5), 1, dup0);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.cwnd, before.cwnd);
    assert_int_equal(st.ssthresh, before.ssthresh);
    assert_int_equal(st.cc_phase, TCP_CC_SLOW_START);
    assert_string_equal(last_event(t, TEV_CC)->u.cc.cause, "undo");
    /* once only: the same D-SACK again is no second undo */
    size_t n_cc = tt_count_events(t, TEV_CC);
    ack_sack(t, SEG(5), 1, dup0);
    assert_int_equal(tt_count_events(t, TEV_CC), n_cc);
    tt_free(t);
}

/* RFC 3708 needs a D-SACK for every retransmission: when one segment was
 * really lost (its retransmission is never D-SACKed) a D-SACK of another
 * retransmitted segment does not undo the reduction. Two holes, 0 and 2;
 * 0 was only reordered, 2 was lost. */
static void test_rfc3708_no_undo_unless_every_retransmission_is_dsacked(void **state)
{
    struct tt *t = conn_sack(true, 10);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 6 * SMSS), 6 * SMSS);
    tt_drain(t);
    const uint32_t a1[][2] = {{SEG(1), SEG(2)}};
    const uint32_t a2[][2] = {{SEG(3), SEG(4)}, {SEG(1), SEG(2)}};
    const uint32_t a3[][2] = {{SEG(3), SEG(5)}, {SEG(1), SEG(2)}};
    const uint32_t a4[][2] = {{SEG(3), SEG(6)}, {SEG(1), SEG(2)}};
    ack_sack(t, 1, 1, a1);
    ack_sack(t, 1, 2, a2);
    ack_sack(t, 1, 2, a3);
    tt_expect(t, TCP_ACK, SEG(0), 1, SMSS);
    ack_sack(t, 1, 2, a4);
    tt_expect(t, TCP_ACK, SEG(2), 1, SMSS);
    /* the original 0 arrives; then its retransmission (D-SACK) */
    const uint32_t b1[][2] = {{SEG(3), SEG(6)}};
    ack_sack(t, SEG(2), 1, b1);
    const uint32_t b2[][2] = {{SEG(0), SEG(1)}, {SEG(3), SEG(6)}};
    ack_sack(t, SEG(2), 2, b2);
    /* the retransmission of 2 arrives: everything acknowledged */
    tt_in(t, TCP_ACK, 1, SEG(6), NULL);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.ssthresh, 6 * SMSS / 2);
    assert_int_equal(st.cwnd, 6 * SMSS / 2);
    assert_string_not_equal(last_event(t, TEV_CC)->u.cc.cause, "undo");
    tt_free(t);
}

/* RFC 6675 §5: ten segments, 0, 3 and 6 lost. The SACK blocks show three
 * holes; the sender enters recovery with cwnd = ssthresh = FlightSize / 2
 * and retransmits all three holes before any cumulative ACK arrives: in one
 * round trip, where NewReno needs one round trip per hole. */
static void test_rfc6675_three_holes_repaired_in_one_round_trip(void **state)
{
    struct tt *t = conn_sack(true, 10);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 10 * SMSS), 10 * SMSS);
    for (unsigned i = 0; i < 10; i++)
        tt_expect(t, TCP_ACK | (i == 9 ? TCP_PSH : 0), SEG(i), 1, SMSS);
    const uint32_t a1[][2] = {{SEG(1), SEG(2)}};
    const uint32_t a2[][2] = {{SEG(1), SEG(3)}};
    const uint32_t a3[][2] = {{SEG(4), SEG(5)}, {SEG(1), SEG(3)}};
    ack_sack(t, 1, 1, a1);
    ack_sack(t, 1, 1, a2);
    tt_expect_nothing(t); /* limited transmit, but nothing new is queued */
    ack_sack(t, 1, 2, a3); /* three segments SACKed above segment 0: lost */
    tt_expect(t, TCP_ACK, SEG(0), 1, SMSS);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.cc_phase, TCP_CC_RECOVERY);
    assert_int_equal(st.ssthresh, 5 * SMSS);
    assert_int_equal(st.cwnd, 5 * SMSS); /* (4.2) no inflation */
    const struct tev *cc = last_event(t, TEV_CC);
    assert_string_equal(cc->u.cc.cause, "sack");
    const uint32_t a4[][2] = {{SEG(4), SEG(6)}, {SEG(1), SEG(3)}};
    const uint32_t a5[][2] = {{SEG(7), SEG(8)}, {SEG(4), SEG(6)}, {SEG(1), SEG(3)}};
    const uint32_t a6[][2] = {{SEG(7), SEG(9)}, {SEG(4), SEG(6)}, {SEG(1), SEG(3)}};
    const uint32_t a7[][2] = {{SEG(7), SEG(10)}, {SEG(4), SEG(6)}, {SEG(1), SEG(3)}};
    ack_sack(t, 1, 2, a4);
    ack_sack(t, 1, 3, a5);
    tt_expect(t, TCP_ACK, SEG(3), 1, SMSS); /* hole 2, still no cumulative ACK */
    ack_sack(t, 1, 3, a6);
    ack_sack(t, 1, 3, a7);
    tt_expect(t, TCP_ACK, SEG(6), 1, SMSS); /* hole 3 */
    tt_expect_nothing(t);
    /* the three retransmissions arrive: the cumulative ACK covers everything */
    const uint32_t a8[][2] = {{SEG(7), SEG(10)}, {SEG(4), SEG(6)}};
    ack_sack(t, SEG(3), 2, a8);
    const uint32_t a9[][2] = {{SEG(7), SEG(10)}};
    ack_sack(t, SEG(6), 1, a9);
    tt_in(t, TCP_ACK, 1, SEG(10), NULL);
    st = tt_status(t);
    assert_int_equal(st.cc_phase, TCP_CC_AVOIDANCE);
    assert_int_equal(st.cwnd, 5 * SMSS); /* recovery over: cwnd = ssthresh */
    tt_expect_nothing(t); /* no segment was sent twice */
    tt_free(t);
}

/* RFC 2018 §3 / issue 9 "Bad input": blocks outside [SND.UNA, SND.MAX],
 * empty ones and overlapping ones are ignored with a reason, and never
 * count towards loss detection or cwnd. */
static void test_rfc2018_untrustworthy_blocks_are_ignored_with_a_reason(void **state)
{
    static const struct {
        uint32_t b[2][2];
        unsigned n;
        const char *reason;
    } bad[] = {
        {{{SEG(1), SEG(11)}}, 1, "out_of_window"},                  /* beyond SND.MAX */
        {{{SEG(2), SEG(2)}}, 1, "empty_block"},                     /* zero length */
        {{{SEG(3), SEG(2)}}, 1, "empty_block"},                     /* right before left */
        {{{SEG(1), SEG(5)}, {SEG(4), SEG(8)}}, 2, "overlapping"},   /* share segment 4 */
        {{{SEG(0) + 1000000, SEG(0) + 1001000}}, 1, "out_of_window"}, /* far away */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tt *t = conn_sack(true, 10);
        assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 10 * SMSS), 10 * SMSS);
        tt_drain(t);
        for (int k = 0; k < 5; k++) {
            ack_sack(t, 1, bad[i].n, bad[i].b);
            const struct tev *ev = last_event(t, TEV_SACK);
            assert_non_null(ev);
            assert_int_equal(ev->u.sack.what, TEV_SACK_IGNORED);
            assert_string_equal(ev->u.sack.reason, bad[i].reason);
        }
        /* five identical pure ACKs are plain duplicate ACKs (NewReno), but
         * nothing was SACKed: the scoreboard is empty */
        assert_int_equal(tt_status(t).cc_phase, TCP_CC_RECOVERY);
        assert_string_equal(last_event(t, TEV_CC)->u.cc.cause, "dupack");
        tt_free(t);
    }
}

/* RFC 2018 §8: after a retransmission timeout the SACKed bits are
 * forgotten, so recovery starts from SND.UNA again. */
static void test_rfc2018_timeout_forgets_the_scoreboard(void **state)
{
    struct tt *t = conn_sack(true, 4);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, bulk, 4 * SMSS), 4 * SMSS);
    tt_drain(t);
    const uint32_t blk[][2] = {{SEG(2), SEG(4)}};
    ack_sack(t, 1, 1, blk);
    assert_true(tt_wait_output(t, 10 * TT_SEC) != TCP_TIME_NEVER);
    tt_expect(t, TCP_ACK, SEG(0), 1, SMSS); /* the timeout's retransmission */
    assert_int_equal(tt_status(t).cc_phase, TCP_CC_LOSS);
    /* the receiver now says 0 arrived and 2-3 are held: go-back-N skips them */
    const uint32_t again[][2] = {{SEG(2), SEG(4)}};
    ack_sack(t, SEG(1), 1, again);
    tt_expect(t, TCP_ACK, SEG(1), 1, SMSS);
    tt_expect_nothing(t);
    tt_in(t, TCP_ACK, 1, SEG(4), NULL);
    tt_expect_nothing(t);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6675_update_merges_blocks_and_counts_only_new_bytes),
        cmocka_unit_test(test_rfc6675_update_is_wrap_safe),
        cmocka_unit_test(test_rfc6675_islost_after_three_segments_or_three_ranges_above),
        cmocka_unit_test(test_rfc6675_setpipe_counts_what_is_still_in_the_network),
        cmocka_unit_test(test_rfc6675_nextseg_rules_in_order),
        cmocka_unit_test(test_rfc2018_sack_permitted_offered_in_syn_and_agreed),
        cmocka_unit_test(test_rfc2018_no_sack_unless_both_syns_said_so),
        cmocka_unit_test(test_rfc2018_socket_option_turns_sack_off_for_one_socket),
        cmocka_unit_test(test_rfc2018_synack_carries_sack_permitted_only_if_the_syn_did),
        cmocka_unit_test(test_rfc2018_first_block_holds_the_most_recent_segment),
        cmocka_unit_test(test_rfc2883_dsack_reports_a_duplicate_below_rcv_nxt_once),
        cmocka_unit_test(test_rfc2883_dsack_of_out_of_order_data_names_its_block_second),
        cmocka_unit_test(test_rfc2883_dsack_received_is_an_event_not_a_loss),
        cmocka_unit_test(test_rfc3708_dsack_undoes_spurious_fast_retransmit),
        cmocka_unit_test(test_rfc3708_no_undo_unless_every_retransmission_is_dsacked),
        cmocka_unit_test(test_rfc6675_three_holes_repaired_in_one_round_trip),
        cmocka_unit_test(test_rfc8985_lost_retransmission_found_by_later_sacks),
        cmocka_unit_test(test_rfc2018_untrustworthy_blocks_are_ignored_with_a_reason),
        cmocka_unit_test(test_rfc2018_timeout_forgets_the_scoreboard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
