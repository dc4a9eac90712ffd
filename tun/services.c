/*
 * services.c — echo, discard, chargen, daytime and http over the stack's
 * non-blocking socket calls (see services.h).
 *
 * Each accepted connection is a small record indexed by its descriptor. The
 * stack's readiness callback (svc_ready) naming a descriptor marks that
 * record "dirty"; svc_run() serves only dirty records, so ten thousand idle
 * connections cost nothing per wake-up. Connections not yet accepted are
 * the listeners' business: svc_run() accepts whatever is ready first.
 * Serving is bounded per run (SVC_SLICE steps) so one busy connection cannot
 * starve the others; it stays dirty and the loop comes back at once.
 */
#include "services.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../stack/wire.h"

#define SVC_MAX_LISTENERS 32
#define SVC_IOBUF         16384
#define SVC_SLICE         32   /* send/recv steps per connection per run */
#define SVC_ACCEPT_SLICE  1024 /* accepts per listener per run */
#define SVC_HISTORY       512  /* recent state changes kept for the http page */
#define SVC_HTTP_REQ_MAX  2048

static const char *const kind_names[SVC_NKINDS] = {"echo", "discard", "chargen", "daytime", "http"};

const char *svc_kind_name(enum svc_kind k)
{
    return k < SVC_NKINDS ? kind_names[k] : "?";
}

struct svc_conn {
    int sd;
    enum svc_kind kind;
    struct tcp_tuple tuple;
    bool dirty, in_dirty_list;
    bool peer_eof; /* the peer's FIN was read */
    bool started;  /* daytime/http: answer queued */
    uint8_t *out;  /* bytes waiting to be sent (echo, http) */
    size_t out_len, out_off;
    size_t chargen_off; /* position in the chargen cycle */
    char *req;          /* http: the request read so far */
    size_t req_len;
};

struct svc_history {
    uint64_t t_us;
    struct tcp_tuple tuple;
    enum tcp_state from, to;
    const char *cause;
};

struct svc_listener {
    int sd;
    struct svc_spec spec;
};

struct svc_server {
    struct stack *stack;
    struct svc_listener listeners[SVC_MAX_LISTENERS];
    size_t nlisteners;
    struct svc_conn **by_sd; /* indexed by descriptor */
    size_t cap;
    int *dirty; /* descriptors to serve */
    size_t ndirty, capdirty;
    int *serving; /* the list svc_run() is serving (swapped with dirty) */
    size_t capserving;
    bool sweep_all; /* an event without a descriptor: look at everything */
    struct svc_history hist[SVC_HISTORY];
    size_t nhist; /* total recorded; the ring keeps the last SVC_HISTORY */
    char chargen[2 * 95 * 74];
    uint8_t iobuf[SVC_IOBUF];
    struct svc_stats stats;
};

/* ---- specs ------------------------------------------------------------------ */

static const struct svc_spec default_specs[] = {
    {7, SVC_ECHO}, {9, SVC_DISCARD}, {13, SVC_DAYTIME}, {19, SVC_CHARGEN}, {80, SVC_HTTP},
};

size_t svc_default_specs(struct svc_spec *out, size_t cap)
{
    size_t n = sizeof default_specs / sizeof default_specs[0];
    if (n > cap)
        n = cap;
    memcpy(out, default_specs, n * sizeof *out);
    return n;
}

int svc_spec_parse(const char *arg, struct svc_spec *out, char *msg, size_t msglen)
{
    char *end;
    errno = 0;
    long port = strtol(arg, &end, 10);
    /* digits only: strtol alone would take " 7" and "+7" */
    if (!isdigit((unsigned char)arg[0]) || end == arg || errno || (*end && *end != ':')) {
        snprintf(msg, msglen, "bad service '%s': write PORT or PORT:SERVICE, e.g. 7 or 8080:http",
                 arg);
        return -1;
    }
    if (port < 1 || port > 65535) {
        snprintf(msg, msglen, "port %ld in '%s' is out of range: use 1 to 65535", port, arg);
        return -1;
    }
    out->port = (uint16_t)port;
    if (*end == ':') {
        for (int k = 0; k < SVC_NKINDS; k++)
            if (!strcmp(end + 1, kind_names[k])) {
                out->kind = (enum svc_kind)k;
                return 0;
            }
        snprintf(msg, msglen,
                 "unknown service '%s' in '%s': choose echo, discard, chargen, daytime or http",
                 end + 1, arg);
        return -1;
    }
    out->kind = SVC_ECHO;
    for (size_t i = 0; i < sizeof default_specs / sizeof default_specs[0]; i++)
        if (default_specs[i].port == port)
            out->kind = default_specs[i].kind;
    return 0;
}

