/*
 * netopts.h — the "net options" shared by `tcplab listen` and `tcplab
 * connect` (docs/architecture.md), and the event sinks they ask for.
 *
 *   --tun NAME | --dev NAME  --kernel-addr A.B.C.D/N  --addr A.B.C.D  --mtu N
 *   --gateway A.B.C.D  --msl SECONDS  --syn-retries N  --pcap FILE  --trace FILE.jsonl
 *   --quiet
 *
 * Parsing fills a tun_loop_config; opening the sinks wires the text trace
 * (stderr unless --quiet), the JSON Lines file and the pcap file to the loop.
 */
#ifndef TCPLAB_NETOPTS_H
#define TCPLAB_NETOPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "tun_loop.h"
#include "trace.h"

struct netopts {
    struct tun_loop_config loop; /* device, stack and loop settings */
    const char *pcap_path;       /* --pcap, or NULL */
    const char *trace_path;      /* --trace, or NULL */
    bool quiet;                  /* --quiet: no text trace on stderr */
    bool no_offload;             /* --no-offload: plain packets, no vnet header */
    bool ui;                     /* --ui (listen only) */
    bool netns;                  /* --netns (listen only): a network namespace of its own */
    const char *run;             /* --run CMD (listen only): a client to run, then stop */
    bool mtu_set;                /* --mtu given: the MSS follows it */
    bool tun_set, kernel_addr_set, addr_set; /* given on the command line */
    /* --gateway: the stack's default route. On a TUN device there is no
     * link layer, so every packet goes into the device whatever its next
     * hop; a gateway is what lets the stack address hosts beyond the
     * subnet, which the kernel at the gateway then routes. 0: none. */
    uint32_t gateway;
    const char *source;          /* the command ("listen"), for the trace's start record */
    char *args[16];              /* positional arguments, in order */
    int nargs;
};

/* The net options as a table for cli_parse (cli.h); its base is the struct
 * netopts. A command puts it in one of its groups ("net options"). */
extern const struct cli_opt netopts_table[];

/* True if the stack may send to addr: on the subnet, or through --gateway. */
bool netopts_reachable(const struct netopts *o, uint32_t addr);

/* The defaults (tun_loop_config_defaults), before parsing. */
void netopts_defaults(struct netopts *o);

/* cli_parse, then the positional arguments into o->args and the checks that
 * need every option (MSS from --mtu, --addr in --kernel-addr's subnet). The
 * group whose table is netopts_table must have `o` as its base. */
enum cli_result netopts_parse(struct netopts *o, int argc, char **argv, const struct cli_command *c,
                              void *const *bases);

/* The sinks asked for on the command line. */
struct netopts_sinks {
    struct tev_fanout fanout; /* every event goes here */
    struct trace_text text;
    FILE *json;
    struct pcap_out *pcap;
};

/* Open the files and fill cfg->on_event / on_packet of o->loop; with
 * `extra` (may be NULL) one more event sink is added (the live UI).
 * Returns 0, or -1 with a message on stderr (exit 2: bad file argument). */
int netopts_open_sinks(struct netopts *o, struct netopts_sinks *s, tev_fn extra, void *extra_ctx);
void netopts_close_sinks(struct netopts_sinks *s);
/* Once the loop exists: capture times are the wall clock (CLOCK_REALTIME)
 * of loop time 0 plus the loop's time, so a --pcap file lines up with
 * `tcpdump -i tl0` taken at the same moment. */
void netopts_sinks_anchor(struct netopts_sinks *s, uint64_t loop_now_us);
/* Push buffered trace lines to the file (once per loop wake-up, so a reader
 * of the JSON file sees events within one wake-up, at one write each). */
void netopts_flush_sinks(struct netopts_sinks *s);

#endif
