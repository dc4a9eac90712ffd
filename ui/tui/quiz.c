/*
 * quiz.c — questions made from a recorded run, and their grading (quiz.h).
 *
 * quiz_build() replays the timeline through a ui_model, exactly as the
 * ladder does, and before each step looks at what that step will bring: the
 * first state change of each endpoint, the first new segment (its flags, and
 * its ack when it acknowledges something new, or its seq when it carries
 * data further on in the stream), calls whose result teaches something
 * (connect, recv, a UDP recvfrom() that returns a datagram, a failing or
 * repeated bind), and what each poll() that returns reports. At most
 * QUIZ_MAX_PER_STEP questions per step, in the order the events happen; the
 * scenario's own `ask` questions come first.
 *
 * Wrong answers get a hint about the usual misconception behind them (the
 * closer goes straight to CLOSED, an ACK that forgets the SYN's sequence
 * number, recv() = 0 taken for an error); a scenario's `hint` comes first.
 */
#include "quiz.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "player.h"
#include "tcp.h" /* TCP_POLLIN ..., poll(2)'s own values */
#include "view.h"

const char *quiz_kind_name(enum quiz_kind k)
{
    switch (k) {
    case QUIZ_FLAGS:
        return "flags";
    case QUIZ_ACK:
        return "ack";
    case QUIZ_SEQ:
        return "seq";
    case QUIZ_STATE:
        return "state";
    case QUIZ_CALL:
        return "call";
    case QUIZ_ASKED:
        return "asked";
    case QUIZ_READY:
        return "ready";
    }
    return "?";
}

/* ---- building ------------------------------------------------------------------ */

struct builder {
    struct quiz *qz;
    size_t cap;
    int err;
};

static struct quiz_q *push(struct builder *b, enum quiz_kind kind, size_t step, size_t ev, int host)
{
    if (b->err)
        return NULL;
    if (b->qz->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        struct quiz_q *q = realloc(b->qz->q, cap * sizeof *q);
        if (!q) {
            b->err = -ENOMEM;
            return NULL;
        }
        b->qz->q = q;
        b->cap = cap;
    }
    struct quiz_q *q = &b->qz->q[b->qz->n++];
    memset(q, 0, sizeof *q);
    q->kind = kind;
    q->step = step;
    q->ev = ev;
    q->host = host;
    q->correct = -1;
    return q;
}

/* Add a choice written the same in both languages (states, flags, errnos). */
static void add_choice(struct quiz_q *q, const char *text)
{
    if (q->nchoices >= QUIZ_MAX_CHOICES)
        return;
    for (int i = 0; i < q->nchoices; i++)
        if (!strcmp(q->choice_en[i], text))
            return;
    snprintf(q->choice_en[q->nchoices], sizeof q->choice_en[0], "%s", text);
    snprintf(q->choice_zh[q->nchoices], sizeof q->choice_zh[0], "%s", text);
    q->nchoices++;
}

/* The right answer was added first; move it to a place that depends on the
 * question's number, so it is not always a). */
static void place_answer(struct quiz_q *q, size_t qno)
{
    q->correct = 0;
    if (q->nchoices < 2)
        return;
    int p = (int)((qno * 7 + q->step * 3) % (size_t)q->nchoices);
    char en[80], zh[80];
    memcpy(en, q->choice_en[0], sizeof en);
    memcpy(zh, q->choice_zh[0], sizeof zh);
    memcpy(q->choice_en[0], q->choice_en[p], sizeof en);
    memcpy(q->choice_zh[0], q->choice_zh[p], sizeof zh);
    memcpy(q->choice_en[p], en, sizeof en);
    memcpy(q->choice_zh[p], zh, sizeof zh);
    q->correct = p;
}

static void add_state_q(struct builder *b, const struct ui_model *m, size_t k, size_t ev, int host,
                        enum tcp_state from, enum tcp_state to, bool kernel)
{
    struct quiz_q *q = push(b, QUIZ_STATE, k, ev, host);
    if (!q)
        return;
    const char *name = m->hosts[host].name;
    if (kernel) {
        snprintf(q->text_en, sizeof q->text_en,
                 "The kernel's socket on %s is in %s. Which state is it seen in next?", name,
                 tcp_state_name(from));
        snprintf(q->text_zh, sizeof q->text_zh,
                 "%s 上内核的套接字处于 %s 状态。接下来观察到它处于哪个状态？", name,
                 tcp_state_name(from));
    } else {
        snprintf(q->text_en, sizeof q->text_en, "%s is in %s. Which state does it enter next?",
                 name, tcp_state_name(from));
        snprintf(q->text_zh, sizeof q->text_zh, "%s 当前处于 %s 状态。它接下来进入哪个状态？", name,
                 tcp_state_name(from));
    }
    q->truth = to;
    q->before = from;
    add_choice(q, tcp_state_name(to));
    /* The other ways out of `from` (RFC 9293 Figure 5), then common mix-ups. */
    for (size_t i = 0; i < tcp_ntransitions; i++)
        if (tcp_transitions[i].from == from && tcp_transitions[i].to != from)
            add_choice(q, tcp_state_name(tcp_transitions[i].to));
    static const enum tcp_state usual[] = {TCP_ESTABLISHED, TCP_TIME_WAIT,  TCP_CLOSED,
                                           TCP_CLOSE_WAIT,  TCP_FIN_WAIT_2, TCP_SYN_RECEIVED,
                                           TCP_LAST_ACK};
    for (size_t i = 0; i < sizeof usual / sizeof usual[0]; i++)
        if (usual[i] != from)
            add_choice(q, tcp_state_name(usual[i]));
    place_answer(q, b->qz->n);
}

