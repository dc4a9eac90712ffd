/*
 * pkt_sys.c — the system calls a .pkt script makes, mapped onto the
 * engine's user calls (RFC 9293 §3.10 through stack/tcp.h).
 *
 * The engine is non-blocking; a blocking socket is the script's idea. A
 * call that would block on a blocking descriptor is left pending: the
 * runner retries it after every packet and timer until it can finish
 * (accept: a connection is ready; connect: the handshake ended; read: data,
 * end of stream or an error; write: every byte queued; poll/epoll_wait:
 * something is ready or the timeout passed). Its result is then checked
 * against the script's, `= -1 ERRNO` included, and the time it returned
 * against `t1...t2`.
 *
 * Descriptors are the script's own numbers (3, 4, ...: the lowest free one,
 * as a process gets them); each names an engine socket or an epoll set.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "pkt_runner.h"
#include "tcp.h"
#include "wire.h"

#define MAX_IO (16u << 20) /* a read or write of more than 16 MiB is refused */

struct callres {
    long ret; /* >= 0, or -1 with err */
    int err;  /* errno when ret == -1 */
};

enum step { DONE, BLOCKED, STOPPED };

struct call {
    struct pkt_runner *r;
    const struct pkt_event *ev;
    const struct pkt_syscall *sc;
    bool retry; /* a pending call tried again */
};

/* ---- arguments ---------------------------------------------------------------- */

static const struct pkt_expr *arg(const struct call *c, size_t i)
{
    return i < c->sc->nargs ? c->sc->args[i] : NULL;
}

static bool nargs_ok(struct call *c, size_t lo, size_t hi)
{
    if (c->sc->nargs >= lo && c->sc->nargs <= hi)
        return true;
    if (lo == hi)
        pkt_fail(c->r, c->ev->line, "%s() takes %zu arguments, the script gives %zu", c->sc->name,
                 lo, c->sc->nargs);
    else
        pkt_fail(c->r, c->ev->line, "%s() takes %zu to %zu arguments, the script gives %zu",
                 c->sc->name, lo, hi, c->sc->nargs);
    return false;
}

/* An integer expression: a number, a symbol, a | b, [x]. False (and a SKIP
 * for an unknown symbol) when it has no value; `...` has none either. */
static bool eval_int(struct call *c, const struct pkt_expr *e, long long *v)
{
    if (!e)
        return false;
    switch (e->kind) {
    case PKT_E_INT:
        *v = e->i;
        return true;
    case PKT_E_WORD:
        if (pkt_symbol_value(e->s, v))
            return true;
        if (pkt_errno_from_name(e->s)) {
            *v = pkt_errno_from_name(e->s);
            return true;
        }
        pkt_skip(c->r, e->line, "symbol %s is not known to tcplab", e->s);
        return false;
    case PKT_E_OR: {
        long long a, b;
        if (!eval_int(c, e->items[0], &a) || !eval_int(c, e->items[1], &b))
            return false;
        *v = a | b;
        return true;
    }
    case PKT_E_ARRAY:
        if (e->n == 1)
            return eval_int(c, e->items[0], v);
        return false;
    case PKT_E_CALL:
        if (!strcmp(e->s, "htons") && e->n == 1)
            return eval_int(c, e->items[0], v);
        return false;
    default:
        return false;
    }
}

static bool is_ellipsis(const struct pkt_expr *e)
{
    return !e || e->kind == PKT_E_ELLIPSIS ||
           (e->kind == PKT_E_ARRAY && e->n == 1 && e->items[0]->kind == PKT_E_ELLIPSIS);
}

/* A required integer argument; a missing value fails the script. */
static bool int_arg(struct call *c, size_t i, long long *v)
{
    const struct pkt_expr *e = arg(c, i);
    if (eval_int(c, e, v))
        return true;
    if (!pkt_stopped(c->r))
        pkt_fail(c->r, e ? e->line : c->ev->line, "%s(): argument %zu must be a number",
                 c->sc->name, i + 1);
    return false;
}

static const struct pkt_expr *field(const struct pkt_expr *st, const char *name)
{
    if (!st || st->kind != PKT_E_STRUCT)
        return NULL;
    for (size_t i = 0; i < st->n; i++)
        if (st->items[i]->kind == PKT_E_FIELD && !strcmp(st->items[i]->s, name) &&
            st->items[i]->n > 0)
            return st->items[i]->items[0];
    return NULL;
}

/* {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")} */
static bool sockaddr_arg(struct call *c, const struct pkt_expr *e, uint32_t *addr, uint16_t *port)
{
    if (is_ellipsis(e))
        return true;
    if (e->kind != PKT_E_STRUCT) {
        pkt_fail(c->r, e->line, "%s(): expected a sockaddr {sa_family=..., sin_port=..., ...}",
                 c->sc->name);
        return false;
    }
    const struct pkt_expr *fam = field(e, "sa_family"), *p = field(e, "sin_port"),
                          *a = field(e, "sin_addr");
    long long v;
    if (fam && eval_int(c, fam, &v) && v != AF_INET) {
        pkt_skip(c->r, e->line, "%s(): only AF_INET addresses are supported", c->sc->name);
        return false;
    }
    if (p && eval_int(c, p, &v))
        *port = (uint16_t)v;
    if (a && a->kind == PKT_E_CALL && !strcmp(a->s, "inet_addr") && a->n == 1 &&
        a->items[0]->kind == PKT_E_STRING) {
        if (wire_addr_parse(a->items[0]->s, addr) < 0) {
            pkt_skip(c->r, a->line, "address \"%s\" is not IPv4", a->items[0]->s);
            return false;
        }
    }
    return !pkt_stopped(c->r);
}

