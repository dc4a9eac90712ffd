/*
 * cmd_demo.c — `tcplab demo`: a whole TCP connection between two stacks on
 * the virtual link, printed as the text trace.
 *
 * The smallest complete story tcplab can tell, with nothing to set up: a
 * server stack listens on 8080, a client stack connects (three-way
 * handshake), sends one line, the server echoes it, the client closes first
 * and the server follows (four-way teardown), and the client's TIME_WAIT runs
 * out its 2*MSL — in virtual time, so instantly. Every event goes through the
 * same renderers as everywhere else (ui/render/trace.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tcp.h"
#include "vlink.h"
#include "commands.h"
#include "trace.h"

#define DEMO_PORT        8080
#define DEMO_CLIENT_ADDR 0x0a070002u /* 10.7.0.2 */
#define DEMO_SERVER_ADDR 0x0a070001u /* 10.7.0.1 */
#define DEMO_MESSAGE     "hello, tcplab\n"
/* Generous bounds so a misbehaving engine ends the demo instead of hanging. */
#define DEMO_MAX_STEPS   100000ul
#define DEMO_MAX_WAIT_US (600ull * 1000 * 1000)

struct demo_args {
    const char *trace, *pcap;
    long seed;
    bool quiet;
};

static const struct cli_opt demo_opts[] = {
    CLI_OUTPUT("trace", 0, struct demo_args, trace, "FILE",
               "also write the events as JSON Lines ('-': stdout)"),
    CLI_OUTPUT("pcap", 0, struct demo_args, pcap, "FILE",
               "also write every packet, for Wireshark ('-': stdout)"),
    CLI_LONG("seed", 0, struct demo_args, seed, "N", 1, UINT32_MAX,
             "seed for the link and the initial sequence numbers (1)"),
    CLI_FLAG("quiet", 'q', struct demo_args, quiet, "no text trace"),
    CLI_END,
};

const struct cli_command demo_command = {
    .name = "demo",
    .synopsis = "[--trace FILE] [--pcap FILE] [--seed N] [--quiet]",
    .summary = "Two stacks on the virtual link: the client (10.7.0.2) connects to the server\n"
               "(10.7.0.1) on port 8080, sends \"hello, tcplab\", the server echoes it, the\n"
               "client closes first, then the server; the client's TIME_WAIT (2*MSL) passes\n"
               "in virtual time. Every event is printed as the text trace (on stderr when\n"
               "--trace or --pcap writes to stdout).",
    .groups = {{NULL, demo_opts}},
    .max_args = 0,
};

struct demo {
    struct vlink *link;
    int client, server; /* host indexes */
    struct stack *cs, *ss;
};

/* The seed also keys the ISN hash (RFC 6528), so another seed shows other
 * initial sequence numbers; splitmix64 spreads it over the 16 key bytes. */
static void key_from_seed(uint64_t seed, uint8_t key[16])
{
    for (int i = 0; i < 16; i += 8) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        memcpy(key + i, &z, 8);
    }
}

static int add_host(struct demo *d, const char *name, uint32_t addr, uint64_t seed)
{
    struct stack_config cfg;
    stack_config_defaults(&cfg);
    cfg.name = name;
    cfg.addr = addr;
    key_from_seed(seed, cfg.isn_key);
    return vlink_add_host(d->link, &cfg);
}

/* A condition the demo waits for, checked after every step of the link. */
typedef bool (*demo_cond)(struct demo *d, void *arg);

static bool run_until(struct demo *d, demo_cond cond, void *arg)
{
    uint64_t give_up = vlink_now(d->link) + DEMO_MAX_WAIT_US;
    for (unsigned long steps = 0; steps < DEMO_MAX_STEPS; steps++) {
        if (cond(d, arg))
            return true;
        if (!vlink_step(d->link, give_up))
            return cond(d, arg);
    }
    return false;
}

/* Like a blocking socket call: wait (without calling, so the trace shows no
 * EAGAIN attempts) until tcp_poll() reports one of `events` on sd. */
struct poll_wait {
    struct stack *s;
    int sd;
    unsigned events;
};

static bool cond_poll(struct demo *d, void *arg)
{
    const struct poll_wait *w = arg;
    return tcp_poll(w->s, w->sd) & (w->events | TCP_POLLERR | TCP_POLLHUP);
}

