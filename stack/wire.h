/*
 * wire.h — IPv4, TCP and ICMP echo on the wire: parse untrusted bytes into
 * plain representation structs, and build packets back from them.
 *
 * This is the bottom of the data flow in docs/architecture.md: every packet the stack
 * receives goes through wire_ipv4_parse() and wire_tcp_parse() first, and
 * every packet it sends is made by wire_tcp_build(). Parsing never reads past
 * the buffer it is given and reports each kind of malformation as its own
 * error, so a dropped packet always has a precise reason.
 *
 * All integers in the representation structs are in host byte order; the
 * conversion to network byte order (big-endian) happens only here.
 */
#ifndef TCPLAB_WIRE_H
#define TCPLAB_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every way a packet can be malformed; each is a distinct negative value. */
enum wire_err {
    WIRE_OK = 0,
    WIRE_ERR_TRUNCATED_IP = -1,     /* shorter than a minimal IPv4 header */
    WIRE_ERR_BAD_VERSION = -2,      /* version field is not 4 */
    WIRE_ERR_BAD_IHL = -3,          /* IHL < 5, or header longer than the buffer */
    WIRE_ERR_BAD_TOTAL_LENGTH = -4, /* total length < IHL or > bytes received */
    WIRE_ERR_BAD_IP_CHECKSUM = -5,  /* IPv4 header checksum does not verify */
    WIRE_ERR_FRAGMENT = -6,         /* MF set or fragment offset non-zero */
    WIRE_ERR_NOT_TCP = -7,          /* protocol is neither TCP nor handled ICMP */
    WIRE_ERR_TRUNCATED_TCP = -8,    /* IP payload shorter than 20 bytes */
    WIRE_ERR_BAD_DATA_OFFSET = -9,  /* data offset < 5 or beyond the segment */
    WIRE_ERR_BAD_OPTION_LENGTH = -10, /* option length 0 or 1, or runs past the header */
    WIRE_ERR_BAD_CHECKSUM = -11,    /* TCP checksum (with pseudo-header) fails */
    WIRE_ERR_TRUNCATED_ICMP = -12,  /* ICMP message shorter than its header */
    WIRE_ERR_BAD_ICMP_CHECKSUM = -13,
    WIRE_ERR_NOT_ECHO = -14,        /* ICMP, but not an echo request */
    WIRE_ERR_TRUNCATED_UDP = -15,   /* UDP header or its length field past the IP payload */
    WIRE_ERR_BAD_UDP_CHECKSUM = -16, /* UDP checksum (with pseudo-header) fails */
    WIRE_ERR_COUNT_ = 17            /* number of codes including WIRE_OK */
};

/* "bad_checksum", "truncated_ip", ... : the reason names used in traces. */
const char *wire_err_name(int err);

#define WIRE_PROTO_ICMP 1
#define WIRE_PROTO_TCP 6
#define WIRE_PROTO_UDP 17
#define WIRE_UDP_HDR_LEN 8
#define WIRE_IPV4_HDR_LEN 20
#define WIRE_TCP_HDR_LEN 20
#define WIRE_TCP_MAX_OPT_LEN 40
/* At most 4 SACK blocks fit in 40 option bytes (RFC 2018 §3: 2 + 8n <= 40). */
#define WIRE_SACK_MAX_BLOCKS 4

/* TCP header flag bits (RFC 9293 §3.1). */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

struct wire_ipv4 {
    uint8_t ihl;          /* header length in bytes (20..60) */
    uint8_t tos;          /* DSCP + ECN byte */
    uint16_t total_len;   /* header + payload, bytes */
    uint16_t id;          /* identification */
    uint16_t frag;        /* flags (3 bits) and fragment offset (13 bits), raw */
    uint8_t ttl;          /* time to live */
    uint8_t proto;        /* 6 = TCP, 1 = ICMP */
    uint16_t checksum;    /* header checksum as received / built */
    uint32_t src, dst;    /* addresses */
    const uint8_t *payload; /* points into the parsed buffer */
    size_t payload_len;   /* total_len - ihl */
};

/* One SACK block (RFC 2018 §3): the receiver holds [left, right), sequence
 * numbers of the sender's space; right is the first byte *not* held. */
struct wire_sack_block {
    uint32_t left, right;
};

