/*
 * pkt_parse.c — read a packetdrill script (.pkt) into a struct pkt_script.
 *
 * Three passes over the text: the #ifdef/#ifndef/#else/#endif lines of
 * nplab's packetdrill fork pick branches (lines left out become blank so
 * line numbers stay true); a lexer cuts the rest into tokens (numbers,
 * words, strings, `backticks`, %{ code }%, --options, punctuation), dropping
 * // and C comments; a recursive-descent parser builds the events.
 *
 * Everything malformed is an error with its line and column. Constructs
 * that are well formed but that tcplab cannot run (shell commands, Python
 * code, IPv6, UDP, ICMP, TCP Fast Open ...) parse, and mark the script as
 * a SKIP with the first such line and why.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_internal.h"
#include "wire.h"

#define PKT_MAX_SOURCE (4u << 20) /* a script larger than 4 MiB is refused */
#define PKT_MAX_DEPTH  32         /* nesting of [ { ( in expressions, #ifdef */

/* ---- tokens ------------------------------------------------------------------ */

enum tok_kind {
    TK_EOF,
    TK_INT,      /* 12, 0x1f */
    TK_FLOAT,    /* 0.100, .1 */
    TK_WORD,     /* S, ack, SOCK_STREAM */
    TK_STRING,   /* "..." */
    TK_BACKTICK, /* `...` */
    TK_CODE,     /* %{ ... }% */
    TK_OPTION,   /* --name or --name=value */
    TK_IPADDR,   /* 192.0.2.1 */
    TK_ELLIPSIS, /* ... */
    TK_PUNCT,    /* any other single character */
};

struct tok {
    enum tok_kind kind;
    int line, col;
    const char *p; /* start in the source */
    size_t n;      /* length in the source */
    char c;        /* PUNCT */
};

struct parser {
    struct pkt_script *s;
    struct pkt_error *err;
    const char *text; /* after preprocessing */
    size_t len, pos;
    int line, col;
    struct tok t;     /* current token */
    bool failed;
    int depth;
};

