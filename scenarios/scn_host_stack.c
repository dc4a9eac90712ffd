/*
 * scn_host_stack.c — a scenario host that is a tcplab stack (tcp.h): the
 * runner's struct scn_host_ops over the engine's socket calls, on the
 * virtual link (scn_vlink.c) or on the TUN device (scn_tun.c). Every call
 * is given the network's clock, as the sans-I/O engine asks.
 */
#include <errno.h>

#include "scn_rt.h"
#include "udp.h"

static struct stack *stk(struct scn_rt *rt, int h)
{
    return rt->hosts[h].stack;
}

static int s_socket(struct scn_rt *rt, int h)
{
    return tcp_socket(stk(rt, h), scn_rt_now(rt));
}

/* TCP and UDP descriptors are numbers of one space (udp.h), so bind, close
 * and poll tell them apart by the descriptor. */
static int s_bind(struct scn_rt *rt, int h, int sd, uint16_t port)
{
    if (udp_is_socket(stk(rt, h), sd))
        return udp_bind(stk(rt, h), scn_rt_now(rt), sd, port);
    return tcp_bind(stk(rt, h), scn_rt_now(rt), sd, port);
}

static int s_listen(struct scn_rt *rt, int h, int sd, int backlog)
{
    return tcp_listen(stk(rt, h), scn_rt_now(rt), sd, backlog);
}

static int s_accept(struct scn_rt *rt, int h, int sd, struct tcp_tuple *t)
{
    return tcp_accept(stk(rt, h), scn_rt_now(rt), sd, t);
}

static int s_connect(struct scn_rt *rt, int h, int sd, uint32_t addr, uint16_t port)
{
    return tcp_connect(stk(rt, h), scn_rt_now(rt), sd, addr, port);
}

static long s_send(struct scn_rt *rt, int h, int sd, const uint8_t *b, size_t n)
{
    return tcp_send(stk(rt, h), scn_rt_now(rt), sd, b, n);
}

static long s_recv(struct scn_rt *rt, int h, int sd, uint8_t *b, size_t n)
{
    return tcp_recv(stk(rt, h), scn_rt_now(rt), sd, b, n);
}

static int s_shutdown(struct scn_rt *rt, int h, int sd, int how)
{
    return tcp_shutdown(stk(rt, h), scn_rt_now(rt), sd, (enum tcp_shut)how);
}

static int s_close(struct scn_rt *rt, int h, int sd, bool abort)
{
    if (udp_is_socket(stk(rt, h), sd))
        return udp_close(stk(rt, h), scn_rt_now(rt), sd);
    return abort ? tcp_abort(stk(rt, h), scn_rt_now(rt), sd)
                 : tcp_close(stk(rt, h), scn_rt_now(rt), sd);
}

static int s_setsockopt(struct scn_rt *rt, int h, int sd, enum tcp_sockopt opt, long v)
{
    return tcp_setsockopt(stk(rt, h), scn_rt_now(rt), sd, opt, v);
}

/* The engine never blocks: O_NONBLOCK is the program's choice, which the
 * runner keeps (scn_rt_sock.nonblock); the call is shown as made. */
static int s_nonblock(struct scn_rt *rt, int h, int sd)
{
    struct tcp_status st;
    bool open = udp_is_socket(stk(rt, h), sd) || tcp_status(stk(rt, h), sd, &st) == 0;
    int r = open ? 0 : -EBADF;
    scn_rt_emit_call(rt, h, sd, TCP_CALL_FCNTL, 0, r);
    return r;
}

static int s_so_error(struct scn_rt *rt, int h, int sd, int *err)
{
    return tcp_so_error(stk(rt, h), scn_rt_now(rt), sd, err);
}

static unsigned s_poll(struct scn_rt *rt, int h, int sd)
{
    if (udp_is_socket(stk(rt, h), sd))
        return udp_poll(stk(rt, h), sd);
    return tcp_poll(stk(rt, h), sd);
}

static int s_udp_socket(struct scn_rt *rt, int h)
{
    return udp_socket(stk(rt, h), scn_rt_now(rt));
}

static long s_sendto(struct scn_rt *rt, int h, int sd, uint32_t addr, uint16_t port,
                     const uint8_t *b, size_t n)
{
    return udp_sendto(stk(rt, h), scn_rt_now(rt), sd, addr, port, b, n);
}

static long s_recvfrom(struct scn_rt *rt, int h, int sd, uint8_t *b, size_t n)
{
    return udp_recvfrom(stk(rt, h), scn_rt_now(rt), sd, b, n, NULL, NULL);
}

static int s_error(struct scn_rt *rt, int h, int sd)
{
    struct tcp_status st;
    if (tcp_status(stk(rt, h), sd, &st) < 0)
        return 0;
    return st.error;
}

static int s_state(struct scn_rt *rt, int h, int sd)
{
    struct tcp_status st;
    if (tcp_status(stk(rt, h), sd, &st) < 0)
        return -1;
    return (int)st.state;
}

static bool s_tuple(struct scn_rt *rt, int h, int sd, struct tcp_tuple *t)
{
    struct tcp_status st;
    if (tcp_status(stk(rt, h), sd, &st) < 0)
        return false;
    *t = st.tuple;
    return true;
}

const struct scn_host_ops scn_stack_host_ops = {
    .socket = s_socket,
    .bind = s_bind,
    .listen = s_listen,
    .accept = s_accept,
    .connect = s_connect,
    .send = s_send,
    .recv = s_recv,
    .shutdown = s_shutdown,
    .close = s_close,
    .setsockopt = s_setsockopt,
    .nonblock = s_nonblock,
    .so_error = s_so_error,
    .udp_socket = s_udp_socket,
    .sendto = s_sendto,
    .recvfrom = s_recvfrom,
    .poll = s_poll,
    .error = s_error,
    .state = s_state,
    .tuple = s_tuple,
};
