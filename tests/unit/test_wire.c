/*
 * test_wire.c — the wire module: every malformation has its own error, built
 * packets parse back to what was built, checksums agree with RFC 1071 and
 * with packets made by an independent tool (scapy), and truncated input
 * never makes the parser read past the buffer (run under ASan in CI).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

/* ---- helpers --------------------------------------------------------------- */

#define A_CLIENT 0x0a070002u /* 10.7.0.2 */
#define A_SERVER 0x0a070001u /* 10.7.0.1 */

/*
 * Two packets made with scapy 2.5 (python3-scapy), so the checksum code is
 * checked against someone else's implementation:
 *   IP(src="10.7.0.2", dst="10.7.0.1", id=0x1234, flags="DF", ttl=64) /
 *   TCP(sport=40000, dport=8080, seq=1000, ack=0, flags="S", window=65535,
 *       options=[("MSS",1460), ("SAckOK",b""), ("Timestamp",(12345,0)),
 *                ("NOP",None), ("WScale",7)])
 * and
 *   IP(src="10.7.0.1", dst="10.7.0.2", id=0, flags="DF", ttl=64) /
 *   TCP(sport=8080, dport=40000, seq=0xfffffff0, ack=1001, flags="PA",
 *       window=502) / b"hello"
 * printed with raw(p).hex(). scapy reported checksums 0x26bb (IP) and
 * 0x9644 (TCP) for the second one.
 */
static const uint8_t scapy_syn[60] = {
    0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x14, 0x78, 0x0a, 0x07, 0x00,
    0x02, 0x0a, 0x07, 0x00, 0x01, 0x9c, 0x40, 0x1f, 0x90, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x02, 0xff, 0xff, 0x43, 0xfe, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04,
    0x02, 0x08, 0x0a, 0x00, 0x00, 0x30, 0x39, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};
static const uint8_t scapy_hello[45] = {
    0x45, 0x00, 0x00, 0x2d, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x26, 0xbb, 0x0a, 0x07, 0x00,
    0x01, 0x0a, 0x07, 0x00, 0x02, 0x1f, 0x90, 0x9c, 0x40, 0xff, 0xff, 0xff, 0xf0, 0x00, 0x00,
    0x03, 0xe9, 0x50, 0x18, 0x01, 0xf6, 0x96, 0x44, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

/* RFC 1071 written the slow, obvious way: 16-bit big-endian words, odd byte
 * padded with zero, carries folded at the end. The reference the fast
 * wire_sum is compared with. */
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

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The TCP pseudo-header's sum (RFC 9293 §3.1), unfolded, from the addresses
 * in the IPv4 header at `pkt`, for a segment of `seglen` bytes. */
static uint32_t ref_pseudo_sum(const uint8_t *pkt, size_t seglen)
{
    return (uint32_t)(pkt[12] << 8 | pkt[13]) + (uint32_t)(pkt[14] << 8 | pkt[15]) +
           (uint32_t)(pkt[16] << 8 | pkt[17]) + (uint32_t)(pkt[18] << 8 | pkt[19]) +
           WIRE_PROTO_TCP + (uint32_t)seglen;
}

/* Recompute both checksums of an IPv4+TCP packet after a test edited it, with
 * the reference implementation, so the parser sees a packet whose only fault
 * is the one the test put there. */
static void fix_checksums(uint8_t *pkt)
{
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    size_t total = (size_t)(pkt[2] << 8 | pkt[3]);
    pkt[10] = pkt[11] = 0;
    uint16_t c = ref_checksum(pkt, ihl, 0);
    pkt[10] = (uint8_t)(c >> 8);
    pkt[11] = (uint8_t)c;
    if (pkt[9] != WIRE_PROTO_TCP || total < ihl + 18)
        return;
    uint8_t *t = pkt + ihl;
    size_t seglen = total - ihl;
    t[16] = t[17] = 0;
    c = ref_checksum(t, seglen, ref_pseudo_sum(pkt, seglen));
    t[16] = (uint8_t)(c >> 8);
    t[17] = (uint8_t)c;
}

/* Parse IP then TCP, returning the first error. */
static int parse_both(const uint8_t *pkt, size_t len, struct wire_ipv4 *ip, struct wire_tcp *tcp)
{
    int err = wire_ipv4_parse(pkt, len, ip);
    if (err)
        return err;
    return wire_tcp_parse(ip, tcp);
}

/* A valid SYN from the scapy vector, in a writable buffer with room to grow. */
static size_t syn_packet(uint8_t *buf)
{
    memcpy(buf, scapy_syn, sizeof scapy_syn);
    return sizeof scapy_syn;
}

/* A valid packet with a plain 20-byte TCP header and `optlen` bytes of
 * options taken from `opts`, for the option-parsing tests. */
static size_t packet_with_options(uint8_t *buf, const uint8_t *opts, size_t optlen)
{
    size_t total = 20 + 20 + optlen;
    memcpy(buf, scapy_syn, 40);
    buf[2] = (uint8_t)(total >> 8);
    buf[3] = (uint8_t)total;
    buf[20 + 12] = (uint8_t)(((20 + optlen) / 4) << 4);
    memcpy(buf + 40, opts, optlen);
    fix_checksums(buf);
    return total;
}

static int parse_options_of(const uint8_t *opts, size_t optlen, struct wire_tcp *tcp)
{
    uint8_t buf[100];
    struct wire_ipv4 ip;
    size_t len = packet_with_options(buf, opts, optlen);
    return parse_both(buf, len, &ip, tcp);
}

/* ---- checksums ----------------------------------------------------------- */

static void test_checksum_matches_rfc1071_worked_example(void **state)
{
    /* RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (after the
     * end-around carries), so the checksum is its complement 220d. */
    const uint8_t data[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(wire_sum(data, sizeof data, 0), 0xddf2);
    assert_int_equal(wire_sum_fold(wire_sum(data, sizeof data, 0)), 0x220d);
    /* Byte order independence: the same sum read starting one byte later
     * is a different sum, not a crash or a coincidence. */
    assert_int_not_equal(wire_sum(data + 1, 7, 0), 0xddf2);
}

static void test_checksum_of_empty_buffer_is_initial_value(void **state)
{
    assert_int_equal(wire_sum_fold(wire_sum(NULL, 0, 0)), 0xffff);
    assert_int_equal(wire_sum_fold(wire_sum((const uint8_t *)"", 0, 0x1234)), (uint16_t)~0x1234);
}

static void test_checksum_agrees_with_reference_at_every_length_and_alignment(void **state)
{
    uint8_t *buf = malloc(2048 + 8);
    assert_non_null(buf);
    srand(12345);
    for (size_t i = 0; i < 2048 + 8; i++)
        buf[i] = (uint8_t)rand();
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 0; len <= 2048; len++) {
            uint32_t initial = (uint32_t)(len * 2654435761u) & 0x3ffff;
            uint16_t got = wire_sum_fold(wire_sum(buf + align, len, initial));
            uint16_t want = ref_checksum(buf + align, len, initial);
            if (got != want)
                fail_msg("align %zu len %zu: got %04x want %04x", align, len, got, want);
        }
    }
    free(buf);
}

/* wire_sum_scalar() is the 64-bit path wire_sum() takes without AVX2 (and
 * for 65..127 bytes with it): compared with the reference on its own, so
 * both paths are proved on a machine that has AVX2. */
