/*
 * view_live.c — what `tcplab listen --ui` shows, drawn into the screen
 * model: a connection table like ss(8) (local, remote, state, send-Q,
 * recv-Q, timers, and the kernel's own state of its end), the ladder of the
 * selected connection (the same ladder view as `tcplab play`, fed with that
 * connection's events), and a log of the latest events.
 *
 * ui/tui/live.c owns the terminal and feeds events here; this file keeps the
 * events (owned copies, bounded) and draws. It can be tested without a
 * terminal (tests/unit/test_ui_live.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_live.h"

void ui_live_state_init(struct ui_live_state *st, const struct stack *s, const char *title)
{
    memset(st, 0, sizeof *st);
    st->stack = s;
    snprintf(st->title, sizeof st->title, "%s", title ? title : "tcplab listen");
    const struct stack_config *cfg = s ? stack_config(s) : NULL;
    snprintf(st->stack_name, sizeof st->stack_name, "%s", cfg && cfg->name ? cfg->name : "stack");
    st->follow = true;
}

void ui_live_state_free(struct ui_live_state *st)
{
    for (size_t i = 0; i < st->nev; i++)
        tev_free(st->ev[(st->first + i) % UI_LIVE_MAX_EVENTS]);
    free(st->ev);
    free(st->sel_events);
    memset(st, 0, sizeof *st);
}

static bool same_conn(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
    return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
           a->rport == b->rport;
}

/* The connection an event belongs to, from the stack's point of view. */
static bool event_conn(const struct ui_live_state *st, const struct tev *ev, struct tcp_tuple *t)
{
    if (ev->kind == TEV_KERNEL) {
        /* The kernel's end: its local is our remote. */
        *t = (struct tcp_tuple){ev->tuple.raddr, ev->tuple.laddr, ev->tuple.rport, ev->tuple.lport};
        return t->rport != 0;
    }
    if (ev->kind == TEV_SEGMENT) {
        bool out = ev->u.seg.dir == TEV_OUT;
        *t = (struct tcp_tuple){out ? ev->u.seg.src : ev->u.seg.dst,
                                out ? ev->u.seg.dst : ev->u.seg.src,
                                out ? ev->u.seg.tcp.sport : ev->u.seg.tcp.dport,
                                out ? ev->u.seg.tcp.dport : ev->u.seg.tcp.sport};
        return true;
    }
    *t = ev->tuple;
    return t->rport != 0 && (!ev->host || !strcmp(ev->host, st->stack_name));
}

/* A segment's seq and ack, relative to each side's ISN by the rule every
 * view shares (relseq.h): the events pane numbers like the ladder and the
 * text trace. */
static void seg_relative(struct ui_live_state *st, const struct tev *ev, uint32_t *seq,
                         uint32_t *ack)
{
    const struct wire_tcp *t = &ev->u.seg.tcp;
    struct relseq_seg r;
    relseq_observe(&st->seqs, ev->u.seg.src, t->sport, ev->u.seg.dst, t->dport, t, &r);
    *seq = r.seq;
    *ack = r.ack;
}

