/*
 * view_quiz.c — the quiz panel of `tcplab play --quiz` (key p): it takes the
 * narration's place while a question is asked (the question, its choices or
 * the number typed so far, the keys) and when it is answered (right or not,
 * the right answer, the hint for the misconception, then the narration of
 * the step that just played, which explains it). The score is in the
 * panel's title. Drawn from the quiz session (quiz.h) alone.
 */
#include <stdio.h>
#include <string.h>

#include "quiz.h"
#include "view.h"

/* "1) SYN   2) SYN,ACK" : choices i .. i+per-1 of q. */
static void choice_line(const struct quiz_q *q, bool zh, int i, int per, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (int j = i; j < i + per && j < q->nchoices && len < cap; j++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%d) %s", j > i ? "   " : "", j + 1,
                                zh ? q->choice_zh[j] : q->choice_en[j]);
}

static int widest_line(const struct quiz_q *q, bool zh, int per, char *buf, size_t cap)
{
    int widest = 0;
    for (int i = 0; i < q->nchoices; i += per) {
        choice_line(q, zh, i, per, buf, cap);
        int tw = ui_text_width(buf);
        widest = tw > widest ? tw : widest;
    }
    return widest;
}

void ui_quiz_title(const struct quiz_session *q, bool zh, char *buf, size_t cap)
{
    snprintf(buf, cap, zh ? "测验 \u00b7 得分 %u/%u" : "quiz \u00b7 score %u/%u", q->right_count,
             q->asked);
}

int ui_view_quiz(struct screen *s, struct ui_rect r, const struct quiz_session *qs,
                 const struct scn_timeline *tl, size_t step, bool zh)
{
    if (r.h <= 0)
        return 0;
    if (s)
        screen_fill(s, r.x, r.y, r.w, r.h, ' ', SC_NORMAL);
    int x = r.x + 1, w = r.w - 2, y = r.y, last = r.y + r.h - 1;
    if (qs->phase == QUIZ_IDLE || qs->cur >= qs->qz.n)
        return ui_view_narration(s, r, tl, step, zh);
    const struct quiz_q *q = &qs->qz.q[qs->cur];
    char buf[1200], ans[96];
    if (qs->phase == QUIZ_ASKING) {
        snprintf(buf, sizeof buf, zh ? "第 %zu 题：%s" : "Q%zu: %s", qs->cur + 1,
                 zh ? q->text_zh : q->text_en);
        y = ui_print_wrapped(s, x, y, w, last, (uint16_t)(SC_TITLE | SA_BOLD), buf);
        if (q->nchoices) {
            /* All choices on one line if they fit, else two to a line, else
             * one: a line break should not fall inside a choice. */
            int per = q->nchoices;
            while (per > 1 && widest_line(q, zh, per, buf, sizeof buf) > w)
                per = per > 2 ? 2 : 1;
            for (int i = 0; i < q->nchoices; i += per) {
                choice_line(q, zh, i, per, buf, sizeof buf);
                y = ui_print_wrapped(s, x, y, w, last, SC_HILITE, buf);
            }
            snprintf(buf, sizeof buf,
                     zh ? "按 1-%d 选择 \u00b7 s 跳过 \u00b7 p 关闭测验"
                        : "1-%d choose \u00b7 s skip \u00b7 p quiz off",
                     q->nchoices);
        } else {
            snprintf(buf, sizeof buf, zh ? "你的答案：%s\u258f" : "your answer: %s\u258f",
                     qs->input);
            y = ui_print_wrapped(s, x, y, w, last, SC_HILITE, buf);
            snprintf(buf, sizeof buf,
                     zh ? "输入数字后按回车 \u00b7 s 跳过 \u00b7 p 关闭测验"
                        : "type the number, Enter \u00b7 s skip \u00b7 p quiz off");
        }
        y = ui_print_wrapped(s, x, y, w, last, SC_DIM, buf);
        return y - r.y;
    }
    /* Revealed. */
    quiz_answer_text(q, zh, ans, sizeof ans);
    const char *ok = s && s->ascii ? "+" : "\u2713", *no = s && s->ascii ? "x" : "\u2717";
    if (qs->right) {
        snprintf(buf, sizeof buf, zh ? "%s 答对了：%s" : "%s Right: %s", ok, ans);
        y = ui_print_wrapped(s, x, y, w, last, (uint16_t)(SC_CALL | SA_BOLD), buf);
    } else {
        char you[96] = "";
        if (!qs->skipped && qs->chosen >= 0)
            snprintf(you, sizeof you, zh ? "（你选了 %s）" : " (you said %s)",
                     zh ? q->choice_zh[qs->chosen] : q->choice_en[qs->chosen]);
        else if (!qs->skipped)
            snprintf(you, sizeof you, zh ? "（你答了 %ld）" : " (you said %ld)", qs->given);
        if (qs->skipped)
            snprintf(buf, sizeof buf, zh ? "%s 跳过：答案是 %s" : "%s Skipped: the answer is %s",
                     no, ans);
        else
            snprintf(buf, sizeof buf,
                     zh ? "%s 答错了：答案是 %s%s" : "%s Not quite: the answer is %s%s", no, ans,
                     you);
        y = ui_print_wrapped(s, x, y, w, last, (uint16_t)(SC_LOST | SA_BOLD), buf);
        char hint[800];
        long c = q->nchoices ? qs->chosen : qs->given;
        y = ui_print_wrapped(s, x, y, w, last, SC_NORMAL,
                             quiz_hint(q, qs->skipped ? -1 : c, zh, hint, sizeof hint));
    }
    if (quiz_session_pending(qs, q->step) != SIZE_MAX) {
        y = ui_print_wrapped(s, x, y, w, last, SC_DIM,
                             zh ? "按 \u2192 回答这一步的下一题"
                                : "\u2192 the next question of this step");
        return y - r.y;
    }
    /* The step has played: its narration explains. */
    if (y <= last && step == q->step) {
        struct ui_rect nr = {r.x, y, r.w, last - y + 1};
        y += ui_view_narration(s, nr, tl, step, zh);
    }
    return y - r.y;
}

int ui_quiz_height(const struct quiz_session *qs, const struct scn_timeline *tl, size_t step,
                   bool zh, int w)
{
    struct ui_rect r = {0, 0, w, 32};
    return ui_view_quiz(NULL, r, qs, tl, step, zh);
}
