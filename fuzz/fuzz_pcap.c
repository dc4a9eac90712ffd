/*
 * fuzz_pcap.c — libFuzzer target for the capture reader (capture/).
 *
 * A capture file is untrusted input: whatever the bytes, cap_open_stream()
 * must return the connections or an error with a message, never crash,
 * hang or read out of bounds. Every connection that can be followed is
 * then turned into a timeline and played through the UI's model and the
 * text trace, so the inferred states, the narration and the lost-copy
 * look-ahead are walked too. Seeds: fuzz/corpus/pcap/ (tcpdump captures of
 * a handshake, data, teardown and a refused SYN; pcap and pcapng).
 *
 *   cmake -DCMAKE_C_COMPILER=clang -DTCPLAB_FUZZ=ON -B build-fuzz && \
 *   cmake --build build-fuzz --target fuzz_pcap && \
 *   build-fuzz/fuzz/fuzz_pcap -max_total_time=60 fuzz/corpus/pcap
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "capture.h"
#include "player.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp)
        return 0;
    struct cap_error err = {0};
    struct cap_file *cf = cap_open_stream(fp, "fuzz.pcap", &err);
    if (!cf) {
        if (err.code >= 0 || !err.msg[0])
            abort(); /* a failure always says what and why */
        return 0;
    }
    FILE *sink = fopen("/dev/null", "w");
    for (size_t i = 0; i < cap_nconns(cf) && i < 8; i++) {
        if (!cap_conn_usable(cap_conn_at(cf, i)))
            continue;
        struct scn_timeline *tl = cap_timeline(cf, i, &err);
        if (!tl)
            continue;
        struct ui_model m;
        ui_model_init(&m, tl);
        ui_model_apply_until(&m, tl->nevents);
        struct trace_text tt;
        trace_text_init(&tt, sink, true);
        for (size_t e = 0; e < tl->nevents && sink; e++)
            trace_text_event(&tt, tl->events[e]);
        ui_model_free(&m);
        scn_timeline_free(tl);
    }
    if (sink)
        fclose(sink);
    cap_free(cf);
    return 0;
}
