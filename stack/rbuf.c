/*
 * rbuf.c — byte rings for the send and receive queues, and the out-of-order
 * assembler that records which ranges beyond RCV.NXT the receive ring holds.
 *
 * Out-of-order text is stored straight into the receive ring at its final
 * place (offset SEG.SEQ - RCV.NXT past the in-order bytes), so when the hole
 * fills nothing is copied again: the assembler only moves RCV.NXT forward.
 * This is how RFC 9293 §3.10.7.4 "seventh, process the segment text" can
 * keep segments "for later processing" without a list of segment buffers.
 */
#include <string.h>

#include "tcp_internal.h"

int rbuf_init(struct stack *s, struct rbuf *r, uint32_t cap)
{
    int err = stack_mem_ring(s, &r->buf, cap);
    if (err)
        return err;
    r->cap = cap;
    r->head = 0;
    r->len = 0;
    return 0;
}

void rbuf_release(struct stack *s, struct rbuf *r)
{
    if (r->buf)
        stack_mem_free(s, r->buf, r->cap ? r->cap : 1, STACK_MEM_RING);
    r->buf = NULL;
    r->cap = r->head = r->len = 0;
}

void rbuf_read_at(const struct rbuf *r, uint32_t off, void *dst, uint32_t n)
{
    uint32_t p = rbuf_pos(r, off);
    uint32_t first = r->cap - p < n ? r->cap - p : n;
    memcpy(dst, r->buf + p, first);
    if (n > first)
        memcpy((uint8_t *)dst + first, r->buf, n - first);
}

uint32_t rbuf_append(struct rbuf *r, const void *src, uint32_t n)
{
    uint32_t room = r->cap - r->len;
    if (n > room)
        n = room;
    if (n) {
        rbuf_write_at(r, r->len, src, n);
        r->len += n;
    }
    return n;
}

const uint8_t *rbuf_peek(const struct rbuf *r, uint32_t off, uint32_t n)
{
    uint32_t p = rbuf_pos(r, off);
    return p + n <= r->cap ? r->buf + p : NULL;
}

void rbuf_consume(struct rbuf *r, uint32_t n)
{
    /* The head only moves forward: the receive ring may hold out-of-order
     * bytes beyond len, at places relative to head. */
    if (n > r->len)
        n = r->len;
    r->head = rbuf_pos(r, n);
    if (r->head == r->cap)
        r->head = 0;
    r->len -= n;
}

/* ---- assembler ------------------------------------------------------------ */

int tcp_asm_add(struct tcp_asm *a, uint32_t off, uint32_t len)
{
    uint32_t lo = off, hi = off + len;
    int i = 0;
    /* Skip the intervals that end before this one starts (and do not touch). */
    while (i < a->n && a->iv[i].off + a->iv[i].len < lo)
        i++;
    /* Merge every interval that overlaps or touches [lo, hi). */
    int j = i;
    while (j < a->n && a->iv[j].off <= hi) {
        uint32_t end = a->iv[j].off + a->iv[j].len;
        if (a->iv[j].off < lo)
            lo = a->iv[j].off;
        if (end > hi)
            hi = end;
        j++;
    }
    int merged = j - i;
    if (merged == 0) {
        if (a->n == TCP_ASM_MAX)
            return -1;
        memmove(&a->iv[i + 1], &a->iv[i], (size_t)(a->n - i) * sizeof a->iv[0]);
        a->n++;
    } else if (merged > 1) {
        memmove(&a->iv[i + 1], &a->iv[j], (size_t)(a->n - j) * sizeof a->iv[0]);
        a->n -= (uint8_t)(merged - 1);
    }
    a->iv[i].off = lo;
    a->iv[i].len = hi - lo;
    return 0;
}

uint32_t tcp_asm_advance(struct tcp_asm *a, uint32_t n)
{
    if (a->n == 0)
        return n; /* the common case: nothing held out of order */
    uint32_t edge = n;
    int k = 0;
    while (k < a->n && a->iv[k].off <= edge) {
        uint32_t end = a->iv[k].off + a->iv[k].len;
        if (end > edge)
            edge = end;
        k++;
    }
    memmove(&a->iv[0], &a->iv[k], (size_t)(a->n - k) * sizeof a->iv[0]);
    a->n -= (uint8_t)k;
    for (int i = 0; i < a->n; i++)
        a->iv[i].off -= edge;
    return edge;
}
