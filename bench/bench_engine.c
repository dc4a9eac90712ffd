/*
 * bench_engine.c — how fast the TCP engine is, alone, without any real I/O.
 *
 *   bench_engine bulk [MB]     two stacks on the virtual link; one sends MB
 *                              megabytes to the other: data segments per
 *                              second and MB/s of wall time (default 200)
 *   bench_engine conn [N]      N connections opened, used for one small
 *                              request and closed: setups+teardowns per
 *                              second of wall time (default 20000)
 *   bench_engine rx [N]        the receive path only, for callgrind: one
 *                              stack with an established connection is fed
 *                              N pre-built in-order 1460-byte segments
 *                              straight into stack_input(), each through
 *                              bench_rx_segment(); run it as
 *                                valgrind --tool=callgrind \
 *                                  --toggle-collect=bench_rx_segment ...
 *                              and divide the total by N (bench/engine.sh
 *                              does this). Default N 20000.
 *
 * Wall-time figures depend on the machine and its load; the instruction
 * count from callgrind does not. Nothing here is a test: no figure is
 * checked against a threshold.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcp.h"
#include "vlink.h"
#include "wire.h"

#define CLIENT_ADDR 0x0a070002u
#define SERVER_ADDR 0x0a070001u
#define PORT        80

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, long rc)
{
    fprintf(stderr, "bench_engine: %s failed (%ld)\n", what, rc);
    exit(1);
}

/* Two stacks on a virtual link, no event callback (as fast as it gets). */
static struct vlink *pair_new(struct stack **c, struct stack **s, uint64_t msl_us)
{
    struct vlink_config lc;
    vlink_config_defaults(&lc);
    lc.seed = 1;
    struct vlink *l = vlink_new(&lc);
    if (!l)
        die("vlink_new", 0);
    struct stack_config cc, sc;
    stack_config_defaults(&cc);
    cc.name = "client";
    cc.addr = CLIENT_ADDR;
    cc.msl_us = msl_us;
    stack_config_defaults(&sc);
    sc.name = "server";
    sc.addr = SERVER_ADDR;
    sc.msl_us = msl_us;
    sc.isn_key[0] = 1;
    int hc = vlink_add_host(l, &cc), hs = vlink_add_host(l, &sc);
    if (hc < 0 || hs < 0)
        die("vlink_add_host", 0);
    *c = vlink_stack(l, hc);
    *s = vlink_stack(l, hs);
    return l;
}

static int listen_on(struct stack *s, uint64_t now, int backlog)
{
    int lsd = tcp_socket(s, now);
    if (lsd < 0)
        die("tcp_socket", lsd);
    int rc = tcp_bind(s, now, lsd, PORT);
    if (rc)
        die("tcp_bind", rc);
    rc = tcp_listen(s, now, lsd, backlog);
    if (rc)
        die("tcp_listen", rc);
    return lsd;
}

/* ---- bulk ---------------------------------------------------------------- */

static void bench_bulk(unsigned long mb)
{
    struct stack *c, *s;
    struct vlink *l = pair_new(&c, &s, 30000000);
    uint64_t now = vlink_now(l);
    int lsd = listen_on(s, now, 4);
    int csd = tcp_socket(c, now);
    if (tcp_connect(c, now, csd, SERVER_ADDR, PORT))
        die("tcp_connect", 0);
    int ssd = -1;
    while (ssd < 0) {
        if (!vlink_step(l, vlink_now(l) + 10000000))
            die("handshake", 0);
        ssd = tcp_accept(s, vlink_now(l), lsd, NULL);
    }

    static uint8_t chunk[65536], sink[65536];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (uint8_t)i;
    const uint64_t total = (uint64_t)mb << 20;
    uint64_t sent = 0, got = 0;
    struct stack_stats before;
    stack_get_stats(s, &before);
    double t0 = wall_seconds();
    while (got < total) {
        now = vlink_now(l);
        while (sent < total) {
            size_t want = total - sent < sizeof chunk ? (size_t)(total - sent) : sizeof chunk;
            ssize_t n = tcp_send(c, now, csd, chunk, want);
            if (n <= 0)
                break;
            sent += (uint64_t)n;
        }
        for (;;) {
            ssize_t n = tcp_recv(s, now, ssd, sink, sizeof sink);
            if (n <= 0)
                break;
            got += (uint64_t)n;
        }
        if (got < total && !vlink_step(l, now + 10000000))
            die("bulk transfer stalled", (long)got);
    }
    double dt = wall_seconds() - t0;
    struct stack_stats after;
    stack_get_stats(s, &after);
    uint64_t segs = after.pkts_in - before.pkts_in;
    printf("bulk: %lu MB in %.3f s wall (%.1f s virtual): %.0f segments/s received, %.1f MB/s\n",
           mb, dt, vlink_now(l) / 1e6, segs / dt, (double)total / (1 << 20) / dt);
    vlink_free(l);
}

