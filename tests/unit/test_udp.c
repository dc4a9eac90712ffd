/*
 * test_udp.c — UDP beside TCP (stack/udp.h, RFC 768): datagrams keep their
 * boundaries, nothing is ever sent twice, the checksum is checked (0 means
 * none), a datagram for an unbound port or a full queue is dropped with a
 * named reason, and UDP and TCP descriptors come from one space.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp.h"
#include "udp.h"
#include "wire.h"

#define A_CLIENT 0x0a070002u
#define A_SERVER 0x0a070001u

/* One stack whose output is kept, packet by packet; events are counted. */
struct box {
    struct stack *s;
    uint8_t pkt[8][2048];
    size_t len[8];
    unsigned npkts;
    unsigned dgrams_in, dgrams_out;
    int last_drop;
};

static void box_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct box *b = ctx;
    if (b->npkts < 8 && len <= sizeof b->pkt[0]) {
        memcpy(b->pkt[b->npkts], pkt, len);
        b->len[b->npkts++] = len;
    }
}

static void box_event(void *ctx, const struct tev *ev)
{
    struct box *b = ctx;
    if (ev->kind == TEV_DATAGRAM && ev->u.dgram.dir == TEV_IN)
        b->dgrams_in++;
    else if (ev->kind == TEV_DATAGRAM)
        b->dgrams_out++;
    if (ev->kind == TEV_DROP)
        b->last_drop = ev->u.drop.reason;
}

static void box_init(struct box *b, uint32_t addr)
{
    memset(b, 0, sizeof *b);
    struct stack_config cfg;
    stack_config_defaults(&cfg);
    cfg.addr = addr;
    cfg.output = box_output;
    cfg.output_ctx = b;
    cfg.on_event = box_event;
    cfg.event_ctx = b;
    b->s = stack_new(&cfg);
    assert_non_null(b->s);
}

/* Hand box a's packets to box b. */
static void deliver(struct box *a, struct box *b)
{
    for (unsigned i = 0; i < a->npkts; i++)
        stack_input(b->s, 0, a->pkt[i], a->len[i]);
    a->npkts = 0;
}

static void test_rfc768_datagrams_keep_their_boundaries(void **state)
{
    (void)state;
    struct box c, s;
    box_init(&c, A_CLIENT);
    box_init(&s, A_SERVER);
    int su = udp_socket(s.s, 0), cu = udp_socket(c.s, 0);
    assert_int_equal(udp_bind(s.s, 0, su, 8024), 0);
    assert_int_equal(udp_sendto(c.s, 0, cu, A_SERVER, 8024, "one", 3), 3);
    assert_int_equal(udp_sendto(c.s, 0, cu, A_SERVER, 8024, "two", 3), 3);
    assert_int_equal(c.npkts, 2); /* one datagram per call */
    assert_false(udp_poll(s.s, su) & TCP_POLLIN);
    deliver(&c, &s);
    assert_int_equal(s.dgrams_in, 2);
    assert_true(udp_poll(s.s, su) & TCP_POLLIN);
    char buf[64];
    uint32_t from;
    uint16_t port;
    assert_int_equal(udp_recvfrom(s.s, 0, su, buf, sizeof buf, &from, &port), 3);
    assert_memory_equal(buf, "one", 3);
    assert_int_equal(from, A_CLIENT);
    assert_in_range(port, 40000, 60999); /* an ephemeral port, given at the first sendto */
    assert_int_equal(udp_recvfrom(s.s, 0, su, buf, sizeof buf, NULL, NULL), 3);
    assert_memory_equal(buf, "two", 3);
    assert_int_equal(udp_recvfrom(s.s, 0, su, buf, sizeof buf, NULL, NULL), -EAGAIN);
    /* Nothing waits for an acknowledgement: no timer, nothing sent again. */
    assert_true(stack_next_deadline(c.s) == TCP_TIME_NEVER);
    stack_tick(c.s, 60000000);
    assert_int_equal(c.npkts, 0);
    stack_free(c.s);
    stack_free(s.s);
}

