/*
 * view_diagram.c — the RFC 9293 state diagram, drawn from the engine's own
 * table of legal transitions (tcp_transitions[], stack/tcp_state.h), so the
 * picture can never disagree with what the engine does.
 *
 * Two forms:
 *  - one line per endpoint, always on screen: the edge just taken (lit), the
 *    current state (highlighted) and the states it can go to next;
 *  - the whole graph (key g): every state of Figure 5 with its outgoing
 *    edges, the endpoints' names beside their current states and the edge
 *    each took last drawn heavy (━━▶) and lit. The edges every synchronized
 *    state has to CLOSED (RST, ABORT, timeout) are summarised in one line.
 */
#include <stdio.h>
#include <string.h>

#include "view.h"

static const struct tcp_transition *find_edge(enum tcp_state from, enum tcp_state to)
{
    for (size_t i = 0; i < tcp_ntransitions; i++)
        if (tcp_transitions[i].from == from && tcp_transitions[i].to == to)
            return &tcp_transitions[i];
    return NULL;
}

/* RST / ABORT / timeout edges to CLOSED: summarised, not drawn one by one. */
static bool summary_edge(const struct tcp_transition *t)
{
    if (t->to != TCP_CLOSED || strstr(t->event, "2MSL"))
        return false;
    return strstr(t->event, "RST") || strstr(t->event, "ABORT") || strstr(t->event, "timeout");
}

static void edge_text(const struct tcp_transition *t, char *buf, size_t cap)
{
    if (t->action && *t->action)
        snprintf(buf, cap, "%s/%s", t->event, t->action);
    else
        snprintf(buf, cap, "%s", t->event);
}

void ui_view_diagram_line(struct screen *s, int x, int y, int w, const struct ui_model *m, int host)
{
    const struct ui_host *h = &m->hosts[host];
    enum tcp_state cur, prev;
    bool known = ui_host_state(h, &cur, &prev);
    char buf[128];
    int used = screen_printf(s, x, y, w, SC_DIM, "%-8.8s ", h->name);
    const struct tcp_transition *last = known && prev != cur ? find_edge(prev, cur) : NULL;
    /* A kernel host's states are sampled: without an edge between the two
     * seen, show only where it is. */
    if (known && prev != cur && (last || h->have_state)) {
        used += screen_print(s, x + used, y, w - used, SC_DIM, tcp_state_name(prev));
        if (last)
            edge_text(last, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "%s", h->cause ? h->cause : "");
        used += screen_print(s, x + used, y, w - used, (uint16_t)(SC_EDGE | SA_BOLD), " \u2501");
        used += screen_print(s, x + used, y, w - used, (uint16_t)(SC_EDGE | SA_BOLD), buf);
        used +=
            screen_print(s, x + used, y, w - used, (uint16_t)(SC_EDGE | SA_BOLD), "\u2501\u25b6 ");
    } else if (known && ui_host_unseen(h, buf, sizeof buf)) {
        /* Sampled: say what was passed unseen, with a dotted edge. */
        used += screen_print(s, x + used, y, w - used, SC_DIM, tcp_state_name(h->kernel_sock_prev));
        used += screen_printf(s, x + used, y, w - used, SC_DIM, " \u2504%s\u2504\u25b6 ", buf);
    }
    used += screen_printf(s, x + used, y, w - used, (uint16_t)(SC_HILITE | SA_REVERSE | SA_BOLD),
                          "[%s]", tcp_state_name(cur));
    /* Where it can go next, straight from the table (without the RST/ABORT
     * edges every state has). */
    bool any = false;
    for (size_t i = 0; i < tcp_ntransitions && used < w; i++) {
        const struct tcp_transition *t = &tcp_transitions[i];
        if (t->from != cur || summary_edge(t))
            continue;
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            if (tcp_transitions[j].from == cur && tcp_transitions[j].to == t->to &&
                !summary_edge(&tcp_transitions[j]))
                dup = true;
        if (dup)
            continue;
        used += screen_print(s, x + used, y, w - used, SC_DIM, any ? " | " : " \u2192 ");
        used += screen_print(s, x + used, y, w - used, SC_DIM, tcp_state_name(t->to));
        any = true;
    }
}

/* Figure 5's states, top to bottom. */
static const enum tcp_state graph_order[] = {
    TCP_CLOSED,     TCP_LISTEN,  TCP_SYN_SENT,  TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_FIN_WAIT_1,
    TCP_FIN_WAIT_2, TCP_CLOSING, TCP_TIME_WAIT, TCP_CLOSE_WAIT,   TCP_LAST_ACK,
};

