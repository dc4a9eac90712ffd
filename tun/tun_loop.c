/*
 * tun_loop.c — the real-time loop that joins a stack to a TUN device.
 *
 * Each wake-up (tun_loop_step) does, in order:
 *   1. poll() until the earliest of: the stack's next timer, the caller's
 *      limit, the follow-up callback's deadline, the next kernel-state poll;
 *   2. drain the TUN device until EAGAIN, feeding each packet to the stack
 *      (the stack's replies are written back at once by stack_output);
 *   3. fire the stack's due timers;
 *   4. run the callbacks of the extra descriptors that are ready;
 *   5. run the follow-up callback (services, UI), then read the kernel's
 *      socket table if something worth seeing happened.
 * The kernel's table is also read just before the stack sees a SYN, FIN or
 * RST from the kernel: that is when its short-lived states can be caught.
 * With no traffic and no timer, poll() sleeps. After a wake-up that read
 * packets the loop first busy-polls for a bounded, adaptive time (cfg.spin_us,
 * `--busy-poll`; see loop_wait): the next packet of a conversation usually
 * follows within microseconds, and catching it awake saves a cross-CPU
 * wake-up of this process on each side.
 */
#include "tun_loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "kdiag.h"
#include "tun_vnet.h"
#include "udp_echo.h"

#define TUN_LOOP_MAX_FDS          64
#define TUN_LOOP_BATCH            512   /* packets per wake-up before timers get a turn */
#define TUN_LOOP_PRED_WAIT_US     10000 /* cap on waits while a predicate is watched */
#define TUN_LOOP_KDIAG_MIN_GAP_US 2000
#define TUN_LOOP_KDIAG_PENDING    64 /* tuples probed one by one after a wake-up */
#define TUN_LOOP_KDIAG_COST_X     10 /* full dumps take at most 1/10 of the time */
#define TUN_LOOP_SPIN_POLL_EVERY  8   /* busy-poll: the other descriptors every 8th empty read */
#define TUN_LOOP_OTHERS_MAX_US    100 /* ... and at least this often while packets keep coming */

struct loop_fd {
    int fd;
    short events;
    tun_fd_fn fn;
    void *ctx;
};