static void perr(struct parser *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void perr(struct parser *p, int line, int col, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    p->err->line = line;
    p->err->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
}

static void mark_skip(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void mark_skip(struct parser *p, int line, const char *fmt, ...)
{
    if (p->s->skip_line)
        return;
    p->s->skip_line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->s->skip_reason, sizeof p->s->skip_reason, fmt, ap);
    va_end(ap);
}

static int peekc(const struct parser *p, size_t ahead)
{
    return p->pos + ahead < p->len ? (unsigned char)p->text[p->pos + ahead] : -1;
}

static void advance(struct parser *p, size_t n)
{
    while (n-- && p->pos < p->len) {
        if (p->text[p->pos] == '\n') {
            p->line++;
            p->col = 1;
        } else {
            p->col++;
        }
        p->pos++;
    }
}

/* Skip blanks and comments. A C comment that never ends is an error. */
static void skip_space(struct parser *p)
{
    for (;;) {
        int c = peekc(p, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(p, 1);
        } else if (c == '/' && peekc(p, 1) == '/') {
            while (peekc(p, 0) != -1 && peekc(p, 0) != '\n')
                advance(p, 1);
        } else if (c == '/' && peekc(p, 1) == '*') {
            int l = p->line, col = p->col;
            advance(p, 2);
            while (peekc(p, 0) != -1 && !(peekc(p, 0) == '*' && peekc(p, 1) == '/'))
                advance(p, 1);
            if (peekc(p, 0) == -1) {
                perr(p, l, col, "comment '/*' is never closed with '*/'");
                return;
            }
            advance(p, 2);
        } else {
            return;
        }
    }
}

static bool is_word_char(int c)
{
    return c != -1 && (isalnum(c) || c == '_');
}

/* Four dot-separated groups of digits from here? */
static size_t ipaddr_len(const struct parser *p)
{
    size_t i = 0;
    for (int g = 0; g < 4; g++) {
        size_t start = i;
        while (isdigit(peekc(p, i)))
            i++;
        if (i == start)
            return 0;
        if (g < 3) {
            if (peekc(p, i) != '.')
                return 0;
            i++;
        }
    }
    return is_word_char(peekc(p, i)) || peekc(p, i) == '.' ? 0 : i;
}

static void next(struct parser *p)
{
    skip_space(p);
    struct tok *t = &p->t;
    t->line = p->line;
    t->col = p->col;
    t->p = p->text + p->pos;
    t->n = 0;
    t->c = 0;
    if (p->failed) {
        t->kind = TK_EOF;
        return;
    }
    int c = peekc(p, 0);
    size_t n = 0;
    if (c == -1) {
        t->kind = TK_EOF;
        return;
    }
    if (c == '.' && peekc(p, 1) == '.' && peekc(p, 2) == '.') {
        t->kind = TK_ELLIPSIS;
        n = 3;
    } else if ((n = ipaddr_len(p)) > 0) {
        t->kind = TK_IPADDR;
    } else if (c == '0' && (peekc(p, 1) == 'x' || peekc(p, 1) == 'X') && isxdigit(peekc(p, 2))) {
        n = 2;
        while (isxdigit(peekc(p, n)))
            n++;
        t->kind = TK_INT;
    } else if (isdigit(c) || (c == '.' && isdigit(peekc(p, 1)))) {
        while (isdigit(peekc(p, n)))
            n++;
        t->kind = TK_INT;
        /* A fraction, but not the start of "..." (0.1...0.2). */
        if (peekc(p, n) == '.' && isdigit(peekc(p, n + 1))) {
            n++;
            while (isdigit(peekc(p, n)))
                n++;
            t->kind = TK_FLOAT;
        }
        if (is_word_char(peekc(p, n))) {
            perr(p, t->line, t->col + (int)n, "unexpected '%c' in a number", peekc(p, n));
            t->kind = TK_EOF;
            return;
        }
    } else if (isalpha(c) || c == '_') {
        while (is_word_char(peekc(p, n)))
            n++;
        t->kind = TK_WORD;
    } else if (c == '-' && peekc(p, 1) == '-' && isalpha(peekc(p, 2))) {
        n = 2;
        while (is_word_char(peekc(p, n)) || peekc(p, n) == '-')
            n++;
        if (peekc(p, n) == '=') {
            n++;
            if (peekc(p, n) == '"') {
                n++;
                while (peekc(p, n) != -1 && peekc(p, n) != '"' && peekc(p, n) != '\n')
                    n++;
                if (peekc(p, n) != '"') {
                    perr(p, t->line, t->col, "option value: string is never closed");
                    t->kind = TK_EOF;
                    return;
                }
                n++;
            } else {
                while (peekc(p, n) != -1 && !isspace(peekc(p, n)))
                    n++;
            }
        }
        t->kind = TK_OPTION;
    } else if (c == '"' || c == '`') {
        n = 1;
        while (peekc(p, n) != -1 && peekc(p, n) != c) {
            if (peekc(p, n) == '\\' && peekc(p, n + 1) != -1)
                n++;
            n++;
        }
        if (peekc(p, n) != c) {
            perr(p, t->line, t->col, "%s is never closed", c == '"' ? "string" : "`command`");
            t->kind = TK_EOF;
            return;
        }
        n++;
        t->kind = c == '"' ? TK_STRING : TK_BACKTICK;
    } else if (c == '%' && peekc(p, 1) == '{') {
        n = 2;
        while (peekc(p, n) != -1 && !(peekc(p, n) == '}' && peekc(p, n + 1) == '%'))
            n++;
        if (peekc(p, n) == -1) {
            perr(p, t->line, t->col, "code block '%%{' is never closed with '}%%'");
            t->kind = TK_EOF;
            return;
        }
        n += 2;
        t->kind = TK_CODE;
    } else {
        t->kind = TK_PUNCT;
        t->c = (char)c;
        n = 1;
    }
    t->n = n;
    advance(p, n);
}

static bool is_punct(const struct parser *p, char c)
{
    return p->t.kind == TK_PUNCT && p->t.c == c;
}

static bool is_word(const struct parser *p, const char *w)
{
    return p->t.kind == TK_WORD && p->t.n == strlen(w) && !memcmp(p->t.p, w, p->t.n);
}

static char *tok_str(const struct tok *t)
{
    char *s = malloc(t->n + 1);
    if (s) {
        memcpy(s, t->p, t->n);
        s[t->n] = 0;
    }
    return s;
}

static const char *tok_desc(const struct tok *t, char buf[64])
{
    switch (t->kind) {
    case TK_EOF:
        return "the end of the file";
    case TK_PUNCT:
        snprintf(buf, 64, "'%c'", t->c);
        return buf;
    default:
        snprintf(buf, 64, "'%.*s'", (int)(t->n > 40 ? 40 : t->n), t->p);
        return buf;
    }
}

static void expected(struct parser *p, const char *what)
{
    char b[64];
    perr(p, p->t.line, p->t.col, "expected %s, found %s", what, tok_desc(&p->t, b));
}

static bool expect_punct(struct parser *p, char c)
{
    if (!is_punct(p, c)) {
        char w[8];
        snprintf(w, sizeof w, "'%c'", c);
        expected(p, w);
        return false;
    }
    next(p);
    return true;
}

/* An unsigned integer token that fits 32 bits. */
static bool take_u32(struct parser *p, uint32_t *out, const char *what)
{
    if (p->t.kind != TK_INT) {
        expected(p, what);
        return false;
    }
    char *s = tok_str(&p->t);
    if (!s)
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    bool ok = !errno && *end == 0 && v <= UINT32_MAX;
    free(s);
    if (!ok) {
        perr(p, p->t.line, p->t.col, "%s out of range (0..4294967295)", what);
        return false;
    }
    *out = (uint32_t)v;
    next(p);
    return true;
}

/* Seconds as written ("0.100", "2", ".5") into microseconds, exactly. */
static bool take_time_us(struct parser *p, int64_t *out)
{
    if (p->t.kind != TK_INT && p->t.kind != TK_FLOAT) {
        expected(p, "a time in seconds");
        return false;
    }
    const char *s = p->t.p, *e = p->t.p + p->t.n;
    if (p->t.kind == TK_INT && p->t.n > 2 && (s[1] == 'x' || s[1] == 'X')) {
        perr(p, p->t.line, p->t.col, "a time is written in decimal seconds");
        return false;
    }
    int64_t whole = 0, frac = 0;
    int digits = 0;
    for (; s < e && *s != '.'; s++) {
        whole = whole * 10 + (*s - '0');
        if (whole > 100000000) { /* about three years: a typo */
            perr(p, p->t.line, p->t.col, "time too large");
            return false;
        }
    }
    if (s < e)
        s++;
    for (; s < e; s++, digits++)
        if (digits < 6)
            frac = frac * 10 + (*s - '0');
    for (; digits < 6; digits++)
        frac *= 10;
    *out = whole * 1000000 + frac;
    next(p);
    return true;
}

/* ---- expressions (system call arguments and results) ---------------------------- */

static void expr_free(struct pkt_expr *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        expr_free(e->items[i]);
    free(e->items);
    free(e->s);
    free(e);
}

static struct pkt_expr *expr_new(struct parser *p, enum pkt_expr_kind k)
{
    struct pkt_expr *e = calloc(1, sizeof *e);
    if (!e) {
        perr(p, p->t.line, p->t.col, "out of memory");
        return NULL;
    }
    e->kind = k;
    e->line = p->t.line;
    e->col = p->t.col;
    return e;
}

static bool expr_push(struct parser *p, struct pkt_expr *e, struct pkt_expr *item)
{
    struct pkt_expr **v = realloc(e->items, (e->n + 1) * sizeof *v);
    if (!v) {
        expr_free(item);
        perr(p, p->t.line, p->t.col, "out of memory");
        return false;
    }
    e->items = v;
    e->items[e->n++] = item;
    return true;
}

static struct pkt_expr *parse_expr(struct parser *p);

/* '(' [expr {',' expr}] ')' appended to e's items; the current token is '('. */
static bool parse_expr_list(struct parser *p, struct pkt_expr *e, char close)
{
    next(p);
    if (is_punct(p, close)) {
        next(p);
        return true;
    }
    for (;;) {
        struct pkt_expr *a = parse_expr(p);
        if (!a || !expr_push(p, e, a))
            return false;
        if (is_punct(p, ',')) {
            next(p);
            continue;
        }
        if (is_punct(p, close)) {
            next(p);
            return true;
        }
        char w[40];
        snprintf(w, sizeof w, "',' or '%c'", close);
        expected(p, w);
        return false;
    }
}

static struct pkt_expr *parse_primary(struct parser *p)
{
    struct pkt_expr *e = NULL;
    if (++p->depth > PKT_MAX_DEPTH) {
        perr(p, p->t.line, p->t.col, "expression nested too deeply");
        return NULL;
    }
    switch (p->t.kind) {
    case TK_ELLIPSIS:
        e = expr_new(p, PKT_E_ELLIPSIS);
        next(p);
        break;
    case TK_INT: {
        e = expr_new(p, PKT_E_INT);
        if (!e)
            break;
        char *s = tok_str(&p->t);
        errno = 0;
        char *end = NULL;
        e->i = s ? strtoll(s, &end, 0) : 0;
        bool ok = s && !errno && end && *end == 0;
        free(s);
        if (!ok) {
            perr(p, p->t.line, p->t.col, "integer out of range");
            break;
        }
        next(p);
        break;
    }
    case TK_STRING:
        e = expr_new(p, PKT_E_STRING);
        if (e) {
            e->s = strndup(p->t.p + 1, p->t.n - 2);
            next(p);
        }
        break;
    case TK_WORD: {
        struct tok w = p->t;
        next(p);
        if (is_punct(p, '(')) {
            e = expr_new(p, PKT_E_CALL);
            if (e) {
                e->line = w.line;
                e->col = w.col;
                e->s = tok_str(&w);
                if (!parse_expr_list(p, e, ')'))
                    break;
            }
            /* msg_iov(1)=[...] : a field whose name takes an argument */
            if (e && is_punct(p, '=')) {
                e->kind = PKT_E_FIELD;
                next(p);
                struct pkt_expr *v = parse_expr(p);
                if (!v || !expr_push(p, e, v))
                    break;
                /* the value goes first */
                struct pkt_expr *last = e->items[e->n - 1];
                memmove(e->items + 1, e->items, (e->n - 1) * sizeof *e->items);
                e->items[0] = last;
            }
            break;
        }
        if (is_punct(p, '=')) {
            e = expr_new(p, PKT_E_FIELD);
            if (!e)
                break;
            e->line = w.line;
            e->col = w.col;
            e->s = tok_str(&w);
            next(p);
            struct pkt_expr *v = parse_expr(p);
            if (v)
                expr_push(p, e, v);
            break;
        }
        e = expr_new(p, PKT_E_WORD);
        if (e) {
            e->line = w.line;
            e->col = w.col;
            e->s = tok_str(&w);
        }
        break;
    }
    case TK_PUNCT:
        if (p->t.c == '-') {
            int l = p->t.line, c = p->t.col;
            next(p);
            if (p->t.kind != TK_INT) {
                expected(p, "a number after '-'");
                break;
            }
            e = parse_primary(p);
            if (e) {
                e->i = -e->i;
                e->line = l;
                e->col = c;
            }
            break;
        }
        if (p->t.c == '[' || p->t.c == '{') {
            e = expr_new(p, p->t.c == '[' ? PKT_E_ARRAY : PKT_E_STRUCT);
            if (e)
                parse_expr_list(p, e, p->t.c == '[' ? ']' : '}');
            break;
        }
        /* fall through */
    default:
        expected(p, "an expression");
        break;
    }
    p->depth--;
    if (p->failed) {
        expr_free(e);
        return NULL;
    }
    return e;
}

static struct pkt_expr *parse_expr(struct parser *p)
{
    struct pkt_expr *e = parse_primary(p);
    while (e && is_punct(p, '|')) {
        struct pkt_expr *o = expr_new(p, PKT_E_OR);
        next(p);
        struct pkt_expr *r = o ? parse_primary(p) : NULL;
        if (!o || !r) {
            expr_free(o);
            expr_free(e);
            return NULL;
        }
        o->line = e->line;
        o->col = e->col;
        if (!expr_push(p, o, e) || !expr_push(p, o, r)) {
            expr_free(o);
            return NULL;
        }
        e = o;
    }
    return e;
}

/* ---- packets ------------------------------------------------------------------ */

static bool parse_flags(struct parser *p, struct pkt_packet *pk)
{
    pk->flags = 0;
    if (is_punct(p, '.')) {
        pk->flags = TCP_ACK;
        next(p);
        return true;
    }
    if (is_punct(p, '-')) {
        next(p);
        return true;
    }
    if (p->t.kind != TK_WORD) {
        expected(p, "TCP flags (S, S., ., P., F., R, R. ...)");
        return false;
    }
    for (size_t i = 0; i < p->t.n; i++) {
        uint8_t f;
        switch (p->t.p[i]) {
        case 'F': f = TCP_FIN; break;
        case 'S': f = TCP_SYN; break;
        case 'R': f = TCP_RST; break;
        case 'P': f = TCP_PSH; break;
        case 'U': f = TCP_URG; break;
        case 'E': f = TCP_ECE; break;
        case 'W': f = TCP_CWR; break;
        default:
            perr(p, p->t.line, p->t.col + (int)i,
                 "unknown TCP flag '%c' (flags are F S R P U E W, then '.' for ACK)", p->t.p[i]);
            return false;
        }
        pk->flags |= f;
    }
    next(p);
    if (is_punct(p, '.') && p->t.col > 1) {
        pk->flags |= TCP_ACK;
        next(p);
    }
    return true;
}

static bool parse_option(struct parser *p, struct pkt_packet *pk, int line)
{
    if (pk->nopts >= PKT_MAX_OPTS) {
        perr(p, p->t.line, p->t.col, "too many TCP options (at most %d)", PKT_MAX_OPTS);
        return false;
    }
    struct pkt_opt *o = &pk->opts[pk->nopts];
    memset(o, 0, sizeof *o);
    if (is_word(p, "nop")) {
        o->kind = PKT_O_NOP;
        next(p);
    } else if (is_word(p, "eol")) {
        o->kind = PKT_O_EOL;
        next(p);
    } else if (is_word(p, "mss")) {
        o->kind = PKT_O_MSS;
        next(p);
        if (!take_u32(p, &o->a, "the MSS value"))
            return false;
        if (o->a > 65535) {
            perr(p, line, 1, "MSS %u does not fit 16 bits", o->a);
            return false;
        }
    } else if (is_word(p, "wscale")) {
        o->kind = PKT_O_WSCALE;
        next(p);
        if (!take_u32(p, &o->a, "the window scale shift"))
            return false;
        if (o->a > 255) {
            perr(p, line, 1, "window scale %u does not fit a byte", o->a);
            return false;
        }
    } else if (is_word(p, "sackOK")) {
        o->kind = PKT_O_SACKOK;
        next(p);
    } else if (is_word(p, "sack")) {
        o->kind = PKT_O_SACK;
        next(p);
        while (p->t.kind == TK_INT) {
            if (o->nsack >= PKT_MAX_SACK) {
                perr(p, p->t.line, p->t.col, "at most %d SACK blocks", PKT_MAX_SACK);
                return false;
            }
            if (!take_u32(p, &o->sack[o->nsack][0], "a SACK block's left edge") ||
                !expect_punct(p, ':') ||
                !take_u32(p, &o->sack[o->nsack][1], "a SACK block's right edge"))
                return false;
            o->nsack++;
        }
        if (!o->nsack) {
            expected(p, "SACK blocks (left:right)");
            return false;
        }
    } else if (is_word(p, "TS")) {
        o->kind = PKT_O_TS;
        next(p);
        if (!is_word(p, "val")) {
            expected(p, "'val'");
            return false;
        }
        next(p);
        if (!take_u32(p, &o->a, "the timestamp value"))
            return false;
        if (!is_word(p, "ecr")) {
            expected(p, "'ecr'");
            return false;
        }
        next(p);
        if (!take_u32(p, &o->b, "the timestamp echo reply"))
            return false;
    } else if (p->t.kind == TK_WORD) {
        /* FO (Fast Open), md5, mpcapable, exp ... are well-formed elsewhere. */
        mark_skip(p, line, "TCP option '%.*s' is not supported", (int)p->t.n, p->t.p);
        while (!p->failed && p->t.kind != TK_EOF && !is_punct(p, ',') && !is_punct(p, '>'))
            next(p);
        return !p->failed;
    } else {
        expected(p, "a TCP option (nop, eol, mss N, wscale N, sackOK, sack L:R, TS val N ecr N)");
        return false;
    }
    pk->nopts++;
    return true;
}

static bool parse_packet(struct parser *p, struct pkt_event *ev)
{
    struct pkt_packet *pk = &ev->pkt;
    pk->outbound = p->t.c == '>';
    pk->ecn = -1;
    pk->rport = -1;
    next(p);
    /* tcplab extension: <@PORT names the script's port (several connections) */
    if (is_punct(p, '@')) {
        next(p);
        uint32_t port;
        if (!take_u32(p, &port, "a port after '@'"))
            return false;
        if (port == 0 || port > 65535) {
            perr(p, ev->line, ev->col, "port %u out of range (1..65535)", port);
            return false;
        }
        pk->rport = (int)port;
    }
    if (is_punct(p, '[')) {
        next(p);
        static const char *const ecn[] = {"noecn", "ect1", "ect0", "ce"};
        pk->ecn = -1;
        for (int i = 0; i < 4; i++)
            if (is_word(p, ecn[i]))
                pk->ecn = i;
        if (is_word(p, "ect01")) {
            mark_skip(p, ev->line, "IP ECN field 'ect01' is not supported");
            pk->ecn = 2;
        }
        if (pk->ecn < 0) {
            expected(p, "an ECN codepoint (noecn, ect0, ect1, ce)");
            return false;
        }
        next(p);
        if (!expect_punct(p, ']'))
            return false;
    }
    if (is_word(p, "udp") || is_word(p, "udplite") || is_word(p, "icmp") ||
        is_word(p, "sctp") || is_word(p, "gre") || is_word(p, "mpls") || is_word(p, "ipv6") ||
        is_word(p, "ipv4")) {
        mark_skip(p, ev->line, "%.*s packets are not supported (TCP only)", (int)p->t.n, p->t.p);
        /* the rest of the line is not ours to understand */
        int line = p->t.line;
        while (!p->failed && p->t.kind != TK_EOF && p->t.line == line)
            next(p);
        return !p->failed;
    }
    if (!parse_flags(p, pk))
        return false;
    int sl = p->t.line, sc = p->t.col;
    if (!take_u32(p, &pk->seq, "a sequence range START:END(LENGTH)") || !expect_punct(p, ':') ||
        !take_u32(p, &pk->end, "the end of the sequence range") || !expect_punct(p, '(') ||
        !take_u32(p, &pk->len, "the segment length") || !expect_punct(p, ')'))
        return false;
    if (pk->end - pk->seq != pk->len) {
        perr(p, sl, sc, "sequence range %u:%u does not hold %u bytes", pk->seq, pk->end, pk->len);
        return false;
    }
    if (pk->len > 65495) {
        perr(p, sl, sc, "a segment of %u bytes does not fit an IPv4 packet", pk->len);
        return false;
    }
    if (is_word(p, "ack")) {
        next(p);
        if (!take_u32(p, &pk->ack, "the acknowledgment number"))
            return false;
        pk->has_ack = true;
    }
    if (is_word(p, "win")) {
        next(p);
        if (!take_u32(p, &pk->win, "the window"))
            return false;
        if (pk->win > 65535) {
            perr(p, ev->line, ev->col, "window %u does not fit 16 bits", pk->win);
            return false;
        }
        pk->has_win = true;
    }
    if (is_punct(p, '<')) {
        next(p);
        if (p->t.kind == TK_ELLIPSIS) {
            if (!pk->outbound) {
                perr(p, p->t.line, p->t.col,
                     "'<...>' matches any options; an inbound packet needs real ones");
                return false;
            }
            pk->opts_mode = PKT_OPTS_ANY;
            next(p);
        } else {
            pk->opts_mode = PKT_OPTS_LIST;
            for (;;) {
                if (!parse_option(p, pk, ev->line))
                    return false;
                if (is_punct(p, ',')) {
                    next(p);
                    continue;
                }
                break;
            }
        }
        if (!expect_punct(p, '>'))
            return false;
    }
    return true;
}

/* ---- system calls --------------------------------------------------------------- */

static void syscall_free(struct pkt_syscall *sc)
{
    free(sc->name);
    for (size_t i = 0; i < sc->nargs; i++)
        expr_free(sc->args[i]);
    free(sc->args);
    expr_free(sc->ret);
    free(sc->err_name);
}

static bool parse_syscall(struct parser *p, struct pkt_event *ev)
{
    struct pkt_syscall *sc = &ev->sc;
    sc->name = tok_str(&p->t);
    next(p);
    if (!is_punct(p, '(')) {
        expected(p, "'(' after the system call's name");
        return false;
    }
    struct pkt_expr holder = {0};
    holder.kind = PKT_E_ARRAY;
    bool ok = parse_expr_list(p, &holder, ')');
    sc->args = holder.items;
    sc->nargs = holder.n;
    if (!ok)
        return false;
    if (!expect_punct(p, '='))
        return false;
    sc->ret = parse_expr(p);
    if (!sc->ret)
        return false;
    /* errno name, then a note in parentheses: = -1 ECONNREFUSED (Connection refused) */
    if (p->t.kind == TK_WORD && p->t.line == sc->ret->line) {
        sc->err_name = tok_str(&p->t);
        int l = p->t.line, c = p->t.col;
        next(p);
        if (sc->err_name && !pkt_errno_from_name(sc->err_name)) {
            perr(p, l, c, "unknown errno name '%s'", sc->err_name);
            return false;
        }
    }
    if (is_punct(p, '(')) {
        int l = p->t.line, c = p->t.col, depth = 0;
        do {
            if (is_punct(p, '('))
                depth++;
            else if (is_punct(p, ')'))
                depth--;
            next(p);
        } while (depth > 0 && p->t.kind != TK_EOF && !p->failed);
        if (depth > 0) {
            perr(p, l, c, "note '(' is never closed with ')'");
            return false;
        }
    }
    return !p->failed;
}

/* ---- events ------------------------------------------------------------------- */

static bool parse_time(struct parser *p, struct pkt_time *t)
{
    memset(t, 0, sizeof *t);
    if (is_punct(p, '*')) {
        t->kind = PKT_T_ANY;
        next(p);
        return true;
    }
    bool rel = false;
    if (is_punct(p, '+')) {
        rel = true;
        next(p);
    }
    if (!take_time_us(p, &t->us))
        return false;
    t->kind = rel ? PKT_T_REL : PKT_T_ABS;
    if (is_punct(p, '~')) {
        next(p);
        bool rel2 = false;
        if (is_punct(p, '+')) {
            rel2 = true;
            next(p);
        }
        if (!take_time_us(p, &t->us2))
            return false;
        t->rel1 = rel;
        t->rel2 = rel2;
        t->kind = PKT_T_RANGE;
        if (rel == rel2 && t->us2 < t->us) {
            perr(p, p->t.line, p->t.col, "time range ends before it starts");
            return false;
        }
    }
    return true;
}

static bool push_event(struct parser *p, struct pkt_event **out)
{
    struct pkt_script *s = p->s;
    if (s->nevents % 64 == 0) {
        struct pkt_event *v = realloc(s->events, (s->nevents + 64) * sizeof *v);
        if (!v) {
            perr(p, p->t.line, p->t.col, "out of memory");
            return false;
        }
        s->events = v;
    }
    *out = &s->events[s->nevents++];
    memset(*out, 0, sizeof **out);
    return true;
}

static bool parse_event(struct parser *p)
{
    struct pkt_event *ev;
    int line = p->t.line, col = p->t.col;
    struct pkt_time t;
    if (!parse_time(p, &t))
        return false;
    if (!push_event(p, &ev))
        return false;
    ev->line = line;
    ev->col = col;
    ev->time = t;
    ev->kind = PKT_EV_SYSCALL;
    if (p->t.kind == TK_ELLIPSIS) {
        if (t.kind == PKT_T_ANY || t.kind == PKT_T_RANGE) {
            perr(p, p->t.line, p->t.col, "a blocking call needs a plain start time before '...'");
            return false;
        }
        next(p);
        int64_t end;
        if (!take_time_us(p, &end))
            return false;
        ev->sc.has_end = true;
        ev->sc.end_us = end;
        if (p->t.kind != TK_WORD) {
            expected(p, "a system call after 'START...END'");
            return false;
        }
    }
    switch (p->t.kind) {
    case TK_PUNCT:
        if ((p->t.c == '<' || p->t.c == '>') && !ev->sc.has_end) {
            ev->kind = PKT_EV_PACKET;
            return parse_packet(p, ev);
        }
        break;
    case TK_WORD:
        return parse_syscall(p, ev);
    case TK_BACKTICK:
        mark_skip(p, line, "shell command %.*s is not run by tcplab", (int)(p->t.n > 60 ? 60 : p->t.n),
                  p->t.p);
        ev->kind = PKT_EV_SYSCALL;
        ev->sc.name = strdup("`shell`");
        next(p);
        return true;
    case TK_CODE:
        mark_skip(p, line, "Python code %%{ ... }%% is not run by tcplab");
        ev->sc.name = strdup("%{code}%");
        next(p);
        return true;
    default:
        break;
    }
    expected(p, "a packet ('<' or '>'), a system call, a `command` or %{ code }%");
    return false;
}

static bool parse_option_token(struct parser *p)
{
    struct pkt_script *s = p->s;
    struct pkt_option *v = realloc(s->options, (s->noptions + 1) * sizeof *v);
    if (!v) {
        perr(p, p->t.line, p->t.col, "out of memory");
        return false;
    }
    s->options = v;
    struct pkt_option *o = &s->options[s->noptions++];
    const char *eq = memchr(p->t.p, '=', p->t.n);
    size_t nl = eq ? (size_t)(eq - p->t.p) : p->t.n;
    o->name = strndup(p->t.p + 2, nl - 2);
    o->value = NULL;
    if (eq) {
        const char *vs = eq + 1;
        size_t vn = p->t.n - nl - 1;
        if (vn >= 2 && vs[0] == '"') {
            vs++;
            vn -= 2;
        }
        o->value = strndup(vs, vn);
    }
    o->line = p->t.line;
    o->col = p->t.col;
    next(p);
    return true;
}

/* ---- #ifdef ------------------------------------------------------------------- */

static bool symbol_defined(const char *sym, size_t n, const char *profile)
{
    const char *os = NULL;
    if (profile && !strcmp(profile, "linux"))
        os = "Linux";
    else if (profile && !strcmp(profile, "freebsd"))
        os = "FreeBSD";
    if (n == 6 && !strncmp(sym, "tcplab", 6))
        return true;
    return os && strlen(os) == n && !strncmp(sym, os, n);
}

/* Blank the lines that an #ifdef leaves out, and the directive lines. */
static bool preprocess(char *text, size_t len, const char *profile, struct pkt_error *err)
{
    bool active[PKT_MAX_DEPTH + 1];
    bool seen_else[PKT_MAX_DEPTH + 1];
    int open_line[PKT_MAX_DEPTH + 1];
    int depth = 0, line = 1;
    active[0] = true;
    for (size_t i = 0; i < len;) {
        size_t eol = i;
        while (eol < len && text[eol] != '\n')
            eol++;
        size_t j = i;
        while (j < eol && (text[j] == ' ' || text[j] == '\t'))
            j++;
        bool blank = !active[depth];
        if (j < eol && text[j] == '#') {
            size_t k = j + 1, w0;
            while (k < eol && (text[k] == ' ' || text[k] == '\t'))
                k++;
            w0 = k;
            while (k < eol && isalpha((unsigned char)text[k]))
                k++;
            size_t wn = k - w0;
            const char *w = text + w0;
            bool is_if = (wn == 5 && !strncmp(w, "ifdef", 5)) || (wn == 6 && !strncmp(w, "ifndef", 6));
            bool is_else = wn == 4 && !strncmp(w, "else", 4);
            bool is_end = wn == 5 && !strncmp(w, "endif", 5);
            if (is_if) {
                while (k < eol && (text[k] == ' ' || text[k] == '\t'))
                    k++;
                size_t s0 = k;
                while (k < eol && (isalnum((unsigned char)text[k]) || text[k] == '_'))
                    k++;
                if (k == s0) {
                    snprintf(err->msg, sizeof err->msg, "#%.*s needs a symbol", (int)wn, w);
                    err->line = line;
                    err->col = (int)(j - i) + 1;
                    return false;
                }
                if (depth >= PKT_MAX_DEPTH) {
                    snprintf(err->msg, sizeof err->msg, "#ifdef nested too deeply");
                    err->line = line;
                    err->col = (int)(j - i) + 1;
                    return false;
                }
                bool def = symbol_defined(text + s0, k - s0, profile);
                bool want = wn == 5 ? def : !def;
                depth++;
                active[depth] = active[depth - 1] && want;
                seen_else[depth] = false;
                open_line[depth] = line;
                blank = true;
            } else if (is_else || is_end) {
                if (depth == 0 || (is_else && seen_else[depth])) {
                    snprintf(err->msg, sizeof err->msg, "#%.*s without a matching #ifdef",
                             (int)wn, w);
                    err->line = line;
                    err->col = (int)(j - i) + 1;
                    return false;
                }
                if (is_else) {
                    seen_else[depth] = true;
                    /* the else branch is active if the if branch was not */
                    bool parent = active[depth - 1];
                    active[depth] = parent && !active[depth];
                } else {
                    depth--;
                }
                blank = true;
            }
        }
        if (blank)
            for (size_t k = i; k < eol; k++)
                text[k] = ' ';
        i = eol + 1;
        line++;
    }
    if (depth > 0) {
        snprintf(err->msg, sizeof err->msg, "#ifdef is never closed with #endif");
        err->line = open_line[depth];
        err->col = 1;
        return false;
    }
    return true;
}

/* ---- the script --------------------------------------------------------------- */

void pkt_script_free(struct pkt_script *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nevents; i++)
        if (s->events[i].kind == PKT_EV_SYSCALL)
            syscall_free(&s->events[i].sc);
    free(s->events);
    for (size_t i = 0; i < s->noptions; i++) {
        free(s->options[i].name);
        free(s->options[i].value);
    }
    free(s->options);
    for (size_t i = 0; i < s->nlines; i++)
        free(s->lines[i]);
    free(s->lines);
    free(s->name);
    free(s);
}