/* Plausible wrong flags for each right answer. */
static void flag_distractors(uint8_t f, uint8_t out[3])
{
    const uint8_t SA = TCP_SYN | TCP_ACK, FA = TCP_FIN | TCP_ACK, PA = TCP_PSH | TCP_ACK,
                  RA = TCP_RST | TCP_ACK;
    if (f == TCP_SYN)
        memcpy(out, (uint8_t[]){SA, TCP_ACK, TCP_RST}, 3);
    else if (f == SA)
        memcpy(out, (uint8_t[]){TCP_SYN, TCP_ACK, RA}, 3);
    else if (f == TCP_ACK)
        memcpy(out, (uint8_t[]){SA, FA, PA}, 3);
    else if (f == PA)
        memcpy(out, (uint8_t[]){TCP_ACK, FA, TCP_SYN}, 3);
    else if (f & TCP_RST)
        memcpy(out, (uint8_t[]){f == TCP_RST ? RA : TCP_RST, FA, TCP_ACK}, 3);
    else if (f & TCP_FIN)
        memcpy(out, (uint8_t[]){f == FA ? TCP_ACK : FA, RA, PA}, 3);
    else
        memcpy(out, (uint8_t[]){TCP_ACK, FA, PA}, 3);
}

static void add_flags_q(struct builder *b, const struct ui_model *m, size_t k,
                        const struct ui_arrow *a)
{
    const struct tev *ev = m->tl->events[a->ev];
    struct quiz_q *q = push(b, QUIZ_FLAGS, k, a->ev, a->from);
    if (!q)
        return;
    const char *from = m->hosts[a->from].name, *to = a->to >= 0 ? m->hosts[a->to].name : "?";
    const char *re = a->retransmission ? " again" : "";
    snprintf(q->text_en, sizeof q->text_en,
             "%s sends a segment to %s%s. Which flags does it carry?", from, to, re);
    snprintf(q->text_zh, sizeof q->text_zh, "%s %s向 %s 发送一个报文段。它带有哪些标志位？", from,
             a->retransmission ? "再次" : "", to);
    uint8_t f = ev->u.seg.tcp.flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_PSH | TCP_ACK);
    q->truth = f;
    char w[48];
    ui_flags_words(f, w, sizeof w);
    add_choice(q, w);
    uint8_t d[3];
    flag_distractors(f, d);
    for (int i = 0; i < 3; i++) {
        ui_flags_words(d[i], w, sizeof w);
        add_choice(q, w);
    }
    place_answer(q, b->qz->n);
}

static void add_number_q(struct builder *b, const struct ui_model *m, size_t k,
                         const struct ui_arrow *a, bool ack)
{
    const struct tev *ev = m->tl->events[a->ev];
    struct quiz_q *q = push(b, ack ? QUIZ_ACK : QUIZ_SEQ, k, a->ev, a->from);
    if (!q)
        return;
    char w[48];
    ui_flags_words(ev->u.seg.tcp.flags, w, sizeof w);
    const char *from = m->hosts[a->from].name;
    if (ack) {
        snprintf(q->text_en, sizeof q->text_en,
                 "Which acknowledgement number (relative) does %s's %s carry?", from, w);
        snprintf(q->text_zh, sizeof q->text_zh, "%s 发出的 %s 报文段的确认号（相对值）是多少？",
                 from, w);
        q->number = a->rel_ack;
    } else {
        snprintf(q->text_en, sizeof q->text_en,
                 "Which sequence number (relative) does %s's %s with %u bytes carry?", from, w,
                 (unsigned)ev->u.seg.tcp.payload_len);
        snprintf(q->text_zh, sizeof q->text_zh,
                 "%s 发出的 %s 报文段带 %u 字节数据，它的序列号（相对值）是多少？", from, w,
                 (unsigned)ev->u.seg.tcp.payload_len);
        q->number = a->rel_seq;
    }
    q->before = ev->u.seg.tcp.flags;
    q->truth = q->number;
}

static void add_errno_choice(struct quiz_q *q, long r)
{
    char num[24];
    if (r >= 0) {
        snprintf(num, sizeof num, "%ld", r);
        add_choice(q, num);
    } else {
        add_choice(q, ui_errno_name(r));
    }
}

/* A call whose result is worth predicting; false if it is not asked. */
static bool call_worth_asking(const struct ui_model *m, const struct tev *ev, int host,
                              const unsigned *binds)
{
    long r = ev->u.call.result;
    if (r == -EINPROGRESS || r == -EAGAIN)
        return false;
    switch (ev->u.call.call) {
    case TCP_CALL_CONNECT:
    case TCP_CALL_RECV:
        return true;
    case TCP_CALL_RECVFROM: /* one datagram per call: its boundary kept */
        return r >= 0;
    case TCP_CALL_BIND:
        return r < 0 || binds[host] > 0; /* a restart on the same port */
    case TCP_CALL_STATUS:
    case TCP_CALL_SOCKET:
        return false;
    default:
        return r < 0;
    }
    (void)m;
}

static void add_call_q(struct builder *b, const struct ui_model *m, size_t k, size_t idx, int host)
{
    const struct tev *ev = m->tl->events[idx];
    long r = ev->u.call.result;
    const char *name = ev->u.call.call == TCP_CALL_ABORT ? "close" : tcp_call_name(ev->u.call.call);
    struct quiz_q *q = push(b, QUIZ_CALL, k, idx, host);
    if (!q)
        return;
    q->truth = r;
    q->before = ev->u.call.call;
    const char *h = m->hosts[host].name;
    if ((ev->u.call.call == TCP_CALL_RECV || ev->u.call.call == TCP_CALL_RECVFROM) && r >= 0) {
        snprintf(q->text_en, sizeof q->text_en, "How many bytes does %s's %s() return?", h, name);
        snprintf(q->text_zh, sizeof q->text_zh, "%s 调用的 %s() 返回多少字节？", h, name);
        q->number = r;
        return;
    }
    snprintf(q->text_en, sizeof q->text_en, "What does %s's %s() return?", h, name);
    snprintf(q->text_zh, sizeof q->text_zh, "%s 调用的 %s() 返回什么？", h, name);
    add_errno_choice(q, r);
    static const long connect_set[] = {0, -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET};
    static const long bind_set[] = {0, -EADDRINUSE, -EINVAL, -ECONNREFUSED};
    static const long recv_set[] = {-ECONNRESET, -ETIMEDOUT, -ENOTCONN, -EPIPE, 0};
    static const long send_set[] = {-EPIPE, -ECONNRESET, -ETIMEDOUT, -ENOTCONN};
    static const long other_set[] = {0, -ECONNRESET, -EPIPE, -ENOTCONN};
    const long *set = other_set;
    size_t n = 4;
    switch (ev->u.call.call) {
    case TCP_CALL_CONNECT:
        set = connect_set;
        break;
    case TCP_CALL_BIND:
    case TCP_CALL_LISTEN:
        set = bind_set;
        break;
    case TCP_CALL_RECV:
        set = recv_set;
        n = 5;
        break;
    case TCP_CALL_SEND:
        set = send_set;
        break;
    default:
        break;
    }
    for (size_t i = 0; i < n; i++)
        add_errno_choice(q, set[i]);
    place_answer(q, b->qz->n);
}

