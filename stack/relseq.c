/*
 * relseq.c — relative sequence numbers, one rule for every view of a run
 * (relseq.h). A map of connections, each keyed by its two ends in a fixed
 * order so both directions find the same entry.
 */
#include "relseq.h"

#include <stdlib.h>
#include <string.h>

#include "seq.h"
#include "tcp.h"

void relseq_init(struct relseq_map *m, bool growing)
{
    memset(m, 0, sizeof *m);
    m->growing = growing;
}

void relseq_free(struct relseq_map *m)
{
    free(m->grown);
    relseq_init(m, m->growing);
}

void relseq_reset(struct relseq_map *m)
{
    m->n = 0;
    m->oldest = 0;
}

static struct relseq_conn *slots(const struct relseq_map *m)
{
    return m->growing ? m->grown : (struct relseq_conn *)m->fixed;
}

/* Is (a_addr, a_port) before (b_addr, b_port)? */
static bool end_before(uint32_t a_addr, uint16_t a_port, uint32_t b_addr, uint16_t b_port)
{
    return a_addr < b_addr || (a_addr == b_addr && a_port < b_port);
}

static struct relseq_conn *find(const struct relseq_map *m, uint32_t a_addr, uint16_t a_port,
                                uint32_t b_addr, uint16_t b_port)
{
    struct relseq_conn *c = slots(m);
    for (size_t i = 0; i < m->n; i++)
        if (c[i].a_addr == a_addr && c[i].a_port == a_port && c[i].b_addr == b_addr &&
            c[i].b_port == b_port)
            return &c[i];
    return NULL;
}

/* A new entry: a free slot, a grown one, or (fixed map, full) the oldest. */
static struct relseq_conn *add(struct relseq_map *m)
{
    if (m->n == (m->growing ? m->cap : RELSEQ_FIXED)) {
        if (!m->growing) {
            struct relseq_conn *c = &m->fixed[m->oldest];
            m->oldest = (m->oldest + 1) % RELSEQ_FIXED;
            return c;
        }
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct relseq_conn *g = realloc(m->grown, cap * sizeof *g);
        if (!g)
            return NULL;
        m->grown = g;
        m->cap = cap;
    }
    return &slots(m)[m->n++];
}

/* The ends of a segment as the map orders them: its side and the other. */
static struct relseq_conn *conn_of(const struct relseq_map *m, uint32_t src, uint16_t sport,
                                   uint32_t dst, uint16_t dport, bool *src_is_a)
{
    *src_is_a = end_before(src, sport, dst, dport);
    return *src_is_a ? find(m, src, sport, dst, dport) : find(m, dst, dport, src, sport);
}

const struct relseq_side *relseq_side(const struct relseq_map *m, uint32_t src, uint16_t sport,
                                      uint32_t dst, uint16_t dport)
{
    bool src_is_a;
    const struct relseq_conn *c = conn_of(m, src, sport, dst, dport, &src_is_a);
    if (!c)
        return NULL;
    const struct relseq_side *s = src_is_a ? &c->a : &c->b;
    return s->known ? s : NULL;
}

bool relseq_observe(struct relseq_map *m, uint32_t src, uint16_t sport, uint32_t dst,
                    uint16_t dport, const struct wire_tcp *tcp, struct relseq_seg *out)
{
    memset(out, 0, sizeof *out);
    out->seq = tcp->seq;
    out->ack = tcp->ack;
    bool src_is_a;
    struct relseq_conn *c = conn_of(m, src, sport, dst, dport, &src_is_a);
    if (!c) {
        c = add(m);
        if (!c)
            return false;
        memset(c, 0, sizeof *c);
        c->a_addr = src_is_a ? src : dst;
        c->a_port = src_is_a ? sport : dport;
        c->b_addr = src_is_a ? dst : src;
        c->b_port = src_is_a ? dport : sport;
    }
    struct relseq_side *mine = src_is_a ? &c->a : &c->b;
    struct relseq_side *theirs = src_is_a ? &c->b : &c->a;
    bool syn = tcp->flags & TCP_SYN, fin = tcp->flags & TCP_FIN;

    if (!mine->known || (syn && mine->base != tcp->seq)) {
        /* A first segment, or a SYN with a new ISN: a new incarnation. */
        if (mine->known && !(tcp->flags & TCP_ACK))
            theirs->known = false;
        *mine = (struct relseq_side){.known = true, .from_syn = syn, .base = tcp->seq};
    } else if (syn) {
        mine->from_syn = true; /* the SYN again: a retransmission */
    }
    out->seq = tcp->seq - mine->base;
    out->seq_from_syn = mine->from_syn;
    if (theirs->known) {
        out->ack = tcp->ack - theirs->base;
        out->ack_known = true;
        out->ack_from_syn = theirs->from_syn;
    }
    if (tcp->payload_len || syn || fin) {
        uint32_t end = tcp->seq + (uint32_t)tcp->payload_len + syn + fin;
        out->repeats = mine->have_next && seq_lt(tcp->seq, mine->next);
        if (!mine->have_next || seq_gt(end, mine->next))
            mine->next = end;
        mine->have_next = true;
    }
    return true;
}
