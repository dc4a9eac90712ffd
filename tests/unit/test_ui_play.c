/*
 * test_ui_play.c — the whole frame of `tcplab play`, in memory: what a
 * learner sees at each step of a hand-made teardown timeline
 * (test_ui_fixture.h), at 100x30 and at 80x24.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "test_ui_fixture.h"

struct ctx {
    struct scn_timeline *tl;
    struct ui_player p;
    struct ui_view_opts o;
};

static int setup(void **state)
{
    ui_locale_init();
    struct ctx *c = calloc(1, sizeof *c);
    c->tl = fx_teardown_timeline();
    ui_player_init(&c->p, c->tl);
    ui_view_opts_defaults(&c->o);
    c->o.title = c->tl->title_en;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    ui_player_free(&c->p);
    fx_free(c->tl);
    free(c);
    return 0;
}

static struct screen *at_step(struct ctx *c, size_t k, int w, int h)
{
    ui_player_seek(&c->p, k);
    return fx_render(&c->p, &c->o, w, h);
}

/* Column of the first occurrence of a character on row y, or -1. */
static int col_of(const struct screen *s, int y, uint32_t ch)
{
    for (int x = 0; x < s->w; x++)
        if (screen_cell(s, x, y)->ch == ch)
            return x;
    return -1;
}

static void test_handshake_labels_use_relative_sequence_numbers_by_default(void **state)
{
    struct ctx *c = *state;
    struct screen *s = at_step(c, 2, 100, 30);
    assert_true(screen_contains(s, "SYN seq=0 win=64240 <mss 1460>"));
    assert_true(screen_contains(s, "SYN,ACK seq=0 ack=1 win=65160 <mss 1460>"));
    assert_true(screen_contains(s, "ACK seq=1 ack=1"));
    screen_free(s);
}

static void test_key_a_shows_absolute_sequence_numbers(void **state)
{
    struct ctx *c = *state;
    c->o.absolute = true;
    struct screen *s = at_step(c, 2, 100, 30);
    assert_true(screen_contains(s, "SYN seq=1000000 win=64240"));
    assert_true(screen_contains(s, "SYN,ACK seq=3000000000 ack=1000001"));
    assert_false(screen_contains(s, "SYN seq=0 "));
    screen_free(s);
}

static void test_data_segments_show_their_length(void **state)
{
    struct ctx *c = *state;
    struct screen *s = at_step(c, 4, 100, 30);
    assert_true(screen_contains(s, "PSH,ACK seq=1 ack=1 len=5"));
    assert_true(screen_contains(s, "ACK seq=1 ack=6 win=65155"));
    screen_free(s);
}

static void test_arrows_point_from_sender_to_receiver(void **state)
{
    struct ctx *c = *state;
    struct screen *s = at_step(c, 2, 100, 30);
    int syn = fx_row_of(s, "SYN seq=0 win"), synack = fx_row_of(s, "SYN,ACK seq=0");
    assert_true(syn >= 0 && synack > syn);
    struct ui_ladder_geom g;
    ui_ladder_geometry(98, 2, &g);
    int client_x = 1 + g.col_x[0], server_x = 1 + g.col_x[1];
    assert_int_equal(col_of(s, syn, 0x25b6), server_x - 1);    /* ▶ at the server */
    assert_int_equal(col_of(s, synack, 0x25c0), client_x + 1); /* ◀ at the client */
    screen_free(s);
}

static void test_lost_segment_dies_half_way_with_a_cross(void **state)
{
    struct ctx *c = *state;
    struct screen *s = at_step(c, 7, 100, 30);
    int y = fx_row_of(s, "FIN,ACK seq=1 ack=7");
    assert_true(y >= 0);
    assert_true(fx_row_has(s, y, "lost"));
    int x = col_of(s, y, 0x2717);
    assert_true(x > 35 && x < 70);              /* between the columns, before the receiver */
    assert_int_equal(col_of(s, y, 0x25c0), -1); /* never reaches the client */
    screen_free(s);
}

static void test_retransmission_is_marked(void **state)
{
    struct ctx *c = *state;
    struct screen *s = at_step(c, 8, 100, 30);
    int y = fx_row_of(s, "(retransmission)");
    assert_true(y >= 0);
    assert_true(fx_row_has(s, y, "\u21bb FIN,ACK seq=1 ack=7"));
    screen_free(s);
}

static void test_state_boxes_show_the_state_and_why_it_changed(void **state)
{
    struct ctx *c = *state;
    struct screen *s = at_step(c, 5, 100, 30);
    assert_true(fx_row_has(s, 3, "FIN_WAIT_2"));
    assert_true(fx_row_has(s, 3, "rcvd ACK of our FIN"));
    assert_true(fx_row_has(s, 3, "CLOSE_WAIT"));
    assert_true(fx_row_has(s, 3, "rcvd FIN"));
    /* Changed during this step: double-lined boxes. */
    assert_true(fx_row_has(s, 2, "\u2554"));
    screen_free(s);
    /* Step 6 changes no state: single-lined boxes. */
    s = at_step(c, 6, 100, 30);
    assert_false(fx_row_has(s, 2, "\u2554"));
    assert_true(fx_row_has(s, 2, "\u250c"));
    screen_free(s);
}

