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

#include "commands.h"

const char netopts_help[] =
    "net options:\n"
    "  --tun NAME               TUN interface to create (tl0); must not exist yet\n"
    "  --kernel-addr A.B.C.D/N  the kernel's address and prefix on it (10.7.0.1/24)\n"
    "  --addr A.B.C.D           the tcplab stack's address, in that subnet (10.7.0.2)\n"
    "  --mtu N                  interface MTU, 576..65535 (1500); the stack's MSS is MTU-40\n"
    "  --msl SECONDS            maximum segment lifetime; TIME_WAIT lasts 2*MSL (30)\n"
    "  --syn-retries N          SYN retransmissions before giving up, 0..20 (6)\n"
    "  --rcvbuf BYTES           receive buffer per connection, 1K..256M (4M); K/M allowed\n"
    "  --sndbuf BYTES           send buffer per connection, 1K..256M (4M)\n"
    "  --syncookies MODE        SYN cookies (RFC 4987): never, auto (when a SYN queue is\n"
    "                           full; the default) or always\n"
    "  --pcap FILE              write every packet crossing the interface (Wireshark)\n"
    "  --trace FILE.jsonl       write every event as JSON Lines\n"
    "  --quiet                  no text trace on stderr (listen's summary at exit stays)\n"
    "  --help, --version\n";

static void usage_error(const char *cmd, const char *usage, const char *fmt, const char *a,
                        const char *b)
{
    fprintf(stderr, "tcplab %s: ", cmd);
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    const char *nl = strchr(usage, '\n');
    fprintf(stderr, "%.*s\nTry 'tcplab %s --help'.\n", nl ? (int)(nl - usage) : (int)strlen(usage),
            usage, cmd);
}

static bool parse_long(const char *s, long lo, long hi, long *out)
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
static bool parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash - s > 15)
        return false;
    char a[16];
    memcpy(a, s, (size_t)(slash - s));
    a[slash - s] = 0;
    long p;
    if (wire_addr_parse(a, addr) < 0 || !parse_long(slash + 1, 1, 30, &p))
        return false;
    *prefix = (uint8_t)p;
    return true;
}

static bool check_subnet(struct netopts *o, const char *cmd, const char *usage)
{
    uint32_t k = o->loop.dev.kernel_addr, a = o->loop.stack.addr;
    uint32_t mask = o->loop.dev.prefix_len ? ~0u << (32 - o->loop.dev.prefix_len) : 0;
    char ks[16], as[16];
    wire_addr_str(k, ks);
    wire_addr_str(a, as);
    if ((k & mask) != (a & mask)) {
        usage_error(cmd, usage,
                    "--addr %s is not in the kernel's subnet (%s with --kernel-addr's prefix): "
                    "the kernel would not route to it",
                    as, ks);
        return false;
    }
    if (k == a || (a & ~mask) == 0 || (a & ~mask) == ~mask || (k & ~mask) == 0 ||
        (k & ~mask) == ~mask) {
        usage_error(cmd, usage,
                    "--addr %s and --kernel-addr %s must be two different host addresses of "
                    "the subnet (not its network or broadcast address)",
                    as, ks);
        return false;
    }
    return true;
}

