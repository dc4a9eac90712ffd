/*
 * tcp_user.c — RFC 9293 §3.10.1-3.10.6, the user calls, shaped as the
 * non-blocking BSD socket API:
 *
 *   tcp_socket, tcp_bind, tcp_listen   OPEN, passive (§3.10.1)
 *   tcp_connect                        OPEN, active (§3.10.1)
 *   tcp_accept                         (socket API: take a connection a
 *                                      listener completed)
 *   tcp_send                           SEND (§3.10.2)
 *   tcp_recv                           RECEIVE (§3.10.3)
 *   tcp_shutdown, tcp_close            CLOSE (§3.10.4)
 *   tcp_abort                          ABORT (§3.10.5)
 *   tcp_status                         STATUS (§3.10.6)
 *   tcp_so_error                       (socket API: getsockopt(SO_ERROR),
 *                                      how a non-blocking connect's outcome
 *                                      is read)
 *
 * Every call is reported as a TEV_CALL event with its result (tcp_status
 * and tcp_poll are queries on a const stack and are not reported).
 * Errors are negative errno values, as the socket API reports them.
 */
#include <string.h>

#include "tcp_internal.h"

static long call_done(struct stack *s, int sd, const struct tcp_conn *c, enum tcp_call call,
                      long arg, long result)
{
    return stack_call(s, sd, c, call, arg, result);
}

int tcp_socket(struct stack *s, uint64_t now)
{
    s->now = now;
    struct tcp_conn *c = conn_new(s);
    if (!c)
        return (int)call_done(s, -1, NULL, TCP_CALL_SOCKET, 0, -ENOMEM);
    int sd = fd_alloc(s, c);
    if (sd < 0) {
        conn_destroy(s, c);
        return (int)call_done(s, -1, NULL, TCP_CALL_SOCKET, 0, sd);
    }
    return (int)call_done(s, sd, c, TCP_CALL_SOCKET, 0, sd);
}

/* Can this socket take local port `port`? A listener always holds its port;
 * any other user of the port (a connection, one in TIME_WAIT, a bound
 * socket) holds it unless the new socket has SO_REUSEADDR. (Linux also asks
 * the other sockets for SO_REUSEADDR; we keep the rule to one side.) */
static int tcp_port_available(const struct stack *s, const struct tcp_conn *c, uint16_t port)
{
    if (listener_lookup(s, port))
        return -EADDRINUSE;
    if (port_in_use(s, port) && !c->opt_reuseaddr)
        return -EADDRINUSE;
    return 0;
}

static int tcp_bind_port(struct stack *s, struct tcp_conn *c, uint16_t port)
{
    if (port == 0) {
        port = port_ephemeral(s);
        if (port == 0)
            return -EADDRINUSE;
    } else {
        int err = tcp_port_available(s, c, port);
        if (err)
            return err;
    }
    c->tuple.laddr = s->cfg.addr;
    c->tuple.lport = port;
    port_ref(s, c);
    return 0;
}

int tcp_bind_addr(struct stack *s, uint64_t now, int sd, uint32_t addr, uint16_t port)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    int r;
    if (!c)
        r = -EBADF;
    else if (c->bound || c->listening || c->state != TCP_CLOSED)
        r = -EINVAL;
    else if (addr != 0 && addr != s->cfg.addr)
        r = -EADDRNOTAVAIL; /* not an address of this stack */
    else
        r = tcp_bind_port(s, c, port);
    return (int)call_done(s, sd, c, TCP_CALL_BIND, port, r);
}

int tcp_bind(struct stack *s, uint64_t now, int sd, uint16_t port)
{
    return tcp_bind_addr(s, now, sd, 0, port);
}

/* OPEN, passive: "create a new TCB ... enter LISTEN state". The backlog
 * bounds both the SYN queue and the accept queue. */