/* ---- setup ------------------------------------------------------------------ */

/* RFC 864's pattern: 72-character lines of printable ASCII, each starting one
 * character further along. Two full cycles, so any offset into the first
 * cycle can be sent as one contiguous cycle's worth. */
static void chargen_fill(char *buf)
{
    size_t k = 0;
    for (int copy = 0; copy < 2; copy++)
        for (int line = 0; line < 95; line++) {
            for (int c = 0; c < 72; c++)
                buf[k++] = (char)(' ' + (line + c) % 95);
            buf[k++] = '\r';
            buf[k++] = '\n';
        }
}

struct svc_server *svc_new(struct stack *s, uint64_t now, const struct svc_spec *specs, size_t n,
                           int *err)
{
    if (n > SVC_MAX_LISTENERS) {
        *err = -E2BIG;
        return NULL;
    }
    struct svc_server *sv = calloc(1, sizeof *sv);
    if (!sv) {
        *err = -ENOMEM;
        return NULL;
    }
    sv->stack = s;
    chargen_fill(sv->chargen);
    for (size_t i = 0; i < n; i++) {
        int sd = tcp_socket(s, now);
        int rc = sd;
        if (sd >= 0 && (rc = tcp_bind(s, now, sd, specs[i].port)) == 0)
            rc = tcp_listen(s, now, sd, SVC_BACKLOG);
        if (rc < 0) {
            if (sd >= 0)
                tcp_close(s, now, sd);
            *err = rc;
            svc_free(sv);
            return NULL;
        }
        sv->listeners[sv->nlisteners++] = (struct svc_listener){sd, specs[i]};
    }
    return sv;
}

static void conn_free(struct svc_conn *c)
{
    free(c->out);
    free(c->req);
    free(c);
}

void svc_free(struct svc_server *sv)
{
    if (!sv)
        return;
    for (size_t i = 0; i < sv->cap; i++)
        if (sv->by_sd[i])
            conn_free(sv->by_sd[i]);
    free(sv->by_sd);
    free(sv->dirty);
    free(sv->serving);
    free(sv);
}

void svc_get_stats(const struct svc_server *sv, struct svc_stats *out)
{
    *out = sv->stats;
}

/* ---- bookkeeping ------------------------------------------------------------------ */

static struct svc_conn *conn_of(const struct svc_server *sv, int sd)
{
    return (sd >= 0 && (size_t)sd < sv->cap) ? sv->by_sd[sd] : NULL;
}

static void mark_dirty(struct svc_server *sv, struct svc_conn *c)
{
    c->dirty = true;
    if (c->in_dirty_list)
        return;
    if (sv->ndirty == sv->capdirty) {
        size_t cap = sv->capdirty ? sv->capdirty * 2 : 256;
        int *p = realloc(sv->dirty, cap * sizeof *p);
        if (!p) {
            sv->sweep_all = true; /* fall back to looking at everything */
            return;
        }
        sv->dirty = p;
        sv->capdirty = cap;
    }
    sv->dirty[sv->ndirty++] = c->sd;
    c->in_dirty_list = true;
}

void svc_ready(struct svc_server *sv, int sd, const struct tev *state)
{
    if (state) {
        struct svc_history *h = &sv->hist[sv->nhist++ % SVC_HISTORY];
        *h = (struct svc_history){state->t_us, state->tuple, state->u.state.from,
                                  state->u.state.to, state->u.state.cause};
    }
    struct svc_conn *c = conn_of(sv, sd);
    if (c)
        mark_dirty(sv, c);
}


