/*
 * test_ui_screen.c — the screen model in memory: column widths of Chinese
 * text, wide characters at edges, truncation with an ellipsis, word
 * wrapping of English and Chinese narration, the ASCII fallback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "screen.h"

static int setup_locale(void **state)
{
    (void)state;
    ui_locale_init();
    return 0;
}

static void row(const struct screen *s, int y, char *buf, size_t cap)
{
    screen_row_text(s, y, buf, cap);
}

static void test_chinese_characters_take_two_columns_each(void **state)
{
    (void)state;
    assert_int_equal(ui_text_width("三次握手"), 8);
    assert_int_equal(ui_text_width("SYN 报文段"), 10);
    assert_int_equal(ui_text_width("，。"), 4); /* full-width punctuation */
    assert_int_equal(ui_char_width(0x4e2d), 2);
    assert_int_equal(ui_char_width('A'), 1);
}

static void test_wide_character_occupies_a_cell_and_its_right_half(void **state)
{
    (void)state;
    struct screen *s = screen_new(10, 1);
    assert_int_equal(screen_print(s, 0, 0, 10, SC_NORMAL, "中a"), 3);
    assert_int_equal(screen_cell(s, 0, 0)->ch, 0x4e2d);
    assert_int_equal(screen_cell(s, 0, 0)->width, 2);
    assert_int_equal(screen_cell(s, 1, 0)->width, 0);
    assert_int_equal(screen_cell(s, 2, 0)->ch, 'a');
    char buf[64];
    row(s, 0, buf, sizeof buf);
    assert_string_equal(buf, "中a");
    screen_free(s);
}

static void test_wide_character_that_does_not_fit_at_the_edge_becomes_a_space(void **state)
{
    (void)state;
    struct screen *s = screen_new(5, 1);
    screen_print(s, 0, 0, 5, SC_NORMAL, "abcd");
    assert_int_equal(screen_putc(s, 4, 0, 0x4e2d, SC_NORMAL), 1);
    assert_int_equal(screen_cell(s, 4, 0)->ch, ' ');
    screen_free(s);
}

static void test_overwriting_half_a_wide_character_blanks_the_other_half(void **state)
{
    (void)state;
    struct screen *s = screen_new(6, 1);
    screen_print(s, 0, 0, 6, SC_NORMAL, "中文");
    screen_putc(s, 1, 0, 'x', SC_NORMAL); /* right half of 中 */
    char buf[64];
    row(s, 0, buf, sizeof buf);
    assert_string_equal(buf, " x文");
    screen_free(s);
}

static void test_text_too_long_is_cut_with_an_ellipsis_within_its_width(void **state)
{
    (void)state;
    struct screen *s = screen_new(40, 1);
    int used = screen_print(s, 0, 0, 10, SC_NORMAL, "SYN seq=0 win=64240 <mss 1460>");
    assert_int_equal(used, 10);
    char buf[128];
    row(s, 0, buf, sizeof buf);
    assert_string_equal(buf, "SYN seq=0\u2026");
    /* Chinese: never half a character, total width still within the limit. */
    screen_clear(s);
    used = screen_print(s, 0, 0, 6, SC_NORMAL, "客户端发送报文");
    assert_true(used <= 6);
    row(s, 0, buf, sizeof buf);
    assert_string_equal(buf, "客户\u2026");
    screen_free(s);
}

static void test_text_that_fits_is_printed_whole(void **state)
{
    (void)state;
    struct screen *s = screen_new(20, 1);
    assert_int_equal(screen_print(s, 2, 0, 18, SC_NORMAL, "四次挥手"), 8);
    assert_true(screen_contains(s, "四次挥手"));
    screen_free(s);
}

static void test_english_wraps_at_spaces(void **state)
{
    (void)state;
    const char *t = "The client picks an initial sequence number";
    size_t lines[8][2];
    int n = ui_wrap(t, 16, lines, 8);
    assert_true(n >= 3);
    for (int i = 0; i < n; i++) {
        char buf[64];
        memcpy(buf, t + lines[i][0], lines[i][1]);
        buf[lines[i][1]] = 0;
        assert_true(ui_text_width(buf) <= 16);
        assert_true(buf[0] != ' ' && buf[strlen(buf) - 1] != ' ');
    }
    char first[64];
    memcpy(first, t + lines[0][0], lines[0][1]);
    first[lines[0][1]] = 0;
    assert_string_equal(first, "The client picks");
}

static void test_chinese_wraps_between_characters_but_not_before_a_comma(void **state)
{
    (void)state;
    const char *t = "客户端选择初始序列号，发送报文段。";
    size_t lines[8][2];
    int n = ui_wrap(t, 20, lines, 8); /* 10 characters per line */
    assert_int_equal(n, 2);
    char l0[64], l1[64];
    memcpy(l0, t + lines[0][0], lines[0][1]);
    l0[lines[0][1]] = 0;
    memcpy(l1, t + lines[1][0], lines[1][1]);
    l1[lines[1][1]] = 0;
    /* "，" would start line 2: the break moves one character earlier. */
    assert_string_equal(l0, "客户端选择初始序列");
    assert_string_equal(l1, "号，发送报文段。");
    assert_true(ui_text_width(l0) <= 20 && ui_text_width(l1) <= 20);
}

static void test_ascii_mode_draws_lines_and_marks_in_plain_ascii(void **state)
{
    (void)state;
    struct screen *s = screen_new(12, 3);
    s->ascii = true;
    screen_box(s, 0, 0, 12, 3, false, SC_FRAME, NULL);
    screen_print(s, 1, 1, 10, SC_NORMAL, "\u2500\u25b6\u2717\u25c0\u25b2\u25bc");
    char buf[64];
    row(s, 0, buf, sizeof buf);
    assert_string_equal(buf, "+----------+");
    row(s, 1, buf, sizeof buf);
    assert_string_equal(buf, "|->X<^v    |");
    screen_free(s);
}

static void test_rows_drop_trailing_spaces_and_screens_compare_cell_by_cell(void **state)
{
    (void)state;
    struct screen *a = screen_new(8, 2), *b = screen_new(8, 2);
    screen_print(a, 0, 0, 8, SC_NORMAL, "ab");
    screen_print(b, 0, 0, 8, SC_NORMAL, "ab");
    assert_true(screen_equal(a, b));
    screen_set_attr(b, 0, 0, 1, SC_LOST);
    assert_false(screen_equal(a, b));
    char buf[32];
    row(a, 0, buf, sizeof buf);
    assert_string_equal(buf, "ab");
    screen_free(a);
    screen_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chinese_characters_take_two_columns_each),
        cmocka_unit_test(test_wide_character_occupies_a_cell_and_its_right_half),
        cmocka_unit_test(test_wide_character_that_does_not_fit_at_the_edge_becomes_a_space),
        cmocka_unit_test(test_overwriting_half_a_wide_character_blanks_the_other_half),
        cmocka_unit_test(test_text_too_long_is_cut_with_an_ellipsis_within_its_width),
        cmocka_unit_test(test_text_that_fits_is_printed_whole),
        cmocka_unit_test(test_english_wraps_at_spaces),
        cmocka_unit_test(test_chinese_wraps_between_characters_but_not_before_a_comma),
        cmocka_unit_test(test_ascii_mode_draws_lines_and_marks_in_plain_ascii),
        cmocka_unit_test(test_rows_drop_trailing_spaces_and_screens_compare_cell_by_cell),
    };
    return cmocka_run_group_tests(tests, setup_locale, NULL);
}
