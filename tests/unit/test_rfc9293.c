/*
 * test_rfc9293.c — RFC 9293 Appendix B, one test per MUST, each named after
 * its ReqID (test_mustN_...). docs/conformance.md lists them beside the
 * function that does the work; scripts/conformance-count.sh counts them.
 *
 * Each test states the requirement in the RFC's words (§ and ReqID), builds
 * the situation through the ordinary exchange of segments, and asserts on the
 * segments the stack sends, its state and what the application sees. Where
 * the RFC's rule needs bytes the harness's segment builder cannot write (odd
 * option layouts, IP options, ICMP), the packet is written here byte by byte.
 */
#include "tcptest.h"
#include "tun_loop.h"

/* ---- packets written byte by byte ----------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* The IPv4 header (with `ipopt` option bytes, a multiple of 4) in front of
 * `payload_len` bytes already at buf + 20 + ipoptlen. Returns the length. */
static size_t ipv4_wrap(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
                        const uint8_t *ipopt, size_t ipoptlen, size_t payload_len)
{
    size_t ihl = WIRE_IPV4_HDR_LEN + ipoptlen;
    memset(buf, 0, WIRE_IPV4_HDR_LEN);
    buf[0] = (uint8_t)(0x40 | (ihl / 4));
    put16(buf + 2, (uint16_t)(ihl + payload_len));
    put16(buf + 4, 0x1234);
    put16(buf + 6, 0x4000); /* DF */
    buf[8] = 64;
    buf[9] = proto;
    put32(buf + 12, src);
    put32(buf + 16, dst);
    if (ipoptlen)
        memcpy(buf + WIRE_IPV4_HDR_LEN, ipopt, ipoptlen);
    put16(buf + 10, wire_sum_fold(wire_sum(buf, ihl, 0)));
    return ihl + payload_len;
}

/* A TCP segment from the scripted peer with raw option bytes `topt` (any
 * length up to 40, padded here with zeros to a multiple of 4 — zeros are EOL,
 * so padding after an EOL is the RFC's own), addressed src -> dst. */
struct raw_seg {
    uint32_t src, dst;
    const uint8_t *ipopt;
    size_t ipoptlen;
    uint16_t sport, dport;
    uint32_t seq, ack; /* absolute */
    uint8_t flags;
    uint16_t win;
    const uint8_t *topt;
    size_t toptlen;
    const void *data;
    size_t len;
};

static size_t raw_tcp(uint8_t *buf, const struct raw_seg *r)
{
    size_t ihl = WIRE_IPV4_HDR_LEN + r->ipoptlen;
    size_t optlen = (r->toptlen + 3) & ~(size_t)3;
    size_t off = WIRE_TCP_HDR_LEN + optlen;
    uint8_t *t = buf + ihl;
    memset(t, 0, off);
    put16(t, r->sport);
    put16(t + 2, r->dport);
    put32(t + 4, r->seq);
    put32(t + 8, r->ack);
    t[12] = (uint8_t)((off / 4) << 4);
    t[13] = r->flags;
    put16(t + 14, r->win ? r->win : TT_PEER_WIN);
    if (r->toptlen)
        memcpy(t + WIRE_TCP_HDR_LEN, r->topt, r->toptlen);
    if (r->len)
        memcpy(t + off, r->data, r->len);
    size_t seglen = off + r->len;
    uint32_t pseudo = (r->src >> 16) + (r->src & 0xffff) + (r->dst >> 16) + (r->dst & 0xffff) +
                      WIRE_PROTO_TCP + (uint32_t)seglen;
    put16(t + 16, wire_sum_fold(wire_sum(t, seglen, pseudo)));
    return ipv4_wrap(buf, r->src, r->dst, WIRE_PROTO_TCP, r->ipopt, r->ipoptlen, seglen);
}

/* The peer's SYN to the listener of `t` with these raw options. */
static void peer_syn_raw(struct tt *t, const uint8_t *topt, size_t toptlen)
{
    uint8_t buf[200];
    struct raw_seg r = {.src = TT_PEER_ADDR,
                        .dst = TT_STACK_ADDR,
                        .sport = t->pport,
                        .dport = t->sport,
                        .seq = t->peer_isn,
                        .flags = TCP_SYN,
                        .topt = topt,
                        .toptlen = toptlen};
    tt_input_raw(t, buf, raw_tcp(buf, &r));
}

/* A segment of the peer on the connection of `t`, relative numbers, raw options. */
static void peer_seg_raw(struct tt *t, uint8_t flags, uint32_t rseq, uint32_t rack,
                         const uint8_t *topt, size_t toptlen, const char *data)
{
    uint8_t buf[2000];
    struct raw_seg r = {.src = TT_PEER_ADDR,
                        .dst = TT_STACK_ADDR,
                        .sport = t->pport,
                        .dport = t->sport,
                        .seq = t->peer_isn + rseq,
                        .ack = t->iss + rack,
                        .flags = flags,
                        .topt = topt,
                        .toptlen = toptlen,
                        .data = data,
                        .len = data ? strlen(data) : 0};
    tt_input_raw(t, buf, raw_tcp(buf, &r));
}

/* A listener on TT_SERVER_PORT; the peer will connect from TT_PEER_CLIENT_PORT. */
static struct tt *listener_for_raw(const struct stack_config *cfg)
{
    struct tt *t = tt_listener(cfg);
    t->sport = TT_SERVER_PORT;
    t->pport = TT_PEER_CLIENT_PORT;
    return t;
}

/* The stack answered a raw SYN with a SYN,ACK; learn its ISS. */
static const struct tt_pkt *expect_synack(struct tt *t)
{
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->tcp.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(p->tcp.ack, t->peer_isn + 1);
    t->iss = p->tcp.seq;
    t->iss_known = true;
    return p;
}

static void send_all(struct tt *t, size_t len)
{
    static uint8_t buf[65536];
    for (size_t i = 0; i < len && i < sizeof buf; i++)
        buf[i] = tt_pattern(i);
    assert_int_equal(tcp_send(t->s, t->now, t->sd, buf, len), (ssize_t)len);
}

/* Bytes of text the stack sent until nothing more is captured. */
static size_t drain_text(struct tt *t)
{
    size_t n = 0;
    const struct tt_pkt *p;
    while ((p = tt_next(t)))
        n += p->tcp.payload_len;
    return n;
}

/* An active open that the peer's SYN,ACK completes offering a window of
 * `win` bytes (0: a zero window) and, unless `mss` is 0, an MSS option. */
static struct tt *established_offering(const struct stack_config *cfg, uint16_t win, uint16_t mss)
{
    struct tt *t = tt_syn_sent(cfg);
    struct tt_seg synack = {.flags = TCP_SYN | TCP_ACK,
                            .ack = 1,
                            .win = win,
                            .win0 = win == 0,
                            .opts = {.has_mss = mss != 0, .mss = mss}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    return t;
}

static struct stack_config cfg_no_cc(void)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.congestion_control = false;
    cfg.nagle = false;
    return cfg;
}

/* ==== §3.1 Header format ================================================== */

/* MUST-1: "The window size MUST be treated as an unsigned number, or else
 * large window sizes will appear like negative windows." 0xffff and 0x8000
 * as signed 16-bit numbers are negative: the stack must still send into them. */
static void test_must1_window_field_is_unsigned(void **state)
{
    struct stack_config cfg = cfg_no_cc();
    cfg.sndbuf = 131072;
    struct tt *t = tt_established(&cfg); /* the peer's SYN,ACK offered 65535 */
    assert_int_equal(tt_status(t).snd_wnd, 65535);
    send_all(t, 65535);
    assert_int_equal(drain_text(t), 65535);

    /* The peer acknowledges everything and offers 0x8000 = 32768. */
    tt_in_win(t, TCP_ACK, 1, 65536, 0x8000);
    assert_int_equal(tt_status(t).snd_wnd, 32768);
    send_all(t, 40000);
    /* every full segment that fits: 22 x 1460 (sender SWS avoidance keeps
     * the 648-byte sliver, MUST-38) */
    assert_int_equal(drain_text(t), 22 * 1460);
    tt_free(t);
}

/* MUST-2: "The sender MUST generate it [the checksum]". Every segment of a
 * whole conversation carries the ones' complement sum of its pseudo-header,
 * header and text: recomputed here independently of the parser. */
static void test_must2_every_sent_segment_carries_the_checksum(void **state)
{
    struct tt *t = tt_established(NULL);
    send_all(t, 3001); /* odd length: the last byte is padded for the sum */
    tt_in(t, TCP_ACK | TCP_PSH, 1, 3002, "request");
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_in(t, TCP_FIN | TCP_ACK, 8, 3003, NULL);
    size_t seen = 0;
    const struct tt_pkt *p;
    while ((p = tt_next(t))) {
        seen++;
        uint8_t copy[2000];
        size_t seglen = p->ip.payload_len;
        assert_true(seglen <= sizeof copy);
        memcpy(copy, p->raw + p->ip.ihl, seglen);
        uint16_t sent = (uint16_t)(copy[16] << 8 | copy[17]);
        copy[16] = copy[17] = 0;
        uint32_t pseudo = (p->ip.src >> 16) + (p->ip.src & 0xffff) + (p->ip.dst >> 16) +
                          (p->ip.dst & 0xffff) + WIRE_PROTO_TCP + (uint32_t)seglen;
        assert_int_equal(sent, wire_sum_fold(wire_sum(copy, seglen, pseudo)));
    }
    assert_true(seen >= 5);
    tt_free(t);
}

/* MUST-3: "... and the receiver MUST check it". A segment whose text was
 * damaged on the way is dropped as bad_checksum: not acknowledged, not
 * delivered; the same segment intact is. */
