/*
 * term.c — ncurses behind the screen model (see term.h). Nothing else in
 * tcplab includes <curses.h>.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include "term.h"

struct term {
    bool color;
    int pair_of[SC_NCOLORS];
};

static void init_colors(struct term *t)
{
    t->color = has_colors() && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    if (!t->color)
        return;
    start_color();
    use_default_colors();
    static const short fg[SC_NCOLORS] = {
        [SC_NORMAL] = -1,
        [SC_FRAME] = COLOR_BLUE,
        [SC_TITLE] = COLOR_CYAN,
        [SC_HOST_A] = COLOR_CYAN,
        [SC_HOST_B] = COLOR_YELLOW,
        [SC_STATE] = COLOR_GREEN,
        [SC_CHANGED] = COLOR_MAGENTA,
        [SC_LOST] = COLOR_RED,
        [SC_RTX] = COLOR_YELLOW,
        [SC_TIMER] = COLOR_YELLOW,
        [SC_CALL] = -1,
        [SC_DIM] = -1,
        [SC_HILITE] = COLOR_GREEN,
        [SC_EDGE] = COLOR_MAGENTA,
    };
    for (int c = 1; c < SC_NCOLORS && c < COLOR_PAIRS; c++) {
        init_pair((short)c, fg[c], -1);
        t->pair_of[c] = c;
    }
}

struct term *term_open(char *err, size_t errlen)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "not a terminal: the interactive UI needs one");
        return NULL;
    }
    struct term *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!initscr()) {
        snprintf(err, errlen, "ncurses could not start (is TERM set?)");
        free(t);
        return NULL;
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    leaveok(stdscr, TRUE);
    init_colors(t);
    return t;
}

void term_close(struct term *t)
{
    if (!t)
        return;
    endwin();
    free(t);
}

bool term_has_color(const struct term *t)
{
    return t->color;
}

void term_size(const struct term *t, int *w, int *h)
{
    (void)t;
    getmaxyx(stdscr, *h, *w);
}

static attr_t attrs_of(const struct term *t, uint16_t a, short *pair)
{
    attr_t r = A_NORMAL;
    unsigned c = a & SA_COLOR_MASK;
    if (a & SA_BOLD)
        r |= A_BOLD;
    if (a & SA_REVERSE)
        r |= A_REVERSE;
    if (a & SA_UNDERLINE)
        r |= A_UNDERLINE;
    if (a & SA_DIM)
        r |= A_DIM;
    *pair = 0;
    if (t->color && c < SC_NCOLORS) {
        *pair = (short)t->pair_of[c];
        if (c == SC_DIM)
            r |= A_DIM;
    } else {
        /* Monochrome: what colour said is said by weight instead. */
        switch (c) {
        case SC_LOST:
        case SC_CHANGED:
        case SC_TITLE:
            r |= A_BOLD;
            break;
        case SC_DIM:
            r |= A_DIM;
            break;
        case SC_EDGE:
            r |= A_BOLD | A_UNDERLINE;
            break;
        default:
            break;
        }
    }
    return r;
}

void term_blit(struct term *t, const struct screen *s)
{
    int w, h;
    getmaxyx(stdscr, h, w);
    for (int y = 0; y < h && y < s->h; y++) {
        for (int x = 0; x < w && x < s->w; x++) {
            const struct scr_cell *c = screen_cell(s, x, y);
            if (c->width == 0)
                continue;
            if (c->width == 2 && x + 1 >= w)
                continue;
            short pair;
            attr_t a = attrs_of(t, c->attr, &pair);
            wchar_t wc[2] = {(wchar_t)c->ch, 0};
            cchar_t cc;
            setcchar(&cc, wc, a, pair, NULL);
            mvwadd_wch(stdscr, y, x, &cc);
        }
    }
    wnoutrefresh(stdscr);
    doupdate();
}

int term_getkey(struct term *t, int timeout_ms)
{
    (void)t;
    wtimeout(stdscr, timeout_ms);
    wint_t ch;
    int r = wget_wch(stdscr, &ch);
    if (r == ERR)
        return TK_NONE;
    if (r == KEY_CODE_YES) {
        switch (ch) {
        case KEY_RESIZE:
            return TK_RESIZE;
        case KEY_LEFT:
            return TK_LEFT;
        case KEY_RIGHT:
            return TK_RIGHT;
        case KEY_UP:
            return TK_UP;
        case KEY_DOWN:
            return TK_DOWN;
        case KEY_HOME:
            return TK_HOME;
        case KEY_END:
            return TK_END;
        case KEY_PPAGE:
            return TK_PGUP;
        case KEY_NPAGE:
            return TK_PGDN;
        case KEY_ENTER:
            return TK_ENTER;
        case KEY_BACKSPACE:
            return TK_BACKSPACE;
        default:
            return TK_NONE;
        }
    }
    if (ch == 27)
        return TK_ESC;
    if (ch == '\r' || ch == '\n')
        return TK_ENTER;
    if (ch == 4)
        return TK_EOF;
    if (ch == 127 || ch == 8)
        return TK_BACKSPACE;
    return (int)ch;
}

int term_fd(const struct term *t)
{
    (void)t;
    return STDIN_FILENO;
}

bool term_poll_resize(struct term *t, int *w, int *h)
{
    struct winsize ws;
    if (ioctl(term_fd(t), TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0)
        return false;
    if (ws.ws_col == COLS && ws.ws_row == LINES)
        return false;
    resizeterm(ws.ws_row, ws.ws_col);
    clearok(curscr, TRUE); /* the old picture is garbage at the new size */
    *w = COLS;
    *h = LINES;
    return true;
}
