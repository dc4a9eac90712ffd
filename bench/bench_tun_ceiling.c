/*
 * bench_tun_ceiling.c — the TUN ceiling: the least work that still looks like
 * a TCP server to the kernel, on the same kind of TUN device as tcplab.
 *
 * It keeps no state at all. Every packet is answered from its own header:
 *   SYN            -> SYN,ACK (fixed ISN, our MSS, window 65535 with scale 14:
 *                     the largest window there is, so the kernel is limited
 *                     only by its own buffers, never by this responder)
 *   data           -> an ACK of it, sent once per drain: within one drain of
 *                     the device (up to 64 packets) only the newest ACK of
 *                     each flow goes, after the drain — the fewest ACKs a
 *                     receiver can send without stalling the sender, so the
 *                     ceiling is the device's, not two system calls per
 *                     segment (until 2026-12-04 every segment was ACKed)
 *   FIN            -> FIN,ACK at once (it replaces a pending ACK of the
 *                     flow), so connect+close completes on both sides
 *   pure ACK, RST  -> nothing
 * Whatever tcplab's stack does beyond this (connection lookup, state,
 * buffers, timers, events) is its cost; this program is the reference that
 * bench/tun_*.sh measures tcplab against, using the same loop shape: poll(),
 * drain the device until EAGAIN, write each answer at once.
 *
 * With --vnet the device is opened with IFF_VNET_HDR and TUNSETOFFLOAD
 * (TUN_F_CSUM | TUN_F_TSO4): the kernel then hands over GSO super-packets
 * of up to 64 KB with partial checksums, and one ACK answers a whole one —
 * the best this kind of device can do.
 *
 * With --spin US it busy-polls for up to US microseconds after a drain that
 * read packets before poll() sleeps, as tcplab's loop does by default
 * (tun_loop.c, `--busy-poll`), so the ceiling stays a ceiling (a fixed
 * window: never less patient than tcplab's adaptive one). Like tcplab's
 * loop it spins by reading the device (non-blocking), not with poll(): a
 * read that finds a packet has it, one system call per wake-up less.
 *
 * usage: bench_tun_ceiling [--tun NAME] [--kernel-addr A.B.C.D/N] [--addr A.B.C.D]
 *                          [--mtu N] [--window BYTES] [--wscale N (14; -1 none)] [--vnet]
 *                          [--spin US]
 * Runs until SIGINT/SIGTERM, then prints packets in/out on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../stack/wire.h"
#include "../tun/tun_dev.h"

#define CEILING_FLOWS 64 /* ACKs held per drain (one per flow) */
#define CEILING_DRAIN 64 /* packets per drain before the held ACKs go */

static volatile sig_atomic_t stop;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}
static void on_signal(int sig)
{
    stop = sig;
}

struct ceiling {
    struct tun_dev *dev;
    uint32_t addr;
    uint16_t mss, window;
    int wscale; /* -1: no window scale option */
    bool vnet;  /* every packet starts with a struct virtio_net_hdr */
    unsigned spin_us; /* --spin: busy-poll this long before sleeping */
    unsigned long long in, out;
    /* ACKs of data held until the end of the drain, newest per flow */
    struct pending {
        uint8_t pkt[60];
        size_t len;
    } pending[CEILING_FLOWS];
    unsigned npending;
};

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (; len > 1; p += 2, len -= 2)
        sum += get16(p);
    if (len)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void send_packet(struct ceiling *c, const uint8_t *r, size_t len)
{
    if (c->vnet) {
        /* A plain packet with its checksums complete: an all-zero header. */
        uint8_t v[sizeof(struct virtio_net_hdr) + 60] = {0};
        memcpy(v + sizeof(struct virtio_net_hdr), r, len);
        if (tun_dev_write(c->dev, v, sizeof(struct virtio_net_hdr) + len) == 0)
            c->out++;
        return;
    }
    if (tun_dev_write(c->dev, r, len) == 0)
        c->out++;
}

