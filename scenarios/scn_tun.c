/*
 * scn_tun.c — the scenario runner's real network: the stack on a TUN device
 * and the kernel's own sockets as peers (placeholder until it is built).
 */
#include <errno.h>
#include <stdio.h>

#include "scn_rt.h"

int scn_tun_setup(struct rt *rt, char *msg, size_t msglen)
{
    (void)rt;
    snprintf(msg, msglen, "--tun is not built yet");
    return -ENOSYS;
}