/* The byte count of a read/write: a number, iovecs, or a msghdr's msg_iov. */
static bool iov_len(struct call *c, const struct pkt_expr *e, long long *len)
{
    if (!e)
        return false;
    if (e->kind == PKT_E_ARRAY) {
        long long sum = 0;
        for (size_t i = 0; i < e->n; i++) {
            long long one;
            if (!iov_len(c, e->items[i], &one))
                return false;
            sum += one;
        }
        *len = sum;
        return true;
    }
    if (e->kind == PKT_E_STRUCT) {
        const struct pkt_expr *l = field(e, "iov_len");
        if (l)
            return eval_int(c, l, len);
        const struct pkt_expr *iov = field(e, "msg_iov");
        if (iov)
            return iov_len(c, iov, len);
        /* {..., 1000} */
        if (e->n == 2 && e->items[1]->kind == PKT_E_INT) {
            *len = e->items[1]->i;
            return true;
        }
        return false;
    }
    return eval_int(c, e, len);
}

/* ---- descriptors -------------------------------------------------------------- */

static int fd_alloc(struct pkt_runner *r, enum pkt_fd_kind kind)
{
    for (int i = 3; i < PKT_MAX_FDS; i++)
        if (r->fds[i].kind == PKT_FD_FREE) {
            memset(&r->fds[i], 0, sizeof r->fds[i]);
            r->fds[i].kind = kind;
            r->fds[i].sd = -1;
            r->fds[i].rcvbuf = r->cfg.stack.rcvbuf;
            r->fds[i].sndbuf = r->cfg.stack.sndbuf;
            r->fds[i].nodelay = !r->cfg.stack.nagle;
            r->fds[i].keepidle = (long)(r->cfg.stack.keepalive_idle_us / 1000000);
            r->fds[i].keepintvl = (long)(r->cfg.stack.keepalive_intvl_us / 1000000);
            r->fds[i].keepcnt = r->cfg.stack.keepalive_probes;
            return i;
        }
    return -1;
}

static struct pkt_fd *fd_get(struct pkt_runner *r, long long fd, enum pkt_fd_kind kind)
{
    if (fd < 0 || fd >= PKT_MAX_FDS || r->fds[fd].kind != kind)
        return NULL;
    return &r->fds[fd];
}

static void set_err(struct callres *out, int err)
{
    out->ret = -1;
    out->err = err;
}

/* An engine result: n >= 0, or a negative errno. */
static void engine_result(struct pkt_fd *f, struct callres *out, long rc)
{
    if (rc >= 0) {
        out->ret = rc;
        return;
    }
    set_err(out, (int)-rc);
    if (rc == -ECONNRESET || rc == -ECONNREFUSED || rc == -ETIMEDOUT)
        f->err_reported = true;
}

/* The socket argument of a call: EBADF, as the kernel says, if it is not one. */
static struct pkt_fd *sock_arg(struct call *c, struct callres *out)
{
    long long fd;
    if (!int_arg(c, 0, &fd))
        return NULL;
    struct pkt_fd *f = fd_get(c->r, fd, PKT_FD_SOCKET);
    if (!f) {
        set_err(out, c->r->fds[fd >= 0 && fd < PKT_MAX_FDS ? fd : 0].kind == PKT_FD_EPOLL
                         ? ENOTSOCK : EBADF);
        return NULL;
    }
    return f;
}

/* ---- the calls ---------------------------------------------------------------- */

static enum step sys_socket(struct call *c, struct callres *out)
{
    long long dom, type, proto = 0;
    if (!nargs_ok(c, 3, 3))
        return STOPPED;
    if (is_ellipsis(arg(c, 0)))
        dom = AF_INET;
    else if (!int_arg(c, 0, &dom))
        return STOPPED;
    if (!int_arg(c, 1, &type))
        return STOPPED;
    if (!is_ellipsis(arg(c, 2)) && !int_arg(c, 2, &proto))
        return STOPPED;
    if (dom == AF_INET6) {
        pkt_skip(c->r, c->ev->line, "IPv6 sockets are not supported");
        return STOPPED;
    }
    if ((type & ~(long long)(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM ||
        (proto != 0 && proto != IPPROTO_TCP) || dom != AF_INET) {
        pkt_skip(c->r, c->ev->line, "only TCP over IPv4 sockets are supported");
        return STOPPED;
    }
    int fd = fd_alloc(c->r, PKT_FD_SOCKET);
    if (fd < 0) {
        set_err(out, EMFILE);
        return DONE;
    }
    int sd = tcp_socket(c->r->st, c->r->now);
    if (sd < 0) {
        c->r->fds[fd].kind = PKT_FD_FREE;
        set_err(out, -sd);
        return DONE;
    }
    c->r->fds[fd].sd = sd;
    c->r->fds[fd].nonblock = (type & SOCK_NONBLOCK) != 0;
    out->ret = fd;
    return DONE;
}

static enum step sys_bind(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 3, 3))
        return STOPPED;
    struct pkt_fd *f = sock_arg(c, out);
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    uint32_t addr = c->r->cfg.local_ip;
    uint16_t port = c->r->cfg.bind_port;
    if (!sockaddr_arg(c, arg(c, 1), &addr, &port))
        return STOPPED;
    if (addr != c->r->cfg.local_ip && addr != 0) {
        set_err(out, EADDRNOTAVAIL);
        return DONE;
    }
    long rc = tcp_bind(c->r->st, c->r->now, f->sd, port);
    if (rc == 0)
        f->port = port;
    engine_result(f, out, rc);
    return DONE;
}

static enum step sys_listen(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 2, 2))
        return STOPPED;
    struct pkt_fd *f = sock_arg(c, out);
    long long backlog;
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    if (!int_arg(c, 1, &backlog))
        return STOPPED;
    long rc = tcp_listen(c->r->st, c->r->now, f->sd, (int)(backlog < 1 ? 1 : backlog > 4096 ? 4096 : backlog));
    if (rc == 0) {
        struct tcp_status st;
        f->listening = true;
        if (tcp_status(c->r->st, f->sd, &st) == 0)
            f->port = st.tuple.lport;
        struct pkt_flow *fl = pkt_flow_primary(c->r);
        fl->lport = f->port;
    }
    engine_result(f, out, rc);
    return DONE;
}

