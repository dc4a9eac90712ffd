/*
 * scn_parse.c — read a .tcps scenario into its parsed form (scn_internal.h).
 *
 * First stage of the scenario data flow in DESIGN.md: text in, a list of
 * steps out, or one precise error ("file:line:col: message" and a hint).
 * The language is line-oriented (docs/scenarios.md): each line is cut into
 * words, strings and arrows, and the first word says what the statement is.
 * Names (hosts, sockets) are resolved here, so the runner never meets an
 * unknown name. The parser reads untrusted text and is fuzzed
 * (fuzz/fuzz_scenario.c): every read is bounded by the line, every number is
 * range-checked, and every allocation failure is an error, never a crash.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_internal.h"

#define MAX_TOKS        64
#define MAX_DURATION_US (30ull * 24 * 3600 * 1000000) /* 30 days */

/* ---- small things ------------------------------------------------------- */

static const struct {
    const char *name;
    int err;
} errno_names[] = {
    {"ECONNREFUSED", ECONNREFUSED},
    {"ECONNRESET", ECONNRESET},
    {"ETIMEDOUT", ETIMEDOUT},
    {"EADDRINUSE", EADDRINUSE},
    {"ENOTCONN", ENOTCONN},
    {"EPIPE", EPIPE},
    {"EAGAIN", EAGAIN},
    {"EINVAL", EINVAL},
    {"EBADF", EBADF},
    {"EISCONN", EISCONN},
    {"EALREADY", EALREADY},
    {"EINPROGRESS", EINPROGRESS},
    {"ECONNABORTED", ECONNABORTED},
    {"ENOPROTOOPT", ENOPROTOOPT},
    {"EMFILE", EMFILE},
    {"ENOBUFS", ENOBUFS},
    {"EHOSTUNREACH", EHOSTUNREACH},
    {"ENETUNREACH", ENETUNREACH},
    {"EADDRNOTAVAIL", EADDRNOTAVAIL},
    {"EOPNOTSUPP", EOPNOTSUPP},
    {"ESHUTDOWN", ESHUTDOWN},
    {"ENOMEM", ENOMEM},
    {"EPERM", EPERM},
    {"ENOENT", ENOENT},
    {"EDESTADDRREQ", EDESTADDRREQ},
    {"EMSGSIZE", EMSGSIZE},
    {"ENOTSOCK", ENOTSOCK},
};

const char *scn_errno_name(int err)
{
    if (err < 0)
        err = -err;
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (errno_names[i].err == err)
            return errno_names[i].name;
    return NULL;
}

int scn_errno_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (strcmp(errno_names[i].name, name) == 0)
            return errno_names[i].err;
    return 0;
}

void scn_profile_apply(struct stack_config *cfg, bool linux_like)
{
    cfg->mss = 1460;
    cfg->nagle = true;
    cfg->rto_initial_us = 1000000;
    cfg->syn_retries = 6;
    cfg->synack_retries = 5;
    cfg->data_retries = 15;
    cfg->keepalive_idle_us = 7200ull * 1000000;
    cfg->keepalive_intvl_us = 75ull * 1000000;
    cfg->keepalive_probes = 9;
    if (linux_like) {
        cfg->window_scaling = true;
        cfg->wscale = 7;
        cfg->rcvbuf = 131072;
        cfg->sndbuf = 16384;
        cfg->delayed_ack = true;
        cfg->delack_us = 40000;
        cfg->rto_min_us = 200000;
        cfg->rto_max_us = 120ull * 1000000;
        cfg->msl_us = 30ull * 1000000;
    } else {
        /* Teaching: every number on the screen means one thing. */
        cfg->window_scaling = false;
        cfg->wscale = 0;
        cfg->rcvbuf = 65535;
        cfg->sndbuf = 65535;
        cfg->delayed_ack = false;
        cfg->delack_us = 40000;
        cfg->rto_min_us = 1000000;
        cfg->rto_max_us = 60ull * 1000000;
        cfg->msl_us = 5ull * 1000000;
    }
}

/* ---- the lexer: one line into tokens ------------------------------------ */

enum tok_kind { TK_WORD, TK_STRING, TK_ARROW };

struct tok {
    enum tok_kind k;
    const char *p; /* in the line */
    size_t n;      /* bytes in the line (strings: with quotes) */
    char w[128];   /* a word, NUL-terminated (longer words are an error) */
    uint8_t *s;    /* a string's decoded bytes (owned by the line) */
    size_t slen;
};

struct parser {
    struct scn *s;
    struct scn_error *err;
    const char *line; /* current line start */
    size_t linelen;
    int lineno;
    struct tok t[MAX_TOKS];
    int nt;
    const char *stmt_end; /* end of the statement (before a comment / spaces) */
    bool seen_step;
    bool failed;
    size_t cap; /* stmts allocated */
};

/* 1-based column of a position in the current line, counted in characters
 * (UTF-8 continuation bytes do not count) so editors agree with it. */
static int col_of(const struct parser *P, const char *at)
{
    int col = 1;
    for (const char *c = P->line; c < at && c < P->line + P->linelen; c++)
        if (((unsigned char)*c & 0xC0) != 0x80)
            col++;
    return col;
}

static int fail_at(struct parser *P, const char *at, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct parser *P, const char *at, const char *hint, const char *fmt, ...)
{
    if (!P->failed) {
        P->failed = true;
        P->err->line = P->lineno;
        P->err->col = at ? col_of(P, at) : 1;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(P->err->msg, sizeof P->err->msg, fmt, ap);
        va_end(ap);
        snprintf(P->err->hint, sizeof P->err->hint, "%s",
                 hint && *hint ? hint : "docs/scenarios.md describes every statement");
    }
    return -1;
}

static int fail_tok(struct parser *P, int i, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_tok(struct parser *P, int i, const char *hint, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *at = i < P->nt ? P->t[i].p : P->stmt_end;
    return fail_at(P, at, hint, "%s", msg);
}

static void free_tokens(struct parser *P)
{
    for (int i = 0; i < P->nt; i++) {
        free(P->t[i].s);
        P->t[i].s = NULL;
    }
    P->nt = 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int lex_string(struct parser *P, const char **pp, const char *end, struct tok *t)
{
    const char *p = *pp + 1; /* after the opening quote */
    uint8_t *buf = malloc((size_t)(end - p) + 1);
    if (!buf)
        return fail_at(P, *pp, NULL, "out of memory");
    size_t n = 0;
    for (;;) {
        if (p >= end) {
            free(buf);
            return fail_at(P, *pp, "close the string with \" on the same line",
                           "unterminated string");
        }
        if (*p == '"')
            break;
        if (*p != '\\') {
            buf[n++] = (uint8_t)*p++;
            continue;
        }
        if (p + 1 >= end) {
            free(buf);
            return fail_at(P, p, "write \\\\ for a backslash", "backslash at the end of the line");
        }
        switch (p[1]) {
        case '"':
            buf[n++] = '"';
            p += 2;
            break;
        case '\\':
            buf[n++] = '\\';
            p += 2;
            break;
        case 'n':
            buf[n++] = '\n';
            p += 2;
            break;
        case 'r':
            buf[n++] = '\r';
            p += 2;
            break;
        case 't':
            buf[n++] = '\t';
            p += 2;
            break;
        case 'x': {
            int hi = p + 2 < end ? hexval(p[2]) : -1;
            int lo = p + 3 < end ? hexval(p[3]) : -1;
            if (hi < 0 || lo < 0) {
                free(buf);
                return fail_at(P, p, "\\x takes exactly two hex digits, e.g. \\x0a",
                               "bad \\x escape");
            }
            buf[n++] = (uint8_t)(hi << 4 | lo);
            p += 4;
            break;
        }
        default:
            free(buf);
            return fail_at(P, p, "escapes are \\\" \\\\ \\n \\r \\t \\xHH", "unknown escape '\\%c'",
                           p[1]);
        }
    }
    t->k = TK_STRING;
    t->p = *pp;
    t->n = (size_t)(p + 1 - *pp);
    t->s = buf;
    t->slen = n;
    buf[n] = 0;
    *pp = p + 1;
    return 0;
}

/* Cut the current line into tokens. Words stop at spaces, quotes, '#' and
 * "->"; a '#' outside a string starts a comment. */
static int lex_line(struct parser *P)
{
    const char *p = P->line, *end = P->line + P->linelen;
    P->nt = 0;
    P->stmt_end = P->line;
    while (p < end) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v') {
            p++;
            continue;
        }
        if (*p == '#')
            break;
        if (P->nt == MAX_TOKS)
            return fail_at(P, p, "split the statement; no statement needs this many words",
                           "too many words on one line (at most %d)", MAX_TOKS);
        struct tok *t = &P->t[P->nt];
        memset(t, 0, sizeof *t);
        if (*p == '"') {
            if (lex_string(P, &p, end, t) < 0)
                return -1;
        } else if (p + 1 < end && p[0] == '-' && p[1] == '>') {
            t->k = TK_ARROW;
            t->p = p;
            t->n = 2;
            strcpy(t->w, "->");
            p += 2;
        } else {
            const char *q = p;
            while (q < end && *q != ' ' && *q != '\t' && *q != '\r' && *q != '"' && *q != '#' &&
                   *q != '\f' && *q != '\v' && !(q + 1 < end && q[0] == '-' && q[1] == '>'))
                q++;
            if ((size_t)(q - p) >= sizeof t->w)
                return fail_at(P, p, NULL, "word too long (at most %zu characters)",
                               sizeof t->w - 1);
            for (const char *c = p; c < q; c++)
                if (*c == '\0' || (unsigned char)*c < 0x20)
                    return fail_at(P, c, "remove control characters from the file",
                                   "control character in a word");
            t->k = TK_WORD;
            t->p = p;
            t->n = (size_t)(q - p);
            memcpy(t->w, p, t->n);
            t->w[t->n] = 0;
            p = q;
        }
        P->stmt_end = p;
        P->nt++;
    }
    return 0;
}

