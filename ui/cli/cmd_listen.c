/*
 * cmd_listen.c — `tcplab listen`: the stack as a server on a TUN device.
 *
 * Wires the pieces together: net options (netopts.h) → TUN device, stack and
 * loop (tun_loop.h) → the little servers (services.h) → the event sinks
 * (text trace on stderr, JSON Lines, pcap, and with --ui the live view of
 * ui/tui/live.h). Runs until SIGINT or SIGTERM, then removes the device.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "services.h"
#include "tun_dev.h"
#include "commands.h"
#include "live.h"
#include "netopts.h"

/* The live view is another module (ui/tui/live.c). Until it exists the calls
 * below are weak references that stay NULL and --ui says "not built yet".
 * Once it exists the references are ordinary ones, so the linker pulls
 * live.c's object out of the library (weak references alone would not). */
#if !__has_include("live.c")
#pragma weak ui_live_open
#pragma weak ui_live_event
#pragma weak ui_live_fd
#pragma weak ui_live_input
#pragma weak ui_live_refresh
#pragma weak ui_live_close
#endif

static const struct cli_opt listen_opts[] = {
    CLI_FLAG("ui", 0, struct netopts, ui,
             "the live view (connections, ladder, events) instead of the text trace"),
    CLI_FLAG("netns", 0, struct netopts, netns,
             "run in a private network namespace of its own (root); prints the nsenter "
             "command that runs a client inside it"),
    CLI_STRING("run", 0, struct netopts, run, "CMD",
               "once the stack is up, run CMD (sh -c) in the same network; stop when it "
               "exits, with its exit status"),
    CLI_END,
};

const struct cli_command listen_command = {
    .name = "listen",
    .synopsis = "[net options] [--ui] [--netns] [--run CMD] [PORT[:SERVICE]]...",
    .summary = "Create the TUN device, put the tcplab stack at --addr (10.7.0.2) and serve\n"
               "until Ctrl-C. SERVICE is echo, discard, chargen, daytime or http; a PORT alone\n"
               "gets its usual service (7 echo, 9 discard, 13 daytime, 19 chargen, 80 http)\n"
               "or echo. No ports: 7:echo 9:discard 13:daytime 19:chargen 80:http. Other\n"
               "ports answer a SYN with RST. The stack answers ping.",
    .groups = {{NULL, listen_opts}, {"net options", netopts_table}},
    .min_args = 0,
    .max_args = 16,
    .epilogue =
        "examples:\n"
        "  sudo tcplab listen                      then: nc 10.7.0.2 7, curl http://10.7.0.2/\n"
        "  sudo tcplab listen --msl 1 --pcap l.pcap 8080:http\n"
        "  sudo tcplab listen --netns --run 'echo hi | nc -N 10.7.0.2 7'\n"
        "                            (a private network of its own, gone after)\n"
        "  sudo tcplab listen --netns   then: sudo nsenter --net=/proc/PID/ns/net nc 10.7.0.2 7\n"
        "\n"
        "exit status: 0 stopped by Ctrl-C/SIGTERM, 1 the device could not be made (not\n"
        "permitted) or went away, 2 bad usage; with --run, CMD's exit status.\n",
};

struct listen_ctx {
    pid_t run_pid; /* --run's child, or 0 */
    int run_pidfd;
    int run_status; /* its exit status, once it ended */
    struct svc_server *svc;
    struct ui_live *ui;
    struct netopts_sinks sinks;
    struct tun_loop *loop;
};

/* The stack says which descriptors may have work (no event is built for
 * it); the services exist a moment after the stack. */
static void listen_ready(void *ctx, int sd, const struct tev *state)
{
    struct listen_ctx *c = ctx;
    if (c->svc)
        svc_ready(c->svc, sd, state);
}

static void ui_sink(void *ctx, const struct tev *ev)
{
    struct listen_ctx *c = ctx;
    if (c->ui)
        ui_live_event(c->ui, ev);
}

static uint64_t listen_after(void *ctx, uint64_t now)
{
    struct listen_ctx *c = ctx;
    uint64_t next = svc_run(c->svc, now);
    netopts_flush_sinks(&c->sinks);
    if (c->ui) {
        uint64_t u = ui_live_refresh(c->ui, now);
        if (u < next)
            next = u;
    }
    return next;
}

static void ui_keys(void *ctx, int fd, short revents)
{
    (void)fd;
    (void)revents;
    struct listen_ctx *c = ctx;
    if (!ui_live_input(c->ui, tun_loop_now(c->loop)))
        tun_loop_stop(c->loop);
}

/* --run: the child ended (its pidfd became readable): stop serving. */
static void run_ended(void *ctx, int fd, short revents)
{
    (void)fd;
    (void)revents;
    struct listen_ctx *c = ctx;
    int st = 0;
    if (waitpid(c->run_pid, &st, WNOHANG) != c->run_pid)
        return;
    c->run_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    c->run_pid = 0;
    tun_loop_stop(c->loop);
}

/* sh -c CMD in this process's network namespace, with the signal mask the
 * loop changed (SIGINT/SIGTERM go to a signalfd) put back to nothing. */
