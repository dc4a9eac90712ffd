/*
 * test_ui_fit.c — what the ladder does when an item or a label is wider than
 * its room (80x24, many endpoints): lane items and segment labels shortened
 * by fixed rules, never cut — the call's name and result kept, a segment's
 * flags kept in words and last as the text trace's letters — and the caption
 * line that gives the current step's segment whole when its label cannot
 * keep its numbers between close columns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scnrun.h"
#include "tcp.h"
#include "test_ui_fixture.h"

static void push_drop(struct fx *f, const char *host, int reason)
{
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_DROP;
    ev.host = host;
    ev.tuple = fx_tuple(host);
    ev.u.drop.reason = reason;
    ev.u.drop.dir = TEV_IN;
    fx_push(f, &ev);
}

static void lanes_make(struct fx_run *l)
{
    memset(l, 0, sizeof *l);
    fx_call(&l->f, C_, TCP_CALL_SEND, 58400, 58400);
    push_drop(&l->f, C_, TCP_DROP_UNACCEPTABLE);
    fx_timer(&l->f, C_, TCP_TIMER_KEEPALIVE, TEV_TIMER_FIRE, 0);
    fx_call(&l->f, C_, TCP_CALL_CONNECT, -111 /* ECONNREFUSED */, 0);
    fx_call(&l->f, C_, TCP_CALL_FCNTL, 0, 0);
    fx_call(&l->f, C_, TCP_CALL_GETSOCKOPT, -111 /* ECONNREFUSED */, 0);
    fx_call(&l->f, C_, TCP_CALL_GETSOCKOPT, 0, 0);
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_READY;
    ev.host = C_;
    ev.sd = 3;
    ev.tuple = fx_tuple(C_);
    ev.u.ready.events = TCP_POLLOUT;
    ev.u.ready.revents = TCP_POLLOUT | TCP_POLLERR | TCP_POLLHUP;
    fx_push(&l->f, &ev);
    fx_run_model(l, 0, 0);
}

/* The text of the client's k-th lane item at `width`. */
static const char *fit(struct fx_run *l, int k, int width)
{
    static char buf[96];
    int seen = 0;
    for (size_t r = 0; r < l->m.nrows; r++)
        if (l->m.rows[r].lane[0].kind != UI_ITEM_NONE && seen++ == k) {
            ui_item_text_fit(&l->m, &l->m.rows[r].lane[0], width, buf, sizeof buf);
            return buf;
        }
    fail_msg("no lane item %d", k);
    return "";
}

static void test_lane_items_shorten_by_rule_and_keep_name_and_result(void **state)
{
    (void)state;
    struct fx_run l;
    lanes_make(&l);
    assert_string_equal(fit(&l, 0, 40), "send(58400) = 58400"); /* room: as it is */
    assert_string_equal(fit(&l, 0, 17), "send(58400)=58400");
    assert_string_equal(fit(&l, 0, 15), "send()=58400");
    assert_string_equal(fit(&l, 1, 40), "drop: unacceptable_segment");
    assert_string_equal(fit(&l, 1, 15), "\u2717 unacceptable");
    assert_string_equal(fit(&l, 2, 40), "keepalive timeout");
    assert_string_equal(fit(&l, 2, 15), "keepalive fired");
    assert_string_equal(fit(&l, 3, 40), "connect() = ECONNREFUSED");
    assert_string_equal(fit(&l, 3, 20), "connect=ECONNREFUSED");
    /* Lesson 21's calls at 80x24 (a 14-column lane): what they say stays. */
    assert_string_equal(fit(&l, 4, 40), "fcntl(O_NONBLOCK)");
    assert_string_equal(fit(&l, 4, 14), "O_NONBLOCK");
    assert_string_equal(fit(&l, 5, 40), "SO_ERROR = ECONNREFUSED");
    assert_string_equal(fit(&l, 5, 21), "SO_ERROR=ECONNREFUSED");
    assert_string_equal(fit(&l, 5, 14), "ECONNREFUSED");
    assert_string_equal(fit(&l, 6, 8), "SO_ERROR=0"); /* success keeps its name */
    assert_string_equal(fit(&l, 7, 40), "poll: OUT|ERR|HUP");
    assert_string_equal(fit(&l, 7, 16), "poll OUT|ERR|HUP");
    assert_string_equal(fit(&l, 7, 14), "OUT|ERR|HUP");
    for (int k = 0; k < 8; k++) /* whatever the width, never the … of a cut */
        for (int w = 8; w < 40; w++)
            assert_null(strstr(fit(&l, k, w), "\u2026"));
    fx_run_free(&l);
}

