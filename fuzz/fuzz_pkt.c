/*
 * fuzz_pkt.c — libFuzzer target for the packetdrill (.pkt) parser and runner.
 *
 * Scripts come from other people's suites: whatever the bytes,
 * pkt_parse_string() must return a script or an error with a position
 * (line and column >= 1, a message), never crash, hang or read out of
 * bounds. A small script that parses is also run against the engine on the
 * virtual clock, so the runner's handling of strange values (huge times,
 * sequence numbers near 2^32, odd option lists, calls on bad descriptors)
 * is walked too. The first byte picks the profile, so #ifdef branches of
 * both systems are reached. Seeds: tests/pkt/ and tests/pkt-bad/.
 *
 *   build-fuzz/fuzz/fuzz_pkt -max_total_time=60 tests/pkt/fig5 tests/pkt/matrix
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const profiles[] = {"teaching", "linux", "freebsd"};
    const char *profile = profiles[size ? data[0] % 3 : 0];
    struct pkt_error err;
    struct pkt_script *s = pkt_parse_string_for("fuzz.pkt", (const char *)data, size, profile, &err);
    if (!s) {
        if (err.line < 1 || err.col < 1 || !err.msg[0])
            abort(); /* an error always says where and what */
        return 0;
    }
    if (size <= 4096) {
        struct pkt_config cfg;
        pkt_config_defaults(&cfg);
        pkt_config_profile(&cfg, profile);
        struct pkt_result res;
        if (pkt_run(s, &cfg, NULL, NULL, &res, NULL) == 0) {
            if (res.verdict != PKT_PASS && (!res.report || !res.report[0]))
                abort(); /* a FAIL or SKIP always says why */
            pkt_result_free(&res);
        }
    }
    pkt_script_free(s);
    return 0;
}
