/*
 * udp.c — UDP sockets of a stack (udp.h), RFC 768. A socket is a bound
 * port and a queue of whole datagrams; that is all UDP keeps. The wire
 * format is wire.c's (wire_udp_parse / wire_udp_build).
 */
#include <errno.h>
#include <string.h>

#include "tcp_internal.h"
#include "udp.h"

#define UDP_MAX_PAYLOAD (65535 - WIRE_IPV4_HDR_LEN - WIRE_UDP_HDR_LEN)

struct udp_dgram {
    uint32_t addr; /* the sender */
    uint16_t port;
    size_t len;
    uint8_t *data;
};

struct udp_sock {
    int sd;        /* 0: slot free */
    uint16_t port; /* bound local port, 0 = not yet */
    struct udp_dgram q[UDP_QUEUE_MAX];
    unsigned head, count;
    size_t queued; /* bytes in q */
};

struct udp_table {
    struct udp_sock socks[UDP_MAX_SOCKETS];
    uint16_t ephemeral_next;
};

static struct udp_sock *sock_of(const struct stack *s, int sd)
{
    if (!s->udp || sd <= 0)
        return NULL;
    for (unsigned i = 0; i < UDP_MAX_SOCKETS; i++)
        if (s->udp->socks[i].sd == sd)
            return &s->udp->socks[i];
    return NULL;
}

bool udp_is_socket(const struct stack *s, int sd)
{
    return sock_of(s, sd) != NULL;
}

static struct udp_sock *sock_by_port(const struct stack *s, uint16_t port)
{
    if (!s->udp || port == 0)
        return NULL;
    for (unsigned i = 0; i < UDP_MAX_SOCKETS; i++)
        if (s->udp->socks[i].sd && s->udp->socks[i].port == port)
            return &s->udp->socks[i];
    return NULL;
}

static long call(struct stack *s, int sd, const struct udp_sock *u, uint32_t raddr, uint16_t rport,
                 enum tcp_call c, long arg, long result)
{
    if (stack_observed(s)) {
        struct tev ev;
        stack_event_init(s, &ev, TEV_CALL, NULL);
        ev.sd = sd;
        ev.tuple.laddr = s->cfg.addr;
        ev.tuple.lport = u ? u->port : 0;
        ev.tuple.raddr = raddr;
        ev.tuple.rport = rport;
        ev.u.call.call = c;
        ev.u.call.arg = arg;
        ev.u.call.result = result;
        stack_emit(s, &ev);
    }
    return result;
}

static void datagram_event(struct stack *s, enum tev_dir dir, const struct udp_sock *u,
                           const struct wire_ipv4 *ip, const struct wire_udp *h, const uint8_t *pkt,
                           size_t len)
{
    if (!stack_observed(s))
        return;
    struct tev ev;
    stack_event_init(s, &ev, TEV_DATAGRAM, NULL);
    ev.sd = u ? u->sd : -1;
    bool out = dir == TEV_OUT;
    ev.tuple.laddr = s->cfg.addr;
    ev.tuple.lport = out ? h->sport : h->dport;
    ev.tuple.raddr = out ? ip->dst : ip->src;
    ev.tuple.rport = out ? h->dport : h->sport;
    ev.u.dgram.dir = dir;
    ev.u.dgram.udp = *h;
    ev.u.dgram.src = ip->src;
    ev.u.dgram.dst = ip->dst;
    ev.u.dgram.raw = pkt;
    ev.u.dgram.raw_len = len;
    stack_emit(s, &ev);
}

