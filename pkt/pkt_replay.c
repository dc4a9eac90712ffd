/*
 * pkt_replay.c — what `tcplab replay FILE.pkt|DIR...` does once its command
 * line is read: run packetdrill scripts headless and say, per script, PASS,
 * FAIL (with the diagnostics) or SKIP (with the line and reason), then
 * "N passed, N failed, N skipped".
 *
 * The command line is ui/cli's, parsed by the shared parser like every other
 * command's (ui/cli/cmd_replay_pkt.c); cmd_replay.c hands over there when
 * pkt_args_are_scripts() says its arguments are .pkt scripts or folders of
 * them. Every file is parsed before anything runs: one malformed script is
 * "file:line:col: message" and status 2.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pkt_internal.h"
#include "wire.h"

/* --verbose: every segment the engine took in or sent, as the script writes
 * packets (its own numbers for what it sent, the engine's relative to the
 * engine's ISN), with its time; and every state change. */
struct trace {
    bool have_isn;
    uint32_t isn;   /* the engine's ISN, from its SYN */
};

static void trace_event(void *ctx, const struct tev *ev)
{
    struct trace *t = ctx;
    double at = (double)ev->t_us / 1e6;
    if (ev->kind == TEV_STATE) {
        printf("  %9.6f  state %s -> %s (%s)\n", at, tcp_state_name(ev->u.state.from),
               tcp_state_name(ev->u.state.to), ev->u.state.cause ? ev->u.state.cause : "");
        return;
    }
    if (ev->kind != TEV_SEGMENT)
        return;
    const struct wire_tcp *h = &ev->u.seg.tcp;
    bool out = ev->u.seg.dir == TEV_OUT;
    if (out && (h->flags & TCP_SYN)) {
        t->have_isn = true;
        t->isn = h->seq;
    }
    uint32_t seq = out && t->have_isn ? h->seq - t->isn : h->seq;
    uint32_t ack = !out && t->have_isn ? h->ack - t->isn : h->ack;
    char f[10];
    wire_flags_str(h->flags, f);
    printf("  %9.6f  %c %s %u:%u(%zu)", at, out ? '>' : '<', f[0] ? f : "-", seq,
           seq + (uint32_t)h->payload_len, h->payload_len);
    if (h->flags & TCP_ACK)
        printf(" ack %u", ack);
    printf(" win %u", h->win);
    const struct wire_tcp_opts *o = &h->opts;
    if (o->has_mss || o->has_wscale || o->sack_permitted || o->has_ts) {
        printf(" <");
        const char *sep = "";
        if (o->has_mss)
            printf("%smss %u", sep, o->mss), sep = ",";
        if (o->has_wscale)
            printf("%swscale %u", sep, o->wscale), sep = ",";
        if (o->sack_permitted)
            printf("%ssackOK", sep), sep = ",";
        if (o->has_ts)
            printf("%sTS val %u ecr %u", sep, o->ts_val, o->ts_ecr);
        printf(">");
    }
    printf("%s\n", ev->u.seg.retransmission ? "  (retransmission)" : "");
}

struct paths {
    char **v;
    size_t n, cap;
};

static int paths_add(struct paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        char **v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    if (!(p->v[p->n] = strdup(s)))
        return -1;
    p->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .pkt under dir, sorted, at most 8 levels deep. */
static int collect(struct paths *p, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct paths here = {0};
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) && !rc) {
        if (de->d_name[0] == '.')
            continue;
        size_t n = strlen(dir) + strlen(de->d_name) + 2;
        char *full = malloc(n);
        if (!full) {
            rc = -1;
            break;
        }
        snprintf(full, n, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(full, &st) == 0 && (S_ISDIR(st.st_mode) ? depth < 8 : pkt_is_script_path(full)))
            rc = paths_add(&here, full);
        free(full);
    }
    closedir(d);
    qsort(here.v, here.n, sizeof *here.v, cmp_str);
    for (size_t i = 0; i < here.n; i++) {
        struct stat st;
        if (!rc && stat(here.v[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc = collect(p, here.v[i], depth + 1);
        else if (!rc)
            rc = paths_add(p, here.v[i]);
        free(here.v[i]);
    }
    free(here.v);
    return rc;
}

/* Does this command line name packetdrill scripts (for ui/cli/cmd_replay.c)? */
bool pkt_args_are_scripts(int argc, char **args)
{
    for (int i = 1; i < argc; i++) {
        if (pkt_is_script_path(args[i]) || !strncmp(args[i], "--pkt-profile", 13) ||
            !strncmp(args[i], "--set", 5))
            return true;
        struct stat st;
        if (args[i][0] != '-' && stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            struct paths p = {0};
            bool any = collect(&p, args[i], 7) == 0 && p.n > 0;
            for (size_t k = 0; k < p.n; k++)
                free(p.v[k]);
            free(p.v);
            if (any)
                return true;
        }
    }
    return false;
}

int pkt_replay(const struct pkt_config *cfg, char *const *args, int nargs, bool verbose)
{
    struct paths files = {0};
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            size_t before = files.n;
            if (collect(&files, args[i], 0) < 0) {
                fprintf(stderr, "tcplab replay: cannot read directory %s: %s\n", args[i],
                        strerror(errno));
                return 2;
            }
            if (files.n == before) {
                fprintf(stderr, "tcplab replay: %s holds no .pkt scripts\n", args[i]);
                return 2;
            }
        } else if (!pkt_is_script_path(args[i])) {
            fprintf(stderr,
                    "tcplab replay: %s is not a .pkt script; replay .tcps scenarios and .pkt "
                    "scripts in separate runs\n",
                    args[i]);
            return 2;
        } else if (paths_add(&files, args[i]) < 0) {
            fprintf(stderr, "tcplab replay: out of memory\n");
            return 2;
        }
    }
    /* parse everything first: a malformed script runs nothing */
    struct pkt_script **scripts = calloc(files.n, sizeof *scripts);
    int status = scripts ? 0 : 2;
    for (size_t i = 0; scripts && i < files.n; i++) {
        struct pkt_error err;
        scripts[i] = pkt_parse_file_for(files.v[i], cfg->profile, &err);
        if (!scripts[i]) {
            pkt_error_print(&err, stderr);
            status = 2;
        }
    }
    unsigned passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; status == 0 && i < files.n; i++) {
        struct pkt_result res;
        struct trace tr = {0};
        if (verbose)
            printf("== %s\n", files.v[i]);
        if (pkt_run(scripts[i], cfg, verbose ? trace_event : NULL, &tr, &res, NULL) < 0) {
            fprintf(stderr, "tcplab replay: %s: out of memory\n", files.v[i]);
            status = 2;
            break;
        }
        switch (res.verdict) {
        case PKT_PASS:
            printf("PASS %s\n", files.v[i]);
            passed++;
            break;
        case PKT_FAIL:
            printf("FAIL %s\n%s", files.v[i], res.report ? res.report : "");
            if (res.report && res.report[0] && res.report[strlen(res.report) - 1] != '\n')
                printf("\n");
            failed++;
            break;
        case PKT_SKIP:
            printf("SKIP %s\n", res.report ? res.report : files.v[i]);
            skipped++;
            break;
        }
        pkt_result_free(&res);
    }
    if (status == 0) {
        printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
        status = failed ? 1 : 0;
    }
    for (size_t i = 0; i < files.n; i++) {
        if (scripts)
            pkt_script_free(scripts[i]);
        free(files.v[i]);
    }
    free(scripts);
    free(files.v);
    return status;
}