/* A poll() that returns in this step: which events does it report? The
 * choices are sets a learner mixes up — writable alone, writable with an
 * error (a refused connect), readable, readable with a hang-up. */
static void add_ready_q(struct builder *b, const struct ui_model *m, size_t k, size_t idx, int host)
{
    const struct tev *ev = m->tl->events[idx];
    unsigned asked = ev->u.ready.events, got = ev->u.ready.revents;
    struct quiz_q *q = push(b, QUIZ_READY, k, idx, host);
    if (!q)
        return;
    q->truth = got;
    q->before = asked;
    char a[48], w[48];
    tcp_poll_str(asked, false, a, sizeof a);
    const char *h = m->hosts[host].name;
    snprintf(q->text_en, sizeof q->text_en, "%s waits in poll(%s). What does poll() return now?", h,
             a);
    snprintf(q->text_zh, sizeof q->text_zh, "%s 在 poll(%s) 中等待。poll() 现在返回什么？", h, a);
    add_choice(q, tcp_poll_str(got, false, w, sizeof w));
    static const unsigned for_out[] = {TCP_POLLOUT, TCP_POLLOUT | TCP_POLLERR | TCP_POLLHUP,
                                       TCP_POLLERR | TCP_POLLHUP, TCP_POLLIN | TCP_POLLOUT,
                                       TCP_POLLIN};
    static const unsigned for_in[] = {TCP_POLLIN, TCP_POLLIN | TCP_POLLHUP,
                                      TCP_POLLIN | TCP_POLLOUT, TCP_POLLERR | TCP_POLLHUP,
                                      TCP_POLLOUT};
    const unsigned *set = (asked & TCP_POLLOUT) ? for_out : for_in;
    for (size_t i = 0; i < sizeof for_out / sizeof for_out[0]; i++)
        add_choice(q, tcp_poll_str(set[i], false, w, sizeof w));
    place_answer(q, b->qz->n);
}

static void add_asked(struct builder *b, size_t k, const struct scn_ask *ask)
{
    if (!ask->nchoices)
        return;
    struct quiz_q *q = push(b, QUIZ_ASKED, k, SIZE_MAX, -1);
    if (!q)
        return;
    const char *en = ask->text_en ? ask->text_en : ask->text_zh;
    const char *zh = ask->text_zh ? ask->text_zh : ask->text_en;
    snprintf(q->text_en, sizeof q->text_en, "%s", en ? en : "");
    snprintf(q->text_zh, sizeof q->text_zh, "%s", zh ? zh : "");
    for (size_t i = 0; i < ask->nchoices && i < QUIZ_MAX_CHOICES; i++) {
        const char *ce = ask->choice_en[i] ? ask->choice_en[i] : ask->choice_zh[i];
        const char *cz = ask->choice_zh[i] ? ask->choice_zh[i] : ask->choice_en[i];
        snprintf(q->choice_en[i], sizeof q->choice_en[0], "%s", ce ? ce : "?");
        snprintf(q->choice_zh[i], sizeof q->choice_zh[0], "%s", cz ? cz : "?");
        q->nchoices++;
    }
    q->correct = ask->correct >= 0 && ask->correct < q->nchoices ? ask->correct : 0;
}

/* What the questions of one step have used up. */
struct step_seen {
    bool state[UI_MAX_HOSTS], call[UI_MAX_HOSTS]; /* state: kernel hosts (sampled) */
    bool ready[UI_MAX_HOSTS];
    bool flags, number;
    size_t n;
};

/* Last relative ack each endpoint sent to each other one. */
struct ack_memory {
    bool have[UI_MAX_HOSTS][UI_MAX_HOSTS];
    uint32_t ack[UI_MAX_HOSTS][UI_MAX_HOSTS];
};

static void consider_segment(struct builder *b, const struct ui_model *m, size_t k,
                             const struct ui_arrow *a, struct step_seen *seen,
                             struct ack_memory *am)
{
    const struct tev *ev = m->tl->events[a->ev];
    if (a->udp) /* a datagram has no flags or numbers to predict */
        return;
    const struct wire_tcp *t = &ev->u.seg.tcp;
    if (a->duplicate || a->from < 0 || a->to < 0 || a->from >= UI_MAX_HOSTS ||
        a->to >= UI_MAX_HOSTS)
        return;
    bool news = false;
    if ((t->flags & TCP_ACK) && a->rel_known) {
        news = !am->have[a->from][a->to] || am->ack[a->from][a->to] != a->rel_ack;
        am->have[a->from][a->to] = true;
        am->ack[a->from][a->to] = a->rel_ack;
    }
    if (!seen->flags && seen->n < QUIZ_MAX_PER_STEP) {
        add_flags_q(b, m, k, a);
        seen->flags = true;
        seen->n++;
    }
    if (seen->number || seen->n >= QUIZ_MAX_PER_STEP || !a->rel_known || a->retransmission)
        return;
    if (news && !(t->flags & TCP_RST)) {
        add_number_q(b, m, k, a, true);
        seen->number = true;
        seen->n++;
    } else if (t->payload_len > 0 && a->rel_seq > 1) {
        add_number_q(b, m, k, a, false);
        seen->number = true;
        seen->n++;
    }
}