/* TCP options this stack understands (RFC 9293 §3.2, RFC 7323, RFC 2018). */
struct wire_tcp_opts {
    bool has_mss;          /* MSS option present (kind 2) */
    uint16_t mss;
    bool has_wscale;       /* window scale present (kind 3) */
    uint8_t wscale;        /* shift count as sent (not clamped) */
    bool sack_permitted;   /* SACK-permitted present (kind 4) */
    bool has_ts;           /* timestamps present (kind 8) */
    uint32_t ts_val, ts_ecr;
    uint8_t n_sack;        /* SACK blocks (kind 5), 0..4, in the order sent */
    struct wire_sack_block sack[WIRE_SACK_MAX_BLOCKS];
    uint8_t n_unknown;     /* unknown options skipped (well-formed) */
};

struct wire_tcp {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t data_off;      /* header length in bytes (20..60) */
    uint8_t flags;         /* TCP_FIN | TCP_SYN | ... */
    uint16_t win;          /* window field as on the wire (unscaled) */
    uint16_t checksum;     /* as received / built */
    uint16_t urg;          /* urgent pointer */
    struct wire_tcp_opts opts;
    const uint8_t *payload; /* the segment text, points into the parsed buffer */
    size_t payload_len;
};

/* RFC 768: ports, length, checksum, and the data. */
struct wire_udp {
    uint16_t sport, dport;
    uint16_t len;           /* header + data, bytes, as the length field says */
    uint16_t checksum;      /* as received / built; 0 = none was sent */
    const uint8_t *payload; /* the data, points into the parsed buffer */
    size_t payload_len;
};

struct wire_icmp_echo {
    uint8_t type;          /* 8 = request, 0 = reply */
    uint16_t id, seqno;
    const uint8_t *data;   /* echo data, points into the parsed buffer */
    size_t data_len;
};

/* RFC 1071 Internet checksum: one's-complement sum folded to 16 bits, then
 * complemented. `initial` lets a pseudo-header sum be carried in. */
uint32_t wire_sum(const uint8_t *buf, size_t len, uint32_t initial);
/* Fold to 16 bits and complement: the value to put in a checksum field, or,
 * over data that includes its checksum field, 0 when the data is intact.
 * (Inline: it is a handful of instructions, paid once per packet.) */
static inline uint16_t wire_sum_fold(uint32_t sum)
{
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}
/* wire_sum() sums long buffers with AVX2 where the CPU has it (chosen once at
 * start-up) and with 64-bit adds everywhere else; wire_sum_scalar() always
 * takes the second way. Same results, bit for bit: the tests compare both
 * with a byte-by-byte RFC 1071 reference. */
uint32_t wire_sum_scalar(const uint8_t *buf, size_t len, uint32_t initial);
bool wire_sum_is_vectorised(void);
/* memcpy for a segment's text (into the receive ring): with AVX2 where
 * wire_sum has it, in fewer instructions than libc's general memcpy. dst
 * and src must not overlap. */
void wire_copy(void *dst, const void *src, size_t n);

/* Parse an IPv4 packet. Verifies version, IHL, total length, header checksum
 * and rejects fragments. Bytes after total_len (link padding) are ignored.
 * Returns WIRE_OK or a negative enum wire_err. */
int wire_ipv4_parse(const uint8_t *buf, size_t len, struct wire_ipv4 *out);

/* Parse the TCP segment carried by `ip` (ip->proto must be TCP, else
 * WIRE_ERR_NOT_TCP). Verifies the checksum with the pseudo-header, the data
 * offset and every option's length. */
int wire_tcp_parse(const struct wire_ipv4 *ip, struct wire_tcp *out);
/* The same, verifying the checksum only if asked: for a packet whose
 * checksum the device vouches for (a partial one from the local kernel). */
int wire_tcp_parse_ex(const struct wire_ipv4 *ip, struct wire_tcp *out, bool verify_checksum);

/* Parse the UDP datagram carried by `ip` (RFC 768): the length field within
 * the IP payload (bytes after it are ignored), the checksum with the
 * pseudo-header unless it is 0 ("none"). WIRE_ERR_NOT_TCP if not UDP. */
int wire_udp_parse(const struct wire_ipv4 *ip, struct wire_udp *out);

/* Build a whole IPv4+UDP packet (ttl 64, DF, the given IP id) with its
 * checksum (a computed 0 is sent as 0xFFFF). Returns the length, or 0 if
 * `cap` is too small. The payload may already be in place in buf. */
size_t wire_udp_build(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t ip_id,
                      uint16_t sport, uint16_t dport, const uint8_t *payload, size_t payload_len);