static void
test_checksum_scalar_path_agrees_with_reference_at_every_length_and_alignment(void **state)
{
    uint8_t *buf = malloc(1100 + 8);
    assert_non_null(buf);
    srand(777);
    for (size_t i = 0; i < 1100 + 8; i++)
        buf[i] = (uint8_t)rand();
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 0; len <= 1100; len++) {
            uint32_t initial = (uint32_t)(len * 40503u) & 0x3ffff;
            uint16_t got = wire_sum_fold(wire_sum_scalar(buf + align, len, initial));
            uint16_t want = ref_checksum(buf + align, len, initial);
            if (got != want)
                fail_msg("scalar: align %zu len %zu: got %04x want %04x", align, len, got, want);
            /* and the partial sums themselves agree, not just their folds */
            assert_int_equal(wire_sum_fold(wire_sum(buf + align, len, initial)), got);
        }
    }
    free(buf);
}

/* Random lengths up to 3 x 64 KB at odd and even starts, and all-ones data
 * that long: the vector path adds its 32-bit lanes up every 64 KB, so
 * buffers past that (GSO super-packets) cross a chunk boundary. */
static void test_checksum_of_long_buffers_matches_reference_across_vector_chunks(void **state)
{
    size_t cap = 3 * 65536 + 64;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    srand(4242);
    for (size_t i = 0; i < cap; i++)
        buf[i] = (uint8_t)rand();
    for (int k = 0; k < 200; k++) {
        size_t off = (size_t)rand() % 33;
        size_t len = (size_t)rand() % (cap - off);
        uint16_t want = ref_checksum(buf + off, len, 0);
        if (wire_sum_fold(wire_sum(buf + off, len, 0)) != want ||
            wire_sum_fold(wire_sum_scalar(buf + off, len, 0)) != want)
            fail_msg("off %zu len %zu: wrong sum", off, len);
    }
    memset(buf, 0xff, cap);
    for (size_t len = 65536 - 40; len <= cap; len += 65536 / 3 + 1)
        assert_int_equal(wire_sum_fold(wire_sum(buf + 1, len - 1, 0xffff)),
                         ref_checksum(buf + 1, len - 1, 0xffff));
    memset(buf, 0x80, cap);
    assert_int_equal(wire_sum_fold(wire_sum(buf, cap, 0)), ref_checksum(buf, cap, 0));
    /* All zero: every biased word is -32768, the lanes go as negative as
     * they can, and the sum must still come out as +0 (not 0xffff). */
    memset(buf, 0x00, cap);
    assert_int_equal(wire_sum(buf, cap, 0), 0);
    print_message("wire_sum: %s\n", wire_sum_is_vectorised() ? "AVX2 path" : "scalar path only");
    free(buf);
}

static void test_checksum_with_all_ones_data_does_not_lose_carries(void **state)
{
    /* 0xffff words make every 64-bit add carry: the hardest case for
     * end-around carry handling. */
    uint8_t buf[1501];
    memset(buf, 0xff, sizeof buf);
    for (size_t len = 0; len <= sizeof buf; len++)
        assert_int_equal(wire_sum_fold(wire_sum(buf, len, 0xffff)), ref_checksum(buf, len, 0xffff));
}

static void test_checksum_sums_can_be_chained_over_even_chunks(void **state)
{
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    uint32_t s = wire_sum(buf, 100, 0);
    s = wire_sum(buf + 100, 200, s);
    assert_int_equal(wire_sum_fold(s), ref_checksum(buf, sizeof buf, 0));
}

/* wire_copy is memcpy: every length 0..1100 from and to every alignment
 * 0..7, and not one byte beyond the end written. */
static void test_wire_copy_copies_exactly_at_every_length_and_alignment(void **state)
{
    static uint8_t src[1200], dst[1200], want[1200];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 31 + 7);
    for (size_t sa = 0; sa < 8; sa++)
        for (size_t da = 0; da < 8; da += 3)
            for (size_t len = 0; len <= 1100; len++) {
                memset(dst, 0xa5, sizeof dst);
                memset(want, 0xa5, sizeof want);
                memcpy(want + da, src + sa, len);
                wire_copy(dst + da, src + sa, len);
                if (memcmp(dst, want, sizeof dst) != 0)
                    fail_msg("src align %zu dst align %zu len %zu: copy differs", sa, da, len);
            }
}

/* wire_tcp_build sums the headers it writes from the fields' values; the
 * bytes it wrote must verify with the byte-by-byte reference, whatever the
 * values (all-ones and zero fields included) and whichever options. */
static void test_built_segments_verify_with_the_reference_checksum(void **state)
{
    srand(99);
    uint8_t pkt[1600], text[600];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (uint8_t)rand();
    for (int k = 0; k < 3000; k++) {
        struct wire_tcp th;
        memset(&th, 0, sizeof th);
        uint32_t r = (uint32_t)rand();
        th.sport = k % 7 == 0 ? 0xffff : (uint16_t)rand();
        th.dport = k % 11 == 0 ? 0 : (uint16_t)rand();
        th.seq = k % 5 == 0 ? 0xffffffffu : (uint32_t)rand() * 2654435761u;
        th.ack = k % 3 == 0 ? 0 : (uint32_t)rand() * 40503u;
        th.flags = (uint8_t)(r & 0xff);
        th.win = (uint16_t)(r >> 8);
        th.urg = r & 1 ? (uint16_t)rand() : 0;
        th.opts.has_ts = (r >> 24) & 1;
        th.opts.ts_val = (uint32_t)rand() * 7u;
        th.opts.ts_ecr = k % 13 == 0 ? 0xffffffffu : (uint32_t)rand();
        th.opts.has_mss = ((r >> 25) & 3) == 0;
        th.opts.mss = 1460;
        th.opts.n_sack = (uint8_t)((r >> 27) % 3);
        for (int b = 0; b < th.opts.n_sack; b++)
            th.opts.sack[b] = (struct wire_sack_block){(uint32_t)rand(), (uint32_t)rand()};
        size_t tlen = (r >> 29) & 1 ? (size_t)rand() % sizeof text : 0;
        uint32_t src = (uint32_t)rand() * 3u, dst = k % 17 == 0 ? 0xffffffffu : (uint32_t)rand();
        size_t n = wire_tcp_build(pkt, sizeof pkt, src, dst, (uint16_t)k, &th, text, tlen);
        assert_true(n >= 40);
        assert_int_equal(ref_checksum(pkt, 20, 0), 0); /* IPv4 header */
        assert_int_equal(rd32(pkt + 12), src);
        assert_int_equal(rd32(pkt + 16), dst);
        if (ref_checksum(pkt + 20, n - 20, ref_pseudo_sum(pkt, n - 20)) != 0)
            fail_msg("segment %d (flags %02x, ts %d, sack %d, %zu bytes): bad TCP checksum", k,
                     th.flags, th.opts.has_ts, th.opts.n_sack, tlen);
    }
}

/* A bare ACK from a template (tcp_out.c sends them so) is byte for byte the
 * one wire_tcp_build() and wire_ipv4_set_tos_ttl() make of the same fields,
 * with and without timestamps, for any TTL and Diffserv byte, all-ones and
 * zero fields included; one template serves ACK after ACK. */
