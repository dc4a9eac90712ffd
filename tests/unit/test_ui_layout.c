/*
 * test_ui_layout.c — panel geometry: everything fits at 100x30, panels
 * collapse (not overlap) at 80x24, a message below that; ladder columns and
 * lanes for two and three endpoints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "layout.h"
#include "screen.h"
#include "view.h"

static bool inside(struct ui_rect r, int w, int h)
{
    return r.x >= 0 && r.y >= 0 && r.x + r.w <= w && r.y + r.h <= h;
}

static bool rows_overlap(struct ui_rect a, struct ui_rect b)
{
    if (a.h == 0 || b.h == 0)
        return false;
    return a.y < b.y + b.h && b.y < a.y + a.h && a.x < b.x + b.w && b.x < a.x + a.w;
}

static void assert_panels_disjoint(const struct ui_layout *l)
{
    struct ui_rect r[] = {l->status,   l->states,    l->ladder,  l->details, l->graph,
                          l->cc_graph, l->narration, l->diagram, l->keys};
    size_t n = sizeof r / sizeof r[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(inside(r[i], l->w, l->h));
        for (size_t j = i + 1; j < n; j++)
            assert_false(rows_overlap(r[i], r[j]));
    }
    if (l->narration_sep >= 0) {
        assert_true(l->narration_sep >= l->ladder.y + l->ladder.h);
        assert_true(l->narration_sep < l->narration.y);
    }
}

static void test_100x30_has_boxed_states_three_narration_lines_and_a_tall_ladder(void **state)
{
    (void)state;
    struct ui_layout l;
    struct ui_layout_opts o = {.nhosts = 2};
    ui_layout_play(&l, 100, 30, &o);
    assert_false(l.too_small);
    assert_true(l.boxed_states);
    assert_int_equal(l.states.h, 4);
    assert_int_equal(l.narration.h, 3);
    assert_int_equal(l.diagram.h, 2);
    assert_true(l.ladder.h >= 14);
    assert_int_equal(l.keys.y, 29);
    assert_panels_disjoint(&l);
}

static void test_80x24_collapses_state_boxes_to_one_line_and_keeps_eight_ladder_rows(void **state)
{
    (void)state;
    struct ui_layout l;
    struct ui_layout_opts o = {.nhosts = 2};
    ui_layout_play(&l, 80, 24, &o);
    assert_false(l.too_small);
    assert_false(l.boxed_states);
    assert_int_equal(l.states.h, 2);
    assert_int_equal(l.narration.h, 2);
    assert_true(l.ladder.h >= 8);
    assert_panels_disjoint(&l);
}

static void test_below_80x24_is_too_small_and_says_how_big_it_must_be(void **state)
{
    (void)state;
    struct ui_layout l;
    struct ui_layout_opts o = {.nhosts = 2};
    ui_layout_play(&l, 79, 30, &o);
    assert_true(l.too_small);
    ui_layout_play(&l, 100, 23, &o);
    assert_true(l.too_small);
    struct screen *s = screen_new(60, 20);
    ui_view_too_small(s, UI_MIN_W, UI_MIN_H);
    assert_true(screen_contains(s, "60x20 is too small"));
    assert_true(screen_contains(s, "at least 80x24"));
    screen_free(s);
}

static void test_too_small_message_stays_readable_on_a_tiny_or_narrow_screen(void **state)
{
    (void)state;
    /* 10x5: the short form, whole words, the size needed still shown */
    struct screen *s = screen_new(10, 5);
    ui_view_too_small(s, UI_MIN_W, UI_MIN_H);
    assert_true(screen_contains(s, "too small"));
    assert_true(screen_contains(s, "need 80x24"));
    screen_free(s);
    /* 30x10: the long form, wrapped instead of cut off */
    s = screen_new(30, 10);
    ui_view_too_small(s, UI_MIN_W, UI_MIN_H);
    assert_true(screen_contains(s, "30x10 is too small"));
    assert_true(screen_contains(s, "at least 80x24"));
    assert_true(screen_contains(s, "smaller font"));
    screen_free(s);
}

static void test_long_narration_borrows_ladder_rows_but_leaves_eight(void **state)
{
    (void)state;
    struct ui_layout l;
    struct ui_layout_opts o = {.nhosts = 2, .narration = 4};
    ui_layout_play(&l, 80, 24, &o);
    assert_int_equal(l.narration.h, 4);
    assert_true(l.ladder.h >= 8);
    assert_panels_disjoint(&l);
    o.narration = 20; /* never more than 6 lines */
    ui_layout_play(&l, 100, 30, &o);
    assert_int_equal(l.narration.h, 6);
    assert_true(l.ladder.h >= 8);
    assert_panels_disjoint(&l);
    ui_layout_play(&l, 80, 24, &o);
    assert_true(l.ladder.h >= 8);
    assert_true(l.narration.h <= 6);
    assert_panels_disjoint(&l);
}

