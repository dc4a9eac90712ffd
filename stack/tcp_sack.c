/*
 * tcp_sack.c — selective acknowledgment: the blocks a receiver reports
 * (RFC 2018, D-SACK RFC 2883) and the scoreboard a sender keeps to recover
 * from several losses in one round trip (RFC 6675).
 *
 * SACK is agreed in the SYNs (tcp_in.c : tcp_take_syn_options, RFC 2018
 * §2). Then:
 *   receiver  tcp_in.c notes each out-of-order and each duplicate segment
 *             here; tcp_out.c asks tcp_sack_fill_option() for the blocks of
 *             every ACK it sends: a D-SACK first, then the block holding the
 *             most recently received segment, then the others (RFC 2018 §4).
 *   sender    every ACK's blocks are checked (tcp_sack_check_blocks; what
 *             cannot be trusted is ignored with a TEV_SACK event and never
 *             touches cwnd) and merged into the scoreboard (Update). The
 *             functions named after RFC 6675 §4 — IsLost, SetPipe, NextSeg —
 *             read only the scoreboard and the sequence numbers they are
 *             given, so a test can call them directly. tcp_out.c's loss
 *             recovery sends while cwnd - pipe >= 1 SMSS (RFC 6675 §5).
 *
 * All sequence numbers are absolute; a SACK block is [left, right), right
 * being the first byte not held.
 */
#include <string.h>

#include "tcp_internal.h"

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* ==== the sender: RFC 6675 §4 on the scoreboard ============================ */

/* Remove range i, keeping the array sorted. */
static void sb_remove(struct tcp_scoreboard *sb, unsigned i)
{
    memmove(&sb->r[i], &sb->r[i + 1], (sb->n - i - 1) * sizeof sb->r[0]);
    sb->n--;
}

/* Bytes of [l, r) already in the scoreboard. */
static uint32_t sb_covered(const struct tcp_scoreboard *sb, uint32_t l, uint32_t r)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < sb->n; i++) {
        uint32_t a = seq_max(l, sb->r[i].left), b = seq_min(r, sb->r[i].right);
        if (seq_lt(a, b))
            n += b - a;
    }
    return n;
}

/* Merge one block: every range it touches or overlaps becomes one. */
static uint32_t sb_add(struct tcp_scoreboard *sb, uint32_t l, uint32_t r)
{
    uint32_t fresh = (r - l) - sb_covered(sb, l, r);
    unsigned i = 0;
    while (i < sb->n && seq_lt(sb->r[i].right, l))
        i++; /* ranges wholly below, not touching */
    while (i < sb->n && seq_leq(sb->r[i].left, r)) {
        l = seq_min(l, sb->r[i].left);
        r = seq_max(r, sb->r[i].right);
        sb_remove(sb, i);
    }
    if (sb->n == TCP_SCOREBOARD_MAX) {
        if (i == sb->n)
            return 0; /* full, and this is the highest: forget it */
        sb->n--;      /* forget the highest range instead */
    }
    memmove(&sb->r[i + 1], &sb->r[i], (sb->n - i) * sizeof sb->r[0]);
    sb->r[i].left = l;
    sb->r[i].right = r;
    sb->n++;
    return fresh;
}

/* "Update (): Given the information provided in an ACK, each octet that is
 * cumulatively ACKed or SACKed should be marked accordingly in the
 * scoreboard data structure" (RFC 6675 §4). */
uint32_t tcp_sack_update(struct tcp_scoreboard *sb, const struct wire_sack_block *b, unsigned n,
                         uint32_t snd_una)
{
    uint32_t fresh = 0;
    tcp_sack_cumulative_ack(sb, snd_una);
    for (unsigned k = 0; k < n; k++) {
        uint32_t l = seq_max(b[k].left, snd_una);
        if (seq_lt(l, b[k].right))
            fresh += sb_add(sb, l, b[k].right);
    }
    return fresh;
}

void tcp_sack_cumulative_ack(struct tcp_scoreboard *sb, uint32_t snd_una)
{
    while (sb->n && seq_leq(sb->r[0].right, snd_una))
        sb_remove(sb, 0);
    if (sb->n && seq_lt(sb->r[0].left, snd_una))
        sb->r[0].left = snd_una;
}

