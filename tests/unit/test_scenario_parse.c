/*
 * test_scenario_parse.c — the .tcps parser (docs/scenarios.md): what a file
 * means once read (hosts and their addresses, profiles, steps, narration,
 * named sockets, segment fields), and how it reports a mistake: the right
 * line and column, a message and a hint, and never a crash on any input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario.h"
#include "scn_internal.h"

static struct scn *parse(const char *text, struct scn_error *err)
{
    return scn_parse_string("t.tcps", text, strlen(text), err);
}

/* Parse text that must be wrong; check where and what. */
static void assert_error(const char *text, int line, int col, const char *part)
{
    struct scn_error err;
    struct scn *s = parse(text, &err);
    if (s) {
        scn_free(s);
        fail_msg("parsed without an error:\n%s", text);
    }
    if (err.line != line || err.col != col || !strstr(err.msg, part))
        fail_msg("got %d:%d: %s, expected %d:%d: ...%s...", err.line, err.col, err.msg, line, col,
                 part);
    assert_true(err.hint[0] != '\0');
    assert_string_equal(err.file, "t.tcps");
}

#define HOSTS "hosts client=stack server=peer\n"

static void test_handshake_example_reads_as_steps_with_narration(void **state)
{
    (void)state;
    struct scn_error err;
    struct scn *s = parse("title en \"Three-way handshake\"\n"
                          "title zh \"三次握手\"\n" HOSTS "server: listen 8080 backlog 4\n"
                          "client: connect server:8080\n"
                          "  say en \"The client sends SYN.\"\n"
                          "  say zh \"客户端发送 SYN。\"\n"
                          "expect client -> server S   # exactly SYN\n"
                          "expect server -> client S. ack=+1\n"
                          "expect client state ESTABLISHED\n",
                          &err);
    assert_non_null(s);
    assert_string_equal(scn_title(s, "en"), "Three-way handshake");
    assert_string_equal(scn_title(s, "zh"), "三次握手");
    assert_int_equal(s->nhosts, 2);
    assert_int_equal(s->nstmts, 5);
    const struct scn_stmt *listen = &s->stmts[0], *connect = &s->stmts[1];
    assert_int_equal(listen->kind, SCN_CALL);
    assert_int_equal(listen->u.call.call, TCP_CALL_LISTEN);
    assert_int_equal(listen->u.call.port, 8080);
    assert_int_equal(listen->u.call.backlog, 4);
    assert_int_equal(connect->line, 5);
    assert_string_equal(connect->text, "client: connect server:8080");
    assert_int_equal(connect->u.call.dst_host, 1);
    assert_string_equal(connect->say_en, "The client sends SYN.");
    assert_string_equal(connect->say_zh, "客户端发送 SYN。");
    assert_null(listen->say_en);
    const struct scn_stmt *syn = &s->stmts[2];
    assert_int_equal(syn->kind, SCN_EXPECT_SEG);
    assert_string_equal(syn->text, "expect client -> server S"); /* comment not included */
    assert_false(syn->u.seg.any_flags);
    assert_int_equal(syn->u.seg.flags, TCP_SYN);
    const struct scn_stmt *synack = &s->stmts[3];
    assert_int_equal(synack->u.seg.flags, TCP_SYN | TCP_ACK);
    assert_int_equal(synack->u.seg.ack.op, SCN_OP_EQ);
    assert_int_equal(synack->u.seg.ack.v, 1);
    assert_int_equal(synack->u.seg.seq.op, SCN_OP_NONE); /* unwritten: unchecked */
    assert_int_equal(synack->u.seg.mss, -1);
    assert_int_equal(s->stmts[4].u.time.state, TCP_ESTABLISHED);
    scn_free(s);
}

static void test_narration_before_the_first_step_goes_to_the_first_step(void **state)
{
    (void)state;
    struct scn *s = parse(HOSTS "say en \"Intro.\"\nserver: listen 80\nsay en \"After.\"\n", NULL);
    assert_non_null(s);
    assert_int_equal(s->nstmts, 1);
    assert_string_equal(s->stmts[0].say_en, "Intro.\nAfter.");
    scn_free(s);
}