int tcp_listen(struct stack *s, uint64_t now, int sd, int backlog)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    int r = 0;
    uint32_t bl = backlog < 1 ? 1 : backlog > 4096 ? 4096 : (uint32_t)backlog;
    if (!c) {
        r = -EBADF;
    } else if (c->listening) {
        c->backlog = bl; /* listen() again just changes the backlog */
    } else if (c->state != TCP_CLOSED || c->connected) {
        r = -EINVAL;
    } else if (!c->bound && (r = tcp_bind_port(s, c, 0)) < 0) {
        /* no port left */
    } else if (listener_lookup(s, c->tuple.lport)) {
        r = -EADDRINUSE;
    } else {
        c->backlog = bl;
        listener_insert(s, c);
        tcp_set_state(s, c, TCP_LISTEN, "listen()");
    }
    return (int)call_done(s, sd, c, TCP_CALL_LISTEN, backlog, r);
}

int tcp_accept(struct stack *s, uint64_t now, int sd, struct tcp_tuple *tuple)
{
    s->now = now;
    struct tcp_conn *l = fd_get(s, sd), *child = NULL;
    int r;
    if (!l) {
        r = -EBADF;
    } else if (!l->listening) {
        r = -EINVAL;
    } else if (!l->acc_head) {
        r = -EAGAIN;
    } else {
        struct tcp_conn *c = l->acc_head;
        r = fd_alloc(s, c);
        if (r >= 0) {
            l->acc_head = c->qnext;
            if (!l->acc_head)
                l->acc_tail = NULL;
            l->acc_q_len--;
            c->qnext = NULL;
            c->in_accept_q = 0;
            c->listener = NULL;
            if (tuple)
                *tuple = c->tuple;
            child = c;
        }
    }
    /* Reported with the new connection's 4-tuple when there is one. */
    return (int)call_done(s, sd, child ? child : l, TCP_CALL_ACCEPT, 0, r);
}

static void tcp_listener_drop_children(struct stack *s, struct tcp_conn *l);

/* OPEN, active: "Create a new transmission control block (TCB) ... A SYN
 * segment of the form <SEQ=ISS><CTL=SYN> is sent. Set SND.UNA to ISS,
 * SND.NXT to ISS+1, enter SYN-SENT state, and return." */
static int tcp_open_active(struct stack *s, struct tcp_conn *c, uint32_t addr, uint16_t port)
{
    /* RFC 9293 §3.9.1.1 (MUST-46): "A TCP implementation MUST reject as an
     * error a local OPEN call for an invalid remote IP address (e.g., a
     * broadcast or multicast address)". Linux says ENETUNREACH for these;
     * EINVAL says it is the address, not the network. */
    if (!tcp_addr_is_unicast(addr) || port == 0)
        return -EINVAL;
    if (c->listening) {
        /* §3.10.2 SEND in LISTEN: "If the remote socket is specified, then
         * change the connection from passive to active, select an ISS. Send
         * a SYN segment, set SND.UNA to ISS, SND.NXT to ISS+1. Enter
         * SYN-SENT state." connect() is how the socket API names it. */
        tcp_listener_drop_children(s, c);
        listener_remove(s, c);
    } else if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
        return -EALREADY;
    } else if (c->state != TCP_CLOSED || c->connected) {
        return -EISCONN;
    }
    c->tuple.laddr = s->cfg.addr;
    c->tuple.raddr = addr;
    c->tuple.rport = port;
    if (!c->bound) {
        uint16_t p = port_ephemeral_for(s, &c->tuple);
        if (p == 0)
            return -EADDRNOTAVAIL; /* every local port is taken for this peer */
        c->tuple.lport = p;
        port_ref(s, c);
    }
    if (conn_hash_insert(s, c) < 0)
        return -EADDRINUSE; /* this 4-tuple exists (perhaps in TIME_WAIT) */
    c->err = 0;
    c->err_taken = 0;
    c->fin_queued = c->close_pending = c->rcv_fin = c->rcv_fin_held = c->shut_rd = 0;
    c->in_recovery = c->rto_recovery = c->rtt_timing = c->ack_owed = 0;
    c->snd_urg = c->rcv_urg = 0;
    memset(&c->cc, 0, sizeof c->cc);
    c->ooo.n = 0;
    tcp_ooo_account(s, c);
    c->backoff = c->dupacks = c->persist_backoff = c->ka_probes = 0;
    c->iss = tcp_isn(s->cfg.isn_key, &c->tuple, s->now);
    c->snd_una = c->iss;
    c->snd_nxt = c->iss;
    c->snd_wscale = c->rcv_wscale = 0;
    c->mss = 536;
    c->last_rcv_us = s->now;
    tcp_rtt_init_2_1(&c->rtt, &s->cfg);
    tcp_set_state(s, c, TCP_SYN_SENT, "connect()");
    tcp_send_syn(s, c, false);
    return 0;
}

