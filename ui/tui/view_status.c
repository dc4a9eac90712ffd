/*
 * view_status.c — the status bar on top (scenario, VIRTUAL or TUN, play
 * state and speed, step k/N, virtual time) and the key hints along the
 * bottom edge.
 */
#include <stdio.h>
#include <string.h>

#include "view.h"

static void speed_text(double speed, char *buf, size_t cap)
{
    if (speed >= 1)
        snprintf(buf, cap, "%gx", speed);
    else
        snprintf(buf, cap, "1/%gx", 1 / speed);
}

void ui_view_status(struct screen *s, struct ui_rect r, const struct ui_player *p,
                    const struct ui_view_opts *o)
{
    uint16_t a = (uint16_t)(SC_TITLE | SA_REVERSE);
    screen_fill(s, r.x, r.y, r.w, r.h, ' ', a);
    char right[128], speed[16];
    speed_text(p->speed, speed, sizeof speed);
    const struct scn_step *st = ui_player_current_step(p);
    snprintf(right, sizeof right, "%s%s  %s %s  step %zu/%zu  t=%.3fs ",
             st && st->failed ? "\u2717 expectation failed  " : "", o->mode,
             p->playing ? "\u25b6" : "\u2016", speed, p->step, p->tl->nsteps,
             (double)p->clock_us / 1e6);
    int rw = ui_text_width(right);
    char left[256];
    snprintf(left, sizeof left, " tcplab \u00b7 %s", o->title ? o->title : "");
    screen_print(s, r.x, r.y, r.w - rw - 1, (uint16_t)(a | SA_BOLD), left);
    screen_print(s, r.x + r.w - rw, r.y, rw, a, right);
}

void ui_view_keybar(struct screen *s, struct ui_rect r, const struct ui_view_opts *o)
{
    const char *hint = o->zh ? " 空格 播放  → 下一步  ← 后退  +/- 速度  d 详情  a 绝对/相对  l "
                               "English  ? 帮助  q 退出 "
                             : " space play  \u2192 step  \u2190 back  +/- speed  d details  a "
                               "abs/rel  l \u4e2d\u6587  ? help  q quit ";
    if (ui_text_width(hint) > r.w - 4)
        hint = o->zh ? " 空格 播放 →/← 步进 +/- 速度 d a g c l ? 帮助 q 退出 "
                     : " space play  \u2192/\u2190 step  +/- speed  d a g c l  ? help  q quit ";
    if (o->note[0]) { /* what the last key did, e.g. where `e` wrote the export */
        char line[224];
        snprintf(line, sizeof line, " %s ", o->note);
        screen_print(s, r.x + 1, r.y, r.w - 2, (uint16_t)(SC_HILITE | SA_BOLD), line);
        return;
    }
    screen_print(s, r.x + 1, r.y, r.w - 2, SC_FRAME, hint);
}