static void test_ack_template_builds_what_wire_tcp_build_builds(void **state)
{
    srand(2024);
    for (int k = 0; k < 200; k++) {
        uint32_t src = k % 9 == 0 ? 0xffffffffu : (uint32_t)rand() * 3u;
        uint32_t dst = k % 17 == 0 ? 0 : (uint32_t)rand();
        uint16_t sport = k % 7 == 0 ? 0xffff : (uint16_t)rand();
        uint16_t dport = (uint16_t)rand();
        bool ts = k & 1;
        uint8_t ttl = k % 3 == 0 ? WIRE_DEFAULT_TTL : (uint8_t)rand();
        uint8_t tos = k % 4 == 0 ? 0 : (uint8_t)(rand() & 0xfc);
        struct wire_ack_template t;
        wire_ack_template_init(&t, src, dst, sport, dport, ts, tos, ttl);
        for (int j = 0; j < 20; j++) {
            struct wire_tcp th;
            memset(&th, 0, sizeof th);
            th.sport = sport;
            th.dport = dport;
            th.seq = j % 5 == 0 ? 0xffffffffu : (uint32_t)rand() * 2654435761u;
            th.ack = j % 3 == 0 ? 0 : (uint32_t)rand() * 40503u;
            th.flags = TCP_ACK;
            th.win = j % 4 == 0 ? 0xffff : (uint16_t)rand();
            th.opts.has_ts = ts;
            th.opts.ts_val = j % 6 == 0 ? 0xffffffffu : (uint32_t)rand() * 7u;
            th.opts.ts_ecr = j % 7 == 0 ? 0 : (uint32_t)rand();
            uint16_t id = (uint16_t)(k * 20 + j);
            uint8_t want[100], got[WIRE_ACK_MAX_LEN];
            size_t n = wire_tcp_build(want, sizeof want, src, dst, id, &th, NULL, 0);
            if (ttl != WIRE_DEFAULT_TTL || tos != 0)
                wire_ipv4_set_tos_ttl(want, tos, ttl);
            size_t m = wire_ack_template_fill(got, &t, id, th.seq, th.ack, th.win, th.opts.ts_val,
                                              th.opts.ts_ecr);
            assert_int_equal(m, n);
            if (memcmp(got, want, n) != 0)
                fail_msg("ACK %d/%d (ts %d, ttl %u, tos %u): bytes differ", k, j, ts, ttl, tos);
            assert_int_equal(ref_checksum(got, 20, 0), 0);
            assert_int_equal(ref_checksum(got + 20, m - 20, ref_pseudo_sum(got, m - 20)), 0);
        }
    }
}

/* ---- parsing packets made by scapy ---------------------------------------------- */

static void test_parse_scapy_syn_with_all_options(void **state)
{
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    assert_int_equal(parse_both(scapy_syn, sizeof scapy_syn, &ip, &tcp), WIRE_OK);
    assert_int_equal(ip.ihl, 20);
    assert_int_equal(ip.total_len, 60);
    assert_int_equal(ip.id, 0x1234);
    assert_int_equal(ip.ttl, 64);
    assert_int_equal(ip.proto, WIRE_PROTO_TCP);
    assert_int_equal(ip.frag, 0x4000);
    assert_int_equal(ip.checksum, 0x1478);
    assert_int_equal(ip.src, A_CLIENT);
    assert_int_equal(ip.dst, A_SERVER);
    assert_int_equal(tcp.sport, 40000);
    assert_int_equal(tcp.dport, 8080);
    assert_int_equal(tcp.seq, 1000);
    assert_int_equal(tcp.ack, 0);
    assert_int_equal(tcp.flags, TCP_SYN);
    assert_int_equal(tcp.win, 65535);
    assert_int_equal(tcp.data_off, 40);
    assert_int_equal(tcp.checksum, 0x43fe);
    assert_true(tcp.opts.has_mss);
    assert_int_equal(tcp.opts.mss, 1460);
    assert_true(tcp.opts.sack_permitted);
    assert_true(tcp.opts.has_ts);
    assert_int_equal(tcp.opts.ts_val, 12345);
    assert_int_equal(tcp.opts.ts_ecr, 0);
    assert_true(tcp.opts.has_wscale);
    assert_int_equal(tcp.opts.wscale, 7);
    assert_int_equal(tcp.opts.n_unknown, 0);
    assert_int_equal(tcp.payload_len, 0);
}

static void test_parse_scapy_data_segment_with_odd_length_payload(void **state)
{
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    assert_int_equal(parse_both(scapy_hello, sizeof scapy_hello, &ip, &tcp), WIRE_OK);
    assert_int_equal(ip.checksum, 0x26bb);
    assert_int_equal(tcp.checksum, 0x9644);
    assert_int_equal(tcp.seq, 0xfffffff0u);
    assert_int_equal(tcp.ack, 1001);
    assert_int_equal(tcp.flags, TCP_PSH | TCP_ACK);
    assert_int_equal(tcp.win, 502);
    assert_int_equal(tcp.payload_len, 5);
    assert_memory_equal(tcp.payload, "hello", 5);
    assert_ptr_equal(tcp.payload, scapy_hello + 40);
    assert_false(tcp.opts.has_mss || tcp.opts.has_ts || tcp.opts.has_wscale);
}

static void test_link_padding_after_total_length_is_ignored(void **state)
{
    uint8_t buf[64];
    memcpy(buf, scapy_hello, sizeof scapy_hello);
    memset(buf + sizeof scapy_hello, 0xab, sizeof buf - sizeof scapy_hello);
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    assert_int_equal(parse_both(buf, sizeof buf, &ip, &tcp), WIRE_OK);
    assert_int_equal(ip.payload_len, 25);
    assert_int_equal(tcp.payload_len, 5);
}

/* ---- building ------------------------------------------------------------- */

static void test_build_syn_is_byte_identical_to_scapy(void **state)
{
    struct wire_tcp tcp = {
        .sport = 40000, .dport = 8080, .seq = 1000, .flags = TCP_SYN, .win = 65535};
    tcp.opts.has_mss = true;
    tcp.opts.mss = 1460;
    tcp.opts.sack_permitted = true;
    tcp.opts.has_ts = true;
    tcp.opts.ts_val = 12345;
    tcp.opts.has_wscale = true;
    tcp.opts.wscale = 7;
    uint8_t buf[100];
    size_t n = wire_tcp_build(buf, sizeof buf, A_CLIENT, A_SERVER, 0x1234, &tcp, NULL, 0);
    assert_int_equal(n, sizeof scapy_syn);
    assert_memory_equal(buf, scapy_syn, n);
    assert_int_equal(tcp.data_off, 40);
    assert_int_equal(tcp.checksum, 0x43fe);
}

static void test_build_data_segment_is_byte_identical_to_scapy(void **state)
{
    struct wire_tcp tcp = {.sport = 8080,
                           .dport = 40000,
                           .seq = 0xfffffff0u,
                           .ack = 1001,
                           .flags = TCP_PSH | TCP_ACK,
                           .win = 502};
    uint8_t buf[100];
    size_t n =
        wire_tcp_build(buf, sizeof buf, A_SERVER, A_CLIENT, 0, &tcp, (const uint8_t *)"hello", 5);
    assert_int_equal(n, sizeof scapy_hello);
    assert_memory_equal(buf, scapy_hello, n);
    assert_ptr_equal(tcp.payload, buf + 40);
    assert_int_equal(tcp.payload_len, 5);
}

