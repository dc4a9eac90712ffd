/*
 * test_tun_vnet.c — the TUN offload header (tun/tun_vnet.h) is checked
 * against its packet: a valid GSO super-packet and a plain packet pass; each
 * kind of mismatch (gso_type, gso_size, hdr_len, csum_start/offset, a
 * buffer too short) is dropped with its own reason; truncations never read
 * past the buffer (each input is copied into a block of exactly its size,
 * which ASan checks in `make sanitize`); a partial checksum completed here
 * verifies with the wire parser, as the kernel would compute it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/virtio_net.h>

#include "event.h"
#include "tun_vnet.h"
#include "wire.h"

#define K 0x0a070001u /* 10.7.0.1, the kernel */
#define S 0x0a070002u /* 10.7.0.2, the stack */

/* A TCP/IPv4 segment from the kernel with `n` payload bytes, its vnet
 * header in front, checksums complete. Returns the total length. */
static size_t make(uint8_t *buf, size_t cap, size_t n, const struct virtio_net_hdr *h)
{
    static uint8_t payload[65536];
    for (size_t i = 0; i < n; i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    t.sport = 40000;
    t.dport = 9;
    t.seq = 1000;
    t.ack = 1;
    t.flags = TCP_ACK;
    t.win = 502;
    size_t len = wire_tcp_build(buf + TUN_VNET_HDR_LEN, cap - TUN_VNET_HDR_LEN, K, S, 1, &t,
                                payload, n);
    assert_true(len > 0);
    memcpy(buf, h, sizeof *h);
    return TUN_VNET_HDR_LEN + len;
}

/* Check a copy of buf[0..n) in a block of exactly n bytes. */
static int check_exact(const uint8_t *buf, size_t n, struct tun_vnet_pkt *out, uint8_t **block)
{
    *block = malloc(n ? n : 1);
    memcpy(*block, buf, n);
    return tun_vnet_check(*block, n, out);
}

static int check_once(const uint8_t *buf, size_t n)
{
    struct tun_vnet_pkt v;
    uint8_t *b;
    int r = check_exact(buf, n, &v, &b);
    free(b);
    return r;
}

static const struct virtio_net_hdr gso_hdr = {
    .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
    .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
    .hdr_len = 40,
    .gso_size = 1460,
    .csum_start = 20,
    .csum_offset = 16,
};

static void test_plain_packet_passes_unchanged(void **state)
{
    (void)state;
    static uint8_t buf[2048];
    struct virtio_net_hdr h = {0};
    size_t n = make(buf, sizeof buf, 100, &h);
    struct tun_vnet_pkt v;
    uint8_t *b;
    assert_int_equal(check_exact(buf, n, &v, &b), 0);
    assert_false(v.gso);
    assert_false(v.needs_csum);
    assert_ptr_equal(v.ip, b + TUN_VNET_HDR_LEN);
    assert_int_equal(v.len, n - TUN_VNET_HDR_LEN);
    free(b);
}

static void test_gso_super_packet_is_one_segment_and_its_checksum_completes(void **state)
{
    (void)state;
    static uint8_t buf[70000];
    size_t n = make(buf, sizeof buf, 64000, &gso_hdr);
    uint8_t *ip = buf + TUN_VNET_HDR_LEN;
    /* What the kernel hands over with TUN_F_CSUM: the checksum field holds
     * only the pseudo-header's sum (folded, not complemented). */
    uint16_t good = (uint16_t)(ip[36] << 8 | ip[37]);
    size_t tcp_len = n - TUN_VNET_HDR_LEN - 20;
    uint32_t ps = (K >> 16) + (K & 0xffff) + (S >> 16) + (S & 0xffff) + 6 + (uint32_t)tcp_len;
    while (ps >> 16)
        ps = (ps & 0xffff) + (ps >> 16);
    ip[36] = (uint8_t)(ps >> 8);
    ip[37] = (uint8_t)ps;

    struct tun_vnet_pkt v;
    uint8_t *b;
    assert_int_equal(check_exact(buf, n, &v, &b), 0);
    assert_true(v.gso);
    assert_int_equal(v.gso_size, 1460);
    assert_true(v.needs_csum);
    tun_vnet_complete_csum(&v);
    assert_false(v.needs_csum);
    assert_int_equal((uint16_t)(v.ip[36] << 8 | v.ip[37]), good);
    struct wire_ipv4 wip;
    struct wire_tcp wt;
    assert_int_equal(wire_ipv4_parse(v.ip, v.len, &wip), WIRE_OK);
    assert_int_equal(wire_tcp_parse(&wip, &wt), WIRE_OK);
    assert_int_equal(wt.payload_len, 64000); /* one segment, as it arrived */
    free(b);
}

static void test_each_mismatch_has_its_reason(void **state)
{
    (void)state;
    static uint8_t buf[8192];
    struct virtio_net_hdr h;

    h = gso_hdr;
    h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), TCP_DROP_VNET_GSO_TYPE);
    h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), TCP_DROP_VNET_GSO_TYPE);

    h = gso_hdr;
    h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN; /* allowed */
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), 0);

    h = gso_hdr;
    h.gso_size = 0;
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), TCP_DROP_VNET_GSO_SIZE);
    h.gso_size = 4001; /* larger than the data it is said to cut */
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), TCP_DROP_VNET_GSO_SIZE);

    h = gso_hdr;
    h.hdr_len = 39; /* shorter than IP + TCP headers */
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), TCP_DROP_VNET_HDR_LEN);
    h.hdr_len = 4041; /* past the packet */
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), TCP_DROP_VNET_HDR_LEN);

    h = gso_hdr;
    h.csum_start = 10; /* inside the IP header */
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), TCP_DROP_VNET_CSUM);
    h.csum_start = 20;
    h.csum_offset = 4019; /* the field would end one byte past the packet */
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), TCP_DROP_VNET_CSUM);
    h.csum_offset = 4018; /* the last two bytes: allowed */
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), 0);
    h.csum_start = 0xffff;
    h.csum_offset = 0xffff; /* no overflow in start + offset */
    assert_int_equal(check_once(buf, make(buf, sizeof buf, 4000, &h)), TCP_DROP_VNET_CSUM);

    /* A GSO header on something that is not TCP/IPv4. */
    h = gso_hdr;
    size_t n = make(buf, sizeof buf, 4000, &h);
    buf[TUN_VNET_HDR_LEN + 9] = 17;
    assert_int_equal(check_once(buf, n), TCP_DROP_VNET_GSO_TYPE);
}

