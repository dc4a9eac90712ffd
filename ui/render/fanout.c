/*
 * fanout.c — one event stream to several renderers at once (text trace,
 * JSON Lines, pcap, the UI): the stack has one event callback, and this is
 * the callback that calls the others in the order they were added.
 */
#include "trace.h"

/* Sinks beyond TEV_FANOUT_MAX are ignored: the callers add a fixed few. */
void tev_fanout_add(struct tev_fanout *f, tev_fn fn, void *ctx)
{
    if (!fn || f->n >= TEV_FANOUT_MAX)
        return;
    f->fn[f->n] = fn;
    f->ctx[f->n] = ctx;
    f->n++;
}

void tev_fanout_event(void *ctx, const struct tev *ev)
{
    const struct tev_fanout *f = ctx;
    for (unsigned i = 0; i < f->n; i++)
        f->fn[i](f->ctx[i], ev);
}
