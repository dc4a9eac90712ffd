/*
 * scn_text.c — the growable text buffer of scn_text.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "scn_text.h"

void scn_text_vprintf(struct scn_text *t, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0) {
        va_end(again);
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            va_end(again);
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
    vsnprintf(t->buf + t->len, t->cap - t->len, fmt, again);
    va_end(again);
    t->len += (size_t)n;
}

void scn_text_printf(struct scn_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    scn_text_vprintf(t, fmt, ap);
    va_end(ap);
}
