/*
 * view_timeline.c — where each row of the ladder goes when its vertical
 * axis is time (key t): the geometry of the time-true ladder, which
 * view_ladder.c draws.
 *
 * One scale for the whole record, in rows per second, chosen from the
 * shortest gap worth seeing (2 ms or more between two rows, or an arrow's
 * time in flight): that gap is one row. So with `set link latency 100ms` an
 * arrow falls one row per 100 ms and an RTT is two rows, an RTO of 1 s ten
 * rows, and doubling backoff doubles the distance; with the default 500 us
 * link the arrows stay flat and the timers set the scale. A quiet span
 * longer than UI_TIME_FOLD rows is folded into one marked row saying how
 * long it was. Rows at the same instant still take a line each, in order.
 */
#include <stdlib.h>
#include <string.h>

#include "view.h"

/* When the segment of arrow a arrived (its receiver's input event), or
 * UINT64_MAX if it has not (yet, or ever). */
static uint64_t arrival_time(const struct ui_model *m, const struct ui_arrow *a)
{
    const struct tev *sent = m->tl->events[a->ev];
    if (a->udp) {
        size_t len;
        const uint8_t *raw = ui_arrow_raw(m, a, &len);
        if (sent->u.dgram.dir == TEV_IN)
            return sent->t_us;
        for (size_t i = a->ev + 1; i < m->applied; i++) {
            const struct tev *e = m->tl->events[i];
            if (e->kind == TEV_DATAGRAM && e->u.dgram.dir == TEV_IN && e->u.dgram.raw_len == len &&
                raw && !memcmp(e->u.dgram.raw, raw, len))
                return e->t_us;
        }
        return UINT64_MAX;
    }
    if (sent->u.seg.dir == TEV_IN)
        return sent->t_us;
    for (size_t i = a->ev + 1; i < m->applied; i++) {
        const struct tev *e = m->tl->events[i];
        if (e->kind == TEV_SEGMENT && e->u.seg.dir == TEV_IN &&
            e->u.seg.raw_len == sent->u.seg.raw_len && e->u.seg.raw && sent->u.seg.raw &&
            !memcmp(e->u.seg.raw, sent->u.seg.raw, sent->u.seg.raw_len))
            return e->t_us;
    }
    return UINT64_MAX;
}

/* The shortest gap worth a row: rows per second. */
static double choose_scale(const struct ui_time_vrow *v, size_t n, const uint64_t *arr)
{
    uint64_t best = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        uint64_t g = i ? v[i].t - v[i - 1].t : 0;
        if (i && g >= UI_TIME_MIN_GAP_US && g < best)
            best = g;
        if (arr[i] != UINT64_MAX && arr[i] > v[i].t && arr[i] - v[i].t >= UI_TIME_MIN_GAP_US &&
            arr[i] - v[i].t < best)
            best = arr[i] - v[i].t;
    }
    return best == UINT64_MAX ? 1.0 : 1e6 / (double)best;
}

static int by_time(const void *pa, const void *pb)
{
    const struct ui_time_vrow *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Split each ladder row by the times of what is in it (the compact ladder
 * packs a later call into an earlier row's free lane), in time order. */
static size_t split_rows(const struct ui_model *m, struct ui_time_vrow *v)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nrows; i++) {
        const struct ui_row *row = &m->rows[i];
        size_t first = n;
        if (row->has_arrow) {
            v[n] = (struct ui_time_vrow){
                .row = i, .t = m->tl->events[row->arrow.ev]->t_us, .arrow = true};
            n++;
        }
        for (size_t h = 0; h < UI_MAX_HOSTS; h++) {
            if (row->lane[h].kind == UI_ITEM_NONE)
                continue;
            uint64_t t = m->tl->events[row->lane[h].ev]->t_us;
            size_t j = first;
            while (j < n && v[j].t != t)
                j++;
            if (j == n)
                v[n++] = (struct ui_time_vrow){.row = i, .t = t};
            v[j].lanes |= 1u << h;
        }
        /* Calls shown ahead of their event keep their place: never earlier
         * than the row before. */
        for (size_t j = first; j < n; j++)
            v[j].order = j;
    }
    for (size_t j = 1; j < n; j++)
        if (v[j].row != v[j - 1].row && v[j].t < v[j - 1].t && v[j].arrow == false &&
            v[j].t + UI_TIME_MIN_GAP_US > v[j - 1].t)
            v[j].t = v[j - 1].t;
    qsort(v, n, sizeof *v, by_time);
    return n;
}

int ui_time_layout(const struct ui_model *m, struct ui_time_layout *tl)
{
    memset(tl, 0, sizeof *tl);
    size_t cap = m->nrows * (1 + UI_MAX_HOSTS) + 1;
    tl->v = calloc(cap, sizeof *tl->v);
    tl->breaks = calloc(cap, sizeof *tl->breaks);
    uint64_t *arr = calloc(cap, sizeof *arr);
    if (!tl->v || !tl->breaks || !arr) {
        free(arr);
        ui_time_layout_free(tl);
        return -1;
    }
    size_t n = split_rows(m, tl->v);
    tl->n = n;
    struct ui_time_vrow *v = tl->v;
    for (size_t i = 0; i < n; i++)
        arr[i] = v[i].arrow ? arrival_time(m, &m->rows[v[i].row].arrow) : UINT64_MAX;
    double s = choose_scale(v, n, arr);
    tl->rows_per_s = s;
    int y = -1;
    for (size_t i = 0; i < n; i++) {
        int want = y + 1;
        if (i) {
            double gap = (double)(v[i].t - v[i - 1].t) / 1e6 * s;
            if (gap > UI_TIME_FOLD) {
                /* A long quiet span: one marked row instead. */
                tl->breaks[tl->nbreaks].y = y + 1;
                tl->breaks[tl->nbreaks].gap_us = v[i].t - v[i - 1].t;
                tl->nbreaks++;
                want = y + 2;
            } else if (y + (int)(gap + 0.5) > want) {
                want = y + (int)(gap + 0.5);
            }
        }
        y = want;
        v[i].y = y;
    }
    /* Arrows fall as far as their time in flight (a folded span counts one
     * row), never above their start. */
    int typical = 0;
    for (size_t i = 0; i < n; i++) {
        v[i].arr_y = v[i].y;
        if (arr[i] == UINT64_MAX || arr[i] <= v[i].t)
            continue;
        double fall = (double)(arr[i] - v[i].t) / 1e6 * s;
        int dy = fall > UI_TIME_FOLD ? 1 : (int)(fall + 0.5);
        v[i].arr_y = v[i].y + dy;
        if (!m->rows[v[i].row].arrow.lost && dy > typical)
            typical = dy;
    }
    /* A lost segment falls as the others do on this link. */
    for (size_t i = 0; i < n; i++)
        if (v[i].arrow && m->rows[v[i].row].arrow.lost)
            v[i].arr_y = v[i].y + typical;
    tl->height = y + 1;
    for (size_t i = 0; i < n; i++)
        if (v[i].arr_y + 1 > tl->height)
            tl->height = v[i].arr_y + 1;
    free(arr);
    return 0;
}

void ui_time_layout_free(struct ui_time_layout *tl)
{
    free(tl->v);
    free(tl->breaks);
    memset(tl, 0, sizeof *tl);
}
