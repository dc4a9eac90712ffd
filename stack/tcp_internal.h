/*
 * tcp_internal.h — the engine's private types: the stack, the connection
 * block (RFC 9293 §3.3.1 "Transmission Control Block"), the segment being
 * processed, and the functions the engine's files share.
 *
 * Nothing outside stack/ includes this file (the smoke test does, to check
 * SipHash against its published vector). Observers read the event stream.
 *
 * Files of the engine, in the order RFC 9293 §3.10 describes them:
 *   stack.c       stack_new/free, stack_input (IPv4 → ICMP echo / TCP demux)
 *   conn_table.c  4-tuple hash, listeners by port, descriptors, timer heap, ports
 *   tcp_conn.c    connection blocks: create, free, tcp_set_state()
 *   tcp_user.c    §3.10.1-3.10.6 user calls (socket API)
 *   tcp_in.c      §3.10.7 SEGMENT ARRIVES
 *   tcp_out.c     segment output, send queue, retransmission, window updates
 *   tcp_timer.c   §3.10.8 timeouts and the RFC 6298 RTT estimator
 *   tcp_ts.c      RFC 7323 timestamps: the TSval clock, RTTM, PAWS
 *   tcp_cc.c      RFC 5681 congestion control (NewReno, RFC 6582)
 *   tcp_cubic.c   RFC 9438 CUBIC, the second congestion control algorithm
 *   tcp_sack.c    RFC 2018 SACK blocks we send, RFC 6675 scoreboard we keep
 *   tcp_rst.c     every rule about sending and accepting RST
 *   isn.c         RFC 6528 initial sequence numbers (SipHash-2-4)
 *   tcp_tw.c      TIME_WAIT records: what a closed connection keeps for 2MSL
 *   rbuf.c        ring buffers and the out-of-order assembler
 *   stack_mem.c   every allocation, counted; the ring budget
 */
#ifndef TCPLAB_TCP_INTERNAL_H
#define TCPLAB_TCP_INTERNAL_H

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "seq.h"
#include "tcp.h"
#include "tcp_state.h"
#include "wire.h"

/* ---- ring buffer (rbuf.c) ---------------------------------------------- */

/* A byte ring. `head` is the offset of the oldest byte, `len` how many are
 * held. The send queue keeps bytes from SND.UNA on; the receive queue keeps
 * in-order bytes not yet read, and out-of-order bytes beyond them. */
struct rbuf {
    uint8_t *buf; /* NULL until the connection first needs it */
    uint32_t cap, head, len;
};

struct stack;
/* Make the ring (cap bytes, through stack_mem_ring): 0, -ENOBUFS when the
 * rings of all connections would pass cfg.max_ring_total, or -ENOMEM. */
int rbuf_init(struct stack *s, struct rbuf *r, uint32_t cap);
void rbuf_release(struct stack *s, struct rbuf *r);
/* Position in buf of the byte `off` past head (off <= cap, head < cap). */
static inline uint32_t rbuf_pos(const struct rbuf *r, uint32_t off)
{
    uint32_t p = r->head + off;
    return p >= r->cap ? p - r->cap : p;
}
/* Copy in at offset `off` from head (off + n <= cap); len is not changed.
 * Inline: every in-order segment's text comes this way. */
static inline void rbuf_write_at(struct rbuf *r, uint32_t off, const void *src, uint32_t n)
{
    uint32_t p = rbuf_pos(r, off);
    uint32_t first = r->cap - p < n ? r->cap - p : n;
    wire_copy(r->buf + p, src, first);
    if (n > first)
        wire_copy(r->buf, (const uint8_t *)src + first, n - first);
}
void rbuf_read_at(const struct rbuf *r, uint32_t off, void *dst, uint32_t n);
/* Append at the tail; returns how many bytes fitted. */
uint32_t rbuf_append(struct rbuf *r, const void *src, uint32_t n);
/* Pointer to n contiguous bytes at `off`, or NULL if they wrap around. */
const uint8_t *rbuf_peek(const struct rbuf *r, uint32_t off, uint32_t n);
void rbuf_consume(struct rbuf *r, uint32_t n);

/* Out-of-order assembler: which byte ranges beyond RCV.NXT are already held
 * in the receive ring. Offsets are relative to RCV.NXT, intervals sorted and
 * disjoint. A handful of holes is plenty; more and the segment is dropped
 * (the sender will retransmit it). */
#define TCP_ASM_MAX 8
struct tcp_asm {
    uint8_t n;
    struct {
        uint32_t off, len;
    } iv[TCP_ASM_MAX];
};
/* Remember [off, off+len). Returns 0, or -1 when there is no room. */
int tcp_asm_add(struct tcp_asm *a, uint32_t off, uint32_t len);
/* `n` bytes were placed at RCV.NXT: returns how many bytes are now in order
 * (n plus any held ranges that became contiguous) and rebases the rest. */
uint32_t tcp_asm_advance(struct tcp_asm *a, uint32_t n);

/* ---- RTT estimator, RFC 6298 (tcp_timer.c) ------------------------------ */

struct tcp_rtt {
    uint64_t srtt_us;   /* smoothed round-trip time */
    uint64_t rttvar_us; /* round-trip time variation */
    uint64_t rto_us;    /* current retransmission timeout (backed off) */
    bool measured;      /* a first sample has been taken */
};
void tcp_rtt_init_2_1(struct tcp_rtt *r, const struct stack_config *cfg);
void tcp_rtt_first_sample_2_2(struct tcp_rtt *r, uint64_t rtt_us, const struct stack_config *cfg);
void tcp_rtt_next_sample_2_3(struct tcp_rtt *r, uint64_t rtt_us, const struct stack_config *cfg);
void tcp_rtt_sample(struct tcp_rtt *r, uint64_t rtt_us, const struct stack_config *cfg);
void tcp_rtt_backoff_5_5(struct tcp_rtt *r, const struct stack_config *cfg);
void tcp_rtt_after_lost_syn_5_7(struct tcp_rtt *r, const struct stack_config *cfg);

/* ---- congestion control, RFC 5681 / RFC 6582 (tcp_cc.c) ------------------ */

struct tcp_conn;

/* What differs between congestion control algorithms: NewReno (tcp_cc.c)
 * and CUBIC, RFC 9438 (tcp_cubic.c). Loss detection, fast retransmit, fast
 * recovery and the loss window are the same for all and live in tcp_cc.c. */
struct tcp_cc_ops {
    const char *name; /* "newreno", "cubic" */
    /* RFC 5681 §3.1: grow cwnd for `acked` newly acknowledged bytes, outside
     * fast recovery (slow start below ssthresh, avoidance above). `now_us`
     * is the stack's clock (CUBIC's window is a function of time). */
    void (*cong_avoid)(struct tcp_conn *c, uint32_t acked, uint64_t now_us);
    /* ssthresh after a loss, given FlightSize (RFC 5681 (4): half of it;
     * RFC 9438 §4.6: β_cubic of it). May remember the loss (CUBIC: W_max). */
    uint32_t (*ssthresh)(struct tcp_conn *c, uint32_t flight);
    /* After ssthresh() on a retransmission timeout (NULL: nothing more;
     * CUBIC: RFC 9438 §4.8). */
    void (*on_timeout)(struct tcp_conn *c);
};
extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;

