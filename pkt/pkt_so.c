/*
 * pkt_so.c — libtcplab_packetdrill.so: the tcplab engine behind packetdrill's
 * shared-object interface (`packetdrill --so_filename=libtcplab_packetdrill.so
 * --so_flags="profile=linux set=rto_min=200ms" script.pkt`).
 *
 * packetdrill makes every system call of the script through the interface
 * (pkt/packetdrill_so.h), writes the script's inbound packets with
 * netdev_send, sniffs the engine's packets with netdev_receive, and keeps
 * time with usleep/gettimeofday. The object owns a virtual clock: usleep
 * moves it forward (firing the engine's timers on the way) and does not
 * sleep; netdev_receive, when nothing has been sent, moves it to the next
 * timer that sends something. A script with minutes of timers runs in
 * milliseconds.
 *
 * packetdrill runs blocking calls (accept, connect, read, write, poll) in a
 * second thread while its main thread goes on sending packets and sleeping.
 * One mutex guards the engine; a blocking call waits on a condition
 * variable that every packet and every tick of the clock signals.
 *
 * Flags (--so_flags), separated by spaces: profile=teaching|linux|freebsd,
 * set=KEY=VALUE,... (as `tcplab replay --set`), local_ip=A.B.C.D (the
 * engine's address, packetdrill's default 192.168.0.1).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* struct tcp_info, as packetdrill reads it */

#include "packetdrill_so.h"
#include "pkt_internal.h"
#include "tcp.h"
#include "wire.h"

#define SO_MAX_FDS  1024
#define SO_BASE_SEC 1700000000ULL /* the virtual clock's epoch, as gettimeofday shows it */
#define SO_MAX_IO   (16u << 20)
#define SO_EPOLL_FD 2000 /* epoll descriptors: SO_EPOLL_FD + n, apart from the engine's */
#define SO_MAX_EPOLL 16
#define SO_EPOLL_ITEMS 64

struct so_pkt {
    uint64_t t;
    uint8_t *data;
    size_t len;
};

struct so_state {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled whenever the engine may have changed */
    struct stack *st;
    struct stack_config cfg;
    uint64_t now;      /* virtual microseconds since the epoch above */
    struct so_pkt *q;  /* packets the engine sent, not yet sniffed */
    size_t qhead, qlen, qcap;
    bool nonblock[SO_MAX_FDS];
    bool err_reported[SO_MAX_FDS];
    struct so_epoll {
        bool used;
        size_t n;
        struct so_epoll_item {
            int fd;
            struct epoll_event ev;
        } items[SO_EPOLL_ITEMS];
    } ep[SO_MAX_EPOLL];
};

/* ---- the engine's side ------------------------------------------------------ */

static void so_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct so_state *s = ctx;
    if (s->qlen == s->qcap) {
        if (s->qhead > 0) { /* reuse the space of packets already sniffed */
            memmove(s->q, s->q + s->qhead, (s->qlen - s->qhead) * sizeof *s->q);
            s->qlen -= s->qhead;
            s->qhead = 0;
        }
        if (s->qlen == s->qcap) {
            size_t cap = s->qcap ? s->qcap * 2 : 64;
            struct so_pkt *q = realloc(s->q, cap * sizeof *q);
            if (!q)
                return; /* dropped: as a full NIC queue would */
            s->q = q;
            s->qcap = cap;
        }
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, pkt, len);
    s->q[s->qlen++] = (struct so_pkt){s->now, copy, len};
}

/* Move the clock to `t`, firing every timer due on the way. Caller locks. */
static void so_advance(struct so_state *s, uint64_t t)
{
    for (unsigned guard = 0; guard < 10000000; guard++) {
        uint64_t d = stack_next_deadline(s->st);
        if (d == TCP_TIME_NEVER || d > t)
            break;
        if (d > s->now)
            s->now = d;
        stack_tick(s->st, s->now);
    }
    if (t > s->now)
        s->now = t;
    pthread_cond_broadcast(&s->cv);
}

