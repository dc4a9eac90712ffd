/*
 * scn_vlink.c — the scenario runner's virtual network (struct scn_net):
 * every host a tcplab stack (scn_host_stack.c) on the virtual link
 * (tun/vlink.h), in virtual time, with the link's deterministic impairments.
 * The default network of `tcplab replay` and `tcplab play`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlink.h"
#include "scn_rt.h"

static void to_vmatch(const struct scn_netmatch *m, struct vlink_match *vm)
{
    vm->from = m->from < 0 ? VLINK_ANY : m->from;
    vm->to = m->to < 0 ? VLINK_ANY : m->to;
    vm->mask = m->any_flags ? 0 : 0xFF;
    vm->value = m->any_flags ? 0 : m->flags;
    vm->payload_only = m->data;
}
/* ---- the virtual link ----------------------------------------------------------- */

static uint64_t v_now(struct scn_rt *rt)
{
    return vlink_now(rt->netctx);
}

static bool v_step(struct scn_rt *rt, uint64_t limit, int *err)
{
    (void)err;
    return vlink_step(rt->netctx, limit);
}

static void v_drop_next(struct scn_rt *rt, const struct scn_netmatch *m, unsigned count)
{
    struct vlink_match vm;
    to_vmatch(m, &vm);
    vlink_drop_next(rt->netctx, &vm, count);
}

static void v_dup_next(struct scn_rt *rt, const struct scn_netmatch *m, unsigned count)
{
    struct vlink_match vm;
    to_vmatch(m, &vm);
    vlink_duplicate_next(rt->netctx, &vm, count);
}

static void v_reorder_next(struct scn_rt *rt, const struct scn_netmatch *m, uint64_t hold_us,
                           unsigned by)
{
    struct vlink_match vm;
    to_vmatch(m, &vm);
    vlink_reorder_next_by(rt->netctx, &vm, hold_us, by);
}

static void v_loss(struct scn_rt *rt, int from, int to, double p)
{
    vlink_set_loss(rt->netctx, from < 0 ? VLINK_ANY : from, to < 0 ? VLINK_ANY : to, p);
}

static void v_delay(struct scn_rt *rt, int from, int to, uint64_t us)
{
    vlink_set_delay(rt->netctx, from < 0 ? VLINK_ANY : from, to < 0 ? VLINK_ANY : to, us);
}

static void v_cut(struct scn_rt *rt, bool cut)
{
    if (cut)
        vlink_cut(rt->netctx);
    else
        vlink_restore(rt->netctx);
}

static void v_inject(struct scn_rt *rt, int to, const uint8_t *pkt, size_t len)
{
    stack_input(rt->hosts[to].stack, vlink_now(rt->netctx), pkt, len);
}

static void v_destroy(struct scn_rt *rt)
{
    vlink_free(rt->netctx); /* frees the stacks too */
    rt->netctx = NULL;
    for (size_t i = 0; i < rt->nhosts; i++)
        rt->hosts[i].stack = NULL;
}

/* A fixed RFC 6528 key per seed, so a run is reproducible. */
static void seed_key(uint64_t seed, uint8_t key[16])
{
    uint64_t x = seed ^ 0x7463706c61622121ull; /* "tcplab!!" */
    for (int i = 0; i < 16; i += 8) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        memcpy(key + i, &z, 8);
    }
}

int scn_vlink_setup(struct scn_rt *rt, char *msg, size_t msglen)
{
    struct vlink_config vc;
    vlink_config_defaults(&vc);
    vc.seed = rt->seed;
    vc.latency_us = rt->s->latency_us;
    vc.on_event = scn_rt_event;
    vc.event_ctx = rt;
    struct vlink *l = vlink_new(&vc);
    if (!l) {
        snprintf(msg, msglen, "cannot create the virtual link (out of memory)");
        return -ENOMEM;
    }
    rt->netctx = l;
    for (size_t i = 0; i < rt->nhosts; i++) {
        struct stack_config cfg = rt->hosts[i].def->cfg;
        cfg.name = rt->hosts[i].name;
        cfg.addr = rt->hosts[i].addr;
        seed_key(rt->seed, cfg.isn_key);
        int idx = vlink_add_host(l, &cfg);
        if (idx != (int)i) {
            snprintf(msg, msglen, "cannot add host %s to the virtual link", rt->hosts[i].name);
            return -ENOMEM;
        }
        rt->hosts[i].stack = vlink_stack(l, idx);
        rt->hosts[i].ops = &scn_stack_host_ops;
    }
    rt->net = (struct scn_net){
        .now = v_now,
        .step = v_step,
        .drop_next = v_drop_next,
        .dup_next = v_dup_next,
        .reorder_next = v_reorder_next,
        .loss = v_loss,
        .delay = v_delay,
        .cut = v_cut,
        .inject = v_inject,
        .destroy = v_destroy,
        .time_tolerance = 0,
        .time_slack_us = 0,
    };
    return 0;
}
