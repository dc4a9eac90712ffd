/*
 * event.h — the one event stream everything else reads.
 *
 * The engine reports everything an observer may want — each segment in or
 * out, each state transition with its cause, each timer armed, fired or
 * cancelled, each dropped packet with its reason, each user call with its
 * result — as a `struct tev` handed to the stack's event callback. The
 * virtual link and the kernel-state reader (tun/) report through the same
 * struct. The UI, the text and JSON traces, the pcap writer and the tests
 * are all renderers of this stream; nothing reads the engine's internals.
 *
 * Pointers inside an event (raw bytes, payload, strings that are not static)
 * are valid only during the callback; tev_clone() makes an owned copy.
 */
#ifndef TCPLAB_EVENT_H
#define TCPLAB_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp_state.h"
#include "wire.h"

/* A connection's identity, from the point of view of the host reporting. */
struct tcp_tuple {
    uint32_t laddr, raddr; /* host byte order */
    uint16_t lport, rport;
};

enum tev_kind {
    TEV_SEGMENT, /* a TCP segment passed in or out of a stack */
    TEV_STATE,   /* a connection changed state */
    TEV_TIMER,   /* a timer was armed, fired or cancelled */
    TEV_DROP,    /* a packet was dropped by a stack, with the reason */
    TEV_CALL,    /* a user call (socket API) and its result */
    TEV_ICMP,    /* an ICMP echo request answered */
    TEV_LINK,    /* the virtual link did something to a packet (lost, ...) */
    TEV_KERNEL,  /* the kernel's own state of one of its sockets (tun/) */
    TEV_CC,      /* a connection's congestion window, threshold or phase changed (RFC 5681) */
    TEV_READY,   /* a program's poll() returned: which of the asked events are ready */
    TEV_RTT,     /* a round-trip time sample fed the RFC 6298 estimator */
    TEV_DATAGRAM, /* a UDP datagram passed in or out of a stack (udp.h) */
    TEV_SACK,    /* a sender read a D-SACK block (RFC 2883), or ignored SACK blocks it cannot trust */
    TEV_NKINDS
};

enum tev_dir { TEV_IN, TEV_OUT };

enum tcp_timer {
    TCP_TIMER_RTX,       /* retransmission (RFC 6298), also SYN / FIN retries */
    TCP_TIMER_PERSIST,   /* zero-window probe (RFC 9293 §3.8.6.1) */
    TCP_TIMER_KEEPALIVE, /* keepalive idle / interval (RFC 1122 §4.2.3.6) */
    TCP_TIMER_DELACK,    /* delayed ACK (RFC 9293 §3.8.6.3, RFC 1122) */
    TCP_TIMER_TIME_WAIT, /* 2*MSL (RFC 9293 §3.6.1) */
    TCP_TIMER_USER,      /* user timeout: give up retransmitting */
    TCP_NTIMERS
};
const char *tcp_timer_name(enum tcp_timer t); /* "rtx", "persist", "keepalive", ... */

enum tev_timer_action { TEV_TIMER_ARM, TEV_TIMER_FIRE, TEV_TIMER_CANCEL };

/* Why a stack dropped a packet that was not a malformation (those use the
 * negative enum wire_err codes in tev.u.drop.reason). */
