/*
 * tcptest.h — a harness for writing TCP engine tests that read like the RFC.
 *
 * One stack is under test. Everything it sends is captured (parsed with the
 * wire module into a queue), every event it emits is recorded, and time only
 * moves when the test says so. The other end of the connection is a "peer"
 * the test plays by hand: it injects segments built from a few numbers, and
 * sequence numbers on both sides are written relative to the initial sequence
 * numbers, the way tcpdump and Wireshark show them:
 *
 *     struct tt *t = tt_established();          // a connection in ESTABLISHED
 *     tt_in(t, TCP_FIN | TCP_ACK, 1, 1, NULL);  // the peer sends FIN
 *     tt_expect(t, TCP_ACK, 1, 2, 0);           // we ACK it: seq=1 ack=2 len=0
 *     tt_assert_state(t, TCP_CLOSE_WAIT);
 *
 * In segments the peer sends, `seq` is relative to the peer's ISN and `ack`
 * to the stack's ISS; in segments the stack sends, the other way round.
 * Builders (tt_established(), tt_time_wait(), ...) put a connection in each
 * state of RFC 9293 Figure 5 through the ordinary exchange of segments, and
 * assert every step on the way, so a builder is itself a small test.
 *
 * A second helper (struct tt_pair) joins two stacks on the virtual link for
 * whole conversations.
 *
 * Assertion helpers are macros so a failure names the test's own line.
 */
#ifndef TCPLAB_TCPTEST_H
#define TCPLAB_TCPTEST_H

/* cmocka needs these before it; tests include only this header. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "event.h"
#include "tcp.h"
#include "tcp_state.h"
#include "vlink.h"
#include "wire.h"

/* Addresses and ports used by the single-stack harness. */
#define TT_STACK_ADDR       0x0a070002u /* 10.7.0.2, the stack under test */
#define TT_PEER_ADDR        0x0a070001u /* 10.7.0.1, the scripted peer */
#define TT_SERVER_PORT      80          /* the port the server side listens on */
#define TT_PEER_CLIENT_PORT 50000       /* the peer's port when it is the client */
/* The peer's ISN: close to 2^32 so that every test crosses the wrap. */
#define TT_PEER_ISN 0xfffffc18u /* 2^32 - 1000 */
#define TT_PEER_WIN 65535
#define TT_MSL_US   30000000ull /* 30 s, the default */

/* One packet the stack sent. `ip.payload` and `tcp.payload` point into `raw`. */
struct tt_pkt {
    uint8_t *raw;
    size_t len;
    uint64_t t_us; /* virtual time it was sent */
    int ip_err;    /* wire_ipv4_parse result */
    int tcp_err;   /* wire_tcp_parse result (or WIRE_ERR_NOT_TCP) */
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    uint32_t rseq, rack; /* seq relative to the stack's ISS, ack to the peer's ISN */
    uint16_t gso_mss;    /* sent through output_gso (cut at this MSS); its partial
                          * checksum was completed before parsing, as a device does */
};

struct tt {
    struct stack *s;
    struct stack_config cfg;
    uint64_t now;

    /* the connection the test is about */
    int sd;         /* its descriptor, -1 once closed by the application */
    int lsd;        /* the listener, -1 if none */
    uint16_t sport; /* the stack's port */
    uint16_t pport; /* the peer's port */
    uint32_t iss;   /* the stack's ISS, learnt from its SYN or SYN,ACK */
    bool iss_known;
    uint32_t peer_isn; /* the peer's ISN (TT_PEER_ISN unless changed) */
    uint16_t peer_win; /* window the peer advertises by default */
    uint16_t ip_id;

    /* what the stack sent, not yet consumed by tt_expect*() */
    struct tt_pkt *out;
    size_t out_len, out_cap, out_head;

    /* every event, in order; `ev_mark` is where tt_expect_state_event() looks from */
    struct tev **ev;
    size_t ev_len, ev_cap, ev_mark;
};

/* ---- the harness itself ---------------------------------------------- */

/* The configuration every single-stack test starts from: the engine's
 * defaults, except that ACKs are sent at once (delayed ACK is tested on its
 * own), so that each segment's answer is the next thing captured. */
void tt_config(struct stack_config *cfg);
/* A fresh stack with `cfg` (NULL: tt_config()). Time starts at 1 s. */
struct tt *tt_new(const struct stack_config *cfg);
void tt_free(struct tt *t);

/* ---- the scripted peer ----------------------------------------------- */

/* A segment template: what the peer sends. Zero fields mean the defaults
 * (window TT_PEER_WIN, ports of the connection, no options). */
struct tt_seg {
    uint8_t flags;
    uint32_t seq, ack; /* relative (see above) */
    uint16_t win;      /* 0 means t->peer_win; use win0 for a real zero */
    bool win0;         /* advertise a zero window */
    const void *data;
    size_t len;
    struct wire_tcp_opts opts;
    bool absolute;         /* seq/ack are absolute numbers */
    uint16_t sport, dport; /* 0: the connection's */
};