enum netopts_result netopts_parse(struct netopts *o, int argc, char **argv, const char *cmd,
                                  const char *usage, bool allow_ui)
{
    memset(o, 0, sizeof *o);
    tun_loop_config_defaults(&o->loop);
    bool mss_set = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (arg[0] != '-' || !strcmp(arg, "-")) {
            if (o->nargs == (int)(sizeof o->args / sizeof o->args[0])) {
                usage_error(cmd, usage, "too many arguments (at most 16)%s%s", "", "");
                return NETOPTS_USAGE;
            }
            o->args[o->nargs++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            while (++i < argc && o->nargs < 16)
                o->args[o->nargs++] = argv[i];
            break;
        }
        /* --name=value or --name value */
        char name[32];
        const char *val = NULL;
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        if (nlen >= sizeof name) {
            usage_error(cmd, usage, "unknown option '%s'%s", arg, "");
            return NETOPTS_USAGE;
        }
        memcpy(name, arg, nlen);
        name[nlen] = 0;
        if (eq)
            val = eq + 1;
        if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            printf("%s\n%s", usage, netopts_help);
            return NETOPTS_EXIT0;
        }
        if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
            printf("tcplab %s\n", TCPLAB_VERSION);
            return NETOPTS_EXIT0;
        }
        if (!strcmp(name, "--quiet") || !strcmp(name, "-q")) {
            o->quiet = true;
            continue;
        }
        if (!strcmp(name, "--ui") && allow_ui) {
            o->ui = true;
            continue;
        }
        static const char *const with_value[] = {"--tun", "--kernel-addr", "--addr", "--mtu",
                                                 "--msl", "--syn-retries", "--pcap", "--trace",
                                                 "--rcvbuf", "--sndbuf", "--syncookies"};
        bool known = false;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            known |= !strcmp(name, with_value[k]);
        if (!known) {
            usage_error(cmd, usage, "unknown option '%s'%s", arg, "");
            return NETOPTS_USAGE;
        }
        if (!val) {
            if (i + 1 >= argc) {
                usage_error(cmd, usage, "option %s needs a value%s", name, "");
                return NETOPTS_USAGE;
            }
            val = argv[++i];
        }
        long n;
        if (!strcmp(name, "--tun")) {
            size_t len = strlen(val);
            if (len == 0 || len > 15 || strchr(val, '/') || strchr(val, ' ') || strchr(val, ':')) {
                usage_error(cmd, usage,
                            "bad interface name '%s' for --tun: use 1 to 15 characters, "
                            "no '/', ':' or spaces%s",
                            val, "");
                return NETOPTS_USAGE;
            }
            memcpy(o->loop.dev.name, val, len + 1);
        } else if (!strcmp(name, "--kernel-addr")) {
            if (!parse_cidr(val, &o->loop.dev.kernel_addr, &o->loop.dev.prefix_len)) {
                usage_error(cmd, usage,
                            "bad --kernel-addr '%s': write it as A.B.C.D/N with N from 1 to 30, "
                            "e.g. 10.7.0.1/24%s",
                            val, "");
                return NETOPTS_USAGE;
            }
        } else if (!strcmp(name, "--addr")) {
            if (wire_addr_parse(val, &o->loop.stack.addr) < 0) {
                usage_error(cmd, usage, "bad --addr '%s': write it as A.B.C.D, e.g. 10.7.0.2%s",
                            val, "");
                return NETOPTS_USAGE;
            }
        } else if (!strcmp(name, "--mtu")) {
            if (!parse_long(val, 576, 65535, &n)) {
                usage_error(cmd, usage, "bad --mtu '%s': use a number from 576 to 65535%s", val,
                            "");
                return NETOPTS_USAGE;
            }
            o->loop.dev.mtu = (unsigned)n;
            mss_set = true;
        } else if (!strcmp(name, "--msl")) {
            char *end;
            errno = 0;
            double s = strtod(val, &end);
            if (!*val || *end || errno || !isfinite(s) || s <= 0 || s > 3600) {
                usage_error(cmd, usage,
                            "bad --msl '%s': give seconds, more than 0 and at most 3600 "
                            "(fractions allowed, e.g. 0.5)%s",
                            val, "");
                return NETOPTS_USAGE;
            }
            o->loop.stack.msl_us = (uint64_t)(s * 1e6 + 0.5);
            if (o->loop.stack.msl_us == 0)
                o->loop.stack.msl_us = 1;
        } else if (!strcmp(name, "--syncookies")) {
            int mode = tcp_syncookies_parse(val);
            if (mode < 0) {
                usage_error(cmd, usage, "bad --syncookies '%s': use never, auto or always%s", val,
                            "");
                return NETOPTS_USAGE;
            }
            o->loop.stack.syncookies = (enum tcp_syncookies)mode;
        } else if (!strcmp(name, "--syn-retries")) {
            if (!parse_long(val, 0, 20, &n)) {
                usage_error(cmd, usage, "bad --syn-retries '%s': use a number from 0 to 20%s", val,
                            "");
                return NETOPTS_USAGE;
            }
            o->loop.stack.syn_retries = (unsigned)n;
        } else if (!strcmp(name, "--rcvbuf") || !strcmp(name, "--sndbuf")) {
            bool rcv = name[2] == 'r';
            if (!parse_bufsize(val, rcv ? &o->loop.stack.rcvbuf : &o->loop.stack.sndbuf)) {
                usage_error(cmd, usage,
                            "bad %s '%s': give bytes from 1024 to 256M, e.g. 65536, 512K or 4M",
                            name, val);
                return NETOPTS_USAGE;
            }
        } else if (!strcmp(name, "--pcap")) {
            o->pcap_path = val;
        } else if (!strcmp(name, "--trace")) {
            o->trace_path = val;
        }
    }
    if (mss_set)
        o->loop.stack.mss = (uint16_t)(o->loop.dev.mtu - 40);
    if (!check_subnet(o, cmd, usage))
        return NETOPTS_USAGE;
    return NETOPTS_OK;
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
        s->json = fopen(o->trace_path, "w");
        if (!s->json) {
            fprintf(stderr, "tcplab: cannot write the trace file %s: %s — check the path\n",
                    o->trace_path, strerror(errno));
            return -1;
        }
        tev_fanout_add(&s->fanout, trace_json_event, s->json);
    }
    if (o->pcap_path) {
        char err[256] = "";
        s->pcap = pcap_out_open(o->pcap_path, err, sizeof err);
        if (!s->pcap) {
            fprintf(stderr, "tcplab: cannot write the pcap file %s: %s — check the path\n",
                    o->pcap_path, err);
            if (s->json)
                fclose(s->json);
            s->json = NULL;
            return -1;
        }
        o->loop.on_packet = packet_to_pcap;
        o->loop.packet_ctx = s->pcap;
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
    if (s->json)
        fclose(s->json);
    if (s->pcap)
        pcap_out_close(s->pcap);
    s->json = NULL;
    s->pcap = NULL;
}