static void test_hosts_get_default_addresses_by_role_then_in_order(void **state)
{
    (void)state;
    struct scn *s = parse("hosts server=stack a=peer b=peer c=stack@10.7.0.9\n", NULL);
    assert_non_null(s);
    assert_int_equal(s->hosts[0].addr, 0x0A070002); /* first stack */
    assert_int_equal(s->hosts[1].addr, 0x0A070001); /* first peer */
    assert_int_equal(s->hosts[2].addr, 0x0A070003);
    assert_int_equal(s->hosts[3].addr, 0x0A070009);
    assert_int_equal(s->hosts[1].role, SCN_ROLE_PEER);
    scn_free(s);
}

static void test_profiles_and_set_configure_the_hosts(void **state)
{
    (void)state;
    struct scn *s = parse(HOSTS "profile server linux\nset client msl 7s\nset all mss 536\n"
                                "set peer delack off\nset link latency 2ms\n"
                                "wait 2msl\n",
                          NULL);
    assert_non_null(s);
    const struct stack_config *c = &s->hosts[0].cfg, *p = &s->hosts[1].cfg;
    assert_false(c->window_scaling); /* teaching by default */
    assert_false(c->delayed_ack);
    assert_int_equal(c->msl_us, 7000000);
    assert_true(p->window_scaling);
    assert_int_equal(p->rto_min_us, 200000);
    assert_false(p->delayed_ack); /* set after the profile wins */
    assert_int_equal(c->mss, 536);
    assert_int_equal(p->mss, 536);
    assert_int_equal(s->latency_us, 2000);
    /* msl as a unit is the stack host's */
    assert_int_equal(s->stmts[0].u.time.dur_us, 14000000);
    scn_free(s);
}

static void test_as_names_a_socket_for_later_calls(void **state)
{
    (void)state;
    struct scn *s = parse(HOSTS "server: listen 80 as lsock\nserver: accept as conn1\n"
                                "conn1: recv 10\nexpect conn1 recv = \"hi\\n\"\n"
                                "expect lsock state LISTEN\n",
                          NULL);
    assert_non_null(s);
    assert_int_equal(s->nsocks, 2);
    const struct scn_stmt *recv = &s->stmts[2];
    assert_int_equal(recv->u.call.tgt.host, 1); /* the server's socket */
    assert_int_equal(recv->u.call.tgt.sock, 1);
    assert_int_equal(recv->u.call.len, 10);
    const struct scn_stmt *e = &s->stmts[3];
    assert_int_equal(e->u.ecall.vk, SCN_VAL_BYTES);
    assert_int_equal(e->u.ecall.nbytes, 3);
    assert_memory_equal(e->u.ecall.bytes, "hi\n", 3);
    scn_free(s);
}

static void test_segment_fields_take_comparisons_and_options(void **state)
{
    (void)state;
    struct scn *s = parse(HOSTS "expect server -> client . win>0 len>=10 seq!=5 mss=none "
                                "wscale=7 rtx=yes gap=1.5s \"abc\" timeout 5s\n"
                                "expect client -> server * t=100ms\n",
                          NULL);
    assert_non_null(s);
    const struct scn_segspec *sp = &s->stmts[0].u.seg;
    assert_int_equal(sp->win.op, SCN_OP_GT);
    assert_int_equal(sp->len.op, SCN_OP_GE);
    assert_int_equal(sp->len.v, 10);
    assert_int_equal(sp->seq.op, SCN_OP_NE);
    assert_int_equal(sp->mss, -2);
    assert_int_equal(sp->wscale, 7);
    assert_int_equal(sp->rtx, 1);
    assert_int_equal(sp->gap_us, 1500000);
    assert_true(sp->payload_set);
    assert_int_equal(sp->payload_len, 3);
    assert_int_equal(s->stmts[0].timeout_us, 5000000);
    assert_true(s->stmts[1].u.seg.any_flags);
    assert_int_equal(s->stmts[1].u.seg.t_us, 100000);
    scn_free(s);
}