/* CUBIC's state (RFC 9438 §4.1 names), in bytes and microseconds. */
struct tcp_cubic {
    uint32_t w_max;       /* W_max: cwnd just before the last reduction (0: none yet) */
    uint32_t cwnd_prior;  /* cwnd when ssthresh was last set (§4.3's alpha switch) */
    uint32_t cwnd_epoch;  /* cwnd at t_epoch */
    uint32_t origin;      /* the curve's plateau this epoch: W_max, or cwnd_epoch above it */
    uint32_t w_est;       /* W_est, the Reno-friendly estimate (§4.3) */
    uint64_t t_epoch_us;  /* t_epoch: when this congestion avoidance stage began */
    uint64_t k_us;        /* K (Figure 2): time to climb back to the origin */
    uint64_t est_carry;   /* remainders, so no fraction of a byte is lost */
    uint64_t grow_carry;
    bool in_epoch;        /* a congestion avoidance stage is running */
    bool after_timeout;   /* §4.8: the next stage has K = 0, W_max = cwnd_epoch */
};
/* Figure 2, K = cubic_root((W_max - cwnd_epoch) / C) in microseconds. */
uint64_t tcp_cubic_k_us(uint32_t w_max, uint32_t cwnd_epoch, uint32_t smss);
/* Figure 1, W_cubic(t) = C * (t - K)^3 + W_max in bytes (t, K in us). */
int64_t tcp_cubic_w_cubic(uint32_t w_max, uint64_t k_us, uint64_t t_us, uint32_t smss);

/* RFC 3708: what a congestion response took away, kept until it is known
 * whether the retransmissions it answered were needed (tcp_cc.c). */
struct tcp_cc_undo {
    uint32_t cwnd, ssthresh;    /* before the reduction */
    uint32_t w_max, cwnd_prior; /* CUBIC's memory of the previous loss, before it */
    uint32_t marker;            /* SND.UNA at the loss event: retransmissions lie above it */
    uint32_t rtx_end;           /* end of the furthest byte retransmitted since */
    uint32_t rtx_bytes;         /* bytes retransmitted since and not yet D-SACKed */
    bool armed;                 /* a reduction that may still be undone */
    bool pending;               /* all D-SACKed while recovering: undo when recovery ends */
};

/* HyStart++ (RFC 9406 §4.2 names) for the initial slow start (tcp_cubic.c). */
struct tcp_hystart {
    bool on;                   /* still the initial slow start, HyStart++ in use */
    bool css;                  /* in Conservative Slow Start */
    bool have_rtt;             /* rtt_us is this ACK's sample, not yet counted */
    uint8_t css_rounds;        /* rounds begun in CSS, the partial first one included */
    uint8_t samples;           /* rttSampleCount */
    uint32_t window_end;       /* windowEnd: the round ends when it is acknowledged */
    uint32_t css_carry;        /* bytes towards CSS's next 1/CSS_GROWTH_DIVISOR */
    uint64_t rtt_us;           /* currRTT */
    uint64_t cur_min_us;       /* currentRoundMinRTT (UINT64_MAX: infinity) */
    uint64_t last_min_us;      /* lastRoundMinRTT */
    uint64_t css_baseline_us;  /* cssBaselineMinRtt */
};

struct tcp_cc {
    const struct tcp_cc_ops *ops; /* NULL: congestion control off (cwnd unlimited) */
    uint32_t cwnd;                /* congestion window, bytes */
    uint32_t ssthresh;            /* slow start threshold, bytes */
    uint32_t acked_in_ca;         /* bytes acknowledged towards the next +SMSS in avoidance */
    uint8_t phase;                /* enum tcp_cc_phase */
    /* what the last TEV_CC said, so only changes are reported */
    uint32_t told_cwnd, told_ssthresh;
    uint8_t told_phase;
    bool told;
    uint64_t last_send_us; /* last time new data was sent (restart after idle, §4.1) */
    struct tcp_cubic cubic; /* used when ops is &tcp_cc_cubic */
    struct tcp_cc_undo undo;
    struct tcp_hystart hystart; /* CUBIC's initial slow start (RFC 9406) */
};

/* ---- SACK, RFC 2018 / RFC 2883 / RFC 6675 (tcp_sack.c) -------------------- */

/* RFC 6675 §2 DupThresh: segments SACKed above a hole before it is lost. */
#define TCP_SACK_DUPTHRESH 3
/* SACKed ranges a sender remembers. More holes than this at once and the
 * highest ranges are forgotten: only less is known, nothing is wrong. */
#define TCP_SCOREBOARD_MAX 32

/* Retransmissions of one recovery watched for being lost again: at most
 * this many at once (more are not watched: they wait for the timer). */
#define TCP_SACK_RTX_WATCH 16

/* A retransmission sent in this recovery, [left, right), when SND.MAX was
 * `fence`: data at or above the fence was sent after it. */
struct tcp_sack_rtx {
    uint32_t left, right, fence;
    bool lost; /* data sent after it was SACKed, it was not: send it again */
};

/* The sender's scoreboard (RFC 6675 §3): what the receiver said it holds
 * beyond SND.UNA (= HighACK), and the recovery variables. */
struct tcp_scoreboard {
    uint8_t n;                                    /* ranges held */
    struct wire_sack_block r[TCP_SCOREBOARD_MAX]; /* SACKed, sorted, disjoint, in (SND.UNA, SND.MAX] */
    uint32_t high_rxt;   /* HighRxt: end of the highest range retransmitted in this recovery */
    uint32_t rescue_rxt; /* RescueRxt (NextSeg rule 4), valid when rescue_set */
    bool rescue_set;
    uint32_t pipe;       /* last SetPipe(): RFC 6675's estimate of bytes in the network */
    uint8_t n_rtx;       /* retransmissions watched (lost-retransmission detection) */
    struct tcp_sack_rtx rtx[TCP_SACK_RTX_WATCH];
};

/* What the receiver remembers to build its SACK option (RFC 2018 §4). */
struct tcp_sack_rcv {
    uint8_t n_recent;
    uint32_t recent[WIRE_SACK_MAX_BLOCKS]; /* a byte of each latest out-of-order arrival, newest first */
    bool dsack;                            /* a duplicate arrived: report it once (RFC 2883) */
    struct wire_sack_block dsack_block;
};

/* NextSeg's answer (RFC 6675 §4). */
enum tcp_sack_next {
    TCP_SACK_NEXT_NONE,  /* nothing may go */
    TCP_SACK_NEXT_RTX,   /* rules (1), (3): retransmit; HighRxt moves to its end */
    TCP_SACK_NEXT_NEW,   /* rule (2): new data */
    TCP_SACK_NEXT_RESCUE, /* rule (4): the rescue retransmission; HighRxt stays */
    TCP_SACK_NEXT_RERTX   /* a retransmission found lost again, sent again; HighRxt stays */
};

/* ---- the connection block (RFC 9293 §3.3.1) ----------------------------- */

#define TCP_HEAP_NONE UINT32_MAX

