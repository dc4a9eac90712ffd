/*
 * harness.c — the shared world of the engine fuzz targets (see harness.h).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "seq.h"
#include "wire.h"

static void capture_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct harness *h = ctx;
    h->last_out_len = len < sizeof h->last_out ? len : sizeof h->last_out;
    memcpy(h->last_out, pkt, h->last_out_len);
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    if (wire_ipv4_parse(pkt, len, &ip) != WIRE_OK || wire_tcp_parse(&ip, &tcp) != WIRE_OK ||
        tcp.dport != PEER_PORT)
        return;
    h->stack_port = tcp.sport;
    if (tcp.flags & TCP_ACK)
        h->peer_next = tcp.ack;
    h->stack_next =
        tcp.seq + (uint32_t)tcp.payload_len + !!(tcp.flags & TCP_SYN) + !!(tcp.flags & TCP_FIN);
}

/* Which variety of event this is, for rendering each variety once per input. */
static unsigned event_class(const struct tev *ev)
{
    unsigned sub = 0;
    switch (ev->kind) {
    case TEV_SEGMENT:
        sub = ev->u.seg.dir * 2 + ev->u.seg.retransmission;
        break;
    case TEV_STATE:
        sub = ev->u.state.to;
        break;
    case TEV_TIMER:
        sub = ev->u.timer.which * 3 + ev->u.timer.action;
        break;
    case TEV_DROP:
        sub = (unsigned)(ev->u.drop.reason + 32);
        break;
    case TEV_CALL:
        sub = ev->u.call.call;
        break;
    default:
        break;
    }
    return ((unsigned)ev->kind * 64 + (sub & 63)) & 511;
}

static void render_event(void *ctx, const struct tev *ev)
{
    struct harness *h = ctx;
    char line[512];
    /* Every state change must be an edge of RFC 9293 Figure 5 (the table). */
    if (ev->kind == TEV_STATE && !tcp_transition_legal(ev->u.state.from, ev->u.state.to))
        abort();
    unsigned cls = event_class(ev);
    uint64_t bit = 1ull << (cls & 63);
    if (!h->text.out && (!h->render || (h->rendered[cls >> 6] & bit)))
        return;
    h->rendered[cls >> 6] |= bit;
    if (h->text.out) /* FUZZ_TRACE=1: show what an input does */
        trace_text_event(&h->text, ev);
    else
        trace_text_format(&h->text, ev, line, sizeof line);
    trace_json_event(h->devnull, ev);
    tev_free(tev_clone(ev));
}

/* Things that hold whatever the network says: checked after every record. */
void harness_check(const struct harness *h)
{
    uint32_t bufsize = (h->cfg & 0x08) ? 2048 : 8192;
    struct tcp_status st;
    if (h->conn < 0 || tcp_status(h->s, h->conn, &st) != 0)
        return;
    if (st.state >= TCP_NSTATES || !seq_leq(st.snd_una, st.snd_nxt))
        abort();
    if (st.recv_queue > bufsize || st.send_queue > bufsize + 2) /* + SYN and FIN */
        abort();
}

void harness_send(struct harness *h, uint8_t flags, uint32_t seq, uint32_t ack)
{
    uint8_t cfg = h->cfg;
    uint8_t pkt[128];
    struct wire_tcp tcp = {.sport = PEER_PORT,
                           .dport = h->stack_port,
                           .seq = seq,
                           .ack = ack,
                           .flags = flags,
                           .win = 65535};
    if (flags & TCP_SYN) {
        tcp.opts.has_mss = true;
        tcp.opts.mss = 1460;
        if (cfg & 0x10) {
            tcp.opts.has_wscale = true;
            tcp.opts.wscale = 7;
            tcp.opts.sack_permitted = true;
            tcp.opts.has_ts = true;
            tcp.opts.ts_val = 1;
        }
    }
    size_t n = wire_tcp_build(pkt, sizeof pkt, PEER_ADDR, STACK_ADDR, 1, &tcp, NULL, 0);
    stack_input(h->s, h->now, pkt, n);
}

/* The stack's SYN or SYN,ACK to the peer, from the last packet it sent. */
static bool last_syn(const struct harness *h, uint8_t flags, struct wire_tcp *out)
{
    struct wire_ipv4 ip;
    return wire_ipv4_parse(h->last_out, h->last_out_len, &ip) == WIRE_OK &&
           wire_tcp_parse(&ip, out) == WIRE_OK && out->flags == flags;
}

/* Listener on port 80, and one connection through a real handshake, opened
 * passively (the peer's SYN to the listener) or actively (the stack's
 * connect()). If the engine does not complete it, the input still runs
 * against whatever state there is. */