bool tcp_sack_is_sacked(const struct tcp_scoreboard *sb, uint32_t seq)
{
    for (unsigned i = 0; i < sb->n; i++)
        if (seq_in_range(seq, sb->r[i].left, sb->r[i].right))
            return true;
    return false;
}

/* "IsLost (SeqNumber): This routine returns whether the given sequence
 * number is considered to be lost. The routine returns true when either
 * DupThresh discontiguous SACKed sequences have arrived above 'SeqNumber'
 * or more than (DupThresh - 1) * SMSS bytes with sequence numbers greater
 * than 'SeqNumber' have been SACKed." */
bool tcp_sack_is_lost(const struct tcp_scoreboard *sb, uint32_t seq, uint32_t smss)
{
    unsigned ranges = 0;
    uint32_t bytes = 0;
    for (unsigned i = 0; i < sb->n; i++) {
        if (seq_leq(sb->r[i].right, seq))
            continue;
        ranges++;
        bytes += sb->r[i].right - seq_max(sb->r[i].left, seq + 1);
    }
    return ranges >= TCP_SACK_DUPTHRESH || bytes > (TCP_SACK_DUPTHRESH - 1) * smss;
}

/* Where IsLost() turns true going down: every unSACKed byte below the
 * returned sequence number is lost, none above. It is the left edge of the
 * lowest of the highest ranges that together make IsLost() true (a hole
 * below them has exactly those ranges above it); snd_una if none do. */
static uint32_t sb_lost_below(const struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t smss)
{
    uint32_t bytes = 0;
    for (unsigned j = sb->n; j-- > 0;) {
        bytes += sb->r[j].right - sb->r[j].left;
        if (sb->n - j >= TCP_SACK_DUPTHRESH || bytes > (TCP_SACK_DUPTHRESH - 1) * smss)
            return sb->r[j].left;
    }
    return snd_una;
}

/* "SetPipe (): ... The routine traverses the sequence space from HighACK to
 * HighData and MUST set the 'pipe' variable to an estimate of the number of
 * octets that are currently in transit between the TCP sender and the TCP
 * receiver. After initializing pipe to zero, the following steps are taken
 * for each octet 'S1' in the sequence space between HighACK and HighData
 * that has not been SACKed: (a) If IsLost (S1) returns false: Pipe is
 * incremented by 1 octet. ... (b) If S1 <= HighRxt: Pipe is incremented by
 * 1 octet." Counted per hole rather than per octet: a hole is either wholly
 * lost or not (sb_lost_below). */
uint32_t tcp_sack_set_pipe(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_max,
                           uint32_t smss)
{
    uint32_t lost_below = sb_lost_below(sb, snd_una, smss);
    uint32_t high_rxt = seq_max(sb->high_rxt, snd_una);
    uint32_t pipe = 0, a = snd_una;
    for (unsigned i = 0; i <= sb->n; i++) {
        uint32_t b = i < sb->n ? sb->r[i].left : snd_max;
        if (seq_lt(a, b)) {
            if (seq_geq(a, lost_below))
                pipe += b - a; /* (a) not lost: still in the network */
            if (seq_gt(high_rxt, a))
                pipe += seq_min(b, high_rxt) - a; /* (b) retransmitted */
        }
        if (i < sb->n)
            a = sb->r[i].right;
    }
    sb->pipe = pipe;
    return pipe;
}

/* The first byte at or above `from` that is not SACKed, and where the hole
 * it starts ends (the next SACKed range, or snd_max). */
static uint32_t sb_next_hole(const struct tcp_scoreboard *sb, uint32_t from, uint32_t snd_max,
                             uint32_t *hole_end)
{
    for (unsigned i = 0; i < sb->n; i++) {
        if (seq_leq(sb->r[i].right, from))
            continue;
        if (seq_lt(from, sb->r[i].left)) {
            *hole_end = sb->r[i].left;
            return from;
        }
        from = sb->r[i].right; /* inside range i: skip it */
    }
    *hole_end = snd_max;
    return from;
}

