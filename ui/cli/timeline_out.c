/*
 * timeline_out.c — a recorded run into --trace and --pcap files
 * (timeline_out.h).
 *
 * Which packets are "on the wire": every segment a host sent (dir out), and
 * every segment a host received from a sender whose own events are not in
 * the record (the kernel's sockets on TUN report no segments of their own).
 * With two stacks on the virtual link each segment is reported twice, once
 * out and once in; it is written once.
 */
#include "timeline_out.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "trace.h"

uint64_t timeline_out_wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* True if a host of the record that reports its own segments has `addr`. */
static bool sent_by_recorded_host(const struct scn_timeline *tl, uint32_t addr)
{
    for (size_t h = 0; h < tl->nhosts && h < sizeof tl->hosts / sizeof tl->hosts[0]; h++)
        if (!tl->hosts[h].kernel && tl->hosts[h].addr == addr)
            return true;
    return false;
}

static bool on_the_wire(const struct scn_timeline *tl, const struct tev *ev)
{
    if (ev->kind != TEV_SEGMENT || !ev->u.seg.raw)
        return false;
    if (ev->u.seg.dir == TEV_OUT)
        return true;
    return !sent_by_recorded_host(tl, ev->u.seg.src);
}

static const char *narration(const struct scn_step *st, bool zh)
{
    const char *s = zh ? st->say_zh : st->say_en;
    if (!s || !*s)
        s = zh ? st->say_en : st->say_zh;
    return s && *s ? s : NULL;
}

/* Comments waiting for the next packet: one per line. */
struct waiting {
    char text[4096];
    size_t len;
};

static void wait_add(struct waiting *w, const char *line)
{
    int n = snprintf(w->text + w->len, sizeof w->text - w->len, "%s%s", w->len ? "\n" : "", line);
    if (n > 0 && (size_t)n < sizeof w->text - w->len)
        w->len += (size_t)n;
}

/* A state change the step's own call or timer caused, not a segment that
 * arrived ("rcvd SYN" belongs to the packet written just before it). */
static bool caused_by_the_step(const struct tev *ev)
{
    return ev->kind == TEV_STATE && !(ev->u.state.cause && !strncmp(ev->u.state.cause, "rcvd", 4));
}

/* Packets, with each step's narration on its first packet. A step that
 * sends nothing (an `expect` that explains what just happened) hands its
 * narration on to the next packet, so none is lost; a state change that a
 * step's call or timer causes before its first packet waits for that packet
 * too, while one caused by an arriving segment goes on that segment. */
static void write_pcap(const struct scn_timeline *tl, const struct timeline_out *o,
                       struct pcap_out *p)
{
    struct waiting w = {.len = 0};
    size_t next_step = 0;
    bool step_has_packet = false;
    for (size_t e = 0; e < tl->nevents; e++) {
        const struct tev *ev = tl->events[e];
        /* Every step that has begun by this event, empty ones included. */
        while (next_step < tl->nsteps && tl->steps[next_step].first_event <= e) {
            const char *say = narration(&tl->steps[next_step++], o->zh);
            if (say)
                wait_add(&w, say);
            step_has_packet = false;
        }
        char text[256];
        if (on_the_wire(tl, ev)) {
            pcap_out_packet(p, ev->t_us, ev->u.seg.raw, ev->u.seg.raw_len);
            if (w.len) {
                pcap_out_comment(p, w.text);
                w.len = 0;
                w.text[0] = 0;
            }
            step_has_packet = true;
            pcap_out_annotate(p, ev);
        } else if (!step_has_packet && caused_by_the_step(ev) &&
                   pcap_out_comment_text(ev, text, sizeof text) > 0) {
            wait_add(&w, text); /* before this step's first packet: for that one */
        } else {
            pcap_out_annotate(p, ev); /* on the packet that caused it */
        }
    }
    while (next_step < tl->nsteps) { /* steps after the last event */
        const char *say = narration(&tl->steps[next_step++], o->zh);
        if (say)
            wait_add(&w, say);
    }
    if (w.len) /* the last steps sent nothing: their words go on the last packet */
        pcap_out_comment(p, w.text);
}

static int write_trace(const struct scn_timeline *tl, const struct timeline_out *o, FILE *f)
{
    char config[1024], scen[600] = "";
    /* the path is the user's: escape what JSON cannot carry raw */
    size_t k = 0;
    for (const char *s = o->scenario ? o->scenario : ""; *s && k + 7 < sizeof scen; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            k += (size_t)snprintf(scen + k, sizeof scen - k, "\\%c", c);
        else if (c < 0x20)
            k += (size_t)snprintf(scen + k, sizeof scen - k, "\\u%04x", c);
        else
            scen[k++] = (char)c;
    }
    scen[k] = 0;
    snprintf(config, sizeof config,
             "{\"scenario\":\"%s\",\"seed\":%llu,\"link\":\"%s\",\"lang\":\"%s\","
             "\"pcap_epoch_us\":%llu}",
             scen, (unsigned long long)o->seed, tl->tun ? "tun" : "virtual", o->zh ? "zh" : "en",
             (unsigned long long)(tl->tun ? o->wall_t0_us : PCAP_OUT_VIRTUAL_EPOCH_US));
    trace_json_start(f, o->source, TCPLAB_VERSION,
                     tl->tun ? o->wall_t0_us : timeline_out_wall_now(), config);
    for (size_t e = 0; e < tl->nevents; e++)
        trace_json_event(f, tl->events[e]);
    return ferror(f) ? -1 : 0;
}

int timeline_out_write(const struct scn_timeline *tl, const struct timeline_out *o,
                       const char *prog)
{
    int rc = 0;
    if (o->trace_path) {
        FILE *f = cli_open_output(o->trace_path, "w");
        if (!f || write_trace(tl, o, f) < 0) {
            fprintf(stderr, "tcplab %s: cannot write the trace file %s: %s — check the path\n",
                    prog, o->trace_path, strerror(errno));
            rc = -1;
        }
        cli_close_output(f);
    }
    if (o->pcap_path) {
        char err[256] = "";
        struct pcap_out *p = pcap_out_open(o->pcap_path, err, sizeof err);
        if (!p) {
            fprintf(stderr, "tcplab %s: cannot write the pcap file %s: %s — check the path\n", prog,
                    o->pcap_path, err);
            return -1;
        }
        pcap_out_set_epoch(p, tl->tun ? o->wall_t0_us : PCAP_OUT_VIRTUAL_EPOCH_US);
        write_pcap(tl, o, p);
        pcap_out_close(p);
    }
    return rc;
}
