/*
 * test_tcp_malformed.c — bad input on an established connection. Each kind
 * of malformed packet the wire module names (wire.h, enum wire_err) must be
 * dropped with a TEV_DROP carrying exactly that reason, counted in
 * stack_stats, and leave the connection working: the next good segment is
 * received, acknowledged and delivered, and nothing is delivered twice.
 */
#include "tcptest.h"

/* A good data segment "abcd" at the next sequence number, to be damaged. */
static size_t good_segment(struct tt *t, uint8_t *buf, size_t cap)
{
    struct tt_seg seg = {.flags = TCP_ACK | TCP_PSH, .seq = 1, .ack = 1, .data = "abcd", .len = 4};
    return tt_build(t, &seg, buf, cap);
}

/* Recompute the IPv4 header checksum after editing the header. */
static void fix_ip_checksum(uint8_t *pkt)
{
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    pkt[10] = pkt[11] = 0;
    uint16_t c = wire_sum_fold(wire_sum(pkt, ihl, 0));
    pkt[10] = (uint8_t)(c >> 8);
    pkt[11] = (uint8_t)c;
}

/* Recompute the TCP checksum (pseudo-header included) over `len` bytes of
 * segment starting at pkt+20, after editing the segment. */
static void fix_tcp_checksum(uint8_t *pkt, size_t seg_len)
{
    uint8_t *tcp = pkt + 20;
    tcp[16] = tcp[17] = 0;
    uint8_t pseudo[12];
    memcpy(pseudo, pkt + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = WIRE_PROTO_TCP;
    pseudo[10] = (uint8_t)(seg_len >> 8);
    pseudo[11] = (uint8_t)seg_len;
    uint16_t c = wire_sum_fold(wire_sum(tcp, seg_len, wire_sum(pseudo, 12, 0)));
    tcp[16] = (uint8_t)(c >> 8);
    tcp[17] = (uint8_t)c;
}

static void set_total_length(uint8_t *pkt, size_t n)
{
    pkt[2] = (uint8_t)(n >> 8);
    pkt[3] = (uint8_t)n;
    fix_ip_checksum(pkt);
}

/* Feed `pkt`, expect exactly one drop with `reason` (or `alt`, when the
 * stack may classify the case either way), counted; then show that the
 * connection still works. */
static void expect_dropped_and_connection_survives(struct tt *t, const uint8_t *pkt, size_t len,
                                                   int reason, int alt, int line)
{
    struct stack_stats before, after;
    stack_get_stats(t->s, &before);
    size_t mark = t->ev_len;
    tt_input_raw(t, pkt, len);
    if (tt_pending(t) != 0)
        tt_fail_at(__FILE__, line, "a malformed packet (%s) was answered", wire_err_name(reason));
    int got = tt_last_drop_reason(t, mark);
    if (got != reason && got != alt)
        tt_fail_at(__FILE__, line, "expected a drop with reason %s (%d), got %s (%d)",
                   tev_drop_reason_name(reason), reason,
                   got ? tev_drop_reason_name(got) : "no drop", got);
    stack_get_stats(t->s, &after);
    if (after.drops != before.drops + 1)
        tt_fail_at(__FILE__, line, "stack_stats.drops went from %llu to %llu, expected +1",
                   (unsigned long long)before.drops, (unsigned long long)after.drops);
    if (after.drops_by_reason[STACK_DROP_INDEX(got)] !=
        before.drops_by_reason[STACK_DROP_INDEX(got)] + 1)
        tt_fail_at(__FILE__, line, "stack_stats.drops_by_reason[%s] was not incremented",
                   tev_drop_reason_name(got));
    tt_assert_state(t, TCP_ESTABLISHED);
    char buf[8];
    if (tcp_recv(t->s, t->now, t->sd, buf, sizeof buf) != -EAGAIN)
        tt_fail_at(__FILE__, line, "the malformed packet delivered data");

    uint8_t good[128];
    size_t n = good_segment(t, good, sizeof good);
    tt_input_raw(t, good, n);
    tt_expect(t, TCP_ACK, 1, 5, 0);
    assert_int_equal(tcp_recv(t->s, t->now, t->sd, buf, sizeof buf), 4);
    assert_memory_equal(buf, "abcd", 4);
}

#define DROPPED(t, pkt, len, reason)                                                               \
    expect_dropped_and_connection_survives((t), (pkt), (len), (reason), (reason), __LINE__)

static void test_truncated_ip_header_is_dropped_as_truncated_ip(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    good_segment(t, pkt, sizeof pkt);
    DROPPED(t, pkt, 12, WIRE_ERR_TRUNCATED_IP);
    tt_free(t);
}

static void test_ip_version_6_is_dropped_as_bad_version(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    pkt[0] = 0x65;
    fix_ip_checksum(pkt);
    DROPPED(t, pkt, n, WIRE_ERR_BAD_VERSION);
    tt_free(t);
}

static void test_ihl_below_five_is_dropped_as_bad_ihl(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    pkt[0] = 0x44;
    DROPPED(t, pkt, n, WIRE_ERR_BAD_IHL);
    tt_free(t);
}

static void test_total_length_beyond_the_packet_is_dropped_as_bad_total_length(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    set_total_length(pkt, n + 10);
    DROPPED(t, pkt, n, WIRE_ERR_BAD_TOTAL_LENGTH);
    tt_free(t);
}

static void test_wrong_ip_checksum_is_dropped_as_bad_ip_checksum(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    pkt[10] ^= 0x5a;
    DROPPED(t, pkt, n, WIRE_ERR_BAD_IP_CHECKSUM);
    tt_free(t);
}

static void test_fragment_is_dropped_as_fragment(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    pkt[6] = 0x20; /* MF, clearing DF */
    pkt[7] = 0;
    fix_ip_checksum(pkt);
    DROPPED(t, pkt, n, WIRE_ERR_FRAGMENT);
    tt_free(t);
}

/* A TCP segment relabelled as UDP goes to UDP (stack/udp.c), which finds
 * its length field or its checksum wrong; the connection never sees it. */
static void test_udp_packet_is_dropped_as_not_tcp(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    pkt[9] = 17;
    fix_ip_checksum(pkt);
    expect_dropped_and_connection_survives(t, pkt, n, WIRE_ERR_TRUNCATED_UDP,
                                           WIRE_ERR_BAD_UDP_CHECKSUM, __LINE__);
    tt_free(t);
}

/* Another protocol (GRE, 47) is neither TCP, UDP nor ICMP. */
static void test_other_protocol_is_dropped_as_other_protocol(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    pkt[9] = 47;
    fix_ip_checksum(pkt);
    expect_dropped_and_connection_survives(t, pkt, n, WIRE_ERR_NOT_TCP, TCP_DROP_OTHER_PROTOCOL,
                                           __LINE__);
    tt_free(t);
}

static void test_short_tcp_header_is_dropped_as_truncated_tcp(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    good_segment(t, pkt, sizeof pkt);
    set_total_length(pkt, 20 + 12);
    DROPPED(t, pkt, 20 + 12, WIRE_ERR_TRUNCATED_TCP);
    tt_free(t);
}

static void test_data_offset_below_five_is_dropped_as_bad_data_offset(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    pkt[20 + 12] = 4 << 4;
    fix_tcp_checksum(pkt, n - 20);
    DROPPED(t, pkt, n, WIRE_ERR_BAD_DATA_OFFSET);
    tt_free(t);
}

static void test_data_offset_past_the_segment_is_dropped_as_bad_data_offset(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    pkt[20 + 12] = 15 << 4; /* 60-byte header in a 24-byte segment */
    fix_tcp_checksum(pkt, n - 20);
    DROPPED(t, pkt, n, WIRE_ERR_BAD_DATA_OFFSET);
    tt_free(t);
}

/* A segment with a 4-byte option area holding one bad option. */
static size_t segment_with_option(struct tt *t, uint8_t *pkt, size_t cap, const uint8_t opt[4])
{
    struct tt_seg seg = {.flags = TCP_ACK,
                         .seq = 1,
                         .ack = 1,
                         .opts = {.has_mss = true, .mss = 1400}}; /* reserves 4 bytes */
    size_t n = tt_build(t, &seg, pkt, cap);
    assert_int_equal(n, 44);
    memcpy(pkt + 40, opt, 4);
    fix_tcp_checksum(pkt, n - 20);
    return n;
}

static void test_option_length_zero_is_dropped_as_bad_option_length(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    const uint8_t opt[4] = {2, 0, 5, 0x78};
    size_t n = segment_with_option(t, pkt, sizeof pkt, opt);
    DROPPED(t, pkt, n, WIRE_ERR_BAD_OPTION_LENGTH);
    tt_free(t);
}

static void test_option_length_one_is_dropped_as_bad_option_length(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    const uint8_t opt[4] = {99, 1, 1, 1};
    size_t n = segment_with_option(t, pkt, sizeof pkt, opt);
    DROPPED(t, pkt, n, WIRE_ERR_BAD_OPTION_LENGTH);
    tt_free(t);
}

static void test_option_running_past_the_header_is_dropped_as_bad_option_length(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    const uint8_t opt[4] = {1, 8, 10, 0}; /* NOP, then a timestamp of 10 bytes in 3 */
    size_t n = segment_with_option(t, pkt, sizeof pkt, opt);
    DROPPED(t, pkt, n, WIRE_ERR_BAD_OPTION_LENGTH);
    tt_free(t);
}

/* Bad input of RFC 7323 §3: a timestamps option is 10 bytes; one that says
 * 8 or 12 is malformed and the segment is dropped before the engine could
 * trust its TSval or TSecr (Linux ignores such an option instead). */
static void test_rfc7323_ts_option_of_wrong_length_is_dropped_as_bad_option_length(void **state)
{
    static const uint8_t lens[] = {8, 12, 9};
    for (size_t k = 0; k < sizeof lens; k++) {
        struct tt *t = tt_established(NULL);
        struct tt_seg seg = {.flags = TCP_ACK, .seq = 1, .ack = 1,
                             .opts = {.has_ts = true, .ts_val = 5, .ts_ecr = 0}};
        uint8_t pkt[128];
        size_t n = tt_build(t, &seg, pkt, sizeof pkt);
        assert_int_equal(n, 52);             /* NOP NOP TS(10) */
        assert_int_equal(pkt[42], 8);        /* the kind */
        pkt[43] = lens[k];
        fix_tcp_checksum(pkt, n - 20);
        DROPPED(t, pkt, n, WIRE_ERR_BAD_OPTION_LENGTH);
        tt_free(t);
    }
}

static void test_wrong_tcp_checksum_is_dropped_as_bad_checksum(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    pkt[n - 1] ^= 0x01; /* damage the text: "abce" */
    DROPPED(t, pkt, n, WIRE_ERR_BAD_CHECKSUM);
    tt_free(t);
}

/* An ICMP packet built by hand: type, code, then `len` bytes in all. */
static size_t icmp_packet(uint8_t *pkt, uint8_t type, size_t icmp_len, bool good_checksum)
{
    memset(pkt, 0, 20 + icmp_len);
    pkt[0] = 0x45;
    pkt[8] = 64;
    pkt[9] = WIRE_PROTO_ICMP;
    uint32_t src = TT_PEER_ADDR, dst = TT_STACK_ADDR;
    for (int i = 0; i < 4; i++) {
        pkt[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        pkt[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    set_total_length(pkt, 20 + icmp_len);
    uint8_t *icmp = pkt + 20;
    icmp[0] = type;
    for (size_t i = 4; i < icmp_len; i++)
        icmp[i] = (uint8_t)i;
    if (icmp_len >= 4) {
        uint16_t c = wire_sum_fold(wire_sum(icmp, icmp_len, 0));
        icmp[2] = (uint8_t)(c >> 8);
        icmp[3] = (uint8_t)c;
        if (!good_checksum)
            icmp[2] ^= 0xff;
    }
    return 20 + icmp_len;
}

static void test_short_icmp_is_dropped_as_truncated_icmp(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = icmp_packet(pkt, 8, 3, true);
    DROPPED(t, pkt, n, WIRE_ERR_TRUNCATED_ICMP);
    tt_free(t);
}

static void test_wrong_icmp_checksum_is_dropped_as_bad_icmp_checksum(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = icmp_packet(pkt, 8, 16, false);
    DROPPED(t, pkt, n, WIRE_ERR_BAD_ICMP_CHECKSUM);
    tt_free(t);
}

/* An echo reply is not a request; the stack may name it from the wire
 * (not_echo) or from its own dispatch (icmp_unhandled). */
static void test_icmp_echo_reply_is_dropped_as_not_echo(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = icmp_packet(pkt, 0, 16, true);
    expect_dropped_and_connection_survives(t, pkt, n, WIRE_ERR_NOT_ECHO, TCP_DROP_ICMP_UNHANDLED,
                                           __LINE__);
    tt_free(t);
}

/* A good ICMP echo request is answered, not dropped. */
static void test_icmp_echo_request_is_answered(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = icmp_packet(pkt, 8, 16, true);
    struct stack_stats before, after;
    stack_get_stats(t->s, &before);
    tt_input_raw(t, pkt, n);
    stack_get_stats(t->s, &after);
    assert_int_equal(after.drops, before.drops);
    const struct tt_pkt *p = tt_next(t);
    assert_non_null(p);
    assert_int_equal(p->ip_err, WIRE_OK);
    assert_int_equal(p->ip.proto, WIRE_PROTO_ICMP);
    assert_int_equal(p->ip.dst, TT_PEER_ADDR);
    assert_int_equal(p->ip.payload[0], 0); /* echo reply */
    tt_free(t);
}

static void test_packet_for_another_address_is_dropped_as_not_for_us(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t pkt[128];
    size_t n = good_segment(t, pkt, sizeof pkt);
    pkt[19] = 99; /* 10.7.0.99 */
    fix_ip_checksum(pkt);
    fix_tcp_checksum(pkt, n - 20);
    DROPPED(t, pkt, n, TCP_DROP_NOT_FOR_US);
    tt_free(t);
}

/* Every prefix of a good packet, and the packet with each single byte
 * flipped, is either processed or dropped — never a crash, never a reply to
 * a damaged packet that claims a different connection, and the connection
 * survives (run under ASan in CI to catch reads past the buffer). */
static void test_every_truncation_and_bit_flip_is_survived(void **state)
{
    struct tt *t = tt_established(NULL);
    uint8_t good[128], pkt[128];
    size_t n = good_segment(t, good, sizeof good);
    for (size_t len = 0; len < n; len++) {
        uint8_t *exact = malloc(len ? len : 1); /* exact size so ASan sees overreads */
        memcpy(exact, good, len);
        tt_input_raw(t, exact, len);
        free(exact);
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(pkt, good, n);
        pkt[i] ^= 0x10;
        tt_input_raw(t, pkt, n);
    }
    tt_drain(t);
    tt_assert_state(t, TCP_ESTABLISHED);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_ip_header_is_dropped_as_truncated_ip),
        cmocka_unit_test(test_ip_version_6_is_dropped_as_bad_version),
        cmocka_unit_test(test_ihl_below_five_is_dropped_as_bad_ihl),
        cmocka_unit_test(test_total_length_beyond_the_packet_is_dropped_as_bad_total_length),
        cmocka_unit_test(test_wrong_ip_checksum_is_dropped_as_bad_ip_checksum),
        cmocka_unit_test(test_fragment_is_dropped_as_fragment),
        cmocka_unit_test(test_udp_packet_is_dropped_as_not_tcp),
        cmocka_unit_test(test_other_protocol_is_dropped_as_other_protocol),
        cmocka_unit_test(test_short_tcp_header_is_dropped_as_truncated_tcp),
        cmocka_unit_test(test_data_offset_below_five_is_dropped_as_bad_data_offset),
        cmocka_unit_test(test_data_offset_past_the_segment_is_dropped_as_bad_data_offset),
        cmocka_unit_test(test_option_length_zero_is_dropped_as_bad_option_length),
        cmocka_unit_test(test_option_length_one_is_dropped_as_bad_option_length),
        cmocka_unit_test(test_option_running_past_the_header_is_dropped_as_bad_option_length),
        cmocka_unit_test(test_rfc7323_ts_option_of_wrong_length_is_dropped_as_bad_option_length),
        cmocka_unit_test(test_wrong_tcp_checksum_is_dropped_as_bad_checksum),
        cmocka_unit_test(test_short_icmp_is_dropped_as_truncated_icmp),
        cmocka_unit_test(test_wrong_icmp_checksum_is_dropped_as_bad_icmp_checksum),
        cmocka_unit_test(test_icmp_echo_reply_is_dropped_as_not_echo),
        cmocka_unit_test(test_icmp_echo_request_is_answered),
        cmocka_unit_test(test_packet_for_another_address_is_dropped_as_not_for_us),
        cmocka_unit_test(test_every_truncation_and_bit_flip_is_survived),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