struct tun_loop {
    struct tun_loop_config cfg;
    struct tun_dev *dev;
    struct stack *stack;
    struct kdiag *kdiag;
    uint64_t start_ns; /* CLOCK_MONOTONIC at creation */
    struct loop_fd fds[TUN_LOOP_MAX_FDS];
    unsigned nfds;
    tun_after_fn after;
    void *after_ctx;
    uint64_t after_deadline;
    bool stop;
    int sigfd; /* signalfd for SIGINT/SIGTERM, or -1 */
    sigset_t old_mask;
    int signo;
    bool kdiag_dirty; /* a SYN/FIN/RST or a state change since the last poll */
    uint64_t kdiag_last, kdiag_next;
    uint64_t kdiag_cost_us; /* how long the last full dump took */
    /* Connections (the kernel's view of the tuple) whose kernel socket may
     * have just moved; probed one by one after the wake-up. Overflowing
     * falls back to a (rate-limited) full dump. */
    struct tcp_tuple kdiag_pending[TUN_LOOP_KDIAG_PENDING];
    unsigned kdiag_npending;
    bool kdiag_overflow;
    struct tun_loop_stats stats;
    bool vnet; /* packets carry a vnet header (cfg.offload) */
    bool spin_armed;  /* the last wake-up read packets: busy-poll before sleeping */
    unsigned spin_cur; /* the current busy-poll window, µs (adapts within cfg.spin_us) */
    /* A read the busy-poll made (a packet in buf, or the error it gave):
     * drain_tun() takes it first. */
    bool spun;
    ssize_t spun_n;
    uint64_t others_polled; /* when the descriptors other than the device were last polled */
    uint8_t buf[TUN_VNET_HDR_LEN + 65536];
    uint8_t udp_out[65536]; /* a UDP echo reply (udp_echo.h) */
    uint8_t cap_copy[65536]; /* a super-packet with its checksum completed, for on_packet */
    uint16_t udp_ip_id;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t tun_loop_now(const struct tun_loop *l)
{
    return (mono_ns() - l->start_ns) / 1000u;
}
uint64_t tun_loop_clock(void *ctx)
{
    return tun_loop_now(ctx);
}

void tun_loop_config_defaults(struct tun_loop_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    tun_dev_config_defaults(&cfg->dev);
    stack_config_defaults(&cfg->stack);
    cfg->stack.name = "stack";
    /* On a real network the secret behind ISNs (RFC 6528), SYN cookies and
     * TSval offsets (RFC 7323 §7.1) must be unguessable. Without getrandom
     * the all-zero key of the simulations stays: still working, predictable. */
    if (getrandom(cfg->stack.isn_key, sizeof cfg->stack.isn_key, GRND_NONBLOCK) !=
        (ssize_t)sizeof cfg->stack.isn_key)
        memset(cfg->stack.isn_key, 0, sizeof cfg->stack.isn_key);
    cfg->stack.mss = (uint16_t)(cfg->dev.mtu - 40);
    /* A TUN device is a fast path with a round trip of a process wake-up:
     * a 64 KB window would cap a transfer at 64 KB per wake-up. Offer RFC
     * 7323 window scaling and buffers near the bandwidth-delay product
     * (memory is taken as data arrives, not per connection up front). The
     * scenarios' `teaching` profile keeps 65535 and no scaling. */
    cfg->stack.window_scaling = true;
    cfg->stack.rcvbuf = TUN_LOOP_DEFAULT_BUF;
    cfg->stack.sndbuf = TUN_LOOP_DEFAULT_BUF;
    /* A hole in a 4 MiB window (the kernel drops what overflows the TUN
     * device's queue) leaves up to a window of data out of order; the
     * engine's 64 KiB per-connection default would drop it and recovery
     * crawled (plain-packet echo stalled for minutes). The text sits in the
     * receive buffer either way, so allow a buffer's worth per connection. */
    cfg->stack.max_ooo_conn = TUN_LOOP_DEFAULT_BUF;
    cfg->stack.max_ooo_total = 4 * TUN_LOOP_DEFAULT_BUF;
    /* Rings are counted at their full size against max_ring_total: room
     * for 512 connections moving data both ways (4 GiB, most of it never
     * touched), not the engine's 1 GiB, which 200 echo clients pass. */
    cfg->stack.max_ring_total = 512ull * 2 * TUN_LOOP_DEFAULT_BUF;
    cfg->kernel_state = true;
    cfg->kdiag_interval_us = 100000;
    cfg->watch_signals = true;
    cfg->offload = true;
    cfg->spin_us = TUN_LOOP_DEFAULT_SPIN_US;
}

void tun_loop_fit_wscale(struct stack_config *sc)
{
    /* RFC 7323 §2.3: the smallest shift that lets the whole receive buffer
     * be offered (at most 14). */
    uint8_t shift = 0;
    while (shift < 14 && (sc->rcvbuf >> shift) > 65535)
        shift++;
    if (sc->window_scaling && sc->wscale < shift)
        sc->wscale = shift;
}

/* ---- the stack's seams: output and events ------------------------------- */

static void loop_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct tun_loop *l = ctx;
    if (l->cfg.on_packet)
        l->cfg.on_packet(l->cfg.packet_ctx, tun_loop_now(l), TEV_OUT, pkt, len);
    int rc;
    if (l->vnet) {
        static const uint8_t plain[TUN_VNET_HDR_LEN]; /* no GSO, checksum complete */
        rc = tun_dev_write_hdr(l->dev, plain, sizeof plain, pkt, len);
    } else {
        rc = tun_dev_write(l->dev, pkt, len);
    }
    if (rc < 0) {
        /* The kernel refused it (queue full, device going away): for TCP this
         * is the same as a loss on the wire, and retransmission covers it. */
        l->stats.write_errors++;
        return;
    }
    l->stats.pkts_out++;
    l->stats.bytes_out += len;
}

