/*
 * view_state.c — each endpoint's current state in a box, with the cause of
 * the last change ("rcvd SYN,ACK", "close()"), the kernel's own view of its
 * socket when running against real kernel sockets, the running timers as
 * countdown bars, and a listener's SYN and accept queues.
 *
 * A state that changed during the current step is drawn in a double-lined
 * box (and flashes, in colour); an unchanged one in a single-lined box, so
 * the change is visible without colour too.
 */
#include <stdio.h>
#include <string.h>

#include "view.h"

static const char *timer_label(enum tcp_timer w)
{
    switch (w) {
    case TCP_TIMER_RTX:
        return "rtx";
    case TCP_TIMER_PERSIST:
        return "persist";
    case TCP_TIMER_KEEPALIVE:
        return "keepalive";
    case TCP_TIMER_DELACK:
        return "delack";
    case TCP_TIMER_TIME_WAIT:
        return "2MSL";
    case TCP_TIMER_USER:
        return "user";
    default:
        return "?";
    }
}

size_t ui_timer_text(const struct ui_timer *t, enum tcp_timer which, uint64_t now_us, int bar,
                     char *buf, size_t cap)
{
    uint64_t left = t->deadline_us > now_us ? t->deadline_us - now_us : 0;
    uint64_t full = t->deadline_us > t->armed_us ? t->deadline_us - t->armed_us : 1;
    int filled = bar > 0 ? (int)((double)left / (double)full * bar + 0.5) : 0;
    if (filled > bar)
        filled = bar;
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__)
    ADD("%s", timer_label(which));
    if (which == TCP_TIMER_RTX && t->backoff)
        ADD("#%u", t->backoff);
    ADD(" %.1fs", (double)left / 1e6);
    if (bar > 0) {
        ADD(" \u2595");
        for (int i = 0; i < bar; i++)
            ADD("%s", i < filled ? "\u2588" : "\u2591");
        ADD("\u258f");
    }
#undef ADD
    return n < cap ? n : cap - 1;
}

/* "SYN q ■■□□ 2/4" */
static size_t queue_text(const char *name, unsigned used, long limit, bool boxes, char *buf,
                         size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%s ", name);
    if (boxes && limit > 0 && limit <= 8) {
        for (long i = 0; i < limit && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, "%s", i < (long)used ? "\u25a0" : "\u25a1");
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, " %u/%ld", used, limit);
    } else if (limit > 0) {
        n += (size_t)snprintf(buf + n, cap - n, "%u/%ld", used, limit);
    } else {
        n += (size_t)snprintf(buf + n, cap - n, "%u", used);
    }
    return n < cap ? n : cap - 1;
}

/* The line under the box: timers, or the listener's queues. Each piece is
 * printed whole or not at all: the queues shorten to "SYN 1/4 acc 0/4",
 * a timer loses its bar, and what still does not fit is left out. */
static void timers_line(struct screen *s, int x, int y, int w, const struct ui_host *h,
                        uint64_t now_us, bool with_queues)
{
    int used = 0;
    char buf[160], q2[64];
    if (h->listening && with_queues) {
        queue_text("SYN q", h->syn_queue, h->backlog, false, buf, sizeof buf);
        queue_text(" \u00b7 accept q", h->accept_queue, h->backlog, false, q2, sizeof q2);
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, "%s", q2);
        if (ui_text_width(buf) > w) {
            queue_text("SYN", h->syn_queue, h->backlog, false, buf, sizeof buf);
            queue_text(" acc", h->accept_queue, h->backlog, false, q2, sizeof q2);
            n = strlen(buf);
            snprintf(buf + n, sizeof buf - n, "%s", q2);
        }
        if (ui_text_width(buf) <= w)
            used += screen_print(s, x + used, y, w - used, SC_TIMER, buf);
    }
    for (int t = 0; t < TCP_NTIMERS && used < w; t++) {
        if (!h->timers[t].armed || t == TCP_TIMER_DELACK)
            continue;
        int gap = used ? 2 : 0;
        int bar = t == TCP_TIMER_TIME_WAIT ? 12 : 6;
        /* The engine times an orphaned FIN_WAIT_2 with the same timer (as
         * Linux's tcp_fin_timeout): it is not 2MSL yet, say what it is. */
        bool fw2 = t == TCP_TIMER_TIME_WAIT && h->state == TCP_FIN_WAIT_2;
        char text[192];
        for (int b = bar; b >= 0; b -= bar ? bar : 1) {
            ui_timer_text(&h->timers[t], (enum tcp_timer)t, now_us, b, buf, sizeof buf);
            snprintf(text, sizeof text, "%s%s", fw2 ? "FIN_WAIT_2 limit" : "", fw2 ? buf + 4 : buf);
            if (ui_text_width(text) <= w - used - gap || b == 0)
                break;
        }
        if (ui_text_width(text) > w - used - gap)
            continue;
        if (gap)
            used += screen_print(s, x + used, y, w - used, SC_DIM, "  ");
        used += screen_print(s, x + used, y, w - used, SC_TIMER, text);
    }
}

static void host_state(const struct ui_host *h, char *buf, size_t cap)
{
    if (h->have_state)
        snprintf(buf, cap, "%s", tcp_state_name(h->state));
    else if (h->have_kernel)
        snprintf(buf, cap, "%s", tcp_state_name(h->kernel_state));
    else
        snprintf(buf, cap, "CLOSED");
}

/* "(passed through FIN_WAIT_1, not observed)": the states a sampled kernel
 * socket went through between two looks, or "" when the edge is direct. */
size_t ui_unseen_states(enum tcp_state from, enum tcp_state to, char *buf, size_t cap)
{
    enum tcp_state via[TCP_NSTATES];
    size_t n = tcp_state_path(from, to, via, TCP_NSTATES), len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "(passed through ",
                                tcp_state_name(via[i]));
    if (n && len < cap)
        snprintf(buf + len, cap - len, ", not observed)");
    return n;
}

