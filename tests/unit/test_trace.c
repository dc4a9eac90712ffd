/*
 * test_trace.c — the renderers of the event stream: events built by hand
 * (packets made with wire_tcp_build) must come out as exact text-trace and
 * JSON Lines lines, and as pcap records that libpcap (and tshark, when it is
 * installed) reads back with valid checksums.
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
#include <errno.h>
#include <pcap/pcap.h>

#include "tcp.h"
#include "trace.h"
#include "wire.h"

#define CLIENT 0x0a070002u /* 10.7.0.2 */
#define SERVER 0x0a070001u /* 10.7.0.1 */

/* ---- helpers ---------------------------------------------------------------- */

/* One scratch file per test, in $TMPDIR (ctest points it at a directory it
 * checks is empty afterwards); the teardown removes it even when an assert
 * failed half-way. */
static char temp_path[160];

static int make_temp(const char *stem)
{
    const char *dir = getenv("TMPDIR");
    snprintf(temp_path, sizeof temp_path, "%s/%s-XXXXXX", dir && *dir ? dir : "/tmp", stem);
    return mkstemp(temp_path);
}

static int remove_temp(void **state)
{
    (void)state;
    if (temp_path[0])
        unlink(temp_path);
    temp_path[0] = '\0';
    return 0;
}

/* A segment event with a real packet behind it. `pkt` must outlive the event. */
struct seg_fixture {
    uint8_t pkt[1600];
    struct tev ev;
};

static void make_segment(struct seg_fixture *f, uint64_t t_us, const char *host, enum tev_dir dir,
                         uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags,
                         uint32_t seq, uint32_t ack, uint16_t win, const char *data)
{
    memset(f, 0, sizeof *f);
    struct wire_tcp tcp = {
        .sport = sport, .dport = dport, .seq = seq, .ack = ack, .flags = flags, .win = win};
    if (flags & TCP_SYN) {
        tcp.opts.has_mss = true;
        tcp.opts.mss = 1460;
    }
    size_t dlen = data ? strlen(data) : 0;
    size_t n =
        wire_tcp_build(f->pkt, sizeof f->pkt, src, dst, 1, &tcp, (const uint8_t *)data, dlen);
    assert_int_not_equal(n, 0);
    f->ev.kind = TEV_SEGMENT;
    f->ev.t_us = t_us;
    f->ev.host = host;
    f->ev.sd = -1;
    f->ev.u.seg.dir = dir;
    f->ev.u.seg.tcp = tcp;
    f->ev.u.seg.src = src;
    f->ev.u.seg.dst = dst;
    f->ev.u.seg.raw = f->pkt;
    f->ev.u.seg.raw_len = n;
}

static struct tev base_event(enum tev_kind kind, uint64_t t_us, const char *host)
{
    struct tev ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.t_us = t_us;
    ev.host = host;
    ev.sd = -1;
    return ev;
}

static const char *text_of(struct trace_text *t, const struct tev *ev)
{
    static char buf[512];
    size_t n = trace_text_format(t, ev, buf, sizeof buf);
    assert_true(n < sizeof buf);
    buf[n] = '\0';
    return buf;
}

/* The JSON line trace_json_event writes for ev, newline included. */
static const char *json_of(const struct tev *ev)
{
    static char buf[2048];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    trace_json_event(f, ev);
    fclose(f);
    return buf;
}

/* The client's SYN with ISN 1000, the server's SYN,ACK with ISN 5000, and
 * the client's ACK: the start of every trace. */
static void feed_handshake(struct trace_text *t)
{
    struct seg_fixture f;
    make_segment(&f, 1000, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_SYN, 1000, 0, 65535,
                 NULL);
    text_of(t, &f.ev);
    make_segment(&f, 2000, "server", TEV_OUT, SERVER, 8080, CLIENT, 40000, TCP_SYN | TCP_ACK, 5000,
                 1001, 65535, NULL);
    text_of(t, &f.ev);
    make_segment(&f, 3000, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_ACK, 1001, 5001,
                 65535, NULL);
    text_of(t, &f.ev);
}

/* ---- text trace: segments ---------------------------------------------------------- */

static void test_text_syn_is_shown_like_tcpdump_with_relative_seq(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct seg_fixture f;
    make_segment(&f, 1000, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_SYN, 123456789, 0,
                 65535, NULL);
    assert_string_equal(text_of(&t, &f.ev),
                        "  0.001000 client  out 10.7.0.2.40000 > 10.7.0.1.8080: Flags [S], seq 0, "
                        "win 65535, options [mss 1460], length 0");
}

static void test_text_syn_ack_acks_relative_to_the_other_sides_isn(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct seg_fixture f;
    make_segment(&f, 1000, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_SYN, 1000, 0, 65535,
                 NULL);
    text_of(&t, &f.ev);
    make_segment(&f, 1500, "server", TEV_OUT, SERVER, 8080, CLIENT, 40000, TCP_SYN | TCP_ACK, 5000,
                 1001, 29200, NULL);
    assert_string_equal(text_of(&t, &f.ev),
                        "  0.001500 server  out 10.7.0.1.8080 > 10.7.0.2.40000: Flags [S.], seq 0, "
                        "ack 1, win 29200, options [mss 1460], length 0");
}

