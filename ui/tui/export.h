/*
 * export.h — the ladder of a recorded timeline written out for slides and
 * homework: plain text, SVG, and one self-contained HTML page that steps
 * through the lesson in a browser (`tcplab export`, the `e` key).
 *
 * Data flow: timeline (a scenario run or a capture) -> ui_export_build()
 * walks the player's model (player.h) step by step and records, for every
 * ladder row, the step it appears in and its words (ui_segment_label,
 * ui_item_text: the same words the terminal shows) and, for every step,
 * each endpoint's state and the narration -> one writer per format. The
 * text form draws the ladder with the terminal's own view (view_ladder.c)
 * into a screen tall enough for every row.
 */
#ifndef TCPLAB_EXPORT_H
#define TCPLAB_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "player.h"

enum ui_export_format { UI_EXPORT_TXT, UI_EXPORT_SVG, UI_EXPORT_HTML };

struct ui_export_row {
    bool has_arrow;
    int from, to; /* host indices */
    char *label;  /* "SYN seq=0 win=65535 <mss 1460>" (with ↻ / dup marks) */
    bool lost, retransmission;
    size_t arrow_step;        /* the step (1-based; 0 = before the first) it appears in */
    char *lane[UI_MAX_HOSTS]; /* text beside each column, or NULL */
    size_t lane_step[UI_MAX_HOSTS];
    bool lane_state[UI_MAX_HOSTS]; /* the lane item is a state (drawn stronger) */
    size_t step;                   /* the first step anything of the row is shown in */
};

struct ui_export_hoststate {
    const char *state; /* "ESTABLISHED", or NULL before any */
    const char *cause; /* "rcvd SYN,ACK" (static), or NULL */
    bool changed;      /* changed during this step */
};

struct ui_export_step {
    struct ui_export_hoststate hosts[UI_MAX_HOSTS];
    size_t nrows; /* rows shown once this step has played */
    uint64_t t_us;
    bool failed;
};

struct ui_export_doc {
    const struct scn_timeline *tl;
    size_t nhosts;
    struct ui_host hosts[UI_MAX_HOSTS]; /* names, labels, kinds */
    struct ui_export_row *rows;
    size_t nrows;
    struct ui_export_step *steps; /* nsteps + 1: [0] is before the first step */
    size_t nsteps;
};

struct ui_export_opts {
    enum ui_export_format format;
    size_t step;        /* show the ladder after this step (clamped to nsteps) */
    bool zh;            /* narration (and the HTML page's first language) in Chinese */
    bool absolute;      /* absolute sequence numbers */
    const char *source; /* the lesson or capture file, for the footer */
    const char *mode;   /* "VIRTUAL", "TUN", "CAPTURE" */
    int width;          /* text: columns (default 100) */
};

/* Walk the timeline once. Returns 0, or -ENOMEM. */
int ui_export_build(struct ui_export_doc *d, const struct scn_timeline *tl, bool absolute);
void ui_export_free(struct ui_export_doc *d);

/* The narration of step k (1-based) in the language asked for, the other
 * one when missing; a step with no words of its own gives its statement
 * ("» expect client state FIN_WAIT_1") and then the last words said, as the
 * terminal does. "" for step 0. Returns buf. */
const char *ui_export_words(const struct scn_timeline *tl, size_t k, bool zh, char *buf,
                            size_t cap);
/* Title in the language asked for (falls back to the other). */
const char *ui_export_title(const struct scn_timeline *tl, bool zh);

/* Write the document in o->format. Returns 0, or -errno when writing failed. */
int ui_export_write(FILE *out, const struct ui_export_doc *d, const struct ui_export_opts *o);

/* The writers (export_txt.c, export_svg.c, export_html.c). */
int ui_export_txt(FILE *out, const struct ui_export_doc *d, const struct ui_export_opts *o);
int ui_export_svg(FILE *out, const struct ui_export_doc *d, const struct ui_export_opts *o);
int ui_export_html(FILE *out, const struct ui_export_doc *d, const struct ui_export_opts *o);

/* SVG of the ladder at step k for a page that shows every row: with `all`
 * every row is written, each tagged with its step (data-s) for the HTML
 * page's script; without, only the rows shown at step k. */
void ui_export_svg_ladder(FILE *out, const struct ui_export_doc *d, size_t k, bool all, bool zh);
/* Width and height of the SVG drawing whose ladder has `nrows` rows (the
 * HTML page draws them all). */
#define UI_EXPORT_SVG_W 1280
int ui_export_svg_ladder_bottom(size_t nrows);
/* The state boxes at step k (an SVG group). */
void ui_export_svg_states(FILE *out, const struct ui_export_doc *d, size_t k);
/* Text escaped for XML / HTML. */
void ui_export_xml_text(FILE *out, const char *s);

#endif
