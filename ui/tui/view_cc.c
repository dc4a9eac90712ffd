/*
 * view_cc.c — congestion control on screen (RFC 5681): the one-line summary
 * of a sender's cwnd, ssthresh and flight under its state (ui_cc_text), and
 * the small time graph of cwnd (key c) — slow start's climb, the halving at
 * fast recovery, the fall to one segment after a retransmission timeout.
 *
 * Both read the player's model (player.h: struct ui_cc, ui_cc_history), so
 * the numbers are the engine's `cc` events, exactly as the trace prints them.
 * The graph's scale comes from the whole record and only the samples applied
 * so far are drawn: stepping forward, the curve grows into a fixed frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define MAX_SAMPLES 4096

const char *ui_cc_phase_words(enum tcp_cc_phase p)
{
    switch (p) {
    case TCP_CC_SLOW_START:
        return "slow start";
    case TCP_CC_AVOIDANCE:
        return "avoidance";
    case TCP_CC_RECOVERY:
        return "fast recovery";
    case TCP_CC_LOSS:
        return "loss (RTO)";
    case TCP_CC_CSS:
        return "cons. slow start";
    }
    return "?";
}

size_t ui_cc_text(const struct ui_cc *cc, int width, char *buf, size_t cap)
{
    buf[0] = 0;
    if (!cc->known)
        return 0;
    const char *ph = ui_cc_phase_words(cc->phase);
    const char *al = cc->algo ? cc->algo : "";
    /* "... flight 0  cubic slow start". Most to least spelled out: the
     * labels shorten first, then the phase goes, then the algorithm; the
     * numbers are never dropped. */
    static const struct {
        const char *sep, *ss, *fl;
        bool phase, algo;
    } forms[] = {
        {"  ", "ssthresh", "flight", true, true},  {" ", "ssthresh", "flight", true, true},
        {" ", "ssthr", "flight", true, true},      {" ", "ssth", "fl", true, true},
        {" ", "ssthresh", "flight", false, true},  {" ", "ssthr", "flight", false, true},
        {" ", "ssth", "fl", false, true},          {" ", "ssthresh", "flight", false, false},
        {" ", "ssthr", "flight", false, false},    {" ", "ssth", "fl", false, false},
    };
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        const char *sep = forms[f].sep;
        bool algo = forms[f].algo && al[0];
        snprintf(buf, cap, "cwnd %u%s%s %u%s%s %u%s%s%s%s", cc->cwnd, sep, forms[f].ss,
                 cc->ssthresh, sep, forms[f].fl, cc->flight, algo ? sep : "", algo ? al : "",
                 forms[f].phase ? (algo ? " " : sep) : "", forms[f].phase ? ph : "");
        if (ui_text_width(buf) <= width)
            break;
    }
    return strlen(buf);
}

bool ui_cc_worth_showing(const struct scn_timeline *tl)
{
    for (size_t i = 0; i < tl->nevents; i++)
        if (tl->events[i]->kind == TEV_CC && tl->events[i]->u.cc.flight > 0)
            return true;
    return false;
}