/* ---- lost retransmissions ------------------------------------------------
 *
 * RFC 6675 retransmits each hole once per recovery: NextSeg only looks
 * above HighRxt. A retransmission lost again waits for the timer. The rule
 * here, Linux's "lost retransmit" detection, and RACK's (RFC 8985) idea
 * that loss is judged by what was sent later: each retransmission is
 * remembered with SND.MAX at the time it was sent (its fence). The path
 * delivers in order, save reordering; so when data sent after the fence
 * has been SACKed — as much as IsLost() needs above a byte (DupThresh
 * segments or ranges), for the same tolerance of reordering — while the
 * retransmission has not, the retransmission was lost too. It goes again
 * ahead of NextSeg's own rules (HighRxt is not moved back), with a new
 * fence. No further cwnd reduction: it is the same loss event (as Linux
 * and RACK). SetPipe still counts the lost copy until it is sent again (a
 * conservative pipe). */

void tcp_sack_watch_rtx(struct tcp_scoreboard *sb, uint32_t left, uint32_t right, uint32_t fence)
{
    if (!seq_lt(left, right) || sb->n_rtx == TCP_SACK_RTX_WATCH)
        return; /* not watched: waits for the timer, as without this rule */
    sb->rtx[sb->n_rtx++] = (struct tcp_sack_rtx){left, right, fence, false};
}

uint32_t tcp_sack_find_lost_rtx(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t smss)
{
    uint32_t marked = 0;
    unsigned keep = 0;
    for (unsigned i = 0; i < sb->n_rtx; i++) {
        struct tcp_sack_rtx r = sb->rtx[i];
        uint32_t l = seq_max(r.left, snd_una);
        if (!seq_lt(l, r.right) || sb_covered(sb, l, r.right) == r.right - l)
            continue; /* arrived: forget it */
        if (!r.lost && tcp_sack_is_lost(sb, r.fence - 1, smss)) {
            r.lost = true;
            marked |= 1u << keep;
        }
        sb->rtx[keep++] = r;
    }
    sb->n_rtx = (uint8_t)keep;
    return marked;
}

/* The first watched retransmission marked lost: its first unSACKed
 * segment's worth, sent again now with a new fence. */
static bool sb_take_lost_rtx(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_max,
                             uint32_t smss, uint32_t *seq, uint32_t *len)
{
    for (unsigned i = 0; i < sb->n_rtx; i++) {
        struct tcp_sack_rtx *r = &sb->rtx[i];
        if (!r->lost)
            continue;
        uint32_t hole_end;
        uint32_t from = sb_next_hole(sb, seq_max(r->left, snd_una), snd_max, &hole_end);
        if (!seq_lt(from, r->right)) {
            r->lost = false; /* SACKed meanwhile */
            continue;
        }
        *seq = from;
        *len = min_u32(min_u32(seq_min(hole_end, r->right) - from, smss), r->right - from);
        r->fence = snd_max;
        r->lost = false;
        return true;
    }
    return false;
}

