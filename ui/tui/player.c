/*
 * player.c — the picture of the world built from a timeline's events, and
 * the player that moves through it (see player.h). Nothing here draws.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "player.h"

/* How long one arrow takes to cross at speed 1, in seconds. */
#define ARROW_S 0.7
/* While playing: rest after each step, seconds at speed 1. */
#define REST_S 1.2
/* The clock runs in real time at speed 1, but a quiet gap never takes
 * longer than this (2*MSL stays watchable, not boring). */
#define GAP_MAX_S 3.0
/* The state box flashes this long after a change. */
#define FLASH_S 1.2

/* ---- the model ------------------------------------------------------------- */

void ui_model_init(struct ui_model *m, const struct scn_timeline *tl)
{
    memset(m, 0, sizeof *m);
    m->tl = tl;
    ui_model_reset(m);
}

void ui_model_free(struct ui_model *m)
{
    free(m->early);
    m->early = NULL;
    free(m->rows);
    m->rows = NULL;
    m->nrows = m->cap_rows = 0;
}

void ui_model_reset(struct ui_model *m)
{
    const struct scn_timeline *tl = m->tl;
    struct ui_row *rows = m->rows;
    size_t cap = m->cap_rows;
    bool *early = m->early;
    size_t early_cap = m->early_cap;
    memset(m, 0, sizeof *m);
    m->tl = tl;
    m->rows = rows;
    m->cap_rows = cap;
    if (!early || early_cap < tl->nevents) {
        free(early);
        early_cap = tl->nevents ? tl->nevents : 1;
        early = malloc(early_cap);
    }
    if (early)
        memset(early, 0, early_cap);
    m->early = early;
    m->early_cap = early ? early_cap : 0;
    m->nhosts = tl->nhosts < UI_MAX_HOSTS ? tl->nhosts : UI_MAX_HOSTS;
    for (size_t i = 0; i < m->nhosts; i++) {
        struct ui_host *h = &m->hosts[i];
        snprintf(h->name, sizeof h->name, "%s", tl->hosts[i].name);
        snprintf(h->label, sizeof h->label, "%s", tl->hosts[i].label);
        h->kernel = tl->hosts[i].kernel;
        snprintf(h->kind, sizeof h->kind, "%s", tl->hosts[i].kind);
        h->addr = tl->hosts[i].addr;
        h->state = TCP_CLOSED;
        h->prev = TCP_CLOSED;
        h->backlog = -1;
        h->last_fired = -1;
    }
}

int ui_model_host_of(const struct ui_model *m, const struct tev *ev)
{
    if (ev->host)
        for (size_t i = 0; i < m->nhosts; i++)
            if (!strcmp(ev->host, m->hosts[i].name))
                return (int)i;
    if (ev->tuple.laddr)
        for (size_t i = 0; i < m->nhosts; i++)
            if (m->hosts[i].addr == ev->tuple.laddr)
                return (int)i;
    return -1;
}

static int host_by_addr(const struct ui_model *m, uint32_t addr, int not )
{
    for (size_t i = 0; i < m->nhosts; i++)
        if (m->hosts[i].addr == addr && (int)i != not )
            return (int)i;
    for (size_t i = 0; i < m->nhosts; i++)
        if (m->hosts[i].addr == addr)
            return (int)i;
    /* Two endpoints: whatever is not the sender is the receiver. */
    if (m->nhosts == 2 && not >= 0)
        return 1 - not ;
    return -1;
}

static struct ui_row *new_row(struct ui_model *m)
{
    if (m->nrows == m->cap_rows) {
        size_t cap = m->cap_rows ? m->cap_rows * 2 : 64;
        struct ui_row *r = realloc(m->rows, cap * sizeof *r);
        if (!r)
            return NULL;
        m->rows = r;
        m->cap_rows = cap;
    }
    struct ui_row *row = &m->rows[m->nrows++];
    memset(row, 0, sizeof *row);
    return row;
}

/* A lane item goes on the last row if that lane is still free there, so a
 * state change sits beside the segment that caused it. */