size_t ui_host_unseen(const struct ui_host *h, char *buf, size_t cap)
{
    buf[0] = 0;
    if (h->have_state || !h->have_kernel || h->kernel_sock_prev >= TCP_NSTATES)
        return 0;
    return ui_unseen_states(h->kernel_sock_prev, h->kernel_state, buf, cap);
}

static void host_note(const struct ui_host *h, char *buf, size_t cap)
{
    buf[0] = 0;
    if (h->have_state && h->cause)
        snprintf(buf, cap, "%s", h->cause);
    else
        ui_host_unseen(h, buf, cap);
}

void ui_view_states(struct screen *s, struct ui_rect r, bool boxed, const struct ui_model *m,
                    uint64_t now_us, bool flash, size_t flash_from, bool cc_line)
{
    if (r.h <= 0 || m->nhosts == 0)
        return;
    screen_fill(s, r.x, r.y, r.w, r.h, ' ', SC_NORMAL);
    int rows = cc_line ? r.h - 1 : r.h; /* what the state and timers have */
    int n = (int)m->nhosts;
    int cw = r.w / n;
    for (int i = 0; i < n; i++) {
        const struct ui_host *h = &m->hosts[i];
        int x = r.x + i * cw + 1, w = cw - 2;
        bool right = n > 1 && i == n - 1; /* mirror the last column, like the ladder */
        bool changed = h->changed_at > flash_from && h->changed_at > 0;
        uint16_t sattr = changed ? (uint16_t)(SC_CHANGED | SA_BOLD | (flash ? SA_REVERSE : 0))
                                 : (uint16_t)(SC_STATE | SA_BOLD);
        char state[32], note[96], kern[48] = "";
        host_state(h, state, sizeof state);
        host_note(h, note, sizeof note);
        if (h->have_kernel && h->have_state)
            snprintf(kern, sizeof kern, "kernel: %s", tcp_state_name(h->kernel_state));
        else if (h->have_kernel)
            snprintf(kern, sizeof kern, "(kernel's own state)");
        char synq[64] = "", accq[64] = "";
        if (h->listening) {
            queue_text("SYN queue", h->syn_queue, h->backlog, true, synq, sizeof synq);
            queue_text("accept queue", h->accept_queue, h->backlog, true, accq, sizeof accq);
        }

        if (boxed && cw >= 44) {
            int bw = 16;
            int bx = right ? x + w - bw : x;
            screen_box(s, bx, r.y, bw, 3, changed, (uint16_t)(changed ? SC_CHANGED : SC_FRAME),
                       NULL);
            screen_print(s, bx + 2, r.y + 1, bw - 3, sattr, state);
            int tx = right ? x : bx + bw + 1, tw = w - bw - 1;
            char cause[112];
            snprintf(cause, sizeof cause, right ? "%s \u2192" : "\u2190 %s", note);
            const char *lines[3] = {kern[0] ? kern : synq, note[0] ? cause : "",
                                    kern[0] ? "" : accq};
            for (int l = 0; l < 3; l++) {
                int lw = ui_text_width(lines[l]);
                int px = right ? tx + tw - (lw < tw ? lw : tw) : tx;
                uint16_t la = l == 1                                 ? (uint16_t)SC_NORMAL
                              : lines[l] == synq || lines[l] == accq ? (uint16_t)SC_TIMER
                                                                     : (uint16_t)SC_DIM;
                screen_print(s, px, r.y + l, tw, la, lines[l]);
            }
            timers_line(s, x, r.y + 3, w, h, now_us, kern[0] != 0);
        } else {
            /* One line for the state; below it the queues and timers (on
             * separate lines when there is room). */
            char line[160];
            snprintf(line, sizeof line, "%s%s%s", note[0] ? "\u2190 " : "", note,
                     kern[0] ? "  " : "");
            int used = screen_print(s, x, r.y, w, SC_FRAME, changed ? "\u2551" : "[");
            used += screen_print(s, x + used, r.y, w - used, sattr, state);
            used += screen_print(s, x + used, r.y, w - used, SC_FRAME, changed ? "\u2551 " : "] ");
            /* The cause and the kernel's state only whole: with many endpoints
             * the lane and the state machine line say them anyway. */
            if (ui_text_width(line) <= w - used)
                used += screen_print(s, x + used, r.y, w - used, SC_NORMAL, line);
            if (ui_text_width(kern) <= w - used)
                screen_print(s, x + used, r.y, w - used, SC_DIM, kern);
            if (rows >= 3 && h->listening) {
                char q[64];
                queue_text("SYN q", h->syn_queue, h->backlog, false, q, sizeof q);
                int u = screen_print(s, x, r.y + 1, w, SC_TIMER, q);
                queue_text(" \u00b7 accept q", h->accept_queue, h->backlog, false, q, sizeof q);
                screen_print(s, x + u, r.y + 1, w - u, SC_TIMER, q);
                timers_line(s, x, r.y + 2, w, h, now_us, false);
            } else {
                timers_line(s, x, r.y + 1, w, h, now_us, true);
            }
        }
        if (cc_line && h->cc.known) {
            char cc[128];
            ui_cc_text(&h->cc, w, cc, sizeof cc);
            int cw2 = ui_text_width(cc);
            bool fresh = h->cc.ev + 1 > flash_from && flash_from != SIZE_MAX;
            screen_print(s, right ? x + w - (cw2 < w ? cw2 : w) : x, r.y + r.h - 1, w,
                         fresh ? (uint16_t)(SC_TIMER | SA_BOLD) : (uint16_t)SC_TIMER, cc);
        }
    }
}
