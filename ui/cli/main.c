/*
 * main.c — the tcplab program: find the subcommand and hand over to it.
 * Every command parses its own options with the shared parser (cli.h);
 * `tcplab --help` prints all of them from the same tables.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
    int (*run)(int argc, char **argv);
    const struct cli_command *cli;
    const char *what;
};

static const struct command commands[] = {
    {cmd_lessons, &lessons_command, "list the lessons (K: also against the kernel)"},
    {cmd_play, &play_command, "animate a scenario in the terminal"},
    {cmd_replay, &replay_command, "run scenarios headless and check them"},
    {cmd_listen, &listen_command, "the stack as a server on a TUN device"},
    {cmd_connect, &connect_command, "the stack as a client, like nc"},
    {cmd_quiz, &quiz_command, "a scenario's questions, or grade answers to them"},
    {cmd_export, &export_command, "a lesson's ladder as SVG, text or HTML, for slides"},
    {cmd_demo, &demo_command, "two stacks on the virtual link, as a text trace"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(name, commands[i].cli->name))
            return &commands[i];
    return NULL;
}

static void short_usage(FILE *out)
{
    fprintf(out, "usage: tcplab COMMAND [OPTIONS] [ARGS]   (tcplab --help for every option)\n"
                 "commands:");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, " %s", commands[i].cli->name);
    fputc('\n', out);
}

/* Every command with every option: the whole command line on one page. */
static void full_help(FILE *out)
{
    fprintf(out, "usage: tcplab COMMAND [OPTIONS] [ARGS]\n\n"
                 "tcplab teaches TCP by letting you watch a real TCP implementation work.\n"
                 "Options take --opt value or --opt=value, in any order with the arguments.\n");
    const struct cli_opt *shared = NULL;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const struct cli_command *c = commands[i].cli;
        fprintf(out, "\ntcplab %s %s\n  %s\n", c->name, c->synopsis, commands[i].what);
        for (int g = 0; g < CLI_MAX_GROUPS; g++) {
            const struct cli_group *gr = &c->groups[g];
            if (!gr->opts || gr->opts->kind == CLI_K_END)
                continue;
            if (gr->title) { /* a shared group (net options): printed once, below */
                shared = gr->opts;
                continue;
            }
            struct cli_command one = {.name = c->name, .groups = {*gr}};
            cli_print_options(&one, out);
        }
        if (commands[i].run == cmd_replay) { /* and its form for packetdrill scripts */
            c = &replay_pkt_command;
            fprintf(out, "\ntcplab %s %s\n  run packetdrill scripts (docs/packetdrill.md)\n",
                    c->name, c->synopsis);
            cli_print_options(c, out);
        }
    }
    if (shared) {
        fprintf(out, "\nnet options (listen, connect):\n");
        struct cli_command one = {.name = "", .groups = {{NULL, shared}}};
        cli_print_options(&one, out);
    }
    fprintf(out, "\nEvery command also takes -h/--help and -V/--version; 'tcplab help COMMAND'\n"
                 "is 'tcplab COMMAND --help'. Lessons by number or name: 'tcplab lessons'.\n"
                 "Exit status: 0 success, 1 the network said no (refused, reset, timeout,\n"
                 "failed replay, no permission for the TUN device), 2 bad usage or bad input.\n"
                 "Manual: man tcplab.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        short_usage(stderr);
        return EXIT_USAGE;
    }
    const char *a = argv[1];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
        full_help(stdout);
        return 0;
    }
    if (!strcmp(a, "help")) {
        if (argc < 3) {
            full_help(stdout);
            return 0;
        }
        const struct command *c = find(argv[2]);
        if (c) {
            cli_print_help(c->cli, stdout);
            return 0;
        }
        a = argv[2];
    } else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
        printf("tcplab %s\n", TCPLAB_VERSION);
        return 0;
    } else {
        const struct command *c = find(a);
        if (c)
            return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "tcplab: unknown command '%s'\n", a);
    short_usage(stderr);
    return EXIT_USAGE;
}
