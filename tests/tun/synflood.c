/*
 * synflood.c — a bounded SYN flood for tests and benchmarks in a private
 * network namespace: COUNT TCP SYNs to DST:PORT from spoofed source
 * addresses and ports inside the subnet SRCNET/N (never the network,
 * broadcast, the destination or .1, the kernel's own address), through a
 * raw socket (IP_HDRINCL), at most RATE per second, for at most SECONDS.
 *
 *   synflood DST PORT SRCNET/N COUNT [RATE] [SECONDS]
 *   synflood 10.7.0.2 7 10.7.0.0/24 100000 50000 30
 *
 * It refuses a destination outside SRCNET/N: the flood stays in the subnet
 * the caller named (netns-run.sh or bench/soak make one that exists only
 * inside their namespace). Prints "sent N in S s" and exits 0; 1 if the
 * raw socket cannot be opened or a send fails with anything but ENOBUFS
 * (a full device queue, which simply drops that SYN); 2 on bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: synflood DST PORT SRCNET/N COUNT [RATE] [SECONDS]\n"
                    "  e.g. synflood 10.7.0.2 7 10.7.0.0/24 100000 50000 30\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 7)
        return usage();
    struct in_addr dst, net;
    char netbuf[32];
    snprintf(netbuf, sizeof netbuf, "%s", argv[3]);
    char *slash = strchr(netbuf, '/');
    if (!slash || inet_pton(AF_INET, argv[1], &dst) != 1)
        return usage();
    *slash = '\0';
    int prefix = atoi(slash + 1);
    long port = atol(argv[2]);
    long count = atol(argv[4]);
    double rate = argc > 5 ? atof(argv[5]) : 0;
    double seconds = argc > 6 ? atof(argv[6]) : 60;
    if (inet_pton(AF_INET, netbuf, &net) != 1 || prefix < 8 || prefix > 30 || port < 1 ||
        port > 65535 || count < 1 || count > 100000000 || seconds <= 0 || seconds > 3600)
        return usage();
    uint32_t mask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
    uint32_t base = ntohl(net.s_addr) & mask, d = ntohl(dst.s_addr);
    if ((d & mask) != base) {
        fprintf(stderr, "synflood: %s is not in %s: refusing to send outside the subnet\n",
                argv[1], argv[3]);
        return 2;
    }
    uint32_t hosts = ~mask; /* host numbers 2 .. hosts-1, but not DST */

    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) {
        perror("synflood: raw socket");
        return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = dst};

    uint8_t pkt[44];
    uint64_t x = 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
    double start = now_s();
    long sent = 0;
    for (long i = 0; i < count; i++) {
        uint32_t src;
        do {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            src = base | (uint32_t)(2 + x % (hosts - 2));
        } while (src == d);
        memset(pkt, 0, sizeof pkt);
        pkt[0] = 0x45;
        put16(pkt + 2, sizeof pkt);
        put16(pkt + 4, (uint16_t)i);
        put16(pkt + 6, 0x4000);
        pkt[8] = 64;
        pkt[9] = IPPROTO_TCP;
        put32(pkt + 12, src);
        put32(pkt + 16, d);
        put16(pkt + 10, fold(sum16(pkt, 20, 0)));
        uint8_t *t = pkt + 20;
        put16(t, (uint16_t)(1024 + (x >> 20) % 64000));
        put16(t + 2, (uint16_t)port);
        put32(t + 4, (uint32_t)(x >> 32));
        t[12] = 6 << 4; /* 24-byte header: the MSS option */
        t[13] = 0x02;   /* SYN */
        put16(t + 14, 64240);
        t[20] = 2, t[21] = 4;
        put16(t + 22, 1460);
        uint32_t pseudo = (src >> 16) + (src & 0xffff) + (d >> 16) + (d & 0xffff) + IPPROTO_TCP + 24;
        put16(t + 16, fold(sum16(t, 24, pseudo)));
        if (sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to) < 0) {
            if (errno != ENOBUFS && errno != EAGAIN) {
                perror("synflood: sendto");
                close(fd);
                return 1;
            }
        } else {
            sent++;
        }
        double elapsed = now_s() - start;
        if (elapsed > seconds)
            break;
        if (rate > 0 && (double)(i + 1) > rate * elapsed) {
            double ahead = (double)(i + 1) / rate - elapsed;
            if (ahead > 0.001) {
                struct timespec ts = {0, (long)(ahead * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
    }
    printf("sent %ld in %.2f s\n", sent, now_s() - start);
    close(fd);
    return 0;
}
