/*
 * fuzz_scenario.c — libFuzzer target for the .tcps parser.
 *
 * The parser reads files people write by hand, and files are untrusted
 * input: whatever the bytes, scn_parse_string() must return a scenario or
 * an error with a position, never crash, hang or read out of bounds. The
 * seed corpus is the real scenarios (scenarios/lessons, scenarios/regress).
 * A scenario that parses is also checked for --tun support and freed, so
 * every path through the parsed form is walked.
 *
 *   cmake -DCMAKE_C_COMPILER=clang -DTCPLAB_FUZZ=ON -B build-fuzz && \
 *   cmake --build build-fuzz --target fuzz_scenario && \
 *   build-fuzz/fuzz/fuzz_scenario -max_total_time=60 scenarios/lessons scenarios/regress
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scn_error err;
    struct scn *s = scn_parse_string("fuzz.tcps", (const char *)data, size, &err);
    if (s) {
        (void)scn_title(s, "en");
        (void)scn_title(s, "zh");
        (void)scn_supports_tun(s);
        scn_free(s);
    } else if (err.line < 0 || err.col < 0) {
        abort(); /* a position is always reported */
    }
    return 0;
}
