/*
 * test_ui_fixture.h — what the UI tests build their screens from. Two ways:
 *  - by hand (struct fx): events pushed one by one — fx_seg, fx_state,
 *    fx_call, fx_timer, or any struct tev through fx_push — and, for a whole
 *    lesson-like run, fx_teardown_timeline(): handshake, 5 bytes of data,
 *    the client closes first, the server's FIN is lost once and
 *    retransmitted, TIME_WAIT expires, in nine narrated steps; segments are
 *    built with wire_tcp_build so every one carries real bytes. struct fx_run
 *    turns such events into a model (and a screen) for one view;
 *  - from a scenario text run on the virtual link (struct fx_scn), for what
 *    only the real engine produces (cc events, timers, backoff).
 * Included by tests/unit/test_ui_*.c.
 */
#ifndef TEST_UI_FIXTURE_H
#define TEST_UI_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "player.h"
#include "scnrun.h"
#include "screen.h"
#include "view.h"
#include "wire.h"

#define FX_CLIENT_ADDR 0x0a070002u /* 10.7.0.2 */
#define FX_SERVER_ADDR 0x0a070001u /* 10.7.0.1 */
#define FX_CPORT       40312
#define FX_SPORT       8080
#define FX_ISN_C       1000000u
#define FX_ISN_S       3000000000u

struct fx {
    struct scn_timeline tl;
    size_t cap;
    uint64_t t;
    size_t step_start;
};

static inline void fx_push(struct fx *f, const struct tev *ev)
{
    if (f->tl.nevents == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->tl.events = realloc(f->tl.events, f->cap * sizeof *f->tl.events);
    }
    struct tev *c = tev_clone(ev);
    c->t_us = f->t;
    f->tl.events[f->tl.nevents++] = c;
    f->t += 500;
}

static inline struct tcp_tuple fx_tuple(const char *host)
{
    bool client = !strcmp(host, "client");
    return (struct tcp_tuple){client ? FX_CLIENT_ADDR : FX_SERVER_ADDR,
                              client ? FX_SERVER_ADDR : FX_CLIENT_ADDR,
                              client ? FX_CPORT : FX_SPORT, client ? FX_SPORT : FX_CPORT};
}

/* The OUT event of the segment `raw` (n bytes, parsed as *tcp) that `from`
 * ("client" or "server") sends to the other host. */
static inline void fx_seg_event(struct tev *ev, const char *from, const struct wire_tcp *tcp,
                                const uint8_t *raw, size_t n)
{
    bool client = !strcmp(from, "client");
    memset(ev, 0, sizeof *ev);
    ev->kind = TEV_SEGMENT;
    ev->host = client ? "client" : "server";
    ev->tuple = fx_tuple(ev->host);
    ev->u.seg.dir = TEV_OUT;
    ev->u.seg.tcp = *tcp;
    ev->u.seg.src = client ? FX_CLIENT_ADDR : FX_SERVER_ADDR;
    ev->u.seg.dst = client ? FX_SERVER_ADDR : FX_CLIENT_ADDR;
    ev->u.seg.raw = raw;
    ev->u.seg.raw_len = n;
}

/* The TCP header of a segment `from` ("client" or "server") sends, no options. */
static inline struct wire_tcp fx_tcp_header(const char *from, uint8_t flags, uint32_t seq,
                                            uint32_t ack, uint16_t win)
{
    bool client = !strcmp(from, "client");
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    t.sport = client ? FX_CPORT : FX_SPORT;
    t.dport = client ? FX_SPORT : FX_CPORT;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.win = win;
    return t;
}

/* A segment from `from` to the other host: the sender's OUT event, then
 * (unless lost) the receiver's IN event; lost ones get a TEV_LINK. */
static inline void fx_seg(struct fx *f, const char *from, uint8_t flags, uint32_t seq, uint32_t ack,
                          uint16_t win, const char *data, bool lost, bool rtx)
{
    bool client = !strcmp(from, "client");
    struct wire_tcp t = fx_tcp_header(from, flags, seq, ack, win);
    if (flags & TCP_SYN) {
        t.opts.has_mss = true;
        t.opts.mss = 1460;
    }
    uint8_t buf[200];
    size_t dlen = data ? strlen(data) : 0;
    uint32_t src = client ? FX_CLIENT_ADDR : FX_SERVER_ADDR;
    uint32_t dst = client ? FX_SERVER_ADDR : FX_CLIENT_ADDR;
    size_t n = wire_tcp_build(buf, sizeof buf, src, dst, 1, &t, (const uint8_t *)data, dlen);
    struct wire_ipv4 ip;
    struct wire_tcp parsed;
    wire_ipv4_parse(buf, n, &ip);
    wire_tcp_parse(&ip, &parsed);
    struct tev ev;
    fx_seg_event(&ev, client ? "client" : "server", &parsed, buf, n);
    ev.u.seg.retransmission = rtx;
    fx_push(f, &ev);
    if (lost) {
        struct tev l;
        memset(&l, 0, sizeof l);
        l.kind = TEV_LINK;
        l.host = "link";
        l.u.link.action = TEV_LINK_LOST;
        l.u.link.from = ev.host;
        l.u.link.to = client ? "server" : "client";
        l.u.link.raw = buf;
        l.u.link.raw_len = n;
        fx_push(f, &l);
        return;
    }
    ev.host = client ? "server" : "client";
    ev.tuple = fx_tuple(ev.host);
    ev.u.seg.dir = TEV_IN;
    ev.u.seg.retransmission = false;
    fx_push(f, &ev);
}

