/*
 * pkt_profile.c — what a packetdrill suite expects of the system under test:
 * profiles (teaching, linux, freebsd), `--set key=value` overrides, the
 * script's own --options, and the names scripts use for constants and
 * errno values.
 *
 * A suite written for Linux assumes Linux's defaults (200 ms minimum RTO,
 * window scaling, ...); one written for FreeBSD assumes FreeBSD's. The
 * profile sets the engine's configuration (struct stack_config) to match;
 * `teaching` is the engine's own defaults, the RFC's values.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "pkt_internal.h"
#include "wire.h"

void pkt_config_defaults(struct pkt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    stack_config_defaults(&cfg->stack);
    cfg->stack.name = "tcplab";
    cfg->stack.timestamps = false; /* teaching: RFC 7323 timestamps only if asked (--set ts=on) */
    cfg->profile = "teaching";
    cfg->tolerance_us = 4000;
    cfg->local_ip = 0xc0a80001;  /* 192.168.0.1, packetdrill's default */
    cfg->remote_ip = 0xc0000201; /* 192.0.2.1 */
    cfg->bind_port = 8080;
    cfg->connect_port = 8080;
    cfg->remote_port = 50000;
    cfg->default_win = 65535;
    cfg->stack.sack = false; /* teaching: SACK is lesson 20's, off until asked for */
}

int pkt_config_profile(struct pkt_config *cfg, const char *name)
{
    struct stack_config *s = &cfg->stack;
    if (!strcmp(name, "teaching")) {
        struct pkt_config d;
        pkt_config_defaults(&d);
        *s = d.stack;
        cfg->profile = "teaching";
        return 0;
    }
    if (!strcmp(name, "linux")) {
        /* Linux 6.x defaults (net.ipv4.tcp_*) are the engine's `linux`
         * profile (stack/stack_profile.c): min RTO 200 ms, initial RTO 1 s,
         * delayed ACK 40 ms, timestamps, SACK, CUBIC, TIME_WAIT 60 s, 6 SYN
         * retries. Packetdrill's Linux scripts differ in two things: the
         * buffers stay the suite's 64 KiB, and window scaling offers the
         * shift 8 they expect in every SYN. */
        pkt_config_profile(cfg, "teaching");
        const struct stack_config base = *s;
        stack_config_profile(s, STACK_PROFILE_LINUX);
        s->rcvbuf = base.rcvbuf;
        s->sndbuf = base.sndbuf;
        s->wscale = 8;
        cfg->profile = "linux";
        return 0;
    }
    if (!strcmp(name, "freebsd")) {
        /* FreeBSD 14 defaults (net.inet.tcp.*): rexmit_min 30 ms, initial
         * RTO 1 s, delacktime 100 ms, rfc1323 on, msl 30 s, keepcnt 8. */
        pkt_config_profile(cfg, "teaching");
        s->rto_min_us = 30000;
        s->rto_initial_us = 1000000;
        s->delack_us = 100000;
        s->window_scaling = true;
        s->wscale = 6;
        s->timestamps = true;
        s->sack = true;
        s->cc_algo = TCP_CC_CUBIC; /* net.inet.tcp.cc.algorithm, CUBIC since 14.0 */
        s->msl_us = 30000000;
        s->keepalive_probes = 8;
        s->sndbuf = 32768;
        cfg->profile = "freebsd";
        return 0;
    }
    return -1;
}

/* "200ms", "1s", "40000us", "1.5s"; a bare number is milliseconds. */
static int parse_duration(const char *v, uint64_t *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || x < 0)
        return -1;
    double mul = 1000;
    if (!strcmp(end, "us"))
        mul = 1;
    else if (!strcmp(end, "ms") || !*end)
        mul = 1000;
    else if (!strcmp(end, "s"))
        mul = 1000000;
    else if (!strcmp(end, "min"))
        mul = 60e6;
    else
        return -1;
    x *= mul;
    if (x > 1e13)
        return -1;
    *out = (uint64_t)(x + 0.5);
    return 0;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 0);
    if (errno || end == v || *end || x > max || v[0] == '-')
        return -1;
    *out = x;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true"))
        *out = true;
    else if (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"))
        *out = false;
    else
        return -1;
    return 0;
}

enum key_type { K_DUR, K_UINT, K_BOOL, K_WSCALE, K_CC };