/* The same flow: addresses and ports (IPv4 bytes 12-19, TCP bytes 0-3). */
static bool same_flow(const uint8_t *a, const uint8_t *b)
{
    return !memcmp(a + 12, b + 12, 8) && !memcmp(a + 20, b + 20, 4);
}

static void flush_acks(struct ceiling *c)
{
    for (unsigned i = 0; i < c->npending; i++)
        send_packet(c, c->pending[i].pkt, c->pending[i].len);
    c->npending = 0;
}

/* A bare ACK waits for the end of the drain; anything else goes now and
 * replaces the flow's held ACK (it acknowledges as much). */
static void reply(struct ceiling *c, const uint8_t *r, size_t len, bool bare_ack)
{
    for (unsigned i = 0; i < c->npending; i++)
        if (same_flow(c->pending[i].pkt, r)) {
            c->pending[i] = c->pending[--c->npending];
            break;
        }
    if (!bare_ack) {
        send_packet(c, r, len);
        return;
    }
    if (c->npending == CEILING_FLOWS)
        flush_acks(c);
    memcpy(c->pending[c->npending].pkt, r, len);
    c->pending[c->npending++].len = len;
}

/* Answer one packet (see the file comment). */
static void answer(struct ceiling *c, const uint8_t *pkt, size_t len)
{
    if (len < 40 || (pkt[0] >> 4) != 4 || pkt[9] != WIRE_PROTO_TCP)
        return;
    size_t ihl = (size_t)(pkt[0] & 15) * 4;
    size_t tot = get16(pkt + 2);
    if (tot > len || ihl + 20 > tot || get32(pkt + 16) != c->addr)
        return;
    const uint8_t *t = pkt + ihl;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < 20 || ihl + doff > tot)
        return;
    uint8_t flags = t[13];
    if (flags & TCP_RST)
        return;
    uint32_t seq = get32(t + 4), ack = get32(t + 8);
    size_t paylen = tot - ihl - doff;
    uint8_t rflags;
    uint32_t rseq, rack;
    if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        rflags = TCP_SYN | TCP_ACK;
        rseq = 0x10000000u;
        rack = seq + 1;
    } else {
        size_t seglen = paylen + ((flags & TCP_FIN) ? 1 : 0);
        if (seglen == 0)
            return;
        rflags = TCP_ACK | (flags & TCP_FIN);
        rseq = ack;
        rack = seq + (uint32_t)seglen;
    }
    uint8_t r[60];
    size_t thl = 20;
    memset(r, 0, sizeof r);
    if (rflags & TCP_SYN) {
        uint8_t *o = r + 40;
        o[0] = 2, o[1] = 4;
        put16(o + 2, c->mss);
        thl += 4;
        if (c->wscale >= 0) {
            o[4] = 1, o[5] = 3, o[6] = 3, o[7] = (uint8_t)c->wscale;
            thl += 4;
        }
    }
    /* IPv4 header */
    r[0] = 0x45;
    put16(r + 2, (uint16_t)(20 + thl));
    r[6] = 0x40; /* DF */
    r[8] = 64;
    r[9] = WIRE_PROTO_TCP;
    memcpy(r + 12, pkt + 16, 4);
    memcpy(r + 16, pkt + 12, 4);
    put16(r + 10, csum(r, 20, 0));
    /* TCP header */
    uint8_t *h = r + 20;
    memcpy(h, t + 2, 2);
    memcpy(h + 2, t, 2);
    put32(h + 4, rseq);
    put32(h + 8, rack);
    h[12] = (uint8_t)((thl / 4) << 4);
    h[13] = rflags;
    put16(h + 14, c->window);
    uint32_t pseudo = get16(r + 12) + get16(r + 14) + get16(r + 16) + get16(r + 18) +
                      WIRE_PROTO_TCP + (uint32_t)thl;
    put16(h + 16, csum(h, thl, pseudo));
    reply(c, r, 20 + thl, rflags == TCP_ACK);
}