static void add_item(struct ui_model *m, int host, enum ui_item_kind kind, size_t ev, bool returned)
{
    if (host < 0 || host >= UI_MAX_HOSTS)
        return;
    struct ui_row *row = m->nrows ? &m->rows[m->nrows - 1] : NULL;
    /* A call causes what follows, so it opens a row of its own rather than
     * sit beside a segment that came before it. */
    if (!row || row->lane[host].kind != UI_ITEM_NONE || (kind == UI_ITEM_CALL && row->has_arrow))
        row = new_row(m);
    if (!row)
        return;
    row->lane[host] = (struct ui_item){kind, ev, returned};
    m->last_row_changed = (size_t)(row - m->rows);
}

/* ---- relative sequence numbers --------------------------------------------- */

static int dir_index(struct ui_model *m, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                     bool create)
{
    for (size_t i = 0; i < m->ndirs; i++)
        if (m->dirs[i].src == src && m->dirs[i].dst == dst && m->dirs[i].sport == sport &&
            m->dirs[i].dport == dport)
            return (int)i;
    if (!create)
        return -1;
    size_t i = m->ndirs < UI_MAX_ISN ? m->ndirs++ : (m->ndirs - 1); /* reuse the last when full */
    memset(&m->dirs[i], 0, sizeof m->dirs[i]);
    m->dirs[i].src = src;
    m->dirs[i].dst = dst;
    m->dirs[i].sport = sport;
    m->dirs[i].dport = dport;
    return (int)i;
}

/* The ladder numbers a segment relative only to ISNs it saw in SYNs, and
 * says so (rel_known): a connection caught in the middle keeps the numbers
 * it carries. The bases themselves are relseq.h's, as in the text trace. */
static bool relative_of(const struct relseq_seg *r, const struct wire_tcp *t, uint32_t *seq,
                        uint32_t *ack)
{
    *seq = r->seq_from_syn ? r->seq : t->seq;
    bool ack_rel = (t->flags & TCP_ACK) && r->ack_known && r->ack_from_syn;
    *ack = ack_rel ? r->ack : t->ack;
    return r->seq_from_syn || ack_rel;
}

bool ui_model_relative(const struct ui_model *m, const struct tev *ev, uint32_t *seq, uint32_t *ack)
{
    const struct wire_tcp *t = &ev->u.seg.tcp;
    const struct relseq_side *mine =
        relseq_side(&m->seqs, ev->u.seg.src, t->sport, ev->u.seg.dst, t->dport);
    const struct relseq_side *theirs =
        relseq_side(&m->seqs, ev->u.seg.dst, t->dport, ev->u.seg.src, t->sport);
    struct relseq_seg r = {
        .seq = mine ? t->seq - mine->base : t->seq,
        .ack = theirs ? t->ack - theirs->base : t->ack,
        .ack_known = theirs != NULL,
        .seq_from_syn = mine && mine->from_syn,
        .ack_from_syn = theirs && theirs->from_syn,
    };
    return relative_of(&r, t, seq, ack);
}

/* ---- applying events ---------------------------------------------------------- */

static bool same_packet(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return a && b && alen == blen && !memcmp(a, b, alen);
}

/* Will the link lose this packet? Look ahead in the record (the timeline is
 * complete, so the arrow knows its fate when it sets off). */
static bool lost_later(const struct scn_timeline *tl, size_t from, const struct tev *seg)
{
    size_t end = from + 256 < tl->nevents ? from + 256 : tl->nevents;
    for (size_t i = from; i < end; i++) {
        const struct tev *e = tl->events[i];
        if (e->kind == TEV_LINK &&
            (e->u.link.action == TEV_LINK_LOST || e->u.link.action == TEV_LINK_CUT) &&
            same_packet(e->u.link.raw, e->u.link.raw_len, seg->u.seg.raw, seg->u.seg.raw_len))
            return true;
        if (e->kind == TEV_SEGMENT && e->u.seg.dir == TEV_IN &&
            same_packet(e->u.seg.raw, e->u.seg.raw_len, seg->u.seg.raw, seg->u.seg.raw_len))
            return false;
    }
    return false;
}

/* The row a new arrow for event idx goes on (the last one, unless it has
 * an arrow already), its arrow cleared; NULL when out of memory. */
