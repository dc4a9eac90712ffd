/*
 * test_seq.c — wrap-safe sequence number comparisons (RFC 9293 §3.4),
 * checked where a raw `<` would go wrong: across the 2^32 wrap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "seq.h"

static void test_seq_compares_normally_far_from_the_wrap(void **state)
{
    assert_true(seq_lt(1000, 2000));
    assert_false(seq_lt(2000, 1000));
    assert_false(seq_lt(1000, 1000));
    assert_true(seq_leq(1000, 1000));
    assert_true(seq_gt(2000, 1000));
    assert_false(seq_gt(1000, 1000));
    assert_true(seq_geq(1000, 1000));
    assert_false(seq_geq(999, 1000));
}

static void test_seq_just_before_the_wrap_is_less_than_just_after(void **state)
{
    /* 0xFFFFFFF0 + 0x20 = 0x10 (mod 2^32): 0x10 comes after. */
    assert_true(seq_lt(0xFFFFFFF0u, 0x10));
    assert_true(seq_leq(0xFFFFFFF0u, 0x10));
    assert_false(seq_gt(0xFFFFFFF0u, 0x10));
    assert_false(seq_geq(0xFFFFFFF0u, 0x10));
    assert_true(seq_gt(0x10, 0xFFFFFFF0u));
    assert_true(seq_geq(0x10, 0xFFFFFFF0u));
    assert_false(seq_lt(0x10, 0xFFFFFFF0u));
    /* A raw comparison gets it backwards; that is why the helpers exist. */
    assert_true(0xFFFFFFF0u > 0x10u);
}

static void test_seq_max_value_is_followed_by_zero(void **state)
{
    assert_true(seq_lt(0xFFFFFFFFu, 0));
    assert_true(seq_gt(0, 0xFFFFFFFFu));
    assert_true(seq_lt(0x7FFFFFFFu, 0x80000000u));
    assert_true(seq_gt(0x80000000u, 0x7FFFFFFFu));
}

static void test_seq_numbers_almost_half_the_space_apart_compare_by_distance(void **state)
{
    /* Up to 2^31 - 1 apart the answer follows the shorter way round. */
    assert_true(seq_lt(0, 0x7FFFFFFFu));
    assert_true(seq_gt(0, 0x80000001u)); /* 0x80000001 is 2^31 - 1 behind 0 */
    assert_true(seq_lt(0xFFFFFFF0u, 0xFFFFFFF0u + 0x7FFFFFFFu));
}

static void test_seq_in_range_across_the_wrap(void **state)
{
    /* Window [0xFFFFFFF0, 0x10): 16 numbers before the wrap, 16 after. */
    const uint32_t lo = 0xFFFFFFF0u, hi = 0x10;
    assert_true(seq_in_range(0xFFFFFFF0u, lo, hi));
    assert_true(seq_in_range(0xFFFFFFFFu, lo, hi));
    assert_true(seq_in_range(0, lo, hi));
    assert_true(seq_in_range(0x0F, lo, hi));
    assert_false(seq_in_range(0x10, lo, hi)); /* hi is excluded */
    assert_false(seq_in_range(0xFFFFFFEFu, lo, hi));
    assert_false(seq_in_range(0x1000, lo, hi));
}

static void test_seq_in_range_empty_window_holds_nothing(void **state)
{
    assert_false(seq_in_range(5, 5, 5));
    assert_false(seq_in_range(0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu));
}

static void test_seq_in_range_agrees_with_offsets_for_every_position_near_the_wrap(void **state)
{
    /* x is in [lo, lo + n) exactly when (x - lo) mod 2^32 < n. */
    for (uint32_t i = 0; i < 32; i++) {
        uint32_t base = 0xFFFFFF00u + i * 0x11; /* 256 before the wrap .. 271 after */
        for (uint32_t n = 0; n < 64; n += 7) {
            for (int32_t d = -70; d < 70; d++) {
                uint32_t x = base + (uint32_t)d;
                bool want = (uint32_t)(x - base) < n;
                assert_int_equal(seq_in_range(x, base, base + n), want);
            }
        }
    }
}

static void test_seq_max_and_min_pick_the_later_and_earlier(void **state)
{
    assert_int_equal(seq_max(0xFFFFFFF0u, 0x10), 0x10);
    assert_int_equal(seq_min(0xFFFFFFF0u, 0x10), 0xFFFFFFF0u);
    assert_int_equal(seq_max(3, 7), 7);
    assert_int_equal(seq_min(3, 7), 3);
    assert_int_equal(seq_max(9, 9), 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_compares_normally_far_from_the_wrap),
        cmocka_unit_test(test_seq_just_before_the_wrap_is_less_than_just_after),
        cmocka_unit_test(test_seq_max_value_is_followed_by_zero),
        cmocka_unit_test(test_seq_numbers_almost_half_the_space_apart_compare_by_distance),
        cmocka_unit_test(test_seq_in_range_across_the_wrap),
        cmocka_unit_test(test_seq_in_range_empty_window_holds_nothing),
        cmocka_unit_test(test_seq_in_range_agrees_with_offsets_for_every_position_near_the_wrap),
        cmocka_unit_test(test_seq_max_and_min_pick_the_later_and_earlier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