static void test_must3_segment_with_a_wrong_checksum_is_dropped(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t buf[200];
    struct tt_seg seg = {.flags = TCP_ACK | TCP_PSH, .seq = 1, .ack = 1, .data = "hello", .len = 5};
    size_t n = tt_build(t, &seg, buf, sizeof buf);
    buf[n - 1] ^= 0x01;
    size_t drops = tt_count_drops(t, WIRE_ERR_BAD_CHECKSUM);
    tt_input_raw(t, buf, n);
    assert_int_equal(tt_count_drops(t, WIRE_ERR_BAD_CHECKSUM), drops + 1);
    tt_expect_nothing(t);
    char got[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, got, sizeof got), -EAGAIN);
    assert_int_equal(tt_status(t).rcv_nxt, t->peer_isn + 1);

    buf[n - 1] ^= 0x01;
    tt_input_raw(t, buf, n);
    tt_expect(t, TCP_ACK, 1, 6, 0);
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, got, sizeof got), 5);
    tt_free(t);
}

/* ==== §3.1/§3.2 Options ===================================================== */

/* MUST-4: EOL, NOP and MSS "MUST be supported". A SYN whose list is NOP,
 * NOP, MSS 1000, EOL (then nothing but the padding EOL allows) opens a
 * connection that uses MSS 1000. */
static void test_must4_eol_nop_and_mss_are_understood(void **state)
{
    struct tt *t = listener_for_raw(NULL);
    const uint8_t opt[] = {1, 1, 2, 4, 0x03, 0xe8, 0};
    peer_syn_raw(t, opt, sizeof opt);
    const struct tt_pkt *p = expect_synack(t);
    assert_true(p->tcp.opts.has_mss);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    tt_assert_state(t, TCP_ESTABLISHED);
    struct tcp_status st;
    assert_true(tt_find_conn(t, &st));
    assert_int_equal(st.mss, 1000);
    tt_free(t);
}

/* MUST-5: "A TCP implementation MUST be able to receive a TCP Option in any
 * segment." A data segment carrying NOPs and a timestamps option (which this
 * stack does not negotiate) is processed like one without. */
static void test_must5_options_in_a_data_segment_are_accepted(void **state)
{
    struct tt *t = tt_established(NULL);
    const uint8_t opt[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
    peer_seg_raw(t, TCP_ACK | TCP_PSH, 1, 1, opt, sizeof opt, "abc");
    tt_expect(t, TCP_ACK, 1, 4, 0);
    char got[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, got, sizeof got), 3);
    assert_memory_equal(got, "abc", 3);
    tt_free(t);
}

/* MUST-6: "A TCP implementation MUST ignore without error any TCP Option it
 * does not implement, assuming that the option has a length field." */
static void test_must6_unknown_options_are_ignored(void **state)
{
    struct tt *t = listener_for_raw(NULL);
    const uint8_t opt[] = {253, 6, 0xde, 0xad, 0xbe, 0xef, 2, 4, 0x02, 0x00, 99, 2};
    peer_syn_raw(t, opt, sizeof opt);
    expect_synack(t);
    tt_in(t, TCP_ACK, 1, 1, NULL);
    struct tcp_status st;
    assert_true(tt_find_conn(t, &st));
    assert_int_equal(st.state, TCP_ESTABLISHED);
    assert_int_equal(st.mss, 512); /* the MSS after the unknown option was read */
    tt_free(t);
}

/* MUST-7: "TCP implementations MUST be prepared to handle an illegal option
 * length (e.g., zero)". The segment is dropped with its reason (no reset: a
 * forged segment must not close a connection), and the stack carries on. */
static void test_must7_illegal_option_length_is_dropped_and_harmless(void **state)
{
    struct tt *t = tt_established(NULL);
    const uint8_t zero[] = {253, 0, 1, 1};
    size_t drops = tt_count_drops(t, WIRE_ERR_BAD_OPTION_LENGTH);
    peer_seg_raw(t, TCP_ACK | TCP_PSH, 1, 1, zero, sizeof zero, "abc");
    const uint8_t past_end[] = {1, 1, 253, 40};
    peer_seg_raw(t, TCP_ACK | TCP_PSH, 1, 1, past_end, sizeof past_end, "abc");
    assert_int_equal(tt_count_drops(t, WIRE_ERR_BAD_OPTION_LENGTH), drops + 2);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_ESTABLISHED);
    assert_int_equal(tt_status(t).rcv_nxt, t->peer_isn + 1);
    tt_in(t, TCP_ACK | TCP_PSH, 1, 1, "abc");
    tt_expect(t, TCP_ACK, 1, 4, 0);
    tt_free(t);
}

/* MUST-64: "receivers MUST be prepared to process options even if they do
 * not begin on a word boundary." MSS at offset 1, and again at offset 3. */
static void test_must64_options_off_word_boundaries_are_read(void **state)
{
    const uint8_t at1[] = {1, 2, 4, 0x02, 0xbc, 1, 1, 1};       /* MSS 700 */
    const uint8_t at3[] = {1, 1, 1, 2, 4, 0x01, 0xf4, 0};       /* MSS 500 */
    const uint8_t *opts[] = {at1, at3};
    const uint16_t want[] = {700, 500};
    for (int i = 0; i < 2; i++) {
        struct tt *t = listener_for_raw(NULL);
        peer_syn_raw(t, opts[i], 8);
        expect_synack(t);
        tt_in(t, TCP_ACK, 1, 1, NULL);
        struct tcp_status st;
        assert_true(tt_find_conn(t, &st));
        assert_int_equal(st.mss, want[i]);
        tt_free(t);
    }
}

/* Walk an option list as a receiver must: each option is EOL, NOP, or a
 * kind with a length of at least 2 that stays inside the list. Returns the
 * number of EOLs seen; fails the test on a malformed list. */
static int walk_options(const uint8_t *o, size_t len, bool *bytes_after_eol_zero)
{
    int eols = 0;
    *bytes_after_eol_zero = true;
    size_t i = 0;
    while (i < len) {
        if (o[i] == 0) {
            eols++;
            for (size_t j = i + 1; j < len; j++)
                if (o[j] != 0)
                    *bytes_after_eol_zero = false;
            break;
        }
        if (o[i] == 1) {
            i++;
            continue;
        }
        assert_true(i + 1 < len);
        assert_true(o[i + 1] >= 2);
        assert_true(i + o[i + 1] <= len);
        i += o[i + 1];
    }
    return eols;
}

/* Every segment of a conversation with every option this stack sends
 * (window scaling on): its option lists, walked. */
static void walk_a_conversation(bool *any_options, bool *all_after_eol_zero, int *eols)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.window_scaling = true;
    struct tt *t = tt_new(&cfg);
    *any_options = false;
    *all_after_eol_zero = true;
    *eols = 0;
    const struct tt_pkt *p = tt_do_connect(t);
    struct tt_seg synack = {.flags = TCP_SYN | TCP_ACK,
                            .ack = 1,
                            .opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 2}};
    bool answered = false;
    while (p) {
        size_t optlen = p->tcp.data_off - WIRE_TCP_HDR_LEN;
        const uint8_t *o = p->raw + p->ip.ihl + WIRE_TCP_HDR_LEN;
        if (optlen)
            *any_options = true;
        bool zero;
        *eols += walk_options(o, optlen, &zero);
        if (!zero)
            *all_after_eol_zero = false;
        if (!answered && (p->tcp.flags & TCP_SYN)) {
            answered = true;
            tt_in_seg(t, &synack);
            send_all(t, 2000);
            assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
            t->sd = -1;
        }
        p = tt_next(t);
    }
    tt_free(t);
}

/* MUST-68: "All TCP Options except End of Option List Option (EOL) and
 * No-Operation (NOP) MUST have length fields". Every option we send has
 * one; and a kind without its length byte is refused on receipt. */
static void test_must68_every_option_but_eol_and_nop_has_a_length(void **state)
{
    bool any, zero;
    int eols;
    walk_a_conversation(&any, &zero, &eols);
    assert_true(any);

    struct tt *t = listener_for_raw(NULL);
    const uint8_t no_length[] = {1, 1, 1, 253}; /* a kind in the last byte */
    size_t drops = tt_count_drops(t, WIRE_ERR_BAD_OPTION_LENGTH);
    peer_syn_raw(t, no_length, sizeof no_length);
    assert_int_equal(tt_count_drops(t, WIRE_ERR_BAD_OPTION_LENGTH), drops + 1);
    tt_expect_nothing(t);
    tt_free(t);
}

/* MUST-69: "The content of the header beyond the End of Option List Option
 * MUST be header padding of zeros." We pad with NOPs and never send EOL; if
 * one ever appears, what follows it must be zeros. */
static void test_must69_header_after_eol_is_zero_padding(void **state)
{
    bool any, zero;
    int eols;
    walk_a_conversation(&any, &zero, &eols);
    assert_true(any);
    assert_true(zero);
    assert_int_equal(eols, 0);
}

/* ==== §3.4.1 ISN ========================================================== */

/* The ISS of a connection to the peer from local port `lport` at time `now`. */
static uint32_t iss_at(const uint8_t key[16], uint16_t lport, uint64_t now)
{
    struct stack_config cfg;
    tt_config(&cfg);
    memcpy(cfg.isn_key, key, 16);
    struct tt *t = tt_new(&cfg);
    t->now = now;
    t->sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_bind(t->s, t->now, t->sd, lport), 0);
    uint32_t iss = tt_connect_sd(t)->tcp.seq;
    tt_free(t);
    return iss;
}

/* MUST-8: "A TCP implementation MUST use the above type of "clock" for
 * clock-driven selection of initial sequence numbers": M is a 4 µs timer, so
 * the same 4-tuple 4 ms later starts 1000 higher, and an hour later
 * 900,000,000 higher. */
static void test_must8_isn_is_clock_driven(void **state)
{
    const uint8_t key[16] = {1, 2, 3};
    uint32_t a = iss_at(key, 5000, 1 * TT_SEC);
    assert_int_equal(iss_at(key, 5000, 1 * TT_SEC + 4 * TT_MS) - a, 1000u);
    assert_int_equal(iss_at(key, 5000, 3601 * TT_SEC) - a, 900000000u);
}