static enum step sys_accept(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 3, 4))
        return STOPPED;
    struct pkt_fd *f = sock_arg(c, out);
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    long long flags = 0;
    if (c->sc->nargs == 4 && !int_arg(c, 3, &flags))
        return STOPPED;
    if (!f->nonblock && !(tcp_poll(c->r->st, f->sd) & TCP_POLLIN))
        return BLOCKED;
    int nfd = fd_alloc(c->r, PKT_FD_SOCKET);
    if (nfd < 0) {
        set_err(out, EMFILE);
        return DONE;
    }
    struct tcp_tuple tu;
    int rc = tcp_accept(c->r->st, c->r->now, f->sd, &tu);
    if (rc < 0) {
        c->r->fds[nfd].kind = PKT_FD_FREE;
        if (rc == -EAGAIN && !f->nonblock)
            return BLOCKED;
        engine_result(f, out, rc);
        return DONE;
    }
    c->r->fds[nfd].sd = rc;
    c->r->fds[nfd].nonblock = (flags & SOCK_NONBLOCK) != 0;
    c->r->fds[nfd].port = tu.lport;
    out->ret = nfd;
    return DONE;
}

static bool synchronized(enum tcp_state s)
{
    return s >= TCP_ESTABLISHED;
}

static enum step sys_connect(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 3, 3))
        return STOPPED;
    struct pkt_fd *f = sock_arg(c, out);
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    struct pkt_runner *r = c->r;
    if (!c->retry) {
        uint32_t addr = r->cfg.remote_ip;
        uint16_t port = r->cfg.connect_port;
        if (!sockaddr_arg(c, arg(c, 1), &addr, &port))
            return STOPPED;
        if (addr != r->cfg.remote_ip) {
            pkt_skip(r, c->ev->line, "connect() to an address other than --remote_ip");
            return STOPPED;
        }
        int rc = tcp_connect(r->st, r->now, f->sd, addr, port);
        if (rc < 0) {
            engine_result(f, out, rc);
            return DONE;
        }
        /* the script's packets now belong to this connection */
        struct tcp_status st;
        uint16_t lport = tcp_status(r->st, f->sd, &st) == 0 ? st.tuple.lport : 0;
        pkt_flow_select(r, port, lport);
        if (f->nonblock) {
            set_err(out, EINPROGRESS);
            return DONE;
        }
    }
    struct tcp_status st;
    if (tcp_status(r->st, f->sd, &st) < 0) {
        set_err(out, EBADF);
        return DONE;
    }
    if (st.error) {
        engine_result(f, out, st.error);
        return DONE;
    }
    if (synchronized(st.state)) {
        out->ret = 0;
        return DONE;
    }
    if (st.state == TCP_CLOSED) {
        set_err(out, ECONNREFUSED);
        return DONE;
    }
    return BLOCKED;
}

static enum step do_recv(struct call *c, struct callres *out, long long len, long long flags)
{
    struct pkt_fd *f = sock_arg(c, out);
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    if (flags & ~(long long)(MSG_DONTWAIT | MSG_NOSIGNAL)) {
        pkt_skip(c->r, c->ev->line, "%s() flags other than MSG_DONTWAIT are not supported",
                 c->sc->name);
        return STOPPED;
    }
    if (len < 0 || len > MAX_IO) {
        pkt_skip(c->r, c->ev->line, "%s() of %lld bytes is not supported", c->sc->name, len);
        return STOPPED;
    }
    bool nb = f->nonblock || (flags & MSG_DONTWAIT);
    if (!nb && !(tcp_poll(c->r->st, f->sd) & (TCP_POLLIN | TCP_POLLERR | TCP_POLLHUP)))
        return BLOCKED;
    uint8_t *buf = malloc(len ? (size_t)len : 1);
    if (!buf) {
        c->r->oom = true;
        return STOPPED;
    }
    ssize_t rc = tcp_recv(c->r->st, c->r->now, f->sd, buf, (size_t)len);
    free(buf);
    if (rc == -EAGAIN && !nb)
        return BLOCKED;
    engine_result(f, out, rc);
    return DONE;
}

static enum step sys_read(struct call *c, struct callres *out)
{
    long long len, flags = 0;
    const char *n = c->sc->name;
    bool is_read = !strcmp(n, "read"), is_readv = !strcmp(n, "readv"),
         is_msg = !strcmp(n, "recvmsg"), is_from = !strcmp(n, "recvfrom");
    if (!nargs_ok(c, is_read || is_readv || is_msg ? 3 : is_from ? 6 : 4,
                  is_read || is_readv || is_msg ? 3 : is_from ? 6 : 4))
        return STOPPED;
    bool ok = is_readv ? iov_len(c, arg(c, 1), &len)
              : is_msg ? iov_len(c, arg(c, 1), &len)
                       : eval_int(c, arg(c, 2), &len);
    if (!ok) {
        if (!pkt_stopped(c->r))
            pkt_fail(c->r, c->ev->line, "%s(): cannot tell how many bytes to read", n);
        return STOPPED;
    }
    if (!is_read && !is_readv && !int_arg(c, is_msg ? 2 : 3, &flags))
        return STOPPED;
    return do_recv(c, out, len, flags);
}

