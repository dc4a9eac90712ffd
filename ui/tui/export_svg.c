/*
 * export_svg.c — the ladder as an SVG drawing (export.h), for slides and
 * print: black on white, one column per endpoint with its state box, one
 * arrow per segment labelled as on the terminal, the socket calls and
 * states beside the columns, the narration of the step below.
 *
 * Colour never carries meaning alone: a lost segment is dashed, stops two
 * thirds of the way and says "✗ lost"; a retransmission is dashed and its
 * label says "↻ … (retransmission)"; the current step's segments are bold.
 * Fonts are named with fallbacks: Noto Sans CJK SC / Noto Sans Mono CJK SC
 * (Debian: fonts-noto-cjk) so Chinese renders, then DejaVu, then generic.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "export.h"
#include "screen.h"

#define SVG_W    1280
#define LANE_W   240
#define ROW_H    30
#define LADDER_Y 262
#define FONT_MONO                                                                                  \
    "'Noto Sans Mono CJK SC', 'Noto Sans Mono', 'DejaVu Sans Mono', Menlo, Consolas, monospace"
#define FONT_SANS                                                                                  \
    "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', "                    \
    "'Microsoft YaHei', 'DejaVu Sans', sans-serif"
/* One colour per sender, dark enough to print in grey. */
static const char *const host_colour[] = {"#1d4f91", "#8c2d19", "#2e6b30", "#6b3d8c",
                                          "#7a5c00", "#00637a", "#8c1d5f", "#444444"};

void ui_export_xml_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            /* Control characters are not allowed in XML 1.0. */
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, out);
        }
    }
}

static int col_x(const struct ui_export_doc *d, int h)
{
    int n = (int)d->nhosts;
    int left = LANE_W + 20, right = SVG_W - LANE_W - 20;
    if (n <= 1)
        return SVG_W / 2;
    return left + (right - left) * h / (n - 1);
}

static int ladder_height(size_t nrows)
{
    return (int)nrows * ROW_H + 20;
}

int ui_export_svg_ladder_bottom(size_t nrows)
{
    return LADDER_Y + ladder_height(nrows);
}

static void svg_row(FILE *out, const struct ui_export_doc *d, size_t i, size_t k, bool all)
{
    const struct ui_export_row *r = &d->rows[i];
    int y = LADDER_Y + (int)i * ROW_H + ROW_H - 8;
    if (all)
        fprintf(out, "<g class=\"row\" data-s=\"%zu\">\n", r->step);
    if (r->has_arrow && r->from >= 0 && r->to >= 0 && (all || r->arrow_step <= k)) {
        int x1 = col_x(d, r->from), x2 = col_x(d, r->to);
        int dir = x2 > x1 ? 1 : -1;
        x1 += dir * 3;
        x2 -= dir * 3;
        int end = r->lost ? x1 + (x2 - x1) * 2 / 3 : x2;
        const char *c = host_colour[r->from % 8];
        bool cur = !all && r->arrow_step == k;
        fprintf(out,
                "<g class=\"seg%s\" data-s=\"%zu\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                "stroke=\"%s\" stroke-width=\"%s\"%s/>",
                cur ? " cur" : "", r->arrow_step, x1, y, end, y, c, cur ? "2.6" : "1.6",
                r->lost || r->retransmission ? " stroke-dasharray=\"7 4\"" : "");
        if (r->lost)
            fprintf(
                out,
                "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\" fill=\"#b00020\" "
                "text-anchor=\"%s\">\u2717 lost</text>",
                end + dir * 6, y + 5, dir > 0 ? "start" : "end");
        else
            fprintf(out, "<polygon points=\"%d,%d %d,%d %d,%d\" fill=\"%s\"/>", x2, y,
                    x2 - dir * 11, y - 5, x2 - dir * 11, y + 5, c);
        /* A label wider than the space between its columns (three or more
         * endpoints) gets a smaller font rather than run over the lanes:
         * about 8.4 px per column at 14 px in a monospace font. */
        int span = (x2 > x1 ? x2 - x1 : x1 - x2) - 24;
        double want = 8.4 * ui_text_width(r->label);
        double size = want > span && span > 0 ? 14.0 * span / want : 14.0;
        if (size < 8)
            size = 8;
        fprintf(out,
                "<text class=\"lbl\" x=\"%d\" y=\"%d\" font-size=\"%.1f\" "
                "text-anchor=\"middle\" fill=\"%s\" font-weight=\"%s\" stroke=\"#ffffff\" "
                "stroke-width=\"5\" paint-order=\"stroke\">",
                (col_x(d, r->from) + col_x(d, r->to)) / 2, y - 6, size, c, cur ? "bold" : "normal");
        ui_export_xml_text(out, r->label);
        fputs("</text></g>\n", out);
    }
    for (size_t h = 0; h < d->nhosts; h++) {
        if (!r->lane[h] || (!all && r->lane_step[h] > k))
            continue;
        int x = col_x(d, (int)h);
        bool left = h == 0;
        fprintf(out,
                "<text class=\"lane\" data-s=\"%zu\" x=\"%d\" y=\"%d\" font-size=\"13\" "
                "text-anchor=\"%s\" fill=\"%s\"%s>",
                r->lane_step[h], left ? x - 12 : x + 12, y + 4, left ? "end" : "start",
                r->lane_state[h] ? "#000000" : "#505050",
                r->lane_state[h] ? " font-weight=\"bold\"" : "");
        ui_export_xml_text(out, r->lane[h]);
        fputs("</text>\n", out);
    }
    if (all)
        fputs("</g>\n", out);
}