/* Build the template into a packet from peer to stack; returns its length. */
size_t tt_build(struct tt *t, const struct tt_seg *seg, uint8_t *buf, size_t cap);
/* Hand a raw packet to stack_input at the current time. */
void tt_input_raw(struct tt *t, const uint8_t *pkt, size_t len);
/* The peer sends `seg`. */
void tt_in_seg(struct tt *t, const struct tt_seg *seg);
/* The peer sends flags/seq/ack and the text `data` (a C string, or NULL). */
void tt_in(struct tt *t, uint8_t flags, uint32_t rseq, uint32_t rack, const char *data);
/* The peer sends `len` bytes of text (pattern bytes if data is NULL). */
void tt_in_data(struct tt *t, uint32_t rseq, uint32_t rack, const void *data, size_t len);
/* The peer sends flags/seq/ack advertising window `win` (0 is a real zero
 * window: persist and window-update tests). */
void tt_in_win(struct tt *t, uint8_t flags, uint32_t rseq, uint32_t rack, uint16_t win);

/* ---- what the stack sent ---------------------------------------------- */

/* Number of captured packets not yet consumed. */
size_t tt_pending(const struct tt *t);
/* The next captured packet (NULL if none), consumed. */
const struct tt_pkt *tt_next(struct tt *t);
/* Forget everything captured so far. */
void tt_drain(struct tt *t);

const struct tt_pkt *tt_expect_(struct tt *t, const char *file, int line, uint8_t flags,
                                uint32_t rseq, uint32_t rack, size_t len);
void tt_expect_nothing_(struct tt *t, const char *file, int line);

/* The next segment the stack sent has exactly these flags (PSH is compared
 * only if `flags` has it: pushing is the sender's choice, RFC 9293
 * §3.9.1.2), this relative seq and ack, and `len` bytes of text. The packet is
 * returned for further checks. ack is not compared when ACK is not set. */
#define tt_expect(t, flags, rseq, rack, len)                                                       \
    tt_expect_((t), __FILE__, __LINE__, (flags), (rseq), (rack), (len))
/* The next segment is a reset with this relative seq: RST set, SYN and FIN
 * clear, no text; ACK may or may not be set (RFC 9293 §3.10.7 lets a reset
 * carry an ACK; the rules below say when it must). */
const struct tt_pkt *tt_expect_rst_(struct tt *t, const char *file, int line, uint32_t rseq);
#define tt_expect_rst(t, rseq) tt_expect_rst_((t), __FILE__, __LINE__, (rseq))
/* The stack sent nothing since the last expectation. */
#define tt_expect_nothing(t) tt_expect_nothing_((t), __FILE__, __LINE__)

/* ---- time ------------------------------------------------------------- */

/* Move time forward by `us`, firing every timer at its own deadline on the
 * way (so a retransmission is captured with the time it was due). */
void tt_advance(struct tt *t, uint64_t us);
/* Jump to the next deadline and fire it; returns the time elapsed, or
 * TCP_TIME_NEVER (and moves nothing) when no timer is pending. */
uint64_t tt_fire_next(struct tt *t);
/* Advance until the stack sends something (at most `max_us`); returns the
 * time it took, or TCP_TIME_NEVER if nothing was sent. */
uint64_t tt_wait_output(struct tt *t, uint64_t max_us);

/* ---- state -------------------------------------------------------------- */

/* The state of the connection under test, found by its 4-tuple through
 * stack_foreach_conn(), so it works for connections without a descriptor
 * (half-open, or closed by the application); TCP_CLOSED if it is gone. */
enum tcp_state tt_state(const struct tt *t);
/* tcp_status() of the connection's descriptor (asserts it succeeds). */
struct tcp_status tt_status(const struct tt *t);
/* The status of the connection under test found by its tuple; false if gone. */
bool tt_find_conn(const struct tt *t, struct tcp_status *out);
/* stack_get_stats() of the stack under test. */
struct stack_stats tt_stats(const struct tt *t);

void tt_assert_state_(const struct tt *t, const char *file, int line, enum tcp_state want);
#define tt_assert_state(t, want) tt_assert_state_((t), __FILE__, __LINE__, (want))

/* A TEV_STATE event from -> to was emitted since the previous call (or the
 * start); `cause_has` (may be NULL) must occur in its cause string. Moves the
 * mark past it. */
const struct tev *tt_expect_state_event_(struct tt *t, const char *file, int line,
                                         enum tcp_state from, enum tcp_state to,
                                         const char *cause_has);
#define tt_expect_state_event(t, from, to, cause)                                                  \
    tt_expect_state_event_((t), __FILE__, __LINE__, (from), (to), (cause))