static void test_details_take_the_lower_part_when_narrow_and_the_side_when_wide(void **state)
{
    (void)state;
    struct ui_layout l;
    struct ui_layout_opts o = {.nhosts = 2, .details = true};
    ui_layout_play(&l, 80, 24, &o);
    assert_true(l.details.h >= 12);
    assert_true(l.ladder.h >= 3);
    assert_true(l.details.y > l.ladder.y + l.ladder.h - 1);
    assert_panels_disjoint(&l);
    ui_layout_play(&l, 160, 40, &o);
    assert_true(l.details.x > l.ladder.x + l.ladder.w - 1);
    assert_int_equal(l.details.h, l.ladder.h);
    assert_true(l.narration.h > 0);
    assert_panels_disjoint(&l);
}

static void test_whole_diagram_replaces_ladder_and_narration(void **state)
{
    (void)state;
    struct ui_layout l;
    struct ui_layout_opts o = {.nhosts = 2, .graph = true};
    ui_layout_play(&l, 80, 24, &o);
    assert_int_equal(l.ladder.h, 0);
    assert_true(l.graph.h >= 14); /* 11 states, title and summary */
    assert_panels_disjoint(&l);
}

static void test_cc_line_takes_one_row_and_the_cwnd_graph_the_lower_ladder(void **state)
{
    (void)state;
    static const int sizes[][2] = {{80, 24}, {100, 30}, {160, 48}};
    for (size_t i = 0; i < 3; i++) {
        struct ui_layout plain, cc, gr;
        struct ui_layout_opts o = {.nhosts = 2};
        ui_layout_play(&plain, sizes[i][0], sizes[i][1], &o);
        o.cc_line = true;
        ui_layout_play(&cc, sizes[i][0], sizes[i][1], &o);
        assert_int_equal(cc.states.h, plain.states.h + 1);
        assert_int_equal(cc.ladder.h, plain.ladder.h - 1);
        assert_int_equal(cc.cc_graph.h, 0);
        assert_panels_disjoint(&cc);
        o.cc_graph = true;
        ui_layout_play(&gr, sizes[i][0], sizes[i][1], &o);
        assert_true(gr.cc_graph.h >= 6); /* plot rows, the axis, the legend */
        assert_true(gr.ladder.h >= 4);   /* the newest segments stay in sight */
        /* Under the ladder with a divider between, above the narration. */
        assert_int_equal(gr.cc_graph.y, gr.ladder.y + gr.ladder.h + 1);
        assert_true(gr.cc_graph.y + gr.cc_graph.h <= gr.narration_sep);
        assert_int_equal(gr.narration.h, cc.narration.h);
        assert_panels_disjoint(&gr);
        /* Details, when open, win the room. */
        o.details = true;
        ui_layout_play(&gr, sizes[i][0], sizes[i][1], &o);
        assert_int_equal(gr.cc_graph.h, 0);
    }
}

static void test_ladder_columns_leave_lanes_and_fit_the_width(void **state)
{
    (void)state;
    struct ui_ladder_geom g;
    ui_ladder_geometry(98, 2, &g);
    assert_int_equal(g.ncols, 2);
    assert_int_equal(g.col_x[0], g.lane_left);
    assert_int_equal(g.col_x[1], 98 - 1 - g.lane_right);
    assert_true(g.lane_left >= 12 && g.lane_left <= 20);
    /* Room between the columns for a full SYN label. */
    assert_true(g.col_x[1] - g.col_x[0] - 6 >= (int)strlen("SYN seq=0 win=64240 <mss 1460>"));
    ui_ladder_geometry(78, 3, &g);
    assert_true(g.col_x[0] < g.col_x[1] && g.col_x[1] < g.col_x[2]);
    assert_true(g.col_x[2] < 78);
    /* Evenly spaced, to within one cell. */
    assert_true(abs((g.col_x[1] - g.col_x[0]) - (g.col_x[2] - g.col_x[1])) <= 1);
}

static void test_live_layout_stacks_table_ladder_and_log(void **state)
{
    (void)state;
    struct ui_live_layout l;
    ui_layout_live(&l, 80, 24);
    assert_false(l.too_small);
    assert_true(l.table.h >= 5);
    assert_true(l.ladder.h >= 5);
    assert_true(l.log.h >= 4);
    assert_true(l.table.y + l.table.h <= l.ladder.y);
    assert_true(l.ladder.y + l.ladder.h <= l.log.y);
    assert_true(l.log.y + l.log.h <= l.keys.y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_100x30_has_boxed_states_three_narration_lines_and_a_tall_ladder),
        cmocka_unit_test(test_80x24_collapses_state_boxes_to_one_line_and_keeps_eight_ladder_rows),
        cmocka_unit_test(test_below_80x24_is_too_small_and_says_how_big_it_must_be),
        cmocka_unit_test(test_too_small_message_stays_readable_on_a_tiny_or_narrow_screen),
        cmocka_unit_test(test_long_narration_borrows_ladder_rows_but_leaves_eight),
        cmocka_unit_test(test_details_take_the_lower_part_when_narrow_and_the_side_when_wide),
        cmocka_unit_test(test_whole_diagram_replaces_ladder_and_narration),
        cmocka_unit_test(test_cc_line_takes_one_row_and_the_cwnd_graph_the_lower_ladder),
        cmocka_unit_test(test_ladder_columns_leave_lanes_and_fit_the_width),
        cmocka_unit_test(test_live_layout_stacks_table_ladder_and_log),
    };
    ui_locale_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