size_t ui_cc_graph_title(const struct ui_model *m, char *buf, size_t cap)
{
    int h = ui_cc_graph_host(m);
    if (h < 0)
        return (size_t)snprintf(buf, cap, "cwnd graph \u00b7 no congestion control events");
    const struct ui_host *host = &m->hosts[h];
    if (!host->cc.known)
        return (size_t)snprintf(buf, cap, "cwnd graph \u00b7 %s", host->name);
    if (host->cc.algo)
        return (size_t)snprintf(buf, cap, "cwnd graph \u00b7 %s \u00b7 %s \u00b7 %s", host->name,
                                host->cc.algo, ui_cc_phase_words(host->cc.phase));
    return (size_t)snprintf(buf, cap, "cwnd graph \u00b7 %s \u00b7 %s", host->name,
                            ui_cc_phase_words(host->cc.phase));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Columns of each sample: time runs right, but a gap much longer than the
 * usual one (an RTO, an idle wait) is folded to a few columns and marked,
 * so a 1 s timeout does not squeeze the round trips before it into one
 * column. Returns the number of folded gaps; brk[i] says gap i..i+1 was. */
static int sample_columns(const struct ui_cc_sample *sm, size_t n, int width, int *col, bool *brk)
{
    if (n == 0 || width <= 0)
        return 0;
    uint64_t *gaps = malloc(n * sizeof *gaps);
    double *x = malloc(n * sizeof *x);
    if (!gaps || !x) {
        free(gaps);
        free(x);
        for (size_t i = 0; i < n; i++)
            col[i] = (int)(i * (size_t)(width - 1) / (n > 1 ? n - 1 : 1));
        return 0;
    }
    size_t ng = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (sm[i + 1].t_us > sm[i].t_us)
            gaps[ng++] = sm[i + 1].t_us - sm[i].t_us;
    qsort(gaps, ng, sizeof gaps[0], cmp_u64); /* for the median gap */
    uint64_t fold = ng ? gaps[ng / 2] * 8 : 0;
    int folded = 0;
    x[0] = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        uint64_t g = sm[i + 1].t_us > sm[i].t_us ? sm[i + 1].t_us - sm[i].t_us : 0;
        brk[i] = fold && g > fold && ng > 2;
        if (brk[i]) {
            g = fold;
            folded++;
        }
        x[i + 1] = x[i] + (double)g;
    }
    double span = x[n - 1];
    for (size_t i = 0; i < n; i++)
        col[i] = span > 0 ? (int)(x[i] / span * (width - 1) + 0.5)
                          : (int)(i * (size_t)(width - 1) / (n > 1 ? n - 1 : 1));
    free(gaps);
    free(x);
    return folded;
}

