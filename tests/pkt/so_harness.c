/*
 * so_harness.c — drive libtcplab_packetdrill.so the way packetdrill's
 * --so_filename mode does, since packetdrill itself is not packaged: load
 * it with dlopen, call packetdrill_interface_init, make the system calls
 * (blocking ones from a second thread, as packetdrill's syscall thread),
 * write inbound packets with netdev_send, sniff outbound ones with
 * netdev_receive, and let virtual time pass with usleep.
 *
 * Checks: a passive open through a blocking accept(), data both ways (a
 * blocking read() woken by a packet), a retransmission 1 s of virtual time
 * later with nothing sleeping, the close; a refused non-blocking connect
 * (SO_ERROR); a blocking connect whose SYN is retransmitted; the flags.
 *
 * usage: so_harness PATH/libtcplab_packetdrill.so
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/tcp.h>

#include "packetdrill_so.h"
#include "wire.h"

static struct packetdrill_interface ifc;
static int failures;

#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fprintf(stderr, "\n");                                                            \
            failures++;                                                                       \
        }                                                                                     \
    } while (0)

#define LOCAL  0xc0a80001u /* 192.168.0.1: the engine, packetdrill's default */
#define REMOTE 0xc0000201u /* 192.0.2.1: the script */

static void send_seg(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
                     const char *data)
{
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    t.sport = sport;
    t.dport = dport;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.win = 65535;
    if (flags & TCP_SYN) {
        t.opts.has_mss = true;
        t.opts.mss = 1000;
    }
    uint8_t buf[1600];
    size_t n = wire_tcp_build(buf, sizeof buf, REMOTE, LOCAL, 1, &t, (const uint8_t *)data,
                              data ? strlen(data) : 0);
    CHECK(n > 0, "packet built");
    CHECK(ifc.netdev_send(ifc.userdata, buf, n) == 0, "netdev_send");
}

struct seg {
    struct wire_tcp tcp;
    uint8_t raw[2000];
    long long t;
    bool ok;
};

/* The next packet the engine sends (virtual time runs to it if needed), into
 * *s: filled in place, because s->tcp.payload points into s->raw and a copy
 * returned by value would point into a stack frame that is gone. */
static void recv_seg(struct seg *s)
{
    memset(s, 0, sizeof *s);
    size_t n = sizeof s->raw;
    struct wire_ipv4 ip;
    CHECK(ifc.netdev_receive(ifc.userdata, s->raw, &n, &s->t) == 0, "netdev_receive");
    CHECK(n > 0, "a packet was sent");
    s->ok = n > 0 && wire_ipv4_parse(s->raw, n, &ip) == 0 && wire_tcp_parse(&ip, &s->tcp) == 0;
    CHECK(s->ok, "the packet parses as TCP");
    CHECK(!s->ok || (ip.src == LOCAL && ip.dst == REMOTE), "addresses");
}

struct call {
    pthread_t th;
    volatile pid_t tid; /* the thread's id, once it runs */
    int fd;
    long ret;
    int err;
    char buf[100];
};

/* Like packetdrill: wait until the syscall thread is asleep in its call
 * (its state in /proc is S), then go on. At most about 5 s. */
static void wait_blocked(struct call *c)
{
    for (int i = 0; i < 5000; i++) {
        char path[64], buf[256];
        if (c->tid) {
            snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)c->tid);
            FILE *f = fopen(path, "r");
            size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
            if (f)
                fclose(f);
            buf[n] = 0;
            const char *p = strrchr(buf, ')');
            if (p && p[1] == ' ' && p[2] == 'S')
                return;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    CHECK(0, "the call never blocked");
}

static void *accept_thread(void *arg)
{
    struct call *c = arg;
    c->tid = gettid();
    c->ret = ifc.accept(ifc.userdata, c->fd, NULL, NULL);
    c->err = errno;
    return NULL;
}

static void *read_thread(void *arg)
{
    struct call *c = arg;
    c->tid = gettid();
    c->ret = ifc.read(ifc.userdata, c->fd, c->buf, sizeof c->buf);
    c->err = errno;
    return NULL;
}

static void *connect_thread(void *arg)
{
    struct call *c = arg;
    c->tid = gettid();
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(8080),
                             .sin_addr.s_addr = htonl(REMOTE)};
    c->ret = ifc.connect(ifc.userdata, c->fd, (struct sockaddr *)&in, sizeof in);
    c->err = errno;
    return NULL;
}

