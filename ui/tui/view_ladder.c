/*
 * view_ladder.c — the ladder diagram: one column per endpoint, time flowing
 * down, each segment an arrow labelled like `SYN seq=0 win=64240 <mss 1460>`,
 * and beside each column a lane with the socket calls, state changes, drops
 * and timer expiries of that endpoint.
 *
 * The arrow in flight is drawn up to where it has got to; a lost one stops
 * two thirds of the way with ✗. Rows scroll so the newest stays in sight unless the user
 * scrolled or selected an older row.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "view.h"
#include "tcp.h"

void ui_view_opts_defaults(struct ui_view_opts *o)
{
    memset(o, 0, sizeof *o);
    o->selected = -1;
    o->title = "";
    o->mode = "VIRTUAL";
    o->new_from = SIZE_MAX;
}

const char *ui_errno_name(long e)
{
    switch (-e) {
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case ECONNRESET:
        return "ECONNRESET";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case EADDRINUSE:
        return "EADDRINUSE";
    case ENOTCONN:
        return "ENOTCONN";
    case EPIPE:
        return "EPIPE";
    case EAGAIN:
        return "EAGAIN";
    case EINVAL:
        return "EINVAL";
    case EBADF:
        return "EBADF";
    case EISCONN:
        return "EISCONN";
    case EALREADY:
        return "EALREADY";
    case EINPROGRESS:
        return "EINPROGRESS";
    case ENOMEM:
        return "ENOMEM";
    case EMFILE:
        return "EMFILE";
    case EHOSTUNREACH:
        return "EHOSTUNREACH";
    case ENETUNREACH:
        return "ENETUNREACH";
    case EOPNOTSUPP:
        return "EOPNOTSUPP";
    default:
        return "error";
    }
}

void ui_flags_words(uint8_t flags, char *buf, size_t cap)
{
    static const struct {
        uint8_t bit;
        const char *word;
    } order[] = {{TCP_SYN, "SYN"}, {TCP_FIN, "FIN"}, {TCP_RST, "RST"}, {TCP_PSH, "PSH"},
                 {TCP_URG, "URG"}, {TCP_ACK, "ACK"}, {TCP_ECE, "ECE"}, {TCP_CWR, "CWR"}};
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (flags & order[i].bit)
            len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "",
                                    order[i].word);
    if (!len)
        snprintf(buf, cap, "(none)");
}

/* How much a label may leave out to fit between two columns, least
 * important first: the options, the "(retransmission)" that ↻ already says,
 * the window, then the long names of the probe marks. Flags, seq, ack and
 * len stay as long as anything can: they are what the step is about. Only
 * where columns are close (80x24, three or more endpoints) do the numbers
 * go, leaving the flags in words ("↻ SYN,ACK"), and last the flags as the
 * text trace writes them ("[S.]", then "↻ S."); such a label is never cut,
 * and the current step's is given whole on the caption line. */
enum {
    LABEL_NO_OPTIONS = 1,
    LABEL_NO_RTX_WORD = 2,
    LABEL_NO_WIN = 4,
    LABEL_SHORT_PROBE = 8,
    LABEL_FLAGS_ONLY = 16,
    LABEL_FLAG_LETTERS = 32,
    LABEL_BARE_LETTERS = 64, /* without the brackets: "↻ S." */
};

static const unsigned label_levels[] = {
    0,
    LABEL_NO_OPTIONS,
    LABEL_NO_OPTIONS | LABEL_NO_RTX_WORD,
    LABEL_NO_OPTIONS | LABEL_NO_RTX_WORD | LABEL_NO_WIN,
    LABEL_NO_OPTIONS | LABEL_NO_RTX_WORD | LABEL_NO_WIN | LABEL_SHORT_PROBE,
    LABEL_FLAGS_ONLY,
    LABEL_FLAGS_ONLY | LABEL_FLAG_LETTERS,
    LABEL_FLAGS_ONLY | LABEL_FLAG_LETTERS | LABEL_BARE_LETTERS,
};

static size_t build_label(const struct ui_model *m, const struct ui_arrow *a, bool absolute,
                          unsigned omit, char *buf, size_t cap);

/* The first level of label_levels whose label fits `width` (the last if
 * none does), the label in buf. */
static unsigned fit_label(const struct ui_model *m, const struct ui_arrow *a, bool absolute,
                          int width, char *buf, size_t cap)
{
    const size_t nlevels = sizeof label_levels / sizeof label_levels[0];
    for (size_t i = 0; i < nlevels; i++) {
        build_label(m, a, absolute, label_levels[i], buf, cap);
        if (ui_text_width(buf) <= width)
            return label_levels[i];
    }
    return label_levels[nlevels - 1];
}

size_t ui_segment_label_fit(const struct ui_model *m, const struct ui_arrow *a, bool absolute,
                            int width, char *buf, size_t cap)
{
    fit_label(m, a, absolute, width, buf, cap);
    return strlen(buf);
}

