/*
 * scn_run_wait.c — the scenario hosts as one-threaded programs, and time
 * passing. Each host's sockets (as the scenario names them) and its one
 * blocking call: accept, connect, send and recv stay pending and are
 * completed by scn_rt_service() after every happening on the network, at the
 * moment the socket allows it. scn_rt_run_until() moves the network until
 * a condition holds (the step loop's waits and every expectation's); the
 * states of call targets are read here too (docs/scenarios.md "Blocking").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_rt.h"

#define RT_MAX_STEPS_PER_WAIT 50000000ul /* safety net against an engine that never settles */

/* ---- sockets and blocking calls -------------------------------------------------- */

int scn_rt_new_sock(struct scn_rt *rt, int h, int sd)
{
    if (rt->nsocks == RT_MAX_SOCKS)
        return -1;
    struct scn_rt_sock *so = &rt->socks[rt->nsocks];
    memset(so, 0, sizeof *so);
    so->host = h;
    so->sd = sd;
    so->name = -1;
    return (int)rt->nsocks++;
}

void scn_rt_name_sock(struct scn_rt *rt, int k, int name)
{
    if (name >= 0 && k >= 0) {
        rt->named[name] = k;
        rt->socks[k].name = name;
    }
}

void scn_rt_record(struct scn_rt_callrec *r, long result, const uint8_t *data, size_t len,
                   bool done)
{
    free(r->data);
    memset(r, 0, sizeof *r);
    r->made = true;
    r->done = done;
    r->result = result;
    if (data && len) {
        r->data = malloc(len);
        if (r->data) {
            memcpy(r->data, data, len);
            r->len = len;
        }
    }
}

void scn_rt_record_call(struct scn_rt *rt, int h, int k, enum tcp_call call, long result,
                        const uint8_t *data, size_t len, bool done)
{
    scn_rt_record(&rt->hosts[h].last[call], result, data, len, done);
    if (k >= 0)
        scn_rt_record(&rt->socks[k].last[call], result, data, len, done);
}

void scn_rt_complete(struct scn_rt *rt, int h, long result, const uint8_t *data, size_t len)
{
    struct scn_rt_pending *p = &rt->hosts[h].pend;
    scn_rt_record_call(rt, h, p->sock, p->call, result, data, len, true);
    free(p->owned);
    memset(p, 0, sizeof *p);
}

static void service_host(struct scn_rt *rt, int h)
{
    struct scn_rt_host *H = &rt->hosts[h];
    struct scn_rt_pending *p = &H->pend;
    struct scn_rt_sock *so = &rt->socks[p->sock];
    if (so->sd < 0) {
        scn_rt_complete(rt, h, -EBADF, NULL, 0);
        return;
    }
    unsigned ev = rt->hosts[h].ops->poll(rt, h, so->sd);
    switch (p->call) {
    case TCP_CALL_ACCEPT: {
        if (!p->once && !(ev & (TCP_POLLIN | TCP_POLLERR)))
            return;
        struct tcp_tuple t;
        memset(&t, 0, sizeof t);
        int r = rt->hosts[h].ops->accept(rt, h, so->sd, &t);
        if (r == -EAGAIN)
            return;
        int as = p->as_sock;

        if (r >= 0) {
            int k = scn_rt_new_sock(rt, h, r);
            if (k >= 0) {
                rt->socks[k].accepted = true;
                rt->socks[k].tuple = t;
                rt->socks[k].have_tuple = true;
                rt->socks[k].lport = t.lport;
                scn_rt_name_sock(rt, k, as);
                H->cur = k;
                scn_rt_record(&rt->socks[k].last[TCP_CALL_ACCEPT], r, NULL, 0, true);
            }
        }
        scn_rt_complete(rt, h, r, NULL, 0);
        break;
    }
    case TCP_CALL_CONNECT: {
        int st = rt->hosts[h].ops->state(rt, h, so->sd);
        if (ev & TCP_POLLERR) {
            int e = rt->hosts[h].ops->error(rt, h, so->sd);
            long r = e ? e : -ECONNREFUSED;
            scn_rt_emit_return(rt, h, so, TCP_CALL_CONNECT, r);
            scn_rt_complete(rt, h, r, NULL, 0);
        } else if ((ev & TCP_POLLOUT) || st == TCP_ESTABLISHED || st == TCP_CLOSE_WAIT) {
            if (!so->have_tuple && rt->hosts[h].ops->tuple(rt, h, so->sd, &so->tuple) &&
                so->tuple.rport) {
                so->have_tuple = true;
                so->lport = so->tuple.lport;
            }
            scn_rt_emit_return(rt, h, so, TCP_CALL_CONNECT, 0);
            scn_rt_complete(rt, h, 0, NULL, 0);
        } else if (st == TCP_CLOSED) {
            int e = rt->hosts[h].ops->error(rt, h, so->sd);
            if (e) {
                scn_rt_emit_return(rt, h, so, TCP_CALL_CONNECT, e);
                scn_rt_complete(rt, h, e, NULL, 0);
            }
        }
        break;
    }
    case TCP_CALL_RECV:
    case TCP_CALL_RECVFROM: {
        if (!p->once && !(ev & (TCP_POLLIN | TCP_POLLERR | TCP_POLLHUP)))
            return;
        uint8_t *buf = malloc(p->len);
        if (!buf)
            return;
        long r = p->call == TCP_CALL_RECVFROM
                     ? rt->hosts[h].ops->recvfrom(rt, h, so->sd, buf, p->len)
                     : rt->hosts[h].ops->recv(rt, h, so->sd, buf, p->len);
        if (r != -EAGAIN)
            scn_rt_complete(rt, h, r, buf, r > 0 ? (size_t)r : 0);
        free(buf);
        break;
    }
    case TCP_CALL_SEND:
        if (p->once)
            ev |= TCP_POLLOUT; /* try, and take EAGAIN for an answer */
        while (p->active && (ev & (TCP_POLLOUT | TCP_POLLERR))) {
            long r = rt->hosts[h].ops->send(rt, h, so->sd, p->data + p->off, p->len - p->off);
            if (r == -EAGAIN || r == 0)
                return;
            if (r < 0) {
                scn_rt_complete(rt, h, r, NULL, 0);
                return;
            }
            p->off += (size_t)r;
            if (p->off >= p->len) {
                scn_rt_complete(rt, h, (long)p->len, NULL, 0);
                return;
            }
            ev = rt->hosts[h].ops->poll(rt, h, so->sd);
        }
        break;
    case TCP_CALL_POLL: {
        /* poll(2): the asked events that are ready, and ERR and HUP always. */
        unsigned ready = ev & (p->events | TCP_POLLERR | TCP_POLLHUP);
        if (!ready)
            return;
        scn_rt_emit_ready(rt, h, so, p->events, ready);
        scn_rt_complete(rt, h, (long)ready, NULL, 0);
        break;
    }
    default:
        scn_rt_complete(rt, h, -EINVAL, NULL, 0);
        break;
    }
}