/* A super-packet for the kernel to cut into MSS-sized segments (GSO): the
 * vnet header says how, the TCP checksum is left partial for the kernel to
 * finish per segment. The capture sees the one large segment that was sent,
 * with its checksum completed so Wireshark verifies it (a copy, only when
 * something records packets). */
static void loop_output_gso(void *ctx, const uint8_t *pkt, size_t len, uint16_t mss)
{
    struct tun_loop *l = ctx;
    uint8_t hdr[TUN_VNET_HDR_LEN];
    if (!l->vnet || len > sizeof l->cap_copy || tun_vnet_gso_hdr(hdr, pkt, len, mss) < 0) {
        l->stats.write_errors++; /* cannot happen: the stack offloads only with a vnet header */
        return;
    }
    if (l->cfg.on_packet) {
        memcpy(l->cap_copy, pkt, len);
        struct tun_vnet_pkt v = {.ip = l->cap_copy, .len = len, .needs_csum = true,
                                 .csum_start = (uint16_t)((pkt[0] & 15) * 4), .csum_offset = 16};
        tun_vnet_complete_csum(&v);
        l->cfg.on_packet(l->cfg.packet_ctx, tun_loop_now(l), TEV_OUT, l->cap_copy, len);
    }
    if (tun_dev_write_hdr(l->dev, hdr, sizeof hdr, pkt, len) < 0) {
        l->stats.write_errors++;
        return;
    }
    l->stats.pkts_out++;
    l->stats.gso_out++;
    l->stats.bytes_out += len;
}

/* Remember a connection whose kernel socket may move (the kernel's point of
 * view: the stack's local end is the kernel's remote end). */
static void kdiag_note(struct tun_loop *l, const struct tcp_tuple *stack_view)
{
    l->kdiag_dirty = true;
    if (stack_view->raddr == 0 || l->kdiag_overflow)
        return; /* a listener: no kernel socket to ask about */
    struct tcp_tuple k = {stack_view->raddr, stack_view->laddr, stack_view->rport,
                          stack_view->lport};
    for (unsigned i = l->kdiag_npending; i-- > 0 && i + 4 >= l->kdiag_npending;)
        if (!memcmp(&l->kdiag_pending[i], &k, sizeof k))
            return; /* the same connection, just noted */
    if (l->kdiag_npending == TUN_LOOP_KDIAG_PENDING)
        l->kdiag_overflow = true;
    else
        l->kdiag_pending[l->kdiag_npending++] = k;
}

static void loop_event(void *ctx, const struct tev *ev)
{
    struct tun_loop *l = ctx;
    if (l->kdiag && (ev->kind == TEV_STATE || (ev->kind == TEV_SEGMENT &&
                                               (ev->u.seg.tcp.flags & (TCP_SYN | TCP_FIN | TCP_RST)))))
        kdiag_note(l, &ev->tuple);
    if (l->cfg.on_event)
        l->cfg.on_event(l->cfg.event_ctx, ev);
}

/* ---- creation ----------------------------------------------------------- */

static int watch_signals(struct tun_loop *l)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, &l->old_mask) < 0)
        return -errno;
    l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (l->sigfd < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
        return -e;
    }
    return 0;
}

