/*
 * netopts.c — parse the net options of listen/connect and open their sinks.
 *
 * Every value is checked here, before anything touches the network, so a
 * typo costs a clear message and exit status 2, never a half-built device.
 */
#include "netopts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"

/* One option's value into the loop configuration; each says what it wants. */
static int set_tun(void *base, const char *val, char *why, size_t cap)
{
    struct netopts *o = base;
    size_t len = strlen(val);
    if (len == 0 || len > 15 || strpbrk(val, "/ :\"\\")) {
        snprintf(why, cap, "an interface name is 1 to 15 characters, without '/', ':' or spaces");
        return -1;
    }
    memcpy(o->loop.dev.name, val, len + 1);
    o->tun_set = true;
    return 0;
}

/* --dev NAME: the same name rules, and attach instead of create. */
static int set_dev(void *base, const char *val, char *why, size_t cap)
{
    struct netopts *o = base;
    bool had_tun = o->tun_set;
    if (set_tun(base, val, why, cap) < 0)
        return -1;
    o->tun_set = had_tun;
    o->loop.dev.attach = true;
    return 0;
}

static bool parse_uint(const char *s, long lo, long hi, long *out)
{
    /* digits only: strtol alone would take " 7" and "+7" */
    if (!isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "4194304", "4096K", "4M": 1 KiB to 256 MiB. */
static bool parse_bufsize(const char *s, uint32_t *out)
{
    if (!isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || v > (1ull << 28))
        return false;
    if (*end == 'K' || *end == 'k')
        v <<= 10, end++;
    else if (*end == 'M' || *end == 'm')
        v <<= 20, end++;
    if (*end || v < 1024 || v > (1ull << 28))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "10.7.0.1/24" */
static int set_kernel_addr(void *base, const char *s, char *why, size_t cap)
{
    struct netopts *o = base;
    const char *slash = strchr(s, '/');
    char a[16];
    long p;
    if (slash && slash - s <= 15) {
        memcpy(a, s, (size_t)(slash - s));
        a[slash - s] = 0;
        if (wire_addr_parse(a, &o->loop.dev.kernel_addr) == 0 && parse_uint(slash + 1, 1, 30, &p)) {
            o->loop.dev.prefix_len = (uint8_t)p;
            o->kernel_addr_set = true;
            return 0;
        }
    }
    snprintf(why, cap, "write it as A.B.C.D/N with N from 1 to 30, e.g. 10.7.0.1/24");
    return -1;
}

static int set_addr(void *base, const char *s, char *why, size_t cap)
{
    struct netopts *o = base;
    if (wire_addr_parse(s, &o->loop.stack.addr) == 0) {
        o->addr_set = true;
        return 0;
    }
    snprintf(why, cap, "write it as A.B.C.D, e.g. 10.7.0.2");
    return -1;
}

static int set_gateway(void *base, const char *s, char *why, size_t cap)
{
    struct netopts *o = base;
    if (wire_addr_parse(s, &o->gateway) == 0 && o->gateway != 0)
        return 0;
    snprintf(why, cap, "write it as A.B.C.D, normally the kernel's address, e.g. 10.7.0.1");
    return -1;
}

static int set_mtu(void *base, const char *s, char *why, size_t cap)
{
    struct netopts *o = base;
    long n;
    if (!parse_uint(s, 576, 65535, &n)) {
        snprintf(why, cap, "give a whole number from 576 to 65535");
        return -1;
    }
    o->loop.dev.mtu = (unsigned)n;
    o->mtu_set = true;
    return 0;
}

static int set_msl(void *base, const char *val, char *why, size_t cap)
{
    struct netopts *o = base;
    char *end;
    errno = 0;
    double s = strtod(val, &end);
    if (!*val || *end || errno || !isfinite(s) || s <= 0 || s > 3600) {
        snprintf(why, cap,
                 "give seconds, more than 0 and at most 3600 (fractions allowed, e.g. 0.5)");
        return -1;
    }
    o->loop.stack.msl_us = (uint64_t)(s * 1e6 + 0.5);
    if (o->loop.stack.msl_us == 0)
        o->loop.stack.msl_us = 1;
    return 0;
}

static int set_syn_retries(void *base, const char *s, char *why, size_t cap)
{
    struct netopts *o = base;
    long n;
    if (!parse_uint(s, 0, 20, &n)) {
        snprintf(why, cap, "give a whole number from 0 to 20");
        return -1;
    }
    o->loop.stack.syn_retries = (unsigned)n;
    return 0;
}

static int set_buf(uint32_t *field, const char *s, char *why, size_t cap)
{
    if (parse_bufsize(s, field))
        return 0;
    snprintf(why, cap, "give bytes from 1024 to 256M, e.g. 65536, 512K or 4M");
    return -1;
}

static int set_rcvbuf(void *base, const char *s, char *why, size_t cap)
{
    return set_buf(&((struct netopts *)base)->loop.stack.rcvbuf, s, why, cap);
}

static int set_sndbuf(void *base, const char *s, char *why, size_t cap)
{
    return set_buf(&((struct netopts *)base)->loop.stack.sndbuf, s, why, cap);
}

static int set_busy_poll(void *base, const char *s, char *why, size_t cap)
{
    long n;
    if (!parse_uint(s, 0, 1000, &n)) {
        snprintf(why, cap, "give microseconds from 0 (off) to 1000");
        return -1;
    }
    ((struct netopts *)base)->loop.spin_us = (unsigned)n;
    return 0;
}

/* --stretch-acks SIZE|off: how many bytes of in-order data drained in one
 * batch one ACK may cover (stack_config.batch_ack_max; docs/tun.md). */
static int set_stretch_acks(void *base, const char *s, char *why, size_t cap)
{
    uint32_t *max = &((struct netopts *)base)->loop.stack.batch_ack_max;
    if (strcmp(s, "off") == 0) {
        *max = 0;
        return 0;
    }
    uint32_t v;
    if (parse_bufsize(s, &v) && v <= (1u << 20)) {
        *max = v;
        return 0;
    }
    snprintf(why, cap, "give off or bytes from 1024 to 1M, e.g. 64K");
    return -1;
}

static int set_syncookies(void *base, const char *s, char *why, size_t cap)
{
    int mode = tcp_syncookies_parse(s);
    if (mode < 0) {
        snprintf(why, cap, "give never, auto or always");
        return -1;
    }
    ((struct netopts *)base)->loop.stack.syncookies = (enum tcp_syncookies)mode;
    return 0;
}

/* "on" / "off" into *out; anything else is a usage error. */
static int parse_on_off(const char *s, bool *out, char *why, size_t cap)
{
    bool on = strcmp(s, "on") == 0;
    if (!on && strcmp(s, "off") != 0) {
        snprintf(why, cap, "give on or off");
        return -1;
    }
    *out = on;
    return 0;
}

static int set_sack(void *base, const char *s, char *why, size_t cap)
{
    return parse_on_off(s, &((struct netopts *)base)->loop.stack.sack, why, cap);
}

static int set_timestamps(void *base, const char *s, char *why, size_t cap)
{
    return parse_on_off(s, &((struct netopts *)base)->loop.stack.timestamps, why, cap);
}

/* --cc newreno|cubic|off: which congestion control the stack runs. */
static int set_cc(void *base, const char *s, char *why, size_t cap)
{
    struct stack_config *cfg = &((struct netopts *)base)->loop.stack;
    int algo = tcp_cc_algo_parse(s);
    if (algo < 0 && strcmp(s, "off") != 0) {
        snprintf(why, cap, "give newreno, cubic or off");
        return -1;
    }
    cfg->congestion_control = algo >= 0;
    if (algo >= 0)
        cfg->cc_algo = (uint8_t)algo;
    return 0;
}

static uint64_t wall_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const struct cli_opt netopts_table[] = {
    CLI_CUSTOM("tun", 0, "NAME", set_tun, "the TUN interface to create (tl0); must not exist yet"),
    CLI_CUSTOM("dev", 0, "NAME", set_dev,
               "attach to an existing TUN device you own (ip tuntap add NAME mode tun user "
               "$USER): no root needed; its address and MTU are left as set"),
    CLI_CUSTOM("kernel-addr", 0, "A.B.C.D/N", set_kernel_addr,
               "the kernel's address and prefix on it (10.7.0.1/24)"),
    CLI_CUSTOM("addr", 0, "A.B.C.D", set_addr,
               "the tcplab stack's address, in that subnet (10.7.0.2)"),
    CLI_CUSTOM("gateway", 0, "A.B.C.D", set_gateway,
               "the stack's default route, on the subnet (normally the kernel's address): "
               "lets connect reach routed hosts"),
    CLI_CUSTOM("mtu", 0, "N", set_mtu,
               "interface MTU, 576..65535 (1500); the stack's MSS is MTU-40"),
    CLI_CUSTOM("msl", 0, "SECONDS", set_msl,
               "maximum segment lifetime; TIME_WAIT lasts 2*MSL (30)"),
    CLI_CUSTOM("syn-retries", 0, "N", set_syn_retries,
               "SYN retransmissions before giving up, 0..20 (7: 247 s)"),
    CLI_CUSTOM("rcvbuf", 0, "BYTES", set_rcvbuf,
               "receive buffer per connection, 1K..256M (4M); K/M allowed"),
    CLI_CUSTOM("sndbuf", 0, "BYTES", set_sndbuf, "send buffer per connection, 1K..256M (4M)"),
    CLI_CUSTOM("syncookies", 0, "MODE", set_syncookies,
               "SYN cookies (RFC 4987): never, auto (when a SYN queue is full; the default) or "
               "always"),
    CLI_CUSTOM("sack", 0, "on|off", set_sack,
               "selective acknowledgment (RFC 2018) and RFC 6675 loss recovery (on)"),
    CLI_CUSTOM("timestamps", 0, "on|off", set_timestamps,
               "RFC 7323 timestamps: RTT from every ACK's echo, PAWS (on)"),
    CLI_CUSTOM("cc", 0, "ALGO", set_cc,
               "congestion control: newreno (RFC 5681/6582, the default), cubic (RFC 9438, "
               "as Linux) or off"),
    CLI_OUTPUT("pcap", 0, struct netopts, pcap_path, "FILE",
               "write every packet crossing the interface ('-': stdout)"),
    CLI_OUTPUT("trace", 0, struct netopts, trace_path, "FILE",
               "write every event as JSON Lines ('-': stdout)"),
    CLI_FLAG("no-offload", 0, struct netopts, no_offload,
             "plain packets of at most MTU bytes: no vnet header, no 64 KB GSO segments from "
             "the kernel (to see every segment)"),
    CLI_CUSTOM("busy-poll", 0, "US", set_busy_poll,
               "after a wake-up with packets, poll without sleeping for up to US "
               "microseconds (50; 0: off): faster replies, CPU spent waiting"),
    CLI_CUSTOM("stretch-acks", 0, "SIZE", set_stretch_acks,
               "let one ACK cover up to SIZE bytes of in-order data drained at once, as "
               "Linux's GRO does (off: at least one ACK per two full segments, RFC 1122; "
               "the default)"),
    CLI_FLAG("quiet", 'q', struct netopts, quiet,
             "no text trace on stderr (listen's summary at exit stays)"),
    CLI_END,
};

void netopts_defaults(struct netopts *o)
{
    memset(o, 0, sizeof *o);
    tun_loop_config_defaults(&o->loop);
}

static bool check_subnet(struct netopts *o, const struct cli_command *c)
{
    uint32_t k = o->loop.dev.kernel_addr, a = o->loop.stack.addr;
    uint32_t mask = o->loop.dev.prefix_len ? ~0u << (32 - o->loop.dev.prefix_len) : 0;
    char ks[16], as[16];
    wire_addr_str(k, ks);
    wire_addr_str(a, as);
    if ((k & mask) != (a & mask)) {
        cli_usage_error(c,
                        "--addr %s is not in the kernel's subnet (%s with --kernel-addr's "
                        "prefix): the kernel would not route to it",
                        as, ks);
        return false;
    }
    if (k == a || (a & ~mask) == 0 || (a & ~mask) == ~mask || (k & ~mask) == 0 ||
        (k & ~mask) == ~mask) {
        cli_usage_error(c,
                        "--addr %s and --kernel-addr %s must be two different host addresses "
                        "of the subnet (not its network or broadcast address)",
                        as, ks);
        return false;
    }
    return true;
}

/* A next hop is on the link: in the subnet, and not the stack itself. */
static bool check_gateway(struct netopts *o, const struct cli_command *c)
{
    if (!o->gateway)
        return true;
    uint32_t mask = ~0u << (32 - o->loop.dev.prefix_len);
    char g[16], k[16];
    wire_addr_str(o->gateway, g);
    if ((o->gateway & mask) != (o->loop.dev.kernel_addr & mask) ||
        o->gateway == o->loop.stack.addr) {
        cli_usage_error(
            c,
            "--gateway %s is not a next hop on the TUN subnet (%s/%u, the stack is %s): "
            "give the kernel's address, normally --gateway %s",
            g, wire_addr_str(o->loop.dev.kernel_addr & mask, k), o->loop.dev.prefix_len,
            wire_addr_str(o->loop.stack.addr, (char[16]){0}),
            wire_addr_str(o->loop.dev.kernel_addr, (char[16]){0}));
        return false;
    }
    return true;
}

/* --dev: the kernel's side is what the administrator configured; read it
 * so the subnet check, the MSS and the banner are about the real device. */
static bool attach_settings(struct netopts *o, const struct cli_command *c)
{
    const char *name = o->loop.dev.name;
    if (o->tun_set || o->kernel_addr_set || o->mtu_set) {
        cli_usage_error(c, "--dev %s uses the device as its administrator set it up: drop %s", name,
                        o->tun_set           ? "--tun (it creates a device)"
                        : o->kernel_addr_set ? "--kernel-addr (the device has its address)"
                                             : "--mtu (the device has its MTU)");
        return false;
    }
    uint32_t k = 0;
    uint8_t prefix = 0;
    unsigned mtu = o->loop.dev.mtu;
    bool up = true;
    int rc = tun_dev_lookup(name, &k, &prefix, &mtu, &up);
    if (rc == -ENODEV)
        return true; /* opening it says how an administrator makes it */
    if (rc == -ENOENT || prefix == 0 || prefix > 30) {
        cli_usage_error(c,
                        "interface %s has no IPv4 address with a prefix of 1 to 30, so the kernel "
                        "would route nothing to the stack — its administrator gives it one: "
                        "`sudo ip addr add 10.7.0.1/24 dev %s`",
                        name, name);
        return false;
    }
    o->loop.dev.kernel_addr = k;
    o->loop.dev.prefix_len = prefix;
    if (mtu >= 576 && mtu <= 65535) {
        o->loop.dev.mtu = mtu;
        o->loop.stack.mss = (uint16_t)(mtu - 40);
    }
    if (!o->addr_set) {
        /* 10.7.0.2 if it fits, else the kernel's neighbour in its subnet. */
        uint32_t mask = ~0u << (32 - prefix), a = o->loop.stack.addr;
        if ((a & mask) != (k & mask) || a == k) {
            a = k + 1;
            if ((a & ~mask) == ~mask || (a & ~mask) == 0)
                a = k - 1;
            o->loop.stack.addr = a;
        }
    }
    if (!up)
        fprintf(stderr,
                "tcplab %s: warning: interface %s is down; nothing will reach the stack until "
                "its administrator runs `sudo ip link set %s up`\n",
                c->name, name, name);
    return true;
}

enum cli_result netopts_parse(struct netopts *o, int argc, char **argv, const struct cli_command *c,
                              void *const *bases)
{
    struct cli_parsed p;
    enum cli_result r = cli_parse(c, argc, argv, bases, &p);
    if (r != CLI_OK)
        return r;
    o->source = c->name;
    for (int i = 0; i < p.nargs && o->nargs < (int)(sizeof o->args / sizeof o->args[0]); i++)
        o->args[o->nargs++] = p.args[i];
    if (o->no_offload)
        o->loop.offload = false;
    if (o->mtu_set)
        o->loop.stack.mss = (uint16_t)(o->loop.dev.mtu - 40);
    if (cli_is_stdout(o->pcap_path) && cli_is_stdout(o->trace_path)) {
        cli_usage_error(c, "--pcap and --trace cannot both write to standard output ('-')");
        return CLI_USAGE;
    }
    if (o->loop.dev.attach && !attach_settings(o, c))
        return CLI_USAGE;
    if (!check_subnet(o, c) || !check_gateway(o, c))
        return CLI_USAGE;
    return CLI_OK;
}

bool netopts_reachable(const struct netopts *o, uint32_t addr)
{
    uint32_t mask = o->loop.dev.prefix_len ? ~0u << (32 - o->loop.dev.prefix_len) : 0;
    if (addr == o->loop.stack.addr)
        return false;
    return (addr & mask) == (o->loop.dev.kernel_addr & mask) || o->gateway != 0;
}

void netopts_sinks_anchor(struct netopts_sinks *s, uint64_t loop_now_us)
{
    if (s->pcap)
        pcap_out_set_epoch(s->pcap, wall_now_us() - loop_now_us);
}

static void packet_to_pcap(void *ctx, uint64_t t_us, enum tev_dir dir, const uint8_t *pkt,
                           size_t len)
{
    (void)dir;
    pcap_out_packet(ctx, t_us, pkt, len);
}

int netopts_open_sinks(struct netopts *o, struct netopts_sinks *s, tev_fn extra, void *extra_ctx)
{
    memset(s, 0, sizeof *s);
    if (!o->quiet && !o->ui) {
        trace_text_init(&s->text, stderr, true);
        tev_fanout_add(&s->fanout, trace_text_event, &s->text);
    }
    if (o->trace_path) {
        s->json = cli_open_output(o->trace_path, "w");
        if (!s->json) {
            fprintf(stderr, "tcplab: cannot write the trace file %s: %s — check the path\n",
                    o->trace_path, strerror(errno));
            return -1;
        }
        char config[600], k[16], a[16], g[16];
        snprintf(config, sizeof config,
                 "{\"tun\":\"%s\",\"kernel_addr\":\"%s/%u\",\"addr\":\"%s\",\"mtu\":%u,"
                 "\"mss\":%u,\"msl_us\":%llu,\"syn_retries\":%u,\"rcvbuf\":%u,\"sndbuf\":%u,"
                 "\"attach\":%s,\"gateway\":\"%s\"}",
                 o->loop.dev.name, wire_addr_str(o->loop.dev.kernel_addr, k),
                 o->loop.dev.prefix_len, wire_addr_str(o->loop.stack.addr, a), o->loop.dev.mtu,
                 o->loop.stack.mss, (unsigned long long)o->loop.stack.msl_us,
                 o->loop.stack.syn_retries, o->loop.stack.rcvbuf, o->loop.stack.sndbuf,
                 o->loop.dev.attach ? "true" : "false",
                 o->gateway ? wire_addr_str(o->gateway, g) : "");
        /* t=0 is the loop's start, a moment from now: the wall clock of it. */
        trace_json_start(s->json, o->source ? o->source : "tun", TCPLAB_VERSION, wall_now_us(),
                         config);
        tev_fanout_add(&s->fanout, trace_json_event, s->json);
    }
    if (o->pcap_path) {
        char err[256] = "";
        s->pcap = pcap_out_open(o->pcap_path, err, sizeof err);
        if (!s->pcap) {
            fprintf(stderr, "tcplab: cannot write the pcap file %s: %s — check the path\n",
                    o->pcap_path, err);
            cli_close_output(s->json);
            s->json = NULL;
            return -1;
        }
        o->loop.on_packet = packet_to_pcap;
        o->loop.packet_ctx = s->pcap;
        /* Until the loop exists and anchors it (netopts_sinks_anchor): now. */
        pcap_out_set_epoch(s->pcap, wall_now_us());
        tev_fanout_add(&s->fanout, pcap_out_annotate, s->pcap);
    }
    if (extra)
        tev_fanout_add(&s->fanout, extra, extra_ctx);
    if (s->fanout.n > 0) {
        o->loop.on_event = tev_fanout_event;
        o->loop.event_ctx = &s->fanout;
    }
    /* Reading the kernel's sockets costs a netlink dump; do it only when
     * someone is going to see the result. */
    o->loop.kernel_state = s->fanout.n > 0;
    return 0;
}

void netopts_flush_sinks(struct netopts_sinks *s)
{
    if (s->json)
        fflush(s->json);
}

void netopts_close_sinks(struct netopts_sinks *s)
{
    cli_close_output(s->json);
    if (s->pcap)
        pcap_out_close(s->pcap);
    s->json = NULL;
    s->pcap = NULL;
}