/* What the 4-tuple table, the timer heap and the TIME_WAIT list hold: the
 * first member of a connection block (struct tcp_conn) and of the compact
 * record a connection in TIME_WAIT becomes (struct tcp_tw, tcp_tw.c), so
 * one table, one heap and one list serve both. `kind` says which it is. */
enum tcp_node_kind { TCP_NODE_CONN, TCP_NODE_TW };
struct tcp_node {
    struct tcp_node *hnext;             /* next in its hash bucket (4-tuple or listener table) */
    struct tcp_node *tw_prev, *tw_next; /* TIME_WAIT entries, oldest first (tcp_limit.c) */
    uint64_t deadline;                  /* the heap's key: its earliest timer, or earlier
                                           (tcp_timer.c: settled when at the top) */
    uint32_t heap_idx;                  /* slot in the stack's timer heap, TCP_HEAP_NONE if none */
    uint8_t kind;                       /* enum tcp_node_kind */
};

struct tcp_conn {
    /* where the block lives */
    struct tcp_node node;      /* first: the table, heap and list link (kind TCP_NODE_CONN) */
    struct tcp_conn *listener; /* passive open not yet accepted: its listening socket */
    struct tcp_conn *qnext;    /* next in the listener's accept queue, or the graveyard */
    int sd;                    /* descriptor; -1 if orphaned or not yet accepted */
    struct tcp_tuple tuple;
    uint64_t timers[TCP_NTIMERS]; /* each timer's deadline, TCP_TIME_NEVER if idle;
                                     node.deadline is the earliest or before it */

    uint8_t state;              /* enum tcp_state */
    unsigned hashed : 1;        /* in the 4-tuple table */
    unsigned bound : 1;         /* holds a reference on tuple.lport */
    unsigned listening : 1;     /* in the listener table */
    unsigned passive : 1;       /* created by a listener (passive OPEN) */
    unsigned dead : 1;          /* waiting in the graveyard to be freed */
    unsigned connected : 1;     /* has reached a synchronized state once */
    unsigned fin_queued : 1;    /* user CLOSE/SHUT_WR: send FIN after the data */
    unsigned rcv_fin : 1;       /* the peer's FIN has been received in order */
    unsigned rcv_fin_held : 1;  /* a FIN arrived out of order: rcv_fin_seq */
    unsigned shut_rd : 1;       /* shutdown(SHUT_RD) */
    unsigned err_taken : 1;     /* the pending error was returned once */
    unsigned ws_ok : 1;         /* window scaling agreed in both SYNs */
    unsigned in_recovery : 1;   /* retransmitting holes up to `recover` */
    unsigned rto_recovery : 1;  /* ... after a timeout: resending from SND.UNA (go-back-N) */
    unsigned sack_ok : 1;       /* SACK-permitted in both SYNs (RFC 2018 §2) */
    unsigned sack_recovery : 1; /* in_recovery by RFC 6675 (the scoreboard), not NewReno */
    unsigned rtt_timing : 1;    /* rtt_seq is being timed */
    unsigned ack_owed : 1;      /* an ACK must go out before we return */
    unsigned ack_held : 1;      /* ... and waits for the batch's end (stack_batch_begin) */
    unsigned in_accept_q : 1;   /* complete, waiting in the listener's accept queue */
    unsigned close_pending : 1; /* CLOSE before ESTABLISHED: FIN once established */
    unsigned opt_keepalive : 1, opt_nodelay : 1, opt_delack : 1;
    unsigned opt_reuseaddr : 1, opt_linger0 : 1;
    unsigned opt_no_sack : 1; /* TCP_OPT_SACK 0: no SACK on this socket */
    /* RFC 9293 §3.8.5 urgent data: SND.UP / RCV.UP, the byte after the last
     * urgent one, valid while snd_urg / rcv_urg. */
    unsigned snd_urg : 1, rcv_urg : 1;
    uint32_t snd_up, rcv_up;
    uint8_t ip_ttl, ip_tos;     /* TTL and Diffserv byte of our segments (IP_TTL, IP_TOS) */
    unsigned oow_acked : 1; /* last_oow_ack_us is valid */
    unsigned ts_ok : 1;     /* RFC 7323 timestamps agreed: both SYNs carried TSopt */
    int err;                /* pending error for the user, -errno, 0 if none */

    /* send sequence variables */
    uint32_t iss;              /* initial send sequence number */
    uint32_t snd_una;          /* oldest unacknowledged sequence number */
    uint32_t snd_nxt;          /* next sequence number to send */
    uint32_t snd_max;          /* highest sequence number sent + 1; after a timeout SND.NXT
                                  goes back to SND.UNA and climbs to it again (go-back-N) */
    uint32_t snd_wnd;          /* send window, bytes (scaled) */
    uint32_t snd_wl1, snd_wl2; /* seq and ack of the segment last used to update snd_wnd */
    uint32_t max_snd_wnd;      /* largest window the peer offered (RFC 5961 §5, SWS) */
    uint32_t fin_seq;          /* sequence number of our FIN, once fin_queued */
    uint32_t recover;          /* retransmit holes until SND.UNA reaches this */
    uint32_t rtx_high;         /* end of the furthest retransmitted range (Karn) */
    /* receive sequence variables */
    uint32_t irs;     /* initial receive sequence number */
    uint32_t rcv_nxt; /* next sequence number expected */
    uint32_t rcv_adv; /* right edge of the window last advertised */
    uint32_t rcv_fin_seq;
    uint16_t mss; /* effective send MSS: payload bytes per segment (TSopt's 12 taken off) */
    uint8_t snd_wscale, rcv_wscale;

    uint32_t sndbuf, rcvbuf; /* buffer sizes (allocated lazily) */
    struct rbuf sndq, rcvq;
    struct tcp_asm ooo;

    struct tcp_rtt rtt;
    struct tcp_cc cc;
    struct tcp_scoreboard sb; /* sender: what the peer SACKed (when sack_ok) */
    struct tcp_sack_rcv srcv; /* receiver: blocks to report (when sack_ok) */
    uint32_t rtt_seq;   /* the sequence number being timed (Karn) */
    uint64_t rtt_start; /* when it was sent */
    uint16_t backoff;   /* consecutive retransmission timeouts */
    uint16_t dupacks;   /* duplicate ACKs in a row */
    uint16_t persist_backoff;
    uint16_t ka_probes;       /* keepalive probes sent without answer */
    uint32_t delack_bytes;    /* bytes received since our last ACK */
    uint64_t last_rcv_us;     /* time of the last segment received (keepalive) */
    uint64_t last_oow_ack_us; /* last ACK sent to an unacceptable segment (RFC 5961 §5, §7) */
    uint64_t ka_idle_us, ka_intvl_us;
    uint32_t ka_cnt;
    uint64_t user_timeout_us;

    /* RFC 7323 timestamps (tcp_ts.c) */
    uint32_t ts_offset;     /* added to the millisecond clock to make our TSval */
    uint32_t ts_recent;     /* TS.Recent: the peer's TSval to echo (§4.3) */
    uint64_t ts_recent_us;  /* when TS.Recent was set (§5.5, the 24-day rule) */
    uint32_t last_ack_sent; /* Last.ACK.sent: the ACK field we last sent (§4.3) */
    uint32_t ts_last_sent;  /* the newest TSval we sent: no echo can be beyond it */