/* MUST-9: "F() MUST NOT be computable from the outside". F is keyed: the same
 * connection at the same moment gets another ISN under another secret, and
 * neighbouring ports give unrelated offsets (not a function of the port). */
static void test_must9_isn_function_depends_on_a_secret_key(void **state)
{
    const uint8_t k1[16] = {1, 2, 3}, k2[16] = {1, 2, 4};
    uint64_t now = 7 * TT_SEC;
    assert_int_equal(iss_at(k1, 5000, now), iss_at(k1, 5000, now)); /* reproducible */
    assert_int_not_equal(iss_at(k1, 5000, now), iss_at(k2, 5000, now));
    uint32_t d1 = iss_at(k1, 5001, now) - iss_at(k1, 5000, now);
    uint32_t d2 = iss_at(k1, 5002, now) - iss_at(k1, 5001, now);
    assert_int_not_equal(d1, d2);
    assert_int_not_equal(d1, 1u);
}


/* ==== §3.5 Opening connections ============================================ */

/* MUST-10: "A TCP implementation MUST support simultaneous open attempts."
 * Figure 7: our SYN crosses the peer's; each side answers with SYN,ACK and
 * both end in ESTABLISHED, and data flows. */
static void test_must10_simultaneous_open(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    tt_in(t, TCP_SYN, 0, 0, NULL); /* the peer's own SYN, no ACK */
    tt_expect(t, TCP_SYN | TCP_ACK, 0, 1, 0);
    tt_assert_state(t, TCP_SYN_RECEIVED);
    tt_in(t, TCP_SYN | TCP_ACK, 0, 1, NULL); /* its SYN,ACK acknowledges ours */
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_drain(t);
    tt_in(t, TCP_ACK | TCP_PSH, 1, 1, "hi");
    tt_expect(t, TCP_ACK, 1, 3, 0);
    tt_free(t);
}

/* MUST-11: "a TCP implementation MUST keep track of whether a connection has
 * reached SYN-RECEIVED state as the result of a passive OPEN or an active
 * OPEN": a reset then returns a passive one to LISTEN (the listener goes on
 * accepting, the application hears nothing) and refuses an active one. */
static void test_must11_syn_received_remembers_passive_or_active_open(void **state)
{
    struct tt *t = tt_syn_received(NULL);
    tt_in(t, TCP_RST, 1, 0, NULL);
    tt_expect_nothing(t);
    assert_false(tt_find_conn(t, NULL));
    assert_int_equal(tcp_accept(t->s, t->now, t->lsd, NULL), -EAGAIN);
    struct tcp_status ls;
    assert_int_equal(tcp_status(t->s, t->lsd, &ls), 0);
    assert_int_equal(ls.state, TCP_LISTEN);
    tt_do_peer_syn(t); /* the listener still answers */
    tt_free(t);

    t = tt_syn_sent(NULL);
    tt_in(t, TCP_SYN, 0, 0, NULL);
    tt_expect(t, TCP_SYN | TCP_ACK, 0, 1, 0);
    tt_assert_state(t, TCP_SYN_RECEIVED);
    tt_in(t, TCP_RST, 1, 0, NULL);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ECONNREFUSED);
    tt_free(t);
}

/* MUST-41: "Every passive OPEN call either creates a new connection record in
 * LISTEN state, or it returns an error; it MUST NOT affect any previously
 * created connection record." */
static void test_must41_passive_open_leaves_other_connections_alone(void **state)
{
    struct tt *t = tt_established_passive(NULL); /* accepted on port 80 */
    int again = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_bind(t->s, t->now, again, TT_SERVER_PORT), -EADDRINUSE);
    assert_int_equal(tcp_listen(t->s, t->now, again, 8), 0); /* a LISTEN on a port of its own */
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, again, &st), 0);
    assert_int_not_equal(st.tuple.lport, TT_SERVER_PORT);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_in(t, TCP_ACK | TCP_PSH, 1, 1, "still here");
    tt_expect(t, TCP_ACK, 1, 11, 0);
    assert_int_equal(tcp_status(t->s, t->lsd, &st), 0);
    assert_int_equal(st.state, TCP_LISTEN);
    tt_free(t);
}

/* MUST-42: "A TCP implementation that supports multiple concurrent
 * connections MUST provide an OPEN call that will functionally allow an
 * application to LISTEN on a port while a connection block with the same
 * local port is in SYN-SENT or SYN-RECEIVED state." (With SO_REUSEADDR, as
 * on Linux.) */
static void test_must42_listen_while_the_port_has_a_connection_in_syn_sent(void **state)
{
    struct tt *t = tt_new(NULL);
    t->sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_REUSEADDR, 1), 0);
    assert_int_equal(tcp_bind(t->s, t->now, t->sd, 5000), 0);
    tt_connect_sd(t);
    assert_int_equal(t->sport, 5000);
    tt_assert_state(t, TCP_SYN_SENT);
    int l = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_setsockopt(t->s, t->now, l, TCP_OPT_REUSEADDR, 1), 0);
    assert_int_equal(tcp_bind(t->s, t->now, l, 5000), 0);
    assert_int_equal(tcp_listen(t->s, t->now, l, 8), 0);
    /* the connection completes as if nothing happened */
    struct tt_seg synack = {.flags = TCP_SYN | TCP_ACK, .ack = 1, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    struct tcp_status st;
    assert_int_equal(tcp_status(t->s, l, &st), 0);
    assert_int_equal(st.state, TCP_LISTEN);
    tt_free(t);
}

/* MUST-43: "The optional "local IP address" parameter MUST be supported to
 * allow the specification of the local IP address." The stack's address (or
 * none) can be named; an address it does not have is refused. */
static void test_must43_open_takes_a_local_address(void **state)
{
    struct tt *t = tt_new(NULL);
    int sd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_bind_addr(t->s, t->now, sd, 0x0a070009u, 4000), -EADDRNOTAVAIL);
    assert_int_equal(tcp_bind_addr(t->s, t->now, sd, TT_STACK_ADDR, 4000), 0);
    assert_int_equal(tcp_connect(t->s, t->now, sd, TT_PEER_ADDR, TT_SERVER_PORT), 0);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->ip.src, TT_STACK_ADDR);
    assert_int_equal(p->tcp.sport, 4000);

    t->lsd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_bind_addr(t->s, t->now, t->lsd, TT_STACK_ADDR, TT_SERVER_PORT), 0);
    assert_int_equal(tcp_listen(t->s, t->now, t->lsd, 8), 0);
    t->sport = TT_SERVER_PORT;
    t->pport = TT_PEER_CLIENT_PORT;
    tt_do_peer_syn(t); /* a passive OPEN on that address answers */
    tt_free(t);
}

/* MUST-45: "TCP implementations MUST use the same local address that was
 * used in those previous segments." */
static void test_must45_every_segment_of_a_connection_has_the_same_source(void **state)
{
    struct tt *t = tt_established(NULL);
    send_all(t, 5000);
    tt_in(t, TCP_ACK | TCP_PSH | TCP_FIN, 1, 5001, "bye");
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    size_t n = 0;
    const struct tt_pkt *p;
    while ((p = tt_next(t))) {
        n++;
        assert_int_equal(p->ip.src, TT_STACK_ADDR);
        assert_int_equal(p->tcp.sport, t->sport);
    }
    assert_true(n >= 5);
    tt_free(t);
}

/* MUST-57: "A TCP implementation MUST silently discard an incoming SYN
 * segment that is addressed to a broadcast or multicast address." */
static void test_must57_syn_to_broadcast_or_multicast_is_discarded(void **state)
{
    struct tt *t = listener_for_raw(NULL);
    const uint32_t dsts[] = {0xffffffffu, 0xe0000001u, 0xef0000fbu, 0x0a0700ffu};
    for (size_t i = 0; i < sizeof dsts / sizeof dsts[0]; i++) {
        uint8_t buf[100];
        struct raw_seg r = {.src = TT_PEER_ADDR,
                            .dst = dsts[i],
                            .sport = TT_PEER_CLIENT_PORT,
                            .dport = TT_SERVER_PORT,
                            .seq = 1000,
                            .flags = TCP_SYN};
        size_t drops = tt_count_drops(t, TCP_DROP_NOT_FOR_US);
        tt_input_raw(t, buf, raw_tcp(buf, &r));
        assert_int_equal(tt_count_drops(t, TCP_DROP_NOT_FOR_US), drops + 1);
    }
    tt_expect_nothing(t);
    struct tcp_status ls;
    assert_int_equal(tcp_status(t->s, t->lsd, &ls), 0);
    assert_int_equal(ls.syn_queue_len, 0);
    tt_free(t);
}

/* MUST-46: "A TCP implementation MUST reject as an error a local OPEN call
 * for an invalid remote IP address (e.g., a broadcast or multicast
 * address)." Nothing is sent, and the socket can still connect properly. */
static void test_must46_open_to_broadcast_or_multicast_is_refused(void **state)
{
    struct tt *t = tt_new(NULL);
    t->sd = tcp_socket(t->s, t->now);
    const uint32_t bad[] = {0xffffffffu, 0xe0000001u, 0xefffffffu, 0xf0000001u, 0, 0x7f000001u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tcp_connect(t->s, t->now, t->sd, bad[i], TT_SERVER_PORT), -EINVAL);
    tt_expect_nothing(t);
    tt_connect_sd(t); /* a good address: the SYN goes to it */
    tt_free(t);
}

/* MUST-63: "An incoming SYN with an invalid source address MUST be ignored
 * either by TCP or by the IP layer". No SYN,ACK, no RST (either would go to a
 * group or to nobody), no half-open connection; a SYN from a real address is
 * answered as always. */
