/*
 * view_play.c — one whole frame of `tcplab play`: the layout (layout.h)
 * filled in by the views, in the order that lets the help overlay cover the
 * rest. This is the only function the terminal loop and headless mode call.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "view.h"

/* Lines of `text` wrapped to the screen's width, centred, from row y; returns
 * the next row. */
static int print_wrapped_centred(struct screen *s, int y, uint16_t attr, const char *text)
{
    size_t lines[8][2];
    int n = ui_wrap(text, s->w, lines, 8);
    for (int i = 0; i < n && i < 8 && y < s->h; i++, y++) {
        char buf[200];
        size_t len = lines[i][1] < sizeof buf - 1 ? lines[i][1] : sizeof buf - 1;
        memcpy(buf, text + lines[i][0], len);
        buf[len] = 0;
        int w = ui_text_width(buf);
        screen_print(s, w < s->w ? (s->w - w) / 2 : 0, y, s->w, attr, buf);
    }
    return y;
}

void ui_view_too_small(struct screen *s, int need_w, int need_h)
{
    screen_clear(s);
    char msg[160];
    snprintf(msg, sizeof msg, "terminal %dx%d is too small", s->w, s->h);
    char msg2[160];
    snprintf(msg2, sizeof msg2,
             "tcplab needs at least %dx%d: enlarge the window or use a smaller font", need_w,
             need_h);
    /* Wrapped, so the message stays readable on a very narrow screen too. */
    size_t tmp[8][2];
    int lines = ui_wrap(msg, s->w, tmp, 8) + ui_wrap(msg2, s->w, tmp, 8) + 1;
    if (lines > s->h) { /* tiny: the short form */
        snprintf(msg, sizeof msg, "too small");
        snprintf(msg2, sizeof msg2, "need %dx%d", need_w, need_h);
        lines = ui_wrap(msg, s->w, tmp, 8) + ui_wrap(msg2, s->w, tmp, 8) + 1;
    }
    int y = lines < s->h ? (s->h - lines) / 2 : 0;
    y = print_wrapped_centred(s, y, (uint16_t)(SC_LOST | SA_BOLD), msg);
    y = print_wrapped_centred(s, y, SC_NORMAL, msg2);
    screen_print(s, 0, y < s->h ? y : s->h - 1, s->w, SC_DIM, "(q quits)");
}

/* "name label · kernel|tcplab stack" (level 0), "name label" (1), "name" (2);
 * a kernel endpoint keeps "· kernel" at every level. */
static void host_title(const struct ui_host *h, int level, char *buf, size_t cap)
{
    if (level == 0)
        snprintf(buf, cap, " %s %s \u00b7 %s ", h->name, h->label,
                 h->kind[0]  ? h->kind
                 : h->kernel ? "kernel"
                             : "tcplab stack");
    else if (level == 1) /* which end is the kernel matters most: it stays */
        snprintf(buf, cap, " %s %s%s ", h->name, h->label, h->kernel ? " \u00b7 kernel" : "");
    else
        snprintf(buf, cap, " %s%s ", h->name, h->kernel ? " \u00b7 kernel" : "");
}

/* The most detailed title level at which every endpoint's title fits. */
static int title_level(const struct ui_model *m, int w)
{
    for (int level = 0; level < 2; level++) {
        int total = 0, widest = 0;
        for (size_t i = 0; i < m->nhosts; i++) {
            char t[160];
            host_title(&m->hosts[i], level, t, sizeof t);
            int tw = ui_text_width(t);
            total += tw + 1;
            if (tw > widest)
                widest = tw;
        }
        if (m->nhosts <= 2 ? total <= w - 4 : widest <= (w - 4) / (int)m->nhosts - 1)
            return level;
    }
    return 2;
}

/* A divider across the frame with a title: ├ narration ─────┤ */
static void divider(struct screen *s, int y, const char *title)
{
    screen_putc(s, 0, y, 0x251c, SC_FRAME);
    screen_hline(s, 1, y, s->w - 2, 0x2500, SC_FRAME);
    screen_putc(s, s->w - 1, y, 0x2524, SC_FRAME);
    if (title) {
        int used = screen_print(s, 2, y, s->w - 4, SC_FRAME, " ");
        used +=
            screen_print(s, 2 + used, y, s->w - 4 - used, (uint16_t)(SC_TITLE | SA_BOLD), title);
        screen_print(s, 2 + used, y, s->w - 4 - used, SC_FRAME, " ");
    }
}

