/*
 * cmd_connect.c — `tcplab connect HOST PORT`: the stack as a client, like nc.
 *
 * stdin goes to the connection, the connection goes to stdout. At stdin's
 * EOF the stack half-closes (shutdown SHUT_WR: FIN) and keeps reading until
 * the peer's FIN. If the peer closes first, what is already read from stdin
 * is sent, then the stack closes its side too. The program ends once the
 * connection is CLOSED or in TIME_WAIT (our last ACK is sent; the TIME_WAIT
 * wait itself ends with the process, as the TUN device goes away).
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "netopts.h"

const struct cli_command connect_command = {
    .name = "connect",
    .synopsis = "[net options] HOST PORT",
    .summary = "Create the TUN device, put the tcplab stack at --addr (10.7.0.2), and connect\n"
               "it to HOST:PORT, normally the kernel's side, 10.7.0.1. Like nc: stdin is\n"
               "sent, what arrives goes to stdout; at stdin's end the stack half-closes and\n"
               "waits for the peer's FIN. Data that arrived before a RST is written out\n"
               "before the error is reported.",
    .groups = {{"net options", netopts_table}},
    .min_args = 2,
    .max_args = 2,
    .args_what = "give HOST and PORT, e.g. tcplab connect 10.7.0.1 5000",
    .epilogue =
        "examples:\n"
        "  nc -l 5000 &  echo hello | sudo tcplab connect 10.7.0.1 5000\n"
        "      (nc on every address: 10.7.0.1 exists only once tcplab has made the device)\n"
        "  sudo tcplab connect --syn-retries 2 10.7.0.1 9999     (no listener: refused)\n"
        "  sudo tcplab connect --gateway 10.7.0.1 10.8.0.2 5000  (a host the kernel routes to)\n"
        "\n"
        "exit status: 0 the conversation ended normally, 1 refused / reset / timed out\n"
        "(or the device could not be made), 2 bad usage.\n",
};

#define CONNECT_BUF 65536
#define CONNECT_STDIN_READS 16 /* reads of stdin per wake-up, at most */

struct conn_ctx {
    struct tun_loop *loop;
    struct netopts_sinks *sinks;
    struct stack *stack;
    int sd;
    bool connected;
    bool stdin_eof; /* stdin ended (or the peer closed: stop reading it) */
    bool shut_wr;   /* our FIN is queued */
    bool peer_fin;  /* the peer's FIN was read */
    int error;      /* the connection failed: -ECONNREFUSED ... */
    bool done;
    uint8_t out[CONNECT_BUF]; /* read from stdin, not yet accepted by the stack */
    size_t out_len, out_off;
    uint8_t in[CONNECT_BUF];
};

static const char *error_words(int err)
{
    switch (err) {
    case -ECONNREFUSED:
        return "connection refused (nothing listens on that port)";
    case -ECONNRESET:
        return "connection reset by the peer";
    case -ETIMEDOUT:
        return "connection timed out (no answer; is a firewall dropping it?)";
    case -EPIPE:
        return "stdout was closed, so the connection was aborted (RST sent)";
    default:
        return strerror(-err);
    }
}

static void read_stdin(void *ctx, int fd, short revents)
{
    struct conn_ctx *c = ctx;
    if (c->out_len > c->out_off)
        return;
    ssize_t n = read(fd, c->out, sizeof c->out);
    if (n > 0) {
        c->out_len = (size_t)n;
        c->out_off = 0;
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        c->stdin_eof = true;
    }
    (void)revents;
}

