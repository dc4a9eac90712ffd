/*
 * pkt.h — packetdrill's script language (.pkt) run against the tcplab engine.
 *
 * A .pkt script plays the network and the application around one TCP
 * endpoint: system calls the application makes (socket, connect, write, ...)
 * with their expected results, segments the network delivers (`<`) and
 * segments the endpoint must send (`>`), each at a time. The engine under
 * test is tcplab's sans-I/O stack (stack/tcp.h) on a virtual clock, so a
 * script with minutes of timers runs in milliseconds.
 *
 * Data flow: pkt_parse_*() -> struct pkt_script -> pkt_run() drives one
 * stack, checks every expectation, and records every engine event (for
 * `tcplab play`, as a struct scn_timeline the player already understands).
 * The language, what is supported and what is a SKIP: docs/packetdrill.md.
 */
#ifndef TCPLAB_PKT_H
#define TCPLAB_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "event.h"
#include "tcp.h"

struct scn_timeline;

/* A malformed script: printed as "file:line:col: message". */
struct pkt_error {
    char file[256];
    int line, col; /* 1-based */
    char msg[256];
};
void pkt_error_print(const struct pkt_error *err, FILE *out);

/* How the engine and the runner are set up: a profile, then --set items,
 * then the script's own --options. */
struct pkt_config {
    struct stack_config stack;   /* the engine's defaults (addr is set from local_ip) */
    const char *profile;         /* "teaching", "linux", "freebsd" */
    uint64_t tolerance_us;       /* allowed lateness/earliness of an event (4 ms) */
    uint32_t local_ip, remote_ip;   /* 192.168.0.1, 192.0.2.1 as packetdrill */
    uint16_t bind_port, connect_port; /* 8080: bind(..., ...) and connect(..., ...) */
    uint16_t remote_port;        /* the script's port for connections it opens (50000) */
    uint32_t default_win;        /* window of an inbound packet without `win` (65535) */
};

/* The teaching profile: the engine's own defaults (RFC values). */
void pkt_config_defaults(struct pkt_config *cfg);
/* Apply a profile by name. 0, or -1 if the name is unknown. */
int pkt_config_profile(struct pkt_config *cfg, const char *name);
/* Apply "key=value,key=value" (docs/packetdrill.md lists the keys). 0, or -1
 * with a message in msg. */
int pkt_config_set(struct pkt_config *cfg, const char *items, char *msg, size_t msgsz);
/* One line per key, for --help and the docs. */
void pkt_config_keys(FILE *out);

struct pkt_script; /* a parsed script */

struct pkt_script *pkt_parse_file(const char *path, struct pkt_error *err);
struct pkt_script *pkt_parse_string(const char *name, const char *text, size_t len,
                                    struct pkt_error *err);
void pkt_script_free(struct pkt_script *s);
/* Symbols #ifdef sees are fixed at parse time: "tcplab" and the profile's
 * operating system ("Linux", "FreeBSD"). NULL = teaching (tcplab only). */
struct pkt_script *pkt_parse_file_for(const char *path, const char *profile,
                                      struct pkt_error *err);
struct pkt_script *pkt_parse_string_for(const char *name, const char *text, size_t len,
                                        const char *profile, struct pkt_error *err);

enum pkt_verdict { PKT_PASS, PKT_FAIL, PKT_SKIP };

struct pkt_result {
    enum pkt_verdict verdict;
    int line;      /* the line that failed or made the script a SKIP (0 = none) */
    char *report;  /* readable account (malloc'd): diagnostics or the SKIP reason */
    unsigned events;  /* script events executed */
};
void pkt_result_free(struct pkt_result *r);

/* Run a parsed script. `on_event` (may be NULL) sees every engine event as
 * it happens; `tl` (may be NULL) receives the recorded timeline, one step
 * per script event. Returns 0 when it ran (see res), negative errno if it
 * could not (out of memory). */
int pkt_run(const struct pkt_script *s, const struct pkt_config *cfg, tev_fn on_event,
            void *event_ctx, struct pkt_result *res, struct scn_timeline **tl);

/* Parse and run a file: the whole of `tcplab replay FILE.pkt` for one file.
 * Returns 0 ran, 2 bad file (err filled). */
int pkt_run_file(const char *path, const struct pkt_config *cfg, struct pkt_result *res,
                 struct scn_timeline **tl, struct pkt_error *err);

/* True if the path names a packetdrill script (ends in ".pkt"). */
bool pkt_is_script_path(const char *path);

/* `tcplab replay` for .pkt scripts (pkt_replay.c), its command line already
 * read (ui/cli/cmd_replay_pkt.c): run every script named in args (files, or
 * folders of them) with cfg; verbose prints every segment and state change.
 * Returns the exit status: 0 nothing failed, 1 a failure, 2 a bad file.
 * pkt_args_are_scripts() tells ui/cli/cmd_replay.c whether a command line is
 * for it (a .pkt file, a folder of them, or a --pkt-profile / --set option). */
int pkt_replay(const struct pkt_config *cfg, char *const *args, int nargs, bool verbose);
bool pkt_args_are_scripts(int argc, char **argv);

#endif
