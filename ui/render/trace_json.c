/*
 * trace_json.c — the event stream as JSON Lines (docs/architecture.md):
 * one object per event, each with "t" (seconds, microsecond precision) and
 * "ev". This is the machine-readable trace written by --trace FILE.jsonl;
 * sequence numbers are absolute, so a reader can match it against a pcap.
 *
 *   {"t":0.001,"ev":"seg","host":"client","dir":"out","src":"10.7.0.2:40000",
 *    "dst":"10.7.0.1:8080","flags":"S","seq":N,"ack":N,"len":0,"win":65535,
 *    "opts":{"mss":1460}}
 *   {"t":0.001,"ev":"state","host":"client","conn":"10.7.0.2:40000-10.7.0.1:8080",
 *    "from":"CLOSED","to":"SYN_SENT","cause":"connect()"}
 *   {"ev":"drop","reason":"bad_checksum",...}  {"ev":"timer","timer":"rtx",
 *    "action":"arm","deadline":1.001,...}  {"ev":"call","call":"connect",
 *    "result":0 | "ECONNREFUSED",...}  {"ev":"icmp",...}  {"ev":"link",...}
 *   {"ev":"kernel","conn":...,"state":"TIME_WAIT",...}
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

#include "trace.h"
#include "trace_util.h"

/* One line under construction; `len` may pass `cap`, then the line is
 * dropped rather than written cut (a cut line is not JSON). */
struct jbuf {
    char buf[1024];
    size_t len;
};