int quiz_build(struct quiz *qz, const struct scn_timeline *tl)
{
    memset(qz, 0, sizeof *qz);
    qz->tl = tl;
    struct builder b = {qz, 0, 0};
    struct ui_model m;
    ui_model_init(&m, tl);
    struct ack_memory am;
    memset(&am, 0, sizeof am);
    unsigned binds[UI_MAX_HOSTS] = {0};
    for (size_t k = 1; k <= tl->nsteps && !b.err; k++) {
        const struct scn_step *st = &tl->steps[k - 1];
        size_t end = st->end_event < tl->nevents ? st->end_event : tl->nevents;
        if (st->first_event > m.applied)
            ui_model_apply_until(&m, st->first_event < end ? st->first_event : end);
        for (size_t i = 0; i < st->nasks; i++)
            add_asked(&b, k, &st->asks[i]);
        struct step_seen seen;
        memset(&seen, 0, sizeof seen);
        while (m.applied < end && !b.err) {
            size_t idx = m.applied;
            const struct tev *ev = tl->events[idx];
            int host = ui_model_host_of(&m, ev);
            bool room = seen.n < QUIZ_MAX_PER_STEP;
            /* A host may pass through two states in one step (FIN_WAIT_2 on
             * the way to TIME_WAIT): each answer is revealed before the next
             * question, so both are asked. */
            if (ev->kind == TEV_STATE && host >= 0 && host < UI_MAX_HOSTS && room &&
                ev->u.state.from != ev->u.state.to) {
                add_state_q(&b, &m, k, idx, host, ev->u.state.from, ev->u.state.to, false);
                seen.n++;
            } else if (ev->kind == TEV_KERNEL && !ev->u.kernel.gone && room) {
                int kh = -1;
                for (size_t h = 0; h < m.nhosts && kh < 0; h++)
                    if (m.hosts[h].kernel && m.hosts[h].addr == ev->tuple.laddr)
                        kh = (int)h;
                if (kh >= 0 && kh < UI_MAX_HOSTS && !seen.state[kh]) {
                    enum tcp_state was =
                        m.hosts[kh].have_kernel ? m.hosts[kh].kernel_state : TCP_CLOSED;
                    if (was != ev->u.kernel.state) {
                        add_state_q(&b, &m, k, idx, kh, was, ev->u.kernel.state, true);
                        seen.state[kh] = true;
                        seen.n++;
                    }
                }
            } else if (ev->kind == TEV_CALL && host >= 0 && host < UI_MAX_HOSTS) {
                if (room && !seen.call[host] && call_worth_asking(&m, ev, host, binds)) {
                    add_call_q(&b, &m, k, idx, host);
                    seen.call[host] = true;
                    seen.n++;
                }
                if (ev->u.call.call == TCP_CALL_BIND)
                    binds[host]++;
            } else if (ev->kind == TEV_READY && host >= 0 && host < UI_MAX_HOSTS && room &&
                       !seen.ready[host]) {
                add_ready_q(&b, &m, k, idx, host);
                seen.ready[host] = true;
                seen.n++;
            }
            int row = ui_model_apply_next(&m);
            if (row >= 0 && m.rows[row].has_arrow && m.rows[row].arrow.ev == idx)
                consider_segment(&b, &m, k, &m.rows[row].arrow, &seen, &am);
        }
        /* The scenario's hint speaks to every question of its step. */
        for (size_t i = qz->n; i-- > 0 && qz->q[i].step == k;) {
            qz->q[i].hint_en = st->hint_en;
            qz->q[i].hint_zh = st->hint_zh;
        }
    }
    ui_model_free(&m);
    if (b.err) {
        quiz_free(qz);
        return b.err;
    }
    return 0;
}

void quiz_free(struct quiz *qz)
{
    free(qz->q);
    qz->q = NULL;
    qz->n = 0;
}

size_t quiz_first_of_step(const struct quiz *qz, size_t k, size_t *count)
{
    size_t first = qz->n;
    *count = 0;
    for (size_t i = 0; i < qz->n; i++)
        if (qz->q[i].step == k) {
            if (first == qz->n)
                first = i;
            (*count)++;
        }
    return first;
}

/* ---- grading ------------------------------------------------------------------- */

/* Lower case, without spaces, for comparing answers. */
static void squash(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; in++)
        if (!isspace((unsigned char)*in))
            out[n++] = (char)tolower((unsigned char)*in);
    out[n] = 0;
}

/* tcpdump's flag letters ("S.", "F.", "P.", "R.", ".") as words. */
static bool tcpdump_flags(const char *s, uint8_t *flags)
{
    uint8_t f = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        switch (*s) {
        case 'S':
            f |= TCP_SYN;
            break;
        case 'F':
            f |= TCP_FIN;
            break;
        case 'R':
            f |= TCP_RST;
            break;
        case 'P':
            f |= TCP_PSH;
            break;
        case '.':
            f |= TCP_ACK;
            break;
        default:
            return false;
        }
    }
    *flags = f;
    return true;
}