static enum step sys_write(struct call *c, struct callres *out)
{
    long long len, flags = 0;
    const char *n = c->sc->name;
    bool is_write = !strcmp(n, "write"), is_writev = !strcmp(n, "writev"),
         is_msg = !strcmp(n, "sendmsg"), is_to = !strcmp(n, "sendto");
    size_t want = is_write || is_writev || is_msg ? 3 : is_to ? 6 : 4;
    if (!nargs_ok(c, want, want))
        return STOPPED;
    bool ok = is_writev || is_msg ? iov_len(c, arg(c, 1), &len) : eval_int(c, arg(c, 2), &len);
    if (!ok) {
        if (!pkt_stopped(c->r))
            pkt_fail(c->r, c->ev->line, "%s(): cannot tell how many bytes to write", n);
        return STOPPED;
    }
    if (!is_write && !is_writev && !int_arg(c, is_msg ? 2 : 3, &flags))
        return STOPPED;
    struct pkt_fd *f = sock_arg(c, out);
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    if (flags & ~(long long)(MSG_DONTWAIT | MSG_NOSIGNAL)) {
        pkt_skip(c->r, c->ev->line, "%s() flags other than MSG_DONTWAIT, MSG_NOSIGNAL are not "
                                    "supported", n);
        return STOPPED;
    }
    if (len < 0 || len > MAX_IO) {
        pkt_skip(c->r, c->ev->line, "%s() of %lld bytes is not supported", n, len);
        return STOPPED;
    }
    bool nb = f->nonblock || (flags & MSG_DONTWAIT);
    struct pkt_pending *p = &c->r->pend;
    size_t done = c->retry ? p->progress : 0;
    if (c->retry && !(tcp_poll(c->r->st, f->sd) & (TCP_POLLOUT | TCP_POLLERR | TCP_POLLHUP)))
        return BLOCKED;
    uint8_t *buf = malloc(len ? (size_t)len : 1);
    if (!buf) {
        c->r->oom = true;
        return STOPPED;
    }
    for (long long i = 0; i < len; i++)
        buf[i] = (uint8_t)('A' + i % 26);
    ssize_t rc = 0;
    while (done < (size_t)len || len == 0) {
        rc = tcp_send(c->r->st, c->r->now, f->sd, buf + done, (size_t)len - done);
        if (rc <= 0 || len == 0)
            break;
        done += (size_t)rc;
    }
    free(buf);
    if (len == 0) {
        engine_result(f, out, rc < 0 ? rc : 0);
        return DONE;
    }
    if (done == (size_t)len) {
        out->ret = (long)done;
        return DONE;
    }
    if ((rc == -EAGAIN || rc == 0) && !nb) {
        p->progress = done;
        return BLOCKED;
    }
    if (done > 0) {
        out->ret = (long)done;
        return DONE;
    }
    engine_result(f, out, rc == 0 ? -EAGAIN : rc);
    return DONE;
}

static enum step sys_close(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 1, 1))
        return STOPPED;
    long long fd;
    if (!int_arg(c, 0, &fd))
        return STOPPED;
    struct pkt_fd *e = fd_get(c->r, fd, PKT_FD_EPOLL);
    if (e) {
        e->kind = PKT_FD_FREE;
        out->ret = 0;
        return DONE;
    }
    struct pkt_fd *f = fd_get(c->r, fd, PKT_FD_SOCKET);
    if (!f) {
        set_err(out, EBADF);
        return DONE;
    }
    if (f->linger_on && f->linger_s > 0) {
        pkt_skip(c->r, c->ev->line, "close() with SO_LINGER and a timeout is not supported");
        return STOPPED;
    }
    long rc = tcp_close(c->r->st, c->r->now, f->sd);
    f->kind = PKT_FD_FREE;
    /* forget epoll interest in it, as the kernel does on the last close */
    for (int i = 0; i < PKT_MAX_FDS; i++)
        if (c->r->fds[i].kind == PKT_FD_EPOLL)
            for (size_t k = 0; k < c->r->fds[i].nep; k++)
                if (c->r->fds[i].ep[k].fd == fd)
                    c->r->fds[i].ep[k--] = c->r->fds[i].ep[--c->r->fds[i].nep];
    engine_result(f, out, rc);
    return DONE;
}

static enum step sys_shutdown(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 2, 2))
        return STOPPED;
    struct pkt_fd *f = sock_arg(c, out);
    long long how;
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    if (!int_arg(c, 1, &how))
        return STOPPED;
    enum tcp_shut h = how == SHUT_RD ? TCP_SHUT_RD : how == SHUT_WR ? TCP_SHUT_WR : TCP_SHUT_RDWR;
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
        set_err(out, EINVAL);
        return DONE;
    }
    engine_result(f, out, tcp_shutdown(c->r->st, c->r->now, f->sd, h));
    return DONE;
}

/* ---- socket options -------------------------------------------------------------- */

static long linux_state(enum tcp_state s)
{
    static const long map[TCP_NSTATES] = {
        [TCP_CLOSED] = 7,      [TCP_LISTEN] = 10,    [TCP_SYN_SENT] = 2, [TCP_SYN_RECEIVED] = 3,
        [TCP_ESTABLISHED] = 1, [TCP_FIN_WAIT_1] = 4, [TCP_FIN_WAIT_2] = 5, [TCP_CLOSE_WAIT] = 8,
        [TCP_CLOSING] = 11,    [TCP_LAST_ACK] = 9,   [TCP_TIME_WAIT] = 6,
    };
    return (unsigned)s < TCP_NSTATES ? map[s] : 0;
}

