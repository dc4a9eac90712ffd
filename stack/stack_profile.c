/*
 * stack_profile.c — the engine's named configurations: `teaching`, where
 * every number on the screen means one thing, and `linux`, a default Linux
 * 6.x socket. The one table of them: scenarios' `profile` statement applies
 * it as it is; the packetdrill runner's `linux` profile starts from it and
 * says where packetdrill's Linux scripts differ (pkt/pkt_profile.c).
 */
#include "tcp.h"

void stack_config_profile(struct stack_config *cfg, enum stack_profile p)
{
    bool linux_like = p == STACK_PROFILE_LINUX;
    cfg->mss = 1460;
    cfg->nagle = true;
    cfg->rto_initial_us = 1000000;
    /* RFC 9293 MUST-23: a SYN is retried for at least 3 minutes (183 s with
     * teaching's 60 s maximum RTO); Linux's 6 gives up after 127 s. */
    cfg->syn_retries = linux_like ? 6 : 7;
    cfg->synack_retries = 5;
    cfg->data_retries = 15;
    cfg->keepalive_idle_us = 7200ull * 1000000;
    cfg->keepalive_intvl_us = 75ull * 1000000;
    cfg->keepalive_probes = 9;
    cfg->congestion_control = true;
    /* Linux runs CUBIC (RFC 9438); teaching keeps NewReno's simple saw-tooth */
    cfg->cc_algo = linux_like ? TCP_CC_CUBIC : TCP_CC_NEWRENO;
    cfg->sack = linux_like; /* RFC 2018; off in teaching so early lessons stay simple */
    if (linux_like) {
        cfg->init_cwnd = 10;    /* RFC 6928, as Linux */
        cfg->timestamps = true; /* RFC 7323, as Linux */
        cfg->window_scaling = true;
        cfg->wscale = 7;
        cfg->rcvbuf = 131072;
        cfg->sndbuf = 16384;
        cfg->delayed_ack = true;
        cfg->delack_us = 40000;
        cfg->rto_min_us = 200000;
        cfg->rto_max_us = 120ull * 1000000;
        cfg->msl_us = 30ull * 1000000;
    } else {
        /* Teaching: every number on the screen means one thing, and slow
         * start is visible from a two-segment initial window. */
        cfg->init_cwnd = 2;
        cfg->timestamps = false;
        cfg->window_scaling = false;
        cfg->wscale = 0;
        cfg->rcvbuf = 65535;
        cfg->sndbuf = 65535;
        cfg->delayed_ack = false;
        cfg->delack_us = 40000;
        cfg->rto_min_us = 1000000;
        cfg->rto_max_us = 60ull * 1000000;
        cfg->msl_us = 5ull * 1000000;
    }
}