static void test_text_data_segment_shows_sequence_range_and_length(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    feed_handshake(&t);
    struct seg_fixture f;
    make_segment(&f, 4000, "server", TEV_IN, CLIENT, 40000, SERVER, 8080, TCP_PSH | TCP_ACK, 1001,
                 5001, 65535, "hello");
    assert_string_equal(text_of(&t, &f.ev),
                        "  0.004000 server  in  10.7.0.2.40000 > 10.7.0.1.8080: Flags [P.], seq "
                        "1:6, ack 1, win 65535, length 5");
}

static void test_text_pure_ack_omits_seq_as_tcpdump_does(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    feed_handshake(&t);
    struct seg_fixture f;
    make_segment(&f, 5000, "server", TEV_OUT, SERVER, 8080, CLIENT, 40000, TCP_ACK, 5001, 1006,
                 65530, NULL);
    assert_string_equal(text_of(&t, &f.ev),
                        "  0.005000 server  out 10.7.0.1.8080 > 10.7.0.2.40000: Flags [.], ack 6, "
                        "win 65530, length 0");
}

static void test_text_fin_shows_its_seq_and_retransmissions_are_marked(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    feed_handshake(&t);
    struct seg_fixture f;
    make_segment(&f, 1206000, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_FIN | TCP_ACK,
                 1001, 5001, 65535, NULL);
    f.ev.u.seg.retransmission = true;
    assert_string_equal(text_of(&t, &f.ev),
                        "  1.206000 client  out 10.7.0.2.40000 > 10.7.0.1.8080: Flags [F.], seq 1, "
                        "ack 1, win 65535, length 0 (retransmission)");
}

static void test_text_absolute_sequence_numbers_when_not_relative(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, false);
    feed_handshake(&t);
    struct seg_fixture f;
    make_segment(&f, 4000, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_PSH | TCP_ACK, 1001,
                 5001, 65535, "hi");
    assert_string_equal(text_of(&t, &f.ev),
                        "  0.004000 client  out 10.7.0.2.40000 > 10.7.0.1.8080: Flags [P.], seq "
                        "1001:1003, ack 5001, win 65535, length 2");
}

static void test_text_relative_numbers_wrap_past_2_to_the_32(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct seg_fixture f;
    make_segment(&f, 0, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_SYN, 0xfffffffeu, 0,
                 100, NULL);
    text_of(&t, &f.ev);
    make_segment(&f, 0, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_ACK | TCP_PSH,
                 0xffffffffu, 0, 100, "abcd");
    assert_string_equal(text_of(&t, &f.ev),
                        "  0.000000 client  out 10.7.0.2.40000 > 10.7.0.1.8080: Flags [P.], seq "
                        "1:5, ack 0, win 100, length 4");
}

static void test_text_new_syn_on_same_ports_starts_new_relative_numbers(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    feed_handshake(&t);
    struct seg_fixture f;
    /* The same four-tuple reused after TIME_WAIT, with a new ISN. */
    make_segment(&f, 70000000, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_SYN, 90000, 0,
                 65535, NULL);
    text_of(&t, &f.ev);
    make_segment(&f, 70000500, "server", TEV_OUT, SERVER, 8080, CLIENT, 40000, TCP_SYN | TCP_ACK,
                 77777, 90001, 65535, NULL);
    assert_string_equal(text_of(&t, &f.ev),
                        " 70.000500 server  out 10.7.0.1.8080 > 10.7.0.2.40000: Flags [S.], seq 0, "
                        "ack 1, win 65535, options [mss 1460], length 0");
}

static void test_text_seqmap_forgets_the_oldest_connection_when_full(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct seg_fixture f;
    /* TRACE_MAX_ISN + 1 connections, each starting with a SYN (ISN 1000 + port). */
    for (uint16_t i = 0; i <= TRACE_MAX_ISN; i++) {
        uint16_t port = (uint16_t)(40000 + i);
        make_segment(&f, 0, "client", TEV_OUT, CLIENT, port, SERVER, 80, TCP_SYN, 1000u + port, 0,
                     100, NULL);
        text_of(&t, &f.ev);
    }
    /* The newest is remembered: its SYN,ACK acks relative 1. */
    uint16_t last = (uint16_t)(40000 + TRACE_MAX_ISN);
    make_segment(&f, 0, "server", TEV_OUT, SERVER, 80, CLIENT, last, TCP_SYN | TCP_ACK, 7,
                 1001u + last, 100, NULL);
    assert_non_null(strstr(text_of(&t, &f.ev), "seq 0, ack 1,"));
    /* The oldest was forgotten: its data is numbered from the first segment
     * seen again, as tcpdump does for a connection caught in the middle. */
    make_segment(&f, 0, "client", TEV_OUT, CLIENT, 40000, SERVER, 80, TCP_PSH | TCP_ACK, 41001, 8,
                 100, "hello");
    assert_non_null(strstr(text_of(&t, &f.ev), "Flags [P.], seq 0:5, ack 8,"));
}