/* Count recorded events of a kind (since the start). */
size_t tt_count_events(const struct tt *t, enum tev_kind kind);
/* The most recent event of `kind`, or NULL. */
const struct tev *tt_last_event(const struct tt *t, enum tev_kind kind);
/* The most recent TEV_DROP event's reason; 0 if none since index `from`. */
int tt_last_drop_reason(const struct tt *t, size_t from);
/* Number of TEV_DROP events with this reason. */
size_t tt_count_drops(const struct tt *t, int reason);

/* ---- a connection in each state (RFC 9293 Figure 5) ----------------------
 *
 * Active side: the stack connects from an ephemeral port to the peer's port
 * TT_SERVER_PORT. Passive side: the stack listens on TT_SERVER_PORT and the
 * peer connects from TT_PEER_CLIENT_PORT. Each builder takes an optional
 * configuration (NULL: tt_config()). The application closes with
 * tcp_close() where Figure 5 says CLOSE, so t->sd is -1 afterwards. */
struct tt *tt_listener(const struct stack_config *cfg);     /* LISTEN on port 80 */
struct tt *tt_syn_sent(const struct stack_config *cfg);     /* connect() sent SYN */
struct tt *tt_syn_received(const struct stack_config *cfg); /* passive: SYN rcvd, SYN,ACK sent */
struct tt *tt_established(const struct stack_config *cfg);  /* active open completed */
struct tt *tt_established_passive(const struct stack_config *cfg); /* accepted: t->sd */
struct tt *tt_fin_wait_1(const struct stack_config *cfg);          /* close(): FIN sent */
struct tt *tt_fin_wait_2(const struct stack_config *cfg);          /* our FIN acknowledged */
struct tt *tt_close_wait(const struct stack_config *cfg);          /* the peer's FIN received */
struct tt *tt_last_ack(const struct stack_config *cfg);  /* close() after the peer's FIN */
struct tt *tt_closing(const struct stack_config *cfg);   /* both FINs crossed */
struct tt *tt_time_wait(const struct stack_config *cfg); /* FIN_WAIT_2 + the peer's FIN */

/* Steps used by the builders, usable from any state. */
/* socket+connect: expects the SYN, learns ISS and ports; returns the SYN. */
const struct tt_pkt *tt_do_connect(struct tt *t);
/* The same for t->sd, a socket the caller made (and bound, set up). */
const struct tt_pkt *tt_connect_sd(struct tt *t);
void tt_do_listen(struct tt *t, int backlog);
void tt_do_peer_syn(struct tt *t); /* the peer's SYN to the listener; expects SYN,ACK */

/* ---- Figure 5 edge coverage -------------------------------------------- */

/* Every TEV_STATE event any harness in this process sees is also recorded
 * in a process-wide table, so one test can run the others and then ask
 * whether every edge of tcp_transitions[] was taken. */
void tt_edges_reset(void);
bool tt_edge_seen(enum tcp_state from, enum tcp_state to);

/* ---- two stacks on the virtual link --------------------------------------
 *
 * Host 0 is the client (10.7.0.2), host 1 the server (10.7.0.1). */
struct tt_pair {
    struct vlink *l;
    int client, server;  /* host indices */
    struct stack *c, *s; /* their stacks */
    int csd, lsd, ssd;   /* client socket, listener, accepted socket */
    struct tev **ev;     /* every event from both hosts and the link */
    size_t ev_len, ev_cap;
    bool record; /* record events (default true) */
};

/* Two stacks with the given configurations (NULL: engine defaults, names
 * "client" and "server"); the link seeded with `seed`. */
struct tt_pair *tt_pair_new(const struct stack_config *ccfg, const struct stack_config *scfg,
                            uint64_t seed);
void tt_pair_free(struct tt_pair *p);
/* Server listens on TT_SERVER_PORT; client connects; runs the link until
 * both are ESTABLISHED and the server has accepted (ssd). Returns true on
 * success within `max_us` of virtual time. */
bool tt_pair_connect(struct tt_pair *p, uint64_t max_us);
/* Run the link for `us` of virtual time. */
void tt_pair_run(struct tt_pair *p, uint64_t us);
uint64_t tt_pair_now(const struct tt_pair *p);
/* State of a host's connection by descriptor (TCP_CLOSED if the sd is gone). */
enum tcp_state tt_pair_state(const struct tt_pair *p, struct stack *s, int sd);
/* Count TEV_STATE events host->from->to. */
size_t tt_pair_count_state(const struct tt_pair *p, const char *host, enum tcp_state from,
                           enum tcp_state to);

/* ---- small things ---------------------------------------------------------- */

/* Deterministic pattern byte at stream offset i (so data can be checked). */
static inline uint8_t tt_pattern(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 8) + 1);
}

/* Print a failure located at file:line with a message, then fail the test. */
void tt_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define TT_SEC 1000000ull
#define TT_MS  1000ull

#endif
