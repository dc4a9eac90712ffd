/*
 * pcap_out.c — packets of the event stream into a pcap file through
 * libpcap, so Wireshark and tshark can open what tcplab saw (`--pcap FILE`).
 *
 * The link type is LINKTYPE_RAW: each record is a bare IPv4 packet, exactly
 * the bytes the stack received or sent, with no link-layer header (a TUN
 * device has none either). Record times are the event times, which under
 * the virtual clock start at zero.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "trace.h"

struct pcap_out {
    pcap_t *dead; /* a "dead" handle: only for writing, no capture device */
    pcap_dumper_t *dump;
};

/* Large enough for any IPv4 packet. */
#define PCAP_OUT_SNAPLEN 65535

struct pcap_out *pcap_out_open(const char *path, char *err, size_t errlen)
{
    struct pcap_out *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
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

void pcap_out_packet(struct pcap_out *p, uint64_t t_us, const uint8_t *pkt, size_t len)
{
    if (!p || !pkt)
        return;
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (time_t)(t_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(t_us % 1000000);
    h.len = (bpf_u_int32)len;
    h.caplen = (bpf_u_int32)(len < PCAP_OUT_SNAPLEN ? len : PCAP_OUT_SNAPLEN);
    pcap_dump((u_char *)p->dump, &h, pkt);
    /* Written through at once, so Wireshark can open the file while
     * `tcplab listen` is still running and nothing is lost if it is killed.
     * The cost, one write per packet, only applies with --pcap. */
    pcap_dump_flush(p->dump);
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
    else if (ev->kind == TEV_DROP && ev->u.drop.dir == TEV_IN)
        pcap_out_packet(p, ev->t_us, ev->u.drop.raw, ev->u.drop.raw_len);
}

void pcap_out_close(struct pcap_out *p)
{
    if (!p)
        return;
    pcap_dump_close(p->dump);
    pcap_close(p->dead);
    free(p);
}