static bool harness_open(struct harness *h, uint8_t cfg_bits)
{
    struct stack_config cfg;
    stack_config_defaults(&cfg);
    cfg.name = "stack";
    cfg.addr = STACK_ADDR;
    cfg.output = capture_output;
    cfg.output_ctx = h;
    cfg.on_event = render_event;
    cfg.event_ctx = h;
    cfg.max_sockets = 64;
    /* Few retries and a short backoff ceiling: every give-up path is reached
     * in a handful of timer firings instead of 15 doublings. */
    cfg.syn_retries = cfg.synack_retries = 2;
    cfg.data_retries = 3;
    cfg.rto_max_us = 8000000;
    cfg.keepalive_probes = 2;
    cfg.window_scaling = cfg_bits & 0x01;
    cfg.delayed_ack = !(cfg_bits & 0x02);
    cfg.nagle = !(cfg_bits & 0x04);
    /* Small buffers, so window edges and full buffers are reachable. */
    cfg.sndbuf = cfg.rcvbuf = (cfg_bits & 0x08) ? 2048 : 8192;
    h->s = stack_new(&cfg);
    if (!h->s)
        return false;
    h->now = 1000;
    h->listener = tcp_socket(h->s, h->now);
    tcp_bind(h->s, h->now, h->listener, LISTEN_PORT);
    tcp_listen(h->s, h->now, h->listener, 4);

    struct wire_tcp syn;
    h->last_out_len = 0;
    if (cfg_bits & 0x40) {
        int sd = tcp_socket(h->s, h->now);
        tcp_connect(h->s, h->now, sd, PEER_ADDR, PEER_PORT);
        if (!last_syn(h, TCP_SYN, &syn))
            return true;
        h->now += 1000;
        harness_send(h, TCP_SYN | TCP_ACK, PEER_ISN, syn.seq + 1);
        h->conn = sd;
    } else {
        h->stack_port = LISTEN_PORT;
        harness_send(h, TCP_SYN, PEER_ISN, 0);
        if (!last_syn(h, TCP_SYN | TCP_ACK, &syn))
            return true;
        h->now += 1000;
        harness_send(h, TCP_ACK, PEER_ISN + 1, syn.seq + 1);
        h->conn = tcp_accept(h->s, h->now, h->listener, NULL);
    }
    if (h->conn < 0)
        return true;
    if (cfg_bits & 0x20) {
        tcp_setsockopt(h->s, h->now, h->conn, TCP_OPT_KEEPIDLE, 10);
        tcp_setsockopt(h->s, h->now, h->conn, TCP_OPT_KEEPINTVL, 5);
        tcp_setsockopt(h->s, h->now, h->conn, TCP_OPT_KEEPCNT, 2);
        tcp_setsockopt(h->s, h->now, h->conn, TCP_OPT_KEEPALIVE, 1);
    }
    tcp_send(h->s, h->now, h->conn, "in flight", 9);
    return true;
}

void harness_act(struct harness *h, uint8_t act)
{
    static const uint64_t steps[4] = {0, 50000, 1500000, 70000000};
    char buf[2048];
    static const char data[100] = "tcplab fuzz data";
    if (h->conn >= 0) {
        if (act & 0x01)
            while (tcp_recv(h->s, h->now, h->conn, buf, sizeof buf) > 0)
                ;
        if (act & 0x02)
            tcp_send(h->s, h->now, h->conn, data, sizeof data);
        if (act & 0x04)
            tcp_shutdown(h->s, h->now, h->conn, TCP_SHUT_WR);
        if (act & 0x08) {
            tcp_close(h->s, h->now, h->conn);
            h->conn = -1;
        } else if (act & 0x10) {
            tcp_abort(h->s, h->now, h->conn);
            h->conn = -1;
        }
    }
    if (act & 0x20) {
        int sd = tcp_socket(h->s, h->now);
        if (sd >= 0 && tcp_connect(h->s, h->now, sd, PEER_ADDR, PEER_PORT) < 0)
            tcp_close(h->s, h->now, sd);
    }
    uint64_t step = steps[act >> 6];
    if (step) {
        h->now += step;
        stack_tick(h->s, h->now);
    }
    int sd = tcp_accept(h->s, h->now, h->listener, NULL);
    if (sd >= 0 && h->conn < 0)
        h->conn = sd;
    else if (sd >= 0)
        tcp_close(h->s, h->now, sd);
}

bool harness_start(struct harness *h, uint8_t cfg_bits)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    memset(h, 0, sizeof *h);
    h->devnull = devnull;
    h->conn = -1;
    h->cfg = cfg_bits;
    h->render = cfg_bits & 0x80;
    trace_text_init(&h->text, getenv("FUZZ_TRACE") ? stderr : NULL, true);
    if (harness_open(h, cfg_bits))
        return true;
    stack_free(h->s);
    h->s = NULL;
    return false;
}

void harness_finish(struct harness *h)
{
    /* Let every pending timer fire, in order, a bounded number of times. */
    for (int i = 0; i < 100; i++) {
        uint64_t next = stack_next_deadline(h->s);
        if (next == TCP_TIME_NEVER)
            break;
        if (next > h->now)
            h->now = next;
        stack_tick(h->s, h->now);
    }
    stack_free(h->s);
    h->s = NULL;
}
