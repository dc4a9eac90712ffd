/*
 * udp_echo.c — the UDP echo reply (udp_echo.h). RFC 768 for the header
 * and its checksum (the pseudo-header as TCP's: source, destination, zero,
 * protocol 17, UDP length; a checksum of 0 means "none"), RFC 862 for the
 * service: send back exactly the data received. The header is wire.c's, as
 * for the stack's own UDP sockets (stack/udp.c).
 */
#include "udp_echo.h"
#include "wire.h"

size_t udp_echo_reply(uint32_t addr, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
                      uint16_t ip_id)
{
    /* wire.c checks what RFC 768 and 791 ask: a good IPv4 header, no
     * fragment (no reassembly, as for TCP), the UDP length within the
     * packet and the checksum when one was sent. A corrupted datagram is
     * dropped silently, as UDP does. */
    struct wire_ipv4 ip;
    struct wire_udp udp;
    if (wire_ipv4_parse(pkt, len, &ip) != WIRE_OK || ip.proto != WIRE_PROTO_UDP || ip.dst != addr)
        return 0;
    if (wire_udp_parse(&ip, &udp) != WIRE_OK || udp.dport != UDP_ECHO_PORT)
        return 0;
    /* The same bytes back to the sender's address and port. */
    return wire_udp_build(out, cap, ip.dst, ip.src, ip_id, UDP_ECHO_PORT, udp.sport, udp.payload,
                          udp.payload_len);
}