void ui_view_cc_graph(struct screen *s, struct ui_rect r, const struct ui_model *m)
{
    if (r.h <= 0 || r.w <= 0)
        return;
    screen_fill(s, r.x, r.y, r.w, r.h, ' ', SC_NORMAL);
    int host = ui_cc_graph_host(m);
    static struct ui_cc_sample sm[MAX_SAMPLES]; /* one frame at a time */
    size_t n = host >= 0 ? ui_cc_history(m, host, sm, MAX_SAMPLES) : 0;
    if (n > MAX_SAMPLES)
        n = MAX_SAMPLES;
    if (n == 0 || r.h < 3) {
        screen_print(s, r.x + 1, r.y, r.w - 2, SC_DIM,
                     "no congestion window reported in this run (no data sent yet)");
        return;
    }
    size_t shown = 0;
    while (shown < n && sm[shown].ev < m->applied)
        shown++;

    uint32_t ymax = 0;
    for (size_t i = 0; i < n; i++)
        if (sm[i].cwnd > ymax)
            ymax = sm[i].cwnd;
    /* ssthresh joins the scale unless it is the "infinite" initial value. */
    for (size_t i = 0; i < n; i++)
        if (sm[i].ssthresh > ymax && sm[i].ssthresh <= ymax * 2)
            ymax = sm[i].ssthresh;
    if (ymax == 0)
        ymax = 1;

    char ylab[16];
    int lw = snprintf(ylab, sizeof ylab, "%u", ymax) + 1;
    int plot_h = r.h - 2, px = r.x + lw + 1, pw = r.w - lw - 2;
    if (pw < 8)
        return;
    static int col[MAX_SAMPLES];
    static bool brk[MAX_SAMPLES];
    memset(brk, 0, n * sizeof brk[0]);
    sample_columns(sm, n, pw, col, brk);

    /* The y axis: the top value, half of it, and 0. */
    for (int y = 0; y <= plot_h; y++)
        screen_putc(s, r.x + lw, r.y + y, y == plot_h ? 0x2514 : 0x2502, SC_FRAME);
    screen_print(s, r.x, r.y, lw - 1, SC_DIM, ylab);
    if (plot_h >= 4) {
        char half[16];
        snprintf(half, sizeof half, "%u", ymax / 2);
        screen_print(s, r.x + lw - 1 - ui_text_width(half), r.y + plot_h / 2, lw, SC_DIM, half);
    }
    screen_print(s, r.x + lw - 2, r.y + plot_h, 1, SC_DIM, "0");
    screen_hline(s, px, r.y + plot_h, pw, 0x2500, SC_FRAME);

    /* The curve: each column holds the cwnd in force at its end (the lowest
     * value instead, when the window fell inside the column, so a drop is
     * never hidden), as a bar in eighths of a cell. */
    size_t i = 0;
    bool have = false;
    uint32_t cw = 0, ss = 0;
    for (int c = 0; c < pw; c++) {
        bool fell = false;
        uint32_t low = UINT32_MAX;
        enum tcp_cc_phase entered = TCP_CC_SLOW_START;
        bool mark = false;
        for (; i < shown && col[i] <= c; i++) {
            if (have && sm[i].cwnd < cw)
                fell = true;
            if (i > 0 && sm[i].phase != sm[i - 1].phase &&
                (sm[i].phase == TCP_CC_RECOVERY || sm[i].phase == TCP_CC_LOSS)) {
                mark = true;
                entered = sm[i].phase;
            }
            if (i > 0 && brk[i - 1])
                screen_putc(s, px + (col[i - 1] + c) / 2, r.y + plot_h, 0x2248,
                            (uint16_t)(SC_DIM | SA_BOLD));
            cw = sm[i].cwnd;
            ss = sm[i].ssthresh;
            if (cw < low)
                low = cw;
            have = true;
        }
        if (!have || (i >= shown && c > col[shown - 1]))
            break; /* the future is not drawn */
        uint32_t v = fell ? low : cw;
        int eighths = (int)((double)v / ymax * plot_h * 8 + 0.5);
        int ss_row = ss <= ymax ? plot_h - 1 - (int)((double)ss / ymax * plot_h - 0.5) : -1;
        for (int y = 0; y < plot_h; y++) {
            int k = plot_h - 1 - y; /* cells counted from the bottom */
            int fill = eighths - k * 8;
            if (fill > 8)
                fill = 8;
            uint32_t ch = 0;
            if (s->ascii)
                ch = fill >= 4 ? '#' : 0;
            else if (fill == 8)
                ch = 0x2588;
            else if (fill > 0)
                ch = 0x2580 + (uint32_t)fill; /* ▁ … ▇ */
            if (ch)
                screen_putc(s, px + c, r.y + y, ch, (uint16_t)(SC_HOST_A | SA_BOLD));
            else if (y == ss_row)
                screen_putc(s, px + c, r.y + y, s->ascii ? '-' : 0x254c, SC_DIM);
        }
        if (mark)
            screen_putc(s, px + c, r.y + plot_h, entered == TCP_CC_RECOVERY ? 'R' : 'T',
                        (uint16_t)(SC_LOST | SA_BOLD));
    }

    const char *bar = s->ascii ? "#" : "\u2588", *dash = s->ascii ? "-" : "\u254c",
               *fold = s->ascii ? "~" : "\u2248";
    double t0 = (double)sm[0].t_us / 1e6, t1 = (double)sm[n - 1].t_us / 1e6;
    char legend[200];
    snprintf(legend, sizeof legend,
             "%s cwnd  %s ssthresh  R fast recovery  T timeout  %s folded gap  t %.3f-%.3fs", bar,
             dash, fold, t0, t1);
    if (ui_text_width(legend) > pw)
        snprintf(legend, sizeof legend,
                 "%s cwnd %s ssthresh R recovery T timeout %s gap %.3f-%.3fs", bar, dash, fold, t0,
                 t1);
    screen_print(s, px, r.y + r.h - 1, pw, SC_DIM, legend);
}
