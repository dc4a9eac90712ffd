/*
 * bench_tun_kclient.c — the kernel's side of the TUN benchmarks: load made
 * of ordinary kernel sockets, measured from the client.
 *
 *   bulk HOST PORT MB            send MB megabytes, half-close, wait for the
 *                                server's FIN; prints "bulk MB SECONDS MB/s"
 *   conns HOST PORT N INFLIGHT   N connections, INFLIGHT at a time, each:
 *                                connect, shutdown(SHUT_WR), read to EOF,
 *                                close; prints "conns N SECONDS conns/s"
 *   tw HOST PORTS N INFLIGHT     N connections over the comma-separated
 *                                PORTS, each: connect, read to EOF (the
 *                                server closes first), close; each from its
 *                                own bound source port, so every tuple is new
 *   hold HOST PORT N             open N connections, print "held N", keep
 *                                them until stdin closes, then close them
 *   sink PORT                    a kernel discard server (the veth
 *                                reference): read to EOF, close; forever
 *   echo HOST PORT MB            send MB megabytes to an echo server while
 *                                reading them back; half-close at the end,
 *                                read to EOF; prints "echo MB SECONDS MB/s"
 *                                (fails if fewer bytes came back)
 *   echosrv PORT                 a kernel echo server (the veth reference),
 *                                one connection at a time; forever
 *   recv PORT                    accept one connection, read it to EOF;
 *                                prints "recv MB SECONDS MB/s" (the kernel
 *                                receiving from `tcplab connect`)
 *
 * Every loop is bounded: a run gives up after 120 s and says so (status 1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GIVE_UP_S 120.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in addr_of(const char *host, int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", host);
        exit(2);
    }
    return a;
}

static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

static int bulk(const char *host, int port, long mb)
{
    struct sockaddr_in a = addr_of(host, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        return 1;
    }
    static char buf[1 << 20];
    double t0 = now_s();
    for (long i = 0; i < mb; i++) {
        size_t off = 0;
        while (off < sizeof buf) {
            ssize_t n = send(fd, buf + off, sizeof buf - off, MSG_NOSIGNAL);
            if (n <= 0) {
                perror("send");
                return 1;
            }
            off += (size_t)n;
        }
        if (now_s() - t0 > GIVE_UP_S) {
            fprintf(stderr, "bulk: gave up after %.0f s\n", GIVE_UP_S);
            return 1;
        }
    }
    shutdown(fd, SHUT_WR);
    char b[4096];
    while (read(fd, b, sizeof b) > 0)
        ;
    double dt = now_s() - t0;
    close(fd);
    printf("bulk %ld %.3f %.1f\n", mb, dt, (double)mb * 1048576.0 / 1e6 / dt);
    return 0;
}

/* One connection in flight in the conns / tw modes. */
struct flight {
    int fd;
    int stage; /* 0 connecting, 1 reading to EOF */
};

/* sport 0: an ephemeral port; otherwise bind it (tw mode gives every
 * connection its own tuple, so no TIME_WAIT entry is reused). */
static int start_conn(int ep, const struct sockaddr_in *a, struct flight *f, int sport)
{
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (f->fd < 0)
        return -errno;
    f->stage = 0;
    if (sport) {
        int one = 1;
        setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in b = addr_of("0.0.0.0", sport);
        if (bind(f->fd, (struct sockaddr *)&b, sizeof b) < 0) {
            int e = errno;
            close(f->fd);
            return -e;
        }
    }
    if (connect(f->fd, (const struct sockaddr *)a, sizeof *a) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(f->fd);
        return -e;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = f};
    epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &ev);
    return 0;
}