static void test_must63_syn_from_an_invalid_source_is_ignored(void **state)
{
    struct tt *t = listener_for_raw(NULL);
    const uint32_t bad[] = {0xffffffffu, 0xe0000001u, 0xf0000001u, 0, 0x7f000001u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[100];
        struct raw_seg r = {.src = bad[i],
                            .dst = TT_STACK_ADDR,
                            .sport = TT_PEER_CLIENT_PORT,
                            .dport = TT_SERVER_PORT,
                            .seq = 1000,
                            .flags = TCP_SYN};
        size_t drops = tt_count_drops(t, TCP_DROP_BAD_SOURCE);
        tt_input_raw(t, buf, raw_tcp(buf, &r));
        assert_int_equal(tt_count_drops(t, TCP_DROP_BAD_SOURCE), drops + 1);
        r.dport = 81; /* no listener: still no RST */
        tt_input_raw(t, buf, raw_tcp(buf, &r));
    }
    tt_expect_nothing(t);
    struct tcp_status ls;
    assert_int_equal(tcp_status(t->s, t->lsd, &ls), 0);
    assert_int_equal(ls.syn_queue_len, 0);
    tt_do_peer_syn(t);
    tt_free(t);
}

/* ==== §3.6 Closing ====================================================== */

/* MUST-12: "the local application MUST be informed whether it closed normally
 * or was aborted": after the peer's FIN a read returns 0 (end of stream);
 * after its RST it returns ECONNRESET. */
static void test_must12_application_told_fin_from_rst(void **state)
{
    char buf[8];
    struct tt *t = tt_established(NULL);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 1, NULL);
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 0);
    assert_int_equal(tt_status(t).error, 0);
    tt_free(t);

    t = tt_established(NULL);
    tt_in(t, TCP_RST, 1, 0, NULL);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), -ECONNRESET);
    tt_free(t);
}

/* MUST-13: "When a connection is closed actively, it MUST linger in the
 * TIME-WAIT state for a time 2xMSL". With MSL = 10 s: still TIME_WAIT a
 * millisecond before 20 s, gone at 20 s. */
static void test_must13_time_wait_lasts_2msl(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.msl_us = 10 * TT_SEC;
    struct tt *t = tt_time_wait(&cfg);
    tt_advance(t, 20 * TT_SEC - TT_MS);
    tt_assert_state(t, TCP_TIME_WAIT);
    tt_advance(t, TT_MS);
    tt_assert_state(t, TCP_CLOSED);
    tt_free(t);
}

/* ==== §3.7.1 MSS ========================================================== */

/* MUST-14: "TCP endpoints MUST implement both sending and receiving the MSS
 * Option." Our SYN says cfg.mss; the peer's 536 bounds what we send. */
static void test_must14_mss_option_sent_and_honoured(void **state)
{
    struct stack_config cfg = cfg_no_cc();
    cfg.mss = 1300;
    struct tt *t = tt_new(&cfg);
    const struct tt_pkt *syn = tt_do_connect(t);
    assert_true(syn->tcp.opts.has_mss);
    assert_int_equal(syn->tcp.opts.mss, 1300);
    struct tt_seg synack = {.flags = TCP_SYN | TCP_ACK, .ack = 1, .opts = {.has_mss = true, .mss = 536}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    send_all(t, 2000);
    tt_expect(t, TCP_ACK, 1, 1, 536);
    tt_expect(t, TCP_ACK, 537, 1, 536);
    tt_free(t);
}

/* MUST-15: "If an MSS Option is not received at connection setup, TCP
 * implementations MUST assume a default send MSS of 536 (576 - 40) for IPv4". */
static void test_must15_no_mss_option_means_536(void **state)
{
    struct stack_config cfg = cfg_no_cc();
    struct tt *t = tt_syn_sent(&cfg);
    tt_in(t, TCP_SYN | TCP_ACK, 0, 1, NULL); /* no options at all */
    tt_expect(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(tt_status(t).mss, 536);
    send_all(t, 1000);
    tt_expect(t, TCP_ACK, 1, 1, 536);
    tt_expect(t, TCP_ACK | TCP_PSH, 537, 1, 464);
    tt_free(t);
}

/* MUST-16: "The maximum size of a segment that a TCP endpoint really sends,
 * the "effective send MSS", MUST be the smaller of the send MSS ... and the
 * largest transmission size permitted by the IP layer". Both ways round. */
static void test_must16_effective_send_mss_is_the_smaller(void **state)
{
    const uint16_t ours[] = {1000, 1460}, theirs[] = {1460, 700}, want[] = {1000, 700};
    for (int i = 0; i < 2; i++) {
        struct stack_config cfg = cfg_no_cc();
        cfg.mss = ours[i];
        struct tt *t = tt_syn_sent(&cfg);
        struct tt_seg synack = {
            .flags = TCP_SYN | TCP_ACK, .ack = 1, .opts = {.has_mss = true, .mss = theirs[i]}};
        tt_in_seg(t, &synack);
        tt_expect(t, TCP_ACK, 1, 1, 0);
        send_all(t, 3000);
        const struct tt_pkt *p;
        size_t biggest = 0;
        while ((p = tt_next(t)))
            if (p->tcp.payload_len > biggest)
                biggest = p->tcp.payload_len;
        assert_int_equal(biggest, want[i]);
        tt_free(t);
    }
}

/* MUST-65: the MSS option "MUST NOT be sent in other segments" than SYNs. */
static void test_must65_mss_option_only_in_syns(void **state)
{
    struct tt *t = tt_established_passive(NULL);
    send_all(t, 4000);
    tt_in(t, TCP_ACK | TCP_PSH, 1, 4001, "x");
    tt_in(t, TCP_ACK | TCP_FIN, 2, 4001, NULL);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    size_t n = 0;
    const struct tt_pkt *p;
    while ((p = tt_next(t))) {
        n++;
        assert_false(p->tcp.flags & TCP_SYN);
        assert_false(p->tcp.opts.has_mss);
    }
    assert_true(n >= 4);
    tt_free(t);
}

/* MUST-67: the MSS we send "must be less than or equal to MMS_R - 20". With
 * no IP reassembly MMS_R is the MTU less the IP header: on a TUN device the
 * stack announces MTU - 40. */
static void test_must67_announced_mss_fits_the_mtu(void **state)
{
    struct tun_loop_config lc;
    tun_loop_config_defaults(&lc);
    assert_int_equal(lc.stack.mss, lc.dev.mtu - 40);
    struct stack_config cfg = lc.stack;
    cfg.addr = TT_STACK_ADDR;
    cfg.on_event = NULL;
    struct tt *t = tt_new(&cfg);
    const struct tt_pkt *syn = tt_do_connect(t);
    assert_true(syn->tcp.opts.has_mss);
    assert_true(syn->tcp.opts.mss <= (lc.dev.mtu - 20) - 20);
    tt_free(t);
}

/* ==== §3.7.4 Nagle, §3.9.1.2 SEND and PUSH ================================== */

/* MUST-17: "there MUST be a way for an application to disable the Nagle
 * algorithm on an individual connection": TCP_NODELAY sends what Nagle was
 * holding, and small writes go at once with data in flight. */
static void test_must17_nodelay_turns_nagle_off_per_connection(void **state)
{
    struct tt *t = tt_established(NULL);
    send_all(t, 100);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 100);
    send_all(t, 100);
    tt_expect_nothing(t); /* Nagle: 100 bytes are unacknowledged */
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_NODELAY, 1), 0);
    tt_expect(t, TCP_ACK | TCP_PSH, 101, 1, 100);
    send_all(t, 100);
    tt_expect(t, TCP_ACK | TCP_PSH, 201, 1, 100);
    tt_free(t);
}

/* MUST-60: without PUSH flags on SEND the sender "MUST NOT buffer data
 * indefinitely": a tail Nagle holds goes with the next ACK; a sliver sender
 * SWS avoidance holds goes at the override timeout — no new call needed. */
static void test_must60_queued_data_is_never_held_indefinitely(void **state)
{
    struct tt *t = tt_established(NULL);
    send_all(t, 100);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 100);
    send_all(t, 10);
    tt_expect_nothing(t);
    tt_in(t, TCP_ACK, 1, 101, NULL);
    tt_expect(t, TCP_ACK | TCP_PSH, 101, 1, 10);
    tt_free(t);

    struct stack_config cfg = cfg_no_cc();
    t = tt_established(&cfg); /* max window seen: 65535 */
    tt_in_win(t, TCP_ACK, 1, 1, 300); /* the peer's window drops to 300 */
    send_all(t, 3000);
    tt_expect_nothing(t); /* 300 < MSS and < half the largest window: SWS waits */
    uint64_t waited = tt_wait_output(t, 10 * TT_SEC);
    assert_true(waited != TCP_TIME_NEVER);
    tt_expect(t, TCP_ACK, 1, 1, 300);
    tt_free(t);
}

/* MUST-61: without PUSH flags the sender "MUST set the PSH bit in the last
 * buffered segment (i.e., when there is no more queued data to be sent)". */
static void test_must61_psh_on_the_last_buffered_segment(void **state)
{
    struct stack_config cfg = cfg_no_cc();
    struct tt *t = tt_established(&cfg);
    send_all(t, 3000);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 1, 1460);
    assert_false(p->tcp.flags & TCP_PSH);
    p = tt_expect(t, TCP_ACK, 1461, 1, 1460);
    assert_false(p->tcp.flags & TCP_PSH);
    tt_expect(t, TCP_ACK | TCP_PSH, 2921, 1, 80);
    tt_free(t);
}

/* ==== §3.8.1 RTO ========================================================== */