size_t ui_graph_edges(enum tcp_state (*edges)[2], size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < tcp_ntransitions; i++) {
        if (summary_edge(&tcp_transitions[i]))
            continue;
        if (n < max) {
            edges[n][0] = tcp_transitions[i].from;
            edges[n][1] = tcp_transitions[i].to;
        }
        n++;
    }
    return n;
}

/* Lines the edges out of `st` need in `w` columns (wrapping between edges). */
static int edges_lines(enum tcp_state st, int w)
{
    int lines = 1, used = 0;
    for (size_t i = 0; i < tcp_ntransitions; i++) {
        const struct tcp_transition *t = &tcp_transitions[i];
        if (t->from != st || summary_edge(t))
            continue;
        char label[96];
        edge_text(t, label, sizeof label);
        int need = ui_text_width(label) + 4 + ui_text_width(tcp_state_name(t->to));
        if (used > 0 && used + need > w) {
            lines++;
            used = 0;
        }
        used += need + 2;
    }
    return lines;
}

static enum tcp_state cur_state(const struct ui_host *h)
{
    enum tcp_state cur;
    ui_host_state(h, &cur, NULL);
    return cur;
}

/* The host's last change was from -> to. */
static bool lit_by(const struct ui_host *h, enum tcp_state from, enum tcp_state to)
{
    enum tcp_state cur, prev;
    return ui_host_state(h, &cur, &prev) && prev == from && cur == to;
}

/* A state matters now if an endpoint is in it or just left it. */
static bool state_relevant(const struct ui_model *m, enum tcp_state st)
{
    for (size_t h = 0; h < m->nhosts; h++) {
        enum tcp_state cur, prev;
        bool known = ui_host_state(&m->hosts[h], &cur, &prev);
        if (cur == st || (known && prev == st))
            return true;
    }
    return false;
}

/* ---- the picture: RFC 9293 Figure 5 laid out by hand -------------------------
 *
 * Where each state sits and how each edge of tcp_transitions[] runs (its
 * corners, its arrow head, where its label goes). The labels themselves are
 * the table's own words; a unit test checks that every drawn edge is in the
 * table and every Figure 5 edge of the table is drawn. 96 x 20 cells. */

#define PIC_W 96
#define PIC_H 19

struct pic_node {
    enum tcp_state st;
    int x, y;
};
static const struct pic_node pic_nodes[] = {
    {TCP_CLOSED, 44, 0},      {TCP_LISTEN, 14, 4},       {TCP_SYN_SENT, 74, 4},
    {TCP_SYN_RECEIVED, 8, 8}, {TCP_ESTABLISHED, 42, 10}, {TCP_FIN_WAIT_1, 4, 12},
    {TCP_CLOSE_WAIT, 74, 12}, {TCP_FIN_WAIT_2, 4, 15},   {TCP_CLOSING, 28, 15},
    {TCP_LAST_ACK, 75, 15},   {TCP_TIME_WAIT, 33, 18},   {TCP_CLOSED, 76, 18},
};