static void test_text_shows_every_option_in_tcpdump_words(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct seg_fixture f;
    make_segment(&f, 0, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_SYN, 7, 0, 64240, NULL);
    struct wire_tcp_opts *o = &f.ev.u.seg.tcp.opts;
    o->sack_permitted = true;
    o->has_ts = true;
    o->ts_val = 12345;
    o->has_wscale = true;
    o->wscale = 7;
    assert_string_equal(text_of(&t, &f.ev),
                        "  0.000000 client  out 10.7.0.2.40000 > 10.7.0.1.8080: Flags [S], seq 0, "
                        "win 64240, options [mss 1460,sackOK,TS val 12345 ecr 0,wscale 7], "
                        "length 0");
}

/* SACK blocks are in the other side's sequence space, so relative like the
 * ack; a D-SACK or ignored-blocks event is relative to the sender's own ISN. */
static void test_text_rfc2018_sack_blocks_relative_like_the_ack(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct seg_fixture f;
    make_segment(&f, 0, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_SYN, 1000, 0, 65535,
                 NULL);
    text_of(&t, &f.ev);
    make_segment(&f, 10, "server", TEV_OUT, SERVER, 8080, CLIENT, 40000, TCP_SYN | TCP_ACK, 5000,
                 1001, 65535, NULL);
    text_of(&t, &f.ev);
    make_segment(&f, 20, "server", TEV_OUT, SERVER, 8080, CLIENT, 40000, TCP_ACK, 5001, 1001,
                 65535, NULL);
    struct wire_tcp_opts *o = &f.ev.u.seg.tcp.opts;
    o->n_sack = 2;
    o->sack[0] = (struct wire_sack_block){1001 + 2920, 1001 + 4380};
    o->sack[1] = (struct wire_sack_block){1001 + 1460, 1001 + 2920};
    assert_string_equal(text_of(&t, &f.ev),
                        "  0.000020 server  out 10.7.0.1.8080 > 10.7.0.2.40000: Flags [.], ack 1, "
                        "win 65535, options [sack 2 {2921:4381}{1461:2921}], length 0");
    const char *j = json_of(&f.ev);
    assert_non_null(strstr(j, "\"opts\":{\"sack\":[[3921,5381],[2461,3921]]}"));

    struct tev ev = base_event(TEV_SACK, 30, "client");
    ev.tuple = (struct tcp_tuple){.laddr = CLIENT, .raddr = SERVER, .lport = 40000, .rport = 8080};
    ev.u.sack.what = TEV_SACK_DSACK;
    ev.u.sack.left = 1001;
    ev.u.sack.right = 2461;
    assert_string_equal(text_of(&t, &ev), "  0.000030 client  sack dsack 1:1461");
    ev.u.sack.what = TEV_SACK_IGNORED;
    ev.u.sack.reason = "out_of_window";
    assert_string_equal(text_of(&t, &ev), "  0.000030 client  sack ignored (out_of_window) 1:1461");
    j = json_of(&ev);
    assert_non_null(strstr(j, "\"ev\":\"sack\""));
    assert_non_null(strstr(j, "\"what\":\"ignored\",\"reason\":\"out_of_window\",\"left\":1001,\"right\":2461"));
}

/* ---- text trace: the other events --------------------------------------------------- */

static void test_text_state_change_names_both_states_and_the_cause(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct tev ev = base_event(TEV_STATE, 1000, "client");
    ev.u.state.from = TCP_CLOSED;
    ev.u.state.to = TCP_SYN_SENT;
    ev.u.state.cause = "connect()";
    assert_string_equal(text_of(&t, &ev), "  0.001000 client  CLOSED -> SYN_SENT (connect())");
}

static void test_text_drop_names_the_reason_and_the_packet(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct seg_fixture f;
    make_segment(&f, 0, "x", TEV_IN, SERVER, 8080, CLIENT, 40000, TCP_RST, 1, 0, 0, NULL);
    struct tev ev = base_event(TEV_DROP, 2500, "client");
    ev.u.drop.reason = TCP_DROP_NO_CONNECTION;
    ev.u.drop.dir = TEV_IN;
    ev.u.drop.raw = f.pkt;
    ev.u.drop.raw_len = f.ev.u.seg.raw_len;
    assert_string_equal(text_of(&t, &ev),
                        "  0.002500 client  drop no_connection 10.7.0.1.8080 > 10.7.0.2.40000 [R]");

    f.pkt[30] ^= 0xff; /* corrupt: the packet no longer parses */
    ev.u.drop.reason = WIRE_ERR_BAD_CHECKSUM;
    assert_string_equal(
        text_of(&t, &ev),
        "  0.002500 client  drop bad_checksum 10.7.0.1 > 10.7.0.2 proto 6, 40 bytes");
}