/* MUST-18: "The RTO MUST be computed according to the algorithm in [RFC 6298],
 * including Karn's algorithm for taking RTT samples." The SYN answered after
 * 100 ms gives SRTT 100 ms, RTTVAR 50 ms, RTO 300 ms; an ACK that follows a
 * retransmission gives no sample (the backed-off RTO stays); the next clean
 * sample of 200 ms gives RTTVAR 62.5 ms, SRTT 112.5 ms, RTO 362.5 ms. */
static void test_must18_rto_is_rfc6298_with_karns_algorithm(void **state)
{
    struct stack_config cfg = cfg_no_cc();
    cfg.rto_min_us = 10 * TT_MS;
    struct tt *t = tt_syn_sent(&cfg);
    tt_advance(t, 100 * TT_MS);
    struct tt_seg synack = {.flags = TCP_SYN | TCP_ACK, .ack = 1, .opts = {.has_mss = true, .mss = 1460}};
    tt_in_seg(t, &synack);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    struct tcp_status st = tt_status(t);
    assert_int_equal(st.srtt_us, 100000);
    assert_int_equal(st.rttvar_us, 50000);
    assert_int_equal(st.rto_us, 300000);

    send_all(t, 100);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 100);
    tt_advance(t, 300 * TT_MS); /* the timer fires: retransmission, RTO doubled */
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 100);
    assert_int_equal(tt_status(t).rto_us, 600000);
    tt_advance(t, 50 * TT_MS);
    tt_in(t, TCP_ACK, 1, 101, NULL); /* Karn: ambiguous, no sample */
    st = tt_status(t);
    assert_int_equal(st.srtt_us, 100000);
    assert_int_equal(st.rto_us, 600000);

    send_all(t, 100);
    tt_expect(t, TCP_ACK | TCP_PSH, 101, 1, 100);
    tt_advance(t, 200 * TT_MS);
    tt_in(t, TCP_ACK, 1, 201, NULL);
    st = tt_status(t);
    assert_int_equal(st.rttvar_us, 62500);
    assert_int_equal(st.srtt_us, 112500);
    assert_int_equal(st.rto_us, 362500);
    tt_free(t);
}

/* ==== §3.8.3 Connection failures ========================================= */

/* MUST-20 (the R2 half): "When the number of transmissions of the same
 * segment reaches a threshold R2 greater than R1, close the connection."
 * With data_retries = 3 the fourth expiry gives up with ETIMEDOUT. (R1's
 * negative advice to IP is not implemented: docs/conformance.md.) */
static void test_must20_r2_retransmissions_close_the_connection(void **state)
{
    struct stack_config cfg = cfg_no_cc();
    cfg.data_retries = 3;
    struct tt *t = tt_established(&cfg);
    send_all(t, 100);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 100);
    for (int i = 0; i < 3; i++) {
        assert_true(tt_wait_output(t, 60 * TT_SEC) != TCP_TIME_NEVER);
        tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 100);
        tt_assert_state(t, TCP_ESTABLISHED);
    }
    tt_advance(t, 8 * TT_SEC); /* 1 + 2 + 4 s of backoff were spent, 8 s is the next */
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ETIMEDOUT);
    tt_free(t);
}

/* MUST-21: "An application MUST be able to set the value for R2 for a
 * particular connection." TCP_USER_TIMEOUT 2500 ms: given up at 2.5 s,
 * long before the 15 default retries. */
static void test_must21_application_sets_r2_per_connection(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_USER_TIMEOUT, 2500), 0);
    send_all(t, 100);
    tt_drain(t);
    tt_advance(t, 2500 * TT_MS - 1);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_advance(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    char buf[4];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), -ETIMEDOUT);
    tt_free(t);
}

/* MUST-22: "SYN retransmissions MUST be handled in the general way just
 * described for data retransmissions, including notification of the
 * application layer": the SYN is retransmitted with backoff and after
 * syn_retries the application is told ETIMEDOUT, as for data. */
static void test_must22_syn_retransmissions_handled_like_data(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.syn_retries = 2;
    struct tt *t = tt_syn_sent(&cfg);
    assert_int_equal(tt_wait_output(t, 10 * TT_SEC), 1 * TT_SEC);
    tt_expect(t, TCP_SYN, 0, 0, 0);
    assert_int_equal(tt_wait_output(t, 10 * TT_SEC), 2 * TT_SEC);
    tt_expect(t, TCP_SYN, 0, 0, 0);
    tt_advance(t, 4 * TT_SEC);
    tt_assert_state(t, TCP_CLOSED);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLERR);
    assert_int_equal(tt_status(t).error, -ETIMEDOUT);
    tt_free(t);
}

/* MUST-23: "R2 for a SYN segment MUST be set large enough to provide
 * retransmission of the segment for at least 3 minutes." With the defaults
 * the SYN is still being retried at 3 minutes; the application is told at
 * 247 s (seven retries 1, 2, ..., 64 s apart, then the 120 s maximum RTO),
 * not at Linux's 127 s. */
static void test_must23_syn_is_retried_for_at_least_three_minutes(void **state)
{
    struct tt *t = tt_syn_sent(NULL);
    uint64_t start = t->now, gap = 1 * TT_SEC;
    for (int i = 0; i < 7; i++, gap *= 2) { /* at 1, 3, 7, ..., 127 s */
        assert_int_equal(tt_wait_output(t, 200 * TT_SEC), gap);
        tt_expect(t, TCP_SYN, 0, 0, 0);
    }
    tt_advance(t, start + 180 * TT_SEC - t->now);
    tt_assert_state(t, TCP_SYN_SENT); /* three minutes on, still trying */
    tt_advance(t, start + 247 * TT_SEC - t->now - 1); /* 127 s + the 120 s maximum RTO */
    tt_assert_state(t, TCP_SYN_SENT);
    tt_advance(t, 1);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ETIMEDOUT);
    tt_expect_nothing(t);
    tt_free(t);
}

/* ==== §3.8.4 Keep-alives ================================================== */

static struct tt *established_with_keepalive(const struct stack_config *cfg, long idle_s)
{
    struct tt *t = tt_established(cfg);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPIDLE, idle_s), 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPALIVE, 1), 0);
    return t;
}

/* MUST-24: "the application MUST be able to turn them on or off for each TCP
 * connection". Turned on, the connection probes after the idle time;
 * turned off again, it never probes. */
static void test_must24_keepalive_on_and_off_per_connection(void **state)
{
    struct tt *t = established_with_keepalive(NULL, 10);
    assert_int_equal(tt_wait_output(t, 60 * TT_SEC), 10 * TT_SEC);
    tt_expect(t, TCP_ACK, 0, 1, 0); /* SEG.SEQ = SND.NXT - 1 */
    tt_in(t, TCP_ACK, 1, 1, NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPALIVE, 0), 0);
    tt_advance(t, 3600 * TT_SEC);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

/* MUST-25: keep-alives "MUST default to off". Three idle hours: not a
 * packet, no keep-alive timer. */
static void test_must25_keepalive_is_off_by_default(void **state)
{
    struct tt *t = tt_established(NULL);
    tt_advance(t, 3 * 3600 * TT_SEC);
    tt_expect_nothing(t);
    assert_int_equal(tt_status(t).timers[TCP_TIMER_KEEPALIVE], TCP_TIME_NEVER);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

/* MUST-26: "Keep-alive packets MUST only be sent when no sent data is
 * outstanding, and no data or acknowledgment packets have been received for
 * the connection within an interval." */
static void test_must26_keepalive_only_when_idle(void **state)
{
    struct tt *t = established_with_keepalive(NULL, 10);
    tt_advance(t, 8 * TT_SEC);
    tt_in(t, TCP_ACK, 1, 1, NULL); /* heard from the peer at 8 s */
    tt_advance(t, 10 * TT_SEC - 1);
    tt_expect_nothing(t);
    tt_advance(t, 1); /* 10 s after the last segment received */
    tt_expect(t, TCP_ACK, 0, 1, 0);
    tt_free(t);

    struct stack_config cfg;
    tt_config(&cfg);
    cfg.data_retries = 40;
    t = established_with_keepalive(&cfg, 10);
    send_all(t, 100); /* outstanding, never acknowledged */
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 100);
    tt_advance(t, 60 * TT_SEC);
    const struct tt_pkt *p;
    while ((p = tt_next(t)))
        assert_int_equal(p->tcp.payload_len, 100); /* retransmissions only, no probe */
    tt_free(t);
}

/* MUST-27: "This interval MUST be configurable": per connection
 * (TCP_KEEPIDLE) and per stack (cfg.keepalive_idle_us). */
static void test_must27_keepalive_interval_is_configurable(void **state)
{
    struct tt *t = established_with_keepalive(NULL, 77);
    assert_int_equal(tt_wait_output(t, 3600 * TT_SEC), 77 * TT_SEC);
    tt_free(t);

    struct stack_config cfg;
    tt_config(&cfg);
    cfg.keepalive_idle_us = 30 * TT_SEC;
    t = tt_established(&cfg);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPALIVE, 1), 0);
    assert_int_equal(tt_wait_output(t, 3600 * TT_SEC), 30 * TT_SEC);
    tt_free(t);
}

/* MUST-28: the interval "MUST default to no less than two hours". */
static void test_must28_keepalive_interval_defaults_to_two_hours(void **state)
{
    struct stack_config d;
    stack_config_defaults(&d);
    assert_true(d.keepalive_idle_us >= 7200 * TT_SEC);
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPALIVE, 1), 0);
    assert_int_equal(tt_wait_output(t, 3 * 3600 * TT_SEC), 7200 * TT_SEC);
    tt_expect(t, TCP_ACK, 0, 1, 0);
    tt_free(t);
}

/* MUST-29: "it MUST NOT interpret failure to respond to any specific probe as
 * a dead connection." An unanswered probe is followed by another; an answer
 * to the second keeps the connection; only keepcnt silent probes in a row
 * end it. */
