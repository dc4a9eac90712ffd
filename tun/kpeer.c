/*
 * kpeer.c — kernel sockets behind small handles, each call reported as a
 * TEV_CALL event (see kpeer.h).
 *
 * Every function is a thin wrapper: one system call, its result turned into
 * a negative errno, one event. The only policy here is what makes runs
 * readable: handles instead of file descriptors, non-blocking sockets, no
 * SIGPIPE, and connect() reporting "in progress" as 0 like tcp_connect().
 */
#include "kpeer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* not netinet/tcp.h: its state enum clashes with ours */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kdiag.h"

struct kpeer {
    struct kpeer_config cfg;
    int fd[KPEER_MAX_SOCKETS]; /* -1: handle free */
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct kpeer *kpeer_new(const struct kpeer_config *cfg)
{
    struct kpeer *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->cfg = *cfg;
    if (!k->cfg.host)
        k->cfg.host = "kernel";
    for (int i = 0; i < KPEER_MAX_SOCKETS; i++)
        k->fd[i] = -1;
    return k;
}

void kpeer_free(struct kpeer *k)
{
    if (!k)
        return;
    for (int i = 0; i < KPEER_MAX_SOCKETS; i++)
        if (k->fd[i] >= 0)
            close(k->fd[i]);
    free(k);
}

int kpeer_fd(const struct kpeer *k, int h)
{
    return (h >= 0 && h < KPEER_MAX_SOCKETS) ? k->fd[h] : -1;
}

int kpeer_tuple(const struct kpeer *k, int h, struct tcp_tuple *out)
{
    memset(out, 0, sizeof *out);
    int fd = kpeer_fd(k, h);
    if (fd < 0)
        return -EBADF;
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return -errno;
    out->laddr = ntohl(a.sin_addr.s_addr);
    out->lport = ntohs(a.sin_port);
    len = sizeof a;
    if (getpeername(fd, (struct sockaddr *)&a, &len) == 0) {
        out->raddr = ntohl(a.sin_addr.s_addr);
        out->rport = ntohs(a.sin_port);
    }
    return 0;
}

/* Report one call: the handle, the connection as known now (or, for a
 * datagram, with `peer` as the remote end), the result. */
static long emit_to(struct kpeer *k, int h, enum tcp_call call, long arg, long result,
                    const struct sockaddr_in *peer)
{
    if (!k->cfg.on_event)
        return result;
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_CALL;
    ev.t_us = k->cfg.clock ? k->cfg.clock(k->cfg.clock_ctx) : mono_us();
    ev.host = k->cfg.host;
    ev.sd = h;
    if (h >= 0)
        kpeer_tuple(k, h, &ev.tuple);
    if (peer) {
        ev.tuple.raddr = ntohl(peer->sin_addr.s_addr);
        ev.tuple.rport = ntohs(peer->sin_port);
    }
    ev.u.call.call = call;
    ev.u.call.result = result;
    ev.u.call.arg = arg;
    k->cfg.on_event(k->cfg.event_ctx, &ev);
    return result;
}

static long emit(struct kpeer *k, int h, enum tcp_call call, long arg, long result)
{
    return emit_to(k, h, call, arg, result, NULL);
}

static int new_handle(struct kpeer *k, int fd)
{
    for (int i = 0; i < KPEER_MAX_SOCKETS; i++)
        if (k->fd[i] < 0) {
            k->fd[i] = fd;
            return i;
        }
    return -EMFILE;
}

static int socket_of_type(struct kpeer *k, int type)
{
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return (int)emit(k, -1, TCP_CALL_SOCKET, 0, -errno);
    int h = new_handle(k, fd);
    if (h < 0) {
        close(fd);
        return (int)emit(k, -1, TCP_CALL_SOCKET, 0, h);
    }
    /* The event carries the kernel's descriptor, as socket(2) returns it (the
     * UI shows "socket() = 5"); the caller gets the handle. */
    emit(k, h, TCP_CALL_SOCKET, 0, fd);
    return h;
}

int kpeer_socket(struct kpeer *k)
{
    return socket_of_type(k, SOCK_STREAM);
}

int kpeer_socket_udp(struct kpeer *k)
{
    return socket_of_type(k, SOCK_DGRAM);
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(addr);
    a.sin_port = htons(port);
    return a;
}

#define FD_OR_EBADF(call, arg)                                                                     \
    int fd = kpeer_fd(k, h);                                                                       \
    if (fd < 0)                                                                                    \
        return (int)emit(k, h, call, arg, -EBADF);

int kpeer_bind(struct kpeer *k, int h, uint32_t addr, uint16_t port)
{
    FD_OR_EBADF(TCP_CALL_BIND, port)
    struct sockaddr_in a = sin_of(addr, port);
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ? -errno : 0;
    return (int)emit(k, h, TCP_CALL_BIND, port, rc);
}

int kpeer_listen(struct kpeer *k, int h, int backlog)
{
    FD_OR_EBADF(TCP_CALL_LISTEN, backlog)
    int rc = listen(fd, backlog) < 0 ? -errno : 0;
    return (int)emit(k, h, TCP_CALL_LISTEN, backlog, rc);
}

int kpeer_accept(struct kpeer *k, int h, struct tcp_tuple *tuple)
{
    FD_OR_EBADF(TCP_CALL_ACCEPT, 0)
    int nfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (nfd < 0) {
        int e = errno == EWOULDBLOCK ? EAGAIN : errno;
        return (int)emit(k, h, TCP_CALL_ACCEPT, 0, -e);
    }
    int nh = new_handle(k, nfd);
    if (nh < 0) {
        close(nfd);
        return (int)emit(k, h, TCP_CALL_ACCEPT, 0, nh);
    }
    if (tuple)
        kpeer_tuple(k, nh, tuple);
    /* Report on the new handle so the event carries the new connection, and
     * the new descriptor as accept(2) returns it; the caller gets the handle. */
    emit(k, nh, TCP_CALL_ACCEPT, h, nfd);
    return nh;
}

int kpeer_connect(struct kpeer *k, int h, uint32_t addr, uint16_t port)
{
    FD_OR_EBADF(TCP_CALL_CONNECT, port)
    struct sockaddr_in a = sin_of(addr, port);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ? -errno : 0;
    if (rc == -EINPROGRESS)
        rc = 0;
    return (int)emit(k, h, TCP_CALL_CONNECT, port, rc);
}

ssize_t kpeer_send(struct kpeer *k, int h, const void *buf, size_t len)
{
    FD_OR_EBADF(TCP_CALL_SEND, (long)len)
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0)
        n = errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return emit(k, h, TCP_CALL_SEND, (long)len, n);
}