static void log_line(struct ui_live_state *st, const struct tev *ev)
{
    char line[UI_LIVE_LOG_LEN], abs_line[UI_LIVE_LOG_LEN], a[16], b[16];
    char *p = line;
    size_t cap = sizeof line;
    int n = snprintf(p, cap, "%9.3f ", (double)ev->t_us / 1e6);
    p += n;
    cap -= (size_t)n;
    abs_line[0] = 0;
    switch (ev->kind) {
    case TEV_SEGMENT: {
        char flags[48], acks[2][24] = {"", ""};
        ui_flags_words(ev->u.seg.tcp.flags, flags, sizeof flags);
        bool out = ev->u.seg.dir == TEV_OUT;
        const struct wire_tcp *t = &ev->u.seg.tcp;
        uint32_t seq[2] = {0, t->seq}, ack[2] = {0, t->ack};
        seg_relative(st, ev, &seq[0], &ack[0]);
        for (int k = 0; k < 2; k++) {
            if (t->flags & TCP_ACK)
                snprintf(acks[k], sizeof acks[k], " ack=%u", ack[k]);
            snprintf(k ? abs_line : p, k ? sizeof abs_line : cap,
                     "%.*s%s %s:%u %s %s:%u %s seq=%u%s len=%zu win=%u%s", k ? n : 0, k ? line : "",
                     out ? "out" : "in ", wire_addr_str(ev->u.seg.src, a), t->sport, "\u2192",
                     wire_addr_str(ev->u.seg.dst, b), t->dport, flags, seq[k], acks[k],
                     t->payload_len, t->win, ev->u.seg.retransmission ? " (retransmission)" : "");
        }
        break;
    }
    case TEV_STATE:
        snprintf(p, cap, "state :%u\u2194%s:%u %s \u2192 %s (%s)", ev->tuple.lport,
                 wire_addr_str(ev->tuple.raddr, a), ev->tuple.rport,
                 tcp_state_name(ev->u.state.from), tcp_state_name(ev->u.state.to),
                 ev->u.state.cause ? ev->u.state.cause : "");
        break;
    case TEV_DROP:
        snprintf(p, cap, "drop  %s", tev_drop_reason_name(ev->u.drop.reason));
        break;
    case TEV_TIMER:
        if (ev->u.timer.action != TEV_TIMER_FIRE)
            return; /* arm/cancel: too chatty for the log */
        snprintf(p, cap, "timer %s fired :%u", tcp_timer_name(ev->u.timer.which), ev->tuple.lport);
        break;
    case TEV_CALL:
        if (ev->u.call.result == -11)
            return;
        snprintf(p, cap, "call  %s() = %ld%s%s sd %d", tcp_call_name(ev->u.call.call),
                 ev->u.call.result, ev->u.call.result < 0 ? " " : "",
                 ev->u.call.result < 0 ? ui_errno_name(ev->u.call.result) : "", ev->sd);
        break;
    case TEV_ICMP:
        snprintf(p, cap, "ping  from %s id %u seq %u", wire_addr_str(ev->u.icmp.src, a),
                 ev->u.icmp.id, ev->u.icmp.seqno);
        break;
    case TEV_KERNEL:
        snprintf(p, cap, "kernel %s:%u\u2194:%u %s%s", wire_addr_str(ev->tuple.laddr, a),
                 ev->tuple.lport, ev->tuple.rport,
                 ev->u.kernel.gone ? "gone" : tcp_state_name(ev->u.kernel.state), "");
        break;
    case TEV_LINK:
    case TEV_CC:
    case TEV_READY:
    case TEV_RTT:
    case TEV_DATAGRAM:
    case TEV_SACK:
    case TEV_NKINDS:
        return;
    }
    snprintf(st->log[st->log_next], sizeof st->log[0], "%s", line);
    snprintf(st->log_abs[st->log_next], sizeof st->log_abs[0], "%s", abs_line[0] ? abs_line : line);
    st->log_next = (st->log_next + 1) % UI_LIVE_LOG_LINES;
    if (st->log_count < UI_LIVE_LOG_LINES)
        st->log_count++;
}