enum tcp_drop_reason {
    TCP_DROP_NOT_FOR_US = 1,     /* destination is not this stack's address */
    TCP_DROP_NO_CONNECTION,      /* no connection, and a RST is not allowed (segment was RST) */
    TCP_DROP_UNACCEPTABLE,       /* fails the acceptability test (an ACK is sent) */
    TCP_DROP_BAD_ACK,            /* acknowledges something not yet sent */
    TCP_DROP_RST_OUT_OF_WINDOW,  /* RST not in window (RFC 5961 §3.2) */
    TCP_DROP_RST_CHALLENGED,     /* RST in window but not exact: challenge ACK (RFC 5961) */
    TCP_DROP_RST_IN_TIME_WAIT,   /* RFC 1337: TIME_WAIT ignores RST */
    TCP_DROP_SYN_CHALLENGED,     /* SYN in a synchronized state: challenge ACK (RFC 5961 §4) */
    TCP_DROP_BACKLOG_FULL,       /* SYN or accept queue full */
    TCP_DROP_NO_ACK,             /* synchronized state, segment without ACK */
    TCP_DROP_OTHER_PROTOCOL,     /* not TCP and not an ICMP echo request */
    TCP_DROP_RCV_WINDOW_FULL,    /* text beyond what the receive buffer can take */
    TCP_DROP_ICMP_UNHANDLED,     /* ICMP, but not an echo request */
    TCP_DROP_CONN_LIMIT,         /* SYN: cfg.max_conns connection blocks exist */
    TCP_DROP_OOO_LIMIT,          /* out-of-order text beyond max_ooo_conn / max_ooo_total */
    TCP_DROP_BAD_COOKIE,         /* ACK to a listener whose SYN cookie is wrong or stale */
    TCP_DROP_PAWS,               /* RFC 7323 §5: TSval older than TS.Recent (an ACK is sent) */
    TCP_DROP_TS_ECR_FUTURE,      /* TSecr greater than any TSval we sent: not ours */
    TCP_DROP_MEM_LIMIT,          /* text or a datagram, no buffer for it: max_ring_total reached;
                                  * or no memory to turn a TIME_WAIT record back into a block */
    /* The TUN device's offload header (tun/tun_vnet.h) does not match the
     * packet it came with; the packet is dropped before any parsing. */
    TCP_DROP_VNET_SHORT,         /* shorter than the virtio_net_hdr, or nothing after it */
    TCP_DROP_VNET_GSO_TYPE,      /* a GSO kind other than TCP/IPv4, or not TCP/IPv4 */
    TCP_DROP_VNET_GSO_SIZE,      /* gso_size 0 or larger than the segment's data */
    TCP_DROP_VNET_HDR_LEN,       /* hdr_len shorter than the headers or past the packet */
    TCP_DROP_VNET_CSUM,          /* csum_start/csum_offset outside the packet */
    /* RFC 9293 §3.9.2.3 (MUST-63, from RFC 1122 §4.2.3.10): a source that no
     * host can have — 0/8, 127/8, multicast 224/4, reserved 240/4 (with the
     * broadcast address) — is ignored before TCP sees the packet. */
    TCP_DROP_BAD_SOURCE,
    TCP_DROP_UDP_NO_PORT,        /* UDP datagram for a port no UDP socket is bound to */
    TCP_DROP_UDP_QUEUE_FULL,     /* UDP datagram that the receive queue has no room for */
    TCP_DROP_REASON_MAX_
};

/* Name of a drop reason: negative values are wire errors, positive ones
 * enum tcp_drop_reason. "bad_checksum", "not_for_us", "backlog_full", ... */
const char *tev_drop_reason_name(int reason);

/* The socket calls, as the socket API names them. */
enum tcp_call {
    TCP_CALL_SOCKET,
    TCP_CALL_BIND,
    TCP_CALL_LISTEN,
    TCP_CALL_ACCEPT,
    TCP_CALL_CONNECT,
    TCP_CALL_SEND,
    TCP_CALL_RECV,
    TCP_CALL_SHUTDOWN,
    TCP_CALL_CLOSE,
    TCP_CALL_ABORT,
    TCP_CALL_SETSOCKOPT,
    TCP_CALL_STATUS,
    TCP_CALL_POLL,       /* poll(): made here, returned as a TEV_READY event */
    TCP_CALL_GETSOCKOPT, /* getsockopt(SO_ERROR): result is the error taken (0 or -errno) */
    TCP_CALL_FCNTL,      /* fcntl(O_NONBLOCK): the program's choice; the engine never blocks */
    TCP_CALL_SENDTO,     /* UDP sendto(): bytes sent as one datagram */
    TCP_CALL_RECVFROM,   /* UDP recvfrom(): bytes of one datagram */
    TCP_NCALLS
};
const char *tcp_call_name(enum tcp_call c); /* "connect", "accept", ... */
/* Readiness bits (TCP_POLLIN ... of tcp.h) as poll(2) writes them:
 * "POLLIN|POLLOUT", or with brief "IN|OUT"; "0" for none. Returns buf. */
const char *tcp_poll_str(unsigned events, bool brief, char *buf, size_t cap);

enum tev_link_action {
    TEV_LINK_LOST,       /* dropped by a drop rule or random loss */
    TEV_LINK_CUT,        /* dropped because the cable is cut */
    TEV_LINK_DUPLICATED, /* a second copy was queued */
    TEV_LINK_DELAYED,    /* held back by a delay rule */
    TEV_LINK_REORDERED,  /* held back so a later packet overtakes it */
    TEV_LINK_CABLE,      /* the cable was cut (arg 0) or restored (arg 1) */
};
const char *tev_link_action_name(enum tev_link_action a);

/* Where a sender's congestion control is (RFC 5681, RFC 6582). */
enum tcp_cc_phase {
    TCP_CC_SLOW_START, /* cwnd < ssthresh: cwnd grows by up to one SMSS per ACK (§3.1) */
    TCP_CC_AVOIDANCE,  /* cwnd >= ssthresh: about one SMSS per round trip (§3.1) */
    TCP_CC_RECOVERY,   /* fast recovery after three duplicate ACKs (§3.2, RFC 6582) */
    TCP_CC_LOSS,       /* after a retransmission timeout, until `recover` is acknowledged */
    TCP_CC_CSS,        /* HyStart++ conservative slow start: RTT rose, cwnd grows 1/4 as fast */
};
const char *tcp_cc_phase_name(enum tcp_cc_phase p); /* "slow_start", "avoidance", ... */