static int parse_args(int argc, char **argv, struct tun_dev_config *dc, struct ceiling *c)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--vnet")) {
            c->vnet = true;
            dc->vnet_hdr = true;
            dc->offload = TUN_F_CSUM | TUN_F_TSO4;
            continue;
        }
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        i++;
        if (!strcmp(o, "--tun")) {
            snprintf(dc->name, sizeof dc->name, "%s", v);
        } else if (!strcmp(o, "--addr")) {
            if (wire_addr_parse(v, &c->addr) < 0)
                return -1;
        } else if (!strcmp(o, "--kernel-addr")) {
            char a[32];
            snprintf(a, sizeof a, "%s", v);
            char *slash = strchr(a, '/');
            if (!slash)
                return -1;
            *slash = 0;
            if (wire_addr_parse(a, &dc->kernel_addr) < 0)
                return -1;
            dc->prefix_len = (uint8_t)atoi(slash + 1);
        } else if (!strcmp(o, "--mtu")) {
            dc->mtu = (unsigned)atoi(v);
        } else if (!strcmp(o, "--window")) {
            c->window = (uint16_t)atoi(v);
        } else if (!strcmp(o, "--spin")) {
            c->spin_us = (unsigned)atoi(v);
        } else if (!strcmp(o, "--wscale")) {
            c->wscale = atoi(v);
        } else {
            return -1;
        }
    }
    c->mss = (uint16_t)(dc->mtu - 40);
    return 0;
}

int main(int argc, char **argv)
{
    struct tun_dev_config dc;
    tun_dev_config_defaults(&dc);
    struct ceiling c = {.addr = 0x0a070002, .window = 65535, .wscale = 14};
    if (parse_args(argc, argv, &dc, &c) < 0) {
        fprintf(stderr, "usage: bench_tun_ceiling [--tun NAME] [--kernel-addr A.B.C.D/N] "
                        "[--addr A.B.C.D] [--mtu N] [--window BYTES] [--wscale N] [--vnet] [--spin US]\n");
        return 2;
    }
    char msg[512];
    int rc = tun_dev_open(&dc, &c.dev, msg, sizeof msg);
    if (rc < 0) {
        fprintf(stderr, "bench_tun_ceiling: %s\n", msg);
        return rc == -EEXIST || rc == -EINVAL ? 2 : 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    static uint8_t buf[65536 + sizeof(struct virtio_net_hdr)];
    size_t skip = c.vnet ? sizeof(struct virtio_net_hdr) : 0;
    bool busy = false; /* the last drain read packets */
    while (!stop) {
        struct pollfd p = {.fd = tun_dev_fd(c.dev), .events = POLLIN};
        ssize_t first = -EAGAIN; /* what the spin read: the drain's first packet */
        if (busy && c.spin_us) {
            double until = now_us() + c.spin_us;
            while ((first = tun_dev_read(c.dev, buf, sizeof buf)) == -EAGAIN && now_us() < until)
                ;
        }
        if (first == -EAGAIN) {
            if (poll(&p, 1, -1) < 0 && errno != EINTR)
                break;
            if (p.revents & (POLLERR | POLLHUP))
                break;
        }
        busy = false;
        for (unsigned drained = 1;; drained++) {
            ssize_t n = first != -EAGAIN ? first : tun_dev_read(c.dev, buf, sizeof buf);
            first = -EAGAIN;
            if (n < 0)
                break;
            busy = true;
            c.in++;
            if ((size_t)n > skip)
                answer(&c, buf + skip, (size_t)n - skip);
            if (drained % CEILING_DRAIN == 0)
                flush_acks(&c);
        }
        flush_acks(&c);
    }
    fprintf(stderr, "bench_tun_ceiling: %llu packets in, %llu out\n", c.in, c.out);
    tun_dev_close(c.dev);
    return 0;
}