static void test_socket_calls_are_written_beside_their_endpoint(void **state)
{
    struct ctx *c = *state;
    struct screen *s = at_step(c, 6, 100, 30);
    assert_true(screen_contains(s, "listen(4)"));
    assert_true(screen_contains(s, "connect()"));
    assert_true(screen_contains(s, "accept() \u2192 fd 4"));
    assert_true(screen_contains(s, "send(5) = 5"));
    assert_true(screen_contains(s, "recv() = 0"));
    int y = fx_row_of(s, "connect()");
    struct ui_ladder_geom g;
    ui_ladder_geometry(98, 2, &g);
    char buf[512];
    screen_row_text(s, y, buf, sizeof buf);
    assert_true((int)(strstr(buf, "connect()") - buf) < 1 + g.col_x[0]); /* client's lane, left */
    y = fx_row_of(s, "recv() = 0");
    assert_true(col_of(s, y, 'r') > 1 + g.col_x[1]); /* server's lane, right */
    screen_free(s);
}

static void test_listen_queues_count_half_open_and_unaccepted_connections(void **state)
{
    struct ctx *c = *state;
    /* Just after the server's SYN_RECEIVED: one half-open connection. */
    ui_model_reset(&c->p.model);
    for (size_t i = 0; i < c->tl->nevents; i++) {
        ui_model_apply_next(&c->p.model);
        const struct tev *e = c->tl->events[i];
        if (e->kind == TEV_STATE && e->u.state.to == TCP_SYN_RECEIVED)
            break;
    }
    assert_int_equal(c->p.model.hosts[1].syn_queue, 1);
    assert_int_equal(c->p.model.hosts[1].accept_queue, 0);
    assert_int_equal(c->p.model.hosts[1].backlog, 4);
    struct screen *s = at_step(c, 2, 100, 30);
    assert_true(screen_contains(s, "SYN queue \u25a1\u25a1\u25a1\u25a1 0/4"));
    assert_true(screen_contains(s, "accept queue \u25a0\u25a1\u25a1\u25a1 1/4"));
    screen_free(s);
    s = at_step(c, 3, 100, 30);
    assert_true(screen_contains(s, "accept queue \u25a1\u25a1\u25a1\u25a1 0/4"));
    screen_free(s);
}

static void test_time_wait_bar_counts_down(void **state)
{
    struct ctx *c = *state;
    ui_player_seek(&c->p, 8);
    const struct ui_timer *t = &c->p.model.hosts[0].timers[TCP_TIMER_TIME_WAIT];
    assert_true(t->armed);
    char full[128], half[128];
    ui_timer_text(t, TCP_TIMER_TIME_WAIT, t->armed_us, 10, full, sizeof full);
    ui_timer_text(t, TCP_TIMER_TIME_WAIT, t->armed_us + 2000000, 10, half, sizeof half);
    assert_non_null(strstr(full, "2MSL 4.0s"));
    assert_non_null(strstr(full, "\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588"));
    assert_non_null(strstr(half, "2MSL 2.0s"));
    assert_non_null(strstr(half, "\u2588\u2588\u2588\u2588\u2588\u2591\u2591\u2591\u2591\u2591"));
    struct screen *s = at_step(c, 8, 100, 30);
    assert_true(screen_contains(s, "2MSL 4.0s"));
    screen_free(s);
    s = at_step(c, 9, 100, 30);
    assert_false(fx_row_has(s, 5, "2MSL")); /* expired: no bar under the box */
    assert_true(screen_contains(s, "2MSL timeout"));
    screen_free(s);
}

static void test_narration_in_english_and_in_chinese(void **state)
{
    struct ctx *c = *state;
    struct screen *s = at_step(c, 2, 100, 30);
    assert_true(screen_contains(s, "three-way"));
    assert_true(screen_contains(s, "narration \u00b7 English"));
    screen_free(s);
    c->o.zh = true;
    s = at_step(c, 2, 100, 30);
    assert_true(screen_contains(s, "客户端的 ACK 完成三次握手"));
    assert_false(screen_contains(s, "three-way"));
    screen_free(s);
}

static void test_chinese_narration_wraps_inside_its_panel_at_80x24(void **state)
{
    struct ctx *c = *state;
    c->o.zh = true;
    struct screen *s = at_step(c, 8, 80, 24);
    struct ui_layout l;
    struct ui_layout_opts lo = {.nhosts = 2, .narration = ui_narration_height(c->tl, 8, true, 78)};
    ui_layout_play(&l, 80, 24, &lo);
    char buf[1024];
    int chinese_rows = 0;
    for (int y = l.narration.y; y < l.narration.y + l.narration.h; y++) {
        screen_row_text(s, y, buf, sizeof buf);
        assert_true(ui_text_width(buf) <= 80);
        if (strstr(buf, "重传") || strstr(buf, "TIME_WAIT"))
            chinese_rows++;
        assert_int_equal(screen_cell(s, 79, y)->ch, 0x2502); /* the frame is intact */
    }
    assert_true(chinese_rows >= 1);
    screen_free(s);
}