static inline void fx_state(struct fx *f, const char *host, enum tcp_state from, enum tcp_state to,
                            const char *cause, bool listener)
{
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_STATE;
    ev.host = host;
    ev.tuple = fx_tuple(host);
    if (listener)
        ev.tuple = (struct tcp_tuple){FX_SERVER_ADDR, 0, FX_SPORT, 0};
    ev.u.state.from = from;
    ev.u.state.to = to;
    ev.u.state.cause = cause;
    fx_push(f, &ev);
}

static inline void fx_call(struct fx *f, const char *host, enum tcp_call call, long result,
                           long arg)
{
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_CALL;
    ev.host = host;
    ev.sd = 3;
    if (call == TCP_CALL_ACCEPT)
        ev.tuple = fx_tuple(host);
    if (call == TCP_CALL_LISTEN)
        ev.tuple = (struct tcp_tuple){FX_SERVER_ADDR, 0, FX_SPORT, 0};
    ev.u.call.call = call;
    ev.u.call.result = result;
    ev.u.call.arg = arg;
    fx_push(f, &ev);
}

static inline void fx_timer(struct fx *f, const char *host, enum tcp_timer which,
                            enum tev_timer_action action, uint64_t deadline)
{
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_TIMER;
    ev.host = host;
    ev.tuple = fx_tuple(host);
    ev.u.timer.which = which;
    ev.u.timer.action = action;
    ev.u.timer.deadline_us = deadline;
    fx_push(f, &ev);
}

/* Close the step begun at the previous fx_step call. */
static inline void fx_step(struct fx *f, const char *text, const char *en, const char *zh)
{
    f->tl.steps = realloc(f->tl.steps, (f->tl.nsteps + 1) * sizeof *f->tl.steps);
    struct scn_step *s = &f->tl.steps[f->tl.nsteps++];
    memset(s, 0, sizeof *s);
    s->line = (int)f->tl.nsteps;
    s->text = strdup(text);
    s->say_en = en ? strdup(en) : NULL;
    s->say_zh = zh ? strdup(zh) : NULL;
    s->first_event = f->step_start;
    s->end_event = f->tl.nevents;
    f->step_start = f->tl.nevents;
}

/* The two endpoints, "client" and "server", with their addresses. */
static inline void fx_hosts(struct scn_timeline *tl)
{
    tl->nhosts = 2;
    snprintf(tl->hosts[0].name, sizeof tl->hosts[0].name, "client");
    snprintf(tl->hosts[0].label, sizeof tl->hosts[0].label, "10.7.0.2:40312");
    tl->hosts[0].addr = FX_CLIENT_ADDR;
    snprintf(tl->hosts[1].name, sizeof tl->hosts[1].name, "server");
    snprintf(tl->hosts[1].label, sizeof tl->hosts[1].label, "10.7.0.1:8080");
    tl->hosts[1].addr = FX_SERVER_ADDR;
}

#define C_ "client"
#define S_ "server"