static struct ui_row *arrow_row(struct ui_model *m, size_t idx)
{
    struct ui_row *row = m->nrows ? &m->rows[m->nrows - 1] : NULL;
    if (!row || row->has_arrow)
        row = new_row(m);
    if (!row)
        return NULL;
    row->has_arrow = true;
    memset(&row->arrow, 0, sizeof row->arrow);
    row->arrow.ev = idx;
    return row;
}

const uint8_t *ui_arrow_raw(const struct ui_model *m, const struct ui_arrow *a, size_t *len)
{
    const struct tev *ev = m->tl->events[a->ev];
    *len = a->udp ? ev->u.dgram.raw_len : ev->u.seg.raw_len;
    return a->udp ? ev->u.dgram.raw : ev->u.seg.raw;
}

/* A UDP datagram is an arrow too, labelled by its length (view_ladder.c):
 * sent, lost on the way (the link says so), or arrived. */
static int apply_datagram(struct ui_model *m, size_t idx, const struct tev *ev, int host)
{
    const uint8_t *raw = ev->u.dgram.raw;
    size_t len = ev->u.dgram.raw_len;
    if (ev->u.dgram.dir == TEV_IN) {
        for (size_t r = m->nrows; r-- > 0;) {
            struct ui_arrow *a = &m->rows[r].arrow;
            size_t alen;
            if (!m->rows[r].has_arrow || !a->udp || a->arrived || a->lost)
                continue;
            const uint8_t *araw = ui_arrow_raw(m, a, &alen);
            if (same_packet(araw, alen, raw, len)) {
                a->arrived = true;
                return -1;
            }
        }
    }
    struct ui_row *row = arrow_row(m, idx);
    if (!row)
        return -1;
    struct ui_arrow *a = &row->arrow;
    a->udp = true;
    if (ev->u.dgram.dir == TEV_OUT) {
        a->from = host;
        a->to = host_by_addr(m, ev->u.dgram.dst, host);
        size_t end = idx + 257 < m->tl->nevents ? idx + 257 : m->tl->nevents;
        for (size_t i = idx + 1; i < end; i++) {
            const struct tev *e = m->tl->events[i];
            if (e->kind == TEV_DATAGRAM && e->u.dgram.dir == TEV_IN &&
                same_packet(e->u.dgram.raw, e->u.dgram.raw_len, raw, len))
                break;
            if (e->kind == TEV_LINK &&
                (e->u.link.action == TEV_LINK_LOST || e->u.link.action == TEV_LINK_CUT) &&
                same_packet(e->u.link.raw, e->u.link.raw_len, raw, len)) {
                a->lost = true;
                break;
            }
        }
    } else {
        a->to = host;
        a->from = host_by_addr(m, ev->u.dgram.src, host);
        a->arrived = true;
    }
    m->last_row_changed = (size_t)(row - m->rows);
    return (int)(row - m->rows);
}

static int apply_segment(struct ui_model *m, size_t idx, const struct tev *ev, int host)
{
    const struct wire_tcp *t = &ev->u.seg.tcp;
    if (ev->u.seg.dir == TEV_IN) {
        /* The other end of an arrow already drawn? */
        for (size_t r = m->nrows; r-- > 0;) {
            struct ui_arrow *a = &m->rows[r].arrow;
            if (!m->rows[r].has_arrow || a->udp || a->arrived || a->lost)
                continue;
            const struct tev *sent = m->tl->events[a->ev];
            if (same_packet(sent->u.seg.raw, sent->u.seg.raw_len, ev->u.seg.raw,
                            ev->u.seg.raw_len)) {
                a->arrived = true;
                return -1;
            }
        }
    }
    /* Learn the ISNs (a SYN with a new ISN on the same four ports is a new
     * incarnation, lesson 6: numbered from 0 again), and whether the window
     * is news. */
    struct relseq_seg rel;
    relseq_observe(&m->seqs, ev->u.seg.src, t->sport, ev->u.seg.dst, t->dport, t, &rel);
    int d = dir_index(m, ev->u.seg.src, t->sport, ev->u.seg.dst, t->dport, true);
    bool show_win = (t->flags & TCP_SYN) || t->win == 0 || !m->dirs[d].have_win ||
                    m->dirs[d].last_win != t->win;
    m->dirs[d].last_win = t->win;
    m->dirs[d].have_win = true;

    struct ui_row *row = arrow_row(m, idx);
    if (!row)
        return -1;
    struct ui_arrow *a = &row->arrow;
    if (ev->u.seg.dir == TEV_OUT) {
        a->from = host;
        a->to = host_by_addr(m, ev->u.seg.dst, host);
        a->lost = lost_later(m->tl, idx + 1, ev);
    } else {
        a->to = host;
        a->from = host_by_addr(m, ev->u.seg.src, host);
        a->arrived = true;
        /* A copy arriving twice: the link duplicated it. */
        for (size_t r = 0; r + 1 < m->nrows; r++) {
            const struct tev *e = m->tl->events[m->rows[r].arrow.ev];
            if (m->rows[r].has_arrow && !m->rows[r].arrow.udp &&
                same_packet(e->u.seg.raw, e->u.seg.raw_len, ev->u.seg.raw, ev->u.seg.raw_len))
                a->duplicate = true;
        }
    }
    a->retransmission = ev->u.seg.retransmission;
    if (ev->u.seg.probe && ev->u.seg.dir == TEV_OUT) {
        int f = m->hosts[host].last_fired;
        a->probe =
            (uint8_t)((f == TCP_TIMER_PERSIST ? TCP_TIMER_PERSIST : TCP_TIMER_KEEPALIVE) + 1);
    }
    a->show_win = show_win;
    a->rel_known = relative_of(&rel, t, &a->rel_seq, &a->rel_ack);
    m->last_row_changed = (size_t)(row - m->rows);
    return (int)(row - m->rows);
}