static void test_help_overlay_lists_every_key(void **state)
{
    struct ctx *c = *state;
    c->o.help = true;
    /* 80x24: not every key fits one page; each is on one of them, whole. */
    int pages = ui_help_pages(24);
    assert_true(pages >= 2);
    bool seen[64] = {false};
    assert_true(ui_play_nkeys <= 64);
    for (int page = 0; page < pages; page++) {
        c->o.help_page = page;
        struct screen *s = at_step(c, 3, 80, 24);
        char hint[32];
        snprintf(hint, sizeof hint, "page %d/%d", page + 1, pages);
        assert_true(screen_contains(s, hint));
        for (size_t i = 0; i < ui_play_nkeys; i++)
            if (screen_contains(s, ui_play_keys[i].en)) {
                assert_true(screen_contains(s, ui_play_keys[i].keys));
                seen[i] = true;
            }
        screen_free(s);
    }
    for (size_t i = 0; i < ui_play_nkeys; i++)
        assert_true(seen[i]);
    /* 100x30: one page, every key, in Chinese too. */
    assert_int_equal(ui_help_pages(30), 1);
    c->o.help_page = 0;
    c->o.zh = true;
    struct screen *s = at_step(c, 3, 100, 30);
    for (size_t i = 0; i < ui_play_nkeys; i++)
        assert_true(screen_contains(s, ui_play_keys[i].zh));
    assert_false(screen_contains(s, "1/1"));
    screen_free(s);
}

static void settle_all(struct ui_player *p)
{
    for (int i = 0; i < 1000 && ui_player_busy(p); i++)
        ui_player_tick(p, 0.1);
}

static void test_step_back_restores_the_exact_earlier_screen(void **state)
{
    struct ctx *c = *state;
    for (size_t k = 0; k <= c->tl->nsteps; k++) {
        struct screen *before = at_step(c, k, 100, 30);
        ui_player_next(&c->p);
        settle_all(&c->p);
        struct screen *after = fx_render(&c->p, &c->o, 100, 30);
        if (k < c->tl->nsteps)
            assert_false(screen_equal(before, after));
        ui_player_prev(&c->p);
        if (k == c->tl->nsteps) {
            ui_player_next(&c->p); /* at the end, "next" stays: step to k again */
            settle_all(&c->p);
        }
        struct screen *back = fx_render(&c->p, &c->o, 100, 30);
        if (!screen_equal(before, back)) {
            screen_write_text(before, stdout);
            screen_write_text(back, stdout);
            fail_msg("step %zu differs after going forward and back", k);
        }
        screen_free(before);
        screen_free(after);
        screen_free(back);
    }
}

static void test_arrow_in_flight_is_drawn_part_way_then_whole(void **state)
{
    struct ctx *c = *state;
    ui_player_seek(&c->p, 1);
    ui_player_next(&c->p);
    for (int i = 0; i < 100 && c->p.flying_row < 0; i++)
        ui_player_tick(&c->p, 0.001);
    assert_true(c->p.flying_row >= 0);
    ui_player_tick(&c->p, 0.3); /* about 40% of the way */
    struct screen *s = fx_render(&c->p, &c->o, 100, 30);
    int y = -1;
    for (int r = 0; r < s->h && y < 0; r++)
        if (fx_row_has(s, r, "SYN_SENT") && col_of(s, r, 0x25b6) > 0)
            y = r;
    assert_true(y >= 0);
    int head = col_of(s, y, 0x25b6);
    assert_true(head > 20 && head < 70);
    assert_false(fx_row_has(s, y, "<mss 1460>")); /* the label is not all revealed yet */
    screen_free(s);
    settle_all(&c->p);
    s = fx_render(&c->p, &c->o, 100, 30);
    assert_true(screen_contains(s, "SYN seq=0 win=64240 <mss 1460>"));
    screen_free(s);
}

static void test_80x24_still_shows_states_labels_and_narration(void **state)
{
    struct ctx *c = *state;
    struct screen *s = at_step(c, 5, 80, 24);
    assert_true(screen_contains(s, "FIN_WAIT_2"));
    assert_true(screen_contains(s, "CLOSE_WAIT"));
    assert_true(screen_contains(s, "FIN,ACK seq=6 ack=1"));
    assert_true(screen_contains(s, "The client closes first"));
    assert_true(screen_contains(s, "step 5/9"));
    assert_true(screen_contains(s, "q quit"));
    char buf[1024];
    for (int y = 0; y < 24; y++) {
        screen_row_text(s, y, buf, sizeof buf);
        assert_true(ui_text_width(buf) <= 80);
    }
    screen_free(s);
}

