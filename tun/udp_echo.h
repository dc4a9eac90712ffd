/*
 * udp_echo.h — the UDP echo service (RFC 862, port 7) on the TUN device, so
 * the same request/reply can be sent over TCP (the stack's echo service)
 * and over UDP side by side: `nc 10.7.0.2 7` and `nc -u 10.7.0.2 7`.
 *
 * Sans-I/O like the stack: given one IPv4 packet read from the device, it
 * builds the reply datagram (addresses and ports swapped, the same bytes,
 * checksums computed) or says the packet is not for it. No connection, no
 * state, no retransmission: what UDP is. The TUN loop (tun_loop.c) writes
 * the reply; the stack never sees an echo request.
 */
#ifndef TCPLAB_UDP_ECHO_H
#define TCPLAB_UDP_ECHO_H

#include <stddef.h>
#include <stdint.h>

#define UDP_ECHO_PORT 7

/* If `pkt` is a well-formed UDP datagram to addr:7 (checksum verified when
 * present), write the echo reply into out and return its length; else 0
 * (not UDP, not for us, malformed, or `cap` too small). */
size_t udp_echo_reply(uint32_t addr, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
                      uint16_t ip_id);

#endif