static void test_call_results_name_errors_and_values(void **state)
{
    (void)state;
    struct scn *s = parse(HOSTS "expect client connect = ECONNREFUSED\nexpect server recv = 0\n"
                                "expect server accept = blocked\nexpect client send = 3000 bytes\n",
                          NULL);
    assert_non_null(s);
    assert_int_equal(s->stmts[0].u.ecall.vk, SCN_VAL_ERRNO);
    assert_int_equal(s->stmts[0].u.ecall.v, -ECONNREFUSED);
    assert_int_equal(s->stmts[1].u.ecall.vk, SCN_VAL_INT);
    assert_int_equal(s->stmts[1].u.ecall.v, 0);
    assert_int_equal(s->stmts[2].u.ecall.vk, SCN_VAL_BLOCKED);
    assert_int_equal(s->stmts[3].u.ecall.v, 3000);
    scn_free(s);
}

static void test_network_statements_read_directions_and_counts(void **state)
{
    (void)state;
    struct scn *s = parse(HOSTS "drop next 3 client -> server S\nloss 0.25 both\n"
                                "delay server->client 100ms\nduplicate next client -> server data\n"
                                "reorder next server -> client F. hold 2s\ncut\nrestore\n",
                          NULL);
    assert_non_null(s);
    assert_int_equal(s->stmts[0].u.net.count, 3);
    assert_int_equal(s->stmts[0].u.net.m.from, 0);
    assert_int_equal(s->stmts[0].u.net.m.flags, TCP_SYN);
    assert_true(s->stmts[1].u.net.m.from < 0);
    assert_true(s->stmts[1].u.net.p > 0.24 && s->stmts[1].u.net.p < 0.26);
    assert_int_equal(s->stmts[2].u.net.m.from, 1); /* no spaces around -> */
    assert_int_equal(s->stmts[2].u.net.dur_us, 100000);
    assert_true(s->stmts[3].u.net.m.data);
    assert_int_equal(s->stmts[4].u.net.dur_us, 2000000);
    assert_int_equal(s->stmts[5].kind, SCN_CUT);
    assert_int_equal(s->stmts[6].kind, SCN_RESTORE);
    scn_free(s);
}

static void test_errors_point_at_line_and_column(void **state)
{
    (void)state;
    assert_error(HOSTS "expect client -> server SX\n", 2, 26, "unknown flag letter 'X'");
    assert_error(HOSTS "server: listen 80\nset client msl 5s\n", 3, 1,
                 "must come before the first step");
    assert_error(HOSTS "clinet: close\n", 2, 1, "unknown host or socket 'clinet'");
    assert_error(HOSTS "client: send \"oops\n", 2, 14, "unterminated string");
    assert_error("server: listen 80\n", 1, 1, "no hosts declared");
    assert_error(HOSTS "wait 200\n", 2, 6, "has no unit");
    assert_error(HOSTS "wait 2 s\n", 2, 6, "has no unit");
    assert_error(HOSTS "expect client state TIMEWAIT\n", 2, 21, "unknown state");
    assert_error(HOSTS "expect client -> server S ack\n", 2, 27, "needs a comparison");
    assert_error(HOSTS "expect client -> server S ack=1 ack=2\n", 2, 33, "checked twice");
    assert_error(HOSTS "client: connect server\n", 2, 17, "has no port");
    assert_error(HOSTS "client: connect server:70000\n", 2, 17, "too large");
    assert_error(HOSTS "client close\n", 2, 1, "needs a ':'");
    assert_error("hosts client=stack client=peer\n", 1, 20, "declared twice");
    assert_error("hosts client=stack server=router\n", 1, 27, "unknown role");
    assert_error("hosts client=stack\n", 1, 19, "at least two hosts");
    assert_error(HOSTS "say fr \"bonjour\"\n", 2, 5, "expected a language");
    assert_error(HOSTS "client: socket as server\n", 2, 19, "is a host");
    assert_error(HOSTS "expect client connect ECONNREFUSED\n", 2, 23, "expected '='");
    assert_error(HOSTS "expect client connect = ECONNREFUSE\n", 2, 25, "unknown error name");
    assert_error(HOSTS "expect drop server bad_chksum\n", 2, 20, "unknown drop reason");
    assert_error(HOSTS "frobnicate\n", 2, 1, "unknown statement");
}