static void test_labels_are_cut_to_the_room_between_columns(void **state)
{
    struct ctx *c = *state;
    ui_player_seek(&c->p, 2);
    struct screen *s = screen_new(44, 6);
    struct ui_rect r = {0, 0, 44, 6};
    ui_view_ladder(s, r, &c->p.model, -1, 1, &c->o);
    int y = fx_row_of(s, "SYN seq=0");
    assert_true(y >= 0);
    assert_true(fx_row_has(s, y, "\u2026"));
    assert_false(fx_row_has(s, y, "<mss 1460>"));
    struct ui_ladder_geom g;
    ui_ladder_geometry(44, 2, &g);
    assert_int_equal(col_of(s, y, 0x25b6), g.col_x[1] - 1); /* the head still reaches the server */
    screen_free(s);
}

static void test_state_diagram_is_drawn_from_the_engine_table(void **state)
{
    struct ctx *c = *state;
    enum tcp_state edges[64][2];
    size_t n = ui_graph_edges(edges, 64);
    assert_true(n >= 20 && n <= 64);
    for (size_t i = 0; i < n; i++)
        assert_true(tcp_transition_legal(edges[i][0], edges[i][1]));
    /* Every edge of Figure 5 is drawn. */
    static const enum tcp_state fig5[][2] = {
        {TCP_CLOSED, TCP_LISTEN},
        {TCP_CLOSED, TCP_SYN_SENT},
        {TCP_LISTEN, TCP_SYN_RECEIVED},
        {TCP_LISTEN, TCP_SYN_SENT},
        {TCP_SYN_SENT, TCP_SYN_RECEIVED},
        {TCP_SYN_SENT, TCP_ESTABLISHED},
        {TCP_SYN_RECEIVED, TCP_ESTABLISHED},
        {TCP_SYN_RECEIVED, TCP_FIN_WAIT_1},
        {TCP_ESTABLISHED, TCP_FIN_WAIT_1},
        {TCP_ESTABLISHED, TCP_CLOSE_WAIT},
        {TCP_FIN_WAIT_1, TCP_FIN_WAIT_2},
        {TCP_FIN_WAIT_1, TCP_CLOSING},
        {TCP_FIN_WAIT_2, TCP_TIME_WAIT},
        {TCP_CLOSING, TCP_TIME_WAIT},
        {TCP_CLOSE_WAIT, TCP_LAST_ACK},
        {TCP_LAST_ACK, TCP_CLOSED},
        {TCP_TIME_WAIT, TCP_CLOSED},
    };
    for (size_t f = 0; f < sizeof fig5 / sizeof fig5[0]; f++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= edges[i][0] == fig5[f][0] && edges[i][1] == fig5[f][1];
        assert_true(found);
    }
    c->o.graph = true;
    struct screen *s = at_step(c, 5, 80, 24); /* small: the list form */
    int y = fx_row_of(s, "client \u25b6 FIN_WAIT_2");
    assert_true(y >= 0);
    y = fx_row_of(s, "\u2501rcv ACK of FIN\u2501\u25b6 FIN_WAIT_2"); /* the edge just taken, lit */
    assert_true(y >= 0);
    assert_true(fx_row_has(s, y, "FIN_WAIT_1"));
    screen_free(s);

    /* 100x30: the picture, with the same edges and the table's own words. */
    n = ui_graph_picture_edges(edges, 64);
    for (size_t i = 0; i < n; i++)
        assert_true(tcp_transition_legal(edges[i][0], edges[i][1]));
    for (size_t f = 0; f < sizeof fig5 / sizeof fig5[0]; f++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= edges[i][0] == fig5[f][0] && edges[i][1] == fig5[f][1];
        assert_true(found);
    }
    s = at_step(c, 5, 100, 30);
    for (size_t k = 0; k < n; k++) {
        const struct tcp_transition *t = NULL; /* the table's first row for this edge */
        for (size_t i = 0; i < tcp_ntransitions && !t; i++)
            if (tcp_transitions[i].from == edges[k][0] && tcp_transitions[i].to == edges[k][1])
                t = &tcp_transitions[i];
        assert_non_null(t);
        char label[96];
        if (t->action && *t->action)
            snprintf(label, sizeof label, "%s/%s", t->event, t->action);
        else
            snprintf(label, sizeof label, "%s", t->event);
        assert_true(screen_contains(s, label));
    }
    assert_true(screen_contains(s, "client in FIN_WAIT_2"));
    /* The current states are highlighted (reverse), the others are not. */
    int found_rev = 0;
    for (int yy = 0; yy < s->h; yy++) {
        char buf[1024];
        screen_row_text(s, yy, buf, sizeof buf);
        char *p = strstr(buf, "FIN_WAIT_2");
        if (!p || strstr(buf, "client in"))
            continue;
        for (int x = 0; x < s->w; x++)
            if (screen_cell(s, x, yy)->ch == 'F' && screen_cell(s, x + 4, yy)->ch == 'W' &&
                screen_cell(s, x + 9, yy)->ch == '2' && (screen_cell(s, x, yy)->attr & SA_REVERSE))
                found_rev++;
    }
    assert_true(found_rev >= 1);
    screen_free(s);
}