static struct ui_conn *find_conn(struct ui_model *m, int host, const struct tcp_tuple *t)
{
    for (size_t i = 0; i < m->nconns; i++)
        if (m->conns[i].host == host && !memcmp(&m->conns[i].tuple, t, sizeof *t))
            return &m->conns[i];
    return NULL;
}

static void count_queues(struct ui_model *m)
{
    for (size_t h = 0; h < m->nhosts; h++)
        m->hosts[h].syn_queue = m->hosts[h].accept_queue = 0;
    for (size_t i = 0; i < m->nconns; i++) {
        struct ui_conn *c = &m->conns[i];
        if (!c->passive || c->accepted || c->host < 0)
            continue;
        struct ui_host *h = &m->hosts[c->host];
        if (c->state == TCP_SYN_RECEIVED)
            h->syn_queue++;
        else if (c->state != TCP_CLOSED && c->state != TCP_LISTEN)
            h->accept_queue++;
    }
}

static void apply_call(struct ui_model *m, size_t idx, const struct tev *ev, int host, bool early);

/* A state change caused by a call ("connect()", "close()"): the call's own
 * event follows its effects in the stream; show it first, as it happened. */
static void pull_call_forward(struct ui_model *m, size_t idx, const struct tev *ev, int host)
{
    const char *cause = ev->u.state.cause;
    size_t len = cause ? strlen(cause) : 0;
    if (len < 3 || strcmp(cause + len - 2, "()") || !m->early)
        return;
    for (size_t j = idx + 1; j < m->tl->nevents && j < idx + 32; j++) {
        const struct tev *e = m->tl->events[j];
        if (e->kind == TEV_LINK)
            continue; /* the link acting on what was just sent */
        if (e->t_us != ev->t_us || ui_model_host_of(m, e) != host)
            return;
        if (e->kind == TEV_CALL && !m->early[j] &&
            !strncmp(cause, tcp_call_name(e->u.call.call), len - 2)) {
            m->early[j] = true;
            apply_call(m, j, e, host, true);
            return;
        }
    }
}

/* A segment a call sent (SYN by connect(), data by send(), FIN by close()
 * or shutdown(), RST by an abortive close): the call's event comes after
 * the segment; show the call first. */