static bool parse_long(const char *s, long *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return false;
    char *end;
    long v = strtol(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

enum quiz_verdict quiz_grade(const struct quiz_q *q, const char *given, int *chosen)
{
    *chosen = -1;
    if (!given)
        return QUIZ_INVALID;
    if (q->nchoices == 0) {
        long v;
        if (!parse_long(given, &v))
            return QUIZ_INVALID;
        return v == q->number ? QUIZ_RIGHT : QUIZ_WRONG;
    }
    char g[96];
    squash(given, g, sizeof g);
    int pick = -1;
    if (g[0] >= 'a' && g[0] < 'a' + q->nchoices && (!g[1] || (g[1] == ')' && !g[2])))
        pick = g[0] - 'a';
    else if (g[0] >= '1' && g[0] < '1' + q->nchoices && !g[1])
        pick = g[0] - '1';
    for (int i = 0; pick < 0 && i < q->nchoices; i++) {
        char e[96], z[96];
        squash(q->choice_en[i], e, sizeof e);
        squash(q->choice_zh[i], z, sizeof z);
        if (!strcmp(g, e) || !strcmp(g, z))
            pick = i;
    }
    uint8_t f;
    if (pick < 0 && q->kind == QUIZ_FLAGS) {
        char trimmed[32];
        size_t n = 0;
        for (const char *s = given; *s && n + 1 < sizeof trimmed; s++)
            if (!isspace((unsigned char)*s))
                trimmed[n++] = *s;
        trimmed[n] = 0;
        if (tcpdump_flags(trimmed, &f)) {
            char w[48], sw[48];
            ui_flags_words(f, w, sizeof w);
            squash(w, sw, sizeof sw);
            for (int i = 0; pick < 0 && i < q->nchoices; i++) {
                char e[96];
                squash(q->choice_en[i], e, sizeof e);
                if (!strcmp(sw, e))
                    pick = i;
            }
        }
    }
    if (pick < 0)
        return QUIZ_INVALID;
    *chosen = pick;
    return pick == q->correct ? QUIZ_RIGHT : QUIZ_WRONG;
}

const char *quiz_answer_text(const struct quiz_q *q, bool zh, char *buf, size_t cap)
{
    if (q->nchoices == 0)
        snprintf(buf, cap, "%ld", q->number);
    else
        snprintf(buf, cap, "%s", zh ? q->choice_zh[q->correct] : q->choice_en[q->correct]);
    return buf;
}

/* ---- hints --------------------------------------------------------------------- */

#define H(en, zh) (zh_ ? (zh) : (en))

static const char *state_hint(const struct quiz_q *q, const char *chosen, bool zh_)
{
    enum tcp_state to = (enum tcp_state)q->truth, from = (enum tcp_state)q->before;
    bool said_closed = chosen && !strcmp(chosen, "CLOSED");
    switch (to) {
    case TCP_TIME_WAIT:
        if (said_closed)
            return H("The side that closes first does not go straight to CLOSED: it waits "
                     "2 MSL in TIME_WAIT, in case its last ACK is lost and the FIN comes again.",
                     "先关闭的一方不会直接进入 CLOSED：它要在 TIME_WAIT 等待 2MSL，"
                     "以防最后一个 ACK 丢失、对方重传 FIN。");
        return H("Whoever closes first ends in TIME_WAIT once both FINs are acknowledged; it "
                 "lasts 2 MSL.",
                 "先关闭的一方在双方的 FIN 都被确认后进入 TIME_WAIT，持续 2MSL。");
    case TCP_FIN_WAIT_2:
        return H("An ACK of our FIN only says the peer got it. The peer has not closed its own "
                 "direction yet, so we wait in FIN_WAIT_2 for its FIN.",
                 "对方确认了我们的 FIN，只说明它收到了；它自己的方向还没有关闭，"
                 "所以我们在 FIN_WAIT_2 等待它的 FIN。");
    case TCP_CLOSE_WAIT:
        return H("A FIN from the peer puts this side in CLOSE_WAIT, and it stays there until "
                 "its own program calls close(): a CLOSE_WAIT that never ends means the program "
                 "never called close().",
                 "收到对方的 FIN 后进入 CLOSE_WAIT，并一直停在那里，直到本方程序调用 close()："
                 "永不结束的 CLOSE_WAIT 说明程序从未调用 close()。");
    case TCP_SYN_RECEIVED:
        return H("A listener that answers a SYN is not connected yet: it waits in SYN_RECEIVED "
                 "(in the SYN queue) for the third segment, the ACK.",
                 "监听方回复 SYN,ACK 后还没有建立连接：它在 SYN_RECEIVED（SYN 队列中）"
                 "等待第三个报文段 ACK。");
    case TCP_ESTABLISHED:
        if (from == TCP_SYN_SENT)
            return H("The client is connected as soon as the SYN,ACK arrives; the ACK it sends "
                     "back needs no answer.",
                     "客户端一收到 SYN,ACK 就进入 ESTABLISHED；它回的 ACK 不需要对方再回答。");
        return H("The ACK of its SYN,ACK completes the three-way handshake for this side.",
                 "收到对自己 SYN,ACK 的确认，这一方的三次握手就完成了。");
    case TCP_LAST_ACK:
        return H("close() in CLOSE_WAIT sends the FIN; the side then waits in LAST_ACK for its "
                 "acknowledgement, and does not need TIME_WAIT.",
                 "在 CLOSE_WAIT 中调用 close() 发出 FIN，然后在 LAST_ACK 等待对它的确认，"
                 "这一方不需要 TIME_WAIT。");
    case TCP_CLOSING:
        return H("The FINs crossed: a FIN arrived before the ACK of our own, so both sides pass "
                 "through CLOSING.",
                 "双方的 FIN 在途中交错：在收到对自己 FIN 的确认之前先收到了对方的 FIN，"
                 "于是进入 CLOSING。");
    case TCP_CLOSED:
        if (from == TCP_TIME_WAIT)
            return H("After 2 MSL in TIME_WAIT the connection is gone: CLOSED.",
                     "在 TIME_WAIT 等满 2MSL 后，连接才真正结束，进入 CLOSED。");
        if (from == TCP_LAST_ACK)
            return H("The ACK of its FIN was all LAST_ACK waited for: CLOSED, with no TIME_WAIT.",
                     "LAST_ACK 等的就是对自己 FIN 的确认：收到后直接进入 CLOSED，没有 TIME_WAIT。");
        return H("A reset (RST), or giving up after the last retry, ends a connection at once: "
                 "CLOSED, with no four-way teardown.",
                 "复位（RST）或重传次数用尽会立即结束连接，进入 CLOSED，不经过四次挥手。");
    case TCP_SYN_SENT:
        return H("connect() sends a SYN and waits in SYN_SENT for the answer.",
                 "connect() 发出 SYN，然后在 SYN_SENT 等待对方的回答。");
    case TCP_LISTEN:
        return H("listen() makes the socket passive: it waits in LISTEN for SYNs.",
                 "listen() 让套接字变为被动打开：它在 LISTEN 状态等待 SYN。");
    case TCP_FIN_WAIT_1:
        return H("close() (or shutdown(SHUT_WR)) sends a FIN; until it is acknowledged the side "
                 "is in FIN_WAIT_1.",
                 "close()（或 shutdown(SHUT_WR)）发出 FIN；在它被确认之前，这一方处于 "
                 "FIN_WAIT_1。");
    default:
        return H("Press g for the whole state diagram: every edge out of this state.",
                 "按 g 查看完整的状态图：从这个状态出发的每一条边。");
    }
}

static const char *flags_hint(const struct quiz_q *q, long chosen_flags, bool zh_)
{
    uint8_t f = (uint8_t)q->truth;
    if ((f & TCP_ACK) && chosen_flags >= 0 && !(chosen_flags & TCP_ACK) && !(f & TCP_RST))
        return H("Once the first SYN has been answered, every segment carries ACK: it costs "
                 "nothing and keeps the peer informed.",
                 "第一个 SYN 得到回答之后，每个报文段都带 ACK：它不花任何代价，"
                 "还能随时告诉对方收到了什么。");
    if (f & TCP_RST)
        return H("No connection is there to take this segment (or the program aborted it), so "
                 "TCP answers with RST, a reset.",
                 "没有连接能接收这个报文段（或者程序中止了连接），TCP 就回复 RST，即复位。");
    if (f == (TCP_SYN | TCP_ACK))
        return H("A SYN is answered with SYN,ACK: the server's own SYN and the ACK of the "
                 "client's, in one segment.",
                 "SYN 的回答是 SYN,ACK：服务器自己的 SYN 与对客户端 SYN 的确认合在一个报文段里。");
    if (f == TCP_SYN)
        return H("connect() starts the three-way handshake with a SYN alone: there is nothing to "
                 "acknowledge yet.",
                 "connect() 用一个单独的 SYN 开始三次握手：此时还没有什么需要确认。");
    if (f & TCP_FIN)
        return H("close() or shutdown(SHUT_WR) sends FIN: no more data in this direction.",
                 "close() 或 shutdown(SHUT_WR) 发出 FIN：这个方向不再有数据。");
    if (f & TCP_PSH)
        return H("Data goes out as PSH,ACK: the bytes, and the ACK of what came in.",
                 "数据以 PSH,ACK 发出：既带数据，也确认收到的内容。");
    return H("Something arrived that must be acknowledged (a SYN, a FIN or data) and there is "
             "nothing to send with it: a bare ACK.",
             "收到了需要确认的东西（SYN、FIN 或数据），而又没有数据要一起发：于是只发一个 ACK。");
}

static const char *call_hint(const struct quiz_q *q, bool zh_)
{
    long r = q->truth;
    if (q->before == TCP_CALL_RECV && r == 0)
        return H("recv() = 0 means end of stream: the peer sent FIN. It is not an error, and it "
                 "is how a program learns the other side closed.",
                 "recv() 返回 0 表示数据流结束：对方发来了 FIN。这不是错误，"
                 "程序正是这样得知对方已经关闭。");
    if (q->before == TCP_CALL_RECVFROM && r >= 0)
        return H("recvfrom() returns one datagram, whole: UDP keeps the sender's message "
                 "boundaries, one sendto() for one recvfrom().",
                 "recvfrom() 每次返回一个完整的数据报：UDP 保留发送方的消息边界，"
                 "一次 sendto() 对应一次 recvfrom()。");
    if (q->before == TCP_CALL_RECV && r > 0)
        return H("recv() returns what has arrived, up to the size asked: the byte stream keeps no "
                 "message boundaries.",
                 "recv() 返回已经到达的数据，最多到所要求的长度：字节流不保留消息边界。");
    switch (-r) {
    case 0:
        if (q->before == TCP_CALL_CONNECT)
            return H("connect() returns 0 as soon as the SYN,ACK has arrived.",
                     "SYN,ACK 一到达，connect() 就返回 0。");
        return H("The call succeeds: nothing stands in its way.", "这次调用成功，没有任何阻碍。");
    case ECONNREFUSED:
        return H("A SYN answered with RST means nobody listens on that port: ECONNREFUSED.",
                 "SYN 得到的回答是 RST，说明那个端口上没有监听者：ECONNREFUSED。");
    case ECONNRESET:
        return H("A RST on an open connection makes the next call fail with ECONNRESET.",
                 "已建立的连接收到 RST 后，下一次调用会以 ECONNRESET 失败。");
    case ETIMEDOUT:
        return H("No answer after every retry: the call gives up with ETIMEDOUT.",
                 "重传全部用尽仍无回答：调用以 ETIMEDOUT 放弃。");
    case EADDRINUSE:
        return H("The port is still held (by a connection in TIME_WAIT, or another socket); "
                 "SO_REUSEADDR lets the bind through.",
                 "端口仍被占用（TIME_WAIT 中的连接或另一个套接字）；设置 SO_REUSEADDR 才能绑定。");
    case EPIPE:
        return H("Sending after the connection is closed fails with EPIPE.",
                 "连接关闭后再发送，会以 EPIPE 失败。");
    default:
        return H("The ladder shows what the call met on the way.",
                 "梯形图显示了这次调用遇到的情况。");
    }
}

static const char *ready_hint(const struct quiz_q *q, bool zh_)
{
    unsigned r = (unsigned)q->truth;
    if ((r & TCP_POLLOUT) && (r & TCP_POLLERR))
        return H("A refused or failed connect() makes the socket writable too, with POLLERR (and "
                 "POLLHUP): writable is not connected, so read SO_ERROR.",
                 "被拒绝或失败的 connect() 同样让套接字可写，并带有 POLLERR（和 POLLHUP）："
                 "可写不等于已连接，所以要读取 SO_ERROR。");
    if (r & TCP_POLLOUT)
        return H("The segment that completes the handshake makes a connecting socket writable: "
                 "POLLOUT.",
                 "完成三次握手的那个报文段让正在连接的套接字变为可写：POLLOUT。");
    if ((r & TCP_POLLIN) && !(r & TCP_POLLHUP))
        return H("POLLIN means a read will not block: data, a FIN (recv() returns 0), or on a "
                 "listening socket a completed handshake. POLLHUP only when both directions are "
                 "finished.",
                 "POLLIN 表示读不会阻塞：有数据、收到 FIN（recv() 返回 0），或者监听套接字上"
                 "有一次完成的三次握手。只有两个方向都结束时才有 POLLHUP。");
    return H("poll() reports what the segments that arrived have made ready; the ladder shows "
             "which ones.",
             "poll() 报告的是到达的报文段让哪些事件就绪；梯形图显示是哪些报文段。");
}

const char *quiz_hint(const struct quiz_q *q, long chosen, bool zh, char *buf, size_t cap)
{
    const bool zh_ = zh;
    const char *own =
        zh ? (q->hint_zh ? q->hint_zh : q->hint_en) : (q->hint_en ? q->hint_en : q->hint_zh);
    const char *h = NULL;
    const char *choice =
        q->nchoices && chosen >= 0 && chosen < q->nchoices ? q->choice_en[chosen] : NULL;
    switch (q->kind) {
    case QUIZ_STATE:
        h = state_hint(q, choice, zh);
        break;
    case QUIZ_FLAGS: {
        long cf = -1;
        for (int f = 0; choice && f < 256 && cf < 0; f++) {
            char w[48];
            ui_flags_words((uint8_t)f, w, sizeof w);
            if (!strcmp(w, choice))
                cf = f;
        }
        h = flags_hint(q, cf, zh);
        break;
    }
    case QUIZ_ACK:
        if (chosen == q->number - 1)
            h = H("A SYN and a FIN each use up one sequence number, so the ack is one more.",
                  "SYN 和 FIN 各占用一个序列号，所以确认号还要再加 1。");
        else
            h = H(
                "ack = the next byte expected: the peer's seq + its length, + 1 for a SYN or FIN.",
                "确认号 = 期望收到的下一个字节：对方的序列号 + 数据长度，SYN 或 FIN 再加 1。");
        break;
    case QUIZ_SEQ:
        h = H("seq = the number of this segment's first byte: the SYN took 0, so the first data "
              "byte is 1, and every byte sent before moves it on.",
              "序列号 = 本报文段第一个字节的编号：SYN 占用了 0，第一个数据字节是 1，"
              "之前每发一个字节它就加 1。");
        break;
    case QUIZ_CALL:
        h = call_hint(q, zh);
        break;
    case QUIZ_ASKED:
        h = NULL;
        break;
    case QUIZ_READY:
        h = ready_hint(q, zh);
        break;
    }
    if (own && h)
        snprintf(buf, cap, "%s %s", own, h);
    else
        snprintf(buf, cap, "%s", own ? own : h ? h : "");
    (void)zh_;
    return buf;
}

#undef H

/* ---- a learner at the keyboard ------------------------------------------------- */

int quiz_session_init(struct quiz_session *s, const struct scn_timeline *tl)
{
    memset(s, 0, sizeof *s);
    int rc = quiz_build(&s->qz, tl);
    if (rc < 0)
        return rc;
    s->done = calloc(s->qz.n ? s->qz.n : 1, sizeof *s->done);
    if (!s->done) {
        quiz_free(&s->qz);
        return -ENOMEM;
    }
    s->phase = QUIZ_IDLE;
    s->cur = SIZE_MAX;
    s->chosen = -1;
    return 0;
}

void quiz_session_free(struct quiz_session *s)
{
    quiz_free(&s->qz);
    free(s->done);
    memset(s, 0, sizeof *s);
}

size_t quiz_session_pending(const struct quiz_session *s, size_t k)
{
    for (size_t i = 0; i < s->qz.n; i++)
        if (s->qz.q[i].step == k && !s->done[i])
            return i;
    return SIZE_MAX;
}

void quiz_session_ask(struct quiz_session *s, size_t i)
{
    if (i >= s->qz.n)
        return;
    s->cur = i;
    s->phase = QUIZ_ASKING;
    s->input[0] = 0;
    s->chosen = -1;
    s->given = 0;
    s->right = s->skipped = false;
}

static void reveal(struct quiz_session *s)
{
    s->done[s->cur] = true;
    s->phase = QUIZ_REVEALED;
    s->asked++;
    s->right_count += s->right;
}

enum quiz_verdict quiz_session_answer(struct quiz_session *s, const char *given)
{
    if (s->phase != QUIZ_ASKING || s->cur >= s->qz.n)
        return QUIZ_INVALID;
    const struct quiz_q *q = &s->qz.q[s->cur];
    int chosen;
    enum quiz_verdict v = quiz_grade(q, given, &chosen);
    if (v == QUIZ_INVALID)
        return v;
    s->chosen = chosen;
    if (!q->nchoices)
        parse_long(given, &s->given);
    s->right = v == QUIZ_RIGHT;
    reveal(s);
    return v;
}

void quiz_session_skip(struct quiz_session *s)
{
    if (s->phase != QUIZ_ASKING || s->cur >= s->qz.n)
        return;
    s->skipped = true;
    s->right = false;
    reveal(s);
}

/* ---- homework files ------------------------------------------------------------ */

static void set_err(struct scn_error *err, const char *path, int line, int col, const char *msg)
{
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", path);
    err->line = line;
    err->col = col;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
}

void quiz_answers_free(struct quiz_answers *a)
{
    for (size_t i = 0; a->given && i < a->n; i++)
        free(a->given[i]);
    free(a->given);
    free(a->line);
    memset(a, 0, sizeof *a);
}

int quiz_answers_read(const struct quiz *qz, const char *path, struct quiz_answers *a,
                      struct scn_error *err)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "r");
    if (!f) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read the answers: %s", strerror(errno));
        set_err(err, path, 1, 1, msg);
        return -1;
    }
    a->n = qz->n;
    a->given = calloc(qz->n ? qz->n : 1, sizeof *a->given);
    a->line = calloc(qz->n ? qz->n : 1, sizeof *a->line);
    if (!a->given || !a->line) {
        fclose(f);
        quiz_answers_free(a);
        set_err(err, path, 1, 1, "out of memory");
        return -1;
    }
    char buf[1024], msg[256];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(buf, sizeof buf, f)) {
        lineno++;
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n') {
            set_err(err, path, lineno, 1, "line too long (at most 1000 characters)");
            rc = -1;
            break;
        }
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = 0;
        char *p = buf;
        while (*p == ' ' || *p == '\t')
            p++;
        len = strlen(p);
        while (len && isspace((unsigned char)p[len - 1]))
            p[--len] = 0;
        if (!*p)
            continue;
        int col = (int)(p - buf) + 1;
        if (!isdigit((unsigned char)*p)) {
            set_err(err, path, lineno, col,
                    "expected a question number, then the answer (e.g. \"3 b\")");
            rc = -1;
            break;
        }
        char *end;
        unsigned long id = strtoul(p, &end, 10);
        if (*end == ':' || *end == '.' || *end == ')')
            end++;
        if (*end && *end != ' ' && *end != '\t') {
            set_err(err, path, lineno, (int)(end - buf) + 1,
                    "expected a space between the question number and the answer");
            rc = -1;
            break;
        }
        if (id < 1 || id > qz->n) {
            snprintf(msg, sizeof msg, "there is no question %lu: this quiz has %zu", id, qz->n);
            set_err(err, path, lineno, col, msg);
            rc = -1;
            break;
        }
        while (*end == ' ' || *end == '\t')
            end++;
        if (!*end) {
            snprintf(msg, sizeof msg, "question %lu has no answer after its number", id);
            set_err(err, path, lineno, (int)(end - buf) + 1, msg);
            rc = -1;
            break;
        }
        if (a->given[id - 1]) {
            snprintf(msg, sizeof msg, "question %lu is answered twice (first on line %d)", id,
                     a->line[id - 1]);
            set_err(err, path, lineno, col, msg);
            rc = -1;
            break;
        }
        const struct quiz_q *q = &qz->q[id - 1];
        int chosen;
        if (quiz_grade(q, end, &chosen) == QUIZ_INVALID) {
            if (q->nchoices)
                snprintf(msg, sizeof msg,
                         "'%.60s' is not a choice of question %lu: answer a to %c, or a choice "
                         "as written",
                         end, id, 'a' + q->nchoices - 1);
            else
                snprintf(msg, sizeof msg, "question %lu wants a number, not '%.60s'", id, end);
            set_err(err, path, lineno, (int)(end - buf) + 1, msg);
            rc = -1;
            break;
        }
        a->given[id - 1] = strdup(end);
        a->line[id - 1] = lineno;
        if (!a->given[id - 1]) {
            set_err(err, path, lineno, 1, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) {
        set_err(err, path, lineno + 1, 1, "read error");
        rc = -1;
    }
    fclose(f);
    if (rc)
        quiz_answers_free(a);
    return rc;
}

