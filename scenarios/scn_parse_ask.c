/*
 * scn_parse_ask.c — the quiz statements of the scenario language
 * (docs/scenarios.md "Quiz questions"): `ask en|zh "question" "choice"
 * *"right choice" ...` and `hint en|zh "..."`. Like `say`, both belong to
 * the statement before them; the quiz (ui/tui/quiz.c) asks the question
 * before that step plays and shows the hint when one of the step's
 * questions is missed.
 *
 * An `ask en` and an `ask zh` in a row are one question in two languages:
 * the same number of choices, the same one marked right.
 */
#include <stdlib.h>
#include <string.h>

#include "scn_parser.h"

#define ASK_HINT                                                                                   \
    "write `ask en \"question?\" \"a choice\" *\"the right choice\" ...` (2 to 4 choices, "        \
    "the right one marked *)"

static int text_arg(struct parser *P, int i, const char *what, char **out)
{
    if (i >= P->nt || P->t[i].k != TK_STRING)
        return scn_fail_tok(P, i, ASK_HINT, "expected %s as a string", what);
    if (!scn_valid_utf8(P->t[i].s, P->t[i].slen) || memchr(P->t[i].s, 0, P->t[i].slen))
        return scn_fail_tok(P, i, "save the file as UTF-8 and avoid control characters",
                            "%s is not valid UTF-8 text", what);
    if (P->t[i].slen == 0)
        return scn_fail_tok(P, i, "write the text between the quotes", "%s is empty", what);
    *out = scn_xstrndup(P, (const char *)P->t[i].s, P->t[i].slen);
    return *out ? 0 : -1;
}

static int language(struct parser *P, const char *stmt, bool *zh)
{
    bool en = scn_is_word(P, 1, "en");
    *zh = scn_is_word(P, 1, "zh");
    if (!en && !*zh)
        return scn_fail_tok(P, 1, "write `ask en \"...\"` or `ask zh \"...\"` (the same for hint)",
                            "expected a language after '%s': en or zh", stmt);
    return 0;
}

static struct scn_stmt *owner(struct parser *P, const char *stmt)
{
    if (P->s->nstmts == 0) {
        scn_fail_tok(P, 0, "put it after the statement whose step it asks about",
                     "'%s' belongs to a statement, and there is none before it", stmt);
        return NULL;
    }
    return &P->s->stmts[P->s->nstmts - 1];
}

static void free_ask(struct scn_ask *q)
{
    free(q->text_en);
    free(q->text_zh);
    for (size_t i = 0; i < SCN_ASK_MAX_CHOICES; i++) {
        free(q->choice_en[i]);
        free(q->choice_zh[i]);
    }
    memset(q, 0, sizeof *q);
}