static void test_build_refuses_a_buffer_too_small(void **state)
{
    struct wire_tcp tcp = {.sport = 1, .dport = 2, .flags = TCP_ACK};
    uint8_t buf[64];
    assert_int_equal(
        wire_tcp_build(buf, 44, A_CLIENT, A_SERVER, 0, &tcp, (const uint8_t *)"hello", 5), 0);
    assert_int_equal(
        wire_tcp_build(buf, 45, A_CLIENT, A_SERVER, 0, &tcp, (const uint8_t *)"hello", 5), 45);
}

/* Build with every subset of options and several payload sizes, parse back,
 * and compare field by field. */
static void test_build_then_parse_round_trips_every_option_subset(void **state)
{
    static uint8_t payload[1460];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 31 + 1);
    static const size_t sizes[] = {0, 1, 2, 3, 7, 536, 1459, 1460};
    static uint8_t buf[1600];
    for (unsigned mask = 0; mask < 16; mask++) {
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            struct wire_tcp in = {.sport = 40000 + (uint16_t)mask,
                                  .dport = 80,
                                  .seq = 0xfffffff0u + (uint32_t)si,
                                  .ack = 0x80000000u,
                                  .flags = (uint8_t)(mask * 17),
                                  .win = 1234,
                                  .urg = 7};
            in.opts.has_mss = mask & 1;
            in.opts.mss = 1400;
            in.opts.has_wscale = mask & 2;
            in.opts.wscale = 14;
            in.opts.sack_permitted = mask & 4;
            in.opts.has_ts = mask & 8;
            in.opts.ts_val = 0xdeadbeef;
            in.opts.ts_ecr = 0x01020304;
            size_t n = wire_tcp_build(buf, sizeof buf, A_CLIENT, A_SERVER, (uint16_t)si, &in,
                                      payload, sizes[si]);
            assert_int_not_equal(n, 0);
            assert_int_equal(in.data_off % 4, 0);

            struct wire_ipv4 ip;
            struct wire_tcp out;
            assert_int_equal(parse_both(buf, n, &ip, &out), WIRE_OK);
            assert_int_equal(ip.ttl, 64);
            assert_int_equal(ip.frag, 0x4000); /* DF */
            assert_int_equal(ip.id, si);
            assert_int_equal(out.sport, in.sport);
            assert_int_equal(out.dport, in.dport);
            assert_int_equal(out.seq, in.seq);
            assert_int_equal(out.ack, in.ack);
            assert_int_equal(out.flags, in.flags);
            assert_int_equal(out.win, in.win);
            assert_int_equal(out.urg, in.urg);
            assert_int_equal(out.data_off, in.data_off);
            assert_int_equal(out.checksum, in.checksum);
            assert_int_equal(out.opts.has_mss, in.opts.has_mss);
            assert_int_equal(out.opts.has_wscale, in.opts.has_wscale);
            assert_int_equal(out.opts.sack_permitted, in.opts.sack_permitted);
            assert_int_equal(out.opts.has_ts, in.opts.has_ts);
            if (in.opts.has_mss)
                assert_int_equal(out.opts.mss, 1400);
            if (in.opts.has_wscale)
                assert_int_equal(out.opts.wscale, 14);
            if (in.opts.has_ts) {
                assert_int_equal(out.opts.ts_val, 0xdeadbeef);
                assert_int_equal(out.opts.ts_ecr, 0x01020304);
            }
            assert_int_equal(out.opts.n_unknown, 0);
            assert_int_equal(out.payload_len, sizes[si]);
            assert_memory_equal(out.payload, payload, sizes[si]);
            /* The independent checksum agrees with what was built. */
            assert_int_equal(ref_checksum(buf, 20, 0), 0);
        }
    }
}

static void test_build_accepts_payload_already_in_place(void **state)
{
    uint8_t buf[100];
    memcpy(buf + 40, "in place", 8);
    struct wire_tcp tcp = {.sport = 7, .dport = 7, .flags = TCP_ACK};
    size_t n = wire_tcp_build(buf, sizeof buf, A_CLIENT, A_SERVER, 0, &tcp, buf + 40, 8);
    struct wire_ipv4 ip;
    struct wire_tcp out;
    assert_int_equal(parse_both(buf, n, &ip, &out), WIRE_OK);
    assert_memory_equal(out.payload, "in place", 8);
}

/* ---- every malformation, each with its own error ------------------------------ */

static void test_ip_shorter_than_minimal_header_is_truncated_ip(void **state)
{
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(scapy_hello, 19, &ip), WIRE_ERR_TRUNCATED_IP);
    assert_int_equal(wire_ipv4_parse(scapy_hello, 0, &ip), WIRE_ERR_TRUNCATED_IP);
}

static void test_ip_version_6_is_bad_version(void **state)
{
    uint8_t buf[100];
    size_t len = syn_packet(buf);
    buf[0] = 0x65;
    fix_checksums(buf);
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, len, &ip), WIRE_ERR_BAD_VERSION);
}

static void test_ihl_below_five_is_bad_ihl(void **state)
{
    uint8_t buf[100];
    size_t len = syn_packet(buf);
    buf[0] = 0x44;
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, len, &ip), WIRE_ERR_BAD_IHL);
}

static void test_ihl_longer_than_buffer_is_bad_ihl(void **state)
{
    uint8_t buf[100];
    syn_packet(buf);
    buf[0] = 0x4f; /* 60-byte header in a 40-byte buffer */
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, 40, &ip), WIRE_ERR_BAD_IHL);
}

static void test_total_length_below_header_is_bad_total_length(void **state)
{
    uint8_t buf[100];
    size_t len = syn_packet(buf);
    buf[2] = 0;
    buf[3] = 19;
    fix_checksums(buf);
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, len, &ip), WIRE_ERR_BAD_TOTAL_LENGTH);
}

static void test_total_length_beyond_received_bytes_is_bad_total_length(void **state)
{
    uint8_t buf[100];
    size_t len = syn_packet(buf);
    buf[3] = 61;
    fix_checksums(buf);
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, len, &ip), WIRE_ERR_BAD_TOTAL_LENGTH);
}

static void test_corrupted_ip_header_is_bad_ip_checksum(void **state)
{
    uint8_t buf[100];
    size_t len = syn_packet(buf);
    buf[8] = 63; /* TTL changed, checksum not updated */
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, len, &ip), WIRE_ERR_BAD_IP_CHECKSUM);
}

static void test_more_fragments_flag_is_fragment(void **state)
{
    uint8_t buf[100];
    size_t len = syn_packet(buf);
    buf[6] = 0x20; /* MF */
    buf[7] = 0;
    fix_checksums(buf);
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, len, &ip), WIRE_ERR_FRAGMENT);
}

static void test_nonzero_fragment_offset_is_fragment(void **state)
{
    uint8_t buf[100];
    size_t len = syn_packet(buf);
    buf[6] = 0x00;
    buf[7] = 0x01; /* last fragment, offset 8 bytes */
    fix_checksums(buf);
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, len, &ip), WIRE_ERR_FRAGMENT);
}

static void test_udp_is_not_tcp(void **state)
{
    uint8_t buf[100];
    size_t len = syn_packet(buf);
    buf[9] = 17;
    fix_checksums(buf);
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    struct wire_icmp_echo echo;
    assert_int_equal(wire_ipv4_parse(buf, len, &ip), WIRE_OK);
    assert_int_equal(wire_tcp_parse(&ip, &tcp), WIRE_ERR_NOT_TCP);
    assert_int_equal(wire_icmp_echo_parse(&ip, &echo), WIRE_ERR_NOT_TCP);
}