static void test_text_shows_fired_timers_and_hides_arming_unless_asked(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct tev ev = base_event(TEV_TIMER, 1001000, "client");
    ev.u.timer.which = TCP_TIMER_RTX;
    ev.u.timer.action = TEV_TIMER_FIRE;
    ev.u.timer.deadline_us = 1001000;
    assert_string_equal(text_of(&t, &ev), "  1.001000 client  timer rtx fired");

    char buf[128];
    ev.u.timer.action = TEV_TIMER_ARM;
    assert_int_equal(trace_text_format(&t, &ev, buf, sizeof buf), 0);
    t.show_timers = true;
    ev.t_us = 1000;
    ev.u.timer.backoff = 2;
    assert_string_equal(text_of(&t, &ev),
                        "  0.001000 client  timer rtx armed, fires at 1.001000 (backoff 2)");
    ev.u.timer.action = TEV_TIMER_CANCEL;
    ev.u.timer.which = TCP_TIMER_DELACK;
    assert_string_equal(text_of(&t, &ev), "  0.001000 client  timer delack cancelled");
}

static void test_text_calls_show_arguments_and_errno_names(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct tev ev = base_event(TEV_CALL, 0, "client");
    ev.sd = 3;
    ev.tuple.raddr = SERVER;
    ev.tuple.rport = 8080;
    ev.u.call.call = TCP_CALL_CONNECT;
    ev.u.call.result = 0;
    assert_string_equal(text_of(&t, &ev), "  0.000000 client  connect(10.7.0.1:8080) = 0");
    ev.u.call.result = -ECONNREFUSED;
    assert_string_equal(text_of(&t, &ev),
                        "  0.000000 client  connect(10.7.0.1:8080) = ECONNREFUSED");

    struct tev l = base_event(TEV_CALL, 0, "server");
    l.tuple.lport = 8080;
    l.u.call.call = TCP_CALL_LISTEN;
    l.u.call.arg = 4;
    assert_string_equal(text_of(&t, &l), "  0.000000 server  listen(8080, backlog 4) = 0");
    l.u.call.call = TCP_CALL_SEND;
    l.u.call.arg = 100;
    l.u.call.result = 100;
    assert_string_equal(text_of(&t, &l), "  0.000000 server  send(100) = 100");
    l.u.call.call = TCP_CALL_SHUTDOWN;
    l.u.call.arg = TCP_SHUT_WR;
    l.u.call.result = -ENOTCONN;
    assert_string_equal(text_of(&t, &l), "  0.000000 server  shutdown(SHUT_WR) = ENOTCONN");
    l.u.call.call = TCP_CALL_SETSOCKOPT;
    l.u.call.arg = TCP_OPT_KEEPIDLE;
    l.u.call.result = 0;
    assert_string_equal(text_of(&t, &l), "  0.000000 server  setsockopt(TCP_KEEPIDLE) = 0");
    l.u.call.arg = TCP_OPT_LINGER0;
    assert_string_equal(text_of(&t, &l), "  0.000000 server  setsockopt(SO_LINGER) = 0");
}

static void test_text_link_kernel_and_icmp_events(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct seg_fixture f;
    make_segment(&f, 0, "x", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_FIN | TCP_ACK, 1, 1, 10,
                 NULL);
    struct tev ev = base_event(TEV_LINK, 3000, "link");
    ev.u.link.action = TEV_LINK_LOST;
    ev.u.link.from = "client";
    ev.u.link.to = "server";
    ev.u.link.raw = f.pkt;
    ev.u.link.raw_len = f.ev.u.seg.raw_len;
    assert_string_equal(text_of(&t, &ev), "  0.003000 link    lost client > server [F.]");
    ev.u.link.action = TEV_LINK_DELAYED;
    ev.u.link.until_us = 103000;
    assert_string_equal(text_of(&t, &ev),
                        "  0.003000 link    delayed client > server [F.] until 0.103000");

    struct tev k = base_event(TEV_KERNEL, 4000, "kernel");
    k.tuple = (struct tcp_tuple){.laddr = SERVER, .lport = 8080, .raddr = CLIENT, .rport = 40000};
    k.u.kernel.state = TCP_TIME_WAIT;
    k.u.kernel.prev = TCP_NSTATES;
    assert_string_equal(text_of(&t, &k),
                        "  0.004000 kernel  10.7.0.1.8080 > 10.7.0.2.40000: TIME_WAIT");
    k.u.kernel.prev = TCP_FIN_WAIT_2;
    assert_string_equal(text_of(&t, &k), "  0.004000 kernel  10.7.0.1.8080 > 10.7.0.2.40000: "
                                         "TIME_WAIT (was FIN_WAIT_2)");
    /* Sampling missed states: no invented SYN_SENT -> FIN_WAIT_1 edge. */
    k.u.kernel.state = TCP_FIN_WAIT_1;
    k.u.kernel.prev = TCP_SYN_SENT;
    assert_string_equal(text_of(&t, &k), "  0.004000 kernel  10.7.0.1.8080 > 10.7.0.2.40000: "
                                         "FIN_WAIT_1 (passed through ESTABLISHED, not observed)");
    k.u.kernel.state = TCP_TIME_WAIT;
    k.u.kernel.prev = TCP_ESTABLISHED;
    assert_string_equal(text_of(&t, &k),
                        "  0.004000 kernel  10.7.0.1.8080 > 10.7.0.2.40000: "
                        "TIME_WAIT (passed through FIN_WAIT_1, FIN_WAIT_2, not observed)");

    struct tev i = base_event(TEV_ICMP, 0, "stack");
    i.u.icmp.src = SERVER;
    i.u.icmp.dst = CLIENT;
    i.u.icmp.id = 77;
    i.u.icmp.seqno = 1;
    assert_string_equal(text_of(&t, &i), "  0.000000 stack   10.7.0.1 > 10.7.0.2: ICMP echo "
                                         "request, id 77, seq 1, answered");
}

