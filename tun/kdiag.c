/*
 * kdiag.c — read the kernel's TCP sockets with sock_diag and report changes.
 *
 * One poll = one NETLINK_INET_DIAG dump of every IPv4 TCP socket in the
 * namespace (all states, idiag_states = ~0), keeping those whose local or
 * remote address is the stack's. The result is sorted by tuple and walked
 * side by side with the previous poll's list: a tuple only in the new list
 * "appeared", one only in the old list is "gone", one in both with another
 * state "changed". Each becomes one TEV_KERNEL event.
 *
 * Polling cannot see a state that lasts less than the polling interval;
 * tun_loop.c polls right after segments with SYN, FIN or RST to make such
 * misses rare, and the event stream says only what was seen.
 */
#include "kdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kdiag_sock {
    struct tcp_tuple t;
    enum tcp_state state;
};

struct kdiag {
    struct mnl_socket *nl;
    unsigned portid;
    uint32_t addr;
    const char *host;
    tev_fn on_event;
    void *ctx;
    struct kdiag_sock *cur, *next; /* last poll's sockets (sorted), and the one being built */
    size_t ncur, nnext, capnext, capcur;
    unsigned seq;
};

enum tcp_state kdiag_state_from_linux(int s)
{
    switch (s) {
    case 1:
        return TCP_ESTABLISHED;
    case 2:
        return TCP_SYN_SENT;
    case 3:
        return TCP_SYN_RECEIVED;
    case 4:
        return TCP_FIN_WAIT_1;
    case 5:
        return TCP_FIN_WAIT_2;
    case 6:
        return TCP_TIME_WAIT;
    case 7:
        return TCP_CLOSED;
    case 8:
        return TCP_CLOSE_WAIT;
    case 9:
        return TCP_LAST_ACK;
    case 10:
        return TCP_LISTEN;
    case 11:
        return TCP_CLOSING;
    case 12:
        return TCP_SYN_RECEIVED; /* TCP_NEW_SYN_RECV: a request socket */
    default:
        return TCP_NSTATES;
    }
}

struct kdiag *kdiag_new(uint32_t addr, const char *host, tev_fn on_event, void *ctx, int *err)
{
    struct kdiag *kd = calloc(1, sizeof *kd);
    if (!kd) {
        *err = -ENOMEM;
        return NULL;
    }
    kd->nl = mnl_socket_open(NETLINK_SOCK_DIAG);
    if (!kd->nl || mnl_socket_bind(kd->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        *err = -errno;
        if (kd->nl)
            mnl_socket_close(kd->nl);
        free(kd);
        return NULL;
    }
    kd->portid = mnl_socket_get_portid(kd->nl);
    kd->addr = addr;
    kd->host = host ? host : "kernel";
    kd->on_event = on_event;
    kd->ctx = ctx;
    kd->seq = (unsigned)time(NULL);
    return kd;
}

void kdiag_free(struct kdiag *kd)
{
    if (!kd)
        return;
    mnl_socket_close(kd->nl);
    free(kd->cur);
    free(kd->next);
    free(kd);
}

size_t kdiag_count(const struct kdiag *kd)
{
    return kd->ncur;
}

static int tuple_cmp(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
    if (a->laddr != b->laddr)
        return a->laddr < b->laddr ? -1 : 1;
    if (a->raddr != b->raddr)
        return a->raddr < b->raddr ? -1 : 1;
    if (a->lport != b->lport)
        return a->lport < b->lport ? -1 : 1;
    if (a->rport != b->rport)
        return a->rport < b->rport ? -1 : 1;
    return 0;
}

static int sock_cmp(const void *a, const void *b)
{
    return tuple_cmp(&((const struct kdiag_sock *)a)->t, &((const struct kdiag_sock *)b)->t);
}

static int on_diag_msg(const struct nlmsghdr *nlh, void *data)
{
    struct kdiag *kd = data;
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg))
        return MNL_CB_OK;
    const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
    struct tcp_tuple t = {
        .laddr = ntohl(m->id.idiag_src[0]),
        .raddr = ntohl(m->id.idiag_dst[0]),
        .lport = ntohs(m->id.idiag_sport),
        .rport = ntohs(m->id.idiag_dport),
    };
    /* Only sockets talking to or as the stack's address; listeners (remote
     * 0.0.0.0) are the application's business, not a connection. */
    if (t.laddr != kd->addr && t.raddr != kd->addr)
        return MNL_CB_OK;
    if (kd->nnext == kd->capnext) {
        size_t cap = kd->capnext ? kd->capnext * 2 : 64;
        struct kdiag_sock *p = realloc(kd->next, cap * sizeof *p);
        if (!p)
            return MNL_CB_ERROR;
        kd->next = p;
        kd->capnext = cap;
    }
    kd->next[kd->nnext++] = (struct kdiag_sock){t, kdiag_state_from_linux(m->idiag_state)};
    return MNL_CB_OK;
}