static void jb_printf(struct jbuf *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jb_printf(struct jbuf *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = j->len < sizeof j->buf ? sizeof j->buf - j->len : 0;
    int n = vsnprintf(room ? j->buf + j->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        j->len += (size_t)n;
}

/* A JSON string (RFC 8259 §7): quote, backslash and control characters
 * escaped; other bytes, UTF-8 included, pass through. */
static void jb_string(struct jbuf *j, const char *s)
{
    jb_printf(j, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"':
            jb_printf(j, "\\\"");
            break;
        case '\\':
            jb_printf(j, "\\\\");
            break;
        case '\n':
            jb_printf(j, "\\n");
            break;
        case '\r':
            jb_printf(j, "\\r");
            break;
        case '\t':
            jb_printf(j, "\\t");
            break;
        case '\b':
            jb_printf(j, "\\b");
            break;
        case '\f':
            jb_printf(j, "\\f");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                jb_printf(j, "\\u%04x", *p);
            else
                jb_printf(j, "%c", *p);
        }
    }
    jb_printf(j, "\"");
}

/* `,"key":"value"` */
static void jb_str_field(struct jbuf *j, const char *key, const char *value)
{
    jb_printf(j, ",\"%s\":", key);
    jb_string(j, value);
}

/* Seconds with microsecond precision, trailing zeros dropped: 0.001, 1.5,
 * 2. Printed from integers so the same time always gives the same text. */
static void jb_seconds_value(struct jbuf *j, uint64_t us)
{
    uint64_t frac = us % 1000000;
    jb_printf(j, "%" PRIu64, us / 1000000);
    if (frac) {
        int digits = 6;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        jb_printf(j, ".%0*" PRIu64, digits, frac);
    }
}

static void jb_seconds(struct jbuf *j, const char *key, uint64_t us)
{
    jb_printf(j, ",\"%s\":", key);
    jb_seconds_value(j, us);
}

static void jb_endpoint(struct jbuf *j, const char *key, uint32_t addr, uint16_t port)
{
    char a[16];
    jb_printf(j, ",\"%s\":\"%s:%u\"", key, wire_addr_str(addr, a), port);
}

/* "conn":"10.7.0.2:40000-10.7.0.1:8080", local end first. */
static void jb_conn(struct jbuf *j, const struct tcp_tuple *tu)
{
    char a[16], b[16];
    jb_printf(j, ",\"conn\":\"%s:%u-%s:%u\"", wire_addr_str(tu->laddr, a), tu->lport,
              wire_addr_str(tu->raddr, b), tu->rport);
}

static bool tuple_set(const struct tcp_tuple *tu)
{
    return tu->laddr || tu->raddr || tu->lport || tu->rport;
}

/* The TCP header fields of a segment, shared by "seg" and "link". */
static void jb_tcp(struct jbuf *j, uint32_t src, uint32_t dst, const struct wire_tcp *tcp)
{
    char flags[10];
    jb_endpoint(j, "src", src, tcp->sport);
    jb_endpoint(j, "dst", dst, tcp->dport);
    jb_str_field(j, "flags", wire_flags_str(tcp->flags, flags));
    jb_printf(j, ",\"seq\":%" PRIu32 ",\"ack\":%" PRIu32 ",\"len\":%zu,\"win\":%u", tcp->seq,
              tcp->ack, tcp->payload_len, tcp->win);
    const struct wire_tcp_opts *o = &tcp->opts;
    if (!(o->has_mss || o->has_wscale || o->sack_permitted || o->has_ts || o->n_sack))
        return;
    const char *sep = "";
    jb_printf(j, ",\"opts\":{");
    if (o->has_mss) {
        jb_printf(j, "%s\"mss\":%u", sep, o->mss);
        sep = ",";
    }
    if (o->has_wscale) {
        jb_printf(j, "%s\"wscale\":%u", sep, o->wscale);
        sep = ",";
    }
    if (o->sack_permitted) {
        jb_printf(j, "%s\"sackok\":true", sep);
        sep = ",";
    }
    if (o->has_ts) {
        jb_printf(j, "%s\"ts\":[%" PRIu32 ",%" PRIu32 "]", sep, o->ts_val, o->ts_ecr);
        sep = ",";
    }
    if (o->n_sack) {
        /* absolute sequence numbers, like seq and ack */
        jb_printf(j, "%s\"sack\":[", sep);
        for (unsigned k = 0; k < o->n_sack; k++)
            jb_printf(j, "%s[%" PRIu32 ",%" PRIu32 "]", k ? "," : "", o->sack[k].left,
                      o->sack[k].right);
        jb_printf(j, "]");
    }
    jb_printf(j, "}");
}

/* A raw packet's TCP fields, when it parses (link and drop events). */
static void jb_raw_packet(struct jbuf *j, const uint8_t *raw, size_t len)
{
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    if (!raw)
        return;
    jb_printf(j, ",\"bytes\":%zu", len);
    if (wire_ipv4_parse(raw, len, &ip) == WIRE_OK && wire_tcp_parse(&ip, &tcp) == WIRE_OK)
        jb_tcp(j, ip.src, ip.dst, &tcp);
}

static const char *const kind_names[TEV_NKINDS] = {
    [TEV_SEGMENT] = "seg", [TEV_STATE] = "state", [TEV_TIMER] = "timer", [TEV_DROP] = "drop",
    [TEV_CALL] = "call",   [TEV_ICMP] = "icmp",   [TEV_LINK] = "link",   [TEV_KERNEL] = "kernel",
    [TEV_CC] = "cc",       [TEV_READY] = "ready", [TEV_RTT] = "rtt",
    [TEV_DATAGRAM] = "dgram",
    [TEV_SACK] = "sack",
};

static const char *const timer_actions[] = {
    [TEV_TIMER_ARM] = "arm", [TEV_TIMER_FIRE] = "fire", [TEV_TIMER_CANCEL] = "cancel"};

static void format_event(struct jbuf *j, const struct tev *ev)
{
    jb_printf(j, "{\"t\":");
    jb_seconds_value(j, ev->t_us);
    jb_str_field(j, "ev", kind_names[ev->kind]);
    if (ev->host)
        jb_str_field(j, "host", ev->host);

    switch (ev->kind) {
    case TEV_SEGMENT:
        jb_str_field(j, "dir", ev->u.seg.dir == TEV_OUT ? "out" : "in");
        jb_tcp(j, ev->u.seg.src, ev->u.seg.dst, &ev->u.seg.tcp);
        if (ev->u.seg.retransmission)
            jb_printf(j, ",\"rtx\":true");
        if (ev->u.seg.probe)
            jb_printf(j, ",\"probe\":true");
        if (ev->u.seg.cookie)
            jb_printf(j, ",\"cookie\":true");
        break;
    case TEV_STATE:
        jb_conn(j, &ev->tuple);
        jb_str_field(j, "from", tcp_state_name(ev->u.state.from));
        jb_str_field(j, "to", tcp_state_name(ev->u.state.to));
        jb_str_field(j, "cause", ev->u.state.cause);
        break;
    case TEV_TIMER:
        if (tuple_set(&ev->tuple))
            jb_conn(j, &ev->tuple);
        jb_str_field(j, "timer", tcp_timer_name(ev->u.timer.which));
        jb_str_field(j, "action",
                     (unsigned)ev->u.timer.action <= TEV_TIMER_CANCEL
                         ? timer_actions[ev->u.timer.action]
                         : "?");
        if (ev->u.timer.action != TEV_TIMER_CANCEL)
            jb_seconds(j, "deadline", ev->u.timer.deadline_us);
        if (ev->u.timer.which == TCP_TIMER_RTX)
            jb_printf(j, ",\"backoff\":%u", ev->u.timer.backoff);
        break;
    case TEV_DROP:
        jb_str_field(j, "reason", tev_drop_reason_name(ev->u.drop.reason));
        jb_str_field(j, "dir", ev->u.drop.dir == TEV_OUT ? "out" : "in");
        jb_raw_packet(j, ev->u.drop.raw, ev->u.drop.raw_len);
        break;
    case TEV_CALL: {
        long r = ev->u.call.result;
        const char *name = r < 0 ? trace_errno_name(-r) : NULL;
        jb_printf(j, ",\"sd\":%d", ev->sd);
        if (tuple_set(&ev->tuple))
            jb_conn(j, &ev->tuple);
        jb_str_field(j, "call", tcp_call_name(ev->u.call.call));
        jb_printf(j, ",\"arg\":%ld", ev->u.call.arg);
        if (ev->u.call.call == TCP_CALL_SETSOCKOPT)
            jb_str_field(j, "opt", trace_sockopt_name(ev->u.call.arg));
        if (ev->u.call.call == TCP_CALL_GETSOCKOPT)
            jb_str_field(j, "opt", "SO_ERROR"); /* result: the error read, 0 or its name */
        if (name)
            jb_str_field(j, "result", name);
        else
            jb_printf(j, ",\"result\":%ld", r);
        break;
    }
    case TEV_ICMP: {
        char a[16], b[16];
        jb_printf(j, ",\"type\":\"echo\",\"src\":\"%s\",\"dst\":\"%s\",\"id\":%u,\"seq\":%u",
                  wire_addr_str(ev->u.icmp.src, a), wire_addr_str(ev->u.icmp.dst, b), ev->u.icmp.id,
                  ev->u.icmp.seqno);
        break;
    }
    case TEV_LINK:
        jb_str_field(j, "action", tev_link_action_name(ev->u.link.action));
        if (ev->u.link.action == TEV_LINK_CABLE) {
            jb_str_field(j, "cable", ev->u.link.arg ? "restored" : "cut");
            break;
        }
        jb_str_field(j, "from", ev->u.link.from);
        jb_str_field(j, "to", ev->u.link.to);
        if (ev->u.link.action == TEV_LINK_DELAYED || ev->u.link.action == TEV_LINK_REORDERED)
            jb_seconds(j, "until", ev->u.link.until_us);
        jb_raw_packet(j, ev->u.link.raw, ev->u.link.raw_len);
        break;
    case TEV_KERNEL:
        jb_conn(j, &ev->tuple);
        jb_str_field(j, "state", tcp_state_name(ev->u.kernel.state));
        if (ev->u.kernel.prev < TCP_NSTATES)
            jb_str_field(j, "prev", tcp_state_name(ev->u.kernel.prev));
        jb_printf(j, ",\"gone\":%s", ev->u.kernel.gone ? "true" : "false");
        if (ev->u.kernel.traced) /* from the tracepoint, not a sample */
            jb_printf(j, ",\"traced\":true");
        break;
    case TEV_DATAGRAM:
        jb_str_field(j, "dir", ev->u.dgram.dir == TEV_OUT ? "out" : "in");
        jb_endpoint(j, "src", ev->u.dgram.src, ev->u.dgram.udp.sport);
        jb_endpoint(j, "dst", ev->u.dgram.dst, ev->u.dgram.udp.dport);
        jb_printf(j, ",\"len\":%zu", ev->u.dgram.udp.payload_len);
        break;
    case TEV_READY: {
        char asked[40], got[40];
        jb_printf(j, ",\"sd\":%d", ev->sd);
        if (tuple_set(&ev->tuple))
            jb_conn(j, &ev->tuple);
        jb_str_field(j, "events", tcp_poll_str(ev->u.ready.events, false, asked, sizeof asked));
        jb_str_field(j, "revents", tcp_poll_str(ev->u.ready.revents, false, got, sizeof got));
        break;
    }
    case TEV_CC:
        jb_conn(j, &ev->tuple);
        jb_printf(j, ",\"cwnd\":%" PRIu32 ",\"ssthresh\":%" PRIu32 ",\"flight\":%" PRIu32,
                  ev->u.cc.cwnd, ev->u.cc.ssthresh, ev->u.cc.flight);
        jb_str_field(j, "phase", tcp_cc_phase_name(ev->u.cc.phase));
        jb_str_field(j, "cause", ev->u.cc.cause ? ev->u.cc.cause : "?");
        if (ev->u.cc.algo) {
            jb_str_field(j, "cc", ev->u.cc.algo);
            if (strcmp(ev->u.cc.algo, "newreno")) {
                jb_printf(j, ",\"w_max\":%" PRIu32, ev->u.cc.w_max);
                jb_seconds(j, "k", ev->u.cc.k_us);
            }
        }
        break;
    case TEV_RTT:
        jb_conn(j, &ev->tuple);
        jb_seconds(j, "sample", ev->u.rtt.sample_us);
        jb_seconds(j, "srtt", ev->u.rtt.srtt_us);
        jb_seconds(j, "rttvar", ev->u.rtt.rttvar_us);
        jb_seconds(j, "rto", ev->u.rtt.rto_us);
        jb_str_field(j, "from", ev->u.rtt.from_ts ? "ts" : "timed");
        if (ev->u.rtt.from_ts)
            jb_printf(j, ",\"ecr\":%" PRIu32, ev->u.rtt.ts_ecr);
        break;
    case TEV_SACK:
        jb_conn(j, &ev->tuple);
        jb_str_field(j, "what", tev_sack_what_name(ev->u.sack.what));
        if (ev->u.sack.reason)
            jb_str_field(j, "reason", ev->u.sack.reason);
        jb_printf(j, ",\"left\":%" PRIu32 ",\"right\":%" PRIu32, ev->u.sack.left,
                  ev->u.sack.right);
        break;
    case TEV_NKINDS:
        break;
    }
    jb_printf(j, "}\n");
}

void trace_json_event(void *ctx, const struct tev *ev)
{
    FILE *out = ctx;
    if (!out || (unsigned)ev->kind >= TEV_NKINDS)
        return;
    struct jbuf j = {.len = 0};
    format_event(&j, ev);
    if (j.len < sizeof j.buf)
        fwrite(j.buf, 1, j.len, out);
}

void trace_json_start(FILE *out, const char *source, const char *version, uint64_t wall_us,
                      const char *config)
{
    if (!out)
        return;
    time_t secs = (time_t)(wall_us / 1000000u);
    struct tm tm;
    char iso[32] = "";
    if (gmtime_r(&secs, &tm))
        strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
    /* source, version and config come from the program, not from the wire */
    fprintf(out,
            "{\"t\":0,\"ev\":\"start\",\"wall\":\"%s.%06uZ\",\"wall_us\":%llu,"
            "\"version\":\"%s\",\"source\":\"%s\",\"config\":%s}\n",
            iso, (unsigned)(wall_us % 1000000u), (unsigned long long)wall_us, version, source,
            config && *config ? config : "{}");
}