static void test_must29_one_lost_probe_is_not_a_dead_connection(void **state)
{
    struct tt *t = established_with_keepalive(NULL, 10);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPINTVL, 5), 0);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_KEEPCNT, 3), 0);
    assert_int_equal(tt_wait_output(t, 60 * TT_SEC), 10 * TT_SEC);
    tt_expect(t, TCP_ACK, 0, 1, 0); /* lost */
    assert_int_equal(tt_wait_output(t, 60 * TT_SEC), 5 * TT_SEC);
    tt_expect(t, TCP_ACK, 0, 1, 0);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_in(t, TCP_ACK, 1, 1, NULL); /* answered */
    tt_advance(t, 12 * TT_SEC);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_drain(t);
    tt_advance(t, 3 * 5 * TT_SEC + 10 * TT_SEC); /* now three in a row go unanswered */
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ETIMEDOUT);
    tt_free(t);
}

/* ==== §3.8.5 Urgent data ==================================================== */

/* The peer's data segment with URG and urgent pointer `up`. */
static void peer_urgent(struct tt *t, uint32_t rseq, const char *data, uint16_t up)
{
    uint8_t buf[2000];
    struct raw_seg r = {.src = TT_PEER_ADDR,
                        .dst = TT_STACK_ADDR,
                        .sport = t->pport,
                        .dport = t->sport,
                        .seq = t->peer_isn + rseq,
                        .ack = t->iss + 1,
                        .flags = TCP_ACK | TCP_PSH | TCP_URG,
                        .data = data,
                        .len = strlen(data)};
    size_t n = raw_tcp(buf, &r);
    /* the urgent pointer field: bytes 18-19 of the TCP header */
    uint8_t *th = buf + WIRE_IPV4_HDR_LEN;
    put16(th + 18, up);
    put16(th + 16, 0);
    uint32_t seglen = (uint32_t)(n - WIRE_IPV4_HDR_LEN);
    uint32_t pseudo = (TT_PEER_ADDR >> 16) + (TT_PEER_ADDR & 0xffff) + (TT_STACK_ADDR >> 16) +
                      (TT_STACK_ADDR & 0xffff) + WIRE_PROTO_TCP + seglen;
    put16(th + 16, wire_sum_fold(wire_sum(th, seglen, pseudo)));
    tt_input_raw(t, buf, n);
}

/* MUST-30: "TCP implementations MUST still include support for the urgent
 * mechanism." Both ways: a received urgent pointer is seen by the
 * application, and the application can send urgent data. */
static void test_must30_urgent_mechanism_is_supported(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_false(tcp_poll(t->s, t->sd) & TCP_POLLPRI);
    peer_urgent(t, 1, "abcdef", 3);
    tt_expect(t, TCP_ACK, 1, 7, 0);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLPRI);
    assert_int_equal(tt_status(t).urgent_pending, 3);
    char buf[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 6); /* in line */
    assert_memory_equal(buf, "abcdef", 6);
    assert_int_equal(tt_status(t).urgent_pending, 0);
    assert_false(tcp_poll(t->s, t->sd) & TCP_POLLPRI);

    assert_int_equal(tcp_send_urgent(t->s, t->now, t->sd, "!", 1), 1);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK | TCP_PSH | TCP_URG, 1, 7, 1);
    assert_int_equal(p->tcp.urg, 1);
    tt_free(t);
}

/* MUST-62: "The urgent pointer MUST point to the sequence number of the octet
 * following the urgent data." Ordinary bytes, then three urgent ones: the
 * pointer of every segment lands just after the third. */
static void test_must62_urgent_pointer_points_after_the_urgent_data(void **state)
{
    struct stack_config cfg = cfg_no_cc();
    struct tt *t = tt_established(&cfg);
    send_all(t, 2000);
    assert_int_equal(drain_text(t), 2000); /* sent before any urgent data: no URG */
    assert_int_equal(tcp_send_urgent(t->s, t->now, t->sd, "URG", 3), 3);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK | TCP_PSH | TCP_URG, 2001, 1, 3);
    assert_int_equal(p->rseq + p->tcp.urg, 2004); /* the byte after "URG" */
    assert_true(tt_wait_output(t, 5 * TT_SEC) != TCP_TIME_NEVER);
    p = tt_next(t); /* the retransmission of the first segment carries it too */
    assert_non_null(p);
    assert_int_equal(p->rseq, 1);
    assert_true(p->tcp.flags & TCP_URG);
    assert_int_equal(p->rseq + p->tcp.urg, 2004);
    tt_drain(t);
    tt_in(t, TCP_ACK, 1, 2004, NULL); /* all acknowledged: no more URG */
    tt_drain(t);
    send_all(t, 10);
    p = tt_expect(t, TCP_ACK | TCP_PSH, 2004, 1, 10);
    assert_false(p->tcp.flags & TCP_URG);
    tt_free(t);
}

/* MUST-31: "A TCP implementation MUST support a sequence of urgent data of
 * any length." 5000 urgent bytes over four segments: each segment's pointer
 * names the same end, and the receiver counts all 5000 as urgent. */
static void test_must31_urgent_data_of_any_length(void **state)
{
    struct stack_config cfg = cfg_no_cc();
    struct tt *t = tt_established(&cfg);
    static uint8_t big[5000];
    memset(big, 'u', sizeof big);
    assert_int_equal(tcp_send_urgent(t->s, t->now, t->sd, big, sizeof big), 5000);
    unsigned segs = 0;
    const struct tt_pkt *p;
    while ((p = tt_next(t))) {
        assert_true(p->tcp.flags & TCP_URG);
        assert_int_equal(p->rseq + p->tcp.urg, 5001);
        segs++;
    }
    assert_int_equal(segs, 4);
    tt_free(t);

    t = tt_established(NULL);
    static char chunk[1001];
    memset(chunk, 'v', 1000);
    peer_urgent(t, 1, chunk, 4000); /* 4000 urgent bytes, 1000 of them here */
    assert_int_equal(tt_status(t).urgent_pending, 4000);
    peer_urgent(t, 1001, chunk, 3000);
    char buf[2000];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 2000);
    assert_int_equal(tt_status(t).urgent_pending, 2000);
    tt_free(t);
}

/* MUST-32: "A TCP implementation MUST inform the application layer
 * asynchronously whenever it receives an urgent pointer and there was
 * previously no pending urgent data, or whenever the urgent pointer advances
 * in the data stream." The segment alone makes the socket readable for
 * urgent data (POLLPRI), with no call from the application; a pointer
 * further on raises what is pending; an older one changes nothing. */
static void test_must32_application_told_of_urgent_data_asynchronously(void **state)
{
    struct tt *t = tt_established(NULL);
    peer_urgent(t, 1, "12345", 2);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLPRI);
    assert_int_equal(tt_status(t).urgent_pending, 2);
    peer_urgent(t, 6, "678", 3); /* RCV.UP moves from 3 to 9 */
    assert_int_equal(tt_status(t).urgent_pending, 8);
    peer_urgent(t, 9, "9", 0);   /* no pointer: nothing changes */
    tt_in(t, TCP_ACK | TCP_PSH, 10, 1, "0");
    assert_int_equal(tt_status(t).urgent_pending, 8);
    tt_free(t);
}

/* MUST-33: "The TCP implementation MUST provide a way for the application to
 * learn how much urgent data remains to be read from the connection".
 * tcp_status().urgent_pending counts down as the application reads. */
static void test_must33_application_learns_how_much_urgent_data_remains(void **state)
{
    struct tt *t = tt_established(NULL);
    peer_urgent(t, 1, "0123456789", 8);
    char buf[4];
    unsigned want[] = {8, 5, 2};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tt_status(t).urgent_pending, want[i]);
        assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, 3), 3);
    }
    assert_int_equal(tt_status(t).urgent_pending, 0);
    assert_false(tcp_poll(t->s, t->sd) & TCP_POLLPRI);
    tt_free(t);
}

/* ==== §3.8.6 Managing the window ========================================== */

/* MUST-34: "a sending TCP peer MUST be robust against window shrinking,
 * which may cause the "usable window" ... to become negative". The peer
 * acknowledges 1000 of 14600 bytes in flight and offers 2000: the right edge
 * is now far behind SND.NXT. Nothing new is sent; when the window
 * opens again the rest of the queue follows, in order. */
static void test_must34_sender_survives_a_shrinking_window(void **state)
{
    struct stack_config cfg = cfg_no_cc();
    struct tt *t = tt_established(&cfg);
    tt_in_win(t, TCP_ACK, 1, 1, 14600);
    send_all(t, 20000);
    assert_int_equal(drain_text(t), 14600);
    tt_in_win(t, TCP_ACK, 1, 1001, 2000); /* right edge 3001, SND.NXT 14601 */
    tt_expect_nothing(t);
    assert_int_equal(tt_status(t).snd_nxt, t->iss + 14601);
    tt_in_win(t, TCP_ACK, 1, 14601, 30000);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->rseq, 14601);
    assert_int_equal(drain_text(t) + p->tcp.payload_len, 20000 - 14600);
    tt_free(t);
}

/* MUST-35: "If the window shrinks to zero, the TCP implementation MUST probe
 * it in the standard way". The ACK of everything in flight closes the window
 * with data still queued: after an RTO the stack probes. */
static void test_must35_window_shrunk_to_zero_is_probed(void **state)
{
    struct stack_config cfg = cfg_no_cc();
    struct tt *t = established_offering(&cfg, 1000, 1460);
    send_all(t, 3000);
    tt_expect(t, TCP_ACK, 1, 1, 1000);
    tt_in_win(t, TCP_ACK, 1, 1001, 0);
    tt_expect_nothing(t);
    assert_int_equal(tt_wait_output(t, 5 * TT_SEC), 1 * TT_SEC);
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1000, 1, 0);
    assert_int_equal(p->rseq, 1000); /* SND.UNA - 1: a probe, no byte pushed in */
    tt_free(t);
}