static bool write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* After each wake-up: move bytes both ways, notice the ends. */
static uint64_t connect_after(void *ctx, uint64_t now)
{
    struct conn_ctx *c = ctx;
    netopts_flush_sinks(c->sinks);
    if (c->done)
        return TCP_TIME_NEVER;
    unsigned ev = tcp_poll(c->stack, c->sd);
    struct tcp_status st;
    /* A failed connect (refused, timed out) shows as POLLIN|POLLERR: the
     * recv() below returns its error. */
    if (!c->connected) {
        if (!(ev & (TCP_POLLOUT | TCP_POLLERR)))
            return TCP_TIME_NEVER;
        c->connected = true;
    }
    /* The connection to stdout. After a RST (POLLERR), what arrived before
     * it is still in the receive queue: like Linux's recv() and nc, write all
     * of it out first; recv() returns the error once the queue is empty. */
    bool failed = (ev & TCP_POLLERR) != 0;
    for (int i = 0; (i < 64 || failed) && !c->peer_fin; i++) {
        /* Only calls that will do something: the trace shows every call. */
        if (!(tcp_poll(c->stack, c->sd) & (TCP_POLLIN | TCP_POLLERR | TCP_POLLHUP)))
            break;
        ssize_t n = tcp_recv(c->stack, now, c->sd, c->in, sizeof c->in);
        if (n == -EAGAIN)
            break;
        if (n < 0) {
            c->error = (int)n;
            c->done = true;
            tun_loop_stop(c->loop);
            return TCP_TIME_NEVER;
        }
        if (n == 0) {
            c->peer_fin = true;
            c->stdin_eof = true; /* the peer is done: send what we have, then close */
            break;
        }
        if (!write_all(STDOUT_FILENO, c->in, (size_t)n)) {
            /* Nobody reads our output any more: abort, as nc would die of SIGPIPE. */
            tcp_abort(c->stack, now, c->sd);
            c->error = -EPIPE;
            c->done = true;
            tun_loop_stop(c->loop);
            return TCP_TIME_NEVER;
        }
    }
    /* stdin to the connection. While the stack takes all that was read and
     * stdin has more (poll says a read would not block), read again, up to
     * CONNECT_STDIN_READS times per wake-up: a pipe gives at most 64 KB per
     * read, and a trip round the loop for each 64 KB cost a wake-up. */
    for (int reads = 0;;) {
        while (c->out_off < c->out_len && (tcp_poll(c->stack, c->sd) & TCP_POLLOUT)) {
            ssize_t n =
                tcp_send(c->stack, now, c->sd, c->out + c->out_off, c->out_len - c->out_off);
            if (n <= 0)
                break;
            c->out_off += (size_t)n;
        }
        if (c->out_off < c->out_len || c->stdin_eof || ++reads > CONNECT_STDIN_READS)
            break;
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        if (poll(&p, 1, 0) != 1)
            break;
        read_stdin(c, STDIN_FILENO, p.revents);
        if (c->out_off == c->out_len)
            break; /* nothing read: EOF or an error */
    }
    bool pending = c->out_off < c->out_len;
    tun_loop_set_fd_events(c->loop, STDIN_FILENO, (pending || c->stdin_eof) ? 0 : POLLIN);
    if (c->stdin_eof && !pending && !c->shut_wr) {
        tcp_shutdown(c->stack, now, c->sd, TCP_SHUT_WR);
        c->shut_wr = true;
    }
    if (c->peer_fin && c->shut_wr && tcp_status(c->stack, c->sd, &st) == 0 &&
        (st.state == TCP_CLOSED || st.state == TCP_TIME_WAIT)) {
        c->done = true;
        tun_loop_stop(c->loop);
    }
    return TCP_TIME_NEVER;
}

static int parse_target(const struct netopts *o, uint32_t *addr, uint16_t *port)
{
    if (wire_addr_parse(o->args[0], addr) < 0) {
        cli_usage_error(&connect_command, "bad HOST '%s': write an IPv4 address like 10.7.0.1",
                        o->args[0]);
        return -1;
    }
    /* Only the TUN subnet, unless --gateway gives the stack a default route:
     * then the kernel at the gateway routes the packets on, as for any host
     * behind a router. */
    if (!netopts_reachable(o, *addr)) {
        char k[16];
        uint32_t mask = ~0u << (32 - o->loop.dev.prefix_len);
        cli_usage_error(&connect_command,
                        "HOST %s is not on the TUN device's subnet (%s/%u): use the kernel's "
                        "address (normally 10.7.0.1), or give the stack a route with --gateway "
                        "10.7.0.1 for a host the kernel routes to",
                        o->args[0], wire_addr_str(o->loop.dev.kernel_addr & mask, k),
                        o->loop.dev.prefix_len);
        return -1;
    }
    char *end;
    errno = 0;
    long p = strtol(o->args[1], &end, 10);
    if (!isdigit((unsigned char)o->args[1][0]) || end == o->args[1] || *end || errno || p < 1 ||
        p > 65535) {
        cli_usage_error(&connect_command, "bad PORT '%s': give a number from 1 to 65535",
                        o->args[1]);
        return -1;
    }
    *port = (uint16_t)p;
    return 0;
}

