/*
 * scn_rt.h — the scenario runner's working state and the two interfaces it
 * owns, shared by the runner's files. Private to scenarios/.
 *
 *   scn_run.c         the step loop: execute each statement, the run
 *   scn_run_expect.c  expectation matching
 *   scn_run_wait.c    hosts as one-threaded programs (sockets, blocking
 *                     calls) and time passing
 *   scn_run_record.c  what the events tell (segments, states, drops), the
 *                     timeline and the report; every network feeds it
 *   scn_vlink.c       struct scn_net: the virtual link
 *   scn_tun.c         struct scn_net: the TUN device; struct scn_host_ops:
 *                     kernel sockets as peers
 *   scn_host_stack.c  struct scn_host_ops: a tcplab stack
 *
 * The runner is written once against the two interfaces: a network moves
 * time forward one happening at a time and applies the scenario's
 * impairments; a host answers the socket calls. The networks and hosts call
 * nothing of the step loop, so the files depend on each other one way:
 * scn_run.c -> scn_run_expect.c -> scn_run_wait.c -> scn_run_record.c, and
 * the networks and hosts use only scn_run_record.c (and scn_host_stack.c).
 */
#ifndef TCPLAB_SCN_RT_H
#define TCPLAB_SCN_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpeer.h"
#include "relseq.h"
#include "tcp.h"
#include "scn_internal.h"
#include "scn_text.h"

#define RT_MAX_SOCKS 256

/* What the scenario knows of one call: made, returned, and its result. */
struct scn_rt_callrec {
    bool made, done;
    long result;
    uint8_t *data; /* recv: the bytes read (owned) */
    size_t len;
};

/* A socket as the scenario sees it. */
struct scn_rt_sock {
    int host;
    int sd; /* stack descriptor or kpeer handle; -1 once closed */
    bool listening;
    uint16_t lport; /* bound / listening port, or the connection's */
    bool have_tuple;
    struct tcp_tuple tuple; /* the connection, from this host's point of view */
    int name;               /* index in scn->socks, or -1 */
    bool accepted;          /* made by accept() */
    bool nonblock;          /* `nonblock`: calls never wait (EINPROGRESS, EAGAIN) */
    bool udp;               /* `socket udp`: a datagram socket */
    struct scn_rt_callrec last[TCP_NCALLS];
};

/* A blocking call a host is inside (docs/scenarios.md "Blocking"). */
struct scn_rt_pending {
    bool active;
    enum tcp_call call;
    int sock;            /* the socket it was made on */
    int as_sock;         /* accept ... as NAME */
    const uint8_t *data; /* send: bytes still to queue */
    uint8_t *owned;      /* send N bytes: the generated pattern */
    size_t off, len;     /* send: progress; recv: at most len */
    unsigned events;     /* poll: what it asks for (TCP_POLLIN | TCP_POLLOUT) */
    bool once;           /* a non-blocking socket's call: one try, no waiting */
    int line;
};

struct scn_host_ops;

struct scn_rt_host {
    char name[SCN_MAX_NAME];
    const struct scn_hostdef *def;
    const struct scn_host_ops *ops; /* its socket calls, set by the network's setup */
    bool kernel;                    /* kernel sockets (--tun peer) */
    uint32_t addr;
    struct stack *stack; /* tcplab stack hosts */
    struct kpeer *kp;    /* kernel hosts */
    int cur;             /* current socket, -1 if none */
    int last_listener;   /* newest listening socket, -1 if none */
    struct scn_rt_pending pend;
    struct scn_rt_callrec last[TCP_NCALLS];
};

/* A connection's state as events report it (TEV_STATE, TEV_KERNEL). */
struct scn_rt_conn {
    int host;
    struct tcp_tuple t; /* from that host's point of view */
    enum tcp_state state;
    uint64_t born;                 /* order of creation, to find the newest */
    uint64_t entered[TCP_NSTATES]; /* event counter when last entered */
};

/* A segment some host sent, as the expectations see it. */
struct scn_rt_seg {
    int from, to;
    uint64_t t_us;
    uint8_t flags;
    uint32_t rseq, rack; /* relative numbers */
    uint32_t len;
    uint16_t win;
    struct wire_tcp_opts opts;
    bool rtx;
    bool udp; /* a UDP datagram: only len and the payload mean anything */
    bool taken, skipped;
    uint8_t *payload; /* first bytes of the payload (owned) */
    size_t plen;      /* bytes kept */
};

struct scn_rt_drop {
    int host;
    int reason;
    uint64_t t_us;
    bool taken;
};

struct scn_rt;