static int fail(int err)
{
    errno = err;
    return -1;
}

/* An engine result (>= 0, or -errno) as a system call returns it. */
static long ret(struct so_state *s, int fd, long rc)
{
    if (rc >= 0)
        return rc;
    if (fd >= 0 && fd < SO_MAX_FDS &&
        (rc == -ECONNRESET || rc == -ECONNREFUSED || rc == -ETIMEDOUT))
        s->err_reported[fd] = true;
    errno = (int)-rc;
    return -1;
}

static bool blocking(const struct so_state *s, int fd)
{
    return fd >= 0 && fd < SO_MAX_FDS && !s->nonblock[fd];
}

/* Wait (unlocking) until `ready(fd)` or the deadline of the virtual clock. */
static bool so_wait(struct so_state *s, int fd, unsigned events, uint64_t deadline)
{
    while (!(tcp_poll(s->st, fd) & (events | TCP_POLLERR | TCP_POLLHUP))) {
        if (s->now >= deadline)
            return false;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    return true;
}

/* ---- system calls ------------------------------------------------------------ */

#define LOCKED(s) for (int once_ = (pthread_mutex_lock(&(s)->mu), 1); once_; \
                       once_ = 0, pthread_cond_broadcast(&(s)->cv), pthread_mutex_unlock(&(s)->mu))