static void test_columns_count_characters_not_bytes(void **state)
{
    (void)state;
    /* "说" is three bytes in UTF-8 but one column. */
    assert_error(HOSTS "say zh \"说\" extra\n", 2, 12, "unexpected 'extra'");
}

static void test_tun_yes_is_checked_against_what_the_kernel_can_do(void **state)
{
    (void)state;
    assert_error("hosts a=stack b=stack\ntun yes\n", 2, 1, "exactly one stack host");
    assert_error(HOSTS "tun yes\ninject client -> server R\n", 2, 1, "injects a segment into");
    struct scn *s = parse(HOSTS "tun yes\ninject server -> client R\n", NULL);
    assert_non_null(s);
    assert_true(scn_supports_tun(s));
    scn_free(s);
    s = parse(HOSTS "server: listen 80\n", NULL);
    assert_non_null(s);
    assert_false(scn_supports_tun(s)); /* not declared */
    scn_free(s);
}

static void test_empty_and_comment_only_files_need_hosts(void **state)
{
    (void)state;
    assert_error("", 1, 1, "declares no hosts");
    assert_error("# just a comment\n\n", 2, 1, "declares no hosts");
    struct scn *s = parse(HOSTS "# nothing else\n", NULL);
    assert_non_null(s);
    assert_int_equal(s->nstmts, 0);
    scn_free(s);
}

/* The parser reads untrusted text: random bytes and mangled real files must
 * give a scenario or an error with a position, never a crash or a leak
 * (run under ASan in the sanitizer build). */
static void test_parser_survives_random_and_mangled_input(void **state)
{
    (void)state;
    static const char base[] =
        HOSTS "server: listen 8080 backlog 2 as l\nclient: connect server:8080\n"
              "expect client -> server S seq=0 mss=1460\nserver: accept as c\n"
              "c: send \"x\\x41\"\nexpect c send = 2\ndrop next 2 server -> client F.\n"
              "wait 2msl\nsay zh \"三次握手\"\nexpect nothing for 1s\n";
    uint64_t x = 88172645463325252ull;
    char buf[sizeof base + 64];
    unsigned parsed = 0, errors = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = sizeof base - 1;
        memcpy(buf, base, n);
        int edits = 1 + round % 8;
        for (int e = 0; e < edits; e++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at = (size_t)(x % n);
            buf[at] = round % 3 == 0 ? (char)(x >> 32) : " \"#:->=.\n\\Sx0"[(x >> 40) % 13];
        }
        struct scn_error err;
        struct scn *s = scn_parse_string("fuzz.tcps", buf, n, &err);
        if (s) {
            parsed++;
            scn_free(s);
        } else {
            errors++;
            assert_true(err.line >= 1 && err.col >= 1);
            assert_true(err.msg[0] != '\0');
        }
    }
    assert_true(parsed > 0 && errors > 0);
}

/* `ask` and `hint` belong to the step above them, like `say`; en and zh in a
 * row are one question. */
static void test_ask_and_hint_belong_to_the_step_above(void **state)
{
    (void)state;
    struct scn_error err;
    struct scn *s = parse(HOSTS "server: listen 8080\n"
                                "client: close\n"
                                "  ask en \"Who waits in TIME_WAIT?\" \"the server\" *\"the client\" \"both\"\n"
                                "  ask zh \"谁在 TIME_WAIT 中等待？\" \"服务器\" * \"客户端\" \"双方\"\n"
                                "  ask en \"Second?\" *\"yes\" \"no\"\n"
                                "  hint en \"The closer waits.\"\n"
                                "  hint zh \"先关闭的一方等待。\"\n"
                                "expect client state CLOSED\n",
                          &err);
    if (!s)
        fail_msg("%d:%d: %s", err.line, err.col, err.msg);
    assert_int_equal(s->nstmts, 3); /* neither is a step */
    const struct scn_stmt *st = &s->stmts[1];
    assert_int_equal(st->nasks, 2);
    const struct scn_ask *q = &st->asks[0];
    assert_string_equal(q->text_en, "Who waits in TIME_WAIT?");
    assert_string_equal(q->text_zh, "谁在 TIME_WAIT 中等待？");
    assert_int_equal(q->nchoices, 3);
    assert_int_equal(q->correct, 1);
    assert_string_equal(q->choice_en[1], "the client");
    assert_string_equal(q->choice_zh[1], "客户端");
    assert_null(st->asks[1].text_zh);
    assert_int_equal(st->asks[1].correct, 0);
    assert_string_equal(st->hint_en, "The closer waits.");
    assert_string_equal(st->hint_zh, "先关闭的一方等待。");
    assert_int_equal(s->stmts[0].nasks, 0);
    scn_free(s);
}

