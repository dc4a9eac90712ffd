/*
 * cmd_lessons.c — `tcplab lessons`: list the lessons tcplab can find
 * (lessons.h), with their number, whether they also run against the kernel
 * (K, `tun yes`), the short name `tcplab play` accepts, and the title in the
 * locale's language.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "lessons.h"
#include "scenario.h"

struct lessons_args {
    const char *lang;
    bool names, paths;
};

static const struct cli_opt lessons_opts[] = {
    CLI_CHOICE("lang", 0, struct lessons_args, lang, "en|zh",
               "the titles' language (default: from LANG / LC_ALL)", "en", "zh"),
    CLI_FLAG("names", 0, struct lessons_args, names,
             "only the short names, one a line (for shell completion)"),
    CLI_FLAG("paths", 0, struct lessons_args, paths, "only the files' paths, one a line"),
    CLI_END,
};

const struct cli_command lessons_command = {
    .name = "lessons",
    .synopsis = "[--lang en|zh] [--names | --paths]",
    .summary = "List the lessons: number, K if it also runs against the kernel's sockets\n"
               "(play --tun), the short name `tcplab play` takes, and the title.",
    .groups = {{NULL, lessons_opts}},
    .max_args = 0,
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cmd_lessons(int argc, char **argv)
{
    struct lessons_args a = {0};
    struct cli_parsed p;
    int r = cli_parse(&lessons_command, argc, argv, (void *[]){&a}, &p);
    if (r != CLI_OK)
        return cli_exit_status(r);
    bool zh = a.lang ? !strcmp(a.lang, "zh") : ui_locale_is_zh();

    char root[PATH_MAX], dir[PATH_MAX + 16];
    if (ui_lesson_root(root, sizeof root) < 0) {
        fprintf(stderr, "tcplab lessons: no lessons found: set TCPLAB_DATA to the directory "
                        "holding lessons/ (share/tcplab of the installation)\n");
        return EXIT_NETWORK;
    }
    snprintf(dir, sizeof dir, "%s/lessons", root);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "tcplab lessons: cannot read %s: %s\n", dir, strerror(errno));
        return EXIT_NETWORK;
    }
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < sizeof names / sizeof names[0]) {
        size_t len = strlen(e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".tcps") && (names[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);

    int status = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *stem = names[i];
        stem[strlen(stem) - 5] = 0;
        if (a.names) {
            printf("%s\n", stem);
            continue;
        }
        if (a.paths) {
            printf("%s\n", path);
            continue;
        }
        struct scn_error err;
        memset(&err, 0, sizeof err);
        struct scn *s = scn_parse_file(path, &err);
        if (!s) {
            scn_error_print(&err, stderr);
            status = EXIT_USAGE;
            continue;
        }
        const char *dash = strchr(stem, '-');
        int num = atoi(stem);
        printf("%02d  %s  %-22s %s\n", num, scn_supports_tun(s) ? "K" : " ", dash ? dash + 1 : stem,
               scn_title(s, zh ? "zh" : "en"));
        scn_free(s);
    }
    if (!a.names && !a.paths)
        printf("\n%zu lessons in %s. K: also against the kernel (tcplab play --tun N).\n"
               "Play one: tcplab play N (or its name).\n",
               n, dir);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return status;
}
