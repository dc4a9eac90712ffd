/*
 * cmd_export.c — `tcplab export`: a lesson (or a capture) written out for
 * slides and homework as plain text, SVG or one self-contained HTML page.
 *
 * Data flow: source.c (the scenario run once on the virtual link, or the
 * capture's connection) -> timeline -> ui_export_build (export.h) -> one
 * writer. LESSON is a file, or a lesson's number or name ("4", "04",
 * "04-teardown") looked up in scenarios/lessons/.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture.h"
#include "cli.h"
#include "commands.h"
#include "lessons.h"
#include "export.h"
#include "screen.h"
#include "source.h"

struct export_args {
    bool svg, txt, html, abs;
    const char *output, *lang, *conn;
    long width;
};

static const struct cli_opt export_opts[] = {
    CLI_FLAG("svg", 0, struct export_args, svg, "SVG, for slides or print"),
    CLI_FLAG("txt", 0, struct export_args, txt, "plain text"),
    CLI_FLAG("html", 0, struct export_args, html,
             "one self-contained HTML page that steps through the lesson"),
    CLI_OUTPUT("output", 'o', struct export_args, output, "FILE",
               "write to FILE (default: standard output)"),
    CLI_CHOICE("lang", 0, struct export_args, lang, "en|zh",
               "narration language (default: from LANG / LC_ALL)", "en", "zh"),
    CLI_FLAG("abs", 0, struct export_args, abs, "absolute sequence numbers (default relative)"),
    CLI_LONG("width", 0, struct export_args, width, "N", 40, 1000,
             "columns of the text ladder (default 100)"),
    CLI_STRING("conn", 0, struct export_args, conn, "FILTER",
               "a capture's connection (see tcplab play --help)"),
    CLI_END,
};

const struct cli_command export_command = {
    .name = "export",
    .synopsis = "--svg|--txt|--html [-o FILE] [--lang en|zh] [--abs] [--width N] "
                "[--conn FILTER] LESSON[@STEP]",
    .summary =
        "Write a lesson's ladder diagram (segments, states, calls and the narration)\n"
        "for slides and homework: SVG (projected or printed), plain text, or one HTML\n"
        "page that steps through the lesson in a browser (keys \u2192 \u2190 Home End l; no\n"
        "server, no other file). LESSON is a .tcps scenario, a lesson number or name\n"
        "(4, 04-teardown), or a pcap / pcapng capture; @STEP is the ladder after STEP\n"
        "steps (default: the last; for --html the step the page opens at).",
    .groups = {{NULL, export_opts}},
    .min_args = 1,
    .max_args = 1,
    .args_what = "which lesson? e.g. 04 or a .tcps file",
};

int cmd_export(int argc, char **argv)
{
    struct export_args xa = {.width = 100};
    struct cli_parsed p;
    enum cli_result r = cli_parse(&export_command, argc, argv, (void *[]){&xa}, &p);
    if (r != CLI_OK)
        return cli_exit_status(r);
    int nformats = xa.svg + xa.txt + xa.html;
    if (nformats != 1)
        return cli_usage_error(&export_command, nformats ? "one format at a time"
                                                         : "which format? --svg, --txt or --html");
    struct ui_export_opts eo = {.format = xa.svg    ? UI_EXPORT_SVG
                                          : xa.html ? UI_EXPORT_HTML
                                                    : UI_EXPORT_TXT,
                                .step = (size_t)-1,
                                .width = (int)xa.width,
                                .absolute = xa.abs};
    const char *outpath = cli_is_stdout(xa.output) ? NULL : xa.output, *conn = xa.conn;
    bool lang_set = xa.lang != NULL;
    eo.zh = lang_set && !strcmp(xa.lang, "zh");
    if (!lang_set)
        eo.zh = ui_locale_is_zh();
    ui_locale_init();

    /* LESSON@STEP: the step after the last '@', when it is a number. */
    char arg[PATH_MAX];
    snprintf(arg, sizeof arg, "%s", p.args[0]);
    char *at = strrchr(arg, '@');
    if (at && at[1] && strspn(at + 1, "0123456789") == strlen(at + 1)) {
        errno = 0;
        unsigned long long k = strtoull(at + 1, NULL, 10);
        eo.step = errno ? (size_t)-1 : (size_t)k;
        *at = 0;
    } else if (at && !at[1]) {
        fprintf(stderr, "tcplab export: '%s': a step number goes after '@'\n", p.args[0]);
        return EXIT_USAGE;
    }
    char found[PATH_MAX + 32];
    const char *path = ui_lesson_find(arg, found, sizeof found) == 0 ? found : arg;
    bool capture = cap_is_capture(path);
    if (conn && !capture) {
        fprintf(stderr, "tcplab export: --conn is for a capture (pcap / pcapng); %s is not one\n",
                path);
        return EXIT_USAGE;
    }
    struct scn_timeline *tl = NULL;
    unsigned failures = 0;
    int rc = capture ? ui_source_capture("export", path, conn, false, &tl)
                     : ui_source_scenario("export", path, &tl, &failures);
    if (rc != 0)
        return rc;
    if (eo.step != (size_t)-1 && eo.step > tl->nsteps) {
        fprintf(stderr, "tcplab export: %s has %zu steps; step %zu does not exist\n", path,
                tl->nsteps, eo.step);
        scn_timeline_free(tl);
        return EXIT_USAGE;
    }
    if (eo.step == (size_t)-1)
        eo.step = tl->nsteps;
    eo.source = path;
    eo.mode = capture ? "CAPTURE" : "VIRTUAL";

    struct ui_export_doc doc;
    if (ui_export_build(&doc, tl, eo.absolute) != 0) {
        fprintf(stderr, "tcplab export: out of memory\n");
        scn_timeline_free(tl);
        return EXIT_NETWORK;
    }
    FILE *out = stdout;
    if (outpath && strcmp(outpath, "-")) {
        out = fopen(outpath, "w");
        if (!out) {
            fprintf(stderr, "tcplab export: cannot write %s: %s\n", outpath, strerror(errno));
            ui_export_free(&doc);
            scn_timeline_free(tl);
            return EXIT_USAGE;
        }
    }
    rc = ui_export_write(out, &doc, &eo);
    if (out != stdout && fclose(out) != 0 && rc == 0)
        rc = -errno;
    if (rc != 0)
        fprintf(stderr, "tcplab export: writing %s failed: %s\n", outpath ? outpath : "output",
                strerror(-rc));
    if (failures)
        fprintf(stderr, "tcplab export: %u expectation(s) of %s did not hold\n", failures, path);
    ui_export_free(&doc);
    scn_timeline_free(tl);
    return rc ? EXIT_NETWORK : 0;
}