static void test_details_show_each_field_in_network_byte_order(void **state)
{
    struct ctx *c = *state;
    c->o.details = true;
    ui_player_seek(&c->p, 2);
    c->o.selected = 0;
    while ((size_t)c->o.selected < c->p.model.nrows && !c->p.model.rows[c->o.selected].has_arrow)
        c->o.selected++;
    struct screen *s = fx_render(&c->p, &c->o, 130, 40);
    assert_true(screen_contains(s, "segment details \u00b7 SYN seq=0"));
    assert_true(screen_contains(s, "00 0f 42 40"));  /* seq 1000000, most significant first */
    assert_true(screen_contains(s, "fa f0"));        /* window 64240 */
    assert_true(screen_contains(s, "1f 90"));        /* port 8080 */
    assert_true(screen_contains(s, "02 04 05 b4"));  /* MSS option 1460 */
    assert_true(screen_contains(s, "0000   45 00")); /* hex dump with offsets */
    assert_true(screen_contains(s, "relative"));
    screen_free(s);
}

/* A timeline in the engine's own order: a call's event comes after the
 * state change and the segment it caused, all at one instant. */
static struct scn_timeline *engine_order_timeline(bool kernel_peer)
{
    struct fx *f = calloc(1, sizeof *f);
    struct scn_timeline *tl = &f->tl;
    fx_hosts(tl);
    tl->hosts[1].kernel = kernel_peer;
    fx_state(f, C_, TCP_ESTABLISHED, TCP_FIN_WAIT_1, "close()", false);
    fx_seg(f, C_, TCP_FIN | TCP_ACK, FX_ISN_C + 1, FX_ISN_S + 1, 64240, NULL, true, false);
    fx_call(f, C_, TCP_CALL_CLOSE, 0, 0);
    for (size_t i = 0; i < tl->nevents; i++)
        tl->events[i]->t_us = 1000; /* one instant, as the engine reports it */
    if (kernel_peer) {
        struct tev k;
        memset(&k, 0, sizeof k);
        k.kind = TEV_KERNEL;
        k.host = "kernel";
        k.tuple = fx_tuple(S_);
        k.u.kernel.state = TCP_CLOSE_WAIT;
        k.u.kernel.prev = TCP_ESTABLISHED;
        fx_push(f, &k);
    }
    fx_step(f, "client: close", "The client closes.", "客户端关闭。");
    return tl;
}

/* The row of the ladder (not the state boxes) that contains text, or -1. */
static int ladder_row_of(const struct screen *s, const char *text)
{
    struct ui_layout l;
    struct ui_layout_opts lo = {.nhosts = 2};
    ui_layout_play(&l, s->w, s->h, &lo);
    l.ladder.h = l.narration_sep - l.ladder.y; /* up to the narration, however tall */
    for (int y = l.ladder.y; y < l.ladder.y + l.ladder.h; y++)
        if (fx_row_has(s, y, text))
            return y;
    return -1;
}

static void test_a_call_is_drawn_before_the_segment_it_caused(void **state)
{
    struct ctx *c = *state;
    struct scn_timeline *tl = engine_order_timeline(false);
    struct ui_player p;
    ui_player_init(&p, tl);
    ui_player_seek(&p, 1);
    struct screen *s = fx_render(&p, &c->o, 100, 30);
    int call = ladder_row_of(s, "close()"), fin = ladder_row_of(s, "FIN,ACK seq=");
    assert_true(call >= 0 && fin >= 0);
    assert_true(call < fin);                    /* close() first, then FIN_WAIT_1 and its FIN */
    assert_true(fx_row_has(s, fin, "FIN_WAIT_1")); /* the state beside its segment */
    screen_free(s);
    ui_player_free(&p);
    fx_free(tl);
}

static void test_kernel_peer_shows_the_kernels_own_state(void **state)
{
    struct ctx *c = *state;
    struct scn_timeline *tl = engine_order_timeline(true);
    struct ui_player p;
    ui_player_init(&p, tl);
    ui_player_seek(&p, 1);
    struct screen *s = fx_render(&p, &c->o, 100, 30);
    assert_true(screen_contains(s, "server 10.7.0.1:8080 \u00b7 kernel"));
    assert_true(screen_contains(s, "client 10.7.0.2:40312 \u00b7 tcplab stack"));
    assert_true(screen_contains(s, "(kernel's own state)"));
    int y = fx_row_of(s, "(kernel's own state)");
    assert_true(y >= 0 && y <= 5);
    assert_true(screen_contains(s, "CLOSE_WAIT"));
    /* ... and in the kernel's lane of the ladder, right of its column. */
    y = ladder_row_of(s, "CLOSE_WAIT");
    assert_true(y >= 0);
    struct ui_ladder_geom g;
    ui_ladder_geometry(98, 2, &g);
    char buf[1024];
    screen_row_text(s, y, buf, sizeof buf);
    assert_true(ui_text_width(buf) > 1 + g.col_x[1]);
    /* The state-machine line follows the kernel's state too (a kernel host has
     * no state events of its own), not a CLOSED that never changes. */
    y = fx_row_of(s, "[CLOSE_WAIT]");
    assert_true(y >= 0 && fx_row_has(s, y, "server"));
    assert_false(screen_contains(s, "server   [CLOSED]"));
    screen_free(s);
    s = fx_render(&p, &c->o, 80, 24); /* short titles: the kernel still says so */
    assert_true(screen_contains(s, "10.7.0.1:8080 \u00b7 kernel"));
    screen_free(s);
    ui_player_free(&p);
    fx_free(tl);
}