/* A network the runner can drive. */
struct scn_net {
    uint64_t (*now)(struct scn_rt *rt);
    /* Do the next thing that happens at or before `limit`; false if nothing
     * does (the clock is then at `limit`). A negative `*err` ends the run. */
    bool (*step)(struct scn_rt *rt, uint64_t limit, int *err);
    void (*drop_next)(struct scn_rt *rt, const struct scn_netmatch *m, unsigned count);
    void (*dup_next)(struct scn_rt *rt, const struct scn_netmatch *m, unsigned count);
    void (*reorder_next)(struct scn_rt *rt, const struct scn_netmatch *m, uint64_t hold_us,
                         unsigned by);
    void (*loss)(struct scn_rt *rt, int from, int to, double p);
    void (*delay)(struct scn_rt *rt, int from, int to, uint64_t us);
    void (*cut)(struct scn_rt *rt, bool cut);
    /* Hand a forged packet to host `to` (a stack) now. */
    void (*inject)(struct scn_rt *rt, int to, const uint8_t *pkt, size_t len);
    void (*destroy)(struct scn_rt *rt);
    /* A call was made on a kernel socket: look at the kernel's states now
     * (transient ones such as LAST_ACK last only until our next packet). */
    void (*kernel_changed)(struct scn_rt *rt);
    double time_tolerance; /* fraction allowed on asserted times (0 = exact) */
    uint64_t time_slack_us;
};

/* A host's socket calls, the same for a tcplab stack (scn_host_stack.c) and
 * for kernel sockets (scn_tun.c): the runner calls these and never asks
 * which kind of host it holds. `sd` is the host's descriptor (a kpeer
 * handle for the kernel); results as tcp.h's: >= 0, or a negative errno. */
struct scn_host_ops {
    int (*socket)(struct scn_rt *rt, int h);
    int (*bind)(struct scn_rt *rt, int h, int sd, uint16_t port);
    int (*listen)(struct scn_rt *rt, int h, int sd, int backlog);
    int (*accept)(struct scn_rt *rt, int h, int sd, struct tcp_tuple *t);
    int (*connect)(struct scn_rt *rt, int h, int sd, uint32_t addr, uint16_t port);
    long (*send)(struct scn_rt *rt, int h, int sd, const uint8_t *b, size_t n);
    long (*recv)(struct scn_rt *rt, int h, int sd, uint8_t *b, size_t n);
    int (*shutdown)(struct scn_rt *rt, int h, int sd, int how);
    int (*close)(struct scn_rt *rt, int h, int sd, bool abort); /* abort: RST, no FIN */
    int (*setsockopt)(struct scn_rt *rt, int h, int sd, enum tcp_sockopt opt, long v);
    /* fcntl(O_NONBLOCK) and getsockopt(SO_ERROR) as the program calls them
     * (reported as calls; so_error's *err is the error taken, or 0) */
    int (*nonblock)(struct scn_rt *rt, int h, int sd);
    int (*so_error)(struct scn_rt *rt, int h, int sd, int *err);
    /* UDP (`socket udp`): bind, close and poll above serve its sockets too */
    int (*udp_socket)(struct scn_rt *rt, int h);
    long (*sendto)(struct scn_rt *rt, int h, int sd, uint32_t addr, uint16_t port, const uint8_t *b,
                   size_t n);
    long (*recvfrom)(struct scn_rt *rt, int h, int sd, uint8_t *b, size_t n);
    /* readiness now, not a call the program makes (the runner's own look) */
    unsigned (*poll)(struct scn_rt *rt, int h, int sd);
    int (*error)(struct scn_rt *rt, int h, int sd); /* pending error (negative errno) or 0 */
    int (*state)(struct scn_rt *rt, int h, int sd); /* enum tcp_state, or -1 if not open */
    bool (*tuple)(struct scn_rt *rt, int h, int sd, struct tcp_tuple *t);
};

/* The tcplab stack host (scn_host_stack.c); the kernel's is scn_tun.c's own. */
extern const struct scn_host_ops scn_stack_host_ops;

struct scn_rt {
    const struct scn *s;
    const struct scn_run_opts *opts;
    struct scn_net net;
    void *netctx; /* the network's own state */
    bool tun;
    uint64_t seed;
    uint64_t t0; /* time the scenario started */

    size_t nhosts;
    struct scn_rt_host hosts[SCN_MAX_HOSTS];
    size_t nsocks;
    struct scn_rt_sock socks[RT_MAX_SOCKS];
    int named[SCN_MAX_SOCKNAMES]; /* scn->socks index -> rt socket, -1 */

    struct scn_rt_conn *conns;
    size_t nconns, capconns;
    uint64_t conn_order;
    uint64_t evcount;

    struct scn_rt_seg *segs;
    size_t nsegs, capsegs;
    struct scn_rt_drop *drops;
    size_t ndrops, capdrops;
    size_t exchange;      /* first segment of the current exchange */
    int exchange_line;    /* the statement that began it */
    size_t drop_exchange; /* first drop of the current exchange */
    /* each connection's ISNs, a growing map (relseq.h) */
    struct relseq_map seqs;

    /* connect targets, to name the kernel's segments with --tun */
    uint16_t target_port[SCN_MAX_HOSTS][16];

    /* the timeline being recorded (NULL if not asked for) */
    struct scn_timeline *tl;
    size_t cap_events;

    /* the report */
    struct scn_text report;
    unsigned expectations, failures;
    bool step_failed;
    int fatal;       /* negative errno: the network failed */
    bool connecting; /* inside the engine's connect() */
    bool rebooting;  /* inside a `reboot`: its events are not shown */
};

/* ---- the record (scn_run_record.c) ---- */

