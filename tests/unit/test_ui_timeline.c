/*
 * test_ui_timeline.c — the time-true ladder (key t), in memory: with a
 * 100 ms link one row is 100 ms, so every arrow falls one row, the RTO of
 * 1 s is ten rows and the 2MSL wait is folded into one marked row; with the
 * default 500 us link the arrows stay flat and SYN backoff shows as 1, 2, 4
 * rows. Both modes drawn at 80x24 and 100x30, the frame whole, every label
 * readable, and the compact ladder untouched.
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

/* The scenario run, its player at the last step. */
static void run_text(struct fx_scn *r, const char *text)
{
    fx_scn_run(r, text);
    ui_player_seek(&r->p, r->tl->nsteps);
}

#define SLOW_LINK                                                                                  \
    "hosts client=stack server=peer\nprofile teaching\nset link latency 100ms\n"                   \
    "server: listen 8080\nserver: accept as conn\nclient: connect server:8080\n"                   \
    "expect client state ESTABLISHED\ndrop next client -> server P.\nclient: send \"hello\"\n"     \
    "conn: recv\nexpect conn recv = 5\nclient: close\nexpect server state CLOSE_WAIT\n"            \
    "conn: close\nexpect client state TIME_WAIT\nwait 2msl\nexpect client state CLOSED\n"

#define LOST_SYNS                                                                                  \
    "hosts client=stack server=peer\nprofile teaching\nset client syn_retries 3\n"                 \
    "server: listen 8080\ndrop next 3 client -> server S\nclient: connect server:8080\n"           \
    "expect client state ESTABLISHED\n"

/* The part of the layout holding row r's arrow. */
static const struct ui_time_vrow *arrow_part(const struct ui_time_layout *tl, size_t r)
{
    for (size_t i = 0; i < tl->n; i++)
        if (tl->v[i].arrow && tl->v[i].row == r)
            return &tl->v[i];
    return NULL;
}

static void test_slow_link_makes_rtt_rto_and_2msl_lengths(void **state)
{
    (void)state;
    struct fx_scn r;
    run_text(&r, SLOW_LINK);
    const struct ui_model *m = &r.p.model;
    struct ui_time_layout tl;
    assert_int_equal(ui_time_layout(m, &tl), 0);
    assert_true(tl.rows_per_s > 9.99 && tl.rows_per_s < 10.01); /* one row per 100 ms */
    int lost = -1, rtx = -1;
    uint64_t lost_t = 0, rtx_t = 0;
    for (size_t i = 0; i < m->nrows; i++) {
        if (!m->rows[i].has_arrow)
            continue;
        const struct ui_time_vrow *v = arrow_part(&tl, i);
        assert_non_null(v);
        if (m->rows[i].arrow.lost) {
            lost = v->y;
            lost_t = v->t;
        } else if (m->rows[i].arrow.retransmission) {
            rtx = v->y;
            rtx_t = v->t;
        }
        if (m->rows[i].arrow.arrived)
            assert_int_equal(v->arr_y - v->y, 1); /* 100 ms on the link */
    }
    assert_true(lost >= 0 && rtx >= 0);
    /* The retransmission comes an RTO after the loss; the quiet second
     * before it is as many rows as it has tenths (rows at one instant stack
     * a line each, so the distance from the loss is a row or two more). */
    assert_true(rtx_t - lost_t >= 1000000);
    const struct ui_time_vrow *before = NULL;
    for (size_t i = 0; i < tl.n; i++)
        if (tl.v[i].y < rtx)
            before = &tl.v[i];
    assert_non_null(before);
    assert_true(rtx_t - before->t >= 900000);
    assert_int_equal(rtx - before->y, (int)((rtx_t - before->t + 50000) / 100000));
    assert_true(rtx - lost >= 10 && rtx - lost <= 12);
    /* TIME_WAIT's 10 s is one marked row, not 100. */
    assert_int_equal(tl.nbreaks, 1);
    assert_true(tl.breaks[0].gap_us >= 9800000 && tl.breaks[0].gap_us <= 10100000);
    assert_true(tl.height < 60);
    /* In time order, and rows at different times on different lines. */
    for (size_t i = 1; i < tl.n; i++) {
        assert_true(tl.v[i].t >= tl.v[i - 1].t);
        assert_true(tl.v[i].y > tl.v[i - 1].y);
    }
    ui_time_layout_free(&tl);
    fx_scn_free(&r);
}