static bool split_lines(struct pkt_script *s, const char *text, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    s->lines = calloc(n, sizeof *s->lines);
    if (!s->lines)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            s->lines[s->nlines++] = strndup(text + start, i - start);
            if (!s->lines[s->nlines - 1])
                return false;
            start = i + 1;
        }
    }
    return true;
}

const char *pkt_script_line(const struct pkt_script *s, int line)
{
    if (line < 1 || (size_t)line > s->nlines)
        return "";
    const char *l = s->lines[line - 1];
    while (*l == ' ' || *l == '\t')
        l++;
    return l;
}

struct pkt_script *pkt_parse_string_for(const char *name, const char *text, size_t len,
                                        const char *profile, struct pkt_error *err)
{
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", name ? name : "<script>");
    if (len > PKT_MAX_SOURCE) {
        err->line = 1;
        err->col = 1;
        snprintf(err->msg, sizeof err->msg, "script larger than %u bytes", PKT_MAX_SOURCE);
        return NULL;
    }
    if (memchr(text, 0, len)) {
        const char *z = memchr(text, 0, len);
        err->line = 1;
        for (const char *c = text; c < z; c++)
            err->line += *c == '\n';
        err->col = 1;
        snprintf(err->msg, sizeof err->msg, "a NUL byte: this is not a text file");
        return NULL;
    }
    struct pkt_script *s = calloc(1, sizeof *s);
    char *copy = malloc(len + 1);
    if (!s || !copy || !(s->name = strdup(err->file)) || !split_lines(s, text, len)) {
        free(copy);
        pkt_script_free(s);
        err->line = 1;
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return NULL;
    }
    memcpy(copy, text, len);
    copy[len] = 0;
    if (!preprocess(copy, len, profile, err)) {
        free(copy);
        pkt_script_free(s);
        return NULL;
    }
    struct parser p = {.s = s, .err = err, .text = copy, .len = len, .line = 1, .col = 1};
    next(&p);
    while (!p.failed && p.t.kind == TK_OPTION)
        parse_option_token(&p);
    while (!p.failed && p.t.kind != TK_EOF) {
        if (p.t.kind == TK_OPTION) {
            perr(&p, p.t.line, p.t.col, "options (--name=value) go before the first event");
            break;
        }
        parse_event(&p);
    }
    free(copy);
    if (p.failed) {
        pkt_script_free(s);
        return NULL;
    }
    return s;
}

