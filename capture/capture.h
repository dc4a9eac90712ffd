/*
 * capture.h — a packet capture (pcap or pcapng, from tcpdump or Wireshark)
 * as a source of the event stream: `tcplab play capture.pcap`.
 *
 * Data flow (docs/architecture.md): capture file -> cap_open() reads every IPv4 TCP
 * packet through libpcap and groups them into connections -> cap_timeline()
 * turns one connection into the same `struct scn_timeline` a scenario run
 * records (scenario.h): a TEV_SEGMENT per packet for its sender and its
 * receiver, and TEV_STATE events for both endpoints. The player, the ladder,
 * the text trace and the exporters then read it as they read any run.
 *
 * A capture shows segments, never sockets: every state here is inferred
 * from the segments by the rules of RFC 9293 §3.10, and every cause says so
 * ("rcvd FIN (inferred)"). Each packet is one step, narrated in English and
 * Chinese where something is recognised: the handshake, data and its
 * acknowledgement, a retransmission and the lost segment it repairs, a
 * duplicate ACK, a zero window, the teardown, a RST, who holds TIME_WAIT.
 *
 * No ncurses, no terminal: errors are values with a message for the user.
 */
#ifndef TCPLAB_CAPTURE_H
#define TCPLAB_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scenario.h"

enum cap_err {
    CAP_OK = 0,
    CAP_ERR_OPEN = -1,      /* cannot open or read the file */
    CAP_ERR_FORMAT = -2,    /* not a pcap / pcapng file */
    CAP_ERR_TRUNCATED = -3, /* the file ends inside a packet record */
    CAP_ERR_LINKTYPE = -4,  /* a link layer this reader does not know */
    CAP_ERR_NO_TCP = -5,    /* no TCP over IPv4 in it */
    CAP_ERR_NO_CONN = -6,   /* TCP, but no connection that can be followed */
    CAP_ERR_NO_MATCH = -7,  /* --conn matches no connection */
    CAP_ERR_AMBIGUOUS = -8, /* --conn matches more than one */
    CAP_ERR_NOMEM = -9,
};

/* What went wrong, for the user: "cap.pcap: truncated: ..." */
struct cap_error {
    enum cap_err code;
    char msg[512];
};

/* One TCP connection found in the capture. "a" is the end that sent the
 * first SYN (the client) when one was seen, else the first sender. */
struct cap_conn {
    uint32_t a_addr, b_addr; /* host byte order */
    uint16_t a_port, b_port;
    size_t npackets;
    size_t bytes_ab, bytes_ba; /* payload bytes each way (retransmissions included) */
    bool syn, synack;          /* a SYN from a / a SYN,ACK from b was seen */
    bool fin_a, fin_b, rst;
    bool seen_a, seen_b; /* packets from a / from b */
    bool both_ways;      /* packets in both directions */
    uint64_t first_us, last_us;
};

struct cap_file;

/* Read a whole capture. Returns NULL with err filled on any problem. */
struct cap_file *cap_open(const char *path, struct cap_error *err);
/* The same from an open stream (the fuzzer reads from memory); `name` is
 * used in messages. The stream is closed. */
struct cap_file *cap_open_stream(FILE *fp, const char *name, struct cap_error *err);
void cap_free(struct cap_file *cf);

/* True when the file is named .pcap / .pcapng / .cap or starts like a pcap or
 * pcapng file (its magic number). */
bool cap_is_capture(const char *path);

size_t cap_nconns(const struct cap_file *cf);
const struct cap_conn *cap_conn_at(const struct cap_file *cf, size_t i);
/* Can the connection be animated (a SYN seen, or packets both ways)? */
bool cap_conn_usable(const struct cap_conn *c);
/* "10.9.0.1:40000 → 10.9.0.2:8080  9 packets  handshake, 5+5 bytes, teardown" */
size_t cap_conn_describe(const struct cap_conn *c, char *buf, size_t cap);
/* The list of connections, numbered from 1, as the chooser and the
 * headless error show it. */
void cap_print_conns(const struct cap_file *cf, FILE *out);

/* Pick a connection. `filter` NULL: the only usable one (CAP_ERR_AMBIGUOUS
 * when there are several). Else a number from the list ("2"), a port
 * ("8080"), an endpoint ("10.9.0.2:8080", "10.9.0.2") or both ends
 * ("10.9.0.1:40000-10.9.0.2:8080"), matched in either direction.
 * Returns the index, or a negative enum cap_err with err filled. */
int cap_pick(const struct cap_file *cf, const char *filter, struct cap_error *err);

/* The connection as a timeline: one step per packet, both endpoints' states
 * inferred, narration in English and Chinese. NULL with err on failure. */
struct scn_timeline *cap_timeline(const struct cap_file *cf, size_t conn, struct cap_error *err);

/* The capture's file name, and what was left out while reading ("3 IPv6
 * packets, 12 UDP packets ignored"; empty when nothing). */
const char *cap_name(const struct cap_file *cf);
const char *cap_skipped(const struct cap_file *cf);

#endif