static const struct key {
    const char *name;
    enum key_type type;
    size_t off;          /* into struct stack_config, or SIZE_MAX for the runner's */
    unsigned long max;
    const char *help;
} keys[] = {
    {"rto_min", K_DUR, offsetof(struct stack_config, rto_min_us), 0, "minimum RTO (RFC 6298 (2.4))"},
    {"rto_initial", K_DUR, offsetof(struct stack_config, rto_initial_us), 0, "initial RTO (RFC 6298 (2.1))"},
    {"rto_max", K_DUR, offsetof(struct stack_config, rto_max_us), 0, "maximum RTO"},
    {"delack", K_DUR, offsetof(struct stack_config, delack_us), 0, "delayed ACK timeout"},
    {"delayed_ack", K_BOOL, offsetof(struct stack_config, delayed_ack), 0, "delay ACKs at all (on/off)"},
    {"nagle", K_BOOL, offsetof(struct stack_config, nagle), 0, "Nagle's algorithm (on/off)"},
    {"ts", K_BOOL, offsetof(struct stack_config, timestamps), 0, "offer RFC 7323 timestamps (on/off)"},
    {"wscale", K_WSCALE, offsetof(struct stack_config, wscale), 14, "window scale shift offered; 'off' offers none"},
    {"mss", K_UINT, offsetof(struct stack_config, mss), 65535, "MSS advertised"},
    {"rcvbuf", K_UINT, offsetof(struct stack_config, rcvbuf), 1u << 30, "receive buffer, bytes"},
    {"sndbuf", K_UINT, offsetof(struct stack_config, sndbuf), 1u << 30, "send buffer, bytes"},
    {"msl", K_DUR, offsetof(struct stack_config, msl_us), 0, "maximum segment lifetime (TIME_WAIT is 2*MSL)"},
    {"syn_retries", K_UINT, offsetof(struct stack_config, syn_retries), 255, "SYN retransmissions"},
    {"synack_retries", K_UINT, offsetof(struct stack_config, synack_retries), 255, "SYN,ACK retransmissions"},
    {"data_retries", K_UINT, offsetof(struct stack_config, data_retries), 255, "data/FIN retransmissions"},
    {"keepidle", K_DUR, offsetof(struct stack_config, keepalive_idle_us), 0, "keepalive idle time"},
    {"keepintvl", K_DUR, offsetof(struct stack_config, keepalive_intvl_us), 0, "keepalive probe interval"},
    {"keepcnt", K_UINT, offsetof(struct stack_config, keepalive_probes), 255, "keepalive probes"},
    {"sack", K_BOOL, offsetof(struct stack_config, sack), 0, "offer and accept SACK, RFC 6675 recovery (on/off)"},
    {"cc", K_CC, offsetof(struct stack_config, cc_algo), 0, "congestion control: newreno, cubic (RFC 9438) or off"},
    {"init_cwnd", K_UINT, offsetof(struct stack_config, init_cwnd), 255, "initial congestion window, segments (RFC 5681 3.1, RFC 6928)"},
    {"tolerance", K_DUR, SIZE_MAX, 0, "timing tolerance of the runner (4ms)"},
};

void pkt_config_keys(FILE *out)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        fprintf(out, "  %-15s %s\n", keys[i].name, keys[i].help);
}

