/*
 * scn_parse_expect.c — the scenario parser's `expect` statements: segments,
 * nothing, states, queues, call results and drops (docs/scenarios.md
 * "Expectations"), read into the struct scn_stmt the runner's
 * scn_run_expect.c checks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_parser.h"

/* ---- expectations ----------------------------------------------------------------- */

static int parse_cmp(struct parser *P, int i, const char *key, enum scn_op op, const char *val,
                     bool allow_plus, uint64_t max, struct scn_cmp *out)
{
    if (out->op != SCN_OP_NONE)
        return scn_fail_tok(P, i, NULL, "%s is checked twice", key);
    if (op == SCN_OP_NONE)
        return scn_fail_tok(P, i, "e.g. seq=1, win>0, len>=100",
                            "'%s' needs a comparison and a value", key);
    if (allow_plus && *val == '+')
        val++;
    uint64_t v;
    if (scn_parse_uint(P, i, val, max, &v) < 0)
        return -1;
    out->op = op;
    out->v = (int64_t)v;
    return 0;
}

static int parse_optval(struct parser *P, int i, const char *key, enum scn_op op, const char *val,
                        int *out, bool numeric, uint64_t max)
{
    if (*out != -1)
        return scn_fail_tok(P, i, NULL, "%s is checked twice", key);
    if (op != SCN_OP_EQ)
        return scn_fail_tok(P, i, NULL, "'%s' is checked with '=' only", key);
    if (numeric) {
        if (strcmp(val, "none") == 0) {
            *out = -2;
            return 0;
        }
        uint64_t v;
        if (scn_parse_uint(P, i, val, max, &v) < 0)
            return -1;
        *out = (int)v;
        return 0;
    }
    if (strcmp(val, "yes") == 0)
        *out = 1;
    else if (strcmp(val, "no") == 0)
        *out = 0;
    else
        return scn_fail_tok(P, i, NULL, "%s is yes or no", key);
    return 0;
}

