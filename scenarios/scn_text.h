/*
 * scn_text.h — a growable text buffer written printf-style: the readable
 * report of a run, built up one line at a time. The scenario runner
 * (scn_run_record.c) and the packetdrill runner (pkt/, a layer above, which
 * may include this) both write their reports with it.
 */
#ifndef TCPLAB_SCN_TEXT_H
#define TCPLAB_SCN_TEXT_H

#include <stdarg.h>
#include <stddef.h>

struct scn_text {
    char *buf; /* NUL-terminated once anything is written; malloc'd, NULL if empty */
    size_t len, cap;
};

/* Append; without memory the text is left as it was. */
void scn_text_printf(struct scn_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void scn_text_vprintf(struct scn_text *t, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
