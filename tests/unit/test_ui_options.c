/*
 * test_ui_options.c — segment details (key d) decode every TCP option:
 * MSS, window scale, SACK-permitted, timestamps (TSval/TSecr), SACK blocks
 * with absolute and relative edges and D-SACK marked (RFC 2883: the first
 * block below the ack, or inside the second), NOP padding, an option kind
 * tcplab does not know, and a malformed length — each with its offset and
 * its bytes as on the wire. The values shown are checked against wire's own
 * parser of the same bytes (stack/wire.c), so the view and the engine agree.
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

/* A segment with the given options, built by wire_tcp_build; `patch`
 * (when not NULL) overwrites option bytes from offset 20 of the TCP header
 * and the checksum is redone, for what the builder will not emit. */
static void seg(struct fx *f, const char *from, uint8_t flags, uint32_t seq, uint32_t ack,
                const struct wire_tcp_opts *o, size_t dlen, const uint8_t *patch, size_t plen)
{
    bool client = !strcmp(from, "client");
    struct wire_tcp t = fx_tcp_header(from, flags, seq, ack, 65535);
    if (o)
        t.opts = *o;
    static uint8_t data[1460];
    uint8_t buf[1600];
    uint32_t src = client ? FX_CLIENT_ADDR : FX_SERVER_ADDR;
    uint32_t dst = client ? FX_SERVER_ADDR : FX_CLIENT_ADDR;
    size_t n = wire_tcp_build(buf, sizeof buf, src, dst, 1, &t, data, dlen);
    assert_true(n > 0);
    if (patch) {
        uint8_t *tcp = buf + 20;
        memcpy(tcp + 20, patch, plen);
        tcp[16] = tcp[17] = 0;
        uint8_t pseudo[12] = {(uint8_t)(src >> 24),
                              (uint8_t)(src >> 16),
                              (uint8_t)(src >> 8),
                              (uint8_t)src,
                              (uint8_t)(dst >> 24),
                              (uint8_t)(dst >> 16),
                              (uint8_t)(dst >> 8),
                              (uint8_t)dst,
                              0,
                              6,
                              (uint8_t)((n - 20) >> 8),
                              (uint8_t)(n - 20)};
        uint16_t c = wire_sum_fold(wire_sum(tcp, n - 20, wire_sum(pseudo, 12, 0)));
        tcp[16] = (uint8_t)(c >> 8);
        tcp[17] = (uint8_t)c;
    }
    struct wire_ipv4 ip;
    struct wire_tcp parsed;
    memset(&parsed, 0, sizeof parsed);
    assert_int_equal(wire_ipv4_parse(buf, n, &ip), 0);
    int rc = wire_tcp_parse(&ip, &parsed);
    if (rc != 0) /* a malformed option: recorded as it came, header fields only */
        parsed = t;
    struct tev ev;
    fx_seg_event(&ev, from, &parsed, buf, n);
    fx_push(f, &ev);
}

/* The handshake with every option, data, a SACK with a D-SACK first block,
 * an unknown option and a malformed one. */
static void opts_run(struct fx_run *r)
{
    memset(r, 0, sizeof *r);
    struct wire_tcp_opts syn = {.has_mss = true,
                                .mss = 1460,
                                .has_wscale = true,
                                .wscale = 7,
                                .sack_permitted = true,
                                .has_ts = true,
                                .ts_val = 100};
    seg(&r->f, "client", TCP_SYN, FX_ISN_C, 0, &syn, 0, NULL, 0);
    struct wire_tcp_opts synack = syn;
    synack.ts_val = 5000;
    synack.ts_ecr = 100;
    seg(&r->f, "server", TCP_SYN | TCP_ACK, FX_ISN_S, FX_ISN_C + 1, &synack, 0, NULL, 0);
    struct wire_tcp_opts ts = {.has_ts = true, .ts_val = 101, .ts_ecr = 5000};
    seg(&r->f, "client", TCP_ACK, FX_ISN_C + 1, FX_ISN_S + 1, &ts, 1460, NULL, 0);
    /* The server holds 2921-4381 and got 1-1461 twice: D-SACK first. */
    struct wire_tcp_opts sack = {.has_ts = true, .ts_val = 5001, .ts_ecr = 101, .n_sack = 2};
    sack.sack[0] = (struct wire_sack_block){FX_ISN_C + 1, FX_ISN_C + 1461};
    sack.sack[1] = (struct wire_sack_block){FX_ISN_C + 2921, FX_ISN_C + 4381};
    seg(&r->f, "server", TCP_ACK, FX_ISN_S + 1, FX_ISN_C + 1461, &sack, 0, NULL, 0);
    /* NOP NOP before the timestamps become kind 30, length 2. */
    static const uint8_t unknown[] = {30, 2};
    seg(&r->f, "client", TCP_ACK, FX_ISN_C + 1461, FX_ISN_S + 1, &ts, 0, unknown, 2);
    /* A timestamp option of length 12: runs past the 12 option bytes. */
    static const uint8_t bad[] = {1, 1, 8, 12};
    seg(&r->f, "client", TCP_ACK, FX_ISN_C + 1461, FX_ISN_S + 1, &ts, 0, bad, 4);
    /* Above the ack, but inside the second block: a D-SACK too. */
    sack.sack[0] = (struct wire_sack_block){FX_ISN_C + 2921, FX_ISN_C + 4381};
    sack.sack[1] = (struct wire_sack_block){FX_ISN_C + 2921, FX_ISN_C + 5841};
    seg(&r->f, "server", TCP_ACK, FX_ISN_S + 1, FX_ISN_C + 1461, &sack, 0, NULL, 0);
    fx_run_model(r, 100, 60);
}

