/*
 * scn_rt.h — the scenario runner's working state, shared by the runner
 * (scn_run.c) and its two networks: the virtual link (in scn_run.c) and the
 * TUN device with kernel sockets as peers (scn_tun.c). Private to scenarios/.
 *
 * The runner is written once against `struct scn_net`: a network moves time
 * forward one happening at a time and applies the scenario's impairments.
 * Hosts are either tcplab stacks (tcp.h) or kernel sockets (kpeer.h); the
 * few calls that differ go through the h_*() helpers in scn_run.c.
 */
#ifndef TCPLAB_SCN_RT_H
#define TCPLAB_SCN_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../stack/tcp.h"
#include "../tun/kpeer.h"
#include "scn_internal.h"

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
    int line;
};

struct scn_rt_host {
    char name[SCN_MAX_NAME];
    const struct scn_hostdef *def;
    bool kernel; /* kernel sockets (--tun peer) */
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

/* Per sending endpoint: its ISN and the highest sequence number sent. */
struct scn_rt_isn {
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint32_t isn, hi;
    bool have_hi;
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
    void (*reorder_next)(struct scn_rt *rt, const struct scn_netmatch *m, uint64_t hold_us);
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
    struct scn_rt_isn *isns;
    size_t nisns, capisns;

    /* connect targets, to name the kernel's segments with --tun */
    uint16_t target_port[SCN_MAX_HOSTS][16];

    /* the timeline being recorded (NULL if not asked for) */
    struct scn_timeline *tl;
    size_t cap_events;

    /* the report */
    char *report;
    size_t rlen, rcap;
    unsigned expectations, failures;
    bool step_failed;
    int fatal;       /* negative errno: the network failed */
    bool connecting; /* inside the engine's connect() */
    bool rebooting;  /* inside a `reboot`: its events are not shown */
};

/* Every event of the run goes through here (hosts' stacks, the link, kpeer). */
void scn_rt_event(void *ctx, const struct tev *ev);

/* Which host sent / receives a packet with these addresses and ports. */
int scn_rt_host_of(const struct scn_rt *rt, uint32_t addr, uint16_t port, bool kernel_side);

/* Record a segment sent by host `from` (the raw IPv4 packet). */
void scn_rt_observe_packet(struct scn_rt *rt, int from, uint64_t t_us, const uint8_t *pkt,
                           size_t len);

/* The TUN network (scn_tun.c): fills rt->net and the hosts' stack / kpeer.
 * Returns 0 or a negative errno with a message in msg. */
int scn_tun_setup(struct scn_rt *rt, char *msg, size_t msglen);

#endif
