/*
 * tcp.h — the public face of the TCP/IPv4 engine.
 *
 * The engine is sans-I/O: it never reads a clock, opens a file or touches the
 * network. The caller hands it
 *   - raw IPv4 packets            stack_input()
 *   - the passing of time         stack_tick(), and `now` on every call
 *   - socket calls                tcp_socket(), tcp_connect(), tcp_send(), ...
 * and it hands back
 *   - packets to send             through cfg.output
 *   - everything that happened    through cfg.on_event (see event.h)
 *   - when it next needs time     stack_next_deadline()
 * Everything lives in one `struct stack`; there is no global state, so any
 * number of stacks can share a process (the simulator runs two).
 *
 * Socket calls mirror the BSD socket API, non-blocking, and map onto the user
 * calls of RFC 9293 §3.10: connect = OPEN (active), listen = OPEN (passive),
 * send = SEND, recv = RECEIVE, close/shutdown = CLOSE, abort = ABORT,
 * tcp_status = STATUS. Errors are returned as negative errno values
 * (-ECONNREFUSED, -ECONNRESET, -ETIMEDOUT, -EADDRINUSE, -ENOTCONN, -EPIPE,
 * -EAGAIN, -EINVAL, -EBADF, ...).
 */
#ifndef TCPLAB_TCP_H
#define TCPLAB_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"
#include "tcp_state.h"

#define TCP_TIME_NEVER UINT64_MAX

/* RFC 9293 §3.8.6.3 (MUST-40): a delayed ACK waits less than 0.5 s; a longer
 * cfg.delack_us is cut to this. */
#define TCP_DELACK_MAX_US 499000ull

typedef void (*stack_output_fn)(void *ctx, const uint8_t *pkt, size_t len);
/* A packet carrying more than one segment's data (segmentation offload):
 * the receiver cuts it into segments of `mss` bytes of data each. */
typedef void (*stack_output_gso_fn)(void *ctx, const uint8_t *pkt, size_t len, uint16_t mss);

/* What a block of the engine's memory is for (stack_allocator, stack_stats). */
enum stack_mem_kind {
    STACK_MEM_STACK,   /* struct stack itself */
    STACK_MEM_TABLE,   /* hash buckets, descriptor table, timer heap, port counts */
    STACK_MEM_CONN,    /* connection blocks */
    STACK_MEM_RING,    /* send and receive rings: at most cfg.max_ring_total in all */
    STACK_MEM_SCRATCH, /* the packet being built: its contents are dead between calls */
    STACK_MEM_TW,      /* TIME_WAIT records: what a connection in TIME_WAIT keeps */
    STACK_MEM_NKINDS
};

/* Where the engine's memory comes from. Every block it holds is taken and
 * given back through these two (with its size and kind), so stack_stats can
 * say what the stack holds, and a caller can put a whole stack in an arena
 * of its own: the fuzz targets snapshot and restore one that way
 * (fuzz/harness.c). All zero: calloc and free. */
struct stack_allocator {
    void *(*alloc)(void *ctx, size_t size, enum stack_mem_kind kind); /* zeroed, or NULL */
    void (*free)(void *ctx, void *p, size_t size, enum stack_mem_kind kind);
    void *ctx;
};

struct stack_config {
    const char *name;         /* host name used in events ("client", "stack"); must outlive the stack */
    uint32_t addr;            /* this stack's IPv4 address, host order */
    stack_output_fn output;   /* called with each packet to send (required) */
    void *output_ctx;
    /* Segmentation offload (TSO/GSO): 0 = off, no packet carries more than
     * one MSS of data. Otherwise a data segment may carry up to out_seg_max
     * bytes (and at most 65,535 bytes of packet); one larger than the
     * connection's MSS goes to output_gso (same ctx), its TCP checksum left
     * partial, for the device to cut into MSS-sized segments. Windows, the
     * congestion window, Nagle and SWS avoidance still count bytes: the
     * packet is exactly the segments that would have gone one by one. */
    uint32_t out_seg_max;
    stack_output_gso_fn output_gso;
#define STACK_GSO_MAX (65535 - 20 - 60) /* out_seg_max's limit: an IPv4 packet, largest headers */
    tev_fn on_event;          /* called with every event (may be NULL) */
    void *event_ctx;
    /* Readiness without the event stream (may be NULL), for a program that
     * serves descriptors (tun/services.c): called with the descriptor whose
     * tcp_poll() may have changed — a segment arrived for it (state NULL) —
     * and for every state change of every connection, with its TEV_STATE
     * event (sd -1 before accept). Nothing else is built for it, so with
     * on_event NULL a segment costs no event at all. */
    void (*on_ready)(void *ctx, int sd, const struct tev *state);
    void *ready_ctx;

