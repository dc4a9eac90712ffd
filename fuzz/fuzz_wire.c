/*
 * fuzz_wire.c — libFuzzer target for the wire module alone: the parsers must
 * never read past the buffer (ASan checks it; the packet is copied into a
 * block of exactly its size), and what they accept must make sense:
 *   - the fast checksum equals a byte-by-byte RFC 1071 reference;
 *   - a parsed TCP segment built again with wire_tcp_build parses back to
 *     the same header fields, options and payload;
 *   - flag strings and dotted quads round-trip.
 * A broken property aborts, which libFuzzer reports as a crash.
 *
 * Input: one mode byte, then the packet. Mode bit 0 set: fix the IPv4 and
 * TCP/ICMP checksums first, so the fuzzer reaches the option parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static uint16_t ref_checksum(const uint8_t *p, size_t len, uint32_t initial)
{
    uint64_t s = initial;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void fix_checksums(uint8_t *p, size_t len)
{
    if (len < 20)
        return;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > len)
        return;
    p[10] = p[11] = 0;
    uint16_t c = ref_checksum(p, ihl, 0);
    p[10] = (uint8_t)(c >> 8);
    p[11] = (uint8_t)c;
    size_t total = (size_t)(p[2] << 8 | p[3]);
    if (total < ihl || total > len)
        return;
    uint8_t *t = p + ihl;
    size_t tlen = total - ihl;
    if (p[9] == WIRE_PROTO_TCP && tlen >= 18) {
        uint32_t pseudo = (uint32_t)(p[12] << 8 | p[13]) + (uint32_t)(p[14] << 8 | p[15]) +
                          (uint32_t)(p[16] << 8 | p[17]) + (uint32_t)(p[18] << 8 | p[19]) +
                          WIRE_PROTO_TCP + (uint32_t)tlen;
        t[16] = t[17] = 0;
        c = ref_checksum(t, tlen, pseudo);
        t[16] = (uint8_t)(c >> 8);
        t[17] = (uint8_t)c;
    } else if (p[9] == WIRE_PROTO_ICMP && tlen >= 4) {
        t[2] = t[3] = 0;
        c = ref_checksum(t, tlen, 0);
        t[2] = (uint8_t)(c >> 8);
        t[3] = (uint8_t)c;
    }
}

static void check_tcp_round_trip(const struct wire_ipv4 *ip, const struct wire_tcp *in)
{
    static uint8_t out[65536 + 100];
    struct wire_tcp copy = *in;
    size_t n = wire_tcp_build(out, sizeof out, ip->src, ip->dst, ip->id, &copy, in->payload,
                              in->payload_len);
    if (n == 0) /* too big for one IPv4 packet with our options: fine */
        return;
    struct wire_ipv4 ip2;
    struct wire_tcp again;
    CHECK(wire_ipv4_parse(out, n, &ip2) == WIRE_OK);
    CHECK(wire_tcp_parse(&ip2, &again) == WIRE_OK);
    CHECK(again.sport == in->sport && again.dport == in->dport);
    CHECK(again.seq == in->seq && again.ack == in->ack);
    CHECK(again.flags == in->flags && again.win == in->win && again.urg == in->urg);
    CHECK(again.opts.has_mss == in->opts.has_mss);
    CHECK(!in->opts.has_mss || again.opts.mss == in->opts.mss);
    CHECK(again.opts.has_wscale == in->opts.has_wscale);
    CHECK(!in->opts.has_wscale || again.opts.wscale == in->opts.wscale);
    CHECK(again.opts.sack_permitted == in->opts.sack_permitted);
    CHECK(again.opts.has_ts == in->opts.has_ts);
    CHECK(!in->opts.has_ts ||
          (again.opts.ts_val == in->opts.ts_val && again.opts.ts_ecr == in->opts.ts_ecr));
    /* SACK blocks that did not fit beside the other options are cut from the end. */
    CHECK(again.opts.n_sack == copy.opts.n_sack && copy.opts.n_sack <= in->opts.n_sack);
    for (unsigned k = 0; k < again.opts.n_sack; k++)
        CHECK(again.opts.sack[k].left == in->opts.sack[k].left &&
              again.opts.sack[k].right == in->opts.sack[k].right);
    CHECK(again.payload_len == in->payload_len);
    CHECK(in->payload_len == 0 || memcmp(again.payload, in->payload, in->payload_len) == 0);
    CHECK(ref_checksum(out, 20, 0) == 0);
}

static void check_strings(const uint8_t *data, size_t size)
{
    char s[32];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    uint32_t addr;
    if (wire_addr_parse(s, &addr) == 0) {
        char back[16];
        CHECK(strcmp(wire_addr_str(addr, back), s) == 0);
    }
    int flags = wire_flags_parse(s);
    if (flags >= 0) {
        char back[10];
        CHECK(wire_flags_parse(wire_flags_str((uint8_t)flags, back)) == flags);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    check_strings(data, size);

    uint8_t *pkt = malloc(size ? size : 1);
    if (!pkt)
        return 0;
    memcpy(pkt, data, size);
    if (mode & 1)
        fix_checksums(pkt, size);

    /* The fast sum against the reference, at this length and alignment. */
    uint32_t initial = size ? pkt[0] * 0x101u : 0;
    CHECK(wire_sum_fold(wire_sum(pkt, size, initial)) == ref_checksum(pkt, size, initial));

    struct wire_ipv4 ip;
    int err = wire_ipv4_parse(pkt, size, &ip);
    CHECK(err <= 0 && err > -WIRE_ERR_COUNT_);
    CHECK(strcmp(wire_err_name(err), "unknown") != 0);
    if (err == WIRE_OK) {
        CHECK(ip.payload + ip.payload_len <= pkt + size);
        struct wire_tcp tcp;
        err = wire_tcp_parse(&ip, &tcp);
        CHECK(err <= 0 && err > -WIRE_ERR_COUNT_);
        if (err == WIRE_OK) {
            CHECK(tcp.payload + tcp.payload_len == ip.payload + ip.payload_len);
            CHECK(tcp.data_off >= 20 && tcp.data_off <= 60);
            check_tcp_round_trip(&ip, &tcp);
        }
        struct wire_icmp_echo echo;
        if (wire_icmp_echo_parse(&ip, &echo) == WIRE_OK) {
            static uint8_t reply[65536];
            size_t n = wire_icmp_echo_reply_build(reply, sizeof reply, &ip, &echo, 1);
            struct wire_ipv4 rip;
            CHECK(n > 0);
            CHECK(wire_ipv4_parse(reply, n, &rip) == WIRE_OK);
            CHECK(rip.src == ip.dst && rip.dst == ip.src);
            CHECK(ref_checksum(rip.payload, rip.payload_len, 0) == 0);
        }
    }
    free(pkt);
    return 0;
}