static void pull_call_for_segment(struct ui_model *m, size_t idx, const struct tev *ev, int host)
{
    uint8_t f = ev->u.seg.tcp.flags;
    if (!m->early || ev->u.seg.retransmission)
        return;
    for (size_t j = idx + 1; j < m->tl->nevents && j < idx + 32; j++) {
        const struct tev *e = m->tl->events[j];
        if (e->kind == TEV_LINK)
            continue; /* the link acting on what was just sent */
        if (e->t_us != ev->t_us || ui_model_host_of(m, e) != host)
            return;
        if (e->kind != TEV_CALL || m->early[j])
            continue;
        enum tcp_call c = e->u.call.call;
        bool caused = (c == TCP_CALL_CONNECT && (f & TCP_SYN) && !(f & TCP_ACK)) ||
                      (c == TCP_CALL_SEND && ev->u.seg.tcp.payload_len > 0) ||
                      ((c == TCP_CALL_CLOSE || c == TCP_CALL_SHUTDOWN) && (f & TCP_FIN)) ||
                      ((c == TCP_CALL_ABORT || c == TCP_CALL_CLOSE) && (f & TCP_RST));
        if (caused) {
            m->early[j] = true;
            apply_call(m, j, e, host, true);
            return;
        }
    }
}

static void apply_state(struct ui_model *m, size_t idx, const struct tev *ev, int host)
{
    pull_call_forward(m, idx, ev, host);
    struct ui_host *h = &m->hosts[host];
    enum tcp_state from = ev->u.state.from, to = ev->u.state.to;
    bool listener = to == TCP_LISTEN || (from == TCP_LISTEN && to == TCP_CLOSED &&
                                         ev->tuple.raddr == 0 && ev->tuple.rport == 0);
    if (listener) {
        /* A captured end shows no sockets: its queues are unknown, not empty. */
        h->listening = to == TCP_LISTEN && !h->kind[0];
        h->listen_port = ev->tuple.lport;
    } else {
        struct ui_conn *c = find_conn(m, host, &ev->tuple);
        if (!c && m->nconns < UI_MAX_CONNS) {
            c = &m->conns[m->nconns++];
            memset(c, 0, sizeof *c);
            c->host = host;
            c->tuple = ev->tuple;
            c->passive = from == TCP_LISTEN;
        }
        if (c)
            c->state = to;
        count_queues(m);
    }
    /* The box shows the listener only until a connection exists. */
    if (!listener || !h->have_state || h->state == TCP_CLOSED || h->state == TCP_LISTEN) {
        h->have_state = true;
        h->prev = from;
        h->state = to;
        h->cause = ev->u.state.cause;
        h->changed_at = idx + 1;
    }
    add_item(m, host, UI_ITEM_STATE, idx, false);
}

static void apply_call(struct ui_model *m, size_t idx, const struct tev *ev, int host, bool early)
{
    struct ui_host *h = &m->hosts[host];
    enum tcp_call c = ev->u.call.call;
    if (c == TCP_CALL_STATUS || (ev->u.call.result == -11 /* EAGAIN */ && c != TCP_CALL_CONNECT))
        return; /* polling noise, not part of the story */
    if (c == TCP_CALL_LISTEN && ev->u.call.result >= 0) {
        h->backlog = ev->u.call.arg;
        h->listening = true;
        if (ev->tuple.lport)
            h->listen_port = ev->tuple.lport;
    }
    if (c == TCP_CALL_ACCEPT && ev->u.call.result >= 0) {
        struct ui_conn *hit = NULL;
        if (ev->tuple.rport)
            hit = find_conn(m, host, &ev->tuple);
        for (size_t i = 0; !hit && i < m->nconns; i++)
            if (m->conns[i].host == host && m->conns[i].passive && !m->conns[i].accepted &&
                m->conns[i].state != TCP_SYN_RECEIVED)
                hit = &m->conns[i];
        if (hit)
            hit->accepted = true;
        count_queues(m);
    }
    /* connect() is reported twice: when it sends the SYN and when it
     * returns, once the connection is established (or refused). */
    bool returned = c == TCP_CALL_CONNECT && !early && h->have_state && h->state != TCP_SYN_SENT;
    add_item(m, host, UI_ITEM_CALL, idx, returned);
}

static void apply_timer(struct ui_model *m, size_t idx, const struct tev *ev, int host)
{
    unsigned w = ev->u.timer.which;
    if (w >= TCP_NTIMERS)
        return;
    struct ui_timer *t = &m->hosts[host].timers[w];
    switch (ev->u.timer.action) {
    case TEV_TIMER_ARM:
        t->armed = true;
        t->armed_us = ev->t_us;
        t->deadline_us = ev->u.timer.deadline_us;
        t->backoff = ev->u.timer.backoff;
        break;
    case TEV_TIMER_FIRE:
        t->armed = false;
        m->hosts[host].last_fired = (int)w;
        if (w == TCP_TIMER_RTX || w == TCP_TIMER_KEEPALIVE || w == TCP_TIMER_PERSIST ||
            w == TCP_TIMER_USER)
            add_item(m, host, UI_ITEM_TIMER, idx, false);
        break;
    case TEV_TIMER_CANCEL:
        t->armed = false;
        break;
    }
}

