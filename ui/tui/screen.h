/*
 * screen.h — the screen model: a grid of cells, each holding one Unicode
 * character (wide characters take two cells) and an attribute.
 *
 * Every view of the classroom UI draws into a `struct screen`, never into
 * ncurses. ui/tui/term.c is the only file that copies a screen to the terminal;
 * headless mode (`tcplab play --dump-screen`) prints it as UTF-8 text, and
 * the unit tests inspect it in memory. Keeping drawing away from ncurses is
 * what makes layouts testable (docs/ui.md).
 *
 * Text is UTF-8 everywhere; widths follow wcwidth() (Chinese characters are
 * two columns) with a built-in East Asian Wide table when the C library's
 * locale cannot tell.
 */
#ifndef TCPLAB_SCREEN_H
#define TCPLAB_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What a cell means to the eye. The terminal maps each to a colour pair, or
 * in monochrome to bold / reverse / dim, so meaning never rests on colour
 * alone: everything coloured also has a character or word saying it. */
enum scr_color {
    SC_NORMAL = 0,
    SC_FRAME,   /* panel borders */
    SC_TITLE,   /* status bar, panel titles */
    SC_HOST_A,  /* the first endpoint (arrows it sends) */
    SC_HOST_B,  /* the second endpoint */
    SC_STATE,   /* a state name */
    SC_CHANGED, /* a state that just changed (the flash) */
    SC_LOST,    /* a lost segment, an error */
    SC_RTX,     /* a retransmission */
    SC_TIMER,   /* timer bars */
    SC_CALL,    /* socket calls */
    SC_DIM,     /* secondary text */
    SC_HILITE,  /* selection, current state in the diagram */
    SC_EDGE,    /* the last edge taken in the state diagram */
    SC_NCOLORS
};

#define SA_COLOR_MASK 0x00ff
#define SA_BOLD       0x0100
#define SA_REVERSE    0x0200
#define SA_UNDERLINE  0x0400
#define SA_DIM        0x0800

struct scr_cell {
    uint32_t ch;   /* Unicode code point; 0 in the right half of a wide character */
    uint16_t attr; /* enum scr_color | SA_* */
    uint8_t width; /* 1 or 2 for a character, 0 for the right half of a wide one */
};

struct screen {
    int w, h;
    bool ascii; /* draw lines, arrows and marks with plain ASCII (--ascii) */
    struct scr_cell *cells;
};

struct screen *screen_new(int w, int h);
void screen_free(struct screen *s);
/* Change the size; the contents are cleared. 0 or -ENOMEM. */
int screen_resize(struct screen *s, int w, int h);
void screen_clear(struct screen *s);
const struct scr_cell *screen_cell(const struct screen *s, int x, int y);

/* Put one character at (x, y); returns the columns it took (0 if clipped). A
 * wide character that does not fit before the right edge becomes a space.
 * With s->ascii, line-drawing characters and marks become ASCII. */
int screen_putc(struct screen *s, int x, int y, uint32_t ch, uint16_t attr);
/* Print UTF-8 text at (x, y) in at most `maxw` columns (and never past the
 * right edge). Text that does not fit ends in "…" ("~" in ASCII mode).
 * Returns the columns used. */
int screen_print(struct screen *s, int x, int y, int maxw, uint16_t attr, const char *utf8);
int screen_printf(struct screen *s, int x, int y, int maxw, uint16_t attr, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void screen_hline(struct screen *s, int x, int y, int n, uint32_t ch, uint16_t attr);
void screen_vline(struct screen *s, int x, int y, int n, uint32_t ch, uint16_t attr);
void screen_fill(struct screen *s, int x, int y, int w, int h, uint32_t ch, uint16_t attr);
/* Re-style cells without changing their characters. */
void screen_set_attr(struct screen *s, int x, int y, int w, uint16_t attr);
/* A single-line box (double with `heavy`), its title printed in the top edge. */
void screen_box(struct screen *s, int x, int y, int w, int h, bool heavy, uint16_t attr,
                const char *title);

/* One row as UTF-8 text without trailing spaces, into buf (NUL-terminated).
 * Returns the length. */
size_t screen_row_text(const struct screen *s, int y, char *buf, size_t cap);
/* The whole screen, one line per row. */
void screen_write_text(const struct screen *s, FILE *out);
/* True if the text appears somewhere on the screen (on one row). */
bool screen_contains(const struct screen *s, const char *utf8);
bool screen_equal(const struct screen *a, const struct screen *b);

/* ---- UTF-8 and widths ---------------------------------------------------- */

/* Decode one UTF-8 sequence at s; stores the code point (U+FFFD for a bad
 * sequence) and returns the bytes consumed (at least 1 unless *s is 0). */
size_t ui_utf8_decode(const char *s, uint32_t *cp);
/* Encode a code point; returns 1..4 bytes written to out (4 bytes room). */
size_t ui_utf8_encode(uint32_t cp, char *out);
/* Columns a character takes: 2 for East Asian wide and full-width, 0 for
 * combining marks, 1 otherwise. */
int ui_char_width(uint32_t cp);
/* Columns a UTF-8 string takes. */
int ui_text_width(const char *utf8);
/* Bytes of utf8 that fit in `cols` columns, whole characters only. */
size_t ui_text_fit(const char *utf8, int cols);
/* Word-wrap utf8 into lines of at most `cols` columns: spaces break Latin
 * text, CJK text may break between any two characters but a line never
 * starts with closing punctuation (，。、)...). Stores up to `max` (start,
 * length) byte pairs; returns the number of lines needed. */
int ui_wrap(const char *utf8, int cols, size_t (*lines)[2], int max);

/* Set up the locale for the UI: the user's (setlocale(LC_ALL, "")), and if
 * its character set is not UTF-8, C.UTF-8 for character classes, so widths
 * are right in headless mode too. Returns true if the user's locale is
 * UTF-8 (the terminal can show Unicode). */
bool ui_locale_init(void);

#endif