void ui_export_svg_ladder(FILE *out, const struct ui_export_doc *d, size_t k, bool all, bool zh)
{
    (void)zh;
    size_t nrows = all ? d->nrows : d->steps[k].nrows;
    int h = ladder_height(nrows);
    fprintf(out, "<g class=\"ladder\" font-family=\"%s\">\n", FONT_MONO);
    for (size_t c = 0; c < d->nhosts; c++)
        fprintf(out,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#9a9a9a\" "
                "stroke-width=\"2\"/>\n",
                col_x(d, (int)c), LADDER_Y - 14, col_x(d, (int)c), LADDER_Y + h);
    for (size_t i = 0; i < nrows; i++)
        svg_row(out, d, i, k, all);
    fputs("</g>\n", out);
}

void ui_export_svg_states(FILE *out, const struct ui_export_doc *d, size_t k)
{
    const struct ui_export_step *st = &d->steps[k];
    for (size_t h = 0; h < d->nhosts; h++) {
        const struct ui_host *uh = &d->hosts[h];
        const struct ui_export_hoststate *hs = &st->hosts[h];
        int x = col_x(d, (int)h);
        fprintf(out,
                "<text x=\"%d\" y=\"112\" font-size=\"20\" font-weight=\"bold\" "
                "text-anchor=\"middle\">",
                x);
        ui_export_xml_text(out, uh->name);
        fprintf(out,
                "</text><text x=\"%d\" y=\"134\" font-size=\"15\" text-anchor=\"middle\" "
                "fill=\"#303030\">",
                x);
        ui_export_xml_text(out, uh->label);
        fprintf(out, " \u00b7 %s</text>\n",
                uh->kind[0]  ? uh->kind
                : uh->kernel ? "kernel"
                             : "tcplab stack");
        /* A state that changed in this step has a double border, as on the terminal. */
        fprintf(out,
                "<rect x=\"%d\" y=\"150\" width=\"210\" height=\"40\" rx=\"4\" fill=\"#f4f4f4\" "
                "stroke=\"#000000\" stroke-width=\"%s\"/>",
                x - 105, hs->changed ? "3" : "1.2");
        if (hs->changed)
            fprintf(out,
                    "<rect x=\"%d\" y=\"154\" width=\"202\" height=\"32\" rx=\"3\" fill=\"none\" "
                    "stroke=\"#000000\" stroke-width=\"1\"/>",
                    x - 101);
        fprintf(out,
                "<text class=\"state\" x=\"%d\" y=\"177\" font-size=\"18\" font-weight=\"bold\" "
                "text-anchor=\"middle\" font-family=\"%s\">%s</text>\n",
                x, FONT_MONO, hs->state ? hs->state : "CLOSED");
        if (hs->cause) {
            fprintf(out,
                    "<text x=\"%d\" y=\"212\" font-size=\"13\" text-anchor=\"middle\" "
                    "fill=\"#404040\">\u2190 ",
                    x);
            ui_export_xml_text(out, hs->cause);
            fputs("</text>\n", out);
        }
    }
}

