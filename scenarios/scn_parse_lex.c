/*
 * scn_parse_lex.c — the scenario parser's lexer and the token-level readers
 * every statement parser uses: one line into words, strings and arrows;
 * errors at a column; numbers, durations, flags, directions and `key=value`
 * fields, each range-checked; errno names both ways. Part of the parser
 * (scn_parse.c); private to scenarios/ through scn_parser.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_parser.h"

/* ---- errno names --------------------------------------------------------- */

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

/* ---- the lexer: one line into tokens ------------------------------------ */

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

int scn_fail_at(struct parser *P, const char *at, const char *hint, const char *fmt, ...)
{
    if (P->failed)
        return -1; /* one problem per statement: the first says where it went wrong */
    P->failed = true;
    struct scn_error *e = P->err;
    int line = P->lineno, col = at ? col_of(P, at) : 1;
    char *msg, *hbuf;
    size_t mcap, hcap;
    if (!e->msg[0]) {
        e->line = line;
        e->col = col;
        msg = e->msg, mcap = sizeof e->msg, hbuf = e->hint, hcap = sizeof e->hint;
    } else if (e->nmore < SCN_MAX_ERRORS - 1) {
        struct scn_diag *d = &e->more[e->nmore++];
        d->line = line;
        d->col = col;
        msg = d->msg, mcap = sizeof d->msg, hbuf = d->hint, hcap = sizeof d->hint;
    } else {
        return -1; /* the parser stops at SCN_MAX_ERRORS */
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, mcap, fmt, ap);
    va_end(ap);
    if (!msg[0])
        snprintf(msg, mcap, "error");
    snprintf(hbuf, hcap, "%s",
             hint && *hint ? hint : "docs/scenarios.md describes every statement");
    return -1;
}

/* Levenshtein distance, capped: names are short (scenario.h). */
size_t scn_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *scn_suggest(const char *w, const char *const *cands, size_t n)
{
    /* At most two edits, and fewer than half the word: "xyz" is not "set". */
    size_t len = strlen(w), limit = len >= 5 ? 2 : 1, best_d = limit + 1;
    const char *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i] || !strcmp(cands[i], w))
            continue;
        size_t d = scn_edit_distance(w, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best;
}

int scn_fail_tok(struct parser *P, int i, const char *hint, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *at = i < P->nt ? P->t[i].p : P->stmt_end;
    return scn_fail_at(P, at, hint, "%s", msg);
}

