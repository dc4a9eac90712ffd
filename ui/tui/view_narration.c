/*
 * view_narration.c — the scenario's own words for the current step, in
 * English or Chinese (key l), wrapped to the panel with CJK-aware breaks.
 * Words missing in one language fall back to the other, marked. A step with
 * no words of its own (an expectation, a wait) shows its statement dimmed,
 * then the last words said, which still describe what is on screen.
 */
#include <stdio.h>
#include <string.h>

#include "view.h"

static const char *words(const struct scn_step *st, bool zh, bool *fallback)
{
    const char *t = zh ? st->say_zh : st->say_en;
    *fallback = false;
    if (!t || !*t) {
        t = zh ? st->say_en : st->say_zh;
        *fallback = t && *t;
    }
    return t && *t ? t : NULL;
}

int ui_print_wrapped(struct screen *s, int x, int y, int w, int last_row, uint16_t attr,
                     const char *text)
{
    size_t lines[32][2];
    int n = ui_wrap(text, w, lines, 32);
    for (int i = 0; i < n && i < 32 && y <= last_row; i++, y++) {
        char buf[1024];
        size_t len = lines[i][1] < sizeof buf - 4 ? lines[i][1] : sizeof buf - 4;
        memcpy(buf, text + lines[i][0], len);
        buf[len] = 0;
        if (y == last_row && i + 1 < n) {
            /* The panel is full: the last line says there is more. */
            buf[ui_text_fit(buf, w - 1)] = 0;
            strcat(buf, "\u2026");
        }
        if (s)
            screen_print(s, x, y, w, attr, buf);
    }
    return y;
}

int ui_view_narration(struct screen *s, struct ui_rect r, const struct scn_timeline *tl, size_t k,
                      bool zh)
{
    if (r.h <= 0)
        return 0;
    if (s)
        screen_fill(s, r.x, r.y, r.w, r.h, ' ', SC_NORMAL);
    int x = r.x + 1, w = r.w - 2, y = r.y, last = r.y + r.h - 1;
    if (k == 0 || k > tl->nsteps) {
        return ui_print_wrapped(
                   s, x, y, w, last, SC_DIM,
                   zh ? "按 \u2192 或 n 走一步，按空格键自动播放，按 ? 查看全部按键。"
                      : "Press \u2192 or n to take a step, space to play, ? for every key.") -
               r.y;
    }
    bool fallback;
    const struct scn_step *cur = &tl->steps[k - 1];
    const char *text = words(cur, zh, &fallback);
    if (!text) {
        /* Say what this step does, then what was last said. */
        char stmt[256];
        snprintf(stmt, sizeof stmt, "\u00bb %s", cur->text ? cur->text : "");
        y = ui_print_wrapped(s, x, y, w, y, SC_DIM, stmt);
        for (size_t j = k - 1; j-- > 0 && !text;)
            text = words(&tl->steps[j], zh, &fallback);
        if (!text)
            return y - r.y;
    }
    if (fallback) {
        int used = 5; /* "(en) " */
        if (s)
            screen_print(s, x, y, w, SC_DIM, zh ? "(en) " : "(zh) ");
        x += used;
        w -= used;
    }
    return ui_print_wrapped(s, x, y, w, last, SC_NORMAL, text) - r.y;
}

int ui_narration_height(const struct scn_timeline *tl, size_t k, bool zh, int w)
{
    struct ui_rect r = {0, 0, w, 32};
    return ui_view_narration(NULL, r, tl, k, zh);
}
