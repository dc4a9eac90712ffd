/*
 * test_ktrace.c — the lines of the sock:inet_sock_set_state tracepoint as
 * Linux 6.x writes them in a trace_pipe (tun/ktrace.h): fields read, states
 * mapped, anything else refused. The lines below were taken from a real
 * trace (loopback, then edited only in the addresses).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ktrace.h"

static void test_a_state_change_line_is_read_field_by_field(void **state)
{
    (void)state;
    const char *line =
        "         python3-4063    [001] ..s2.  2486.146883: inet_sock_set_state: family=AF_INET "
        "protocol=IPPROTO_TCP sport=9123 dport=57502 saddr=10.7.0.1 daddr=10.7.0.2 "
        "saddrv6=::ffff:10.7.0.1 daddrv6=::ffff:10.7.0.2 oldstate=TCP_ESTABLISHED "
        "newstate=TCP_FIN_WAIT1";
    struct ktrace_line l;
    assert_true(ktrace_parse_line(line, &l));
    assert_int_equal(l.ts_us, 2486146883ull);
    assert_int_equal(l.t.laddr, 0x0a070001);
    assert_int_equal(l.t.raddr, 0x0a070002);
    assert_int_equal(l.t.lport, 9123);
    assert_int_equal(l.t.rport, 57502);
    assert_int_equal(l.oldstate, 1); /* TCP_ESTABLISHED */
    assert_int_equal(l.newstate, 4); /* TCP_FIN_WAIT1 */
}

static void test_every_linux_state_name_is_known(void **state)
{
    (void)state;
    static const char *const names[] = {"TCP_ESTABLISHED", "TCP_SYN_SENT",   "TCP_SYN_RECV",
                                        "TCP_FIN_WAIT1",   "TCP_FIN_WAIT2",  "TCP_TIME_WAIT",
                                        "TCP_CLOSE",       "TCP_CLOSE_WAIT", "TCP_LAST_ACK",
                                        "TCP_LISTEN",      "TCP_CLOSING",    "TCP_NEW_SYN_RECV"};
    for (int s = 0; s < 12; s++) {
        char line[400];
        snprintf(line, sizeof line,
                 "  <idle>-0 [000] ..s1. 1.000001: inet_sock_set_state: family=AF_INET "
                 "protocol=IPPROTO_TCP sport=1 dport=2 saddr=10.7.0.1 daddr=10.7.0.2 "
                 "saddrv6=::1 daddrv6=::1 oldstate=%s newstate=TCP_CLOSE",
                 names[s]);
        struct ktrace_line l;
        assert_true(ktrace_parse_line(line, &l));
        assert_int_equal(l.oldstate, s + 1);
        assert_int_equal(l.newstate, 7);
    }
}

static void test_other_lines_are_refused(void **state)
{
    (void)state;
    struct ktrace_line l;
    assert_false(ktrace_parse_line("", &l));
    assert_false(ktrace_parse_line("# tracer: nop", &l));
    /* another event of the sock group */
    assert_false(ktrace_parse_line(
        "  x-1 [000] ..... 5.000000: sock_recv_length: sk address = 0xffff, family = AF_INET", &l));
    /* a state name from the future, an address cut short */
    assert_false(ktrace_parse_line(
        "  x-1 [000] ..... 5.000000: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP "
        "sport=1 dport=2 saddr=10.7.0.1 daddr=10.7.0.2 oldstate=TCP_BOUND newstate=TCP_CLOSE",
        &l));
    assert_false(ktrace_parse_line(
        "  x-1 [000] ..... 5.000000: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP "
        "sport=1 dport=2 saddr=10.7. daddr=10.7.0.2 oldstate=TCP_CLOSE newstate=TCP_SYN_SENT",
        &l));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_state_change_line_is_read_field_by_field),
        cmocka_unit_test(test_every_linux_state_name_is_known),
        cmocka_unit_test(test_other_lines_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