/* RFC 6675 §4 NextSeg itself, rules (1)-(4). */
static enum tcp_sack_next tcp_sack_next_seg_6675(struct tcp_scoreboard *sb, uint32_t snd_una,
                                                 uint32_t snd_max, uint32_t recover,
                                                 uint32_t smss, bool new_data, uint32_t *seq,
                                                 uint32_t *len)
{
    uint32_t high_sacked = sb->n ? sb->r[sb->n - 1].right : snd_una;
    uint32_t hole_end;
    uint32_t s2 = sb_next_hole(sb, seq_max(sb->high_rxt, snd_una), snd_max, &hole_end);
    bool below_sacked = seq_lt(s2, high_sacked);
    /* (1) "If there exists a smallest unSACKed sequence number 'S2' that
     * meets the following three criteria for determining loss ... (1.a) S2
     * is greater than HighRxt. (1.b) S2 is less than the highest octet
     * covered by any received SACK. (1.c) IsLost (S2) returns true." */
    if (below_sacked && tcp_sack_is_lost(sb, s2, smss)) {
        *seq = s2;
        *len = min_u32(hole_end - s2, smss);
        return TCP_SACK_NEXT_RTX;
    }
    /* (2) "If no sequence number 'S2' per rule (1) exists but there exists
     * available unsent data and the receiver's advertised window allows,
     * the sequence range of one segment of up to SMSS octets of previously
     * unsent data starting with sequence number HighData+1 MUST be
     * returned." */
    if (new_data)
        return TCP_SACK_NEXT_NEW;
    /* (3) "If the conditions for rules (1) and (2) fail, but there exists an
     * unSACKed sequence number 'S3' meeting the following criteria ... (3.a)
     * The sequence number 'S3' is greater than 'HighRxt'. (3.b) The sequence
     * number 'S3' is less than the highest octet covered by any received
     * SACK." */
    if (below_sacked) {
        *seq = s2;
        *len = min_u32(hole_end - s2, smss);
        return TCP_SACK_NEXT_RTX;
    }
    /* (4) "If the conditions for (1), (2), and (3) fail, but there exists
     * outstanding unSACKed data, we provide the opportunity for a single
     * "rescue" retransmission per entry into loss recovery. If HighACK is
     * greater than RescueRxt (or RescueRxt is undefined), then one segment
     * of upto SMSS octets that MUST include the highest outstanding unSACKed
     * sequence number SHOULD be returned, and RescueRxt set to
     * RecoveryPoint. HighRxt MUST NOT be updated." */
    if (sb->rescue_set && !seq_gt(snd_una, sb->rescue_rxt))
        return TCP_SACK_NEXT_NONE;
    uint32_t top = snd_max, below = snd_una;
    if (sb->n && sb->r[sb->n - 1].right == snd_max) {
        top = sb->r[sb->n - 1].left;
        below = sb->n > 1 ? sb->r[sb->n - 2].right : snd_una;
    } else if (sb->n) {
        below = sb->r[sb->n - 1].right;
    }
    /* Not if that byte went again in this recovery already (<= HighRxt):
     * the rescue is for a tail nobody has SACKed past, not a second copy. */
    if (!seq_lt(below, top) || !seq_gt(top, seq_max(sb->high_rxt, snd_una)))
        return TCP_SACK_NEXT_NONE;
    *len = min_u32(top - below, smss);
    *seq = top - *len;
    sb->rescue_set = true;
    sb->rescue_rxt = recover;
    return TCP_SACK_NEXT_RESCUE;
}

/* "NextSeg (): ... the next segment for transmission", RFC 6675 §4 rules
 * (1)-(4); (2) is new data, which the caller sends. Before them, a
 * retransmission found lost again (above). Every retransmission it
 * returns is watched from now on. */
enum tcp_sack_next tcp_sack_next_seg(struct tcp_scoreboard *sb, uint32_t snd_una,
                                     uint32_t snd_max, uint32_t recover, uint32_t smss,
                                     bool new_data, uint32_t *seq, uint32_t *len)
{
    if (sb_take_lost_rtx(sb, snd_una, snd_max, smss, seq, len))
        return TCP_SACK_NEXT_RERTX;
    enum tcp_sack_next next =
        tcp_sack_next_seg_6675(sb, snd_una, snd_max, recover, smss, new_data, seq, len);
    if (next == TCP_SACK_NEXT_RTX || next == TCP_SACK_NEXT_RESCUE)
        tcp_sack_watch_rtx(sb, *seq, *seq + *len, snd_max);
    return next;
}

/* ==== the sender: what an ACK's blocks may be trusted with ================== */

static bool blocks_overlap(const struct wire_sack_block *a, const struct wire_sack_block *b)
{
    return seq_lt(a->left, b->right) && seq_lt(b->left, a->right);
}

/* RFC 2883 §4: "If the first SACK block is below the cumulative ACK, or
 * is contained in the second block, it is a D-SACK". Any other block must
 * lie in [SEG.ACK, SND.MAX] (RFC 2018 §3: blocks report data received
 * beyond the cumulative ACK, so data we sent), be non-empty, and not
 * overlap another: a receiver never reports the same byte twice. */
const char *tcp_sack_check_blocks(const struct wire_tcp_opts *o, uint32_t seg_ack,
                                  uint32_t snd_una, uint32_t snd_max, bool *dsack)
{
    const struct wire_sack_block *b = o->sack;
    unsigned n = o->n_sack;
    *dsack = false;
    for (unsigned k = 0; k < n; k++)
        if (!seq_lt(b[k].left, b[k].right))
            return "empty_block";
    if (seq_leq(b[0].right, seg_ack) ||
        (n >= 2 && seq_geq(b[0].left, b[1].left) && seq_leq(b[0].right, b[1].right))) {
        *dsack = true;
        /* a D-SACK of data we never sent is as bogus as any other block */
        if (seq_gt(b[0].right, snd_max) || seq_lt(b[0].left, snd_una - (1u << 30)))
            return "out_of_window";
    }
    for (unsigned k = *dsack ? 1 : 0; k < n; k++) {
        if (seq_lt(b[k].left, seg_ack) || seq_gt(b[k].right, snd_max))
            return "out_of_window";
        for (unsigned j = k + 1; j < n; j++)
            if (blocks_overlap(&b[k], &b[j]))
                return "overlapping";
    }
    return NULL;
}