int scn_parse_ask(struct parser *P)
{
    bool zh;
    if (language(P, "ask", &zh) < 0)
        return -1;
    struct scn_stmt *st = owner(P, "ask");
    if (!st)
        return -1;
    struct scn_ask q;
    memset(&q, 0, sizeof q);
    q.correct = -1;
    char **text = zh ? &q.text_zh : &q.text_en;
    if (text_arg(P, 2, "the question", text) < 0)
        return -1;
    int i = 3;
    while (i < P->nt) {
        bool right = P->t[i].k == TK_WORD && strcmp(P->t[i].w, "*") == 0;
        if (right) {
            if (q.correct >= 0) {
                free_ask(&q);
                return scn_fail_tok(P, i, "mark only the right choice with *",
                                    "two choices are marked right");
            }
            i++;
        }
        if (q.nchoices == SCN_ASK_MAX_CHOICES) {
            free_ask(&q);
            return scn_fail_tok(P, i, ASK_HINT, "at most %d choices", SCN_ASK_MAX_CHOICES);
        }
        char **c = zh ? &q.choice_zh[q.nchoices] : &q.choice_en[q.nchoices];
        if (text_arg(P, i, "a choice", c) < 0) {
            free_ask(&q);
            return -1;
        }
        if (right)
            q.correct = (int)q.nchoices;
        q.nchoices++;
        i++;
    }
    if (q.nchoices < 2) {
        free_ask(&q);
        return scn_fail_tok(P, P->nt > 3 ? 3 : P->nt - 1, ASK_HINT,
                            "a question needs at least 2 choices");
    }
    if (q.correct < 0) {
        free_ask(&q);
        return scn_fail_tok(P, 3, "put * before the right choice: *\"...\"",
                            "no choice is marked right");
    }
    /* The other language of the question just before? */
    struct scn_ask *prev = st->nasks ? &st->asks[st->nasks - 1] : NULL;
    if (prev && (zh ? !prev->text_zh : !prev->text_en)) {
        if (prev->nchoices != q.nchoices || prev->correct != q.correct) {
            free_ask(&q);
            return scn_fail_tok(P, 0, "give both languages the same choices in the same order",
                                "this question has %zu choices (right: %d), the one in the "
                                "other language %zu (right: %d)",
                                q.nchoices, q.correct + 1, prev->nchoices, prev->correct + 1);
        }
        *(zh ? &prev->text_zh : &prev->text_en) = *text;
        for (size_t k = 0; k < q.nchoices; k++)
            *(zh ? &prev->choice_zh[k] : &prev->choice_en[k]) =
                zh ? q.choice_zh[k] : q.choice_en[k];
        return scn_expect_end(P, P->nt);
    }
    struct scn_ask *a = realloc(st->asks, (st->nasks + 1) * sizeof *a);
    if (!a) {
        free_ask(&q);
        return scn_fail_at(P, NULL, NULL, "out of memory");
    }
    st->asks = a;
    st->asks[st->nasks++] = q;
    return scn_expect_end(P, P->nt);
}

int scn_parse_hint(struct parser *P)
{
    bool zh;
    if (language(P, "hint", &zh) < 0)
        return -1;
    struct scn_stmt *st = owner(P, "hint");
    if (!st)
        return -1;
    char **dst = zh ? &st->hint_zh : &st->hint_en;
    if (*dst)
        return scn_fail_tok(P, 0, "one hint per step and language: join them into one",
                            "this step already has a hint in %s", zh ? "Chinese" : "English");
    if (text_arg(P, 2, "the hint", dst) < 0)
        return -1;
    return scn_expect_end(P, 3);
}

void scn_stmt_free_asks(struct scn_stmt *st)
{
    for (size_t i = 0; i < st->nasks; i++)
        free_ask(&st->asks[i]);
    free(st->asks);
    free(st->hint_en);
    free(st->hint_zh);
    st->asks = NULL;
    st->nasks = 0;
    st->hint_en = st->hint_zh = NULL;
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

int scn_ask_copy_to_step(const struct scn_stmt *st, struct scn_step *step)
{
    bool oom = false;
    step->hint_en = dup_or_null(st->hint_en, &oom);
    step->hint_zh = dup_or_null(st->hint_zh, &oom);
    if (st->nasks) {
        step->asks = calloc(st->nasks, sizeof *step->asks);
        if (!step->asks)
            return -1;
        step->nasks = st->nasks;
        for (size_t i = 0; i < st->nasks; i++) {
            const struct scn_ask *a = &st->asks[i];
            struct scn_ask *b = &step->asks[i];
            b->text_en = dup_or_null(a->text_en, &oom);
            b->text_zh = dup_or_null(a->text_zh, &oom);
            b->nchoices = a->nchoices;
            b->correct = a->correct;
            for (size_t k = 0; k < a->nchoices; k++) {
                b->choice_en[k] = dup_or_null(a->choice_en[k], &oom);
                b->choice_zh[k] = dup_or_null(a->choice_zh[k], &oom);
            }
        }
    }
    return oom ? -1 : 0;
}

void scn_ask_free_step(struct scn_step *step)
{
    for (size_t i = 0; i < step->nasks; i++)
        free_ask(&step->asks[i]);
    free(step->asks);
    free(step->hint_en);
    free(step->hint_zh);
    step->asks = NULL;
    step->nasks = 0;
    step->hint_en = step->hint_zh = NULL;
}
