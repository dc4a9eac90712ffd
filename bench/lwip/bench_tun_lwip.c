/*
 * bench_tun_lwip.c — the reference a user would otherwise pick: lwIP (Debian's
 * liblwip-dev, 2.1.3, as Debian builds it) on a TUN device, serving discard
 * (port 9) and echo (port 7) through lwIP's raw API.
 *
 * Written here for bench/tun_compare.sh; it links lwIP only (never tcplab's
 * libraries: both have tcp_bind, tcp_listen, ... and one would silently
 * replace the other). The device is made here (IFF_TUN | IFF_NO_PI, name
 * tl0 unless given); the script gives the kernel its address and brings it
 * up with `ip`, then the kernel talks to lwIP at 10.7.0.2.
 *
 * Threads: lwIP's own tcpip thread runs its timers; one reader thread here
 * drains the device and hands each packet to ip_input() under lwIP's core
 * lock (LWIP_TCPIP_CORE_LOCKING, as Debian builds it), so a burst costs one
 * lock per packet and no mailbox round trip. Replies are written to the
 * device from netif->output, in whichever thread lwIP sends them.
 *
 * With --spin US the reader busy-polls: after a packet it keeps reading the
 * (then non-blocking) device for up to US microseconds before poll() sleeps,
 * as tcplab's loop does by default (`--busy-poll`), so the two are compared
 * waiting the same way (a fixed window, never less patient than tcplab's).
 *
 * usage: bench_tun_lwip [--spin US] [TUN-NAME]    runs until SIGINT/SIGTERM
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"

static int tun_fd = -1;
static struct netif tun_netif;
static unsigned long long pkts_in, pkts_out;
static unsigned spin_us; /* --spin */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ---- the netif: IPv4 packets straight into and out of the device --------- */

static err_t tunif_output(struct netif *nif, struct pbuf *p, const ip4_addr_t *next)
{
    (void)nif;
    (void)next;
    static __thread unsigned char buf[65536];
    u16_t n = pbuf_copy_partial(p, buf, p->tot_len, 0);
    if (write(tun_fd, buf, n) == (ssize_t)n)
        pkts_out++;
    return ERR_OK; /* a refused write is a loss on the wire; TCP retransmits */
}

static err_t tunif_init(struct netif *nif)
{
    nif->name[0] = 't';
    nif->name[1] = 'n';
    nif->mtu = 1500;
    nif->output = tunif_output;
    nif->flags = 0; /* no ARP, no broadcast: a point-to-point IP device */
    return ERR_OK;
}

static void *reader(void *arg)
{
    (void)arg;
    static unsigned char buf[65536];
    double spin_until = 0; /* with --spin: read without sleeping until then */
    for (;;) {
        ssize_t n = read(tun_fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return NULL;
            if (now_us() < spin_until)
                continue;
            struct pollfd p = {.fd = tun_fd, .events = POLLIN};
            poll(&p, 1, -1);
            continue;
        }
        if (spin_us)
            spin_until = now_us() + spin_us;
        if (n == 0 || (buf[0] >> 4) != 4)
            continue;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
        if (!p)
            continue;
        pbuf_take(p, buf, (u16_t)n);
        pkts_in++;
        LOCK_TCPIP_CORE();
        if (tun_netif.input(p, &tun_netif) != ERR_OK)
            pbuf_free(p);
        UNLOCK_TCPIP_CORE();
    }
}

/* ---- the services, on the raw API (callbacks run with the core lock) ----- */

static err_t discard_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (!p) {
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK)
            tcp_abort(pcb);
        return ERR_OK;
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

/* Echo: what arrives is queued on the connection (its pbufs, as lwIP gave
 * them) and written out as fast as the send buffer allows; bytes are
 * acknowledged to the window (tcp_recved) only once they are queued for
 * sending, so a slow peer holds the sender back. */
struct echo {
    struct pbuf *pending; /* received, not yet written */
    u16_t off;            /* bytes of pending's first pbuf already written */
    bool closing;         /* the peer's FIN came: close once all is written */
};