struct pic_edge {
    enum tcp_state from, to;
    int n;             /* corner points */
    int pt[4][2];      /* x, y; the arrow head is drawn on the last one */
    uint32_t head;     /* ▶ ◀ ▲ ▼ */
    int lx, ly;        /* label position */
    bool inline_label; /* written over the line, with a space each side */
};
static const struct pic_edge pic_edges[] = {
    {TCP_CLOSED, TCP_LISTEN, 3, {{42, 0}, {17, 0}, {17, 3}}, 0x25bc, 4, 1, false},
    {TCP_CLOSED, TCP_SYN_SENT, 3, {{51, 0}, {77, 0}, {77, 3}}, 0x25bc, 57, 1, false},
    {TCP_LISTEN, TCP_CLOSED, 4, {{19, 3}, {19, 2}, {45, 2}, {45, 1}}, 0x25b2, 29, 2, true},
    {TCP_SYN_SENT, TCP_CLOSED, 4, {{75, 3}, {75, 2}, {48, 2}, {48, 1}}, 0x25b2, 59, 2, true},
    {TCP_LISTEN, TCP_SYN_SENT, 2, {{21, 4}, {72, 4}}, 0x25b6, 40, 4, true},
    {TCP_LISTEN, TCP_SYN_RECEIVED, 2, {{18, 5}, {18, 7}}, 0x25bc, 20, 6, false},
    {TCP_SYN_RECEIVED, TCP_LISTEN, 2, {{15, 7}, {15, 5}}, 0x25b2, 7, 6, false},
    {TCP_SYN_SENT, TCP_SYN_RECEIVED, 3, {{76, 5}, {76, 8}, {21, 8}}, 0x25c0, 40, 8, true},
    {TCP_SYN_SENT, TCP_ESTABLISHED, 3, {{79, 5}, {79, 10}, {54, 10}}, 0x25c0, 58, 10, true},
    {TCP_SYN_RECEIVED, TCP_ESTABLISHED, 3, {{13, 9}, {13, 10}, {40, 10}}, 0x25b6, 20, 10, true},
    {TCP_SYN_RECEIVED, TCP_FIN_WAIT_1, 2, {{9, 9}, {9, 11}}, 0x25bc, 11, 11, false},
    {TCP_ESTABLISHED, TCP_FIN_WAIT_1, 3, {{45, 11}, {45, 12}, {15, 12}}, 0x25c0, 24, 12, true},
    {TCP_ESTABLISHED, TCP_CLOSE_WAIT, 3, {{50, 11}, {50, 12}, {72, 12}}, 0x25b6, 54, 12, true},
    {TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, 2, {{5, 13}, {5, 14}}, 0x25bc, 7, 14, false},
    {TCP_FIN_WAIT_1, TCP_CLOSING, 3, {{12, 13}, {31, 13}, {31, 14}}, 0x25bc, 15, 13, true},
    {TCP_FIN_WAIT_2, TCP_TIME_WAIT, 3, {{9, 16}, {9, 17}, {35, 17}}, 0x25bc, 11, 16, false},
    {TCP_CLOSING, TCP_TIME_WAIT, 3, {{36, 15}, {38, 15}, {38, 17}}, 0x25bc, 40, 16, false},
    {TCP_CLOSE_WAIT, TCP_LAST_ACK, 2, {{78, 13}, {78, 14}}, 0x25bc, 64, 14, false},
    {TCP_LAST_ACK, TCP_CLOSED, 2, {{78, 16}, {78, 17}}, 0x25bc, 63, 17, false},
    {TCP_TIME_WAIT, TCP_CLOSED, 2, {{43, 18}, {74, 18}}, 0x25b6, 52, 18, true},
};
#define PIC_NEDGES (sizeof pic_edges / sizeof pic_edges[0])

enum { PU = 1, PD = 2, PL = 4, PR = 8 };

static uint32_t box_char(unsigned b)
{
    switch (b) {
    case PL | PR:
    case PL:
    case PR:
        return 0x2500;
    case PU | PD:
    case PU:
    case PD:
        return 0x2502;
    case PD | PR:
        return 0x250c;
    case PD | PL:
        return 0x2510;
    case PU | PR:
        return 0x2514;
    case PU | PL:
        return 0x2518;
    case PU | PD | PR:
        return 0x251c;
    case PU | PD | PL:
        return 0x2524;
    case PL | PR | PD:
        return 0x252c;
    case PL | PR | PU:
        return 0x2534;
    default:
        return 0x253c;
    }
}

/* Which edges are lit: the last edge each endpoint took. */
static bool edge_lit(const struct ui_model *m, enum tcp_state from, enum tcp_state to)
{
    for (size_t h = 0; h < m->nhosts; h++)
        if (lit_by(&m->hosts[h], from, to))
            return true;
    return false;
}

size_t ui_graph_picture_edges(enum tcp_state (*edges)[2], size_t max)
{
    for (size_t i = 0; i < PIC_NEDGES && i < max; i++) {
        edges[i][0] = pic_edges[i].from;
        edges[i][1] = pic_edges[i].to;
    }
    return PIC_NEDGES;
}