    uint32_t ooo_held; /* bytes held out of order (ooo's ranges), counted in stack.ooo_bytes */

    /* the bare ACK's packet but its changing fields (tcp_out.c); len 0 until
     * the first such ACK, and again when the block is CLOSED */
    struct wire_ack_template ack_tpl;

    /* TIME_WAIT: to be made a record at the end of the call (tcp_tw.c) */
    unsigned tw_pending : 1;
    struct tcp_conn *tw_pending_next;

    /* listeners only */
    uint32_t backlog, syn_q_len, acc_q_len;
    struct tcp_conn *acc_head, *acc_tail;
    uint64_t cookie_last_us; /* when this listener last sent a SYN cookie (+1; 0 never) */
};

/* A connection in TIME_WAIT that no descriptor refers to, kept as only what
 * TIME_WAIT reads (RFC 9293 §3.6.1, §3.10.7.4; RFC 5961; RFC 7323; RFC 6191)
 * instead of its whole block: tcp_tw.c. Everything else of the block had a
 * value that follows from being in TIME_WAIT (our FIN sent and
 * acknowledged, the peer's FIN received, no data, no timer but 2MSL) or is
 * not read there (congestion control, RTT estimator, SACK scoreboard,
 * rings). A segment for it turns it back into a block for the steps of
 * tcp_in.c; its 2MSL timeout and the TIME_WAIT limit close it as it is. */
struct tcp_tw {
    struct tcp_node node; /* first: kind TCP_NODE_TW; node.deadline is the 2MSL timeout */
    struct tcp_tuple tuple;
    uint32_t iss, irs;
    uint32_t snd_nxt;                  /* = SND.UNA = SND.MAX; our FIN is SND.NXT - 1 */
    uint32_t snd_wnd, snd_wl1, snd_wl2; /* the window update rule */
    uint32_t max_snd_wnd;              /* RFC 5961 §5.2's ACK test */
    uint32_t rcv_nxt;                  /* the peer's FIN is RCV.NXT - 1 */
    uint32_t rcv_adv;                  /* right edge last advertised (the window field) */
    uint32_t rcvbuf;                   /* RCV.WND, and the D-SACK range (RFC 2883) */
    uint32_t ts_offset, ts_recent, last_ack_sent, ts_last_sent; /* RFC 7323 */
    uint64_t ts_recent_us;    /* when TS.Recent was set (§5.5) */
    uint64_t last_oow_ack_us; /* RFC 5961 §7 rate limit, valid when oow_acked */
    uint16_t mss;
    uint8_t snd_wscale, rcv_wscale;
    uint8_t ip_ttl, ip_tos;
    unsigned bound : 1, passive : 1, ws_ok : 1, sack_ok : 1, ts_ok : 1, oow_acked : 1;
};

/* The block a node belongs to (node is its first member); NULL if the node
 * is a TIME_WAIT record. Listener chains hold blocks only. */
static inline struct tcp_conn *tcp_node_conn(struct tcp_node *n)
{
    return n && n->kind == TCP_NODE_CONN ? (struct tcp_conn *)n : NULL;
}
static inline const struct tcp_conn *tcp_node_conn_const(const struct tcp_node *n)
{
    return n && n->kind == TCP_NODE_CONN ? (const struct tcp_conn *)n : NULL;
}
/* The 4-tuple of a table entry, whichever kind it is. */
static inline const struct tcp_tuple *tcp_node_tuple(const struct tcp_node *n)
{
    if (n->kind == TCP_NODE_TW)
        return &((const struct tcp_tw *)n)->tuple;
    return &((const struct tcp_conn *)n)->tuple;
}
static inline bool tcp_tuple_eq(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
    return a->lport == b->lport && a->rport == b->rport && a->raddr == b->raddr &&
           a->laddr == b->laddr;
}

/* ---- the stack ----------------------------------------------------------- */

#define TCP_LISTEN_BUCKETS      64
#define TCP_FD_BASE             3    /* first descriptor handed out, like a process after stdio */
#define TCP_CHALLENGE_ACK_LIMIT 1000 /* per second per stack, RFC 5961 §7 */
#define TCP_ACK_HOLD_MAX        512  /* ACKs held in one batch; more are sent at once */
#define TCP_PORT_PAGE           256  /* ports per page of stack.port_refs */

struct stack {
    struct stack_config cfg;
    uint64_t now; /* the `now` of the call being processed */
    struct stack_stats stats;

    struct tcp_node **buckets; /* 4-tuple hash table */
    uint32_t nbuckets, nhashed;
    struct tcp_node *listeners[TCP_LISTEN_BUCKETS]; /* connection blocks only */

    struct tcp_conn **fds; /* descriptor table, index sd - TCP_FD_BASE */
    uint32_t fds_cap, fd_hint;

    struct tcp_node **heap; /* min-heap of connections by next deadline */
    uint32_t heap_len, heap_cap;

    /* per local port: blocks bound to it, in pages of TCP_PORT_PAGE ports
     * made when a port in them is first bound (a stack uses a handful) */
    uint32_t *port_refs[65536 / TCP_PORT_PAGE];
    uint32_t ephemeral_next;
    uint16_t ip_id;

    uint64_t challenge_window_us; /* RFC 5961 §7: start of the current second */
    uint32_t challenge_acks;      /* challenge ACKs sent in it */

    uint64_t ooo_bytes;                 /* out-of-order bytes held by all connections */
    struct tcp_node *tw_head, *tw_tail; /* TIME_WAIT entries, oldest first */
    struct tcp_node *lookup_last;       /* the last segment's node (conn_lookup_segment) */
    struct tcp_conn *tw_noted;          /* blocks to make TIME_WAIT records of (tcp_tw.c) */
    bool emitting_cookie;               /* the packet being emitted is a cookie SYN,ACK */
    /* Between stack_batch_begin() and stack_batch_end(): the connections
     * whose owed ACK is held (by tuple: a block may be freed meanwhile). */
    bool batching;
    uint32_t nheld;
    struct tcp_tuple held[TCP_ACK_HOLD_MAX];

    struct tcp_conn *graveyard; /* freed at the end of the current call */
    uint8_t *pkt;               /* scratch buffer for one outgoing packet */
    size_t pkt_cap;
    uint8_t *payload_tmp; /* linearised payload when the ring wraps */
    struct udp_table *udp; /* UDP sockets (udp.c), made with the first one */
};

/* The segment being processed (RFC 9293 §3.3.1 "current segment variables"),
 * passed explicitly from function to function. */
struct tcp_seg {
    const struct wire_ipv4 *ip;
    const struct wire_tcp *th;
    uint32_t seq; /* SEG.SEQ */
    uint32_t ack; /* SEG.ACK */
    uint32_t len; /* SEG.LEN: payload, plus one for SYN and for FIN */
    uint32_t wnd; /* SEG.WND as on the wire (unscaled) */
    uint8_t flags;
    const uint8_t *data; /* payload */
    uint32_t data_len;
    const uint8_t *raw; /* the whole packet, for events */
    size_t raw_len;
};

/* ---- stack_mem.c: every allocation ---------------------------------------- */

/* Zeroed memory of `size` bytes through cfg.allocator, counted in stats.mem_*;
 * NULL if there is none. Free with the same size and kind. */