int cmd_connect(int argc, char **argv)
{
    struct netopts o;
    netopts_defaults(&o);
    enum cli_result pr = netopts_parse(&o, argc, argv, &connect_command, (void *[]){&o});
    if (pr != CLI_OK)
        return cli_exit_status(pr);
    uint32_t addr;
    uint16_t port;
    if (parse_target(&o, &addr, &port) < 0)
        return EXIT_USAGE;

    struct netopts_sinks sinks;
    if (netopts_open_sinks(&o, &sinks, NULL, NULL) < 0)
        return EXIT_USAGE;
    struct conn_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        netopts_close_sinks(&sinks);
        return EXIT_NETWORK;
    }
    int err = 0;
    char msg[512];
    c->loop = tun_loop_new(&o.loop, &err, msg, sizeof msg);
    if (!c->loop) {
        /* The device's own message says `sudo tcplab listen`: name this command. */
        const char *lc = strstr(msg, "`sudo tcplab listen`");
        if (err == -EPERM && lc)
            fprintf(stderr, "tcplab connect: %.*s`sudo tcplab connect %s %s`%s\n", (int)(lc - msg),
                    msg, o.args[0], o.args[1], lc + strlen("`sudo tcplab listen`"));
        else
            fprintf(stderr, "tcplab connect: %s\n", msg);
        netopts_close_sinks(&sinks);
        free(c);
        return (err == -EEXIST || err == -EINVAL) ? EXIT_USAGE : EXIT_NETWORK;
    }
    netopts_sinks_anchor(&sinks, tun_loop_now(c->loop));
    c->stack = tun_loop_stack(c->loop);
    c->sinks = &sinks;
    uint64_t now = tun_loop_now(c->loop);
    c->sd = tcp_socket(c->stack, now);
    int rc = c->sd < 0 ? c->sd : tcp_connect(c->stack, now, c->sd, addr, port);
    if (rc < 0) {
        fprintf(stderr, "tcplab connect: cannot connect: %s\n", strerror(-rc));
        tun_loop_free(c->loop);
        netopts_close_sinks(&sinks);
        free(c);
        return EXIT_NETWORK;
    }
    /* A closed stdout must end the conversation with a RST and a message,
     * not kill us silently. */
    signal(SIGPIPE, SIG_IGN);
    tun_loop_add_fd(c->loop, STDIN_FILENO, POLLIN, read_stdin, c);
    tun_loop_set_after(c->loop, connect_after, c);

    rc = tun_loop_run(c->loop);

    int status = 0;
    char a[16];
    if (c->error) {
        fprintf(stderr, "tcplab connect: %s:%u: %s\n", wire_addr_str(addr, a), port,
                error_words(c->error));
        status = EXIT_NETWORK;
    } else if (rc == -ENODEV) {
        fprintf(stderr, "tcplab connect: interface %s disappeared (deleted?) — stopping\n",
                o.loop.dev.name);
        status = EXIT_NETWORK;
    } else if (!c->done) {
        /* Interrupted: tell the peer with a RST rather than vanish. */
        tcp_abort(c->stack, tun_loop_now(c->loop), c->sd);
        fprintf(stderr, "tcplab connect: interrupted; connection aborted (RST sent)\n");
        status = EXIT_NETWORK;
    }
    tun_loop_free(c->loop);
    netopts_close_sinks(&sinks);
    free(c);
    return status;
}