static int so_socket(void *u, int domain, int type, int protocol)
{
    struct so_state *s = u;
    if (domain != AF_INET || (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM ||
        (protocol != 0 && protocol != IPPROTO_TCP))
        return fail(EAFNOSUPPORT);
    int fd = -1;
    LOCKED(s)
    {
        fd = (int)ret(s, -1, tcp_socket(s->st, s->now));
        if (fd >= SO_MAX_FDS) {
            tcp_close(s->st, s->now, fd);
            fd = fail(EMFILE);
        } else if (fd >= 0) {
            s->nonblock[fd] = (type & SOCK_NONBLOCK) != 0;
            s->err_reported[fd] = false;
        }
    }
    return fd;
}

static bool sin_of(const struct sockaddr *a, socklen_t len, uint32_t *addr, uint16_t *port)
{
    if (!a || len < sizeof(struct sockaddr_in) || a->sa_family != AF_INET)
        return false;
    const struct sockaddr_in *in = (const struct sockaddr_in *)a;
    *addr = ntohl(in->sin_addr.s_addr);
    *port = ntohs(in->sin_port);
    return true;
}

static int so_bind(void *u, int fd, const struct sockaddr *a, socklen_t len)
{
    struct so_state *s = u;
    uint32_t addr;
    uint16_t port;
    if (!sin_of(a, len, &addr, &port))
        return fail(EAFNOSUPPORT);
    int r = 0;
    LOCKED(s)
    r = (int)ret(s, fd, tcp_bind(s->st, s->now, fd, port));
    return r;
}

static int so_listen(void *u, int fd, int backlog)
{
    struct so_state *s = u;
    int r = 0;
    LOCKED(s)
    r = (int)ret(s, fd, tcp_listen(s->st, s->now, fd, backlog < 1 ? 1 : backlog > 4096 ? 4096 : backlog));
    return r;
}

static int so_accept(void *u, int fd, struct sockaddr *a, socklen_t *len)
{
    struct so_state *s = u;
    int r = 0;
    LOCKED(s)
    {
        if (blocking(s, fd))
            so_wait(s, fd, TCP_POLLIN, TCP_TIME_NEVER);
        struct tcp_tuple tu;
        r = (int)ret(s, fd, tcp_accept(s->st, s->now, fd, &tu));
        if (r >= SO_MAX_FDS) {
            tcp_abort(s->st, s->now, r);
            r = fail(EMFILE);
        } else if (r >= 0) {
            s->nonblock[r] = false;
            s->err_reported[r] = false;
            if (a && len && *len >= sizeof(struct sockaddr_in)) {
                struct sockaddr_in in = {.sin_family = AF_INET,
                                         .sin_port = htons(tu.rport),
                                         .sin_addr.s_addr = htonl(tu.raddr)};
                memcpy(a, &in, sizeof in);
                *len = sizeof in;
            }
        }
    }
    return r;
}

static int so_connect(void *u, int fd, const struct sockaddr *a, socklen_t len)
{
    struct so_state *s = u;
    uint32_t addr;
    uint16_t port;
    if (!sin_of(a, len, &addr, &port))
        return fail(EAFNOSUPPORT);
    int r = 0;
    LOCKED(s)
    {
        r = (int)ret(s, fd, tcp_connect(s->st, s->now, fd, addr, port));
        if (r == 0 && !blocking(s, fd)) {
            r = fail(EINPROGRESS);
        } else if (r == 0) {
            struct tcp_status st;
            /* RFC 9293 3.10.1: OPEN returns when the connection is synchronized or fails */
            while (tcp_status(s->st, fd, &st) == 0 && !st.error &&
                   (st.state == TCP_SYN_SENT || st.state == TCP_SYN_RECEIVED))
                pthread_cond_wait(&s->cv, &s->mu);
            if (tcp_status(s->st, fd, &st) < 0)
                r = fail(EBADF);
            else if (st.error)
                r = (int)ret(s, fd, st.error);
            else if (st.state == TCP_CLOSED)
                r = fail(ECONNREFUSED);
        }
    }
    return r;
}

static ssize_t do_recv(struct so_state *s, int fd, void *buf, size_t len, int flags)
{
    ssize_t r = 0;
    LOCKED(s)
    {
        if (blocking(s, fd) && !(flags & MSG_DONTWAIT))
            so_wait(s, fd, TCP_POLLIN, TCP_TIME_NEVER);
        r = ret(s, fd, tcp_recv(s->st, s->now, fd, buf, len));
    }
    return r;
}

static ssize_t do_send(struct so_state *s, int fd, const void *buf, size_t len, int flags)
{
    ssize_t done = 0;
    LOCKED(s)
    {
        bool nb = !blocking(s, fd) || (flags & MSG_DONTWAIT);
        for (;;) {
            ssize_t rc = tcp_send(s->st, s->now, fd, (const uint8_t *)buf + done, len - (size_t)done);
            if (rc > 0)
                done += rc;
            if ((size_t)done == len && len > 0)
                break;
            if (rc < 0 && rc != -EAGAIN) {
                if (!done)
                    done = ret(s, fd, rc);
                break;
            }
            if (len == 0 || nb) {
                if (!done && len)
                    done = fail(EAGAIN);
                break;
            }
            so_wait(s, fd, TCP_POLLOUT, TCP_TIME_NEVER);
        }
    }
    return done;
}

/* Gather/scatter through one buffer: the engine takes plain bytes. */
static size_t iov_total(const struct iovec *iov, int n)
{
    size_t t = 0;
    for (int i = 0; i < n; i++)
        t += iov[i].iov_len;
    return t;
}

static ssize_t so_readv(void *u, int fd, const struct iovec *iov, int n)
{
    size_t total = iov_total(iov, n);
    if (total > SO_MAX_IO)
        return fail(EINVAL);
    uint8_t *b = malloc(total ? total : 1);
    if (!b)
        return fail(ENOMEM);
    ssize_t r = do_recv(u, fd, b, total, 0);
    for (int i = 0, off = 0; r > 0 && i < n && off < r; i++) {
        size_t k = iov[i].iov_len < (size_t)(r - off) ? iov[i].iov_len : (size_t)(r - off);
        memcpy(iov[i].iov_base, b + off, k);
        off += (int)k;
    }
    free(b);
    return r;
}

static ssize_t so_writev(void *u, int fd, const struct iovec *iov, int n)
{
    size_t total = iov_total(iov, n);
    if (total > SO_MAX_IO)
        return fail(EINVAL);
    uint8_t *b = malloc(total ? total : 1);
    if (!b)
        return fail(ENOMEM);
    for (int i = 0, off = 0; i < n; i++) {
        memcpy(b + off, iov[i].iov_base, iov[i].iov_len);
        off += (int)iov[i].iov_len;
    }
    ssize_t r = do_send(u, fd, b, total, 0);
    free(b);
    return r;
}

static ssize_t so_read(void *u, int fd, void *b, size_t n)
{
    return do_recv(u, fd, b, n, 0);
}

static ssize_t so_recv(void *u, int fd, void *b, size_t n, int flags)
{
    return do_recv(u, fd, b, n, flags);
}

static ssize_t so_recvfrom(void *u, int fd, void *b, size_t n, int flags, struct sockaddr *a,
                           socklen_t *len)
{
    if (len)
        *len = 0;
    (void)a;
    return do_recv(u, fd, b, n, flags);
}

static ssize_t so_recvmsg(void *u, int fd, struct msghdr *m, int flags)
{
    (void)flags;
    m->msg_controllen = 0;
    m->msg_flags = 0;
    return so_readv(u, fd, m->msg_iov, (int)m->msg_iovlen);
}

static ssize_t so_write(void *u, int fd, const void *b, size_t n)
{
    return do_send(u, fd, b, n, 0);
}

static ssize_t so_send(void *u, int fd, const void *b, size_t n, int flags)
{
    return do_send(u, fd, b, n, flags);
}

static ssize_t so_sendto(void *u, int fd, const void *b, size_t n, int flags,
                         const struct sockaddr *a, socklen_t len)
{
    (void)a;
    (void)len;
    return do_send(u, fd, b, n, flags);
}

static ssize_t so_sendmsg(void *u, int fd, const struct msghdr *m, int flags)
{
    (void)flags;
    return so_writev(u, fd, m->msg_iov, (int)m->msg_iovlen);
}

static int so_fcntl(void *u, int fd, int cmd, ...)
{
    struct so_state *s = u;
    va_list ap;
    va_start(ap, cmd);
    int arg = cmd == F_SETFL ? va_arg(ap, int) : 0;
    va_end(ap);
    if (fd < 0 || fd >= SO_MAX_FDS)
        return fail(EBADF);
    int r = 0;
    LOCKED(s)
    {
        struct tcp_status st;
        if (tcp_status(s->st, fd, &st) < 0)
            r = fail(EBADF);
        else if (cmd == F_GETFL)
            r = O_RDWR | (s->nonblock[fd] ? O_NONBLOCK : 0);
        else if (cmd == F_SETFL)
            s->nonblock[fd] = (arg & O_NONBLOCK) != 0;
        else if (cmd != F_GETFD && cmd != F_SETFD)
            r = fail(EINVAL);
    }
    return r;
}

static int so_ioctl(void *u, int fd, unsigned long req, ...)
{
    struct so_state *s = u;
    va_list ap;
    va_start(ap, req);
    int *p = va_arg(ap, int *);
    va_end(ap);
    int r = 0;
    LOCKED(s)
    {
        struct tcp_status st;
        if (tcp_status(s->st, fd, &st) < 0)
            r = fail(EBADF);
        else if (!p)
            r = fail(EFAULT);
        else if (req == FIONREAD)
            *p = (int)st.recv_queue;
        else if (req == PKT_SIOCOUTQ)
            *p = (int)st.send_queue;
        else if (req == FIONBIO && fd < SO_MAX_FDS)
            s->nonblock[fd] = *p != 0;
        else
            r = fail(ENOTTY);
    }
    return r;
}

static struct so_epoll *epoll_of(struct so_state *s, int epfd)
{
    int i = epfd - SO_EPOLL_FD;
    return i >= 0 && i < SO_MAX_EPOLL && s->ep[i].used ? &s->ep[i] : NULL;
}

static int so_close(void *u, int fd)
{
    struct so_state *s = u;
    int r = 0;
    LOCKED(s)
    {
        struct so_epoll *e = epoll_of(s, fd);
        if (e) {
            e->used = false;
        } else {
            r = (int)ret(s, fd, tcp_close(s->st, s->now, fd));
            /* the last close of a socket takes it out of every epoll set */
            for (int i = 0; r == 0 && i < SO_MAX_EPOLL; i++)
                for (size_t k = 0; s->ep[i].used && k < s->ep[i].n; k++)
                    if (s->ep[i].items[k].fd == fd)
                        s->ep[i].items[k--] = s->ep[i].items[--s->ep[i].n];
        }
    }
    return r;
}

static int so_shutdown(void *u, int fd, int how)
{
    struct so_state *s = u;
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return fail(EINVAL);
    int r = 0;
    LOCKED(s)
    r = (int)ret(s, fd, tcp_shutdown(s->st, s->now, fd,
                                     how == SHUT_RD ? TCP_SHUT_RD : how == SHUT_WR ? TCP_SHUT_WR
                                                                                   : TCP_SHUT_RDWR));
    return r;
}

/* The socket options the engine has (stack/tcp.h enum tcp_sockopt). */
static int sockopt_of(int level, int name, enum tcp_sockopt *opt)
{
    if (level == SOL_SOCKET && name == SO_REUSEADDR)
        *opt = TCP_OPT_REUSEADDR;
    else if (level == SOL_SOCKET && name == SO_KEEPALIVE)
        *opt = TCP_OPT_KEEPALIVE;
    else if (level == SOL_SOCKET && name == SO_RCVBUF)
        *opt = TCP_OPT_RCVBUF;
    else if (level == SOL_SOCKET && name == SO_SNDBUF)
        *opt = TCP_OPT_SNDBUF;
    else if (level == IPPROTO_TCP && name == PKT_TCP_NODELAY)
        *opt = TCP_OPT_NODELAY;
    else if (level == IPPROTO_TCP && name == PKT_TCP_KEEPIDLE)
        *opt = TCP_OPT_KEEPIDLE;
    else if (level == IPPROTO_TCP && name == PKT_TCP_KEEPINTVL)
        *opt = TCP_OPT_KEEPINTVL;
    else if (level == IPPROTO_TCP && name == PKT_TCP_KEEPCNT)
        *opt = TCP_OPT_KEEPCNT;
    else if (level == IPPROTO_TCP && name == PKT_TCP_USER_TIMEOUT)
        *opt = TCP_OPT_USER_TIMEOUT;
    else
        return -1;
    return 0;
}

static int so_setsockopt(void *u, int fd, int level, int name, const void *val, socklen_t len)
{
    struct so_state *s = u;
    long v;
    enum tcp_sockopt opt;
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (!val || len < sizeof l)
            return fail(EINVAL);
        memcpy(&l, val, sizeof l);
        if (l.l_onoff && l.l_linger)
            return fail(ENOPROTOOPT); /* lingering close: not supported */
        opt = TCP_OPT_LINGER0;
        v = l.l_onoff != 0;
    } else {
        if (sockopt_of(level, name, &opt) < 0)
            return fail(ENOPROTOOPT);
        int iv;
        if (!val || len < sizeof iv)
            return fail(EINVAL);
        memcpy(&iv, val, sizeof iv);
        v = iv;
    }
    int r = 0;
    LOCKED(s)
    r = (int)ret(s, fd, tcp_setsockopt(s->st, s->now, fd, opt, v));
    return r;
}