static void test_default_link_stays_flat_and_backoff_doubles(void **state)
{
    (void)state;
    struct fx_scn r;
    run_text(&r, LOST_SYNS);
    const struct ui_model *m = &r.p.model;
    struct ui_time_layout tl;
    assert_int_equal(ui_time_layout(m, &tl), 0);
    int syn_y[8], n = 0;
    for (size_t i = 0; i < m->nrows; i++) {
        const struct ui_arrow *a = &m->rows[i].arrow;
        if (!m->rows[i].has_arrow)
            continue;
        const struct ui_time_vrow *v = arrow_part(&tl, i);
        assert_int_equal(v->arr_y, v->y); /* 500 us: flat */
        if (a->from == 0 && (m->tl->events[a->ev]->u.seg.tcp.flags & TCP_SYN) && n < 8)
            syn_y[n++] = v->y;
    }
    assert_int_equal(n, 4);                   /* the SYN and three retransmissions */
    assert_int_equal(syn_y[1] - syn_y[0], 1); /* 1 s, 2 s, 4 s: one row a second */
    assert_int_equal(syn_y[2] - syn_y[1], 2);
    assert_int_equal(syn_y[3] - syn_y[2], 4);
    assert_int_equal(tl.nbreaks, 0);
    ui_time_layout_free(&tl);
    fx_scn_free(&r);
}

static bool has_char(const struct screen *s, uint32_t ch)
{
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++)
            if (screen_cell(s, x, y)->ch == ch)
                return true;
    return false;
}

/* The outer frame's right edge is whole on every row between the top and the
 * key bar: nothing drawn past the ladder. */
static void assert_frame_whole(const struct screen *s)
{
    for (int y = 2; y < s->h - 1; y++) {
        uint32_t ch = screen_cell(s, s->w - 1, y)->ch;
        if (ch != 0x2502 && ch != 0x2524)
            fail_msg("row %d ends in U+%04X", y, (unsigned)ch);
    }
}

static void test_both_modes_at_80x24_and_100x30(void **state)
{
    (void)state;
    struct fx_scn r;
    run_text(&r, SLOW_LINK);
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    const int sizes[2][2] = {{80, 24}, {100, 30}};
    for (int k = 0; k < 2; k++) {
        struct screen *s = screen_new(sizes[k][0], sizes[k][1]);
        o.time_true = true;
        ui_render_play(s, &r.p, &o);
        assert_true(screen_contains(s, "\u2248 9.9 s later") ||
                    screen_contains(s, "\u2248 10.0 s later"));
        assert_true(has_char(s, 0x2572) || has_char(s, 0x2571)); /* slanted arrows */
        assert_true(screen_contains(s, "ACK seq=7 ack=2"));
        assert_true(screen_contains(s, "CLOSED"));
        assert_frame_whole(s);
        /* The break row crosses the columns dotted. */
        int y = -1;
        for (int i = 0; i < s->h && y < 0; i++)
            if (fx_row_has(s, i, "later"))
                y = i;
        assert_true(fx_row_has(s, y, "\u250a"));

        /* The compact ladder as it was: no breaks, no slants. */
        o.time_true = false;
        ui_render_play(s, &r.p, &o);
        assert_false(screen_contains(s, "later"));
        assert_false(has_char(s, 0x2572) || has_char(s, 0x2571));
        assert_true(screen_contains(s, "ACK seq=7 ack=2"));
        assert_frame_whole(s);
        screen_free(s);
    }
    /* Every step, both sizes, both modes: the frame stays whole. */
    for (size_t step = 0; step <= r.tl->nsteps; step++) {
        ui_player_seek(&r.p, step);
        for (int k = 0; k < 2; k++)
            for (int mode = 0; mode < 2; mode++) {
                struct screen *s = screen_new(sizes[k][0], sizes[k][1]);
                o.time_true = mode;
                ui_render_play(s, &r.p, &o);
                assert_frame_whole(s);
                screen_free(s);
            }
    }
    fx_scn_free(&r);
}

static void test_animation_draws_a_falling_arrow_part_way(void **state)
{
    (void)state;
    struct fx_scn r;
    run_text(&r, SLOW_LINK);
    ui_player_seek(&r.p, 2); /* the connect: the SYN flies next */
    ui_player_next(&r.p);
    ui_player_tick(&r.p, 0.01);
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    o.time_true = true;
    struct screen *s = screen_new(100, 30);
    ui_render_play(s, &r.p, &o); /* mid-flight: drawn, no crash, frame whole */
    assert_frame_whole(s);
    for (int i = 0; i < 200; i++)
        ui_player_tick(&r.p, 0.05);
    ui_render_play(s, &r.p, &o);
    assert_true(screen_contains(s, "SYN"));
    assert_frame_whole(s);
    screen_free(s);
    fx_scn_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_link_makes_rtt_rto_and_2msl_lengths),
        cmocka_unit_test(test_default_link_stays_flat_and_backoff_doubles),
        cmocka_unit_test(test_both_modes_at_80x24_and_100x30),
        cmocka_unit_test(test_animation_draws_a_falling_arrow_part_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
