/*
 * conn_table.c — where connections are found.
 *
 *  - the connection table: a hash table keyed by the 4-tuple (local address,
 *    local port, remote address, remote port), which is how RFC 9293 §3.10.7
 *    identifies the connection a segment belongs to. Chained, grown by
 *    doubling, so a lookup costs the same with 10 or 100,000 connections.
 *  - listeners, by local port (a segment with no connection of its own goes
 *    to the listener on its destination port, if any).
 *  - the descriptor table (what tcp_socket() hands out).
 *  - a min-heap of connections ordered by their earliest timer (a key may
 *    be early until it reaches the top: tcp_timer.c), so
 *    stack_next_deadline() is O(1) and a timer change at most O(log n).
 *  - per-port reference counts, for bind()'s EADDRINUSE and ephemeral ports.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

#define CONN_TABLE_INITIAL 64

static uint32_t tuple_hash(const struct tcp_tuple *t)
{
    uint64_t x = ((uint64_t)t->raddr << 32) ^ ((uint64_t)t->rport << 16) ^ t->lport ^
                 ((uint64_t)t->laddr * 0x9E3779B97F4A7C15ULL);
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 29;
    return (uint32_t)x;
}

int conn_table_init(struct stack *s)
{
    s->nbuckets = CONN_TABLE_INITIAL;
    s->buckets = stack_mem_alloc(s, s->nbuckets * sizeof *s->buckets, STACK_MEM_TABLE);
    if (!s->buckets)
        return -ENOMEM;
    s->ephemeral_next = s->cfg.ephemeral_lo;
    return 0;
}

void conn_table_free(struct stack *s)
{
    stack_mem_free(s, s->buckets, s->nbuckets * sizeof *s->buckets, STACK_MEM_TABLE);
    for (size_t i = 0; i < sizeof s->port_refs / sizeof s->port_refs[0]; i++)
        stack_mem_free(s, s->port_refs[i], TCP_PORT_PAGE * sizeof *s->port_refs[i],
                       STACK_MEM_TABLE);
    stack_mem_free(s, s->fds, s->fds_cap * sizeof *s->fds, STACK_MEM_TABLE);
    stack_mem_free(s, s->heap, s->heap_cap * sizeof *s->heap, STACK_MEM_TABLE);
}

/* ---- 4-tuple table ---------------------------------------------------------- */

struct tcp_node *conn_lookup_node(const struct stack *s, const struct tcp_tuple *t)
{
    struct tcp_node *n = s->buckets[tuple_hash(t) & (s->nbuckets - 1)];
    while (n && !tcp_tuple_eq(tcp_node_tuple(n), t))
        n = n->hnext;
    return n;
}

struct tcp_node *conn_lookup_remember(struct stack *s, const struct tcp_tuple *t)
{
    struct tcp_node *n = conn_lookup_node(s, t);
    if (n)
        s->lookup_last = n;
    return n;
}

struct tcp_conn *conn_lookup(const struct stack *s, const struct tcp_tuple *t)
{
    return tcp_node_conn(conn_lookup_node(s, t));
}