int tcp_connect(struct stack *s, uint64_t now, int sd, uint32_t addr, uint16_t port)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    int r = c ? tcp_open_active(s, c, addr, port) : -EBADF;
    return (int)call_done(s, sd, c, TCP_CALL_CONNECT, port, r);
}

/* A connection that died keeps its error until the application has seen
 * it once (as Linux's sk_err). */
static int tcp_take_error(struct tcp_conn *c)
{
    if (c->err && !c->err_taken) {
        c->err_taken = 1;
        return c->err;
    }
    return 0;
}

/* SEND: "ESTABLISHED, CLOSE-WAIT: Segmentize the buffer and send it";
 * "SYN-SENT, SYN-RECEIVED: Queue the data for transmission after entering
 * ESTABLISHED state"; after CLOSE: "error: connection closing" (EPIPE). */
static ssize_t tcp_send_impl(struct stack *s, struct tcp_conn *c, const void *buf, size_t len,
                             bool urgent)
{
    if (c->listening)
        return -ENOTCONN;
    int err = tcp_take_error(c);
    if (err)
        return err;
    if (c->fin_queued || c->close_pending)
        return -EPIPE;
    switch (c->state) {
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
        break;
    case TCP_CLOSED:
        return c->connected || c->err ? -EPIPE : -ENOTCONN;
    default:
        return -EPIPE;
    }
    if (len == 0)
        return 0;
    err = c->sndq.buf ? 0 : rbuf_init(s, &c->sndq, c->sndbuf);
    if (err)
        return err; /* -ENOBUFS: the rings of all connections are at max_ring_total */
    uint32_t n = rbuf_append(&c->sndq, buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
    if (n == 0)
        return -EAGAIN;
    if (urgent) {
        /* §3.10.2: "If the URGENT flag is set, then SND.UP <- SND.NXT and set
         * the urgent pointer in the outgoing segments" — SND.NXT of a stack
         * that sent everything queued: the byte after the urgent data. */
        c->snd_up = c->snd_una + c->sndq.len;
        c->snd_urg = 1;
    }
    tcp_output(s, c);
    return n;
}

ssize_t tcp_send(struct stack *s, uint64_t now, int sd, const void *buf, size_t len)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    ssize_t r = c ? tcp_send_impl(s, c, buf, len, false) : -EBADF;
    return call_done(s, sd, c, TCP_CALL_SEND, (long)len, r);
}

ssize_t tcp_send_urgent(struct stack *s, uint64_t now, int sd, const void *buf, size_t len)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    ssize_t r = c ? tcp_send_impl(s, c, buf, len, true) : -EBADF;
    return call_done(s, sd, c, TCP_CALL_SEND, (long)len, r);
}

/* RECEIVE: data first; then the connection's error; then end of stream. */
static ssize_t tcp_recv_impl(struct stack *s, struct tcp_conn *c, void *buf, size_t len)
{
    if (c->listening)
        return -ENOTCONN;
    if (c->rcvq.len > 0 && len > 0) {
        uint32_t n = c->rcvq.len < len ? c->rcvq.len : (uint32_t)len;
        rbuf_read_at(&c->rcvq, 0, buf, n);
        rbuf_consume(&c->rcvq, n);
        tcp_maybe_window_update(s, c);
        return n;
    }
    int err = tcp_take_error(c);
    if (err)
        return err;
    if (c->rcv_fin || c->shut_rd || len == 0)
        return 0;
    switch (c->state) {
    case TCP_CLOSED:
        return c->connected || c->err ? 0 : -ENOTCONN;
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
        return -EAGAIN;
    default:
        return 0;
    }
}

