/* cmd_play.c — placeholder until this command is built; see its issue. */
#include <stdio.h>

#include "commands.h"

int cmd_play(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "tcplab play: not built yet\n");
    return EXIT_USAGE;
}
