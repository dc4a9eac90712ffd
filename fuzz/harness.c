/*
 * harness.c — the shared world of the engine fuzz targets (see harness.h).
 *
 * Speed: building the world (a stack, a listener, a handshake) costs more
 * than most inputs do, so it is built once per cfg byte and kept as a
 * snapshot. The stack takes all its memory from the arena below
 * (stack_config.allocator), and no pointer of the engine leads out of the
 * arena but to `world` (a static, the output and event context) and to
 * constants; so copying a snapshot's bytes back to the same address brings
 * the whole stack back, pointers and all. Each input then runs on a world
 * that is byte for byte the one a fresh build makes (FUZZ_FRESH=1 builds it
 * afresh per input instead, to compare).
 *
 * The arena keeps what ASan would check on the heap: each block is followed
 * by a poisoned red zone, a freed block is poisoned and never reused within
 * the input (so a use after free is caught), a free of something that is
 * not a live block or with the wrong size aborts, and at the end of every
 * input the stack is freed and any block still live is a leak (abort).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"
#include "seq.h"
#include "wire.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#endif
#endif
#ifndef POISON
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* ---- the arena ---------------------------------------------------------------- */

#define ARENA_SIZE   (64u << 20) /* reserved; only what an input touches is used */
#define SCRATCH_SIZE (96u << 10) /* the stack's packet buffers, not part of a snapshot */
#define PACKET_SIZE  (64u << 10) /* harness_packet(): the largest IPv4 packet */
#define REDZONE      32
#define LIVE         0x4c495645u /* "LIVE" */
#define FREED        0x46524545u /* "FREE" */

struct block { /* in front of every block */
    uint32_t magic, kind;
    uint64_t size;
};

static struct {
    uint8_t *base;    /* ARENA_SIZE bytes at a fixed address */
    size_t used;      /* bump pointer */
    size_t high;      /* the most `used` has been since the last restore */
    uint8_t *scratch; /* SCRATCH_SIZE bytes: STACK_MEM_SCRATCH blocks */
    uint8_t *packet;  /* REDZONE + PACKET_SIZE + REDZONE bytes: harness_packet() */
    size_t packet_used;
    size_t scratch_used;
    size_t live; /* blocks allocated and not freed (arena and scratch) */
} arena;

static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static void arena_init(void)
{
    if (arena.base)
        return;
    size_t total = ARENA_SIZE + SCRATCH_SIZE + REDZONE + PACKET_SIZE + REDZONE;
    void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        abort();
    arena.base = p;
    arena.scratch = arena.base + ARENA_SIZE;
    arena.packet = arena.scratch + SCRATCH_SIZE;
    POISON(arena.base, total);
}

/* A packet for the stack to read, where ASan sees a read past either end as
 * it would for an exact-size heap block (the bytes around it are poisoned),
 * without a malloc and a free per packet. Valid until the next call. */
uint8_t *harness_packet(const uint8_t *p, size_t len)
{
    arena_init();
    if (len > PACKET_SIZE)
        abort();
    POISON(arena.packet, arena.packet_used); /* the previous packet */
    uint8_t *at = arena.packet + REDZONE;
    UNPOISON(at, len);
    memcpy(at, p, len);
    arena.packet_used = REDZONE + len;
    return at;
}

/* Empty the arena: a new world is built from offset 0. */
static void arena_reset(void)
{
    POISON(arena.base, arena.high);
    POISON(arena.scratch, arena.scratch_used);
    arena.used = arena.high = arena.scratch_used = 0;
    arena.live = 0;
}

static void *arena_alloc(void *ctx, size_t size, enum stack_mem_kind kind)
{
    (void)ctx;
    uint8_t *region = arena.base;
    size_t *used = &arena.used, cap = ARENA_SIZE;
    size_t need = sizeof(struct block) + round16(size) + REDZONE;
    if (kind == STACK_MEM_SCRATCH && arena.scratch_used + need <= SCRATCH_SIZE) {
        region = arena.scratch;
        used = &arena.scratch_used;
        cap = SCRATCH_SIZE;
    }
    if (*used + need > cap)
        return NULL; /* the stack copes with no memory (a path worth fuzzing too) */
    uint8_t *at = region + *used;
    *used += need;
    if (region == arena.base && arena.used > arena.high)
        arena.high = arena.used;
    UNPOISON(at, sizeof(struct block) + size);
    struct block *b = (struct block *)at;
    b->magic = LIVE;
    b->kind = (uint32_t)kind;
    b->size = size;
    memset(b + 1, 0, size);
    POISON(b, sizeof *b);
    arena.live++;
    return b + 1;
}