/* ---- output -------------------------------------------------------------------- */

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static const char *step_words(const struct scn_step *st, bool zh)
{
    const char *t = zh ? st->say_zh : st->say_en;
    if (!t || !*t)
        t = zh ? st->say_en : st->say_zh;
    return t ? t : "";
}

struct quiz_score quiz_write_json(const struct quiz *qz, const struct quiz_answers *a,
                                  const char *scenario, bool zh, FILE *out)
{
    struct quiz_score sc = {qz->n, 0, 0};
    fputs("{\"scenario\":", out);
    json_str(out, scenario);
    fprintf(out, ",\"lang\":\"%s\",\"results\":[", zh ? "zh" : "en");
    for (size_t i = 0; i < qz->n; i++) {
        const struct quiz_q *q = &qz->q[i];
        const struct scn_step *st = &qz->tl->steps[q->step - 1];
        const char *given = a && i < a->n ? a->given[i] : NULL;
        int chosen = -1;
        enum quiz_verdict v = given ? quiz_grade(q, given, &chosen) : QUIZ_INVALID;
        bool right = given && v == QUIZ_RIGHT;
        sc.answered += given != NULL;
        sc.right += right;
        char ans[96], hint[768];
        fprintf(out, "%s{\"id\":%zu,\"step\":%zu,\"line\":%d,\"kind\":\"%s\",\"question\":",
                i ? "," : "", i + 1, q->step, st->line, quiz_kind_name(q->kind));
        json_str(out, zh ? q->text_zh : q->text_en);
        fputs(",\"given\":", out);
        if (given)
            json_str(out, given);
        else
            fputs("null", out);
        fputs(",\"expected\":", out);
        json_str(out, quiz_answer_text(q, zh, ans, sizeof ans));
        fprintf(out, ",\"right\":%s", right ? "true" : "false");
        if (given && !right) {
            long c = chosen;
            if (!q->nchoices) {
                char *end;
                c = strtol(given, &end, 10);
            }
            fputs(",\"hint\":", out);
            json_str(out, quiz_hint(q, c, zh, hint, sizeof hint));
        }
        fputs(",\"explain\":", out);
        json_str(out, step_words(st, zh));
        fputc('}', out);
    }
    fprintf(out, "],\"questions\":%zu,\"answered\":%zu,\"right\":%zu,\"percent\":%zu}\n",
            sc.questions, sc.answered, sc.right,
            sc.questions ? (sc.right * 100 + sc.questions / 2) / sc.questions : 0);
    return sc;
}