static void test_rfc768_recvfrom_cuts_a_long_datagram(void **state)
{
    (void)state;
    struct box c, s;
    box_init(&c, A_CLIENT);
    box_init(&s, A_SERVER);
    int su = udp_socket(s.s, 0), cu = udp_socket(c.s, 0);
    udp_bind(s.s, 0, su, 7);
    udp_sendto(c.s, 0, cu, A_SERVER, 7, "abcdef", 6);
    deliver(&c, &s);
    char buf[4];
    assert_int_equal(udp_recvfrom(s.s, 0, su, buf, 4, NULL, NULL), 4);
    assert_memory_equal(buf, "abcd", 4);
    assert_int_equal(udp_recvfrom(s.s, 0, su, buf, 4, NULL, NULL), -EAGAIN); /* the rest is gone */
    stack_free(c.s);
    stack_free(s.s);
}

static void test_rfc768_bad_checksum_dropped_zero_checksum_accepted(void **state)
{
    (void)state;
    struct box s;
    box_init(&s, A_SERVER);
    int su = udp_socket(s.s, 0);
    udp_bind(s.s, 0, su, 8024);
    uint8_t pkt[64];
    size_t n = wire_udp_build(pkt, sizeof pkt, A_CLIENT, A_SERVER, 1, 40000, 8024,
                              (const uint8_t *)"hi", 2);
    assert_int_equal(n, 20 + 8 + 2);
    pkt[20 + 8] ^= 1; /* a flipped bit in the data */
    stack_input(s.s, 0, pkt, n);
    assert_int_equal(s.last_drop, WIRE_ERR_BAD_UDP_CHECKSUM);
    pkt[20 + 6] = pkt[20 + 7] = 0; /* "no checksum" */
    stack_input(s.s, 0, pkt, n);
    assert_int_equal(s.dgrams_in, 1);
    stack_free(s.s);
}

static void test_udp_unbound_port_and_full_queue_are_named_drops(void **state)
{
    (void)state;
    struct box s;
    box_init(&s, A_SERVER);
    uint8_t pkt[64];
    size_t n = wire_udp_build(pkt, sizeof pkt, A_CLIENT, A_SERVER, 1, 40000, 9, NULL, 0);
    stack_input(s.s, 0, pkt, n);
    assert_int_equal(s.last_drop, TCP_DROP_UDP_NO_PORT);
    int su = udp_socket(s.s, 0);
    udp_bind(s.s, 0, su, 9);
    for (int i = 0; i < UDP_QUEUE_MAX; i++)
        stack_input(s.s, 0, pkt, n);
    assert_int_equal(s.dgrams_in, UDP_QUEUE_MAX);
    stack_input(s.s, 0, pkt, n);
    assert_int_equal(s.last_drop, TCP_DROP_UDP_QUEUE_FULL);
    /* truncated: the length field says more than the packet holds */
    pkt[20 + 5] = 40;
    stack_input(s.s, 0, pkt, n);
    assert_int_equal(s.last_drop, WIRE_ERR_TRUNCATED_UDP);
    stack_free(s.s);
}

static void test_udp_and_tcp_descriptors_share_one_space(void **state)
{
    (void)state;
    struct box s;
    box_init(&s, A_SERVER);
    int u = udp_socket(s.s, 0);
    int t = tcp_socket(s.s, 0);
    assert_int_equal(u, 3);
    assert_int_equal(t, 4);
    assert_true(udp_is_socket(s.s, u));
    assert_false(udp_is_socket(s.s, t));
    assert_int_equal(udp_bind(s.s, 0, u, 8024), 0);
    assert_int_equal(tcp_bind(s.s, 0, t, 8024), 0); /* UDP's ports are not TCP's */
    int u2 = udp_socket(s.s, 0);
    assert_int_equal(udp_bind(s.s, 0, u2, 8024), -EADDRINUSE);
    assert_int_equal(udp_close(s.s, 0, u), 0);
    assert_int_equal(tcp_socket(s.s, 0), 3); /* the freed number is reused */
    assert_int_equal(udp_sendto(s.s, 0, t, A_CLIENT, 7, "x", 1), -EBADF);
    stack_free(s.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc768_datagrams_keep_their_boundaries),
        cmocka_unit_test(test_rfc768_recvfrom_cuts_a_long_datagram),
        cmocka_unit_test(test_rfc768_bad_checksum_dropped_zero_checksum_accepted),
        cmocka_unit_test(test_udp_unbound_port_and_full_queue_are_named_drops),
        cmocka_unit_test(test_udp_and_tcp_descriptors_share_one_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