static int parse_expect_seg(struct parser *P, struct scn_stmt *st)
{
    struct scn_segspec *sp = &st->u.seg;
    sp->mss = sp->wscale = sp->sackok = sp->ts = sp->rtx = -1;
    sp->gap_us = sp->t_us = -1;
    if (scn_parse_dir(P, 1, &sp->from, &sp->to) < 0)
        return -1;
    if (scn_is_word(P, 4, "udp")) {
        /* A datagram: only its length, payload and times can be checked. */
        sp->udp = true;
        sp->any_flags = true;
    } else if (scn_parse_flags(P, 4, true, &sp->any_flags, &sp->flags) < 0) {
        return -1;
    }
    for (int i = 5; i < P->nt; i++) {
        if (P->t[i].k == TK_STRING) {
            if (sp->payload_set)
                return scn_fail_tok(P, i, NULL, "the payload is checked twice");
            sp->payload = scn_take_string(&P->t[i], &sp->payload_len);
            sp->payload_set = true;
            continue;
        }
        if (P->t[i].k != TK_WORD)
            return scn_fail_tok(P, i, NULL, "unexpected '->'");
        if (scn_is_word(P, i, "timeout")) {
            int j = scn_opt_timeout(P, i, st);
            if (j < 0)
                return -1;
            return scn_expect_end(P, j);
        }
        char key[16];
        enum scn_op op;
        const char *val;
        if (scn_split_field(P, i, key, sizeof key, &op, &val) < 0)
            return -1;
        int r;
        if (sp->udp && strcmp(key, "len") && strcmp(key, "gap") && strcmp(key, "t"))
            return scn_fail_tok(P, i, "a datagram has len=, gap=, t= and a \"payload\"",
                                "UDP has no '%s'", key);
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
                return scn_fail_tok(P, i, NULL, "%s is checked twice", key);
            if (op != SCN_OP_EQ)
                return scn_fail_tok(P, i, NULL, "'%s' is checked with '=' only", key);
            uint64_t us;
            if (scn_parse_duration_word(P, i, val, &us) < 0)
                return -1;
            *dst = (int64_t)us;
            r = 0;
        } else
            return scn_fail_tok(
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
        return scn_fail_tok(P, i, hint, "expected a value after '='");
    if (P->t[i].k == TK_STRING) {
        st->u.ecall.vk = SCN_VAL_BYTES;
        st->u.ecall.bytes = scn_take_string(&P->t[i], &st->u.ecall.nbytes);
        return i + 1;
    }
    if (P->t[i].k != TK_WORD)
        return scn_fail_tok(P, i, hint, "expected a value");
    const char *w = P->t[i].w;
    if (strcmp(w, "ok") == 0) {
        st->u.ecall.vk = SCN_VAL_OK;
        return i + 1;
    }
    if (strcmp(w, "blocked") == 0) {
        st->u.ecall.vk = SCN_VAL_BLOCKED;
        return i + 1;
    }
    if (st->u.ecall.call == TCP_CALL_POLL) {
        /* poll's result is the set of ready events (revents). */
        unsigned mask;
        if (scn_parse_poll_events(P, i, true, &mask) < 0)
            return -1;
        st->u.ecall.vk = SCN_VAL_INT;
        st->u.ecall.v = (int64_t)mask;
        return i + 1;
    }
    if (w[0] == 'E' && w[1] >= 'A' && w[1] <= 'Z') {
        int e = scn_errno_from_name(w);
        if (!e)
            return scn_fail_tok(P, i, "e.g. ECONNREFUSED, ECONNRESET, ETIMEDOUT, EADDRINUSE, EPIPE",
                                "unknown error name '%s'", w);
        st->u.ecall.vk = SCN_VAL_ERRNO;
        st->u.ecall.v = -e;
        return i + 1;
    }
    uint64_t v;
    if (scn_parse_uint(P, i, w, 1u << 30, &v) < 0)
        return -1;
    st->u.ecall.vk = SCN_VAL_INT;
    st->u.ecall.v = (int64_t)v;
    if (scn_is_word(P, i + 1, "bytes"))
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

int scn_parse_expect(struct parser *P)
{
    if (P->nt < 2 || P->t[1].k != TK_WORD)
        return scn_fail_tok(P, 1,
                            "e.g. `expect client -> server S` or `expect client state SYN_SENT`",
                            "expected what to expect");
    if (scn_is_word(P, 1, "nothing")) {
        struct scn_stmt *st = scn_new_stmt(P, SCN_EXPECT_NOTHING);
        if (!st)
            return -1;
        st->u.time.from = st->u.time.to = -1;
        int i = 2;
        if (!scn_is_word(P, i, "for")) {
            if (scn_parse_dir(P, i, &st->u.time.from, &st->u.time.to) < 0)
                return -1;
            i += 3;
        }
        if (!scn_is_word(P, i, "for"))
            return scn_fail_tok(P, i, "e.g. `expect nothing server -> client for 1s`",
                                "expected `for DURATION`");
        if (scn_tok_duration(P, i + 1, &st->u.time.dur_us) < 0)
            return -1;
        return scn_expect_end(P, i + 2);
    }
    if (scn_is_word(P, 1, "drop")) {
        struct scn_stmt *st = scn_new_stmt(P, SCN_EXPECT_DROP);
        if (!st)
            return -1;
        if (scn_parse_host(P, 2, &st->u.edrop.host) < 0)
            return -1;
        if (P->nt < 4 || P->t[3].k != TK_WORD)
            return scn_fail_tok(P, 3, "e.g. `expect drop server bad_checksum`",
                                "expected a drop reason");
        st->u.edrop.reason = reason_from_name(P->t[3].w);
        if (!st->u.edrop.reason)
            return scn_fail_tok(P, 3,
                                "reasons as in the trace: bad_checksum, rst_challenged, "
                                "backlog_full, unacceptable_segment, ...",
                                "unknown drop reason '%s'", P->t[3].w);
        int i = scn_opt_timeout(P, 4, st);
        if (i < 0)
            return -1;
        return scn_expect_end(P, i);
    }
    if (P->nt > 2 && P->t[2].k == TK_ARROW) {
        struct scn_stmt *st = scn_new_stmt(P, SCN_EXPECT_SEG);
        if (!st)
            return -1;
        return parse_expect_seg(P, st);
    }
    struct scn_target tgt;
    if (scn_parse_target(P, 1, P->t[1].w, &tgt) < 0)
        return -1;
    if (scn_is_word(P, 2, "state")) {
        struct scn_stmt *st = scn_new_stmt(P, SCN_EXPECT_STATE);
        if (!st)
            return -1;
        st->u.time.tgt = tgt;
        if (scn_parse_state_name(P, 3, &st->u.time.state) < 0)
            return -1;
        int i = scn_opt_timeout(P, 4, st);
        if (i < 0)
            return -1;
        return scn_expect_end(P, i);
    }
    if (scn_is_word(P, 2, "queue")) {
        struct scn_stmt *st = scn_new_stmt(P, SCN_EXPECT_QUEUE);
        if (!st)
            return -1;
        st->u.queue.tgt = tgt;
        st->u.queue.syn = st->u.queue.accept = SCN_NO_VALUE;
        if (P->nt < 4)
            return scn_fail_tok(P, 3, "e.g. `expect server queue syn=1 accept=2`",
                                "expected syn=N and/or accept=N");
        for (int i = 3; i < P->nt; i++) {
            char key[16];
            enum scn_op op;
            const char *val;
            if (scn_is_word(P, i, "timeout") && i > 3) {
                int j = scn_opt_timeout(P, i, st);
                return j < 0 ? -1 : scn_expect_end(P, j);
            }
            if (P->t[i].k != TK_WORD || scn_split_field(P, i, key, sizeof key, &op, &val) < 0)
                return scn_fail_tok(P, i, "e.g. `expect server queue syn=1 accept=2`",
                                    "expected syn=N or accept=N");
            int64_t *dst;
            if (strcmp(key, "syn") == 0)
                dst = &st->u.queue.syn;
            else if (strcmp(key, "accept") == 0)
                dst = &st->u.queue.accept;
            else
                return scn_fail_tok(P, i, "e.g. `expect server queue syn=1 accept=2`",
                                    "unknown queue '%s'", key);
            if (op != SCN_OP_EQ || *dst != SCN_NO_VALUE)
                return scn_fail_tok(P, i, NULL, "write %s=N once", key);
            uint64_t v;
            if (scn_parse_uint(P, i, val, 65535, &v) < 0)
                return -1;
            *dst = (int64_t)v;
        }
        return 0;
    }
    int call = P->nt > 2 && P->t[2].k == TK_WORD ? scn_call_from_word(P->t[2].w) : -1;
    if (call < 0)
        return scn_fail_tok(P, 2,
                            "after the host: `-> HOST FLAGS`, `state STATE`, `queue ...` or a call "
                            "name and `= VALUE`",
                            "expected a direction, `state`, `queue` or a call name");
    struct scn_stmt *st = scn_new_stmt(P, SCN_EXPECT_CALL);
    if (!st)
        return -1;
    st->u.ecall.tgt = tgt;
    st->u.ecall.call = (enum tcp_call)call;
    if (!scn_is_word(P, 3, "="))
        return scn_fail_tok(P, 3, "e.g. `expect client connect = ECONNREFUSED`",
                            "expected '=' and a value (with spaces around '=')");
    int i = parse_callvalue(P, 4, st);
    if (i < 0)
        return -1;
    i = scn_opt_timeout(P, i, st);
    if (i < 0)
        return -1;
    return scn_expect_end(P, i);
}
