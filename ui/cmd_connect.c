/* cmd_connect.c — placeholder until this command is built; see its issue. */
#include <stdio.h>

#include "commands.h"

int cmd_connect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "tcplab connect: not built yet\n");
    return EXIT_USAGE;
}
