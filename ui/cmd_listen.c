/* cmd_listen.c — placeholder until this command is built; see its issue. */
#include <stdio.h>

#include "commands.h"

int cmd_listen(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "tcplab listen: not built yet\n");
    return EXIT_USAGE;
}