static struct block *block_of(void *p)
{
    struct block *b = (struct block *)p - 1;
    UNPOISON(b, sizeof *b);
    return b;
}

static void arena_free(void *ctx, void *p, size_t size, enum stack_mem_kind kind)
{
    (void)ctx;
    uint8_t *q = p;
    bool in_arena = q >= arena.base + sizeof(struct block) && q < arena.base + arena.used;
    bool in_scratch =
        q >= arena.scratch + sizeof(struct block) && q < arena.scratch + arena.scratch_used;
    if (!in_arena && !in_scratch)
        abort(); /* not a block of this stack's */
    struct block *b = block_of(p);
    /* double free, or the engine's count of a block's size or kind is wrong */
    if (b->magic != LIVE || b->size != size || b->kind != (uint32_t)kind)
        abort();
    b->magic = FREED;
    POISON(b, sizeof *b + size);
    arena.live--;
}

/* ---- snapshots: one world per cfg byte -------------------------------------------- */

static struct harness world; /* the one the stack's callbacks point at */

/* FUZZ_CHECK=1: what an input made the stack do, folded into one number
 * (FNV-1a over every packet it sent and the text of every event, absolute
 * sequence numbers), to compare a run on a restored world with a run on a
 * fresh one. */
static struct {
    bool on;
    uint64_t sum;
    struct trace_text text;
} digest;

static void digest_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        digest.sum = (digest.sum ^ b[i]) * 0x100000001b3ull;
}

struct snapshot {
    bool made, ok;
    size_t used, scratch_used, live;
    uint8_t *bytes; /* arena.base[0, used) as the world was built */
    struct harness h;
};
static struct snapshot snaps[256];

static void snapshot_take(struct snapshot *sn, bool ok)
{
    sn->made = true;
    sn->ok = ok;
    sn->used = arena.used;
    sn->scratch_used = arena.scratch_used;
    sn->live = arena.live;
    sn->h = world;
    sn->bytes = malloc(arena.used ? arena.used : 1);
    if (!sn->bytes)
        abort();
    /* The copy reads red zones and freed blocks too: unpoison while copying. */
    UNPOISON(arena.base, arena.used);
    memcpy(sn->bytes, arena.base, arena.used);
    POISON(arena.base, arena.used);
}

/* Put the snapshot's bytes back where they were, and the poison with them:
 * the header and red zone of every block, and every block freed before the
 * snapshot was taken. */
static void snapshot_restore(const struct snapshot *sn)
{
    POISON(arena.base, arena.high);
    UNPOISON(arena.base, sn->used);
    memcpy(arena.base, sn->bytes, sn->used);
    POISON(arena.base, sn->used);
    for (size_t off = 0; off < sn->used;) {
        struct block *b = (struct block *)(arena.base + off);
        UNPOISON(b, sizeof *b);
        size_t size = b->size;
        uint32_t magic = b->magic;
        POISON(b, sizeof *b);
        if (magic == LIVE)
            UNPOISON(b + 1, size);
        off += sizeof *b + round16(size) + REDZONE;
    }
    /* Scratch blocks are made by stack_new and freed by stack_free only, in
     * the same sizes for every world: live again, contents dead. */
    for (size_t off = 0; off < sn->scratch_used;) {
        struct block *b = (struct block *)(arena.scratch + off);
        UNPOISON(b, sizeof *b);
        b->magic = LIVE;
        size_t size = b->size;
        POISON(b, sizeof *b);
        UNPOISON(b + 1, size);
        off += sizeof *b + round16(size) + REDZONE;
    }
    arena.used = arena.high = sn->used;
    arena.scratch_used = sn->scratch_used;
    arena.live = sn->live;
    world = sn->h;
}