/* Between columns too close for the whole label, what matters least goes
 * first: options, then the word beside ↻, then the window; flags, seq and ack
 * stay. */
static void test_a_label_too_long_leaves_out_options_then_window(void **state)
{
    struct ctx *c = *state;
    struct scn_timeline *tl = engine_order_timeline(false);
    struct fx *f = (struct fx *)tl;
    fx_seg(f, C_, TCP_SYN, FX_ISN_C, 0, 64240, NULL, false, false);
    fx_seg(f, S_, TCP_SYN | TCP_ACK, FX_ISN_S, FX_ISN_C + 1, 65160, NULL, false, true);
    fx_step(f, "again", "again", "again");
    struct ui_player p;
    ui_player_init(&p, tl);
    ui_player_seek(&p, tl->nsteps);
    const struct ui_arrow *a = NULL;
    for (size_t r = 0; r < p.model.nrows; r++)
        if (p.model.rows[r].has_arrow && p.model.rows[r].arrow.retransmission)
            a = &p.model.rows[r].arrow;
    assert_non_null(a);
    char full[160], fit[160];
    ui_segment_label(&p.model, a, false, full, sizeof full);
    assert_non_null(strstr(full, "<mss 1460> (retransmission)"));
    ui_segment_label_fit(&p.model, a, false, 200, fit, sizeof fit);
    assert_string_equal(fit, full);
    ui_segment_label_fit(&p.model, a, false, ui_text_width(full) - 1, fit, sizeof fit);
    assert_null(strstr(fit, "mss"));
    assert_non_null(strstr(fit, "(retransmission)"));
    ui_segment_label_fit(&p.model, a, false, 32, fit, sizeof fit);
    assert_string_equal(fit, "\u21bb SYN,ACK seq=0 ack=1 win=65160");
    ui_segment_label_fit(&p.model, a, false, 22, fit, sizeof fit);
    assert_string_equal(fit, "\u21bb SYN,ACK seq=0 ack=1");
    (void)c;
    ui_player_free(&p);
    fx_free(tl);
}

/* The same four ports opened again with new ISNs (lesson 6): the new
 * incarnation is numbered from 0, as the text trace numbers it. */
static void test_a_new_incarnation_is_numbered_from_zero_again(void **state)
{
    struct ctx *c = *state;
    struct scn_timeline *tl = engine_order_timeline(false);
    struct fx *f = (struct fx *)tl;
    fx_seg(f, C_, TCP_SYN, FX_ISN_C, 0, 64240, NULL, false, false);
    fx_seg(f, S_, TCP_SYN | TCP_ACK, FX_ISN_S, FX_ISN_C + 1, 65160, NULL, false, false);
    fx_step(f, "first", "first", "first");
    fx_seg(f, C_, TCP_SYN, FX_ISN_C + 5000, 0, 64240, NULL, false, false);
    fx_seg(f, S_, TCP_SYN | TCP_ACK, FX_ISN_S + 9000, FX_ISN_C + 5001, 65160, NULL, false, false);
    fx_seg(f, C_, TCP_ACK, FX_ISN_C + 5001, FX_ISN_S + 9001, 64240, NULL, false, false);
    fx_step(f, "again", "again", "again");
    struct ui_player p;
    ui_player_init(&p, tl);
    ui_player_seek(&p, tl->nsteps);
    struct screen *s = fx_render(&p, &c->o, 100, 30);
    assert_false(screen_contains(s, "seq=5000"));
    assert_false(screen_contains(s, "seq=9000"));
    assert_true(screen_contains(s, "ACK seq=1 ack=1"));
    int n = 0;
    for (size_t r = 0; r < p.model.nrows; r++) {
        const struct ui_arrow *a = &p.model.rows[r].arrow;
        if (p.model.rows[r].has_arrow && (tl->events[a->ev]->u.seg.tcp.flags & TCP_SYN)) {
            assert_true(a->rel_known);
            assert_int_equal(a->rel_seq, 0);
            n++;
        }
    }
    assert_int_equal(n, 4);
    screen_free(s);
    ui_player_free(&p);
    fx_free(tl);
}

/* The kernel's states are sampled: a look that finds LAST_ACK where the last
 * one found ESTABLISHED says CLOSE_WAIT was passed unseen, in the state box
 * and on the state-machine line, and draws no edge Figure 5 lacks. */
