/*
 * cmd_replay_pkt.c — the command line of `tcplab replay FILE.pkt|DIR...`
 * (packetdrill scripts), read with the shared parser (cli.h) like every
 * other command's: `--opt value` and `--opt=value`, the same wording of
 * mistakes, usage and status 2 on a bad command line. cmd_replay.c hands
 * over here when its arguments are .pkt scripts; pkt/pkt_replay.c runs them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pkt.h"

#define MAX_SETS 16

struct replay_pkt_args {
    struct pkt_config cfg;
    const char *sets[MAX_SETS]; /* --set items, applied after the profile */
    size_t nsets;
    bool verbose;
};

static int set_profile(void *base, const char *value, char *why, size_t cap)
{
    struct replay_pkt_args *a = base;
    if (pkt_config_profile(&a->cfg, value) == 0)
        return 0;
    snprintf(why, cap, "profiles are linux, freebsd and teaching");
    return -1;
}

static int add_set(void *base, const char *value, char *why, size_t cap)
{
    struct replay_pkt_args *a = base;
    if (a->nsets == MAX_SETS) {
        snprintf(why, cap, "at most %d --set options", MAX_SETS);
        return -1;
    }
    a->sets[a->nsets++] = value;
    return 0;
}

static const struct cli_opt replay_pkt_opts[] = {
    CLI_CUSTOM("pkt-profile", 0, "P", set_profile,
               "the defaults the suite expects: teaching (the RFC's; default), linux, freebsd"),
    CLI_CUSTOM("set", 0, "K=V,...", add_set,
               "override engine settings: times 200ms, 1s, 40000us (keys: docs/packetdrill.md)"),
    CLI_FLAG("verbose", 'v', struct replay_pkt_args, verbose,
             "print every segment in and out and every state change"),
    CLI_END,
};

const struct cli_command replay_pkt_command = {
    .name = "replay",
    .synopsis = "[--pkt-profile linux|freebsd|teaching] [--set K=V,...] [--verbose] "
                "FILE.pkt|DIR...",
    .summary = "Run packetdrill scripts against the tcplab engine on a virtual clock.\n"
               "A directory stands for every .pkt file under it.",
    .groups = {{NULL, replay_pkt_opts}},
    .min_args = 1,
    .max_args = -1,
    .args_what = "no script given: name .pkt files or directories of them",
};

/* The help's last part: the --set keys (from pkt/'s own table), what is
 * printed, the exit status. */
static char *epilogue(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "--set keys:\n");
    pkt_config_keys(f);
    fprintf(f, "\nPrints PASS, FAIL (with packetdrill-style diagnostics) or SKIP (with the line\n"
               "and the reason) per script and ends with \"N passed, N failed, N skipped\".\n"
               "Exit status: 0 nothing failed, 1 a failure, 2 bad usage or a malformed script.\n"
               "The language and what is supported: docs/packetdrill.md\n");
    fclose(f);
    return buf;
}

int cmd_replay_pkt(int argc, char **argv)
{
    struct replay_pkt_args a = {0};
    pkt_config_defaults(&a.cfg);
    struct cli_command c = replay_pkt_command;
    char *epi = epilogue();
    c.epilogue = epi;
    struct cli_parsed p;
    enum cli_result r = cli_parse(&c, argc, argv, (void *[]){&a}, &p);
    int status = r == CLI_OK ? 0 : cli_exit_status(r);
    for (size_t i = 0; r == CLI_OK && !status && i < a.nsets; i++) {
        char msg[256];
        if (pkt_config_set(&a.cfg, a.sets[i], msg, sizeof msg) < 0)
            status = cli_usage_error(&c, "%s", msg);
    }
    if (r == CLI_OK && !status)
        status = pkt_replay(&a.cfg, p.args, p.nargs, a.verbose);
    free(epi);
    return status;
}
