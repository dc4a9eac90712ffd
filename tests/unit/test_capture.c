/*
 * test_capture.c — the capture reader (capture/): pcap files written here
 * with libpcap, packets built by stack/wire.c, read back as timelines. The
 * states inferred from the segments, the narration of what is recognised
 * (handshake, lost segment and its retransmission, duplicate ACKs, zero
 * window, teardown, TIME_WAIT holder), the choice of a connection, and each
 * kind of bad capture with its error. The same reader on kernel traffic is
 * tests/ui/run_capture.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "capture.h"
#include "player.h"
#include "wire.h"

#define CLI 0x0a000001u /* 10.0.0.1 */
#define SRV 0x0a000002u /* 10.0.0.2 */

struct seg {
    bool from_client;
    uint8_t flags;
    uint32_t seq, ack; /* relative to ISNs 1000 (client) and 5000 (server) */
    uint16_t win;
    const char *data;
};

/* Write the segments of one connection (client port `cport`, server 80) to
 * a pcap of link type `dlt` (DLT_RAW or DLT_EN10MB with a VLAN tag). */
static void write_pcap(const char *path, int dlt, uint16_t cport, const struct seg *s, size_t n,
                       bool break_checksum)
{
    pcap_t *pd = pcap_open_dead(dlt, 65535);
    assert_non_null(pd);
    pcap_dumper_t *d = pcap_dump_open(pd, path);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        struct wire_tcp t;
        memset(&t, 0, sizeof t);
        t.sport = s[i].from_client ? cport : 80;
        t.dport = s[i].from_client ? 80 : cport;
        t.seq = s[i].seq + (s[i].from_client ? 1000 : 5000);
        t.ack = s[i].ack + (s[i].from_client ? 5000 : 1000);
        t.flags = s[i].flags;
        t.win = s[i].win ? s[i].win : 65535;
        uint8_t pkt[1600], frame[1700];
        size_t dlen = s[i].data ? strlen(s[i].data) : 0;
        size_t len = wire_tcp_build(pkt, sizeof pkt, s[i].from_client ? CLI : SRV,
                                    s[i].from_client ? SRV : CLI, (uint16_t)i, &t,
                                    (const uint8_t *)s[i].data, dlen);
        assert_true(len > 0);
        if (break_checksum)
            pkt[36] ^= 0x5a; /* as checksum offload leaves it in a capture */
        size_t off = 0;
        if (dlt == DLT_EN10MB) {
            static const uint8_t eth[18] = {2, 0, 0, 0,    0,    2,    2,    0,    0,
                                            0, 0, 1, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00};
            memcpy(frame, eth, sizeof eth);
            off = sizeof eth;
        }
        memcpy(frame + off, pkt, len);
        struct pcap_pkthdr h = {.ts = {.tv_sec = 100, .tv_usec = (suseconds_t)(i * 1000)},
                                .caplen = (bpf_u_int32)(len + off),
                                .len = (bpf_u_int32)(len + off)};
        pcap_dump((u_char *)d, &h, frame);
    }
    pcap_dump_close(d);
    pcap_close(pd);
}

static char tmp_path[64];

static const char *tmp_pcap(void)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/tcplab-test-capture-%d.pcap", (int)getpid());
    return tmp_path;
}

static struct scn_timeline *timeline_of(const char *path, const char *filter)
{
    struct cap_error err = {0};
    struct cap_file *cf = cap_open(path, &err);
    if (!cf)
        fail_msg("%s", err.msg);
    int ci = cap_pick(cf, filter, &err);
    if (ci < 0)
        fail_msg("%s", err.msg);
    struct scn_timeline *tl = cap_timeline(cf, (size_t)ci, &err);
    cap_free(cf);
    assert_non_null(tl);
    return tl;
}

/* All narration, English or Chinese, one string. */
static void all_words(const struct scn_timeline *tl, bool zh, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < tl->nsteps; i++) {
        const char *w = zh ? tl->steps[i].say_zh : tl->steps[i].say_en;
        if (w)
            n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s\n", w);
    }
}

/* The state each host is in after the whole timeline. */
static void final_states(const struct scn_timeline *tl, enum tcp_state *c, enum tcp_state *s)
{
    struct ui_model m;
    ui_model_init(&m, tl);
    ui_model_apply_until(&m, tl->nevents);
    *c = m.hosts[0].state;
    *s = m.hosts[1].state;
    ui_model_free(&m);
}

