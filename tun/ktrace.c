/*
 * ktrace.c — the kernel's own state changes from the sock:inet_sock_set_state
 * tracepoint (ktrace.h).
 */

#include "ktrace.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kdiag.h"
#include "wire.h"

#define TRACEFS   "/sys/kernel/tracing"
#define EVENT_DIR "events/sock/inet_sock_set_state"

struct ktrace {
    struct ktrace_config cfg;
    char dir[128]; /* the instance */
    int fd;        /* its trace_pipe, non-blocking */
    char buf[8192];
    size_t len; /* bytes of an unfinished line kept in buf */
};

static bool have_event(void)
{
    return access(TRACEFS "/" EVENT_DIR, F_OK) == 0;
}

/* tracefs is in the kernel but not mounted: mount it where only this
 * process sees it (a private mount namespace of its own). */
static bool mount_privately(char *why, size_t cap)
{
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("nodev", TRACEFS, "tracefs", 0, NULL) < 0) {
        snprintf(why, cap, "tracefs is not mounted and cannot be (%s)", strerror(errno));
        return false;
    }
    return true;
}

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = n < 0 ? -errno : 0;
    close(fd);
    return e;
}

struct ktrace *ktrace_open(const struct ktrace_config *cfg, char *why, size_t cap)
{
    if (!have_event() && (!mount_privately(why, cap) || !have_event())) {
        if (!why[0])
            snprintf(why, cap, "the kernel has no sock:inet_sock_set_state tracepoint");
        return NULL;
    }
    struct ktrace *kt = calloc(1, sizeof *kt);
    if (!kt) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    kt->cfg = *cfg;
    kt->fd = -1;
    for (unsigned n = 0; n < 100; n++) {
        snprintf(kt->dir, sizeof kt->dir, TRACEFS "/instances/tcplab-%ld-%u", (long)getpid(), n);
        if (mkdir(kt->dir, 0700) == 0)
            break;
        if (errno != EEXIST) {
            snprintf(why, cap, "cannot make a tracefs instance: %s", strerror(errno));
            free(kt);
            return NULL;
        }
    }
    /* Only what happens in this process: our socket calls, and the packets
     * we write to the TUN device, which the kernel processes before the
     * write returns. That is what keeps other namespaces' connections (the
     * tracepoint knows no namespace) out; the kernel's own timers (a
     * FIN_WAIT_2 or TIME_WAIT running out) fire elsewhere and are left to
     * sock_diag's sampling. */
    char pid[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    int e = write_file(kt->dir, "set_event_pid", pid);
    if (!e)
        e = write_file(kt->dir, "trace_clock", "mono");
    /* AF_INET, IPPROTO_TCP: the rest is filtered here, by address and port. */
    if (!e)
        e = write_file(kt->dir, EVENT_DIR "/filter", "family == 2 && protocol == 6");
    if (!e)
        e = write_file(kt->dir, EVENT_DIR "/enable", "1");
    if (!e) {
        char path[256];
        snprintf(path, sizeof path, "%s/trace_pipe", kt->dir);
        kt->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (kt->fd < 0)
            e = -errno;
    }
    if (e) {
        snprintf(why, cap, "cannot enable the tracepoint: %s", strerror(-e));
        ktrace_close(kt);
        return NULL;
    }
    return kt;
}

void ktrace_close(struct ktrace *kt)
{
    if (!kt)
        return;
    write_file(kt->dir, EVENT_DIR "/enable", "0");
    if (kt->fd >= 0)
        close(kt->fd);
    rmdir(kt->dir);
    free(kt);
}

/* "name=VALUE" in the line: a pointer to VALUE, or NULL. */
static const char *field(const char *line, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(line, name); p; p = strstr(p + 1, name))
        if ((p == line || p[-1] == ' ') && p[n] == '=')
            return p + n + 1;
    return NULL;
}

static int linux_state(const char *v)
{
    static const char *const names[] = {
        [1] = "TCP_ESTABLISHED", [2] = "TCP_SYN_SENT",   [3] = "TCP_SYN_RECV",
        [4] = "TCP_FIN_WAIT1",   [5] = "TCP_FIN_WAIT2",  [6] = "TCP_TIME_WAIT",
        [7] = "TCP_CLOSE",       [8] = "TCP_CLOSE_WAIT", [9] = "TCP_LAST_ACK",
        [10] = "TCP_LISTEN",     [11] = "TCP_CLOSING",   [12] = "TCP_NEW_SYN_RECV",
    };
    for (int s = 1; s <= 12; s++) {
        size_t n = strlen(names[s]);
        if (strncmp(v, names[s], n) == 0 && (v[n] == ' ' || v[n] == '\n' || v[n] == 0))
            return s;
    }
    return -1;
}