static int so_getsockopt(void *u, int fd, int level, int name, void *val, socklen_t *len)
{
    struct so_state *s = u;
    if (!val || !len || *len < sizeof(int))
        return fail(EINVAL);
    int r = 0;
    LOCKED(s)
    {
        struct tcp_status st;
        int v = 0;
        if (tcp_status(s->st, fd, &st) < 0) {
            r = fail(EBADF);
        } else if (level == SOL_SOCKET && name == SO_ERROR) {
            v = st.error && fd < SO_MAX_FDS && !s->err_reported[fd] ? -st.error : 0;
            if (st.error && fd < SO_MAX_FDS)
                s->err_reported[fd] = true;
        } else if (level == SOL_SOCKET && name == SO_TYPE) {
            v = SOCK_STREAM;
        } else if (level == SOL_SOCKET && name == SO_ACCEPTCONN) {
            v = st.listening;
        } else if (level == IPPROTO_TCP && name == PKT_TCP_MAXSEG) {
            v = st.mss;
        } else if (level == IPPROTO_TCP && name == PKT_TCP_INFO) {
            /* STATUS (RFC 9293 3.10.6) in Linux's struct tcp_info, for
             * packetdrill's tcpi_* checks; fields tcplab has no value for are 0 */
            static const uint8_t state[TCP_NSTATES] = {
                [TCP_CLOSED] = 7,      [TCP_LISTEN] = 10,      [TCP_SYN_SENT] = 2,
                [TCP_SYN_RECEIVED] = 3, [TCP_ESTABLISHED] = 1, [TCP_FIN_WAIT_1] = 4,
                [TCP_FIN_WAIT_2] = 5,  [TCP_CLOSE_WAIT] = 8,   [TCP_CLOSING] = 11,
                [TCP_LAST_ACK] = 9,    [TCP_TIME_WAIT] = 6,
            };
            struct tcp_info ti;
            memset(&ti, 0, sizeof ti);
            ti.tcpi_state = (unsigned)st.state < TCP_NSTATES ? state[st.state] : 0;
            ti.tcpi_backoff = (uint8_t)st.backoff;
            ti.tcpi_retransmits = (uint8_t)st.backoff;
            ti.tcpi_snd_wscale = st.snd_wscale & 15;
            ti.tcpi_rcv_wscale = st.rcv_wscale & 15;
            ti.tcpi_rto = (uint32_t)st.rto_us;
            ti.tcpi_rtt = (uint32_t)st.srtt_us;
            ti.tcpi_rttvar = (uint32_t)st.rttvar_us;
            ti.tcpi_snd_mss = st.mss;
            ti.tcpi_snd_wnd = st.snd_wnd;
            ti.tcpi_unacked = st.mss ? (st.snd_nxt - st.snd_una + st.mss - 1) / st.mss : 0;
            socklen_t n = *len < sizeof ti ? *len : (socklen_t)sizeof ti;
            memcpy(val, &ti, n);
            *len = n;
            r = 1; /* filled in */
        } else {
            r = fail(ENOPROTOOPT);
        }
        if (r == 0) {
            memcpy(val, &v, sizeof v);
            *len = sizeof v;
        } else if (r == 1) {
            r = 0;
        }
    }
    return r;
}

