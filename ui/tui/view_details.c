/*
 * view_details.c — the selected segment, field by field: every IPv4 and
 * TCP header field with its offset, its value, the bytes exactly as they
 * are on the wire (multi-byte fields most significant byte first: network
 * byte order), and what it means; then the whole packet in hex with
 * offsets. Lesson 16 ("the header and network byte order") is built on it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "view.h"

struct dline {
    char text[192];
    uint16_t attr;
};

struct dlist {
    struct dline l[64];
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
    field(d, 2, "total length", v, b + 2, 2, "bytes: IP header + TCP header + data");
    snprintf(v, sizeof v, "%u", be16(b + 4));
    field(d, 4, "identification", v, b + 4, 2, "tells fragments of one packet apart");
    uint16_t frag = be16(b + 6);
    snprintf(v, sizeof v, "%s%s off %u", frag & 0x4000 ? "DF" : "", frag & 0x2000 ? " MF" : "",
             frag & 0x1fff);
    field(d, 6, "flags/fragment", v, b + 6, 2, "DF: don't fragment");
    snprintf(v, sizeof v, "%u", b[8]);
    field(d, 8, "TTL", v, b + 8, 1, "hops left before routers discard it");
    snprintf(v, sizeof v, "%u%s", b[9], b[9] == 6 ? " (TCP)" : b[9] == 1 ? " (ICMP)" : "");
    field(d, 9, "protocol", v, b + 9, 1, "what the payload is");
    snprintf(v, sizeof v, "0x%04x", be16(b + 10));
    field(d, 10, "hdr checksum", v, b + 10, 2, "one's-complement sum of the header");
    char a[16];
    field(d, 12, "source", wire_addr_str(be32(b + 12), a), b + 12, 4, "sender's address");
    field(d, 16, "destination", wire_addr_str(be32(b + 16), a), b + 16, 4, "receiver's address");
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
    if (doff > 20 && (size_t)doff <= len) {
        const struct wire_tcp_opts *o = &m->tl->events[ar->ev]->u.seg.tcp.opts;
        size_t n = 0;
        mean[0] = 0;
        if (o->has_mss)
            n += (size_t)snprintf(mean + n, sizeof mean - n, "mss %u ", o->mss);
        if (o->has_wscale && n < sizeof mean)
            n += (size_t)snprintf(mean + n, sizeof mean - n, "wscale %u ", o->wscale);
        if (o->sack_permitted && n < sizeof mean)
            n += (size_t)snprintf(mean + n, sizeof mean - n, "sackOK ");
        if (o->has_ts && n < sizeof mean)
            snprintf(mean + n, sizeof mean - n, "TS %u/%u", o->ts_val, o->ts_ecr);
        char hex[48];
        size_t show = (size_t)doff - 20 > 12 ? 12 : (size_t)doff - 20;
        add(d, SC_NORMAL, "+%-3d %-14s %-27s %s", 20, "options",
            wire_bytes(b + 20, show, hex, sizeof hex), mean);
    }
    size_t payload = len > (size_t)doff ? len - (size_t)doff : 0;
    if (payload) {
        char text[40];
        size_t k = 0;
        for (size_t i = (size_t)doff; i < len && k < 24; i++)
            text[k++] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
        text[k] = 0;
        add(d, SC_NORMAL, "data: %zu bytes \"%s%s\"", payload, text, payload > 24 ? "\u2026" : "");
    }
    add(d, SC_DIM,
        "multi-byte fields: most significant byte first (network byte order, ntohs/ntohl)");
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
    const struct tev *ev = m->tl->events[ar->ev];
    const uint8_t *raw = ev->u.seg.raw;
    size_t len = ev->u.seg.raw_len;
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
    /* TCP first: it is what the lessons are about. */
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
