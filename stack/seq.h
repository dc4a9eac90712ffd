/*
 * seq.h — wrap-safe sequence number arithmetic (RFC 9293 §3.4).
 *
 * Sequence numbers live in a 2^32 space and wrap. Two numbers are compared
 * by the sign of their 32-bit difference, which is correct as long as they are
 * less than 2^31 apart — always true for numbers inside one window. Never
 * compare sequence numbers with a raw `<`.
 */
#ifndef TCPLAB_SEQ_H
#define TCPLAB_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

/* lo <= x < hi, in sequence space. */
static inline bool seq_in_range(uint32_t x, uint32_t lo, uint32_t hi)
{
    return seq_leq(lo, x) && seq_lt(x, hi);
}

static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

#endif
