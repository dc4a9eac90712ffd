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
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture.h"
#include "commands.h"
#include "export.h"
#include "screen.h"
#include "source.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: tcplab export --svg|--txt|--html [-o FILE] [--lang en|zh] [--abs]\n"
                 "                     [--width N] [--conn FILTER] LESSON[@STEP]\n\n"
                 "Write a lesson's ladder diagram — segments, states, calls and the narration —\n"
                 "for slides and homework: SVG (projected or printed), plain text, or one HTML\n"
                 "page that steps through the lesson in a browser (keys → ← Home End l; no\n"
                 "server, no other file).\n\n"
                 "  LESSON         a .tcps scenario, a lesson number or name (4, 04-teardown),\n"
                 "                 or a pcap / pcapng capture\n"
                 "  @STEP          the ladder after STEP steps (default: the last); for --html\n"
                 "                 the step the page opens at\n"
                 "  -o FILE        write to FILE (default: standard output)\n"
                 "  --lang en|zh   narration language (default: from LANG / LC_ALL)\n"
                 "  --abs          absolute sequence numbers (default relative)\n"
                 "  --width N      columns of the text ladder (default 100)\n"
                 "  --conn FILTER  a capture's connection (see tcplab play --help)\n");
}

static bool locale_is_zh(void)
{
    const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return !strncmp(v, "zh", 2);
    }
    return false;
}

/* "4", "04", "04-teardown" in DIR: the lesson file whose name starts so. */
static bool find_in(const char *dir, const char *name, char *out, size_t cap)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return false;
    char want[64];
    char *end;
    long n = strtol(name, &end, 10);
    if (end != name && n >= 0 && n < 100)
        snprintf(want, sizeof want, "%02ld%s", n, end); /* 4 -> 04, 4-x -> 04-x */
    else
        snprintf(want, sizeof want, "%s", name);
    bool found = false;
    struct dirent *e;
    char best[256] = "";
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".tcps") ||
            strncmp(e->d_name, want, strlen(want)))
            continue;
        /* "04" must not match "040-..."; the next character ends the number. */
        char next = e->d_name[strlen(want)];
        if (next != '-' && next != '.' && next != 0)
            continue;
        if (!found || strcmp(e->d_name, best) < 0)
            snprintf(best, sizeof best, "%s", e->d_name);
        found = true;
    }
    closedir(dp);
    if (found)
        snprintf(out, cap, "%s/%s", dir, best);
    return found;
}

static const char *resolve(const char *arg, char *buf, size_t cap)
{
    struct stat st;
    if (stat(arg, &st) == 0 || strchr(arg, '/'))
        return arg;
    if (find_in("scenarios/lessons", arg, buf, cap) ||
        find_in(TCPLAB_SOURCE_DIR "/scenarios/lessons", arg, buf, cap))
        return buf;
    return arg;
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"svg", no_argument, NULL, 's'},         {"txt", no_argument, NULL, 't'},
        {"html", no_argument, NULL, 'H'},        {"output", required_argument, NULL, 'o'},
        {"lang", required_argument, NULL, 'l'},  {"abs", no_argument, NULL, 'a'},
        {"width", required_argument, NULL, 'w'}, {"conn", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    struct ui_export_opts eo = {.format = UI_EXPORT_TXT, .step = (size_t)-1, .width = 100};
    int nformats = 0;
    bool lang_set = false;
    const char *outpath = NULL, *conn = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 's':
            eo.format = UI_EXPORT_SVG;
            nformats++;
            break;
        case 't':
            eo.format = UI_EXPORT_TXT;
            nformats++;
            break;
        case 'H':
            eo.format = UI_EXPORT_HTML;
            nformats++;
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'l':
            if (strcmp(optarg, "en") && strcmp(optarg, "zh")) {
                fprintf(stderr, "tcplab export: --lang must be en or zh, not '%s'\n", optarg);
                usage(stderr);
                return EXIT_USAGE;
            }
            eo.zh = !strcmp(optarg, "zh");
            lang_set = true;
            break;
        case 'a':
            eo.absolute = true;
            break;
        case 'w':
            eo.width = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || eo.width < 40 || eo.width > 1000) {
                fprintf(stderr, "tcplab export: --width wants 40 to 1000 columns, not '%s'\n",
                        optarg);
                usage(stderr);
                return EXIT_USAGE;
            }
            break;
        case 'c':
            conn = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "tcplab export: unknown option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (nformats != 1) {
        fprintf(stderr, nformats ? "tcplab export: one format at a time\n"
                                 : "tcplab export: which format? --svg, --txt or --html\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (optind != argc - 1) {
        fprintf(stderr, optind >= argc ? "tcplab export: which lesson? e.g. 04 or a .tcps file\n"
                                       : "tcplab export: one lesson at a time\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!lang_set)
        eo.zh = locale_is_zh();
    ui_locale_init();

    /* LESSON@STEP: the step after the last '@', when it is a number. */
    char arg[PATH_MAX];
    snprintf(arg, sizeof arg, "%s", argv[optind]);
    char *at = strrchr(arg, '@');
    if (at && at[1] && strspn(at + 1, "0123456789") == strlen(at + 1)) {
        errno = 0;
        unsigned long long k = strtoull(at + 1, NULL, 10);
        eo.step = errno ? (size_t)-1 : (size_t)k;
        *at = 0;
    } else if (at && !at[1]) {
        fprintf(stderr, "tcplab export: '%s': a step number goes after '@'\n", argv[optind]);
        return EXIT_USAGE;
    }
    char found[PATH_MAX + 32];
    const char *path = resolve(arg, found, sizeof found);
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