static void draw_picture(struct screen *s, int x0, int y0, const struct ui_model *m)
{
    static unsigned char bits[PIC_H][PIC_W];
    static bool lit[PIC_H][PIC_W];
    memset(bits, 0, sizeof bits);
    memset(lit, 0, sizeof lit);
    for (size_t e = 0; e < PIC_NEDGES; e++) {
        const struct pic_edge *pe = &pic_edges[e];
        bool on = edge_lit(m, pe->from, pe->to);
        /* The first cell joins the state it leaves. */
        int sx = pe->pt[0][0], sy = pe->pt[0][1];
        for (size_t n = 0; n < sizeof pic_nodes / sizeof pic_nodes[0]; n++) {
            const struct pic_node *pn = &pic_nodes[n];
            int len = (int)strlen(tcp_state_name(pn->st));
            bool over = sx >= pn->x && sx < pn->x + len;
            if (over && sy == pn->y + 1)
                bits[sy][sx] |= PU;
            else if (over && sy == pn->y - 1)
                bits[sy][sx] |= PD;
            else if (sy == pn->y && sx == pn->x - 1)
                bits[sy][sx] |= PR;
            else if (sy == pn->y && sx == pn->x + len)
                bits[sy][sx] |= PL;
        }
        for (int k = 0; k + 1 < pe->n; k++) {
            int xa = pe->pt[k][0], ya = pe->pt[k][1], xb = pe->pt[k + 1][0], yb = pe->pt[k + 1][1];
            int dx = xb > xa ? 1 : xb < xa ? -1 : 0, dy = yb > ya ? 1 : yb < ya ? -1 : 0;
            for (int x = xa, y = ya;; x += dx, y += dy) {
                if (x < 0 || y < 0 || x >= PIC_W || y >= PIC_H)
                    break;
                if (!(x == xb && y == yb))
                    bits[y][x] |= dx > 0 ? PR : dx < 0 ? PL : dy > 0 ? PD : PU;
                if (!(x == xa && y == ya))
                    bits[y][x] |= dx > 0 ? PL : dx < 0 ? PR : dy > 0 ? PU : PD;
                lit[y][x] |= on;
                if (x == xb && y == yb)
                    break;
            }
        }
    }
    for (int y = 0; y < PIC_H; y++)
        for (int x = 0; x < PIC_W; x++)
            if (bits[y][x])
                screen_putc(s, x0 + x, y0 + y, box_char(bits[y][x]),
                            lit[y][x] ? (uint16_t)(SC_EDGE | SA_BOLD) : (uint16_t)SC_DIM);
    for (size_t e = 0; e < PIC_NEDGES; e++) {
        const struct pic_edge *pe = &pic_edges[e];
        bool on = edge_lit(m, pe->from, pe->to);
        uint16_t a = on ? (uint16_t)(SC_EDGE | SA_BOLD | SA_UNDERLINE) : (uint16_t)SC_NORMAL;
        const int *last = pe->pt[pe->n - 1];
        screen_putc(s, x0 + last[0], y0 + last[1], pe->head,
                    on ? (uint16_t)(SC_EDGE | SA_BOLD) : (uint16_t)SC_FRAME);
        const struct tcp_transition *t = find_edge(pe->from, pe->to);
        char label[96];
        if (t)
            edge_text(t, label, sizeof label);
        else
            snprintf(label, sizeof label, "?");
        int lw = ui_text_width(label);
        if (pe->inline_label) {
            screen_putc(s, x0 + pe->lx - 1, y0 + pe->ly, ' ', SC_NORMAL);
            screen_putc(s, x0 + pe->lx + lw, y0 + pe->ly, ' ', SC_NORMAL);
        }
        screen_print(s, x0 + pe->lx, y0 + pe->ly, lw, a, label);
    }
    for (size_t n = 0; n < sizeof pic_nodes / sizeof pic_nodes[0]; n++) {
        const struct pic_node *pn = &pic_nodes[n];
        bool here = false;
        for (size_t h = 0; h < m->nhosts; h++)
            if (cur_state(&m->hosts[h]) == pn->st)
                here = true;
        screen_print(s, x0 + pn->x, y0 + pn->y, 14,
                     here ? (uint16_t)(SC_HILITE | SA_REVERSE | SA_BOLD)
                          : (uint16_t)(SC_STATE | SA_BOLD),
                     tcp_state_name(pn->st));
    }
}

/* The picture when there is room for it: 96 x 19, plus a line saying who is where. */
static bool graph_picture(struct screen *s, struct ui_rect r, const struct ui_model *m)
{
    if (r.w < PIC_W + 2 || r.h < PIC_H + 1)
        return false;
    int x0 = r.x + (r.w - PIC_W) / 2, y0 = r.y + (r.h - PIC_H - 1) / 2;
    draw_picture(s, x0, y0, m);
    char line[256];
    size_t n = 0;
    for (size_t h = 0; h < m->nhosts && n < sizeof line; h++)
        n += (size_t)snprintf(line + n, sizeof line - n, "%s%s in %s", h ? " \u00b7 " : "",
                              m->hosts[h].name, tcp_state_name(cur_state(&m->hosts[h])));
    if (n < sizeof line)
        snprintf(line + n, sizeof line - n, "   (edges to CLOSED on RST/ABORT/timeout: not drawn)");
    screen_print(s, r.x + 1, y0 + PIC_H, r.w - 2, SC_DIM, line);
    return true;
}