/* MUST-36: "Probing of zero (offered) windows MUST be supported." A window
 * closed from the start: probes at 1 s, then 2 s later, ...; the answer
 * that opens the window lets the data go. */
static void test_must36_zero_window_is_probed(void **state)
{
    struct tt *t = established_offering(NULL, 0, 0);
    send_all(t, 500);
    tt_expect_nothing(t);
    assert_int_equal(tt_wait_output(t, 60 * TT_SEC), 1 * TT_SEC);
    tt_expect(t, TCP_ACK, 0, 1, 0);
    tt_in_win(t, TCP_ACK, 1, 1, 0);
    assert_int_equal(tt_wait_output(t, 60 * TT_SEC), 2 * TT_SEC);
    tt_expect(t, TCP_ACK, 0, 1, 0);
    tt_in_win(t, TCP_ACK, 1, 1, 8000);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 500);
    tt_free(t);
}

/* MUST-37: "As long as the receiving TCP peer continues to send
 * acknowledgments in response to the probe segments, the sending TCP peer
 * MUST allow the connection to stay open." Six hours of probes, every one
 * answered with a zero window: far past data_retries, still ESTABLISHED. */
static void test_must37_connection_stays_open_while_probes_are_answered(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.data_retries = 3;
    struct tt *t = established_offering(&cfg, 0, 0);
    send_all(t, 500);
    unsigned probes = 0;
    while (t->now < 6 * 3600 * TT_SEC) {
        assert_true(tt_wait_output(t, 600 * TT_SEC) != TCP_TIME_NEVER);
        tt_expect(t, TCP_ACK, 0, 1, 0);
        probes++;
        tt_in_win(t, TCP_ACK, 1, 1, 0);
    }
    assert_true(probes > 3);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_in_win(t, TCP_ACK, 1, 1, 8000);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 500);
    tt_free(t);
}

/* MUST-66: "A TCP receiver MUST process the RST and URG fields of all
 * incoming segments, even when the receive window is zero." A full receive
 * buffer; an urgent pointer at RCV.NXT still counts, and a RST at RCV.NXT
 * resets the connection. */
static void test_must66_rst_and_urg_processed_with_a_zero_receive_window(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rcvbuf = 2000;
    struct tt *t = tt_established(&cfg);
    static uint8_t data[2000];
    tt_in_data(t, 1, 1, data, 1000);
    tt_in_data(t, 1001, 1, data, 1000);
    const struct tt_pkt *p = NULL, *q;
    while ((q = tt_next(t)))
        p = q;
    assert_non_null(p);
    assert_int_equal(p->tcp.win, 0);
    /* URG at RCV.NXT with the window shut: its text is dropped, its pointer
     * is taken */
    peer_urgent(t, 2001, "zz", 2);
    assert_int_equal(tt_status(t).rcv_nxt, t->peer_isn + 2001);
    assert_true(tcp_poll(t->s, t->sd) & TCP_POLLPRI);
    assert_int_equal(tt_status(t).urgent_pending, 2002);
    tt_drain(t);
    tt_in(t, TCP_RST, 2001, 0, NULL);
    tt_assert_state(t, TCP_CLOSED);
    assert_int_equal(tt_status(t).error, -ECONNRESET);
    tt_free(t);
}

/* MUST-39: "A TCP implementation MUST include a SWS avoidance algorithm in
 * the receiver". With a 10000-byte buffer full, reading a few bytes at a
 * time does not move the right edge; only when the space reaches
 * min(buffer/2, MSS) = 1460 bytes does a window update go out. */
static void test_must39_receiver_sws_avoidance(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.rcvbuf = 10000;
    struct tt *t = tt_established(&cfg);
    static uint8_t data[10000];
    for (uint32_t off = 0; off < 10000; off += 1000)
        tt_in_data(t, 1 + off, 1, data, 1000);
    tt_drain(t);
    char buf[100];
    uint32_t read = 0;
    while (read + 100 < 1460) {
        assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 100);
        read += 100;
        tt_expect_nothing(t);
    }
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 100);
    read += 100;
    const struct tt_pkt *p = tt_expect(t, TCP_ACK, 1, 10001, 0);
    assert_int_equal(p->tcp.win, read);
    tt_free(t);
}

/* ==== §3.8.6.3 and §3.10.7.4 Generating ACKs =============================== */

/* MUST-58: "the processing of received segments MUST be implemented to
 * aggregate ACK segments whenever possible": with delayed ACK two full
 * segments get one ACK, and an answer the application writes at once carries
 * the ACK instead of a separate one. */
static void test_must58_acks_are_aggregated(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.delayed_ack = true;
    struct tt *t = tt_established(&cfg);
    static uint8_t data[1460];
    tt_in_data(t, 1, 1, data, 1460);
    tt_expect_nothing(t);
    tt_in_data(t, 1461, 1, data, 1460);
    tt_expect(t, TCP_ACK, 1, 2921, 0);
    tt_expect_nothing(t);

    tt_in(t, TCP_ACK | TCP_PSH, 2921, 1, "ping");
    tt_expect_nothing(t); /* the ACK waits... */
    send_all(t, 4);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 2925, 4); /* ...and rides on the answer */
    tt_advance(t, 500 * TT_MS);
    tt_expect_nothing(t);
    tt_free(t);
}

/* MUST-40: "the delay MUST be less than 0.5 seconds". Asked for two
 * seconds, the stack still acknowledges a lone segment within 499 ms. */
static void test_must40_delayed_ack_waits_less_than_half_a_second(void **state)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.delayed_ack = true;
    cfg.delack_us = 2 * TT_SEC;
    struct tt *t = tt_established(&cfg);
    tt_in(t, TCP_ACK | TCP_PSH, 1, 1, "one");
    tt_expect_nothing(t);
    uint64_t waited = tt_wait_output(t, 5 * TT_SEC);
    assert_true(waited < 500 * TT_MS);
    tt_expect(t, TCP_ACK, 1, 4, 0);

    stack_config_defaults(&cfg);
    assert_true(cfg.delack_us < 500 * TT_MS);
    tt_free(t);
}

/* MUST-59: "if the TCP endpoint is processing a series of queued segments, it
 * MUST process them all before sending any ACK segments". Three segments
 * held out of order are taken in with the one that fills the hole: one ACK,
 * for all four. */
static void test_must59_queued_segments_processed_before_the_ack(void **state)
{
    struct tt *t = tt_established(NULL);
    static uint8_t data[400];
    tt_in_data(t, 101, 1, data, 100);
    tt_in_data(t, 201, 1, data, 100);
    tt_in_data(t, 301, 1, data, 100);
    tt_drain(t); /* duplicate ACKs for the out-of-order arrivals (RFC 5681 §4.2) */
    tt_in_data(t, 1, 1, data, 100);
    tt_expect(t, TCP_ACK, 1, 401, 0);
    tt_expect_nothing(t);
    char buf[500];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 400);
    tt_free(t);
}

/* ==== §3.9.2 IP options and ICMP =========================================== */

/* MUST-50: "When received options are passed up to TCP from the IP layer, a
 * TCP implementation MUST ignore options that it does not understand." A
 * SYN carrying IP options (NOPs, a Router Alert, an unknown type) opens a
 * connection like one without. */
static void test_must50_ip_options_are_ignored(void **state)
{
    struct tt *t = listener_for_raw(NULL);
    const uint8_t ipopt[] = {1, 1, 0x94, 4, 0, 0, 0x9e, 2}; /* NOP NOP RA(4) unknown(2) */
    const uint8_t mss[] = {2, 4, 0x05, 0xb4};
    uint8_t buf[200];
    struct raw_seg r = {.src = TT_PEER_ADDR,
                        .dst = TT_STACK_ADDR,
                        .ipopt = ipopt,
                        .ipoptlen = sizeof ipopt,
                        .sport = t->pport,
                        .dport = t->sport,
                        .seq = t->peer_isn,
                        .flags = TCP_SYN,
                        .topt = mss,
                        .toptlen = sizeof mss};
    tt_input_raw(t, buf, raw_tcp(buf, &r));
    expect_synack(t);
    r.seq = t->peer_isn + 1;
    r.ack = t->iss + 1;
    r.flags = TCP_ACK | TCP_PSH;
    r.data = "opts";
    r.len = 4;
    r.topt = NULL;
    r.toptlen = 0;
    tt_input_raw(t, buf, raw_tcp(buf, &r));
    t->sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(t->sd >= 0);
    char got[8];
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, got, sizeof got), 4);
    assert_memory_equal(got, "opts", 4);
    tt_free(t);
}

/* An ICMP error of `type`/`code` from the peer's side about a segment the
 * stack sent on the connection of `t` (its IP header and first 8 bytes). */
static void icmp_error_about(struct tt *t, uint8_t type, uint8_t code)
{
    uint8_t buf[200];
    uint8_t *icmp = buf + WIRE_IPV4_HDR_LEN;
    memset(icmp, 0, 8);
    icmp[0] = type;
    icmp[1] = code;
    uint8_t *orig = icmp + 8;
    uint8_t th[8];
    put16(th, t->sport);
    put16(th + 2, t->pport);
    put32(th + 4, t->iss + 1);
    memcpy(orig + WIRE_IPV4_HDR_LEN, th, 8);
    ipv4_wrap(orig, TT_STACK_ADDR, TT_PEER_ADDR, WIRE_PROTO_TCP, NULL, 0, 8);
    size_t len = 8 + WIRE_IPV4_HDR_LEN + 8;
    put16(icmp + 2, wire_sum_fold(wire_sum(icmp, len, 0)));
    tt_input_raw(t, buf, ipv4_wrap(buf, TT_PEER_ADDR, TT_STACK_ADDR, WIRE_PROTO_ICMP, NULL, 0, len));
}

/* MUST-55: "TCP implementations MUST silently discard any received ICMP
 * Source Quench messages": nothing is sent, the connection does not change
 * (cwnd included), data flows as before. */