static short poll_bits(struct so_state *s, int fd, short events)
{
    unsigned e = tcp_poll(s->st, fd);
    short out = 0;
    if (e & TCP_POLLIN)
        out |= POLLIN | POLLRDNORM;
    if (e & TCP_POLLOUT)
        out |= POLLOUT | POLLWRNORM;
    if (e & TCP_POLLERR)
        out |= POLLERR;
    if (e & TCP_POLLHUP)
        out |= POLLHUP;
    return (short)(out & (events | POLLERR | POLLHUP));
}

static int so_poll(void *u, struct pollfd *fds, nfds_t n, int timeout)
{
    struct so_state *s = u;
    int ready = 0;
    LOCKED(s)
    {
        uint64_t deadline = timeout < 0 ? TCP_TIME_NEVER : s->now + (uint64_t)timeout * 1000;
        for (;;) {
            ready = 0;
            for (nfds_t i = 0; i < n; i++) {
                struct tcp_status st;
                fds[i].revents = tcp_status(s->st, fds[i].fd, &st) < 0
                                     ? POLLNVAL
                                     : poll_bits(s, fds[i].fd, fds[i].events);
                ready += fds[i].revents != 0;
            }
            if (ready || s->now >= deadline)
                break;
            pthread_cond_wait(&s->cv, &s->mu);
        }
    }
    return ready;
}

