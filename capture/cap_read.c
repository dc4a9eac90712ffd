/*
 * cap_read.c — read a pcap / pcapng capture through libpcap, keep every
 * IPv4 TCP packet, and group the packets into connections (capture.h).
 *
 * Link layers: Ethernet (with 802.1Q / QinQ tags), Linux cooked v1 and v2
 * (tcpdump -i any), raw IPv4 and BSD loopback. Packets are stored as bare
 * IPv4 packets, repaired where a capture routinely "breaks" them so that
 * stack/wire.c's strict parser accepts them:
 *  - a snap length shorter than the packet: the missing bytes are zeros;
 *  - a TCP checksum that does not verify: on the capturing host the NIC
 *    computes it after tcpdump has seen the packet (checksum offload), so
 *    the sum is recomputed (counted, and said in the skipped note).
 * Everything else that is not IPv4 TCP (IPv6, UDP, ICMP, ARP, fragments,
 * malformed headers) is counted and left out.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap_internal.h"

/* At most this many packets are kept (a classroom capture is small; a huge
 * one is cut here rather than exhausting memory). */
#define CAP_MAX_PACKETS 200000
#define CAP_MAX_CONNS   4096

static void set_err(struct cap_error *err, enum cap_err code, const char *fmt, ...)
{
    if (!err)
        return;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

bool cap_is_capture(const char *path)
{
    /* By name too, so a damaged capture gets the capture reader's message. */
    const char *dot = strrchr(path, '.');
    if (dot && (!strcmp(dot, ".pcap") || !strcmp(dot, ".pcapng") || !strcmp(dot, ".cap")))
        return true;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    uint8_t m[4];
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    if (n != 4)
        return false;
    uint32_t le =
        (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
    uint32_t be =
        (uint32_t)m[3] | (uint32_t)m[2] << 8 | (uint32_t)m[1] << 16 | (uint32_t)m[0] << 24;
    /* pcap (µs and ns, either byte order) and pcapng's Section Header Block. */
    return le == 0xa1b2c3d4u || be == 0xa1b2c3d4u || le == 0xa1b23c4du || be == 0xa1b23c4du ||
           le == 0x0a0d0d0au;
}

/* Where the IPv4 packet starts in a frame of this link type; -1 when the
 * frame carries something else (its ethertype / family is not IPv4). */
static long ipv4_offset(int dlt, const uint8_t *f, size_t len, bool *ipv6)
{
    *ipv6 = false;
    switch (dlt) {
    case DLT_EN10MB: {
        size_t off = 12;
        for (int tags = 0; tags < 3; tags++) {
            if (len < off + 2)
                return -1;
            unsigned type = (unsigned)f[off] << 8 | f[off + 1];
            if (type == 0x8100 || type == 0x88a8) {
                off += 4;
                continue;
            }
            *ipv6 = type == 0x86dd;
            return type == 0x0800 ? (long)(off + 2) : -1;
        }
        return -1;
    }
    case DLT_LINUX_SLL: /* 16 bytes, protocol at 14 */
        if (len < 16)
            return -1;
        *ipv6 = ((unsigned)f[14] << 8 | f[15]) == 0x86dd;
        return ((unsigned)f[14] << 8 | f[15]) == 0x0800 ? 16 : -1;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2: /* 20 bytes, protocol first */
        if (len < 20)
            return -1;
        *ipv6 = ((unsigned)f[0] << 8 | f[1]) == 0x86dd;
        return ((unsigned)f[0] << 8 | f[1]) == 0x0800 ? 20 : -1;
#endif
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
#endif
        if (len < 1)
            return -1;
        *ipv6 = (f[0] >> 4) == 6;
        return (f[0] >> 4) == 4 ? 0 : -1;
    case DLT_NULL:
    case DLT_LOOP: { /* 4-byte address family, host or network order */
        if (len < 4)
            return -1;
        uint32_t le =
            (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
        uint32_t be =
            (uint32_t)f[3] | (uint32_t)f[2] << 8 | (uint32_t)f[1] << 16 | (uint32_t)f[0] << 24;
        if (le == 2 || be == 2)
            return 4;
        *ipv6 = le == 24 || le == 28 || le == 30 || be == 24 || be == 28 || be == 30;
        return -1;
    }
    default:
        return -2;
    }
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The TCP checksum (RFC 9293 §3.1, pseudo-header) recomputed in place. */
static void fix_tcp_checksum(uint8_t *ip, size_t ihl, size_t total)
{
    uint8_t *tcp = ip + ihl;
    size_t tlen = total - ihl;
    tcp[16] = tcp[17] = 0;
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = WIRE_PROTO_TCP;
    pseudo[10] = (uint8_t)(tlen >> 8);
    pseudo[11] = (uint8_t)tlen;
    uint16_t sum = wire_sum_fold(wire_sum(tcp, tlen, wire_sum(pseudo, sizeof pseudo, 0)));
    tcp[16] = (uint8_t)(sum >> 8);
    tcp[17] = (uint8_t)sum;
}

static void fix_ip_checksum(uint8_t *ip, size_t ihl)
{
    ip[10] = ip[11] = 0;
    uint16_t sum = wire_sum_fold(wire_sum(ip, ihl, 0));
    ip[10] = (uint8_t)(sum >> 8);
    ip[11] = (uint8_t)sum;
}

/* The connection a packet belongs to, created on first sight. The first SYN
 * without ACK decides who is "a" (the client); before one is seen the first
 * sender is, and a SYN,ACK from "a" turns the roles round. */
static int conn_of(struct cap_file *cf, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                   uint8_t flags, bool *from_a)
{
    for (size_t i = 0; i < cf->nconns; i++) {
        struct cap_conn *c = &cf->conns[i];
        if (c->a_addr == src && c->a_port == sport && c->b_addr == dst && c->b_port == dport) {
            *from_a = true;
            return (int)i;
        }
        if (c->b_addr == src && c->b_port == sport && c->a_addr == dst && c->a_port == dport) {
            *from_a = false;
            return (int)i;
        }
    }
    if (cf->nconns == CAP_MAX_CONNS)
        return -1;
    if (cf->nconns == cf->cap_conns) {
        size_t n = cf->cap_conns ? cf->cap_conns * 2 : 16;
        struct cap_conn *c = realloc(cf->conns, n * sizeof *c);
        if (!c)
            return -1;
        cf->conns = c;
        cf->cap_conns = n;
    }
    struct cap_conn *c = &cf->conns[cf->nconns];
    memset(c, 0, sizeof *c);
    /* A SYN,ACK first: its receiver is the client. */
    bool swap = (flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
    c->a_addr = swap ? dst : src;
    c->a_port = swap ? dport : sport;
    c->b_addr = swap ? src : dst;
    c->b_port = swap ? sport : dport;
    *from_a = !swap;
    return (int)cf->nconns++;
}

static void note_skip(struct cap_file *cf, const char *what)
{
    for (size_t i = 0; i < cf->nskips; i++)
        if (!strcmp(cf->skips[i].what, what)) {
            cf->skips[i].n++;
            return;
        }
    if (cf->nskips < sizeof cf->skips / sizeof cf->skips[0])
        cf->skips[cf->nskips++] = (struct cap_skip){what, 1};
}

/* One frame: keep it if it is IPv4 TCP. Returns false only when out of memory. */
static bool take_frame(struct cap_file *cf, int dlt, const struct pcap_pkthdr *h, const uint8_t *f)
{
    bool ipv6;
    long off = ipv4_offset(dlt, f, h->caplen, &ipv6);
    if (off < 0) {
        note_skip(cf, ipv6 ? "IPv6" : "non-IP");
        return true;
    }
    const uint8_t *ip = f + off;
    size_t have = h->caplen - (size_t)off;
    if (have < WIRE_IPV4_HDR_LEN || (ip[0] >> 4) != 4) {
        note_skip(cf, "malformed IPv4");
        return true;
    }
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t total = get16(ip + 2);
    if (ihl < WIRE_IPV4_HDR_LEN || total < ihl || have < ihl) {
        note_skip(cf, "malformed IPv4");
        return true;
    }
    if (ip[9] != WIRE_PROTO_TCP) {
        note_skip(cf, ip[9] == 17 ? "UDP" : ip[9] == 1 ? "ICMP" : "other IPv4");
        return true;
    }
    if (get16(ip + 6) & 0x3fff) {
        note_skip(cf, "IPv4 fragment");
        return true;
    }
    /* TSO on the capturing host: total length 0 and the real length in the
     * frame. Otherwise bytes past the snap length become zeros. */
    if (total == 0)
        total = have;
    if (total > 65535 || total < ihl + WIRE_TCP_HDR_LEN) {
        note_skip(cf, "malformed TCP");
        return true;
    }
    if (cf->npkts == CAP_MAX_PACKETS) {
        note_skip(cf, "past the packet limit");
        return true;
    }
    uint8_t *copy = calloc(1, total);
    if (!copy)
        return false;
    memcpy(copy, ip, have < total ? have : total);
    if (have < total)
        cf->ncut++;
    copy[2] = (uint8_t)(total >> 8);
    copy[3] = (uint8_t)total;

    struct wire_ipv4 pip;
    int rc = wire_ipv4_parse(copy, total, &pip);
    if (rc == WIRE_ERR_BAD_IP_CHECKSUM) {
        fix_ip_checksum(copy, ihl);
        rc = wire_ipv4_parse(copy, total, &pip);
    }
    struct wire_tcp tcp;
    if (rc == WIRE_OK) {
        rc = wire_tcp_parse(&pip, &tcp);
        if (rc == WIRE_ERR_BAD_CHECKSUM) {
            fix_tcp_checksum(copy, ihl, total);
            cf->nfixed++;
            rc = wire_tcp_parse(&pip, &tcp);
        }
    }
    if (rc != WIRE_OK) {
        free(copy);
        note_skip(cf, "malformed TCP");
        return true;
    }
    bool from_a;
    int ci = conn_of(cf, pip.src, tcp.sport, pip.dst, tcp.dport, tcp.flags, &from_a);
    if (ci < 0) {
        free(copy);
        note_skip(cf, "past the connection limit");
        return true;
    }
    if (cf->npkts == cf->cap_pkts) {
        size_t n = cf->cap_pkts ? cf->cap_pkts * 2 : 256;
        struct cap_pkt *p = realloc(cf->pkts, n * sizeof *p);
        if (!p) {
            free(copy);
            return false;
        }
        cf->pkts = p;
        cf->cap_pkts = n;
    }
    uint64_t t = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
    cf->pkts[cf->npkts++] = (struct cap_pkt){t, copy, total, (size_t)ci, from_a};

    struct cap_conn *c = &cf->conns[ci];
    if (!c->npackets)
        c->first_us = t;
    c->last_us = t;
    c->npackets++;
    if (from_a)
        c->bytes_ab += tcp.payload_len;
    else
        c->bytes_ba += tcp.payload_len;
    if ((tcp.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && from_a)
        c->syn = true;
    if ((tcp.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) && !from_a)
        c->synack = true;
    if (tcp.flags & TCP_FIN)
        *(from_a ? &c->fin_a : &c->fin_b) = true;
    if (tcp.flags & TCP_RST)
        c->rst = true;
    *(from_a ? &c->seen_a : &c->seen_b) = true;
    c->both_ways = c->seen_a && c->seen_b;
    return true;
}

static void summarise_skips(struct cap_file *cf)
{
    size_t n = 0;
    cf->skipped[0] = 0;
    for (size_t i = 0; i < cf->nskips; i++)
        n += (size_t)snprintf(cf->skipped + n, n < sizeof cf->skipped ? sizeof cf->skipped - n : 0,
                              "%s%zu %s packet%s", n ? ", " : "", cf->skips[i].n, cf->skips[i].what,
                              cf->skips[i].n == 1 ? "" : "s");
    if (n && n < sizeof cf->skipped)
        n += (size_t)snprintf(cf->skipped + n, sizeof cf->skipped - n, " left out");
    if (cf->nfixed && n < sizeof cf->skipped)
        n += (size_t)snprintf(cf->skipped + n, sizeof cf->skipped - n,
                              "%s%zu TCP checksum%s recomputed (checksum offload on the "
                              "capturing host)",
                              n ? "; " : "", cf->nfixed, cf->nfixed == 1 ? "" : "s");
    if (cf->ncut && n < sizeof cf->skipped)
        snprintf(cf->skipped + n, sizeof cf->skipped - n,
                 "%s%zu packet%s cut by the snap length (missing bytes shown as zeros)",
                 n ? "; " : "", cf->ncut, cf->ncut == 1 ? "" : "s");
}

void cap_free(struct cap_file *cf)
{
    if (!cf)
        return;
    for (size_t i = 0; i < cf->npkts; i++)
        free(cf->pkts[i].ip);
    free(cf->pkts);
    free(cf->conns);
    free(cf);
}

static struct cap_file *read_all(pcap_t *pc, const char *name, struct cap_error *err)
{
    struct cap_file *cf = calloc(1, sizeof *cf);
    if (!cf) {
        pcap_close(pc);
        set_err(err, CAP_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    snprintf(cf->name, sizeof cf->name, "%s", name);
    int dlt = pcap_datalink(pc);
    bool ipv6;
    if (ipv4_offset(dlt, (const uint8_t *)"", 0, &ipv6) == -2) {
        const char *dn = pcap_datalink_val_to_name(dlt);
        set_err(err, CAP_ERR_LINKTYPE,
                "%s: link type %s (%d) is not one tcplab reads (Ethernet, Linux cooked, raw IP, "
                "loopback) — capture with `tcpdump -i any -w FILE` or on an Ethernet interface",
                name, dn ? dn : "unknown", dlt);
        pcap_close(pc);
        cap_free(cf);
        return NULL;
    }
    size_t frames = 0;
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(pc, &h, &data);
        if (rc == PCAP_ERROR_BREAK)
            break;
        if (rc < 0) {
            set_err(err, CAP_ERR_TRUNCATED,
                    "%s: the capture is damaged or truncated after %zu packet%s (%s) — was "
                    "tcpdump stopped before it finished writing? Capture again, stopping it "
                    "with Ctrl-C",
                    name, frames, frames == 1 ? "" : "s", pcap_geterr(pc));
            pcap_close(pc);
            cap_free(cf);
            return NULL;
        }
        if (rc == 0)
            continue;
        frames++;
        if (!take_frame(cf, dlt, h, data)) {
            set_err(err, CAP_ERR_NOMEM, "%s: out of memory after %zu packets", name, frames);
            pcap_close(pc);
            cap_free(cf);
            return NULL;
        }
    }
    pcap_close(pc);
    summarise_skips(cf);
    if (!cf->npkts) {
        set_err(err, CAP_ERR_NO_TCP, "%s: no TCP over IPv4 in this capture (%zu packet%s%s%s)",
                name, frames, frames == 1 ? "" : "s", cf->skipped[0] ? ": " : "", cf->skipped);
        cap_free(cf);
        return NULL;
    }
    bool any = false;
    for (size_t i = 0; i < cf->nconns; i++)
        any = any || cap_conn_usable(&cf->conns[i]);
    if (!any) {
        set_err(err, CAP_ERR_NO_CONN,
                "%s: no connection to follow: %zu TCP packet%s, but none of the %zu "
                "connection%s shows a SYN or packets in both directions — capture from "
                "before the connection opens (start tcpdump first)",
                name, cf->npkts, cf->npkts == 1 ? "" : "s", cf->nconns, cf->nconns == 1 ? "" : "s");
        cap_free(cf);
        return NULL;
    }
    return cf;
}

struct cap_file *cap_open_stream(FILE *fp, const char *name, struct cap_error *err)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, perr);
    if (!pc) {
        fclose(fp);
        set_err(err, CAP_ERR_FORMAT,
                "%s: not a capture tcplab can read (%s) — give a pcap or pcapng file, e.g. "
                "from `tcpdump -w FILE`",
                name, perr);
        return NULL;
    }
    return read_all(pc, name, err);
}

struct cap_file *cap_open(const char *path, struct cap_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        set_err(err, CAP_ERR_OPEN, "%s: %s", path, strerror(errno));
        return NULL;
    }
    return cap_open_stream(fp, path, err);
}

const char *cap_name(const struct cap_file *cf)
{
    return cf->name;
}

const char *cap_skipped(const struct cap_file *cf)
{
    return cf->skipped;
}

size_t cap_nconns(const struct cap_file *cf)
{
    return cf->nconns;
}

const struct cap_conn *cap_conn_at(const struct cap_file *cf, size_t i)
{
    return i < cf->nconns ? &cf->conns[i] : NULL;
}

bool cap_conn_usable(const struct cap_conn *c)
{
    return c->syn || c->synack || c->both_ways;
}

size_t cap_conn_describe(const struct cap_conn *c, char *buf, size_t cap)
{
    char a[16], b[16];
    wire_addr_str(c->a_addr, a);
    wire_addr_str(c->b_addr, b);
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__)
    char ends[64];
    snprintf(ends, sizeof ends, "%s:%u → %s:%u", a, c->a_port, b, c->b_port);
    ADD("%-46s %4zu packet%s ", ends, c->npackets, c->npackets == 1 ? " " : "s");
    if (c->syn && c->synack)
        ADD(" handshake,");
    else if (c->syn && c->rst && !c->both_ways)
        ADD(" SYN unanswered,");
    else if (c->syn && c->rst)
        ADD(" refused (SYN answered by RST),");
    else if (c->syn)
        ADD(" SYN unanswered,");
    else
        ADD(" begins mid-connection,");
    ADD(" %zu+%zu bytes", c->bytes_ab, c->bytes_ba);
    if (c->rst)
        ADD(", RST");
    if (c->fin_a && c->fin_b)
        ADD(", teardown");
    else if (c->fin_a || c->fin_b)
        ADD(", one FIN");
    if (!cap_conn_usable(c))
        ADD("  (one direction only: cannot follow)");
#undef ADD
    return n < cap ? n : (cap ? cap - 1 : 0);
}

void cap_print_conns(const struct cap_file *cf, FILE *out)
{
    char line[256];
    for (size_t i = 0; i < cf->nconns; i++) {
        cap_conn_describe(&cf->conns[i], line, sizeof line);
        fprintf(out, "  %3zu  %s\n", i + 1, line);
    }
}

/* "A.B.C.D[:PORT]" or "PORT" against one end. */
static bool end_matches(const char *spec, uint32_t addr, uint16_t port)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", spec);
    char *colon = strchr(buf, ':');
    if (!strchr(buf, '.')) { /* a port alone */
        char *end;
        long p = strtol(buf, &end, 10);
        return !*end && end != buf && p == port;
    }
    if (colon)
        *colon = 0;
    uint32_t a;
    if (wire_addr_parse(buf, &a) != 0 || a != addr)
        return false;
    if (!colon)
        return true;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    return !*end && end != colon + 1 && p == port;
}

static bool conn_matches(const struct cap_conn *c, const char *filter)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", filter);
    char *dash = strchr(buf, '-');
    if (!dash)
        return end_matches(buf, c->a_addr, c->a_port) || end_matches(buf, c->b_addr, c->b_port);
    *dash = 0;
    const char *x = buf, *y = dash + 1;
    return (end_matches(x, c->a_addr, c->a_port) && end_matches(y, c->b_addr, c->b_port)) ||
           (end_matches(x, c->b_addr, c->b_port) && end_matches(y, c->a_addr, c->a_port));
}

int cap_pick(const struct cap_file *cf, const char *filter, struct cap_error *err)
{
    if (filter && *filter && strspn(filter, "0123456789") == strlen(filter) && filter[0] != '0' &&
        strlen(filter) < 6 && (size_t)atol(filter) <= cf->nconns && !strchr(filter, '.')) {
        /* A number from the list — unless it is better read as a port: the
         * list is short, so 80 or 8080 are ports. */
        size_t i = (size_t)atol(filter) - 1;
        if (cap_conn_usable(&cf->conns[i]))
            return (int)i;
        set_err(err, CAP_ERR_NO_CONN,
                "%s: connection %s has packets in one direction only and no SYN: it cannot "
                "be followed",
                cf->name, filter);
        return CAP_ERR_NO_CONN;
    }
    int found = -1;
    size_t nfound = 0;
    for (size_t i = 0; i < cf->nconns; i++) {
        if (!cap_conn_usable(&cf->conns[i]))
            continue;
        if (filter && *filter && !conn_matches(&cf->conns[i], filter))
            continue;
        if (found < 0)
            found = (int)i;
        nfound++;
    }
    if (nfound == 1)
        return found;
    if (!nfound) {
        set_err(err, CAP_ERR_NO_MATCH,
                "%s: no connection matches --conn %s — the connections in it are listed "
                "below",
                cf->name, filter ? filter : "");
        return CAP_ERR_NO_MATCH;
    }
    set_err(err, CAP_ERR_AMBIGUOUS,
            "%s: %zu connections%s%s%s — choose one with --conn N (its number below) or "
            "--conn ADDR:PORT",
            cf->name, nfound, filter && *filter ? " match '" : " in it", filter ? filter : "",
            filter && *filter ? "'" : "");
    return CAP_ERR_AMBIGUOUS;
}
