/*
 * timeline_out.h — a scenario's recorded run written out the way `listen`
 * writes live traffic: `--trace FILE` (JSON Lines with a start record) and
 * `--pcap FILE` (pcap, or pcapng with comments) for `tcplab play` and
 * `tcplab replay` (docs/traces.md).
 *
 * The run is recorded first (struct scn_timeline) and written after it, so
 * each step's narration can go on the step's first packet as a pcapng
 * comment, in the language the player shows, ahead of the state changes the
 * event stream reports.
 */
#ifndef TCPLAB_TIMELINE_OUT_H
#define TCPLAB_TIMELINE_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario.h"

struct timeline_out {
    const char *trace_path; /* --trace, or NULL; "-" is standard output */
    const char *pcap_path;  /* --pcap, or NULL; "-" is standard output (pcapng) */
    bool zh;                /* narration in Chinese (else English) */
    const char *source;     /* the command, for the start record ("play", "replay") */
    const char *scenario;   /* the file, for the start record */
    uint64_t seed;          /* the run's seed (0: not known) */
    /* The wall clock (µs since 1970) of the run's time 0: on TUN the moment
     * it started; on the virtual link 0, and then captures start at the
     * fixed epoch PCAP_OUT_VIRTUAL_EPOCH_US. */
    uint64_t wall_t0_us;
};

/* The wall clock now, in microseconds since 1970 (CLOCK_REALTIME). */
uint64_t timeline_out_wall_now(void);

/* Write the files asked for. Returns 0, or -1 after a message on stderr
 * ("tcplab PROG: cannot write ..."). */
int timeline_out_write(const struct scn_timeline *tl, const struct timeline_out *o,
                       const char *prog);

#endif