ssize_t kpeer_recv(struct kpeer *k, int h, void *buf, size_t len)
{
    FD_OR_EBADF(TCP_CALL_RECV, (long)len)
    ssize_t n = recv(fd, buf, len, 0);
    if (n < 0)
        n = errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return emit(k, h, TCP_CALL_RECV, (long)len, n);
}

ssize_t kpeer_sendto(struct kpeer *k, int h, uint32_t addr, uint16_t port, const void *buf,
                     size_t len)
{
    FD_OR_EBADF(TCP_CALL_SENDTO, (long)len)
    struct sockaddr_in a = sin_of(addr, port);
    ssize_t n = sendto(fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof a);
    if (n < 0)
        n = errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return emit_to(k, h, TCP_CALL_SENDTO, (long)len, n, &a);
}

ssize_t kpeer_recvfrom(struct kpeer *k, int h, void *buf, size_t len)
{
    FD_OR_EBADF(TCP_CALL_RECVFROM, (long)len)
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    ssize_t n = recvfrom(fd, buf, len, 0, (struct sockaddr *)&a, &alen);
    if (n < 0)
        n = errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return emit_to(k, h, TCP_CALL_RECVFROM, (long)len, n, n >= 0 ? &a : NULL);
}

int kpeer_shutdown(struct kpeer *k, int h, enum tcp_shut how)
{
    FD_OR_EBADF(TCP_CALL_SHUTDOWN, how)
    int sh = how == TCP_SHUT_RD ? SHUT_RD : how == TCP_SHUT_WR ? SHUT_WR : SHUT_RDWR;
    int rc = shutdown(fd, sh) < 0 ? -errno : 0;
    return (int)emit(k, h, TCP_CALL_SHUTDOWN, how, rc);
}

int kpeer_close(struct kpeer *k, int h)
{
    FD_OR_EBADF(TCP_CALL_CLOSE, 0)
    /* Report first, while the tuple can still be read. */
    emit(k, h, TCP_CALL_CLOSE, 0, 0);
    close(fd);
    k->fd[h] = -1;
    return 0;
}

