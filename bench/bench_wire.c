/*
 * bench_wire.c — the cost of parsing and verifying one received segment: a
 * full-sized 1500-byte IPv4 packet carrying 1460 bytes of TCP payload goes
 * through wire_ipv4_parse() and wire_tcp_parse() (both checksums verified)
 * N times, plus the cost of building one.
 *
 * Wall-clock time varies with machine load, so the figure that matters is
 * instructions per packet, counted by callgrind:
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out build/bench/bench_wire 20000
 *   callgrind_annotate --inclusive=yes cg.out | grep -E 'wire_(ipv4|tcp)_(parse|build)'
 * then divide each function's inclusive count by N. bench/wire.sh
 * does exactly that. Without valgrind it prints nanoseconds per packet.
 *
 * Usage: bench_wire [N]   (default 1000000, at most 100000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long n = 1000000;
    if (argc > 1) {
        char *end;
        n = strtol(argv[1], &end, 10);
        if (*end || n < 1 || n > 100000000) {
            fprintf(stderr, "usage: bench_wire [N]  (1..100000000 packets)\n");
            return 2;
        }
    }

    static uint8_t payload[1460];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 131 + 7);
    /* One byte of offset so the loads are unaligned, as they may be when a
     * packet sits at an arbitrary offset in a receive buffer. */
    static uint8_t storage[1600];
    uint8_t *pkt = storage + 1;
    struct wire_tcp tcp = {.sport = 40000,
                           .dport = 9,
                           .seq = 123456,
                           .ack = 654321,
                           .flags = TCP_ACK | TCP_PSH,
                           .win = 502};
    size_t len = wire_tcp_build(pkt, sizeof storage - 1, 0x0a070001, 0x0a070002, 1, &tcp, payload,
                                sizeof payload);
    if (len != 1500) {
        fprintf(stderr, "bench_wire: built %zu bytes, expected 1500\n", len);
        return 1;
    }

    unsigned long ok = 0, bytes = 0;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        struct wire_ipv4 ip;
        struct wire_tcp seg;
        if (wire_ipv4_parse(pkt, len, &ip) == WIRE_OK && wire_tcp_parse(&ip, &seg) == WIRE_OK) {
            ok++;
            bytes += seg.payload_len;
        }
    }
    double t1 = now_s();

    /* Building: header, options none, payload copied, both checksums. */
    static uint8_t out[1600];
    double t2 = now_s();
    long nb = n / 4 + 1;
    for (long i = 0; i < nb; i++) {
        tcp.seq += 1460;
        len = wire_tcp_build(out, sizeof out, 0x0a070002, 0x0a070001, (uint16_t)i, &tcp, payload,
                             sizeof payload);
    }
    double t3 = now_s();

    if (ok != (unsigned long)n || bytes != (unsigned long)n * 1460 || len != 1500) {
        fprintf(stderr, "bench_wire: %lu of %ld packets parsed\n", ok, n);
        return 1;
    }
    printf("parse+verify 1500-byte packet: %ld packets, %.1f ns/packet\n", n,
           (t1 - t0) * 1e9 / (double)n);
    printf("build 1500-byte packet:        %ld packets, %.1f ns/packet\n", nb,
           (t3 - t2) * 1e9 / (double)nb);
    return 0;
}
