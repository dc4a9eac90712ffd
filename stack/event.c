/*
 * event.c — names for the event stream's enums, and owned copies of events
 * (the UI keeps a whole run's events to step back through them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

const char *tcp_timer_name(enum tcp_timer t)
{
    static const char *const names[TCP_NTIMERS] = {
        [TCP_TIMER_RTX] = "rtx",           [TCP_TIMER_PERSIST] = "persist",
        [TCP_TIMER_KEEPALIVE] = "keepalive", [TCP_TIMER_DELACK] = "delack",
        [TCP_TIMER_TIME_WAIT] = "time_wait", [TCP_TIMER_USER] = "user",
    };
    return (unsigned)t < TCP_NTIMERS ? names[t] : "?";
}

const char *tev_drop_reason_name(int reason)
{
    static const char *const names[TCP_DROP_REASON_MAX_] = {
        [TCP_DROP_NOT_FOR_US] = "not_for_us",
        [TCP_DROP_NO_CONNECTION] = "no_connection",
        [TCP_DROP_UNACCEPTABLE] = "unacceptable_segment",
        [TCP_DROP_BAD_ACK] = "bad_ack",
        [TCP_DROP_RST_OUT_OF_WINDOW] = "rst_out_of_window",
        [TCP_DROP_RST_CHALLENGED] = "rst_challenged",
        [TCP_DROP_RST_IN_TIME_WAIT] = "rst_in_time_wait",
        [TCP_DROP_SYN_CHALLENGED] = "syn_challenged",
        [TCP_DROP_BACKLOG_FULL] = "backlog_full",
        [TCP_DROP_NO_ACK] = "no_ack",
        [TCP_DROP_OTHER_PROTOCOL] = "other_protocol",
        [TCP_DROP_RCV_WINDOW_FULL] = "receive_window_full",
        [TCP_DROP_ICMP_UNHANDLED] = "icmp_unhandled",
        [TCP_DROP_CONN_LIMIT] = "conn_limit",
        [TCP_DROP_OOO_LIMIT] = "ooo_limit",
        [TCP_DROP_MEM_LIMIT] = "mem_limit",
        [TCP_DROP_BAD_COOKIE] = "bad_cookie",
        [TCP_DROP_PAWS] = "paws",
        [TCP_DROP_TS_ECR_FUTURE] = "ts_ecr_future",
        [TCP_DROP_UDP_NO_PORT] = "udp_no_port",
        [TCP_DROP_UDP_QUEUE_FULL] = "udp_queue_full",
        [TCP_DROP_VNET_SHORT] = "vnet_short",
        [TCP_DROP_VNET_GSO_TYPE] = "vnet_gso_type",
        [TCP_DROP_VNET_GSO_SIZE] = "vnet_gso_size",
        [TCP_DROP_VNET_HDR_LEN] = "vnet_hdr_len",
        [TCP_DROP_VNET_CSUM] = "vnet_csum",
        [TCP_DROP_BAD_SOURCE] = "bad_source_address",
    };
    if (reason < 0)
        return wire_err_name(reason);
    if (reason > 0 && reason < TCP_DROP_REASON_MAX_ && names[reason])
        return names[reason];
    return "unknown";
}

const char *tcp_poll_str(unsigned events, bool brief, char *buf, size_t cap)
{
    /* The values are tcp.h's TCP_POLL*, which are poll(2)'s own. */
    static const struct {
        unsigned bit;
        const char *name;
    } bits[] = {{0x1, "IN"}, {0x4, "OUT"}, {0x8, "ERR"}, {0x10, "HUP"}};
    size_t n = 0;
    if (!cap)
        return buf;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        if (!(events & bits[i].bit))
            continue;
        int w =
            snprintf(buf + n, cap - n, "%s%s%s", n ? "|" : "", brief ? "" : "POLL", bits[i].name);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
    if (n == 0)
        snprintf(buf, cap, "0");
    return buf;
}