static int many(const char *host, const char *ports, long n, int inflight, bool half_close)
{
    int plist[16], np = 0;
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s", ports);
    for (char *p = strtok(tmp, ","); p && np < 16; p = strtok(NULL, ","))
        plist[np++] = atoi(p);
    struct sockaddr_in addrs[16];
    for (int i = 0; i < np; i++)
        addrs[i] = addr_of(host, plist[i]);
    if (!half_close && n > (long)np * 64000) {
        fprintf(stderr, "tw: at most %d connections with %d ports\n", np * 64000, np);
        return 2;
    }
#define SPORT(i) (half_close ? 0 : 1024 + (int)((i) / np))
    int ep = epoll_create1(0);
    struct flight *fl = calloc((size_t)inflight, sizeof *fl);
    long started = 0, done = 0, failed = 0;
    double t0 = now_s();
    for (int i = 0; i < inflight && started < n;) {
        int rc = start_conn(ep, &addrs[started % np], &fl[i], SPORT(started));
        started++;
        if (rc == 0)
            i++;
        else
            failed++, done++;
    }
    (void)0;
    struct epoll_event evs[64];
    while (done < n) {
        if (now_s() - t0 > GIVE_UP_S) {
            fprintf(stderr, "%s: gave up after %.0f s with %ld of %ld done\n",
                    half_close ? "conns" : "tw", GIVE_UP_S, done, n);
            return 1;
        }
        int k = epoll_wait(ep, evs, 64, 1000);
        for (int i = 0; i < k; i++) {
            struct flight *f = evs[i].data.ptr;
            if (f->stage == 0) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) {
                    if (failed < 3)
                        fprintf(stderr, "connection failed: %s\n", strerror(err));
                    failed++;
                    goto finished;
                }
                if (!(evs[i].events & (EPOLLOUT | EPOLLIN)))
                    continue;
                if (half_close)
                    shutdown(f->fd, SHUT_WR);
                f->stage = 1;
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = f};
                epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &ev);
            }
            char b[2048];
            ssize_t r;
            while ((r = read(f->fd, b, sizeof b)) > 0)
                ;
            if (r < 0 && errno == EAGAIN)
                continue;
            if (r < 0)
                failed++;
        finished:
            epoll_ctl(ep, EPOLL_CTL_DEL, f->fd, NULL);
            close(f->fd);
            done++;
            while (started < n) {
                int rc = start_conn(ep, &addrs[started % np], f, SPORT(started));
                started++;
                if (rc == 0)
                    break;
                if (failed < 3)
                    fprintf(stderr, "connection not started: %s\n", strerror(-rc));
                failed++;
                done++;
            }
        }
    }
    double dt = now_s() - t0;
    printf("%s %ld %.3f %.0f failed %ld\n", half_close ? "conns" : "tw", n, dt, (double)n / dt,
           failed);
    return failed ? 1 : 0;
}

static int hold(const char *host, int port, long n)
{
    struct sockaddr_in a = addr_of(host, port);
    int *fds = calloc((size_t)n, sizeof *fds);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        /* so their TIME_WAIT entries do not block tw mode's explicit binds later */
        int one = 1;
        setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&a, sizeof a) < 0) {
            fprintf(stderr, "hold: connection %ld: %s\n", i, strerror(errno));
            return 1;
        }
        if (now_s() - t0 > GIVE_UP_S) {
            fprintf(stderr, "hold: gave up after %.0f s\n", GIVE_UP_S);
            return 1;
        }
    }
    printf("held %ld %.3f\n", n, now_s() - t0);
    fflush(stdout);
    char b[64];
    while (read(0, b, sizeof b) > 0)
        ;
    for (long i = 0; i < n; i++)
        close(fds[i]);
    return 0;
}

static int sink(int port)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = addr_of("0.0.0.0", port);
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1024) < 0) {
        perror("sink: bind/listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    static char buf[1 << 18];
    for (;;) {
        struct epoll_event evs[64];
        int k = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < k; i++) {
            int fd = evs[i].data.fd;
            if (fd == l) {
                int c;
                while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct epoll_event e2 = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &e2);
                }
                continue;
            }
            ssize_t r;
            while ((r = read(fd, buf, sizeof buf)) > 0)
                ;
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
            }
        }
    }
}