/* Handshake, a lost data segment, three dup ACKs, its retransmission, a
 * zero window that opens again, the server closes first. */
static const struct seg busy[] = {
    {true, TCP_SYN, 0, 0, 0, NULL},
    {false, TCP_SYN | TCP_ACK, 0, 1, 0, NULL},
    {true, TCP_ACK, 1, 1, 0, NULL},
    {true, TCP_PSH | TCP_ACK, 1, 1, 0, "aaaa"}, /* lost: sent again below */
    {true, TCP_PSH | TCP_ACK, 5, 1, 0, "bbbb"},
    {false, TCP_ACK, 1, 1, 0, NULL}, /* dup ACK #1: ack=1 as in the SYN,ACK (RFC 5681 §2) */
    {true, TCP_PSH | TCP_ACK, 9, 1, 0, "cccc"},
    {false, TCP_ACK, 1, 1, 0, NULL}, /* dup ACK #2 */
    {true, TCP_PSH | TCP_ACK, 13, 1, 0, "dddd"},
    {false, TCP_ACK, 1, 1, 0, NULL}, /* dup ACK #3 */
    {true, TCP_PSH | TCP_ACK, 17, 1, 0, "eeee"},
    {false, TCP_ACK, 1, 1, 0, NULL},            /* dup ACK #4 */
    {true, TCP_PSH | TCP_ACK, 1, 1, 0, "aaaa"}, /* the retransmission */
    {false, TCP_ACK, 1, 21, 0, NULL},
    {false, TCP_ACK, 1, 21, 0, NULL}, /* not a dup: nothing outstanding */
    {false, TCP_FIN | TCP_ACK, 1, 21, 0, NULL},
    {true, TCP_ACK, 21, 2, 0, NULL},
    {true, TCP_FIN | TCP_ACK, 21, 2, 0, NULL},
    {false, TCP_ACK, 2, 22, 0, NULL},
};

static void test_busy_connection_states_and_words(void **state)
{
    (void)state;
    write_pcap(tmp_pcap(), DLT_RAW, 40000, busy, sizeof busy / sizeof busy[0], false);
    struct scn_timeline *tl = timeline_of(tmp_pcap(), NULL);
    assert_int_equal(tl->nsteps, sizeof busy / sizeof busy[0]);
    assert_string_equal(tl->hosts[0].name, "client");
    assert_string_equal(tl->hosts[0].label, "10.0.0.1:40000");
    assert_string_equal(tl->hosts[1].kind, "captured");
    enum tcp_state c, s;
    final_states(tl, &c, &s);
    assert_int_equal(c, TCP_CLOSED);    /* closed second: LAST_ACK -> CLOSED */
    assert_int_equal(s, TCP_TIME_WAIT); /* closed first */

    /* Every state change says it is inferred (or assumed). */
    size_t lost = 0, rtx = 0;
    for (size_t i = 0; i < tl->nevents; i++) {
        const struct tev *e = tl->events[i];
        if (e->kind == TEV_STATE)
            assert_non_null(strstr(e->u.state.cause, "(inferred)"));
        if (e->kind == TEV_LINK && e->u.link.action == TEV_LINK_LOST)
            lost++;
        if (e->kind == TEV_SEGMENT && e->u.seg.retransmission)
            rtx++;
    }
    assert_int_equal(lost, 1); /* the first "aaaa" */
    assert_int_equal(rtx, 1);

    char en[16384], zh[16384];
    all_words(tl, false, en, sizeof en);
    all_words(tl, true, zh, sizeof zh);
    assert_non_null(strstr(en, "three-way handshake is complete"));
    assert_non_null(strstr(en, "Duplicate ACK #1"));
    assert_non_null(strstr(en, "Duplicate ACK #4"));
    assert_null(strstr(en, "Duplicate ACK #5")); /* ack=21: nothing outstanding */
    assert_non_null(strstr(en, "fast retransmit"));
    assert_non_null(strstr(en, "sends seq 1 again: a retransmission"));
    assert_non_null(strstr(en, "the client sends it again in step 13"));
    assert_non_null(strstr(en, "the server holds TIME_WAIT"));
    assert_non_null(strstr(zh, "三次握手完成"));
    assert_non_null(strstr(zh, "重传"));
    assert_non_null(strstr(zh, "服务器处于 TIME_WAIT"));
    assert_null(strstr(zh, "client")); /* the ends are named in Chinese */
    scn_timeline_free(tl);
    unlink(tmp_pcap());
}

