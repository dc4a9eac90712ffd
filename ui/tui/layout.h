/*
 * layout.h — where each panel of the classroom UI goes for a terminal size,
 * and how panels collapse as the terminal shrinks.
 *
 * 100x30 and larger: everything (state boxes three rows high, three lines of
 * narration, one diagram line per endpoint). 80x24: the state boxes become
 * one line, narration two lines, the diagram two lines; the ladder keeps at
 * least 8 rows. Below 80x24 nothing is drawn but a message saying the
 * terminal is too small and how big it must be. Pure arithmetic: tested in
 * memory (tests/unit/test_ui_layout.c).
 */
#ifndef TCPLAB_LAYOUT_H
#define TCPLAB_LAYOUT_H

#include <stdbool.h>

#define UI_MIN_W 80
#define UI_MIN_H 24

struct ui_rect {
    int x, y, w, h;
};

struct ui_layout {
    bool too_small; /* below UI_MIN_W x UI_MIN_H */
    int w, h;
    struct ui_rect status;   /* top line: scenario, mode, speed, step, time */
    struct ui_rect frame;    /* the outer box (its top edge names the endpoints) */
    struct ui_rect states;   /* state boxes, timers, listen queues */
    bool boxed_states;       /* three-row boxes (else one line each) */
    struct ui_rect ladder;   /* the ladder diagram with its call lanes */
    struct ui_rect details;  /* segment details (h == 0 when hidden) */
    struct ui_rect graph;    /* the whole state diagram (h == 0 when hidden) */
    struct ui_rect cc_graph; /* the cwnd graph under the ladder (h == 0 when hidden);
                                its divider is the row above */
    int narration_sep;       /* row of the "narration" divider (-1 if hidden) */
    struct ui_rect narration;
    int diagram_sep;        /* row of the "state machine" divider (-1 if hidden) */
    struct ui_rect diagram; /* compact diagram: one line per endpoint */
    struct ui_rect keys;    /* bottom edge: key hints */
};

struct ui_layout_opts {
    int nhosts;    /* endpoints (columns) */
    bool details;  /* segment details shown */
    bool graph;    /* whole state diagram shown instead of the ladder */
    int narration; /* lines the narration needs (0: the default); it grows up to 6 lines
                      while the ladder keeps 8 rows */
    bool cc_line;  /* one more row under the states: each sender's cwnd, ssthresh, flight */
    bool cc_graph; /* the cwnd graph (key c) takes the lower part of the ladder */
};

void ui_layout_play(struct ui_layout *l, int w, int h, const struct ui_layout_opts *o);

/* Live view (`tcplab listen --ui`): table, ladder of the selected
 * connection, event log. */
struct ui_live_layout {
    bool too_small;
    struct ui_rect status, table, ladder, log, keys;
    int ladder_sep, log_sep;
};
void ui_layout_live(struct ui_live_layout *l, int w, int h);

#endif