static void test_kernel_states_missed_by_sampling_are_named_not_observed(void **state)
{
    struct ctx *c = *state;
    struct scn_timeline *tl = engine_order_timeline(true);
    struct tev *k = tl->events[tl->nevents - 1];
    assert_int_equal(k->kind, TEV_KERNEL);
    k->u.kernel.prev = TCP_ESTABLISHED;
    k->u.kernel.state = TCP_LAST_ACK;
    struct ui_player p;
    ui_player_init(&p, tl);
    ui_player_seek(&p, 1);
    for (int size = 0; size < 2; size++) {
        struct screen *s = fx_render(&p, &c->o, size ? 80 : 100, size ? 24 : 30);
        assert_true(screen_contains(s, "(passed through CLOSE_WAIT, not observed)"));
        int y = fx_row_of(s, "\u25b6 [LAST_ACK]");
        assert_true(y >= 0 && fx_row_has(s, y, "server"));
        assert_true(fx_row_has(s, y, "ESTABLISHED"));
        assert_true(fx_row_has(s, y, "\u2504(passed through CLOSE_WAIT, not observed)\u2504\u25b6"));
        assert_false(screen_contains(s, "(was "));
        screen_free(s);
    }
    /* A direct edge between two looks needs no note. */
    k->u.kernel.state = TCP_CLOSE_WAIT;
    ui_player_seek(&p, 1);
    struct screen *s = fx_render(&p, &c->o, 100, 30);
    assert_false(screen_contains(s, "not observed"));
    screen_free(s);
    ui_player_free(&p);
    fx_free(tl);
}

static void test_every_size_and_step_keeps_the_frame_whole(void **state)
{
    struct ctx *c = *state;
    char buf[4096];
    for (int w = 80; w <= 170; w += 9)
        for (int h = 24; h <= 52; h += 4)
            for (size_t k = 0; k <= c->tl->nsteps; k += 3) {
                for (int mode = 0; mode < 3; mode++) {
                    c->o.details = mode == 1;
                    c->o.graph = mode == 2;
                    struct screen *s = at_step(c, k, w, h);
                    assert_int_equal(screen_cell(s, 0, 1)->ch, 0x250c);     /* ┌ */
                    assert_int_equal(screen_cell(s, w - 1, 1)->ch, 0x2510); /* ┐ */
                    assert_int_equal(screen_cell(s, 0, h - 1)->ch, 0x2514); /* └ */
                    assert_int_equal(screen_cell(s, w - 1, h - 1)->ch, 0x2518);
                    for (int y = 2; y < h - 1; y++) {
                        assert_true(screen_cell(s, 0, y)->ch == 0x2502 ||
                                    screen_cell(s, 0, y)->ch == 0x251c);
                        screen_row_text(s, y, buf, sizeof buf);
                        assert_true(ui_text_width(buf) <= w);
                    }
                    screen_free(s);
                }
            }
    c->o.details = c->o.graph = false;
    struct screen *s = at_step(c, 3, 79, 24);
    assert_true(screen_contains(s, "too small"));
    screen_free(s);
}

static void test_refused_connect_shows_rst_relative_ack_and_the_error(void **state)
{
    struct ctx *c = *state;
    struct fx *f = calloc(1, sizeof *f);
    struct scn_timeline *tl = &f->tl;
    fx_hosts(tl);
    /* In the engine's order: state, SYN, then the call; RST back; the error. */
    fx_state(f, C_, TCP_CLOSED, TCP_SYN_SENT, "connect()", false);
    fx_seg(f, C_, TCP_SYN, FX_ISN_C, 0, 64240, NULL, false, false);
    fx_call(f, C_, TCP_CALL_CONNECT, 0, FX_SPORT);
    for (size_t i = 0; i < tl->nevents; i++)
        tl->events[i]->t_us = 0;
    fx_seg(f, S_, TCP_RST | TCP_ACK, 0, FX_ISN_C + 1, 0, NULL, false, false);
    fx_state(f, C_, TCP_SYN_SENT, TCP_CLOSED, "rcvd RST", false);
    fx_call(f, C_, TCP_CALL_CONNECT, -111 /* ECONNREFUSED */, FX_SPORT);
    fx_step(f, "client: connect server:8080", "Nobody listens: RST.", "没有人监听：RST。");
    struct ui_player p;
    ui_player_init(&p, tl);
    ui_player_seek(&p, 1);
    struct screen *s = fx_render(&p, &c->o, 100, 30);
    assert_true(screen_contains(s, "RST,ACK seq=0 ack=1"));
    assert_true(screen_contains(s, "connect() = ECONNREFUSED"));
    assert_true(screen_contains(s, "connect()"));
    assert_false(screen_contains(s, "connect() = 0")); /* the first one began, it did not return */
    screen_free(s);
    ui_player_free(&p);
    fx_free(tl);
}