static enum step sys_setsockopt(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 5, 5))
        return STOPPED;
    struct pkt_fd *f = sock_arg(c, out);
    long long level, name, v;
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    if (!int_arg(c, 1, &level) || !int_arg(c, 2, &name))
        return STOPPED;
    const struct pkt_expr *val = arg(c, 3);
    struct pkt_runner *r = c->r;
    if (level == SOL_SOCKET && name == SO_LINGER) {
        long long on = 0, secs = 0;
        const struct pkt_expr *on_e = field(val, "onoff"), *l_e = field(val, "linger");
        if (!on_e || !l_e || !eval_int(c, on_e, &on) || !eval_int(c, l_e, &secs)) {
            if (!pkt_stopped(r))
                pkt_fail(r, c->ev->line, "SO_LINGER takes {onoff=N, linger=N}");
            return STOPPED;
        }
        f->linger_on = on != 0;
        f->linger_s = (long)secs;
        engine_result(f, out, tcp_setsockopt(r->st, r->now, f->sd, TCP_OPT_LINGER0, on && !secs));
        return DONE;
    }
    enum tcp_sockopt opt;
    long *store;
    if (level == SOL_SOCKET && name == SO_REUSEADDR)
        opt = TCP_OPT_REUSEADDR, store = &f->reuseaddr;
    else if (level == SOL_SOCKET && name == SO_KEEPALIVE)
        opt = TCP_OPT_KEEPALIVE, store = &f->keepalive;
    else if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF)) {
        struct tcp_status st;
        if (tcp_status(r->st, f->sd, &st) == 0 && (st.state != TCP_CLOSED || st.listening)) {
            pkt_skip(r, c->ev->line, "changing SO_RCVBUF/SO_SNDBUF once connected or "
                                     "listening is not supported");
            return STOPPED;
        }
        opt = name == SO_RCVBUF ? TCP_OPT_RCVBUF : TCP_OPT_SNDBUF;
        store = name == SO_RCVBUF ? &f->rcvbuf : &f->sndbuf;
    } else if (level == IPPROTO_TCP && name == PKT_TCP_NODELAY)
        opt = TCP_OPT_NODELAY, store = &f->nodelay;
    else if (level == IPPROTO_TCP && name == PKT_TCP_KEEPIDLE)
        opt = TCP_OPT_KEEPIDLE, store = &f->keepidle;
    else if (level == IPPROTO_TCP && name == PKT_TCP_KEEPINTVL)
        opt = TCP_OPT_KEEPINTVL, store = &f->keepintvl;
    else if (level == IPPROTO_TCP && name == PKT_TCP_KEEPCNT)
        opt = TCP_OPT_KEEPCNT, store = &f->keepcnt;
    else if (level == IPPROTO_TCP && name == PKT_TCP_USER_TIMEOUT)
        opt = TCP_OPT_USER_TIMEOUT, store = &f->user_timeout;
    else {
        const struct pkt_expr *ne = arg(c, 2);
        pkt_skip(r, c->ev->line, "socket option %s (level %lld) is not supported",
                 ne && ne->kind == PKT_E_WORD ? ne->s : "(a number)", level);
        return STOPPED;
    }
    if (!eval_int(c, val, &v)) {
        if (!pkt_stopped(r))
            pkt_fail(r, c->ev->line, "setsockopt(): the value must be [N]");
        return STOPPED;
    }
    int rc = tcp_setsockopt(r->st, r->now, f->sd, opt, (long)v);
    if (rc == 0) {
        *store = (long)v;
        /* Linux doubles a buffer size for its bookkeeping and reports that */
        if ((opt == TCP_OPT_RCVBUF || opt == TCP_OPT_SNDBUF) && !strcmp(r->cfg.profile, "linux"))
            *store = (long)v * 2;
    }
    engine_result(f, out, rc);
    return DONE;
}

static bool check_value(struct call *c, const char *what, const struct pkt_expr *want, long long got)
{
    long long w;
    if (is_ellipsis(want))
        return true;
    if (!eval_int(c, want, &w)) {
        if (!pkt_stopped(c->r))
            pkt_fail(c->r, c->ev->line, "%s(): cannot read the expected value of %s", c->sc->name,
                     what);
        return false;
    }
    if (w != got) {
        pkt_fail(c->r, c->ev->line, "%s(): %s: expected %lld but got %lld", c->sc->name, what, w,
                 got);
        return false;
    }
    return true;
}

static bool check_tcp_info(struct call *c, const struct pkt_fd *f, const struct pkt_expr *want)
{
    struct tcp_status st;
    if (tcp_status(c->r->st, f->sd, &st) < 0)
        return false;
    if (!want || want->kind != PKT_E_STRUCT)
        return is_ellipsis(want);
    for (size_t i = 0; i < want->n; i++) {
        const struct pkt_expr *fe = want->items[i];
        if (fe->kind == PKT_E_ELLIPSIS)
            continue;
        if (fe->kind != PKT_E_FIELD || fe->n < 1) {
            pkt_fail(c->r, fe->line, "PKT_TCP_INFO: expected {tcpi_name=value, ...}");
            return false;
        }
        long long got;
        const char *n = fe->s;
        if (!strcmp(n, "tcpi_state"))
            got = linux_state(st.state);
        else if (!strcmp(n, "tcpi_rto"))
            got = (long long)st.rto_us;
        else if (!strcmp(n, "tcpi_rtt"))
            got = (long long)st.srtt_us;
        else if (!strcmp(n, "tcpi_rttvar"))
            got = (long long)st.rttvar_us;
        else if (!strcmp(n, "tcpi_backoff") || !strcmp(n, "tcpi_retransmits"))
            got = st.backoff;
        else if (!strcmp(n, "tcpi_snd_mss"))
            got = st.mss;
        else if (!strcmp(n, "tcpi_snd_wscale"))
            got = st.snd_wscale;
        else if (!strcmp(n, "tcpi_rcv_wscale"))
            got = st.rcv_wscale;
        else if (!strcmp(n, "tcpi_snd_wnd"))
            got = st.snd_wnd;
        else {
            pkt_skip(c->r, fe->line, "PKT_TCP_INFO field %s is not supported", n);
            return false;
        }
        if (!check_value(c, n, fe->items[0], got))
            return false;
    }
    return true;
}

