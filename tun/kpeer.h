/*
 * kpeer.h — the kernel peer: real Linux TCP sockets driven step by step.
 *
 * In docs/architecture.md's data flow this is the "peer" box when a scenario runs with
 * --tun: instead of a second tcplab stack, the other end is the kernel's own
 * TCP, reached through the TUN device (tun/tun_loop.h). The scenario runner
 * makes socket calls here exactly as it makes them on a stack (tcp.h), and
 * each call is reported as a TEV_CALL event, so the ladder diagram shows
 * "accept() -> 1" or "close()" on the kernel's side of the timeline.
 *
 * Sockets are non-blocking and live in the caller's network namespace. They
 * are named by small handles (0, 1, 2, ...), not file descriptors, so traces
 * read the same from run to run. Every call returns a negative errno on
 * failure (-EAGAIN, -EINPROGRESS is never returned: connect returns 0 and the
 * outcome shows later in kpeer_poll() / kpeer_error(), as tcp_connect() does).
 *
 * The kernel's view of its sockets (TCP_INFO here, sock_diag in kdiag.h)
 * uses tcplab's state names: see kdiag_state_from_linux().
 */
#ifndef TCPLAB_KPEER_H
#define TCPLAB_KPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../stack/event.h"
#include "../stack/tcp.h"

#define KPEER_MAX_SOCKETS 256

struct kpeer_config {
    const char *host; /* name in TEV_CALL events ("server"); must outlive the kpeer */
    tev_fn on_event;  /* receives one TEV_CALL per call (may be NULL) */
    void *event_ctx;
    /* The clock used to stamp events, in the same time base as the stack's
     * `now` (tun_loop_now() for a TUN run). NULL: CLOCK_MONOTONIC in us. */
    uint64_t (*clock)(void *ctx);
    void *clock_ctx;
};

struct kpeer;

struct kpeer *kpeer_new(const struct kpeer_config *cfg);
/* Closes every socket still open (plainly, no RST) and frees. */
void kpeer_free(struct kpeer *k);

/* socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK): returns a handle >= 0. */
int kpeer_socket(struct kpeer *k);
/* socket(AF_INET, SOCK_DGRAM|SOCK_NONBLOCK): a UDP socket's handle. bind,
 * close, poll and the handle's fd serve it as they serve TCP's. */
int kpeer_socket_udp(struct kpeer *k);
/* sendto(): one datagram to addr:port; bytes sent or a negative errno. */
ssize_t kpeer_sendto(struct kpeer *k, int h, uint32_t addr, uint16_t port, const void *buf,
                     size_t len);
/* recvfrom(): one datagram (cut to len), or -EAGAIN; the event carries the
 * sender as the tuple's remote end. */
ssize_t kpeer_recvfrom(struct kpeer *k, int h, void *buf, size_t len);
/* bind to addr:port (host order; addr 0 = any, port 0 = ephemeral). */
int kpeer_bind(struct kpeer *k, int h, uint32_t addr, uint16_t port);
int kpeer_listen(struct kpeer *k, int h, int backlog);
/* A new handle for a completed connection, or -EAGAIN. `tuple` (may be
 * NULL) receives the connection from the kernel's point of view. */
int kpeer_accept(struct kpeer *k, int h, struct tcp_tuple *tuple);
/* Non-blocking connect: 0 when under way (or done); the result shows later
 * in kpeer_poll() (TCP_POLLOUT or TCP_POLLERR) and kpeer_error(). */
int kpeer_connect(struct kpeer *k, int h, uint32_t addr, uint16_t port);
/* Bytes queued, or -EAGAIN, -EPIPE, -ECONNRESET, ... (never raises SIGPIPE). */
ssize_t kpeer_send(struct kpeer *k, int h, const void *buf, size_t len);
/* Bytes read, 0 at end of stream (the peer's FIN), -EAGAIN if nothing yet. */
ssize_t kpeer_recv(struct kpeer *k, int h, void *buf, size_t len);
int kpeer_shutdown(struct kpeer *k, int h, enum tcp_shut how);
/* close(): an orderly FIN (or RST if unread data is pending, as Linux does).
 * The handle is released. */
int kpeer_close(struct kpeer *k, int h);
/* Abortive close: SO_LINGER {1, 0} then close(), so the kernel sends RST. */
int kpeer_abort(struct kpeer *k, int h);
/* The options of enum tcp_sockopt that map onto the kernel's:
 * KEEPALIVE, KEEPIDLE, KEEPINTVL, KEEPCNT (seconds / count), NODELAY,
 * REUSEADDR, LINGER0, SNDBUF, RCVBUF, USER_TIMEOUT (ms). DELACK 0 maps to
 * TCP_QUICKACK. Others: -ENOPROTOOPT. */
int kpeer_setsockopt(struct kpeer *k, int h, enum tcp_sockopt opt, long value);

/* fcntl(F_SETFL, O_NONBLOCK), reported as a call. Every kpeer socket is
 * non-blocking already (the runner makes a scenario's calls block); this is
 * the call a non-blocking program makes, so it is shown where it makes it. */
int kpeer_nonblock(struct kpeer *k, int h);
/* getsockopt(SO_ERROR), reported as a call: *err is the pending error as a
 * negative errno, or 0; reading it clears it. Returns 0 or a negative errno. */
int kpeer_so_error(struct kpeer *k, int h, int *err);

/* Readiness now, as TCP_POLLIN | TCP_POLLOUT | TCP_POLLERR | TCP_POLLHUP
 * (poll(2) with a zero timeout); 0 for an unknown handle. Not an event. */
unsigned kpeer_poll(const struct kpeer *k, int h);
/* The socket's state from TCP_INFO, mapped to enum tcp_state (>= 0), or a
 * negative errno. Not an event. */
int kpeer_state(const struct kpeer *k, int h);
/* SO_ERROR: the pending error as a negative errno (-ECONNREFUSED, ...), 0 if
 * none. Reading it clears it, as in the kernel. Emits no event. */
int kpeer_error(struct kpeer *k, int h);
/* The connection's tuple from the kernel's point of view (getsockname /
 * getpeername); 0 or a negative errno. */
int kpeer_tuple(const struct kpeer *k, int h, struct tcp_tuple *out);

/* The file descriptor behind a handle (to wait on it with
 * tun_loop_add_fd()), or -1. Do not close it yourself. */
int kpeer_fd(const struct kpeer *k, int h);

#endif