static void test_ip_payload_below_20_bytes_is_truncated_tcp(void **state)
{
    uint8_t buf[100];
    syn_packet(buf);
    buf[2] = 0;
    buf[3] = 39;
    fix_checksums(buf);
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    assert_int_equal(parse_both(buf, 39, &ip, &tcp), WIRE_ERR_TRUNCATED_TCP);
}

static void test_data_offset_below_five_is_bad_data_offset(void **state)
{
    uint8_t buf[100];
    size_t len = syn_packet(buf);
    buf[32] = 0x40;
    fix_checksums(buf);
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    assert_int_equal(parse_both(buf, len, &ip, &tcp), WIRE_ERR_BAD_DATA_OFFSET);
}

static void test_data_offset_beyond_segment_is_bad_data_offset(void **state)
{
    uint8_t buf[100];
    size_t len = syn_packet(buf);
    buf[32] = 0xb0; /* 44-byte header in a 40-byte segment */
    fix_checksums(buf);
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    assert_int_equal(parse_both(buf, len, &ip, &tcp), WIRE_ERR_BAD_DATA_OFFSET);
}

static void test_corrupted_payload_is_bad_checksum(void **state)
{
    uint8_t buf[100];
    memcpy(buf, scapy_hello, sizeof scapy_hello);
    buf[44] ^= 0x01;
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    assert_int_equal(parse_both(buf, sizeof scapy_hello, &ip, &tcp), WIRE_ERR_BAD_CHECKSUM);
}

static void test_wrong_pseudo_header_address_is_bad_checksum(void **state)
{
    /* The TCP checksum covers the addresses: a packet delivered to another
     * address (with a correct IP checksum) must not verify. */
    uint8_t buf[100];
    memcpy(buf, scapy_hello, sizeof scapy_hello);
    buf[19] = 3;
    buf[10] = buf[11] = 0;
    uint16_t c = ref_checksum(buf, 20, 0);
    buf[10] = (uint8_t)(c >> 8);
    buf[11] = (uint8_t)c;
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    assert_int_equal(parse_both(buf, sizeof scapy_hello, &ip, &tcp), WIRE_ERR_BAD_CHECKSUM);
}

