/*
 * relseq.h — relative sequence numbers: the one place that knows each
 * connection's initial sequence numbers, for every view of a run — the text
 * trace and the golden traces (ui/render/trace_text.c), the scenario
 * expectations (scenarios/scn_run_record.c) and the player's ladder
 * (ui/tui/player.c). Fed with the segments as they are sent; sans-I/O like
 * the rest of stack/, and no allocation unless asked for.
 *
 * The rule is tcpdump's: a side's base is the sequence number of its SYN,
 * or, for a connection first seen in the middle, of the first segment seen
 * from it (`from_syn` says which). A SYN with a new sequence number from a
 * side already known starts a new incarnation of the four-tuple (after
 * TIME_WAIT, RFC 9293 §3.10.7.4 / RFC 6191): that side is numbered from 0
 * again and, for a bare SYN, the other side is forgotten until it answers.
 * ACK numbers are relative to the other side's base.
 */
#ifndef TCPLAB_RELSEQ_H
#define TCPLAB_RELSEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Connections a fixed map remembers; when full, the oldest is forgotten. */
#define RELSEQ_FIXED 64

/* One side of a connection: what it has sent. */
struct relseq_side {
    bool known;    /* base is valid */
    bool from_syn; /* base is the ISN of a SYN seen (not the first segment seen) */
    uint32_t base;
    bool have_next;
    uint32_t next; /* highest sequence number sent + 1 (SYN and FIN count) */
};

struct relseq_conn {
    uint32_t a_addr, b_addr; /* the two ends, a before b by (addr, port) */
    uint16_t a_port, b_port;
    struct relseq_side a, b;
};

struct relseq_map {
    struct relseq_conn fixed[RELSEQ_FIXED];
    struct relseq_conn *grown; /* growing map: every connection, relseq_free() */
    size_t n, cap;             /* connections in use; slots grown */
    size_t oldest;             /* fixed map when full: the next one to forget */
    bool growing;
};

/* A fixed map (RELSEQ_FIXED connections, no allocation, nothing to free;
 * an all-zero struct is one too), or one that grows to remember every
 * connection (free with relseq_free). */
void relseq_init(struct relseq_map *m, bool growing);
void relseq_free(struct relseq_map *m);
/* Forget every connection (a view rebuilt from the start). */
void relseq_reset(struct relseq_map *m);

/* What relseq_observe() says of one segment. */
struct relseq_seg {
    uint32_t seq, ack; /* relative (ack: absolute while the other side is unknown) */
    bool ack_known;    /* the other side's base is known */
    bool seq_from_syn; /* this side's base, the other's: from a SYN seen */
    bool ack_from_syn;
    bool repeats; /* starts below what this side had already sent: a retransmission */
};

/* Learn from a segment sent src:sport -> dst:dport and number it. false
 * only when a growing map is out of memory (out is then absolute). */
bool relseq_observe(struct relseq_map *m, uint32_t src, uint16_t sport, uint32_t dst,
                    uint16_t dport, const struct wire_tcp *tcp, struct relseq_seg *out);

/* What is known of the side src:sport sending to dst:dport, or NULL. */
const struct relseq_side *relseq_side(const struct relseq_map *m, uint32_t src, uint16_t sport,
                                      uint32_t dst, uint16_t dport);

#endif