void *stack_mem_alloc(struct stack *s, size_t size, enum stack_mem_kind kind);
void stack_mem_free(struct stack *s, void *p, size_t size, enum stack_mem_kind kind);
/* A new block of new_size holding the first bytes of p (freed); NULL and p
 * untouched if there is no memory. */
void *stack_mem_resize(struct stack *s, void *p, size_t old_size, size_t new_size,
                       enum stack_mem_kind kind);
/* A ring of cap bytes (at least 1), within cfg.max_ring_total: 0, -ENOBUFS
 * (over the budget, counted in stats.limit_ring) or -ENOMEM. */
int stack_mem_ring(struct stack *s, uint8_t **buf, uint32_t cap);
/* Before the stack exists (stack_new) and after it is gone (stack_free). */
void *stack_mem_raw_alloc(const struct stack_allocator *a, size_t size, enum stack_mem_kind kind);
void stack_mem_raw_free(const struct stack_allocator *a, void *p, size_t size,
                        enum stack_mem_kind kind);
void stack_mem_counted(struct stack *s, size_t size, enum stack_mem_kind kind);

/* ---- stack.c: events and counters --------------------------------------- */

static inline bool stack_observed(const struct stack *s)
{
    return s->cfg.on_event != NULL;
}
void stack_event_init(const struct stack *s, struct tev *ev, enum tev_kind kind,
                      const struct tcp_conn *c);
/* The same for descriptor sd and 4-tuple t (a TIME_WAIT record has no block). */
void stack_event_init_tuple(const struct stack *s, struct tev *ev, enum tev_kind kind, int sd,
                            const struct tcp_tuple *t);
void stack_emit(struct stack *s, const struct tev *ev);
/* Count a dropped packet and report it. */
void stack_drop(struct stack *s, const struct tcp_conn *c, int reason, const uint8_t *raw,
                size_t len);
/* Report a user call and its result; returns `result` for tail calls. */
long stack_call(struct stack *s, int sd, const struct tcp_conn *c, enum tcp_call call, long arg,
                long result);
/* Free the connections that died during this call, and make TIME_WAIT
 * records of the blocks noted for it (the usual case, neither: inline). */
void stack_reap_dead(struct stack *s);
static inline void stack_reap(struct stack *s)
{
    if (s->tw_noted || s->graveyard)
        stack_reap_dead(s);
}

/* ---- conn_table.c -------------------------------------------------------- */

/* The table entry for 4-tuple t, of either kind, or NULL. */
struct tcp_node *conn_lookup_node(const struct stack *s, const struct tcp_tuple *t);
/* The same for an arriving segment: first the node the last one found.
 * Segments come in runs of one connection's (a bulk transfer, a drain of
 * the TUN device), so the last node found is remembered, as BSD's
 * tcp_last_inpcb was; it is forgotten whenever a node leaves the table or
 * is replaced (conn_hash_link), so it is always a node in the table. The
 * hit inline, the miss in conn_lookup_remember(). */
struct tcp_node *conn_lookup_remember(struct stack *s, const struct tcp_tuple *t);
static inline struct tcp_node *conn_lookup_segment(struct stack *s, const struct tcp_tuple *t)
{
    struct tcp_node *n = s->lookup_last;
    if (n && tcp_tuple_eq(tcp_node_tuple(n), t))
        return n;
    return conn_lookup_remember(s, t);
}
/* The connection block for t; NULL if there is none or only a TIME_WAIT
 * record (tcp_input turns a record back into a block itself). */
struct tcp_conn *conn_lookup(const struct stack *s, const struct tcp_tuple *t);
int conn_hash_insert(struct stack *s, struct tcp_conn *c);
void conn_hash_remove(struct stack *s, struct tcp_conn *c);
/* The link that points at entry e in its bucket (to put another in its place). */
struct tcp_node **conn_hash_link(struct stack *s, const struct tcp_node *e);
struct tcp_conn *listener_lookup(const struct stack *s, uint16_t port);
void listener_insert(struct stack *s, struct tcp_conn *c);
void listener_remove(struct stack *s, struct tcp_conn *c);
int fd_alloc(struct stack *s, struct tcp_conn *c);
struct tcp_conn *fd_get(const struct stack *s, int sd);

/* ---- udp.c: UDP beside TCP (udp.h) ---------------------------------------- */

struct udp_table;
void udp_input(struct stack *s, const struct wire_ipv4 *ip, const uint8_t *pkt, size_t len);
void udp_table_free(struct stack *s);
/* Does a UDP socket hold descriptor sd? (TCP's descriptors skip it.) */
bool udp_is_socket(const struct stack *s, int sd);
void fd_release(struct stack *s, int sd);
void conn_heap_update(struct stack *s, struct tcp_node *n);
void port_ref(struct stack *s, struct tcp_conn *c);
void port_unref(struct stack *s, struct tcp_conn *c);
/* One reference less on local port `port` (a record's, tcp_tw.c). */
void port_unref_port(struct stack *s, uint16_t port);
bool port_in_use(const struct stack *s, uint16_t port);
/* A free local port from cfg's ephemeral range, or 0. */
uint16_t port_ephemeral(struct stack *s);
/* For connect(): a local port that makes the 4-tuple `t` unique, or 0. */
uint16_t port_ephemeral_for(struct stack *s, const struct tcp_tuple *t);
int conn_table_init(struct stack *s);
void conn_table_free(struct stack *s);

/* ---- tcp_conn.c ---------------------------------------------------------- */

struct tcp_conn *conn_new(struct stack *s);
/* Every state change goes through here: checks Figure 5, reports TEV_STATE
 * with `cause`, and does what entering the state means (TIME_WAIT frees the
 * buffers and arms 2MSL; CLOSED cancels timers and leaves the table). */
void tcp_set_state(struct stack *s, struct tcp_conn *c, enum tcp_state to, const char *cause);
/* The connection is finished: record `err` for the user and enter CLOSED. */
void tcp_conn_fail(struct stack *s, struct tcp_conn *c, int err, const char *cause);
/* Put on the graveyard (freed by stack_reap) once no descriptor refers to it. */
void conn_maybe_bury(struct stack *s, struct tcp_conn *c);
void conn_destroy(struct stack *s, struct tcp_conn *c);
/* A passive open that will not complete (RST, retries exhausted, listener
 * closed): take it out of the listener's queues and free it. */
void conn_drop_child(struct stack *s, struct tcp_conn *c);
void conn_fill_status(const struct stack *s, const struct tcp_conn *c, struct tcp_status *st);
static inline bool tcp_state_synchronized(enum tcp_state st)
{
    return st >= TCP_ESTABLISHED;
}

/* ---- tcp_out.c ----------------------------------------------------------- */

static inline bool tcp_state_sends_data(enum tcp_state st)
{
    return st == TCP_ESTABLISHED || st == TCP_CLOSE_WAIT || st == TCP_FIN_WAIT_1 ||
           st == TCP_LAST_ACK || st == TCP_CLOSING;
}
/* Nothing queued, no FIN to send, no persist timer to stop: the rules in
 * tcp_output_ex could send nothing and change nothing (a receiver's usual
 * case, once per arriving segment). With the queue empty and no FIN, SND.NXT
 * = SND.MAX = SND.UNA, so there is no go-back-N or SACK state to move.
 * Inline, so that case costs its callers a few tests and no call. */
