/*
 * view_live.h — the state behind `tcplab listen --ui` (events kept, the
 * connection table, the selection) and its drawing into the screen model.
 * ui/tui/live.c puts it on the terminal; tests drive it in memory.
 */
#ifndef TCPLAB_VIEW_LIVE_H
#define TCPLAB_VIEW_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relseq.h"
#include "tcp.h"
#include "view.h"

#define UI_LIVE_MAX_EVENTS 20000 /* events kept for the ladders (oldest dropped) */
#define UI_LIVE_MAX_ROWS   512   /* connections listed */
#define UI_LIVE_LOG_LINES  256
#define UI_LIVE_LOG_LEN    160

struct ui_live_row {
    int sd; /* -1: no descriptor (e.g. TIME_WAIT after close) */
    struct tcp_status st;
};

struct ui_live_state {
    const struct stack *stack;
    char title[128];
    char stack_name[32];
    struct tev **ev; /* ring of owned copies */
    size_t first, nev;
    struct ui_live_row rows[UI_LIVE_MAX_ROWS];
    size_t nrows;
    struct {
        struct tcp_tuple tuple; /* from the stack's side */
        enum tcp_state state;
        bool gone;
    } kern[UI_LIVE_MAX_ROWS]; /* the kernel's own state of each connection */
    size_t nkern;
    bool have_sel, follow; /* follow: select the newest connection */
    struct tcp_tuple sel;
    struct scn_timeline sel_tl; /* the selection's events, for the ladder */
    struct tev **sel_events;
    char log[UI_LIVE_LOG_LINES][UI_LIVE_LOG_LEN];     /* relative seq/ack (the default) */
    char log_abs[UI_LIVE_LOG_LINES][UI_LIVE_LOG_LEN]; /* the same lines, absolute (key a) */
    struct relseq_map seqs; /* each connection's ISNs (relseq.h), for relative numbers */
    size_t log_next, log_count;
    bool dirty;
};

void ui_live_state_init(struct ui_live_state *st, const struct stack *s, const char *title);
void ui_live_state_free(struct ui_live_state *st);
void ui_live_state_event(struct ui_live_state *st, const struct tev *ev);
/* Re-read the connection table from the stack (stack_foreach_conn). */
void ui_live_state_refresh_table(struct ui_live_state *st);
/* Move the selection up (-1) or down (+1) the table; stops following. */
void ui_live_select(struct ui_live_state *st, int dir);
void ui_render_live(struct screen *s, struct ui_live_state *st, uint64_t now,
                    const struct ui_view_opts *o);

#endif