    uint16_t mss;             /* MSS we advertise, bytes (1460) */
    uint32_t sndbuf;          /* send buffer per connection, bytes (65536) */
    uint32_t rcvbuf;          /* receive buffer per connection, bytes (65536) */
    bool window_scaling;      /* offer RFC 7323 window scale (false) */
    uint8_t wscale;           /* shift we offer when window_scaling (7) */
    bool timestamps;          /* offer RFC 7323 timestamps: RTTM and PAWS (true) */
    bool delayed_ack;         /* delay ACKs of in-order data (true) */
    bool no_fast_path;        /* every segment through all of §3.10.7.4's steps, no header
                                 prediction, and every bare ACK built by tcp_xmit, not from
                                 the connection's template (false; tests compare the two,
                                 docs/engine.md) */
    uint64_t delack_us;       /* delayed ACK timeout (40 ms, as Linux); at most TCP_DELACK_MAX_US */
    /* Inside a batch (stack_batch_begin), in-order data may go unacknowledged
     * up to this many bytes: the held ACK waits for the connection's next
     * in-order segment too, so a burst of segments drained at once gets one
     * ACK at the batch's end — what Linux's GRO gives its own receiver (one
     * ACK per super-packet of up to 64 KB). 0: one ACK per two full-sized
     * segments in a batch as outside one (RFC 1122 §4.2.3.2) (0; RFC 2525
     * §2.13 calls more a stretch ACK: `tcplab listen --stretch-acks SIZE`) */
    uint32_t batch_ack_max;
    bool nagle;               /* Nagle's algorithm, RFC 1122 §4.2.3.4 (true) */
    bool congestion_control;  /* RFC 5681 slow start, avoidance, fast recovery (true) */
    uint8_t cc_algo;          /* enum tcp_cc_algo, when congestion_control (NewReno) */
    uint8_t init_cwnd;        /* initial window, segments (10, RFC 6928; RFC 5681 allows 2-4) */
    bool sack;                /* offer and accept SACK (RFC 2018), recover with RFC 6675 (true) */

    uint64_t rto_initial_us;  /* RFC 6298 (2.1): 1 s */
    uint64_t rto_min_us;      /* RFC 6298 (2.4): 1 s (Linux uses 200 ms) */
    uint64_t rto_max_us;      /* RFC 6298 (2.5): at least 60 s; 120 s as Linux */
    unsigned syn_retries;     /* SYN retransmissions before ETIMEDOUT (7: 247 s, RFC 9293
                                 MUST-23 asks for at least 3 minutes; Linux's 6 is 127 s) */
    unsigned synack_retries;  /* SYN,ACK retransmissions before giving up (5) */
    unsigned data_retries;    /* data/FIN retransmissions before ETIMEDOUT (15) */

    uint8_t ttl;              /* TTL of every packet sent (64); per connection TCP_OPT_TTL (MUST-49) */
    uint64_t invalid_ratelimit_us; /* RFC 5961 §5, §7: one ACK per this to invalid segments (500 ms) */
    uint64_t msl_us;          /* maximum segment lifetime; TIME_WAIT lasts 2*MSL (30 s) */
    uint64_t keepalive_idle_us;  /* default for SO_KEEPALIVE sockets (7200 s) */
    uint64_t keepalive_intvl_us; /* (75 s) */
    unsigned keepalive_probes;   /* (9) */

    uint8_t isn_key[16];      /* RFC 6528 secret; fixed in simulation for reproducible runs */
    uint16_t ephemeral_lo, ephemeral_hi; /* client port range (40000..60999) */
    uint32_t max_sockets;     /* descriptor table size (1 << 20) */

