/*
 * scn_parser.h — what the parts of the scenario parser share: the tokens of
 * the current line, the parser's state, and the helpers of scn_parse_lex.c
 * and the statement parsers. Private to the parser (scn_parse*.c).
 */
#ifndef TCPLAB_SCN_PARSER_H
#define TCPLAB_SCN_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scn_internal.h"

#define MAX_TOKS        64
#define MAX_DURATION_US (30ull * 24 * 3600 * 1000000) /* 30 days */

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

/* ---- The lexer and the token readers (scn_parse_lex.c). */

int scn_fail_at(struct parser *P, const char *at, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int scn_fail_tok(struct parser *P, int i, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The candidate nearest to a misspelt word (at most two edits; one for
 * words under 5 characters), for "did you mean"; NULL if none is near. */
const char *scn_suggest(const char *w, const char *const *cands, size_t n);
/* The host (or, with sockets_too, host or named socket) nearest to w. */
const char *scn_near_name(const struct scn *s, const char *w, bool sockets_too);
/* The socket call / state name nearest to w, or NULL. */
const char *scn_near_call(const char *w);
const char *scn_near_state(const char *w);
/* " (did you mean 'NEAR'?)", or "" when near is NULL: for a message's end. */
const char *scn_did_you_mean(char *buf, size_t cap, const char *near);
void scn_free_tokens(struct parser *P);
int scn_lex_line(struct parser *P);
bool scn_is_word(const struct parser *P, int i, const char *w);
int scn_call_from_name(const char *w);
bool scn_is_name_syntax(const char *w);
bool scn_is_reserved(const char *w);
int scn_find_host(const struct scn *s, const char *name);
int scn_find_sock(const struct scn *s, const char *name);
int scn_need_hosts(struct parser *P, int i);
int scn_parse_host(struct parser *P, int i, int *host);
int scn_parse_target(struct parser *P, int i, const char *w, struct scn_target *tgt);
int scn_parse_uint(struct parser *P, int i, const char *w, uint64_t max, uint64_t *out);
int scn_tok_uint(struct parser *P, int i, uint64_t max, uint64_t *out);
size_t scn_scan_decimal(const char *w, double *out);
int scn_parse_duration_word(struct parser *P, int i, const char *w, uint64_t *out);
int scn_tok_duration(struct parser *P, int i, uint64_t *out);
int scn_parse_flags(struct parser *P, int i, bool allow_any, bool *any, uint8_t *flags);
bool scn_looks_like_flags(const char *w);
int scn_parse_dir(struct parser *P, int i, int *from, int *to);
int scn_split_field(struct parser *P, int i, char *key, size_t keycap, enum scn_op *op,
                    const char **val);
char *scn_xstrndup(struct parser *P, const char *p, size_t n);
uint8_t *scn_take_string(struct tok *t, size_t *len);
bool scn_valid_utf8(const uint8_t *s, size_t n);
int scn_expect_end(struct parser *P, int i);

/* ---- The statements other than expectations (scn_parse_stmt.c). */

struct scn_stmt *scn_new_stmt(struct parser *P, enum scn_kind kind);
int scn_opt_timeout(struct parser *P, int i, struct scn_stmt *st);
int scn_header_allowed(struct parser *P);
int scn_parse_title(struct parser *P);
int scn_parse_hosts(struct parser *P);
int scn_parse_profile(struct parser *P);
int scn_parse_set(struct parser *P);
int scn_parse_call(struct parser *P);
/* A call as the language writes it (`nonblock` is fcntl), or -1. */
int scn_call_from_word(const char *w);
int scn_parse_poll_events(struct parser *P, int i, bool result, unsigned *mask);
int scn_parse_count_rule(struct parser *P, enum scn_kind kind);
int scn_parse_loss(struct parser *P);
int scn_parse_delay(struct parser *P);
int scn_parse_inject(struct parser *P);
int scn_parse_state_name(struct parser *P, int i, enum tcp_state *out);
int scn_parse_wait(struct parser *P);
int scn_parse_say(struct parser *P);

/* ---- The quiz statements ask and hint (scn_parse_ask.c). */

int scn_parse_ask(struct parser *P);
int scn_parse_hint(struct parser *P);

/* ---- The expectations (scn_parse_expect.c). */

int scn_parse_expect(struct parser *P);

#endif