bool ui_segment_label_whole(const struct ui_model *m, const struct ui_arrow *a, bool absolute,
                            int width)
{
    char buf[200];
    return !(fit_label(m, a, absolute, width, buf, sizeof buf) & LABEL_FLAGS_ONLY) &&
           ui_text_width(buf) <= width;
}

size_t ui_segment_label(const struct ui_model *m, const struct ui_arrow *a, bool absolute,
                        char *buf, size_t cap)
{
    return build_label(m, a, absolute, 0, buf, cap);
}

static size_t build_label(const struct ui_model *m, const struct ui_arrow *a, bool absolute,
                          unsigned omit, char *buf, size_t cap)
{
    const struct tev *ev = m->tl->events[a->ev];
    if (a->udp) { /* a datagram has no flags or numbers: only its size */
        int w = snprintf(buf, cap, "UDP %zu bytes", ev->u.dgram.udp.payload_len);
        return w < 0 ? 0 : ((size_t)w < cap ? (size_t)w : (cap ? cap - 1 : 0));
    }
    const struct wire_tcp *t = &ev->u.seg.tcp;
    char flags[48];
    ui_flags_words(t->flags, flags, sizeof flags);
    uint32_t seq = t->seq, ack = t->ack;
    if (!absolute && a->rel_known) {
        seq = a->rel_seq;
        ack = a->rel_ack;
    }
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__)
    if (a->retransmission)
        ADD("\u21bb ");
    if (a->duplicate)
        ADD("dup ");
    if (omit & LABEL_FLAG_LETTERS) {
        char letters[10];
        wire_flags_str(t->flags, letters);
        ADD(omit & LABEL_BARE_LETTERS ? "%s" : "[%s]", letters);
        return n < cap ? n : cap - 1;
    }
    if (omit & LABEL_FLAGS_ONLY) {
        ADD("%s", flags);
        return n < cap ? n : cap - 1;
    }
    ADD("%s seq=%u", flags, seq);
    if (t->flags & TCP_ACK)
        ADD(" ack=%u", ack);
    if (t->payload_len)
        ADD(" len=%zu", t->payload_len);
    if (a->show_win && !(omit & LABEL_NO_WIN))
        ADD(" win=%u", t->win);
    const struct wire_tcp_opts *op = &t->opts;
    if ((op->has_mss || op->has_wscale || op->sack_permitted || op->has_ts || op->n_sack) &&
        !(omit & LABEL_NO_OPTIONS)) {
        const char *sep = "";
        ADD(" <");
        if (op->has_mss) {
            ADD("mss %u", op->mss);
            sep = ",";
        }
        if (op->has_wscale) {
            ADD("%swscale %u", sep, op->wscale);
            sep = ",";
        }
        if (op->sack_permitted) {
            ADD("%ssackOK", sep);
            sep = ",";
        }
        if (op->has_ts) {
            ADD("%sTS", sep);
            sep = ",";
        }
        if (op->n_sack) {
            /* As the text trace: "sack 1 {2921:4381}", numbered like the ack
             * (the blocks are in the acknowledged side's space). */
            uint32_t base = (t->flags & TCP_ACK) ? t->ack - ack : 0;
            ADD("%ssack %u ", sep, op->n_sack);
            for (unsigned k = 0; k < op->n_sack && k < WIRE_SACK_MAX_BLOCKS; k++)
                ADD("{%u:%u}", op->sack[k].left - base, op->sack[k].right - base);
        }
        ADD(">");
    }
    if (a->retransmission && !(omit & LABEL_NO_RTX_WORD))
        ADD(" (retransmission)");
    bool brief = omit & LABEL_SHORT_PROBE;
    if (a->probe == TCP_TIMER_KEEPALIVE + 1)
        ADD(brief ? " (keepalive)" : " (keepalive probe)");
    else if (a->probe == TCP_TIMER_PERSIST + 1)
        ADD(brief ? " (0-window probe)" : " (zero-window probe)");
#undef ADD
    return n < cap ? n : cap - 1;
}

static const char *shut_name(long how)
{
    switch (how) {
    case 0:
        return "SHUT_RD";
    case 1:
        return "SHUT_WR";
    case 2:
        return "SHUT_RDWR";
    default:
        return "?";
    }
}