/* ---- token helpers ------------------------------------------------------ */

static bool is_word(const struct parser *P, int i, const char *w)
{
    return i < P->nt && P->t[i].k == TK_WORD && strcmp(P->t[i].w, w) == 0;
}

/* The socket call a word names, by the event stream's own names
 * (tcp_call_name); STATUS is not a call a scenario can make. -1 if none. */
static int call_from_name(const char *w)
{
    for (int c = 0; c < TCP_NCALLS; c++)
        if (c != TCP_CALL_STATUS && strcmp(tcp_call_name((enum tcp_call)c), w) == 0)
            return c;
    return -1;
}

static bool is_name_syntax(const char *w)
{
    if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z') || *w == '_'))
        return false;
    size_t n = 0;
    for (; *w; w++, n++)
        if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z') || (*w >= '0' && *w <= '9') ||
              *w == '_'))
            return false;
    return n < SCN_MAX_NAME;
}

static const char *const reserved[] = {
    "all",     "stack",     "peer",    "link",   "both",       "next",    "nothing",
    "drop",    "for",       "state",   "queue",  "timeout",    "as",      "backlog",
    "bytes",   "hold",      "data",    "until",  "kernel",     "title",   "hosts",
    "profile", "set",       "seed",    "tun",    "say",        "wait",    "loss",
    "delay",   "duplicate", "reorder", "cut",    "restore",    "inject",  "reboot",
    "expect",  "socket",    "bind",    "listen", "accept",     "connect", "send",
    "recv",    "shutdown",  "close",   "abort",  "setsockopt", "ok",      "blocked",
};

static bool is_reserved(const char *w)
{
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(reserved[i], w) == 0)
            return true;
    return false;
}