ssize_t tcp_recv(struct stack *s, uint64_t now, int sd, void *buf, size_t len)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    ssize_t r = c ? tcp_recv_impl(s, c, buf, len) : -EBADF;
    return call_done(s, sd, c, TCP_CALL_RECV, (long)len, r);
}

int tcp_shutdown(struct stack *s, uint64_t now, int sd, enum tcp_shut how)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    int r = 0;
    if (!c)
        r = -EBADF;
    else if (how != TCP_SHUT_RD && how != TCP_SHUT_WR && how != TCP_SHUT_RDWR)
        r = -EINVAL;
    else if (c->listening || c->state == TCP_CLOSED)
        r = -ENOTCONN;
    else {
        if (how != TCP_SHUT_WR)
            c->shut_rd = 1;
        if (how != TCP_SHUT_RD)
            tcp_close_send_side(s, c, "shutdown()");
    }
    return (int)call_done(s, sd, c, TCP_CALL_SHUTDOWN, how, r);
}

/* A listener going away takes its children: connections waiting in the
 * accept queue are reset (as Linux does), half-open ones are forgotten. */
static void tcp_listener_drop_children(struct stack *s, struct tcp_conn *l)
{
    for (uint32_t i = 0; i < s->nbuckets; i++) {
        struct tcp_node *e = s->buckets[i];
        while (e) {
            struct tcp_node *next = e->hnext;
            struct tcp_conn *c = tcp_node_conn(e); /* NULL: a TIME_WAIT record, no child */
            if (c && c->listener == l) {
                if (c->state != TCP_SYN_RECEIVED)
                    tcp_rst_abort(s, c);
                tcp_set_state(s, c, TCP_CLOSED, "listener closed");
            }
            e = next;
        }
    }
}

/* Closing a listener: "CLOSE ... LISTEN: Any outstanding RECEIVEs are
 * returned with "error: closing" responses. Delete TCB, enter CLOSED
 * state". */
static void tcp_close_listener(struct stack *s, struct tcp_conn *l, const char *cause)
{
    tcp_listener_drop_children(s, l);
    tcp_set_state(s, l, TCP_CLOSED, cause);
}

/* The descriptor is gone; free a block that has nothing left to do. */
static void tcp_release_if_closed(struct stack *s, struct tcp_conn *c)
{
    if (c->state != TCP_CLOSED)
        return;
    port_unref(s, c);
    conn_maybe_bury(s, c);
}

static bool tcp_state_can_reset(enum tcp_state st)
{
    return st == TCP_SYN_RECEIVED || st == TCP_ESTABLISHED || st == TCP_FIN_WAIT_1 ||
           st == TCP_FIN_WAIT_2 || st == TCP_CLOSE_WAIT || st == TCP_CLOSING || st == TCP_LAST_ACK;
}

