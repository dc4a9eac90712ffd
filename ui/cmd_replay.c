/* cmd_replay.c — placeholder until this command is built; see its issue. */
#include <stdio.h>

#include "commands.h"

int cmd_replay(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "tcplab replay: not built yet\n");
    return EXIT_USAGE;
}
