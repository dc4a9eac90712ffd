/*
 * test_ui_cc.c — congestion control in the classroom UI, in memory: the
 * player's model keeps each endpoint's cwnd, ssthresh, flight and phase as
 * the engine's cc events report them (RFC 5681), the state panel prints
 * exactly those numbers at every step, and the cwnd graph (key c) marks the
 * start of fast recovery only once it has happened, at 80x24 and 100x30.
 * The run is a real one: a window of ten segments with the first lost, so
 * three duplicate ACKs start fast recovery (lesson 19, shortened).
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

#define FAST_RECOVERY                                                                              \
    "hosts client=stack server=peer\nprofile teaching\nset client iw 10\n"                         \
    "server: listen 8019\nserver: accept as conn\nclient: connect server:8019\n"                   \
    "expect client connect = ok\ndrop next client -> server data\n"                                \
    "client: send 29200 bytes\nconn: recv 65536\nwait 200ms\nconn: recv 65536\nwait 200ms\n"       \
    "conn: recv 65536\nexpect client send = 29200\n"

/* The last cc event of `host` among the first n events, straight from the
 * record (NULL if none): what the screen must agree with. */
static const struct tev *last_cc(const struct scn_timeline *tl, size_t n, const char *host)
{
    const struct tev *last = NULL;
    for (size_t i = 0; i < n && i < tl->nevents; i++)
        if (tl->events[i]->kind == TEV_CC && !strcmp(tl->events[i]->host, host))
            last = tl->events[i];
    return last;
}

static void test_model_keeps_each_hosts_last_cc_event_at_every_step(void **state)
{
    (void)state;
    struct fx_scn r;
    fx_scn_run(&r, FAST_RECOVERY);
    bool saw_recovery = false;
    struct ui_model model;
    ui_model_init(&model, r.tl);
    for (size_t n = 0; n <= r.tl->nevents; n++) { /* after every event, not only each step */
        ui_model_apply_until(&model, n);
        const struct ui_model *m = &model;
        for (size_t h = 0; h < m->nhosts; h++) {
            const struct tev *e = last_cc(r.tl, m->applied, m->hosts[h].name);
            const struct ui_cc *cc = &m->hosts[h].cc;
            assert_int_equal(cc->known, e != NULL);
            if (!e)
                continue;
            assert_int_equal(cc->cwnd, e->u.cc.cwnd);
            assert_int_equal(cc->ssthresh, e->u.cc.ssthresh);
            assert_int_equal(cc->flight, e->u.cc.flight);
            assert_int_equal(cc->phase, e->u.cc.phase);
            saw_recovery |= cc->phase == TCP_CC_RECOVERY;
        }
    }
    assert_true(saw_recovery);
    ui_model_free(&model);
    fx_scn_free(&r);
}

static void test_state_panel_prints_the_trace_numbers_at_80x24_and_100x30(void **state)
{
    (void)state;
    struct fx_scn r;
    fx_scn_run(&r, FAST_RECOVERY);
    assert_true(ui_cc_worth_showing(r.tl));
    static const int sizes[][2] = {{80, 24}, {100, 30}};
    for (size_t z = 0; z < 2; z++) {
        struct screen *s = screen_new(sizes[z][0], sizes[z][1]);
        struct ui_view_opts o;
        ui_view_opts_defaults(&o);
        for (size_t k = 0; k <= r.tl->nsteps; k++) {
            ui_player_seek(&r.p, k);
            ui_render_play(s, &r.p, &o);
            const struct tev *e = last_cc(r.tl, r.p.model.applied, "client");
            char want[96];
            if (!e) {
                assert_false(screen_contains(s, "cwnd "));
                continue;
            }
            snprintf(want, sizeof want, "cwnd %u ", e->u.cc.cwnd);
            assert_true(screen_contains(s, want));
            snprintf(want, sizeof want, " %u flight %u", e->u.cc.ssthresh, e->u.cc.flight);
            if (!screen_contains(s, want)) {
                snprintf(want, sizeof want, " %u  flight %u", e->u.cc.ssthresh, e->u.cc.flight);
                if (!screen_contains(s, want))
                    snprintf(want, sizeof want, " %u fl %u", e->u.cc.ssthresh, e->u.cc.flight);
                if (!screen_contains(s, want)) {
                    screen_write_text(s, stderr);
                    fail_msg("step %zu at %dx%d: no ssthresh/flight of %u/%u", k, s->w, s->h,
                             e->u.cc.ssthresh, e->u.cc.flight);
                }
            }
            /* beside them, the algorithm that sets them */
            snprintf(want, sizeof want, " %u newreno", e->u.cc.flight);
            if (!screen_contains(s, want))
                snprintf(want, sizeof want, " %u  newreno", e->u.cc.flight);
            if (!screen_contains(s, want)) {
                screen_write_text(s, stderr);
                fail_msg("step %zu at %dx%d: no \"newreno\" after the flight", k, s->w, s->h);
            }
        }
        screen_free(s);
    }
    fx_scn_free(&r);
}

