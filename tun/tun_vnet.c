/*
 * tun_vnet.c — validate and apply the TUN offload header (tun_vnet.h).
 *
 * What must hold for a header to match its packet (else a named drop):
 *   - the buffer holds the 10-byte header and at least a minimal IPv4 header
 *     (vnet_short);
 *   - gso_type is NONE or TCPV4 (with or without the ECN bit); a TCPV4 one
 *     carries IPv4 + TCP whose headers fit the packet (vnet_gso_type);
 *   - for TCPV4: hdr_len covers the IP and TCP headers and stays inside the
 *     packet (vnet_hdr_len); gso_size is non-zero and no larger than the
 *     segment's data (vnet_gso_size);
 *   - with NEEDS_CSUM: csum_start is past a minimal IP header and the 2-byte
 *     field at csum_start + csum_offset lies inside the packet (vnet_csum).
 * The IP header's own lengths are checked later by wire_ipv4_parse, as for
 * any packet; here only what the vnet header claims is checked.
 */
#include "tun_vnet.h"

#include <linux/virtio_net.h>
#include <string.h>

#include "../stack/event.h"

int tun_vnet_check(uint8_t *buf, size_t n, struct tun_vnet_pkt *out)
{
    memset(out, 0, sizeof *out);
    if (n < TUN_VNET_HDR_LEN + 20)
        return TCP_DROP_VNET_SHORT;
    struct virtio_net_hdr h;
    memcpy(&h, buf, sizeof h);
    uint8_t *ip = buf + TUN_VNET_HDR_LEN;
    size_t len = n - TUN_VNET_HDR_LEN;
    uint8_t gso = h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    if (gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_TCPV4)
        return TCP_DROP_VNET_GSO_TYPE;
    if (gso == VIRTIO_NET_HDR_GSO_TCPV4) {
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20 || ihl + 20 > len)
            return TCP_DROP_VNET_GSO_TYPE;
        size_t doff = (size_t)(ip[ihl + 12] >> 4) * 4;
        if (doff < 20 || ihl + doff > len)
            return TCP_DROP_VNET_GSO_TYPE;
        if (h.hdr_len < ihl + doff || h.hdr_len > len)
            return TCP_DROP_VNET_HDR_LEN;
        if (h.gso_size == 0 || h.gso_size > len - ihl - doff)
            return TCP_DROP_VNET_GSO_SIZE;
        out->gso = true;
        out->gso_size = h.gso_size;
    }
    if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (h.csum_start < 20 || (size_t)h.csum_start + h.csum_offset + 2 > len)
            return TCP_DROP_VNET_CSUM;
        out->needs_csum = true;
        out->csum_start = h.csum_start;
        out->csum_offset = h.csum_offset;
    }
    out->ip = ip;
    out->len = len;
    return 0;
}

void tun_vnet_complete_csum(struct tun_vnet_pkt *p)
{
    if (!p->needs_csum)
        return;
    const uint8_t *b = p->ip + p->csum_start;
    size_t n = p->len - p->csum_start;
    uint64_t sum = 0;
    /* 16-bit big-endian words; 4 at a time keeps the loop short. */
    for (; n >= 8; b += 8, n -= 8)
        sum += (uint32_t)(b[0] << 8 | b[1]) + (uint32_t)(b[2] << 8 | b[3]) +
               (uint32_t)(b[4] << 8 | b[5]) + (uint32_t)(b[6] << 8 | b[7]);
    for (; n >= 2; b += 2, n -= 2)
        sum += (uint32_t)(b[0] << 8 | b[1]);
    if (n)
        sum += (uint32_t)b[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = (uint16_t)~sum;
    uint8_t *f = p->ip + p->csum_start + p->csum_offset;
    f[0] = (uint8_t)(c >> 8);
    f[1] = (uint8_t)c;
    p->needs_csum = false;
}

void tun_vnet_plain_hdr(uint8_t hdr[TUN_VNET_HDR_LEN])
{
    memset(hdr, 0, TUN_VNET_HDR_LEN);
}

int tun_vnet_gso_hdr(uint8_t hdr[TUN_VNET_HDR_LEN], const uint8_t *ip, size_t len, uint16_t mss)
{
    if (len < 40 || (ip[0] >> 4) != 4 || ip[9] != 6)
        return -1;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if (ihl < 20 || ihl + 20 > len)
        return -1;
    size_t doff = (size_t)(ip[ihl + 12] >> 4) * 4;
    if (doff < 20 || ihl + doff > len)
        return -1;
    struct virtio_net_hdr h = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = (uint16_t)(ihl + doff),
        .gso_size = mss,
        .csum_start = (uint16_t)ihl,
        .csum_offset = 16, /* the checksum field in the TCP header */
    };
    memcpy(hdr, &h, sizeof h);
    return 0;
}