    /* Hard limits on what remote peers can make the stack hold (docs/engine.md,
     * "Limits under attack"). Each one reached counts in stack_stats. */
    uint32_t max_conns;       /* connection blocks (all states but LISTEN); a SYN that
                                 would pass it is dropped, conn_limit (65536) */
    uint32_t max_time_wait;   /* TIME_WAIT entries; one more closes the oldest (16384) */
    /* A connection in TIME_WAIT without a descriptor keeps its whole block
     * instead of becoming a 136-byte record (tcp_tw.c). Only the memory
     * differs: tests compare the two, byte for byte (false). */
    bool time_wait_blocks;
    uint32_t max_ooo_conn;    /* out-of-order bytes held by one connection (65536) */
    uint32_t max_ooo_total;   /* out-of-order bytes held by all connections (4 MB) */
    uint64_t max_ring_total;  /* bytes of send and receive rings, all connections (1 GiB);
                                 a ring that would pass it is not made: the segment is
                                 dropped (mem_limit), or send() returns -ENOBUFS */
    enum tcp_syncookies {     /* RFC 4987 §3.6 SYN cookies */
        TCP_SYNCOOKIES_AUTO,  /* only when a listener's SYN queue is full (default, Linux's 1) */
        TCP_SYNCOOKIES_NEVER, /* a full SYN queue drops the SYN (backlog_full) */
        TCP_SYNCOOKIES_ALWAYS /* every SYN to a listener gets a cookie, no state kept */
    } syncookies;
    struct stack_allocator allocator; /* where memory comes from (all zero: calloc/free) */
};

/* Which congestion control algorithm grows cwnd and sets ssthresh. */
enum tcp_cc_algo {
    TCP_CC_NEWRENO, /* RFC 5681 with RFC 6582 (the default, and teaching's) */
    TCP_CC_CUBIC,   /* RFC 9438, what Linux runs (the linux profile) */
};
/* "newreno" / "cubic" -> the value, or -1. */
int tcp_cc_algo_parse(const char *word);
const char *tcp_cc_algo_name(enum tcp_cc_algo a);

/* "never" / "auto" / "always" -> the value, or -1. */
int tcp_syncookies_parse(const char *word);
const char *tcp_syncookies_name(enum tcp_syncookies mode);

/* Fill in the defaults above (addr 10.7.0.2, key all zero). */
void stack_config_defaults(struct stack_config *cfg);

/* The named configurations (stack_profile.c): the RFC's numbers made easy to
 * read on a ladder, or a default Linux 6.x socket. Applying one sets the
 * timers, retries, buffers, window scaling, timestamps, SACK and congestion
 * control; addresses, name, limits and callbacks are left as they are. */
enum stack_profile { STACK_PROFILE_TEACHING, STACK_PROFILE_LINUX };
void stack_config_profile(struct stack_config *cfg, enum stack_profile p);

struct stack;

struct stack *stack_new(const struct stack_config *cfg);
void stack_free(struct stack *s);
const struct stack_config *stack_config(const struct stack *s);

/* A packet arrived from the network. Malformed packets, packets not for this
 * stack and anything the engine refuses are dropped with a TEV_DROP event. */
void stack_input(struct stack *s, uint64_t now, const uint8_t *pkt, size_t len);

/* The same for a packet whose TCP checksum the device vouches for: a
 * segment the local kernel handed over with its checksum left partial
 * (TUN offload, Linux's CHECKSUM_PARTIAL) never crossed a wire, so it is
 * not computed twice. Everything else is checked as in stack_input(). */
void stack_input_csum_ok(struct stack *s, uint64_t now, const uint8_t *pkt, size_t len);

/* Fire every timer whose deadline is <= now. */
void stack_tick(struct stack *s, uint64_t now);

/* A batch of packets (the TUN loop: one wake-up's drain, timers and the
 * application's turn). Inside it, the ACK a segment leaves owed waits until
 * the same connection's next segment or stack_batch_end(), so reply data or
 * a FIN can carry it; as many ACKs go as without batching (RFC 1122
 * §4.2.3.2: at least one per two full-sized segments), unless
 * cfg.batch_ack_max lets in-order data wait for the batch's end. */
void stack_batch_begin(struct stack *s);
void stack_batch_end(struct stack *s, uint64_t now);

/* The earliest pending timer, or TCP_TIME_NEVER. Not const: timers
 * cancelled or moved later since the last call are settled in the timer
 * heap here (stack/tcp_timer.c), once per call rather than once per change. */
uint64_t stack_next_deadline(struct stack *s);

