/*
 * view.h — the views of the classroom UI. Each draws one panel of the
 * screen model (screen.h) from the playback model (player.h); none touches
 * the terminal. ui_render_play() puts a whole frame together from the
 * layout (layout.h). One file per view: view_ladder.c, view_state.c,
 * view_diagram.c, view_narration.c, view_details.c, view_status.c,
 * view_help.c, view_play.c (the frame), view_live.c (the live table).
 */
#ifndef TCPLAB_VIEW_H
#define TCPLAB_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "player.h"
#include "quiz.h"
#include "screen.h"

/* How the user has set up the view (keys a, d, g, l, ?, arrows). */
struct ui_view_opts {
    bool absolute;      /* absolute sequence numbers (default relative) */
    bool zh;            /* narration in Chinese */
    bool details;       /* segment details panel */
    bool graph;         /* whole state diagram instead of the ladder */
    bool help;          /* help overlay */
    int help_page;      /* its page, when it has several (80x24) */
    bool flash;         /* draw changed states in the flash style */
    int selected;       /* selected ladder row; -1 = the latest segment */
    int ladder_scroll;  /* rows scrolled up from the bottom (0 = follow) */
    int details_scroll; /* lines scrolled in the details panel */
    const char *title;  /* scenario title in the chosen language */
    const char *mode;   /* "VIRTUAL" or "TUN" */
    size_t new_from;    /* events from this index on belong to the current step (drawn bold) */
    const struct quiz_session *quiz; /* quiz mode (key p, --quiz): NULL when off */
    bool time_true;                  /* key t: the ladder's vertical axis is time */
    bool cc_graph;                   /* key c: the time graph of cwnd under the ladder */
    char note[192]; /* shown in the key bar until the next key ("wrote FILE"), or "" */
};
void ui_view_opts_defaults(struct ui_view_opts *o);

/* The whole frame of `tcplab play`. */
void ui_render_play(struct screen *s, const struct ui_player *p, const struct ui_view_opts *o);
/* "terminal 70x20 is too small ..." centred on the screen. */
void ui_view_too_small(struct screen *s, int need_w, int need_h);

/* ---- ladder (view_ladder.c) ------------------------------------------------ */
/* Column x of each endpoint inside a ladder of width w, and the lane widths. */
struct ui_ladder_geom {
    int ncols;
    int col_x[UI_MAX_HOSTS]; /* relative to the ladder's x */
    int lane_left, lane_right;
};
void ui_ladder_geometry(int w, int nhosts, struct ui_ladder_geom *g);
/* "SYN seq=0 win=64240 <mss 1460>", "PSH,ACK seq=1 ack=1 len=5", with
 * "(retransmission)" / "✗ lost" marks. Relative numbers unless absolute. */
size_t ui_segment_label(const struct ui_model *m, const struct ui_arrow *a, bool absolute,
                        char *buf, size_t cap);
/* The same label, leaving out what matters least (options, the word
 * "(retransmission)" beside ↻, the window) until it fits in `width` cells;
 * between close columns, the numbers too ("↻ SYN,ACK"), and last the flags
 * as the text trace writes them ("[S.]"). */
size_t ui_segment_label_fit(const struct ui_model *m, const struct ui_arrow *a, bool absolute,
                            int width, char *buf, size_t cap);
/* Does the label fit `width` cells with its numbers (seq, ack, len)? If not,
 * the caption line gives the current step's segment whole. */
bool ui_segment_label_whole(const struct ui_model *m, const struct ui_arrow *a, bool absolute,
                            int width);
/* "SYN,ACK", "FIN,PSH,ACK", "RST" */
void ui_flags_words(uint8_t flags, char *buf, size_t cap);
/* Lane text for an item: "connect()", "accept() → fd 4", "recv() = 0",
 * "shutdown(SHUT_WR)", "connect() = ECONNREFUSED", "ESTABLISHED", ... */