void ui_live_state_event(struct ui_live_state *st, const struct tev *ev)
{
    if (!st->ev) {
        st->ev = calloc(UI_LIVE_MAX_EVENTS, sizeof *st->ev);
        if (!st->ev)
            return;
    }
    log_line(st, ev);
    struct tev *copy = tev_clone(ev);
    if (!copy)
        return;
    if (st->nev == UI_LIVE_MAX_EVENTS) {
        tev_free(st->ev[st->first]);
        st->first = (st->first + 1) % UI_LIVE_MAX_EVENTS;
        st->nev--;
    }
    st->ev[(st->first + st->nev) % UI_LIVE_MAX_EVENTS] = copy;
    st->nev++;
    struct tcp_tuple t;
    if (event_conn(st, ev, &t)) {
        if (ev->kind == TEV_KERNEL) {
            for (size_t i = 0; i < st->nkern; i++)
                if (same_conn(&st->kern[i].tuple, &t)) {
                    st->kern[i].state = ev->u.kernel.state;
                    st->kern[i].gone = ev->u.kernel.gone;
                    goto kernel_done;
                }
            size_t i = st->nkern < UI_LIVE_MAX_ROWS ? st->nkern++ : st->nkern - 1;
            st->kern[i].tuple = t;
            st->kern[i].state = ev->u.kernel.state;
            st->kern[i].gone = ev->u.kernel.gone;
        kernel_done:;
        } else if (st->follow && ev->kind == TEV_SEGMENT) {
            st->sel = t; /* follow the most recent connection */
            st->have_sel = true;
        }
    }
    st->dirty = true;
}

/* ---- the table ----------------------------------------------------------------- */

static void collect(void *ctx, int sd, const struct tcp_status *s)
{
    struct ui_live_state *st = ctx;
    if (st->nrows >= UI_LIVE_MAX_ROWS)
        return;
    st->rows[st->nrows].sd = sd;
    st->rows[st->nrows].st = *s;
    st->nrows++;
}

static int row_cmp(const void *a, const void *b)
{
    const struct tcp_status *x = &((const struct ui_live_row *)a)->st;
    const struct tcp_status *y = &((const struct ui_live_row *)b)->st;
    if (x->tuple.lport != y->tuple.lport)
        return x->tuple.lport < y->tuple.lport ? -1 : 1;
    if (x->tuple.raddr != y->tuple.raddr)
        return x->tuple.raddr < y->tuple.raddr ? -1 : 1;
    return x->tuple.rport < y->tuple.rport ? -1 : x->tuple.rport > y->tuple.rport;
}

void ui_live_state_refresh_table(struct ui_live_state *st)
{
    st->nrows = 0;
    if (st->stack)
        stack_foreach_conn(st->stack, collect, st);
    qsort(st->rows, st->nrows, sizeof st->rows[0], row_cmp);
}

static const char *kernel_state_of(const struct ui_live_state *st, const struct tcp_tuple *t)
{
    for (size_t i = 0; i < st->nkern; i++)
        if (same_conn(&st->kern[i].tuple, t))
            return st->kern[i].gone ? "-" : tcp_state_name(st->kern[i].state);
    return "";
}

static void timers_text(const struct tcp_status *s, uint64_t now, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int t = 0; t < TCP_NTIMERS && n < cap; t++) {
        if (s->timers[t] == TCP_TIME_NEVER || t == TCP_TIMER_DELACK)
            continue;
        uint64_t left = s->timers[t] > now ? s->timers[t] - now : 0;
        n += (size_t)snprintf(buf + n, cap - n, "%s%s %.1fs", n ? " " : "",
                              t == TCP_TIMER_TIME_WAIT ? "2MSL" : tcp_timer_name((enum tcp_timer)t),
                              (double)left / 1e6);
    }
}

void ui_live_select(struct ui_live_state *st, int dir)
{
    ui_live_state_refresh_table(st);
    if (st->nrows == 0)
        return;
    int cur = -1;
    for (size_t i = 0; i < st->nrows; i++)
        if (st->have_sel && same_conn(&st->rows[i].st.tuple, &st->sel))
            cur = (int)i;
    int next = cur < 0 ? (dir > 0 ? 0 : (int)st->nrows - 1) : cur + dir;
    if (next < 0)
        next = 0;
    if (next >= (int)st->nrows)
        next = (int)st->nrows - 1;
    st->sel = st->rows[next].st.tuple;
    st->have_sel = true;
    st->follow = false;
    st->dirty = true;
}