void scn_rt_try_once(struct scn_rt *rt, int h)
{
    struct scn_rt_pending *p = &rt->hosts[h].pend;
    if (!p->active)
        return;
    p->once = true;
    service_host(rt, h);
    if (p->active)
        scn_rt_complete(rt, h, p->call == TCP_CALL_SEND && p->off ? (long)p->off : -EAGAIN, NULL,
                        0);
}

/* Complete whatever blocked calls can return now. */
void scn_rt_service(struct scn_rt *rt)
{
    for (size_t h = 0; h < rt->nhosts; h++)
        if (rt->hosts[h].pend.active)
            service_host(rt, (int)h);
}

/* ---- letting time pass ---------------------------------------------------------- */

/* Run the network until cond holds (checked after every happening) or the
 * clock reaches `deadline`. True if cond held. */
bool scn_rt_run_until(struct scn_rt *rt, uint64_t deadline, scn_rt_cond cond, const void *arg)
{
    scn_rt_service(rt);
    for (unsigned long n = 0; n < RT_MAX_STEPS_PER_WAIT; n++) {
        if (cond && cond(rt, arg))
            return true;
        if (rt->fatal)
            return false;
        if (scn_rt_now(rt) >= deadline)
            return false;
        int err = 0;
        bool did = rt->net.step(rt, deadline, &err);
        if (err < 0) {
            rt->fatal = err;
            return false;
        }
        scn_rt_service(rt);
        if (!did)
            return cond ? cond(rt, arg) : false;
    }
    return false;
}

uint64_t scn_rt_deadline_in(struct scn_rt *rt, uint64_t us)
{
    uint64_t n = scn_rt_now(rt);
    return n + us < n ? TCP_TIME_NEVER - 1 : n + us;
}

/* ---- states ----------------------------------------------------------------------- */

static enum tcp_state sock_state(struct scn_rt *rt, int k)
{
    struct scn_rt_sock *so = &rt->socks[k];
    if (so->sd >= 0) {
        if (so->listening)
            return TCP_LISTEN;
        int st = rt->hosts[so->host].ops->state(rt, so->host, so->sd);
        if (st >= 0 && st < TCP_NSTATES)
            return (enum tcp_state)st;
    }
    if (so->have_tuple) {
        struct scn_rt_conn *c = scn_rt_conn_find(rt, so->host, &so->tuple);
        if (c)
            return c->state;
    }
    return TCP_CLOSED;
}

/* The newest connection that arrived on a listening socket. */
static struct scn_rt_conn *newest_child(struct scn_rt *rt, int k)
{
    struct scn_rt_sock *so = &rt->socks[k];
    struct scn_rt_conn *best = NULL;
    for (size_t i = 0; i < rt->nconns; i++) {
        struct scn_rt_conn *c = &rt->conns[i];
        if (c->host == so->host && c->t.lport == so->lport && c->t.rport != 0 &&
            (!best || c->born > best->born))
            best = c;
    }
    return best;
}

/* The connection a target's state means (docs/scenarios.md "States"). */
enum tcp_state scn_rt_target_state(struct scn_rt *rt, const struct scn_target *t,
                                   struct scn_rt_conn **conn)
{
    *conn = NULL;
    int k = t->sock >= 0 ? rt->named[t->sock] : rt->hosts[t->host].cur;
    if (k < 0)
        return TCP_CLOSED;
    struct scn_rt_sock *so = &rt->socks[k];
    if (t->sock < 0 && so->listening && so->sd >= 0) {
        struct scn_rt_conn *c = newest_child(rt, k);
        if (!c)
            return TCP_LISTEN;
        *conn = c;
        return c->state;
    }
    if (so->have_tuple)
        *conn = scn_rt_conn_find(rt, so->host, &so->tuple);
    return sock_state(rt, k);
}

const char *scn_rt_target_name(const struct scn_rt *rt, const struct scn_target *t)
{
    return t->sock >= 0 ? rt->s->socks[t->sock].name : rt->hosts[t->host].name;
}