static enum step sys_getsockopt(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 5, 5))
        return STOPPED;
    struct pkt_fd *f = sock_arg(c, out);
    long long level, name;
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    if (!int_arg(c, 1, &level) || !int_arg(c, 2, &name))
        return STOPPED;
    const struct pkt_expr *want = arg(c, 3);
    struct pkt_runner *r = c->r;
    struct tcp_status st;
    if (tcp_status(r->st, f->sd, &st) < 0) {
        set_err(out, EBADF);
        return DONE;
    }
    long long got;
    if (level == IPPROTO_TCP && name == PKT_TCP_INFO) {
        if (!check_tcp_info(c, f, want))
            return STOPPED;
        out->ret = 0;
        return DONE;
    }
    if (level == SOL_SOCKET && name == SO_LINGER) {
        if (!check_value(c, "onoff", field(want, "onoff"), f->linger_on) ||
            !check_value(c, "linger", field(want, "linger"), f->linger_s))
            return STOPPED;
        out->ret = 0;
        return DONE;
    }
    if (level == SOL_SOCKET && name == SO_ERROR) {
        got = st.error && !f->err_reported ? -st.error : 0;
        if (st.error)
            f->err_reported = true;
    } else if (level == SOL_SOCKET && name == SO_RCVBUF)
        got = f->rcvbuf;
    else if (level == SOL_SOCKET && name == SO_SNDBUF)
        got = f->sndbuf;
    else if (level == SOL_SOCKET && name == SO_KEEPALIVE)
        got = f->keepalive != 0;
    else if (level == SOL_SOCKET && name == SO_REUSEADDR)
        got = f->reuseaddr != 0;
    else if (level == SOL_SOCKET && name == SO_TYPE)
        got = SOCK_STREAM;
    else if (level == SOL_SOCKET && name == SO_ACCEPTCONN)
        got = st.listening;
    else if (level == IPPROTO_TCP && name == PKT_TCP_NODELAY)
        got = f->nodelay != 0;
    else if (level == IPPROTO_TCP && name == PKT_TCP_KEEPIDLE)
        got = f->keepidle;
    else if (level == IPPROTO_TCP && name == PKT_TCP_KEEPINTVL)
        got = f->keepintvl;
    else if (level == IPPROTO_TCP && name == PKT_TCP_KEEPCNT)
        got = f->keepcnt;
    else if (level == IPPROTO_TCP && name == PKT_TCP_USER_TIMEOUT)
        got = f->user_timeout;
    else if (level == IPPROTO_TCP && name == PKT_TCP_MAXSEG)
        got = st.mss;
    else {
        const struct pkt_expr *ne = arg(c, 2);
        pkt_skip(r, c->ev->line, "socket option %s (level %lld) is not supported",
                 ne && ne->kind == PKT_E_WORD ? ne->s : "(a number)", level);
        return STOPPED;
    }
    if (!check_value(c, "the option's value", want, got))
        return STOPPED;
    out->ret = 0;
    return DONE;
}

static enum step sys_fcntl(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 2, 3))
        return STOPPED;
    long long fd, cmd, v = 0;
    if (!int_arg(c, 0, &fd) || !int_arg(c, 1, &cmd))
        return STOPPED;
    struct pkt_fd *f = fd >= 0 && fd < PKT_MAX_FDS && c->r->fds[fd].kind != PKT_FD_FREE
                           ? &c->r->fds[fd] : NULL;
    if (!f) {
        set_err(out, EBADF);
        return DONE;
    }
    if (c->sc->nargs == 3 && !int_arg(c, 2, &v))
        return STOPPED;
    if (cmd == F_GETFL)
        out->ret = O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
    else if (cmd == F_SETFL) {
        f->nonblock = (v & O_NONBLOCK) != 0;
        out->ret = 0;
    } else if (cmd == F_GETFD || cmd == F_SETFD)
        out->ret = 0;
    else {
        pkt_skip(c->r, c->ev->line, "fcntl() command %lld is not supported", cmd);
        return STOPPED;
    }
    return DONE;
}

static enum step sys_ioctl(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 3, 3))
        return STOPPED;
    struct pkt_fd *f = sock_arg(c, out);
    long long req;
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    if (!int_arg(c, 1, &req))
        return STOPPED;
    struct tcp_status st;
    if (tcp_status(c->r->st, f->sd, &st) < 0) {
        set_err(out, EBADF);
        return DONE;
    }
    if (req == FIONBIO) {
        long long v;
        if (!int_arg(c, 2, &v))
            return STOPPED;
        f->nonblock = v != 0;
    } else if (req == FIONREAD || req == PKT_SIOCINQ) {
        if (!check_value(c, "bytes to read", arg(c, 2), st.recv_queue))
            return STOPPED;
    } else if (req == PKT_SIOCOUTQ) {
        if (!check_value(c, "bytes not acknowledged", arg(c, 2), st.send_queue))
            return STOPPED;
    } else {
        pkt_skip(c->r, c->ev->line, "ioctl() request %lld is not supported", req);
        return STOPPED;
    }
    out->ret = 0;
    return DONE;
}

/* poll(2) bits of a socket, from the engine's readiness and its state. */
static unsigned poll_bits(struct pkt_runner *r, const struct pkt_fd *f)
{
    unsigned e = tcp_poll(r->st, f->sd), out = 0;
    if (e & TCP_POLLIN)
        out |= POLLIN | POLLRDNORM;
    if (e & TCP_POLLOUT)
        out |= POLLOUT | POLLWRNORM;
    if (e & TCP_POLLERR)
        out |= POLLERR;
    if (e & TCP_POLLHUP)
        out |= POLLHUP;
    struct tcp_status st;
    if (tcp_status(r->st, f->sd, &st) == 0 && !st.listening &&
        (st.state == TCP_CLOSE_WAIT || st.state == TCP_LAST_ACK || st.state == TCP_CLOSING ||
         st.state == TCP_TIME_WAIT || (e & TCP_POLLHUP)))
        out |= POLLRDHUP;
    return out;
}

