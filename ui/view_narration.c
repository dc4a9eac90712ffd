/*
 * view_narration.c — the scenario's own words for the current step, in
 * English or Chinese (key l), wrapped to the panel with CJK-aware breaks.
 * A step narrated in only one language falls back to the other, marked.
 */
#include <stdio.h>
#include <string.h>

#include "view.h"

void ui_view_narration(struct screen *s, struct ui_rect r, const struct scn_step *step, bool zh)
{
    if (r.h <= 0)
        return;
    screen_fill(s, r.x, r.y, r.w, r.h, ' ', SC_NORMAL);
    const char *text = NULL;
    bool fallback = false;
    if (step) {
        text = zh ? step->say_zh : step->say_en;
        if (!text || !*text) {
            text = zh ? step->say_en : step->say_zh;
            fallback = text && *text;
        }
    }
    if (!step)
        text = zh ? "按 → 或 n 走一步，按空格键自动播放，按 ? 查看全部按键。"
                  : "Press \u2192 or n to take a step, space to play, ? for every key.";
    else if (!text || !*text)
        text = step->text; /* no narration: show the statement itself */
    if (!text)
        return;
    int x = r.x + 1, w = r.w - 2;
    if (fallback)
        x += screen_print(s, x, r.y, w, SC_DIM, zh ? "(en) " : "(zh) ");
    w = r.x + r.w - 1 - x;
    size_t lines[16][2];
    int n = ui_wrap(text, w, lines, 16);
    for (int i = 0; i < n && i < r.h && i < 16; i++) {
        char buf[1024];
        size_t len = lines[i][1] < sizeof buf - 1 ? lines[i][1] : sizeof buf - 1;
        memcpy(buf, text + lines[i][0], len);
        buf[len] = 0;
        if (i == r.h - 1 && n > r.h) {
            /* The panel is full: the last line says there is more. */
            size_t fit = ui_text_fit(buf, w - 1);
            buf[fit] = 0;
            strcat(buf, "\u2026");
        }
        screen_print(s, x, r.y + i, w, SC_NORMAL, buf);
    }
}