size_t ui_item_text(const struct ui_model *m, const struct ui_item *it, char *buf, size_t cap);
/* The same, shortened until it fits `width` columns: spaces around = and →
 * go, then a call's arguments (its result stays), "drop:" becomes ✗,
 * "timeout" "fired". */
size_t ui_item_text_fit(const struct ui_model *m, const struct ui_item *it, int width, char *buf,
                        size_t cap);
/* "ECONNREFUSED" for -111 ... */
const char *ui_errno_name(long neg_errno);
/* The ladder rows of `m` into rect r. flying_row/progress animate one arrow. */
void ui_view_ladder(struct screen *s, struct ui_rect r, const struct ui_model *m, int flying_row,
                    double progress, const struct ui_view_opts *o);
/* The arrow that gets the ladder's caption line (its label whole, at the
 * bottom): the selected one, else the current step's newest (ev >=
 * o->new_from), when its label does not fit between its columns; or -1. */
int ui_ladder_caption_row(const struct ui_model *m, int x0, const struct ui_ladder_geom *g,
                          const struct ui_view_opts *o);
/* The row the view treats as selected (o->selected, or the latest arrow). */
int ui_ladder_selected(const struct ui_model *m, const struct ui_view_opts *o);

/* ---- the time-true ladder's geometry (view_timeline.c) --------------------------
 * Each row of the model is split by the times of what is in it; the parts,
 * in time order, are drawn at row y of a ladder `height` rows tall, and an
 * arrow ends at arr_y (below y when the segment spent time on the link).
 * Quiet spans longer than UI_TIME_FOLD rows become one marked break row. */
#define UI_TIME_FOLD       12
#define UI_TIME_MIN_GAP_US 2000
struct ui_time_vrow {
    size_t row;     /* the model's row */
    uint64_t t;     /* when */
    bool arrow;     /* this part holds the row's arrow */
    unsigned lanes; /* bit h: this part holds lane h's item */
    size_t order;   /* position before sorting (ties keep it) */
    int y, arr_y;
};
struct ui_time_break {
    int y;           /* the marked row */
    uint64_t gap_us; /* how long the folded span was */
};
struct ui_time_layout {
    size_t n;
    struct ui_time_vrow *v;
    int height;
    struct ui_time_break *breaks;
    size_t nbreaks;
    double rows_per_s; /* the scale */
};
int ui_time_layout(const struct ui_model *m, struct ui_time_layout *tl); /* 0 or -1 */
void ui_time_layout_free(struct ui_time_layout *tl);

/* ---- state boxes, timers, queues (view_state.c) ----------------------------- */
/* With cc_line, the rect's last row holds each endpoint's congestion window
 * (ui_cc_text). */
void ui_view_states(struct screen *s, struct ui_rect r, bool boxed, const struct ui_model *m,
                    uint64_t now_us, bool flash, size_t flash_from, bool cc_line);
/* "(passed through FIN_WAIT_1, not observed)" when from -> to skips states
 * (the kernel's are sampled); returns how many, 0 leaving buf "". */
size_t ui_unseen_states(enum tcp_state from, enum tcp_state to, char *buf, size_t cap);
/* The same for a kernel host's latest look at one of its sockets. */
size_t ui_host_unseen(const struct ui_host *h, char *buf, size_t cap);
/* "rtx 1.0s [████░░░░]" for one timer into buf. */
size_t ui_timer_text(const struct ui_timer *t, enum tcp_timer which, uint64_t now_us, int bar,
                     char *buf, size_t cap);

/* ---- congestion control (view_cc.c) -------------------------------------------
 * "cwnd 14600  ssthresh 65535  flight 0  cubic slow start", shortened until
 * it fits `width` columns: shorter labels, then no phase, then no
 * algorithm; the numbers always stay. "" when nothing was reported. */