static void test_text_format_never_overruns_a_small_buffer(void **state)
{
    struct trace_text t;
    trace_text_init(&t, NULL, true);
    struct seg_fixture f;
    make_segment(&f, 0, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_SYN, 1, 0, 1, NULL);
    char full[256];
    size_t n = trace_text_format(&t, &f.ev, full, sizeof full);
    for (size_t cap = 1; cap < n + 2; cap++) {
        char *small = malloc(cap);
        assert_non_null(small);
        size_t m = trace_text_format(&t, &f.ev, small, cap);
        assert_true(m < cap);
        assert_int_equal(small[m], '\0');
        assert_memory_equal(small, full, m);
        free(small);
    }
}

static void test_text_event_writes_one_line_per_event(void **state)
{
    char out[1024] = "";
    FILE *f = fmemopen(out, sizeof out, "w");
    assert_non_null(f);
    struct trace_text t;
    trace_text_init(&t, f, true);
    struct tev ev = base_event(TEV_STATE, 0, "server");
    ev.u.state.from = TCP_LISTEN;
    ev.u.state.to = TCP_SYN_RECEIVED;
    ev.u.state.cause = "rcvd SYN";
    trace_text_event(&t, &ev);
    struct tev armed = base_event(TEV_TIMER, 0, "server"); /* hidden: not written */
    trace_text_event(&t, &armed);
    fclose(f);
    assert_string_equal(out, "  0.000000 server  LISTEN -> SYN_RECEIVED (rcvd SYN)\n");
}

/* ---- JSON Lines ------------------------------------------------------------------------ */

static void test_json_segment_has_design_fields_with_absolute_numbers(void **state)
{
    struct seg_fixture f;
    make_segment(&f, 1000, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_SYN, 123456789, 0,
                 65535, NULL);
    assert_string_equal(json_of(&f.ev),
                        "{\"t\":0.001,\"ev\":\"seg\",\"host\":\"client\",\"dir\":\"out\","
                        "\"src\":\"10.7.0.2:40000\",\"dst\":\"10.7.0.1:8080\",\"flags\":\"S\","
                        "\"seq\":123456789,\"ack\":0,\"len\":0,\"win\":65535,"
                        "\"opts\":{\"mss\":1460}}\n");

    make_segment(&f, 2500001, "server", TEV_IN, CLIENT, 40000, SERVER, 8080, TCP_PSH | TCP_ACK, 5,
                 9, 512, "abc");
    f.ev.u.seg.retransmission = true;
    assert_string_equal(json_of(&f.ev),
                        "{\"t\":2.500001,\"ev\":\"seg\",\"host\":\"server\",\"dir\":\"in\","
                        "\"src\":\"10.7.0.2:40000\",\"dst\":\"10.7.0.1:8080\",\"flags\":\"P.\","
                        "\"seq\":5,\"ack\":9,\"len\":3,\"win\":512,\"rtx\":true}\n");
}

static void test_json_options_object_lists_each_option_present(void **state)
{
    struct seg_fixture f;
    make_segment(&f, 0, "client", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_SYN, 1, 0, 64240, NULL);
    struct wire_tcp_opts *o = &f.ev.u.seg.tcp.opts;
    o->has_wscale = true;
    o->wscale = 7;
    o->sack_permitted = true;
    o->has_ts = true;
    o->ts_val = 100;
    o->ts_ecr = 0;
    const char *j = json_of(&f.ev);
    assert_non_null(strstr(j, ",\"opts\":{\"mss\":1460,\"wscale\":7,\"sackok\":true,"
                              "\"ts\":[100,0]}}\n"));
    assert_true(strncmp(j, "{\"t\":0,\"ev\":\"seg\"", 17) == 0);
}

