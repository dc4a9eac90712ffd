/*
 * cap_timeline.c — one captured connection as a timeline (capture.h): the
 * segments, both endpoints' states inferred from them, and narration.
 *
 * The states follow RFC 9293 §3.10 "Event Processing" as far as segments
 * show them: a SYN sent means SYN_SENT, a SYN received by an end that
 * answers it means it was LISTENing, an ACK of our SYN means ESTABLISHED, a
 * FIN sent means the application closed (FIN_WAIT_1, or LAST_ACK after the
 * peer's FIN), the ACK of a FIN moves FIN_WAIT_1 -> FIN_WAIT_2, CLOSING ->
 * TIME_WAIT and LAST_ACK -> CLOSED, a FIN received moves ESTABLISHED ->
 * CLOSE_WAIT, FIN_WAIT_1 -> CLOSING and FIN_WAIT_2 -> TIME_WAIT, and a RST
 * closes both ends. Within one segment the ACK is processed before the FIN,
 * in the RFC's step order. Every cause ends in "(inferred)": the capture
 * shows segments, not sockets.
 *
 * Where the capture was taken is unknown, so each packet counts as sent and
 * received at its time stamp — except a segment the sender had to send
 * again before any ACK covered it: that first copy is shown lost (the
 * narration says "probably", since its ACK may have been the one lost).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap_internal.h"
#include "seq.h"

/* How far ahead to look for the retransmission of a segment. */
#define LOOKAHEAD 4000

/* What the capture shows of one end. */
struct side {
    enum tcp_state st;
    bool have_base;
    uint32_t base; /* its ISN, from its SYN: relative numbers start here */
    bool have_max;
    uint32_t snd_max; /* one past the highest sequence number sent */
    bool fin_sent;
    uint32_t fin_seq;
    bool have_ack;
    uint32_t last_ack; /* the last acknowledgement it sent */
    uint16_t last_win;
    unsigned dupacks;
    bool zero_win;    /* its last window was zero */
    bool answers_syn; /* it will send a SYN,ACK: it was listening */
};

struct builder {
    struct scn_timeline *tl;
    size_t cap_events, cap_steps;
    bool oom;
    struct side s[2];
    const char *names[2]; /* "client", "server" */
    uint32_t addr[2];
    uint16_t port[2];
    /* narration of the current step, built up */
    char en[1024], zh[1024];
    size_t en_len, zh_len;
};

static void push(struct builder *b, const struct tev *ev)
{
    struct scn_timeline *tl = b->tl;
    if (tl->nevents == b->cap_events) {
        size_t n = b->cap_events ? b->cap_events * 2 : 256;
        struct tev **e = realloc(tl->events, n * sizeof *e);
        if (!e) {
            b->oom = true;
            return;
        }
        tl->events = e;
        b->cap_events = n;
    }
    struct tev *c = tev_clone(ev);
    if (!c) {
        b->oom = true;
        return;
    }
    tl->events[tl->nevents++] = c;
}

static void say(struct builder *b, const char *en, const char *zh, ...)
{
    /* Both strings take the same arguments, in the same order. */
    va_list ap;
    va_start(ap, zh);
    if (b->en_len < sizeof b->en) {
        if (b->en_len)
            b->en[b->en_len++] = ' ';
        va_list ap2;
        va_copy(ap2, ap);
        int n = vsnprintf(b->en + b->en_len, sizeof b->en - b->en_len, en, ap2);
        va_end(ap2);
        b->en_len = n > 0 ? b->en_len + (size_t)n : b->en_len;
    }
    if (b->zh_len < sizeof b->zh) {
        int n = vsnprintf(b->zh + b->zh_len, sizeof b->zh - b->zh_len, zh, ap);
        b->zh_len = n > 0 ? b->zh_len + (size_t)n : b->zh_len;
    }
    va_end(ap);
    if (b->en_len >= sizeof b->en)
        b->en_len = sizeof b->en - 1;
    if (b->zh_len >= sizeof b->zh)
        b->zh_len = sizeof b->zh - 1;
}

