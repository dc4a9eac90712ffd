/*
 * export.c — the export document (export.h): the ladder's rows with the
 * step each appears in, every endpoint's state per step; and the plain
 * text writer, which draws the ladder with the terminal's own view.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "screen.h"
#include "view.h"

static char *dup_text(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* Rows [from, nrows) of the model as they are now; a row's words are kept
 * from the first step they appear in. */
static int record_rows(struct ui_export_doc *d, const struct ui_model *m, size_t from, size_t k,
                       bool absolute)
{
    if (m->nrows > d->nrows) {
        struct ui_export_row *r = realloc(d->rows, m->nrows * sizeof *r);
        if (!r)
            return -ENOMEM;
        memset(r + d->nrows, 0, (m->nrows - d->nrows) * sizeof *r);
        for (size_t i = d->nrows; i < m->nrows; i++)
            r[i].step = k;
        d->rows = r;
        d->nrows = m->nrows;
    }
    for (size_t i = from; i < m->nrows; i++) {
        const struct ui_row *row = &m->rows[i];
        struct ui_export_row *er = &d->rows[i];
        char buf[512];
        if (row->has_arrow && !er->has_arrow) {
            ui_segment_label(m, &row->arrow, absolute, buf, sizeof buf);
            er->has_arrow = true;
            er->from = row->arrow.from;
            er->to = row->arrow.to;
            er->label = strdup(buf);
            er->lost = row->arrow.lost;
            er->retransmission = row->arrow.retransmission;
            er->arrow_step = k;
            if (!er->label)
                return -ENOMEM;
        }
        for (size_t h = 0; h < d->nhosts; h++) {
            if (row->lane[h].kind == UI_ITEM_NONE || er->lane[h])
                continue;
            ui_item_text(m, &row->lane[h], buf, sizeof buf);
            er->lane[h] = dup_text(buf);
            er->lane_step[h] = k;
            er->lane_state[h] = row->lane[h].kind == UI_ITEM_STATE;
        }
    }
    return 0;
}

static void record_states(struct ui_export_doc *d, const struct ui_model *m, size_t k)
{
    struct ui_export_step *st = &d->steps[k];
    st->nrows = m->nrows;
    st->t_us = m->now_us;
    const struct scn_step *sst = k ? &d->tl->steps[k - 1] : NULL;
    st->failed = sst && sst->failed;
    for (size_t h = 0; h < d->nhosts; h++) {
        const struct ui_host *uh = &m->hosts[h];
        enum tcp_state cur, prev;
        bool known = ui_host_state(uh, &cur, &prev);
        bool any = uh->have_state || uh->have_kernel;
        st->hosts[h].state = any ? tcp_state_name(cur) : NULL;
        st->hosts[h].cause = uh->have_state ? uh->cause : uh->have_kernel ? "kernel" : NULL;
        st->hosts[h].changed =
            known && sst && uh->changed_at > sst->first_event && uh->changed_at <= sst->end_event;
    }
}

int ui_export_build(struct ui_export_doc *d, const struct scn_timeline *tl, bool absolute)
{
    memset(d, 0, sizeof *d);
    d->tl = tl;
    d->nsteps = tl->nsteps;
    d->steps = calloc(tl->nsteps + 1, sizeof *d->steps);
    if (!d->steps)
        return -ENOMEM;
    struct ui_model m;
    ui_model_init(&m, tl);
    d->nhosts = m.nhosts;
    memcpy(d->hosts, m.hosts, sizeof d->hosts);
    int rc = 0;
    for (size_t k = 0; k <= tl->nsteps && rc == 0; k++) {
        /* Step 0 shows what happened before the first step. */
        size_t until = k == 0 ? (tl->nsteps ? tl->steps[0].first_event : tl->nevents)
                              : tl->steps[k - 1].end_event;
        if (until > tl->nevents)
            until = tl->nevents;
        size_t before = m.nrows;
        if (until > m.applied)
            ui_model_apply_until(&m, until);
        /* Only the last row and new ones can have changed (player.c). */
        rc = record_rows(d, &m, before ? before - 1 : 0, k, absolute);
        record_states(d, &m, k);
    }
    ui_model_free(&m);
    if (rc)
        ui_export_free(d);
    return rc;
}

void ui_export_free(struct ui_export_doc *d)
{
    for (size_t i = 0; i < d->nrows; i++) {
        free(d->rows[i].label);
        for (size_t h = 0; h < UI_MAX_HOSTS; h++)
            free(d->rows[i].lane[h]);
    }
    free(d->rows);
    free(d->steps);
    memset(d, 0, sizeof *d);
}

static const char *own_words(const struct scn_step *st, bool zh)
{
    const char *w = zh ? st->say_zh : st->say_en;
    if (!w || !*w)
        w = zh ? st->say_en : st->say_zh;
    return w && *w ? w : NULL;
}