static int find_host(const struct scn *s, const char *name)
{
    for (size_t i = 0; i < s->nhosts; i++)
        if (strcmp(s->hosts[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int find_sock(const struct scn *s, const char *name)
{
    for (size_t i = 0; i < s->nsocks; i++)
        if (strcmp(s->socks[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int need_hosts(struct parser *P, int i)
{
    if (P->s->nhosts == 0)
        return fail_tok(P, i, "declare the hosts first, e.g. `hosts client=stack server=peer`",
                        "no hosts declared yet");
    return 0;
}

/* A host name at token i. */
static int parse_host(struct parser *P, int i, int *host)
{
    if (need_hosts(P, i) < 0)
        return -1;
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return fail_tok(P, i, NULL, "expected a host name");
    int h = find_host(P->s, P->t[i].w);
    if (h < 0) {
        char hint[200] = "hosts are:";
        for (size_t k = 0; k < P->s->nhosts; k++) {
            size_t n = strlen(hint);
            snprintf(hint + n, sizeof hint - n, " %s", P->s->hosts[k].name);
        }
        if (find_sock(P->s, P->t[i].w) >= 0)
            return fail_tok(P, i, hint, "'%s' is a socket, not a host", P->t[i].w);
        return fail_tok(P, i, hint, "unknown host '%s'", P->t[i].w);
    }
    *host = h;
    return 0;
}

/* A host or a named socket at token i (the `NAME:` of a call, the NAME of
 * `expect NAME state`). */
static int parse_target(struct parser *P, int i, const char *w, struct scn_target *tgt)
{
    if (need_hosts(P, i) < 0)
        return -1;
    int h = find_host(P->s, w);
    if (h >= 0) {
        tgt->host = h;
        tgt->sock = -1;
        return 0;
    }
    int k = find_sock(P->s, w);
    if (k >= 0) {
        tgt->host = P->s->socks[k].host;
        tgt->sock = k;
        return 0;
    }
    return fail_tok(P, i,
                    "a target is a host from the `hosts` line or a socket named earlier "
                    "with `as NAME`",
                    "unknown host or socket '%s'", w);
}

static int parse_uint(struct parser *P, int i, const char *w, uint64_t max, uint64_t *out)
{
    if (*w < '0' || *w > '9')
        return fail_tok(P, i, NULL, "expected a number, found '%s'", w);
    uint64_t v = 0;
    for (const char *c = w; *c; c++) {
        if (*c < '0' || *c > '9')
            return fail_tok(P, i, NULL, "'%s' is not a whole number", w);
        v = v * 10 + (uint64_t)(*c - '0');
        if (v > max)
            return fail_tok(P, i, NULL, "%s is too large (at most %llu)", w,
                            (unsigned long long)max);
    }
    *out = v;
    return 0;
}

static int tok_uint(struct parser *P, int i, uint64_t max, uint64_t *out)
{
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return fail_tok(P, i, NULL, "expected a number");
    return parse_uint(P, i, P->t[i].w, max, out);
}

/* A decimal with an optional fraction ("1.5"); returns the length used. */
static size_t scan_decimal(const char *w, double *out)
{
    size_t n = 0;
    double v = 0;
    while (w[n] >= '0' && w[n] <= '9' && n < 12)
        v = v * 10 + (w[n++] - '0');
    if (n == 0)
        return 0;
    if (w[n] == '.') {
        double scale = 0.1;
        size_t m = n + 1;
        while (w[m] >= '0' && w[m] <= '9' && m < n + 10) {
            v += (w[m++] - '0') * scale;
            scale /= 10;
        }
        if (m == n + 1)
            return 0;
        n = m;
    }
    *out = v;
    return n;
}

static uint64_t stack_msl(const struct scn *s)
{
    for (size_t i = 0; i < s->nhosts; i++)
        if (s->hosts[i].role == SCN_ROLE_STACK)
            return s->hosts[i].cfg.msl_us;
    return s->nhosts ? s->hosts[0].cfg.msl_us : 5000000;
}

static int parse_duration_word(struct parser *P, int i, const char *w, uint64_t *out)
{
    const char *hint = "a duration is a number and a unit: 500us, 200ms, 1.5s, 2min or 2msl";
    double v;
    size_t n = scan_decimal(w, &v);
    if (n == 0)
        return fail_tok(P, i, hint, "expected a duration, found '%s'", w);
    const char *u = w + n;
    double us;
    if (strcmp(u, "us") == 0)
        us = v;
    else if (strcmp(u, "ms") == 0)
        us = v * 1e3;
    else if (strcmp(u, "s") == 0)
        us = v * 1e6;
    else if (strcmp(u, "min") == 0)
        us = v * 60e6;
    else if (strcmp(u, "msl") == 0)
        us = v * (double)stack_msl(P->s);
    else if (*u == 0)
        return fail_tok(P, i, hint, "'%s' has no unit", w);
    else
        return fail_tok(P, i, hint, "unknown time unit '%s'", u);
    if (us > (double)MAX_DURATION_US)
        return fail_tok(P, i, NULL, "duration %s is too long (at most 30 days)", w);
    *out = (uint64_t)(us + 0.5);
    return 0;
}

static int tok_duration(struct parser *P, int i, uint64_t *out)
{
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return fail_tok(P, i, "a duration is a number and a unit: 200ms, 1s, 2msl",
                        "expected a duration");
    return parse_duration_word(P, i, P->t[i].w, out);
}

/* tcpdump flag letters; `*` is "any" where allowed. */
static int parse_flags(struct parser *P, int i, bool allow_any, bool *any, uint8_t *flags)
{
    static const char letters[] = "FSRPUEW";
    static const uint8_t bits[] = {TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_URG, TCP_ECE, TCP_CWR};
    const char *hint = "flags are tcpdump letters: S F R P U E W and . for ACK, e.g. S. or F.";
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return fail_tok(P, i, hint, "expected segment flags");
    const char *w = P->t[i].w;
    *any = false;
    *flags = 0;
    if (strcmp(w, "*") == 0) {
        if (!allow_any)
            return fail_tok(P, i, hint, "'*' (any flags) is not allowed here");
        *any = true;
        return 0;
    }
    for (const char *c = w; *c; c++) {
        const char *l = *c ? strchr(letters, *c) : NULL;
        uint8_t bit;
        if (*c == '.')
            bit = TCP_ACK;
        else if (l)
            bit = bits[l - letters];
        else
            return fail_at(P, P->t[i].p + (c - w), hint, "unknown flag letter '%c' in \"%s\"", *c,
                           w);
        if (*flags & bit)
            return fail_at(P, P->t[i].p + (c - w), hint, "flag '%c' written twice in \"%s\"", *c,
                           w);
        *flags |= bit;
    }
    return 0;
}

static bool looks_like_flags(const char *w)
{
    if (!*w)
        return false;
    for (; *w; w++)
        if (!strchr("FSRPUEW.", *w))
            return false;
    return true;
}

/* "A -> B" at tokens i, i+1, i+2. */
static int parse_dir(struct parser *P, int i, int *from, int *to)
{
    if (parse_host(P, i, from) < 0)
        return -1;
    if (i + 1 >= P->nt || P->t[i + 1].k != TK_ARROW)
        return fail_tok(P, i + 1, "write a direction as `client -> server`", "expected '->'");
    if (parse_host(P, i + 2, to) < 0)
        return -1;
    if (*from == *to)
        return fail_tok(P, i + 2, "a direction is from one host to another, e.g. client -> server",
                        "a direction needs two different hosts");
    return 0;
}

/* Split "key<op>value" into its parts. */
static int split_field(struct parser *P, int i, char *key, size_t keycap, enum scn_op *op,
                       const char **val)
{
    const char *w = P->t[i].w;
    size_t k = 0;
    while (w[k] && ((w[k] >= 'a' && w[k] <= 'z') || w[k] == '_'))
        k++;
    if (k == 0 || k >= keycap)
        return fail_tok(P, i, NULL, "unexpected '%s'", w);
    memcpy(key, w, k);
    key[k] = 0;
    const char *o = w + k;
    if (o[0] == '=') {
        *op = SCN_OP_EQ;
        o += 1;
    } else if (o[0] == '!' && o[1] == '=') {
        *op = SCN_OP_NE;
        o += 2;
    } else if (o[0] == '<' && o[1] == '=') {
        *op = SCN_OP_LE;
        o += 2;
    } else if (o[0] == '>' && o[1] == '=') {
        *op = SCN_OP_GE;
        o += 2;
    } else if (o[0] == '<') {
        *op = SCN_OP_LT;
        o += 1;
    } else if (o[0] == '>') {
        *op = SCN_OP_GT;
        o += 1;
    } else if (o[0] == 0) {
        *op = SCN_OP_NONE;
    } else {
        return fail_at(P, P->t[i].p + k, "fields are written key=value, e.g. ack=1 or win>0",
                       "unexpected '%c' after '%s'", o[0], key);
    }
    *val = o;
    return 0;
}

static char *xstrndup(struct parser *P, const char *p, size_t n)
{
    char *c = malloc(n + 1);
    if (!c) {
        fail_at(P, NULL, NULL, "out of memory");
        return NULL;
    }
    memcpy(c, p, n);
    c[n] = 0;
    return c;
}

static uint8_t *take_string(struct tok *t, size_t *len)
{
    uint8_t *s = t->s;
    t->s = NULL;
    *len = t->slen;
    return s;
}

/* Narration and titles are shown on a terminal: they must be valid UTF-8. */
static bool valid_utf8(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            if (c < 0x20 && c != '\n' && c != '\t')
                return false;
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static int expect_end(struct parser *P, int i)
{
    if (i < P->nt)
        return fail_tok(P, i, "see docs/scenarios.md for the statement's form",
                        "unexpected '%.*s' at the end of the statement", (int)P->t[i].n, P->t[i].p);
    return 0;
}

/* ---- the statement list --------------------------------------------------- */

static struct scn_stmt *new_stmt(struct parser *P, enum scn_kind kind)
{
    struct scn *s = P->s;
    if (s->nstmts == SCN_MAX_STMTS) {
        fail_at(P, P->line, "split the scenario into several files", "too many steps (at most %d)",
                SCN_MAX_STMTS);
        return NULL;
    }
    if (s->nstmts == P->cap) {
        size_t cap = P->cap ? P->cap * 2 : 32;
        struct scn_stmt *n = realloc(s->stmts, cap * sizeof *n);
        if (!n) {
            fail_at(P, NULL, NULL, "out of memory");
            return NULL;
        }
        s->stmts = n;
        P->cap = cap;
    }
    struct scn_stmt *st = &s->stmts[s->nstmts];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->line = P->lineno;
    st->timeout_us = s->timeout_us;
    const char *a = P->nt ? P->t[0].p : P->line;
    st->text = xstrndup(P, a, (size_t)(P->stmt_end - a));
    if (!st->text)
        return NULL;
    if (s->nstmts == 0) {
        /* Narration written before the first step belongs to the first step. */
        st->say_en = s->intro_en;
        st->say_zh = s->intro_zh;
        s->intro_en = s->intro_zh = NULL;
    }
    s->nstmts++;
    P->seen_step = true;
    return st;
}

/* `timeout D` at the end of a waiting statement; returns the index after it. */
static int opt_timeout(struct parser *P, int i, struct scn_stmt *st)
{
    if (is_word(P, i, "timeout")) {
        if (tok_duration(P, i + 1, &st->timeout_us) < 0)
            return -1;
        return i + 2;
    }
    return i;
}

/* ---- header statements ---------------------------------------------------- */

static int header_allowed(struct parser *P)
{
    if (P->seen_step)
        return fail_tok(P, 0,
                        "move header statements (title, hosts, profile, set, seed, timeout, tun) "
                        "to the top",
                        "\"%s\" must come before the first step", P->t[0].w);
    return 0;
}

static int parse_title(struct parser *P)
{
    if (header_allowed(P) < 0)
        return -1;
    bool en = is_word(P, 1, "en"), zh = is_word(P, 1, "zh");
    if (!en && !zh)
        return fail_tok(P, 1, "write `title en \"...\"` or `title zh \"...\"`",
                        "expected a language, en or zh");
    if (P->nt < 3 || P->t[2].k != TK_STRING)
        return fail_tok(P, 2, "put the title in double quotes", "expected the title as a string");
    if (!valid_utf8(P->t[2].s, P->t[2].slen) || memchr(P->t[2].s, 0, P->t[2].slen))
        return fail_tok(P, 2, "save the file as UTF-8", "the title is not valid UTF-8 text");
    char **dst = en ? &P->s->title_en : &P->s->title_zh;
    if (*dst)
        return fail_tok(P, 0, NULL, "a second %s title", en ? "en" : "zh");
    size_t n;
    *dst = (char *)take_string(&P->t[2], &n);
    return expect_end(P, 3);
}

static uint32_t next_free_addr(const struct scn *s, uint32_t from)
{
    for (uint32_t a = from;; a++) {
        bool used = false;
        for (size_t i = 0; i < s->nhosts; i++)
            if (s->hosts[i].addr == a)
                used = true;
        if (!used)
            return a;
    }
}

static int parse_hosts(struct parser *P)
{
    struct scn *s = P->s;
    if (header_allowed(P) < 0)
        return -1;
    if (s->nhosts)
        return fail_tok(P, 0, "declare every host on one `hosts` line", "a second `hosts` line");
    if (P->nt < 3)
        return fail_tok(P, P->nt, "e.g. `hosts client=stack server=peer`",
                        "at least two hosts are needed");
    bool seen_stack = false, seen_peer = false;
    for (int i = 1; i < P->nt; i++) {
        if (P->t[i].k != TK_WORD)
            return fail_tok(P, i, "e.g. `hosts client=stack server=peer`", "expected NAME=ROLE");
        if (i > SCN_MAX_HOSTS)
            return fail_tok(P, i, NULL, "too many hosts (at most %d)", SCN_MAX_HOSTS);
        char *w = P->t[i].w;
        char *eq = strchr(w, '=');
        if (!eq)
            return fail_tok(P, i, "e.g. `hosts client=stack server=peer`",
                            "'%s' needs a role: NAME=stack or NAME=peer", w);
        *eq = 0;
        const char *role = eq + 1;
        char *at = strchr(role, '@');
        if (at)
            *at = 0;
        if (!is_name_syntax(w))
            return fail_tok(P, i, "a name is a letter or _ then letters, digits or _",
                            "'%s' is not a valid host name", w);
        if (is_reserved(w))
            return fail_tok(P, i, "choose another name, e.g. client or server",
                            "'%s' is a keyword and cannot name a host", w);
        if (find_host(s, w) >= 0)
            return fail_tok(P, i, NULL, "host '%s' declared twice", w);
        struct scn_hostdef *h = &s->hosts[s->nhosts];
        memset(h, 0, sizeof *h);
        snprintf(h->name, sizeof h->name, "%.31s", w);
        if (strcmp(role, "stack") == 0)
            h->role = SCN_ROLE_STACK;
        else if (strcmp(role, "peer") == 0)
            h->role = SCN_ROLE_PEER;
        else
            return fail_at(P, P->t[i].p + (role - w), "a host is `stack` or `peer`",
                           "unknown role '%s'", role);
        if (at) {
            if (wire_addr_parse(at + 1, &h->addr) < 0)
                return fail_at(P, P->t[i].p + (at + 1 - w), "write an address like 10.7.0.9",
                               "'%s' is not an IPv4 address", at + 1);
            for (size_t k = 0; k < s->nhosts; k++)
                if (s->hosts[k].addr == h->addr)
                    return fail_tok(P, i, NULL, "address %s is used twice", at + 1);
            h->addr_given = true;
        }
        stack_config_defaults(&h->cfg);
        scn_profile_apply(&h->cfg, false);
        s->nhosts++;
        if (!at) {
            uint32_t want = 0;
            if (h->role == SCN_ROLE_STACK && !seen_stack)
                want = 0x0A070002;
            else if (h->role == SCN_ROLE_PEER && !seen_peer)
                want = 0x0A070001;
            /* Taken by an explicit @ address: fall back to .3 onwards. */
            for (size_t k = 0; want && k + 1 < s->nhosts; k++)
                if (s->hosts[k].addr == want)
                    want = 0;
            h->addr = 0xFFFFFFFF; /* not yet placed */
            h->addr = want ? want : next_free_addr(s, 0x0A070003);
        }
        if (h->role == SCN_ROLE_STACK)
            seen_stack = true;
        else
            seen_peer = true;
    }
    return 0;
}

/* Hosts selected by `all`, `stack`, `peer` or a host name. */
static int parse_who(struct parser *P, int i, bool sel[SCN_MAX_HOSTS])
{
    struct scn *s = P->s;
    if (need_hosts(P, i) < 0)
        return -1;
    memset(sel, 0, SCN_MAX_HOSTS * sizeof sel[0]);
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return fail_tok(P, i, NULL, "expected a host, all, stack or peer");
    const char *w = P->t[i].w;
    for (size_t k = 0; k < s->nhosts; k++) {
        if (strcmp(w, "all") == 0 ||
            (strcmp(w, "stack") == 0 && s->hosts[k].role == SCN_ROLE_STACK) ||
            (strcmp(w, "peer") == 0 && s->hosts[k].role == SCN_ROLE_PEER))
            sel[k] = true;
    }
    if (strcmp(w, "all") && strcmp(w, "stack") && strcmp(w, "peer")) {
        int h;
        if (parse_host(P, i, &h) < 0)
            return -1;
        sel[h] = true;
    }
    return 0;
}

static int parse_profile(struct parser *P)
{
    if (header_allowed(P) < 0)
        return -1;
    bool sel[SCN_MAX_HOSTS];
    int i = 1;
    if (P->nt == 3) {
        if (parse_who(P, 1, sel) < 0)
            return -1;
        i = 2;
    } else {
        if (need_hosts(P, 0) < 0)
            return -1;
        for (size_t k = 0; k < SCN_MAX_HOSTS; k++)
            sel[k] = true;
    }
    bool linux_like;
    if (is_word(P, i, "teaching"))
        linux_like = false;
    else if (is_word(P, i, "linux"))
        linux_like = true;
    else
        return fail_tok(P, i, "profiles are `teaching` and `linux`", "unknown profile");
    for (size_t k = 0; k < P->s->nhosts; k++)
        if (sel[k])
            scn_profile_apply(&P->s->hosts[k].cfg, linux_like);
    return expect_end(P, i + 1);
}

static int parse_onoff(struct parser *P, int i, bool *on)
{
    if (is_word(P, i, "on") || is_word(P, i, "1") || is_word(P, i, "yes"))
        *on = true;
    else if (is_word(P, i, "off") || is_word(P, i, "0") || is_word(P, i, "no"))
        *on = false;
    else
        return fail_tok(P, i, NULL, "expected on or off");
    return 0;
}

static int parse_set(struct parser *P)
{
    struct scn *s = P->s;
    if (header_allowed(P) < 0)
        return -1;
    if (is_word(P, 1, "link")) {
        if (!is_word(P, 2, "latency"))
            return fail_tok(P, 2, "e.g. `set link latency 1ms`",
                            "the link has one setting: latency");
        if (tok_duration(P, 3, &s->latency_us) < 0)
            return -1;
        return expect_end(P, 4);
    }
    bool sel[SCN_MAX_HOSTS];
    if (parse_who(P, 1, sel) < 0)
        return -1;
    if (P->nt < 4)
        return fail_tok(P, P->nt, "e.g. `set client msl 10s`", "expected an option and a value");
    const char *opt = P->t[2].w;
    for (size_t k = 0; k < s->nhosts; k++) {
        if (!sel[k])
            continue;
        struct stack_config *c = &s->hosts[k].cfg;
        uint64_t v;
        bool on = false;
        if (strcmp(opt, "msl") == 0) {
            if (tok_duration(P, 3, &c->msl_us) < 0)
                return -1;
        } else if (strcmp(opt, "rto_initial") == 0) {
            if (tok_duration(P, 3, &c->rto_initial_us) < 0)
                return -1;
        } else if (strcmp(opt, "rto_min") == 0) {
            if (tok_duration(P, 3, &c->rto_min_us) < 0)
                return -1;
        } else if (strcmp(opt, "rto_max") == 0) {
            if (tok_duration(P, 3, &c->rto_max_us) < 0)
                return -1;
        } else if (strcmp(opt, "keepidle") == 0) {
            if (tok_duration(P, 3, &c->keepalive_idle_us) < 0)
                return -1;
        } else if (strcmp(opt, "keepintvl") == 0) {
            if (tok_duration(P, 3, &c->keepalive_intvl_us) < 0)
                return -1;
        } else if (strcmp(opt, "delack") == 0) {
            if (is_word(P, 3, "on") || is_word(P, 3, "off")) {
                c->delayed_ack = is_word(P, 3, "on");
            } else {
                if (tok_duration(P, 3, &c->delack_us) < 0)
                    return -1;
                c->delayed_ack = true;
            }
        } else if (strcmp(opt, "nagle") == 0) {
            if (parse_onoff(P, 3, &on) < 0)
                return -1;
            c->nagle = on;
        } else if (strcmp(opt, "wscale") == 0) {
            if (is_word(P, 3, "off")) {
                c->window_scaling = false;
            } else {
                if (tok_uint(P, 3, 14, &v) < 0)
                    return -1;
                c->window_scaling = true;
                c->wscale = (uint8_t)v;
            }
        } else if (strcmp(opt, "mss") == 0) {
            if (tok_uint(P, 3, 65495, &v) < 0)
                return -1;
            if (v < 64)
                return fail_tok(P, 3, NULL, "mss must be at least 64");
            c->mss = (uint16_t)v;
        } else if (strcmp(opt, "rcvbuf") == 0 || strcmp(opt, "sndbuf") == 0) {
            if (tok_uint(P, 3, 1u << 30, &v) < 0)
                return -1;
            if (v < 1)
                return fail_tok(P, 3, NULL, "a buffer needs at least one byte");
            if (opt[0] == 'r')
                c->rcvbuf = (uint32_t)v;
            else
                c->sndbuf = (uint32_t)v;
        } else if (strcmp(opt, "syncookies") == 0) {
            int mode = P->t[3].k == TK_WORD ? tcp_syncookies_parse(P->t[3].w) : -1;
            if (mode < 0)
                return fail_tok(P, 3, "e.g. `set server syncookies always`",
                                "syncookies is never, auto or always");
            c->syncookies = (enum tcp_syncookies)mode;
        } else if (strcmp(opt, "syn_retries") == 0 || strcmp(opt, "synack_retries") == 0 ||
                   strcmp(opt, "data_retries") == 0 || strcmp(opt, "keepcnt") == 0) {
            if (tok_uint(P, 3, 255, &v) < 0)
                return -1;
            if (opt[0] == 'k')
                c->keepalive_probes = (unsigned)v;
            else if (opt[1] == 'y' && opt[3] == '_')
                c->syn_retries = (unsigned)v;
            else if (opt[0] == 's')
                c->synack_retries = (unsigned)v;
            else
                c->data_retries = (unsigned)v;
        } else {
            return fail_tok(P, 2,
                            "options: msl mss rcvbuf sndbuf delack nagle wscale rto_initial "
                            "rto_min rto_max syn_retries synack_retries data_retries keepidle "
                            "keepintvl keepcnt syncookies",
                            "unknown option '%s'", opt);
        }
    }
    return expect_end(P, 4);
}

/* ---- socket calls ----------------------------------------------------------- */

static int parse_as(struct parser *P, int i, int host, int *as)
{
    *as = -1;
    if (!is_word(P, i, "as"))
        return i;
    if (i + 1 >= P->nt || P->t[i + 1].k != TK_WORD)
        return fail_tok(P, i + 1, NULL, "expected a socket name after `as`");
    const char *w = P->t[i + 1].w;
    if (!is_name_syntax(w))
        return fail_tok(P, i + 1, "a name is a letter or _ then letters, digits or _",
                        "'%s' is not a valid socket name", w);
    if (is_reserved(w))
        return fail_tok(P, i + 1, "choose another name, e.g. conn1",
                        "'%s' is a keyword and cannot name a socket", w);
    if (find_host(P->s, w) >= 0)
        return fail_tok(P, i + 1, NULL, "'%s' is a host; name the socket differently", w);
    if (find_sock(P->s, w) >= 0)
        return fail_tok(P, i + 1, "each `as NAME` must give a new name",
                        "socket '%s' is already named", w);
    if (P->s->nsocks == SCN_MAX_SOCKNAMES)
        return fail_tok(P, i + 1, NULL, "too many named sockets (at most %d)", SCN_MAX_SOCKNAMES);
    struct scn_sockname *sn = &P->s->socks[P->s->nsocks];
    snprintf(sn->name, sizeof sn->name, "%.31s", w);
    sn->host = host;
    *as = (int)P->s->nsocks++;
    return i + 2;
}

static int parse_port_word(struct parser *P, int i, const char *w, uint16_t *port)
{
    uint64_t v;
    if (parse_uint(P, i, w, 65535, &v) < 0)
        return -1;
    if (v == 0)
        return fail_tok(P, i, "ports are 1 to 65535", "port 0 is not a port");
    *port = (uint16_t)v;
    return 0;
}

static int parse_sockopt(struct parser *P, struct scn_stmt *st, int i)
{
    static const struct {
        const char *name;
        enum tcp_sockopt opt;
        char kind; /* b: 0/1, s: seconds, n: count, m: milliseconds */
    } opts[] = {
        {"keepalive", TCP_OPT_KEEPALIVE, 'b'},
        {"keepidle", TCP_OPT_KEEPIDLE, 's'},
        {"keepintvl", TCP_OPT_KEEPINTVL, 's'},
        {"keepcnt", TCP_OPT_KEEPCNT, 'n'},
        {"reuseaddr", TCP_OPT_REUSEADDR, 'b'},
        {"nodelay", TCP_OPT_NODELAY, 'b'},
        {"linger0", TCP_OPT_LINGER0, 'b'},
        {"rcvbuf", TCP_OPT_RCVBUF, 'n'},
        {"sndbuf", TCP_OPT_SNDBUF, 'n'},
        {"delack", TCP_OPT_DELACK, 'b'},
        {"user_timeout", TCP_OPT_USER_TIMEOUT, 'm'},
    };
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return fail_tok(P, i, "e.g. `setsockopt keepalive 1`", "expected an option");
    size_t k = 0;
    while (k < sizeof opts / sizeof opts[0] && strcmp(opts[k].name, P->t[i].w))
        k++;
    if (k == sizeof opts / sizeof opts[0])
        return fail_tok(P, i,
                        "options: keepalive keepidle keepintvl keepcnt reuseaddr nodelay linger0 "
                        "rcvbuf sndbuf delack user_timeout",
                        "unknown socket option '%s'", P->t[i].w);
    st->u.call.opt = opts[k].opt;
    if (i + 1 >= P->nt || P->t[i + 1].k != TK_WORD)
        return fail_tok(P, i + 1, NULL, "expected a value for %s", opts[k].name);
    const char *w = P->t[i + 1].w;
    uint64_t v;
    if (opts[k].kind == 's' || opts[k].kind == 'm') {
        bool plain = true;
        for (const char *c = w; *c; c++)
            if (*c < '0' || *c > '9')
                plain = false;
        if (plain) {
            if (parse_uint(P, i + 1, w, 1000000, &v) < 0)
                return -1;
        } else {
            uint64_t us;
            if (parse_duration_word(P, i + 1, w, &us) < 0)
                return -1;
            v = opts[k].kind == 's' ? (us + 999999) / 1000000 : (us + 999) / 1000;
        }
    } else if (opts[k].kind == 'b') {
        if (parse_uint(P, i + 1, w, 1, &v) < 0)
            return -1;
    } else {
        if (parse_uint(P, i + 1, w, 1u << 30, &v) < 0)
            return -1;
    }
    st->u.call.value = (long)v;
    return i + 2;
}

static int parse_call(struct parser *P)
{
    struct scn *s = P->s;
    char name[SCN_MAX_NAME + 2];
    size_t n = strlen(P->t[0].w);
    if (n < 2 || n - 1 >= SCN_MAX_NAME)
        return fail_tok(P, 0, NULL, "expected a host or socket name before ':'");
    memcpy(name, P->t[0].w, n - 1);
    name[n - 1] = 0;
    struct scn_target tgt;
    if (parse_target(P, 0, name, &tgt) < 0)
        return -1;
    if (P->nt < 2 || P->t[1].k != TK_WORD)
        return fail_tok(P, 1,
                        "calls: socket bind listen accept connect send recv shutdown close abort "
                        "setsockopt",
                        "expected a socket call after '%s:'", name);
    const char *cw = P->t[1].w;
    int call = call_from_name(cw);
    if (call < 0)
        return fail_tok(P, 1,
                        "calls: socket bind listen accept connect send recv shutdown close abort "
                        "setsockopt",
                        "unknown socket call '%s'", cw);
    struct scn_stmt *st = new_stmt(P, SCN_CALL);
    if (!st)
        return -1;
    st->u.call.call = (enum tcp_call)call;
    st->u.call.tgt = tgt;
    st->u.call.as_sock = -1;
    st->u.call.dst_host = -1;
    st->u.call.backlog = 8;
    int i = 2;
    uint64_t v;
    switch ((enum tcp_call)call) {
    case TCP_CALL_SOCKET:
    case TCP_CALL_ACCEPT:
        i = parse_as(P, i, tgt.host, &st->u.call.as_sock);
        break;
    case TCP_CALL_BIND:
        if (i >= P->nt || P->t[i].k != TK_WORD)
            return fail_tok(P, i, "e.g. `server: bind 8080`", "expected a port");
        if (parse_port_word(P, i, P->t[i].w, &st->u.call.port) < 0)
            return -1;
        i++;
        break;
    case TCP_CALL_LISTEN:
        if (i < P->nt && P->t[i].k == TK_WORD && P->t[i].w[0] >= '0' && P->t[i].w[0] <= '9') {
            if (parse_port_word(P, i, P->t[i].w, &st->u.call.port) < 0)
                return -1;
            i++;
        }
        if (is_word(P, i, "backlog")) {
            if (tok_uint(P, i + 1, 65535, &v) < 0)
                return -1;
            st->u.call.backlog = (int)v;
            i += 2;
        }
        i = parse_as(P, i, tgt.host, &st->u.call.as_sock);
        break;
    case TCP_CALL_CONNECT: {
        const char *hint = "write the destination as HOST:PORT, e.g. `connect server:8080`";
        if (i >= P->nt || P->t[i].k != TK_WORD)
            return fail_tok(P, i, hint, "expected a destination");
        char *w = P->t[i].w;
        char *colon = strrchr(w, ':');
        if (!colon)
            return fail_tok(P, i, hint, "'%s' has no port", w);
        *colon = 0;
        int h = find_host(s, w);
        if (h >= 0) {
            st->u.call.dst_host = h;
            st->u.call.dst_addr = s->hosts[h].addr;
        } else if (wire_addr_parse(w, &st->u.call.dst_addr) == 0) {
            st->u.call.dst_host = -1;
        } else {
            return fail_tok(P, i, hint, "'%s' is neither a host nor an IPv4 address", w);
        }
        if (h == tgt.host)
            return fail_tok(P, i, NULL, "a host cannot connect to itself here");
        if (parse_port_word(P, i, colon + 1, &st->u.call.port) < 0)
            return -1;
        i++;
        break;
    }
    case TCP_CALL_SEND:
        if (i < P->nt && P->t[i].k == TK_STRING) {
            st->u.call.data = take_string(&P->t[i], &st->u.call.len);
            i++;
        } else if (i + 1 < P->nt && is_word(P, i + 1, "bytes")) {
            if (tok_uint(P, i, 100u << 20, &v) < 0)
                return -1;
            st->u.call.len = (size_t)v;
            i += 2;
        } else {
            return fail_tok(P, i, "e.g. `send \"hello\"` or `send 3000 bytes`",
                            "expected the data to send");
        }
        break;
    case TCP_CALL_RECV:
        st->u.call.len = 65536;
        if (i < P->nt) {
            if (tok_uint(P, i, 1u << 24, &v) < 0)
                return -1;
            if (v == 0)
                return fail_tok(P, i, NULL, "recv of 0 bytes reads nothing");
            st->u.call.len = (size_t)v;
            i++;
        }
        break;
    case TCP_CALL_SHUTDOWN:
        if (is_word(P, i, "rd"))
            st->u.call.how = TCP_SHUT_RD;
        else if (is_word(P, i, "wr"))
            st->u.call.how = TCP_SHUT_WR;
        else if (is_word(P, i, "rdwr"))
            st->u.call.how = TCP_SHUT_RDWR;
        else
            return fail_tok(P, i, "write `shutdown rd`, `shutdown wr` or `shutdown rdwr`",
                            "expected rd, wr or rdwr");
        i++;
        break;
    case TCP_CALL_SETSOCKOPT:
        i = parse_sockopt(P, st, i);
        break;
    default:
        break;
    }
    if (i < 0)
        return -1;
    return expect_end(P, i);
}

/* ---- network statements ------------------------------------------------------ */

/* Optional FLAGS or `data` after a direction. */
static int parse_netmatch_tail(struct parser *P, int i, struct scn_netmatch *m)
{
    m->any_flags = true;
    if (is_word(P, i, "data")) {
        m->data = true;
        return i + 1;
    }
    if (i < P->nt && P->t[i].k == TK_WORD && looks_like_flags(P->t[i].w)) {
        bool any;
        if (parse_flags(P, i, false, &any, &m->flags) < 0)
            return -1;
        m->any_flags = false;
        return i + 1;
    }
    return i;
}

static int parse_dir_or_both(struct parser *P, int i, int *from, int *to)
{
    if (is_word(P, i, "both")) {
        *from = *to = -1;
        return i + 1;
    }
    if (parse_dir(P, i, from, to) < 0)
        return -1;
    return i + 3;
}

static int parse_count_rule(struct parser *P, enum scn_kind kind)
{
    const char *verb = P->t[0].w;
    if (!is_word(P, 1, "next"))
        return fail_tok(P, 1, "e.g. `drop next server -> client F.`", "expected `next` after `%s`",
                        verb);
    struct scn_stmt *st = new_stmt(P, kind);
    if (!st)
        return -1;
    st->u.net.count = 1;
    st->u.net.dur_us = 1000000;
    int i = 2;
    if (kind != SCN_REORDER && i < P->nt && P->t[i].k == TK_WORD && P->t[i].w[0] >= '0' &&
        P->t[i].w[0] <= '9') {
        uint64_t v;
        if (tok_uint(P, i, 1000000, &v) < 0)
            return -1;
        if (v == 0)
            return fail_tok(P, i, NULL, "a count of 0 does nothing");
        st->u.net.count = (unsigned)v;
        i++;
    }
    i = parse_dir_or_both(P, i, &st->u.net.m.from, &st->u.net.m.to);
    if (i < 0)
        return -1;
    i = parse_netmatch_tail(P, i, &st->u.net.m);
    if (i < 0)
        return -1;
    if (kind == SCN_REORDER && is_word(P, i, "hold")) {
        if (tok_duration(P, i + 1, &st->u.net.dur_us) < 0)
            return -1;
        i += 2;
    }
    return expect_end(P, i);
}

static int parse_loss(struct parser *P)
{
    double p;
    const char *hint = "e.g. `loss 0.3 both` or `loss 0.1 client -> server`";
    if (P->nt < 2 || P->t[1].k != TK_WORD)
        return fail_tok(P, 1, hint, "expected a probability");
    size_t n = scan_decimal(P->t[1].w, &p);
    if (n == 0 || P->t[1].w[n] != 0)
        return fail_tok(P, 1, hint, "'%s' is not a probability", P->t[1].w);
    if (p > 1)
        return fail_tok(P, 1, "a probability is between 0 and 1", "probability %s is above 1",
                        P->t[1].w);
    struct scn_stmt *st = new_stmt(P, SCN_LOSS);
    if (!st)
        return -1;
    st->u.net.p = p;
    int i = parse_dir_or_both(P, 2, &st->u.net.m.from, &st->u.net.m.to);
    if (i < 0)
        return -1;
    return expect_end(P, i);
}

static int parse_delay(struct parser *P)
{
    struct scn_stmt *st = new_stmt(P, SCN_DELAY);
    if (!st)
        return -1;
    int i = parse_dir_or_both(P, 1, &st->u.net.m.from, &st->u.net.m.to);
    if (i < 0)
        return -1;
    if (tok_duration(P, i, &st->u.net.dur_us) < 0)
        return -1;
    return expect_end(P, i + 1);
}

static int parse_injnum(struct parser *P, int i, const char *val, struct scn_injnum *out)
{
    const char *hint = "write a relative number (seq=1) or next, next+N, next-N";
    if (strncmp(val, "next", 4) == 0) {
        out->from_next = true;
        out->v = 0;
        const char *r = val + 4;
        if (*r == 0)
            return 0;
        if (*r != '+' && *r != '-')
            return fail_tok(P, i, hint, "unexpected '%s'", r);
        uint64_t v;
        if (parse_uint(P, i, r + 1, 0xFFFFFFFFull, &v) < 0)
            return -1;
        out->v = *r == '+' ? (int64_t)v : -(int64_t)v;
        return 0;
    }
    if (*val == '+')
        val++;
    uint64_t v;
    if (parse_uint(P, i, val, 0xFFFFFFFFull, &v) < 0)
        return -1;
    out->from_next = false;
    out->v = (int64_t)v;
    return 0;
}

static int parse_inject(struct parser *P)
{
    struct scn_stmt *st = new_stmt(P, SCN_INJECT);
    if (!st)
        return -1;
    if (parse_dir(P, 1, &st->u.inject.from, &st->u.inject.to) < 0)
        return -1;
    bool any;
    if (parse_flags(P, 4, false, &any, &st->u.inject.flags) < 0)
        return -1;
    st->u.inject.win = -1;
    bool have_len = false;
    for (int i = 5; i < P->nt; i++) {
        if (P->t[i].k == TK_STRING) {
            if (have_len)
                return fail_tok(P, i, NULL, "the payload is given twice");
            st->u.inject.data = take_string(&P->t[i], &st->u.inject.len);
            have_len = true;
            continue;
        }
        if (P->t[i].k != TK_WORD)
            return fail_tok(P, i, NULL, "unexpected '->'");
        if (is_word(P, i, "badsum")) {
            st->u.inject.badsum = true;
            continue;
        }
        char key[16];
        enum scn_op op;
        const char *val;
        if (split_field(P, i, key, sizeof key, &op, &val) < 0)
            return -1;
        if (op != SCN_OP_EQ)
            return fail_tok(P, i, "inject fields are key=value", "'%s' needs '='", key);
        uint64_t v;
        if (strcmp(key, "seq") == 0 || strcmp(key, "ack") == 0) {
            bool *set = key[0] == 's' ? &st->u.inject.seq_set : &st->u.inject.ack_set;
            if (*set)
                return fail_tok(P, i, NULL, "%s written twice", key);
            *set = true;
            if (parse_injnum(P, i, val, key[0] == 's' ? &st->u.inject.seq : &st->u.inject.ack) < 0)
                return -1;
        } else if (strcmp(key, "win") == 0) {
            if (parse_uint(P, i, val, 65535, &v) < 0)
                return -1;
            st->u.inject.win = (int64_t)v;
        } else if (strcmp(key, "len") == 0) {
            if (have_len)
                return fail_tok(P, i, NULL, "the payload is given twice");
            if (parse_uint(P, i, val, 1400, &v) < 0)
                return -1;
            st->u.inject.len = (size_t)v;
            have_len = true;
        } else {
            return fail_tok(P, i, "inject fields: seq= ack= win= len= \"data\" badsum",
                            "unknown inject field '%s'", key);
        }
    }
    return 0;
}

/* ---- time and narration ------------------------------------------------------- */

static int parse_state_name(struct parser *P, int i, enum tcp_state *out)
{
    const char *hint = "states: CLOSED LISTEN SYN_SENT SYN_RECEIVED ESTABLISHED FIN_WAIT_1 "
                       "FIN_WAIT_2 CLOSE_WAIT CLOSING LAST_ACK TIME_WAIT";
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return fail_tok(P, i, hint, "expected a state name");
    int st = tcp_state_from_name(P->t[i].w);
    if (st < 0 || st >= TCP_NSTATES)
        return fail_tok(P, i, hint, "unknown state '%s'", P->t[i].w);
    *out = (enum tcp_state)st;
    return 0;
}

static int parse_wait(struct parser *P)
{
    if (is_word(P, 1, "until")) {
        struct scn_stmt *st = new_stmt(P, SCN_WAIT_UNTIL);
        if (!st)
            return -1;
        if (P->nt < 3 || P->t[2].k != TK_WORD)
            return fail_tok(P, 2, "e.g. `wait until client state TIME_WAIT`",
                            "expected a host or socket");
        if (parse_target(P, 2, P->t[2].w, &st->u.time.tgt) < 0)
            return -1;
        if (!is_word(P, 3, "state"))
            return fail_tok(P, 3, "e.g. `wait until client state TIME_WAIT`", "expected `state`");
        if (parse_state_name(P, 4, &st->u.time.state) < 0)
            return -1;
        int i = opt_timeout(P, 5, st);
        if (i < 0)
            return -1;
        return expect_end(P, i);
    }
    struct scn_stmt *st = new_stmt(P, SCN_WAIT);
    if (!st)
        return -1;
    if (tok_duration(P, 1, &st->u.time.dur_us) < 0)
        return -1;
    return expect_end(P, 2);
}

static int append_text(struct parser *P, char **dst, const uint8_t *s, size_t n)
{
    size_t old = *dst ? strlen(*dst) : 0;
    char *c = realloc(*dst, old + n + 2);
    if (!c)
        return fail_at(P, NULL, NULL, "out of memory");
    if (old)
        c[old++] = '\n';
    memcpy(c + old, s, n);
    c[old + n] = 0;
    *dst = c;
    return 0;
}

static int parse_say(struct parser *P)
{
    bool en = is_word(P, 1, "en"), zh = is_word(P, 1, "zh");
    if (!en && !zh)
        return fail_tok(P, 1, "write `say en \"...\"` or `say zh \"...\"`",
                        "expected a language, en or zh");
    if (P->nt < 3 || P->t[2].k != TK_STRING)
        return fail_tok(P, 2, "put the narration in double quotes",
                        "expected the narration as a string");
    if (!valid_utf8(P->t[2].s, P->t[2].slen) || memchr(P->t[2].s, 0, P->t[2].slen))
        return fail_tok(P, 2, "save the file as UTF-8 and avoid control characters",
                        "the narration is not valid UTF-8 text");
    char **dst;
    if (P->s->nstmts)
        dst = en ? &P->s->stmts[P->s->nstmts - 1].say_en : &P->s->stmts[P->s->nstmts - 1].say_zh;
    else
        dst = en ? &P->s->intro_en : &P->s->intro_zh;
    if (append_text(P, dst, P->t[2].s, P->t[2].slen) < 0)
        return -1;
    return expect_end(P, 3);
}

/* ---- expectations ----------------------------------------------------------------- */

static int parse_cmp(struct parser *P, int i, const char *key, enum scn_op op, const char *val,
                     bool allow_plus, uint64_t max, struct scn_cmp *out)
{
    if (out->op != SCN_OP_NONE)
        return fail_tok(P, i, NULL, "%s is checked twice", key);
    if (op == SCN_OP_NONE)
        return fail_tok(P, i, "e.g. seq=1, win>0, len>=100", "'%s' needs a comparison and a value",
                        key);
    if (allow_plus && *val == '+')
        val++;
    uint64_t v;
    if (parse_uint(P, i, val, max, &v) < 0)
        return -1;
    out->op = op;
    out->v = (int64_t)v;
    return 0;
}

static int parse_optval(struct parser *P, int i, const char *key, enum scn_op op, const char *val,
                        int *out, bool numeric, uint64_t max)
{
    if (*out != -1)
        return fail_tok(P, i, NULL, "%s is checked twice", key);
    if (op != SCN_OP_EQ)
        return fail_tok(P, i, NULL, "'%s' is checked with '=' only", key);
    if (numeric) {
        if (strcmp(val, "none") == 0) {
            *out = -2;
            return 0;
        }
        uint64_t v;
        if (parse_uint(P, i, val, max, &v) < 0)
            return -1;
        *out = (int)v;
        return 0;
    }
    if (strcmp(val, "yes") == 0)
        *out = 1;
    else if (strcmp(val, "no") == 0)
        *out = 0;
    else
        return fail_tok(P, i, NULL, "%s is yes or no", key);
    return 0;
}

static int parse_expect_seg(struct parser *P, struct scn_stmt *st)
{
    struct scn_segspec *sp = &st->u.seg;
    sp->mss = sp->wscale = sp->sackok = sp->ts = sp->rtx = -1;
    sp->gap_us = sp->t_us = -1;
    if (parse_dir(P, 1, &sp->from, &sp->to) < 0)
        return -1;
    if (parse_flags(P, 4, true, &sp->any_flags, &sp->flags) < 0)
        return -1;
    for (int i = 5; i < P->nt; i++) {
        if (P->t[i].k == TK_STRING) {
            if (sp->payload_set)
                return fail_tok(P, i, NULL, "the payload is checked twice");
            sp->payload = take_string(&P->t[i], &sp->payload_len);
            sp->payload_set = true;
            continue;
        }
        if (P->t[i].k != TK_WORD)
            return fail_tok(P, i, NULL, "unexpected '->'");
        if (is_word(P, i, "timeout")) {
            int j = opt_timeout(P, i, st);
            if (j < 0)
                return -1;
            return expect_end(P, j);
        }
        char key[16];
        enum scn_op op;
        const char *val;
        if (split_field(P, i, key, sizeof key, &op, &val) < 0)
            return -1;
        int r;
        if (strcmp(key, "seq") == 0)
            r = parse_cmp(P, i, key, op, val, true, 0xFFFFFFFFull, &sp->seq);
        else if (strcmp(key, "ack") == 0)
            r = parse_cmp(P, i, key, op, val, true, 0xFFFFFFFFull, &sp->ack);
        else if (strcmp(key, "len") == 0)
            r = parse_cmp(P, i, key, op, val, false, 65535, &sp->len);
        else if (strcmp(key, "win") == 0)
            r = parse_cmp(P, i, key, op, val, false, 65535, &sp->win);
        else if (strcmp(key, "mss") == 0)
            r = parse_optval(P, i, key, op, val, &sp->mss, true, 65535);
        else if (strcmp(key, "wscale") == 0)
            r = parse_optval(P, i, key, op, val, &sp->wscale, true, 255);
        else if (strcmp(key, "sackok") == 0)
            r = parse_optval(P, i, key, op, val, &sp->sackok, false, 0);
        else if (strcmp(key, "ts") == 0)
            r = parse_optval(P, i, key, op, val, &sp->ts, false, 0);
        else if (strcmp(key, "rtx") == 0)
            r = parse_optval(P, i, key, op, val, &sp->rtx, false, 0);
        else if (strcmp(key, "gap") == 0 || strcmp(key, "t") == 0) {
            int64_t *dst = key[0] == 'g' ? &sp->gap_us : &sp->t_us;
            if (*dst != -1)
                return fail_tok(P, i, NULL, "%s is checked twice", key);
            if (op != SCN_OP_EQ)
                return fail_tok(P, i, NULL, "'%s' is checked with '=' only", key);
            uint64_t us;
            if (parse_duration_word(P, i, val, &us) < 0)
                return -1;
            *dst = (int64_t)us;
            r = 0;
        } else
            return fail_tok(
                P, i,
                "fields: seq ack len win mss wscale sackok ts rtx gap t, a \"payload\", "
                "timeout D",
                "unknown field '%s'", key);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int parse_callvalue(struct parser *P, int i, struct scn_stmt *st)
{
    const char *hint = "values: ok, blocked, a number, N bytes, \"text\" or an error like "
                       "ECONNREFUSED";
    if (i >= P->nt)
        return fail_tok(P, i, hint, "expected a value after '='");
    if (P->t[i].k == TK_STRING) {
        st->u.ecall.vk = SCN_VAL_BYTES;
        st->u.ecall.bytes = take_string(&P->t[i], &st->u.ecall.nbytes);
        return i + 1;
    }
    if (P->t[i].k != TK_WORD)
        return fail_tok(P, i, hint, "expected a value");
    const char *w = P->t[i].w;
    if (strcmp(w, "ok") == 0) {
        st->u.ecall.vk = SCN_VAL_OK;
        return i + 1;
    }
    if (strcmp(w, "blocked") == 0) {
        st->u.ecall.vk = SCN_VAL_BLOCKED;
        return i + 1;
    }
    if (w[0] == 'E' && w[1] >= 'A' && w[1] <= 'Z') {
        int e = scn_errno_from_name(w);
        if (!e)
            return fail_tok(P, i, "e.g. ECONNREFUSED, ECONNRESET, ETIMEDOUT, EADDRINUSE, EPIPE",
                            "unknown error name '%s'", w);
        st->u.ecall.vk = SCN_VAL_ERRNO;
        st->u.ecall.v = -e;
        return i + 1;
    }
    uint64_t v;
    if (parse_uint(P, i, w, 1u << 30, &v) < 0)
        return -1;
    st->u.ecall.vk = SCN_VAL_INT;
    st->u.ecall.v = (int64_t)v;
    if (is_word(P, i + 1, "bytes"))
        return i + 2;
    return i + 1;
}

static int reason_from_name(const char *w)
{
    for (int r = -1; r > -WIRE_ERR_COUNT_; r--)
        if (strcmp(tev_drop_reason_name(r), w) == 0)
            return r;
    for (int r = 1; r < TCP_DROP_REASON_MAX_; r++)
        if (strcmp(tev_drop_reason_name(r), w) == 0)
            return r;
    return 0;
}

static int parse_expect(struct parser *P)
{
    if (P->nt < 2 || P->t[1].k != TK_WORD)
        return fail_tok(P, 1, "e.g. `expect client -> server S` or `expect client state SYN_SENT`",
                        "expected what to expect");
    if (is_word(P, 1, "nothing")) {
        struct scn_stmt *st = new_stmt(P, SCN_EXPECT_NOTHING);
        if (!st)
            return -1;
        st->u.time.from = st->u.time.to = -1;
        int i = 2;
        if (!is_word(P, i, "for")) {
            if (parse_dir(P, i, &st->u.time.from, &st->u.time.to) < 0)
                return -1;
            i += 3;
        }
        if (!is_word(P, i, "for"))
            return fail_tok(P, i, "e.g. `expect nothing server -> client for 1s`",
                            "expected `for DURATION`");
        if (tok_duration(P, i + 1, &st->u.time.dur_us) < 0)
            return -1;
        return expect_end(P, i + 2);
    }
    if (is_word(P, 1, "drop")) {
        struct scn_stmt *st = new_stmt(P, SCN_EXPECT_DROP);
        if (!st)
            return -1;
        if (parse_host(P, 2, &st->u.edrop.host) < 0)
            return -1;
        if (P->nt < 4 || P->t[3].k != TK_WORD)
            return fail_tok(P, 3, "e.g. `expect drop server bad_checksum`",
                            "expected a drop reason");
        st->u.edrop.reason = reason_from_name(P->t[3].w);
        if (!st->u.edrop.reason)
            return fail_tok(P, 3,
                            "reasons as in the trace: bad_checksum, rst_challenged, "
                            "backlog_full, unacceptable_segment, ...",
                            "unknown drop reason '%s'", P->t[3].w);
        int i = opt_timeout(P, 4, st);
        if (i < 0)
            return -1;
        return expect_end(P, i);
    }
    if (P->nt > 2 && P->t[2].k == TK_ARROW) {
        struct scn_stmt *st = new_stmt(P, SCN_EXPECT_SEG);
        if (!st)
            return -1;
        return parse_expect_seg(P, st);
    }
    struct scn_target tgt;
    if (parse_target(P, 1, P->t[1].w, &tgt) < 0)
        return -1;
    if (is_word(P, 2, "state")) {
        struct scn_stmt *st = new_stmt(P, SCN_EXPECT_STATE);
        if (!st)
            return -1;
        st->u.time.tgt = tgt;
        if (parse_state_name(P, 3, &st->u.time.state) < 0)
            return -1;
        int i = opt_timeout(P, 4, st);
        if (i < 0)
            return -1;
        return expect_end(P, i);
    }
    if (is_word(P, 2, "queue")) {
        struct scn_stmt *st = new_stmt(P, SCN_EXPECT_QUEUE);
        if (!st)
            return -1;
        st->u.queue.tgt = tgt;
        st->u.queue.syn = st->u.queue.accept = SCN_NO_VALUE;
        if (P->nt < 4)
            return fail_tok(P, 3, "e.g. `expect server queue syn=1 accept=2`",
                            "expected syn=N and/or accept=N");
        for (int i = 3; i < P->nt; i++) {
            char key[16];
            enum scn_op op;
            const char *val;
            if (is_word(P, i, "timeout") && i > 3) {
                int j = opt_timeout(P, i, st);
                return j < 0 ? -1 : expect_end(P, j);
            }
            if (P->t[i].k != TK_WORD || split_field(P, i, key, sizeof key, &op, &val) < 0)
                return fail_tok(P, i, "e.g. `expect server queue syn=1 accept=2`",
                                "expected syn=N or accept=N");
            int64_t *dst;
            if (strcmp(key, "syn") == 0)
                dst = &st->u.queue.syn;
            else if (strcmp(key, "accept") == 0)
                dst = &st->u.queue.accept;
            else
                return fail_tok(P, i, "e.g. `expect server queue syn=1 accept=2`",
                                "unknown queue '%s'", key);
            if (op != SCN_OP_EQ || *dst != SCN_NO_VALUE)
                return fail_tok(P, i, NULL, "write %s=N once", key);
            uint64_t v;
            if (parse_uint(P, i, val, 65535, &v) < 0)
                return -1;
            *dst = (int64_t)v;
        }
        return 0;
    }
    int call = P->nt > 2 && P->t[2].k == TK_WORD ? call_from_name(P->t[2].w) : -1;
    if (call < 0)
        return fail_tok(P, 2,
                        "after the host: `-> HOST FLAGS`, `state STATE`, `queue ...` or a call "
                        "name and `= VALUE`",
                        "expected a direction, `state`, `queue` or a call name");
    struct scn_stmt *st = new_stmt(P, SCN_EXPECT_CALL);
    if (!st)
        return -1;
    st->u.ecall.tgt = tgt;
    st->u.ecall.call = (enum tcp_call)call;
    if (!is_word(P, 3, "="))
        return fail_tok(P, 3, "e.g. `expect client connect = ECONNREFUSED`",
                        "expected '=' and a value (with spaces around '=')");
    int i = parse_callvalue(P, 4, st);
    if (i < 0)
        return -1;
    i = opt_timeout(P, i, st);
    if (i < 0)
        return -1;
    return expect_end(P, i);
}

/* ---- the file ----------------------------------------------------------------- */

static int parse_statement(struct parser *P)
{
    if (P->nt == 0)
        return 0;
    if (P->t[0].k != TK_WORD)
        return fail_tok(P, 0, "a statement starts with a word, e.g. `expect` or `client:`",
                        "unexpected %s at the start of a statement",
                        P->t[0].k == TK_STRING ? "string" : "'->'");
    const char *w = P->t[0].w;
    size_t n = strlen(w);
    if (n > 1 && w[n - 1] == ':')
        return parse_call(P);
    if (strcmp(w, "title") == 0)
        return parse_title(P);
    if (strcmp(w, "hosts") == 0)
        return parse_hosts(P);
    if (strcmp(w, "profile") == 0)
        return parse_profile(P);
    if (strcmp(w, "set") == 0)
        return parse_set(P);
    if (strcmp(w, "seed") == 0 || strcmp(w, "timeout") == 0) {
        if (header_allowed(P) < 0)
            return -1;
        if (w[1] == 'e') {
            if (tok_uint(P, 1, UINT32_MAX, &P->s->seed) < 0)
                return -1;
        } else if (tok_duration(P, 1, &P->s->timeout_us) < 0) {
            return -1;
        }
        return expect_end(P, 2);
    }
    if (strcmp(w, "tun") == 0) {
        if (header_allowed(P) < 0)
            return -1;
        if (!is_word(P, 1, "yes") && !is_word(P, 1, "no"))
            return fail_tok(P, 1, NULL, "write `tun yes` or `tun no`");
        P->s->tun = is_word(P, 1, "yes");
        P->s->tun_line = P->lineno;
        return expect_end(P, 2);
    }
    if (strcmp(w, "say") == 0)
        return parse_say(P);
    if (need_hosts(P, 0) < 0)
        return -1;
    if (strcmp(w, "expect") == 0)
        return parse_expect(P);
    if (strcmp(w, "wait") == 0)
        return parse_wait(P);
    if (strcmp(w, "drop") == 0)
        return parse_count_rule(P, SCN_DROP);
    if (strcmp(w, "duplicate") == 0)
        return parse_count_rule(P, SCN_DUP);
    if (strcmp(w, "reorder") == 0)
        return parse_count_rule(P, SCN_REORDER);
    if (strcmp(w, "loss") == 0)
        return parse_loss(P);
    if (strcmp(w, "delay") == 0)
        return parse_delay(P);
    if (strcmp(w, "cut") == 0 || strcmp(w, "restore") == 0) {
        if (!new_stmt(P, w[0] == 'c' ? SCN_CUT : SCN_RESTORE))
            return -1;
        return expect_end(P, 1);
    }
    if (strcmp(w, "inject") == 0)
        return parse_inject(P);
    if (strcmp(w, "reboot") == 0) {
        struct scn_stmt *st = new_stmt(P, SCN_REBOOT);
        if (!st || parse_host(P, 1, &st->u.reboot_host) < 0)
            return -1;
        return expect_end(P, 2);
    }
    if (find_host(P->s, w) >= 0 || find_sock(P->s, w) >= 0)
        return fail_tok(P, 0, "a socket call is written `HOST: CALL`, e.g. `client: close`",
                        "'%s' needs a ':' after it", w);
    return fail_tok(P, 0,
                    "statements: title hosts profile set seed timeout tun say HOST: expect wait "
                    "drop loss delay duplicate reorder cut restore inject reboot",
                    "unknown statement '%s'", w);
}

static void base_name(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".tcps") == 0)
        n -= 5;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, b, n);
    out[n] = 0;
}

struct scn *scn_parse_string(const char *name, const char *text, size_t len, struct scn_error *err)
{
    struct scn_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", name ? name : "<string>");
    struct scn *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return NULL;
    }
    snprintf(s->file, sizeof s->file, "%s", err->file);
    base_name(s->file, s->name, sizeof s->name);
    s->seed = 1;
    s->timeout_us = SCN_DEFAULT_TIMEOUT_US;
    s->latency_us = 500;

    struct parser P = {.s = s, .err = err};
    if (len > SCN_MAX_FILE) {
        err->line = 1;
        err->col = 1;
        snprintf(err->msg, sizeof err->msg, "file too large (%zu bytes, at most %u)", len,
                 SCN_MAX_FILE);
        snprintf(err->hint, sizeof err->hint, "split it into several scenarios");
        scn_free(s);
        return NULL;
    }
    size_t pos = 0;
    /* A UTF-8 byte order mark is allowed and skipped. */
    if (len >= 3 && (uint8_t)text[0] == 0xEF && (uint8_t)text[1] == 0xBB &&
        (uint8_t)text[2] == 0xBF)
        pos = 3;
    int lineno = 0;
    while (pos < len || (pos == len && lineno == 0 && len == 0)) {
        if (pos >= len)
            break;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - (text + pos)) : len - pos;
        P.line = text + pos;
        P.linelen = linelen;
        P.lineno = ++lineno;
        int r = lex_line(&P);
        if (r == 0)
            r = parse_statement(&P);
        free_tokens(&P);
        if (r < 0 || P.failed)
            goto fail;
        pos += linelen + (nl ? 1 : 0);
    }
    P.line = text + len;
    P.linelen = 0;
    if (s->nhosts == 0) {
        P.lineno = lineno ? lineno : 1;
        fail_at(&P, NULL, "add a line like `hosts client=stack server=peer` at the top",
                "the scenario declares no hosts");
        goto fail;
    }
    if (s->tun) {
        char why[200];
        if (!scn_tun_check(s, why, sizeof why)) {
            err->line = s->tun_line ? s->tun_line : 1;
            err->col = 1;
            snprintf(err->msg, sizeof err->msg, "`tun yes`, but %s", why);
            snprintf(err->hint, sizeof err->hint,
                     "write `tun no` if the scenario only makes sense on the virtual link");
            goto fail;
        }
    }
    return s;
fail:
    free_tokens(&P);
    scn_free(s);
    return NULL;
}

struct scn *scn_parse_file(const char *path, struct scn_error *err)
{
    struct scn_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "cannot open: %s", strerror(errno));
        snprintf(err->hint, sizeof err->hint, "check the path; scenarios end in .tcps");
        return NULL;
    }
    size_t cap = 4096, len = 0;
    int read_errno = 0;
    char *buf = malloc(cap);
    while (buf) {
        errno = 0;
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0 && ferror(f))
            read_errno = errno;
        len += n;
        if (len > SCN_MAX_FILE)
            break;
        if (n == 0)
            break;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    bool ioerr = ferror(f);
    fclose(f);
    if (!buf || ioerr) {
        free(buf);
        if (ioerr) {
            snprintf(err->msg, sizeof err->msg, "cannot read: %s",
                     read_errno ? strerror(read_errno) : "read error");
            snprintf(err->hint, sizeof err->hint, "a scenario is a text file ending in .tcps");
        } else {
            snprintf(err->msg, sizeof err->msg, "out of memory");
        }
        return NULL;
    }
    struct scn *s = scn_parse_string(path, buf, len, err);
    free(buf);
    return s;
}

void scn_free(struct scn *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nstmts; i++) {
        struct scn_stmt *st = &s->stmts[i];
        free(st->text);
        free(st->say_en);
        free(st->say_zh);
        if (st->kind == SCN_CALL)
            free(st->u.call.data);
        else if (st->kind == SCN_INJECT)
            free(st->u.inject.data);
        else if (st->kind == SCN_EXPECT_SEG)
            free(st->u.seg.payload);
        else if (st->kind == SCN_EXPECT_CALL)
            free(st->u.ecall.bytes);
    }
    free(s->stmts);
    free(s->title_en);
    free(s->title_zh);
    free(s->intro_en);
    free(s->intro_zh);
    free(s);
}

void scn_error_print(const struct scn_error *err, void *out)
{
    FILE *f = out;
    if (err->line > 0)
        fprintf(f, "%s:%d:%d: %s\n", err->file, err->line, err->col, err->msg);
    else
        fprintf(f, "%s: %s\n", err->file, err->msg);
    if (err->hint[0])
        fprintf(f, "  hint: %s\n", err->hint);
}

const char *scn_title(const struct scn *s, const char *lang)
{
    bool zh = lang && strcmp(lang, "zh") == 0;
    const char *a = zh ? s->title_zh : s->title_en, *b = zh ? s->title_en : s->title_zh;
    return a ? a : b ? b : s->name;
}

bool scn_tun_check(const struct scn *s, char *why, size_t cap)
{
    int nstack = 0, npeer = 0;
    for (size_t i = 0; i < s->nhosts; i++)
        s->hosts[i].role == SCN_ROLE_STACK ? nstack++ : npeer++;
    if (nstack != 1 || npeer < 1) {
        snprintf(why, cap, "with --tun there must be exactly one stack host and at least one peer");
        return false;
    }
    for (size_t i = 0; i < s->nstmts; i++) {
        const struct scn_stmt *st = &s->stmts[i];
        int peer = -1;
        const char *what = NULL;
        if (st->kind == SCN_EXPECT_DROP) {
            peer = st->u.edrop.host;
            what = "expects a drop reported by";
        } else if (st->kind == SCN_INJECT) {
            peer = st->u.inject.to;
            what = "injects a segment into";
        } else if (st->kind == SCN_REBOOT) {
            peer = st->u.reboot_host;
            what = "reboots";
        }
        if (peer >= 0 && s->hosts[peer].role == SCN_ROLE_PEER) {
            snprintf(why, cap, "line %d %s the peer '%s', which the kernel cannot do", st->line,
                     what, s->hosts[peer].name);
            return false;
        }
    }
    return true;
}

bool scn_supports_tun(const struct scn *s)
{
    char why[200];
    return s->tun && scn_tun_check(s, why, sizeof why);
}
