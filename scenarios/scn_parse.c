/*
 * scn_parse.c — read a .tcps scenario into its parsed form (scn_internal.h).
 *
 * First stage of the scenario data flow (docs/architecture.md): text in, a
 * list of steps out, or precise errors ("file:line:col: message" and a
 * hint each; after an error the parser goes on at the next line, up to
 * SCN_MAX_ERRORS). The language is line-oriented (docs/scenarios.md): each line is cut
 * into words, strings and arrows (scn_parse_lex.c), and the first word says
 * what the statement is: scn_parse_stmt.c reads the header, call, network,
 * time and narration statements, scn_parse_expect.c the expectations. This
 * file reads the file line by line, dispatches each statement and owns the
 * module's face (scenario.h). Names (hosts, sockets) are resolved while
 * parsing, so the runner never meets an unknown name. The parser reads
 * untrusted text and is fuzzed (fuzz/fuzz_scenario.c): every read is bounded
 * by the line, every number is range-checked, and every allocation failure
 * is an error, never a crash.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_parser.h"

/* ---- the file ----------------------------------------------------------------- */

/* Statements handled in a line or two, kept here beside the table. */
static int parse_seed(struct parser *P)
{
    if (scn_header_allowed(P) < 0 || scn_tok_uint(P, 1, UINT32_MAX, &P->s->seed) < 0)
        return -1;
    return scn_expect_end(P, 2);
}

static int parse_timeout(struct parser *P)
{
    if (scn_header_allowed(P) < 0 || scn_tok_duration(P, 1, &P->s->timeout_us) < 0)
        return -1;
    return scn_expect_end(P, 2);
}

static int parse_tun(struct parser *P)
{
    if (scn_header_allowed(P) < 0)
        return -1;
    if (!scn_is_word(P, 1, "yes") && !scn_is_word(P, 1, "no"))
        return scn_fail_tok(P, 1, NULL, "write `tun yes` or `tun no`");
    P->s->tun = scn_is_word(P, 1, "yes");
    P->s->tun_line = P->lineno;
    return scn_expect_end(P, 2);
}

static int parse_drop(struct parser *P)
{
    return scn_parse_count_rule(P, SCN_DROP);
}

static int parse_duplicate(struct parser *P)
{
    return scn_parse_count_rule(P, SCN_DUP);
}

static int parse_reorder(struct parser *P)
{
    return scn_parse_count_rule(P, SCN_REORDER);
}

static int parse_cable(struct parser *P)
{
    if (!scn_new_stmt(P, P->t[0].w[0] == 'c' ? SCN_CUT : SCN_RESTORE))
        return -1;
    return scn_expect_end(P, 1);
}

static int parse_reboot(struct parser *P)
{
    struct scn_stmt *st = scn_new_stmt(P, SCN_REBOOT);
    if (!st || scn_parse_host(P, 1, &st->u.reboot_host) < 0)
        return -1;
    return scn_expect_end(P, 2);
}

/* Every statement by its first word (`HOST:` calls aside). A new statement
 * is one line here and its parser (scn_parse_stmt.c or a file of its own);
 * "did you mean" suggests from this table, and the hint of an unknown
 * statement lists it. */
static const struct scn_statement {
    const char *word;
    int (*parse)(struct parser *P);
    bool needs_hosts; /* only after `hosts` */
} statements[] = {
    {"title", scn_parse_title, false},
    {"hosts", scn_parse_hosts, false},
    {"profile", scn_parse_profile, false},
    {"set", scn_parse_set, false},
    {"seed", parse_seed, false},
    {"timeout", parse_timeout, false},
    {"tun", parse_tun, false},
    {"say", scn_parse_say, false},
    {"ask", scn_parse_ask, false},
    {"hint", scn_parse_hint, false},
    {"expect", scn_parse_expect, true},
    {"wait", scn_parse_wait, true},
    {"drop", parse_drop, true},
    {"loss", scn_parse_loss, true},
    {"delay", scn_parse_delay, true},
    {"duplicate", parse_duplicate, true},
    {"reorder", parse_reorder, true},
    {"cut", parse_cable, true},
    {"restore", parse_cable, true},
    {"inject", scn_parse_inject, true},
    {"reboot", parse_reboot, true},
};
#define NSTATEMENTS (sizeof statements / sizeof statements[0])

/* A misspelt statement: the nearest statement word, or a host written
 * without its ':' ("clinet" for "client:"). */
static int unknown_statement(struct parser *P, const char *w)
{
    const char *cands[NSTATEMENTS + SCN_MAX_HOSTS];
    size_t n = 0;
    for (size_t i = 0; i < NSTATEMENTS; i++)
        cands[n++] = statements[i].word;
    for (size_t i = 0; i < P->s->nhosts && n < sizeof cands / sizeof cands[0]; i++)
        cands[n++] = P->s->hosts[i].name;
    const char *near = scn_suggest(w, cands, n);
    char hint[300];
    size_t len = (size_t)snprintf(hint, sizeof hint, "statements:");
    for (size_t i = 0; i < NSTATEMENTS && len < sizeof hint; i++) {
        len += (size_t)snprintf(hint + len, sizeof hint - len, " %s", statements[i].word);
        if (i == 9 && len < sizeof hint)
            len += (size_t)snprintf(hint + len, sizeof hint - len, " HOST:");
    }
    if (near && scn_find_host(P->s, near) >= 0)
        return scn_fail_tok(P, 0, "a socket call is written `HOST: CALL`, e.g. `client: close`",
                            "unknown statement '%s' (did you mean '%s:'?)", w, near);
    if (near)
        return scn_fail_tok(P, 0, hint, "unknown statement '%s' (did you mean '%s'?)", w, near);
    return scn_fail_tok(P, 0, hint, "unknown statement '%s'", w);
}