static void test_json_state_drop_timer_call_lines(void **state)
{
    struct tev s = base_event(TEV_STATE, 1000, "server");
    s.tuple = (struct tcp_tuple){.laddr = SERVER, .lport = 8080, .raddr = CLIENT, .rport = 40000};
    s.u.state.from = TCP_LISTEN;
    s.u.state.to = TCP_SYN_RECEIVED;
    s.u.state.cause = "rcvd SYN";
    assert_string_equal(json_of(&s),
                        "{\"t\":0.001,\"ev\":\"state\",\"host\":\"server\","
                        "\"conn\":\"10.7.0.1:8080-10.7.0.2:40000\",\"from\":\"LISTEN\","
                        "\"to\":\"SYN_RECEIVED\",\"cause\":\"rcvd SYN\"}\n");

    struct tev d = base_event(TEV_DROP, 0, "stack");
    d.u.drop.reason = WIRE_ERR_BAD_CHECKSUM;
    d.u.drop.dir = TEV_IN;
    assert_string_equal(json_of(&d), "{\"t\":0,\"ev\":\"drop\",\"host\":\"stack\","
                                     "\"reason\":\"bad_checksum\",\"dir\":\"in\"}\n");

    struct tev t = base_event(TEV_TIMER, 1000, "client");
    t.tuple = (struct tcp_tuple){.laddr = CLIENT, .lport = 40000, .raddr = SERVER, .rport = 8080};
    t.u.timer.which = TCP_TIMER_RTX;
    t.u.timer.action = TEV_TIMER_ARM;
    t.u.timer.deadline_us = 1001000;
    assert_string_equal(json_of(&t), "{\"t\":0.001,\"ev\":\"timer\",\"host\":\"client\","
                                     "\"conn\":\"10.7.0.2:40000-10.7.0.1:8080\",\"timer\":\"rtx\","
                                     "\"action\":\"arm\",\"deadline\":1.001,\"backoff\":0}\n");

    struct tev c = base_event(TEV_CALL, 0, "client");
    c.sd = 3;
    c.tuple = t.tuple;
    c.u.call.call = TCP_CALL_CONNECT;
    c.u.call.result = -ECONNREFUSED;
    assert_string_equal(json_of(&c),
                        "{\"t\":0,\"ev\":\"call\",\"host\":\"client\",\"sd\":3,"
                        "\"conn\":\"10.7.0.2:40000-10.7.0.1:8080\","
                        "\"call\":\"connect\",\"arg\":0,\"result\":\"ECONNREFUSED\"}\n");
    c.u.call.result = 0;
    assert_non_null(strstr(json_of(&c), "\"result\":0}"));
    c.u.call.call = TCP_CALL_SETSOCKOPT;
    c.u.call.arg = TCP_OPT_KEEPALIVE;
    assert_non_null(strstr(json_of(&c), "\"call\":\"setsockopt\",\"arg\":0,"
                                        "\"opt\":\"SO_KEEPALIVE\",\"result\":0}"));
}

static void test_json_link_kernel_icmp_lines(void **state)
{
    struct seg_fixture f;
    make_segment(&f, 0, "x", TEV_OUT, CLIENT, 40000, SERVER, 8080, TCP_FIN | TCP_ACK, 1, 1, 10,
                 NULL);
    struct tev l = base_event(TEV_LINK, 3000, "link");
    l.u.link.action = TEV_LINK_LOST;
    l.u.link.from = "client";
    l.u.link.to = "server";
    l.u.link.raw = f.pkt;
    l.u.link.raw_len = f.ev.u.seg.raw_len;
    assert_string_equal(json_of(&l), "{\"t\":0.003,\"ev\":\"link\",\"host\":\"link\","
                                     "\"action\":\"lost\",\"from\":\"client\",\"to\":\"server\","
                                     "\"bytes\":40,\"src\":\"10.7.0.2:40000\","
                                     "\"dst\":\"10.7.0.1:8080\",\"flags\":\"F.\",\"seq\":1,"
                                     "\"ack\":1,\"len\":0,\"win\":10}\n");

    struct tev k = base_event(TEV_KERNEL, 0, "kernel");
    k.tuple = (struct tcp_tuple){.laddr = SERVER, .lport = 8080, .raddr = CLIENT, .rport = 40000};
    k.u.kernel.state = TCP_TIME_WAIT;
    k.u.kernel.prev = TCP_FIN_WAIT_2;
    assert_string_equal(json_of(&k), "{\"t\":0,\"ev\":\"kernel\",\"host\":\"kernel\","
                                     "\"conn\":\"10.7.0.1:8080-10.7.0.2:40000\","
                                     "\"state\":\"TIME_WAIT\",\"prev\":\"FIN_WAIT_2\","
                                     "\"gone\":false}\n");

    struct tev i = base_event(TEV_ICMP, 0, NULL);
    i.u.icmp.src = SERVER;
    i.u.icmp.dst = CLIENT;
    i.u.icmp.id = 1;
    i.u.icmp.seqno = 2;
    assert_string_equal(json_of(&i), "{\"t\":0,\"ev\":\"icmp\",\"type\":\"echo\","
                                     "\"src\":\"10.7.0.1\",\"dst\":\"10.7.0.2\",\"id\":1,"
                                     "\"seq\":2}\n");
}