static void test_play_runs_through_every_step_and_stops_at_the_end(void **state)
{
    struct ctx *c = *state;
    ui_player_seek(&c->p, 0);
    ui_player_toggle_play(&c->p);
    assert_true(c->p.playing);
    for (int i = 0; i < 100000 && c->p.playing; i++)
        ui_player_tick(&c->p, 0.05);
    assert_false(c->p.playing);
    assert_int_equal(c->p.step, c->tl->nsteps);
    assert_int_equal(c->p.model.applied, c->tl->nevents);
    for (int i = 0; i < 40 && ui_player_busy(&c->p); i++)
        ui_player_tick(&c->p, 0.05);     /* the last state change's flash fades */
    assert_false(ui_player_busy(&c->p)); /* idle: the terminal loop may block */
    /* space at the end plays again from the start */
    ui_player_toggle_play(&c->p);
    assert_true(c->p.playing);
    assert_int_equal(c->p.step, 0);
}

static void test_speed_scales_the_animation(void **state)
{
    struct ctx *c = *state;
    double progress[2];
    for (int k = 0; k < 2; k++) {
        ui_player_seek(&c->p, 1);
        ui_player_set_speed(&c->p, k == 0 ? 1.0 : 2.0);
        ui_player_next(&c->p);
        for (int i = 0; i < 1000 && c->p.flying_row < 0; i++)
            ui_player_tick(&c->p, 0.0001);
        assert_true(c->p.flying_row >= 0);
        ui_player_tick(&c->p, 0.2);
        progress[k] = c->p.progress;
    }
    assert_true(progress[1] > progress[0] * 1.8 && progress[1] < progress[0] * 2.2);
    ui_player_set_speed(&c->p, 1.0);
    ui_player_faster(&c->p);
    assert_true(c->p.speed == 2.0);
    for (int i = 0; i < 10; i++)
        ui_player_faster(&c->p);
    assert_true(c->p.speed == UI_SPEED_MAX);
    for (int i = 0; i < 20; i++)
        ui_player_slower(&c->p);
    assert_true(c->p.speed == UI_SPEED_MIN);
}

static void test_probes_are_named_by_the_timer_that_sent_them(void **state)
{
    struct ctx *c = *state;
    struct fx *f = calloc(1, sizeof *f);
    struct scn_timeline *tl = &f->tl;
    fx_hosts(tl);
    fx_seg(f, C_, TCP_SYN, FX_ISN_C, 0, 64240, NULL, false, false); /* the ISNs */
    fx_seg(f, S_, TCP_SYN | TCP_ACK, FX_ISN_S, FX_ISN_C + 1, 65160, NULL, false, false);
    fx_timer(f, C_, TCP_TIMER_KEEPALIVE, TEV_TIMER_FIRE, 0);
    fx_seg(f, C_, TCP_ACK, FX_ISN_C, FX_ISN_S + 1, 64240, NULL, false, false);
    tl->events[tl->nevents - 2]->u.seg.probe = true; /* the OUT event */
    fx_timer(f, S_, TCP_TIMER_PERSIST, TEV_TIMER_FIRE, 0);
    fx_seg(f, S_, TCP_ACK, FX_ISN_S + 1, FX_ISN_C + 1, 0, NULL, false, false);
    tl->events[tl->nevents - 2]->u.seg.probe = true;
    fx_step(f, "wait 2h", "Probes.", "探测。");
    struct ui_player p;
    ui_player_init(&p, tl);
    ui_player_seek(&p, 1);
    struct screen *s = fx_render(&p, &c->o, 100, 30);
    assert_true(screen_contains(s, "(keepalive probe)"));
    assert_true(screen_contains(s, "(zero-window probe)"));
    assert_true(screen_contains(s, "keepalive timeout"));
    screen_free(s);
    ui_player_free(&p);
    fx_free(tl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_handshake_labels_use_relative_sequence_numbers_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_a_shows_absolute_sequence_numbers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_data_segments_show_their_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arrows_point_from_sender_to_receiver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_segment_dies_half_way_with_a_cross, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retransmission_is_marked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_boxes_show_the_state_and_why_it_changed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_socket_calls_are_written_beside_their_endpoint, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_listen_queues_count_half_open_and_unaccepted_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_wait_bar_counts_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narration_in_english_and_in_chinese, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chinese_narration_wraps_inside_its_panel_at_80x24,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_overlay_lists_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_back_restores_the_exact_earlier_screen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_arrow_in_flight_is_drawn_part_way_then_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_80x24_still_shows_states_labels_and_narration, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_labels_are_cut_to_the_room_between_columns, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_diagram_is_drawn_from_the_engine_table, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_details_show_each_field_in_network_byte_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_call_is_drawn_before_the_segment_it_caused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kernel_peer_shows_the_kernels_own_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_label_too_long_leaves_out_options_then_window, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_new_incarnation_is_numbered_from_zero_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_kernel_states_missed_by_sampling_are_named_not_observed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_size_and_step_keeps_the_frame_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refused_connect_shows_rst_relative_ack_and_the_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_play_runs_through_every_step_and_stops_at_the_end,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_speed_scales_the_animation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probes_are_named_by_the_timer_that_sent_them, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
