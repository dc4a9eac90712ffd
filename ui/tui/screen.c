/*
 * screen.c — the in-memory screen model (see screen.h): cells, UTF-8 text
 * with correct column widths, boxes, and a plain-text dump. No ncurses here.
 */
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "screen.h"

/* ---- UTF-8 ----------------------------------------------------------------- */

size_t ui_utf8_decode(const char *str, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    if (s[0] == 0) {
        *cp = 0;
        return 0;
    }
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    int n;
    uint32_t c;
    if ((s[0] & 0xe0) == 0xc0) {
        n = 2;
        c = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3;
        c = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4;
        c = s[0] & 0x07;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return (size_t)i;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    *cp = c;
    return (size_t)n;
}

size_t ui_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* East Asian Wide / Fullwidth ranges (Unicode UAX #11), used when the C
 * library's wcwidth() cannot answer (a locale without UTF-8). */
static bool east_asian_wide(uint32_t c)
{
    return (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
           (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
           (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
           (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
           (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
           (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd);
}

int ui_char_width(uint32_t cp)
{
    if (cp == 0)
        return 0;
    int w = wcwidth((wchar_t)cp);
    if (w >= 0)
        return w;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
        return 0;
    if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f))
        return 0;
    return east_asian_wide(cp) ? 2 : 1;
}

int ui_text_width(const char *utf8)
{
    int w = 0;
    uint32_t cp;
    size_t n;
    while ((n = ui_utf8_decode(utf8, &cp)) > 0) {
        w += ui_char_width(cp);
        utf8 += n;
    }
    return w;
}

size_t ui_text_fit(const char *utf8, int cols)
{
    const char *p = utf8;
    int w = 0;
    uint32_t cp;
    size_t n;
    while ((n = ui_utf8_decode(p, &cp)) > 0) {
        int cw = ui_char_width(cp);
        if (w + cw > cols)
            break;
        w += cw;
        p += n;
    }
    return (size_t)(p - utf8);
}

static bool is_cjk(uint32_t cp)
{
    return ui_char_width(cp) == 2;
}

/* Characters a line must not begin with (Chinese line-breaking custom). */
static bool no_line_start(uint32_t cp)
{
    static const uint32_t closing[] = {0xff0c, 0x3002, 0x3001, 0xff1b, 0xff1a, 0xff01, 0xff1f,
                                       0xff09, 0x300d, 0x300f, 0x201d, 0x2019, ',',    '.',
                                       ';',    ':',    '!',    '?',    ')'};
    for (size_t i = 0; i < sizeof closing / sizeof closing[0]; i++)
        if (cp == closing[i])
            return true;
    return false;
}

int ui_wrap(const char *text, int cols, size_t (*lines)[2], int max)
{
    int count = 0;
    const char *p = text;
    if (cols < 2)
        cols = 2;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        /* Walk forward while the text fits, remembering the last place a
         * break is allowed. */
        const char *q = p, *brk = NULL;
        int w = 0;
        uint32_t cp, next;
        size_t n;
        while ((n = ui_utf8_decode(q, &cp)) > 0) {
            if (cp == '\n')
                break;
            int cw = ui_char_width(cp);
            if (w + cw > cols)
                break;
            w += cw;
            q += n;
            ui_utf8_decode(q, &next);
            if (next == ' ' || next == 0 || next == '\n' ||
                ((is_cjk(cp) || is_cjk(next)) && !no_line_start(next)))
                brk = q;
        }
        const char *end;
        if (!*q || *q == '\n')
            end = q;
        else if (brk && brk > p)
            end = brk;
        else
            end = q > p ? q : p + ui_utf8_decode(p, &cp);
        const char *trim = end;
        while (trim > p && trim[-1] == ' ')
            trim--;
        if (count < max) {
            lines[count][0] = (size_t)(p - text);
            lines[count][1] = (size_t)(trim - p);
        }
        count++;
        p = end;
        if (*p == '\n')
            p++;
    }
    return count;
}

bool ui_locale_init(void)
{
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    bool utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
    if (!utf8 && !setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "C.utf8");
    return utf8;
}

/* ---- the grid -------------------------------------------------------------- */

struct screen *screen_new(int w, int h)
{
    struct screen *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (screen_resize(s, w, h) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

void screen_free(struct screen *s)
{
    if (!s)
        return;
    free(s->cells);
    free(s);
}

int screen_resize(struct screen *s, int w, int h)
{
    if (w < 1)
        w = 1;
    if (h < 1)
        h = 1;
    struct scr_cell *c = calloc((size_t)w * (size_t)h, sizeof *c);
    if (!c)
        return -12; /* -ENOMEM */
    free(s->cells);
    s->cells = c;
    s->w = w;
    s->h = h;
    screen_clear(s);
    return 0;
}

void screen_clear(struct screen *s)
{
    for (int i = 0; i < s->w * s->h; i++)
        s->cells[i] = (struct scr_cell){' ', SC_NORMAL, 1};
}

const struct scr_cell *screen_cell(const struct screen *s, int x, int y)
{
    if (x < 0 || y < 0 || x >= s->w || y >= s->h)
        return NULL;
    return &s->cells[y * s->w + x];
}

/* The ASCII stand-in for a line-drawing character or mark, or 0. */
static uint32_t ascii_for(uint32_t ch)
{
    switch (ch) {
    case 0x2500:
    case 0x2501:
        return '-'; /* ─ ━ */
    case 0x2550:
        return '='; /* ═ */
    case 0x2502:
    case 0x2551:
    case 0x2503:
        return '|'; /* │ ║ ┃ */
    case 0x250c:
    case 0x2510:
    case 0x2514:
    case 0x2518: /* ┌ ┐ └ ┘ */
    case 0x2554:
    case 0x2557:
    case 0x255a:
    case 0x255d: /* ╔ ╗ ╚ ╝ */
    case 0x251c:
    case 0x2524:
    case 0x252c:
    case 0x2534:
    case 0x253c:
        return '+';
    case 0x25b6:
    case 0x25ba:
    case 0x2192:
        return '>'; /* ▶ ► → */
    case 0x25c0:
    case 0x25c4:
    case 0x2190:
        return '<'; /* ◀ ◄ ← */
    case 0x2191:
        return '^';
    case 0x2193:
        return 'v';
    case 0x2717:
    case 0x2716:
        return 'X'; /* ✗ ✖ */
    case 0x2588:
    case 0x25a0:
        return '#'; /* █ ■ */
    case 0x2591:
    case 0x25a1:
        return '.'; /* ░ □ */
    case 0x25cf:
    case 0x2022:
    case 0x00b7:
        return '*'; /* ● • · */
    case 0x2026:
        return '~'; /* … */
    case 0x21bb:
        return '@'; /* ↻ */
    case 0x2016:
        return '|'; /* ‖ */
    case 0x2595:
        return '['; /* ▕ */
    case 0x258f:
        return ']'; /* ▏ */
    case 0x00bb:
        return '>'; /* » */
    case 0x2014:
    case 0x2013:
        return '-';
    case 0x00a7:
        return 'S'; /* § */
    case 0x25b2:
        return '^'; /* ▲ */
    case 0x25bc:
        return 'v'; /* ▼ */
    case 0x2248:
        return '~'; /* ≈ */
    case 0x254c:
        return '-'; /* ╌ */
    default:
        return 0;
    }
}

static void put_raw(struct screen *s, int x, int y, uint32_t ch, uint16_t attr, uint8_t width)
{
    struct scr_cell *c = &s->cells[y * s->w + x];
    /* Overwriting half of a wide character leaves the other half blank. */
    if (c->width == 0 && x > 0)
        s->cells[y * s->w + x - 1] = (struct scr_cell){' ', c->attr, 1};
    if (c->width == 2 && x + 1 < s->w)
        s->cells[y * s->w + x + 1] = (struct scr_cell){' ', c->attr, 1};
    *c = (struct scr_cell){ch, attr, width};
}

int screen_putc(struct screen *s, int x, int y, uint32_t ch, uint16_t attr)
{
    if (x < 0 || y < 0 || x >= s->w || y >= s->h)
        return 0;
    if (s->ascii) {
        uint32_t a = ascii_for(ch);
        if (a)
            ch = a;
        else if (ch > 0x7e && ui_char_width(ch) == 1)
            ch = '?';
    }
    int w = ui_char_width(ch);
    if (w == 0)
        return 0; /* combining marks are not drawn on their own */
    if (w == 2) {
        if (x + 1 >= s->w) {
            put_raw(s, x, y, ' ', attr, 1);
            return 1;
        }
        put_raw(s, x, y, ch, attr, 2);
        put_raw(s, x + 1, y, 0, attr, 0);
        return 2;
    }
    put_raw(s, x, y, ch, attr, 1);
    return 1;
}

int screen_print(struct screen *s, int x, int y, int maxw, uint16_t attr, const char *utf8)
{
    if (y < 0 || y >= s->h || maxw <= 0 || x >= s->w)
        return 0;
    if (x + maxw > s->w)
        maxw = s->w - x;
    int total = ui_text_width(utf8);
    int limit = total > maxw ? maxw - 1 : maxw; /* room for the ellipsis */
    int used = 0;
    uint32_t cp;
    size_t n;
    const char *p = utf8;
    while ((n = ui_utf8_decode(p, &cp)) > 0) {
        int cw = ui_char_width(cp);
        if (used + cw > limit)
            break;
        if (cp == '\t' || cp == '\n')
            cp = ' ';
        if (cw > 0)
            used += screen_putc(s, x + used, y, cp, attr);
        p += n;
    }
    if (total > maxw) {
        used += screen_putc(s, x + used, y, 0x2026, attr);
    }
    return used;
}

int screen_printf(struct screen *s, int x, int y, int maxw, uint16_t attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return screen_print(s, x, y, maxw, attr, buf);
}

void screen_hline(struct screen *s, int x, int y, int n, uint32_t ch, uint16_t attr)
{
    for (int i = 0; i < n; i++)
        screen_putc(s, x + i, y, ch, attr);
}

void screen_vline(struct screen *s, int x, int y, int n, uint32_t ch, uint16_t attr)
{
    for (int i = 0; i < n; i++)
        screen_putc(s, x, y + i, ch, attr);
}

void screen_fill(struct screen *s, int x, int y, int w, int h, uint32_t ch, uint16_t attr)
{
    for (int j = 0; j < h; j++)
        screen_hline(s, x, y + j, w, ch, attr);
}

void screen_set_attr(struct screen *s, int x, int y, int w, uint16_t attr)
{
    if (y < 0 || y >= s->h)
        return;
    for (int i = x < 0 ? 0 : x; i < x + w && i < s->w; i++)
        s->cells[y * s->w + i].attr = attr;
}

void screen_box(struct screen *s, int x, int y, int w, int h, bool heavy, uint16_t attr,
                const char *title)
{
    if (w < 2 || h < 2)
        return;
    uint32_t hz = heavy ? 0x2550 : 0x2500, vt = heavy ? 0x2551 : 0x2502;
    screen_putc(s, x, y, heavy ? 0x2554 : 0x250c, attr);
    screen_putc(s, x + w - 1, y, heavy ? 0x2557 : 0x2510, attr);
    screen_putc(s, x, y + h - 1, heavy ? 0x255a : 0x2514, attr);
    screen_putc(s, x + w - 1, y + h - 1, heavy ? 0x255d : 0x2518, attr);
    screen_hline(s, x + 1, y, w - 2, hz, attr);
    screen_hline(s, x + 1, y + h - 1, w - 2, hz, attr);
    screen_vline(s, x, y + 1, h - 2, vt, attr);
    screen_vline(s, x + w - 1, y + 1, h - 2, vt, attr);
    if (title && *title && w > 4) {
        int used = screen_print(s, x + 2, y, w - 4, attr, " ");
        used += screen_print(s, x + 2 + used, y, w - 4 - used, (uint16_t)(attr | SA_BOLD), title);
        screen_print(s, x + 2 + used, y, w - 4 - used, attr, " ");
    }
}

/* ---- text out -------------------------------------------------------------- */

size_t screen_row_text(const struct screen *s, int y, char *buf, size_t cap)
{
    size_t len = 0, last = 0;
    if (cap == 0)
        return 0;
    for (int x = 0; x < s->w && y >= 0 && y < s->h; x++) {
        const struct scr_cell *c = &s->cells[y * s->w + x];
        if (c->width == 0)
            continue;
        char enc[4];
        size_t n = ui_utf8_encode(c->ch, enc);
        if (len + n + 1 > cap)
            break;
        memcpy(buf + len, enc, n);
        len += n;
        if (c->ch != ' ')
            last = len;
    }
    buf[last] = 0;
    return last;
}

void screen_write_text(const struct screen *s, FILE *out)
{
    size_t cap = (size_t)s->w * 4 + 1;
    char *buf = malloc(cap);
    if (!buf)
        return;
    for (int y = 0; y < s->h; y++) {
        screen_row_text(s, y, buf, cap);
        fprintf(out, "%s\n", buf);
    }
    free(buf);
}

bool screen_contains(const struct screen *s, const char *utf8)
{
    size_t cap = (size_t)s->w * 4 + 1;
    char *buf = malloc(cap);
    bool found = false;
    if (!buf)
        return false;
    for (int y = 0; y < s->h && !found; y++) {
        screen_row_text(s, y, buf, cap);
        found = strstr(buf, utf8) != NULL;
    }
    free(buf);
    return found;
}

bool screen_equal(const struct screen *a, const struct screen *b)
{
    if (a->w != b->w || a->h != b->h)
        return false;
    for (int i = 0; i < a->w * a->h; i++)
        if (a->cells[i].ch != b->cells[i].ch || a->cells[i].attr != b->cells[i].attr ||
            a->cells[i].width != b->cells[i].width)
            return false;
    return true;
}