static void test_json_strings_are_escaped(void **state)
{
    struct tev s = base_event(TEV_STATE, 0, "a \"quoted\" host\\");
    s.u.state.from = TCP_CLOSED;
    s.u.state.to = TCP_LISTEN;
    s.u.state.cause = "line\nbreak\ttab\x01 and 中文";
    const char *j = json_of(&s);
    assert_non_null(strstr(j, "\"host\":\"a \\\"quoted\\\" host\\\\\""));
    assert_non_null(strstr(j, "\"cause\":\"line\\nbreak\\ttab\\u0001 and 中文\""));
    /* One event, one line. */
    assert_ptr_equal(strchr(j, '\n'), j + strlen(j) - 1);
}

/* Every JSON line parses with Python's json module (when python3 is there). */
static void test_json_lines_parse_as_json(void **state)
{
    int fd = make_temp("tcplab-test-trace");
    const char *path = temp_path;
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    struct seg_fixture sf;
    make_segment(&sf, 1, "client", TEV_OUT, CLIENT, 1, SERVER, 2, TCP_SYN, 1, 0, 1, NULL);
    trace_json_event(f, &sf.ev);
    struct tev s = base_event(TEV_STATE, 0, "weird\x1f\"\\");
    s.u.state.cause = "c";
    trace_json_event(f, &s);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' %s "
             "2>/dev/null",
             path);
    if (system("python3 -c 'import json' 2>/dev/null") != 0) {
        unlink(path);
        skip();
    }
    int rc = system(cmd);
    unlink(path);
    assert_int_equal(rc, 0);
}

/* ---- pcap ----------------------------------------------------------------------------------- */

static void test_pcap_records_segments_both_ways_and_dropped_packets(void **state)
{
    int fd = make_temp("tcplab-test-pcap");
    const char *path = temp_path;
    assert_true(fd >= 0);
    close(fd);
    char err[256] = "";
    struct pcap_out *p = pcap_out_open(path, err, sizeof err);
    assert_non_null(p);

    struct seg_fixture a, b, c;
    make_segment(&a, 1500000, "stack", TEV_IN, SERVER, 5555, CLIENT, 7, TCP_SYN, 1000, 0, 64240,
                 NULL);
    make_segment(&b, 1500100, "stack", TEV_OUT, CLIENT, 7, SERVER, 5555, TCP_SYN | TCP_ACK, 9000,
                 1001, 65535, NULL);
    make_segment(&c, 2000000, "stack", TEV_IN, SERVER, 5555, CLIENT, 7, TCP_PSH | TCP_ACK, 1001,
                 9001, 64240, "odd");
    pcap_out_event(p, &a.ev);
    pcap_out_event(p, &b.ev);
    struct tev drop = base_event(TEV_DROP, 1700000, "stack");
    drop.u.drop.reason = TCP_DROP_NOT_FOR_US;
    drop.u.drop.dir = TEV_IN;
    drop.u.drop.raw = c.pkt;
    drop.u.drop.raw_len = c.ev.u.seg.raw_len;
    pcap_out_event(p, &drop);
    struct tev state_ev = base_event(TEV_STATE, 1800000, "stack"); /* not a packet */
    pcap_out_event(p, &state_ev);
    pcap_out_event(p, &c.ev);
    pcap_out_close(p);

    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline(path, perr);
    assert_non_null(in);
    assert_int_equal(pcap_datalink(in), DLT_RAW);
    const struct seg_fixture *want[] = {&a, &b, &c, &c};
    const uint64_t times[] = {1500000, 1500100, 1700000, 2000000};
    struct pcap_pkthdr *h;
    const u_char *data;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pcap_next_ex(in, &h, &data), 1);
        assert_int_equal(h->caplen, want[i]->ev.u.seg.raw_len);
        assert_int_equal(h->len, want[i]->ev.u.seg.raw_len);
        assert_int_equal((uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec, times[i]);
        assert_memory_equal(data, want[i]->pkt, h->caplen);
    }
    assert_int_equal(pcap_next_ex(in, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(in);

    /* tshark, if installed, must read the file with checksum validation on
     * and find every checksum good. */
    if (system("command -v tshark >/dev/null 2>&1") != 0) {
        print_message("tshark not installed: skipping the tshark check\n");
        unlink(path);
        return;
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "tshark -n -r %s -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
             "-T fields -e ip.checksum.status -e tcp.checksum.status -e tcp.flags.str "
             "2>/dev/null",
             path);
    FILE *t = popen(cmd, "r");
    assert_non_null(t);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, t)) {
        /* status 1 is "Good" in tshark's checksum status fields */
        if (strncmp(line, "1\t1\t", 4) != 0)
            fail_msg("tshark packet %d: %s", n + 1, line);
        n++;
    }
    int rc = pclose(t);
    unlink(path);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 4);
}

