/*
 * test_relseq.c — the one relative-sequence map (stack/relseq.h) that the
 * text trace, the scenario expectations and the player share: tcpdump's
 * rule for bases, new incarnations of a four-tuple, retransmissions by
 * sequence space, and what each kind of map remembers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "relseq.h"
#include "tcp.h"

#define A 0x0A070002u /* 10.7.0.2 */
#define B 0x0A070001u /* 10.7.0.1 */

static struct relseq_seg seg(struct relseq_map *m, uint32_t src, uint16_t sport, uint32_t dst,
                             uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, size_t len)
{
    struct wire_tcp t = {.sport = sport, .dport = dport, .seq = seq, .ack = ack, .flags = flags};
    t.payload_len = len;
    struct relseq_seg r;
    assert_true(relseq_observe(m, src, sport, dst, dport, &t, &r));
    return r;
}

static void test_relseq_numbers_a_handshake_from_each_sides_isn(void **state)
{
    struct relseq_map m;
    relseq_init(&m, false);
    struct relseq_seg r = seg(&m, A, 40000, B, 80, TCP_SYN, 1000, 0, 0);
    assert_int_equal(r.seq, 0);
    assert_false(r.ack_known);
    assert_true(r.seq_from_syn);
    r = seg(&m, B, 80, A, 40000, TCP_SYN | TCP_ACK, 0xFFFFFFF0u, 1001, 0);
    assert_int_equal(r.seq, 0);
    assert_int_equal(r.ack, 1);
    assert_true(r.ack_known && r.ack_from_syn);
    /* Data across the 2^32 wrap of B's numbers is still counted from B's ISN. */
    r = seg(&m, B, 80, A, 40000, TCP_PSH | TCP_ACK, 0xFFFFFFF1u, 1001, 0x20);
    assert_int_equal(r.seq, 1);
    const struct relseq_side *b = relseq_side(&m, B, 80, A, 40000);
    assert_non_null(b);
    assert_int_equal(b->next, 0xFFFFFFF1u + 0x20);
}

static void
test_relseq_a_connection_caught_in_the_middle_counts_from_its_first_segment(void **state)
{
    struct relseq_map m;
    relseq_init(&m, false);
    struct relseq_seg r = seg(&m, A, 40000, B, 80, TCP_ACK, 5000, 9000, 10);
    assert_int_equal(r.seq, 0);
    assert_false(r.seq_from_syn);
    assert_int_equal(r.ack, 9000); /* B not seen yet: absolute */
    r = seg(&m, B, 80, A, 40000, TCP_ACK, 9000, 5010, 0);
    assert_int_equal(r.ack, 10);
    assert_false(r.ack_from_syn);
}

static void test_relseq_a_new_syn_on_the_same_ports_is_a_new_incarnation(void **state)
{
    struct relseq_map m;
    relseq_init(&m, false);
    seg(&m, A, 40000, B, 80, TCP_SYN, 1000, 0, 0);
    seg(&m, B, 80, A, 40000, TCP_SYN | TCP_ACK, 7000, 1001, 0);
    /* The SYN again (retransmitted): same base, and it repeats sequence space. */
    assert_true(seg(&m, A, 40000, B, 80, TCP_SYN, 1000, 0, 0).repeats);
    /* A bare SYN with a new ISN: A from 0 again, B forgotten until it answers. */
    struct relseq_seg r = seg(&m, A, 40000, B, 80, TCP_SYN, 50000, 0, 0);
    assert_int_equal(r.seq, 0);
    assert_false(r.repeats);
    assert_null(relseq_side(&m, B, 80, A, 40000));
    r = seg(&m, B, 80, A, 40000, TCP_SYN | TCP_ACK, 123456, 50001, 0);
    assert_int_equal(r.seq, 0);
    assert_int_equal(r.ack, 1);
}

static void test_relseq_data_below_what_was_sent_repeats(void **state)
{
    struct relseq_map m;
    relseq_init(&m, false);
    seg(&m, A, 40000, B, 80, TCP_SYN, 100, 0, 0);
    assert_false(seg(&m, A, 40000, B, 80, TCP_ACK | TCP_PSH, 101, 0, 5).repeats);
    assert_false(seg(&m, A, 40000, B, 80, TCP_ACK | TCP_PSH, 106, 0, 5).repeats);
    assert_true(seg(&m, A, 40000, B, 80, TCP_ACK | TCP_PSH, 101, 0, 5).repeats);
    assert_false(seg(&m, A, 40000, B, 80, TCP_ACK, 111, 0, 0).repeats); /* a pure ACK never */
}

static void test_relseq_fixed_map_forgets_the_oldest_growing_map_keeps_all(void **state)
{
    struct relseq_map fixed, grow;
    relseq_init(&fixed, false);
    relseq_init(&grow, true);
    for (uint16_t i = 0; i <= RELSEQ_FIXED; i++) {
        seg(&fixed, A, (uint16_t)(40000 + i), B, 80, TCP_SYN, 1000u + i, 0, 0);
        seg(&grow, A, (uint16_t)(40000 + i), B, 80, TCP_SYN, 1000u + i, 0, 0);
    }
    assert_null(relseq_side(&fixed, A, 40000, B, 80));
    assert_non_null(relseq_side(&fixed, A, (uint16_t)(40000 + RELSEQ_FIXED), B, 80));
    assert_non_null(relseq_side(&grow, A, 40000, B, 80));
    relseq_reset(&grow);
    assert_null(relseq_side(&grow, A, (uint16_t)(40000 + RELSEQ_FIXED), B, 80));
    relseq_free(&grow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relseq_numbers_a_handshake_from_each_sides_isn),
        cmocka_unit_test(
            test_relseq_a_connection_caught_in_the_middle_counts_from_its_first_segment),
        cmocka_unit_test(test_relseq_a_new_syn_on_the_same_ports_is_a_new_incarnation),
        cmocka_unit_test(test_relseq_data_below_what_was_sent_repeats),
        cmocka_unit_test(test_relseq_fixed_map_forgets_the_oldest_growing_map_keeps_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