static void tcp_sack_event(struct stack *s, const struct tcp_conn *c, enum tev_sack_what what,
                           const char *reason, const struct wire_sack_block *b)
{
    if (!stack_observed(s))
        return;
    struct tev ev;
    stack_event_init(s, &ev, TEV_SACK, c);
    ev.u.sack.what = what;
    ev.u.sack.reason = reason;
    ev.u.sack.left = b->left;
    ev.u.sack.right = b->right;
    stack_emit(s, &ev);
}

uint32_t tcp_sack_on_ack(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg)
{
    const struct wire_tcp_opts *o = &seg->th->opts;
    if (o->n_sack == 0)
        return 0;
    if (!c->sack_ok) {
        /* RFC 2018 §2: no SACK option unless both SYNs said SACK-permitted. */
        tcp_sack_event(s, c, TEV_SACK_IGNORED, "not_negotiated", &o->sack[0]);
        return 0;
    }
    bool dsack;
    const char *why = tcp_sack_check_blocks(o, seg->ack, c->snd_una, c->snd_max, &dsack);
    if (why) {
        tcp_sack_event(s, c, TEV_SACK_IGNORED, why, &o->sack[0]);
        return 0;
    }
    if (dsack) { /* reported; RFC 3708: was a retransmission unnecessary? */
        tcp_sack_event(s, c, TEV_SACK_DSACK, NULL, &o->sack[0]);
        tcp_cc_on_dsack(s, c, o->sack[0].left, o->sack[0].right);
    }
    unsigned first = dsack ? 1 : 0;
    uint32_t una = seq_gt(seg->ack, c->snd_una) ? seg->ack : c->snd_una;
    uint32_t fresh = tcp_sack_update(&c->sb, o->sack + first, o->n_sack - first, una);
    uint32_t lost = c->sack_recovery && fresh ? tcp_sack_find_lost_rtx(&c->sb, una, c->mss) : 0;
    if (lost) {
        for (unsigned i = 0; i < c->sb.n_rtx; i++)
            if (lost & (1u << i)) {
                struct wire_sack_block b = {c->sb.rtx[i].left, c->sb.rtx[i].right};
                tcp_sack_event(s, c, TEV_SACK_LOST_RTX, NULL, &b);
            }
    }
    return fresh;
}

/* RFC 6675 §5, on the third duplicate ACK or when IsLost(HighACK + 1):
 * "(4.1) RecoveryPoint = HighData ... (4.2) ssthresh = cwnd = (FlightSize
 * / 2) ... (4.3) Retransmit the first data segment presumed dropped ... set
 * both HighRxt and RescueRxt to the highest sequence number in the
 * retransmitted segment." Step (4.4), more while cwnd - pipe >= 1 SMSS, is
 * tcp_output()'s recovery loop. */
void tcp_sack_enter_recovery(struct stack *s, struct tcp_conn *c)
{
    c->in_recovery = 1;
    c->sack_recovery = 1;
    c->recover = c->snd_max;
    c->sb.high_rxt = c->snd_una;
    c->sb.rescue_set = false;
    c->sb.n_rtx = 0;
    tcp_sack_set_pipe(&c->sb, c->snd_una, c->snd_max, c->mss);
    tcp_cc_enter_recovery(s, c);
    uint32_t n = tcp_retransmit_first(s, c);
    tcp_sack_watch_rtx(&c->sb, c->snd_una, c->snd_una + n, c->snd_max);
    c->sb.high_rxt = c->snd_una + n;
    c->sb.rescue_rxt = c->sb.high_rxt;
    c->sb.rescue_set = true;
}

/* RFC 2018 §8: "after a retransmit timeout the data sender SHOULD turn off
 * all of the SACKed bits" (the receiver may have reneged); RFC 6675 §5.1
 * keeps that. Blocks that arrive afterwards are new knowledge and are used. */