static void echo_finish(struct tcp_pcb *pcb, struct echo *e)
{
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    if (e->pending)
        pbuf_free(e->pending);
    free(e);
    if (tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}

static void echo_pump(struct tcp_pcb *pcb, struct echo *e)
{
    u32_t queued = 0;
    while (e->pending) {
        struct pbuf *q = e->pending;
        u16_t room = tcp_sndbuf(pcb);
        u16_t want = (u16_t)(q->len - e->off);
        if (want > room)
            want = room;
        if (want == 0)
            break;
        if (tcp_write(pcb, (u8_t *)q->payload + e->off, want, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        queued += want;
        e->off = (u16_t)(e->off + want);
        if (e->off == q->len) {
            e->pending = q->next;
            if (q->next)
                pbuf_ref(q->next);
            pbuf_free(q); /* frees q alone: its successor holds its own reference now */
            e->off = 0;
        }
    }
    if (queued) {
        tcp_recved(pcb, (u16_t)queued);
        tcp_output(pcb);
    }
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)err;
    struct echo *e = arg;
    if (!p) {
        e->closing = true;
        if (!e->pending)
            echo_finish(pcb, e);
        return ERR_OK;
    }
    if (e->pending)
        pbuf_cat(e->pending, p);
    else
        e->pending = p;
    echo_pump(pcb, e);
    return ERR_OK;
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)len;
    struct echo *e = arg;
    echo_pump(pcb, e);
    if (e->closing && !e->pending)
        echo_finish(pcb, e);
    return ERR_OK;
}

static void echo_err(void *arg, err_t err)
{
    (void)err;
    struct echo *e = arg; /* the pcb is already gone */
    if (e->pending)
        pbuf_free(e->pending);
    free(e);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    if (!arg) {
        tcp_recv(pcb, discard_recv);
        return ERR_OK;
    }
    struct echo *e = calloc(1, sizeof *e);
    if (!e)
        return ERR_MEM;
    tcp_arg(pcb, e);
    tcp_recv(pcb, echo_recv);
    tcp_sent(pcb, echo_sent);
    tcp_err(pcb, echo_err);
    return ERR_OK;
}

static void listen_on(u16_t port, bool echo)
{
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb || tcp_bind(pcb, IP_ADDR_ANY, port) != ERR_OK) {
        fprintf(stderr, "bench_tun_lwip: cannot bind port %u\n", port);
        exit(1);
    }
    pcb = tcp_listen_with_backlog(pcb, 128);
    tcp_arg(pcb, echo ? (void *)1 : NULL);
    tcp_accept(pcb, on_accept);
}

static void setup(void *arg)
{
    (void)arg;
    ip4_addr_t addr, mask, gw;
    IP4_ADDR(&addr, 10, 7, 0, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 7, 0, 1);
    netif_add(&tun_netif, &addr, &mask, &gw, NULL, tunif_init, ip_input);
    netif_set_default(&tun_netif);
    netif_set_up(&tun_netif);
    netif_set_link_up(&tun_netif);
    listen_on(9, false);
    listen_on(7, true);
}

int main(int argc, char **argv)
{
    int a = 1;
    if (argc > 2 && !strcmp(argv[1], "--spin")) {
        spin_us = (unsigned)atoi(argv[2]);
        a = 3;
    }
    const char *name = argc > a ? argv[a] : "tl0";
    tun_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | (spin_us ? O_NONBLOCK : 0));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (tun_fd < 0 || ioctl(tun_fd, TUNSETIFF, &ifr) < 0) {
        perror("bench_tun_lwip: TUN device");
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit it; main waits below */
    tcpip_init(setup, NULL);
    pthread_t th;
    pthread_create(&th, NULL, reader, NULL);
    int sig;
    sigwait(&set, &sig);
    fprintf(stderr, "bench_tun_lwip: %llu packets in, %llu out\n", pkts_in, pkts_out);
    return 0; /* the device goes with the process */
}
