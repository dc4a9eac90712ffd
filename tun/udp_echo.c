/*
 * udp_echo.c — the UDP echo reply (udp_echo.h). RFC 768 for the header
 * and its checksum (the pseudo-header as TCP's: source, destination, zero,
 * protocol 17, UDP length; a checksum of 0 means "none"), RFC 862 for the
 * service: send back exactly the data received.
 */
#include <string.h>

#include "udp_echo.h"
#include "wire.h"

#define UDP_PROTO   17
#define UDP_HDR_LEN 8

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 768: the sum over the pseudo-header and the whole datagram. */
static uint16_t udp_sum(const uint8_t *src_dst, const uint8_t *udp, size_t ulen)
{
    uint8_t pseudo[12];
    memcpy(pseudo, src_dst, 8);
    pseudo[8] = 0;
    pseudo[9] = UDP_PROTO;
    put16(pseudo + 10, (uint16_t)ulen);
    return wire_sum_fold(wire_sum(udp, ulen, wire_sum(pseudo, sizeof pseudo, 0)));
}

size_t udp_echo_reply(uint32_t addr, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
                      uint16_t ip_id)
{
    if (len < WIRE_IPV4_HDR_LEN || (pkt[0] >> 4) != 4 || pkt[9] != UDP_PROTO)
        return 0;
    size_t ihl = (size_t)(pkt[0] & 15) * 4;
    size_t total = get16(pkt + 2);
    if (ihl < WIRE_IPV4_HDR_LEN || total < ihl + UDP_HDR_LEN || total > len)
        return 0;
    if (wire_sum_fold(wire_sum(pkt, ihl, 0)) != 0 || (get16(pkt + 6) & 0x3fff))
        return 0; /* a bad header, or a fragment (no reassembly, as for TCP) */
    uint32_t dst =
        (uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 | pkt[19];
    const uint8_t *udp = pkt + ihl;
    size_t ulen = get16(udp + 4);
    if (dst != addr || get16(udp + 2) != UDP_ECHO_PORT || ulen < UDP_HDR_LEN || ulen > total - ihl)
        return 0;
    if (get16(udp + 6) != 0 && udp_sum(pkt + 12, udp, ulen) != 0)
        return 0; /* corrupted: UDP drops it silently */
    size_t n = WIRE_IPV4_HDR_LEN + ulen;
    if (n > cap)
        return 0;
    /* IPv4: no options, DF, TTL 64, the addresses swapped. */
    memset(out, 0, WIRE_IPV4_HDR_LEN);
    out[0] = 0x45;
    put16(out + 2, (uint16_t)n);
    put16(out + 4, ip_id);
    out[6] = 0x40;
    out[8] = 64;
    out[9] = UDP_PROTO;
    memcpy(out + 12, pkt + 16, 4);
    memcpy(out + 16, pkt + 12, 4);
    put16(out + 10, wire_sum_fold(wire_sum(out, WIRE_IPV4_HDR_LEN, 0)));
    uint8_t *r = out + WIRE_IPV4_HDR_LEN;
    put16(r, UDP_ECHO_PORT);
    memcpy(r + 2, udp, 2); /* back to the sender's port */
    put16(r + 4, (uint16_t)ulen);
    put16(r + 6, 0);
    memcpy(r + UDP_HDR_LEN, udp + UDP_HDR_LEN, ulen - UDP_HDR_LEN);
    uint16_t sum = udp_sum(out + 12, r, ulen);
    put16(r + 6, sum ? sum : 0xffff); /* RFC 768: a computed 0 is sent as all ones */
    return n;
}