static inline struct scn_timeline *fx_teardown_timeline(void)
{
    struct fx *f = calloc(1, sizeof *f);
    struct scn_timeline *tl = &f->tl;
    tl->title_en = strdup("Four-way teardown (client closes first)");
    tl->title_zh = strdup("四次挥手（客户端先关闭）");
    fx_hosts(tl);
    const uint32_t c = FX_ISN_C, s = FX_ISN_S;

    fx_call(f, S_, TCP_CALL_LISTEN, 0, 4);
    fx_state(f, S_, TCP_CLOSED, TCP_LISTEN, "listen()", true);
    fx_step(f, "server: listen 8080 backlog 4", "The server listens on port 8080.",
            "服务器在 8080 端口监听。");

    fx_call(f, C_, TCP_CALL_CONNECT, 0, FX_SPORT);
    fx_state(f, C_, TCP_CLOSED, TCP_SYN_SENT, "connect()", false);
    fx_timer(f, C_, TCP_TIMER_RTX, TEV_TIMER_ARM, f->t + 1000000);
    fx_seg(f, C_, TCP_SYN, c, 0, 64240, NULL, false, false);
    fx_state(f, S_, TCP_LISTEN, TCP_SYN_RECEIVED, "rcvd SYN", false);
    fx_seg(f, S_, TCP_SYN | TCP_ACK, s, c + 1, 65160, NULL, false, false);
    fx_state(f, C_, TCP_SYN_SENT, TCP_ESTABLISHED, "rcvd SYN,ACK", false);
    fx_timer(f, C_, TCP_TIMER_RTX, TEV_TIMER_CANCEL, 0);
    fx_seg(f, C_, TCP_ACK, c + 1, s + 1, 64240, NULL, false, false);
    fx_state(f, S_, TCP_SYN_RECEIVED, TCP_ESTABLISHED, "rcvd ACK of SYN", false);
    fx_step(f, "client: connect server:8080",
            "The client sends SYN; the server answers SYN,ACK; the client's ACK completes the "
            "three-way handshake.",
            "客户端发送 SYN，服务器回复 SYN,ACK，客户端的 ACK 完成三次握手。");

    fx_call(f, S_, TCP_CALL_ACCEPT, 4, 0);
    fx_step(f, "server: accept", "accept() returns a new connected socket, fd 4.",
            "accept() 返回一个新的已连接套接字：fd 4。");

    fx_call(f, C_, TCP_CALL_SEND, 5, 5);
    fx_seg(f, C_, TCP_PSH | TCP_ACK, c + 1, s + 1, 64240, "hello", false, false);
    fx_seg(f, S_, TCP_ACK, s + 1, c + 6, 65155, NULL, false, false);
    fx_step(f, "client: send \"hello\"", "Five bytes travel; the ACK number grows by five.",
            "五个字节发出，确认号增加五。");

    fx_call(f, C_, TCP_CALL_CLOSE, 0, 0);
    fx_state(f, C_, TCP_ESTABLISHED, TCP_FIN_WAIT_1, "close()", false);
    fx_seg(f, C_, TCP_FIN | TCP_ACK, c + 6, s + 1, 64240, NULL, false, false);
    fx_state(f, S_, TCP_ESTABLISHED, TCP_CLOSE_WAIT, "rcvd FIN", false);
    fx_seg(f, S_, TCP_ACK, s + 1, c + 7, 65155, NULL, false, false);
    fx_state(f, C_, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, "rcvd ACK of our FIN", false);
    fx_step(f, "client: close", "The client closes first: FIN, and the server acknowledges it.",
            "客户端先关闭：发出 FIN，服务器确认。");

    fx_call(f, S_, TCP_CALL_RECV, 0, 100);
    fx_step(f, "server: recv", "recv() returns 0: the peer has finished sending.",
            "recv() 返回 0：对方已经发送完毕。");

    fx_call(f, S_, TCP_CALL_CLOSE, 0, 0);
    fx_state(f, S_, TCP_CLOSE_WAIT, TCP_LAST_ACK, "close()", false);
    fx_timer(f, S_, TCP_TIMER_RTX, TEV_TIMER_ARM, f->t + 1000000);
    fx_seg(f, S_, TCP_FIN | TCP_ACK, s + 1, c + 7, 65155, NULL, true, false);
    fx_step(f, "server: close", "The server's FIN is lost on the way.",
            "服务器的 FIN 在途中丢失。");

    f->t += 1000000;
    fx_timer(f, S_, TCP_TIMER_RTX, TEV_TIMER_FIRE, f->t);
    fx_seg(f, S_, TCP_FIN | TCP_ACK, s + 1, c + 7, 65155, NULL, false, true);
    fx_state(f, C_, TCP_FIN_WAIT_2, TCP_TIME_WAIT, "rcvd FIN", false);
    fx_timer(f, C_, TCP_TIMER_TIME_WAIT, TEV_TIMER_ARM, f->t + 4000000);
    fx_seg(f, C_, TCP_ACK, c + 7, s + 2, 64240, NULL, false, false);
    fx_state(f, S_, TCP_LAST_ACK, TCP_CLOSED, "rcvd ACK of our FIN", false);
    fx_step(f, "wait 1s",
            "After one second the server retransmits its FIN; the client enters TIME_WAIT.",
            "一秒后服务器重传 FIN，客户端进入 TIME_WAIT。");

    f->t += 4000000;
    fx_timer(f, C_, TCP_TIMER_TIME_WAIT, TEV_TIMER_FIRE, f->t);
    fx_state(f, C_, TCP_TIME_WAIT, TCP_CLOSED, "2MSL timeout", false);
    fx_step(f, "wait 2msl", "After 2MSL the client's connection is gone.",
            "经过 2MSL，客户端的连接才真正消失。");
    return tl; /* tl is the first member of f: fx_free frees both */
}