/* ---- the network device and the clock ------------------------------------------- */

static int so_netdev_send(void *u, const void *buf, size_t count)
{
    struct so_state *s = u;
    LOCKED(s)
    stack_input(s->st, s->now, buf, count);
    return 0;
}

static int so_netdev_receive(void *u, void *buf, size_t *count, long long *time_usecs)
{
    struct so_state *s = u;
    LOCKED(s)
    {
        /* nothing sent yet: let virtual time run to the timer that sends something */
        while (s->qhead == s->qlen) {
            uint64_t d = stack_next_deadline(s->st);
            if (d == TCP_TIME_NEVER)
                break;
            so_advance(s, d);
        }
        if (s->qhead == s->qlen) {
            *count = 0;
        } else {
            struct so_pkt *p = &s->q[s->qhead++];
            size_t n = p->len < *count ? p->len : *count;
            memcpy(buf, p->data, n);
            *count = n;
            *time_usecs = (long long)(SO_BASE_SEC * 1000000ULL + p->t);
            free(p->data);
        }
    }
    return 0;
}

static int so_usleep(void *u, useconds_t us)
{
    struct so_state *s = u;
    LOCKED(s)
    so_advance(s, s->now + us);
    return 0;
}

static int so_gettimeofday(void *u, struct timeval *tv, struct timezone *tz)
{
    struct so_state *s = u;
    (void)tz;
    LOCKED(s)
    {
        uint64_t t = SO_BASE_SEC * 1000000ULL + s->now;
        tv->tv_sec = (time_t)(t / 1000000);
        tv->tv_usec = (suseconds_t)(t % 1000000);
    }
    return 0;
}

