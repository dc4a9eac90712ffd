/*
 * view_details.c — the selected segment, field by field: every IPv4 and
 * TCP header field (or, for a datagram, UDP's four: RFC 768) with its
 * offset, its value, the bytes exactly as they are on the wire (multi-byte
 * fields most significant byte first: network byte order), and what it
 * means; then the whole packet in hex with offsets. Lesson 16 ("the header
 * and network byte order") is built on it, lesson 24 shows a datagram.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "seq.h"
#include "view.h"

struct dline {
    char text[192];
    uint16_t attr;
};

struct dlist {
    struct dline l[96];
    int n;
};

static void add(struct dlist *d, uint16_t attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add(struct dlist *d, uint16_t attr, const char *fmt, ...)
{
    if (d->n >= (int)(sizeof d->l / sizeof d->l[0]))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->l[d->n].text, sizeof d->l[d->n].text, fmt, ap);
    va_end(ap);
    d->l[d->n++].attr = attr;
}

/* "00 3c" : the bytes of a field as they are on the wire. */
static const char *wire_bytes(const uint8_t *p, size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && len + 4 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%02x", i ? " " : "", p[i]);
    return buf;
}

static void field(struct dlist *d, size_t off, const char *name, const char *value,
                  const uint8_t *p, size_t n, const char *meaning)
{
    char hex[48];
    add(d, SC_NORMAL, "+%-3zu %-14s %-14s %-12s %s", off, name, value,
        wire_bytes(p, n, hex, sizeof hex), meaning);
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void ipv4_fields(struct dlist *d, const uint8_t *b, size_t len)
{
    char v[64];
    if (len < 20) {
        add(d, SC_LOST, "IPv4 header truncated (%zu bytes)", len);
        return;
    }
    int ihl = (b[0] & 0x0f) * 4;
    add(d, (uint16_t)(SC_TITLE | SA_BOLD), "IPv4 header, %d bytes (RFC 791)", ihl);
    snprintf(v, sizeof v, "%u / %d bytes", b[0] >> 4, ihl);
    field(d, 0, "version/IHL", v, b, 1, "IPv4; header length in 4-byte words");
    snprintf(v, sizeof v, "0x%02x", b[1]);
    field(d, 1, "DSCP/ECN", v, b + 1, 1, "type of service");
    snprintf(v, sizeof v, "%u", be16(b + 2));
    field(d, 2, "total length", v, b + 2, 2,
          b[9] == 6    ? "bytes: IP header + TCP header + data"
          : b[9] == 17 ? "bytes: IP header + UDP header + data"
                       : "bytes: IP header + data");
    snprintf(v, sizeof v, "%u", be16(b + 4));
    field(d, 4, "identification", v, b + 4, 2, "tells fragments of one packet apart");
    uint16_t frag = be16(b + 6);
    snprintf(v, sizeof v, "%s%s off %u", frag & 0x4000 ? "DF" : "", frag & 0x2000 ? " MF" : "",
             frag & 0x1fff);
    field(d, 6, "flags/fragment", v, b + 6, 2, "DF: don't fragment");
    snprintf(v, sizeof v, "%u", b[8]);
    field(d, 8, "TTL", v, b + 8, 1, "hops left before routers discard it");
    snprintf(v, sizeof v, "%u%s", b[9],
             b[9] == 6    ? " (TCP)"
             : b[9] == 17 ? " (UDP)"
             : b[9] == 1  ? " (ICMP)"
                          : "");
    field(d, 9, "protocol", v, b + 9, 1, "what the payload is");
    snprintf(v, sizeof v, "0x%04x", be16(b + 10));
    field(d, 10, "hdr checksum", v, b + 10, 2, "one's-complement sum of the header");
    char a[16];
    field(d, 12, "source", wire_addr_str(be32(b + 12), a), b + 12, 4, "sender's address");
    field(d, 16, "destination", wire_addr_str(be32(b + 16), a), b + 16, 4, "receiver's address");
}

/* An option whose bytes do not fit the bytes column: its value line, then
 * all of its bytes on the line below. */
static void long_field(struct dlist *d, size_t off, const char *name, const char *value,
                       const uint8_t *p, size_t n, const char *meaning)
{
    if (n <= 4) {
        field(d, off, name, value, p, n, meaning);
        return;
    }
    char hex[3 * 40];
    add(d, SC_NORMAL, "+%-3zu %-14s %-27s %s", off, name, value, meaning);
    add(d, SC_DIM, "     %-14s %s", "", wire_bytes(p, n, hex, sizeof hex));
}

/* The SACK blocks (RFC 2018 §3) as wire's parser read them: each edge
 * relative to the same ISN as the ack when the ack is numbered relatively
 * (the blocks are in the acknowledged side's sequence space), with the
 * absolute edges on the line below; the first block is a D-SACK (RFC 2883
 * §4) when it lies below the cumulative ACK or inside the second block. */
static void sack_blocks(struct dlist *d, const struct wire_tcp *t, const struct ui_arrow *ar,
                        bool absolute)
{
    const struct wire_tcp_opts *o = &t->opts;
    bool rel = !absolute && ar->rel_known && (t->flags & TCP_ACK);
    uint32_t base = rel ? t->ack - ar->rel_ack : 0;
    for (unsigned k = 0; k < o->n_sack && k < WIRE_SACK_MAX_BLOCKS; k++) {
        uint32_t l = o->sack[k].left, r = o->sack[k].right;
        const char *dsack = "";
        if (k == 0 && (t->flags & TCP_ACK) && seq_lt(l, t->ack))
            dsack = "  D-SACK: below the ack";
        else if (k == 0 && o->n_sack > 1 && seq_leq(o->sack[1].left, l) &&
                 seq_leq(r, o->sack[1].right))
            dsack = "  D-SACK: inside block 2";
        uint16_t attr = *dsack ? (uint16_t)(SC_RTX | SA_BOLD) : (uint16_t)SC_NORMAL;
        add(d, attr, "     block %u: %u-%u, %u bytes%s", k + 1, rel ? l - base : l,
            rel ? r - base : r, r - l, dsack);
        if (rel)
            add(d, SC_DIM, "              absolute %u-%u", l, r);
    }
}

/* Every option in order, with its offset and bytes: the framing (kind,
 * length) walked here, the values as wire's parser decoded them
 * (stack/wire.c, the same parse the engine acts on). */
static void options_fields(struct dlist *d, const struct ui_model *m, const struct ui_arrow *ar,
                           const uint8_t *b, size_t doff, bool absolute)
{
    const struct wire_tcp *t = &m->tl->events[ar->ev]->u.seg.tcp;
    const struct wire_tcp_opts *o = &t->opts;
    char v[64], mean[112];
    add(d, (uint16_t)(SC_TITLE | SA_BOLD), "options, %zu bytes (RFC 9293 \u00a73.2)", doff - 20);
    for (size_t i = 20; i < doff;) {
        uint8_t kind = b[i];
        if (kind == 0) {
            field(d, i, "end of list", "", b + i, 1,
                  "kind 0: no more options (the rest is padding)");
            break;
        }
        if (kind == 1) {
            size_t j = i;
            while (j < doff && b[j] == 1)
                j++;
            field(d, i, "NOP", j - i > 1 ? "padding" : "", b + i, j - i,
                  "kind 1: aligns the next option on 4 bytes");
            i = j;
            continue;
        }
        size_t olen = i + 1 < doff ? b[i + 1] : 0;
        if (olen < 2 || i + olen > doff) {
            snprintf(mean, sizeof mean, "malformed: length %zu %s", olen,
                     olen < 2 ? "is below 2" : "runs past the header");
            field(d, i, "option ?", "", b + i, doff - i > 4 ? 4 : doff - i, mean);
            break;
        }
        const uint8_t *p = b + i;
        switch (kind) {
        case 2:
            snprintf(v, sizeof v, "%u", o->mss);
            field(d, i, "MSS", v, p, olen, "largest segment the sender can receive (SYN only)");
            break;
        case 3:
            snprintf(v, sizeof v, "%u (x%u)", o->wscale, 1u << (o->wscale > 14 ? 14 : o->wscale));
            field(d, i, "window scale", v, p, olen,
                  o->wscale > 14 ? "RFC 7323 \u00a72.3: shift above 14, used as 14"
                                 : "RFC 7323 \u00a72: its windows are shifted this much");
            break;
        case 4:
            field(d, i, "SACK permitted", "yes", p, olen,
                  "RFC 2018: may send SACK blocks (SYN only)");
            break;
        case 5:
            snprintf(v, sizeof v, "%u block%s", o->n_sack, o->n_sack == 1 ? "" : "s");
            long_field(d, i, "SACK", v, p, olen, "RFC 2018: held above the ack");
            sack_blocks(d, t, ar, absolute);
            break;
        case 8:
            snprintf(v, sizeof v, "TSval %u", o->ts_val);
            long_field(d, i, "timestamps", v, p, olen, "RFC 7323 \u00a73: sender's clock");
            snprintf(v, sizeof v, "TSecr %u", o->ts_ecr);
            add(d, SC_NORMAL, "     %-14s %-27s %s", "", v,
                (t->flags & TCP_ACK) ? "echo of the last TSval received (RTTM, PAWS)"
                                     : "ignored: ACK not set (RFC 7323 \u00a73.2)");
            break;
        default:
            snprintf(v, sizeof v, "kind %u", kind);
            snprintf(mean, sizeof mean, "unknown to tcplab: %zu bytes skipped", olen);
            long_field(d, i, "option", v, p, olen, mean);
            break;
        }
        i += olen;
    }
}

/* The data after a header, its first bytes as text. */
static void data_line(struct dlist *d, const uint8_t *p, size_t n)
{
    if (!n)
        return;
    char text[40];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 24; i++)
        text[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
    text[k] = 0;
    add(d, SC_NORMAL, "data: %zu bytes \"%s%s\"", n, text, n > 24 ? "\u2026" : "");
}

static void byte_order_line(struct dlist *d)
{
    add(d, SC_DIM,
        "multi-byte fields: most significant byte first (network byte order, ntohs/ntohl)");
}

/* RFC 768's four fields, the checksum checked over the pseudo-header (the
 * IPv4 header `ip` gives the addresses) as the receiver checks it. */
static void udp_fields(struct dlist *d, const uint8_t *ip, const uint8_t *b, size_t len)
{
    char v[64], mean[96];
    if (len < 8) {
        add(d, SC_LOST, "UDP header truncated (%zu bytes)", len);
        return;
    }
    add(d, (uint16_t)(SC_TITLE | SA_BOLD), "%s", "UDP header, 8 bytes (RFC 768)");
    snprintf(v, sizeof v, "%u", be16(b));
    field(d, 0, "source port", v, b, 2, "sender's port");
    snprintf(v, sizeof v, "%u", be16(b + 2));
    field(d, 2, "dest port", v, b + 2, 2, "receiver's port");
    size_t ulen = be16(b + 4);
    snprintf(v, sizeof v, "%zu bytes", ulen);
    if (ulen >= 8 && ulen <= len)
        snprintf(mean, sizeof mean, "UDP header (8) + data (%zu); no seq, no ACK", ulen - 8);
    else
        snprintf(mean, sizeof mean, "does not fit the %zu bytes IP carries", len);
    field(d, 4, "length", v, b + 4, 2, mean);
    uint16_t sum = be16(b + 6);
    snprintf(v, sizeof v, "0x%04x", sum);
    if (!sum) {
        snprintf(mean, sizeof mean, "0: none sent (optional over IPv4)");
    } else if (ulen >= 8 && ulen <= len) {
        uint8_t pseudo[12];
        memcpy(pseudo, ip + 12, 8);
        pseudo[8] = 0;
        pseudo[9] = 17;
        pseudo[10] = (uint8_t)(ulen >> 8);
        pseudo[11] = (uint8_t)ulen;
        bool ok = wire_sum_fold(wire_sum(b, ulen, wire_sum(pseudo, 12, 0))) == 0;
        snprintf(mean, sizeof mean, "pseudo-header, header and data: %s", ok ? "correct" : "WRONG");
    } else {
        snprintf(mean, sizeof mean, "covers pseudo-header, header and data");
    }
    field(d, 6, "checksum", v, b + 6, 2, mean);
    if (ulen >= 8 && ulen <= len)
        data_line(d, b + 8, ulen - 8);
    byte_order_line(d);
}

static void tcp_fields(struct dlist *d, const struct ui_model *m, const struct ui_arrow *ar,
                       const uint8_t *b, size_t len, bool absolute)
{
    char v[64], mean[96];
    if (len < 20) {
        add(d, SC_LOST, "TCP header truncated (%zu bytes)", len);
        return;
    }
    int doff = (b[12] >> 4) * 4;
    add(d, (uint16_t)(SC_TITLE | SA_BOLD), "TCP header, %d bytes (RFC 9293 \u00a73.1)", doff);
    snprintf(v, sizeof v, "%u", be16(b));
    field(d, 0, "source port", v, b, 2, "sender's port");
    snprintf(v, sizeof v, "%u", be16(b + 2));
    field(d, 2, "dest port", v, b + 2, 2, "receiver's port");
    uint32_t seq = be32(b + 4), ack = be32(b + 8);
    bool rel = !absolute && ar->rel_known;
    snprintf(v, sizeof v, "%u", rel ? ar->rel_seq : seq);
    snprintf(mean, sizeof mean,
             rel ? "relative to the ISN; absolute %u" : "number of the first byte", seq);
    field(d, 4, "sequence no.", v, b + 4, 4, mean);
    snprintf(v, sizeof v, "%u", rel ? ar->rel_ack : ack);
    snprintf(mean, sizeof mean, "%s; absolute %u",
             b[13] & TCP_ACK ? "next byte expected" : "ignored: ACK not set", ack);
    if (rel && (b[13] & TCP_ACK))
        snprintf(mean, sizeof mean, "next byte expected, relative; absolute %u", ack);
    field(d, 8, "acknowledgment", v, b + 8, 4, mean);
    snprintf(v, sizeof v, "%d bytes", doff);
    field(d, 12, "data offset", v, b + 12, 1, "header length in 4-byte words (high 4 bits)");
    ui_flags_words(b[13], v, sizeof v);
    field(d, 13, "flags", v, b + 13, 1, "CWR ECE URG ACK PSH RST SYN FIN bits");
    snprintf(v, sizeof v, "%u", be16(b + 14));
    field(d, 14, "window", v, b + 14, 2, "bytes the sender can still receive");
    snprintf(v, sizeof v, "0x%04x", be16(b + 16));
    field(d, 16, "checksum", v, b + 16, 2, "covers pseudo-header, header and data");
    snprintf(v, sizeof v, "%u", be16(b + 18));
    field(d, 18, "urgent pointer", v, b + 18, 2, "only with URG");
    if (doff > 20 && (size_t)doff <= len)
        options_fields(d, m, ar, b, (size_t)doff, absolute);
    if (len > (size_t)doff)
        data_line(d, b + doff, len - (size_t)doff);
    byte_order_line(d);
}

static void hex_dump(struct dlist *d, const uint8_t *b, size_t len, int per_line)
{
    add(d, (uint16_t)(SC_TITLE | SA_BOLD), "packet, %zu bytes", len);
    for (size_t off = 0; off < len; off += (size_t)per_line) {
        char line[192];
        size_t n = (size_t)snprintf(line, sizeof line, "%04zx ", off);
        for (int i = 0; i < per_line && off + (size_t)i < len && n < sizeof line; i++)
            n += (size_t)snprintf(line + n, sizeof line - n, "%s%02x", i % 4 ? " " : "  ",
                                  b[off + (size_t)i]);
        add(d, SC_NORMAL, "%s", line);
    }
}

static void print_list(struct screen *s, int x, int y, int w, int h, const struct dlist *d,
                       int scroll)
{
    for (int i = 0; i < h; i++) {
        int li = i + scroll;
        if (li >= d->n)
            break;
        screen_print(s, x, y + i, w, d->l[li].attr, d->l[li].text);
    }
}

void ui_view_details(struct screen *s, struct ui_rect r, const struct ui_model *m, int row,
                     const struct ui_view_opts *o)
{
    if (r.h <= 0)
        return;
    screen_fill(s, r.x, r.y, r.w, r.h, ' ', SC_NORMAL);
    if (row < 0 || (size_t)row >= m->nrows || !m->rows[row].has_arrow) {
        screen_print(
            s, r.x + 1, r.y, r.w - 2, SC_DIM,
            "No segment yet. Step forward (\u2192) until one is sent; \u2191\u2193 select.");
        return;
    }
    const struct ui_arrow *ar = &m->rows[row].arrow;
    size_t len;
    const uint8_t *raw = ui_arrow_raw(m, ar, &len);
    if (!raw || len < 20) {
        screen_print(s, r.x + 1, r.y, r.w - 2, SC_DIM,
                     "(the raw bytes of this segment were not recorded)");
        return;
    }
    size_t ihl = (size_t)(raw[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > len)
        ihl = 20;

    static struct dlist left, right; /* large; one frame at a time */
    left.n = right.n = 0;
    bool two = r.w >= 124;
    int colw = two ? (r.w - 3) / 2 : r.w - 2;
    /* TCP (or UDP) first: it is what the lessons are about. */
    if (ar->udp)
        udp_fields(&left, raw, raw + ihl, len - ihl);
    else
        tcp_fields(&left, m, ar, raw + ihl, len - ihl, o->absolute);
    if (!two)
        add(&left, SC_NORMAL, "%s", "");
    ipv4_fields(two ? &right : &left, raw, len);
    struct dlist *hex = two ? &right : &left;
    add(hex, SC_NORMAL, "%s", "");
    int per_line = colw >= 60 ? 16 : colw >= 32 ? 8 : 4;
    hex_dump(hex, raw, len, per_line);

    int most = left.n > right.n ? left.n : right.n;
    bool more = most > r.h;
    int rows = more ? r.h - 1 : r.h;
    int scroll = o->details_scroll;
    if (scroll > most - rows)
        scroll = most - rows;
    if (scroll < 0)
        scroll = 0;
    print_list(s, r.x + 1, r.y, colw, rows, &left, scroll);
    if (two) {
        screen_vline(s, r.x + 1 + colw, r.y, rows, 0x2502, SC_FRAME);
        print_list(s, r.x + 2 + colw, r.y, colw, rows, &right, scroll);
    }
    if (more)
        screen_printf(s, r.x + 1, r.y + r.h - 1, r.w - 2, SC_DIM,
                      "lines %d-%d of %d \u00b7 PgUp/PgDn scroll", scroll + 1, scroll + rows, most);
}
