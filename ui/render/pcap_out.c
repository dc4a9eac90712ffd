/*
 * pcap_out.c — packets of the event stream into a capture file, so
 * Wireshark and tshark can open what tcplab saw (`--pcap FILE`).
 *
 * FILE ending in .pcapng, and "-" (standard output), is written as pcapng
 * by this file itself (libpcap cannot write pcapng): the packets, and the
 * event stream's state changes, drop reasons and kernel socket states as
 * packet comments (opt_comment) on the packet that caused them, which
 * Wireshark shows in the packet list ("pkt_comment") and tshark prints with
 * -e frame.comment. Any other name is classic pcap through libpcap.
 *
 * The link type is LINKTYPE_RAW: each record is a bare IPv4 packet, exactly
 * the bytes the stack received or sent, with no link-layer header (a TUN
 * device has none either). Record times are the event times plus the file's
 * epoch (pcap_out_set_epoch): the wall clock at the loop's start on TUN, a
 * fixed epoch for the virtual link (docs/traces.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "trace.h"

/* Large enough for any IPv4 packet. */
#define PCAP_OUT_SNAPLEN 65535
#define PCAPNG_COMMENTS  4096 /* bytes of comments one packet carries at most */

struct pcap_out {
    pcap_t *dead; /* classic pcap: a "dead" handle, only for writing */
    pcap_dumper_t *dump;
    FILE *ng; /* pcapng: our own writer */
    uint64_t epoch_us;
    /* pcapng: the last packet waits for the comments its events add. */
    bool pending;
    uint64_t pend_t;
    size_t pend_len;
    uint8_t pend_pkt[PCAP_OUT_SNAPLEN];
    char comments[PCAPNG_COMMENTS];
    size_t clen;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* pcapng: the section's byte order is the writer's */
}

/* One pcapng block: type, length, body padded to 4, length again. */
static void ng_block(FILE *f, uint32_t type, const uint8_t *body, size_t len)
{
    uint8_t hdr[8], pad[4] = {0};
    size_t padded = (len + 3) & ~(size_t)3;
    put32(hdr, type);
    put32(hdr + 4, (uint32_t)(12 + padded));
    fwrite(hdr, 1, 8, f);
    fwrite(body, 1, len, f);
    fwrite(pad, 1, padded - len, f);
    fwrite(hdr + 4, 1, 4, f);
}

static void ng_header(FILE *f)
{
    /* Section Header Block: byte-order magic, version 1.0, length unknown. */
    uint8_t shb[16 + 4] = {0};
    put32(shb, 0x1A2B3C4Du);
    shb[4] = 1; /* major 1, minor 0 (little-endian u16s on this machine) */
    memset(shb + 8, 0xff, 8);
    ng_block(f, 0x0A0D0D0Au, shb, 16 + 4); /* + opt_endofopt */
    /* Interface Description Block: LINKTYPE_RAW, default microseconds. */
    uint8_t idb[8 + 4] = {0};
    idb[0] = 101;
    put32(idb + 4, PCAP_OUT_SNAPLEN);
    ng_block(f, 1, idb, sizeof idb);
}

/* The comments as opt_comment options, one per line (Wireshark lists each
 * on its own); returns their length, options and padding included. With
 * out == NULL only measures. */
static size_t ng_comment_options(const char *c, size_t clen, uint8_t *out)
{
    size_t len = 0;
    for (size_t i = 0; i < clen;) {
        size_t j = i;
        while (j < clen && c[j] != '\n')
            j++;
        size_t n = j - i;
        if (n) {
            if (out) {
                uint16_t code = 1, l16 = (uint16_t)n; /* opt_comment */
                memcpy(out + len, &code, 2);
                memcpy(out + len + 2, &l16, 2);
                memcpy(out + len + 4, c + i, n);
            }
            len += 4 + ((n + 3) & ~(size_t)3);
        }
        i = j + 1;
    }
    return len;
}

static void ng_flush_pending(struct pcap_out *p)
{
    if (!p->pending)
        return;
    size_t plen = (p->pend_len + 3) & ~(size_t)3;
    size_t olen = ng_comment_options(p->comments, p->clen, NULL);
    size_t len = 20 + plen + (olen ? olen + 4 : 0);
    uint8_t *b = calloc(1, len);
    if (b) {
        uint64_t t = p->pend_t + p->epoch_us;
        put32(b, 0); /* interface 0 */
        put32(b + 4, (uint32_t)(t >> 32));
        put32(b + 8, (uint32_t)t);
        put32(b + 12, (uint32_t)p->pend_len);
        put32(b + 16, (uint32_t)p->pend_len);
        memcpy(b + 20, p->pend_pkt, p->pend_len);
        ng_comment_options(p->comments, p->clen, b + 20 + plen);
        /* opt_endofopt: the trailing zeros calloc left */
        ng_block(p->ng, 6, b, len); /* Enhanced Packet Block */
        free(b);
    }
    fflush(p->ng);
    p->pending = false;
    p->clen = 0;
}

