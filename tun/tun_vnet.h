/*
 * tun_vnet.h — the offload header in front of each packet on a TUN device
 * opened with IFF_VNET_HDR (struct virtio_net_hdr, 10 bytes, host order).
 *
 * The kernel tells us with it that a packet is a GSO super-packet (one TCP
 * segment of up to 64 KB standing for several MSS-sized ones: gso_type
 * TCPV4, gso_size = their size, hdr_len = bytes of headers in its linear
 * part) and/or that its checksum is partial (NEEDS_CSUM: only the
 * pseudo-header sum is in the checksum field at csum_start + csum_offset).
 * Like any packet, the header is untrusted: tun_vnet_check() validates it
 * against the packet and names what does not match (enum tcp_drop_reason),
 * never reading past the buffer. Pure functions: no I/O, unit-tested and
 * fuzzed (fuzz/fuzz_vnet.c).
 */
#ifndef TCPLAB_TUN_VNET_H
#define TCPLAB_TUN_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TUN_VNET_HDR_LEN 10

struct tun_vnet_pkt {
    uint8_t *ip;      /* the IPv4 packet after the header */
    size_t len;       /* its length */
    bool gso;         /* a TCP/IPv4 super-packet */
    uint16_t gso_size;
    bool needs_csum;  /* checksum partial: complete it (tun_vnet_complete_csum) */
    uint16_t csum_start, csum_offset;
};

/* Check the header at buf[0..n) against the packet after it. Returns 0 and
 * fills *out, or the enum tcp_drop_reason (TCP_DROP_VNET_*) saying what
 * does not match. */
int tun_vnet_check(uint8_t *buf, size_t n, struct tun_vnet_pkt *out);

/* Finish a partial checksum (needs_csum): the one's-complement sum of
 * everything from csum_start to the end (the field already holds the
 * pseudo-header's sum), complemented, stored at csum_start + csum_offset.
 * The packet then verifies like any other. */
void tun_vnet_complete_csum(struct tun_vnet_pkt *p);

/* The header for a packet we write: all zero (no GSO, checksums complete). */
void tun_vnet_plain_hdr(uint8_t hdr[TUN_VNET_HDR_LEN]);

/* The header for a TCP/IPv4 super-packet we write for the kernel to cut
 * (GSO): gso_type TCPV4, gso_size = mss, hdr_len = the IP and TCP headers,
 * NEEDS_CSUM with csum_start/offset at the TCP checksum, which the packet
 * holds partial (wire_tcp_build_partial). The packet is one the stack built
 * (its headers are sound); returns 0, or -1 if it is not TCP/IPv4. */
int tun_vnet_gso_hdr(uint8_t hdr[TUN_VNET_HDR_LEN], const uint8_t *ip, size_t len, uint16_t mss);

#endif