int tcp_close(struct stack *s, uint64_t now, int sd)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    if (!c)
        return (int)call_done(s, sd, NULL, TCP_CALL_CLOSE, 0, -EBADF);
    fd_release(s, sd);
    if (c->listening) {
        tcp_close_listener(s, c, "close()");
    } else if (c->state == TCP_SYN_SENT) {
        /* "SYN-SENT: Delete the TCB and return "error: closing" responses" */
        tcp_set_state(s, c, TCP_CLOSED, "close()");
    } else if (tcp_state_can_reset(c->state) && (c->opt_linger0 || c->rcvq.len > 0)) {
        /* RFC 2525 §2.17: closing with data the application never read
         * loses that data; tell the peer with a RST instead of a FIN.
         * SO_LINGER {1, 0} asks for the same. */
        tcp_rst_abort(s, c);
        tcp_set_state(s, c, TCP_CLOSED,
                      c->opt_linger0 ? "close() with SO_LINGER 0" : "close() with unread data");
    } else {
        tcp_close_send_side(s, c, "close()");
        if (c->state == TCP_FIN_WAIT_2 && !tcp_timer_armed(c, TCP_TIMER_TIME_WAIT))
            tcp_timer_arm(s, c, TCP_TIMER_TIME_WAIT, s->now + 2 * s->cfg.msl_us);
        if (c->state == TCP_TIME_WAIT) {
            rbuf_release(s, &c->rcvq);
            tcp_tw_note(s, c); /* no descriptor now: a record at the end of the call */
        } else
            rbuf_consume(&c->rcvq, c->rcvq.len);
    }
    tcp_release_if_closed(s, c);
    /* The block may be on the graveyard: it is freed only after this. */
    return (int)call_done(s, sd, c, TCP_CALL_CLOSE, 0, 0);
}

/* ABORT: "SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT:
 * Send a reset segment ... enter CLOSED state"; in other states just
 * delete the TCB. */
int tcp_abort(struct stack *s, uint64_t now, int sd)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    if (!c)
        return (int)call_done(s, sd, NULL, TCP_CALL_ABORT, 0, -EBADF);
    fd_release(s, sd);
    if (c->listening) {
        tcp_close_listener(s, c, "abort()");
    } else if (c->state != TCP_CLOSED) {
        if (c->state == TCP_SYN_RECEIVED || c->state == TCP_ESTABLISHED ||
            c->state == TCP_FIN_WAIT_1 || c->state == TCP_FIN_WAIT_2 || c->state == TCP_CLOSE_WAIT)
            tcp_rst_abort(s, c);
        tcp_set_state(s, c, TCP_CLOSED, "abort()");
    }
    tcp_release_if_closed(s, c);
    return (int)call_done(s, sd, c, TCP_CALL_ABORT, 0, 0);
}

static int tcp_setsockopt_impl(struct stack *s, struct tcp_conn *c, enum tcp_sockopt opt,
                               long value)
{
    switch (opt) {
    case TCP_OPT_KEEPALIVE:
        c->opt_keepalive = value != 0;
        if (c->state != TCP_CLOSED && c->state != TCP_LISTEN)
            tcp_timer_arm_keepalive(s, c);
        return 0;
    case TCP_OPT_KEEPIDLE:
    case TCP_OPT_KEEPINTVL:
        if (value < 1 || value > 32767)
            return -EINVAL;
        if (opt == TCP_OPT_KEEPIDLE)
            c->ka_idle_us = (uint64_t)value * 1000000;
        else
            c->ka_intvl_us = (uint64_t)value * 1000000;
        if (opt == TCP_OPT_KEEPIDLE && tcp_timer_armed(c, TCP_TIMER_KEEPALIVE) && !c->ka_probes)
            tcp_timer_arm_keepalive(s, c);
        return 0;
    case TCP_OPT_KEEPCNT:
        if (value < 1 || value > 127)
            return -EINVAL;
        c->ka_cnt = (uint32_t)value;
        return 0;
    case TCP_OPT_NODELAY:
        c->opt_nodelay = value != 0;
        if (c->opt_nodelay)
            tcp_output(s, c); /* Linux pushes what Nagle was holding */
        return 0;
    case TCP_OPT_REUSEADDR:
        c->opt_reuseaddr = value != 0;
        return 0;
    case TCP_OPT_LINGER0:
        c->opt_linger0 = value != 0;
        return 0;
    case TCP_OPT_DELACK:
        c->opt_delack = value != 0;
        return 0;
    case TCP_OPT_SNDBUF:
    case TCP_OPT_RCVBUF:
        if (value < 1 || value > (1L << 30))
            return -EINVAL;
        if (c->state != TCP_CLOSED || c->listening || c->sndq.buf || c->rcvq.buf)
            return -EINVAL; /* sizes are fixed once the buffers exist */
        if (opt == TCP_OPT_SNDBUF)
            c->sndbuf = (uint32_t)value;
        else
            c->rcvbuf = (uint32_t)value;
        return 0;
    case TCP_OPT_SACK:
        if (c->state != TCP_CLOSED || c->listening)
            return -EINVAL; /* agreed in the SYNs: decide before them */
        c->opt_no_sack = value == 0;
        return 0;
    case TCP_OPT_TTL:
        if (value < 1 || value > 255)
            return -EINVAL;
        c->ip_ttl = (uint8_t)value;
        c->ack_tpl.len = 0; /* the bare ACK's template has the old one */
        return 0;
    case TCP_OPT_TOS:
        /* The Diffserv field may change during the connection (SHLD-21);
         * the two ECN bits stay 0: this stack does not do ECN (SHLD-8). */
        if (value < 0 || value > 255)
            return -EINVAL;
        c->ip_tos = (uint8_t)(value & 0xfc);
        c->ack_tpl.len = 0; /* the bare ACK's template has the old one */
        return 0;
    case TCP_OPT_USER_TIMEOUT:
        if (value < 0)
            return -EINVAL;
        c->user_timeout_us = (uint64_t)value * 1000;
        if (!value)
            tcp_timer_cancel(s, c, TCP_TIMER_USER);
        return 0;
    }
    return -EINVAL;
}

