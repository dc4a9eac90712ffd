/*
 * test_ui_udp_details.c — segment details (key d) of a UDP datagram (lesson
 * 24): RFC 768's four fields with their offsets and bytes — ports, length
 * (header + data), checksum checked over the pseudo-header, "none" for 0 —
 * and the IPv4 total length and protocol naming UDP, not TCP. The values
 * expected are wire's own parse of the same bytes (stack/wire.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_ui_fixture.h"

#define UPORT_C 40024
#define UPORT_S 8024

/* A datagram client -> server as wire_udp_build makes it; `patch` changes
 * the packet after the build: 0 none, 1 checksum 0 ("none sent"), 2 one
 * data byte changed (the checksum no longer matches). */
static void dgram(struct fx *f, const char *text, int patch)
{
    uint8_t buf[256];
    size_t n = wire_udp_build(buf, sizeof buf, FX_CLIENT_ADDR, FX_SERVER_ADDR, 7, UPORT_C, UPORT_S,
                              (const uint8_t *)text, strlen(text));
    assert_true(n == 28 + strlen(text));
    if (patch == 1)
        buf[26] = buf[27] = 0;
    else if (patch == 2)
        buf[28] ^= 0x20;
    struct wire_ipv4 ip;
    struct wire_udp u;
    memset(&u, 0, sizeof u);
    assert_int_equal(wire_ipv4_parse(buf, n, &ip), 0);
    int rc = wire_udp_parse(&ip, &u);
    assert_int_equal(rc == 0, patch != 2); /* wire, too, refuses the changed one */
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_DATAGRAM;
    ev.host = C_;
    ev.tuple = (struct tcp_tuple){FX_CLIENT_ADDR, FX_SERVER_ADDR, UPORT_C, UPORT_S};
    ev.u.dgram.dir = TEV_OUT;
    ev.u.dgram.udp = u;
    ev.u.dgram.src = FX_CLIENT_ADDR;
    ev.u.dgram.dst = FX_SERVER_ADDR;
    ev.u.dgram.raw = buf;
    ev.u.dgram.raw_len = n;
    fx_push(f, &ev);
}

static void run_make(struct fx_run *r)
{
    memset(r, 0, sizeof *r);
    dgram(&r->f, "time?\n", 0);
    dgram(&r->f, "one", 1);
    dgram(&r->f, "two", 2);
    fx_run_model(r, 100, 60);
}

/* The details of the n-th datagram, as in a 100-column terminal. */
static void details_of(struct fx_run *r, size_t n)
{
    assert_true(r->m.rows[fx_arrow_row(&r->m, n)].arrow.udp);
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    fx_details(r, n, &o, 98);
}

static void test_rfc768_datagram_shows_udp_fields_not_tcp(void **state)
{
    (void)state;
    struct fx_run r;
    run_make(&r);
    details_of(&r, 0);
    const struct wire_udp *u = &r.f.tl.events[0]->u.dgram.udp;
    char want[96];
    FX_SHOWS(&r, "UDP header, 8 bytes (RFC 768)");
    snprintf(want, sizeof want, "+0   source port    %-14u %02x %02x", u->sport, u->sport >> 8,
             u->sport & 0xff);
    FX_SHOWS(&r, want);
    snprintf(want, sizeof want, "+2   dest port      %-14u %02x %02x", u->dport, u->dport >> 8,
             u->dport & 0xff);
    FX_SHOWS(&r, want);
    snprintf(want, sizeof want, "+4   length         %u bytes", u->len);
    FX_SHOWS(&r, want);
    snprintf(want, sizeof want, "UDP header (8) + data (%zu)", u->payload_len);
    FX_SHOWS(&r, want);
    snprintf(want, sizeof want, "+6   checksum       0x%04x", u->checksum);
    FX_SHOWS(&r, want);
    FX_SHOWS(&r, "pseudo-header, header and data: correct");
    FX_SHOWS(&r, "data: 6 bytes \"time?.\"");
    FX_SHOWS(&r, "bytes: IP header + UDP header + data");
    FX_SHOWS(&r, "17 (UDP)");
    FX_NOT_SHOWN(&r, "TCP header");
    FX_NOT_SHOWN(&r, "IP header + TCP header");
    fx_run_free(&r);
}

static void test_rfc768_zero_checksum_is_none_and_a_wrong_one_is_named(void **state)
{
    (void)state;
    struct fx_run r;
    run_make(&r);
    details_of(&r, 1);
    FX_SHOWS(&r, "+6   checksum       0x0000");
    FX_SHOWS(&r, "0: none sent (optional over IPv4)");
    FX_NOT_SHOWN(&r, ": correct");
    details_of(&r, 2);
    FX_SHOWS(&r, "pseudo-header, header and data: WRONG");
    FX_SHOWS(&r, "data: 3 bytes \"Two\"");
    fx_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc768_datagram_shows_udp_fields_not_tcp),
        cmocka_unit_test(test_rfc768_zero_checksum_is_none_and_a_wrong_one_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