static int set_one(struct pkt_config *cfg, const char *k, const char *v, char *msg, size_t msgsz)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const struct key *key = &keys[i];
        if (strcmp(key->name, k))
            continue;
        char *base = (char *)&cfg->stack;
        uint64_t d;
        unsigned long u;
        bool b;
        switch (key->type) {
        case K_DUR:
            if (parse_duration(v, &d) < 0)
                goto bad;
            if (key->off == SIZE_MAX)
                cfg->tolerance_us = d;
            else
                memcpy(base + key->off, &d, sizeof d);
            return 0;
        case K_BOOL:
            if (parse_bool(v, &b) < 0)
                goto bad;
            memcpy(base + key->off, &b, sizeof b);
            return 0;
        case K_CC: {
            int algo = !strcmp(v, "on") ? TCP_CC_NEWRENO : tcp_cc_algo_parse(v);
            if (algo < 0 && strcmp(v, "off"))
                goto bad;
            cfg->stack.congestion_control = algo >= 0;
            if (algo >= 0)
                cfg->stack.cc_algo = (uint8_t)algo;
            return 0;
        }
        case K_WSCALE:
            if (!strcmp(v, "off") || !strcmp(v, "none")) {
                cfg->stack.window_scaling = false;
                return 0;
            }
            if (parse_uint(v, key->max, &u) < 0)
                goto bad;
            cfg->stack.window_scaling = true;
            cfg->stack.wscale = (uint8_t)u;
            return 0;
        case K_UINT:
            if (parse_uint(v, key->max, &u) < 0)
                goto bad;
            if (!strcmp(k, "mss")) {
                if (u < 64)
                    goto bad;
                cfg->stack.mss = (uint16_t)u;
            } else if (!strcmp(k, "init_cwnd")) {
                if (u < 1)
                    goto bad;
                cfg->stack.init_cwnd = (uint8_t)u;
            } else if (!strcmp(k, "rcvbuf") || !strcmp(k, "sndbuf")) {
                uint32_t x = (uint32_t)u;
                memcpy(base + key->off, &x, sizeof x);
            } else {
                unsigned x = (unsigned)u;
                memcpy(base + key->off, &x, sizeof x);
            }
            return 0;
        }
    bad:
        snprintf(msg, msgsz, "--set %s=%s: bad value (%s)", k, v,
                 key->type == K_DUR ? "a time such as 200ms or 1s"
                 : key->type == K_BOOL ? "on or off"
                 : key->type == K_CC   ? "newreno, cubic or off"
                                       : "a number");
        return -1;
    }
    snprintf(msg, msgsz, "--set: unknown key '%s' (the keys: docs/packetdrill.md)", k);
    return -1;
}

int pkt_config_set(struct pkt_config *cfg, const char *items, char *msg, size_t msgsz)
{
    char *copy = strdup(items);
    if (!copy) {
        snprintf(msg, msgsz, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *it = strtok_r(copy, ",", &save); it && !rc; it = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(it, '=');
        if (!eq) {
            snprintf(msg, msgsz, "--set: '%s' is not key=value", it);
            rc = -1;
            break;
        }
        *eq = 0;
        rc = set_one(cfg, it, eq + 1, msg, msgsz);
    }
    free(copy);
    return rc;
}

/* Options that change nothing observable on a virtual link. */
static const char *const harmless_options[] = {
    "ip_version", "local_ip", "remote_ip", "tolerance_usecs", "bind_port", "connect_port",
    "gateway_ip", "netmask_ip", "speculative_connect_port", "non_fatal", "verbose",
    "wire_client", "wire_server", "wire_server_ip", "wire_server_port", "wire_client_dev",
    "wire_server_dev", "so_filename", "so_flags", "mtu", "init_scripts", "dry_run",
    "pkt-profile", "pkt_profile", "set", "mss", "strict_segments", "tolerance_percent",
    "send_omit_free", "persistent_tun", "debug", "fm_filename", "fm_flags",
};

int pkt_apply_script_options(const struct pkt_script *s, struct pkt_config *cfg, int *line,
                             char *reason, size_t reasonsz)
{
    for (size_t i = 0; i < s->noptions; i++) {
        const struct pkt_option *o = &s->options[i];
        const char *v = o->value ? o->value : "";
        bool known = false;
        for (size_t k = 0; k < sizeof harmless_options / sizeof *harmless_options; k++)
            known |= !strcmp(o->name, harmless_options[k]);
        *line = o->line;
        if (!known) {
            snprintf(reason, reasonsz, "option --%s is not supported", o->name);
            return 1;
        }
        if (!strcmp(o->name, "ip_version")) {
            if (strcmp(v, "ipv4")) {
                snprintf(reason, reasonsz, "--ip_version=%s: only ipv4 is supported", v);
                return 1;
            }
        } else if (!strcmp(o->name, "local_ip") || !strcmp(o->name, "remote_ip")) {
            uint32_t a;
            if (wire_addr_parse(v, &a) < 0) {
                snprintf(reason, reasonsz, "--%s=%s: only IPv4 addresses are supported",
                         o->name, v);
                return 1;
            }
            if (!strcmp(o->name, "local_ip"))
                cfg->local_ip = a;
            else
                cfg->remote_ip = a;
        } else if (!strcmp(o->name, "tolerance_usecs")) {
            char *end;
            long long t = strtoll(v, &end, 10);
            if (*end || t < 0) {
                snprintf(reason, reasonsz, "--tolerance_usecs=%s: not a number", v);
                return 1;
            }
            cfg->tolerance_us = (uint64_t)t;
        } else if (!strcmp(o->name, "bind_port") || !strcmp(o->name, "connect_port")) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t <= 0 || t > 65535) {
                snprintf(reason, reasonsz, "--%s=%s: not a port", o->name, v);
                return 1;
            }
            if (!strcmp(o->name, "bind_port"))
                cfg->bind_port = (uint16_t)t;
            else
                cfg->connect_port = (uint16_t)t;
        } else if (!strcmp(o->name, "mss")) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t < 64 || t > 65535) {
                snprintf(reason, reasonsz, "--mss=%s: not an MSS", v);
                return 1;
            }
            cfg->stack.mss = (uint16_t)t;
        } else if (!strcmp(o->name, "pkt-profile") || !strcmp(o->name, "pkt_profile")) {
            if (pkt_config_profile(cfg, v) < 0) {
                snprintf(reason, reasonsz, "--%s=%s: unknown profile", o->name, v);
                return 1;
            }
        } else if (!strcmp(o->name, "set")) {
            char msg[200];
            if (pkt_config_set(cfg, v, msg, sizeof msg) < 0) {
                snprintf(reason, reasonsz, "%s", msg);
                return 1;
            }
        }
    }
    *line = 0;
    return 0;
}