int tcp_setsockopt(struct stack *s, uint64_t now, int sd, enum tcp_sockopt opt, long value)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    int r = c ? tcp_setsockopt_impl(s, c, opt, value) : -EBADF;
    return (int)call_done(s, sd, c, TCP_CALL_SETSOCKOPT, (long)opt, r);
}

unsigned tcp_poll(const struct stack *s, int sd)
{
    const struct tcp_conn *c = fd_get(s, sd);
    if (!c)
        return 0;
    if (c->listening)
        return c->acc_head ? TCP_POLLIN : 0;
    unsigned ev = 0;
    bool pending_err = c->err && !c->err_taken;
    if (pending_err)
        ev |= TCP_POLLERR | TCP_POLLIN;
    if (tcp_urgent_pending(c))
        ev |= TCP_POLLPRI; /* RFC 9293 MUST-32: the application learns at once */
    if (c->rcvq.len > 0 || c->rcv_fin || c->shut_rd)
        ev |= TCP_POLLIN;
    switch (c->state) {
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
        if (!c->fin_queued && !c->close_pending && c->sndq.len < c->sndbuf)
            ev |= TCP_POLLOUT;
        break;
    case TCP_CLOSED:
        ev |= TCP_POLLHUP;
        /* A connection that ended (or a connect() that failed) is readable
         * and writable, as in Linux: recv() and send() return at once, with
         * the error. So "writable" alone does not mean "connected": a
         * program reads SO_ERROR to know which (tcp_so_error). */
        if (c->connected || c->err)
            ev |= TCP_POLLIN | TCP_POLLOUT;
        break;
    default:
        break;
    }
    if (c->rcv_fin && c->fin_queued)
        ev |= TCP_POLLHUP;
    return ev;
}

int tcp_so_error(struct stack *s, uint64_t now, int sd, int *err)
{
    s->now = now;
    struct tcp_conn *c = fd_get(s, sd);
    if (!c) {
        *err = 0;
        return (int)call_done(s, sd, NULL, TCP_CALL_GETSOCKOPT, 0, -EBADF);
    }
    *err = tcp_take_error(c);
    call_done(s, sd, c, TCP_CALL_GETSOCKOPT, 0, *err);
    return 0;
}

int tcp_status(const struct stack *s, int sd, struct tcp_status *out)
{
    const struct tcp_conn *c = fd_get(s, sd);
    if (!c)
        return -EBADF;
    conn_fill_status(s, c, out);
    return 0;
}