const char *ui_export_words(const struct scn_timeline *tl, size_t k, bool zh, char *buf,
                            size_t cap)
{
    buf[0] = 0;
    if (k == 0 || k > tl->nsteps)
        return buf;
    const struct scn_step *st = &tl->steps[k - 1];
    const char *w = own_words(st, zh);
    if (w) {
        snprintf(buf, cap, "%s", w);
        return buf;
    }
    const char *last = NULL;
    for (size_t j = k - 1; j-- > 0 && !last;)
        last = own_words(&tl->steps[j], zh);
    snprintf(buf, cap, "\u00bb %s%s%s", st->text ? st->text : "", last ? " \u2014 " : "",
             last ? last : "");
    return buf;
}

const char *ui_export_title(const struct scn_timeline *tl, bool zh)
{
    const char *t = zh ? tl->title_zh : tl->title_en;
    if (!t || !*t)
        t = zh ? tl->title_en : tl->title_zh;
    return t ? t : "";
}

int ui_export_write(FILE *out, const struct ui_export_doc *d, const struct ui_export_opts *o)
{
    switch (o->format) {
    case UI_EXPORT_SVG:
        return ui_export_svg(out, d, o);
    case UI_EXPORT_HTML:
        return ui_export_html(out, d, o);
    case UI_EXPORT_TXT:
    default:
        return ui_export_txt(out, d, o);
    }
}

/* ---- plain text ------------------------------------------------------------- */

/* Lines of `text` wrapped to `w` columns, each prefixed. */
static void write_wrapped(FILE *out, const char *text, int w)
{
    size_t lines[64][2];
    int n = ui_wrap(text, w, lines, 64);
    for (int i = 0; i < n && i < 64; i++)
        fprintf(out, "  %.*s\n", (int)lines[i][1], text + lines[i][0]);
}

int ui_export_txt(FILE *out, const struct ui_export_doc *d, const struct ui_export_opts *o)
{
    const struct scn_timeline *tl = d->tl;
    size_t k = o->step < d->nsteps ? o->step : d->nsteps;
    int w = o->width >= 40 ? o->width : 100;
    const struct ui_export_step *st = &d->steps[k];

    fprintf(out, "%s\n", ui_export_title(tl, o->zh));
    fprintf(out, "%s · step %zu/%zu · t=%llu.%06llus%s\n\n", o->mode ? o->mode : "VIRTUAL", k,
            d->nsteps, (unsigned long long)(st->t_us / 1000000),
            (unsigned long long)(st->t_us % 1000000),
            st->failed ? " · \u2717 expectation failed" : "");
    for (size_t h = 0; h < d->nhosts; h++) {
        const struct ui_host *uh = &d->hosts[h];
        const struct ui_export_hoststate *hs = &st->hosts[h];
        fprintf(out, "%-8s %-22s %-13s [%s]%s%s\n", uh->name, uh->label,
                uh->kind[0]  ? uh->kind
                : uh->kernel ? "kernel"
                             : "tcplab stack",
                hs->state ? hs->state : "CLOSED", hs->cause ? " \u2190 " : "",
                hs->cause ? hs->cause : "");
    }
    fputc('\n', out);

    /* The ladder as the terminal draws it, every row at once. */
    struct ui_player p;
    ui_player_init(&p, tl);
    ui_player_seek(&p, k);
    size_t rows = p.model.nrows;
    int rc = 0;
    if (rows) {
        struct screen *s = screen_new(w, (int)rows);
        if (!s) {
            rc = -ENOMEM;
        } else {
            s->ascii = false;
            struct ui_view_opts vo;
            ui_view_opts_defaults(&vo);
            vo.absolute = o->absolute;
            struct ui_rect r = {0, 0, w, (int)rows};
            ui_view_ladder(s, r, &p.model, -1, 1.0, &vo);
            /* Header: the endpoints over their columns. */
            struct ui_ladder_geom g;
            ui_ladder_geometry(w, (int)p.model.nhosts, &g);
            char head[1024];
            memset(head, ' ', sizeof head);
            int len = 0;
            for (int c = 0; c < g.ncols; c++) {
                const char *name = d->hosts[c].name;
                int nl = (int)strlen(name);
                int x = g.col_x[c] - nl / 2;
                if (x < 0)
                    x = 0;
                if (x + nl > w)
                    x = w - nl;
                if (x < len)
                    x = len;
                if (x + nl >= (int)sizeof head)
                    break;
                memcpy(head + x, name, (size_t)nl);
                len = x + nl + 1;
            }
            fprintf(out, "%.*s\n", len > 0 ? len - 1 : 0, head);
            char line[8192];
            for (int y = 0; y < s->h; y++) {
                screen_row_text(s, y, line, sizeof line);
                size_t n = strlen(line);
                while (n && line[n - 1] == ' ')
                    line[--n] = 0;
                fprintf(out, "%s\n", line);
            }
            screen_free(s);
        }
    }
    ui_player_free(&p);
    char wbuf[4096];
    const char *words = ui_export_words(tl, k, o->zh, wbuf, sizeof wbuf);
    if (*words) {
        fprintf(out, "\n%s\n", o->zh ? "解说：" : "Narration:");
        write_wrapped(out, words, w - 2);
    }
    if (o->source)
        fprintf(out, "\n%s  tcplab export --txt %s@%zu\n", "--", o->source, k);
    return ferror(out) ? -EIO : rc;
}