int udp_socket(struct stack *s, uint64_t now)
{
    s->now = now;
    if (!s->udp) {
        s->udp = stack_mem_alloc(s, sizeof *s->udp, STACK_MEM_TABLE);
        if (!s->udp)
            return (int)call(s, -1, NULL, 0, 0, TCP_CALL_SOCKET, 0, -ENOMEM);
        s->udp->ephemeral_next = s->cfg.ephemeral_lo;
    }
    struct udp_sock *u = NULL;
    for (unsigned i = 0; i < UDP_MAX_SOCKETS && !u; i++)
        if (!s->udp->socks[i].sd)
            u = &s->udp->socks[i];
    if (!u)
        return (int)call(s, -1, NULL, 0, 0, TCP_CALL_SOCKET, 0, -EMFILE);
    /* The lowest number no TCP or UDP socket holds, as a process's. */
    int sd = TCP_FD_BASE;
    while (fd_get(s, sd) || sock_of(s, sd))
        sd++;
    memset(u, 0, sizeof *u);
    u->sd = sd;
    return (int)call(s, sd, u, 0, 0, TCP_CALL_SOCKET, 0, sd);
}

int udp_bind(struct stack *s, uint64_t now, int sd, uint16_t port)
{
    s->now = now;
    struct udp_sock *u = sock_of(s, sd);
    int r = 0;
    if (!u)
        r = -EBADF;
    else if (u->port)
        r = -EINVAL;
    else if (port == 0 || sock_by_port(s, port))
        r = port ? -EADDRINUSE : -EINVAL;
    else
        u->port = port;
    return (int)call(s, sd, u, 0, 0, TCP_CALL_BIND, port, r);
}

static uint16_t ephemeral_port(struct stack *s)
{
    uint16_t lo = s->cfg.ephemeral_lo, hi = s->cfg.ephemeral_hi;
    for (unsigned n = 0; n <= (unsigned)(hi - lo); n++) {
        uint16_t p = s->udp->ephemeral_next;
        s->udp->ephemeral_next = p >= hi ? lo : (uint16_t)(p + 1);
        if (!sock_by_port(s, p))
            return p;
    }
    return 0;
}

ssize_t udp_sendto(struct stack *s, uint64_t now, int sd, uint32_t addr, uint16_t port,
                   const void *buf, size_t len)
{
    s->now = now;
    struct udp_sock *u = sock_of(s, sd);
    if (!u)
        return call(s, sd, NULL, addr, port, TCP_CALL_SENDTO, (long)len, -EBADF);
    if (len > UDP_MAX_PAYLOAD)
        return call(s, sd, u, addr, port, TCP_CALL_SENDTO, (long)len, -EMSGSIZE);
    if (port == 0)
        return call(s, sd, u, addr, port, TCP_CALL_SENDTO, (long)len, -EINVAL);
    if (!u->port && !(u->port = ephemeral_port(s)))
        return call(s, sd, u, addr, port, TCP_CALL_SENDTO, (long)len, -EAGAIN);
    size_t cap = WIRE_IPV4_HDR_LEN + WIRE_UDP_HDR_LEN + len;
    uint8_t *pkt = stack_mem_alloc(s, cap, STACK_MEM_SCRATCH);
    if (!pkt)
        return call(s, sd, u, addr, port, TCP_CALL_SENDTO, (long)len, -ENOMEM);
    size_t n = wire_udp_build(pkt, cap, s->cfg.addr, addr, s->ip_id++, u->port, port, buf, len);
    /* The call is told first, then its datagram leaves: as connect() is
     * told before its SYN, so the ladder has the call above the arrow. */
    call(s, sd, u, addr, port, TCP_CALL_SENDTO, (long)len, (long)len);
    struct wire_ipv4 ip;
    struct wire_udp h;
    if (n && wire_ipv4_parse(pkt, n, &ip) == WIRE_OK && wire_udp_parse(&ip, &h) == WIRE_OK) {
        datagram_event(s, TEV_OUT, u, &ip, &h, pkt, n);
        s->stats.pkts_out++;
        s->cfg.output(s->cfg.output_ctx, pkt, n);
    }
    stack_mem_free(s, pkt, cap, STACK_MEM_SCRATCH);
    return (ssize_t)len;
}