/* A zero window, then the window update that opens it. */
static void test_zero_window_is_narrated(void **state)
{
    (void)state;
    struct seg z[] = {
        {true, TCP_SYN, 0, 0, 0, NULL},  {false, TCP_SYN | TCP_ACK, 0, 1, 0, NULL},
        {true, TCP_ACK, 1, 1, 0, NULL},  {true, TCP_PSH | TCP_ACK, 1, 1, 0, "full"},
        {false, TCP_ACK, 1, 5, 1, NULL}, {false, TCP_ACK, 1, 5, 4000, NULL},
    };
    /* Built here rather than by write_pcap(), which takes 0 as "65535". */
    pcap_t *pd = pcap_open_dead(DLT_RAW, 65535);
    pcap_dumper_t *d = pcap_dump_open(pd, tmp_pcap());
    for (size_t i = 0; i < 6; i++) {
        struct wire_tcp t;
        memset(&t, 0, sizeof t);
        t.sport = z[i].from_client ? 40002 : 80;
        t.dport = z[i].from_client ? 80 : 40002;
        t.seq = z[i].seq + (z[i].from_client ? 1000 : 5000);
        t.ack = z[i].ack + (z[i].from_client ? 5000 : 1000);
        t.flags = z[i].flags;
        t.win = i == 4 ? 0 : z[i].win ? z[i].win : 65535;
        uint8_t pkt[200];
        size_t dl = z[i].data ? strlen(z[i].data) : 0;
        size_t len =
            wire_tcp_build(pkt, sizeof pkt, z[i].from_client ? CLI : SRV,
                           z[i].from_client ? SRV : CLI, 1, &t, (const uint8_t *)z[i].data, dl);
        struct pcap_pkthdr h = {.ts = {.tv_sec = 1, .tv_usec = (suseconds_t)i},
                                .caplen = (bpf_u_int32)len,
                                .len = (bpf_u_int32)len};
        pcap_dump((u_char *)d, &h, pkt);
    }
    pcap_dump_close(d);
    pcap_close(pd);
    struct scn_timeline *tl = timeline_of(tmp_pcap(), NULL);
    char en[8192];
    all_words(tl, false, en, sizeof en);
    assert_non_null(strstr(en, "The server's window is zero"));
    assert_non_null(strstr(en, "The server's window opens again (win=4000)"));
    scn_timeline_free(tl);
    unlink(tmp_pcap());
}

static void test_mid_connection_start_is_assumed(void **state)
{
    (void)state;
    /* busy[] from the first data segment on: no handshake captured. */
    write_pcap(tmp_pcap(), DLT_RAW, 40003, busy + 4, 3, false);
    struct scn_timeline *tl = timeline_of(tmp_pcap(), NULL);
    struct ui_model m;
    ui_model_init(&m, tl);
    ui_model_apply_until(&m, tl->nevents);
    assert_int_equal(m.hosts[0].state, TCP_ESTABLISHED);
    assert_int_equal(m.hosts[1].state, TCP_ESTABLISHED);
    assert_non_null(strstr(m.hosts[0].cause, "assumed"));
    ui_model_free(&m);
    assert_non_null(strstr(tl->steps[0].say_en, "middle of the connection"));
    scn_timeline_free(tl);
    unlink(tmp_pcap());
}

static void test_ethernet_vlan_and_offloaded_checksums(void **state)
{
    (void)state;
    write_pcap(tmp_pcap(), DLT_EN10MB, 40004, busy, 3, true);
    struct cap_error err = {0};
    struct cap_file *cf = cap_open(tmp_pcap(), &err);
    assert_non_null(cf);
    assert_int_equal(cap_nconns(cf), 1);
    assert_non_null(strstr(cap_skipped(cf), "3 TCP checksums recomputed"));
    const struct cap_conn *c = cap_conn_at(cf, 0);
    assert_true(c->syn && c->synack && c->both_ways);
    cap_free(cf);
    unlink(tmp_pcap());
}