static bool wait_for(struct demo *d, struct stack *s, int sd, unsigned events)
{
    struct poll_wait w = {.s = s, .sd = sd, .events = events};
    return run_until(d, cond_poll, &w);
}

/* Blocking-style read of exactly `len` bytes; false on EOF or error first. */
static bool read_exactly(struct demo *d, struct stack *s, int sd, char *buf, size_t len)
{
    size_t have = 0;
    while (have < len) {
        if (!wait_for(d, s, sd, TCP_POLLIN))
            return false;
        ssize_t got = tcp_recv(s, vlink_now(d->link), sd, buf + have, len - have);
        if (got <= 0)
            return false;
        have += (size_t)got;
    }
    return true;
}

static bool cond_all_closed(struct demo *d, void *arg)
{
    struct stack_stats cst, sst;
    stack_get_stats(d->cs, &cst);
    stack_get_stats(d->ss, &sst);
    return cst.conns_active == 0 && sst.conns_active == 0;
}

/* Both stacks report every packet, once sent and once received; a capture
 * of the wire holds each packet once, as it was sent (lost ones included,
 * as a capture at the sender would show them). */
static void pcap_on_the_wire(void *ctx, const struct tev *ev)
{
    if (ev->kind == TEV_SEGMENT && ev->u.seg.dir == TEV_OUT)
        pcap_out_packet(ctx, ev->t_us, ev->u.seg.raw, ev->u.seg.raw_len);
}

static int fail(const char *what, long err)
{
    fprintf(stderr, "tcplab demo: %s%s%s\n", what, err ? ": " : "", err ? strerror((int)-err) : "");
    return EXIT_NETWORK;
}