static void conn_table_grow(struct stack *s)
{
    uint32_t n = s->nbuckets * 2;
    struct tcp_node **nb = stack_mem_alloc(s, n * sizeof *nb, STACK_MEM_TABLE);
    if (!nb)
        return; /* keep the longer chains; still correct */
    for (uint32_t i = 0; i < s->nbuckets; i++) {
        struct tcp_node *e = s->buckets[i];
        while (e) {
            struct tcp_node *next = e->hnext;
            uint32_t b = tuple_hash(tcp_node_tuple(e)) & (n - 1);
            e->hnext = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    stack_mem_free(s, s->buckets, s->nbuckets * sizeof *s->buckets, STACK_MEM_TABLE);
    s->buckets = nb;
    s->nbuckets = n;
}

int conn_hash_insert(struct stack *s, struct tcp_conn *c)
{
    if (conn_lookup_node(s, &c->tuple))
        return -EADDRINUSE;
    if (s->nhashed >= s->nbuckets)
        conn_table_grow(s);
    uint32_t b = tuple_hash(&c->tuple) & (s->nbuckets - 1);
    c->node.hnext = s->buckets[b];
    s->buckets[b] = &c->node;
    c->hashed = 1;
    s->nhashed++;
    return 0;
}

struct tcp_node **conn_hash_link(struct stack *s, const struct tcp_node *e)
{
    s->lookup_last = NULL; /* the caller unlinks or replaces e */
    struct tcp_node **pp = &s->buckets[tuple_hash(tcp_node_tuple(e)) & (s->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    return pp;
}

void conn_hash_remove(struct stack *s, struct tcp_conn *c)
{
    if (!c->hashed)
        return;
    struct tcp_node **pp = conn_hash_link(s, &c->node);
    if (*pp)
        *pp = c->node.hnext;
    c->node.hnext = NULL;
    c->hashed = 0;
    s->nhashed--;
}

/* ---- listeners -------------------------------------------------------------- */

struct tcp_conn *listener_lookup(const struct stack *s, uint16_t port)
{
    struct tcp_node *n = s->listeners[port % TCP_LISTEN_BUCKETS];
    while (n && tcp_node_conn(n)->tuple.lport != port)
        n = n->hnext;
    return tcp_node_conn(n);
}

void listener_insert(struct stack *s, struct tcp_conn *c)
{
    struct tcp_node **head = &s->listeners[c->tuple.lport % TCP_LISTEN_BUCKETS];
    c->node.hnext = *head;
    *head = &c->node;
    c->listening = 1;
}

void listener_remove(struct stack *s, struct tcp_conn *c)
{
    if (!c->listening)
        return;
    struct tcp_node **pp = &s->listeners[c->tuple.lport % TCP_LISTEN_BUCKETS];
    while (*pp && *pp != &c->node)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->node.hnext;
    c->node.hnext = NULL;
    c->listening = 0;
}

/* ---- descriptors -------------------------------------------------------------- */

/* The lowest free descriptor, as POSIX hands out file descriptors. */
int fd_alloc(struct stack *s, struct tcp_conn *c)
{
    uint32_t i = s->fd_hint;
    for (;;) {
        /* A number a UDP socket holds (udp.c) is not free either. */
        while (i < s->fds_cap && (s->fds[i] || udp_is_socket(s, (int)i + TCP_FD_BASE)))
            i++;
        if (i < s->fds_cap)
            break;
        if (s->fds_cap >= s->cfg.max_sockets)
            return -EMFILE;
        uint32_t n = s->fds_cap ? s->fds_cap * 2 : 16;
        if (n > s->cfg.max_sockets)
            n = s->cfg.max_sockets;
        struct tcp_conn **nf =
            stack_mem_resize(s, s->fds, s->fds_cap * sizeof *nf, n * sizeof *nf, STACK_MEM_TABLE);
        if (!nf)
            return -ENOMEM;
        s->fds = nf;
        s->fds_cap = n;
    }
    s->fds[i] = c;
    s->fd_hint = i + 1;
    c->sd = (int)i + TCP_FD_BASE;
    return c->sd;
}

struct tcp_conn *fd_get(const struct stack *s, int sd)
{
    if (sd < TCP_FD_BASE || (uint32_t)(sd - TCP_FD_BASE) >= s->fds_cap)
        return NULL;
    return s->fds[sd - TCP_FD_BASE];
}

void fd_release(struct stack *s, int sd)
{
    uint32_t i = (uint32_t)(sd - TCP_FD_BASE);
    if (sd < TCP_FD_BASE || i >= s->fds_cap)
        return;
    if (s->fds[i])
        s->fds[i]->sd = -1;
    s->fds[i] = NULL;
    if (i < s->fd_hint)
        s->fd_hint = i;
}

/* ---- timer heap ---------------------------------------------------------------- */

static inline void heap_set(struct stack *s, uint32_t i, struct tcp_node *n)
{
    s->heap[i] = n;
    n->heap_idx = i;
}

static void heap_sift_up(struct stack *s, uint32_t i)
{
    struct tcp_node *n = s->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (s->heap[parent]->deadline <= n->deadline)
            break;
        heap_set(s, i, s->heap[parent]);
        i = parent;
    }
    heap_set(s, i, n);
}

static void heap_sift_down(struct stack *s, uint32_t i)
{
    struct tcp_node *n = s->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        uint64_t best = n->deadline;
        if (l < s->heap_len && s->heap[l]->deadline < best) {
            m = l;
            best = s->heap[l]->deadline;
        }
        if (r < s->heap_len && s->heap[r]->deadline < best)
            m = r;
        if (m == i)
            break;
        heap_set(s, i, s->heap[m]);
        i = m;
    }
    heap_set(s, i, n);
}

static void heap_remove(struct stack *s, struct tcp_node *n)
{
    uint32_t i = n->heap_idx;
    n->heap_idx = TCP_HEAP_NONE;
    s->heap_len--;
    if (i == s->heap_len)
        return;
    struct tcp_node *moved = s->heap[s->heap_len];
    heap_set(s, i, moved);
    heap_sift_up(s, i);
    heap_sift_down(s, moved->heap_idx);
}

void conn_heap_update(struct stack *s, struct tcp_node *n)
{
    if (n->deadline == TCP_TIME_NEVER) {
        if (n->heap_idx != TCP_HEAP_NONE)
            heap_remove(s, n);
        return;
    }
    if (n->heap_idx == TCP_HEAP_NONE) {
        if (s->heap_len == s->heap_cap) {
            uint32_t cap = s->heap_cap ? s->heap_cap * 2 : 64;
            struct tcp_node **nh = stack_mem_resize(s, s->heap, s->heap_cap * sizeof *nh,
                                                    cap * sizeof *nh, STACK_MEM_TABLE);
            if (!nh)
                return; /* out of memory: this connection's timers will not fire */
            s->heap = nh;
            s->heap_cap = cap;
        }
        heap_set(s, s->heap_len++, n);
        heap_sift_up(s, n->heap_idx);
        return;
    }
    heap_sift_up(s, n->heap_idx);
    heap_sift_down(s, n->heap_idx);
}

/* ---- ports ------------------------------------------------------------------------ */

/* Without memory for the port's page the block stays unbound: its port is
 * then not protected from bind(), which is all that is lost. */
void port_ref(struct stack *s, struct tcp_conn *c)
{
    if (c->bound)
        return;
    uint32_t **page = &s->port_refs[c->tuple.lport / TCP_PORT_PAGE];
    if (!*page)
        *page = stack_mem_alloc(s, TCP_PORT_PAGE * sizeof **page, STACK_MEM_TABLE);
    if (!*page)
        return;
    (*page)[c->tuple.lport % TCP_PORT_PAGE]++;
    c->bound = 1;
}

void port_unref_port(struct stack *s, uint16_t port)
{
    s->port_refs[port / TCP_PORT_PAGE][port % TCP_PORT_PAGE]--;
}

void port_unref(struct stack *s, struct tcp_conn *c)
{
    if (!c->bound)
        return;
    port_unref_port(s, c->tuple.lport);
    c->bound = 0;
}

bool port_in_use(const struct stack *s, uint16_t port)
{
    const uint32_t *page = s->port_refs[port / TCP_PORT_PAGE];
    return page && page[port % TCP_PORT_PAGE] != 0;
}

uint16_t port_ephemeral_for(struct stack *s, const struct tcp_tuple *t)
{
    uint32_t lo = s->cfg.ephemeral_lo, hi = s->cfg.ephemeral_hi;
    uint32_t n = hi - lo + 1;
    struct tcp_tuple probe = *t;
    /* Like Linux's connect(): a port is fine if no listener holds it and
     * this exact 4-tuple is not in use (other remote ends may share it). */
    for (uint32_t tries = 0; tries < n; tries++) {
        uint32_t p = s->ephemeral_next;
        s->ephemeral_next = p >= hi ? lo : p + 1;
        probe.lport = (uint16_t)p;
        if (p != 0 && !listener_lookup(s, (uint16_t)p) && !conn_lookup_node(s, &probe))
            return (uint16_t)p;
    }
    return 0;
}

uint16_t port_ephemeral(struct stack *s)
{
    uint32_t lo = s->cfg.ephemeral_lo, hi = s->cfg.ephemeral_hi;
    uint32_t n = hi - lo + 1;
    for (uint32_t tries = 0; tries < n; tries++) {
        uint32_t p = s->ephemeral_next;
        s->ephemeral_next = p >= hi ? lo : p + 1;
        if (p != 0 && !port_in_use(s, (uint16_t)p))
            return (uint16_t)p;
    }
    return 0;
}
