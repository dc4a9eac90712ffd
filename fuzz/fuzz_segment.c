/*
 * fuzz_segment.c — structure-aware libFuzzer target: every input is a list
 * of *valid* TCP segments from the peer of a live connection (the world of
 * harness.h), so no byte is spent getting past checksums and demux, and the
 * mutations land where the engine decides things: the flags, SEQ and ACK
 * near the edges of both windows, the window field, and the options (MSS,
 * window scale, SACK-permitted, timestamps, SACK blocks, odd lengths).
 *
 *   [cfg] then records of 12 bytes:
 *   [flags] [seq_at] [ack_at] [opts] [win_hi] [win_lo] [len] [act] [d0 d1 d2 d3]
 *
 *   flags   the TCP flags byte as sent (any combination, CWR..FIN)
 *   seq_at  low 3 bits: where SEQ is taken from, relative to the stack's
 *           receive side as tcp_status() shows it now:
 *             0 RCV.NXT   1 RCV.NXT-1   2 RCV.NXT+RCV.WND-1   3 RCV.NXT+RCV.WND
 *             4 RCV.NXT+RCV.WND+1   5 IRS   6 RCV.NXT-2^31   7 RCV.NXT+2^31-1
 *           high 5 bits: a signed offset (-16..15) added to it
 *   ack_at  the same for ACK against the send side:
 *             0 SND.NXT   1 SND.UNA   2 SND.UNA-1   3 SND.NXT+1
 *             4 SND.UNA-max window   5 ISS   6 SND.UNA-2^31   7 SND.MAX+2^31-1
 *   opts    bit 0 MSS (d0 d1)       bit 1 window scale (d2, any shift)
 *           bit 2 SACK-permitted    bit 3 timestamps, as d3's high bits say:
 *             bits 4-5 TSval: 0 d0..d3 as given, 1 the peer's last TSval
 *                      + d0 (signed), 2 that - 2^31 (PAWS: old), 3 + 2^31-1
 *             bit 6    TSecr: 0 the stack's last TSval (a valid echo), 1 zero
 *             bit 7    TSecr + d1 (echoes a TSval not yet sent when > 0)
 *           bits 4-5 SACK blocks: 0-3 blocks around SND.UNA (left edges
 *             d[b]*16-64 past it, lengths d[b+1]+1; d3 bit b: right < left)
 *           bit 6 a malformed option (length 0, 1 or past the header)
 *           bit 7 end-of-list then garbage
 *   win     the window field
 *   len     payload bytes (0..255, a counting pattern)
 *   act     application and clock actions after the segment (harness.h)
 *
 * Invariants and the end of an input are the harness's. Seeds: a few
 * hand-made inputs in fuzz/corpus/segment/ (fuzz/make_corpus.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wire.h"

#define RECORD 12

struct edges {
    uint32_t rcv_nxt, rcv_wnd, irs, snd_una, snd_nxt, iss, max_wnd;
};

static void read_edges(const struct harness *h, struct edges *e)
{
    struct tcp_status st;
    memset(e, 0, sizeof *e);
    if (h->conn >= 0 && tcp_status(h->s, h->conn, &st) == 0) {
        e->rcv_nxt = st.rcv_nxt;
        e->rcv_wnd = st.rcv_wnd;
        e->irs = st.irs;
        e->snd_una = st.snd_una;
        e->snd_nxt = st.snd_nxt;
        e->iss = st.iss;
        e->max_wnd = st.snd_wnd;
    } else { /* no descriptor left: aim at what the stack last said */
        e->rcv_nxt = h->peer_next;
        e->snd_una = e->snd_nxt = h->stack_next;
        e->rcv_wnd = 8192;
    }
}

static int32_t small_offset(uint8_t at)
{
    return (int32_t)(at >> 3) - 16;
}

static uint32_t pick_seq(const struct edges *e, uint8_t at)
{
    static const uint32_t half = 0x80000000u;
    uint32_t base;
    switch (at & 7) {
    case 0:
        base = e->rcv_nxt;
        break;
    case 1:
        base = e->rcv_nxt - 1;
        break;
    case 2:
        base = e->rcv_nxt + e->rcv_wnd - 1;
        break;
    case 3:
        base = e->rcv_nxt + e->rcv_wnd;
        break;
    case 4:
        base = e->rcv_nxt + e->rcv_wnd + 1;
        break;
    case 5:
        base = e->irs;
        break;
    case 6:
        base = e->rcv_nxt - half;
        break;
    default:
        base = e->rcv_nxt + half - 1;
        break;
    }
    return base + (uint32_t)small_offset(at);
}

static uint32_t pick_ack(const struct edges *e, uint8_t at)
{
    static const uint32_t half = 0x80000000u;
    uint32_t base;
    switch (at & 7) {
    case 0:
        base = e->snd_nxt;
        break;
    case 1:
        base = e->snd_una;
        break;
    case 2:
        base = e->snd_una - 1;
        break;
    case 3:
        base = e->snd_nxt + 1;
        break;
    case 4:
        base = e->snd_una - (e->max_wnd ? e->max_wnd : 65535);
        break;
    case 5:
        base = e->iss;
        break;
    case 6:
        base = e->snd_una - half;
        break;
    default:
        base = e->snd_nxt + half - 1;
        break;
    }
    return base + (uint32_t)small_offset(at);
}