/* Parse an ICMP echo request carried by `ip`. */
int wire_icmp_echo_parse(const struct wire_ipv4 *ip, struct wire_icmp_echo *out);

/* Build a whole IPv4+TCP packet into buf. The options to emit are those set in
 * tcp->opts (MSS, window scale, SACK-permitted, timestamps, SACK blocks,
 * padded with NOPs to a multiple of 4); SACK blocks that do not fit in the
 * 40 option bytes left by the others are cut from the end (so the first,
 * most recent block is kept; RFC 2018 §4) and tcp->opts.n_sack says how many
 * were sent. tcp->data_off and tcp->checksum are computed and
 * written back. ttl 64, DF set, the given IP id. Returns the packet length,
 * or 0 if `cap` is too small. */
size_t wire_tcp_build(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t ip_id,
                      struct wire_tcp *tcp, const uint8_t *payload, size_t payload_len);

/* The same with the TCP checksum left partial, for segmentation offload:
 * the field holds the pseudo-header's sum only (folded, not complemented),
 * as Linux's CHECKSUM_PARTIAL and a virtio_net_hdr with NEEDS_CSUM expect;
 * the device completes it for each segment it cuts the packet into. */
size_t wire_tcp_build_partial(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
                              uint16_t ip_id, struct wire_tcp *tcp, const uint8_t *payload,
                              size_t payload_len);

/* A connection's pure ACK, built once: every byte of the IPv4 header, the
 * TCP header and (with timestamps) NOP, NOP, TSopt, but the fields that
 * change from one ACK to the next — IP id, SEG.SEQ, SEG.ACK, the window,
 * TSval, TSecr and both checksums — and the sums of the fixed words. An ACK
 * made from it is byte for byte what wire_tcp_build() (and
 * wire_ipv4_set_tos_ttl()) make of the same fields: ACK alone, no urgent
 * pointer, no other option. tests/unit/test_wire.c compares the two. */
#define WIRE_ACK_MAX_LEN (WIRE_IPV4_HDR_LEN + WIRE_TCP_HDR_LEN + 12)
struct wire_ack_template {
    uint8_t pkt[WIRE_ACK_MAX_LEN]; /* the packet; the changing fields are 0 */
    uint8_t len;                   /* 40, or 52 with timestamps */
    bool ts;                       /* carries TSopt */
    uint64_t ip_sum;               /* the IPv4 header's fixed words, as values */
    uint64_t tcp_sum;              /* pseudo-header, ports, offset and flags, option kinds */
};
void wire_ack_template_init(struct wire_ack_template *t, uint32_t src, uint32_t dst, uint16_t sport,
                            uint16_t dport, bool ts, uint8_t tos, uint8_t ttl);
/* Write the ACK into buf (room for WIRE_ACK_MAX_LEN bytes); returns its
 * length. ts_val and ts_ecr are not read without timestamps. */
size_t wire_ack_template_fill(uint8_t *buf, const struct wire_ack_template *t, uint16_t ip_id,
                              uint32_t seq, uint32_t ack, uint16_t win, uint32_t ts_val,
                              uint32_t ts_ecr);

/* Build an ICMP echo reply to `req` (addresses swapped). Returns length or 0. */
/* Rewrite the Diffserv/ECN byte and the TTL of a built IPv4 header (the
 * builders write TOS 0 and TTL 64) and its checksum: RFC 9293 MUST-48,
 * MUST-49 (tcp_out.c : tcp_emit_packet). */
void wire_ipv4_set_tos_ttl(uint8_t *pkt, uint8_t tos, uint8_t ttl);
#define WIRE_DEFAULT_TTL 64

size_t wire_icmp_echo_reply_build(uint8_t *buf, size_t cap, const struct wire_ipv4 *req_ip,
                                  const struct wire_icmp_echo *req, uint16_t ip_id);

/* Flags as tcpdump writes them: "S", "S.", ".", "P.", "F.", "FP.", "R", "R.".
 * Order F S R P U E W, then "." for ACK. `out` needs 10 bytes. Returns out. */
char *wire_flags_str(uint8_t flags, char out[10]);

/* Parse tcpdump letters back into flag bits; -1 if a letter is unknown. */
int wire_flags_parse(const char *s);

/* "10.7.0.2" into `out` (16 bytes); returns out. Address in host order. */
char *wire_addr_str(uint32_t addr, char out[16]);

/* Parse dotted quad into host-order address. 0 on success, -1 if malformed. */
int wire_addr_parse(const char *s, uint32_t *out);

#endif