static enum step sys_poll(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 3, 3))
        return STOPPED;
    const struct pkt_expr *fds = arg(c, 0);
    long long nfds, timeout;
    if (!int_arg(c, 1, &nfds) || !int_arg(c, 2, &timeout))
        return STOPPED;
    if (!fds || fds->kind != PKT_E_ARRAY || (long long)fds->n != nfds) {
        pkt_fail(c->r, c->ev->line, "poll(): expected [{fd=N, events=...}, ...] with %lld entries",
                 nfds);
        return STOPPED;
    }
    unsigned got[64];
    int ready = 0;
    for (size_t i = 0; i < fds->n && i < 64; i++) {
        long long fd, events;
        if (!eval_int(c, field(fds->items[i], "fd"), &fd) ||
            !eval_int(c, field(fds->items[i], "events"), &events)) {
            if (!pkt_stopped(c->r))
                pkt_fail(c->r, fds->items[i]->line, "poll(): each entry needs fd= and events=");
            return STOPPED;
        }
        struct pkt_fd *f = fd_get(c->r, fd, PKT_FD_SOCKET);
        got[i] = f ? poll_bits(c->r, f) & ((unsigned)events | POLLERR | POLLHUP) : POLLNVAL;
        ready += got[i] != 0;
    }
    struct pkt_pending *p = &c->r->pend;
    if (!ready && timeout != 0) {
        if (!c->retry)
            p->deadline_us = timeout < 0 ? TCP_TIME_NEVER : c->r->now + (uint64_t)timeout * 1000;
        if (c->r->now < p->deadline_us)
            return BLOCKED;
    }
    for (size_t i = 0; i < fds->n && i < 64; i++) {
        const struct pkt_expr *want = field(fds->items[i], "revents");
        char what[32];
        snprintf(what, sizeof what, "revents of entry %zu", i + 1);
        if (want && !check_value(c, what, want, got[i]))
            return STOPPED;
    }
    out->ret = ready;
    return DONE;
}

static enum step sys_epoll_create(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 1, 1))
        return STOPPED;
    int fd = fd_alloc(c->r, PKT_FD_EPOLL);
    if (fd < 0)
        set_err(out, EMFILE);
    else
        out->ret = fd;
    return DONE;
}

static enum step sys_epoll_ctl(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 4, 4))
        return STOPPED;
    long long epfd, op, fd, events = 0, data;
    if (!int_arg(c, 0, &epfd) || !int_arg(c, 1, &op) || !int_arg(c, 2, &fd))
        return STOPPED;
    struct pkt_fd *e = fd_get(c->r, epfd, PKT_FD_EPOLL);
    if (!e || !fd_get(c->r, fd, PKT_FD_SOCKET)) {
        set_err(out, EBADF);
        return DONE;
    }
    data = fd;
    const struct pkt_expr *ev = arg(c, 3);
    if (op != EPOLL_CTL_DEL) {
        if (!eval_int(c, field(ev, "events"), &events)) {
            if (!pkt_stopped(c->r))
                pkt_fail(c->r, c->ev->line, "epoll_ctl(): expected {events=..., fd=N}");
            return STOPPED;
        }
        const struct pkt_expr *d = field(ev, "fd");
        if (!d)
            d = field(ev, "u64");
        if (d && !eval_int(c, d, &data))
            return STOPPED;
        if (events & (EPOLLET | EPOLLONESHOT)) {
            pkt_skip(c->r, c->ev->line, "EPOLLET and EPOLLONESHOT are not supported");
            return STOPPED;
        }
    }
    size_t k;
    for (k = 0; k < e->nep && e->ep[k].fd != fd; k++)
        ;
    if (op == EPOLL_CTL_ADD) {
        if (k < e->nep) {
            set_err(out, EEXIST);
            return DONE;
        }
        if (e->nep == PKT_MAX_EPOLL) {
            set_err(out, ENOSPC);
            return DONE;
        }
        e->ep[e->nep++] = (struct pkt_epoll_item){(int)fd, (uint32_t)events, data};
    } else if (k == e->nep) {
        set_err(out, ENOENT);
        return DONE;
    } else if (op == EPOLL_CTL_MOD) {
        e->ep[k] = (struct pkt_epoll_item){(int)fd, (uint32_t)events, data};
    } else {
        e->ep[k] = e->ep[--e->nep];
    }
    out->ret = 0;
    return DONE;
}

static enum step sys_epoll_wait(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 4, 4))
        return STOPPED;
    long long epfd, maxev, timeout;
    if (!int_arg(c, 0, &epfd) || !int_arg(c, 2, &maxev) || !int_arg(c, 3, &timeout))
        return STOPPED;
    struct pkt_fd *e = fd_get(c->r, epfd, PKT_FD_EPOLL);
    if (!e) {
        set_err(out, EBADF);
        return DONE;
    }
    if (maxev <= 0) {
        set_err(out, EINVAL);
        return DONE;
    }
    struct {
        unsigned events;
        long long data;
    } ready[PKT_MAX_EPOLL];
    int n = 0;
    for (size_t k = 0; k < e->nep && n < maxev; k++) {
        struct pkt_fd *f = fd_get(c->r, e->ep[k].fd, PKT_FD_SOCKET);
        if (!f)
            continue;
        /* EPOLLIN.. share poll(2)'s values */
        unsigned bits = poll_bits(c->r, f) & (e->ep[k].events | EPOLLERR | EPOLLHUP);
        bits &= ~(unsigned)(POLLRDNORM | POLLWRNORM);
        if (bits) {
            ready[n].events = bits;
            ready[n].data = e->ep[k].data;
            n++;
        }
    }
    struct pkt_pending *p = &c->r->pend;
    if (!n && timeout != 0) {
        if (!c->retry)
            p->deadline_us = timeout < 0 ? TCP_TIME_NEVER : c->r->now + (uint64_t)timeout * 1000;
        if (c->r->now < p->deadline_us)
            return BLOCKED;
    }
    const struct pkt_expr *want = arg(c, 1);
    if (!is_ellipsis(want)) {
        size_t nw = want->kind == PKT_E_ARRAY ? want->n : 1;
        for (size_t i = 0; i < nw && (int)i < n; i++) {
            const struct pkt_expr *w = want->kind == PKT_E_ARRAY ? want->items[i] : want;
            const struct pkt_expr *d = field(w, "fd");
            if (!d)
                d = field(w, "u64");
            if (!check_value(c, "events", field(w, "events"), ready[i].events) ||
                !check_value(c, "fd", d, ready[i].data))
                return STOPPED;
        }
    }
    out->ret = n;
    return DONE;
}