struct tun_loop *tun_loop_new(const struct tun_loop_config *cfg, int *err, char *msg, size_t msglen)
{
    struct tun_loop *l = calloc(1, sizeof *l);
    if (!l) {
        *err = -ENOMEM;
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    l->cfg = *cfg;
    l->sigfd = -1;
    l->start_ns = mono_ns() - 1000; /* so `now` is never 0 */
    struct tun_dev_config dc = cfg->dev;
    if (cfg->offload) {
        dc.vnet_hdr = true;
        dc.offload = TUN_F_CSUM | TUN_F_TSO4;
    }
    l->vnet = dc.vnet_hdr;
    int rc = tun_dev_open(&dc, &l->dev, msg, msglen);
    if (rc < 0) {
        *err = rc;
        free(l);
        return NULL;
    }
    struct stack_config sc = cfg->stack;
    sc.output = loop_output;
    sc.output_ctx = l;
    if (l->vnet) {
        /* Send-side GSO: up to a 64 KB IPv4 packet's worth of data (less the
         * largest IP and TCP headers) per write. */
        sc.out_seg_max = STACK_GSO_MAX;
        sc.output_gso = loop_output_gso;
    }
    /* Events are built only for someone who reads them (the services learn
     * readiness through stack_config.on_ready, which costs no event). */
    sc.on_event = cfg->on_event ? loop_event : NULL;
    sc.event_ctx = l;
    if (!sc.name)
        sc.name = "stack";
    tun_loop_fit_wscale(&sc);
    l->stack = stack_new(&sc);
    if (!l->stack) {
        *err = -ENOMEM;
        snprintf(msg, msglen, "cannot create the stack (out of memory or bad configuration)");
        goto fail;
    }
    if (cfg->kernel_state && cfg->on_event) {
        int kerr = 0;
        l->kdiag = kdiag_new(sc.addr, "kernel", cfg->on_event, cfg->event_ctx, &kerr);
        /* Without sock_diag the stack still works; the kernel's side is just
         * not shown. */
        if (!l->kdiag)
            fprintf(stderr, "tcplab: warning: cannot read the kernel's sockets (sock_diag): %s\n",
                    strerror(-kerr));
    }
    if (l->cfg.kdiag_interval_us == 0)
        l->cfg.kdiag_interval_us = 100000;
    if (cfg->watch_signals && (rc = watch_signals(l)) < 0) {
        *err = rc;
        snprintf(msg, msglen, "cannot watch SIGINT/SIGTERM: %s", strerror(-rc));
        goto fail;
    }
    l->after_deadline = TCP_TIME_NEVER;
    l->kdiag_next = TCP_TIME_NEVER;
    /* With one CPU the peer that would send the next packet needs the CPU a
     * busy-poll would hold: never spin there. */
    if (get_nprocs() < 2)
        l->cfg.spin_us = 0;
    l->spin_cur = l->cfg.spin_us;
    return l;
fail:
    if (l->stack)
        stack_free(l->stack);
    kdiag_free(l->kdiag);
    tun_dev_close(l->dev);
    free(l);
    return NULL;
}

void tun_loop_free(struct tun_loop *l)
{
    if (!l)
        return;
    if (l->sigfd >= 0) {
        close(l->sigfd);
        sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
    }
    kdiag_free(l->kdiag);
    stack_free(l->stack);
    tun_dev_close(l->dev);
    free(l);
}

struct stack *tun_loop_stack(struct tun_loop *l)
{
    return l->stack;
}

/* ---- extra descriptors ------------------------------------------------------ */

int tun_loop_add_fd(struct tun_loop *l, int fd, short events, tun_fd_fn fn, void *ctx)
{
    for (unsigned i = 0; i < l->nfds; i++)
        if (l->fds[i].fd == fd)
            return -EEXIST;
    if (l->nfds == TUN_LOOP_MAX_FDS)
        return -ENOSPC;
    l->fds[l->nfds++] = (struct loop_fd){fd, events, fn, ctx};
    return 0;
}

int tun_loop_set_fd_events(struct tun_loop *l, int fd, short events)
{
    for (unsigned i = 0; i < l->nfds; i++)
        if (l->fds[i].fd == fd) {
            l->fds[i].events = events;
            return 0;
        }
    return -ENOENT;
}

void tun_loop_del_fd(struct tun_loop *l, int fd)
{
    for (unsigned i = 0; i < l->nfds; i++)
        if (l->fds[i].fd == fd) {
            l->fds[i] = l->fds[--l->nfds];
            return;
        }
}

void tun_loop_set_after(struct tun_loop *l, tun_after_fn fn, void *ctx)
{
    l->after = fn;
    l->after_ctx = ctx;
    l->after_deadline = 0; /* run it on the next wake-up */
}

void tun_loop_stop(struct tun_loop *l)
{
    l->stop = true;
}
int tun_loop_signal(const struct tun_loop *l)
{
    return l->signo;
}

/* ---- kernel state --------------------------------------------------------- */

void tun_loop_kernel_refresh(struct tun_loop *l)
{
    if (!l->kdiag)
        return;
    uint64_t now = tun_loop_now(l);
    kdiag_poll(l->kdiag, now);
    uint64_t after = tun_loop_now(l);
    l->kdiag_cost_us = after - now;
    l->kdiag_dirty = false;
    l->kdiag_overflow = false;
    l->kdiag_npending = 0;
    l->kdiag_last = now;
    struct stack_stats st;
    stack_get_stats(l->stack, &st);
    /* Keep looking while either side still has something to show: the
     * kernel's TIME_WAIT outlives the stack's connection by a minute. */
    uint64_t gap = l->cfg.kdiag_interval_us;
    /* A dump's cost grows with the kernel's sockets (thousands of TIME_WAIT
     * entries on a busy server): never spend more than 1/10 of the time on it. */
    if (gap < TUN_LOOP_KDIAG_COST_X * l->kdiag_cost_us)
        gap = TUN_LOOP_KDIAG_COST_X * l->kdiag_cost_us;
    if (st.conns_active > 0 || kdiag_count(l->kdiag) > 0)
        l->kdiag_next = now + gap;
    else
        l->kdiag_next = TCP_TIME_NEVER;
}

static void kdiag_after_wakeup(struct tun_loop *l, uint64_t now)
{
    if (!l->kdiag)
        return;
    if (l->kdiag_dirty && !l->kdiag_overflow) {
        /* The connections touched in this wake-up, one small question each. */
        for (unsigned i = 0; i < l->kdiag_npending; i++)
            kdiag_probe(l->kdiag, now, &l->kdiag_pending[i]);
        l->kdiag_npending = 0;
        l->kdiag_dirty = false;
        if (l->kdiag_next == TCP_TIME_NEVER)
            l->kdiag_next = now + l->cfg.kdiag_interval_us; /* start the periodic look */
    }
    if (l->kdiag_dirty) {
        uint64_t gap = TUN_LOOP_KDIAG_MIN_GAP_US;
        if (gap < TUN_LOOP_KDIAG_COST_X * l->kdiag_cost_us)
            gap = TUN_LOOP_KDIAG_COST_X * l->kdiag_cost_us;
        if (now >= l->kdiag_last + gap)
            tun_loop_kernel_refresh(l);
        else if (l->kdiag_next > l->kdiag_last + gap)
            l->kdiag_next = l->kdiag_last + gap;
    } else if (now >= l->kdiag_next) {
        tun_loop_kernel_refresh(l);
    }
}

/* ---- one wake-up ---------------------------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* A TCP segment from the kernel with SYN, FIN or RST: the kernel has just
 * changed state to send it (SYN_SENT, FIN_WAIT_1, LAST_ACK, ...), and the
 * stack's answer may change it again within microseconds. */
static bool kernel_just_moved(const uint8_t *pkt, size_t len, struct tcp_tuple *kernel_view)
{
    if (len < 40 || (pkt[0] >> 4) != 4 || pkt[9] != WIRE_PROTO_TCP)
        return false;
    size_t ihl = (size_t)(pkt[0] & 15) * 4;
    if (ihl < 20 || ihl + 14 > len || !(pkt[ihl + 13] & (TCP_SYN | TCP_FIN | TCP_RST)))
        return false;
    const uint8_t *t = pkt + ihl;
    *kernel_view = (struct tcp_tuple){
        .laddr = (uint32_t)pkt[12] << 24 | (uint32_t)pkt[13] << 16 | (uint32_t)pkt[14] << 8 | pkt[15],
        .raddr = (uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 | pkt[19],
        .lport = (uint16_t)(t[0] << 8 | t[1]),
        .rport = (uint16_t)(t[2] << 8 | t[3]),
    };
    return true;
}

/* A packet whose vnet header does not match it: a TEV_DROP naming why. */
static void vnet_drop(struct tun_loop *l, uint64_t now, int reason, const uint8_t *raw, size_t len)
{
    l->stats.vnet_drops++;
    if (!l->cfg.on_event)
        return;
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = TEV_DROP;
    ev.t_us = now;
    ev.host = l->cfg.stack.name ? l->cfg.stack.name : "stack";
    ev.sd = -1;
    ev.u.drop.reason = reason;
    ev.u.drop.dir = TEV_IN;
    ev.u.drop.raw = raw;
    ev.u.drop.raw_len = len;
    l->cfg.on_event(l->cfg.event_ctx, &ev);
}

/* Returns 0, or -ENODEV when the interface has gone. */
static int drain_tun(struct tun_loop *l)
{
    for (int i = 0; i < TUN_LOOP_BATCH; i++) {
        ssize_t n = l->spun ? l->spun_n : tun_dev_read(l->dev, l->buf, sizeof l->buf);
        l->spun = false;
        if (n == -EAGAIN || n == -EINTR)
            return 0;
        if (n < 0)
            return tun_dev_alive(l->dev) ? (int)n : -ENODEV;
        uint64_t now = tun_loop_now(l);
        uint8_t *pkt = l->buf;
        size_t len = (size_t)n;
        bool csum_ok = false;
        if (l->vnet) {
            struct tun_vnet_pkt v;
            int why = tun_vnet_check(l->buf, len, &v);
            if (why) {
                vnet_drop(l, now, why, l->buf, len);
                continue;
            }
            /* A partial TCP checksum comes from the kernel's own stack:
             * trusted, as Linux trusts CHECKSUM_PARTIAL (stack_input_csum_ok);
             * completed only for a capture, which must verify in Wireshark. */
            csum_ok = v.needs_csum && len > TUN_VNET_HDR_LEN + 20 &&
                      l->buf[TUN_VNET_HDR_LEN + 9] == WIRE_PROTO_TCP;
            if (!csum_ok || l->cfg.on_packet)
                tun_vnet_complete_csum(&v);
            l->stats.gso_in += v.gso;
            pkt = v.ip;
            len = v.len;
        }
        l->stats.pkts_in++;
        l->stats.bytes_in += (uint64_t)len;
        if (l->cfg.on_packet)
            l->cfg.on_packet(l->cfg.packet_ctx, now, TEV_IN, pkt, len);
        /* Read the kernel's sockets before the stack answers, or states
         * that last one round trip (LAST_ACK, FIN_WAIT_1) are never seen. */
        struct tcp_tuple kt;
        if (l->kdiag && kernel_just_moved(pkt, len, &kt)) {
            kdiag_probe(l->kdiag, now, &kt);
            if (l->kdiag_next == TCP_TIME_NEVER)
                l->kdiag_next = now + l->cfg.kdiag_interval_us;
        }
        /* UDP echo (port 7) is answered here; other UDP goes to the
         * stack's UDP sockets (udp.h), which it drops if none is bound. */
        size_t reply = udp_echo_reply(l->cfg.stack.addr, pkt, len, l->udp_out,
                                      sizeof l->udp_out, l->udp_ip_id++);
        if (reply) {
            loop_output(l, l->udp_out, reply);
            continue;
        }
        if (csum_ok)
            stack_input_csum_ok(l->stack, now, pkt, len);
        else
            stack_input(l->stack, now, pkt, len);
    }
    return 0;
}

static int poll_timeout(uint64_t wake, uint64_t now)
{
    if (wake == TCP_TIME_NEVER)
        return -1;
    return wake <= now ? 0 : (int)min_u64((wake - now + 999) / 1000, 60000);
}

/* Wait for a descriptor or `wake` (loop time): poll()'s result.
 *
 * Busy-poll: after a wake-up that read packets, read the device without
 * sleeping for up to spin_cur µs first. One connection at a time, the
 * kernel's next segment (the ACK and FIN after our SYN,ACK; the next SYN
 * after our FIN) comes back within tens of microseconds; asleep, this
 * process would pay a wake-up (the kernel's IPI to this CPU, the scheduler,
 * on a VM an exit from the idle CPU) and the kernel's sender the cost of
 * waking it. The spin reads the device itself (non-blocking) rather than
 * poll()ing every descriptor: a read that finds a packet has it, where
 * poll() would need a read after it, so each wake-up costs one system call
 * less and notices the packet sooner. The other descriptors (signals, the
 * caller's) are polled every TUN_LOOP_SPIN_POLL_EVERY empty reads, and at
 * least every TUN_LOOP_OTHERS_MAX_US while packets keep coming, so a signal
 * or stdin waits microseconds at most. The window adapts as KVM's
 * halt-polling does: a spin that caught something doubles it (up to
 * cfg.spin_us); after one that did not, the sleep tells: a packet within
 * cfg.spin_us of the spin's start would have been caught by the full
 * window, so it doubles too, while a later one (or none) says the peer is
 * slow or idle and halves it (down to 1/8), so an idle or slow peer costs
 * little CPU. (Halving on every miss, as until 2026-12-06, could settle at
 * the floor for good when the peer answers in more than 1/8 of the window:
 * each missed wait halved it, the immediate packets only won it back.) Off
 * with spin_us = 0 (and on one CPU). The CPU it burns is counted in
 * stats.spin_us. */
static int loop_wait(struct tun_loop *l, struct pollfd *pfd, unsigned n, uint64_t wake)
{
    uint64_t now = tun_loop_now(l);
    int timeout = poll_timeout(wake, now);
    if (timeout == 0 || !l->spin_armed || l->spin_cur == 0) {
        l->others_polled = now;
        return poll(pfd, n, timeout);
    }
    uint64_t until = min_u64(now + l->spin_cur, wake), t = now;
    int pr = 0;
    for (unsigned i = 1;; i++) {
        ssize_t r = tun_dev_read(l->dev, l->buf, sizeof l->buf);
        if (r != -EAGAIN) { /* a packet, or an error for drain_tun to judge */
            l->spun = true;
            l->spun_n = r;
            pfd[0].revents = POLLIN;
            pr = 1;
            if (n > 1 && t - l->others_polled >= TUN_LOOP_OTHERS_MAX_US) {
                int po = poll(pfd + 1, n - 1, 0);
                l->others_polled = t;
                pr += po > 0 ? po : 0;
            }
            break;
        }
        if (n > 1 && i % TUN_LOOP_SPIN_POLL_EVERY == 0) {
            l->others_polled = t;
            if ((pr = poll(pfd + 1, n - 1, 0)) != 0)
                break;
        }
        t = tun_loop_now(l);
        if (t >= until)
            break;
    }
    l->stats.spin_us += t - now;
    if (pr != 0) {
        l->stats.spin_hits++;
        l->spin_cur = (unsigned)min_u64(2ull * l->spin_cur, l->cfg.spin_us);
        return pr;
    }
    l->stats.spin_misses++;
    l->others_polled = t;
    pr = poll(pfd, n, poll_timeout(wake, t));
    if (pr > 0 && (pfd[0].revents & POLLIN) && tun_loop_now(l) - now <= l->cfg.spin_us) {
        l->spin_cur = (unsigned)min_u64(2ull * l->spin_cur, l->cfg.spin_us);
    } else {
        unsigned floor = l->cfg.spin_us / 8 ? l->cfg.spin_us / 8 : 1; /* never 0: it could not grow back */
        if (l->spin_cur / 2 >= floor)
            l->spin_cur /= 2;
    }
    return pr;
}

static void read_signals(struct tun_loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        l->signo = (int)si.ssi_signo;
        l->stop = true;
    }
}

int tun_loop_step(struct tun_loop *l, uint64_t limit)
{
    if (l->stop)
        return -EINTR;
    struct pollfd pfd[TUN_LOOP_MAX_FDS + 2];
    unsigned n = 0;
    pfd[n++] = (struct pollfd){.fd = tun_dev_fd(l->dev), .events = POLLIN};
    if (l->sigfd >= 0)
        pfd[n++] = (struct pollfd){.fd = l->sigfd, .events = POLLIN};
    unsigned first_user = n;
    struct loop_fd user[TUN_LOOP_MAX_FDS]; /* callbacks may add or remove fds */
    unsigned nuser = l->nfds;
    memcpy(user, l->fds, nuser * sizeof user[0]);
    for (unsigned i = 0; i < nuser; i++)
        pfd[n++] =
            (struct pollfd){.fd = user[i].events ? user[i].fd : -1, .events = user[i].events};

    uint64_t wake = min_u64(limit, stack_next_deadline(l->stack));
    wake = min_u64(wake, l->after_deadline);
    wake = min_u64(wake, l->kdiag_next);
    int pr = loop_wait(l, pfd, n, wake);
    if (pr < 0 && errno != EINTR)
        return -errno;
    l->stats.wakeups++;

    stack_batch_begin(l->stack); /* ACKs wait for the services' replies (tcp.h) */
    l->spin_armed = pr > 0 && (pfd[0].revents & POLLIN);
    if (pr > 0 && pfd[0].revents) {
        int rc = drain_tun(l);
        if (rc == 0 && (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)))
            rc = tun_dev_alive(l->dev) ? 0 : -ENODEV;
        if (rc < 0) {
            stack_batch_end(l->stack, tun_loop_now(l));
            return rc;
        }
    }
    uint64_t now = tun_loop_now(l);
    if (stack_next_deadline(l->stack) <= now)
        stack_tick(l->stack, now);
    if (pr > 0 && l->sigfd >= 0 && pfd[1].revents)
        read_signals(l);
    for (unsigned i = 0; pr > 0 && i < nuser; i++)
        if (pfd[first_user + i].revents && user[i].fn)
            user[i].fn(user[i].ctx, user[i].fd, pfd[first_user + i].revents);
    now = tun_loop_now(l);
    if (l->after)
        l->after_deadline = l->after(l->after_ctx, now);
    stack_batch_end(l->stack, tun_loop_now(l));
    kdiag_after_wakeup(l, tun_loop_now(l));
    return l->stop ? -EINTR : 0;
}

int tun_loop_run_until(struct tun_loop *l, uint64_t until, bool (*pred)(void *ctx), void *ctx)
{
    for (;;) {
        if (pred && pred(ctx))
            return 1;
        uint64_t now = tun_loop_now(l);
        if (now >= until)
            return 0;
        uint64_t limit = until;
        if (pred)
            limit = min_u64(limit, now + TUN_LOOP_PRED_WAIT_US);
        int rc = tun_loop_step(l, limit);
        if (rc < 0)
            return rc;
    }
}

int tun_loop_run(struct tun_loop *l)
{
    for (;;) {
        int rc = tun_loop_step(l, TCP_TIME_NEVER);
        if (rc < 0)
            return rc;
    }
}

void tun_loop_get_stats(const struct tun_loop *l, struct tun_loop_stats *out)
{
    *out = l->stats;
}