int kpeer_abort(struct kpeer *k, int h)
{
    FD_OR_EBADF(TCP_CALL_ABORT, 0)
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    int rc = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0 ? -errno : 0;
    emit(k, h, TCP_CALL_ABORT, 0, rc);
    close(fd);
    k->fd[h] = -1;
    return rc;
}

int kpeer_setsockopt(struct kpeer *k, int h, enum tcp_sockopt opt, long value)
{
    FD_OR_EBADF(TCP_CALL_SETSOCKOPT, (long)opt)
    int level = SOL_SOCKET, name = -1, v = (int)value;
    const void *p = &v;
    socklen_t len = sizeof v;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    switch (opt) {
    case TCP_OPT_KEEPALIVE:
        name = SO_KEEPALIVE;
        break;
    case TCP_OPT_REUSEADDR:
        name = SO_REUSEADDR;
        break;
    case TCP_OPT_SNDBUF:
        name = SO_SNDBUF;
        break;
    case TCP_OPT_RCVBUF:
        name = SO_RCVBUF;
        break;
    case TCP_OPT_LINGER0:
        name = SO_LINGER;
        lg.l_onoff = value != 0;
        p = &lg;
        len = sizeof lg;
        break;
    case TCP_OPT_KEEPIDLE:
        level = IPPROTO_TCP;
        name = TCP_KEEPIDLE;
        break;
    case TCP_OPT_KEEPINTVL:
        level = IPPROTO_TCP;
        name = TCP_KEEPINTVL;
        break;
    case TCP_OPT_KEEPCNT:
        level = IPPROTO_TCP;
        name = TCP_KEEPCNT;
        break;
    case TCP_OPT_NODELAY:
        level = IPPROTO_TCP;
        name = TCP_NODELAY;
        break;
    case TCP_OPT_USER_TIMEOUT:
        level = IPPROTO_TCP;
        name = TCP_USER_TIMEOUT;
        break;
    case TCP_OPT_DELACK:
        level = IPPROTO_TCP;
        name = TCP_QUICKACK;
        v = value == 0;
        break;
    case TCP_OPT_SACK:
        break; /* Linux has only the sysctl net.ipv4.tcp_sack: ENOPROTOOPT */
    case TCP_OPT_TTL:
        level = IPPROTO_IP;
        name = IP_TTL;
        break;
    case TCP_OPT_TOS:
        level = IPPROTO_IP;
        name = IP_TOS;
        break;
    }
    int rc = name < 0 ? -ENOPROTOOPT : setsockopt(fd, level, name, p, len) < 0 ? -errno : 0;
    return (int)emit(k, h, TCP_CALL_SETSOCKOPT, (long)opt, rc);
}

int kpeer_nonblock(struct kpeer *k, int h)
{
    FD_OR_EBADF(TCP_CALL_FCNTL, 0)
    int fl = fcntl(fd, F_GETFL);
    int rc = fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
    return (int)emit(k, h, TCP_CALL_FCNTL, 0, rc);
}

int kpeer_so_error(struct kpeer *k, int h, int *err)
{
    *err = 0;
    FD_OR_EBADF(TCP_CALL_GETSOCKOPT, 0)
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        return (int)emit(k, h, TCP_CALL_GETSOCKOPT, 0, -errno);
    *err = -e;
    emit(k, h, TCP_CALL_GETSOCKOPT, 0, -e);
    return 0;
}

unsigned kpeer_poll(const struct kpeer *k, int h)
{
    int fd = kpeer_fd(k, h);
    if (fd < 0)
        return 0;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    unsigned r = 0;
    if (p.revents & POLLIN)
        r |= TCP_POLLIN;
    if (p.revents & POLLOUT)
        r |= TCP_POLLOUT;
    if (p.revents & POLLERR)
        r |= TCP_POLLERR;
    if (p.revents & POLLHUP)
        r |= TCP_POLLHUP;
    return r;
}

int kpeer_state(const struct kpeer *k, int h)
{
    int fd = kpeer_fd(k, h);
    if (fd < 0)
        return -EBADF;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return -errno;
    enum tcp_state s = kdiag_state_from_linux(ti.tcpi_state);
    return s == TCP_NSTATES ? -EPROTO : (int)s;
}

int kpeer_error(struct kpeer *k, int h)
{
    int fd = kpeer_fd(k, h);
    if (fd < 0)
        return -EBADF;
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        return -errno;
    return -e;
}