static int so_epoll_create(void *u, int size)
{
    struct so_state *s = u;
    if (size <= 0)
        return fail(EINVAL);
    int r = -1;
    LOCKED(s)
    {
        r = fail(EMFILE);
        for (int i = 0; i < SO_MAX_EPOLL; i++)
            if (!s->ep[i].used) {
                memset(&s->ep[i], 0, sizeof s->ep[i]);
                s->ep[i].used = true;
                r = SO_EPOLL_FD + i;
                break;
            }
    }
    return r;
}

static int so_epoll_ctl(void *u, int epfd, int op, int fd, struct epoll_event *ev)
{
    struct so_state *s = u;
    int r = 0;
    LOCKED(s)
    {
        struct so_epoll *e = epoll_of(s, epfd);
        struct tcp_status st;
        size_t k = 0;
        while (e && k < e->n && e->items[k].fd != fd)
            k++;
        if (!e || tcp_status(s->st, fd, &st) < 0)
            r = fail(EBADF);
        else if (op != EPOLL_CTL_DEL && (!ev || (ev->events & (EPOLLET | EPOLLONESHOT))))
            r = fail(EINVAL); /* level-triggered only */
        else if (op == EPOLL_CTL_ADD && k < e->n)
            r = fail(EEXIST);
        else if (op == EPOLL_CTL_ADD && e->n == SO_EPOLL_ITEMS)
            r = fail(ENOSPC);
        else if (op == EPOLL_CTL_ADD)
            e->items[e->n++] = (struct so_epoll_item){fd, *ev};
        else if (k == e->n)
            r = fail(ENOENT);
        else if (op == EPOLL_CTL_MOD)
            e->items[k].ev = *ev;
        else if (op == EPOLL_CTL_DEL)
            e->items[k] = e->items[--e->n];
        else
            r = fail(EINVAL);
    }
    return r;
}

static int so_epoll_wait(void *u, int epfd, struct epoll_event *out, int max, int timeout)
{
    struct so_state *s = u;
    int n = 0;
    LOCKED(s)
    {
        struct so_epoll *e = epoll_of(s, epfd);
        uint64_t deadline = timeout < 0 ? TCP_TIME_NEVER : s->now + (uint64_t)timeout * 1000;
        if (!e || max <= 0) {
            n = fail(e ? EINVAL : EBADF);
        } else {
            for (;;) {
                n = 0;
                for (size_t k = 0; k < e->n && n < max; k++) {
                    short bits = poll_bits(s, e->items[k].fd, (short)e->items[k].ev.events);
                    bits &= (short)~(POLLRDNORM | POLLWRNORM);
                    if (bits) { /* EPOLLIN.. have poll(2)'s values */
                        out[n].events = (uint32_t)(unsigned short)bits;
                        out[n].data = e->items[k].ev.data;
                        n++;
                    }
                }
                if (n || s->now >= deadline)
                    break;
                pthread_cond_wait(&s->cv, &s->mu);
            }
        }
    }
    return n;
}