/* ---- connection setup + teardown ------------------------------------------ */

static void bench_conn(unsigned long n)
{
    struct stack *c, *s;
    /* A short MSL so TIME_WAIT entries do not pile up over the run. */
    struct vlink *l = pair_new(&c, &s, 1000);
    int lsd = listen_on(s, vlink_now(l), 128);
    double t0 = wall_seconds();
    for (unsigned long i = 0; i < n; i++) {
        uint64_t now = vlink_now(l);
        int csd = tcp_socket(c, now);
        if (csd < 0)
            die("tcp_socket", csd);
        if (tcp_connect(c, now, csd, SERVER_ADDR, PORT))
            die("tcp_connect", (long)i);
        int ssd = -1;
        while (ssd < 0) {
            if (!vlink_step(l, vlink_now(l) + 10000000))
                die("handshake", (long)i);
            ssd = tcp_accept(s, vlink_now(l), lsd, NULL);
        }
        now = vlink_now(l);
        if (tcp_send(c, now, csd, "GET /\r\n", 7) != 7)
            die("tcp_send", (long)i);
        char buf[16];
        while (tcp_recv(s, vlink_now(l), ssd, buf, sizeof buf) != 7)
            if (!vlink_step(l, vlink_now(l) + 10000000))
                die("request", (long)i);
        tcp_close(s, vlink_now(l), ssd); /* the server closes first, like HTTP/1.0 */
        while (tcp_recv(c, vlink_now(l), csd, buf, sizeof buf) != 0)
            if (!vlink_step(l, vlink_now(l) + 10000000))
                die("FIN", (long)i);
        tcp_close(c, vlink_now(l), csd);
    }
    vlink_run_idle(l, 10000, 100000000);
    double dt = wall_seconds() - t0;
    printf("conn: %lu connections (handshake, 7-byte request, four-way close) in %.3f s wall: "
           "%.0f setups+teardowns/s\n",
           n, dt, n / dt);
    vlink_free(l);
}

/* ---- receive path, for callgrind ------------------------------------------- */

struct rx_peer {
    uint8_t last[1600];
    size_t last_len;
    unsigned long outputs;
};

static void rx_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct rx_peer *p = ctx;
    p->outputs++;
    if (len <= sizeof p->last) {
        memcpy(p->last, pkt, len);
        p->last_len = len;
    }
}

/* The one function callgrind measures: one segment into the engine. */
__attribute__((noinline)) void bench_rx_segment(struct stack *s, uint64_t now, const uint8_t *pkt,
                                                size_t len);
__attribute__((noinline)) void bench_rx_segment(struct stack *s, uint64_t now, const uint8_t *pkt,
                                                size_t len)
{
    stack_input(s, now, pkt, len);
}

static size_t peer_segment(uint8_t *buf, size_t cap, uint8_t flags, uint32_t seq, uint32_t ack,
                           const uint8_t *data, size_t len, bool mss)
{
    struct wire_tcp h;
    memset(&h, 0, sizeof h);
    h.sport = 50000;
    h.dport = PORT;
    h.seq = seq;
    h.ack = ack;
    h.flags = flags;
    h.win = 65535;
    if (mss) {
        h.opts.has_mss = true;
        h.opts.mss = 1460;
    }
    return wire_tcp_build(buf, cap, CLIENT_ADDR, SERVER_ADDR, 1, &h, data, len);
}

