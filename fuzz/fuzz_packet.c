/*
 * fuzz_packet.c — libFuzzer target for the engine's packet input path
 * (stack_input → wire parsers → SEGMENT ARRIVES → timers), the path every
 * untrusted byte from the TUN device takes.
 *
 * Each input gets a fresh stack at 10.7.0.2 with a listener on port 80 and
 * one connection already ESTABLISHED with a peer at 10.7.0.1:5555 (made by
 * feeding the stack a real handshake), with a little unacknowledged data in
 * flight. The input is one configuration byte, then a sequence of records:
 *
 *   [cfg] then ([ctl] [act] [len_hi] [len_lo] [len bytes of packet])...
 *
 * cfg chooses the engine's options and how the connection was opened:
 *   0x01 window scaling offered        0x02 delayed ACK off
 *   0x04 Nagle off                     0x08 tiny buffers (2 KB, else 8 KB)
 *   0x10 the peer's SYN carries window scale, SACK-permitted, timestamps
 *   0x20 keepalive on the connection (idle 10 s, interval 5 s, 3 probes)
 *   0x40 active open: the stack connects to the peer (else the peer
 *        connects to the listener)
 *
 * ctl says how to touch up the packet so the fuzzer gets past the checks a
 * random packet never passes (each bit off = the raw bytes as given):
 *   0x01 fix the IPv4 header checksum and the TCP/ICMP checksum
 *   0x02 set source/destination addresses to peer -> stack
 *   0x04 set the ports to the established connection's (5555 -> the stack's)
 *   0x08 treat seq/ack as offsets from the next sequence numbers of the
 *        connection on those ports, as the stack's last segment to the
 *        peer shows them (its ACK, and its SEQ plus what it occupied), so
 *        seq 0 ack 0 is in window and acknowledges everything sent
 * act is what happens after the packet, like an application and a clock:
 *   0x01 read everything readable      0x02 send 100 bytes
 *   0x04 shutdown(SHUT_WR)             0x08 close()
 *   0x10 abort()                       0x20 connect() a new socket to the peer
 *   0xc0 advance the clock: none, 50 ms, 1.5 s, 70 s (then fire timers)
 * At the end the clock runs forward through every pending timer (bounded),
 * so retransmission, TIME_WAIT and keepalive paths run too.
 *
 * Every event the engine emits goes through the text and JSON renderers and
 * tev_clone(), so they are fuzzed on real events as well. Besides crashes,
 * leaks and undefined behaviour, a few invariants abort: every state change
 * is in the transition table, SND.UNA <= SND.NXT, and the queues stay
 * within the buffer sizes.
 *
 * Run: fuzz/smoke.sh, or build-fuzz/fuzz/fuzz_packet fuzz/corpus/packet;
 * FUZZ_TRACE=1 build-fuzz/fuzz/fuzz_packet FILE prints the text trace of
 * one input (to see what a crashing input does).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seq.h"
#include "tcp.h"
#include "trace.h"
#include "wire.h"

#define STACK_ADDR  0x0a070002u /* 10.7.0.2 */
#define PEER_ADDR   0x0a070001u /* 10.7.0.1 */
#define PEER_PORT   5555
#define LISTEN_PORT 80
#define PEER_ISN    0xfffffff0u /* near the wrap, so comparisons cross it */
#define MAX_RECORDS 64

struct harness {
    struct stack *s;
    uint64_t now;
    uint8_t last_out[2048]; /* the last packet the stack sent */
    size_t last_out_len;
    uint32_t peer_next;  /* what the stack expects next from the peer (its last ACK) */
    uint32_t stack_next; /* the end of what the stack has sent the peer */
    uint16_t stack_port; /* the stack's port on the connection with the peer */
    int listener, conn;
    struct trace_text text;
    FILE *devnull;
};

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

static void render_event(void *ctx, const struct tev *ev)
{
    struct harness *h = ctx;
    char line[512];
    if (h->text.out) /* FUZZ_TRACE=1: show what an input does */
        trace_text_event(&h->text, ev);
    else
        trace_text_format(&h->text, ev, line, sizeof line);
    trace_json_event(h->devnull, ev);
    tev_free(tev_clone(ev));
    /* Every state change must be an edge of RFC 9293 Figure 5 (the table). */
    if (ev->kind == TEV_STATE && !tcp_transition_legal(ev->u.state.from, ev->u.state.to))
        abort();
}

/* Things that hold whatever the network says: checked after every record. */
static void check_invariants(const struct harness *h, uint32_t bufsize)
{
    struct tcp_status st;
    if (h->conn < 0 || tcp_status(h->s, h->conn, &st) != 0)
        return;
    if (st.state >= TCP_NSTATES || !seq_leq(st.snd_una, st.snd_nxt))
        abort();
    if (st.recv_queue > bufsize || st.send_queue > bufsize + 2) /* + SYN and FIN */
        abort();
}

