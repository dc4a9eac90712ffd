/*
 * fuzz_packet.c — libFuzzer target for the engine's packet input path
 * (stack_input → wire parsers → SEGMENT ARRIVES → timers), the path every
 * untrusted byte from the TUN device takes.
 *
 * Each input starts from the world of harness.h (a listener, one connection
 * ESTABLISHED through a real handshake, data in flight) and is one
 * configuration byte (harness.h), then a sequence of raw-packet records:
 *
 *   [cfg] then ([ctl] [act] [len_hi] [len_lo] [len bytes of packet])...
 *
 * ctl says how to touch up the packet so the fuzzer gets past the checks a
 * random packet never passes (each bit off = the raw bytes as given):
 *   0x01 fix the IPv4 header checksum and the TCP/ICMP checksum
 *   0x02 set source/destination addresses to peer -> stack
 *   0x04 set the ports to the established connection's (5555 -> the stack's)
 *   0x08 treat seq/ack as offsets from the next sequence numbers of the
 *        connection on those ports, as the stack's last segment to the
 *        peer shows them (its ACK, and its SEQ plus what it occupied), so
 *        seq 0 ack 0 is in window and acknowledges everything sent
 * act is what happens after the packet, like an application and a clock
 * (harness.h).
 * At the end the clock runs forward through every pending timer (bounded),
 * so retransmission, TIME_WAIT and keepalive paths run too.
 *
 * With cfg 0x80 every kind of event the engine emits goes through the text
 * and JSON renderers and tev_clone(), so they are fuzzed on real events as
 * well. Besides crashes,
 * leaks and undefined behaviour, a few invariants abort: every state change
 * is in the transition table, SND.UNA <= SND.NXT, and the queues stay
 * within the buffer sizes.
 *
 * Run: fuzz/smoke.sh, or build-fuzz/fuzz/fuzz_packet fuzz/corpus/packet;
 * FUZZ_TRACE=1 build-fuzz/fuzz/fuzz_packet FILE prints the text trace of
 * one input (to see what a crashing input does).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wire.h"

/* Apply the touch-ups `ctl` asks for, only where the bytes exist. */
static void touch_up(struct harness *h, uint8_t ctl, uint8_t *p, size_t len)
{
    if (len < 20)
        return;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = get16(p + 2);
    if (ctl & 0x02) {
        put32(p + 12, PEER_ADDR);
        put32(p + 16, STACK_ADDR);
    }
    bool tcp_hdr = p[9] == WIRE_PROTO_TCP && ihl >= 20 && ihl + 20 <= len;
    if (tcp_hdr && (ctl & 0x04)) {
        put16(p + ihl, PEER_PORT);
        put16(p + ihl + 2, h->stack_port);
    }
    if (tcp_hdr && (ctl & 0x08)) {
        put32(p + ihl + 4, get32(p + ihl + 4) + h->peer_next);
        put32(p + ihl + 8, get32(p + ihl + 8) + h->stack_next);
    }
    if (!(ctl & 0x01) || ihl < 20 || ihl > len)
        return;
    put16(p + 10, 0);
    put16(p + 10, wire_sum_fold(wire_sum(p, ihl, 0)));
    if (total < ihl || total > len)
        return;
    uint8_t *t = p + ihl;
    size_t tlen = total - ihl;
    if (p[9] == WIRE_PROTO_TCP && tlen >= 18) {
        uint32_t src = get32(p + 12), dst = get32(p + 16);
        uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
                          WIRE_PROTO_TCP + (uint32_t)tlen;
        put16(t + 16, 0);
        put16(t + 16, wire_sum_fold(wire_sum(t, tlen, pseudo)));
    } else if (p[9] == WIRE_PROTO_ICMP && tlen >= 4) {
        put16(t + 2, 0);
        put16(t + 2, wire_sum_fold(wire_sum(t, tlen, 0)));
    }
}

/* The records after the cfg byte. */
static void packet_records(struct harness *h, const uint8_t *data, size_t size)
{
    for (int records = 0; size >= 4 && records < MAX_RECORDS; records++) {
        uint8_t ctl = data[0], act = data[1];
        size_t len = get16(data + 2);
        data += 4;
        size -= 4;
        if (len > size)
            len = size;
        /* A guarded copy, so ASan sees any read past the packet. */
        uint8_t *pkt = harness_packet(data, len);
        touch_up(h, ctl, pkt, len);
        stack_input(h->s, h->now, pkt, len);
        data += len;
        size -= len;
        harness_act(h, act);
        harness_check(h);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return harness_fuzz(data, size, packet_records);
}