static void bench_rx(unsigned long n)
{
    struct rx_peer peer = {0};
    struct stack_config cfg;
    stack_config_defaults(&cfg);
    cfg.name = "receiver";
    cfg.addr = SERVER_ADDR;
    cfg.output = rx_output;
    cfg.output_ctx = &peer;
    cfg.on_event = NULL;
    struct stack *s = stack_new(&cfg);
    if (!s)
        die("stack_new", 0);
    uint64_t now = 1000000;
    int lsd = listen_on(s, now, 4);

    /* The handshake, played by hand. */
    const uint32_t irs = 1000;
    uint8_t pkt[1600];
    size_t len = peer_segment(pkt, sizeof pkt, TCP_SYN, irs, 0, NULL, 0, true);
    stack_input(s, now, pkt, len);
    struct wire_ipv4 ip;
    struct wire_tcp synack;
    if (wire_ipv4_parse(peer.last, peer.last_len, &ip) || wire_tcp_parse(&ip, &synack) ||
        synack.flags != (TCP_SYN | TCP_ACK))
        die("SYN,ACK", 0);
    const uint32_t iss = synack.seq;
    len = peer_segment(pkt, sizeof pkt, TCP_ACK, irs + 1, iss + 1, NULL, 0, false);
    stack_input(s, now, pkt, len);
    int sd = tcp_accept(s, now, lsd, NULL);
    if (sd < 0)
        die("tcp_accept", sd);

    /* N in-order segments, built before measuring. */
    enum { SEG = 1460 };
    static uint8_t payload[SEG];
    for (size_t i = 0; i < SEG; i++)
        payload[i] = (uint8_t)(i * 13);
    const size_t stride = WIRE_IPV4_HDR_LEN + WIRE_TCP_HDR_LEN + SEG;
    uint8_t *segs = malloc(n * stride);
    size_t *lens = malloc(n * sizeof *lens);
    if (!segs || !lens)
        die("malloc", 0);
    for (unsigned long i = 0; i < n; i++)
        lens[i] = peer_segment(segs + i * stride, stride, TCP_ACK | TCP_PSH,
                               irs + 1 + (uint32_t)(i * SEG), iss + 1, payload, SEG, false);

    static uint8_t sink[65536];
    uint64_t delivered = 0;
    double t0 = wall_seconds();
    for (unsigned long i = 0; i < n; i++) {
        now += 10;
        bench_rx_segment(s, now, segs + i * stride, lens[i]);
        for (;;) { /* the application reads (not measured) */
            ssize_t r = tcp_recv(s, now, sd, sink, sizeof sink);
            if (r <= 0)
                break;
            delivered += (uint64_t)r;
        }
    }
    double dt = wall_seconds() - t0;
    if (delivered != (uint64_t)n * SEG) {
        fprintf(stderr, "bench_engine rx: only %llu of %llu bytes were delivered\n",
                (unsigned long long)delivered, (unsigned long long)n * SEG);
        exit(1);
    }
    (void)dt; /* the figure from this mode is callgrind's instruction count */
    printf("rx: %lu in-order %d-byte segments fed to stack_input, all delivered; %lu packets out "
           "(ACKs)\n",
           n, SEG, peer.outputs);
    free(segs);
    free(lens);
    stack_free(s);
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "bulk") && strcmp(argv[1], "conn") && strcmp(argv[1], "rx"))) {
        fprintf(stderr, "usage: bench_engine bulk [MB] | conn [N] | rx [N]\n");
        return 2;
    }
    unsigned long arg = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    if (!strcmp(argv[1], "bulk"))
        bench_bulk(arg ? arg : 200);
    else if (!strcmp(argv[1], "conn"))
        bench_conn(arg ? arg : 20000);
    else
        bench_rx(arg ? arg : 20000);
    return 0;
}
