/*
 * fuzz_vnet.c — libFuzzer target for the TUN offload header path
 * (tun/tun_vnet.h): what the kernel puts in front of a packet read from a
 * device opened with IFF_VNET_HDR is untrusted like the packet itself.
 *
 * Input: the bytes as read from the device (virtio_net_hdr, then the IPv4
 * packet), copied into a block of exactly their size so ASan catches any
 * read past it. Properties (a broken one aborts, which libFuzzer reports):
 *   - tun_vnet_check() either names a TCP_DROP_VNET_* reason or returns a
 *     packet lying inside the block, right after the header;
 *   - an accepted partial checksum is completed in place without writing
 *     outside the packet, and completing it twice changes nothing more
 *     than once (the second run sees no partial checksum);
 *   - the packet then goes through the wire parsers as the loop does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "tun_vnet.h"
#include "wire.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct tun_vnet_pkt v;
    int r = tun_vnet_check(buf, size, &v);
    if (r != 0) {
        CHECK(r >= TCP_DROP_VNET_SHORT && r <= TCP_DROP_VNET_CSUM);
        free(buf);
        return 0;
    }
    CHECK(v.ip == buf + TUN_VNET_HDR_LEN && v.len == size - TUN_VNET_HDR_LEN);
    if (v.needs_csum)
        CHECK((size_t)v.csum_start + v.csum_offset + 2 <= v.len);
    tun_vnet_complete_csum(&v);
    CHECK(!v.needs_csum);
    uint8_t *copy = malloc(v.len ? v.len : 1);
    if (copy) {
        memcpy(copy, v.ip, v.len);
        tun_vnet_complete_csum(&v);
        CHECK(memcmp(copy, v.ip, v.len) == 0);
        free(copy);
    }
    struct wire_ipv4 ip;
    if (wire_ipv4_parse(v.ip, v.len, &ip) == WIRE_OK && ip.proto == WIRE_PROTO_TCP) {
        struct wire_tcp t;
        (void)wire_tcp_parse(&ip, &t);
    }
    free(buf);
    return 0;
}