static int dump(struct kdiag *kd)
{
    char buf[1024];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++kd->seq;
    struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof *req);
    req->sdiag_family = AF_INET;
    req->sdiag_protocol = IPPROTO_TCP;
    req->idiag_states = ~0u; /* every state, TIME_WAIT and SYN_RECV included */
    if (mnl_socket_sendto(kd->nl, nlh, nlh->nlmsg_len) < 0)
        return -errno;
    kd->nnext = 0;
    char rbuf[32768];
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(kd->nl, rbuf, sizeof rbuf);
        if (n < 0)
            return -errno;
        int r = mnl_cb_run(rbuf, (size_t)n, kd->seq, kd->portid, on_diag_msg, kd);
        if (r == MNL_CB_ERROR)
            return errno ? -errno : -EIO;
        if (r == MNL_CB_STOP)
            return 0;
    }
}

static void emit(struct kdiag *kd, uint64_t now, const struct tcp_tuple *t, enum tcp_state st,
                 enum tcp_state prev, bool gone)
{
    if (!kd->on_event)
        return;
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_KERNEL;
    ev.t_us = now;
    ev.host = kd->host;
    ev.sd = -1;
    ev.tuple = *t;
    ev.u.kernel.state = st;
    ev.u.kernel.prev = prev;
    ev.u.kernel.gone = gone;
    kd->on_event(kd->ctx, &ev);
}

int kdiag_poll(struct kdiag *kd, uint64_t now)
{
    int rc = dump(kd);
    if (rc < 0)
        return rc;
    if (kd->nnext > 1)
        qsort(kd->next, kd->nnext, sizeof *kd->next, sock_cmp);
    size_t i = 0, j = 0;
    while (i < kd->ncur || j < kd->nnext) {
        int c = i == kd->ncur ? 1 : j == kd->nnext ? -1 : tuple_cmp(&kd->cur[i].t, &kd->next[j].t);
        if (c < 0) {
            /* Gone: report it as CLOSED, coming from its last state. */
            emit(kd, now, &kd->cur[i].t, TCP_CLOSED, kd->cur[i].state, true);
            i++;
        } else if (c > 0) {
            emit(kd, now, &kd->next[j].t, kd->next[j].state, TCP_NSTATES, false);
            j++;
        } else {
            if (kd->cur[i].state != kd->next[j].state)
                emit(kd, now, &kd->next[j].t, kd->next[j].state, kd->cur[i].state, false);
            i++;
            j++;
        }
    }
    /* The new list becomes the current one; keep both buffers for reuse. */
    struct kdiag_sock *tmp = kd->cur;
    size_t tmpcap = kd->capcur;
    kd->cur = kd->next;
    kd->capcur = kd->capnext;
    kd->ncur = kd->nnext;
    kd->next = tmp;
    kd->capnext = tmpcap;
    kd->nnext = 0;
    return (int)kd->ncur;
}

/* ---- one socket, by tuple ----------------------------------------------------
 *
 * A full dump costs one message per kernel socket, and a busy server leaves
 * thousands in TIME_WAIT: dumping on every SYN or FIN made the loop slower
 * the longer it ran (35k connections/s fell to ~100/s with a trace open).
 * sock_diag can also answer about one socket: the same request without
 * NLM_F_DUMP and with the tuple in inet_diag_sockid. The kernel looks it up
 * in its established hash (TIME_WAIT and request sockets included) — but if
 * there is none it falls back to a listener on the port, so the answer is
 * kept only if its tuple is the one asked about. */

struct probe_answer {
    const struct tcp_tuple *want;
    int state; /* Linux state, or -1 */
};