static inline void fx_free(struct scn_timeline *tl)
{
    for (size_t i = 0; i < tl->nevents; i++)
        tev_free(tl->events[i]);
    free(tl->events);
    for (size_t i = 0; i < tl->nsteps; i++) {
        free(tl->steps[i].text);
        free(tl->steps[i].say_en);
        free(tl->steps[i].say_zh);
    }
    free(tl->steps);
    free(tl->title_en);
    free(tl->title_zh);
    free(tl);
}

/* Render the player at w x h into a new screen. */
static inline struct screen *fx_render(const struct ui_player *p, const struct ui_view_opts *o,
                                       int w, int h)
{
    struct screen *s = screen_new(w, h);
    ui_render_play(s, p, o);
    return s;
}

/* Row y of the screen contains `text`. */
static inline bool fx_row_has(const struct screen *s, int y, const char *text)
{
    char buf[4096];
    screen_row_text(s, y, buf, sizeof buf);
    return strstr(buf, text) != NULL;
}

/* The row of the screen that contains `text`, or -1. */
static inline int fx_row_of(const struct screen *s, const char *text)
{
    for (int y = 0; y < s->h; y++)
        if (fx_row_has(s, y, text))
            return y;
    return -1;
}

/* The events of a struct fx as one view sees them: the two hosts named,
 * the model with every event applied, and a screen to draw into. */
struct fx_run {
    struct fx f;
    struct ui_model m;
    struct screen *s; /* NULL when fx_run_model was given no size */
};

/* After the events are pushed into r->f: name the hosts, apply everything,
 * and make a w x h screen (none if w is 0). */
static inline void fx_run_model(struct fx_run *r, int w, int h)
{
    struct scn_timeline *tl = &r->f.tl;
    fx_hosts(tl);
    ui_model_init(&r->m, tl);
    ui_model_apply_until(&r->m, tl->nevents);
    r->s = w > 0 ? screen_new(w, h) : NULL;
}

static inline void fx_run_free(struct fx_run *r)
{
    if (r->s)
        screen_free(r->s);
    ui_model_free(&r->m);
    for (size_t i = 0; i < r->f.tl.nevents; i++)
        tev_free(r->f.tl.events[i]);
    free(r->f.tl.events);
}

/* The model row of the n-th arrow (0-based); fails the test if there is none. */
static inline size_t fx_arrow_row(const struct ui_model *m, size_t n)
{
    size_t row = 0, seen = 0;
    for (; row < m->nrows; row++)
        if (m->rows[row].has_arrow && seen++ == n)
            break;
    assert_true(row < m->nrows);
    return row;
}

/* Draw the details (key d) of the n-th arrow into r->s, `w` columns wide. */
static inline void fx_details(struct fx_run *r, size_t n, const struct ui_view_opts *o, int w)
{
    size_t row = fx_arrow_row(&r->m, n);
    screen_clear(r->s);
    ui_view_details(r->s, (struct ui_rect){1, 0, w, r->s->h}, &r->m, (int)row, o);
}

/* A scenario text run on the virtual link and a player over its record. */
struct fx_scn {
    struct scn *s;
    struct scn_result res;
    struct scn_timeline *tl;
    struct ui_player p;
};

static inline void fx_scn_run(struct fx_scn *r, const char *text)
{
    memset(r, 0, sizeof *r);
    scnrun_text("t.tcps", text, &r->s, &r->res, &r->tl);
    ui_player_init(&r->p, r->tl);
}

static inline void fx_scn_free(struct fx_scn *r)
{
    ui_player_free(&r->p);
    scnrun_free(r->s, &r->res, r->tl);
}

/* The screen of r (anything with a `struct screen *s`) shows / does not
 * show `text`; on failure the screen is printed. */
#define FX_SHOWS(r, text)                                                                          \
    do {                                                                                           \
        if (!screen_contains((r)->s, text)) {                                                      \
            screen_write_text((r)->s, stderr);                                                     \
            fail_msg("not on screen: %s", text);                                                   \
        }                                                                                          \
    } while (0)
#define FX_NOT_SHOWN(r, text)                                                                      \
    do {                                                                                           \
        if (screen_contains((r)->s, text)) {                                                       \
            screen_write_text((r)->s, stderr);                                                     \
            fail_msg("on screen: %s", text);                                                       \
        }                                                                                          \
    } while (0)

#endif