static void apply_cc(struct ui_model *m, size_t idx, const struct tev *ev, int host)
{
    struct ui_cc *cc = &m->hosts[host].cc;
    cc->known = true;
    cc->tuple = ev->tuple;
    cc->cwnd = ev->u.cc.cwnd;
    cc->ssthresh = ev->u.cc.ssthresh;
    cc->flight = ev->u.cc.flight;
    cc->phase = ev->u.cc.phase;
    cc->cause = ev->u.cc.cause;
    cc->algo = ev->u.cc.algo;
    cc->ev = idx;
}

static int apply(struct ui_model *m, size_t idx)
{
    const struct tev *ev = m->tl->events[idx];
    int host = ui_model_host_of(m, ev);
    int row = -1;
    if (ev->t_us > m->now_us)
        m->now_us = ev->t_us;
    switch (ev->kind) {
    case TEV_SEGMENT:
        if (host >= 0 && ev->u.seg.dir == TEV_OUT)
            pull_call_for_segment(m, idx, ev, host);
        if (host >= 0)
            row = apply_segment(m, idx, ev, host);
        break;
    case TEV_STATE:
        if (host >= 0)
            apply_state(m, idx, ev, host);
        break;
    case TEV_CALL:
        if (host >= 0 && !(m->early && m->early[idx]))
            apply_call(m, idx, ev, host, false);
        break;
    case TEV_TIMER:
        if (host >= 0)
            apply_timer(m, idx, ev, host);
        break;
    case TEV_DROP:
        if (host >= 0)
            add_item(m, host, UI_ITEM_DROP, idx, false);
        break;
    case TEV_KERNEL: {
        /* The kernel reports its own sockets: pin them on a kernel host. */
        int k = -1;
        for (size_t i = 0; i < m->nhosts && k < 0; i++)
            if (m->hosts[i].kernel && m->hosts[i].addr == ev->tuple.laddr)
                k = (int)i;
        for (size_t i = 0; i < m->nhosts && k < 0; i++)
            if (m->hosts[i].kernel)
                k = (int)i;
        if (k >= 0) {
            enum tcp_state was = m->hosts[k].kernel_state;
            bool had = m->hosts[k].have_kernel;
            m->hosts[k].have_kernel = !ev->u.kernel.gone;
            m->hosts[k].kernel_state = ev->u.kernel.gone ? TCP_CLOSED : ev->u.kernel.state;
            m->hosts[k].kernel_sock_prev = ev->u.kernel.gone ? TCP_NSTATES : ev->u.kernel.prev;
            if (m->hosts[k].kernel_state != was || !had) {
                m->hosts[k].kernel_prev = had ? was : TCP_CLOSED;
                m->hosts[k].kernel_changed = true;
            }
            /* The kernel's states go down its lane, like the stack's. */
            if (!had || was != m->hosts[k].kernel_state)
                add_item(m, k, UI_ITEM_KERNEL, idx, false);
        }
        break;
    }
    case TEV_READY:
        if (host >= 0)
            add_item(m, host, UI_ITEM_READY, idx, false);
        break;
    case TEV_CC:
        if (host >= 0)
            apply_cc(m, idx, ev, host);
        break;
    case TEV_DATAGRAM:
        if (host >= 0)
            row = apply_datagram(m, idx, ev, host);
        break;
    case TEV_LINK: /* losses are known to the arrow already (lost_later) */
    case TEV_ICMP:
    case TEV_RTT:
    case TEV_SACK:
    case TEV_NKINDS:
        break;
    }
    m->applied = idx + 1;
    return row;
}