void quiz_write_sheet(const struct quiz *qz, const char *title, bool zh, FILE *out)
{
    if (zh)
        fprintf(out,
                "测验：%s（共 %zu 题）\n"
                "在文件中每行写一个答案：“题号 答案”（选项字母，或所问的数字），然后用\n"
                "  tcplab quiz 场景文件 --answers 答案文件\n"
                "评分。\n",
                title, qz->n);
    else
        fprintf(out,
                "Quiz: %s (%zu questions)\n"
                "Write one answer per line in a file, \"ID ANSWER\" (a choice's letter, or the\n"
                "number asked for), then grade it with\n"
                "  tcplab quiz SCENARIO --answers FILE\n",
                title, qz->n);
    size_t last_step = 0;
    for (size_t i = 0; i < qz->n; i++) {
        const struct quiz_q *q = &qz->q[i];
        if (q->step != last_step) {
            const struct scn_step *st = &qz->tl->steps[q->step - 1];
            fprintf(out,
                    zh ? "\n第 %zu 步之前（第 %d 行：%s）\n" : "\nBefore step %zu (line %d: %s)\n",
                    q->step, st->line, st->text ? st->text : "");
            last_step = q->step;
        }
        fprintf(out, "  %zu. %s\n", i + 1, zh ? q->text_zh : q->text_en);
        if (!q->nchoices) {
            fputs(zh ? "       （填一个数字）\n" : "       (a number)\n", out);
            continue;
        }
        fputs("      ", out);
        for (int c = 0; c < q->nchoices; c++)
            fprintf(out, " %c) %s", 'a' + c, zh ? q->choice_zh[c] : q->choice_en[c]);
        fputc('\n', out);
    }
}
