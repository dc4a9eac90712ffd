/*
 * scn_parse.c — read a .tcps scenario into its parsed form (scn_internal.h).
 *
 * First stage of the scenario data flow (docs/architecture.md): text in, a
 * list of steps out, or one precise error ("file:line:col: message" and a
 * hint). The language is line-oriented (docs/scenarios.md): each line is cut
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
    if (strcmp(w, "title") == 0)
        return scn_parse_title(P);
    if (strcmp(w, "hosts") == 0)
        return scn_parse_hosts(P);
    if (strcmp(w, "profile") == 0)
        return scn_parse_profile(P);
    if (strcmp(w, "set") == 0)
        return scn_parse_set(P);
    if (strcmp(w, "seed") == 0 || strcmp(w, "timeout") == 0) {
        if (scn_header_allowed(P) < 0)
            return -1;
        if (w[1] == 'e') {
            if (scn_tok_uint(P, 1, UINT32_MAX, &P->s->seed) < 0)
                return -1;
        } else if (scn_tok_duration(P, 1, &P->s->timeout_us) < 0) {
            return -1;
        }
        return scn_expect_end(P, 2);
    }
    if (strcmp(w, "tun") == 0) {
        if (scn_header_allowed(P) < 0)
            return -1;
        if (!scn_is_word(P, 1, "yes") && !scn_is_word(P, 1, "no"))
            return scn_fail_tok(P, 1, NULL, "write `tun yes` or `tun no`");
        P->s->tun = scn_is_word(P, 1, "yes");
        P->s->tun_line = P->lineno;
        return scn_expect_end(P, 2);
    }
    if (strcmp(w, "say") == 0)
        return scn_parse_say(P);
    if (strcmp(w, "ask") == 0)
        return scn_parse_ask(P);
    if (strcmp(w, "hint") == 0)
        return scn_parse_hint(P);
    if (scn_need_hosts(P, 0) < 0)
        return -1;
    if (strcmp(w, "expect") == 0)
        return scn_parse_expect(P);
    if (strcmp(w, "wait") == 0)
        return scn_parse_wait(P);
    if (strcmp(w, "drop") == 0)
        return scn_parse_count_rule(P, SCN_DROP);
    if (strcmp(w, "duplicate") == 0)
        return scn_parse_count_rule(P, SCN_DUP);
    if (strcmp(w, "reorder") == 0)
        return scn_parse_count_rule(P, SCN_REORDER);
    if (strcmp(w, "loss") == 0)
        return scn_parse_loss(P);
    if (strcmp(w, "delay") == 0)
        return scn_parse_delay(P);
    if (strcmp(w, "cut") == 0 || strcmp(w, "restore") == 0) {
        if (!scn_new_stmt(P, w[0] == 'c' ? SCN_CUT : SCN_RESTORE))
            return -1;
        return scn_expect_end(P, 1);
    }
    if (strcmp(w, "inject") == 0)
        return scn_parse_inject(P);
    if (strcmp(w, "reboot") == 0) {
        struct scn_stmt *st = scn_new_stmt(P, SCN_REBOOT);
        if (!st || scn_parse_host(P, 1, &st->u.reboot_host) < 0)
            return -1;
        return scn_expect_end(P, 2);
    }
    if (scn_find_host(P->s, w) >= 0 || scn_find_sock(P->s, w) >= 0)
        return scn_fail_tok(P, 0, "a socket call is written `HOST: CALL`, e.g. `client: close`",
                            "'%s' needs a ':' after it", w);
    return scn_fail_tok(
        P, 0,
        "statements: title hosts profile set seed timeout tun say ask hint HOST: expect wait "
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
        int r = scn_lex_line(&P);
        if (r == 0)
            r = parse_statement(&P);
        scn_free_tokens(&P);
        if (r < 0 || P.failed)
            goto fail;
        pos += linelen + (nl ? 1 : 0);
    }
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