/* Counters, for the UI, tests and benchmarks. */
struct stack_stats {
    uint64_t pkts_in, pkts_out;
    uint64_t drops;                     /* all TEV_DROP events */
    uint64_t drops_by_reason[48];       /* index: reason + 16 (wire errors are negative) */
    uint64_t retransmissions;
    uint64_t conns_active;              /* connection blocks alive, TIME_WAIT included */
    uint64_t conns_time_wait;
    uint64_t time_wait_records;         /* of those, kept as compact records (tcp_tw.c) */
    uint64_t syn_queue;                 /* half-open passive connections now, all listeners */
    uint64_t ooo_bytes;                 /* out-of-order bytes held now, all connections */
    /* limits reached (cfg.max_*), each a count of times */
    uint64_t limit_conns;               /* SYN dropped: max_conns blocks exist */
    uint64_t limit_syn_queue;           /* SYN found its listener's SYN queue full */
    uint64_t limit_ooo;                 /* out-of-order segment dropped: max_ooo_conn/_total */
    uint64_t limit_time_wait;           /* oldest TIME_WAIT block closed to make room */
    uint64_t limit_ring;                /* ring not made: max_ring_total bytes of rings exist */
    /* memory the stack holds, through cfg.allocator */
    uint64_t mem_bytes;                 /* now, every kind */
    uint64_t mem_peak;                  /* the most mem_bytes has been */
    uint64_t ring_bytes;                /* now, rings only (counted against max_ring_total) */
    /* SYN cookies (RFC 4987 §3.6) */
    uint64_t cookies_sent;              /* SYN,ACKs whose ISN is a cookie */
    uint64_t cookies_ok;                /* ACKs with a valid cookie: connection made */
    uint64_t cookies_bad;               /* ACKs with a wrong or stale cookie: dropped */
    uint64_t rtt_samples_ts;            /* RTT samples taken from a TSecr (RFC 7323 §4) */
    uint64_t rtt_samples_timed;         /* RTT samples from a timed segment (RFC 6298, Karn) */
};
void stack_get_stats(const struct stack *s, struct stack_stats *out);
#define STACK_DROP_INDEX(reason) ((reason) + 16)

/* ---- socket calls (RFC 9293 §3.10.1-3.10.6) ---------------------------- */

enum tcp_shut { TCP_SHUT_RD = 0, TCP_SHUT_WR = 1, TCP_SHUT_RDWR = 2 };

enum tcp_sockopt {
    TCP_OPT_KEEPALIVE,   /* SO_KEEPALIVE: 0/1 */
    TCP_OPT_KEEPIDLE,    /* TCP_KEEPIDLE: seconds */
    TCP_OPT_KEEPINTVL,   /* TCP_KEEPINTVL: seconds */
    TCP_OPT_KEEPCNT,     /* TCP_KEEPCNT: probes */
    TCP_OPT_NODELAY,     /* TCP_NODELAY: 1 disables Nagle */
    TCP_OPT_REUSEADDR,   /* SO_REUSEADDR: 1 lets bind() take a port held in TIME_WAIT */
    TCP_OPT_LINGER0,     /* SO_LINGER {1, 0}: close() aborts with RST */
    TCP_OPT_DELACK,      /* 0 = ACK every segment at once */
    TCP_OPT_SNDBUF,      /* bytes; before connect/listen */
    TCP_OPT_RCVBUF,      /* bytes; before connect/listen */
    TCP_OPT_USER_TIMEOUT, /* milliseconds, 0 = retry counts only */
    TCP_OPT_SACK,         /* 0 = this socket neither offers nor accepts SACK (RFC 2018),
                             whatever cfg.sack says; before connect/listen */
    TCP_OPT_TTL,         /* IP_TTL: 1..255, the TTL of this connection's segments (RFC 9293 MUST-49) */
    TCP_OPT_TOS          /* IP_TOS: 0..255, the Diffserv field (DSCP, the top 6 bits) of its
                            segments (RFC 9293 MUST-48); the ECN bits are kept 0 (no ECN) */
};

/* Readiness bits from tcp_poll(), as poll(2) means them. */
#define TCP_POLLIN 0x1   /* recv would not return -EAGAIN (data, EOF or error); accept ready */
#define TCP_POLLPRI 0x2  /* urgent data not yet read (RFC 9293 §3.8.5): tcp_status().urgent_pending */
#define TCP_POLLOUT 0x4  /* send would accept bytes; connect finished */
#define TCP_POLLERR 0x8  /* a pending error (refused, reset, timed out) */
#define TCP_POLLHUP 0x10 /* both directions are finished */

int tcp_socket(struct stack *s, uint64_t now);
int tcp_bind(struct stack *s, uint64_t now, int sd, uint16_t port);
/* bind() with the local address too (RFC 9293 §3.9.1.1, MUST-43: OPEN's
 * optional "local IP address"). The stack has one address: `addr` is it, or
 * 0 for any; another address is -EADDRNOTAVAIL, as on Linux. */
int tcp_bind_addr(struct stack *s, uint64_t now, int sd, uint32_t addr, uint16_t port);
int tcp_listen(struct stack *s, uint64_t now, int sd, int backlog);
/* Returns a new descriptor for a connection whose handshake is complete, or
 * -EAGAIN. `peer` (may be NULL) receives the remote address and port. */