static void test_must55_source_quench_is_silently_discarded(void **state)
{
    struct tt *t = tt_established(NULL);
    struct tcp_status before = tt_status(t);
    size_t drops = tt_count_drops(t, TCP_DROP_ICMP_UNHANDLED);
    icmp_error_about(t, 4, 0);
    assert_int_equal(tt_count_drops(t, TCP_DROP_ICMP_UNHANDLED), drops + 1);
    tt_expect_nothing(t);
    struct tcp_status after = tt_status(t);
    assert_int_equal(after.state, TCP_ESTABLISHED);
    assert_int_equal(after.cwnd, before.cwnd);
    assert_int_equal(after.ssthresh, before.ssthresh);
    send_all(t, 100);
    tt_expect(t, TCP_ACK | TCP_PSH, 1, 1, 100);
    tt_free(t);
}

/* MUST-56: for soft errors (Destination Unreachable codes 0, 1, 5; Time
 * Exceeded; Parameter Problem) "a TCP implementation MUST NOT abort the
 * connection". */
static void test_must56_soft_icmp_errors_do_not_abort(void **state)
{
    struct tt *t = tt_established(NULL);
    const uint8_t soft[][2] = {{3, 0}, {3, 1}, {3, 5}, {11, 0}, {11, 1}, {12, 0}};
    for (size_t i = 0; i < sizeof soft / sizeof soft[0]; i++)
        icmp_error_about(t, soft[i][0], soft[i][1]);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_ESTABLISHED);
    assert_int_equal(tt_status(t).error, 0);
    tt_in(t, TCP_ACK | TCP_PSH, 1, 1, "alive");
    tt_expect(t, TCP_ACK, 1, 6, 0);
    tt_free(t);
}

/* ==== §3.9.1.9, §3.9.2 Diffserv and TTL ===================================== */

/* MUST-49: "The TTL value used to send TCP segments MUST be configurable."
 * Per stack (cfg.ttl, also on the resets sent for no connection) and per
 * connection (IP_TTL); every header still carries a valid checksum. */
static void test_must49_ttl_is_configurable(void **state)
{
    struct tt *t = tt_established(NULL);
    send_all(t, 10);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->ip.ttl, 64);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_TTL, 5), 0);
    tt_in(t, TCP_ACK | TCP_PSH, 1, 11, "x");
    p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->ip_err, WIRE_OK);
    assert_int_equal(p->ip.ttl, 5);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_TTL, 0), -EINVAL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_TTL, 256), -EINVAL);
    tt_free(t);

    struct stack_config cfg;
    tt_config(&cfg);
    cfg.ttl = 17;
    t = tt_syn_sent(&cfg);
    tt_advance(t, 1 * TT_SEC);
    p = tt_next(t); /* the retransmitted SYN */
    assert_non_null(p);
    assert_int_equal(p->ip.ttl, 17);
    struct tt_seg stray = {.flags = TCP_ACK, .seq = 5, .ack = 5, .dport = 81};
    tt_in_seg(t, &stray); /* to a port nobody holds: a RST */
    p = tt_next(t);
    assert_non_null(p);
    assert_true(p->tcp.flags & TCP_RST);
    assert_int_equal(p->ip_err, WIRE_OK);
    assert_int_equal(p->ip.ttl, 17);
    tt_free(t);
}

/* MUST-48: "The application layer MUST be able to specify the Differentiated
 * Services field for segments that are sent on a connection." IP_TOS with
 * DSCP EF (46): every segment carries it; it can change during the
 * connection (SHLD-21); a listener's setting passes to its connections; the
 * ECN bits stay clear (no ECN, SHLD-8). */
static void test_must48_application_sets_the_diffserv_field(void **state)
{
    struct tt *t = tt_established(NULL);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_TOS, 46 << 2 | 3), 0);
    send_all(t, 10);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->ip_err, WIRE_OK);
    assert_int_equal(p->ip.tos, 46 << 2);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->sd, TCP_OPT_TOS, 10 << 2), 0);
    tt_in(t, TCP_ACK | TCP_PSH, 1, 11, "x");
    p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->ip.tos, 10 << 2);
    tt_free(t);

    t = tt_new(NULL);
    t->lsd = tcp_socket(t->s, t->now);
    assert_int_equal(tcp_setsockopt(t->s, t->now, t->lsd, TCP_OPT_TOS, 34 << 2), 0);
    assert_int_equal(tcp_bind(t->s, t->now, t->lsd, TT_SERVER_PORT), 0);
    assert_int_equal(tcp_listen(t->s, t->now, t->lsd, 8), 0);
    t->sport = TT_SERVER_PORT;
    t->pport = TT_PEER_CLIENT_PORT;
    tt_do_peer_syn(t);
    t->sd = -1;
    tt_in(t, TCP_ACK, 1, 1, NULL);
    t->sd = tcp_accept(t->s, t->now, t->lsd, NULL);
    assert_true(t->sd >= 0);
    send_all(t, 10);
    p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->ip.tos, 34 << 2);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_must1_window_field_is_unsigned),
        cmocka_unit_test(test_must2_every_sent_segment_carries_the_checksum),
        cmocka_unit_test(test_must3_segment_with_a_wrong_checksum_is_dropped),
        cmocka_unit_test(test_must4_eol_nop_and_mss_are_understood),
        cmocka_unit_test(test_must5_options_in_a_data_segment_are_accepted),
        cmocka_unit_test(test_must6_unknown_options_are_ignored),
        cmocka_unit_test(test_must7_illegal_option_length_is_dropped_and_harmless),
        cmocka_unit_test(test_must64_options_off_word_boundaries_are_read),
        cmocka_unit_test(test_must68_every_option_but_eol_and_nop_has_a_length),
        cmocka_unit_test(test_must69_header_after_eol_is_zero_padding),
        cmocka_unit_test(test_must8_isn_is_clock_driven),
        cmocka_unit_test(test_must9_isn_function_depends_on_a_secret_key),
        cmocka_unit_test(test_must10_simultaneous_open),
        cmocka_unit_test(test_must11_syn_received_remembers_passive_or_active_open),
        cmocka_unit_test(test_must41_passive_open_leaves_other_connections_alone),
        cmocka_unit_test(test_must42_listen_while_the_port_has_a_connection_in_syn_sent),
        cmocka_unit_test(test_must43_open_takes_a_local_address),
        cmocka_unit_test(test_must45_every_segment_of_a_connection_has_the_same_source),
        cmocka_unit_test(test_must57_syn_to_broadcast_or_multicast_is_discarded),
        cmocka_unit_test(test_must46_open_to_broadcast_or_multicast_is_refused),
        cmocka_unit_test(test_must63_syn_from_an_invalid_source_is_ignored),
        cmocka_unit_test(test_must12_application_told_fin_from_rst),
        cmocka_unit_test(test_must13_time_wait_lasts_2msl),
        cmocka_unit_test(test_must14_mss_option_sent_and_honoured),
        cmocka_unit_test(test_must15_no_mss_option_means_536),
        cmocka_unit_test(test_must16_effective_send_mss_is_the_smaller),
        cmocka_unit_test(test_must65_mss_option_only_in_syns),
        cmocka_unit_test(test_must67_announced_mss_fits_the_mtu),
        cmocka_unit_test(test_must17_nodelay_turns_nagle_off_per_connection),
        cmocka_unit_test(test_must60_queued_data_is_never_held_indefinitely),
        cmocka_unit_test(test_must61_psh_on_the_last_buffered_segment),
        cmocka_unit_test(test_must18_rto_is_rfc6298_with_karns_algorithm),
        cmocka_unit_test(test_must20_r2_retransmissions_close_the_connection),
        cmocka_unit_test(test_must21_application_sets_r2_per_connection),
        cmocka_unit_test(test_must22_syn_retransmissions_handled_like_data),
        cmocka_unit_test(test_must23_syn_is_retried_for_at_least_three_minutes),
        cmocka_unit_test(test_must24_keepalive_on_and_off_per_connection),
        cmocka_unit_test(test_must25_keepalive_is_off_by_default),
        cmocka_unit_test(test_must26_keepalive_only_when_idle),
        cmocka_unit_test(test_must27_keepalive_interval_is_configurable),
        cmocka_unit_test(test_must28_keepalive_interval_defaults_to_two_hours),
        cmocka_unit_test(test_must29_one_lost_probe_is_not_a_dead_connection),
        cmocka_unit_test(test_must30_urgent_mechanism_is_supported),
        cmocka_unit_test(test_must62_urgent_pointer_points_after_the_urgent_data),
        cmocka_unit_test(test_must31_urgent_data_of_any_length),
        cmocka_unit_test(test_must32_application_told_of_urgent_data_asynchronously),
        cmocka_unit_test(test_must33_application_learns_how_much_urgent_data_remains),
        cmocka_unit_test(test_must34_sender_survives_a_shrinking_window),
        cmocka_unit_test(test_must35_window_shrunk_to_zero_is_probed),
        cmocka_unit_test(test_must36_zero_window_is_probed),
        cmocka_unit_test(test_must37_connection_stays_open_while_probes_are_answered),
        cmocka_unit_test(test_must66_rst_and_urg_processed_with_a_zero_receive_window),
        cmocka_unit_test(test_must39_receiver_sws_avoidance),
        cmocka_unit_test(test_must58_acks_are_aggregated),
        cmocka_unit_test(test_must40_delayed_ack_waits_less_than_half_a_second),
        cmocka_unit_test(test_must59_queued_segments_processed_before_the_ack),
        cmocka_unit_test(test_must50_ip_options_are_ignored),
        cmocka_unit_test(test_must55_source_quench_is_silently_discarded),
        cmocka_unit_test(test_must56_soft_icmp_errors_do_not_abort),
        cmocka_unit_test(test_must49_ttl_is_configurable),
        cmocka_unit_test(test_must48_application_sets_the_diffserv_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