void ui_render_play(struct screen *s, const struct ui_player *p, const struct ui_view_opts *o)
{
    const struct ui_model *m = &p->model;
    screen_clear(s);
    struct ui_layout l;
    int words = o->quiz ? ui_quiz_height(o->quiz, p->tl, p->step, o->zh, s->w - 2)
                        : ui_narration_height(p->tl, p->step, o->zh, s->w - 2);
    bool cc_line = ui_cc_worth_showing(p->tl);
    struct ui_layout_opts lo = {.nhosts = (int)m->nhosts,
                                .details = o->details,
                                .graph = o->graph,
                                .narration = words,
                                .cc_line = cc_line,
                                .cc_graph = o->cc_graph};
    ui_layout_play(&l, s->w, s->h, &lo);
    if (l.too_small) {
        ui_view_too_small(s, UI_MIN_W, UI_MIN_H);
        return;
    }
    ui_view_status(s, l.status, p, o);
    screen_box(s, l.frame.x, l.frame.y, l.frame.w, l.frame.h, false, SC_FRAME, NULL);

    /* Endpoint names in the top edge, over their columns. */
    struct ui_ladder_geom g;
    ui_ladder_geometry(l.ladder.w, (int)m->nhosts, &g);
    int level = title_level(m, s->w);
    for (size_t i = 0; i < m->nhosts; i++) {
        char t[160];
        host_title(&m->hosts[i], level, t, sizeof t);
        int tw = ui_text_width(t);
        int x;
        if (i == 0)
            x = 2;
        else if (i == m->nhosts - 1)
            x = s->w - 2 - tw;
        else
            x = l.ladder.x + g.col_x[i] - tw / 2;
        uint16_t a = (uint16_t)((i == 0 ? SC_HOST_A : SC_HOST_B) | SA_BOLD);
        screen_print(s, x < 1 ? 1 : x, l.frame.y, s->w - 2 - (x < 1 ? 1 : x), a, t);
    }

    const struct scn_step *step = ui_player_current_step(p);
    size_t flash_from = step ? step->first_event : SIZE_MAX;
    ui_view_states(s, l.states, l.boxed_states, m, p->clock_us, o->flash, flash_from, cc_line);
    if (l.ladder.h > 0) {
        struct ui_view_opts lo2 = *o;
        lo2.new_from = flash_from;
        ui_view_ladder(s, l.ladder, m, p->flying_row, p->progress, &lo2);
    }
    if (l.details.h > 0) {
        int row = ui_ladder_selected(m, o);
        if (l.details.x > 1) {
            screen_vline(s, l.details.x - 1, l.details.y, l.details.h, 0x2502, SC_FRAME);
        } else {
            char t[192] = "segment details";
            if (row >= 0 && m->rows[row].has_arrow) {
                char lab[160];
                ui_segment_label(m, &m->rows[row].arrow, o->absolute, lab, sizeof lab);
                snprintf(t, sizeof t, "segment details \u00b7 %s", lab);
            }
            divider(s, l.details.y - 1, t);
        }
        ui_view_details(s, l.details, m, row, o);
    }
    if (l.graph.h > 0)
        ui_view_graph(s, l.graph, m);
    if (l.cc_graph.h > 0) {
        char t[160];
        ui_cc_graph_title(m, t, sizeof t);
        divider(s, l.cc_graph.y - 1, t);
        ui_view_cc_graph(s, l.cc_graph, m);
    }
    if (l.narration_sep >= 0) {
        if (o->quiz) {
            char t[64];
            ui_quiz_title(o->quiz, o->zh, t, sizeof t);
            divider(s, l.narration_sep, t);
            ui_view_quiz(s, l.narration, o->quiz, p->tl, p->step, o->zh);
        } else {
            divider(s, l.narration_sep,
                    o->zh ? "narration \u00b7 \u4e2d\u6587" : "narration \u00b7 English");
            ui_view_narration(s, l.narration, p->tl, p->step, o->zh);
        }
    }
    if (l.diagram_sep >= 0) {
        divider(s, l.diagram_sep, "state machine");
        for (int i = 0; i < l.diagram.h && (size_t)i < m->nhosts; i++)
            ui_view_diagram_line(s, l.diagram.x + 1, l.diagram.y + i, l.diagram.w - 2, m, i);
    }
    ui_view_keybar(s, l.keys, o);
    if (o->help)
        ui_view_help(s, o->zh, o->help_page);
}
