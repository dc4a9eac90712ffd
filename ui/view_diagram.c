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
    enum tcp_state cur = h->have_state ? h->state : TCP_CLOSED;
    char buf[128];
    int used = screen_printf(s, x, y, w, SC_DIM, "%-8.8s ", h->name);
    if (h->have_state && h->prev != cur) {
        const struct tcp_transition *t = find_edge(h->prev, cur);
        used += screen_print(s, x + used, y, w - used, SC_DIM, tcp_state_name(h->prev));
        if (t)
            edge_text(t, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "%s", h->cause ? h->cause : "");
        used += screen_print(s, x + used, y, w - used, (uint16_t)(SC_EDGE | SA_BOLD), " \u2501");
        used += screen_print(s, x + used, y, w - used, (uint16_t)(SC_EDGE | SA_BOLD), buf);
        used +=
            screen_print(s, x + used, y, w - used, (uint16_t)(SC_EDGE | SA_BOLD), "\u2501\u25b6 ");
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

/* A state matters now if an endpoint is in it or just left it. */
static bool state_relevant(const struct ui_model *m, enum tcp_state st)
{
    for (size_t h = 0; h < m->nhosts; h++) {
        enum tcp_state cur = m->hosts[h].have_state ? m->hosts[h].state : TCP_CLOSED;
        if (cur == st || (m->hosts[h].have_state && m->hosts[h].prev == st))
            return true;
    }
    return false;
}

void ui_view_graph(struct screen *s, struct ui_rect r, const struct ui_model *m)
{
    screen_fill(s, r.x, r.y, r.w, r.h, ' ', SC_NORMAL);
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
            enum tcp_state cur = m->hosts[h].have_state ? m->hosts[h].state : TCP_CLOSED;
            if (cur == st)
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
                if (m->hosts[h].have_state && m->hosts[h].prev == st && m->hosts[h].state == t->to)
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
