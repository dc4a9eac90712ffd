/*
 * cmd_quiz.c — `tcplab quiz`: the questions of a scenario as a homework
 * sheet, and the grading of a learner's answer file as JSON (docs/quiz.md).
 *
 * Data flow: scn_parse_file -> scn_run (virtual link, recorded) ->
 * quiz_build (questions from the record) -> quiz_write_sheet, or
 * quiz_answers_read + quiz_write_json. The same questions as
 * `tcplab play --quiz` asks, in the same order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "lessons.h"
#include "quiz.h"
#include "source.h"

struct quiz_args {
    const char *lang, *answers;
};

static const struct cli_opt quiz_opts[] = {
    CLI_CHOICE("lang", 0, struct quiz_args, lang, "en|zh",
               "language of the questions and hints (default en)", "en", "zh"),
    CLI_STRING("answers", 0, struct quiz_args, answers, "FILE", "the answers to grade"),
    CLI_END,
};

const struct cli_command quiz_command = {
    .name = "quiz",
    .synopsis = "[--lang en|zh] [--answers FILE] SCENARIO",
    .summary = "Without --answers: print the scenario's quiz, every question numbered.\n"
               "With --answers FILE: grade the answers (one \"ID ANSWER\" per line) and print\n"
               "the result as one JSON object. SCENARIO is a file or a lesson (as for play).",
    .groups = {{NULL, quiz_opts}},
    .min_args = 1,
    .max_args = 1,
    .args_what = "which scenario? give a lesson number, a name or a .tcps file",
    .epilogue = "Exit status 0 when every answer is right, 1 when one is wrong or missing,\n"
                "2 for bad usage or a bad file.\n",
};

int cmd_quiz(int argc, char **argv)
{
    struct quiz_args qa = {0};
    struct cli_parsed p;
    /* Options may follow the scenario: `tcplab quiz LESSON --answers FILE`. */
    enum cli_result r = cli_parse(&quiz_command, argc, argv, (void *[]){&qa}, &p);
    if (r != CLI_OK)
        return cli_exit_status(r);
    bool zh = qa.lang && !strcmp(qa.lang, "zh");
    const char *answers = qa.answers;
    char found[4096];
    const char *path = ui_lesson_find(p.args[0], found, sizeof found) == 0 ? found : p.args[0];
    struct scn_timeline *tl = NULL;
    int rc = ui_source_scenario("quiz", path, &tl, NULL);
    if (rc != 0)
        return rc;
    int status = 0;
    struct quiz qz;
    if (quiz_build(&qz, tl) < 0) {
        fprintf(stderr, "tcplab quiz: out of memory\n");
        status = EXIT_NETWORK;
    } else if (!answers) {
        const char *first = zh ? tl->title_zh : tl->title_en, *other = zh ? tl->title_en : tl->title_zh;
        quiz_write_sheet(&qz, first ? first : other ? other : path, zh, stdout);
    } else {
        struct quiz_answers a;
        struct scn_error err;
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
    return status;
}