static long long now_us(void)
{
    struct timeval tv;
    ifc.gettimeofday(ifc.userdata, &tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void passive_open_data_timer_close(void)
{
    int fd = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(fd >= 0, "socket() = %d", fd);
    int one = 1;
    CHECK(ifc.setsockopt(ifc.userdata, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "SO_REUSEADDR");
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(8080)};
    CHECK(ifc.bind(ifc.userdata, fd, (struct sockaddr *)&in, sizeof in) == 0, "bind");
    CHECK(ifc.listen(ifc.userdata, fd, 1) == 0, "listen");

    /* accept() blocks in packetdrill's second thread while the main thread
     * sends the handshake */
    struct call acc = {.fd = fd};
    pthread_create(&acc.th, NULL, accept_thread, &acc);
    wait_blocked(&acc);
    send_seg(50000, 8080, TCP_SYN, 1000, 0, NULL);
    struct seg synack;
    recv_seg(&synack);
    CHECK(synack.tcp.flags == (TCP_SYN | TCP_ACK), "SYN,ACK, flags 0x%x", synack.tcp.flags);
    CHECK(synack.tcp.ack == 1001, "SYN,ACK acknowledges ISN+1: ack %u", synack.tcp.ack);
    CHECK(synack.tcp.opts.has_mss, "SYN,ACK carries MSS");
    uint32_t isn = synack.tcp.seq;
    send_seg(50000, 8080, TCP_ACK, 1001, isn + 1, NULL);
    pthread_join(acc.th, NULL);
    int cfd = (int)acc.ret;
    CHECK(cfd >= 0, "accept() = %ld errno %d", acc.ret, acc.err);
    struct tcp_info ti;
    socklen_t tlen = sizeof ti;
    CHECK(ifc.getsockopt(ifc.userdata, cfd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0, "TCP_INFO");
    CHECK(ti.tcpi_state == 1 && ti.tcpi_snd_mss == 1000 && ti.tcpi_rto == 1000000,
          "TCP_INFO: state %u (1 = ESTABLISHED), snd_mss %u, rto %u", ti.tcpi_state,
          ti.tcpi_snd_mss, ti.tcpi_rto);

    /* data out, and its retransmission after the RTO: 1 s of virtual time
     * that netdev_receive lets pass, with nothing sleeping */
    CHECK(ifc.write(ifc.userdata, cfd, "hello", 5) == 5, "write");
    struct seg d;
    recv_seg(&d);
    CHECK(d.tcp.flags == (TCP_PSH | TCP_ACK) && d.tcp.seq == isn + 1 && d.tcp.payload_len == 5 &&
              !memcmp(d.tcp.payload, "hello", 5),
          "data segment: flags 0x%x seq %u len %zu", d.tcp.flags, d.tcp.seq, d.tcp.payload_len);
    struct seg rtx;
    recv_seg(&rtx);
    CHECK(rtx.tcp.seq == isn + 1 && rtx.tcp.payload_len == 5, "retransmission of the data");
    CHECK(rtx.t - d.t == 1000000, "retransmitted one RTO (1 s) later: %lld us", rtx.t - d.t);
    tlen = sizeof ti;
    ifc.getsockopt(ifc.userdata, cfd, IPPROTO_TCP, TCP_INFO, &ti, &tlen);
    CHECK(ti.tcpi_backoff == 1 && ti.tcpi_rto == 2000000 && ti.tcpi_unacked == 1,
          "TCP_INFO after one RTO: backoff %u, rto %u (RFC 6298 (5.5): doubled), unacked %u",
          ti.tcpi_backoff, ti.tcpi_rto, ti.tcpi_unacked);
    CHECK(now_us() == rtx.t, "gettimeofday shows the virtual clock: %lld vs %lld", now_us(), rtx.t);
    send_seg(50000, 8080, TCP_ACK, 1001, isn + 6, NULL);

    /* usleep moves the clock without sleeping */
    long long before = now_us();
    CHECK(ifc.usleep(ifc.userdata, 250000) == 0, "usleep");
    CHECK(now_us() - before == 250000, "usleep(250 ms) moved the clock by %lld us", now_us() - before);

    /* epoll: nothing to read yet */
    int ep = ifc.epoll_create(ifc.userdata, 1);
    struct epoll_event ee = {.events = EPOLLIN, .data.fd = cfd}, got[2];
    CHECK(ep >= 0 && ifc.epoll_ctl(ifc.userdata, ep, EPOLL_CTL_ADD, cfd, &ee) == 0, "epoll_ctl");
    CHECK(ifc.epoll_wait(ifc.userdata, ep, got, 2, 0) == 0, "epoll_wait: nothing ready");

    /* a blocking read() in the second thread, woken by a packet */
    struct call rd = {.fd = cfd};
    pthread_create(&rd.th, NULL, read_thread, &rd);
    wait_blocked(&rd);
    ifc.usleep(ifc.userdata, 100000);
    send_seg(50000, 8080, TCP_PSH | TCP_ACK, 1001, isn + 6, "world");
    pthread_join(rd.th, NULL);
    CHECK(rd.ret == 5 && !memcmp(rd.buf, "world", 5), "read() = %ld", rd.ret);
    send_seg(50000, 8080, TCP_PSH | TCP_ACK, 1006, isn + 6, "!");
    CHECK(ifc.epoll_wait(ifc.userdata, ep, got, 2, 0) == 1 && got[0].events == EPOLLIN &&
              got[0].data.fd == cfd,
          "epoll_wait: readable");
    char byte;
    CHECK(ifc.read(ifc.userdata, cfd, &byte, 1) == 1 && byte == '!', "read the byte");
    CHECK(ifc.close(ifc.userdata, ep) == 0, "close the epoll set");
    struct seg ack;
    recv_seg(&ack); /* the delayed ACK: virtual time runs 40 ms to it */
    CHECK(ack.tcp.flags == TCP_ACK && ack.tcp.ack == 1007, "ACK of the data: ack %u", ack.tcp.ack);

    /* close: FIN, the peer's FIN,ACK, our ACK (TIME_WAIT) */
    CHECK(ifc.close(ifc.userdata, cfd) == 0, "close");
    struct seg fin;
    recv_seg(&fin);
    CHECK(fin.tcp.flags == (TCP_FIN | TCP_ACK) && fin.tcp.seq == isn + 6, "FIN: flags 0x%x",
          fin.tcp.flags);
    send_seg(50000, 8080, TCP_FIN | TCP_ACK, 1007, isn + 7, NULL);
    struct seg last;
    recv_seg(&last);
    CHECK(last.tcp.flags == TCP_ACK && last.tcp.ack == 1008, "last ACK: ack %u", last.tcp.ack);
    CHECK(ifc.close(ifc.userdata, fd) == 0, "close listener");
}

static void refused_nonblocking_connect(void)
{
    int fd = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    CHECK(fd >= 0, "socket");
    CHECK(ifc.fcntl(ifc.userdata, fd, F_GETFL) & O_NONBLOCK, "O_NONBLOCK from SOCK_NONBLOCK");
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(8080),
                             .sin_addr.s_addr = htonl(REMOTE)};
    errno = 0;
    int r = ifc.connect(ifc.userdata, fd, (struct sockaddr *)&in, sizeof in);
    CHECK(r == -1 && errno == EINPROGRESS, "connect() = %d errno %d", r, errno);
    struct seg syn;
    recv_seg(&syn);
    CHECK(syn.tcp.flags == TCP_SYN, "SYN");
    send_seg(8080, syn.tcp.sport, TCP_RST | TCP_ACK, 0, syn.tcp.seq + 1, NULL);
    int err = -1;
    socklen_t len = sizeof err;
    CHECK(ifc.getsockopt(ifc.userdata, fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0, "SO_ERROR");
    CHECK(err == ECONNREFUSED, "SO_ERROR = %d", err);
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    CHECK(ifc.poll(ifc.userdata, &p, 1, 0) == 1 && (p.revents & POLLERR), "poll revents 0x%x",
          p.revents);
    ifc.close(ifc.userdata, fd);
}

static void blocking_connect_syn_retransmitted(void)
{
    int fd = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct call c = {.fd = fd};
    pthread_create(&c.th, NULL, connect_thread, &c);
    wait_blocked(&c);
    struct seg syn;
    recv_seg(&syn);
    struct seg again;
    recv_seg(&again);
    CHECK(again.tcp.flags == TCP_SYN && again.tcp.seq == syn.tcp.seq, "SYN retransmitted");
    CHECK(again.t - syn.t == 1000000, "after the initial RTO, 1 s: %lld us", again.t - syn.t);
    send_seg(8080, syn.tcp.sport, TCP_SYN | TCP_ACK, 5000, syn.tcp.seq + 1, NULL);
    struct seg ack;
    recv_seg(&ack);
    CHECK(ack.tcp.flags == TCP_ACK && ack.tcp.ack == 5001, "ACK of the SYN,ACK");
    pthread_join(c.th, NULL);
    CHECK(c.ret == 0, "blocking connect() = %ld errno %d", c.ret, c.err);
    ifc.close(ifc.userdata, fd);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: so_harness PATH/libtcplab_packetdrill.so\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "so_harness: %s\n", dlerror());
        return 1;
    }
    packetdrill_interface_init_t init = (packetdrill_interface_init_t)dlsym(h, "packetdrill_interface_init");
    CHECK(init != NULL, "the entry point is exported");
    if (!init)
        return 1;
    /* a bad flag leaves the interface empty: packetdrill stops */
    init("profile=nonsense", &ifc);
    CHECK(ifc.socket == NULL && ifc.userdata == NULL, "bad --so_flags refused");

    const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"passive open, data, RTO, close", passive_open_data_timer_close},
        {"refused non-blocking connect", refused_nonblocking_connect},
        {"blocking connect, SYN retransmitted", blocking_connect_syn_retransmitted},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        init("profile=teaching set=delack=40ms", &ifc);
        CHECK(ifc.socket && ifc.netdev_receive && ifc.usleep, "interface filled in");
        if (!ifc.socket)
            return 1;
        int before = failures;
        tests[i].fn();
        printf("%s %s\n", failures == before ? "PASS" : "FAIL", tests[i].name);
        ifc.free(ifc.userdata);
    }
    dlclose(h);
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