static void begin_step(struct builder *b, const char *text)
{
    struct scn_timeline *tl = b->tl;
    if (tl->nsteps == b->cap_steps) {
        size_t n = b->cap_steps ? b->cap_steps * 2 : 64;
        struct scn_step *s = realloc(tl->steps, n * sizeof *s);
        if (!s) {
            b->oom = true;
            return;
        }
        tl->steps = s;
        b->cap_steps = n;
    }
    struct scn_step *st = &tl->steps[tl->nsteps++];
    memset(st, 0, sizeof *st);
    st->line = (int)tl->nsteps;
    st->text = strdup(text);
    st->first_event = st->end_event = tl->nevents;
    b->en_len = b->zh_len = 0;
    b->en[0] = b->zh[0] = 0;
}

/* The Chinese narration names the ends in Chinese: the shared arguments
 * carry the English names, replaced here (client 客户端, server 服务器),
 * and the spaces that set a Latin name apart go where the neighbour is
 * Chinese too ("客户端确认了服务器的 SYN"). */
static char *zh_names(const char *zh)
{
    size_t n = strlen(zh);
    char *out = malloc(n * 2 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        const char *name = !strncmp(zh + i, "client", 6)   ? "客户端"
                           : !strncmp(zh + i, "server", 6) ? "服务器"
                                                           : NULL;
        if (!name) {
            out[o++] = zh[i++];
            continue;
        }
        if (o >= 2 && out[o - 1] == ' ' && (unsigned char)out[o - 2] >= 0x80)
            o--;
        memcpy(out + o, name, strlen(name));
        o += strlen(name);
        i += 6;
        if (zh[i] == ' ' && (unsigned char)zh[i + 1] >= 0x80)
            i++;
    }
    out[o] = 0;
    return out;
}

static void end_step(struct builder *b)
{
    struct scn_timeline *tl = b->tl;
    if (!tl->nsteps)
        return;
    struct scn_step *st = &tl->steps[tl->nsteps - 1];
    st->end_event = tl->nevents;
    if (b->en_len)
        st->say_en = strdup(b->en);
    if (b->zh_len)
        st->say_zh = zh_names(b->zh);
    if (!st->text)
        b->oom = true;
}

/* Every cause names what the segments show and says it is inferred. */
#define INF " (inferred)"

static void set_state(struct builder *b, int h, enum tcp_state to, const char *cause, uint64_t t_us)
{
    struct side *s = &b->s[h];
    if (s->st == to)
        return;
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_STATE;
    ev.t_us = t_us;
    ev.host = b->names[h];
    ev.sd = -1;
    ev.tuple.laddr = b->addr[h];
    ev.tuple.raddr = b->addr[1 - h];
    ev.tuple.lport = b->port[h];
    ev.tuple.rport = b->port[1 - h];
    if (to == TCP_LISTEN)
        ev.tuple.raddr = 0, ev.tuple.rport = 0;
    ev.u.state.from = s->st;
    ev.u.state.to = to;
    ev.u.state.cause = cause;
    push(b, &ev);
    s->st = to;
}

static uint32_t rel(const struct side *s, uint32_t n)
{
    return s->have_base ? n - s->base : n;
}

/* Sequence space a segment occupies (RFC 9293 §3.4: SYN and FIN count). */
static uint32_t seg_len(const struct wire_tcp *t)
{
    return (uint32_t)t->payload_len + !!(t->flags & TCP_SYN) + !!(t->flags & TCP_FIN);
}

static bool parse(const struct cap_pkt *p, struct wire_ipv4 *ip, struct wire_tcp *tcp)
{
    return wire_ipv4_parse(p->ip, p->len, ip) == WIRE_OK && wire_tcp_parse(ip, tcp) == WIRE_OK;
}

/* Was packet i (of connection conn) sent again before any ACK covered it?
 * Then this copy probably never arrived. *respent gets the later copy. */