/* At 80x24 with two endpoints, lesson 21's fcntl() is shortened in its lane
 * and given whole on the caption line while its step is the current one. */
static void test_caption_gives_a_shortened_lane_item_whole(void **state)
{
    (void)state;
    struct scn *sc;
    struct scn_result res;
    struct scn_timeline *tl;
    scnrun_text("nb.tcps",
                "hosts client=stack server=peer\nserver: listen 8021\nclient: socket\n"
                "client: nonblock\nclient: connect server:8021\n"
                "expect client connect = EINPROGRESS\n",
                &sc, &res, &tl);
    struct ui_player p;
    ui_player_init(&p, tl);
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    ui_player_seek(&p, 3); /* client: nonblock */
    struct screen *s = screen_new(80, 24);
    ui_render_play(s, &p, &o);
    if (!screen_contains(s, "\u25b6 client: fcntl(O_NONBLOCK)") ||
        !screen_contains(s, " O_NONBLOCK \u2502")) {
        screen_write_text(s, stderr);
        fail_msg("fcntl(O_NONBLOCK) not shortened in its lane and whole in the caption");
    }
    screen_free(s);
    ui_player_seek(&p, 4); /* the next step: the caption is the SYN's or none */
    s = screen_new(80, 24);
    ui_render_play(s, &p, &o);
    assert_false(screen_contains(s, "\u25b6 client: fcntl"));
    screen_free(s);
    ui_player_free(&p);
    scnrun_free(sc, &res, tl);
}

/* Lesson 11's shape: a server and three clients in 80 columns. */
#define FOUR_HOSTS                                                                                 \
    "hosts server=stack alice=peer bob=peer carol=peer\nprofile teaching\n"                        \
    "server: listen 8011 backlog 1\nalice: connect server:8011\n"                                  \
    "expect alice state ESTABLISHED\n"

static void test_caption_gives_the_steps_segment_whole_when_columns_are_close(void **state)
{
    (void)state;
    struct scn *sc;
    struct scn_result res;
    struct scn_timeline *tl;
    scnrun_text("four.tcps", FOUR_HOSTS, &sc, &res, &tl);
    struct ui_player p;
    ui_player_init(&p, tl);
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    bool captioned = false;
    for (size_t k = 1; k <= tl->nsteps; k++) {
        ui_player_seek(&p, k);
        struct screen *s = screen_new(80, 24);
        ui_render_play(s, &p, &o);
        char row[512];
        for (int y = 0; y < s->h; y++) {
            screen_row_text(s, y, row, sizeof row);
            if (strncmp(row, "\u2502 \u25b6 ", 6))
                continue;
            captioned = true;
            assert_null(strstr(row, "\u2026")); /* the caption itself is whole */
            assert_non_null(strstr(row, " \u2192 "));
            assert_non_null(strstr(row, " seq="));
        }
        screen_free(s);
    }
    assert_true(captioned); /* SYN,ACK seq=0 ack=1 ... cannot fit 13 columns */
    ui_player_free(&p);
    scnrun_free(sc, &res, tl);
    /* Two endpoints: every label fits between the columns, no caption. */
    struct scn_timeline *two = fx_teardown_timeline();
    ui_player_init(&p, two);
    for (size_t k = 0; k <= two->nsteps; k++) {
        ui_player_seek(&p, k);
        struct screen *s = screen_new(100, 30);
        ui_render_play(s, &p, &o);
        assert_false(screen_contains(s, "\u2502 \u25b6 "));
        screen_free(s);
    }
    ui_player_free(&p);
    fx_free(two);
}

/* The label levels of one segment: whole, then without options and
 * window, then the flags in words, then the text trace's letters; a
 * retransmission keeps its ↻ at every level. */