static void capture_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct harness *h = ctx;
    if (digest.on)
        digest_bytes(pkt, len);
    h->last_out_len = len < sizeof h->last_out ? len : sizeof h->last_out;
    memcpy(h->last_out, pkt, h->last_out_len);
    struct wire_ipv4 ip;
    struct wire_tcp tcp;
    if (wire_ipv4_parse(pkt, len, &ip) != WIRE_OK || wire_tcp_parse(&ip, &tcp) != WIRE_OK ||
        tcp.dport != PEER_PORT)
        return;
    h->stack_port = tcp.sport;
    h->stack_ts = tcp.opts.has_ts;
    if (tcp.opts.has_ts)
        h->stack_tsval = tcp.opts.ts_val;
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
    if (digest.on)
        digest_bytes(line, trace_text_format(&digest.text, ev, line, sizeof line));
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
        }
    }
    if (cfg & 0x10) { /* timestamps offered, and on every segment after (RFC 7323 §3.2) */
        tcp.opts.has_ts = true;
        tcp.opts.ts_val = ++h->peer_tsval;
        tcp.opts.ts_ecr = (flags & TCP_SYN) && !(flags & TCP_ACK) ? 0 : h->stack_tsval;
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
    cfg.allocator = (struct stack_allocator){.alloc = arena_alloc, .free = arena_free};
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

/* A fresh world in an empty arena, as every input once built it. */
static bool harness_build(struct harness *h, uint8_t cfg_bits)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    arena_reset();
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

/* The world for one input: built afresh (fresh), or restored from the
 * snapshot of the world cfg_bits makes (built on first use). NULL if the
 * stack could not be made. */
static struct harness *harness_start(uint8_t cfg_bits, bool fresh)
{
    arena_init();
    bool ok;
    if (fresh) {
        ok = harness_build(&world, cfg_bits);
    } else {
        struct snapshot *sn = &snaps[cfg_bits];
        if (!sn->made)
            snapshot_take(sn, harness_build(&world, cfg_bits));
        if ((ok = sn->ok))
            snapshot_restore(sn);
    }
    if (ok && world.text.out) /* FUZZ_TRACE: where the world ends and the input begins */
        fprintf(world.text.out, "-- the input\n");
    return ok ? &world : NULL;
}

static void harness_finish(struct harness *h)
{
    /* Let every pending timer fire, in order, a bounded number of times.
     * 32 is past every give-up (SYN 2 and data 3 retries, 2 keepalive
     * probes, TIME_WAIT) and past the 16 zero-window probes after which the
     * persist timer's backoff stops growing; only zero-window probing goes
     * on for ever (RFC 9293 §3.8.6.1), and its later probes repeat one path.
     * With 100, the 4% of inputs that ended with a closed window took half
     * of all the firings. */
    for (int i = 0; i < 32; i++) {
        uint64_t next = stack_next_deadline(h->s);
        if (next == TCP_TIME_NEVER)
            break;
        if (next > h->now)
            h->now = next;
        stack_tick(h->s, h->now);
    }
    stack_free(h->s);
    h->s = NULL;
    if (arena.live != 0)
        abort(); /* the stack freed, yet blocks are live: a leak */
}

/* One input from its first byte on a world made as `fresh` says; returns the
 * digest of what the stack did (0 unless digest.on). */
static uint64_t harness_run(const uint8_t *data, size_t size, harness_records_fn *records,
                            bool fresh)
{
    struct harness *h = harness_start(data[0], fresh);
    if (!h)
        return 0;
    digest.sum = 0xcbf29ce484222325ull;
    trace_text_init(&digest.text, NULL, false);
    records(h, data + 1, size - 1);
    harness_finish(h);
    return digest.sum;
}

int harness_fuzz(const uint8_t *data, size_t size, harness_records_fn *records)
{
    static int mode = -1; /* 0 snapshot, 1 FUZZ_FRESH, 2 FUZZ_CHECK */
    if (mode < 0)
        mode = getenv("FUZZ_CHECK") ? 2 : getenv("FUZZ_FRESH") ? 1 : 0;
    if (size < 1)
        return 0;
    if (mode < 2) {
        harness_run(data, size, records, mode == 1);
        return 0;
    }
    /* FUZZ_CHECK: the input on a fresh world, then on one restored from a
     * snapshot (after whatever inputs ran before it in this process), must
     * send the same packets and emit the same events. */
    digest.on = true;
    uint64_t fresh = harness_run(data, size, records, true);
    uint64_t restored = harness_run(data, size, records, false);
    digest.on = false;
    if (fresh != restored) {
        fprintf(stderr, "harness: a restored world differs from a fresh one (cfg 0x%02x)\n",
                data[0]);
        abort();
    }
    return 0;
}
