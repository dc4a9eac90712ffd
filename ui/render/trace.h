/*
 * trace.h — the non-interactive renderers of the event stream
 * (docs/architecture.md): a tcpdump-like text trace, the JSON Lines trace,
 * and pcap files through libpcap. Each has a tev_fn-shaped entry point so it can be
 * plugged straight into a stack's or a link's event sink; tev_fanout feeds
 * several at once.
 */
#ifndef TCPLAB_TRACE_H
#define TCPLAB_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "event.h"
#include "relseq.h"

/* Connections whose initial sequence numbers the text trace remembers, so
 * numbers can be shown relative to them (tcpdump's default; `-S` shows them
 * absolute); the oldest is forgotten beyond that (relseq.h). */
#define TRACE_MAX_ISN RELSEQ_FIXED

/* ---- text trace ---------------------------------------------------------- */
struct trace_text {
    FILE *out;
    bool relative;             /* relative sequence numbers */
    bool show_timers;          /* include timer arm/cancel lines (fire is always shown) */
    /* each connection's ISNs: relseq.h, a fixed map (nothing to free) */
    struct relseq_map seqmap;
};
void trace_text_init(struct trace_text *t, FILE *out, bool relative);
/* Format one event as one line (no newline) into buf; returns its length,
 * or 0 if this event is not shown. */
size_t trace_text_format(struct trace_text *t, const struct tev *ev, char *buf, size_t cap);
/* tev_fn: ctx is a struct trace_text *. */
void trace_text_event(void *ctx, const struct tev *ev);

/* ---- JSON Lines ------------------------------------------------------------ */
/* tev_fn: ctx is a FILE *. One object per event, as docs/architecture.md says. */
void trace_json_event(void *ctx, const struct tev *ev);
/* The first record of a trace: {"t":0,"ev":"start","wall":ISO-8601 UTC,
 * "wall_us", "version", "source" (listen, connect, demo), "config": an
 * object the caller formats}. `wall_us` is the wall clock of t=0. */
void trace_json_start(FILE *out, const char *source, const char *version, uint64_t wall_us,
                      const char *config);

/* ---- pcap ---------------------------------------------------------------- */
struct pcap_out;
/* LINKTYPE_RAW (IPv4 packets, no link header). A path ending in .pcapng, and
 * "-" (standard output), is pcapng, with comments; any other is classic
 * pcap. NULL with a message in err. */
struct pcap_out *pcap_out_open(const char *path, char *err, size_t errlen);
/* Added to every event time: the wall clock of t=0 (microseconds since 1970). */
void pcap_out_set_epoch(struct pcap_out *p, uint64_t epoch_us);
/* The fixed epoch of virtual-link captures: 2000-01-01T00:00:00Z. */
#define PCAP_OUT_VIRTUAL_EPOCH_US (946684800ull * 1000000)
/* A comment on the last packet written (pcapng only; otherwise ignored). */
void pcap_out_comment(struct pcap_out *p, const char *text);
/* The comment an event gives a packet: a state change ("client SYN_SENT ->
 * ESTABLISHED (rcvd SYN,ACK)"), a drop reason, a kernel socket's state; ""
 * and 0 for other events. Returns the length written. */
size_t pcap_out_comment_text(const struct tev *ev, char *buf, size_t cap);
/* tev_fn: those comments on the packet before them (for a sink that writes
 * packets some other way). */
void pcap_out_annotate(void *ctx, const struct tev *ev);
void pcap_out_packet(struct pcap_out *p, uint64_t t_us, const uint8_t *pkt, size_t len);
/* tev_fn: writes the packet of every outgoing or incoming segment (TEV_SEGMENT)
 * and every dropped packet (TEV_DROP, dir in). ctx is a struct pcap_out *. */
void pcap_out_event(void *ctx, const struct tev *ev);
void pcap_out_close(struct pcap_out *p);

/* ---- fan-out ------------------------------------------------------------- */
#define TEV_FANOUT_MAX 8
struct tev_fanout {
    unsigned n;
    tev_fn fn[TEV_FANOUT_MAX];
    void *ctx[TEV_FANOUT_MAX];
};
void tev_fanout_add(struct tev_fanout *f, tev_fn fn, void *ctx);
void tev_fanout_event(void *ctx, const struct tev *ev);

#endif