bool ui_host_state(const struct ui_host *h, enum tcp_state *cur, enum tcp_state *prev)
{
    enum tcp_state c = TCP_CLOSED, p = TCP_CLOSED;
    bool known = false;
    if (h->have_state) {
        c = h->state;
        p = h->prev;
        known = true;
    } else if (h->kernel && h->kernel_changed) {
        c = h->kernel_state;
        p = h->kernel_prev;
        known = true;
    }
    if (cur)
        *cur = c;
    if (prev)
        *prev = p;
    return known;
}

int ui_model_apply_next(struct ui_model *m)
{
    if (m->applied >= m->tl->nevents)
        return -1;
    return apply(m, m->applied);
}

void ui_model_apply_until(struct ui_model *m, size_t n)
{
    if (n > m->tl->nevents)
        n = m->tl->nevents;
    if (n < m->applied)
        ui_model_reset(m);
    while (m->applied < n)
        apply(m, m->applied);
}

/* ---- congestion window history ------------------------------------------------ */

static bool same_tuple(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
    return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
           a->rport == b->rport;
}

int ui_cc_graph_host(const struct ui_model *m)
{
    size_t count[UI_MAX_HOSTS] = {0};
    bool sent[UI_MAX_HOSTS] = {false};
    for (size_t i = 0; i < m->tl->nevents; i++) {
        const struct tev *e = m->tl->events[i];
        int h = e->kind == TEV_CC ? ui_model_host_of(m, e) : -1;
        if (h < 0)
            continue;
        count[h]++;
        if (e->u.cc.flight > 0)
            sent[h] = true;
    }
    int best = -1;
    for (size_t h = 0; h < m->nhosts; h++) {
        if (!count[h])
            continue;
        if (best < 0 || sent[h] > sent[best] || (sent[h] == sent[best] && count[h] > count[best]))
            best = (int)h;
    }
    return best;
}

size_t ui_cc_history(const struct ui_model *m, int host, struct ui_cc_sample *out, size_t max)
{
    if (host < 0 || (size_t)host >= m->nhosts)
        return 0;
    struct tcp_tuple conn;
    bool have = m->hosts[host].cc.known;
    if (have)
        conn = m->hosts[host].cc.tuple;
    size_t n = 0;
    for (size_t i = 0; i < m->tl->nevents; i++) {
        const struct tev *e = m->tl->events[i];
        if (e->kind != TEV_CC || ui_model_host_of(m, e) != host)
            continue;
        if (!have) { /* nothing applied yet: the first connection that reports */
            conn = e->tuple;
            have = true;
        }
        if (!same_tuple(&e->tuple, &conn))
            continue;
        if (n < max)
            out[n] = (struct ui_cc_sample){
                i, e->t_us, e->u.cc.cwnd, e->u.cc.ssthresh, e->u.cc.flight, e->u.cc.phase};
        n++;
    }
    return n;
}

/* ---- the player ---------------------------------------------------------------- */

/* Events applied once step k is done. */
static size_t step_end(const struct scn_timeline *tl, size_t k)
{
    if (k == 0)
        return tl->nsteps ? tl->steps[0].first_event : tl->nevents;
    size_t end = tl->steps[k - 1].end_event;
    return end > tl->nevents ? tl->nevents : end;
}

void ui_player_init(struct ui_player *p, const struct scn_timeline *tl)
{
    memset(p, 0, sizeof *p);
    p->tl = tl;
    p->speed = 1.0;
    p->flying_row = -1;
    ui_model_init(&p->model, tl);
    ui_player_seek(p, 0);
}

void ui_player_free(struct ui_player *p)
{
    ui_model_free(&p->model);
}

void ui_player_seek(struct ui_player *p, size_t k)
{
    if (k > p->tl->nsteps)
        k = p->tl->nsteps;
    p->step = k;
    p->target = step_end(p->tl, k);
    ui_model_reset(&p->model);
    ui_model_apply_until(&p->model, p->target);
    p->clock_us = p->model.now_us;
    p->flying_row = -1;
    p->progress = 1.0;
    p->pause_s = 0;
    p->flash_s = 0;
}

/* Finish whatever is animating, instantly. */
static void settle(struct ui_player *p)
{
    ui_model_apply_until(&p->model, p->target);
    if (p->model.now_us > p->clock_us)
        p->clock_us = p->model.now_us;
    p->flying_row = -1;
    p->progress = 1.0;
}