static void send_segment(struct harness *h, uint8_t flags, uint32_t seq, uint32_t ack, uint8_t cfg)
{
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
static bool harness_start(struct harness *h, uint8_t cfg_bits)
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
        send_segment(h, TCP_SYN | TCP_ACK, PEER_ISN, syn.seq + 1, cfg_bits);
        h->conn = sd;
    } else {
        h->stack_port = LISTEN_PORT;
        send_segment(h, TCP_SYN, PEER_ISN, 0, cfg_bits);
        if (!last_syn(h, TCP_SYN | TCP_ACK, &syn))
            return true;
        h->now += 1000;
        send_segment(h, TCP_ACK, PEER_ISN + 1, syn.seq + 1, cfg_bits);
        h->conn = tcp_accept(h->s, h->now, h->listener, NULL);
    }
    if (h->conn < 0)
        return true;
    if (cfg_bits & 0x20) {
        tcp_setsockopt(h->s, h->now, h->conn, TCP_OPT_KEEPIDLE, 10);
        tcp_setsockopt(h->s, h->now, h->conn, TCP_OPT_KEEPINTVL, 5);
        tcp_setsockopt(h->s, h->now, h->conn, TCP_OPT_KEEPCNT, 3);
        tcp_setsockopt(h->s, h->now, h->conn, TCP_OPT_KEEPALIVE, 1);
    }
    tcp_send(h->s, h->now, h->conn, "in flight", 9);
    return true;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* Apply the touch-ups `ctl` asks for, only where the bytes exist. */
static void touch_up(struct harness *h, uint8_t ctl, uint8_t *p, size_t len)
{
    if (len < 20)
        return;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = get16(p + 2);
    if (ctl & 0x02) {
        put32(p + 12, PEER_ADDR);
        put32(p + 16, STACK_ADDR);
    }
    bool tcp_hdr = p[9] == WIRE_PROTO_TCP && ihl >= 20 && ihl + 20 <= len;
    if (tcp_hdr && (ctl & 0x04)) {
        put16(p + ihl, PEER_PORT);
        put16(p + ihl + 2, h->stack_port);
    }
    if (tcp_hdr && (ctl & 0x08)) {
        put32(p + ihl + 4, get32(p + ihl + 4) + h->peer_next);
        put32(p + ihl + 8, get32(p + ihl + 8) + h->stack_next);
    }
    if (!(ctl & 0x01) || ihl < 20 || ihl > len)
        return;
    put16(p + 10, 0);
    put16(p + 10, wire_sum_fold(wire_sum(p, ihl, 0)));
    if (total < ihl || total > len)
        return;
    uint8_t *t = p + ihl;
    size_t tlen = total - ihl;
    if (p[9] == WIRE_PROTO_TCP && tlen >= 18) {
        uint32_t src = get32(p + 12), dst = get32(p + 16);
        uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
                          WIRE_PROTO_TCP + (uint32_t)tlen;
        put16(t + 16, 0);
        put16(t + 16, wire_sum_fold(wire_sum(t, tlen, pseudo)));
    } else if (p[9] == WIRE_PROTO_ICMP && tlen >= 4) {
        put16(t + 2, 0);
        put16(t + 2, wire_sum_fold(wire_sum(t, tlen, 0)));
    }
}

static void app_actions(struct harness *h, uint8_t act)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    struct harness h;
    memset(&h, 0, sizeof h);
    h.devnull = devnull;
    h.conn = -1;
    trace_text_init(&h.text, getenv("FUZZ_TRACE") ? stderr : NULL, true);
    if (size < 1)
        return 0;
    uint8_t cfg = data[0];
    data++;
    size--;
    if (!harness_start(&h, cfg)) {
        stack_free(h.s);
        return 0;
    }

    for (int records = 0; size >= 4 && records < MAX_RECORDS; records++) {
        uint8_t ctl = data[0], act = data[1];
        size_t len = get16(data + 2);
        data += 4;
        size -= 4;
        if (len > size)
            len = size;
        /* An exact-size copy, so ASan sees any read past the packet. */
        uint8_t *pkt = malloc(len ? len : 1);
        if (!pkt)
            break;
        memcpy(pkt, data, len);
        touch_up(&h, ctl, pkt, len);
        stack_input(h.s, h.now, pkt, len);
        free(pkt);
        data += len;
        size -= len;
        app_actions(&h, act);
        check_invariants(&h, (cfg & 0x08) ? 2048 : 8192);
    }

    /* Let every pending timer fire, in order, a bounded number of times. */
    for (int i = 0; i < 100; i++) {
        uint64_t next = stack_next_deadline(h.s);
        if (next == TCP_TIME_NEVER)
            break;
        if (next > h.now)
            h.now = next;
        stack_tick(h.s, h.now);
    }
    stack_free(h.s);
    return 0;
}
