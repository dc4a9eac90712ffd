/*
 * bench_tun_server.c — `tcplab listen` with a meter: the same loop and
 * services, plus a line of counters on stdout every --every seconds, for the
 * memory benchmark (bench/tun_memory.sh).
 *
 *   stats t=SECONDS conns=N time_wait=N heap=BYTES rss_kb=N hwm_kb=N accepted=N
 *         wakeups=N pkts_in=N pkts_out=N
 *
 * heap is glibc's count of bytes in use by malloc (mallinfo2().uordblks):
 * after a baseline is subtracted it is the engine's (and the services')
 * memory, independent of how the allocator maps pages.
 *
 * usage: bench_tun_server [net options] [--every SECONDS] [PORT[:SERVICE]]...
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tun/services.h"
#include "netopts.h"

struct meter {
    struct tun_loop *loop;
    struct svc_server *svc;
    uint64_t every_us, next;
};

static void meter_ready(void *ctx, int sd, const struct tev *state)
{
    struct meter *m = ctx;
    if (m->svc)
        svc_ready(m->svc, sd, state);
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen)) {
            v = atol(line + klen);
            break;
        }
    fclose(f);
    return v;
}

static void print_stats(struct meter *m, uint64_t now)
{
    struct stack_stats st;
    stack_get_stats(tun_loop_stack(m->loop), &st);
    struct svc_stats sv = {0};
    if (m->svc)
        svc_get_stats(m->svc, &sv);
    struct mallinfo2 mi = mallinfo2();
    struct tun_loop_stats ls;
    tun_loop_get_stats(m->loop, &ls);
    printf("stats t=%.3f conns=%llu time_wait=%llu heap=%zu rss_kb=%ld hwm_kb=%ld accepted=%llu "
           "wakeups=%llu pkts_in=%llu pkts_out=%llu\n",
           (double)now / 1e6, (unsigned long long)st.conns_active,
           (unsigned long long)st.conns_time_wait, mi.uordblks, status_kb("VmRSS:"),
           status_kb("VmHWM:"), (unsigned long long)sv.accepted, (unsigned long long)ls.wakeups,
           (unsigned long long)ls.pkts_in, (unsigned long long)ls.pkts_out);
    fflush(stdout);
}

static uint64_t meter_after(void *ctx, uint64_t now)
{
    struct meter *m = ctx;
    uint64_t next = svc_run(m->svc, now);
    if (now >= m->next) {
        print_stats(m, now);
        m->next = now + m->every_us;
    }
    return next < m->next ? next : m->next;
}

struct server_args {
    double every; /* seconds between meter lines */
};

static const struct cli_opt server_opts[] = {
    CLI_DOUBLE("every", 0, struct server_args, every, "S", 0.01, 3600,
               "seconds between meter lines (0.5)"),
    CLI_END,
};

static const struct cli_command server_command = {
    .name = "bench_tun_server",
    .synopsis = "[net options] [--every S] [PORT[:SERVICE]]...",
    .summary = "tcplab listen's services with a meter of wake-ups and packets (bench/).",
    .groups = {{NULL, server_opts}, {"net options", netopts_table}},
    .max_args = 16,
};

int main(int argc, char **argv)
{
    struct server_args a = {.every = 0.5};
    struct netopts o;
    netopts_defaults(&o);
    enum cli_result pr = netopts_parse(&o, argc, argv, &server_command, (void *[]){&a, &o});
    if (pr != CLI_OK)
        return cli_exit_status(pr);
    double every = a.every;
    struct svc_spec specs[16];
    size_t n = 0;
    for (int i = 0; i < o.nargs; i++) {
        char msg[200];
        if (svc_spec_parse(o.args[i], &specs[n++], msg, sizeof msg) < 0) {
            fprintf(stderr, "bench_tun_server: %s\n", msg);
            return 2;
        }
    }
    if (n == 0)
        n = svc_default_specs(specs, 16);
    struct meter m = {.every_us = (uint64_t)(every * 1e6)};
    o.loop.stack.on_ready = meter_ready;
    o.loop.stack.ready_ctx = &m;
    o.loop.kernel_state = false;
    int err;
    char msg[512];
    m.loop = tun_loop_new(&o.loop, &err, msg, sizeof msg);
    if (!m.loop) {
        fprintf(stderr, "bench_tun_server: %s\n", msg);
        return 1;
    }
    print_stats(&m, 0); /* the baseline, before any connection */
    m.svc = svc_new(tun_loop_stack(m.loop), tun_loop_now(m.loop), specs, n, &err);
    if (!m.svc) {
        fprintf(stderr, "bench_tun_server: cannot listen: %s\n", strerror(-err));
        return 1;
    }
    tun_loop_set_after(m.loop, meter_after, &m);
    int rc = tun_loop_run(m.loop);
    print_stats(&m, tun_loop_now(m.loop));
    svc_free(m.svc);
    tun_loop_free(m.loop);
    return rc == -EINTR ? 0 : 1;
}