static bool lost_copy(const struct cap_file *cf, size_t i, const struct wire_tcp *t, size_t *resent)
{
    uint32_t len = seg_len(t);
    if (!len || (t->flags & TCP_RST))
        return false;
    const struct cap_pkt *p = &cf->pkts[i];
    uint32_t end = t->seq + len;
    size_t limit = i + LOOKAHEAD < cf->npkts ? i + LOOKAHEAD : cf->npkts;
    for (size_t j = i + 1; j < limit; j++) {
        const struct cap_pkt *q = &cf->pkts[j];
        if (q->conn != p->conn)
            continue;
        struct wire_ipv4 ip;
        struct wire_tcp u;
        if (!parse(q, &ip, &u))
            continue;
        if (q->from_a != p->from_a) {
            /* The peer acknowledged it (or anything past its start): it arrived. */
            if ((u.flags & TCP_ACK) && seq_gt(u.ack, t->seq))
                return false;
            if (u.flags & TCP_RST)
                return false;
            continue;
        }
        if (u.seq == t->seq && seg_len(&u) && !(u.flags & TCP_RST)) {
            *resent = j;
            return true;
        }
        if (seq_geq(u.seq, end) && !(t->flags & TCP_SYN))
            continue; /* new data after it: keep looking for the repair */
    }
    return false;
}

static void emit_segment(struct builder *b, int from, const struct cap_pkt *p,
                         const struct wire_ipv4 *ip, const struct wire_tcp *tcp, enum tev_dir dir,
                         bool rtx, uint64_t t_us)
{
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    int h = dir == TEV_OUT ? from : 1 - from;
    ev.kind = TEV_SEGMENT;
    ev.t_us = t_us;
    ev.host = b->names[h];
    ev.sd = -1;
    ev.tuple.laddr = h == from ? ip->src : ip->dst;
    ev.tuple.raddr = h == from ? ip->dst : ip->src;
    ev.tuple.lport = h == from ? tcp->sport : tcp->dport;
    ev.tuple.rport = h == from ? tcp->dport : tcp->sport;
    ev.u.seg.dir = dir;
    ev.u.seg.tcp = *tcp;
    ev.u.seg.src = ip->src;
    ev.u.seg.dst = ip->dst;
    ev.u.seg.raw = p->ip;
    ev.u.seg.raw_len = p->len;
    ev.u.seg.retransmission = rtx && dir == TEV_OUT;
    push(b, &ev);
}

static void emit_lost(struct builder *b, int from, const struct cap_pkt *p, uint64_t t_us)
{
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_LINK;
    ev.t_us = t_us;
    ev.host = "link";
    ev.sd = -1;
    ev.u.link.action = TEV_LINK_LOST;
    ev.u.link.from = b->names[from];
    ev.u.link.to = b->names[1 - from];
    ev.u.link.raw = p->ip;
    ev.u.link.raw_len = p->len;
    push(b, &ev);
}

/* The receiver's side of a segment that arrived: ACK first, then SYN, FIN
 * and RST, as RFC 9293 §3.10.7.4 orders the steps. */