void ui_player_next(struct ui_player *p)
{
    settle(p);
    if (p->step >= p->tl->nsteps) {
        p->playing = false;
        return;
    }
    p->step++;
    p->target = step_end(p->tl, p->step);
    p->pause_s = 0;
}

void ui_player_prev(struct ui_player *p)
{
    p->playing = false;
    ui_player_seek(p, p->step ? p->step - 1 : 0);
}

void ui_player_first(struct ui_player *p)
{
    p->playing = false;
    ui_player_seek(p, 0);
}

void ui_player_last(struct ui_player *p)
{
    p->playing = false;
    ui_player_seek(p, p->tl->nsteps);
}

void ui_player_set_speed(struct ui_player *p, double speed)
{
    if (speed < UI_SPEED_MIN)
        speed = UI_SPEED_MIN;
    if (speed > UI_SPEED_MAX)
        speed = UI_SPEED_MAX;
    p->speed = speed;
}

void ui_player_faster(struct ui_player *p)
{
    ui_player_set_speed(p, p->speed * 2);
}
void ui_player_slower(struct ui_player *p)
{
    ui_player_set_speed(p, p->speed / 2);
}

void ui_player_toggle_play(struct ui_player *p)
{
    p->playing = !p->playing;
    if (p->playing && p->step >= p->tl->nsteps && p->model.applied >= p->target)
        ui_player_seek(p, 0); /* play again from the start */
    p->pause_s = 0;
}

bool ui_player_busy(const struct ui_player *p)
{
    return p->playing || p->flying_row >= 0 || p->model.applied < p->target || p->flash_s > 0;
}

const struct scn_step *ui_player_current_step(const struct ui_player *p)
{
    if (p->step == 0 || p->step > p->tl->nsteps)
        return NULL;
    return &p->tl->steps[p->step - 1];
}

bool ui_player_tick(struct ui_player *p, double dt)
{
    bool changed = false;
    if (p->flash_s > 0) {
        p->flash_s -= dt;
        if (p->flash_s < 0)
            p->flash_s = 0;
        changed = true;
    }
    double budget = dt * p->speed; /* seconds of "animation time" */
    for (int guard = 0; budget > 0 && guard < 100000; guard++) {
        if (p->flying_row >= 0) {
            const struct ui_arrow *a = &p->model.rows[p->flying_row].arrow;
            double stop = a->lost ? UI_LOST_AT : 1.0;
            double need = (stop - p->progress) * ARROW_S;
            changed = true;
            if (budget < need) {
                p->progress += budget / ARROW_S;
                budget = 0;
            } else {
                budget -= need;
                p->progress = 1.0;
                p->flying_row = -1;
            }
        } else if (p->model.applied < p->target) {
            const struct tev *e = p->tl->events[p->model.applied];
            if (e->t_us > p->clock_us) {
                /* Let the clock run to the next event; long gaps are squeezed. */
                double gap_s = (double)(e->t_us - p->clock_us) / 1e6;
                double rate = gap_s > GAP_MAX_S ? gap_s / GAP_MAX_S : 1.0;
                double adv = budget * rate;
                changed = true;
                if (adv < gap_s) {
                    p->clock_us += (uint64_t)(adv * 1e6);
                    budget = 0;
                } else {
                    budget -= gap_s / rate;
                    p->clock_us = e->t_us;
                }
                continue;
            }
            size_t before[UI_MAX_HOSTS];
            for (size_t h = 0; h < p->model.nhosts; h++)
                before[h] = p->model.hosts[h].changed_at;
            int row = ui_model_apply_next(&p->model);
            for (size_t h = 0; h < p->model.nhosts; h++)
                if (before[h] != p->model.hosts[h].changed_at)
                    p->flash_s = FLASH_S;
            changed = true;
            if (row >= 0) {
                p->flying_row = row;
                p->progress = 0;
            }
        } else if (p->playing) {
            if (p->step >= p->tl->nsteps) {
                p->playing = false;
                changed = true;
                break;
            }
            double need = REST_S - p->pause_s;
            if (budget < need) {
                p->pause_s += budget;
                budget = 0;
            } else {
                budget -= need;
                ui_player_next(p);
                changed = true;
            }
        } else {
            break;
        }
    }
    return changed;
}