static void test_ask_mistakes_name_line_and_column(void **state)
{
    (void)state;
    assert_error(HOSTS "ask en \"Q?\" *\"a\" \"b\"\nserver: listen 80\n", 2, 1,
                 "belongs to a statement");
    assert_error(HOSTS "server: listen 80\nask fr \"Q?\" *\"a\" \"b\"\n", 3, 5, "en or zh");
    assert_error(HOSTS "server: listen 80\nask en\n", 3, 7, "the question as a string");
    assert_error(HOSTS "server: listen 80\nask en \"Q?\" *\"a\"\n", 3, 13,
                 "at least 2 choices");
    assert_error(HOSTS "server: listen 80\nask en \"Q?\" \"a\" \"b\"\n", 3, 13,
                 "no choice is marked right");
    assert_error(HOSTS "server: listen 80\nask en \"Q?\" *\"a\" *\"b\"\n", 3, 18,
                 "two choices are marked right");
    assert_error(HOSTS "server: listen 80\nask en \"Q?\" *\"a\" \"b\" \"c\" \"d\" \"e\"\n", 3,
                 30, "at most 4 choices");
    assert_error(HOSTS "server: listen 80\nask en \"Q?\" *\"a\" b\n", 3, 18, "a choice as a string");
    assert_error(HOSTS "server: listen 80\nask en \"Q?\" *\"a\" \"\"\n", 3, 18, "is empty");
    assert_error(HOSTS "server: listen 80\nask en \"Q?\" *\"a\" \"b\"\n"
                       "ask zh \"问？\" \"甲\" *\"乙\"\n",
                 4, 1, "other language");
    assert_error(HOSTS "server: listen 80\nhint en \"x\"\nhint en \"y\"\n", 4, 1,
                 "already has a hint");
    assert_error(HOSTS "server: listen 80\nhint en\n", 3, 8, "the hint as a string");
}

/* After a mistake the parser goes on at the next line: every mistake of a
 * file, in order, each at its own line and column, up to SCN_MAX_ERRORS. */
static void test_several_errors_are_reported_in_file_order(void **state)
{
    (void)state;
    struct scn_error err;
    struct scn *s = parse(HOSTS "server: listn 80\n"
                                "expect client state CLOSED\n" /* fine */
                                "expcet client state CLOSED\n"
                                "expect client state ESTABLSHED\n",
                          &err);
    assert_null(s);
    assert_int_equal(scn_error_count(&err), 3);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 9);
    assert_non_null(strstr(err.msg, "unknown socket call 'listn' (did you mean 'listen'?)"));
    assert_int_equal(err.more[0].line, 4);
    assert_int_equal(err.more[0].col, 1);
    assert_non_null(strstr(err.more[0].msg, "unknown statement 'expcet' (did you mean 'expect'?)"));
    assert_int_equal(err.more[1].line, 5);
    assert_int_equal(err.more[1].col, 21);
    assert_non_null(strstr(err.more[1].msg, "(did you mean 'ESTABLISHED'?)"));
    assert_true(err.more[0].hint[0] && err.more[1].hint[0]);
}

static void test_the_parser_stops_after_ten_errors(void **state)
{
    (void)state;
    char text[2048] = HOSTS;
    for (int i = 0; i < 15; i++)
        strcat(text, "bogus\n");
    struct scn_error err;
    assert_null(parse(text, &err));
    assert_int_equal(scn_error_count(&err), SCN_MAX_ERRORS);
    assert_int_equal(err.more[SCN_MAX_ERRORS - 2].line, 1 + SCN_MAX_ERRORS);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    scn_error_print(&err, f);
    fclose(f);
    assert_non_null(strstr(out, "t.tcps:11:1: unknown statement 'bogus'"));
    assert_null(strstr(out, "t.tcps:12:1:"));
    assert_non_null(strstr(out, "stopped after 10 errors"));
    free(out);
}

