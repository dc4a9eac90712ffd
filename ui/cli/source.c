/*
 * source.c — a timeline from a scenario or from a capture (source.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture.h"
#include "commands.h"
#include "source.h"

/* The connection list on the terminal, and the user's pick (-1: none). */
static int choose_conn(const struct cap_file *cf)
{
    fprintf(stderr, "connections in %s:\n", cap_name(cf));
    cap_print_conns(cf, stderr);
    for (int tries = 0; tries < 3; tries++) {
        fprintf(stderr, "which one? [1-%zu, q quits] ", cap_nconns(cf));
        char line[64];
        if (!fgets(line, sizeof line, stdin) || line[0] == 'q')
            return -1;
        char *end;
        long n = strtol(line, &end, 10);
        if (end != line && n >= 1 && (size_t)n <= cap_nconns(cf) &&
            cap_conn_usable(cap_conn_at(cf, (size_t)n - 1)))
            return (int)n - 1;
        fprintf(stderr, "  not a connection that can be followed\n");
    }
    return -1;
}

int ui_source_capture(const char *prog, const char *path, const char *conn, bool choose,
                      struct scn_timeline **tl)
{
    struct cap_error err = {0};
    struct cap_file *cf = cap_open(path, &err);
    if (!cf) {
        fprintf(stderr, "tcplab %s: %s\n", prog, err.msg);
        return EXIT_USAGE;
    }
    if (cap_skipped(cf)[0])
        fprintf(stderr, "tcplab %s: %s: %s\n", prog, path, cap_skipped(cf));
    int ci = cap_pick(cf, conn, &err);
    if (ci == CAP_ERR_AMBIGUOUS && choose && !conn)
        ci = choose_conn(cf);
    else if (ci < 0) {
        fprintf(stderr, "tcplab %s: %s\nconnections in %s:\n", prog, err.msg, path);
        cap_print_conns(cf, stderr);
    }
    if (ci < 0) {
        cap_free(cf);
        return EXIT_USAGE;
    }
    *tl = cap_timeline(cf, (size_t)ci, &err);
    cap_free(cf);
    if (!*tl) {
        fprintf(stderr, "tcplab %s: %s\n", prog, err.msg);
        return EXIT_USAGE;
    }
    return 0;
}

int ui_source_scenario(const char *prog, const char *path, struct scn_timeline **tl,
                       unsigned *failures)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "tcplab %s: %s is a directory: give one scenario file, e.g. "
                "scenarios/lessons/01-socket-calls.tcps\n",
                prog, path);
        return EXIT_USAGE;
    }
    struct scn_error err;
    memset(&err, 0, sizeof err);
    struct scn *scn = scn_parse_file(path, &err);
    if (!scn) {
        scn_error_print(&err, stderr);
        return EXIT_USAGE;
    }
    struct scn_run_opts ro = {0};
    struct scn_result res;
    memset(&res, 0, sizeof res);
    *tl = NULL;
    int rc = scn_run(scn, &ro, &res, tl);
    scn_free(scn);
    if (rc < 0 || !*tl) {
        fprintf(stderr, "tcplab %s: could not run %s: %s\n", prog, path,
                res.report ? res.report : strerror(-rc));
        scn_result_free(&res);
        return EXIT_NETWORK;
    }
    if (failures)
        *failures = res.failures;
    scn_result_free(&res);
    return 0;
}