static void test_truncations_never_read_past_the_buffer(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    size_t n = make(buf, sizeof buf, 1000, &gso_hdr);
    assert_int_equal(check_once(buf, 0), TCP_DROP_VNET_SHORT);
    assert_int_equal(check_once(buf, TUN_VNET_HDR_LEN), TCP_DROP_VNET_SHORT);
    assert_int_equal(check_once(buf, TUN_VNET_HDR_LEN + 19), TCP_DROP_VNET_SHORT);
    /* Every shorter length is refused or accepted without an over-read. */
    for (size_t k = 0; k <= n; k++) {
        int r = check_once(buf, k);
        assert_true(r == 0 || (r >= TCP_DROP_VNET_SHORT && r <= TCP_DROP_VNET_CSUM));
    }
}

/* The header we write for a super-packet of our own (send-side GSO) says
 * what the kernel needs to cut it and finish each checksum — and is one our
 * own check, the receive side's rules, would accept; a packet that is not
 * TCP/IPv4 gets none. */
static void test_gso_header_we_write_describes_the_packet(void **state)
{
    (void)state;
    static uint8_t buf[TUN_VNET_HDR_LEN + 65536];
    struct virtio_net_hdr none = {0};
    size_t n = make(buf, sizeof buf, 10 * 1460, &none);
    uint8_t hdr[TUN_VNET_HDR_LEN];
    assert_int_equal(tun_vnet_gso_hdr(hdr, buf + TUN_VNET_HDR_LEN, n - TUN_VNET_HDR_LEN, 1460), 0);
    struct virtio_net_hdr h;
    memcpy(&h, hdr, sizeof h);
    assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(h.gso_size, 1460);
    assert_int_equal(h.hdr_len, 40);
    assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(h.csum_start, 20);
    assert_int_equal(h.csum_offset, 16);
    memcpy(buf, hdr, sizeof hdr);
    assert_int_equal(check_once(buf, n), 0);
    uint8_t udp[40] = {0x45, 0, 0, 40};
    udp[9] = 17;
    assert_int_equal(tun_vnet_gso_hdr(hdr, udp, sizeof udp, 1460), -1);
    assert_int_equal(tun_vnet_gso_hdr(hdr, buf + TUN_VNET_HDR_LEN, 39, 1460), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_packet_passes_unchanged),
        cmocka_unit_test(test_gso_super_packet_is_one_segment_and_its_checksum_completes),
        cmocka_unit_test(test_each_mismatch_has_its_reason),
        cmocka_unit_test(test_truncations_never_read_past_the_buffer),
        cmocka_unit_test(test_gso_header_we_write_describes_the_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