static void test_segment_labels_shorten_by_rule_to_the_flags(void **state)
{
    (void)state;
    struct fx_run r;
    memset(&r, 0, sizeof r);
    fx_seg(&r.f, C_, TCP_SYN, FX_ISN_C, 0, 64240, NULL, false, false);
    fx_seg(&r.f, S_, TCP_SYN | TCP_ACK, FX_ISN_S, FX_ISN_C + 1, 65160, NULL, false, false);
    fx_seg(&r.f, S_, TCP_SYN | TCP_ACK, FX_ISN_S, FX_ISN_C + 1, 65160, NULL, false, true);
    fx_run_model(&r, 0, 0);
    const struct ui_arrow *first = &r.m.rows[fx_arrow_row(&r.m, 1)].arrow;
    const struct ui_arrow *rtx = &r.m.rows[fx_arrow_row(&r.m, 2)].arrow;
    char buf[200];
    ui_segment_label_fit(&r.m, first, false, 80, buf, sizeof buf);
    assert_string_equal(buf, "SYN,ACK seq=0 ack=1 win=65160 <mss 1460>");
    ui_segment_label_fit(&r.m, first, false, 20, buf, sizeof buf);
    assert_string_equal(buf, "SYN,ACK seq=0 ack=1");
    assert_true(ui_segment_label_whole(&r.m, first, false, 20));
    ui_segment_label_fit(&r.m, first, false, 10, buf, sizeof buf);
    assert_string_equal(buf, "SYN,ACK");
    assert_false(ui_segment_label_whole(&r.m, first, false, 10)); /* the caption gives it */
    ui_segment_label_fit(&r.m, first, false, 4, buf, sizeof buf);
    assert_string_equal(buf, "[S.]");
    ui_segment_label_fit(&r.m, rtx, false, 10, buf, sizeof buf);
    assert_string_equal(buf, "\u21bb SYN,ACK");
    ui_segment_label_fit(&r.m, rtx, false, 6, buf, sizeof buf);
    assert_string_equal(buf, "\u21bb [S.]");
    ui_segment_label_fit(&r.m, rtx, false, 4, buf, sizeof buf);
    assert_string_equal(buf, "\u21bb S.");
    fx_run_free(&r);
}

/* Lesson 11's first steps at 80x24, four endpoints: no older label or lane
 * item is cut with "…"; the lost ACK keeps "✗ lost" whole, the SYN,ACK its
 * flags in words; the caption line still gives the step's segment whole. */
static void test_close_columns_shorten_every_label_never_cut_it(void **state)
{
    (void)state;
    struct fx_scn r;
    fx_scn_run(&r, "hosts server=stack alice=peer bob=peer carol=peer\nprofile teaching\n"
                   "server: listen 8011 backlog 1\ndrop next alice -> server .\n"
                   "alice: connect server:8011\nexpect server state SYN_RECEIVED\n"
                   "wait 1s\nexpect server state ESTABLISHED\n");
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    bool flags_in_words = false, lost_whole = false, captioned = false;
    for (size_t k = 0; k <= r.tl->nsteps; k++) {
        ui_player_seek(&r.p, k);
        struct screen *s = screen_new(80, 24);
        ui_render_play(s, &r.p, &o);
        char row[512];
        for (int y = 2; y < s->h; y++) {
            screen_row_text(s, y, row, sizeof row);
            if (!strncmp(row, "\u251c", 3)) /* the narration's divider: the ladder ends */
                break;
            if (strstr(row, "\u2026")) {
                screen_write_text(s, stderr);
                fail_msg("step %zu, row %d cut: %s", k, y, row);
            }
            flags_in_words |= strstr(row, "\u2500 SYN,ACK \u2500") != NULL;
            lost_whole |= strstr(row, "lost") && strstr(row, "\u2717 ACK");
            captioned |= !strncmp(row, "\u2502 \u25b6 server \u2192 alice: SYN,ACK seq=0 ack=1", 40);
        }
        screen_free(s);
    }
    assert_true(flags_in_words);
    assert_true(lost_whole);
    assert_true(captioned);
    fx_scn_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lane_items_shorten_by_rule_and_keep_name_and_result),
        cmocka_unit_test(test_caption_gives_the_steps_segment_whole_when_columns_are_close),
        cmocka_unit_test(test_caption_gives_a_shortened_lane_item_whole),
        cmocka_unit_test(test_segment_labels_shorten_by_rule_to_the_flags),
        cmocka_unit_test(test_close_columns_shorten_every_label_never_cut_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
