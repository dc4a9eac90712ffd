/*
 * test_kpeer_loop.c — the API a `--tun` scenario run uses, exercised for
 * real: tun_loop driven step by step (run until a predicate) with kernel
 * sockets from kpeer on the other side. Run inside a private network
 * namespace by netns-run.sh (see CMakeLists.txt).
 *
 * Each test_* function sets up a fresh loop and checks one behaviour; the
 * program exits 0 if all hold, 1 otherwise, 77 if no TUN device is allowed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpeer.h"
#include "tun_loop.h"

#define KERNEL 0x0a070001u
#define STACK  0x0a070002u
#define SECOND 1000000u

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, __func__, #cond); \
            failures++;                                                                            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

struct world {
    struct tun_loop *loop;
    struct stack *stack;
    struct kpeer *kp;
    unsigned calls_by_server;   /* TEV_CALL events from the kernel peer */
    bool kernel_time_wait_seen; /* a TEV_KERNEL in TIME_WAIT for port 5000 */
    int sd, h;                  /* predicate arguments */
};

static void on_event(void *ctx, const struct tev *ev)
{
    struct world *w = ctx;
    if (ev->kind == TEV_CALL && ev->host && !strcmp(ev->host, "server"))
        w->calls_by_server++;
    if (ev->kind == TEV_KERNEL && ev->u.kernel.state == TCP_TIME_WAIT &&
        (ev->tuple.lport == 5000 || ev->tuple.rport == 5000))
        w->kernel_time_wait_seen = true;
}

static int world_open(struct world *w)
{
    memset(w, 0, sizeof *w);
    struct tun_loop_config cfg;
    tun_loop_config_defaults(&cfg);
    cfg.on_event = on_event;
    cfg.event_ctx = w;
    cfg.watch_signals = false;
    cfg.stack.msl_us = SECOND / 2;
    int err;
    char msg[512];
    w->loop = tun_loop_new(&cfg, &err, msg, sizeof msg);
    if (!w->loop) {
        fprintf(stderr, "cannot set up the TUN loop: %s\n", msg);
        return err == -EPERM ? 77 : 1;
    }
    w->stack = tun_loop_stack(w->loop);
    struct kpeer_config kc = {.host = "server",
                              .on_event = on_event,
                              .event_ctx = w,
                              .clock = tun_loop_clock,
                              .clock_ctx = w->loop};
    w->kp = kpeer_new(&kc);
    return w->kp ? 0 : 1;
}

static void world_close(struct world *w)
{
    kpeer_free(w->kp);
    tun_loop_free(w->loop);
}

static uint64_t within(struct world *w, double s)
{
    return tun_loop_now(w->loop) + (uint64_t)(s * SECOND);
}

static bool kernel_readable(void *ctx)
{
    struct world *w = ctx;
    return kpeer_poll(w->kp, w->h) & (TCP_POLLIN | TCP_POLLERR);
}

static bool kernel_connect_done(void *ctx)
{
    struct world *w = ctx;
    return kpeer_poll(w->kp, w->h) & (TCP_POLLOUT | TCP_POLLERR);
}

static bool stack_readable(void *ctx)
{
    struct world *w = ctx;
    return tcp_poll(w->stack, w->sd) & (TCP_POLLIN | TCP_POLLERR);
}

static bool kernel_in_time_wait(void *ctx)
{
    struct world *w = ctx;
    return w->kernel_time_wait_seen;
}

/* The stack connects to a kernel listener; bytes go both ways; the kernel
 * closes first and sock_diag shows its socket in TIME_WAIT. */