int tcp_accept(struct stack *s, uint64_t now, int sd, struct tcp_tuple *tuple);
/* Sends SYN and returns 0 (in progress, like EINPROGRESS); completion or
 * failure shows in tcp_poll() / a TEV_STATE event / tcp_status().error. */
int tcp_connect(struct stack *s, uint64_t now, int sd, uint32_t addr, uint16_t port);
ssize_t tcp_send(struct stack *s, uint64_t now, int sd, const void *buf, size_t len);
/* SEND with the URGENT flag (RFC 9293 §3.9.1.2, the socket API's MSG_OOB):
 * the bytes are queued like tcp_send()'s, and every segment sent before them
 * is acknowledged carries URG with the urgent pointer at the byte after the
 * last of them (MUST-62). The receiver reads them in line. */
ssize_t tcp_send_urgent(struct stack *s, uint64_t now, int sd, const void *buf, size_t len);
/* Returns bytes read, 0 at end of stream (the peer's FIN), -EAGAIN when
 * nothing is there yet, or the connection's error. */
ssize_t tcp_recv(struct stack *s, uint64_t now, int sd, void *buf, size_t len);
int tcp_shutdown(struct stack *s, uint64_t now, int sd, enum tcp_shut how);
/* Orderly close: FIN after the queued data. With unread data in the receive
 * buffer (or LINGER0) the connection is reset instead (RFC 2525 §2.17).
 * The descriptor is released at once; the connection lives on as needed. */
int tcp_close(struct stack *s, uint64_t now, int sd);
/* ABORT: send RST (if synchronized), drop everything, release sd. */
int tcp_abort(struct stack *s, uint64_t now, int sd);
int tcp_setsockopt(struct stack *s, uint64_t now, int sd, enum tcp_sockopt opt, long value);
unsigned tcp_poll(const struct stack *s, int sd);
/* getsockopt(SO_ERROR): *err is the pending error (-ECONNREFUSED, ...) or 0,
 * and reading it clears it, as in the kernel: how a program learns whether
 * its non-blocking connect() succeeded once poll() says "writable". Returns
 * 0, or -EBADF. Reported as a TEV_CALL whose result is *err. */
int tcp_so_error(struct stack *s, uint64_t now, int sd, int *err);

/* STATUS (RFC 9293 §3.10.6), shaped like Linux's TCP_INFO. */
struct tcp_status {
    enum tcp_state state;
    struct tcp_tuple tuple;
    int error;                 /* pending error (-ECONNRESET...), 0 if none */
    bool listening;            /* a listening socket: the queue fields are valid */
    uint32_t syn_queue_len, accept_queue_len, backlog; /* listener only */
    uint32_t iss, irs;         /* initial send / receive sequence numbers */
    uint32_t snd_una, snd_nxt, snd_wnd; /* snd_wnd scaled, bytes */
    uint32_t rcv_nxt, rcv_wnd;
    uint32_t send_queue;       /* bytes queued, not yet acknowledged */
    uint32_t recv_queue;       /* bytes received, not yet read */
    uint16_t mss;              /* effective send MSS */
    uint8_t snd_wscale, rcv_wscale;
    bool ts_ok;                /* RFC 7323 timestamps agreed in both SYNs */
    uint32_t ts_recent;        /* TS.Recent (RFC 7323 §4.3), valid when ts_ok */
    uint64_t srtt_us, rttvar_us, rto_us;
    uint32_t cwnd, ssthresh;   /* congestion window and threshold, bytes (RFC 5681) */
    enum tcp_cc_phase cc_phase;
    unsigned backoff;          /* consecutive retransmissions of snd_una */
    uint64_t timers[TCP_NTIMERS]; /* deadline of each timer, TCP_TIME_NEVER if idle */
    uint32_t urgent_pending;   /* urgent bytes not yet read, up to RCV.UP (RFC 9293 MUST-33) */
};
int tcp_status(const struct stack *s, int sd, struct tcp_status *out);

/* Visit every connection block (not listeners): for the live connection
 * table. `sd` is -1 for connections no longer owned by a descriptor
 * (closed by the application, still finishing, e.g. in TIME_WAIT). */
typedef void (*tcp_conn_visit_fn)(void *ctx, int sd, const struct tcp_status *st);
void stack_foreach_conn(const struct stack *s, tcp_conn_visit_fn fn, void *ctx);

#endif