/* Every event of the run goes through here (hosts' stacks, the link, kpeer). */
void scn_rt_event(void *ctx, const struct tev *ev);

/* Which host sent / receives a packet with these addresses and ports. */
int scn_rt_host_of(const struct scn_rt *rt, uint32_t addr, uint16_t port, bool kernel_side);

/* Record a segment sent by host `from` (the raw IPv4 packet). */
void scn_rt_observe_packet(struct scn_rt *rt, int from, uint64_t t_us, const uint8_t *pkt,
                           size_t len);

/* The network's clock. */
uint64_t scn_rt_now(struct scn_rt *rt);
/* Append to the report; start a failure entry for statement st. */
void scn_rt_rep(struct scn_rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void scn_rt_fail_begin(struct scn_rt *rt, const struct scn_stmt *st);
/* Bytes as a quoted C-like string; a call's recorded result as text. */
void scn_rt_fmt_bytes(char *out, size_t cap, const uint8_t *b, size_t n);
void scn_rt_fmt_result(char *out, size_t cap, enum tcp_call call, const struct scn_rt_callrec *r);
bool scn_rt_tuple_eq(const struct tcp_tuple *a, const struct tcp_tuple *b);
/* The newest connection of host h with tuple t, or NULL. */
struct scn_rt_conn *scn_rt_conn_find(struct scn_rt *rt, int h, const struct tcp_tuple *t);
/* A call's return the engine does not report itself (a blocking connect()). */
void scn_rt_emit_return(struct scn_rt *rt, int h, const struct scn_rt_sock *so, enum tcp_call call,
                        long result);
/* A call the engine cannot report because it is the program's own
 * (fcntl(O_NONBLOCK) on a tcplab stack's socket). */
void scn_rt_emit_call(struct scn_rt *rt, int h, int sd, enum tcp_call call, long arg, long result);
/* A poll() returned with revents (TEV_READY). */
void scn_rt_emit_ready(struct scn_rt *rt, int h, const struct scn_rt_sock *so, unsigned events,
                       unsigned revents);

/* ---- hosts as programs, and time passing (scn_run_wait.c) ---- */

/* A new socket of host h (descriptor sd), its index in rt->socks or -1. */
int scn_rt_new_sock(struct scn_rt *rt, int h, int sd);
/* Give socket k the scenario's name `name` (`as NAME`). */
void scn_rt_name_sock(struct scn_rt *rt, int k, int name);
/* Keep a call's result (data: recv's bytes, copied) in r / in the host's and
 * socket k's records; done is false while the call blocks. */
void scn_rt_record(struct scn_rt_callrec *r, long result, const uint8_t *data, size_t len,
                   bool done);
void scn_rt_record_call(struct scn_rt *rt, int h, int k, enum tcp_call call, long result,
                        const uint8_t *data, size_t len, bool done);
/* Return host h's pending call with this result. */
void scn_rt_complete(struct scn_rt *rt, int h, long result, const uint8_t *data, size_t len);
/* Complete whatever blocked calls can return now. */
void scn_rt_service(struct scn_rt *rt);
/* Host h's call just set up as pending, on a non-blocking socket: tried
 * once now; what would wait returns EAGAIN (send: the bytes it took). */
void scn_rt_try_once(struct scn_rt *rt, int h);

typedef bool (*scn_rt_cond)(struct scn_rt *rt, const void *arg);
/* Run the network until cond holds (checked after every happening) or the
 * clock reaches `deadline`. True if cond held. */
bool scn_rt_run_until(struct scn_rt *rt, uint64_t deadline, scn_rt_cond cond, const void *arg);
uint64_t scn_rt_deadline_in(struct scn_rt *rt, uint64_t us);
/* The state of a call target, and its connection (NULL if none). */
enum tcp_state scn_rt_target_state(struct scn_rt *rt, const struct scn_target *t,
                                   struct scn_rt_conn **conn);
const char *scn_rt_target_name(const struct scn_rt *rt, const struct scn_target *t);

/* ---- expectation matching (scn_run_expect.c) ---- */

void scn_rt_exec_expect_seg(struct scn_rt *rt, const struct scn_stmt *st);
void scn_rt_exec_expect_nothing(struct scn_rt *rt, const struct scn_stmt *st);
/* `expect state` and, with is_wait, `wait until` (no failure, only a wait). */
void scn_rt_exec_expect_state(struct scn_rt *rt, const struct scn_stmt *st, bool is_wait);
void scn_rt_exec_expect_queue(struct scn_rt *rt, const struct scn_stmt *st);
void scn_rt_exec_expect_call(struct scn_rt *rt, const struct scn_stmt *st);
void scn_rt_exec_expect_drop(struct scn_rt *rt, const struct scn_stmt *st);

/* ---- the networks: fill rt->net, rt->netctx and each host's stack / kpeer
 * and ops. 0, or a negative errno with a message in msg. ---- */

int scn_vlink_setup(struct scn_rt *rt, char *msg, size_t msglen); /* scn_vlink.c */
int scn_tun_setup(struct scn_rt *rt, char *msg, size_t msglen);   /* scn_tun.c */

#endif