static void draw_table(struct screen *s, struct ui_rect r, struct ui_live_state *st, uint64_t now)
{
    char line[256], l[32], rm[32], a[16], timers[96];
    /* Below ~100 columns the full row leaves no room for the kernel's state and
     * the timers (the 2MSL countdown): drop the descriptor, show the local end
     * as its port only (the address is the stack's, in the title bar). */
    bool compact = r.w < 96;
    if (compact)
        screen_printf(s, r.x, r.y, r.w, (uint16_t)(SC_TITLE | SA_BOLD),
                      "  %-6s %-15s %-12s %6s %6s  %-12s %s", "local", "remote", "state", "send-Q",
                      "recv-Q", "kernel", "timers");
    else
        screen_printf(s, r.x, r.y, r.w, (uint16_t)(SC_TITLE | SA_BOLD),
                      "  %-4s %-18s %-18s %-12s %6s %6s  %-12s %s", "sd", "local", "remote",
                      "state", "send-Q", "recv-Q", "kernel", "timers");
    if (st->nrows == 0) {
        screen_print(s, r.x + 2, r.y + 1, r.w - 2, SC_DIM,
                     "no connections \u2014 try: nc 10.7.0.2 7   or   curl http://10.7.0.2/");
        return;
    }
    /* Scroll so the selection is visible. */
    int sel = -1;
    for (size_t i = 0; i < st->nrows; i++)
        if (st->have_sel && same_conn(&st->rows[i].st.tuple, &st->sel))
            sel = (int)i;
    int first = sel >= r.h - 1 ? sel - (r.h - 2) : 0;
    for (int i = 0; i + first < (int)st->nrows && i < r.h - 1; i++) {
        const struct ui_live_row *row = &st->rows[i + first];
        const struct tcp_status *ts = &row->st;
        snprintf(l, sizeof l, "%s:%u", wire_addr_str(ts->tuple.laddr, a), ts->tuple.lport);
        snprintf(rm, sizeof rm, "%s:%u", wire_addr_str(ts->tuple.raddr, a), ts->tuple.rport);
        timers_text(ts, now, timers, sizeof timers);
        char sd[12];
        if (row->sd >= 0)
            snprintf(sd, sizeof sd, "%d", row->sd);
        else
            snprintf(sd, sizeof sd, "-");
        bool is_sel = i + first == sel;
        if (compact)
            snprintf(line, sizeof line, "%s :%-5u %-15s %-12s %6u %6u  %-12.12s %s",
                     is_sel ? "\u25b6" : " ", ts->tuple.lport, rm, tcp_state_name(ts->state),
                     ts->send_queue, ts->recv_queue, kernel_state_of(st, &ts->tuple), timers);
        else
            snprintf(line, sizeof line, "%s %-4s %-18s %-18s %-12s %6u %6u  %-12.12s %s",
                     is_sel ? "\u25b6" : " ", sd, l, rm, tcp_state_name(ts->state), ts->send_queue,
                     ts->recv_queue, kernel_state_of(st, &ts->tuple), timers);
        screen_print(s, r.x, r.y + 1 + i, r.w,
                     is_sel ? (uint16_t)(SC_HILITE | SA_REVERSE) : (uint16_t)SC_NORMAL, line);
    }
}

/* A two-host timeline made of the selected connection's events, so the
 * ladder view of `tcplab play` can draw it. */
static void build_selection(struct ui_live_state *st)
{
    struct scn_timeline *tl = &st->sel_tl;
    memset(tl, 0, sizeof *tl);
    tl->nhosts = 2;
    char a[16];
    snprintf(tl->hosts[0].name, sizeof tl->hosts[0].name, "%s", st->stack_name);
    snprintf(tl->hosts[0].label, sizeof tl->hosts[0].label, "%s:%u",
             wire_addr_str(st->sel.laddr, a), st->sel.lport);
    tl->hosts[0].addr = st->sel.laddr;
    snprintf(tl->hosts[1].name, sizeof tl->hosts[1].name, "kernel");
    snprintf(tl->hosts[1].label, sizeof tl->hosts[1].label, "%s:%u",
             wire_addr_str(st->sel.raddr, a), st->sel.rport);
    tl->hosts[1].addr = st->sel.raddr;
    tl->hosts[1].kernel = true;
    if (!st->sel_events)
        st->sel_events = calloc(UI_LIVE_MAX_EVENTS, sizeof *st->sel_events);
    if (!st->sel_events)
        return;
    size_t n = 0;
    for (size_t i = 0; i < st->nev; i++) {
        struct tev *ev = st->ev[(st->first + i) % UI_LIVE_MAX_EVENTS];
        struct tcp_tuple t;
        if (event_conn(st, ev, &t) && same_conn(&t, &st->sel))
            st->sel_events[n++] = ev;
    }
    tl->events = st->sel_events;
    tl->nevents = n;
}

