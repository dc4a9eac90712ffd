/*
 * term.h — the terminal: the only module that calls ncurses.
 *
 * It copies a screen model (screen.h) to the terminal once per frame
 * (wnoutrefresh + one doupdate, so nothing flickers), maps the model's
 * colours to colour pairs — or, without colours or with NO_COLOR set, to
 * bold / reverse / dim — and reads keys with a timeout so an idle UI
 * sleeps in the kernel instead of spinning.
 */
#ifndef TCPLAB_TERM_H
#define TCPLAB_TERM_H

#include <stdbool.h>
#include <stddef.h>

#include "screen.h"

/* Keys beyond plain characters (which are returned as their code point). */
enum {
    TK_NONE = -1,         /* the timeout passed */
    TK_RESIZE = 0x110001, /* the terminal changed size */
    TK_LEFT,
    TK_RIGHT,
    TK_UP,
    TK_DOWN,
    TK_HOME,
    TK_END,
    TK_PGUP,
    TK_PGDN,
    TK_ENTER,
    TK_ESC,
    TK_BACKSPACE,
    TK_EOF /* input closed */
};

struct term;

/* Take over the terminal. NULL with a message in err when stdin or stdout is
 * not a terminal or ncurses cannot start. */
struct term *term_open(char *err, size_t errlen);
void term_close(struct term *t);
/* True if the terminal shows colours (and NO_COLOR is not set). */
bool term_has_color(const struct term *t);
void term_size(const struct term *t, int *w, int *h);
/* Copy the screen model to the terminal and update it (one doupdate). */
void term_blit(struct term *t, const struct screen *s);
/* Wait up to timeout_ms (-1: forever) for a key. */
int term_getkey(struct term *t, int timeout_ms);
/* The descriptor keys arrive on, for poll(). */
int term_fd(const struct term *t);
/* Has the terminal changed size behind ncurses' back? A program that sleeps
 * in its own poll() (the live view) never reads ncurses' KEY_RESIZE until a
 * key comes; this asks the terminal (TIOCGWINSZ), and on a change resizes
 * ncurses' screens, schedules a full repaint and gives the new size. */
bool term_poll_resize(struct term *t, int *w, int *h);

#endif
