/*
 * live.c — the live view of `tcplab listen --ui` (live.h): the terminal
 * side. ui/tui/view_live.c keeps the events and draws; this file takes over the
 * terminal, reads keys when the TUN loop says stdin is readable, and
 * redraws at most about 30 times a second, only when something changed
 * (or once a second while timers are counting down).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "live.h"
#include "term.h"
#include "view_live.h"

#define FRAME_US 33000
#define TICK_US  1000000

struct ui_live {
    struct ui_live_state st;
    struct term *term;
    struct screen *scr;
    struct ui_view_opts opts;
    uint64_t last_draw;
    bool resized;
};

struct ui_live *ui_live_open(const struct stack *s, const char *title)
{
    ui_locale_init();
    struct ui_live *ui = calloc(1, sizeof *ui);
    if (!ui) {
        fprintf(stderr, "tcplab: out of memory for the live view\n");
        return NULL;
    }
    char err[256];
    ui->term = term_open(err, sizeof err);
    if (!ui->term) {
        fprintf(stderr, "tcplab: --ui: %s\n", err);
        free(ui);
        return NULL;
    }
    int w, h;
    term_size(ui->term, &w, &h);
    ui->scr = screen_new(w, h);
    ui_live_state_init(&ui->st, s, title);
    ui_view_opts_defaults(&ui->opts);
    ui->st.dirty = true;
    return ui;
}

void ui_live_event(struct ui_live *ui, const struct tev *ev)
{
    if (ui)
        ui_live_state_event(&ui->st, ev);
}

int ui_live_fd(const struct ui_live *ui)
{
    return term_fd(ui->term);
}

bool ui_live_input(struct ui_live *ui, uint64_t now_us)
{
    (void)now_us;
    int key;
    while ((key = term_getkey(ui->term, 0)) != TK_NONE) {
        if (ui->opts.help && key != TK_RESIZE) {
            ui->opts.help = false;
            ui->st.dirty = true;
            continue;
        }
        switch (key) {
        case 'q':
        case 'Q':
        case TK_EOF:
            return false;
        case TK_UP:
        case 'k':
            ui_live_select(&ui->st, -1);
            break;
        case TK_DOWN:
        case 'j':
            ui_live_select(&ui->st, +1);
            break;
        case 'f':
            ui->st.follow = true;
            break;
        case 'a':
            ui->opts.absolute = !ui->opts.absolute;
            break;
        case 'd':
            ui->opts.details = !ui->opts.details;
            ui->opts.cc_graph = false;
            ui->opts.details_scroll = 0;
            break;
        case 'c':
            ui->opts.cc_graph = !ui->opts.cc_graph;
            ui->opts.details = false;
            break;
        case TK_PGUP:
            ui->opts.details_scroll = ui->opts.details_scroll > 5 ? ui->opts.details_scroll - 5 : 0;
            break;
        case TK_PGDN:
            if (ui->opts.details)
                ui->opts.details_scroll += 5;
            break;
        case '?':
            ui->opts.help = true;
            break;
        case TK_RESIZE: {
            int w, h;
            term_size(ui->term, &w, &h);
            screen_resize(ui->scr, w, h);
            break;
        }
        default:
            continue;
        }
        ui->st.dirty = true;
    }
    return true;
}

uint64_t ui_live_refresh(struct ui_live *ui, uint64_t now_us)
{
    if (!ui->scr)
        return TCP_TIME_NEVER;
    /* SIGWINCH only interrupts the loop's poll(); look at the size here, on
     * every wake-up, instead of waiting for a key to deliver KEY_RESIZE. */
    int w, h;
    if (term_poll_resize(ui->term, &w, &h)) {
        screen_resize(ui->scr, w, h);
        ui->st.dirty = true;
        ui->last_draw = 0; /* at once, not after the frame limit */
    }
    bool timers = ui->st.nrows > 0; /* countdowns in the table move */
    bool due = ui->st.dirty || (timers && now_us >= ui->last_draw + TICK_US);
    if (!due)
        return timers ? ui->last_draw + TICK_US : TCP_TIME_NEVER;
    if (ui->last_draw && now_us < ui->last_draw + FRAME_US)
        return ui->last_draw + FRAME_US; /* rate limit: come back for the next frame */
    ui_render_live(ui->scr, &ui->st, now_us, &ui->opts);
    term_blit(ui->term, ui->scr);
    ui->last_draw = now_us;
    return ui->st.nrows > 0 ? now_us + TICK_US : TCP_TIME_NEVER;
}

void ui_live_close(struct ui_live *ui)
{
    if (!ui)
        return;
    term_close(ui->term);
    screen_free(ui->scr);
    ui_live_state_free(&ui->st);
    free(ui);
}
