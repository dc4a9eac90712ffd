/*
 * test_ui_live.c — the live view of `tcplab listen --ui`, in memory: a real
 * stack on the virtual link serves a client; the view's connection table,
 * ladder and event log follow the connection as it opens and closes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcp.h"
#include "view_live.h"
#include "vlink.h"

struct world {
    struct vlink *link;
    struct stack *server, *client;
    struct ui_live_state st;
};

/* The live view hears only the stack's own events, as on a TUN device. */
static void feed(void *ctx, const struct tev *ev)
{
    struct world *w = ctx;
    if (ev->host && !strcmp(ev->host, "stack"))
        ui_live_state_event(&w->st, ev);
}

static struct world *make_world(void)
{
    struct world *w = calloc(1, sizeof *w);
    struct vlink_config lc;
    vlink_config_defaults(&lc);
    lc.on_event = feed;
    lc.event_ctx = w;
    w->link = vlink_new(&lc);
    struct stack_config sc;
    stack_config_defaults(&sc);
    sc.name = "stack";
    sc.addr = 0x0a070002;
    int s = vlink_add_host(w->link, &sc);
    sc.name = "peer";
    sc.addr = 0x0a070001;
    int c = vlink_add_host(w->link, &sc);
    w->server = vlink_stack(w->link, s);
    w->client = vlink_stack(w->link, c);
    ui_live_state_init(&w->st, w->server, "tcplab listen \u00b7 tl0 10.7.0.2");
    return w;
}

static void free_world(struct world *w)
{
    ui_live_state_free(&w->st);
    vlink_free(w->link);
    free(w);
}

static struct screen *render_opts(struct world *w, int width, int height, bool details)
{
    struct screen *s = screen_new(width, height);
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    o.details = details;
    ui_render_live(s, &w->st, vlink_now(w->link), &o);
    return s;
}

static struct screen *render(struct world *w, int width, int height)
{
    return render_opts(w, width, height, false);
}

static void test_live_view_lists_a_connection_and_draws_its_ladder(void **state)
{
    (void)state;
    struct world *w = make_world();
    uint64_t now = vlink_now(w->link);
    int ls = tcp_socket(w->server, now);
    assert_int_equal(tcp_bind(w->server, now, ls, 7), 0);
    assert_int_equal(tcp_listen(w->server, now, ls, 4), 0);
    struct screen *s = render(w, 100, 30);
    assert_true(screen_contains(s, "no connections"));
    screen_free(s);

    int cs = tcp_socket(w->client, now);
    assert_int_equal(tcp_connect(w->client, now, cs, 0x0a070002, 7), 0);
    vlink_run_idle(w->link, 100000, 10000);
    int as = tcp_accept(w->server, vlink_now(w->link), ls, NULL);
    assert_true(as >= 0);

    s = render(w, 100, 30);
    assert_true(screen_contains(s, "1 connection "));
    assert_true(screen_contains(s, "10.7.0.2:7"));
    assert_true(screen_contains(s, "ESTABLISHED"));
    assert_true(screen_contains(s, "SYN seq=0"));           /* the ladder, relative numbers */
    assert_true(screen_contains(s, "SYN,ACK seq=0 ack=1")); /* sent by the stack */
    assert_true(screen_contains(s, "LISTEN \u2192 SYN_RECEIVED (rcvd SYN)")); /* the log */
    screen_free(s);

    /* d: the newest segment, field by field. */
    s = render_opts(w, 100, 50, true);
    assert_true(screen_contains(s, "TCP header, 32 bytes")); /* 12 of them TSopt (RFC 7323, on by default) */
    assert_true(screen_contains(s, "network byte order"));
    screen_free(s);

    /* The client closes first: the stack's end goes to CLOSE_WAIT. */
    tcp_close(w->client, vlink_now(w->link), cs);
    vlink_run_idle(w->link, 100000, 10000);
    s = render(w, 80, 24);
    assert_true(screen_contains(s, "CLOSE_WAIT"));
    assert_true(screen_contains(s, "FIN,ACK"));
    screen_free(s);

    /* The stack closes too; once the last ACK is in, the row is gone. */
    tcp_close(w->server, vlink_now(w->link), as);
    vlink_run_idle(w->link, 100000, 10000);
    s = render(w, 80, 24);
    assert_true(screen_contains(s, "0 connections"));
    assert_true(screen_contains(s, "LAST_ACK \u2192 CLOSED"));
    screen_free(s);
    free_world(w);
}

/* At 80 columns the row still ends with the kernel's state and the timers:
 * the stack closing first shows its TIME_WAIT and the 2MSL countdown. */
static void test_live_table_at_80_columns_still_shows_the_2msl_countdown(void **state)
{
    (void)state;
    struct world *w = make_world();
    uint64_t now = vlink_now(w->link);
    int ls = tcp_socket(w->server, now);
    assert_int_equal(tcp_bind(w->server, now, ls, 13), 0);
    assert_int_equal(tcp_listen(w->server, now, ls, 4), 0);
    int cs = tcp_socket(w->client, now);
    assert_int_equal(tcp_connect(w->client, now, cs, 0x0a070002, 13), 0);
    vlink_run_idle(w->link, 100000, 10000);
    int as = tcp_accept(w->server, vlink_now(w->link), ls, NULL);
    assert_true(as >= 0);
    tcp_close(w->server, vlink_now(w->link), as); /* the stack closes first */
    vlink_run_idle(w->link, 100000, 10000);
    tcp_close(w->client, vlink_now(w->link), cs);
    vlink_run_idle(w->link, 100000, 10000);

    struct screen *s = render(w, 80, 24);
    assert_true(screen_contains(s, "TIME_WAIT"));
    assert_true(screen_contains(s, "2MSL "));
    assert_true(screen_contains(s, "timers"));
    screen_free(s);
    s = render(w, 120, 30); /* wide: the full row, descriptor and address */
    assert_true(screen_contains(s, "10.7.0.2:13"));
    assert_true(screen_contains(s, "2MSL "));
    screen_free(s);
    free_world(w);
}

static void test_live_view_keeps_a_bounded_number_of_events(void **state)
{
    (void)state;
    struct world *w = make_world();
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_CALL;
    ev.host = "stack";
    ev.u.call.call = TCP_CALL_SOCKET;
    for (int i = 0; i < UI_LIVE_MAX_EVENTS + 10; i++)
        ui_live_state_event(&w->st, &ev);
    assert_int_equal(w->st.nev, UI_LIVE_MAX_EVENTS);
    assert_int_equal(w->st.log_count, UI_LIVE_LOG_LINES);
    free_world(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_view_lists_a_connection_and_draws_its_ladder),
        cmocka_unit_test(test_live_table_at_80_columns_still_shows_the_2msl_countdown),
        cmocka_unit_test(test_live_view_keeps_a_bounded_number_of_events),
    };
    ui_locale_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
