/* cmd_demo.c — placeholder until this command is built; see its issue. */
#include <stdio.h>

#include "commands.h"

int cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "tcplab demo: not built yet\n");
    return EXIT_USAGE;
}