void ui_view_graph(struct screen *s, struct ui_rect r, const struct ui_model *m)
{
    screen_fill(s, r.x, r.y, r.w, r.h, ' ', SC_NORMAL);
    if (graph_picture(s, r, m))
        return;
    int who_w = 11, name_w = 13;
    int spare = r.h - 13; /* rows left over for edges that wrap */
    /* Which states may take a second line: the ones that need it, those
     * where the endpoints are (or were a moment ago) first. */
    bool wrap[TCP_NSTATES] = {false};
    int ew = r.w - 2 - who_w - name_w;
    for (int pass = 0; pass < 2; pass++)
        for (size_t si = 0; si < sizeof graph_order / sizeof graph_order[0]; si++) {
            enum tcp_state st = graph_order[si];
            int extra = edges_lines(st, ew) - 1;
            if (extra > 0 && extra <= spare && !wrap[st] && (pass == 1 || state_relevant(m, st))) {
                wrap[st] = true;
                spare -= extra;
            }
        }
    screen_print(s, r.x + 1, r.y, r.w - 2, (uint16_t)(SC_TITLE | SA_BOLD),
                 "RFC 9293 Figure 5 \u2014 each state and where it can go (\u2501\u2501\u25b6 = "
                 "edge just taken)");
    int y = r.y + 1;
    for (size_t si = 0; si < sizeof graph_order / sizeof graph_order[0] && y < r.y + r.h - 1;
         si++, y++) {
        enum tcp_state st = graph_order[si];
        /* Who is here. */
        char who[64] = "";
        size_t wl = 0;
        for (size_t h = 0; h < m->nhosts; h++) {
            if (cur_state(&m->hosts[h]) == st)
                wl += (size_t)snprintf(who + wl, wl < sizeof who ? sizeof who - wl : 0, "%s%s",
                                       wl ? "," : "", m->hosts[h].name);
        }
        int x = r.x + 1;
        if (who[0]) {
            int ww = ui_text_width(who);
            if (ww > who_w - 3)
                ww = who_w - 3;
            screen_print(s, x + who_w - 3 - ww, y, who_w - 3, (uint16_t)(SC_HILITE | SA_BOLD), who);
            screen_print(s, x + who_w - 2, y, 2, (uint16_t)(SC_HILITE | SA_BOLD), "\u25b6");
        }
        x += who_w;
        screen_printf(
            s, x, y, name_w,
            (uint16_t)(who[0] ? (SC_HILITE | SA_REVERSE | SA_BOLD) : (SC_STATE | SA_BOLD)), "%s",
            tcp_state_name(st));
        x += name_w;
        int used = 0, w = r.x + r.w - 1 - x;
        for (size_t i = 0; i < tcp_ntransitions && used < w; i++) {
            const struct tcp_transition *t = &tcp_transitions[i];
            if (t->from != st || summary_edge(t))
                continue;
            bool lit = false;
            for (size_t h = 0; h < m->nhosts; h++)
                if (lit_by(&m->hosts[h], st, t->to))
                    lit = true;
            char label[96];
            edge_text(t, label, sizeof label);
            int need = ui_text_width(label) + 4 + ui_text_width(tcp_state_name(t->to));
            if (used > 0 && used + need > w && wrap[st] && y + 1 < r.y + r.h - 1) {
                y++;
                used = 0;
            }
            uint16_t a = lit ? (uint16_t)(SC_EDGE | SA_BOLD) : (uint16_t)SC_DIM;
            used += screen_print(s, x + used, y, w - used, a, lit ? "\u2501" : "\u2500");
            used += screen_print(s, x + used, y, w - used, a, label);
            used += screen_print(s, x + used, y, w - used, a, lit ? "\u2501\u25b6 " : "\u2192 ");
            used += screen_print(s, x + used, y, w - used,
                                 lit ? (uint16_t)(SC_EDGE | SA_BOLD) : (uint16_t)SC_STATE,
                                 tcp_state_name(t->to));
            used += screen_print(s, x + used, y, w - used, SC_NORMAL, "  ");
        }
    }
    if (y < r.y + r.h)
        screen_print(s, r.x + 1, y, r.w - 2, SC_DIM,
                     "any synchronized state \u2500rcv RST / ABORT / timeout\u2192 CLOSED "
                     "(SYN_RECEIVED \u2500rcv RST\u2192 LISTEN if opened passively)");
}