static inline bool tcp_output_idle(const struct tcp_conn *c)
{
    return !tcp_state_sends_data(c->state) ||
           (c->sndq.len == 0 && !c->fin_queued && !c->sack_recovery &&
            c->timers[TCP_TIMER_PERSIST] == TCP_TIME_NEVER);
}
void tcp_output_ex(struct stack *s, struct tcp_conn *c, bool force);
/* Send what the window, Nagle and SWS avoidance allow, and a FIN if due. */
static inline void tcp_output(struct stack *s, struct tcp_conn *c)
{
    if (!tcp_output_idle(c))
        tcp_output_ex(s, c, false);
}
/* The same, but send one segment even if SWS avoidance or Nagle would wait
 * (the persist timer's "override timeout", RFC 9293 §3.8.6.2.1). */
static inline void tcp_output_forced(struct stack *s, struct tcp_conn *c)
{
    if (!tcp_output_idle(c))
        tcp_output_ex(s, c, true);
}
/* CLOSE for the sending direction (close() or shutdown(SHUT_WR)). */
void tcp_close_send_side(struct stack *s, struct tcp_conn *c, const char *cause);
static inline bool tcp_our_fin_acked(const struct tcp_conn *c)
{
    return c->fin_queued && seq_gt(c->snd_una, c->fin_seq);
}
void tcp_send_ack(struct stack *s, struct tcp_conn *c);
/* The ACK owed after a segment: sent now, or held to the batch's end. */
void tcp_send_owed_ack(struct stack *s, struct tcp_conn *c);
/* A held ACK goes now (the connection's next segment has come). */
void tcp_release_held_ack(struct stack *s, struct tcp_conn *c);
void tcp_send_syn(struct stack *s, struct tcp_conn *c, bool retransmission);
/* Retransmit the segment at SND.UNA (data, FIN, or SYN); returns the
 * sequence space it covered (0 for a SYN). */
uint32_t tcp_retransmit_first(struct stack *s, struct tcp_conn *c);
void tcp_send_keepalive_probe(struct stack *s, struct tcp_conn *c);
void tcp_send_window_probe(struct stack *s, struct tcp_conn *c);
/* After the application read: advertise a window that opened enough. */
void tcp_maybe_window_update(struct stack *s, struct tcp_conn *c);
/* Build one IPv4+TCP packet, report it, hand it to cfg.output. */
void tcp_emit_packet(struct stack *s, const struct tcp_conn *c, uint32_t src, uint32_t dst,
                     struct wire_tcp *th, const uint8_t *payload, size_t n, bool retransmission,
                     bool probe);
/* Receive window we can offer now: free receive space, capped by scaling. */
static inline uint32_t tcp_rcv_space(const struct tcp_conn *c)
{
    uint32_t space = c->rcvbuf > c->rcvq.len ? c->rcvbuf - c->rcvq.len : 0;
    uint32_t max = 65535u << c->rcv_wscale;
    return space < max ? space : max;
}

/* ---- tcp_cc.c: congestion control (RFC 5681, RFC 6582, RFC 3042) -------- */

/* The handshake is complete: the initial window (RFC 5681 §3.1, RFC 6928). */
void tcp_cc_init(struct stack *s, struct tcp_conn *c);
/* Bytes the congestion window lets out beyond SND.UNA, including limited
 * transmit's allowance after one or two duplicate ACKs (RFC 3042). */
uint32_t tcp_cc_window(const struct tcp_conn *c);
/* New data was acknowledged (SND.UNA advanced by `acked`). `partial` is
 * set when recovery is still going on (SEG.ACK < recover). */
void tcp_cc_on_ack(struct stack *s, struct tcp_conn *c, uint32_t acked, bool partial);
/* The third duplicate ACK: enter fast recovery (RFC 5681 §3.2 steps 2-3). */
void tcp_cc_enter_recovery(struct stack *s, struct tcp_conn *c);
/* A further duplicate ACK during fast recovery (RFC 5681 §3.2 step 4). */
void tcp_cc_dupack_in_recovery(struct stack *s, struct tcp_conn *c);
/* Recovery is over: SND.UNA reached `recover` (RFC 6582 §3.2 step 3; `sack`:
 * it was RFC 6675 recovery, cwnd = ssthresh). */
void tcp_cc_recovery_done(struct stack *s, struct tcp_conn *c, bool sack);
/* A retransmission timeout (RFC 5681 (4) and the loss window). */
void tcp_cc_on_rto(struct stack *s, struct tcp_conn *c);
/* About to send new data: restart after idle (RFC 5681 §4.1). */
void tcp_cc_before_send(struct stack *s, struct tcp_conn *c);
/* An RTT sample from this ACK (RFC 9406 counts them). */
void tcp_cc_rtt_sample(struct tcp_conn *c, uint64_t rtt_us);
/* HyStart++ from the start (RFC 9406 §4.2), for a new connection. */
void tcp_hystart_init(struct tcp_conn *c);
/* `len` bytes from `seq` were sent again (RFC 3708 counts them). */
void tcp_cc_note_retransmit(struct tcp_conn *c, uint32_t seq, uint32_t len);
/* A checked D-SACK block [left, right) arrived (RFC 3708: was it ours?). */
void tcp_cc_on_dsack(struct stack *s, struct tcp_conn *c, uint32_t left, uint32_t right);

/* ---- tcp_sack.c: SACK (RFC 2018, RFC 2883, RFC 6675) ---------------------- */

/* Does this socket offer and accept SACK-permitted? cfg.sack, unless the
 * socket said TCP_OPT_SACK 0. */
static inline bool tcp_sack_wanted(const struct stack *s, const struct tcp_conn *c)
{
    return s->cfg.sack && !c->opt_no_sack;
}

/* Sender, the RFC 6675 §4 routines, on the scoreboard alone (sans-I/O):
 * Update() takes the blocks of an ACK already checked by
 * tcp_sack_check_blocks(); returns the bytes newly SACKed. */
uint32_t tcp_sack_update(struct tcp_scoreboard *sb, const struct wire_sack_block *b, unsigned n,
                         uint32_t snd_una);
/* The cumulative ACK moved to snd_una: forget what it covers. */
void tcp_sack_cumulative_ack(struct tcp_scoreboard *sb, uint32_t snd_una);
bool tcp_sack_is_sacked(const struct tcp_scoreboard *sb, uint32_t seq);
bool tcp_sack_is_lost(const struct tcp_scoreboard *sb, uint32_t seq, uint32_t smss);
uint32_t tcp_sack_set_pipe(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t snd_max,
                           uint32_t smss);
/* NextSeg(): the range [*seq, *seq + *len) to retransmit (RTX, RESCUE), or
 * new data may go (NEW; `new_data` says whether there is any the windows
 * allow), or nothing. Rule 4 sets RescueRxt to `recover`; the caller moves
 * HighRxt after an RTX. */
enum tcp_sack_next tcp_sack_next_seg(struct tcp_scoreboard *sb, uint32_t snd_una,
                                     uint32_t snd_max, uint32_t recover, uint32_t smss,
                                     bool new_data, uint32_t *seq, uint32_t *len);
