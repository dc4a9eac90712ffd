/*
 * harness.h — the world every engine fuzz target starts from (fuzz_packet,
 * fuzz_segment): a stack at 10.7.0.2 with a listener on port 80 and one
 * connection ESTABLISHED with a peer at 10.7.0.1:5555 through a real
 * handshake, a little data in flight; the application and clock actions a
 * record can ask for; the invariants checked after each record; and the end
 * of an input (every pending timer fired, bounded).
 *
 * cfg byte (first byte of an input):
 *   0x01 window scaling offered        0x02 delayed ACK off
 *   0x04 Nagle off                     0x08 tiny buffers (2 KB, else 8 KB)
 *   0x10 the peer's SYN carries window scale, SACK-permitted, timestamps
 *   0x20 keepalive on the connection (idle 10 s, interval 5 s, 2 probes)
 *   0x40 active open: the stack connects to the peer (else the peer
 *        connects to the listener)
 *   0x80 render every kind of event once per input as text and JSON, and
 *        deep-copy it (off: events are only checked, which is ~6x faster)
 * act byte (per record), after the packet:
 *   0x01 read everything readable      0x02 send 100 bytes
 *   0x04 shutdown(SHUT_WR)             0x08 close()
 *   0x10 abort()                       0x20 connect() a new socket to the peer
 *   0xc0 advance the clock: none, 50 ms, 1.5 s, 70 s (then fire timers)
 *
 * Speed: the world is built once per cfg byte and restored from a snapshot
 * before each input (harness.c; FUZZ_FRESH=1 builds it every time, and
 * FUZZ_CHECK=1 runs each input both ways and compares what it did). The
 * stack is configured with few retries (SYN 2, data 3) and an 8 s RTO
 * ceiling so every give-up path is a handful of timer firings away; nothing
 * else differs from the defaults.
 */
#ifndef TCPLAB_FUZZ_HARNESS_H
#define TCPLAB_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tcp.h"
#include "trace.h"

#define STACK_ADDR  0x0a070002u /* 10.7.0.2 */
#define PEER_ADDR   0x0a070001u /* 10.7.0.1 */
#define PEER_PORT   5555
#define LISTEN_PORT 80
#define PEER_ISN    0xfffffff0u /* near the wrap, so comparisons cross it */
#define MAX_RECORDS 64          /* per input */

struct harness {
    struct stack *s;
    uint64_t now;
    uint8_t last_out[2048]; /* the last packet the stack sent */
    size_t last_out_len;
    uint32_t peer_next;  /* what the stack expects next from the peer (its last ACK) */
    uint32_t stack_next; /* the end of what the stack has sent the peer */
    uint16_t stack_port; /* the stack's port on the connection with the peer */
    bool stack_ts;        /* the stack's last segment to the peer carried timestamps */
    uint32_t stack_tsval; /* ... and this TSval (what a valid TSecr echoes) */
    uint32_t peer_tsval;  /* the last TSval the peer sent (fuzz_segment) */
    int listener, conn;
    struct trace_text text;
    FILE *devnull;
    uint8_t cfg;          /* the input's cfg byte */
    bool render;          /* cfg 0x80: render events (else only check them) */
    uint64_t rendered[8]; /* event classes already rendered in this input */
};

/* What a target does with one input once the world is there: the records
 * after the cfg byte. */
typedef void harness_records_fn(struct harness *h, const uint8_t *data, size_t size);
/* Run one input (data[0] is the cfg byte): the world, the target's records,
 * then every pending timer fired (bounded) and the stack freed; a block the
 * stack did not give back aborts (a leak). FUZZ_FRESH=1 builds the world
 * afresh for every input instead of restoring it; FUZZ_CHECK=1 runs every
 * input both ways and aborts if the packets sent or the events differ.
 * Returns 0 (libFuzzer's convention). */
int harness_fuzz(const uint8_t *data, size_t size, harness_records_fn *records);
/* A copy of p[0, len) (len <= 65536) that ASan guards like an exact-size
 * heap block: any read past the packet is reported. Valid until the next
 * call. */
uint8_t *harness_packet(const uint8_t *p, size_t len);
/* The application and clock actions of one record. */
void harness_act(struct harness *h, uint8_t act);
/* Abort if what must hold whatever the network says does not. */
void harness_check(const struct harness *h);
/* The peer sends one segment to the connection (cfg 0x10: window scale and
 * SACK-permitted on a SYN, timestamps on every segment). */
void harness_send(struct harness *h, uint8_t flags, uint32_t seq, uint32_t ack);

static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

#endif
