/*
 * main.c — the tcplab program: parse the subcommand and hand over to it.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
};

static const struct command commands[] = {
    {"play", cmd_play, "play   [--tun] [--lang en|zh] [--speed X] SCENARIO|CAPTURE.pcap  animate a scenario or a capture"},
    {"replay", cmd_replay, "replay [--tun] [--update] [--seed N] SCENARIO...      headless regression run"},
    {"listen", cmd_listen, "listen [net options] [--ui] [PORT[:SERVICE]]...       the stack as a server on TUN"},
    {"connect", cmd_connect, "connect [net options] HOST PORT                       the stack as a client, like nc"},
    {"quiz", cmd_quiz, "quiz   [--lang en|zh] [--answers FILE] SCENARIO      questions, or grade answers"},
    {"export", cmd_export, "export --svg|--txt|--html [-o FILE] LESSON[@STEP]      ladder for slides, homework"},
    {"lessons", cmd_lessons, "lessons [--lang en|zh]                                list the lessons (K: also on TUN)"},
    {"demo", cmd_demo, "demo                                                  two stacks on the virtual link"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: tcplab COMMAND [OPTIONS] [ARGS]\n\n"
                 "tcplab teaches TCP by letting you watch a real TCP implementation work.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  tcplab %s\n", commands[i].synopsis);
    fprintf(out, "\nnet options: --tun NAME (tl0) --kernel-addr A.B.C.D/N (10.7.0.1/24)\n"
                 "             --addr A.B.C.D (10.7.0.2) --mtu N --msl SECONDS --pcap FILE\n"
                 "             --trace FILE.jsonl --quiet --syn-retries N\n\n"
                 "'tcplab COMMAND --help' describes one command. Exit status: 0 success,\n"
                 "1 the network said no (refused, reset, timeout, failed replay), 2 bad usage.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("tcplab %s\n", TCPLAB_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tcplab: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
