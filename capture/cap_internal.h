/*
 * cap_internal.h — what the capture reader (cap_read.c) hands to the
 * timeline builder (cap_timeline.c). Private to capture/.
 */
#ifndef TCPLAB_CAP_INTERNAL_H
#define TCPLAB_CAP_INTERNAL_H

#include "wire.h"
#include "capture.h"

/* One IPv4 TCP packet as captured (repaired: see cap_read.c). */
struct cap_pkt {
    uint64_t t_us; /* capture time stamp */
    uint8_t *ip;   /* the IPv4 packet (owned) */
    size_t len;
    size_t conn; /* index in cap_file.conns */
    bool from_a; /* sent by the connection's "a" end */
};

struct cap_skip {
    const char *what; /* "IPv6", "UDP", ... (static) */
    size_t n;
};

struct cap_file {
    char name[256];
    struct cap_pkt *pkts;
    size_t npkts, cap_pkts;
    struct cap_conn *conns;
    size_t nconns, cap_conns;
    struct cap_skip skips[12];
    size_t nskips;
    size_t nfixed; /* TCP checksums recomputed */
    size_t ncut;   /* packets shorter than their IP length (snap length) */
    char skipped[512];
};

#endif
