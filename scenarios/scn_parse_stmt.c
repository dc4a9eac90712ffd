/*
 * scn_parse_stmt.c — the scenario parser's statements other than the
 * expectations: the statement list, the header (title, hosts, profile, set),
 * socket calls, network impairments and injection, waits and narration
 * (docs/scenarios.md). Each parse_*() reads the current line's tokens
 * (scn_parse_lex.c) into a struct scn_stmt; scn_parse.c dispatches to them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_parser.h"

/* ---- the statement list --------------------------------------------------- */

struct scn_stmt *scn_new_stmt(struct parser *P, enum scn_kind kind)
{
    struct scn *s = P->s;
    if (s->nstmts == SCN_MAX_STMTS) {
        scn_fail_at(P, P->line, "split the scenario into several files",
                    "too many steps (at most %d)", SCN_MAX_STMTS);
        return NULL;
    }
    if (s->nstmts == P->cap) {
        size_t cap = P->cap ? P->cap * 2 : 32;
        struct scn_stmt *n = realloc(s->stmts, cap * sizeof *n);
        if (!n) {
            scn_fail_at(P, NULL, NULL, "out of memory");
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
    st->text = scn_xstrndup(P, a, (size_t)(P->stmt_end - a));
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
int scn_opt_timeout(struct parser *P, int i, struct scn_stmt *st)
{
    if (scn_is_word(P, i, "timeout")) {
        if (scn_tok_duration(P, i + 1, &st->timeout_us) < 0)
            return -1;
        return i + 2;
    }
    return i;
}

/* ---- header statements ---------------------------------------------------- */

int scn_header_allowed(struct parser *P)
{
    if (P->seen_step)
        return scn_fail_tok(
            P, 0,
            "move header statements (title, hosts, profile, set, seed, timeout, tun) "
            "to the top",
            "\"%s\" must come before the first step", P->t[0].w);
    return 0;
}

int scn_parse_title(struct parser *P)
{
    if (scn_header_allowed(P) < 0)
        return -1;
    bool en = scn_is_word(P, 1, "en"), zh = scn_is_word(P, 1, "zh");
    if (!en && !zh)
        return scn_fail_tok(P, 1, "write `title en \"...\"` or `title zh \"...\"`",
                            "expected a language, en or zh");
    if (P->nt < 3 || P->t[2].k != TK_STRING)
        return scn_fail_tok(P, 2, "put the title in double quotes",
                            "expected the title as a string");
    if (!scn_valid_utf8(P->t[2].s, P->t[2].slen) || memchr(P->t[2].s, 0, P->t[2].slen))
        return scn_fail_tok(P, 2, "save the file as UTF-8", "the title is not valid UTF-8 text");
    char **dst = en ? &P->s->title_en : &P->s->title_zh;
    if (*dst)
        return scn_fail_tok(P, 0, NULL, "a second %s title", en ? "en" : "zh");
    size_t n;
    *dst = (char *)scn_take_string(&P->t[2], &n);
    return scn_expect_end(P, 3);
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

int scn_parse_hosts(struct parser *P)
{
    struct scn *s = P->s;
    if (scn_header_allowed(P) < 0)
        return -1;
    if (s->nhosts)
        return scn_fail_tok(P, 0, "declare every host on one `hosts` line",
                            "a second `hosts` line");
    if (P->nt < 3)
        return scn_fail_tok(P, P->nt, "e.g. `hosts client=stack server=peer`",
                            "at least two hosts are needed");
    bool seen_stack = false, seen_peer = false;
    for (int i = 1; i < P->nt; i++) {
        if (P->t[i].k != TK_WORD)
            return scn_fail_tok(P, i, "e.g. `hosts client=stack server=peer`",
                                "expected NAME=ROLE");
        if (i > SCN_MAX_HOSTS)
            return scn_fail_tok(P, i, NULL, "too many hosts (at most %d)", SCN_MAX_HOSTS);
        char *w = P->t[i].w;
        char *eq = strchr(w, '=');
        if (!eq)
            return scn_fail_tok(P, i, "e.g. `hosts client=stack server=peer`",
                                "'%s' needs a role: NAME=stack or NAME=peer", w);
        *eq = 0;
        const char *role = eq + 1;
        char *at = strchr(role, '@');
        if (at)
            *at = 0;
        if (!scn_is_name_syntax(w))
            return scn_fail_tok(P, i, "a name is a letter or _ then letters, digits or _",
                                "'%s' is not a valid host name", w);
        if (scn_is_reserved(w))
            return scn_fail_tok(P, i, "choose another name, e.g. client or server",
                                "'%s' is a keyword and cannot name a host", w);
        if (scn_find_host(s, w) >= 0)
            return scn_fail_tok(P, i, NULL, "host '%s' declared twice", w);
        struct scn_hostdef *h = &s->hosts[s->nhosts];
        memset(h, 0, sizeof *h);
        snprintf(h->name, sizeof h->name, "%.31s", w);
        if (strcmp(role, "stack") == 0)
            h->role = SCN_ROLE_STACK;
        else if (strcmp(role, "peer") == 0)
            h->role = SCN_ROLE_PEER;
        else
            return scn_fail_at(P, P->t[i].p + (role - w), "a host is `stack` or `peer`",
                               "unknown role '%s'", role);
        if (at) {
            if (wire_addr_parse(at + 1, &h->addr) < 0)
                return scn_fail_at(P, P->t[i].p + (at + 1 - w), "write an address like 10.7.0.9",
                                   "'%s' is not an IPv4 address", at + 1);
            for (size_t k = 0; k < s->nhosts; k++)
                if (s->hosts[k].addr == h->addr)
                    return scn_fail_tok(P, i, NULL, "address %s is used twice", at + 1);
            h->addr_given = true;
        }
        stack_config_defaults(&h->cfg);
        stack_config_profile(&h->cfg, STACK_PROFILE_TEACHING);
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
    if (scn_need_hosts(P, i) < 0)
        return -1;
    memset(sel, 0, SCN_MAX_HOSTS * sizeof sel[0]);
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return scn_fail_tok(P, i, NULL, "expected a host, all, stack or peer");
    const char *w = P->t[i].w;
    for (size_t k = 0; k < s->nhosts; k++) {
        if (strcmp(w, "all") == 0 ||
            (strcmp(w, "stack") == 0 && s->hosts[k].role == SCN_ROLE_STACK) ||
            (strcmp(w, "peer") == 0 && s->hosts[k].role == SCN_ROLE_PEER))
            sel[k] = true;
    }
    if (strcmp(w, "all") && strcmp(w, "stack") && strcmp(w, "peer")) {
        int h;
        if (scn_parse_host(P, i, &h) < 0)
            return -1;
        sel[h] = true;
    }
    return 0;
}

int scn_parse_profile(struct parser *P)
{
    if (scn_header_allowed(P) < 0)
        return -1;
    bool sel[SCN_MAX_HOSTS];
    int i = 1;
    if (P->nt == 3) {
        if (parse_who(P, 1, sel) < 0)
            return -1;
        i = 2;
    } else {
        if (scn_need_hosts(P, 0) < 0)
            return -1;
        for (size_t k = 0; k < SCN_MAX_HOSTS; k++)
            sel[k] = true;
    }
    enum stack_profile profile;
    if (scn_is_word(P, i, "teaching"))
        profile = STACK_PROFILE_TEACHING;
    else if (scn_is_word(P, i, "linux"))
        profile = STACK_PROFILE_LINUX;
    else
        return scn_fail_tok(P, i, "profiles are `teaching` and `linux`", "unknown profile");
    for (size_t k = 0; k < P->s->nhosts; k++)
        if (sel[k])
            stack_config_profile(&P->s->hosts[k].cfg, profile);
    return scn_expect_end(P, i + 1);
}

static int parse_onoff(struct parser *P, int i, bool *on)
{
    if (scn_is_word(P, i, "on") || scn_is_word(P, i, "1") || scn_is_word(P, i, "yes"))
        *on = true;
    else if (scn_is_word(P, i, "off") || scn_is_word(P, i, "0") || scn_is_word(P, i, "no"))
        *on = false;
    else
        return scn_fail_tok(P, i, NULL, "expected on or off");
    return 0;
}

int scn_parse_set(struct parser *P)
{
    struct scn *s = P->s;
    if (scn_header_allowed(P) < 0)
        return -1;
    if (scn_is_word(P, 1, "link")) {
        if (!scn_is_word(P, 2, "latency"))
            return scn_fail_tok(P, 2, "e.g. `set link latency 1ms`",
                                "the link has one setting: latency");
        if (scn_tok_duration(P, 3, &s->latency_us) < 0)
            return -1;
        return scn_expect_end(P, 4);
    }
    bool sel[SCN_MAX_HOSTS];
    if (parse_who(P, 1, sel) < 0)
        return -1;
    if (P->nt < 4)
        return scn_fail_tok(P, P->nt, "e.g. `set client msl 10s`",
                            "expected an option and a value");
    const char *opt = P->t[2].w;
    for (size_t k = 0; k < s->nhosts; k++) {
        if (!sel[k])
            continue;
        struct stack_config *c = &s->hosts[k].cfg;
        uint64_t v;
        bool on = false;
        if (strcmp(opt, "msl") == 0) {
            if (scn_tok_duration(P, 3, &c->msl_us) < 0)
                return -1;
        } else if (strcmp(opt, "rto_initial") == 0) {
            if (scn_tok_duration(P, 3, &c->rto_initial_us) < 0)
                return -1;
        } else if (strcmp(opt, "rto_min") == 0) {
            if (scn_tok_duration(P, 3, &c->rto_min_us) < 0)
                return -1;
        } else if (strcmp(opt, "rto_max") == 0) {
            if (scn_tok_duration(P, 3, &c->rto_max_us) < 0)
                return -1;
        } else if (strcmp(opt, "keepidle") == 0) {
            if (scn_tok_duration(P, 3, &c->keepalive_idle_us) < 0)
                return -1;
        } else if (strcmp(opt, "keepintvl") == 0) {
            if (scn_tok_duration(P, 3, &c->keepalive_intvl_us) < 0)
                return -1;
        } else if (strcmp(opt, "delack") == 0) {
            if (scn_is_word(P, 3, "on") || scn_is_word(P, 3, "off")) {
                c->delayed_ack = scn_is_word(P, 3, "on");
            } else {
                if (scn_tok_duration(P, 3, &c->delack_us) < 0)
                    return -1;
                c->delayed_ack = true;
            }
        } else if (strcmp(opt, "nagle") == 0) {
            if (parse_onoff(P, 3, &on) < 0)
                return -1;
            c->nagle = on;
        } else if (strcmp(opt, "cc") == 0) {
            /* newreno | cubic | off; "on" is NewReno, as before CUBIC */
            int algo = scn_is_word(P, 3, "on")        ? TCP_CC_NEWRENO
                       : scn_is_word(P, 3, "newreno") ? TCP_CC_NEWRENO
                       : scn_is_word(P, 3, "cubic")   ? TCP_CC_CUBIC
                                                      : -1;
            if (algo < 0 && !scn_is_word(P, 3, "off"))
                return scn_fail_tok(P, 3, "set HOST cc newreno, cubic or off",
                                    "unknown congestion control");
            c->congestion_control = algo >= 0;
            if (algo >= 0)
                c->cc_algo = (uint8_t)algo;
        } else if (strcmp(opt, "ts") == 0) {
            if (parse_onoff(P, 3, &on) < 0)
                return -1;
            c->timestamps = on;
        } else if (strcmp(opt, "sack") == 0) {
            if (parse_onoff(P, 3, &on) < 0)
                return -1;
            c->sack = on;
        } else if (strcmp(opt, "iw") == 0) {
            if (scn_tok_uint(P, 3, 64, &v) < 0)
                return -1;
            if (v < 1)
                return scn_fail_tok(P, 3, NULL, "the initial window is at least one segment");
            c->init_cwnd = (uint8_t)v;
        } else if (strcmp(opt, "wscale") == 0) {
            if (scn_is_word(P, 3, "off")) {
                c->window_scaling = false;
            } else {
                if (scn_tok_uint(P, 3, 14, &v) < 0)
                    return -1;
                c->window_scaling = true;
                c->wscale = (uint8_t)v;
            }
        } else if (strcmp(opt, "mss") == 0) {
            if (scn_tok_uint(P, 3, 65495, &v) < 0)
                return -1;
            if (v < 64)
                return scn_fail_tok(P, 3, NULL, "mss must be at least 64");
            c->mss = (uint16_t)v;
        } else if (strcmp(opt, "rcvbuf") == 0 || strcmp(opt, "sndbuf") == 0) {
            if (scn_tok_uint(P, 3, 1u << 30, &v) < 0)
                return -1;
            if (v < 1)
                return scn_fail_tok(P, 3, NULL, "a buffer needs at least one byte");
            if (opt[0] == 'r')
                c->rcvbuf = (uint32_t)v;
            else
                c->sndbuf = (uint32_t)v;
        } else if (strcmp(opt, "syncookies") == 0) {
            int mode = P->t[3].k == TK_WORD ? tcp_syncookies_parse(P->t[3].w) : -1;
            if (mode < 0)
                return scn_fail_tok(P, 3, "e.g. `set server syncookies always`",
                                    "syncookies is never, auto or always");
            c->syncookies = (enum tcp_syncookies)mode;
        } else if (strcmp(opt, "syn_retries") == 0 || strcmp(opt, "synack_retries") == 0 ||
                   strcmp(opt, "data_retries") == 0 || strcmp(opt, "keepcnt") == 0) {
            if (scn_tok_uint(P, 3, 255, &v) < 0)
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
            return scn_fail_tok(P, 2,
                                "options: msl mss rcvbuf sndbuf delack nagle wscale ts cc sack iw rto_initial "
                                "rto_min rto_max syn_retries synack_retries data_retries keepidle "
                                "keepintvl keepcnt syncookies",
                                "unknown option '%s'", opt);
        }
    }
    return scn_expect_end(P, 4);
}

/* ---- socket calls ----------------------------------------------------------- */

static int parse_as(struct parser *P, int i, int host, int *as)
{
    *as = -1;
    if (!scn_is_word(P, i, "as"))
        return i;
    if (i + 1 >= P->nt || P->t[i + 1].k != TK_WORD)
        return scn_fail_tok(P, i + 1, NULL, "expected a socket name after `as`");
    const char *w = P->t[i + 1].w;
    if (!scn_is_name_syntax(w))
        return scn_fail_tok(P, i + 1, "a name is a letter or _ then letters, digits or _",
                            "'%s' is not a valid socket name", w);
    if (scn_is_reserved(w))
        return scn_fail_tok(P, i + 1, "choose another name, e.g. conn1",
                            "'%s' is a keyword and cannot name a socket", w);
    if (scn_find_host(P->s, w) >= 0)
        return scn_fail_tok(P, i + 1, NULL, "'%s' is a host; name the socket differently", w);
    if (scn_find_sock(P->s, w) >= 0)
        return scn_fail_tok(P, i + 1, "each `as NAME` must give a new name",
                            "socket '%s' is already named", w);
    if (P->s->nsocks == SCN_MAX_SOCKNAMES)
        return scn_fail_tok(P, i + 1, NULL, "too many named sockets (at most %d)",
                            SCN_MAX_SOCKNAMES);
    struct scn_sockname *sn = &P->s->socks[P->s->nsocks];
    snprintf(sn->name, sizeof sn->name, "%.31s", w);
    sn->host = host;
    *as = (int)P->s->nsocks++;
    return i + 2;
}

static int parse_port_word(struct parser *P, int i, const char *w, uint16_t *port)
{
    uint64_t v;
    if (scn_parse_uint(P, i, w, 65535, &v) < 0)
        return -1;
    if (v == 0)
        return scn_fail_tok(P, i, "ports are 1 to 65535", "port 0 is not a port");
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
        {"sack", TCP_OPT_SACK, 'b'},
    };
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return scn_fail_tok(P, i, "e.g. `setsockopt keepalive 1`", "expected an option");
    size_t k = 0;
    while (k < sizeof opts / sizeof opts[0] && strcmp(opts[k].name, P->t[i].w))
        k++;
    if (k == sizeof opts / sizeof opts[0])
        return scn_fail_tok(
            P, i,
            "options: keepalive keepidle keepintvl keepcnt reuseaddr nodelay linger0 "
            "rcvbuf sndbuf delack user_timeout sack",
            "unknown socket option '%s'", P->t[i].w);
    st->u.call.opt = opts[k].opt;
    if (i + 1 >= P->nt || P->t[i + 1].k != TK_WORD)
        return scn_fail_tok(P, i + 1, NULL, "expected a value for %s", opts[k].name);
    const char *w = P->t[i + 1].w;
    uint64_t v;
    if (opts[k].kind == 's' || opts[k].kind == 'm') {
        bool plain = true;
        for (const char *c = w; *c; c++)
            if (*c < '0' || *c > '9')
                plain = false;
        if (plain) {
            if (scn_parse_uint(P, i + 1, w, 1000000, &v) < 0)
                return -1;
        } else {
            uint64_t us;
            if (scn_parse_duration_word(P, i + 1, w, &us) < 0)
                return -1;
            v = opts[k].kind == 's' ? (us + 999999) / 1000000 : (us + 999) / 1000;
        }
    } else if (opts[k].kind == 'b') {
        if (scn_parse_uint(P, i + 1, w, 1, &v) < 0)
            return -1;
    } else {
        if (scn_parse_uint(P, i + 1, w, 1u << 30, &v) < 0)
            return -1;
    }
    st->u.call.value = (long)v;
    return i + 2;
}

/* Calls whose word in the language is not the socket API's name (the rest
 * are tcp_call_name()'s: `connect`, `poll`, `getsockopt`, ...). */
static const struct {
    const char *word;
    enum tcp_call call;
} call_words[] = {
    {"nonblock", TCP_CALL_FCNTL}, /* fcntl(fd, F_SETFL, O_NONBLOCK) */
};

#define CALL_HINT                                                                                  \
    "calls: socket [udp] bind listen accept connect send recv sendto recvfrom shutdown close "     \
    "abort setsockopt getsockopt nonblock poll"

int scn_call_from_word(const char *w)
{
    for (size_t i = 0; i < sizeof call_words / sizeof call_words[0]; i++)
        if (strcmp(call_words[i].word, w) == 0)
            return (int)call_words[i].call;
    int c = scn_call_from_name(w);
    return c == TCP_CALL_FCNTL ? -1 : c; /* written `nonblock` */
}

/* The call word nearest to a misspelt one: the words scn_call_from_word
 * takes, for "did you mean". */
const char *scn_near_call(const char *w)
{
    const char *cands[TCP_NCALLS + sizeof call_words / sizeof call_words[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof call_words / sizeof call_words[0]; i++)
        cands[n++] = call_words[i].word;
    for (int c = 0; c < TCP_NCALLS; c++)
        if (scn_call_from_word(tcp_call_name((enum tcp_call)c)) == c)
            cands[n++] = tcp_call_name((enum tcp_call)c);
    return scn_suggest(w, cands, n);
}

/* poll(2)'s events as the language writes them: `in`, `out`, `err`, `hup`
 * joined by `|` (`in|out`). A call asks for in and out only (poll() always
 * reports err and hup); a result may name all four. */
int scn_parse_poll_events(struct parser *P, int i, bool result, unsigned *mask)
{
    static const struct {
        const char *w;
        unsigned bit;
    } names[] = {
        {"in", TCP_POLLIN}, {"out", TCP_POLLOUT}, {"err", TCP_POLLERR}, {"hup", TCP_POLLHUP}};
    const char *hint = result ? "e.g. `= out`, `= in` or `= out|err|hup`"
                              : "e.g. `poll in`, `poll out` or `poll in|out`";
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return scn_fail_tok(P, i, hint, "expected poll events");
    *mask = 0;
    const char *w = P->t[i].w;
    while (*w) {
        size_t n = strcspn(w, "|");
        size_t k = 0;
        while (k < sizeof names / sizeof names[0] &&
               (strlen(names[k].w) != n || strncmp(names[k].w, w, n)))
            k++;
        const char *at = P->t[i].p + (w - P->t[i].w); /* this event's column */
        if (k == sizeof names / sizeof names[0] || (!result && k > 1))
            return scn_fail_at(P, at, hint, "'%.*s' is not a poll event%s", (int)n, w,
                               result ? "" : " to ask for (in or out)");
        *mask |= names[k].bit;
        w += n;
        if (*w == '|' && *++w == 0)
            return scn_fail_at(P, at + n, hint, "a '|' must be followed by an event");
    }
    if (!*mask)
        return scn_fail_tok(P, i, hint, "expected poll events");
    return 0;
}

/* HOST:PORT or A.B.C.D:PORT after connect / sendto. */
static int parse_destination(struct parser *P, int i, struct scn_stmt *st, const char *verb)
{
    char hint[96];
    snprintf(hint, sizeof hint, "write the destination as HOST:PORT, e.g. `%s server:8080`", verb);
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return scn_fail_tok(P, i, hint, "expected a destination");
    char *w = P->t[i].w;
    char *colon = strrchr(w, ':');
    if (!colon)
        return scn_fail_tok(P, i, hint, "'%s' has no port", w);
    *colon = 0;
    int h = scn_find_host(P->s, w);
    if (h >= 0) {
        st->u.call.dst_host = h;
        st->u.call.dst_addr = P->s->hosts[h].addr;
    } else if (wire_addr_parse(w, &st->u.call.dst_addr) == 0) {
        st->u.call.dst_host = -1;
    } else {
        char dym[96];
        return scn_fail_tok(P, i, hint, "'%s' is neither a host nor an IPv4 address%s", w,
                            scn_did_you_mean(dym, sizeof dym, scn_near_name(P->s, w, false)));
    }
    if (h == st->u.call.tgt.host)
        return scn_fail_tok(P, i, NULL, "a host cannot %s to itself here", verb);
    return parse_port_word(P, i, colon + 1, &st->u.call.port);
}

int scn_parse_call(struct parser *P)
{
    char name[SCN_MAX_NAME + 2];
    size_t n = strlen(P->t[0].w);
    if (n < 2 || n - 1 >= SCN_MAX_NAME)
        return scn_fail_tok(P, 0, NULL, "expected a host or socket name before ':'");
    memcpy(name, P->t[0].w, n - 1);
    name[n - 1] = 0;
    struct scn_target tgt;
    if (scn_parse_target(P, 0, name, &tgt) < 0)
        return -1;
    if (P->nt < 2 || P->t[1].k != TK_WORD)
        return scn_fail_tok(P, 1, CALL_HINT, "expected a socket call after '%s:'", name);
    const char *cw = P->t[1].w;
    int call = scn_call_from_word(cw);
    char dym[96];
    if (call < 0)
        return scn_fail_tok(P, 1, CALL_HINT, "unknown socket call '%s'%s", cw,
                            scn_did_you_mean(dym, sizeof dym, scn_near_call(cw)));
    struct scn_stmt *st = scn_new_stmt(P, SCN_CALL);
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
        if (scn_is_word(P, i, "udp")) { /* socket(AF_INET, SOCK_DGRAM) */
            st->u.call.udp = true;
            i++;
        } else if (scn_is_word(P, i, "tcp")) {
            i++;
        }
        i = parse_as(P, i, tgt.host, &st->u.call.as_sock);
        break;
    case TCP_CALL_ACCEPT:
        i = parse_as(P, i, tgt.host, &st->u.call.as_sock);
        break;
    case TCP_CALL_BIND:
        if (i >= P->nt || P->t[i].k != TK_WORD)
            return scn_fail_tok(P, i, "e.g. `server: bind 8080`", "expected a port");
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
        if (scn_is_word(P, i, "backlog")) {
            if (scn_tok_uint(P, i + 1, 65535, &v) < 0)
                return -1;
            st->u.call.backlog = (int)v;
            i += 2;
        }
        i = parse_as(P, i, tgt.host, &st->u.call.as_sock);
        break;
    case TCP_CALL_CONNECT:
        if (parse_destination(P, i, st, "connect") < 0)
            return -1;
        i++;
        break;
    case TCP_CALL_SENDTO:
        if (parse_destination(P, i, st, "sendto") < 0)
            return -1;
        i++;
        __attribute__((fallthrough)); /* the data, as for send */
    case TCP_CALL_SEND:
        if (i < P->nt && P->t[i].k == TK_STRING) {
            st->u.call.data = scn_take_string(&P->t[i], &st->u.call.len);
            i++;
        } else if (i + 1 < P->nt && scn_is_word(P, i + 1, "bytes")) {
            if (scn_tok_uint(P, i, 100u << 20, &v) < 0)
                return -1;
            st->u.call.len = (size_t)v;
            i += 2;
        } else {
            return scn_fail_tok(P, i, "e.g. `send \"hello\"` or `send 3000 bytes`",
                                "expected the data to send");
        }
        break;
    case TCP_CALL_RECV:
    case TCP_CALL_RECVFROM:
        st->u.call.len = 65536;
        if (i < P->nt) {
            if (scn_tok_uint(P, i, 1u << 24, &v) < 0)
                return -1;
            if (v == 0)
                return scn_fail_tok(P, i, NULL, "recv of 0 bytes reads nothing");
            st->u.call.len = (size_t)v;
            i++;
        }
        break;
    case TCP_CALL_SHUTDOWN:
        if (scn_is_word(P, i, "rd"))
            st->u.call.how = TCP_SHUT_RD;
        else if (scn_is_word(P, i, "wr"))
            st->u.call.how = TCP_SHUT_WR;
        else if (scn_is_word(P, i, "rdwr"))
            st->u.call.how = TCP_SHUT_RDWR;
        else
            return scn_fail_tok(P, i, "write `shutdown rd`, `shutdown wr` or `shutdown rdwr`",
                                "expected rd, wr or rdwr");
        i++;
        break;
    case TCP_CALL_SETSOCKOPT:
        i = parse_sockopt(P, st, i);
        break;
    case TCP_CALL_GETSOCKOPT:
        if (!scn_is_word(P, i, "SO_ERROR"))
            return scn_fail_tok(P, i, "write `getsockopt SO_ERROR`",
                                "getsockopt reads one option here: SO_ERROR");
        i++;
        break;
    case TCP_CALL_POLL: {
        unsigned mask;
        if (scn_parse_poll_events(P, i, false, &mask) < 0)
            return -1;
        st->u.call.value = (long)mask;
        i++;
        break;
    }
    default:
        break;
    }
    if (i < 0)
        return -1;
    return scn_expect_end(P, i);
}

/* ---- network statements ------------------------------------------------------ */

/* Optional FLAGS or `data` after a direction. */
static int parse_netmatch_tail(struct parser *P, int i, struct scn_netmatch *m)
{
    m->any_flags = true;
    if (scn_is_word(P, i, "data")) {
        m->data = true;
        return i + 1;
    }
    if (i < P->nt && P->t[i].k == TK_WORD && scn_looks_like_flags(P->t[i].w)) {
        bool any;
        if (scn_parse_flags(P, i, false, &any, &m->flags) < 0)
            return -1;
        m->any_flags = false;
        return i + 1;
    }
    return i;
}

static int parse_dir_or_both(struct parser *P, int i, int *from, int *to)
{
    if (scn_is_word(P, i, "both")) {
        *from = *to = -1;
        return i + 1;
    }
    if (scn_parse_dir(P, i, from, to) < 0)
        return -1;
    return i + 3;
}

int scn_parse_count_rule(struct parser *P, enum scn_kind kind)
{
    const char *verb = P->t[0].w;
    if (!scn_is_word(P, 1, "next"))
        return scn_fail_tok(P, 1, "e.g. `drop next server -> client F.`",
                            "expected `next` after `%s`", verb);
    struct scn_stmt *st = scn_new_stmt(P, kind);
    if (!st)
        return -1;
    st->u.net.count = 1;
    st->u.net.dur_us = 1000000;
    int i = 2;
    if (kind != SCN_REORDER && i < P->nt && P->t[i].k == TK_WORD && P->t[i].w[0] >= '0' &&
        P->t[i].w[0] <= '9') {
        uint64_t v;
        if (scn_tok_uint(P, i, 1000000, &v) < 0)
            return -1;
        if (v == 0)
            return scn_fail_tok(P, i, NULL, "a count of 0 does nothing");
        st->u.net.count = (unsigned)v;
        i++;
    }
    i = parse_dir_or_both(P, i, &st->u.net.m.from, &st->u.net.m.to);
    if (i < 0)
        return -1;
    i = parse_netmatch_tail(P, i, &st->u.net.m);
    if (i < 0)
        return -1;
    if (kind == SCN_REORDER && scn_is_word(P, i, "by")) {
        /* `by N`: N packets overtake it (count is unused for reorder) */
        uint64_t v;
        if (scn_tok_uint(P, i + 1, 64, &v) < 0)
            return -1;
        if (v == 0)
            return scn_fail_tok(P, i + 1, "e.g. `reorder next client -> server data by 3`",
                                "nothing overtakes a packet reordered by 0");
        st->u.net.count = (unsigned)v;
        i += 2;
    }
    if (kind == SCN_REORDER && scn_is_word(P, i, "hold")) {
        if (scn_tok_duration(P, i + 1, &st->u.net.dur_us) < 0)
            return -1;
        i += 2;
    }
    return scn_expect_end(P, i);
}

int scn_parse_loss(struct parser *P)
{
    double p;
    const char *hint = "e.g. `loss 0.3 both` or `loss 0.1 client -> server`";
    if (P->nt < 2 || P->t[1].k != TK_WORD)
        return scn_fail_tok(P, 1, hint, "expected a probability");
    size_t n = scn_scan_decimal(P->t[1].w, &p);
    if (n == 0 || P->t[1].w[n] != 0)
        return scn_fail_tok(P, 1, hint, "'%s' is not a probability", P->t[1].w);
    if (p > 1)
        return scn_fail_tok(P, 1, "a probability is between 0 and 1", "probability %s is above 1",
                            P->t[1].w);
    struct scn_stmt *st = scn_new_stmt(P, SCN_LOSS);
    if (!st)
        return -1;
    st->u.net.p = p;
    int i = parse_dir_or_both(P, 2, &st->u.net.m.from, &st->u.net.m.to);
    if (i < 0)
        return -1;
    return scn_expect_end(P, i);
}

int scn_parse_delay(struct parser *P)
{
    struct scn_stmt *st = scn_new_stmt(P, SCN_DELAY);
    if (!st)
        return -1;
    int i = parse_dir_or_both(P, 1, &st->u.net.m.from, &st->u.net.m.to);
    if (i < 0)
        return -1;
    if (scn_tok_duration(P, i, &st->u.net.dur_us) < 0)
        return -1;
    return scn_expect_end(P, i + 1);
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
            return scn_fail_tok(P, i, hint, "unexpected '%s'", r);
        uint64_t v;
        if (scn_parse_uint(P, i, r + 1, 0xFFFFFFFFull, &v) < 0)
            return -1;
        out->v = *r == '+' ? (int64_t)v : -(int64_t)v;
        return 0;
    }
    if (*val == '+')
        val++;
    uint64_t v;
    if (scn_parse_uint(P, i, val, 0xFFFFFFFFull, &v) < 0)
        return -1;
    out->from_next = false;
    out->v = (int64_t)v;
    return 0;
}

int scn_parse_inject(struct parser *P)
{
    struct scn_stmt *st = scn_new_stmt(P, SCN_INJECT);
    if (!st)
        return -1;
    if (scn_parse_dir(P, 1, &st->u.inject.from, &st->u.inject.to) < 0)
        return -1;
    bool any;
    if (scn_parse_flags(P, 4, false, &any, &st->u.inject.flags) < 0)
        return -1;
    st->u.inject.win = -1;
    bool have_len = false;
    for (int i = 5; i < P->nt; i++) {
        if (P->t[i].k == TK_STRING) {
            if (have_len)
                return scn_fail_tok(P, i, NULL, "the payload is given twice");
            st->u.inject.data = scn_take_string(&P->t[i], &st->u.inject.len);
            have_len = true;
            continue;
        }
        if (P->t[i].k != TK_WORD)
            return scn_fail_tok(P, i, NULL, "unexpected '->'");
        if (scn_is_word(P, i, "badsum")) {
            st->u.inject.badsum = true;
            continue;
        }
        char key[16];
        enum scn_op op;
        const char *val;
        if (scn_split_field(P, i, key, sizeof key, &op, &val) < 0)
            return -1;
        if (op != SCN_OP_EQ)
            return scn_fail_tok(P, i, "inject fields are key=value", "'%s' needs '='", key);
        uint64_t v;
        if (strcmp(key, "seq") == 0 || strcmp(key, "ack") == 0) {
            bool *set = key[0] == 's' ? &st->u.inject.seq_set : &st->u.inject.ack_set;
            if (*set)
                return scn_fail_tok(P, i, NULL, "%s written twice", key);
            *set = true;
            if (parse_injnum(P, i, val, key[0] == 's' ? &st->u.inject.seq : &st->u.inject.ack) < 0)
                return -1;
        } else if (strcmp(key, "tsval") == 0) {
            if (st->u.inject.tsval_set)
                return scn_fail_tok(P, i, NULL, "tsval written twice");
            st->u.inject.tsval_set = true;
            if (parse_injnum(P, i, val, &st->u.inject.tsval) < 0)
                return -1;
        } else if (strcmp(key, "win") == 0) {
            if (scn_parse_uint(P, i, val, 65535, &v) < 0)
                return -1;
            st->u.inject.win = (int64_t)v;
        } else if (strcmp(key, "len") == 0) {
            if (have_len)
                return scn_fail_tok(P, i, NULL, "the payload is given twice");
            if (scn_parse_uint(P, i, val, 1400, &v) < 0)
                return -1;
            st->u.inject.len = (size_t)v;
            have_len = true;
        } else {
            return scn_fail_tok(P, i, "inject fields: seq= ack= win= len= tsval= \"data\" badsum",
                                "unknown inject field '%s'", key);
        }
    }
    return 0;
}

/* ---- time and narration ------------------------------------------------------- */

int scn_parse_state_name(struct parser *P, int i, enum tcp_state *out)
{
    const char *hint = "states: CLOSED LISTEN SYN_SENT SYN_RECEIVED ESTABLISHED FIN_WAIT_1 "
                       "FIN_WAIT_2 CLOSE_WAIT CLOSING LAST_ACK TIME_WAIT";
    if (i >= P->nt || P->t[i].k != TK_WORD)
        return scn_fail_tok(P, i, hint, "expected a state name");
    int st = tcp_state_from_name(P->t[i].w);
    char dym[96];
    if (st < 0 || st >= TCP_NSTATES)
        return scn_fail_tok(P, i, hint, "unknown state '%s'%s", P->t[i].w,
                            scn_did_you_mean(dym, sizeof dym, scn_near_state(P->t[i].w)));
    *out = (enum tcp_state)st;
    return 0;
}

int scn_parse_wait(struct parser *P)
{
    if (scn_is_word(P, 1, "until")) {
        struct scn_stmt *st = scn_new_stmt(P, SCN_WAIT_UNTIL);
        if (!st)
            return -1;
        if (P->nt < 3 || P->t[2].k != TK_WORD)
            return scn_fail_tok(P, 2, "e.g. `wait until client state TIME_WAIT`",
                                "expected a host or socket");
        if (scn_parse_target(P, 2, P->t[2].w, &st->u.time.tgt) < 0)
            return -1;
        if (!scn_is_word(P, 3, "state"))
            return scn_fail_tok(P, 3, "e.g. `wait until client state TIME_WAIT`",
                                "expected `state`");
        if (scn_parse_state_name(P, 4, &st->u.time.state) < 0)
            return -1;
        int i = scn_opt_timeout(P, 5, st);
        if (i < 0)
            return -1;
        return scn_expect_end(P, i);
    }
    struct scn_stmt *st = scn_new_stmt(P, SCN_WAIT);
    if (!st)
        return -1;
    if (scn_tok_duration(P, 1, &st->u.time.dur_us) < 0)
        return -1;
    return scn_expect_end(P, 2);
}

static int append_text(struct parser *P, char **dst, const uint8_t *s, size_t n)
{
    size_t old = *dst ? strlen(*dst) : 0;
    char *c = realloc(*dst, old + n + 2);
    if (!c)
        return scn_fail_at(P, NULL, NULL, "out of memory");
    if (old)
        c[old++] = '\n';
    memcpy(c + old, s, n);
    c[old + n] = 0;
    *dst = c;
    return 0;
}

int scn_parse_say(struct parser *P)
{
    bool en = scn_is_word(P, 1, "en"), zh = scn_is_word(P, 1, "zh");
    if (!en && !zh)
        return scn_fail_tok(P, 1, "write `say en \"...\"` or `say zh \"...\"`",
                            "expected a language, en or zh");
    if (P->nt < 3 || P->t[2].k != TK_STRING)
        return scn_fail_tok(P, 2, "put the narration in double quotes",
                            "expected the narration as a string");
    if (!scn_valid_utf8(P->t[2].s, P->t[2].slen) || memchr(P->t[2].s, 0, P->t[2].slen))
        return scn_fail_tok(P, 2, "save the file as UTF-8 and avoid control characters",
                            "the narration is not valid UTF-8 text");
    char **dst;
    if (P->s->nstmts)
        dst = en ? &P->s->stmts[P->s->nstmts - 1].say_en : &P->s->stmts[P->s->nstmts - 1].say_zh;
    else
        dst = en ? &P->s->intro_en : &P->s->intro_zh;
    if (append_text(P, dst, P->t[2].s, P->t[2].slen) < 0)
        return -1;
    return scn_expect_end(P, 3);
}