/* Why an ACK's SACK blocks cannot be trusted (RFC 2018 §3, RFC 2883 §4),
 * or NULL. `*dsack` is set when the first block is a D-SACK. */
const char *tcp_sack_check_blocks(const struct wire_tcp_opts *o, uint32_t seg_ack,
                                  uint32_t snd_una, uint32_t snd_max, bool *dsack);
/* The engine's side: read the SACK option of an acceptable ACK (events,
 * scoreboard); returns the bytes newly SACKed. */
uint32_t tcp_sack_on_ack(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg);
/* Enter RFC 6675 loss recovery (§5 steps 4.1-4.3, the first retransmission). */
void tcp_sack_enter_recovery(struct stack *s, struct tcp_conn *c);
/* Watch a retransmission [left, right) sent when SND.MAX was `fence`. */
void tcp_sack_watch_rtx(struct tcp_scoreboard *sb, uint32_t left, uint32_t right, uint32_t fence);
/* Mark the watched retransmissions the scoreboard shows lost again (data
 * sent after them SACKed as IsLost() would need); forget those SACKed or
 * acknowledged. Returns the newly marked ones as a bit mask of sb->rtx[]. */
uint32_t tcp_sack_find_lost_rtx(struct tcp_scoreboard *sb, uint32_t snd_una, uint32_t smss);
/* A retransmission timeout: RFC 2018 §8, forget the SACKed bits. */
void tcp_sack_on_rto(struct tcp_conn *c);
/* Retransmit [seq, seq+len) of the send queue (a hole NextSeg chose). */
void tcp_retransmit_range(struct stack *s, struct tcp_conn *c, uint32_t seq, uint32_t len);

/* Receiver: a segment [seq, seq+len) beyond RCV.NXT was kept, or one that
 * is a duplicate arrived (RFC 2883 §4: report it first, once). */
void tcp_sack_rcv_note_ooo(struct tcp_conn *c, uint32_t seq);
void tcp_sack_rcv_note_dup(struct tcp_conn *c, uint32_t seq, uint32_t end);
/* Fill o->sack with the blocks for an ACK now (RFC 2018 §4). */
void tcp_sack_fill_option(struct tcp_conn *c, struct wire_tcp_opts *o);

/* ---- tcp_in.c ------------------------------------------------------------ */

void tcp_input(struct stack *s, const struct wire_ipv4 *ip, const struct wire_tcp *th,
               const uint8_t *raw, size_t len);

/* ---- tcp_timer.c --------------------------------------------------------- */

/* The TEV_TIMER event of an arm, cancel or firing (out of line: only an
 * observer pays for building it). */
void tcp_timer_event(struct stack *s, const struct tcp_conn *c, enum tcp_timer t,
                     enum tev_timer_action action, uint64_t deadline);
/* Set one timer. The heap's key only ever moves earlier here (this timer
 * becomes the earliest); a timer cancelled or moved later leaves it early,
 * to be settled at the top of the heap (tcp_timer.c). Inline, with arm and
 * cancel: the delayed ACK is armed and cancelled every second segment. */
static inline void tcp_timer_set(struct stack *s, struct tcp_conn *c, enum tcp_timer t,
                                 uint64_t v)
{
    c->timers[t] = v;
    if (v < c->node.deadline) {
        c->node.deadline = v;
        conn_heap_update(s, &c->node);
    }
}
static inline void tcp_timer_arm(struct stack *s, struct tcp_conn *c, enum tcp_timer t,
                                 uint64_t deadline)
{
    if (c->timers[t] == deadline)
        return;
    tcp_timer_set(s, c, t, deadline);
    if (stack_observed(s))
        tcp_timer_event(s, c, t, TEV_TIMER_ARM, deadline);
}
static inline void tcp_timer_cancel(struct stack *s, struct tcp_conn *c, enum tcp_timer t)
{
    uint64_t was = c->timers[t];
    if (was == TCP_TIME_NEVER)
        return;
    tcp_timer_set(s, c, t, TCP_TIME_NEVER);
    if (stack_observed(s))
        tcp_timer_event(s, c, t, TEV_TIMER_CANCEL, was);
}
void tcp_timer_cancel_all(struct stack *s, struct tcp_conn *c);
static inline bool tcp_timer_armed(const struct tcp_conn *c, enum tcp_timer t)
{
    return c->timers[t] != TCP_TIME_NEVER;
}
/* Arm the retransmission timer for RTO from now, and the user timeout. */
void tcp_timer_arm_rtx(struct stack *s, struct tcp_conn *c);
void tcp_timer_arm_keepalive(struct stack *s, struct tcp_conn *c);
void tcp_timers_run(struct stack *s);
/* A connection's heap key may be early (tcp_timer.c); make it its earliest
 * timer, moving it in the heap (out of it if no timer is armed). */
void tcp_timer_settle(struct stack *s, struct tcp_conn *c);
/* Settle the keys at the heap's top until the top one is exact. */
void tcp_timers_settle_top(struct stack *s);

/* ---- tcp_rst.c ----------------------------------------------------------- */

/* §3.10.7.1: answer a segment that has no connection (or an unacceptable
 * ACK in LISTEN / SYN_SENT / SYN_RECEIVED) with a RST. Never answers a RST. */
void tcp_rst_reply(struct stack *s, const struct tcp_seg *seg);
/* §3.10.4 ABORT and RFC 2525 §2.17: reset a synchronized connection. */
void tcp_rst_abort(struct stack *s, struct tcp_conn *c);
enum tcp_rst_verdict { TCP_RST_ACCEPT, TCP_RST_CHALLENGE, TCP_RST_DROP, TCP_RST_IGNORE };
/* RFC 5961 §3.2 / RFC 1337: what to do with a RST in a synchronized state. */
enum tcp_rst_verdict tcp_rst_check(const struct tcp_conn *c, const struct tcp_seg *seg);
/* RFC 5961 §3.2 and RFC 9293 §3.10.7.3: a RST in SYN_SENT counts only if
 * it acknowledges our SYN. */
bool tcp_rst_acceptable_syn_sent(const struct tcp_conn *c, const struct tcp_seg *seg);
/* RFC 5961 §3.2, §4.2, §5.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, limited
 * per connection (tcp_oow_ack_allowed) and per stack (§7). */
void tcp_send_challenge_ack(struct stack *s, struct tcp_conn *c);
/* May we answer an unacceptable segment with an ACK now? RFC 5961 §5 and
 * §7: one per cfg.invalid_ratelimit_us per connection, so two stacks that
 * disagree about the sequence space cannot ACK each other forever. A
 * segment carrying text or FIN (not SYN) is always answered: it is no ACK
 * loop, and its sender needs the ACK (Linux: tcp_oow_rate_limited()). */
bool tcp_oow_ack_allowed(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg);

/* Can `addr` (host order) be the other end of a TCP connection? Not 0/8
 * ("this network"), not 127/8 (loopback, never on a wire), not multicast
 * 224/4, not the reserved 240/4 that holds the limited broadcast
 * 255.255.255.255 (RFC 1122 §3.2.1.3). RFC 9293 MUST-46 refuses an OPEN to
 * such an address (tcp_user.c), MUST-63 ignores a SYN from one (stack.c). A
 * subnet's directed broadcast cannot be told without the netmask, which the
 * engine does not know: the network in front of it has to stop those. */