static int so_pipe(void *u, int fds[2])
{
    (void)u, (void)fds;
    return fail(ENOSYS);
}

static int so_splice(void *u, int in, loff_t *oin, int out, loff_t *oout, size_t len,
                     unsigned int flags)
{
    (void)u, (void)in, (void)oin, (void)out, (void)oout, (void)len, (void)flags;
    return fail(ENOSYS);
}

static void so_free(void *u)
{
    struct so_state *s = u;
    if (!s)
        return;
    stack_free(s->st);
    for (size_t i = s->qhead; i < s->qlen; i++)
        free(s->q[i].data);
    free(s->q);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* "profile=linux set=rto_min=200ms,wscale=7 local_ip=192.168.0.1" */
static int parse_flags(const char *flags, struct pkt_config *cfg)
{
    if (!flags)
        return 0;
    char *copy = strdup(flags);
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, " \t", &save); t && !rc; t = strtok_r(NULL, " \t", &save)) {
        char msg[200];
        if (!strncmp(t, "profile=", 8))
            rc = pkt_config_profile(cfg, t + 8);
        else if (!strncmp(t, "set=", 4))
            rc = pkt_config_set(cfg, t + 4, msg, sizeof msg);
        else if (!strncmp(t, "local_ip=", 9))
            rc = wire_addr_parse(t + 9, &cfg->local_ip);
        else
            rc = -1;
        if (rc)
            fprintf(stderr, "libtcplab_packetdrill: bad --so_flags item '%s'\n", t);
    }
    free(copy);
    return rc;
}

void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
    __attribute__((visibility("default")));

void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
    memset(ifc, 0, sizeof *ifc);
    struct so_state *s = calloc(1, sizeof *s);
    struct pkt_config cfg;
    pkt_config_defaults(&cfg);
    if (!s || parse_flags(flags, &cfg) < 0) {
        free(s);
        return; /* packetdrill finds no functions and stops */
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->cfg = cfg.stack;
    s->cfg.name = "tcplab";
    s->cfg.addr = cfg.local_ip;
    s->cfg.output = so_output;
    s->cfg.output_ctx = s;
    s->st = stack_new(&s->cfg);
    if (!s->st) {
        so_free(s);
        return;
    }
    ifc->userdata = s;
    ifc->free = so_free;
    ifc->socket = so_socket;
    ifc->bind = so_bind;
    ifc->listen = so_listen;
    ifc->accept = so_accept;
    ifc->connect = so_connect;
    ifc->read = so_read;
    ifc->readv = so_readv;
    ifc->recv = so_recv;
    ifc->recvfrom = so_recvfrom;
    ifc->recvmsg = so_recvmsg;
    ifc->write = so_write;
    ifc->writev = so_writev;
    ifc->send = so_send;
    ifc->sendto = so_sendto;
    ifc->sendmsg = so_sendmsg;
    ifc->fcntl = so_fcntl;
    ifc->ioctl = so_ioctl;
    ifc->close = so_close;
    ifc->shutdown = so_shutdown;
    ifc->getsockopt = so_getsockopt;
    ifc->setsockopt = so_setsockopt;
    ifc->poll = so_poll;
    ifc->netdev_send = so_netdev_send;
    ifc->netdev_receive = so_netdev_receive;
    ifc->usleep = so_usleep;
    ifc->gettimeofday = so_gettimeofday;
    ifc->epoll_create = so_epoll_create;
    ifc->epoll_ctl = so_epoll_ctl;
    ifc->epoll_wait = so_epoll_wait;
    ifc->pipe = so_pipe;
    ifc->splice = so_splice;
}