void tcp_sack_on_rto(struct tcp_conn *c)
{
    c->sack_recovery = 0;
    c->sb.n = 0;
    c->sb.high_rxt = c->snd_una;
    c->sb.rescue_set = false;
    c->sb.n_rtx = 0;
}

/* ==== the receiver: RFC 2018 §4, RFC 2883 §4 ================================= */

/* "The first SACK block (i.e., the one immediately following the kind and
 * length fields in the option) MUST specify the contiguous block of data
 * containing the segment which triggered this ACK". Remember a byte of each
 * recent arrival, newest first. */
void tcp_sack_rcv_note_ooo(struct tcp_conn *c, uint32_t seq)
{
    struct tcp_sack_rcv *r = &c->srcv;
    unsigned n = r->n_recent < WIRE_SACK_MAX_BLOCKS ? r->n_recent : WIRE_SACK_MAX_BLOCKS - 1;
    memmove(&r->recent[1], &r->recent[0], n * sizeof r->recent[0]);
    r->recent[0] = seq;
    r->n_recent = (uint8_t)(n + 1);
}

/* RFC 2883 §4: "If the D-SACK block reports a duplicate contiguous sequence
 * from a (possibly larger) block of data in the receiver's data queue above
 * the cumulative acknowledgement, then the second SACK block in that SACK
 * option should specify that (possibly larger) block"; "each duplicate
 * contiguous sequence of data received is reported in at most one D-SACK
 * block": the next ACK carries it, once. */
void tcp_sack_rcv_note_dup(struct tcp_conn *c, uint32_t seq, uint32_t end)
{
    if (!c->sack_ok || !seq_lt(seq, end))
        return;
    c->srcv.dsack = true;
    c->srcv.dsack_block.left = seq;
    c->srcv.dsack_block.right = end;
}

/* Which held interval (tcp_asm, relative to RCV.NXT) contains `seq`, or -1. */
static int asm_find(const struct tcp_conn *c, uint32_t seq)
{
    for (unsigned i = 0; i < c->ooo.n; i++) {
        uint32_t l = c->rcv_nxt + c->ooo.iv[i].off;
        if (seq_in_range(seq, l, l + c->ooo.iv[i].len))
            return (int)i;
    }
    return -1;
}

static void add_block(struct wire_tcp_opts *o, uint32_t l, uint32_t r)
{
    for (unsigned k = 0; k < o->n_sack; k++)
        if (o->sack[k].left == l && o->sack[k].right == r)
            return;
    if (o->n_sack < WIRE_SACK_MAX_BLOCKS) {
        o->sack[o->n_sack].left = l;
        o->sack[o->n_sack].right = r;
        o->n_sack++;
    }
}

static void add_interval(const struct tcp_conn *c, struct wire_tcp_opts *o, int i)
{
    uint32_t l = c->rcv_nxt + c->ooo.iv[i].off;
    add_block(o, l, l + c->ooo.iv[i].len);
}

/* RFC 2018 §4: the D-SACK first (RFC 2883), then the block of the most
 * recent arrival, then "the SACK option SHOULD be filled out by repeating
 * the most recently reported SACK blocks ... that are not subsets of a SACK
 * block already included", then any other held block. wire_tcp_build cuts
 * what does not fit from the end. */
void tcp_sack_fill_option(struct tcp_conn *c, struct wire_tcp_opts *o)
{
    struct tcp_sack_rcv *r = &c->srcv;
    o->n_sack = 0;
    if (r->dsack) {
        add_block(o, r->dsack_block.left, r->dsack_block.right);
        int i = asm_find(c, r->dsack_block.left);
        if (i >= 0)
            add_interval(c, o, i);
        r->dsack = false;
    }
    unsigned keep = 0;
    for (unsigned k = 0; k < r->n_recent; k++) {
        int i = asm_find(c, r->recent[k]);
        if (i < 0)
            continue; /* now in order: forget it */
        r->recent[keep++] = r->recent[k];
        add_interval(c, o, i);
    }
    r->n_recent = (uint8_t)keep;
    for (unsigned i = 0; i < c->ooo.n; i++)
        add_interval(c, o, (int)i);
}