void ui_render_live(struct screen *s, struct ui_live_state *st, uint64_t now,
                    const struct ui_view_opts *o)
{
    screen_clear(s);
    struct ui_live_layout l;
    ui_layout_live(&l, s->w, s->h);
    if (l.too_small) {
        ui_view_too_small(s, UI_MIN_W, UI_MIN_H);
        return;
    }
    ui_live_state_refresh_table(st);
    if (o->details) {
        /* The segment's fields need the rows more than an empty table does. */
        int need = (int)st->nrows + 1 < 2 ? 2 : (int)st->nrows + 1;
        if (need < l.table.h) {
            int spare = l.table.h - need;
            l.table.h = need;
            l.ladder_sep -= spare;
            l.ladder.y -= spare;
            l.ladder.h += spare;
        }
    }
    uint16_t a = (uint16_t)(SC_TITLE | SA_REVERSE);
    screen_fill(s, 0, 0, s->w, 1, ' ', a);
    screen_printf(s, 0, 0, s->w, (uint16_t)(a | SA_BOLD), " %s", st->title);
    char right[96];
    snprintf(right, sizeof right, "TUN  %zu connection%s  t=%.3fs ", st->nrows,
             st->nrows == 1 ? "" : "s", (double)now / 1e6);
    int rw = ui_text_width(right);
    screen_print(s, s->w - rw, 0, rw, a, right);
    screen_box(s, 0, 1, s->w, s->h - 1, false, SC_FRAME, NULL);
    screen_print(s, 2, 1, s->w - 4, (uint16_t)(SC_TITLE | SA_BOLD), " connections ");
    draw_table(s, l.table, st, now);

    /* Ladder of the selected connection. */
    screen_putc(s, 0, l.ladder_sep, 0x251c, SC_FRAME);
    screen_hline(s, 1, l.ladder_sep, s->w - 2, 0x2500, SC_FRAME);
    screen_putc(s, s->w - 1, l.ladder_sep, 0x2524, SC_FRAME);
    if (st->have_sel) {
        char t[128], b[16], c[16];
        snprintf(t, sizeof t, " ladder \u00b7 %s %s:%u \u21c4 kernel %s:%u%s ", st->stack_name,
                 wire_addr_str(st->sel.laddr, b), st->sel.lport, wire_addr_str(st->sel.raddr, c),
                 st->sel.rport, st->follow ? " (newest)" : "");
        screen_print(s, 2, l.ladder_sep, s->w - 4, (uint16_t)(SC_TITLE | SA_BOLD), t);
        build_selection(st);
        struct ui_model m;
        ui_model_init(&m, &st->sel_tl);
        ui_model_apply_until(&m, st->sel_tl.nevents);
        struct ui_rect ladder = l.ladder;
        const struct ui_cc *cc = &m.hosts[0].cc;
        if (cc->known && ladder.h > 4 && !o->details) {
            /* The stack's congestion window for this connection, on top
             * (d needs every row for the segment's fields). */
            char line[192], t2[128]; /* the name and the whole cwnd text */
            ui_cc_text(cc, ladder.w - 2 - (int)strlen(st->stack_name) - 2, t2, sizeof t2);
            snprintf(line, sizeof line, "%s: %s", st->stack_name, t2);
            screen_print(s, ladder.x + 1, ladder.y, ladder.w - 2, SC_TIMER, line);
            ladder.y++;
            ladder.h--;
        }
        if (o->cc_graph && !o->details && ladder.h >= 9) {
            /* The cwnd graph (key c) under the newest ladder rows. */
            struct ui_rect lad = ladder, gr = ladder;
            gr.h = ladder.h >= 14 ? 8 : 6;
            lad.h = ladder.h - gr.h - 1;
            gr.y = lad.y + lad.h + 1;
            ui_view_ladder(s, lad, &m, -1, 1.0, o);
            char gt[160];
            ui_cc_graph_title(&m, gt, sizeof gt);
            screen_hline(s, 1, gr.y - 1, s->w - 2, 0x2508, SC_FRAME);
            screen_printf(s, 2, gr.y - 1, s->w - 4, (uint16_t)(SC_TITLE | SA_BOLD), " %s ", gt);
            ui_view_cc_graph(s, gr, &m);
        } else if (o->details && ladder.h >= 10) {
            /* The newest segment in detail under a few ladder rows. */
            struct ui_rect lad = ladder, det = ladder;
            lad.h = 3;
            det.y += 4;
            det.h -= 4;
            ui_view_ladder(s, lad, &m, -1, 1.0, o);
            screen_hline(s, 1, det.y - 1, s->w - 2, 0x2508, SC_FRAME);
            ui_view_details(s, det, &m, ui_ladder_selected(&m, o), o);
        } else {
            ui_view_ladder(s, ladder, &m, -1, 1.0, o);
        }
        ui_model_free(&m);
    } else {
        screen_print(s, 2, l.ladder_sep, s->w - 4, (uint16_t)(SC_TITLE | SA_BOLD), " ladder ");
    }

    /* Event log: the newest at the bottom. */
    screen_putc(s, 0, l.log_sep, 0x251c, SC_FRAME);
    screen_hline(s, 1, l.log_sep, s->w - 2, 0x2500, SC_FRAME);
    screen_putc(s, s->w - 1, l.log_sep, 0x2524, SC_FRAME);
    screen_print(s, 2, l.log_sep, s->w - 4, (uint16_t)(SC_TITLE | SA_BOLD), " events ");
    int shown = st->log_count < (size_t)l.log.h ? (int)st->log_count : l.log.h;
    for (int i = 0; i < shown; i++) {
        size_t idx =
            (st->log_next + UI_LIVE_LOG_LINES - (size_t)shown + (size_t)i) % UI_LIVE_LOG_LINES;
        screen_print(s, l.log.x + 1, l.log.y + i, l.log.w - 2, SC_NORMAL,
                     o->absolute ? st->log_abs[idx] : st->log[idx]);
    }
    screen_print(
        s, 1, s->h - 1, s->w - 2, SC_FRAME,
        " \u2191\u2193 select  f follow newest  d details  c cwnd  a abs/rel  ? help  q quit ");
    if (o->help) {
        int w = 66, h = 13, x = (s->w - w) / 2, y = (s->h - h) / 2;
        screen_fill(s, x, y, w, h, ' ', SC_NORMAL);
        screen_box(s, x, y, w, h, true, (uint16_t)(SC_TITLE | SA_BOLD), "keys");
        static const char *const lines[] = {
            "\u2191 \u2193 / k j   select a connection (stops following)",
            "f         follow the newest connection",
            "d         the newest segment of the connection, field by field",
            "PgUp PgDn scroll the segment's fields",
            "c         the connection's congestion window over time (graph)",
            "a         absolute / relative sequence numbers",
            "?         this help (any key closes it)",
            "q         quit (the stack stops, connections are gone)",
            "table: like ss(8); 'kernel' is the kernel's own state",
        };
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
            screen_print(s, x + 3, y + 2 + (int)i, w - 6, SC_NORMAL, lines[i]);
    }
    st->dirty = false;
}