size_t ui_cc_text(const struct ui_cc *cc, int width, char *buf, size_t cap);
const char *ui_cc_phase_words(enum tcp_cc_phase p); /* "slow start", "fast recovery", ... */
/* Whether the record has congestion control worth a line under the states:
 * a cc event with data in flight (a handshake alone reports cwnd too). */
bool ui_cc_worth_showing(const struct scn_timeline *tl);
/* "cwnd graph · client · fast recovery" */
size_t ui_cc_graph_title(const struct ui_model *m, char *buf, size_t cap);
/* The time graph of ui_cc_graph_host()'s cwnd into r: a bar per column up to
 * now, ssthresh dashed, R where fast recovery began, T where a timeout hit,
 * long gaps folded (≈), the scale from the whole record. */
void ui_view_cc_graph(struct screen *s, struct ui_rect r, const struct ui_model *m);

/* ---- state diagram (view_diagram.c) ------------------------------------------ */
/* One line per endpoint: "client  ESTABLISHED ─CLOSE/snd FIN→ [FIN_WAIT_1] → FIN_WAIT_2 | ..." */
void ui_view_diagram_line(struct screen *s, int x, int y, int w, const struct ui_model *m,
                          int host);
/* The whole RFC 9293 Figure 5 graph, current states marked, last edges lit. */
void ui_view_graph(struct screen *s, struct ui_rect r, const struct ui_model *m);
/* Diagram edges drawn by ui_view_graph (for the tests): from, to. */
size_t ui_graph_edges(enum tcp_state (*edges)[2], size_t max);
/* The edges the drawn picture of Figure 5 has (when the panel is 98x20 or more). */
size_t ui_graph_picture_edges(enum tcp_state (*edges)[2], size_t max);

/* ---- narration (view_narration.c) -------------------------------------------- */
/* The narration of step k (1-based; 0 = before the first step). A step with
 * no words of its own shows its statement, then the last words said. */
int ui_view_narration(struct screen *s, struct ui_rect r, const struct scn_timeline *tl, size_t k,
                      bool zh);
/* Text wrapped (CJK-aware) from row y to last_row; the last row ends in …
 * when text is left over. s == NULL only counts. Returns the next free row. */
int ui_print_wrapped(struct screen *s, int x, int y, int w, int last_row, uint16_t attr,
                     const char *text);
/* Lines the narration of step k needs at width w (s == NULL above counts only). */
int ui_narration_height(const struct scn_timeline *tl, size_t k, bool zh, int w);

/* ---- quiz panel (view_quiz.c) --------------------------------------------------
 * In the narration's place: the question being asked, or the answer revealed
 * with its hint and then the narration of step `step`. Returns lines used. */
int ui_view_quiz(struct screen *s, struct ui_rect r, const struct quiz_session *q,
                 const struct scn_timeline *tl, size_t step, bool zh);
int ui_quiz_height(const struct quiz_session *q, const struct scn_timeline *tl, size_t step,
                   bool zh, int w);
/* "quiz · score 3/5" */
void ui_quiz_title(const struct quiz_session *q, bool zh, char *buf, size_t cap);

/* ---- segment details (view_details.c) ---------------------------------------- */
void ui_view_details(struct screen *s, struct ui_rect r, const struct ui_model *m, int row,
                     const struct ui_view_opts *o);

/* ---- status bar, key bar, help (view_status.c, view_help.c) ------------------ */
void ui_view_status(struct screen *s, struct ui_rect r, const struct ui_player *p,
                    const struct ui_view_opts *o);
void ui_view_keybar(struct screen *s, struct ui_rect r, const struct ui_view_opts *o);
struct ui_key_help {
    const char *keys; /* "space", "→ n" */
    const char *en, *zh;
};
extern const struct ui_key_help ui_play_keys[];
extern const size_t ui_play_nkeys;
/* The help overlay, page `page` (0-based) of ui_help_pages(): one page
 * when every key fits the screen's height, else as many as needed (80x24). */
void ui_view_help(struct screen *s, bool zh, int page);
int ui_help_pages(int screen_h);

#endif
