/*
 * tun_loop.h — the real-time event loop: one tcplab stack on a TUN device.
 *
 * In docs/architecture.md's data flow this is the "link" when it is real: packets the
 * kernel routes to the stack's address come off the TUN device into
 * stack_input(); packets the stack sends go back into the device; timers
 * fire when stack_next_deadline() says. Time is CLOCK_MONOTONIC in
 * microseconds, counted from the moment the loop was created (so traces
 * start near t=0).
 *
 * Single-threaded and poll(2)-driven: each wake-up drains the TUN device
 * until EAGAIN (a batch), then runs due timers, then the caller's file
 * descriptors. When nothing is due it sleeps in poll(); after a wake-up that
 * read packets it first busy-polls for a few microseconds (spin_us).
 *
 * The loop can also watch the kernel's own sockets (kdiag.h) while
 * connections exist and report them as TEV_KERNEL events in the same stream.
 *
 * Used three ways: `tcplab listen` and `tcplab connect` (ui/cmd_*.c) call
 * tun_loop_run() until it returns; the scenario runner with --tun drives it
 * step by step with tun_loop_run_until() next to kernel sockets (kpeer.h).
 */
#ifndef TCPLAB_TUN_LOOP_H
#define TCPLAB_TUN_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../stack/event.h"
#include "../stack/tcp.h"
#include "tun_dev.h"

/* Called with every packet crossing the TUN device (dir TEV_IN: from the
 * kernel to the stack). For the pcap writer: it sees ICMP and dropped
 * packets too, not only TCP segments. */
typedef void (*tun_packet_fn)(void *ctx, uint64_t t_us, enum tev_dir dir, const uint8_t *pkt,
                              size_t len);

struct tun_loop_config {
    struct tun_dev_config dev; /* device name, kernel address/prefix, MTU */
    struct stack_config stack; /* the stack (addr, msl, syn_retries, mss, ...);
                                * output and on_event are filled in by the loop */
    tev_fn on_event;           /* every event: the stack's and the kernel's (may be NULL) */
    void *event_ctx;
    tun_packet_fn on_packet; /* every packet in and out (may be NULL) */
    void *packet_ctx;
    bool kernel_state;          /* report the kernel's sockets (TEV_KERNEL) */
    uint64_t kdiag_interval_us; /* how often while connections exist (100 ms) */
    bool watch_signals;         /* SIGINT/SIGTERM end tun_loop_run() with -EINTR */
    /* TUN offloads (true; --no-offload): the device is opened with a vnet
     * header and TUN_F_CSUM | TUN_F_TSO4, so the kernel may hand over one
     * 64 KB TCP segment instead of 44 of 1460 bytes, and checksums left
     * partial (completed here before anything looks at the packet). The
     * stack, the event stream and the pcap see the segment as it arrived. */
    bool offload;
    /* Busy-poll (TUN_LOOP_DEFAULT_SPIN_US; --busy-poll US, 0 = off): after
     * a wake-up that read packets, poll without sleeping for up to this
     * long before sleeping (adaptive, see tun_loop.c's loop_wait). Never on
     * a single CPU. */
    unsigned spin_us;
};
#define TUN_LOOP_DEFAULT_SPIN_US 50
/* Defaults: tl0, 10.7.0.1/24, MTU 1500, stack at 10.7.0.2 with MSS = MTU-40,
 * window scaling offered and accepted, send and receive buffers of
 * TUN_LOOP_DEFAULT_BUF, an ACK at least per two full-sized segments (no
 * stretch ACKs: stack_config.batch_ack_max 0), kernel state on, signals
 * watched. */
#define TUN_LOOP_DEFAULT_BUF (4u << 20)
void tun_loop_config_defaults(struct tun_loop_config *cfg);
/* Raise the offered window-scale shift so the whole receive buffer can be
 * offered (tun_loop_new() does this). */
void tun_loop_fit_wscale(struct stack_config *sc);

struct tun_loop;