/* The timestamps option's two values, aimed at RFC 7323's checks: PAWS
 * against the peer's own last TSval, and the TSecr against what the stack
 * has sent. */
static void pick_timestamps(struct harness *h, const uint8_t d[4], uint32_t *val, uint32_t *ecr)
{
    static const uint32_t half = 0x80000000u;
    switch ((d[3] >> 4) & 3) {
    case 0:
        *val = get32(d);
        break;
    case 1:
        *val = h->peer_tsval + (uint32_t)(int8_t)d[0];
        break;
    case 2:
        *val = h->peer_tsval - half;
        break;
    default:
        *val = h->peer_tsval + half - 1;
        break;
    }
    *ecr = (d[3] & 0x40) ? 0 : h->stack_tsval;
    if (d[3] & 0x80)
        *ecr += d[1];
    h->peer_tsval = *val;
}

/* The options area (at most 40 bytes), padded with NOPs to a multiple of 4. */
static size_t build_options(struct harness *h, uint8_t *o, uint8_t sel, const uint8_t d[4],
                            const struct edges *e)
{
    size_t n = 0;
    if (sel & 0x01) {
        o[n++] = 2, o[n++] = 4, o[n++] = d[0], o[n++] = d[1];
    }
    if (sel & 0x02) {
        o[n++] = 1, o[n++] = 3, o[n++] = 3, o[n++] = d[2];
    }
    if (sel & 0x04) {
        o[n++] = 1, o[n++] = 1, o[n++] = 4, o[n++] = 2;
    }
    if (sel & 0x08) {
        uint32_t val, ecr;
        pick_timestamps(h, d, &val, &ecr);
        o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
        put32(o + n, val);
        put32(o + n + 4, ecr);
        n += 8;
    }
    unsigned blocks = (sel >> 4) & 3;
    if (blocks && n + 2 + 8 * blocks <= 40) {
        o[n++] = 1, o[n++] = 1;
        o[n++] = 5, o[n++] = (uint8_t)(2 + 8 * blocks);
        for (unsigned b = 0; b < blocks; b++) {
            /* Blocks around what the stack has sent: some valid, some not. */
            uint32_t left = e->snd_una + (uint32_t)(d[b] * 16) - 64;
            uint32_t right = left + (uint32_t)(d[(b + 1) & 3] + 1);
            if (d[3] & (1u << b))
                right = left - 1; /* right edge before the left */
            put32(o + n, left);
            put32(o + n + 4, right);
            n += 8;
        }
    }
    if ((sel & 0x40) && n + 4 <= 40) {
        o[n++] = (uint8_t)(d[0] | 2); /* some kind, 2..255 */
        o[n++] = (uint8_t)(d[1] % 3 == 0 ? 0 : d[1] % 3 == 1 ? 1 : 41);
        o[n++] = d[2], o[n++] = d[3];
    }
    if ((sel & 0x80) && n + 4 <= 40) {
        o[n++] = 0; /* end of option list, then bytes that must be ignored */
        o[n++] = 2, o[n++] = 4, o[n++] = 0;
    }
    while (n % 4)
        o[n++] = 1;
    return n;
}

static void send_record(struct harness *h, const uint8_t *r)
{
    uint8_t payload[255];
    struct edges e;
    read_edges(h, &e);
    uint8_t opts[40];
    size_t optlen = build_options(h, opts, r[3], r + 8, &e);
    size_t len = r[6];
    for (size_t i = 0; i < len; i++)
        payload[i] = (uint8_t)i;

    uint8_t pkt[20 + 60 + 255];
    size_t tcp_len = 20 + optlen + len;
    size_t total = 20 + tcp_len;
    memset(pkt, 0, 40);
    pkt[0] = 0x45;
    put16(pkt + 2, (uint16_t)total);
    put16(pkt + 4, 1);
    put16(pkt + 6, 0x4000); /* DF, not a fragment */
    pkt[8] = 64;
    pkt[9] = WIRE_PROTO_TCP;
    put32(pkt + 12, PEER_ADDR);
    put32(pkt + 16, STACK_ADDR);
    put16(pkt + 10, wire_sum_fold(wire_sum(pkt, 20, 0)));
    uint8_t *t = pkt + 20;
    put16(t, PEER_PORT);
    put16(t + 2, h->stack_port);
    put32(t + 4, pick_seq(&e, r[1]));
    put32(t + 8, pick_ack(&e, r[2]));
    t[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    t[13] = r[0];
    put16(t + 14, get16(r + 4));
    memcpy(t + 20, opts, optlen);
    memcpy(t + 20 + optlen, payload, len);
    uint32_t pseudo = (PEER_ADDR >> 16) + (PEER_ADDR & 0xffff) + (STACK_ADDR >> 16) +
                      (STACK_ADDR & 0xffff) + WIRE_PROTO_TCP + (uint32_t)tcp_len;
    put16(t + 16, wire_sum_fold(wire_sum(t, tcp_len, pseudo)));

    /* A guarded copy, so ASan sees any read past the packet. */
    stack_input(h->s, h->now, harness_packet(pkt, total), total);
}

/* The records after the cfg byte. */
static void segment_records(struct harness *h, const uint8_t *data, size_t size)
{
    for (int records = 0; size >= RECORD && records < MAX_RECORDS; records++) {
        send_record(h, data);
        harness_act(h, data[7]);
        harness_check(h);
        data += RECORD;
        size -= RECORD;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return harness_fuzz(data, size, segment_records);
}
