/*
 * layout.c — panel geometry and collapse rules (see layout.h).
 */
#include <string.h>

#include "layout.h"

static struct ui_rect rect(int x, int y, int w, int h)
{
    return (struct ui_rect){x, y, w < 0 ? 0 : w, h < 0 ? 0 : h};
}

void ui_layout_play(struct ui_layout *l, int w, int h, const struct ui_layout_opts *o)
{
    memset(l, 0, sizeof *l);
    l->w = w;
    l->h = h;
    l->narration_sep = l->diagram_sep = -1;
    if (w < UI_MIN_W || h < UI_MIN_H) {
        l->too_small = true;
        return;
    }
    int nhosts = o->nhosts < 1 ? 1 : o->nhosts;
    bool roomy = h >= 28;
    int inner_x = 1, inner_w = w - 2;
    int bottom = h - 1;

    l->status = rect(0, 0, w, 1);
    l->frame = rect(0, 1, w, h - 1);
    l->keys = rect(0, bottom, w, 1);
    l->boxed_states = roomy;
    l->states = rect(inner_x, 2, inner_w, (roomy ? 4 : 2) + (o->cc_line ? 1 : 0));

    int diag_lines = roomy ? nhosts : (nhosts < 2 ? nhosts : 2);
    int narr_lines = roomy ? 3 : 2;
    /* Long narration borrows rows from the ladder, which keeps at least 8. */
    if (o->narration > narr_lines) {
        int ladder_now = (bottom - diag_lines - 1 - narr_lines - 1) - (2 + l->states.h);
        int extra = o->narration - narr_lines;
        if (extra > 6 - narr_lines)
            extra = 6 - narr_lines;
        if (extra > ladder_now - 8)
            extra = ladder_now - 8;
        if (extra > 0)
            narr_lines += extra;
    }
    l->diagram = rect(inner_x, bottom - diag_lines, inner_w, diag_lines);
    l->diagram_sep = l->diagram.y - 1;
    l->narration = rect(inner_x, l->diagram_sep - narr_lines, inner_w, narr_lines);
    l->narration_sep = l->narration.y - 1;
    int ladder_y = l->states.y + l->states.h;
    l->ladder = rect(inner_x, ladder_y, inner_w, l->narration_sep - ladder_y);

    if (o->graph) {
        /* The whole diagram takes the ladder's and the narration's room. */
        l->graph = rect(inner_x, ladder_y, inner_w, l->diagram_sep - ladder_y);
        l->ladder.h = 0;
        l->narration_sep = -1;
        l->narration.h = 0;
    } else if (o->cc_graph && !o->details) {
        /* Under the ladder, which keeps its newest rows above. */
        int gh = roomy ? 11 : 8; /* divider, plot, axis, legend */
        if (gh > l->ladder.h - 4)
            gh = l->ladder.h - 4;
        l->ladder.h -= gh;
        l->cc_graph = rect(inner_x, ladder_y + l->ladder.h + 1, inner_w, gh - 1);
    } else if (o->details) {
        if (w >= 150) {
            int dw = 66;
            l->details = rect(w - 1 - dw, ladder_y, dw, l->ladder.h);
            l->ladder.w = inner_w - dw - 1;
        } else {
            /* Keep a few ladder rows (the selected segment) above. */
            int keep = roomy ? 5 : 3;
            l->ladder.h = keep;
            l->details =
                rect(inner_x, ladder_y + keep + 1, inner_w, bottom - (ladder_y + keep + 1));
            l->narration_sep = l->diagram_sep = -1;
            l->narration.h = l->diagram.h = 0;
        }
    }
}

void ui_layout_live(struct ui_live_layout *l, int w, int h)
{
    memset(l, 0, sizeof *l);
    if (w < UI_MIN_W || h < UI_MIN_H) {
        l->too_small = true;
        return;
    }
    int bottom = h - 1;
    l->status = rect(0, 0, w, 1);
    l->keys = rect(0, bottom, w, 1);
    int table_h = (h - 4) / 3;
    l->table = rect(1, 2, w - 2, table_h);
    l->ladder_sep = l->table.y + l->table.h;
    int log_h = (h - 4) / 4;
    l->log = rect(1, bottom - log_h, w - 2, log_h);
    l->log_sep = l->log.y - 1;
    l->ladder = rect(1, l->ladder_sep + 1, w - 2, l->log_sep - l->ladder_sep - 1);
}