static int start_run(struct listen_ctx *c, const char *cmd)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    c->run_pid = pid;
    c->run_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (c->run_pidfd < 0) {
        int e = errno;
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        c->run_pid = 0;
        return -e;
    }
    tun_loop_add_fd(c->loop, c->run_pidfd, POLLIN, run_ended, c);
    return 0;
}

/* PORT[:SERVICE] arguments; a port given twice is an error. */
static int parse_specs(const struct netopts *o, struct svc_spec *specs, size_t *n)
{
    if (o->nargs == 0) {
        *n = svc_default_specs(specs, 16);
        return 0;
    }
    for (int i = 0; i < o->nargs; i++) {
        char msg[200];
        if (svc_spec_parse(o->args[i], &specs[i], msg, sizeof msg) < 0) {
            cli_usage_error(&listen_command, "%s", msg);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (specs[j].port == specs[i].port) {
                cli_usage_error(&listen_command, "port %u is given twice: one service per port",
                                specs[i].port);
                return -1;
            }
    }
    *n = (size_t)o->nargs;
    return 0;
}

static void banner(const struct netopts *o, const struct svc_spec *specs, size_t n)
{
    char a[16], k[16];
    wire_addr_str(o->loop.stack.addr, a);
    wire_addr_str(o->loop.dev.kernel_addr, k);
    fprintf(stderr, "tcplab listen: stack at %s on %s (kernel side %s/%u, MTU %u), serving", a,
            o->loop.dev.name, k, o->loop.dev.prefix_len, o->loop.dev.mtu);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %u:%s", specs[i].port, svc_kind_name(specs[i].kind));
    if (o->loop.dev.attach)
        fprintf(stderr, "\n  attached to %s as its administrator set it up; it stays after exit",
                o->loop.dev.name);
    fprintf(stderr, "\n  try: nc %s %u   ping %s   (Ctrl-C to stop)\n", a, specs[0].port, a);
}

int cmd_listen(int argc, char **argv)
{
    struct netopts o;
    netopts_defaults(&o);
    enum cli_result pr = netopts_parse(&o, argc, argv, &listen_command, (void *[]){&o, &o});
    if (pr != CLI_OK)
        return cli_exit_status(pr);
    struct svc_spec specs[16];
    size_t nspecs = 0;
    if (parse_specs(&o, specs, &nspecs) < 0)
        return EXIT_USAGE;
    if (o.ui && o.run)
        return cli_usage_error(&listen_command, "--ui and --run both want the terminal: "
                                                "drop one");
#if !__has_include("live.c")
    if (o.ui && !ui_live_open) {
        fprintf(stderr, "tcplab listen: --ui: the live view is not built yet; run without --ui "
                        "(the text trace goes to stderr)\n");
        return EXIT_USAGE;
    }
#endif

    /* Before the device exists: nothing to undo, no traffic. */
    if (o.ui && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "tcplab listen: --ui needs a terminal (stdin and stdout); without "
                        "--ui the text trace goes to stderr\n");
        return EXIT_USAGE;
    }

    /* --netns: like `replay --tun`, a network of its own, made before the
     * device, so the device, the kernel's sockets and the clients meet
     * nothing of the machine's network and vanish with this process. */
    if (o.netns) {
        int ns = tun_netns_fresh();
        if (ns < 0) {
            fprintf(stderr,
                    "tcplab listen: --netns: cannot make a network namespace: %s — it needs "
                    "root (CAP_SYS_ADMIN), e.g. `sudo tcplab listen --netns`\n",
                    strerror(-ns));
            return EXIT_NETWORK;
        }
    }

    struct listen_ctx c;
    memset(&c, 0, sizeof c);
    c.run_pidfd = -1;
    if (netopts_open_sinks(&o, &c.sinks, o.ui ? ui_sink : NULL, &c) < 0)
        return EXIT_USAGE;
    o.loop.stack.on_ready = listen_ready;
    o.loop.stack.ready_ctx = &c;

    int err = 0;
    char msg[512];
    c.loop = tun_loop_new(&o.loop, &err, msg, sizeof msg);
    if (!c.loop) {
        fprintf(stderr, "tcplab listen: %s\n", msg);
        netopts_close_sinks(&c.sinks);
        return (err == -EEXIST || err == -EINVAL) ? EXIT_USAGE : EXIT_NETWORK;
    }
    netopts_sinks_anchor(&c.sinks, tun_loop_now(c.loop));
    struct stack *s = tun_loop_stack(c.loop);
    c.svc = svc_new(s, tun_loop_now(c.loop), specs, nspecs, &err);
    if (!c.svc) {
        fprintf(stderr, "tcplab listen: cannot listen: %s\n", strerror(-err));
        tun_loop_free(c.loop);
        netopts_close_sinks(&c.sinks);
        return EXIT_NETWORK;
    }
    if (o.ui) {
        char title[128], a[16];
        snprintf(title, sizeof title, "tcplab listen · %s %s", o.loop.dev.name,
                 wire_addr_str(o.loop.stack.addr, a));
        c.ui = ui_live_open(s, title);
        if (!c.ui) {
            svc_free(c.svc);
            tun_loop_free(c.loop);
            netopts_close_sinks(&c.sinks);
            return EXIT_USAGE;
        }
        tun_loop_add_fd(c.loop, ui_live_fd(c.ui), POLLIN, ui_keys, &c);
    } else if (!o.quiet) {
        banner(&o, specs, nspecs);
    }
    if (o.netns && !o.ui)
        /* Said even with --quiet: without it the namespace cannot be found. */
        fprintf(stderr,
                "tcplab listen: in a network namespace of its own; run a client inside it:\n"
                "  sudo nsenter --net=/proc/%ld/ns/net nc %s %u\n",
                (long)getpid(), wire_addr_str(o.loop.stack.addr, (char[16]){0}), specs[0].port);
    if (o.run && (err = start_run(&c, o.run)) < 0) {
        fprintf(stderr, "tcplab listen: --run: cannot start '%s': %s\n", o.run, strerror(-err));
        svc_free(c.svc);
        tun_loop_free(c.loop);
        netopts_close_sinks(&c.sinks);
        return EXIT_NETWORK;
    }
    tun_loop_set_after(c.loop, listen_after, &c);

    int rc = tun_loop_run(c.loop);

    int status = 0;
    if (c.run_pid) { /* stopped by a signal while CMD still runs */
        kill(c.run_pid, SIGTERM);
        int st = 0;
        waitpid(c.run_pid, &st, 0);
        c.run_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    if (c.run_pidfd >= 0)
        close(c.run_pidfd);
    if (c.ui)
        ui_live_close(c.ui);
    if (rc == -ENODEV) {
        fprintf(stderr, "tcplab listen: interface %s disappeared (deleted?) — stopping\n",
                o.loop.dev.name);
        status = EXIT_NETWORK;
    } else if (rc != -EINTR) {
        fprintf(stderr, "tcplab listen: the TUN device failed: %s — stopping\n", strerror(-rc));
        status = EXIT_NETWORK;
    } else if (!o.ui) { /* --quiet silences the trace, not this summary */
        struct svc_stats st;
        svc_get_stats(c.svc, &st);
        fprintf(stderr, "tcplab listen: stopped; %llu connections served\n",
                (unsigned long long)st.accepted);
        /* What peers made the stack hold, and every limit they ran into. */
        struct stack_stats ss;
        stack_get_stats(s, &ss);
        fprintf(stderr,
                "  packets in %llu, out %llu, dropped %llu, retransmitted %llu; connection blocks %llu "
                "(TIME_WAIT %llu), half-open %llu, out-of-order bytes %llu\n"
                "  memory: %llu bytes now (rings %llu), at most %llu\n"
                "  limits reached: connections %llu, SYN queue full %llu, out-of-order %llu, "
                "TIME_WAIT oldest closed %llu, rings %llu\n"
                "  SYN cookies (%s): sent %llu, valid %llu, bad %llu\n",
                (unsigned long long)ss.pkts_in, (unsigned long long)ss.pkts_out,
                (unsigned long long)ss.drops, (unsigned long long)ss.retransmissions,
                (unsigned long long)ss.conns_active,
                (unsigned long long)ss.conns_time_wait, (unsigned long long)ss.syn_queue,
                (unsigned long long)ss.ooo_bytes, (unsigned long long)ss.mem_bytes,
                (unsigned long long)ss.ring_bytes, (unsigned long long)ss.mem_peak,
                (unsigned long long)ss.limit_conns, (unsigned long long)ss.limit_syn_queue,
                (unsigned long long)ss.limit_ooo, (unsigned long long)ss.limit_time_wait,
                (unsigned long long)ss.limit_ring, tcp_syncookies_name(stack_config(s)->syncookies),
                (unsigned long long)ss.cookies_sent, (unsigned long long)ss.cookies_ok,
                (unsigned long long)ss.cookies_bad);
        struct tun_loop_stats ls;
        tun_loop_get_stats(c.loop, &ls);
        fprintf(stderr, "  loop: %llu wake-ups; busy-poll %.1f ms of CPU (caught %llu, slept %llu)\n",
                (unsigned long long)ls.wakeups, (double)ls.spin_us / 1000.0,
                (unsigned long long)ls.spin_hits, (unsigned long long)ls.spin_misses);
        /* and why packets were dropped, so a failed client can be matched */
        int n = 0;
        for (int i = 0; i < (int)(sizeof ss.drops_by_reason / sizeof ss.drops_by_reason[0]); i++)
            if (ss.drops_by_reason[i])
                fprintf(stderr, "%s%s %llu", n++ ? ", " : "  drops by reason: ",
                        tev_drop_reason_name(i - STACK_DROP_INDEX(0)),
                        (unsigned long long)ss.drops_by_reason[i]);
        if (n)
            fputc('\n', stderr);
    }
    svc_free(c.svc);
    tun_loop_free(c.loop);
    netopts_close_sinks(&c.sinks);
    if (o.run && status == 0)
        status = c.run_status;
    return status;
}
