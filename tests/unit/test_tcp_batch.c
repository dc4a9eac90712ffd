/*
 * test_tcp_batch.c — ACKs in a batch (stack_batch_begin/stack_batch_end, as
 * the TUN loop drains its device): the ACK a segment leaves owed waits until
 * the same connection's next segment or the batch's end, so reply data or a
 * FIN can carry it, and as many ACKs go as without a batch — RFC 1122
 * §4.2.3.2's one per two full-sized segments, and RFC 5681 §4.2's duplicate
 * ACK for every out-of-order segment.
 */
#include "tcptest.h"

static struct tt *established_with_delayed_ack(void)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.delayed_ack = true;
    return tt_established(&cfg);
}

/* The application answers within the batch: its data carries the ACK, and
 * no bare ACK goes before it. */
static void test_rfc1122_batched_ack_rides_on_the_reply(void **state)
{
    struct tt *t = tt_established(NULL); /* ACKs at once, outside a batch */
    stack_batch_begin(t->s);
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect_nothing(t); /* held */
    assert_int_equal(tcp_send(t->s, t->now, t->sd, "reply", 5), 5);
    tt_expect(t, TCP_ACK, 1, 101, 5);
    stack_batch_end(t->s, t->now);
    tt_expect_nothing(t);
    tt_free(t);
}

/* Nobody answers: the held ACK goes at the batch's end. */
static void test_batched_ack_goes_at_the_end_of_the_batch(void **state)
{
    struct tt *t = tt_established(NULL);
    stack_batch_begin(t->s);
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect_nothing(t);
    stack_batch_end(t->s, t->now);
    tt_expect(t, TCP_ACK, 1, 101, 0);
    tt_expect_nothing(t);
    tt_free(t);
}

/* RFC 1122 §4.2.3.2: four full segments in one batch still get two ACKs,
 * each acknowledging what the one-by-one stack would have: the second
 * segment's ACK goes when the third arrives, the fourth's at the end. */
static void test_rfc1122_batch_keeps_an_ack_per_two_full_segments(void **state)
{
    struct tt *t = established_with_delayed_ack();
    stack_batch_begin(t->s);
    for (uint32_t i = 0; i < 4; i++)
        tt_in_data(t, 1 + i * 1460, 1, NULL, 1460);
    tt_expect(t, TCP_ACK, 1, 2921, 0);
    tt_expect_nothing(t);
    stack_batch_end(t->s, t->now);
    tt_expect(t, TCP_ACK, 1, 5841, 0);
    tt_expect_nothing(t);
    tt_free(t);
}

static struct tt *established_with_batch_ack_max(uint32_t max)
{
    struct stack_config cfg;
    tt_config(&cfg);
    cfg.delayed_ack = true;
    cfg.batch_ack_max = max;
    return tt_established(&cfg);
}

/* cfg.batch_ack_max (the TUN loop's 64 KB): a burst of in-order segments
 * drained in one batch gets one ACK, at the batch's end, as a Linux
 * receiver gets one per GRO super-packet. */
static void test_batch_ack_max_one_ack_for_a_burst(void **state)
{
    struct tt *t = established_with_batch_ack_max(65536);
    stack_batch_begin(t->s);
    for (uint32_t i = 0; i < 4; i++)
        tt_in_data(t, 1 + i * 1460, 1, NULL, 1460);
    tt_expect_nothing(t);
    stack_batch_end(t->s, t->now);
    tt_expect(t, TCP_ACK, 1, 5841, 0);
    tt_expect_nothing(t);
    tt_free(t);
}

/* The held ACK goes before the segment that would leave more than
 * cfg.batch_ack_max bytes unacknowledged. */
static void test_batch_ack_max_bounds_the_bytes_left_unacknowledged(void **state)
{
    struct tt *t = established_with_batch_ack_max(4 * 1460);
    stack_batch_begin(t->s);
    for (uint32_t i = 0; i < 4; i++)
        tt_in_data(t, 1 + i * 1460, 1, NULL, 1460);
    tt_expect_nothing(t);
    tt_in_data(t, 1 + 4 * 1460, 1, NULL, 1460);
    tt_expect(t, TCP_ACK, 1, 5841, 0);
    tt_in_data(t, 1 + 5 * 1460, 1, NULL, 1460);
    tt_expect_nothing(t);
    stack_batch_end(t->s, t->now);
    tt_expect(t, TCP_ACK, 1, 8761, 0);
    tt_expect_nothing(t);
    tt_free(t);
}