/* ---- names scripts use ----------------------------------------------------------- */

static const struct {
    const char *name;
    int value;
} errnos[] = {
    {"EAGAIN", EAGAIN},           {"EWOULDBLOCK", EWOULDBLOCK}, {"EINPROGRESS", EINPROGRESS},
    {"EALREADY", EALREADY},       {"ECONNREFUSED", ECONNREFUSED}, {"ECONNRESET", ECONNRESET},
    {"ECONNABORTED", ECONNABORTED}, {"ETIMEDOUT", ETIMEDOUT},   {"EADDRINUSE", EADDRINUSE},
    {"EADDRNOTAVAIL", EADDRNOTAVAIL}, {"ENOTCONN", ENOTCONN},   {"EPIPE", EPIPE},
    {"EBADF", EBADF},             {"EINVAL", EINVAL},           {"EISCONN", EISCONN},
    {"EMFILE", EMFILE},           {"ENOPROTOOPT", ENOPROTOOPT}, {"EOPNOTSUPP", EOPNOTSUPP},
    {"ENOTSOCK", ENOTSOCK},       {"EFAULT", EFAULT},           {"EDESTADDRREQ", EDESTADDRREQ},
    {"ESHUTDOWN", ESHUTDOWN},     {"ENOBUFS", ENOBUFS},         {"ENOMEM", ENOMEM},
    {"EINTR", EINTR},             {"EHOSTUNREACH", EHOSTUNREACH}, {"ENETUNREACH", ENETUNREACH},
    {"EPROTONOSUPPORT", EPROTONOSUPPORT}, {"EAFNOSUPPORT", EAFNOSUPPORT}, {"EACCES", EACCES},
    {"EPERM", EPERM},             {"ENOENT", ENOENT},           {"EEXIST", EEXIST},
    {"EMSGSIZE", EMSGSIZE},       {"ENOTSUP", ENOTSUP},         {"EPROTO", EPROTO},
};

int pkt_errno_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof errnos / sizeof *errnos; i++)
        if (!strcmp(errnos[i].name, name))
            return errnos[i].value;
    return 0;
}

const char *pkt_errno_name(int err)
{
    for (size_t i = 0; i < sizeof errnos / sizeof *errnos; i++)
        if (errnos[i].value == err)
            return errnos[i].name;
    return NULL;
}