/* Urgent bytes (RFC 9293 §3.8.5) the application has not read yet: from the
 * next byte recv() returns up to RCV.UP (tcp_in.c sets it). */
uint32_t tcp_urgent_pending(const struct tcp_conn *c);

static inline bool tcp_addr_is_unicast(uint32_t addr)
{
    uint8_t first = (uint8_t)(addr >> 24);
    return first != 0 && first != 127 && first < 224;
}

/* ---- isn.c --------------------------------------------------------------- */

uint64_t tcp_siphash24(const uint8_t key[16], const uint8_t *msg, size_t len);

/* tcp_limit.c: the hard limits of stack_config (max_conns, max_time_wait,
 * max_ooo_*), and the TIME_WAIT list they need. */
bool tcp_limit_conn_ok(struct stack *s);
bool tcp_limit_ooo_ok(struct stack *s, const struct tcp_conn *c, uint32_t held_after);
void tcp_ooo_account(struct stack *s, struct tcp_conn *c);
uint32_t tcp_asm_bytes(const struct tcp_asm *a);
void tcp_tw_enter(struct stack *s, struct tcp_conn *c);
void tcp_tw_leave(struct stack *s, struct tcp_node *n);

/* tcp_tw.c: TIME_WAIT records. A block in TIME_WAIT is noted when it
 * enters the state, is expanded or loses its descriptor; at the end of the
 * call (stack_reap) each noted block that has nothing but TIME_WAIT left
 * becomes a record. */
void tcp_tw_note(struct stack *s, struct tcp_conn *c);
void tcp_tw_compact_noted(struct stack *s);
/* The record back as a block in its place (table, heap, TIME_WAIT list),
 * noted to become a record again; NULL if there is no memory. */
struct tcp_conn *tcp_tw_expand(struct stack *s, struct tcp_tw *tw);
/* The 2MSL timeout fired for a record (tcp_timers_run). */
void tcp_tw_timeout(struct stack *s, struct tcp_tw *tw);
/* What tcp_set_state(CLOSED) does to a block in TIME_WAIT without a
 * descriptor, done to the record, which is freed. */
void tcp_tw_close(struct stack *s, struct tcp_tw *tw, const char *cause);
void tcp_tw_fill_status(const struct tcp_tw *tw, struct tcp_status *st);
/* stack_free: the record's memory only. */
void tcp_tw_free(struct stack *s, struct tcp_tw *tw);

/* ---- tcp_ts.c: RFC 7323 timestamps -------------------------------------- */

/* Bytes TSopt takes in every segment once agreed (10, padded with 2 NOPs). */
#define TCP_TSOPT_LEN 12
/* Our TSval now: a 1 ms clock (RFC 7323 §5.4) from the engine's time, plus
 * the connection's offset. */
uint32_t tcp_ts_now(const struct stack *s, const struct tcp_conn *c);
/* The offset for a 4-tuple: SipHash of it under cfg.isn_key, so an observer
 * cannot read the host's uptime and a new incarnation of a tuple counts on
 * from the old one (what RFC 6191 needs). */
uint32_t tcp_ts_offset(const struct stack *s, const struct tcp_tuple *t);
/* Our TSval now for a 4-tuple that has no block (a SYN cookie's). */
uint32_t tcp_ts_now_for(const struct stack *s, const struct tcp_tuple *t);
/* A TSecr we cannot have sent: beyond `newest`, the newest TSval we did
 * send or could have (0 means "none"). */
bool tcp_ts_ecr_future(uint32_t ts_ecr, uint32_t newest);
/* A SYN (or SYN,ACK) arrived: agree to timestamps if both sides sent
 * TSopt (§3.2), take TS.Recent from it; the MSS loses TSopt's 12 bytes. */
void tcp_ts_take_syn(struct stack *s, struct tcp_conn *c, const struct wire_tcp_opts *o);
/* Put TSopt into a segment about to be sent by connection c (§3.2: in the
 * SYN if configured, then in every non-RST segment once agreed), and
 * record Last.ACK.sent. */
void tcp_ts_fill(struct stack *s, struct tcp_conn *c, struct wire_tcp *th);
/* TSval and TSecr of a segment sent now once timestamps are agreed (§4.3
 * (1)); records the TSval as the newest sent and, with ACK, Last.ACK.sent. */
void tcp_ts_stamp(struct stack *s, struct tcp_conn *c, bool has_ack, uint32_t ack, uint32_t *ts_val,
                  uint32_t *ts_ecr);
/* Before the first step of §3.10.7.4: the TSecr test and PAWS (§5.3 R1).
 * Returns false when the segment was dropped (and perhaps answered). */
bool tcp_ts_check(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg);
/* After the sequence number test passed: §4.3 (2) / §5.3 R3, TS.Recent. */
void tcp_ts_take_recent(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg);
/* An ACK advanced SND.UNA: RTTM (§4.1) from its TSecr. Returns true if it
 * gave a sample (then no timed sample is needed). */
bool tcp_ts_rtt(struct stack *s, struct tcp_conn *c, const struct tcp_seg *seg);
/* Report a sample to the estimator and the event stream. */
void tcp_rtt_take(struct stack *s, struct tcp_conn *c, uint64_t rtt_us, bool from_ts,
                  uint32_t ts_ecr);
/* RFC 6191 §2: may a SYN for a tuple in TIME_WAIT open a new connection? */
bool tcp_ts_time_wait_syn_ok(const struct stack *s, const struct tcp_conn *c,
                             const struct tcp_seg *seg);

/* syncookie.c: RFC 4987 §3.6 SYN cookies. The cookie is the ISN of a
 * SYN,ACK sent without keeping state; the ACK that echoes it (ACK-1) is
 * checked, and on success yields the MSS the SYN asked for. */
uint32_t tcp_cookie_make(const struct stack *s, const struct tcp_tuple *t, uint32_t peer_isn,
                         uint16_t peer_mss, uint16_t *mss_used);
int tcp_cookie_check(const struct stack *s, const struct tcp_tuple *t, uint32_t peer_isn,
                     uint32_t cookie, uint16_t *mss);
/* With timestamps, Linux's way of keeping what the cookie has no room for:
 * the low 6 bits of our TSval carry the peer's window scale (4 bits, 15 =
 * none), SACK-permitted and ECN (bit 5, unused here). The TSval stays
 * within 63 ms behind the clock. The ACK's TSecr brings them back;
 * decoding fails (-1) for a TSecr from the future or an impossible shift. */
struct tcp_cookie_opts {
    bool ws_ok;     /* the SYN offered window scaling */
    uint8_t wscale; /* its shift (0-14) */
    bool sack_ok;   /* the SYN carried SACK-permitted */
};
uint32_t tcp_cookie_ts_encode(uint32_t ts_now, const struct tcp_cookie_opts *o);
int tcp_cookie_ts_decode(uint32_t ts_ecr, uint32_t ts_now, struct tcp_cookie_opts *o);
uint32_t tcp_isn(const uint8_t key[16], const struct tcp_tuple *t, uint64_t now_us);

#endif