static void test_picking_a_connection(void **state)
{
    (void)state;
    /* Two connections, interleaved: 40005 and 40006. */
    pcap_t *pd = pcap_open_dead(DLT_RAW, 65535);
    pcap_dumper_t *d = pcap_dump_open(pd, tmp_pcap());
    for (size_t i = 0; i < 6; i++) {
        const struct seg *s = &busy[i / 2];
        uint16_t cport = i % 2 ? 40006 : 40005;
        struct wire_tcp t;
        memset(&t, 0, sizeof t);
        t.sport = s->from_client ? cport : 80;
        t.dport = s->from_client ? 80 : cport;
        t.seq = s->seq + (s->from_client ? 1000 : 5000);
        t.ack = s->ack + (s->from_client ? 5000 : 1000);
        t.flags = s->flags;
        t.win = 100;
        uint8_t pkt[100];
        size_t len = wire_tcp_build(pkt, sizeof pkt, s->from_client ? CLI : SRV,
                                    s->from_client ? SRV : CLI, 1, &t, NULL, 0);
        struct pcap_pkthdr h = {.ts = {.tv_sec = 1, .tv_usec = (suseconds_t)i},
                                .caplen = (bpf_u_int32)len,
                                .len = (bpf_u_int32)len};
        pcap_dump((u_char *)d, &h, pkt);
    }
    pcap_dump_close(d);
    pcap_close(pd);
    struct cap_error err = {0};
    struct cap_file *cf = cap_open(tmp_pcap(), &err);
    assert_non_null(cf);
    assert_int_equal(cap_pick(cf, NULL, &err), CAP_ERR_AMBIGUOUS);
    assert_non_null(strstr(err.msg, "2 connections"));
    assert_int_equal(cap_pick(cf, "80", &err), CAP_ERR_AMBIGUOUS);
    assert_int_equal(cap_pick(cf, "2", &err), 1);
    assert_int_equal(cap_pick(cf, "40005", &err), 0);
    assert_int_equal(cap_pick(cf, "10.0.0.1:40006", &err), 1);
    assert_int_equal(cap_pick(cf, "10.0.0.2:80-10.0.0.1:40005", &err), 0);
    assert_int_equal(cap_pick(cf, "10.9.9.9", &err), CAP_ERR_NO_MATCH);
    cap_free(cf);
    unlink(tmp_pcap());
}

static void expect_error(const char *path, enum cap_err code, const char *words)
{
    struct cap_error err = {0};
    struct cap_file *cf = cap_open(path, &err);
    assert_null(cf);
    assert_int_equal(err.code, code);
    if (!strstr(err.msg, words))
        fail_msg("'%s' does not say '%s'", err.msg, words);
}

static void test_bad_captures_say_what_is_wrong(void **state)
{
    (void)state;
    const char *p = tmp_pcap();
    /* Not a capture. */
    FILE *f = fopen(p, "w");
    fputs("title en \"not a pcap\"\n", f);
    fclose(f);
    expect_error(p, CAP_ERR_FORMAT, "not a capture");
    /* Truncated inside a record. */
    write_pcap(p, DLT_RAW, 40007, busy, 5, false);
    f = fopen(p, "rb");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(p, "wb");
    fwrite(buf, 1, n - 9, f);
    fclose(f);
    expect_error(p, CAP_ERR_TRUNCATED, "truncated after 4 packets");
    /* One direction only, no SYN. */
    write_pcap(p, DLT_RAW, 40008, busy + 5, 1, false);
    expect_error(p, CAP_ERR_NO_CONN, "no connection to follow");
    /* No TCP at all: a UDP datagram. */
    pcap_t *pd = pcap_open_dead(DLT_RAW, 65535);
    pcap_dumper_t *d = pcap_dump_open(pd, p);
    uint8_t udp[28] = {0x45, 0, 0,  28, 0, 0, 0,    0,    64, 17, 0, 0, 10, 0,
                       0,    1, 10, 0,  0, 2, 0x30, 0x39, 0,  7,  0, 8, 0,  0};
    struct pcap_pkthdr h = {.ts = {.tv_sec = 1}, .caplen = 28, .len = 28};
    pcap_dump((u_char *)d, &h, udp);
    pcap_dump_close(d);
    pcap_close(pd);
    expect_error(p, CAP_ERR_NO_TCP, "1 UDP packet");
    unlink(p);
    expect_error(p, CAP_ERR_OPEN, "No such file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_connection_states_and_words),
        cmocka_unit_test(test_zero_window_is_narrated),
        cmocka_unit_test(test_mid_connection_start_is_assumed),
        cmocka_unit_test(test_ethernet_vlan_and_offloaded_checksums),
        cmocka_unit_test(test_picking_a_connection),
        cmocka_unit_test(test_bad_captures_say_what_is_wrong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
