/*
 * cmd_quiz.c — `tcplab quiz`: the questions of a scenario as a homework
 * sheet, and the grading of a learner's answer file as JSON (docs/quiz.md).
 *
 * Data flow: scn_parse_file -> scn_run (virtual link, recorded) ->
 * quiz_build (questions from the record) -> quiz_write_sheet, or
 * quiz_answers_read + quiz_write_json. The same questions as
 * `tcplab play --quiz` asks, in the same order.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "quiz.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: tcplab quiz [--lang en|zh] [--answers FILE] SCENARIO\n\n"
                 "Without --answers: print the scenario's quiz, every question numbered.\n"
                 "With --answers FILE: grade the answers (one \"ID ANSWER\" per line) and print\n"
                 "the result as one JSON object. Exit status 0 when every answer is right,\n"
                 "1 when one is wrong or missing, 2 for bad usage or a bad file.\n\n"
                 "  --lang en|zh     language of the questions and hints (default en)\n"
                 "  --answers FILE   the answers to grade\n");
}

int cmd_quiz(int argc, char **argv)
{
    static const struct option opts[] = {
        {"lang", required_argument, NULL, 'l'},
        {"answers", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool zh = false;
    const char *answers = NULL;
    optind = 1;
    opterr = 0;
    int c;
    /* Options may follow the scenario: `tcplab quiz LESSON --answers FILE`. */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (strcmp(optarg, "en") && strcmp(optarg, "zh")) {
                fprintf(stderr, "tcplab quiz: --lang must be en or zh, not '%s'\n", optarg);
                usage(stderr);
                return EXIT_USAGE;
            }
            zh = !strcmp(optarg, "zh");
            break;
        case 'A':
            answers = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "tcplab quiz: unknown option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, optind >= argc ? "tcplab quiz: which scenario? give a .tcps file\n"
                                       : "tcplab quiz: one scenario at a time\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "tcplab quiz: %s is a directory: give one scenario file\n", path);
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
    struct scn_timeline *tl = NULL;
    int rc = scn_run(scn, &ro, &res, &tl);
    if (rc < 0 || !tl) {
        fprintf(stderr, "tcplab quiz: could not run %s: %s\n", path,
                res.report ? res.report : strerror(-rc));
        scn_result_free(&res);
        scn_free(scn);
        return EXIT_NETWORK;
    }
    int status = 0;
    struct quiz qz;
    if (quiz_build(&qz, tl) < 0) {
        fprintf(stderr, "tcplab quiz: out of memory\n");
        status = EXIT_NETWORK;
    } else if (!answers) {
        quiz_write_sheet(&qz, scn_title(scn, zh ? "zh" : "en"), zh, stdout);
    } else {
        struct quiz_answers a;
        memset(&err, 0, sizeof err);
        if (quiz_answers_read(&qz, answers, &a, &err) < 0) {
            scn_error_print(&err, stderr);
            status = EXIT_USAGE;
        } else {
            struct quiz_score sc = quiz_write_json(&qz, &a, path, zh, stdout);
            status = sc.right == sc.questions ? 0 : EXIT_NETWORK;
            quiz_answers_free(&a);
        }
    }
    quiz_free(&qz);
    scn_timeline_free(tl);
    scn_result_free(&res);
    scn_free(scn);
    return status;
}