/* A bad `hosts` line would make every later line "unknown host": stop there. */
static void test_a_bad_hosts_line_is_the_last_error(void **state)
{
    (void)state;
    struct scn_error err;
    assert_null(parse("hosts client=stak server=peer\nclient: connect server:80\nbogus\n", &err));
    assert_int_equal(scn_error_count(&err), 1);
    assert_int_equal(err.line, 1);
}

/* "Did you mean" only when a name is near: two edits at most, one for
 * short words, and never for something unrelated. */
static void test_did_you_mean_suggests_near_names_only(void **state)
{
    (void)state;
    assert_error(HOSTS "clinet: connect server:80\n", 2, 1, "(did you mean 'client'?)");
    assert_error(HOSTS "client: connect sever:80\n", 2, 17, "did you mean 'server'?");
    assert_error(HOSTS "clint close\n", 2, 1, "(did you mean 'client:'?)");
    assert_error(HOSTS "expect client state established\n", 2, 21, "did you mean 'ESTABLISHED'?");
    struct scn_error err;
    assert_null(parse(HOSTS "frobnicate\n", &err));
    assert_null(strstr(err.msg, "did you mean"));
    assert_null(parse(HOSTS "sat\n", &err)); /* one edit from "set" and "say": short, so 1 */
    assert_non_null(strstr(err.msg, "did you mean"));
    assert_null(parse(HOSTS "xyz\n", &err));
    assert_null(strstr(err.msg, "did you mean"));
}

/* Invalid UTF-8 anywhere, comments included, is an error naming the byte
 * offset in the file (from 0, as hexdump counts). */
static void test_invalid_utf8_names_its_byte_offset(void **state)
{
    (void)state;
    assert_error(HOSTS "say en \"caf\xe9\"\n", 2, 12, "invalid UTF-8 at byte 42");
    assert_error(HOSTS "# \xff\n", 2, 3, "invalid UTF-8 at byte 33");
    /* an overlong encoding and a lone surrogate are invalid too */
    assert_error(HOSTS "say en \"\xc0\xaf\"\n", 2, 9, "invalid UTF-8 at byte 39");
    assert_error(HOSTS "say en \"\xed\xa0\x80\"\n", 2, 9, "invalid UTF-8 at byte 39");
    /* a sequence cut by the end of the line */
    assert_error(HOSTS "say en \"\xe4\xb8\n", 2, 9, "invalid UTF-8 at byte 39");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ask_and_hint_belong_to_the_step_above),
        cmocka_unit_test(test_ask_mistakes_name_line_and_column),
        cmocka_unit_test(test_handshake_example_reads_as_steps_with_narration),
        cmocka_unit_test(test_narration_before_the_first_step_goes_to_the_first_step),
        cmocka_unit_test(test_hosts_get_default_addresses_by_role_then_in_order),
        cmocka_unit_test(test_profiles_and_set_configure_the_hosts),
        cmocka_unit_test(test_as_names_a_socket_for_later_calls),
        cmocka_unit_test(test_segment_fields_take_comparisons_and_options),
        cmocka_unit_test(test_call_results_name_errors_and_values),
        cmocka_unit_test(test_network_statements_read_directions_and_counts),
        cmocka_unit_test(test_errors_point_at_line_and_column),
        cmocka_unit_test(test_columns_count_characters_not_bytes),
        cmocka_unit_test(test_tun_yes_is_checked_against_what_the_kernel_can_do),
        cmocka_unit_test(test_empty_and_comment_only_files_need_hosts),
        cmocka_unit_test(test_parser_survives_random_and_mangled_input),
        cmocka_unit_test(test_several_errors_are_reported_in_file_order),
        cmocka_unit_test(test_the_parser_stops_after_ten_errors),
        cmocka_unit_test(test_a_bad_hosts_line_is_the_last_error),
        cmocka_unit_test(test_did_you_mean_suggests_near_names_only),
        cmocka_unit_test(test_invalid_utf8_names_its_byte_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