static void test_option_length_zero_is_bad_option_length(void **state)
{
    const uint8_t opts[] = {30, 0, 1, 1};
    struct wire_tcp tcp;
    assert_int_equal(parse_options_of(opts, sizeof opts, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);
}

static void test_option_length_one_is_bad_option_length(void **state)
{
    const uint8_t opts[] = {30, 1, 1, 1};
    struct wire_tcp tcp;
    assert_int_equal(parse_options_of(opts, sizeof opts, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);
}

static void test_option_running_past_header_is_bad_option_length(void **state)
{
    const uint8_t opts[] = {1, 30, 4, 0}; /* 4 bytes from offset 1: one too many */
    struct wire_tcp tcp;
    assert_int_equal(parse_options_of(opts, sizeof opts, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);
}

static void test_option_kind_in_last_byte_without_length_is_bad_option_length(void **state)
{
    const uint8_t opts[] = {1, 1, 1, 2};
    struct wire_tcp tcp;
    assert_int_equal(parse_options_of(opts, sizeof opts, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);
}

static void test_known_options_with_wrong_length_are_bad_option_length(void **state)
{
    const uint8_t mss3[] = {2, 3, 5, 1};
    const uint8_t ws4[] = {3, 4, 7, 0};
    const uint8_t sack3[] = {4, 3, 0, 1};
    const uint8_t ts8[] = {8, 8, 0, 0, 0, 1, 0, 0};
    struct wire_tcp tcp;
    assert_int_equal(parse_options_of(mss3, 4, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);
    assert_int_equal(parse_options_of(ws4, 4, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);
    assert_int_equal(parse_options_of(sack3, 4, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);
    assert_int_equal(parse_options_of(ts8, 8, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);
}

static void test_unknown_options_are_skipped_by_their_length(void **state)
{
    /* kind 30 (MPTCP) with 6 bytes, kind 99 with 10, then MSS. */
    const uint8_t opts[] = {30, 6, 0xff, 0xff, 0xff, 0xff, 99, 10, 0, 0, 0,
                            1,  0, 0,    0,    2,    2,    4,  2,  0, 1, 1};
    uint8_t padded[24] = {0};
    memcpy(padded, opts, sizeof opts);
    struct wire_tcp tcp;
    assert_int_equal(parse_options_of(padded, sizeof padded, &tcp), WIRE_OK);
    assert_int_equal(tcp.opts.n_unknown, 2);
    assert_int_equal(tcp.opts.n_sack, 0);
    assert_true(tcp.opts.has_mss);
    assert_int_equal(tcp.opts.mss, 512);
}

/* ---- SACK blocks (RFC 2018 §3) -------------------------------------------------- */

/* NOP NOP kind 5 length 2+8n, then n (left, right) pairs, big-endian. */
static size_t sack_option(uint8_t *p, const uint32_t (*edges)[2], size_t n)
{
    size_t k = 0;
    p[k++] = 1;
    p[k++] = 1;
    p[k++] = 5;
    p[k++] = (uint8_t)(2 + 8 * n);
    for (size_t i = 0; i < n; i++)
        for (size_t e = 0; e < 2; e++) {
            p[k++] = (uint8_t)(edges[i][e] >> 24);
            p[k++] = (uint8_t)(edges[i][e] >> 16);
            p[k++] = (uint8_t)(edges[i][e] >> 8);
            p[k++] = (uint8_t)edges[i][e];
        }
    return k;
}

static const uint32_t sack_edges[4][2] = {{0x00001001u, 0x00001801u},
                                          {0x00002001u, 0x00002401u},
                                          {0xfffffff0u, 0x00000010u},
                                          {0x80000000u, 0x80000001u}};

static void test_rfc2018_sack_blocks_parse_one_to_four_in_order(void **state)
{
    for (size_t n = 1; n <= 4; n++) {
        uint8_t opts[40];
        size_t len = sack_option(opts, sack_edges, n);
        struct wire_tcp tcp;
        assert_int_equal(parse_options_of(opts, len, &tcp), WIRE_OK);
        assert_int_equal(tcp.opts.n_sack, n);
        assert_int_equal(tcp.opts.n_unknown, 0);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(tcp.opts.sack[i].left, sack_edges[i][0]);
            assert_int_equal(tcp.opts.sack[i].right, sack_edges[i][1]);
        }
    }
}

static void test_rfc2018_sack_blocks_beside_timestamps_parse(void **state)
{
    /* NOP NOP TS(10) then NOP NOP SACK with 3 blocks: 12 + 28 = 40 bytes, the
     * most a segment with timestamps can carry (Linux sends this shape). */
    uint8_t opts[40] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};
    size_t len = 12 + sack_option(opts + 12, sack_edges, 3);
    assert_int_equal(len, 40);
    struct wire_tcp tcp;
    assert_int_equal(parse_options_of(opts, len, &tcp), WIRE_OK);
    assert_true(tcp.opts.has_ts);
    assert_int_equal(tcp.opts.ts_val, 7);
    assert_int_equal(tcp.opts.n_sack, 3);
    assert_int_equal(tcp.opts.sack[2].left, 0xfffffff0u);
    assert_int_equal(tcp.opts.sack[2].right, 0x10u);
}

/* Lengths other than 2 + 8n (n >= 1) are malformed, as any known option of
 * the wrong length is: 2 (no block), 3..9, 11, 17, 26 ... */
static void test_rfc2018_sack_length_not_2_plus_8n_is_bad_option_length(void **state)
{
    static const uint8_t bad_lengths[] = {2, 3, 6, 9, 11, 17, 19, 25, 33, 35};
    for (size_t i = 0; i < sizeof bad_lengths; i++) {
        uint8_t opts[40];
        memset(opts, 0, sizeof opts);
        opts[0] = 5;
        opts[1] = bad_lengths[i];
        size_t len = (bad_lengths[i] + 3u) & ~3u;
        struct wire_tcp tcp;
        assert_int_equal(parse_options_of(opts, len, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);
    }
}

static void test_rfc2018_sack_running_past_the_header_is_bad_option_length(void **state)
{
    uint8_t opts[12];
    sack_option(opts, sack_edges, 1); /* 12 bytes; claim 2 blocks (18) */
    opts[3] = 18;
    struct wire_tcp tcp;
    assert_int_equal(parse_options_of(opts, sizeof opts, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);
}

/* Five blocks cannot be encoded: one option would be 42 bytes, two options
 * need 4 + 40. A kind-5 length of 42 runs past the header; two options with
 * 4 blocks in all (the most that fit) parse as four blocks in order. */
static void test_rfc2018_more_than_four_sack_blocks_cannot_be_parsed(void **state)
{
    uint8_t opts[40] = {5, 42};
    struct wire_tcp tcp;
    assert_int_equal(parse_options_of(opts, sizeof opts, &tcp), WIRE_ERR_BAD_OPTION_LENGTH);

    size_t len = sack_option(opts, sack_edges, 2);
    len += sack_option(opts + len, sack_edges + 2, 2);
    assert_int_equal(len, 40);
    assert_int_equal(parse_options_of(opts, len, &tcp), WIRE_OK);
    assert_int_equal(tcp.opts.n_sack, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(tcp.opts.sack[i].left, sack_edges[i][0]);
}

static void test_rfc2018_build_writes_nop_nop_and_sack_blocks(void **state)
{
    uint8_t buf[100];
    struct wire_tcp tcp = {.sport = 1, .dport = 2, .seq = 3, .ack = 0x1001, .flags = TCP_ACK};
    tcp.opts.n_sack = 2;
    for (size_t i = 0; i < 2; i++) {
        tcp.opts.sack[i].left = sack_edges[i][0];
        tcp.opts.sack[i].right = sack_edges[i][1];
    }
    size_t n = wire_tcp_build(buf, sizeof buf, A_CLIENT, A_SERVER, 0, &tcp, NULL, 0);
    assert_int_equal(n, 40 + 20);
    uint8_t want[20];
    assert_int_equal(sack_option(want, sack_edges, 2), 20);
    assert_memory_equal(buf + 40, want, 20);
    assert_int_equal(tcp.data_off, 40);
}

/* With timestamps only 3 blocks fit; with MSS, window scale, SACK-permitted
 * and timestamps (a SYN's 20 bytes) only 2. The first (most recent) are kept. */
static void test_rfc2018_build_cuts_the_oldest_blocks_that_do_not_fit(void **state)
{
    static const struct {
        bool ts, syn_opts;
        uint8_t want;
    } cases[] = {{false, false, 4}, {true, false, 3}, {true, true, 2}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t buf[100];
        struct wire_tcp in = {.sport = 1, .dport = 2, .ack = 5, .flags = TCP_ACK};
        in.opts.has_ts = cases[c].ts;
        in.opts.has_mss = in.opts.has_wscale = in.opts.sack_permitted = cases[c].syn_opts;
        in.opts.n_sack = 4;
        for (size_t i = 0; i < 4; i++) {
            in.opts.sack[i].left = sack_edges[i][0];
            in.opts.sack[i].right = sack_edges[i][1];
        }
        size_t n = wire_tcp_build(buf, sizeof buf, A_CLIENT, A_SERVER, 0, &in, NULL, 0);
        assert_int_not_equal(n, 0);
        assert_true(in.data_off <= 60);
        assert_int_equal(in.opts.n_sack, cases[c].want);
        struct wire_ipv4 ip;
        struct wire_tcp out;
        assert_int_equal(parse_both(buf, n, &ip, &out), WIRE_OK);
        assert_int_equal(out.opts.n_sack, cases[c].want);
        for (size_t i = 0; i < cases[c].want; i++) {
            assert_int_equal(out.opts.sack[i].left, sack_edges[i][0]);
            assert_int_equal(out.opts.sack[i].right, sack_edges[i][1]);
        }
        assert_int_equal(out.opts.has_ts, cases[c].ts);
    }
}

static void test_end_of_option_list_stops_parsing(void **state)
{
    /* MSS, EOL, then bytes that would be an invalid option if read. */
    const uint8_t opts[] = {2, 4, 0x05, 0xb4, 0, 30, 0, 0};
    struct wire_tcp tcp;
    assert_int_equal(parse_options_of(opts, sizeof opts, &tcp), WIRE_OK);
    assert_true(tcp.opts.has_mss);
    assert_int_equal(tcp.opts.mss, 1460);
    assert_int_equal(tcp.opts.n_unknown, 0);
}

static void test_every_error_has_its_own_code_and_name(void **state)
{
    static const struct {
        int code;
        const char *name;
    } all[] = {
        {WIRE_ERR_TRUNCATED_IP, "truncated_ip"},
        {WIRE_ERR_BAD_VERSION, "bad_version"},
        {WIRE_ERR_BAD_IHL, "bad_ihl"},
        {WIRE_ERR_BAD_TOTAL_LENGTH, "bad_total_length"},
        {WIRE_ERR_BAD_IP_CHECKSUM, "bad_ip_checksum"},
        {WIRE_ERR_FRAGMENT, "fragment"},
        {WIRE_ERR_NOT_TCP, "not_tcp"},
        {WIRE_ERR_TRUNCATED_TCP, "truncated_tcp"},
        {WIRE_ERR_BAD_DATA_OFFSET, "bad_data_offset"},
        {WIRE_ERR_BAD_OPTION_LENGTH, "bad_option_length"},
        {WIRE_ERR_BAD_CHECKSUM, "bad_checksum"},
        {WIRE_ERR_TRUNCATED_ICMP, "truncated_icmp"},
        {WIRE_ERR_BAD_ICMP_CHECKSUM, "bad_icmp_checksum"},
        {WIRE_ERR_NOT_ECHO, "not_echo"},
        {WIRE_ERR_TRUNCATED_UDP, "truncated_udp"},
        {WIRE_ERR_BAD_UDP_CHECKSUM, "bad_udp_checksum"},
    };
    size_t n = sizeof all / sizeof all[0];
    assert_int_equal(n + 1, WIRE_ERR_COUNT_);
    for (size_t i = 0; i < n; i++) {
        assert_true(all[i].code < 0);
        assert_string_equal(wire_err_name(all[i].code), all[i].name);
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(all[i].code, all[j].code);
    }
    assert_string_equal(wire_err_name(WIRE_OK), "ok");
    assert_string_equal(wire_err_name(-100), "unknown");
    assert_string_equal(wire_err_name(5), "unknown");
}

/* ---- truncation never reads past the buffer ------------------------------------ */

/* Each prefix of a valid packet is copied into a heap block of exactly that
 * size, so ASan reports any read past it. */
static void test_every_truncation_of_a_valid_packet_is_rejected_safely(void **state)
{
    const uint8_t *pkts[] = {scapy_syn, scapy_hello};
    const size_t lens[] = {sizeof scapy_syn, sizeof scapy_hello};
    for (size_t k = 0; k < 2; k++) {
        for (size_t len = 0; len < lens[k]; len++) {
            uint8_t *copy = malloc(len ? len : 1);
            assert_non_null(copy);
            memcpy(copy, pkts[k], len);
            struct wire_ipv4 ip;
            struct wire_tcp tcp;
            int err = parse_both(copy, len, &ip, &tcp);
            if (len < 20)
                assert_int_equal(err, WIRE_ERR_TRUNCATED_IP);
            else
                assert_int_equal(err, WIRE_ERR_BAD_TOTAL_LENGTH);
            free(copy);
        }
    }
}

/* The same at the TCP layer: an IP header that claims exactly the truncated
 * length (checksums fixed), so the TCP parser itself sees short input. */
static void test_every_truncation_of_a_tcp_segment_is_rejected_safely(void **state)
{
    for (size_t len = 20; len < sizeof scapy_syn; len++) {
        uint8_t *copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, scapy_syn, len);
        copy[2] = (uint8_t)(len >> 8);
        copy[3] = (uint8_t)len;
        fix_checksums(copy);
        struct wire_ipv4 ip;
        struct wire_tcp tcp;
        int err = parse_both(copy, len, &ip, &tcp);
        if (len < 40)
            assert_int_equal(err, WIRE_ERR_TRUNCATED_TCP);
        else
            assert_int_equal(err, WIRE_ERR_BAD_DATA_OFFSET);
        free(copy);
    }
}

/* Options cut short at every length, with the data offset adjusted to match:
 * either a clean parse of what remains or bad_option_length, never a read
 * past the header. */
static void test_every_truncation_of_the_option_list_is_rejected_safely(void **state)
{
    const uint8_t *opts = scapy_syn + 40;
    for (size_t optlen = 0; optlen <= 20; optlen += 4) {
        uint8_t buf[100];
        struct wire_tcp tcp;
        size_t len = packet_with_options(buf, opts, optlen);
        uint8_t *copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, buf, len);
        struct wire_ipv4 ip;
        int err = parse_both(copy, len, &ip, &tcp);
        /* MSS (0-3), SACKOK (4-5) TS (6-15) NOP (16) WS (17-19) */
        if (optlen == 8 || optlen == 12)
            assert_int_equal(err, WIRE_ERR_BAD_OPTION_LENGTH);
        else
            assert_int_equal(err, WIRE_OK);
        free(copy);
    }
}

/* ---- ICMP echo ----------------------------------------------------------- */

static size_t echo_request(uint8_t *buf, const char *data)
{
    size_t dlen = strlen(data);
    size_t total = 28 + dlen;
    memset(buf, 0, 28);
    buf[0] = 0x45;
    buf[2] = (uint8_t)(total >> 8);
    buf[3] = (uint8_t)total;
    buf[8] = 64;
    buf[9] = WIRE_PROTO_ICMP;
    buf[12] = 10, buf[13] = 7, buf[14] = 0, buf[15] = 1;
    buf[16] = 10, buf[17] = 7, buf[18] = 0, buf[19] = 2;
    uint8_t *icmp = buf + 20;
    icmp[0] = 8;
    icmp[4] = 0x12, icmp[5] = 0x34, icmp[6] = 0, icmp[7] = 9;
    memcpy(icmp + 8, data, dlen);
    uint16_t c = ref_checksum(icmp, 8 + dlen, 0);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
    fix_checksums(buf);
    return total;
}

static void test_echo_request_parses_and_reply_mirrors_it(void **state)
{
    uint8_t req[100], rep[100];
    size_t len = echo_request(req, "ping!");
    struct wire_ipv4 ip;
    struct wire_icmp_echo echo;
    assert_int_equal(wire_ipv4_parse(req, len, &ip), WIRE_OK);
    assert_int_equal(wire_icmp_echo_parse(&ip, &echo), WIRE_OK);
    assert_int_equal(echo.type, 8);
    assert_int_equal(echo.id, 0x1234);
    assert_int_equal(echo.seqno, 9);
    assert_int_equal(echo.data_len, 5);

    size_t n = wire_icmp_echo_reply_build(rep, sizeof rep, &ip, &echo, 77);
    assert_int_equal(n, len);
    struct wire_ipv4 rip;
    assert_int_equal(wire_ipv4_parse(rep, n, &rip), WIRE_OK);
    assert_int_equal(rip.src, A_CLIENT);
    assert_int_equal(rip.dst, A_SERVER);
    assert_int_equal(rip.id, 77);
    assert_int_equal(rip.proto, WIRE_PROTO_ICMP);
    const uint8_t *icmp = rep + 20;
    assert_int_equal(icmp[0], 0); /* echo reply */
    assert_int_equal(ref_checksum(icmp, n - 20, 0), 0);
    assert_memory_equal(icmp + 4, req + 24, 4 + 5); /* id, seq, data */
}

static void test_short_icmp_is_truncated_icmp(void **state)
{
    uint8_t req[100];
    echo_request(req, "");
    req[3] = 27;
    fix_checksums(req);
    struct wire_ipv4 ip;
    struct wire_icmp_echo echo;
    assert_int_equal(wire_ipv4_parse(req, 27, &ip), WIRE_OK);
    assert_int_equal(wire_icmp_echo_parse(&ip, &echo), WIRE_ERR_TRUNCATED_ICMP);
}

static void test_corrupted_icmp_is_bad_icmp_checksum(void **state)
{
    uint8_t req[100];
    size_t len = echo_request(req, "abc");
    req[len - 1] ^= 0x40;
    struct wire_ipv4 ip;
    struct wire_icmp_echo echo;
    assert_int_equal(wire_ipv4_parse(req, len, &ip), WIRE_OK);
    assert_int_equal(wire_icmp_echo_parse(&ip, &echo), WIRE_ERR_BAD_ICMP_CHECKSUM);
}

static void test_icmp_other_than_echo_request_is_not_echo(void **state)
{
    uint8_t req[100];
    size_t len = echo_request(req, "abc");
    req[20] = 3; /* destination unreachable */
    req[22] = req[23] = 0;
    uint16_t c = ref_checksum(req + 20, len - 20, 0);
    req[22] = (uint8_t)(c >> 8);
    req[23] = (uint8_t)c;
    struct wire_ipv4 ip;
    struct wire_icmp_echo echo;
    assert_int_equal(wire_ipv4_parse(req, len, &ip), WIRE_OK);
    assert_int_equal(wire_icmp_echo_parse(&ip, &echo), WIRE_ERR_NOT_ECHO);
}

/* ---- flags and addresses ------------------------------------------------------- */

static void test_flags_are_written_as_tcpdump_writes_them(void **state)
{
    char s[10];
    assert_string_equal(wire_flags_str(TCP_SYN, s), "S");
    assert_string_equal(wire_flags_str(TCP_SYN | TCP_ACK, s), "S.");
    assert_string_equal(wire_flags_str(TCP_ACK, s), ".");
    assert_string_equal(wire_flags_str(TCP_PSH | TCP_ACK, s), "P.");
    assert_string_equal(wire_flags_str(TCP_FIN | TCP_ACK, s), "F.");
    assert_string_equal(wire_flags_str(TCP_FIN | TCP_PSH | TCP_ACK, s), "FP.");
    assert_string_equal(wire_flags_str(TCP_RST, s), "R");
    assert_string_equal(wire_flags_str(TCP_RST | TCP_ACK, s), "R.");
    assert_string_equal(wire_flags_str(TCP_SYN | TCP_ECE | TCP_CWR, s), "SEW");
    assert_string_equal(wire_flags_str(0xff, s), "FSRPUEW.");
    assert_string_equal(wire_flags_str(0, s), "none");
}

static void test_flags_parse_is_the_inverse_of_flags_str(void **state)
{
    char s[10];
    for (int f = 0; f < 256; f++)
        assert_int_equal(wire_flags_parse(wire_flags_str((uint8_t)f, s)), f);
    assert_int_equal(wire_flags_parse("S."), TCP_SYN | TCP_ACK);
    assert_int_equal(wire_flags_parse("X"), -1);
    assert_int_equal(wire_flags_parse("S,"), -1);
    assert_int_equal(wire_flags_parse(""), -1);
}

static void test_addresses_print_and_parse_as_dotted_quads(void **state)
{
    char s[16];
    assert_string_equal(wire_addr_str(A_CLIENT, s), "10.7.0.2");
    assert_string_equal(wire_addr_str(0xffffffffu, s), "255.255.255.255");
    assert_string_equal(wire_addr_str(0, s), "0.0.0.0");
    uint32_t a = 0;
    assert_int_equal(wire_addr_parse("10.7.0.1", &a), 0);
    assert_int_equal(a, A_SERVER);
    assert_int_equal(wire_addr_parse("255.255.255.255", &a), 0);
    assert_int_equal(a, 0xffffffffu);
    const char *bad[] = {"",         "10.7.0",   "10.7.0.1.", "10.7.0.256", "10..0.1", "1.2.3.4x",
                         " 1.2.3.4", "01.2.3.4", "1.2.3.-4",  "1234.1.1.1", "a.b.c.d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = 42;
        if (wire_addr_parse(bad[i], &a) != -1)
            fail_msg("\"%s\" parsed", bad[i]);
        assert_int_equal(a, 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_matches_rfc1071_worked_example),
        cmocka_unit_test(test_checksum_of_empty_buffer_is_initial_value),
        cmocka_unit_test(test_checksum_agrees_with_reference_at_every_length_and_alignment),
        cmocka_unit_test(
            test_checksum_scalar_path_agrees_with_reference_at_every_length_and_alignment),
        cmocka_unit_test(test_checksum_of_long_buffers_matches_reference_across_vector_chunks),
        cmocka_unit_test(test_checksum_with_all_ones_data_does_not_lose_carries),
        cmocka_unit_test(test_built_segments_verify_with_the_reference_checksum),
        cmocka_unit_test(test_ack_template_builds_what_wire_tcp_build_builds),
        cmocka_unit_test(test_wire_copy_copies_exactly_at_every_length_and_alignment),
        cmocka_unit_test(test_checksum_sums_can_be_chained_over_even_chunks),
        cmocka_unit_test(test_parse_scapy_syn_with_all_options),
        cmocka_unit_test(test_parse_scapy_data_segment_with_odd_length_payload),
        cmocka_unit_test(test_link_padding_after_total_length_is_ignored),
        cmocka_unit_test(test_build_syn_is_byte_identical_to_scapy),
        cmocka_unit_test(test_build_data_segment_is_byte_identical_to_scapy),
        cmocka_unit_test(test_build_refuses_a_buffer_too_small),
        cmocka_unit_test(test_build_then_parse_round_trips_every_option_subset),
        cmocka_unit_test(test_build_accepts_payload_already_in_place),
        cmocka_unit_test(test_ip_shorter_than_minimal_header_is_truncated_ip),
        cmocka_unit_test(test_ip_version_6_is_bad_version),
        cmocka_unit_test(test_ihl_below_five_is_bad_ihl),
        cmocka_unit_test(test_ihl_longer_than_buffer_is_bad_ihl),
        cmocka_unit_test(test_total_length_below_header_is_bad_total_length),
        cmocka_unit_test(test_total_length_beyond_received_bytes_is_bad_total_length),
        cmocka_unit_test(test_corrupted_ip_header_is_bad_ip_checksum),
        cmocka_unit_test(test_more_fragments_flag_is_fragment),
        cmocka_unit_test(test_nonzero_fragment_offset_is_fragment),
        cmocka_unit_test(test_udp_is_not_tcp),
        cmocka_unit_test(test_ip_payload_below_20_bytes_is_truncated_tcp),
        cmocka_unit_test(test_data_offset_below_five_is_bad_data_offset),
        cmocka_unit_test(test_data_offset_beyond_segment_is_bad_data_offset),
        cmocka_unit_test(test_corrupted_payload_is_bad_checksum),
        cmocka_unit_test(test_wrong_pseudo_header_address_is_bad_checksum),
        cmocka_unit_test(test_option_length_zero_is_bad_option_length),
        cmocka_unit_test(test_option_length_one_is_bad_option_length),
        cmocka_unit_test(test_option_running_past_header_is_bad_option_length),
        cmocka_unit_test(test_option_kind_in_last_byte_without_length_is_bad_option_length),
        cmocka_unit_test(test_known_options_with_wrong_length_are_bad_option_length),
        cmocka_unit_test(test_unknown_options_are_skipped_by_their_length),
        cmocka_unit_test(test_rfc2018_sack_blocks_parse_one_to_four_in_order),
        cmocka_unit_test(test_rfc2018_sack_blocks_beside_timestamps_parse),
        cmocka_unit_test(test_rfc2018_sack_length_not_2_plus_8n_is_bad_option_length),
        cmocka_unit_test(test_rfc2018_sack_running_past_the_header_is_bad_option_length),
        cmocka_unit_test(test_rfc2018_more_than_four_sack_blocks_cannot_be_parsed),
        cmocka_unit_test(test_rfc2018_build_writes_nop_nop_and_sack_blocks),
        cmocka_unit_test(test_rfc2018_build_cuts_the_oldest_blocks_that_do_not_fit),
        cmocka_unit_test(test_end_of_option_list_stops_parsing),
        cmocka_unit_test(test_every_error_has_its_own_code_and_name),
        cmocka_unit_test(test_every_truncation_of_a_valid_packet_is_rejected_safely),
        cmocka_unit_test(test_every_truncation_of_a_tcp_segment_is_rejected_safely),
        cmocka_unit_test(test_every_truncation_of_the_option_list_is_rejected_safely),
        cmocka_unit_test(test_echo_request_parses_and_reply_mirrors_it),
        cmocka_unit_test(test_short_icmp_is_truncated_icmp),
        cmocka_unit_test(test_corrupted_icmp_is_bad_icmp_checksum),
        cmocka_unit_test(test_icmp_other_than_echo_request_is_not_echo),
        cmocka_unit_test(test_flags_are_written_as_tcpdump_writes_them),
        cmocka_unit_test(test_flags_parse_is_the_inverse_of_flags_str),
        cmocka_unit_test(test_addresses_print_and_parse_as_dotted_quads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