size_t ui_item_text(const struct ui_model *m, const struct ui_item *it, char *buf, size_t cap)
{
    const struct tev *ev = m->tl->events[it->ev];
    int n = 0;
    switch (it->kind) {
    case UI_ITEM_STATE:
        n = snprintf(buf, cap, "%s", tcp_state_name(ev->u.state.to));
        break;
    case UI_ITEM_DROP:
        n = snprintf(buf, cap, "drop: %s", tev_drop_reason_name(ev->u.drop.reason));
        break;
    case UI_ITEM_KERNEL:
        n = snprintf(buf, cap, "%s",
                     ev->u.kernel.gone ? "(socket gone)" : tcp_state_name(ev->u.kernel.state));
        break;
    case UI_ITEM_TIMER:
        n = snprintf(buf, cap, "%s timeout", tcp_timer_name(ev->u.timer.which));
        break;
    case UI_ITEM_READY: {
        char got[32];
        n = snprintf(buf, cap, "poll: %s",
                     tcp_poll_str(ev->u.ready.revents, true, got, sizeof got));
        break;
    }
    case UI_ITEM_CALL: {
        long r = ev->u.call.result, arg = ev->u.call.arg;
        const char *name = tcp_call_name(ev->u.call.call);
        char args[32] = "";
        switch (ev->u.call.call) {
        case TCP_CALL_SHUTDOWN:
            snprintf(args, sizeof args, "%s", shut_name(arg));
            break;
        case TCP_CALL_LISTEN:
            snprintf(args, sizeof args, "%ld", arg);
            break;
        case TCP_CALL_BIND:
            snprintf(args, sizeof args, ":%ld", arg);
            break;
        case TCP_CALL_SEND:
        case TCP_CALL_SENDTO:
            snprintf(args, sizeof args, "%ld", arg);
            break;
        case TCP_CALL_ABORT:
            name = "close";
            snprintf(args, sizeof args, "linger 0");
            break;
        case TCP_CALL_FCNTL:
            snprintf(args, sizeof args, "O_NONBLOCK");
            break;
        case TCP_CALL_POLL: /* made, waiting (its return is a UI_ITEM_READY) */
            tcp_poll_str((unsigned)arg, true, args, sizeof args);
            break;
        default:
            break;
        }
        if (ev->u.call.call == TCP_CALL_GETSOCKOPT) /* the result is the error read */
            n = snprintf(buf, cap, "SO_ERROR = %s", r < 0 ? ui_errno_name(r) : "0");
        else if (r == -EINPROGRESS)
            n = snprintf(buf, cap, "%s(%s)", name, args); /* began; returns later */
        else if (r < 0)
            n = snprintf(buf, cap, "%s(%s) = %s", name, args, ui_errno_name(r));
        else if (it->returned)
            n = snprintf(buf, cap, "%s() = %ld", name, r);
        else if (ev->u.call.call == TCP_CALL_SOCKET)
            n = snprintf(buf, cap, "socket() = %ld", r);
        else if (ev->u.call.call == TCP_CALL_ACCEPT)
            n = snprintf(buf, cap, "%s() \u2192 fd %ld", name, r);
        else if (ev->u.call.call == TCP_CALL_RECV || ev->u.call.call == TCP_CALL_SEND ||
                 ev->u.call.call == TCP_CALL_SENDTO || ev->u.call.call == TCP_CALL_RECVFROM)
            n = snprintf(buf, cap, "%s(%s) = %ld", name, args, r);
        else
            n = snprintf(buf, cap, "%s(%s)", name, args);
        break;
    }
    case UI_ITEM_NONE:
        buf[0] = 0;
        break;
    }
    return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

/* A drop reason in a learner's words, for a narrow lane. */
static const char *drop_short(int reason)
{
    switch (reason) {
    case TCP_DROP_UNACCEPTABLE:
        return "unacceptable";
    case TCP_DROP_SYN_CHALLENGED:
    case TCP_DROP_RST_CHALLENGED:
        return "challenge ACK";
    case TCP_DROP_RST_OUT_OF_WINDOW:
        return "RST outside";
    case TCP_DROP_RST_IN_TIME_WAIT:
        return "RST ignored";
    case TCP_DROP_BACKLOG_FULL:
        return "backlog full";
    case TCP_DROP_RCV_WINDOW_FULL:
        return "window full";
    default:
        return NULL;
    }
}

/* Replace the first `from` in buf by `to` (to no longer than from). */
static bool shorten(char *buf, const char *from, const char *to)
{
    char *p = strstr(buf, from);
    if (!p)
        return false;
    size_t fl = strlen(from), tl = strlen(to);
    memmove(p + tl, p + fl, strlen(p + fl) + 1);
    memcpy(p, to, tl);
    return true;
}

size_t ui_item_text_fit(const struct ui_model *m, const struct ui_item *it, int width, char *buf,
                        size_t cap)
{
    ui_item_text(m, it, buf, cap);
    /* Shorter and shorter, the call's name and its result staying:
     * "send(58400) = 58400" → "send(58400)=58400" → "send()=58400";
     * "drop: unacceptable" → "drop unacceptable" → "✗ unacceptable";
     * "keepalive timeout" → "keepalive fired"; lesson 21's calls keep what
     * they say: "fcntl(O_NONBLOCK)" → "O_NONBLOCK", "SO_ERROR = ECONNREFUSED"
     * → "SO_ERROR=ECONNREFUSED" → "ECONNREFUSED", "poll: OUT|ERR|HUP" →
     * "poll OUT|ERR|HUP" → "OUT|ERR|HUP" (the poll() made is above it);
     * between close columns a drop keeps its first word ("✗ challenge"). */
    for (int level = 1; level <= 4 && ui_text_width(buf) > width; level++) {
        switch (level) {
        case 1:
            while (shorten(buf, " = ", "="))
                ;
            shorten(buf, " \u2192 ", "\u2192");
            shorten(buf, "drop: ", "drop ");
            shorten(buf, "poll: ", "poll ");
            shorten(buf, " timeout", " fired");
            break;
        case 2: {
            char *open = strchr(buf, '('), *close = open ? strchr(open, ')') : NULL;
            if (open && close && close[1] && close > open + 1)
                memmove(open + 1, close, strlen(close) + 1); /* args go, the result stays */
            if (!strcmp(buf, "fcntl(O_NONBLOCK)"))           /* the flag is what it sets */
                shorten(buf, "fcntl(O_NONBLOCK)", "O_NONBLOCK");
            if (!strncmp(buf, "drop ", 5) && strlen(buf) + 3 < cap) {
                memmove(buf + 4, buf + 5, strlen(buf + 5) + 1);
                memcpy(buf, "\u2717 ", 4); /* "✗ " is 4 bytes */
            }
            break;
        }
        default:
            shorten(buf, "()", "");
            if (!strncmp(buf, "SO_ERROR=", 9) && strcmp(buf + 9, "0")) /* the error taken */
                shorten(buf, "SO_ERROR=", "");
            if (it->kind == UI_ITEM_READY)
                shorten(buf, "poll ", "");
            if (it->kind == UI_ITEM_DROP) {
                const char *word = drop_short(m->tl->events[it->ev]->u.drop.reason);
                if (word)
                    snprintf(buf, cap, "\u2717 %s", word);
            }
            break;
        case 4: /* a drop's first word: "✗ challenge" for "✗ challenge ACK" */
            if (it->kind == UI_ITEM_DROP && !strncmp(buf, "\u2717 ", 4)) {
                char *space = strchr(buf + 4, ' ');
                if (space)
                    *space = 0;
            }
            break;
        }
    }
    return strlen(buf);
}

static uint16_t item_attr(const struct ui_model *m, const struct ui_item *it)
{
    const struct tev *ev = m->tl->events[it->ev];
    switch (it->kind) {
    case UI_ITEM_STATE:
        return SC_STATE | SA_BOLD;
    case UI_ITEM_CALL:
        return ev->u.call.result < 0 && ev->u.call.result != -EINPROGRESS ? (SC_LOST | SA_BOLD)
                                                                          : (SC_CALL | SA_BOLD);
    case UI_ITEM_READY:
        return ev->u.ready.revents & TCP_POLLERR ? (SC_LOST | SA_BOLD) : (SC_CALL | SA_BOLD);
    case UI_ITEM_DROP:
        return SC_LOST;
    case UI_ITEM_TIMER:
        return SC_TIMER;
    case UI_ITEM_KERNEL:
        return SC_STATE | SA_BOLD;
    default:
        return SC_NORMAL;
    }
}

void ui_ladder_geometry(int w, int nhosts, struct ui_ladder_geom *g)
{
    memset(g, 0, sizeof *g);
    g->ncols = nhosts < 1 ? 1 : (nhosts > UI_MAX_HOSTS ? UI_MAX_HOSTS : nhosts);
    int lane = (w + 4) / 5;
    if (lane < 12)
        lane = 12;
    if (lane > 18)
        lane = 18;
    g->lane_left = g->lane_right = lane;
    int first = lane, last = w - 1 - lane;
    if (g->ncols == 1) {
        g->col_x[0] = first;
        return;
    }
    for (int i = 0; i < g->ncols; i++)
        g->col_x[i] = first + (last - first) * i / (g->ncols - 1);
}

int ui_ladder_selected(const struct ui_model *m, const struct ui_view_opts *o)
{
    if (o->selected >= 0 && (size_t)o->selected < m->nrows)
        return o->selected;
    for (size_t r = m->nrows; r-- > 0;)
        if (m->rows[r].has_arrow)
            return (int)r;
    return -1;
}

/* Draw one arrow on row y. The finished picture of the arrow is composed
 * first (shaft, head or ✗, label); then only the part the arrow has
 * travelled so far is copied, so the label is revealed as it passes. */
/* Where an arrow runs between its two columns, and how it looks. */
struct arrow_geom {
    int xs, xd, dir; /* sender's and receiver's column, +1 rightwards */
    int left, span;  /* first cell strictly between the columns, and how many */
    int len;         /* cells the shaft covers (a lost one stops short) */
    uint16_t attr;
};

static bool arrow_geometry(int x0, const struct ui_ladder_geom *g, const struct ui_model *m,
                           const struct ui_arrow *a, const struct ui_view_opts *o,
                           struct arrow_geom *ag)
{
    if (a->from < 0 || a->to < 0 || a->from >= g->ncols || a->to >= g->ncols || a->from == a->to)
        return false;
    ag->xs = x0 + g->col_x[a->from];
    ag->xd = x0 + g->col_x[a->to];
    ag->dir = ag->xd > ag->xs ? 1 : -1;
    ag->left = (ag->dir > 0 ? ag->xs : ag->xd) + 1;
    ag->span = (ag->xd - ag->xs) * ag->dir - 1;
    if (ag->span < 4 || ag->span > 1000)
        return false;
    ag->len = a->lost ? (int)(ag->span * UI_LOST_AT) : ag->span;
    if (a->lost && ag->len > ag->span - 6)
        ag->len = ag->span - 6; /* narrow: "✗ lost" must still fit beside the head */
    if (a->lost) {
        /* A lost segment dies two thirds across, or further when its label
         * needs the room (narrow screens), leaving space for "✗ lost". */
        char label[160];
        ui_segment_label_fit(m, a, o->absolute, ag->span - 10, label, sizeof label);
        int need = ui_text_width(label) + 4;
        if (need > ag->len)
            ag->len = need < ag->span - 6 ? need : ag->span - 6;
    }
    ag->attr = a->lost             ? (uint16_t)SC_LOST
               : a->retransmission ? (uint16_t)SC_RTX
                                   : (uint16_t)(a->from == 0 ? SC_HOST_A : SC_HOST_B);
    /* What the current step sent stands out; the history stays plain. */
    if (a->ev >= o->new_from)
        ag->attr |= SA_BOLD;
    return true;
}

static void draw_arrow(struct screen *s, int x0, int y, const struct ui_ladder_geom *g,
                       const struct ui_model *m, const struct ui_arrow *a, double progress,
                       bool selected, const struct ui_view_opts *o)
{
    struct arrow_geom ag;
    if (!arrow_geometry(x0, g, m, a, o, &ag))
        return;
    int dir = ag.dir, left = ag.left, span = ag.span, len = ag.len;
    uint16_t attr = ag.attr;
    uint16_t lattr = (uint16_t)(attr | (selected ? SA_REVERSE : 0));
    char label[160];
    ui_segment_label_fit(m, a, o->absolute, len - 4, label, sizeof label);

    struct scr_cell cells[1000];
    struct screen row = {.w = span, .h = 1, .ascii = s->ascii, .cells = cells};
    screen_clear(&row);
    int shaft0 = dir > 0 ? 0 : span - len;
    screen_hline(&row, shaft0, 0, len, 0x2500, attr);
    int headj = dir > 0 ? len - 1 : span - len;
    if (a->lost)
        screen_putc(&row, headj, 0, 0x2717, (uint16_t)(SC_LOST | SA_BOLD));
    else
        screen_putc(&row, headj, 0, dir > 0 ? 0x25b6 : 0x25c0, (uint16_t)(attr | SA_BOLD));
    int room = len - 4;
    if (room >= 3) {
        int lw = ui_text_width(label);
        if (lw > room)
            lw = room;
        int lx = shaft0 + (len - lw - 2) / 2;
        screen_putc(&row, lx, 0, ' ', attr);
        screen_print(&row, lx + 1, 0, lw, lattr, label);
        screen_putc(&row, lx + 1 + lw, 0, ' ', attr);
    }
    if (a->lost)
        screen_print(&row, dir > 0 ? headj + 2 : headj - 6, 0, 5, (uint16_t)(SC_LOST | SA_BOLD),
                     "lost");

    double stop = a->lost ? UI_LOST_AT : 1.0;
    bool settled = progress >= stop;
    int reach = settled ? span : (int)(progress * span + 0.5);
    if (reach < 1)
        reach = 1;
    for (int j = 0; j < span; j++) {
        int k = dir > 0 ? j : span - 1 - j; /* how far along the journey this cell is */
        if (k >= reach)
            continue;
        const struct scr_cell *c = &cells[j];
        if (!settled && k == reach - 1) {
            screen_putc(s, left + j, y, dir > 0 ? 0x25b6 : 0x25c0, (uint16_t)(attr | SA_BOLD));
            continue;
        }
        if (c->width == 0)
            continue;
        if (c->width == 2 && (dir > 0 ? k + 1 >= reach : false))
            continue;
        screen_putc(s, left + j, y, c->ch, c->attr);
    }
}

/* The room an endpoint's lane has on a row with an arrow. */
static int lane_room(int x0, const struct ui_ladder_geom *g, int w, int host)
{
    int col = x0 + g->col_x[host];
    return host == 0 && g->ncols > 1 ? g->lane_left - 1
           : host == g->ncols - 1
               ? x0 + w - col - 2
               : (host + 1 < g->ncols ? x0 + g->col_x[host + 1] : x0 + w) - col - 3;
}

/* An item in an endpoint's lane. Text too long for an outer lane, on a row
 * without an arrow, runs inside the column instead of being cut. */
static void draw_lane(struct screen *s, int x0, int y, const struct ui_ladder_geom *g, int w,
                      const struct ui_model *m, int host, const struct ui_item *it, bool free_row)
{
    char text[96];
    int col = x0 + g->col_x[host];
    int room = lane_room(x0, g, w, host);
    /* Shortened by rule first; only what still does not fit an outer lane
     * runs, whole, into a free row's column. */
    ui_item_text_fit(m, it, room, text, sizeof text);
    if (free_row && g->ncols > 1 && (host == 0 || host == g->ncols - 1) &&
        ui_text_width(text) > room)
        ui_item_text(m, it, text, sizeof text);
    uint16_t attr = item_attr(m, it);
    int tw = ui_text_width(text);
    if (host == 0 && g->ncols > 1) {
        if (tw > room && free_row) {
            screen_print(s, col + 2, y, x0 + g->col_x[1] - col - 3, attr, text);
            return;
        }
        if (tw > room)
            tw = room;
        screen_print(s, col - 1 - tw, y, room, attr, text);
    } else if (host == g->ncols - 1) {
        if (tw > room && free_row && g->ncols > 1) {
            int left = x0 + g->col_x[host - 1] + 2;
            int x = col - 1 - tw < left ? left : col - 1 - tw;
            screen_print(s, x, y, col - 1 - x, attr, text);
            return;
        }
        screen_print(s, col + 2, y, room, attr, text);
    } else {
        int next = host + 1 < g->ncols ? x0 + g->col_x[host + 1] : x0 + w;
        screen_print(s, col + 2, y, next - col - 3, attr, text);
    }
}

/* ---- the time-true ladder (key t) ---------------------------------------------- */

/* An arrow that spends dy rows on the link: a shaft falling from the sender's
 * row y to the receiver's row y + dy, drawn only where it is inside rows
 * [top, bot] of the screen. */
static void draw_slant(struct screen *s, int x0, int y, int dy, int top, int bot,
                       const struct ui_ladder_geom *g, const struct ui_model *m,
                       const struct ui_arrow *a, double progress, bool selected,
                       const struct ui_view_opts *o, bool label_pass)
{
    struct arrow_geom ag;
    if (!arrow_geometry(x0, g, m, a, o, &ag))
        return;
    int xs = ag.xs, dir = ag.dir, len = ag.len;
    uint16_t attr = ag.attr;
    double stop = a->lost ? UI_LOST_AT : 1.0;
    int reach = progress >= stop ? len : (int)(progress / stop * len + 0.5);
    /* The row of the k-th cell of the journey. */
#define ROW_AT(k) (y + (len > 1 ? (int)((double)(k)*dy / (len - 1) + 0.5) : 0))
    for (int k = 0; k < len && k < reach && !label_pass; k++) {
        int cy = ROW_AT(k), x = xs + dir * (k + 1);
        if (cy < top || cy > bot)
            continue;
        uint32_t ch = 0x2500;
        if (k == len - 1)
            ch = a->lost ? 0x2717 : dir > 0 ? 0x25b6 : 0x25c0;
        else if (ROW_AT(k + 1) != cy)
            ch = dir > 0 ? 0x2572 : 0x2571; /* ╲ going right, ╱ going left */
        screen_putc(s, x, cy, ch, (uint16_t)(attr | (ch == 0x2500 ? 0 : SA_BOLD)));
        if (k == len - 1 && a->lost)
            screen_print(s, dir > 0 ? x + 2 : x - 6, cy, 5, (uint16_t)(SC_LOST | SA_BOLD), "lost");
    }
    /* The label on the middle row, centred on the shaft there (drawn after
     * every shaft, so a crossing arrow does not cut it). */
    if (!label_pass || reach < len / 2)
        return;
    int mid = ROW_AT(len / 2), head = ROW_AT(len - 1);
#undef ROW_AT
    if (reach >= len && head >= top && head <= bot) /* heads stay on top too */
        screen_putc(s, xs + dir * len, head,
                    a->lost   ? 0x2717
                    : dir > 0 ? 0x25b6
                              : 0x25c0,
                    (uint16_t)(attr | SA_BOLD));
    if (mid < top || mid > bot)
        return;
    char label[160];
    ui_segment_label_fit(m, a, o->absolute, len - 4, label, sizeof label);
    int lw = ui_text_width(label);
    if (lw > len - 4)
        lw = len - 4;
    if (lw < 3)
        return;
    int cx = xs + dir * (len / 2 + 1);
    int lx = cx - lw / 2;
    screen_putc(s, lx - 1, mid, ' ', attr);
    screen_print(s, lx, mid, lw, (uint16_t)(attr | (selected ? SA_REVERSE : 0)), label);
    screen_putc(s, lx + lw, mid, ' ', attr);
}

static void fmt_span(uint64_t us, char *buf, size_t cap)
{
    if (us >= 1000000)
        snprintf(buf, cap, "%.1f s", (double)us / 1e6);
    else
        snprintf(buf, cap, "%.0f ms", (double)us / 1e3);
}

static void ladder_time(struct screen *s, struct ui_rect r, const struct ui_model *m,
                        int flying_row, double progress, const struct ui_view_opts *o,
                        const struct ui_ladder_geom *g)
{
    struct ui_time_layout tl;
    if (ui_time_layout(m, &tl) < 0)
        return;
    int sel = ui_ladder_selected(m, o);
    int h = r.h, y0 = r.y;
    int bottom = tl.height - o->ladder_scroll; /* one past the last ladder row shown */
    int top = bottom - h;
    if (top > 0 && h > 1) { /* the first line says what is above */
        h--;
        y0++;
        top = bottom - h;
    }
    if (o->selected >= 0 && sel >= 0)
        for (size_t i = 0; i < tl.n; i++)
            if (tl.v[i].arrow && tl.v[i].row == (size_t)sel) {
                if (tl.v[i].y < top)
                    top = tl.v[i].y;
                if (tl.v[i].y >= top + h)
                    top = tl.v[i].y - h + 1;
            }
    if (top < 0)
        top = 0;
    int bot = y0 + h - 1; /* last screen row of the ladder */
    for (int i = 0; i < r.h; i++)
        for (int c = 0; c < g->ncols; c++)
            screen_putc(s, r.x + g->col_x[c], r.y + i, 0x2502, SC_FRAME);
    if (y0 > r.y) {
        long above = 0;
        for (size_t i = 0; i < tl.n; i++)
            above += tl.v[i].y < top;
        screen_printf(s, r.x + 1, r.y, g->lane_left - 2, SC_DIM, "\u2191 %ld more", above);
    }
    /* Folded spans: a dotted row saying how long the quiet lasted. */
    for (size_t b = 0; b < tl.nbreaks; b++) {
        int y = y0 + tl.breaks[b].y - top;
        if (y < y0 || y > bot)
            continue;
        int xa = r.x + g->col_x[0], xb = r.x + g->col_x[g->ncols - 1];
        screen_hline(s, xa, y, xb - xa + 1, 0x2504, SC_DIM);
        for (int c = 0; c < g->ncols; c++)
            screen_putc(s, r.x + g->col_x[c], y, 0x250a, SC_FRAME);
        char t[48], span[24];
        fmt_span(tl.breaks[b].gap_us, span, sizeof span);
        snprintf(t, sizeof t, " \u2248 %s later ", span);
        int tw = ui_text_width(t);
        screen_print(s, xa + (xb - xa - tw) / 2, y, tw, (uint16_t)(SC_TIMER | SA_BOLD), t);
    }
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < tl.n; i++) {
            const struct ui_time_vrow *v = &tl.v[i];
            int y = y0 + v->y - top, dy = v->arr_y - v->y;
            if (!v->arrow)
                continue;
            const struct ui_arrow *a = &m->rows[v->row].arrow;
            double p = (int)v->row == flying_row ? progress : 1.0;
            bool selected = (o->details || o->selected >= 0) && (int)v->row == sel;
            if (dy == 0 && pass == 0 && y >= y0 && y <= bot)
                draw_arrow(s, r.x, y, g, m, a, p, selected, o);
            else if (dy > 0)
                draw_slant(s, r.x, y, dy, y0, bot, g, m, a, p, selected, o, pass == 1);
        }
    for (size_t i = 0; i < tl.n; i++) {
        const struct ui_time_vrow *v = &tl.v[i];
        const struct ui_row *row = &m->rows[v->row];
        int y = y0 + v->y - top;
        if (y < y0 || y > bot)
            continue;
        for (int c = 0; c < g->ncols; c++)
            if ((v->lanes & (1u << c)) && row->lane[c].kind != UI_ITEM_NONE)
                draw_lane(s, r.x, y, g, r.w, m, c, &row->lane[c], !v->arrow);
    }
    ui_time_layout_free(&tl);
}