static void test_stack_client_kernel_server_kernel_closes_first(void)
{
    struct world w;
    int rc = world_open(&w);
    if (rc == 77)
        exit(77);
    CHECK(rc == 0);
    int l = kpeer_socket(w.kp);
    CHECK(l >= 0);
    CHECK(kpeer_setsockopt(w.kp, l, TCP_OPT_REUSEADDR, 1) == 0);
    CHECK(kpeer_bind(w.kp, l, KERNEL, 5000) == 0);
    CHECK(kpeer_listen(w.kp, l, 4) == 0);
    uint64_t now = tun_loop_now(w.loop);
    w.sd = tcp_socket(w.stack, now);
    CHECK(tcp_connect(w.stack, now, w.sd, KERNEL, 5000) == 0);
    w.h = l;
    CHECK(tun_loop_run_until(w.loop, within(&w, 3), kernel_readable, &w) == 1);
    struct tcp_tuple t;
    int c = kpeer_accept(w.kp, l, &t);
    CHECK(c >= 0);
    CHECK(t.laddr == KERNEL && t.lport == 5000 && t.raddr == STACK);
    CHECK(kpeer_state(w.kp, c) == TCP_ESTABLISHED);
    CHECK(tcp_send(w.stack, tun_loop_now(w.loop), w.sd, "hi", 2) == 2);
    w.h = c;
    CHECK(tun_loop_run_until(w.loop, within(&w, 3), kernel_readable, &w) == 1);
    char buf[16];
    CHECK(kpeer_recv(w.kp, c, buf, sizeof buf) == 2 && !memcmp(buf, "hi", 2));
    CHECK(kpeer_recv(w.kp, c, buf, sizeof buf) == -EAGAIN);
    CHECK(kpeer_send(w.kp, c, "yo!", 3) == 3);
    CHECK(tun_loop_run_until(w.loop, within(&w, 3), stack_readable, &w) == 1);
    CHECK(tcp_recv(w.stack, tun_loop_now(w.loop), w.sd, buf, sizeof buf) == 3);
    CHECK(kpeer_close(w.kp, c) == 0);
    CHECK(tun_loop_run_until(w.loop, within(&w, 3), stack_readable, &w) == 1);
    CHECK(tcp_recv(w.stack, tun_loop_now(w.loop), w.sd, buf, sizeof buf) == 0);
    CHECK(tcp_close(w.stack, tun_loop_now(w.loop), w.sd) == 0);
    CHECK(tun_loop_run_until(w.loop, within(&w, 3), kernel_in_time_wait, &w) == 1);
    CHECK(w.calls_by_server >= 8);
    world_close(&w);
}

/* A kernel client connecting to a port nobody serves on the stack gets
 * ECONNREFUSED through kpeer_error(). */
static void test_kernel_connect_to_unserved_port_is_refused(void)
{
    struct world w;
    CHECK(world_open(&w) == 0);
    w.h = kpeer_socket(w.kp);
    CHECK(kpeer_connect(w.kp, w.h, STACK, 5555) == 0);
    CHECK(tun_loop_run_until(w.loop, within(&w, 3), kernel_connect_done, &w) == 1);
    CHECK(kpeer_error(w.kp, w.h) == -ECONNREFUSED);
    world_close(&w);
}

/* kpeer_abort() sends RST: the stack's connection fails with ECONNRESET. */
static void test_kernel_abort_resets_stack_connection(void)
{
    struct world w;
    CHECK(world_open(&w) == 0);
    uint64_t now = tun_loop_now(w.loop);
    int ls = tcp_socket(w.stack, now);
    CHECK(tcp_bind(w.stack, now, ls, 7) == 0);
    CHECK(tcp_listen(w.stack, now, ls, 4) == 0);
    w.h = kpeer_socket(w.kp);
    CHECK(kpeer_connect(w.kp, w.h, STACK, 7) == 0);
    CHECK(tun_loop_run_until(w.loop, within(&w, 3), kernel_connect_done, &w) == 1);
    CHECK(kpeer_error(w.kp, w.h) == 0);
    w.sd = ls;
    CHECK(tun_loop_run_until(w.loop, within(&w, 3), stack_readable, &w) == 1);
    w.sd = tcp_accept(w.stack, tun_loop_now(w.loop), ls, NULL);
    CHECK(w.sd >= 0);
    CHECK(kpeer_abort(w.kp, w.h) == 0);
    CHECK(tun_loop_run_until(w.loop, within(&w, 3), stack_readable, &w) == 1);
    char buf[4];
    CHECK(tcp_recv(w.stack, tun_loop_now(w.loop), w.sd, buf, sizeof buf) == -ECONNRESET);
    world_close(&w);
}

int main(void)
{
    test_stack_client_kernel_server_kernel_closes_first();
    test_kernel_connect_to_unserved_port_is_refused();
    test_kernel_abort_resets_stack_connection();
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("PASS test_kpeer_loop\n");
    return failures ? 1 : 0;
}