static int on_probe_msg(const struct nlmsghdr *nlh, void *data)
{
    struct probe_answer *a = data;
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg))
        return MNL_CB_OK;
    const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
    struct tcp_tuple t = {
        .laddr = ntohl(m->id.idiag_src[0]),
        .raddr = ntohl(m->id.idiag_dst[0]),
        .lport = ntohs(m->id.idiag_sport),
        .rport = ntohs(m->id.idiag_dport),
    };
    if (tuple_cmp(&t, a->want) == 0)
        a->state = m->idiag_state;
    return MNL_CB_OK;
}

/* The kernel's state of one socket: a Linux state number, -1 if it has no
 * such socket, or a negative errno below -1 if sock_diag failed. */
static int probe_one(struct kdiag *kd, const struct tcp_tuple *t)
{
    char buf[1024];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    /* NLM_F_ACK: the answer (or the error) is followed by an ACK, so the
     * read below always ends. */
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = ++kd->seq;
    struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof *req);
    memset(req, 0, sizeof *req);
    req->sdiag_family = AF_INET;
    req->sdiag_protocol = IPPROTO_TCP;
    req->idiag_states = ~0u;
    req->id.idiag_src[0] = htonl(t->laddr);
    req->id.idiag_dst[0] = htonl(t->raddr);
    req->id.idiag_sport = htons(t->lport);
    req->id.idiag_dport = htons(t->rport);
    req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    if (mnl_socket_sendto(kd->nl, nlh, nlh->nlmsg_len) < 0)
        return errno > 1 ? -errno : -EIO;
    struct probe_answer a = {t, -1};
    char rbuf[4096];
    for (int tries = 0; tries < 8; tries++) {
        ssize_t n = mnl_socket_recvfrom(kd->nl, rbuf, sizeof rbuf);
        if (n < 0)
            return errno > 1 ? -errno : -EIO;
        int r = mnl_cb_run(rbuf, (size_t)n, kd->seq, kd->portid, on_probe_msg, &a);
        if (r == MNL_CB_ERROR)
            return errno == ENOENT ? -1 : (errno > 1 ? -errno : -EIO);
        if (r == MNL_CB_STOP)
            return a.state;
    }
    return a.state;
}

int kdiag_probe(struct kdiag *kd, uint64_t now, const struct tcp_tuple *t)
{
    if (t->raddr == 0 || (t->laddr != kd->addr && t->raddr != kd->addr))
        return -1;
    int linux_state = probe_one(kd, t);
    if (linux_state < -1)
        return linux_state;
    /* Find where the tuple is, or would be, in the sorted list. */
    size_t lo = 0, hi = kd->ncur;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tuple_cmp(&kd->cur[mid].t, t) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    bool known = lo < kd->ncur && tuple_cmp(&kd->cur[lo].t, t) == 0;
    if (linux_state < 0) {
        if (known) {
            emit(kd, now, t, TCP_CLOSED, kd->cur[lo].state, true);
            memmove(&kd->cur[lo], &kd->cur[lo + 1], (kd->ncur - lo - 1) * sizeof *kd->cur);
            kd->ncur--;
        }
        return -1;
    }
    enum tcp_state st = kdiag_state_from_linux(linux_state);
    if (known) {
        if (kd->cur[lo].state != st) {
            emit(kd, now, t, st, kd->cur[lo].state, false);
            kd->cur[lo].state = st;
        }
        return (int)st;
    }
    if (kd->ncur == kd->capcur) {
        size_t cap = kd->capcur ? kd->capcur * 2 : 64;
        struct kdiag_sock *p = realloc(kd->cur, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        kd->cur = p;
        kd->capcur = cap;
    }
    memmove(&kd->cur[lo + 1], &kd->cur[lo], (kd->ncur - lo) * sizeof *kd->cur);
    kd->cur[lo] = (struct kdiag_sock){*t, st};
    kd->ncur++;
    emit(kd, now, t, st, TCP_NSTATES, false);
    return (int)st;
}

int kdiag_lookup(const struct kdiag *kd, const struct tcp_tuple *t)
{
    if (kd->ncur == 0)
        return -1;
    struct kdiag_sock key = {*t, TCP_CLOSED};
    const struct kdiag_sock *s = bsearch(&key, kd->cur, kd->ncur, sizeof key, sock_cmp);
    return s ? (int)s->state : -1;
}
