/*
 * ktrace.h — every state change of the kernel's TCP sockets, as the kernel
 * makes it: the sock:inet_sock_set_state tracepoint, read through tracefs.
 *
 * kdiag.h samples the kernel's sockets (sock_diag) and can miss a state
 * that lasts less than one look — a FIN_WAIT_1 left as soon as the stack's
 * ACK arrives — and then says "(passed through FIN_WAIT_1, not observed)".
 * The tracepoint fires on each change, in the kernel, with the old and the
 * new state, so nothing is passed unseen. This module makes a tracefs
 * instance of its own (its own buffer, removed at the end; the machine's
 * tracing is not touched), enables the one event there for TCP/IPv4, and
 * turns each line of the instance's trace_pipe into a TEV_KERNEL event
 * (`traced` set), stamped when it is read (as sock_diag's samples are, so
 * the stream's times never go back; the caller reads right after each
 * packet it hands the kernel, so that is the moment of the change).
 *
 * The tracepoint is machine-wide and has no network namespace, so the
 * instance records only the changes made in this process (set_event_pid):
 * those of its socket calls and of the packets it writes to the TUN device,
 * which the kernel handles before the write returns. Another process's
 * connections, in any namespace, never reach it. Lines are then kept only
 * when the connection is between the kernel's address and the stack's and
 * the caller's `mine` says the ports are its own. What is left to
 * sock_diag: changes made by the kernel's own timers (in no process of
 * ours), the move into TIME_WAIT (it shows as FIN_WAIT2 -> CLOSE: the
 * socket is handed to a timewait socket), and a socket still unbound
 * (CLOSE -> SYN_SENT, port 0).
 *
 * Needs root and tracefs (mounted at /sys/kernel/tracing, or mountable:
 * then it is mounted in a private mount namespace of this process). When
 * it cannot be had, ktrace_open() says why and the caller samples.
 */
#ifndef TCPLAB_KTRACE_H
#define TCPLAB_KTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../stack/event.h"

struct ktrace;

struct ktrace_config {
    uint32_t kernel_addr, stack_addr; /* host order */
    const char *host;                 /* host name of the events ("kernel") */
    tev_fn on_event;
    void *event_ctx;
    /* Is this connection (from the kernel's point of view) one of ours? */
    bool (*mine)(void *ctx, const struct tcp_tuple *t);
    void *mine_ctx;
};

/* NULL with a reason in why when tracefs or the tracepoint cannot be used. */
struct ktrace *ktrace_open(const struct ktrace_config *cfg, char *why, size_t cap);
/* Read what the kernel has written and report it, stamped `now` (the
 * caller's clock). Returns the events reported, or a negative errno. */
int ktrace_poll(struct ktrace *kt, uint64_t now);
/* Disable the event, remove the instance, free. */
void ktrace_close(struct ktrace *kt);

/* One line of the trace as the kernel writes it for sock:inet_sock_set_state:
 * the fields this module needs, or false when it is not such a line. */
struct ktrace_line {
    uint64_t ts_us;         /* the line's timestamp (the instance's clock is CLOCK_MONOTONIC) */
    struct tcp_tuple t;     /* saddr/sport as local, daddr/dport as remote */
    int oldstate, newstate; /* Linux's TCP_* numbers (1 ESTABLISHED ... 12 NEW_SYN_RECV) */
};
bool ktrace_parse_line(const char *line, struct ktrace_line *out);

#endif