/* What a TEV_SACK reports. */
enum tev_sack_what {
    TEV_SACK_DSACK,   /* the first block reports a segment received twice (RFC 2883) */
    TEV_SACK_IGNORED, /* the ACK's SACK blocks were not used; `reason` says why */
    TEV_SACK_LOST_RTX, /* a retransmission in this recovery was lost too: sent again */
};
const char *tev_sack_what_name(enum tev_sack_what w); /* "dsack", "ignored", "lost_rtx" */

struct tev {
    enum tev_kind kind;
    uint64_t t_us;          /* time of the event, microseconds */
    const char *host;       /* name of the reporting host ("client", "stack", "link", "kernel") */
    int sd;                 /* socket descriptor concerned, or -1 */
    struct tcp_tuple tuple; /* connection concerned (zero if none) */
    union {
        struct {
            enum tev_dir dir;
            struct wire_tcp tcp;   /* parsed header; tcp.payload points into raw */
            uint32_t src, dst;     /* IPv4 addresses */
            const uint8_t *raw;    /* the whole IPv4 packet */
            size_t raw_len;
            bool retransmission;   /* out: this is a retransmission */
            bool probe;            /* out: keepalive or zero-window probe */
            bool cookie;           /* out: a SYN,ACK whose ISN is a SYN cookie (SYN queue full) */
        } seg;
        struct {
            enum tcp_state from, to;
            const char *cause;     /* static string: "rcvd SYN,ACK", "close()", "2MSL timeout" */
        } state;
        struct {
            enum tcp_timer which;
            enum tev_timer_action action;
            uint64_t deadline_us;  /* when it will fire (ARM), or did (FIRE) */
            unsigned backoff;      /* retransmission count so far (RTX) */
        } timer;
        struct {
            int reason;            /* negative enum wire_err, or enum tcp_drop_reason */
            enum tev_dir dir;      /* TEV_IN: received and dropped */
            const uint8_t *raw;
            size_t raw_len;
        } drop;
        struct {
            enum tcp_call call;
            long result;           /* >= 0 success (bytes, new sd), else -errno */
            long arg;              /* call-specific: backlog, length, how, port ... */
        } call;
        struct {
            uint32_t src, dst;     /* the request's addresses */
            uint16_t id, seqno;
        } icmp;
        struct {
            enum tev_link_action action;
            const char *from, *to; /* host names */
            const uint8_t *raw;    /* the packet concerned (NULL for CABLE) */
            size_t raw_len;
            uint64_t until_us;     /* DELAYED / REORDERED: when it will be delivered */
            long arg;
        } link;
        struct {
            enum tcp_state state;  /* the kernel socket's state, mapped to ours */
            enum tcp_state prev;   /* the state seen before (TCP_NSTATES if new) */
            bool gone;             /* the socket no longer exists */
            bool traced;           /* told by the kernel as it happened (tun/ktrace.h), not sampled */
        } kernel;
        struct {
            uint32_t cwnd;         /* congestion window, bytes */
            uint32_t ssthresh;     /* slow start threshold, bytes */
            uint32_t flight;       /* bytes sent and not yet acknowledged (FlightSize) */
            enum tcp_cc_phase phase;
            const char *cause;     /* static: "ack", "dupack", "rto", "sack", "idle", "undo" */
            const char *algo;      /* static: "newreno", "cubic" */
            uint32_t w_max;        /* cubic: W_max, bytes (0: no loss yet) */
            uint64_t k_us;         /* cubic: K of the running epoch */
        } cc;
        struct {
            unsigned events;  /* what poll() asked for: TCP_POLLIN | TCP_POLLOUT */
            unsigned revents; /* what it returned: asked ones ready, and ERR / HUP */
        } ready;
        struct {
            uint64_t sample_us;    /* the round-trip time measured */
            uint64_t srtt_us, rttvar_us, rto_us; /* the estimator after it (RFC 6298) */
            bool from_ts;          /* from a TSecr (RFC 7323 §4), else a timed segment (Karn) */
            uint32_t ts_ecr;       /* the TSecr it came from (from_ts) */
        } rtt;
        struct {
            enum tev_dir dir;
            struct wire_udp udp; /* parsed header; udp.payload points into raw */
            uint32_t src, dst;   /* IPv4 addresses */
            const uint8_t *raw;  /* the whole IPv4 packet */
            size_t raw_len;
        } dgram;
        struct {
            enum tev_sack_what what;
            /* IGNORED: static "not_negotiated", "out_of_window", "empty_block",
             * "overlapping"; NULL for DSACK */
            const char *reason;
            uint32_t left, right;  /* the block concerned (absolute sequence numbers) */
        } sack;
    } u;
};

typedef void (*tev_fn)(void *ctx, const struct tev *ev);

/* Deep copy: raw bytes are duplicated and the pointers inside (raw,
 * tcp.payload) point into the copy. Strings that are static (cause, host
 * names owned by long-lived objects) are shared. Free with tev_free(). */
struct tev *tev_clone(const struct tev *ev);
void tev_free(struct tev *ev);

#endif