static bool addr_field(const char *line, const char *name, uint32_t *out)
{
    const char *v = field(line, name);
    char a[16];
    size_t n = v ? strcspn(v, " ") : 0;
    if (!v || n == 0 || n >= sizeof a)
        return false;
    memcpy(a, v, n);
    a[n] = 0;
    return wire_addr_parse(a, out) == 0;
}

bool ktrace_parse_line(const char *line, struct ktrace_line *out)
{
    const char *ev = strstr(line, ": inet_sock_set_state: ");
    if (!ev)
        return false;
    /* The timestamp is the number before ": inet_sock_set_state". */
    const char *p = ev;
    while (p > line && p[-1] != ' ')
        p--;
    unsigned long sec = 0, usec = 0;
    if (sscanf(p, "%lu.%lu", &sec, &usec) != 2)
        return false;
    memset(out, 0, sizeof *out);
    out->ts_us = (uint64_t)sec * 1000000u + usec;
    const char *sp = field(ev, "sport"), *dp = field(ev, "dport");
    const char *os = field(ev, "oldstate"), *ns = field(ev, "newstate");
    if (!sp || !dp || !os || !ns || !addr_field(ev, "saddr", &out->t.laddr) ||
        !addr_field(ev, "daddr", &out->t.raddr))
        return false;
    out->t.lport = (uint16_t)strtoul(sp, NULL, 10);
    out->t.rport = (uint16_t)strtoul(dp, NULL, 10);
    out->oldstate = linux_state(os);
    out->newstate = linux_state(ns);
    return out->oldstate > 0 && out->newstate > 0;
}

/* One line: a TEV_KERNEL event if it is about one of our connections and
 * says something sock_diag would not say better. */
static int report(struct ktrace *kt, const struct ktrace_line *l, uint64_t now)
{
    const struct tcp_tuple *t = &l->t;
    if (t->laddr != kt->cfg.kernel_addr || t->raddr != kt->cfg.stack_addr || !t->lport || !t->rport)
        return 0; /* not ours, or not bound yet (CLOSE -> SYN_SENT has port 0) */
    if (kt->cfg.mine && !kt->cfg.mine(kt->cfg.mine_ctx, t))
        return 0;
    enum tcp_state from = kdiag_state_from_linux(l->oldstate);
    enum tcp_state to = kdiag_state_from_linux(l->newstate);
    if (to == TCP_CLOSED &&
        (from == TCP_FIN_WAIT_1 || from == TCP_FIN_WAIT_2 || from == TCP_CLOSING))
        return 0; /* handed to a TIME_WAIT socket (or its FIN_WAIT_2 timer): sock_diag tells */
    if (from == TCP_NSTATES || to == TCP_NSTATES || from == to)
        return 0;
    /* Stamped when read, as a sample is: the stream's times never go back
     * (the change itself happened at l->ts_us, at most one look earlier). */
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_KERNEL;
    ev.t_us = now;
    ev.host = kt->cfg.host;
    ev.sd = -1;
    ev.tuple = *t;
    ev.u.kernel.state = to;
    ev.u.kernel.prev = from;
    ev.u.kernel.traced = true;
    kt->cfg.on_event(kt->cfg.event_ctx, &ev);
    return 1;
}

int ktrace_poll(struct ktrace *kt, uint64_t now)
{
    int told = 0;
    for (int round = 0; round < 64; round++) {
        ssize_t n = read(kt->fd, kt->buf + kt->len, sizeof kt->buf - 1 - kt->len);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? told : -errno;
        if (n == 0)
            break;
        kt->len += (size_t)n;
        kt->buf[kt->len] = 0;
        char *line = kt->buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = 0;
            struct ktrace_line l;
            if (ktrace_parse_line(line, &l))
                told += report(kt, &l, now);
            line = nl + 1;
        }
        kt->len = strlen(line);
        memmove(kt->buf, line, kt->len);
        if (kt->len >= sizeof kt->buf - 1)
            kt->len = 0; /* a line longer than the buffer is not one of ours */
    }
    return told;
}