int ui_ladder_caption_row(const struct ui_model *m, int x0, const struct ui_ladder_geom *g,
                          const struct ui_view_opts *o)
{
    int sel = o->selected >= 0 ? ui_ladder_selected(m, o) : -1;
    for (long ri = (long)m->nrows - 1; ri >= 0; ri--) {
        const struct ui_row *row = &m->rows[ri];
        if (!row->has_arrow)
            continue;
        bool mine = sel >= 0 ? ri == sel : row->arrow.ev >= o->new_from;
        if (!mine)
            continue;
        struct arrow_geom ag;
        if (!arrow_geometry(x0, g, m, &row->arrow, o, &ag))
            return -1;
        return ui_segment_label_whole(m, &row->arrow, o->absolute, ag.len - 4) ? -1 : (int)ri;
    }
    return -1;
}

void ui_view_ladder(struct screen *s, struct ui_rect r, const struct ui_model *m, int flying_row,
                    double progress, const struct ui_view_opts *o)
{
    if (r.h <= 0 || r.w <= 0)
        return;
    struct ui_ladder_geom g;
    ui_ladder_geometry(r.w, (int)m->nhosts, &g);
    screen_fill(s, r.x, r.y, r.w, r.h, ' ', SC_NORMAL);
    if (o->time_true) {
        ladder_time(s, r, m, flying_row, progress, o, &g);
        return;
    }

    /* Rows shown: [first, first + avail). When older rows are hidden, the
     * top line says how many. */
    long shown = (long)m->nrows;
    int sel = ui_ladder_selected(m, o);
    int avail = r.h, y0 = r.y;
    int cap_row = r.h >= 6 ? ui_ladder_caption_row(m, r.x, &g, o) : -1;
    if (cap_row >= 0) { /* the last line gives that segment whole */
        const struct ui_arrow *a = &m->rows[cap_row].arrow;
        char label[200], line[320]; /* room for both names and the whole label */
        ui_segment_label_fit(m, a, o->absolute,
                             r.w - 9 - ui_text_width(m->hosts[a->from].name) -
                                 ui_text_width(m->hosts[a->to].name),
                             label, sizeof label);
        snprintf(line, sizeof line, "\u25b6 %s \u2192 %s: %s", m->hosts[a->from].name,
                 m->hosts[a->to].name, label);
        uint16_t at = (uint16_t)((a->lost        ? SC_LOST
                                  : a->from == 0 ? SC_HOST_A
                                                 : SC_HOST_B) |
                                 SA_BOLD);
        screen_print(s, r.x + 1, r.y + r.h - 1, r.w - 2, at, line);
        avail--;
    } else if (r.h >= 6 && o->selected < 0) {
        /* No segment wants it: the last line gives the step's newest lane
         * item whole when its lane shows it shortened ("ECONNREFUSED" for
         * "SO_ERROR = ECONNREFUSED"). */
        for (long ri = (long)m->nrows - 1; ri >= 0 && cap_row < 0; ri--)
            for (int h = g.ncols - 1; h >= 0 && cap_row < 0; h--) {
                const struct ui_item *it = &m->rows[ri].lane[h];
                if (it->kind == UI_ITEM_NONE || it->ev < o->new_from)
                    continue;
                char full[96], fit[96], line[200];
                ui_item_text(m, it, full, sizeof full);
                ui_item_text_fit(m, it, lane_room(r.x, &g, r.w, h), fit, sizeof fit);
                if (!strcmp(full, fit))
                    continue;
                snprintf(line, sizeof line, "\u25b6 %s: %s", m->hosts[h].name, full);
                screen_print(s, r.x + 1, r.y + r.h - 1, r.w - 2,
                             (uint16_t)((h == 0 ? SC_HOST_A : SC_HOST_B) | SA_BOLD), line);
                cap_row = (int)ri; /* the line is taken */
                avail--;
            }
    }
    long first = shown - avail - o->ladder_scroll;
    if (o->selected >= 0 && sel >= 0 && sel < first)
        first = sel;
    if (first > 0 && avail > 1) {
        avail--;
        y0++;
        first = shown - avail - o->ladder_scroll;
        if (o->selected >= 0 && sel >= 0) {
            if (sel < first)
                first = sel;
            if (sel >= first + avail)
                first = sel - avail + 1;
        }
    }
    if (first < 0)
        first = 0;
    for (int i = 0; i < r.h - (cap_row >= 0); i++)
        for (int c = 0; c < g.ncols; c++)
            screen_putc(s, r.x + g.col_x[c], r.y + i, 0x2502, SC_FRAME);
    if (y0 > r.y)
        screen_printf(s, r.x + 1, r.y, g.lane_left - 2, SC_DIM, "\u2191 %ld more", first);

    for (int i = 0; i < avail; i++) {
        int y = y0 + i;
        long ri = first + i;
        if (ri >= shown)
            break;
        const struct ui_row *row = &m->rows[ri];
        if (row->has_arrow) {
            double p = (int)ri == flying_row ? progress : 1.0;
            bool selected = (o->details || o->selected >= 0) && (int)ri == sel;
            draw_arrow(s, r.x, y, &g, m, &row->arrow, p, selected, o);
        }
        for (int h = 0; h < g.ncols; h++)
            if (row->lane[h].kind != UI_ITEM_NONE)
                draw_lane(s, r.x, y, &g, r.w, m, h, &row->lane[h], !row->has_arrow);
    }
}