#define SYM(x) {#x, (long long)(x)}
static const struct {
    const char *name;
    long long value;
} symbols[] = {
    SYM(AF_INET), SYM(AF_INET6), SYM(AF_UNSPEC), SYM(PF_INET), SYM(PF_INET6),
    SYM(SOCK_STREAM), SYM(SOCK_DGRAM), SYM(SOCK_RAW), SYM(SOCK_NONBLOCK), SYM(SOCK_CLOEXEC),
    SYM(IPPROTO_TCP), SYM(IPPROTO_UDP), SYM(IPPROTO_IP), SYM(IPPROTO_IPV6), SYM(IPPROTO_SCTP),
    SYM(SOL_SOCKET), {"SOL_TCP", IPPROTO_TCP}, {"SOL_IP", IPPROTO_IP},
    SYM(SO_REUSEADDR), SYM(SO_REUSEPORT), SYM(SO_KEEPALIVE), SYM(SO_LINGER), SYM(SO_RCVBUF),
    SYM(SO_SNDBUF), SYM(SO_ERROR), SYM(SO_TYPE), SYM(SO_RCVLOWAT), SYM(SO_SNDLOWAT),
    SYM(SO_ACCEPTCONN), SYM(SO_DEBUG), SYM(SO_OOBINLINE),
    {"TCP_NODELAY", PKT_TCP_NODELAY}, {"TCP_MAXSEG", PKT_TCP_MAXSEG}, {"TCP_KEEPIDLE", PKT_TCP_KEEPIDLE}, {"TCP_KEEPINTVL", PKT_TCP_KEEPINTVL}, {"TCP_KEEPCNT", PKT_TCP_KEEPCNT},
    {"TCP_INFO", PKT_TCP_INFO}, {"TCP_USER_TIMEOUT", PKT_TCP_USER_TIMEOUT}, {"TCP_CORK", PKT_TCP_CORK}, {"TCP_DEFER_ACCEPT", PKT_TCP_DEFER_ACCEPT},
    {"TCP_CONGESTION", PKT_TCP_CONGESTION}, {"TCP_QUICKACK", PKT_TCP_QUICKACK}, {"TCP_FASTOPEN", PKT_TCP_FASTOPEN}, {"TCP_SYNCNT", PKT_TCP_SYNCNT},
    {"TCP_LINGER2", PKT_TCP_LINGER2}, {"TCP_WINDOW_CLAMP", PKT_TCP_WINDOW_CLAMP},
    SYM(F_GETFL), SYM(F_SETFL), SYM(F_GETFD), SYM(F_SETFD), SYM(O_NONBLOCK), SYM(O_RDWR),
    SYM(O_RDONLY), SYM(O_WRONLY), SYM(FD_CLOEXEC),
    SYM(SHUT_RD), SYM(SHUT_WR), SYM(SHUT_RDWR),
    SYM(MSG_DONTWAIT), SYM(MSG_PEEK), SYM(MSG_WAITALL), SYM(MSG_NOSIGNAL), SYM(MSG_OOB),
    SYM(MSG_MORE), SYM(MSG_TRUNC), SYM(MSG_ZEROCOPY), SYM(MSG_FASTOPEN), SYM(MSG_EOR),
    SYM(POLLIN), SYM(POLLOUT), SYM(POLLERR), SYM(POLLHUP), SYM(POLLPRI), SYM(POLLRDNORM),
    SYM(POLLWRNORM), SYM(POLLRDHUP), SYM(POLLNVAL),
    SYM(EPOLLIN), SYM(EPOLLOUT), SYM(EPOLLERR), SYM(EPOLLHUP), SYM(EPOLLRDHUP), SYM(EPOLLET),
    SYM(EPOLLONESHOT), SYM(EPOLLPRI), SYM(EPOLL_CTL_ADD), SYM(EPOLL_CTL_MOD), SYM(EPOLL_CTL_DEL),
    SYM(FIONREAD), {"SIOCINQ", PKT_SIOCINQ}, {"SIOCOUTQ", PKT_SIOCOUTQ}, SYM(FIONBIO),
    SYM(INADDR_ANY),
    /* Linux's TCP_INFO state numbers (include/net/tcp_states.h) */
    {"TCP_ESTABLISHED", 1}, {"TCP_SYN_SENT", 2}, {"TCP_SYN_RECV", 3}, {"TCP_FIN_WAIT1", 4},
    {"TCP_FIN_WAIT2", 5}, {"TCP_TIME_WAIT", 6}, {"TCP_CLOSE", 7}, {"TCP_CLOSE_WAIT", 8},
    {"TCP_LAST_ACK", 9}, {"TCP_LISTEN", 10}, {"TCP_CLOSING", 11},
    {"NULL", 0},
};

bool pkt_symbol_value(const char *name, long long *value)
{
    for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++)
        if (!strcmp(symbols[i].name, name)) {
            *value = symbols[i].value;
            return true;
        }
    return false;
}
