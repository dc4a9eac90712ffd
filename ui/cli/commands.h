/*
 * commands.h — the subcommands of the tcplab program (docs/architecture.md).
 * Each lives in its own ui/cli/cmd_*.c; main.c only dispatches.
 *
 * Every command returns the process exit status: 0 success, 1 the network
 * said no (refused, reset, timeout, failed replay), 2 bad usage or bad input.
 * argv[0] is the subcommand's name.
 */
#ifndef TCPLAB_COMMANDS_H
#define TCPLAB_COMMANDS_H

#include "cli.h"

#define EXIT_NETWORK 1
#define EXIT_USAGE   2

int cmd_demo(int argc, char **argv);    /* ui/cli/cmd_demo.c */
int cmd_play(int argc, char **argv);    /* ui/cli/cmd_play.c */
int cmd_replay(int argc, char **argv);  /* ui/cli/cmd_replay.c */
int cmd_replay_pkt(int argc, char **argv); /* ui/cli/cmd_replay_pkt.c: replay of .pkt scripts */
int cmd_listen(int argc, char **argv);  /* ui/cli/cmd_listen.c */
int cmd_connect(int argc, char **argv); /* ui/cli/cmd_connect.c */
int cmd_quiz(int argc, char **argv);    /* ui/cli/cmd_quiz.c */
int cmd_export(int argc, char **argv);  /* ui/cli/cmd_export.c */
int cmd_lessons(int argc, char **argv); /* ui/cli/cmd_lessons.c */

/* Each command's options and help (cli.h), for `tcplab --help`. */
extern const struct cli_command demo_command, play_command, replay_command, listen_command,
    connect_command, lessons_command, quiz_command, export_command, replay_pkt_command;

#endif