ssize_t udp_recvfrom(struct stack *s, uint64_t now, int sd, void *buf, size_t len, uint32_t *addr,
                     uint16_t *port)
{
    s->now = now;
    struct udp_sock *u = sock_of(s, sd);
    if (!u)
        return call(s, sd, NULL, 0, 0, TCP_CALL_RECVFROM, (long)len, -EBADF);
    if (!u->count)
        return call(s, sd, u, 0, 0, TCP_CALL_RECVFROM, (long)len, -EAGAIN);
    struct udp_dgram *d = &u->q[u->head];
    size_t n = d->len < len ? d->len : len;
    if (n)
        memcpy(buf, d->data, n);
    if (addr)
        *addr = d->addr;
    if (port)
        *port = d->port;
    uint32_t from = d->addr;
    uint16_t fport = d->port;
    u->queued -= d->len;
    stack_mem_free(s, d->data, d->len ? d->len : 1, STACK_MEM_RING);
    memset(d, 0, sizeof *d);
    u->head = (u->head + 1) % UDP_QUEUE_MAX;
    u->count--;
    return call(s, sd, u, from, fport, TCP_CALL_RECVFROM, (long)len, (long)n);
}

static void sock_clear(struct stack *s, struct udp_sock *u)
{
    for (unsigned i = 0; i < UDP_QUEUE_MAX; i++)
        if (u->q[i].data)
            stack_mem_free(s, u->q[i].data, u->q[i].len ? u->q[i].len : 1, STACK_MEM_RING);
    memset(u, 0, sizeof *u);
}

int udp_close(struct stack *s, uint64_t now, int sd)
{
    s->now = now;
    struct udp_sock *u = sock_of(s, sd);
    if (!u)
        return (int)call(s, sd, NULL, 0, 0, TCP_CALL_CLOSE, 0, -EBADF);
    call(s, sd, u, 0, 0, TCP_CALL_CLOSE, 0, 0);
    sock_clear(s, u);
    /* The number is free for TCP's next socket too (lowest first). */
    if ((uint32_t)(sd - TCP_FD_BASE) < s->fd_hint)
        s->fd_hint = (uint32_t)(sd - TCP_FD_BASE);
    return 0;
}

unsigned udp_poll(const struct stack *s, int sd)
{
    const struct udp_sock *u = sock_of(s, sd);
    if (!u)
        return 0;
    return (u->count ? TCP_POLLIN : 0) | TCP_POLLOUT;
}

void udp_input(struct stack *s, const struct wire_ipv4 *ip, const uint8_t *pkt, size_t len)
{
    struct wire_udp h;
    int err = wire_udp_parse(ip, &h);
    if (err) {
        stack_drop(s, NULL, err, pkt, len);
        return;
    }
    struct udp_sock *u = sock_by_port(s, h.dport);
    if (!u) {
        stack_drop(s, NULL, TCP_DROP_UDP_NO_PORT, pkt, len);
        return;
    }
    if (u->count == UDP_QUEUE_MAX || u->queued + h.payload_len > s->cfg.rcvbuf) {
        stack_drop(s, NULL, TCP_DROP_UDP_QUEUE_FULL, pkt, len);
        return;
    }
    /* A queued datagram is receive buffer like a TCP ring: within
     * max_ring_total (stack_mem.c), else dropped as mem_limit. */
    uint8_t *copy;
    int err2 = stack_mem_ring(s, &copy, (uint32_t)h.payload_len);
    if (err2) {
        stack_drop(s, NULL, err2 == -ENOBUFS ? TCP_DROP_MEM_LIMIT : TCP_DROP_UDP_QUEUE_FULL, pkt,
                   len);
        return;
    }
    memcpy(copy, h.payload, h.payload_len);
    struct udp_dgram *d = &u->q[(u->head + u->count) % UDP_QUEUE_MAX];
    *d = (struct udp_dgram){.addr = ip->src, .port = h.sport, .len = h.payload_len, .data = copy};
    u->count++;
    u->queued += h.payload_len;
    datagram_event(s, TEV_IN, u, ip, &h, pkt, len);
}

void udp_table_free(struct stack *s)
{
    if (!s->udp)
        return;
    for (unsigned i = 0; i < UDP_MAX_SOCKETS; i++)
        sock_clear(s, &s->udp->socks[i]);
    stack_mem_free(s, s->udp, sizeof *s->udp, STACK_MEM_TABLE);
    s->udp = NULL;
}