static void receive(struct builder *b, int to, const struct wire_tcp *t, uint64_t now)
{
    struct side *r = &b->s[to];
    const char *me = b->names[to];
    if (t->flags & TCP_RST) {
        if (r->st == TCP_SYN_SENT) {
            say(b, "The %s's connect() fails with ECONNREFUSED: nothing listens on that port.",
                "%s 的 connect() 失败，返回 ECONNREFUSED：那个端口上没有程序在监听。", me);
            set_state(b, to, TCP_CLOSED, "rcvd RST" INF, now);
        } else if (r->st != TCP_CLOSED && r->st != TCP_LISTEN) {
            say(b, "The %s drops the connection at once (its next call fails with ECONNRESET).",
                "%s 立即丢弃这个连接（它的下一个调用会失败，返回 ECONNRESET）。", me);
            set_state(b, to, TCP_CLOSED, "rcvd RST" INF, now);
        }
        return;
    }
    if ((t->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        if (r->st == TCP_LISTEN || r->st == TCP_CLOSED) {
            if (r->answers_syn || r->st == TCP_LISTEN)
                set_state(b, to, TCP_SYN_RECEIVED, "rcvd SYN" INF, now);
        } else if (r->st == TCP_SYN_SENT) {
            set_state(b, to, TCP_SYN_RECEIVED, "rcvd SYN" INF, now); /* simultaneous open */
        }
        return;
    }
    if ((t->flags & TCP_SYN) && (t->flags & TCP_ACK) && r->st == TCP_SYN_SENT) {
        set_state(b, to, TCP_ESTABLISHED, "rcvd SYN,ACK" INF, now);
        return;
    }
    if (t->flags & TCP_ACK) {
        bool acks_syn = r->have_max && seq_geq(t->ack, r->snd_max);
        bool acks_fin = r->fin_sent && seq_gt(t->ack, r->fin_seq);
        if (r->st == TCP_SYN_RECEIVED && acks_syn && !(t->flags & TCP_SYN))
            set_state(b, to, TCP_ESTABLISHED, "rcvd ACK of SYN" INF, now);
        if (acks_fin) {
            if (r->st == TCP_FIN_WAIT_1)
                set_state(b, to, TCP_FIN_WAIT_2, "rcvd ACK of FIN" INF, now);
            else if (r->st == TCP_CLOSING)
                set_state(b, to, TCP_TIME_WAIT, "rcvd ACK of FIN" INF, now);
            else if (r->st == TCP_LAST_ACK)
                set_state(b, to, TCP_CLOSED, "rcvd ACK of FIN" INF, now);
        }
    }
    if (t->flags & TCP_FIN) {
        if (r->st == TCP_ESTABLISHED || r->st == TCP_SYN_RECEIVED)
            set_state(b, to, TCP_CLOSE_WAIT, "rcvd FIN" INF, now);
        else if (r->st == TCP_FIN_WAIT_1)
            set_state(b, to, TCP_CLOSING, "rcvd FIN" INF, now);
        else if (r->st == TCP_FIN_WAIT_2)
            set_state(b, to, TCP_TIME_WAIT, "rcvd FIN" INF, now);
    }
}

/* The sender's side: what sending this segment says about its state. */
static void send_side(struct builder *b, int from, const struct wire_tcp *t, uint64_t now)
{
    struct side *s = &b->s[from];
    if (t->flags & TCP_RST) {
        if (s->st != TCP_CLOSED && s->st != TCP_LISTEN)
            set_state(b, from, TCP_CLOSED, "sent RST" INF, now);
        return;
    }
    if ((t->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && s->st == TCP_CLOSED)
        set_state(b, from, TCP_SYN_SENT, "sent SYN" INF, now);
    else if ((t->flags & TCP_SYN) && (t->flags & TCP_ACK) &&
             (s->st == TCP_CLOSED || s->st == TCP_LISTEN))
        set_state(b, from, TCP_SYN_RECEIVED, "sent SYN,ACK" INF,
                  now); /* its SYN was not captured */
    if ((t->flags & TCP_FIN) && !s->fin_sent) {
        if (s->st == TCP_ESTABLISHED || s->st == TCP_SYN_RECEIVED)
            set_state(b, from, TCP_FIN_WAIT_1, "sent FIN" INF, now);
        else if (s->st == TCP_CLOSE_WAIT)
            set_state(b, from, TCP_LAST_ACK, "sent FIN" INF, now);
    }
}

/* The words for one segment. */
static void narrate(struct builder *b, int from, const struct wire_tcp *t, bool rtx, bool lost,
                    size_t resent_step, bool spurious, bool gap, uint32_t gap_from)
{
    struct side *s = &b->s[from], *r = &b->s[1 - from];
    const char *me = b->names[from], *peer = b->names[1 - from];
    uint32_t seq = rel(s, t->seq), ack = rel(r, t->ack);
    size_t len = t->payload_len;
    uint8_t f = t->flags;

    if (f & TCP_RST) {
        if (r->st == TCP_SYN_SENT)
            say(b, "The %s answers with RST (reset): the connection is refused.",
                "%s 以 RST（复位）报文段作答：连接被拒绝。", me);
        else
            say(b,
                "The %s sends RST (reset): the connection is aborted at once, without the "
                "four-way teardown and without TIME_WAIT.",
                "%s 发送 RST（复位）报文段：连接立即中止，不经过四次挥手，也没有 TIME_WAIT。", me);
        return;
    }
    if (rtx) {
        if (spurious)
            say(b,
                "The %s sends seq %u again (a retransmission), although the %s had already "
                "acknowledged it: the ACK came late or was lost on the way back (a spurious "
                "retransmission).",
                "%s 再次发送序列号 %u（重传），虽然 %s 早已确认过它：确认号来得太晚，或在回程中丢失"
                "（不必要的重传）。",
                me, seq, peer);
        else
            say(b,
                "The %s sends seq %u again: a retransmission. No ACK had covered the first copy, "
                "so it was probably lost on the way.",
                "%s 再次发送序列号 %u：这是重传。第一份没有被任何确认号覆盖，很可能在途中丢失了。",
                me, seq);
    } else if (gap) {
        say(b,
            "The %s sends seq %u, but bytes from %u on never passed the capture point: a "
            "segment was lost before it (or the capture missed it).",
            "%s 发送序列号 %u，但从 %u "
            "开始的字节从未经过抓包点：之前有报文段丢失（或没有被抓到）。",
            me, seq, rel(s, gap_from));
    }
    if ((f & (TCP_SYN | TCP_ACK)) == TCP_SYN && !rtx) {
        say(b,
            "The %s sends SYN: it asks to open a connection and picks its initial sequence "
            "number (ISN %u, shown as 0). Step 1 of the three-way handshake.",
            "%s 发送 SYN 报文段：请求建立连接，并选定初始序列号（ISN %u，显示为 0）。这是三次握手"
            "的第一步。",
            me, t->seq);
    } else if ((f & TCP_SYN) && (f & TCP_ACK) && !rtx) {
        say(b,
            "The %s answers SYN,ACK: ack=%u acknowledges the SYN, and its own SYN carries its "
            "ISN %u. So it was listening on port %u. Step 2 of the three-way handshake.",
            "%s 回复 SYN,ACK：确认号 %u 确认了对方的 SYN，它自己的 SYN 带着它的初始序列号 %u。"
            "可见它在端口 %u 上监听。这是三次握手的第二步。",
            me, ack, t->seq, t->sport);
    } else if (f & TCP_FIN) {
        if (!rtx) {
            if (r->fin_sent)
                say(b,
                    "The %s sends its FIN too: its application has closed. Only the last ACK "
                    "of the four-way teardown is left.",
                    "%s 也发送 FIN：它的应用程序也关闭了。四次挥手只差最后一个确认。", me);
            else
                say(b,
                    "The %s sends FIN (seq %u): its application called close() or "
                    "shutdown(SHUT_WR) — it will send no more data. The %s's recv() will "
                    "return 0.",
                    "%s 发送 FIN（序列号 %u）：它的应用程序调用了 close() 或 shutdown(SHUT_WR)，"
                    "不再发送数据。%s 的 recv() 将返回 0。",
                    me, seq, peer);
        }
        if (len)
            say(b, "The FIN rides on %zu bytes of data.", "FIN 同时携带了 %zu 字节数据。", len);
    } else if (len && !rtx) {
        say(b, "The %s sends %zu bytes of data (seq %u:%u).",
            "%s 发送 %zu 字节数据（序列号 %u:%u）。", me, len, seq, seq + (uint32_t)len);
    } else if (!len && (f & TCP_ACK)) {
        bool handshake_ack = r->st == TCP_SYN_RECEIVED && r->have_max && t->ack == r->snd_max;
        bool acks_fin = r->fin_sent && seq_gt(t->ack, r->fin_seq);
        bool dup = s->have_ack && t->ack == s->last_ack && t->win == s->last_win && r->have_max &&
                   seq_lt(t->ack, r->snd_max);
        if (handshake_ack)
            say(b,
                "The %s acknowledges the %s's SYN (ack=%u): the three-way handshake is "
                "complete, both ends are ESTABLISHED.",
                "%s 确认了 %s 的 SYN（确认号 %u）：三次握手完成，两端都进入 ESTABLISHED。", me,
                peer, ack);
        else if (acks_fin)
            say(b, "The %s acknowledges the %s's FIN (ack=%u).",
                "%s 确认了 %s 的 FIN（确认号 %u）。", me, peer, ack);
        else if (dup) {
            say(b,
                "Duplicate ACK #%u from the %s (ack=%u again): a segment after byte %u arrived, "
                "but byte %u itself is missing.",
                "第 %u 个重复确认来自 %s（确认号仍为 %u）：字节 %u 之后的报文段到了，但字节 %u "
                "本身缺失。",
                s->dupacks + 1, me, ack, ack, ack);
            if (s->dupacks + 1 == 3)
                say(b,
                    "Three of them make the sender retransmit at once (fast retransmit, RFC 5681).",
                    "三个重复确认会让发送方立即重传（快速重传，RFC 5681）。");
        } else if (!s->have_ack || t->ack != s->last_ack)
            say(b, "The %s acknowledges every byte before %u (ack=%u).",
                "%s 确认了 %u 之前的所有字节（确认号 %u）。", me, ack, ack);
    }
    if (t->win == 0 && !s->zero_win)
        say(b,
            "The %s's window is zero: its receive buffer is full, so the %s must stop sending "
            "and probe until the window opens (persist timer).",
            "%s 的窗口为 0：它的接收缓冲区满了，%s 必须停止发送，并不时探测，直到窗口重新打开"
            "（坚持定时器）。",
            me, peer);
    else if (t->win && s->zero_win)
        say(b, "The %s's window opens again (win=%u): sending can resume.",
            "%s 的窗口重新打开（窗口 %u）：可以继续发送了。", me, t->win);
    if (lost)
        say(b, "This copy is shown lost: the %s sends it again in step %zu.",
            "这一份显示为丢失：%s 在第 %zu 步再次发送它。", me, resent_step);
}

/* Words for the end of the capture: where each end was left, who waits. */
static void narrate_end(struct builder *b)
{
    for (int h = 0; h < 2; h++) {
        if (b->s[h].st == TCP_TIME_WAIT)
            say(b,
                "End of the capture: the %s holds TIME_WAIT — it closed first, so it is the one "
                "that waits 2MSL (60 s on Linux) before this address and port pair is free again.",
                "抓包结束：%s 处于 TIME_WAIT——它先关闭，所以由它等待 2MSL（Linux 上为 60 秒），"
                "之后这对地址和端口才能再次使用。",
                b->names[h]);
        else if (b->s[h].st == TCP_CLOSE_WAIT)
            say(b,
                "End of the capture: the %s is still in CLOSE_WAIT — the peer closed, but its "
                "application has not called close() yet.",
                "抓包结束：%s 仍处于 CLOSE_WAIT——对方已关闭，但它的应用程序还没有调用 close()。",
                b->names[h]);
    }
    say(b, "Final states (inferred): %s %s, %s %s.", "最终状态（推断）：%s %s，%s %s。",
        b->names[0], tcp_state_name(b->s[0].st), b->names[1], tcp_state_name(b->s[1].st));
}

struct scn_timeline *cap_timeline(const struct cap_file *cf, size_t ci, struct cap_error *err)
{
    if (ci >= cf->nconns) {
        if (err) {
            err->code = CAP_ERR_NO_MATCH;
            snprintf(err->msg, sizeof err->msg, "%s: no connection %zu", cf->name, ci + 1);
        }
        return NULL;
    }
    const struct cap_conn *c = &cf->conns[ci];
    struct builder b;
    memset(&b, 0, sizeof b);
    b.tl = calloc(1, sizeof *b.tl);
    if (!b.tl)
        goto oom;
    struct scn_timeline *tl = b.tl;
    /* Host 0 is the client: the end that sent the SYN, or (mid-connection)
     * the end with the higher port. */
    bool a_client = c->syn || c->synack || c->a_port >= c->b_port;
    b.names[0] = "client";
    b.names[1] = "server";
    tl->nhosts = 2;
    uint32_t *addr = b.addr;
    uint16_t *port = b.port;
    addr[0] = a_client ? c->a_addr : c->b_addr;
    addr[1] = a_client ? c->b_addr : c->a_addr;
    port[0] = a_client ? c->a_port : c->b_port;
    port[1] = a_client ? c->b_port : c->a_port;
    for (int h = 0; h < 2; h++) {
        struct scn_host *sh = &tl->hosts[h];
        char a[16];
        snprintf(sh->name, sizeof sh->name, "%s", b.names[h]);
        snprintf(sh->label, sizeof sh->label, "%s:%u", wire_addr_str(addr[h], a), port[h]);
        snprintf(sh->kind, sizeof sh->kind, "captured");
        sh->addr = addr[h];
    }
    char ends[160], title[448];
    snprintf(ends, sizeof ends, "%s \u2192 %s", tl->hosts[0].label, tl->hosts[1].label);
    const char *base = strrchr(cf->name, '/');
    base = base ? base + 1 : cf->name;
    snprintf(title, sizeof title, "%s: %s", base, ends);
    tl->title_en = strdup(title);
    snprintf(title, sizeof title, "抓包 %s：%s", base, ends);
    tl->title_zh = strdup(title);
    if (!tl->title_en || !tl->title_zh)
        goto oom;

    /* Which end answers a SYN (so it was listening). */
    b.s[1].answers_syn = c->synack;
    bool started = false;
    uint64_t t0 = c->first_us, last_t = 0;
    size_t npkt = 0;
    for (size_t i = 0; i < cf->npkts && !b.oom; i++) {
        const struct cap_pkt *p = &cf->pkts[i];
        if (p->conn != ci)
            continue;
        struct wire_ipv4 ip;
        struct wire_tcp t;
        if (!parse(p, &ip, &t))
            continue; /* cap_read.c kept only what parses */
        int from = (p->from_a == a_client) ? 0 : 1;
        struct side *s = &b.s[from], *r = &b.s[1 - from];
        uint64_t now = p->t_us > t0 ? p->t_us - t0 : 0;
        if (now < last_t)
            now = last_t; /* several interfaces: keep time moving forward */
        last_t = now;
        npkt++;

        char flags[10], text[160];
        wire_flags_str(t.flags, flags);
        snprintf(text, sizeof text, "packet %zu  %s \u2192 %s  [%s]  (%llu.%06llu s)", npkt,
                 b.names[from], b.names[1 - from], flags, (unsigned long long)(now / 1000000),
                 (unsigned long long)(now % 1000000));
        begin_step(&b, text);

        if (!started) {
            started = true;
            bool syn_first = (t.flags & TCP_SYN) != 0;
            if (!syn_first) {
                say(&b,
                    "This capture begins in the middle of the connection: its handshake was not "
                    "captured, so both ends are assumed ESTABLISHED (not observed), and sequence "
                    "numbers are absolute (no initial sequence number was seen).",
                    "这个抓包从连接的中途开始：没有抓到三次握手，所以假定两端都处于 ESTABLISHED"
                    "（未观察到）；序列号是绝对值（没有看到初始序列号）。");
                set_state(&b, 0, TCP_ESTABLISHED, "assumed: capture began mid-connection", now);
                set_state(&b, 1, TCP_ESTABLISHED, "assumed: capture began mid-connection", now);
            } else if (b.s[1].answers_syn) {
                set_state(&b, 1, TCP_LISTEN, "listening" INF ": it answers the SYN", now);
            }
            say(&b,
                "Every state on this screen is inferred from the segments: a capture shows "
                "packets, not sockets.",
                "屏幕上的每个状态都是根据报文段推断的：抓包只能看到报文段，看不到套接字。");
        }

        /* Relative numbers count from the ISN, as the ladder's do; without
         * the SYN they stay absolute there and here. */
        if ((t.flags & TCP_SYN) && !s->have_base) {
            s->base = t.seq;
            s->have_base = true;
        }
        uint32_t len = seg_len(&t);
        bool rtx = false, spurious = false, gap = false;
        uint32_t gap_from = 0;
        if (len && s->have_max && seq_lt(t.seq, s->snd_max) && !(t.flags & TCP_RST)) {
            rtx = true;
            spurious = r->have_ack && seq_geq(r->last_ack, t.seq + len);
        } else if (len && s->have_max && seq_gt(t.seq, s->snd_max) && !(t.flags & TCP_RST)) {
            gap = true;
            gap_from = s->snd_max;
        }
        /* A keepalive or window probe re-sends one old byte (or none): not news. */
        bool probe = rtx && t.payload_len <= 1 && !(t.flags & (TCP_SYN | TCP_FIN)) &&
                     t.seq + len == s->snd_max && r->have_ack && r->last_ack == s->snd_max;
        size_t resent = 0;
        bool lost = !probe && lost_copy(cf, i, &t, &resent);
        size_t resent_step = 0;
        if (lost) {
            resent_step = npkt;
            for (size_t k = i + 1; k <= resent && k < cf->npkts; k++)
                resent_step += cf->pkts[k].conn == ci;
        }
        narrate(&b, from, &t, rtx && !probe, lost, resent_step, spurious, gap, gap_from);
        if (probe)
            say(&b,
                "A probe: one byte the %s already acknowledged (or none), to see whether the "
                "%s is still there (keepalive) or its window has opened (zero-window probe).",
                "这是探测报文段：重发一个对方已确认的字节（或不带数据），看看 %s 是否还在（保活），"
                "或 %s 的窗口是否已经打开（零窗口探测）。",
                b.names[1 - from], b.names[1 - from]);

        emit_segment(&b, from, p, &ip, &t, TEV_OUT, rtx && !probe, now);
        send_side(&b, from, &t, now);
        if (lost) {
            emit_lost(&b, from, p, now);
        } else {
            emit_segment(&b, from, p, &ip, &t, TEV_IN, false, now);
            receive(&b, 1 - from, &t, now);
        }

        /* What this end has now shown. */
        if (len && !(t.flags & TCP_RST) && (!s->have_max || seq_gt(t.seq + len, s->snd_max))) {
            s->snd_max = t.seq + len;
            s->have_max = true;
        }
        if ((t.flags & TCP_FIN) && !s->fin_sent) {
            s->fin_sent = true;
            s->fin_seq = t.seq + (uint32_t)t.payload_len + !!(t.flags & TCP_SYN);
        }
        if (t.flags & TCP_ACK) {
            bool pure = !t.payload_len && !(t.flags & (TCP_SYN | TCP_FIN | TCP_RST));
            if (pure && s->have_ack && t.ack == s->last_ack && t.win == s->last_win &&
                r->have_max && seq_lt(t.ack, r->snd_max))
                s->dupacks++;
            else if (!s->have_ack || t.ack != s->last_ack)
                s->dupacks = 0;
            s->last_ack = t.ack;
            s->have_ack = true;
        }
        s->last_win = t.win;
        s->zero_win = t.win == 0 && !(t.flags & TCP_RST);
        end_step(&b);
    }
    if (!b.oom && tl->nsteps) {
        /* The closing words go on the last step. */
        struct scn_step *st = &tl->steps[tl->nsteps - 1];
        b.en_len = st->say_en ? strlen(st->say_en) : 0;
        b.zh_len = st->say_zh ? strlen(st->say_zh) : 0;
        snprintf(b.en, sizeof b.en, "%s", st->say_en ? st->say_en : "");
        snprintf(b.zh, sizeof b.zh, "%s", st->say_zh ? st->say_zh : "");
        free(st->say_en);
        free(st->say_zh);
        st->say_en = st->say_zh = NULL;
        narrate_end(&b);
        end_step(&b);
    }
    if (b.oom)
        goto oom;
    return tl;
oom:
    scn_timeline_free(b.tl);
    if (err) {
        err->code = CAP_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", cf->name);
    }
    return NULL;
}