static void test_cc_text_always_keeps_the_numbers(void **state)
{
    (void)state;
    struct ui_cc cc = {
        .known = true, .cwnd = 13140, .ssthresh = 65535, .flight = 17520, .phase = TCP_CC_RECOVERY};
    char buf[128];
    for (int w = 20; w <= 60; w++) {
        ui_cc_text(&cc, w, buf, sizeof buf);
        assert_non_null(strstr(buf, "cwnd 13140"));
        assert_non_null(strstr(buf, "65535"));
        assert_non_null(strstr(buf, "17520"));
        if (w >= 55)
            assert_non_null(strstr(buf, "fast recovery"));
        if (w >= 34)
            assert_true(ui_text_width(buf) <= w);
    }
    /* the algorithm's name is kept longer than the long labels: at 80x24 a
     * state column is 38 wide */
    cc.algo = "cubic";
    cc.cwnd = 131400;
    for (int w = 34; w <= 70; w++) {
        ui_cc_text(&cc, w, buf, sizeof buf);
        assert_true(ui_text_width(buf) <= w);
        assert_non_null(strstr(buf, "131400"));
        assert_non_null(strstr(buf, "17520"));
        if (w >= 37) /* "cwnd 131400 ssth 65535 fl 17520 cubic" */
            assert_non_null(strstr(buf, " cubic"));
        if (w >= 62)
            assert_non_null(strstr(buf, "17520  cubic fast recovery"));
    }
    cc.known = false;
    assert_int_equal(ui_cc_text(&cc, 80, buf, sizeof buf), 0);
}

/* The column of the graph's axis row holding R, or -1. */
static int axis_mark(const struct screen *s, const char *mark)
{
    char row[1024];
    for (int y = 0; y < s->h; y++) {
        screen_row_text(s, y, row, sizeof row);
        if (strstr(row, "\u2514\u2500") && strstr(row, mark))
            return y;
    }
    return -1;
}

static void test_graph_marks_fast_recovery_once_it_has_happened(void **state)
{
    (void)state;
    struct fx_scn r;
    fx_scn_run(&r, FAST_RECOVERY);
    assert_int_equal(ui_cc_graph_host(&r.p.model), 0); /* the client sends */
    static const int sizes[][2] = {{80, 24}, {100, 30}};
    for (size_t z = 0; z < 2; z++) {
        struct screen *s = screen_new(sizes[z][0], sizes[z][1]);
        struct ui_view_opts o;
        ui_view_opts_defaults(&o);
        o.cc_graph = true;
        for (size_t k = 0; k <= r.tl->nsteps; k++) {
            ui_player_seek(&r.p, k);
            ui_render_play(s, &r.p, &o);
            assert_true(screen_contains(s, "cwnd graph"));
            bool recovered = false;
            for (size_t i = 1; i < r.p.model.applied; i++) {
                const struct tev *e = r.tl->events[i];
                recovered |= e->kind == TEV_CC && e->u.cc.phase == TCP_CC_RECOVERY;
            }
            assert_int_equal(axis_mark(s, "R") >= 0, recovered);
            /* The frame stays whole: the bottom line is the key bar. */
            char last[1024];
            screen_row_text(s, s->h - 1, last, sizeof last);
            assert_non_null(strstr(last, "quit"));
        }
        /* The top of the scale is the largest cwnd of the record. */
        uint32_t top = 0;
        for (size_t i = 0; i < r.tl->nevents; i++)
            if (r.tl->events[i]->kind == TEV_CC && !strcmp(r.tl->events[i]->host, "client") &&
                r.tl->events[i]->u.cc.cwnd > top)
                top = r.tl->events[i]->u.cc.cwnd;
        char want[32];
        snprintf(want, sizeof want, "%u \u2502", top);
        assert_true(screen_contains(s, want));
        screen_free(s);
    }
    fx_scn_free(&r);
}

static void test_graph_ascii_uses_no_unicode(void **state)
{
    (void)state;
    struct fx_scn r;
    fx_scn_run(&r, FAST_RECOVERY);
    struct screen *s = screen_new(80, 24);
    s->ascii = true;
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    o.cc_graph = true;
    ui_player_seek(&r.p, r.tl->nsteps);
    ui_render_play(s, &r.p, &o);
    assert_true(screen_contains(s, "#"));
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++)
            assert_true(screen_cell(s, x, y)->ch < 0x80);
    screen_free(s);
    fx_scn_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_keeps_each_hosts_last_cc_event_at_every_step),
        cmocka_unit_test(test_state_panel_prints_the_trace_numbers_at_80x24_and_100x30),
        cmocka_unit_test(test_cc_text_always_keeps_the_numbers),
        cmocka_unit_test(test_graph_marks_fast_recovery_once_it_has_happened),
        cmocka_unit_test(test_graph_ascii_uses_no_unicode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
