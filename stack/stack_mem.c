/*
 * stack_mem.c — every block of memory the engine holds, taken and given
 * back in one place, with its size and what it is for.
 *
 * Two things need that. The limits (tcp_limit.c, docs/engine.md "Limits
 * under attack"): the rings are the largest thing a peer makes the stack
 * hold, so their total is checked here against cfg.max_ring_total, and
 * stack_stats says how much the stack holds now and at most. And callers
 * that want the stack in memory of their own (cfg.allocator): the fuzz
 * targets build a world once in an arena and restore a copy of it before
 * each input, which works because no engine pointer leads outside it.
 * Nothing in stack/ calls malloc or free but this file
 * (scripts/check-layering.sh checks it).
 */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

static void *default_alloc(void *ctx, size_t size, enum stack_mem_kind kind)
{
    (void)ctx;
    (void)kind;
    return calloc(1, size ? size : 1);
}

static void default_free(void *ctx, void *p, size_t size, enum stack_mem_kind kind)
{
    (void)ctx;
    (void)size;
    (void)kind;
    free(p);
}

void *stack_mem_raw_alloc(const struct stack_allocator *a, size_t size, enum stack_mem_kind kind)
{
    return a->alloc ? a->alloc(a->ctx, size, kind) : default_alloc(NULL, size, kind);
}

void stack_mem_raw_free(const struct stack_allocator *a, void *p, size_t size,
                        enum stack_mem_kind kind)
{
    if (!p)
        return;
    if (a->free)
        a->free(a->ctx, p, size, kind);
    else
        default_free(NULL, p, size, kind);
}

static void mem_count(struct stack *s, size_t size, enum stack_mem_kind kind)
{
    s->stats.mem_bytes += size;
    if (s->stats.mem_bytes > s->stats.mem_peak)
        s->stats.mem_peak = s->stats.mem_bytes;
    if (kind == STACK_MEM_RING)
        s->stats.ring_bytes += size;
}

void stack_mem_counted(struct stack *s, size_t size, enum stack_mem_kind kind)
{
    mem_count(s, size, kind);
}

void *stack_mem_alloc(struct stack *s, size_t size, enum stack_mem_kind kind)
{
    void *p = stack_mem_raw_alloc(&s->cfg.allocator, size, kind);
    if (p)
        mem_count(s, size, kind);
    return p;
}

void stack_mem_free(struct stack *s, void *p, size_t size, enum stack_mem_kind kind)
{
    if (!p)
        return;
    stack_mem_raw_free(&s->cfg.allocator, p, size, kind);
    s->stats.mem_bytes -= size;
    if (kind == STACK_MEM_RING)
        s->stats.ring_bytes -= size;
}

void *stack_mem_resize(struct stack *s, void *p, size_t old_size, size_t new_size,
                       enum stack_mem_kind kind)
{
    void *q = stack_mem_alloc(s, new_size, kind);
    if (!q)
        return NULL;
    if (p)
        memcpy(q, p, old_size < new_size ? old_size : new_size);
    stack_mem_free(s, p, old_size, kind);
    return q;
}

int stack_mem_ring(struct stack *s, uint8_t **buf, uint32_t cap)
{
    if (s->stats.ring_bytes + cap > s->cfg.max_ring_total) {
        s->stats.limit_ring++;
        return -ENOBUFS;
    }
    *buf = stack_mem_alloc(s, cap ? cap : 1, STACK_MEM_RING);
    return *buf ? 0 : -ENOMEM;
}