/* RFC 5681 §4.2 with cfg.batch_ack_max: a segment beyond a gap is not in
 * order, so the held ACK goes before it and its duplicate ACK as before. */
static void test_batch_ack_max_still_acks_before_a_gap(void **state)
{
    struct tt *t = established_with_batch_ack_max(65536);
    stack_batch_begin(t->s);
    tt_in_data(t, 1, 1, NULL, 1460);
    tt_in_data(t, 1 + 1460, 1, NULL, 1460);
    tt_expect_nothing(t);
    tt_in_data(t, 1 + 3 * 1460, 1, NULL, 1460); /* the third segment is missing */
    tt_expect(t, TCP_ACK, 1, 2921, 0);
    tt_in_data(t, 1 + 4 * 1460, 1, NULL, 1460);
    tt_expect(t, TCP_ACK, 1, 2921, 0);
    stack_batch_end(t->s, t->now);
    tt_expect(t, TCP_ACK, 1, 2921, 0);
    tt_expect_nothing(t);
    tt_free(t);
}

/* RFC 5681 §4.2: every out-of-order segment gets its duplicate ACK, in a
 * batch too (the sender counts them for fast retransmit). */
static void test_rfc5681_batch_sends_every_duplicate_ack(void **state)
{
    struct tt *t = established_with_delayed_ack();
    stack_batch_begin(t->s);
    for (uint32_t i = 1; i <= 3; i++)
        tt_in_data(t, 1 + i * 1460, 1, NULL, 1460); /* the first segment is missing */
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_expect_nothing(t);
    stack_batch_end(t->s, t->now);
    tt_expect(t, TCP_ACK, 1, 1, 0);
    tt_expect_nothing(t);
    tt_free(t);
}

/* The peer's FIN and the application's close in the same batch: one
 * FIN,ACK instead of an ACK and then a FIN. */
static void test_batched_ack_of_fin_rides_on_our_fin(void **state)
{
    struct tt *t = tt_established(NULL);
    stack_batch_begin(t->s);
    tt_in(t, TCP_FIN | TCP_ACK, 1, 1, NULL);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_CLOSE_WAIT);
    assert_int_equal(tcp_close(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect(t, TCP_FIN | TCP_ACK, 1, 2, 0);
    stack_batch_end(t->s, t->now);
    tt_expect_nothing(t);
    tt_assert_state(t, TCP_LAST_ACK);
    tt_free(t);
}

/* A connection reset while its ACK is held: nothing is sent for it at the
 * batch's end, and nothing is read from the freed block (ASan). */
static void test_held_ack_of_a_connection_that_is_gone_is_dropped(void **state)
{
    struct tt *t = tt_established(NULL);
    stack_batch_begin(t->s);
    tt_in_data(t, 1, 1, NULL, 100);
    tt_expect_nothing(t);
    assert_int_equal(tcp_abort(t->s, t->now, t->sd), 0);
    t->sd = -1;
    tt_expect_rst(t, 1);
    stack_batch_end(t->s, t->now);
    tt_expect_nothing(t);
    tt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1122_batched_ack_rides_on_the_reply),
        cmocka_unit_test(test_batched_ack_goes_at_the_end_of_the_batch),
        cmocka_unit_test(test_rfc1122_batch_keeps_an_ack_per_two_full_segments),
        cmocka_unit_test(test_batch_ack_max_one_ack_for_a_burst),
        cmocka_unit_test(test_batch_ack_max_bounds_the_bytes_left_unacknowledged),
        cmocka_unit_test(test_batch_ack_max_still_acks_before_a_gap),
        cmocka_unit_test(test_rfc5681_batch_sends_every_duplicate_ack),
        cmocka_unit_test(test_batched_ack_of_fin_rides_on_our_fin),
        cmocka_unit_test(test_held_ack_of_a_connection_that_is_gone_is_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