struct pcap_out *pcap_out_open(const char *path, char *err, size_t errlen)
{
    struct pcap_out *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bool to_stdout = !strcmp(path, "-");
    if (to_stdout || ends_with(path, ".pcapng")) {
        p->ng = to_stdout ? stdout : fopen(path, "wb");
        if (!p->ng) {
            snprintf(err, errlen, "%s", strerror(errno));
            free(p);
            return NULL;
        }
        ng_header(p->ng);
        fflush(p->ng);
        return p;
    }
    /* DLT_RAW is written to the file as LINKTYPE_RAW (101). */
    p->dead = pcap_open_dead(DLT_RAW, PCAP_OUT_SNAPLEN);
    if (!p->dead) {
        snprintf(err, errlen, "libpcap could not create a handle for raw IPv4");
        free(p);
        return NULL;
    }
    errno = 0;
    p->dump = pcap_dump_open(p->dead, path);
    if (!p->dump) {
        /* libpcap's own message repeats the path; the caller already names it. */
        int e = errno;
        snprintf(err, errlen, "%s", e ? strerror(e) : pcap_geterr(p->dead));
        pcap_close(p->dead);
        free(p);
        return NULL;
    }
    return p;
}

void pcap_out_set_epoch(struct pcap_out *p, uint64_t epoch_us)
{
    if (p)
        p->epoch_us = epoch_us;
}

void pcap_out_packet(struct pcap_out *p, uint64_t t_us, const uint8_t *pkt, size_t len)
{
    if (!p || !pkt)
        return;
    if (len > PCAP_OUT_SNAPLEN)
        len = PCAP_OUT_SNAPLEN;
    if (p->ng) {
        ng_flush_pending(p);
        memcpy(p->pend_pkt, pkt, len);
        p->pend_len = len;
        p->pend_t = t_us;
        p->pending = true;
        return;
    }
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    uint64_t t = t_us + p->epoch_us;
    h.ts.tv_sec = (time_t)(t / 1000000);
    h.ts.tv_usec = (suseconds_t)(t % 1000000);
    h.len = (bpf_u_int32)len;
    h.caplen = (bpf_u_int32)len;
    pcap_dump((u_char *)p->dump, &h, pkt);
    /* Written through at once, so Wireshark can open the file while
     * `tcplab listen` is still running and nothing is lost if it is killed.
     * The cost, one write per packet, only applies with --pcap. */
    pcap_dump_flush(p->dump);
}

void pcap_out_comment(struct pcap_out *p, const char *text)
{
    if (!p || !p->ng || !p->pending)
        return; /* classic pcap has no comments; nothing to attach to yet */
    size_t n = strlen(text);
    if (p->clen + n + 1 >= sizeof p->comments)
        return;
    if (p->clen)
        p->comments[p->clen++] = '\n';
    memcpy(p->comments + p->clen, text, n);
    p->clen += n;
}

size_t pcap_out_comment_text(const struct tev *ev, char *buf, size_t cap)
{
    int n = 0;
    char a[16], b[16];
    if (ev->kind == TEV_STATE) {
        n = snprintf(buf, cap, "%s %s -> %s (%s)", ev->host ? ev->host : "",
                     tcp_state_name(ev->u.state.from), tcp_state_name(ev->u.state.to),
                     ev->u.state.cause ? ev->u.state.cause : "");
    } else if (ev->kind == TEV_DROP && ev->u.drop.dir == TEV_IN) {
        n = snprintf(buf, cap, "%s dropped: %s", ev->host ? ev->host : "",
                     tev_drop_reason_name(ev->u.drop.reason));
    } else if (ev->kind == TEV_KERNEL) {
        /* The kernel's own socket, as sock_diag reported it (tun/kdiag.h). */
        n = snprintf(buf, cap, "kernel %s:%u-%s:%u %s", wire_addr_str(ev->tuple.laddr, a),
                     ev->tuple.lport, wire_addr_str(ev->tuple.raddr, b), ev->tuple.rport,
                     ev->u.kernel.gone ? "gone" : tcp_state_name(ev->u.kernel.state));
    }
    if (n <= 0 || cap == 0) {
        if (cap)
            buf[0] = 0;
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

void pcap_out_annotate(void *ctx, const struct tev *ev)
{
    char line[256];
    if (pcap_out_comment_text(ev, line, sizeof line) > 0)
        pcap_out_comment(ctx, line);
}

/* Segments in and out, and packets the stack received and dropped (those
 * crossed the wire too: a capture should show them, checksum errors and
 * all). Attach it to one stack's events: with two stacks on one link each
 * segment is reported twice, once out and once in. */
void pcap_out_event(void *ctx, const struct tev *ev)
{
    struct pcap_out *p = ctx;
    if (ev->kind == TEV_SEGMENT)
        pcap_out_packet(p, ev->t_us, ev->u.seg.raw, ev->u.seg.raw_len);
    else if (ev->kind == TEV_DATAGRAM) /* UDP beside TCP (lesson 24) */
        pcap_out_packet(p, ev->t_us, ev->u.dgram.raw, ev->u.dgram.raw_len);
    else if (ev->kind == TEV_DROP && ev->u.drop.dir == TEV_IN)
        pcap_out_packet(p, ev->t_us, ev->u.drop.raw, ev->u.drop.raw_len);
    pcap_out_annotate(p, ev);
}

void pcap_out_close(struct pcap_out *p)
{
    if (!p)
        return;
    if (p->ng) {
        ng_flush_pending(p);
        if (p->ng == stdout)
            fflush(p->ng);
        else
            fclose(p->ng);
    } else {
        pcap_dump_close(p->dump);
        pcap_close(p->dead);
    }
    free(p);
}