/* The story itself; the trace is printed by the link's event sink. */
static int demo_run(struct demo *d)
{
    uint64_t now = vlink_now(d->link);
    int lsd = tcp_socket(d->ss, now);
    int rc = lsd < 0 ? lsd : tcp_bind(d->ss, now, lsd, DEMO_PORT);
    if (rc >= 0)
        rc = tcp_listen(d->ss, now, lsd, 4);
    if (rc < 0)
        return fail("the server could not listen on port 8080", rc);

    int csd = tcp_socket(d->cs, now);
    if (csd < 0)
        return fail("the client could not create a socket", csd);
    rc = tcp_connect(d->cs, now, csd, DEMO_SERVER_ADDR, DEMO_PORT);
    if (rc < 0)
        return fail("connect failed", rc);
    if (!wait_for(d, d->cs, csd, TCP_POLLOUT) || (tcp_poll(d->cs, csd) & TCP_POLLERR))
        return fail("the handshake did not complete", 0);

    if (!wait_for(d, d->ss, lsd, TCP_POLLIN))
        return fail("the server saw no connection to accept", 0);
    int conn = tcp_accept(d->ss, vlink_now(d->link), lsd, NULL);
    if (conn < 0)
        return fail("accept failed", conn);
    /* A one-connection server: the accepted socket is a new one, so the
     * listening socket can go while the connection carries on. */
    tcp_close(d->ss, vlink_now(d->link), lsd);

    const size_t len = strlen(DEMO_MESSAGE);
    char buf[sizeof DEMO_MESSAGE];
    ssize_t sent = tcp_send(d->cs, vlink_now(d->link), csd, DEMO_MESSAGE, len);
    if (sent != (ssize_t)len)
        return fail("the client could not send", sent < 0 ? sent : 0);
    if (!read_exactly(d, d->ss, conn, buf, len))
        return fail("the server did not receive the message", 0);
    sent = tcp_send(d->ss, vlink_now(d->link), conn, buf, len);
    if (sent != (ssize_t)len)
        return fail("the server could not echo", sent < 0 ? sent : 0);
    if (!read_exactly(d, d->cs, csd, buf, len) || memcmp(buf, DEMO_MESSAGE, len) != 0)
        return fail("the echo did not come back", 0);

    /* The client closes first: it will be the one in TIME_WAIT. The server
     * reads end of stream (recv() = 0), then closes too. */
    tcp_close(d->cs, vlink_now(d->link), csd);
    if (!wait_for(d, d->ss, conn, TCP_POLLIN) ||
        (rc = (int)tcp_recv(d->ss, vlink_now(d->link), conn, buf, sizeof buf)) != 0)
        return fail("the server did not see the client's FIN", rc < 0 ? rc : 0);
    tcp_close(d->ss, vlink_now(d->link), conn);

    if (!run_until(d, cond_all_closed, NULL))
        return fail("the connection did not finish closing", 0);
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    struct demo_args a = {.seed = 1};
    struct cli_parsed p;
    enum cli_result pr = cli_parse(&demo_command, argc, argv, (void *[]){&a}, &p);
    if (pr != CLI_OK)
        return cli_exit_status(pr);
    if (cli_is_stdout(a.trace) && cli_is_stdout(a.pcap))
        return cli_usage_error(&demo_command,
                               "--pcap and --trace cannot both write to standard output ('-')");
    const char *trace_path = a.trace, *pcap_path = a.pcap;
    uint64_t seed = (uint64_t)a.seed;
    /* The program's own lines go where the text trace goes. */
    FILE *out = cli_is_stdout(a.trace) || cli_is_stdout(a.pcap) ? stderr : stdout;

    struct tev_fanout sinks = {0};
    struct trace_text text;
    trace_text_init(&text, out, true);
    if (!a.quiet)
        tev_fanout_add(&sinks, trace_text_event, &text);

    FILE *json = NULL;
    if (trace_path) {
        json = cli_open_output(trace_path, "w");
        if (!json) {
            fprintf(stderr, "tcplab demo: cannot write the trace to %s: %s\n", trace_path,
                    strerror(errno));
            return EXIT_USAGE;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char config[160];
        snprintf(config, sizeof config,
                 "{\"seed\":%llu,\"link\":\"virtual\",\"pcap_epoch_us\":%llu}",
                 (unsigned long long)seed, (unsigned long long)PCAP_OUT_VIRTUAL_EPOCH_US);
        trace_json_start(json, "demo", TCPLAB_VERSION,
                         (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u, config);
        tev_fanout_add(&sinks, trace_json_event, json);
    }
    struct pcap_out *pcap = NULL;
    if (pcap_path) {
        char err[256] = "";
        pcap = pcap_out_open(pcap_path, err, sizeof err);
        if (!pcap) {
            fprintf(stderr, "tcplab demo: cannot write the capture to %s: %s\n", pcap_path, err);
            cli_close_output(json);
            return EXIT_USAGE;
        }
        tev_fanout_add(&sinks, pcap_on_the_wire, pcap);
        /* Virtual time from a fixed, documented epoch (docs/traces.md). */
        pcap_out_set_epoch(pcap, PCAP_OUT_VIRTUAL_EPOCH_US);
        tev_fanout_add(&sinks, pcap_out_annotate, pcap);
    }

    struct vlink_config lcfg;
    vlink_config_defaults(&lcfg);
    lcfg.seed = seed;
    lcfg.on_event = tev_fanout_event;
    lcfg.event_ctx = &sinks;

    struct demo d = {0};
    int status = EXIT_NETWORK;
    d.link = vlink_new(&lcfg);
    if (!d.link) {
        fprintf(stderr, "tcplab demo: out of memory\n");
        goto out;
    }
    d.server = add_host(&d, "server", DEMO_SERVER_ADDR, seed);
    d.client = add_host(&d, "client", DEMO_CLIENT_ADDR, seed);
    if (d.server < 0 || d.client < 0) {
        fprintf(stderr, "tcplab demo: could not create the two stacks\n");
        goto out;
    }
    d.ss = vlink_stack(d.link, d.server);
    d.cs = vlink_stack(d.link, d.client);

    if (!a.quiet)
        fprintf(out,
                "# tcplab demo: client 10.7.0.2 and server 10.7.0.1:%d on the virtual link "
                "(latency %llu us, seed %llu)\n",
                DEMO_PORT, (unsigned long long)lcfg.latency_us, (unsigned long long)seed);
    status = demo_run(&d);
    if (status == 0 && !a.quiet)
        fprintf(out,
                "# done at t=%.6fs: both sides CLOSED (the client's TIME_WAIT lasted 2*MSL of "
                "virtual time)\n",
                (double)vlink_now(d.link) / 1e6);
out:
    fflush(stdout);
    vlink_free(d.link);
    if (pcap)
        pcap_out_close(pcap);
    if (json && (json == stdout ? fflush(json) : fclose(json)) != 0) {
        fprintf(stderr, "tcplab demo: writing %s failed: %s\n", trace_path, strerror(errno));
        status = EXIT_USAGE;
    }
    return status;
}