struct pkt_script *pkt_parse_string(const char *name, const char *text, size_t len,
                                    struct pkt_error *err)
{
    return pkt_parse_string_for(name, text, len, NULL, err);
}

struct pkt_script *pkt_parse_file_for(const char *path, const char *profile,
                                      struct pkt_error *err)
{
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        err->line = 1;
        err->col = 1;
        snprintf(err->msg, sizeof err->msg, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *b = realloc(buf, cap);
            if (!b)
                break;
            buf = b;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0 || len > PKT_MAX_SOURCE)
            break;
    }
    bool rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        free(buf);
        err->line = 1;
        err->col = 1;
        snprintf(err->msg, sizeof err->msg, "cannot read: %s", rerr ? "read error" : "out of memory");
        return NULL;
    }
    struct pkt_script *s = pkt_parse_string_for(path, buf, len, profile, err);
    free(buf);
    return s;
}

struct pkt_script *pkt_parse_file(const char *path, struct pkt_error *err)
{
    return pkt_parse_file_for(path, NULL, err);
}

void pkt_error_print(const struct pkt_error *err, FILE *out)
{
    fprintf(out, "%s:%d:%d: %s\n", err->file, err->line, err->col, err->msg);
}

bool pkt_is_script_path(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && !strcmp(path + n - 4, ".pkt");
}
