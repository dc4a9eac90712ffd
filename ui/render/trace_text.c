/*
 * trace_text.c — the event stream as a tcpdump-like text trace, one line per
 * event (docs/architecture.md). Without --quiet this is what `tcplab
 * listen` and `tcplab connect` print on stderr, and a normalised form of it
 * (times removed) is the golden trace of every scenario, so the output
 * holds nothing that changes from run to run: no pointers, no wall clock.
 *
 * Every line starts with the event time in seconds and the reporting host:
 *     0.001000 client  out 10.7.0.2.40000 > 10.7.0.1.8080: Flags [S], seq 0, win 65535, ...
 *     0.001000 client  CLOSED -> SYN_SENT (connect())
 * Segments are written as tcpdump writes them (flag letters, "seq a:b",
 * options), with "out"/"in " saying which way the segment crossed the
 * reporting host, as tcpdump -i any does. Sequence numbers are relative
 * to each side's initial sequence number unless `relative` is false.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tcp.h" /* enum tcp_shut, enum tcp_sockopt */
#include "trace.h"
#include "trace_util.h"

/* ---- a bounded line builder ------------------------------------------------------ */

struct line {
    char *buf;
    size_t cap, len; /* len may exceed cap: the line was cut */
};

static void line_printf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line_printf(struct line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = l->len < l->cap ? l->cap - l->len : 0;
    int n = vsnprintf(room ? l->buf + l->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n;
}

/* ---- pieces shared by several kinds of line ----------------------------------------- */

/* Seconds with microseconds, from integers: no floating point, so the same
 * time always prints the same way. */
static void put_time(struct line *l, uint64_t t_us)
{
    line_printf(l, "%3" PRIu64 ".%06" PRIu64, t_us / 1000000, t_us % 1000000);
}

static void put_endpoint(struct line *l, uint32_t addr, uint16_t port)
{
    char a[16];
    line_printf(l, "%s.%u", wire_addr_str(addr, a), port);
}

/* The errno names the socket API uses, for call results (also used by the
 * JSON renderer). */
const char *trace_errno_name(long err)
{
    switch (err) {
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case ECONNRESET:
        return "ECONNRESET";
    case ECONNABORTED:
        return "ECONNABORTED";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case EADDRINUSE:
        return "EADDRINUSE";
    case EADDRNOTAVAIL:
        return "EADDRNOTAVAIL";
    case ENOTCONN:
        return "ENOTCONN";
    case EISCONN:
        return "EISCONN";
    case EPIPE:
        return "EPIPE";
    case EAGAIN:
        return "EAGAIN";
    case EINPROGRESS:
        return "EINPROGRESS";
    case EALREADY:
        return "EALREADY";
    case EINVAL:
        return "EINVAL";
    case EBADF:
        return "EBADF";
    case ENOTSOCK:
        return "ENOTSOCK";
    case EMFILE:
        return "EMFILE";
    case ENOMEM:
        return "ENOMEM";
    case ENOBUFS:
        return "ENOBUFS";
    case EOPNOTSUPP:
        return "EOPNOTSUPP";
    case ENETUNREACH:
        return "ENETUNREACH";
    case EHOSTUNREACH:
        return "EHOSTUNREACH";
    case EDESTADDRREQ:
        return "EDESTADDRREQ";
    case ENOPROTOOPT:
        return "ENOPROTOOPT";
    }
    return NULL;
}

/* The socket API's name for each option tcp_setsockopt() takes (the
 * setsockopt event carries the option, not the value). */
const char *trace_sockopt_name(long opt)
{
    switch (opt) {
    case TCP_OPT_KEEPALIVE:
        return "SO_KEEPALIVE";
    case TCP_OPT_KEEPIDLE:
        return "TCP_KEEPIDLE";
    case TCP_OPT_KEEPINTVL:
        return "TCP_KEEPINTVL";
    case TCP_OPT_KEEPCNT:
        return "TCP_KEEPCNT";
    case TCP_OPT_NODELAY:
        return "TCP_NODELAY";
    case TCP_OPT_REUSEADDR:
        return "SO_REUSEADDR";
    case TCP_OPT_LINGER0:
        return "SO_LINGER";
    case TCP_OPT_DELACK:
        return "DELAYED_ACK"; /* tcplab's own switch */
    case TCP_OPT_SNDBUF:
        return "SO_SNDBUF";
    case TCP_OPT_RCVBUF:
        return "SO_RCVBUF";
    case TCP_OPT_USER_TIMEOUT:
        return "TCP_USER_TIMEOUT";
    case TCP_OPT_SACK:
        return "SACK"; /* tcplab's own switch (Linux: the sysctl tcp_sack) */
    case TCP_OPT_TTL:
        return "IP_TTL";
    case TCP_OPT_TOS:
        return "IP_TOS";
    }
    return "?";
}

/* "0", "5", "ECONNREFUSED", or "errno 99" for one without a name here. */
static void put_call_result(struct line *l, long result)
{
    const char *name = result < 0 ? trace_errno_name(-result) : NULL;
    if (name)
        line_printf(l, "%s", name);
    else if (result < 0)
        line_printf(l, "errno %ld", -result);
    else
        line_printf(l, "%ld", result);
}

/* "Flags [S.], seq 0, ack 1, win 65535, options [mss 1460], length 0" */
static void put_segment_body(struct line *l, struct trace_text *t, uint32_t src, uint32_t dst,
                             const struct wire_tcp *tcp)
{
    uint32_t seq = tcp->seq, ack = tcp->ack;
    if (t->relative) {
        struct relseq_seg r;
        relseq_observe(&t->seqmap, src, tcp->sport, dst, tcp->dport, tcp, &r);
        seq = r.seq;
        ack = r.ack;
    }
    char flags[10];
    line_printf(l, "Flags [%s]", wire_flags_str(tcp->flags, flags));
    /* tcpdump shows seq only when the segment occupies sequence space or
     * is a RST, and a range a:b when it carries data. */
    if (tcp->payload_len)
        line_printf(l, ", seq %" PRIu32 ":%" PRIu32, seq, seq + (uint32_t)tcp->payload_len);
    else if (tcp->flags & (TCP_SYN | TCP_FIN | TCP_RST))
        line_printf(l, ", seq %" PRIu32, seq);
    if (tcp->flags & TCP_ACK)
        line_printf(l, ", ack %" PRIu32, ack);
    line_printf(l, ", win %u", tcp->win);
    const struct wire_tcp_opts *o = &tcp->opts;
    if (o->has_mss || o->has_wscale || o->sack_permitted || o->has_ts || o->n_sack ||
        o->n_unknown) {
        const char *sep = "";
        line_printf(l, ", options [");
        if (o->has_mss) {
            line_printf(l, "%smss %u", sep, o->mss);
            sep = ",";
        }
        if (o->sack_permitted) {
            line_printf(l, "%ssackOK", sep);
            sep = ",";
        }
        if (o->has_ts) {
            line_printf(l, "%sTS val %" PRIu32 " ecr %" PRIu32, sep, o->ts_val, o->ts_ecr);
            sep = ",";
        }
        if (o->has_wscale) {
            line_printf(l, "%swscale %u", sep, o->wscale);
            sep = ",";
        }
        if (o->n_sack) {
            /* tcpdump's "sack N {l:r}{l:r}", relative like the ack: the
             * blocks are in the same (the other side's) sequence space. */
            uint32_t base = tcp->ack - ack;
            line_printf(l, "%ssack %u ", sep, o->n_sack);
            for (unsigned k = 0; k < o->n_sack; k++)
                line_printf(l, "{%" PRIu32 ":%" PRIu32 "}", o->sack[k].left - base,
                            o->sack[k].right - base);
            sep = ",";
        }
        if (o->n_unknown)
            line_printf(l, "%s%u unknown", sep, o->n_unknown);
        line_printf(l, "]");
    }
    line_printf(l, ", length %zu", tcp->payload_len);
}

/* A raw packet as "10.7.0.2.40000 > 10.7.0.1.8080 [S.]", or the protocol
 * and length when it does not parse as TCP. */
static void put_packet_summary(struct line *l, const uint8_t *raw, size_t len)
{
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    char a[16], b[16], flags[10];
    if (!raw || wire_ipv4_parse(raw, len, &ip) != WIRE_OK) {
        line_printf(l, "%zu bytes", len);
        return;
    }
    struct wire_udp udp;
    if (wire_udp_parse(&ip, &udp) == WIRE_OK) {
        put_endpoint(l, ip.src, udp.sport);
        line_printf(l, " > ");
        put_endpoint(l, ip.dst, udp.dport);
        line_printf(l, " UDP, length %zu", udp.payload_len);
        return;
    }
    if (wire_tcp_parse(&ip, &tcp) != WIRE_OK) {
        line_printf(l, "%s > %s proto %u, %zu bytes", wire_addr_str(ip.src, a),
                    wire_addr_str(ip.dst, b), ip.proto, len);
        return;
    }
    put_endpoint(l, ip.src, tcp.sport);
    line_printf(l, " > ");
    put_endpoint(l, ip.dst, tcp.dport);
    line_printf(l, " [%s]", wire_flags_str(tcp.flags, flags));
}

/* ---- one line per kind of event -------------------------------------------------- */

static void format_segment(struct line *l, struct trace_text *t, const struct tev *ev)
{
    line_printf(l, "%s ", ev->u.seg.dir == TEV_OUT ? "out" : "in ");
    put_endpoint(l, ev->u.seg.src, ev->u.seg.tcp.sport);
    line_printf(l, " > ");
    put_endpoint(l, ev->u.seg.dst, ev->u.seg.tcp.dport);
    line_printf(l, ": ");
    put_segment_body(l, t, ev->u.seg.src, ev->u.seg.dst, &ev->u.seg.tcp);
    if (ev->u.seg.retransmission)
        line_printf(l, " (retransmission)");
    if (ev->u.seg.probe)
        line_printf(l, " (probe)");
    if (ev->u.seg.cookie)
        line_printf(l, " (SYN queue full: cookie sent)");
}

/* As tcpdump writes a datagram: "10.7.0.2.40000 > 10.7.0.1.8024: UDP, length 6". */
static void format_datagram(struct line *l, const struct tev *ev)
{
    line_printf(l, "%s ", ev->u.dgram.dir == TEV_OUT ? "out" : "in ");
    put_endpoint(l, ev->u.dgram.src, ev->u.dgram.udp.sport);
    line_printf(l, " > ");
    put_endpoint(l, ev->u.dgram.dst, ev->u.dgram.udp.dport);
    line_printf(l, ": UDP, length %zu", ev->u.dgram.udp.payload_len);
}

static void format_call(struct line *l, const struct tev *ev)
{
    const struct tcp_tuple *tu = &ev->tuple;
    long arg = ev->u.call.arg;
    char a[16];
    line_printf(l, "%s(", tcp_call_name(ev->u.call.call));
    switch (ev->u.call.call) {
    case TCP_CALL_CONNECT:
        line_printf(l, "%s:%u", wire_addr_str(tu->raddr, a), tu->rport);
        break;
    case TCP_CALL_BIND:
        line_printf(l, "%ld", arg);
        break;
    case TCP_CALL_LISTEN:
        if (tu->lport)
            line_printf(l, "%u, ", tu->lport);
        line_printf(l, "backlog %ld", arg);
        break;
    case TCP_CALL_SEND:
    case TCP_CALL_RECV:
        line_printf(l, "%ld", arg);
        break;
    case TCP_CALL_SENDTO:
        line_printf(l, "%ld, %s:%u", arg, wire_addr_str(tu->raddr, a), tu->rport);
        break;
    case TCP_CALL_RECVFROM:
        line_printf(l, "%ld", arg);
        if (ev->u.call.result >= 0 && tu->raddr) { /* the sender, as recvfrom(2) fills it in */
            line_printf(l, ") = %ld (from %s:%u)", ev->u.call.result, wire_addr_str(tu->raddr, a),
                        tu->rport);
            return;
        }
        break;
    case TCP_CALL_SHUTDOWN:
        line_printf(l, "%s",
                    arg == TCP_SHUT_RD   ? "SHUT_RD"
                    : arg == TCP_SHUT_WR ? "SHUT_WR"
                                         : "SHUT_RDWR");
        break;
    case TCP_CALL_SETSOCKOPT:
        line_printf(l, "%s", trace_sockopt_name(arg));
        break;
    case TCP_CALL_GETSOCKOPT:
        /* The call succeeds; its result is the error it read. */
        line_printf(l, "SO_ERROR) = 0, SO_ERROR ");
        put_call_result(l, ev->u.call.result);
        return;
    case TCP_CALL_FCNTL:
        line_printf(l, "O_NONBLOCK");
        break;
    case TCP_CALL_POLL: { /* made, waiting: its return is the readiness event */
        char ev_[40];
        line_printf(l, "%s) waits", tcp_poll_str((unsigned)arg, false, ev_, sizeof ev_));
        return;
    }
    default:
        break;
    }
    line_printf(l, ") = ");
    put_call_result(l, ev->u.call.result);
    if (ev->u.call.call == TCP_CALL_ACCEPT && ev->u.call.result >= 0 && tu->raddr)
        line_printf(l, " (%s:%u)", wire_addr_str(tu->raddr, a), tu->rport);
}

static void format_link(struct line *l, const struct tev *ev)
{
    const char *action = tev_link_action_name(ev->u.link.action);
    if (ev->u.link.action == TEV_LINK_CABLE) {
        line_printf(l, "cable %s", ev->u.link.arg ? "restored" : "cut");
        return;
    }
    line_printf(l, "%s %s > %s", action, ev->u.link.from ? ev->u.link.from : "?",
                ev->u.link.to ? ev->u.link.to : "?");
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    if (ev->u.link.raw && wire_ipv4_parse(ev->u.link.raw, ev->u.link.raw_len, &ip) == WIRE_OK &&
        wire_tcp_parse(&ip, &tcp) == WIRE_OK) {
        char flags[10];
        line_printf(l, " [%s]", wire_flags_str(tcp.flags, flags));
        if (tcp.payload_len)
            line_printf(l, " length %zu", tcp.payload_len);
    } else if (ev->u.link.raw &&
               wire_ipv4_parse(ev->u.link.raw, ev->u.link.raw_len, &ip) == WIRE_OK &&
               ip.proto == WIRE_PROTO_UDP) {
        line_printf(l, " UDP, length %zu",
                    ip.payload_len >= WIRE_UDP_HDR_LEN ? ip.payload_len - WIRE_UDP_HDR_LEN : 0);
    } else if (ev->u.link.raw) {
        line_printf(l, " (%zu bytes)", ev->u.link.raw_len);
    }
    if (ev->u.link.action == TEV_LINK_DELAYED || ev->u.link.action == TEV_LINK_REORDERED) {
        line_printf(l, " until ");
        uint64_t u = ev->u.link.until_us;
        line_printf(l, "%" PRIu64 ".%06" PRIu64, u / 1000000, u % 1000000);
    }
}

/* "sack dsack 1461:2921" or "sack ignored (out_of_window) 9000:9500": the
 * block in the reporting sender's own sequence space, relative to its ISN. */
static void format_sack(struct line *l, struct trace_text *t, const struct tev *ev)
{
    uint32_t left = ev->u.sack.left, right = ev->u.sack.right;
    const struct relseq_side *me =
        t->relative ? relseq_side(&t->seqmap, ev->tuple.laddr, ev->tuple.lport, ev->tuple.raddr,
                                  ev->tuple.rport)
                    : NULL;
    if (me && me->known) {
        left -= me->base;
        right -= me->base;
    }
    if (ev->u.sack.what != TEV_SACK_IGNORED)
        line_printf(l, "sack %s %" PRIu32 ":%" PRIu32, tev_sack_what_name(ev->u.sack.what), left,
                    right);
    else
        line_printf(l, "sack ignored (%s) %" PRIu32 ":%" PRIu32,
                    ev->u.sack.reason ? ev->u.sack.reason : "?", left, right);
}

static void format_kernel(struct line *l, const struct tev *ev)
{
    put_endpoint(l, ev->tuple.laddr, ev->tuple.lport);
    line_printf(l, " > ");
    put_endpoint(l, ev->tuple.raddr, ev->tuple.rport);
    if (ev->u.kernel.gone) {
        line_printf(l, ": gone");
        if (ev->u.kernel.prev < TCP_NSTATES)
            line_printf(l, " (was %s)", tcp_state_name(ev->u.kernel.prev));
        return;
    }
    line_printf(l, ": %s", tcp_state_name(ev->u.kernel.state));
    if (ev->u.kernel.prev < TCP_NSTATES && ev->u.kernel.prev != ev->u.kernel.state) {
        /* Sampled states can skip some: say which were passed unseen rather
         * than suggest an edge Figure 5 does not have. */
        enum tcp_state via[TCP_NSTATES];
        size_t n = tcp_state_path(ev->u.kernel.prev, ev->u.kernel.state, via, TCP_NSTATES);
        if (n == 0) {
            line_printf(l, " (was %s)", tcp_state_name(ev->u.kernel.prev));
        } else {
            line_printf(l, " (passed through ");
            for (size_t i = 0; i < n; i++)
                line_printf(l, "%s%s", i ? ", " : "", tcp_state_name(via[i]));
            line_printf(l, ", not observed)");
        }
    }
}

size_t trace_text_format(struct trace_text *t, const struct tev *ev, char *buf, size_t cap)
{
    /* Timers: a fired timer is a cause of what follows and always shown;
     * arming and cancelling happen on nearly every segment and are
     * shown only when asked for. */
    if (ev->kind == TEV_TIMER && ev->u.timer.action != TEV_TIMER_FIRE && !t->show_timers)
        return 0;
    /* RTT samples feed the RTO, as arming a timer does: shown with them. */
    if (ev->kind == TEV_RTT && !t->show_timers)
        return 0;
    if (ev->kind >= TEV_NKINDS)
        return 0;

    struct line l = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    put_time(&l, ev->t_us);
    line_printf(&l, " %-7s ", ev->host ? ev->host : (ev->kind == TEV_LINK ? "link" : "?"));

    switch (ev->kind) {
    case TEV_SEGMENT:
        format_segment(&l, t, ev);
        break;
    case TEV_STATE:
        line_printf(&l, "%s -> %s", tcp_state_name(ev->u.state.from),
                    tcp_state_name(ev->u.state.to));
        if (ev->u.state.cause && ev->u.state.cause[0])
            line_printf(&l, " (%s)", ev->u.state.cause);
        break;
    case TEV_TIMER: {
        const char *name = tcp_timer_name(ev->u.timer.which);
        uint64_t d = ev->u.timer.deadline_us;
        if (ev->u.timer.action == TEV_TIMER_FIRE)
            line_printf(&l, "timer %s fired", name);
        else if (ev->u.timer.action == TEV_TIMER_ARM)
            line_printf(&l, "timer %s armed, fires at %" PRIu64 ".%06" PRIu64, name, d / 1000000,
                        d % 1000000);
        else
            line_printf(&l, "timer %s cancelled", name);
        if (ev->u.timer.which == TCP_TIMER_RTX && ev->u.timer.backoff &&
            ev->u.timer.action != TEV_TIMER_CANCEL)
            line_printf(&l, " (backoff %u)", ev->u.timer.backoff);
        break;
    }
    case TEV_DROP:
        line_printf(&l, "drop %s", tev_drop_reason_name(ev->u.drop.reason));
        if (ev->u.drop.raw) {
            line_printf(&l, " ");
            put_packet_summary(&l, ev->u.drop.raw, ev->u.drop.raw_len);
        }
        break;
    case TEV_CALL:
        format_call(&l, ev);
        break;
    case TEV_ICMP: {
        char a[16], b[16];
        line_printf(&l, "%s > %s: ICMP echo request, id %u, seq %u, answered",
                    wire_addr_str(ev->u.icmp.src, a), wire_addr_str(ev->u.icmp.dst, b),
                    ev->u.icmp.id, ev->u.icmp.seqno);
        break;
    }
    case TEV_LINK:
        format_link(&l, ev);
        break;
    case TEV_KERNEL:
        format_kernel(&l, ev);
        break;
    case TEV_DATAGRAM:
        format_datagram(&l, ev);
        break;
    case TEV_READY: {
        /* poll() returns how many descriptors are ready: here one or none. */
        char asked[40], got[40];
        line_printf(&l, "poll(%s) = %d, revents %s",
                    tcp_poll_str(ev->u.ready.events, false, asked, sizeof asked),
                    ev->u.ready.revents ? 1 : 0,
                    tcp_poll_str(ev->u.ready.revents, false, got, sizeof got));
        break;
    }
    case TEV_CC:
        line_printf(&l, "cc %s cwnd %" PRIu32 " ssthresh %" PRIu32 " flight %" PRIu32 " (%s)",
                    tcp_cc_phase_name(ev->u.cc.phase), ev->u.cc.cwnd, ev->u.cc.ssthresh,
                    ev->u.cc.flight, ev->u.cc.cause ? ev->u.cc.cause : "?");
        /* NewReno, the default, stays as it always read; CUBIC says so
         * and, once a loss has set them, shows its curve's plateau W_max
         * and K (RFC 9438 §4.1). */
        if (ev->u.cc.algo && strcmp(ev->u.cc.algo, "newreno")) {
            line_printf(&l, " %s", ev->u.cc.algo);
            if (ev->u.cc.w_max)
                line_printf(&l, " W_max %" PRIu32 " K %" PRIu64 "ms", ev->u.cc.w_max,
                            ev->u.cc.k_us / 1000);
        }
        break;
    case TEV_RTT:
        line_printf(&l, "rtt %" PRIu64 "us srtt %" PRIu64 "us rttvar %" PRIu64 "us rto %" PRIu64 "us (%s",
                    ev->u.rtt.sample_us, ev->u.rtt.srtt_us, ev->u.rtt.rttvar_us, ev->u.rtt.rto_us,
                    ev->u.rtt.from_ts ? "ts" : "timed");
        if (ev->u.rtt.from_ts)
            line_printf(&l, " ecr %" PRIu32, ev->u.rtt.ts_ecr);
        line_printf(&l, ")");
        break;
    case TEV_SACK:
        format_sack(&l, t, ev);
        break;
    case TEV_NKINDS:
        break;
    }
    if (l.len >= cap) /* cut: keep what fits, terminated */
        return cap ? cap - 1 : 0;
    return l.len;
}

void trace_text_init(struct trace_text *t, FILE *out, bool relative)
{
    memset(t, 0, sizeof *t);
    t->out = out;
    t->relative = relative;
}

void trace_text_event(void *ctx, const struct tev *ev)
{
    struct trace_text *t = ctx;
    char buf[512];
    size_t n = trace_text_format(t, ev, buf, sizeof buf - 1);
    if (n == 0 || !t->out)
        return;
    buf[n++] = '\n';
    fwrite(buf, 1, n, t->out);
}