/* The details of the n-th segment (0-based), relative or absolute. */
static void details_at(struct fx_run *r, size_t n, bool absolute, int w)
{
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    o.absolute = absolute;
    fx_details(r, n, &o, w);
}

/* As in a 100-column terminal (the details panel is 98 wide). */
static void details_of(struct fx_run *r, size_t n, bool absolute)
{
    details_at(r, n, absolute, 98);
}

static void test_syn_options_each_with_offset_bytes_and_meaning(void **state)
{
    (void)state;
    struct fx_run r;
    opts_run(&r);
    details_of(&r, 0, false);
    FX_SHOWS(&r, "options, 20 bytes");
    FX_SHOWS(&r, "+20  MSS");
    FX_SHOWS(&r, "02 04 05 b4");
    FX_SHOWS(&r, "window scale   7 (x128)");
    FX_SHOWS(&r, "03 03 07");
    FX_SHOWS(&r, "SACK permitted");
    FX_SHOWS(&r, "04 02");
    FX_SHOWS(&r, "TSval 100");
    FX_SHOWS(&r, "TSecr 0");
    FX_SHOWS(&r, "ignored: ACK not set"); /* a SYN's TSecr means nothing */
    FX_SHOWS(&r, "08 0a 00 00 00 64 00 00 00 00");
    FX_SHOWS(&r, "NOP");
    details_of(&r, 1, false);
    FX_SHOWS(&r, "TSval 5000");
    FX_SHOWS(&r, "TSecr 100");
    FX_SHOWS(&r, "echo of the last TSval received");
    fx_run_free(&r);
}

static void test_rfc2883_dsack_block_below_the_ack_is_marked_with_both_edges(void **state)
{
    (void)state;
    struct fx_run r;
    opts_run(&r);
    /* What wire's parser reads from the same bytes is what is shown. */
    const struct tev *e = r.f.tl.events[3];
    assert_int_equal(e->u.seg.tcp.opts.n_sack, 2);
    details_of(&r, 3, false);
    FX_SHOWS(&r, "SACK           2 blocks");
    char want[160];
    for (int w = 98; w >= 78; w -= 20) { /* all of it at 80 columns too */
        details_at(&r, 3, false, w);
        FX_SHOWS(&r, "block 1: 1-1461, 1460 bytes  D-SACK: below the ack");
        snprintf(want, sizeof want, "absolute %u-%u", e->u.seg.tcp.opts.sack[0].left,
                 e->u.seg.tcp.opts.sack[0].right);
        FX_SHOWS(&r, want);
        FX_SHOWS(&r, "block 2: 2921-4381, 1460 bytes");
        snprintf(want, sizeof want, "absolute %u-%u", e->u.seg.tcp.opts.sack[1].left,
                 e->u.seg.tcp.opts.sack[1].right);
        FX_SHOWS(&r, want);
        assert_false(screen_contains(r.s, "block 2: 2921-4381, 1460 bytes  D-SACK"));
    }
    details_of(&r, 3, true); /* a: absolute edges only */
    snprintf(want, sizeof want, "block 2: %u-%u, 1460 bytes", FX_ISN_C + 2921, FX_ISN_C + 4381);
    FX_SHOWS(&r, want);
    assert_false(screen_contains(r.s, "block 2: 2921-4381"));
    /* The ladder's label numbers the blocks like the text trace. */
    size_t row = fx_arrow_row(&r.m, 3);
    char label[200];
    ui_segment_label(&r.m, &r.m.rows[row].arrow, false, label, sizeof label);
    assert_string_equal(label, "ACK seq=1 ack=1461 <TS,sack 2 {1:1461}{2921:4381}>");
    details_of(&r, 6, false);
    FX_SHOWS(&r, "block 1: 2921-4381, 1460 bytes  D-SACK: inside block 2");
    FX_SHOWS(&r, "block 2: 2921-5841, 2920 bytes");
    fx_run_free(&r);
}

static void test_unknown_and_malformed_options_are_named_not_trusted(void **state)
{
    (void)state;
    struct fx_run r;
    opts_run(&r);
    details_of(&r, 4, false);
    FX_SHOWS(&r, "kind 30");
    FX_SHOWS(&r, "unknown to tcplab: 2 bytes skipped");
    FX_SHOWS(&r, "1e 02");
    FX_SHOWS(&r, "TSval 101"); /* the option after it still decoded */
    assert_int_equal(r.f.tl.events[4]->u.seg.tcp.opts.n_unknown, 1);
    details_of(&r, 5, false);
    FX_SHOWS(&r, "malformed: length 12 runs past the header");
    fx_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syn_options_each_with_offset_bytes_and_meaning),
        cmocka_unit_test(test_rfc2883_dsack_block_below_the_ack_is_marked_with_both_edges),
        cmocka_unit_test(test_unknown_and_malformed_options_are_named_not_trusted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