/* Create the TUN device (tun_dev.h), the stack, and the loop. On failure
 * returns NULL, *err = negative errno, and a message (what happened and what
 * to do) in msg: -EPERM not permitted, -EEXIST name in use, ... */
struct tun_loop *tun_loop_new(const struct tun_loop_config *cfg, int *err, char *msg,
                              size_t msglen);
/* Frees the stack and removes the TUN device. */
void tun_loop_free(struct tun_loop *l);

struct stack *tun_loop_stack(struct tun_loop *l);
/* Microseconds since the loop was created (CLOCK_MONOTONIC). */
uint64_t tun_loop_now(const struct tun_loop *l);
/* Same, shaped for kpeer_config.clock (ctx is the struct tun_loop *). */
uint64_t tun_loop_clock(void *ctx);

/* Watch an extra file descriptor (stdin, stdout, a kernel socket, the UI's
 * keyboard). `fn` runs when poll() reports any of `events` (POLLIN /
 * POLLOUT) or an error on it. Returns 0 or -ENOSPC / -EEXIST. */
typedef void (*tun_fd_fn)(void *ctx, int fd, short revents);
int tun_loop_add_fd(struct tun_loop *l, int fd, short events, tun_fd_fn fn, void *ctx);
/* Change the events watched (0 = keep it registered but ignore it). */
int tun_loop_set_fd_events(struct tun_loop *l, int fd, short events);
void tun_loop_del_fd(struct tun_loop *l, int fd);

/* Called once after every wake-up (packets, timers, fds handled), for work
 * that follows up on them: serving connections, redrawing. It may return a
 * deadline (loop time) at which it wants to run again, or TCP_TIME_NEVER. */
typedef uint64_t (*tun_after_fn)(void *ctx, uint64_t now);
void tun_loop_set_after(struct tun_loop *l, tun_after_fn fn, void *ctx);

/* One wake-up: wait until a packet, a timer, an fd, or `limit` (loop time;
 * TCP_TIME_NEVER = no limit), and handle what came. Returns 0, or -EINTR
 * after tun_loop_stop() or a watched signal, or -ENODEV if the interface was
 * deleted under us, or another negative errno from the device. */
int tun_loop_step(struct tun_loop *l, uint64_t limit);

/* Step until `until` (loop time), or until pred(ctx) is true (checked before
 * waiting and after each wake-up; pred may be NULL). With a predicate, waits
 * are capped at 10 ms so conditions on kernel sockets are seen promptly.
 * Returns 1 if the predicate became true, 0 if time ran out, or the negative
 * errno of tun_loop_step(). */
int tun_loop_run_until(struct tun_loop *l, uint64_t until, bool (*pred)(void *ctx), void *ctx);

/* Step until tun_loop_stop(), a watched signal (-EINTR) or an error. */
int tun_loop_run(struct tun_loop *l);
/* Ask tun_loop_run() / tun_loop_step() to return -EINTR (safe in callbacks). */
void tun_loop_stop(struct tun_loop *l);
/* The signal that ended the loop (SIGINT, SIGTERM), or 0. */
int tun_loop_signal(const struct tun_loop *l);

/* Poll the kernel's sockets now (TEV_KERNEL events for what changed). */
void tun_loop_kernel_refresh(struct tun_loop *l);

/* Packets moved through the device, for tests and benchmarks. */
struct tun_loop_stats {
    uint64_t pkts_in, pkts_out, bytes_in, bytes_out;
    uint64_t wakeups;      /* poll() returns */
    uint64_t write_errors; /* packets the device refused (ENOBUFS, ...) */
    uint64_t gso_in;       /* super-packets received (offload on) */
    uint64_t gso_out;      /* super-packets sent for the kernel to cut (offload on) */
    uint64_t vnet_drops;   /* packets whose vnet header did not match them */
    uint64_t spin_hits;    /* busy-polls that found something to do */
    uint64_t spin_misses;  /* busy-polls that ended in a sleep */
    uint64_t spin_us;      /* time spent busy-polling (CPU burnt waiting) */
};
void tun_loop_get_stats(const struct tun_loop *l, struct tun_loop_stats *out);

#endif