static enum step sys_getname(struct call *c, struct callres *out)
{
    if (!nargs_ok(c, 3, 3))
        return STOPPED;
    struct pkt_fd *f = sock_arg(c, out);
    if (!f)
        return pkt_stopped(c->r) ? STOPPED : DONE;
    struct tcp_status st;
    if (tcp_status(c->r->st, f->sd, &st) < 0 ||
        (!strcmp(c->sc->name, "getpeername") && !synchronized(st.state) &&
         st.state != TCP_SYN_RECEIVED)) {
        set_err(out, ENOTCONN);
        return DONE;
    }
    out->ret = 0;
    return DONE;
}

static const struct {
    const char *name;
    enum step (*fn)(struct call *c, struct callres *out);
    bool may_block;
} calls[] = {
    {"socket", sys_socket, false},       {"bind", sys_bind, false},
    {"listen", sys_listen, false},       {"accept", sys_accept, true},
    {"accept4", sys_accept, true},       {"connect", sys_connect, true},
    {"read", sys_read, true},            {"readv", sys_read, true},
    {"recv", sys_read, true},            {"recvfrom", sys_read, true},
    {"recvmsg", sys_read, true},         {"write", sys_write, true},
    {"writev", sys_write, true},         {"send", sys_write, true},
    {"sendto", sys_write, true},         {"sendmsg", sys_write, true},
    {"close", sys_close, false},         {"shutdown", sys_shutdown, false},
    {"setsockopt", sys_setsockopt, false}, {"getsockopt", sys_getsockopt, false},
    {"fcntl", sys_fcntl, false},         {"ioctl", sys_ioctl, false},
    {"poll", sys_poll, true},            {"epoll_create", sys_epoll_create, false},
    {"epoll_create1", sys_epoll_create, false}, {"epoll_ctl", sys_epoll_ctl, false},
    {"epoll_wait", sys_epoll_wait, true}, {"getsockname", sys_getname, false},
    {"getpeername", sys_getname, false},
};

/* ---- checking the result ---------------------------------------------------------- */

static void errno_text(char *buf, size_t n, int err)
{
    const char *name = pkt_errno_name(err);
    snprintf(buf, n, "%s (%s)", name ? name : "?", strerror(err));
}

static void check_result(struct call *c, const struct callres *got, bool blocked)
{
    struct pkt_runner *r = c->r;
    const struct pkt_syscall *sc = c->sc;
    uint64_t tol = r->cfg.tolerance_us;
    if (blocked) {
        uint64_t want = r->pend.expect_us, at = r->now;
        if (at + tol < want || at > want + tol) {
            pkt_fail(r, c->ev->line,
                     "timing error: expected system call %s() to return at %.6f sec but it "
                     "returned at %.6f sec; tolerance %.6f sec",
                     sc->name, (double)want / 1e6, (double)at / 1e6, (double)tol / 1e6);
            return;
        }
    } else if (sc->has_end && r->pend.expect_us > r->now + tol) {
        pkt_fail(r, c->ev->line,
                 "timing error: expected system call %s() to block until %.6f sec but it "
                 "returned at once (%.6f sec)",
                 sc->name, (double)r->pend.expect_us / 1e6, (double)r->now / 1e6);
        return;
    }
    long long want;
    if (is_ellipsis(sc->ret))
        return;
    if (!eval_int(c, sc->ret, &want)) {
        if (!pkt_stopped(r))
            pkt_fail(r, c->ev->line, "%s(): the expected result must be a number", sc->name);
        return;
    }
    char have[160];
    if (got->ret == -1) {
        char e[120];
        errno_text(e, sizeof e, got->err);
        snprintf(have, sizeof have, "-1 %s", e);
    } else {
        snprintf(have, sizeof have, "%ld", got->ret);
    }
    if (want != got->ret) {
        pkt_fail(r, c->ev->line, "runtime error in %s call: expected result %lld%s%s but got %s",
                 sc->name, want, sc->err_name ? " " : "", sc->err_name ? sc->err_name : "", have);
        return;
    }
    if (want == -1 && sc->err_name) {
        int we = pkt_errno_from_name(sc->err_name);
        if (we != got->err) {
            char e[120];
            errno_text(e, sizeof e, we);
            pkt_fail(r, c->ev->line, "runtime error in %s call: expected result -1 %s but got %s",
                     sc->name, e, have);
        }
    }
}

/* ---- the runner's side ------------------------------------------------------------ */

static int find_call(const char *name)
{
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (!strcmp(calls[i].name, name))
            return (int)i;
    return -1;
}

void pkt_sys_start(struct pkt_runner *r, size_t evi)
{
    const struct pkt_event *ev = &r->s->events[evi];
    int k = find_call(ev->sc.name);
    if (k < 0) {
        pkt_skip(r, ev->line, "system call %s() is not supported", ev->sc.name);
        return;
    }
    struct call c = {r, ev, &ev->sc, false};
    struct callres res = {0, 0};
    memset(&r->pend, 0, sizeof r->pend);
    r->pend.ev = evi;
    r->pend.start_us = r->now;
    r->pend.expect_us = r->call_end_us;
    r->pend.deadline_us = TCP_TIME_NEVER;
    enum step s = calls[k].fn(&c, &res);
    if (s == BLOCKED) {
        r->pend.active = true;
        return;
    }
    r->pend.deadline_us = TCP_TIME_NEVER;
    if (s == DONE)
        check_result(&c, &res, false);
}

bool pkt_sys_retry(struct pkt_runner *r)
{
    if (!r->pend.active || pkt_stopped(r))
        return false;
    const struct pkt_event *ev = &r->s->events[r->pend.ev];
    int k = find_call(ev->sc.name);
    struct call c = {r, ev, &ev->sc, true};
    struct callres res = {0, 0};
    enum step s = calls[k].fn(&c, &res);
    if (s == BLOCKED)
        return false;
    r->pend.active = false;
    if (s == DONE)
        check_result(&c, &res, true);
    r->pend.deadline_us = TCP_TIME_NEVER;
    return true;
}

void pkt_sys_cleanup(struct pkt_runner *r)
{
    for (int i = 0; i < PKT_MAX_FDS; i++)
        r->fds[i].kind = PKT_FD_FREE;
}