void scn_free_tokens(struct parser *P)
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
        return scn_fail_at(P, *pp, NULL, "out of memory");
    size_t n = 0;
    for (;;) {
        if (p >= end) {
            free(buf);
            return scn_fail_at(P, *pp, "close the string with \" on the same line",
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
            return scn_fail_at(P, p, "write \\\\ for a backslash",
                               "backslash at the end of the line");
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
                return scn_fail_at(P, p, "\\x takes exactly two hex digits, e.g. \\x0a",
                                   "bad \\x escape");
            }
            buf[n++] = (uint8_t)(hi << 4 | lo);
            p += 4;
            break;
        }
        default:
            free(buf);
            return scn_fail_at(P, p, "escapes are \\\" \\\\ \\n \\r \\t \\xHH",
                               "unknown escape '\\%c'", p[1]);
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
int scn_lex_line(struct parser *P)
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
            return scn_fail_at(P, p, "split the statement; no statement needs this many words",
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
                return scn_fail_at(P, p, NULL, "word too long (at most %zu characters)",
                                   sizeof t->w - 1);
            for (const char *c = p; c < q; c++)
                if (*c == '\0' || (unsigned char)*c < 0x20)
                    return scn_fail_at(P, c, "remove control characters from the file",
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

bool scn_is_word(const struct parser *P, int i, const char *w)
{
    return i < P->nt && P->t[i].k == TK_WORD && strcmp(P->t[i].w, w) == 0;
}

/* The socket call a word names, by the event stream's own names
 * (tcp_call_name); STATUS is not a call a scenario can make. -1 if none. */
int scn_call_from_name(const char *w)
{
    for (int c = 0; c < TCP_NCALLS; c++)
        if (c != TCP_CALL_STATUS && strcmp(tcp_call_name((enum tcp_call)c), w) == 0)
            return c;
    return -1;
}

const char *scn_near_state(const char *w)
{
    const char *cands[TCP_NSTATES];
    for (int st = 0; st < TCP_NSTATES; st++)
        cands[st] = tcp_state_name((enum tcp_state)st);
    /* States are written in capitals; "established" is one case away. */
    char up[64];
    size_t k = 0;
    for (; w[k] && k + 1 < sizeof up; k++)
        up[k] = (char)(w[k] >= 'a' && w[k] <= 'z' ? w[k] - 32 : w[k]);
    up[k] = 0;
    for (int st = 0; st < TCP_NSTATES; st++)
        if (!strcmp(up, cands[st]))
            return cands[st];
    return scn_suggest(up, cands, TCP_NSTATES);
}

const char *scn_did_you_mean(char *buf, size_t cap, const char *near)
{
    if (!near || cap == 0)
        return "";
    snprintf(buf, cap, " (did you mean '%s'?)", near);
    return buf;
}

bool scn_is_name_syntax(const char *w)
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
    "ask",     "hint",      "poll",    "getsockopt", "nonblock", "fcntl",
    "sendto",  "recvfrom",  "udp",     "by",
};

bool scn_is_reserved(const char *w)
{
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(reserved[i], w) == 0)
            return true;
    return false;
}

int scn_find_host(const struct scn *s, const char *name)
{
    for (size_t i = 0; i < s->nhosts; i++)
        if (strcmp(s->hosts[i].name, name) == 0)
            return (int)i;
    return -1;
}

int scn_find_sock(const struct scn *s, const char *name)
{
    for (size_t i = 0; i < s->nsocks; i++)
        if (strcmp(s->socks[i].name, name) == 0)
            return (int)i;
    return -1;
}

const char *scn_near_name(const struct scn *s, const char *w, bool sockets_too)
{
    const char *cands[SCN_MAX_HOSTS + SCN_MAX_SOCKNAMES];
    size_t n = 0;
    for (size_t i = 0; i < s->nhosts && n < sizeof cands / sizeof cands[0]; i++)
        cands[n++] = s->hosts[i].name;
    for (size_t i = 0; sockets_too && i < s->nsocks && n < sizeof cands / sizeof cands[0]; i++)
        cands[n++] = s->socks[i].name;
    return scn_suggest(w, cands, n);
}

int scn_need_hosts(struct parser *P, int i)
{
    if (P->s->nhosts == 0)
        return scn_fail_tok(P, i, "declare the hosts first, e.g. `hosts client=stack server=peer`",
                            "no hosts declared yet");
    return 0;
}

/* A host name at token i. */
int scn_parse_host(struct parser *P, int i, int *host)
{
    if (scn_need_hosts(P, i) < 0)
        return -1;
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return scn_fail_tok(P, i, NULL, "expected a host name");
    int h = scn_find_host(P->s, P->t[i].w);
    if (h < 0) {
        char hint[200] = "hosts are:";
        for (size_t k = 0; k < P->s->nhosts; k++) {
            size_t n = strlen(hint);
            snprintf(hint + n, sizeof hint - n, " %s", P->s->hosts[k].name);
        }
        if (scn_find_sock(P->s, P->t[i].w) >= 0)
            return scn_fail_tok(P, i, hint, "'%s' is a socket, not a host", P->t[i].w);
        const char *near = scn_near_name(P->s, P->t[i].w, false);
        if (near)
            return scn_fail_tok(P, i, hint, "unknown host '%s' (did you mean '%s'?)", P->t[i].w,
                                near);
        return scn_fail_tok(P, i, hint, "unknown host '%s'", P->t[i].w);
    }
    *host = h;
    return 0;
}

/* A host or a named socket at token i (the `NAME:` of a call, the NAME of
 * `expect NAME state`). */
int scn_parse_target(struct parser *P, int i, const char *w, struct scn_target *tgt)
{
    if (scn_need_hosts(P, i) < 0)
        return -1;
    int h = scn_find_host(P->s, w);
    if (h >= 0) {
        tgt->host = h;
        tgt->sock = -1;
        return 0;
    }
    int k = scn_find_sock(P->s, w);
    if (k >= 0) {
        tgt->host = P->s->socks[k].host;
        tgt->sock = k;
        return 0;
    }
    const char *hint = "a target is a host from the `hosts` line or a socket named earlier "
                       "with `as NAME`";
    const char *near = scn_near_name(P->s, w, true);
    if (near)
        return scn_fail_tok(P, i, hint, "unknown host or socket '%s' (did you mean '%s'?)", w,
                            near);
    return scn_fail_tok(P, i, hint, "unknown host or socket '%s'", w);
}

int scn_parse_uint(struct parser *P, int i, const char *w, uint64_t max, uint64_t *out)
{
    if (*w < '0' || *w > '9')
        return scn_fail_tok(P, i, NULL, "expected a number, found '%s'", w);
    uint64_t v = 0;
    for (const char *c = w; *c; c++) {
        if (*c < '0' || *c > '9')
            return scn_fail_tok(P, i, NULL, "'%s' is not a whole number", w);
        v = v * 10 + (uint64_t)(*c - '0');
        if (v > max)
            return scn_fail_tok(P, i, NULL, "%s is too large (at most %llu)", w,
                                (unsigned long long)max);
    }
    *out = v;
    return 0;
}

int scn_tok_uint(struct parser *P, int i, uint64_t max, uint64_t *out)
{
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return scn_fail_tok(P, i, NULL, "expected a number");
    return scn_parse_uint(P, i, P->t[i].w, max, out);
}

/* A decimal with an optional fraction ("1.5"); returns the length used. */
size_t scn_scan_decimal(const char *w, double *out)
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

int scn_parse_duration_word(struct parser *P, int i, const char *w, uint64_t *out)
{
    const char *hint = "a duration is a number and a unit: 500us, 200ms, 1.5s, 2min or 2msl";
    double v;
    size_t n = scn_scan_decimal(w, &v);
    if (n == 0)
        return scn_fail_tok(P, i, hint, "expected a duration, found '%s'", w);
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
        return scn_fail_tok(P, i, hint, "'%s' has no unit", w);
    else
        return scn_fail_tok(P, i, hint, "unknown time unit '%s'", u);
    if (us > (double)MAX_DURATION_US)
        return scn_fail_tok(P, i, NULL, "duration %s is too long (at most 30 days)", w);
    *out = (uint64_t)(us + 0.5);
    return 0;
}

int scn_tok_duration(struct parser *P, int i, uint64_t *out)
{
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return scn_fail_tok(P, i, "a duration is a number and a unit: 200ms, 1s, 2msl",
                            "expected a duration");
    return scn_parse_duration_word(P, i, P->t[i].w, out);
}

/* tcpdump flag letters; `*` is "any" where allowed. */
int scn_parse_flags(struct parser *P, int i, bool allow_any, bool *any, uint8_t *flags)
{
    static const char letters[] = "FSRPUEW";
    static const uint8_t bits[] = {TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_URG, TCP_ECE, TCP_CWR};
    const char *hint = "flags are tcpdump letters: S F R P U E W and . for ACK, e.g. S. or F.";
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return scn_fail_tok(P, i, hint, "expected segment flags");
    const char *w = P->t[i].w;
    *any = false;
    *flags = 0;
    if (strcmp(w, "*") == 0) {
        if (!allow_any)
            return scn_fail_tok(P, i, hint, "'*' (any flags) is not allowed here");
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
            return scn_fail_at(P, P->t[i].p + (c - w), hint, "unknown flag letter '%c' in \"%s\"",
                               *c, w);
        if (*flags & bit)
            return scn_fail_at(P, P->t[i].p + (c - w), hint, "flag '%c' written twice in \"%s\"",
                               *c, w);
        *flags |= bit;
    }
    return 0;
}

bool scn_looks_like_flags(const char *w)
{
    if (!*w)
        return false;
    for (; *w; w++)
        if (!strchr("FSRPUEW.", *w))
            return false;
    return true;
}

/* "A -> B" at tokens i, i+1, i+2. */
int scn_parse_dir(struct parser *P, int i, int *from, int *to)
{
    if (scn_parse_host(P, i, from) < 0)
        return -1;
    if (i + 1 >= P->nt || P->t[i + 1].k != TK_ARROW)
        return scn_fail_tok(P, i + 1, "write a direction as `client -> server`", "expected '->'");
    if (scn_parse_host(P, i + 2, to) < 0)
        return -1;
    if (*from == *to)
        return scn_fail_tok(P, i + 2,
                            "a direction is from one host to another, e.g. client -> server",
                            "a direction needs two different hosts");
    return 0;
}

/* Split "key<op>value" into its parts. */
int scn_split_field(struct parser *P, int i, char *key, size_t keycap, enum scn_op *op,
                    const char **val)
{
    const char *w = P->t[i].w;
    size_t k = 0;
    while (w[k] && ((w[k] >= 'a' && w[k] <= 'z') || w[k] == '_'))
        k++;
    if (k == 0 || k >= keycap)
        return scn_fail_tok(P, i, NULL, "unexpected '%s'", w);
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
        return scn_fail_at(P, P->t[i].p + k, "fields are written key=value, e.g. ack=1 or win>0",
                           "unexpected '%c' after '%s'", o[0], key);
    }
    *val = o;
    return 0;
}

char *scn_xstrndup(struct parser *P, const char *p, size_t n)
{
    char *c = malloc(n + 1);
    if (!c) {
        scn_fail_at(P, NULL, NULL, "out of memory");
        return NULL;
    }
    memcpy(c, p, n);
    c[n] = 0;
    return c;
}

uint8_t *scn_take_string(struct tok *t, size_t *len)
{
    uint8_t *s = t->s;
    t->s = NULL;
    *len = t->slen;
    return s;
}

/* Narration and titles are shown on a terminal: they must be valid UTF-8. */
bool scn_valid_utf8(const uint8_t *s, size_t n)
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

int scn_expect_end(struct parser *P, int i)
{
    if (i < P->nt)
        return scn_fail_tok(P, i, "see docs/scenarios.md for the statement's form",
                            "unexpected '%.*s' at the end of the statement", (int)P->t[i].n,
                            P->t[i].p);
    return 0;
}