static int add_conn(struct svc_server *sv, int sd, enum svc_kind kind,
                    const struct tcp_tuple *tuple)
{
    if ((size_t)sd >= sv->cap) {
        size_t cap = sv->cap ? sv->cap : 256;
        while (cap <= (size_t)sd)
            cap *= 2;
        struct svc_conn **p = realloc(sv->by_sd, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        memset(p + sv->cap, 0, (cap - sv->cap) * sizeof *p);
        sv->by_sd = p;
        sv->cap = cap;
    }
    struct svc_conn *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->sd = sd;
    c->kind = kind;
    c->tuple = *tuple;
    sv->by_sd[sd] = c;
    sv->stats.accepted++;
    sv->stats.open++;
    mark_dirty(sv, c);
    return 0;
}

/* Close the descriptor (an orderly FIN, or a RST if the connection already
 * failed) and forget the connection. */
static void finish(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    /* Forget it first: the events of this close need no serving. */
    sv->by_sd[c->sd] = NULL;
    tcp_close(sv->stack, now, c->sd);
    sv->stats.finished++;
    sv->stats.open--;
    conn_free(c);
}

/* ---- the services -------------------------------------------------------------------- */

enum step { STEP_MORE, STEP_WAIT, STEP_DONE };

/* tcp_poll() before each call: a call that could only say EAGAIN is not
 * made, so the trace shows the calls that did something. */
static bool can_read(struct svc_server *sv, struct svc_conn *c)
{
    return tcp_poll(sv->stack, c->sd) & (TCP_POLLIN | TCP_POLLERR | TCP_POLLHUP);
}

static bool can_write(struct svc_server *sv, struct svc_conn *c)
{
    return tcp_poll(sv->stack, c->sd) & (TCP_POLLOUT | TCP_POLLERR | TCP_POLLHUP);
}

/* Send what is queued in c->out. */
static enum step flush_out(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    while (c->out_off < c->out_len) {
        if (!can_write(sv, c))
            return STEP_WAIT;
        ssize_t n = tcp_send(sv->stack, now, c->sd, c->out + c->out_off, c->out_len - c->out_off);
        if (n == -EAGAIN)
            return STEP_WAIT;
        if (n <= 0)
            return STEP_DONE;
        c->out_off += (size_t)n;
        sv->stats.bytes_out += (uint64_t)n;
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    return STEP_MORE;
}

/* Read into iobuf: >0 bytes, 0 at EOF (sets peer_eof), -EAGAIN, or error. */
static ssize_t read_some(struct svc_server *sv, struct svc_conn *c, uint64_t now, size_t max)
{
    if (!can_read(sv, c))
        return -EAGAIN;
    ssize_t n = tcp_recv(sv->stack, now, c->sd, sv->iobuf, max < SVC_IOBUF ? max : SVC_IOBUF);
    if (n == 0)
        c->peer_eof = true;
    if (n > 0)
        sv->stats.bytes_in += (uint64_t)n;
    return n;
}

static enum step serve_echo(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    if (c->out) {
        enum step st = flush_out(sv, c, now);
        if (st != STEP_MORE)
            return st;
    }
    if (c->peer_eof)
        return STEP_DONE; /* everything echoed: close our side too */
    ssize_t n = read_some(sv, c, now, SVC_IOBUF);
    if (n == -EAGAIN)
        return STEP_WAIT;
    if (n < 0)
        return STEP_DONE;
    if (n > 0) {
        c->out = malloc((size_t)n);
        if (!c->out)
            return STEP_DONE;
        memcpy(c->out, sv->iobuf, (size_t)n);
        c->out_len = (size_t)n;
        c->out_off = 0;
    }
    return STEP_MORE;
}

static enum step serve_discard(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    ssize_t n = read_some(sv, c, now, SVC_IOBUF);
    if (n == -EAGAIN)
        return STEP_WAIT;
    return n > 0 ? STEP_MORE : STEP_DONE;
}

static enum step serve_chargen(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    /* Whatever the client sends is read and ignored; its FIN ends the stream. */
    ssize_t n = read_some(sv, c, now, SVC_IOBUF);
    if (n == 0 || (n < 0 && n != -EAGAIN))
        return STEP_DONE;
    const size_t cycle = 95 * 74;
    if (!can_write(sv, c))
        return n > 0 ? STEP_MORE : STEP_WAIT;
    ssize_t sent = tcp_send(sv->stack, now, c->sd, sv->chargen + c->chargen_off, cycle);
    if (sent > 0) {
        c->chargen_off = (c->chargen_off + (size_t)sent) % cycle;
        sv->stats.bytes_out += (uint64_t)sent;
        return STEP_MORE;
    }
    if (sent == -EAGAIN)
        return n > 0 ? STEP_MORE : STEP_WAIT;
    return STEP_DONE;
}

/* Read and ignore whatever the client sent, so that closing sends a FIN and
 * not a RST (closing with unread data resets the connection, RFC 2525). */
static enum step drain_input(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    for (int i = 0; i < SVC_SLICE; i++) {
        ssize_t n = read_some(sv, c, now, SVC_IOBUF);
        if (n == -EAGAIN || n == 0)
            return STEP_MORE;
        if (n < 0)
            return STEP_DONE;
    }
    return STEP_WAIT;
}

/* The services that answer once and then close first (daytime, http):
 * read and ignore what the client sends, write the answer, and report DONE
 * once it is all queued, so the caller closes — the stack sends FIN first. */
static enum step answer_then_close(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    enum step st = drain_input(sv, c, now);
    if (st != STEP_MORE)
        return st;
    st = flush_out(sv, c, now);
    return st == STEP_MORE ? STEP_DONE : st;
}

static enum step serve_daytime(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    if (!c->started) {
        char line[96];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t len = strftime(line, sizeof line, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &tm);
        c->out = malloc(len);
        if (!c->out)
            return STEP_DONE;
        memcpy(c->out, line, len);
        c->out_len = len;
        c->started = true;
    }
    /* One line, then the server closes first (RFC 867). */
    return answer_then_close(sv, c, now);
}

__attribute__((format(printf, 4, 5))) static int appendf(char *buf, size_t cap, size_t *len,
                                                         const char *fmt, ...)
{
    if (*len >= cap)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
    return 0;
}

static bool same_tuple(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
    return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
           a->rport == b->rport;
}

/* The page: who is talking, and what this connection has been through. */
static void http_build(struct svc_server *sv, struct svc_conn *c)
{
    char body[6144];
    size_t bl = 0;
    char la[16], ra[16];
    wire_addr_str(c->tuple.laddr, la);
    wire_addr_str(c->tuple.raddr, ra);
    appendf(body, sizeof body, &bl,
            "tcplab: this page was served by a TCP/IPv4 stack running in user space,\n"
            "on the other side of a TUN device from your kernel.\n\n"
            "  you (client)  %s:%u   your kernel's TCP\n"
            "  me  (server)  %s:%u   tcplab's TCP\n\n"
            "What this connection has been through so far (the stack's states):\n",
            ra, c->tuple.rport, la, c->tuple.lport);
    size_t first = sv->nhist > SVC_HISTORY ? sv->nhist - SVC_HISTORY : 0;
    for (size_t i = first; i < sv->nhist; i++) {
        const struct svc_history *h = &sv->hist[i % SVC_HISTORY];
        if (!same_tuple(&h->tuple, &c->tuple))
            continue;
        appendf(body, sizeof body, &bl, "  t=%llu.%06llus  %-12s -> %-12s  %s\n",
                (unsigned long long)(h->t_us / 1000000), (unsigned long long)(h->t_us % 1000000),
                tcp_state_name(h->from), tcp_state_name(h->to), h->cause ? h->cause : "");
    }
    struct tcp_status st;
    if (tcp_status(sv->stack, c->sd, &st) == 0)
        appendf(body, sizeof body, &bl,
                "\nNow: %s. Send MSS %u, receive window %u bytes, smoothed RTT %llu us.\n",
                tcp_state_name(st.state), st.mss, st.rcv_wnd, (unsigned long long)st.srtt_us);
    appendf(body, sizeof body, &bl,
            "\nNext: this server closes first. After sending this page it sends FIN\n"
            "(FIN_WAIT_1), your ACK takes it to FIN_WAIT_2, your FIN to TIME_WAIT, and\n"
            "2*MSL later the connection is CLOSED. Your side goes CLOSE_WAIT -> LAST_ACK.\n"
            "\nYour request was:\n%.*s",
            (int)(c->req_len < 1024 ? c->req_len : 1024), c->req ? c->req : "");
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.0 200 OK\r\nServer: tcplab\r\nContent-Type: text/plain; "
                      "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                      bl);
    c->out = malloc((size_t)hl + bl);
    if (!c->out)
        return;
    memcpy(c->out, head, (size_t)hl);
    memcpy(c->out + hl, body, bl);
    c->out_len = (size_t)hl + bl;
    c->out_off = 0;
}

static bool http_request_complete(const struct svc_conn *c)
{
    if (!c->req)
        return false;
    return memmem(c->req, c->req_len, "\r\n\r\n", 4) || memmem(c->req, c->req_len, "\n\n", 2);
}

static enum step serve_http(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    if (!c->started) {
        if (!c->req && !(c->req = malloc(SVC_HTTP_REQ_MAX + 1)))
            return STEP_DONE;
        ssize_t n = read_some(sv, c, now, SVC_HTTP_REQ_MAX - c->req_len);
        if (n == -EAGAIN)
            return STEP_WAIT;
        if (n < 0)
            return STEP_DONE;
        memcpy(c->req + c->req_len, sv->iobuf, (size_t)n);
        c->req_len += (size_t)n;
        c->req[c->req_len] = 0;
        if (!c->peer_eof && c->req_len < SVC_HTTP_REQ_MAX && !http_request_complete(c))
            return STEP_MORE;
        http_build(sv, c);
        c->started = true;
    }
    return answer_then_close(sv, c, now);
}

static enum step serve_one(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    switch (c->kind) {
    case SVC_ECHO:
        return serve_echo(sv, c, now);
    case SVC_DISCARD:
        return serve_discard(sv, c, now);
    case SVC_CHARGEN:
        return serve_chargen(sv, c, now);
    case SVC_DAYTIME:
        return serve_daytime(sv, c, now);
    case SVC_HTTP:
        return serve_http(sv, c, now);
    default:
        return STEP_DONE;
    }
}

/* Serve one connection for a bounded number of steps. True if it still has
 * work it could do right now. */
static bool serve(struct svc_server *sv, struct svc_conn *c, uint64_t now)
{
    c->dirty = false;
    for (int i = 0; i < SVC_SLICE; i++) {
        enum step st = serve_one(sv, c, now);
        if (st == STEP_DONE) {
            finish(sv, c, now);
            return false;
        }
        if (st == STEP_WAIT)
            return false;
    }
    return true;
}

static void accept_all(struct svc_server *sv, uint64_t now)
{
    for (size_t i = 0; i < sv->nlisteners; i++) {
        for (int k = 0; k < SVC_ACCEPT_SLICE; k++) {
            if (!(tcp_poll(sv->stack, sv->listeners[i].sd) & TCP_POLLIN))
                break;
            struct tcp_tuple t;
            int sd = tcp_accept(sv->stack, now, sv->listeners[i].sd, &t);
            if (sd < 0)
                break;
            if (add_conn(sv, sd, sv->listeners[i].spec.kind, &t) < 0)
                tcp_abort(sv->stack, now, sd); /* out of memory: refuse rather than leak */
        }
    }
}

uint64_t svc_run(struct svc_server *sv, uint64_t now)
{
    accept_all(sv, now);
    if (sv->sweep_all) {
        sv->sweep_all = false;
        for (size_t sd = 0; sd < sv->cap; sd++)
            if (sv->by_sd[sd])
                mark_dirty(sv, sv->by_sd[sd]);
    }
    /* Serve the current list; connections marked during serving (by the
     * readiness the serving itself caused) go on the other list, for the next run. */
    int *list = sv->dirty;
    size_t n = sv->ndirty, cap = sv->capdirty;
    sv->dirty = sv->serving;
    sv->capdirty = sv->capserving;
    sv->ndirty = 0;
    sv->serving = list;
    sv->capserving = cap;
    bool again = false;
    for (size_t i = 0; i < n; i++) {
        struct svc_conn *c = conn_of(sv, list[i]);
        if (!c)
            continue;
        c->in_dirty_list = false;
        if (serve(sv, c, now)) {
            mark_dirty(sv, c);
            again = true;
        }
    }
    return again || sv->ndirty > 0 ? now : TCP_TIME_NEVER;
}
