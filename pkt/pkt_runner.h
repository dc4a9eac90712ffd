/*
 * pkt_runner.h — the state of one script run, shared by the clock and
 * packet side (pkt_run.c) and the system calls (pkt_sys.c). Private.
 */
#ifndef TCPLAB_PKT_RUNNER_H
#define TCPLAB_PKT_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt_internal.h"
#include "scn_text.h"

#define PKT_MAX_FDS    256
#define PKT_MAX_FLOWS  32
#define PKT_MAX_EPOLL  32
#define PKT_TIME_LIMIT (24ULL * 3600 * 1000000) /* a day of virtual time at most */


enum pkt_fd_kind { PKT_FD_FREE, PKT_FD_SOCKET, PKT_FD_EPOLL };

struct pkt_epoll_item {
    int fd;          /* script descriptor watched */
    uint32_t events; /* EPOLLIN | ... */
    long long data;  /* what epoll_wait reports as fd */
};

/* A script descriptor: an engine socket, or an epoll instance. */
struct pkt_fd {
    enum pkt_fd_kind kind;
    int sd;                   /* engine descriptor (socket) */
    bool nonblock;
    bool err_reported;        /* SO_ERROR or a call returned the pending error */
    bool listening;
    uint16_t port;            /* bound or listening port */
    /* what getsockopt reports */
    long rcvbuf, sndbuf, keepalive, nodelay, reuseaddr, keepidle, keepintvl, keepcnt;
    long linger_on, linger_s, user_timeout;
    struct pkt_epoll_item ep[PKT_MAX_EPOLL];
    size_t nep;
};

/* One connection as the script sees it: its port, the engine's port, and
 * what maps the script's relative sequence numbers to the live ones. */
struct pkt_flow {
    uint16_t rport;           /* the script side's port */
    uint16_t lport;           /* the engine's port, 0 until known */
    bool have_isn;
    uint32_t isn_live, isn_script; /* the engine's ISN, live and as the script wrote it */
    bool have_ts;
    uint32_t ts_live, ts_script;   /* the engine's TS val, live and as written (for ecr) */
};

/* A system call that is blocked (packetdrill's `t1...t2`). */
struct pkt_pending {
    bool active;
    size_t ev;                /* index of its event */
    uint64_t start_us;        /* when it was made */
    uint64_t expect_us;       /* when the script says it returns */
    uint64_t deadline_us;     /* poll/epoll timeout, or TCP_TIME_NEVER */
    size_t progress;          /* bytes written so far */
    int phase;
};

struct pkt_runner {
    const struct pkt_script *s;
    struct pkt_config cfg;
    struct stack *st;
    uint64_t now;
    int64_t last_us;          /* the previous event's time: base of +t */
    /* packets the engine sent, not yet matched by a '>' event */
    struct {
        uint64_t t;
        uint8_t *data;
        size_t len;
    } *q;
    size_t qhead, qlen, qcap;
    uint16_t ip_id;
    struct pkt_fd fds[PKT_MAX_FDS];
    struct pkt_flow flows[PKT_MAX_FLOWS];
    size_t nflows;
    size_t cur_flow;          /* the flow of packets without <@PORT */
    struct pkt_pending pend;
    uint64_t call_end_us;     /* t2 of the call being started (t1...t2), absolute */
    /* every event, for the timeline */
    tev_fn user_fn;
    void *user_ctx;
    struct tev **events;
    size_t nevents, events_cap;
    bool oom;
    /* outcome */
    enum pkt_verdict verdict; /* PASS until something fails or skips */
    int verdict_line;
    struct scn_text report;
};

/* Fail / skip the run at an event's line (the first reason wins). */
void pkt_fail(struct pkt_runner *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pkt_skip(struct pkt_runner *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline bool pkt_stopped(const struct pkt_runner *r)
{
    return r->verdict != PKT_PASS || r->oom;
}

/* The flow the script's packets use when they name no port (created if
 * needed), and making a flow that one (connect() does). */
struct pkt_flow *pkt_flow_primary(struct pkt_runner *r);
void pkt_flow_select(struct pkt_runner *r, uint16_t rport, uint16_t lport);

/* pkt_sys.c: start a system call event at r->now. Completes it, or leaves
 * it pending (r->pend) when it blocks. */
void pkt_sys_start(struct pkt_runner *r, size_t ev);
/* Try the pending call again; true if it completed (and was checked). */
bool pkt_sys_retry(struct pkt_runner *r);
/* Release every descriptor still open at the end of the script. */
void pkt_sys_cleanup(struct pkt_runner *r);

#endif