static int parse_statement(struct parser *P)
{
    if (P->nt == 0)
        return 0;
    if (P->t[0].k != TK_WORD)
        return scn_fail_tok(P, 0, "a statement starts with a word, e.g. `expect` or `client:`",
                            "unexpected %s at the start of a statement",
                            P->t[0].k == TK_STRING ? "string" : "'->'");
    const char *w = P->t[0].w;
    size_t n = strlen(w);
    if (n > 1 && w[n - 1] == ':')
        return scn_parse_call(P);
    for (size_t i = 0; i < NSTATEMENTS; i++)
        if (strcmp(w, statements[i].word) == 0) {
            if (statements[i].needs_hosts && scn_need_hosts(P, 0) < 0)
                return -1;
            return statements[i].parse(P);
        }
    if (scn_find_host(P->s, w) >= 0 || scn_find_sock(P->s, w) >= 0)
        return scn_fail_tok(P, 0, "a socket call is written `HOST: CALL`, e.g. `client: close`",
                            "'%s' needs a ':' after it", w);
    return unknown_statement(P, w);
}

/* Scenario text must be UTF-8 everywhere, comments included (a terminal or
 * an editor would show anything else as garbage). The offset of the first
 * bad byte in the line, or -1. */
static long bad_utf8_in(const char *line, size_t len)
{
    const uint8_t *s = (const uint8_t *)line;
    for (size_t i = 0; i < len;) {
        uint8_t c = s[i];
        size_t need = c < 0x80             ? 1
                      : (c & 0xE0) == 0xC0 ? 2
                      : (c & 0xF0) == 0xE0 ? 3
                      : (c & 0xF8) == 0xF0 ? 4
                                           : 0;
        if (need == 0 || i + need > len)
            return (long)i;
        uint32_t cp = need == 1   ? c
                      : need == 2 ? (c & 0x1Fu)
                      : need == 3 ? (c & 0x0Fu)
                                  : (c & 0x07u);
        for (size_t k = 1; k < need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return (long)i;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return (long)i;
        i += need;
    }
    return -1;
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
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - (text + pos)) : len - pos;
        P.line = text + pos;
        P.linelen = linelen;
        P.lineno = ++lineno;
        long bad = bad_utf8_in(P.line, linelen);
        int r = 0;
        if (bad >= 0)
            r = scn_fail_at(&P, P.line + bad, "save the file as UTF-8 (iconv -t UTF-8)",
                            "invalid UTF-8 at byte %zu", pos + (size_t)bad);
        if (r == 0)
            r = scn_lex_line(&P);
        if (r == 0)
            r = parse_statement(&P);
        bool was_hosts = scn_is_word(&P, 0, "hosts");
        scn_free_tokens(&P);
        pos += linelen + (nl ? 1 : 0);
        if (r < 0 || P.failed) {
            if (!P.failed) /* every error path reports; this one did not */
                scn_fail_at(&P, P.line, NULL, "this statement could not be read");
            /* Go on at the next line, so one run shows several mistakes;
             * after a bad `hosts` line every later one would only repeat
             * "unknown host", so stop there. */
            P.failed = false;
            if (was_hosts || scn_error_count(err) >= SCN_MAX_ERRORS)
                goto fail;
        }
    }
    if (scn_error_count(err) > 0)
        goto fail;
    P.line = text + len;
    P.linelen = 0;
    if (s->nhosts == 0) {
        P.lineno = lineno ? lineno : 1;
        scn_fail_at(&P, NULL, "add a line like `hosts client=stack server=peer` at the top",
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
    scn_free_tokens(&P);
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
        scn_stmt_free_asks(st);
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

unsigned scn_error_count(const struct scn_error *err)
{
    return err->msg[0] ? 1 + err->nmore : 0;
}

static void print_one(FILE *f, const char *file, int line, int col, const char *msg,
                      const char *hint)
{
    if (line > 0)
        fprintf(f, "%s:%d:%d: %s\n", file, line, col, msg);
    else
        fprintf(f, "%s: %s\n", file, msg);
    if (hint[0])
        fprintf(f, "  hint: %s\n", hint);
}

void scn_error_print(const struct scn_error *err, void *out)
{
    FILE *f = out;
    print_one(f, err->file, err->line, err->col, err->msg, err->hint);
    for (unsigned i = 0; i < err->nmore && i < SCN_MAX_ERRORS - 1; i++)
        print_one(f, err->file, err->more[i].line, err->more[i].col, err->more[i].msg,
                  err->more[i].hint);
    if (scn_error_count(err) >= SCN_MAX_ERRORS)
        fprintf(f, "%s: stopped after %d errors; fix these and run again\n", err->file,
                SCN_MAX_ERRORS);
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