static int echo_client(const char *host, int port, long mb)
{
    struct sockaddr_in a = addr_of(host, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        return 1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    static char out[1 << 16], in[1 << 18];
    long long total = (long long)mb << 20, sent = 0, got = 0;
    bool shut = false;
    double t0 = now_s();
    for (;;) {
        if (now_s() - t0 > GIVE_UP_S) {
            fprintf(stderr, "echo: gave up after %.0f s (%lld of %lld bytes back)\n", GIVE_UP_S,
                    got, total);
            return 1;
        }
        struct pollfd p = {fd, POLLIN | (sent < total ? POLLOUT : 0), 0};
        if (poll(&p, 1, 1000) < 0 && errno != EINTR)
            return 1;
        if (sent < total && (p.revents & POLLOUT)) {
            size_t want = total - sent < (long long)sizeof out ? (size_t)(total - sent) : sizeof out;
            ssize_t n = send(fd, out, want, MSG_NOSIGNAL);
            if (n > 0)
                sent += n;
        }
        if (sent == total && !shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n;
            while ((n = read(fd, in, sizeof in)) > 0)
                got += n;
            if (n == 0)
                break;
            if (n < 0 && errno != EAGAIN) {
                perror("echo: read");
                return 1;
            }
        }
    }
    double dt = now_s() - t0;
    close(fd);
    if (got != total) {
        fprintf(stderr, "echo: %lld bytes came back of %lld\n", got, total);
        return 1;
    }
    printf("echo %ld %.3f %.1f\n", mb, dt, (double)total / 1e6 / dt);
    return 0;
}

static int listen_on(int port)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = addr_of("0.0.0.0", port);
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 16) < 0) {
        perror("bind/listen");
        exit(1);
    }
    return l;
}

static int echo_server(int port)
{
    int l = listen_on(port);
    static char buf[1 << 18];
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0)
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(c, buf + off, (size_t)(n - off));
                if (w <= 0)
                    break;
                off += w;
            }
        close(c);
    }
    return 0;
}

static int recv_one(int port)
{
    int l = listen_on(port);
    struct pollfd p = {l, POLLIN, 0};
    if (poll(&p, 1, (int)(GIVE_UP_S * 1000)) <= 0) {
        fprintf(stderr, "recv: nobody connected in %.0f s\n", GIVE_UP_S);
        return 1;
    }
    int c = accept(l, NULL, NULL);
    double t0 = now_s();
    static char buf[1 << 18];
    long long got = 0;
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0)
        got += n;
    double dt = now_s() - t0;
    close(c);
    printf("recv %.1f %.3f %.1f\n", (double)got / (1 << 20), dt, (double)got / 1e6 / dt);
    return 0;
}

int main(int argc, char **argv)
{
    raise_fd_limit();
    if (argc == 5 && !strcmp(argv[1], "bulk"))
        return bulk(argv[2], atoi(argv[3]), atol(argv[4]));
    if (argc == 6 && !strcmp(argv[1], "conns"))
        return many(argv[2], argv[3], atol(argv[4]), atoi(argv[5]), true);
    if (argc == 6 && !strcmp(argv[1], "tw"))
        return many(argv[2], argv[3], atol(argv[4]), atoi(argv[5]), false);
    if (argc == 5 && !strcmp(argv[1], "hold"))
        return hold(argv[2], atoi(argv[3]), atol(argv[4]));
    if (argc == 3 && !strcmp(argv[1], "sink"))
        return sink(atoi(argv[2]));
    if (argc == 5 && !strcmp(argv[1], "echo"))
        return echo_client(argv[2], atoi(argv[3]), atol(argv[4]));
    if (argc == 3 && !strcmp(argv[1], "echosrv"))
        return echo_server(atoi(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "recv"))
        return recv_one(atoi(argv[2]));
    fprintf(stderr, "usage: bench_tun_kclient bulk HOST PORT MB | conns HOST PORT N INFLIGHT |\n"
                    "       tw HOST PORTS N INFLIGHT | hold HOST PORT N | sink PORT |\n"
                    "       echo HOST PORT MB | echosrv PORT | recv PORT\n");
    return 2;
}