const char *tcp_call_name(enum tcp_call c)
{
    static const char *const names[TCP_NCALLS] = {
        [TCP_CALL_SOCKET] = "socket",
        [TCP_CALL_BIND] = "bind",
        [TCP_CALL_LISTEN] = "listen",
        [TCP_CALL_ACCEPT] = "accept",
        [TCP_CALL_CONNECT] = "connect",
        [TCP_CALL_SEND] = "send",
        [TCP_CALL_RECV] = "recv",
        [TCP_CALL_SHUTDOWN] = "shutdown",
        [TCP_CALL_CLOSE] = "close",
        [TCP_CALL_ABORT] = "abort",
        [TCP_CALL_SETSOCKOPT] = "setsockopt",
        [TCP_CALL_STATUS] = "status",
        [TCP_CALL_POLL] = "poll",
        [TCP_CALL_GETSOCKOPT] = "getsockopt",
        [TCP_CALL_FCNTL] = "fcntl",
        [TCP_CALL_SENDTO] = "sendto",
        [TCP_CALL_RECVFROM] = "recvfrom",
    };
    return (unsigned)c < TCP_NCALLS ? names[c] : "?";
}

const char *tcp_cc_phase_name(enum tcp_cc_phase p)
{
    switch (p) {
    case TCP_CC_SLOW_START:
        return "slow_start";
    case TCP_CC_AVOIDANCE:
        return "avoidance";
    case TCP_CC_RECOVERY:
        return "recovery";
    case TCP_CC_LOSS:
        return "loss";
    case TCP_CC_CSS:
        return "css";
    }
    return "?";
}

const char *tev_sack_what_name(enum tev_sack_what w)
{
    switch (w) {
    case TEV_SACK_DSACK:
        return "dsack";
    case TEV_SACK_IGNORED:
        return "ignored";
    case TEV_SACK_LOST_RTX:
        return "lost_rtx";
    }
    return "?";
}

const char *tev_link_action_name(enum tev_link_action a)
{
    switch (a) {
    case TEV_LINK_LOST: return "lost";
    case TEV_LINK_CUT: return "cut";
    case TEV_LINK_DUPLICATED: return "duplicated";
    case TEV_LINK_DELAYED: return "delayed";
    case TEV_LINK_REORDERED: return "reordered";
    case TEV_LINK_CABLE: return "cable";
    }
    return "?";
}

/* The raw packet an event carries, if any, as a pointer to its field. */
static const uint8_t **raw_field(struct tev *ev, size_t **len)
{
    switch (ev->kind) {
    case TEV_SEGMENT: *len = &ev->u.seg.raw_len; return &ev->u.seg.raw;
    case TEV_DROP: *len = &ev->u.drop.raw_len; return &ev->u.drop.raw;
    case TEV_LINK: *len = &ev->u.link.raw_len; return &ev->u.link.raw;
    case TEV_DATAGRAM:
        *len = &ev->u.dgram.raw_len;
        return &ev->u.dgram.raw;
    default: return NULL;
    }
}

struct tev *tev_clone(const struct tev *ev)
{
    struct tev *copy = malloc(sizeof *copy);
    if (!copy)
        return NULL;
    *copy = *ev;
    size_t *len;
    const uint8_t **raw = raw_field(copy, &len);
    if (raw && *raw) {
        uint8_t *bytes = malloc(*len ? *len : 1);
        if (!bytes) {
            free(copy);
            return NULL;
        }
        memcpy(bytes, *raw, *len);
        /* tcp.payload points into the raw packet: move it into the copy. */
        if (ev->kind == TEV_SEGMENT && ev->u.seg.tcp.payload && ev->u.seg.raw)
            copy->u.seg.tcp.payload = bytes + (ev->u.seg.tcp.payload - ev->u.seg.raw);
        if (ev->kind == TEV_DATAGRAM && ev->u.dgram.udp.payload && ev->u.dgram.raw)
            copy->u.dgram.udp.payload = bytes + (ev->u.dgram.udp.payload - ev->u.dgram.raw);
        *raw = bytes;
    }
    return copy;
}

void tev_free(struct tev *ev)
{
    if (!ev)
        return;
    size_t *len;
    const uint8_t **raw = raw_field(ev, &len);
    if (raw)
        free((void *)*raw);
    free(ev);
}
