/*
 * scenario.h — the .tcps scenario language: parse a file, run it, and record
 * what happened as a timeline the UI can play back and step through.
 *
 * Data flow (docs/architecture.md): scenario file -> scn_parse_*() ->
 * scn_run() drives the hosts (stacks on the virtual link, or kernel sockets
 * on a TUN device)
 * -> every event goes to the caller's sink and into a `struct scn_timeline`.
 * `tcplab replay` checks expectations and golden traces; `tcplab play`
 * animates the timeline; neither re-runs the network to step back.
 */
#ifndef TCPLAB_SCENARIO_H
#define TCPLAB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* The parser reports up to this many problems per file (it goes on at the
 * next line after each), then stops. */
#define SCN_MAX_ERRORS 10

/* One more problem after the first (struct scn_error). */
struct scn_diag {
    int line, col; /* 1-based */
    char msg[256];
    char hint[256];
};

/* The problems in a scenario file: each printed as "file:line:col: message"
 * and, if present, "  hint: ..." on the next line. The first is inline
 * (line, col, msg, hint); the others, in file order, in more[]. */
struct scn_error {
    char file[256];
    int line, col;      /* 1-based */
    char msg[256];
    char hint[256];
    unsigned nmore; /* problems in more[] */
    struct scn_diag more[SCN_MAX_ERRORS - 1];
};
/* Problems recorded: 0 when none, else 1 + nmore. */
unsigned scn_error_count(const struct scn_error *err);
/* Print every problem as above to `out` (a FILE *), and, when the parser
 * stopped at SCN_MAX_ERRORS, a line saying so. */
void scn_error_print(const struct scn_error *err, void *out);

struct scn;   /* a parsed scenario */

struct scn *scn_parse_file(const char *path, struct scn_error *err);
struct scn *scn_parse_string(const char *name, const char *text, size_t len,
                             struct scn_error *err);
void scn_free(struct scn *s);

/* Title in "en" or "zh" (falls back to the other language, then the file). */
const char *scn_title(const struct scn *s, const char *lang);
/* True if the scenario can run against kernel sockets with --tun. */
bool scn_supports_tun(const struct scn *s);

/* Levenshtein distance between two short names (99 when either is over 40
 * bytes): what the parser's and the command line's "did you mean" measure. */
size_t scn_edit_distance(const char *a, const char *b);

struct scn_run_opts {
    uint64_t seed;          /* PRNG seed for the virtual link and ISNs (0 = the file's / default) */
    bool tun;               /* run the peer as kernel sockets on a TUN device */
    tev_fn on_event;        /* every event, as it happens (may be NULL) */
    void *event_ctx;
};

/* One host as the UI labels it. */
struct scn_host {
    char name[32];          /* "client", "server" */
    char label[64];         /* "10.7.0.2:40312" once known, else the address */
    bool kernel;            /* kernel sockets (with --tun), not the tcplab stack */
    char kind[16];          /* "" (then kernel says it), or what the end is, e.g. "captured" */
    uint32_t addr;
};

/* A question the scenario asks before its step plays (`ask en|zh`,
 * docs/scenarios.md "Quiz questions"): the text and choices in both
 * languages (one may be missing: the other is used), the right choice. */
#define SCN_ASK_MAX_CHOICES 4
struct scn_ask {
    char *text_en, *text_zh;
    size_t nchoices;
    char *choice_en[SCN_ASK_MAX_CHOICES], *choice_zh[SCN_ASK_MAX_CHOICES];
    int correct; /* index of the right choice */
};

/* A statement of the scenario with its narration: the unit the UI steps by. */
struct scn_step {
    int line;               /* line in the file */
    char *text;             /* the statement as written, e.g. "client: connect server:8080" */
    char *say_en, *say_zh;  /* narration attached to this step (may be NULL) */
    size_t first_event;     /* events[first_event .. end_event) happened during this step */
    size_t end_event;
    bool failed;            /* an expectation of this step did not hold */
    size_t nasks;           /* hand-written quiz questions asked before this step */
    struct scn_ask *asks;
    char *hint_en, *hint_zh; /* misconception hint shown when a question of this step is missed */
};

struct scn_timeline {
    char *title_en, *title_zh;
    bool tun;                       /* ran against kernel sockets */
    size_t nhosts;
    struct scn_host hosts[8];
    size_t nevents;
    struct tev **events;            /* owned clones, in order */
    size_t nsteps;
    struct scn_step *steps;
};
void scn_timeline_free(struct scn_timeline *tl);

struct scn_result {
    unsigned expectations;  /* expectations checked */
    unsigned failures;      /* expectations that did not hold (0 = pass) */
    char *report;           /* readable account of the failures (malloc'd, may be NULL) */
};
void scn_result_free(struct scn_result *r);

/* Run a parsed scenario. If `tl` is not NULL it receives the timeline.
 * Returns 0 when it ran (pass or fail: see res), or a negative errno when it
 * could not run (e.g. -EPERM: no TUN device allowed), with a message in
 * res->report. */
int scn_run(const struct scn *s, const struct scn_run_opts *opts, struct scn_result *res,
            struct scn_timeline **tl);

#endif