static void test_pcap_packets_are_readable_before_the_file_is_closed(void **state)
{
    int fd = make_temp("tcplab-test-pcap");
    const char *path = temp_path;
    assert_true(fd >= 0);
    close(fd);
    char err[256] = "";
    struct pcap_out *p = pcap_out_open(path, err, sizeof err);
    assert_non_null(p);
    struct seg_fixture a;
    make_segment(&a, 5, "stack", TEV_IN, SERVER, 1, CLIENT, 2, TCP_SYN, 1, 0, 1, NULL);
    pcap_out_event(p, &a.ev);

    /* Wireshark opening the file while tcplab still runs sees the packet. */
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline(path, perr);
    assert_non_null(in);
    struct pcap_pkthdr *h;
    const u_char *data;
    assert_int_equal(pcap_next_ex(in, &h, &data), 1);
    assert_int_equal(h->caplen, a.ev.u.seg.raw_len);
    pcap_close(in);
    pcap_out_close(p);
    unlink(path);
}

static void test_pcap_open_reports_an_unwritable_path(void **state)
{
    char err[256] = "";
    struct pcap_out *p = pcap_out_open("/nonexistent-dir/x.pcap", err, sizeof err);
    assert_null(p);
    assert_true(strlen(err) > 0);
}

/* ---- fan-out ---------------------------------------------------------------------------- */

struct counter {
    int calls;
    int order;
};
static int call_order;

static void count_event(void *ctx, const struct tev *ev)
{
    struct counter *c = ctx;
    c->calls++;
    c->order = ++call_order;
}

static void test_fanout_calls_every_sink_in_order_and_ignores_extra_sinks(void **state)
{
    struct tev_fanout f = {0};
    struct counter c[TEV_FANOUT_MAX + 1] = {{0}};
    for (int i = 0; i < TEV_FANOUT_MAX + 1; i++)
        tev_fanout_add(&f, count_event, &c[i]);
    assert_int_equal(f.n, TEV_FANOUT_MAX);
    struct tev ev = base_event(TEV_STATE, 0, "x");
    call_order = 0;
    tev_fanout_event(&f, &ev);
    tev_fanout_event(&f, &ev);
    for (int i = 0; i < TEV_FANOUT_MAX; i++) {
        assert_int_equal(c[i].calls, 2);
        assert_int_equal(c[i].order, TEV_FANOUT_MAX + i + 1);
    }
    assert_int_equal(c[TEV_FANOUT_MAX].calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_syn_is_shown_like_tcpdump_with_relative_seq),
        cmocka_unit_test(test_text_syn_ack_acks_relative_to_the_other_sides_isn),
        cmocka_unit_test(test_text_data_segment_shows_sequence_range_and_length),
        cmocka_unit_test(test_text_pure_ack_omits_seq_as_tcpdump_does),
        cmocka_unit_test(test_text_fin_shows_its_seq_and_retransmissions_are_marked),
        cmocka_unit_test(test_text_absolute_sequence_numbers_when_not_relative),
        cmocka_unit_test(test_text_relative_numbers_wrap_past_2_to_the_32),
        cmocka_unit_test(test_text_new_syn_on_same_ports_starts_new_relative_numbers),
        cmocka_unit_test(test_text_seqmap_forgets_the_oldest_connection_when_full),
        cmocka_unit_test(test_text_shows_every_option_in_tcpdump_words),
        cmocka_unit_test(test_text_rfc2018_sack_blocks_relative_like_the_ack),
        cmocka_unit_test(test_text_state_change_names_both_states_and_the_cause),
        cmocka_unit_test(test_text_drop_names_the_reason_and_the_packet),
        cmocka_unit_test(test_text_shows_fired_timers_and_hides_arming_unless_asked),
        cmocka_unit_test(test_text_calls_show_arguments_and_errno_names),
        cmocka_unit_test(test_text_link_kernel_and_icmp_events),
        cmocka_unit_test(test_text_format_never_overruns_a_small_buffer),
        cmocka_unit_test(test_text_event_writes_one_line_per_event),
        cmocka_unit_test(test_json_segment_has_design_fields_with_absolute_numbers),
        cmocka_unit_test(test_json_options_object_lists_each_option_present),
        cmocka_unit_test(test_json_state_drop_timer_call_lines),
        cmocka_unit_test(test_json_link_kernel_icmp_lines),
        cmocka_unit_test(test_json_strings_are_escaped),
        cmocka_unit_test_teardown(test_json_lines_parse_as_json, remove_temp),
        cmocka_unit_test_teardown(test_pcap_records_segments_both_ways_and_dropped_packets,
                                  remove_temp),
        cmocka_unit_test_teardown(test_pcap_packets_are_readable_before_the_file_is_closed,
                                  remove_temp),
        cmocka_unit_test(test_pcap_open_reports_an_unwritable_path),
        cmocka_unit_test(test_fanout_calls_every_sink_in_order_and_ignores_extra_sinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