/* The narration wrapped for the drawing; returns the height used. */
static int svg_narration(FILE *out, const char *words, int y, bool zh)
{
    if (!*words)
        return 0;
    size_t lines[40][2];
    int n = ui_wrap(words, 118, lines, 40);
    if (n > 40)
        n = 40;
    fprintf(out,
            "<text x=\"40\" y=\"%d\" font-size=\"14\" fill=\"#505050\">%s</text>\n"
            "<text class=\"words\" x=\"40\" y=\"%d\" font-size=\"19\">",
            y, zh ? "解说" : "Narration", y + 28);
    for (int i = 0; i < n; i++) {
        char line[1024];
        size_t len = lines[i][1] < sizeof line - 1 ? lines[i][1] : sizeof line - 1;
        memcpy(line, words + lines[i][0], len);
        line[len] = 0;
        fprintf(out, "<tspan x=\"40\" dy=\"%d\">", i ? 27 : 0);
        ui_export_xml_text(out, line);
        fputs("</tspan>", out);
    }
    fputs("</text>\n", out);
    return 28 + n * 27 + 10;
}

/* Title, mode and step. */
static void svg_heading(FILE *out, const struct ui_export_doc *d, const struct ui_export_opts *o,
                        size_t k)
{
    fputs("<text x=\"40\" y=\"48\" font-size=\"28\" font-weight=\"bold\">", out);
    ui_export_xml_text(out, ui_export_title(d->tl, o->zh));
    fputs("</text>\n", out);
    const struct ui_export_step *st = &d->steps[k];
    fprintf(out,
            "<text class=\"where\" x=\"40\" y=\"76\" font-size=\"15\" fill=\"#505050\">%s \u00b7 "
            "step %zu/%zu \u00b7 t=%llu.%06llu s%s</text>\n",
            o->mode ? o->mode : "VIRTUAL", k, d->nsteps, (unsigned long long)(st->t_us / 1000000),
            (unsigned long long)(st->t_us % 1000000),
            st->failed ? " \u00b7 \u2717 expectation failed" : "");
}

int ui_export_svg(FILE *out, const struct ui_export_doc *d, const struct ui_export_opts *o)
{
    size_t k = o->step < d->nsteps ? o->step : d->nsteps;
    char wbuf[4096];
    const char *words = ui_export_words(d->tl, k, o->zh, wbuf, sizeof wbuf);
    size_t lines[40][2];
    int nw = *words ? ui_wrap(words, 118, lines, 40) : 0;
    if (nw > 40)
        nw = 40;
    int ladder_end = ui_export_svg_ladder_bottom(d->steps[k].nrows);
    int height = ladder_end + (nw ? 28 + nw * 27 + 10 : 0) + 70;
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"%s\" lang=\"%s\">\n"
            "<title>",
            SVG_W, height, SVG_W, height, FONT_SANS, o->zh ? "zh-Hans" : "en");
    ui_export_xml_text(out, ui_export_title(d->tl, o->zh));
    fprintf(out, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W, height);
    svg_heading(out, d, o, k);
    ui_export_svg_states(out, d, k);
    ui_export_svg_ladder(out, d, k, false, o->zh);
    int y = ladder_end + 30;
    y += svg_narration(out, words, y, o->zh);
    if (o->source) {
        fprintf(out, "<text x=\"40\" y=\"%d\" font-size=\"12\" fill=\"#707070\">tcplab export ",
                height - 20);
        ui_export_xml_text(out, o->source);
        fprintf(out, "@%zu</text>\n", k);
    }
    fputs("</svg>\n", out);
    return ferror(out) ? -EIO : 0;
}
