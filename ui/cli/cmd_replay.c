/*
 * cmd_replay.c — `tcplab replay [--tun] [--update] [--seed N] FILE...`: run
 * scenarios headless as regression tests (docs/architecture.md).
 *
 * For each file: parse it (any error in any file: status 2, nothing runs),
 * run it (scenarios/scenario.h), check its expectations, and on the virtual
 * link compare the run's normalised text trace with the golden trace stored
 * beside it (foo.tcps -> foo.trace). One line per scenario, PASS or FAIL with
 * a readable account, and a last line "N passed, N failed".
 *
 * The golden trace is the text trace of ui/render/trace.h with relative sequence
 * numbers and without times (docs/scenarios.md "Golden traces"); each step
 * starts with "== LINE: STATEMENT" so a difference points at the step.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "pkt.h"
#include "lessons.h"
#include "scenario.h"
#include "scn_internal.h" /* the file's own seed: the golden trace records it */
#include "trace.h"
#include "timeline_out.h"
#include "tun_dev.h"

#define DIFF_MAX_CELLS  (4000u * 4000u)
#define DIFF_MAX_OUTPUT 60

/* ---- growing text ------------------------------------------------------------ */

struct text {
    char *buf;
    size_t len, cap;
};

static int text_add(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b)
            return -1;
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = 0;
    return 0;
}

static int text_line(struct text *t, const char *s)
{
    return text_add(t, s, strlen(s)) < 0 ? -1 : text_add(t, "\n", 1);
}

/* ---- the golden trace ---------------------------------------------------------- */

/* Drop the time the text trace starts a line with: the golden trace holds
 * times only where the scenario asserts them. */
static const char *strip_time(const char *line)
{
    const char *p = line;
    while (*p == ' ')
        p++;
    const char *q = p;
    while ((*q >= '0' && *q <= '9') || *q == '.' || *q == ':')
        q++;
    if (q > p && (*q == 's' || *q == ' ')) {
        if (*q == 's')
            q++;
        while (*q == ' ')
            q++;
        return q;
    }
    return line;
}

/* A link event says until when it holds a packet back: a time too. */
static void strip_until(char *line)
{
    if (strncmp(line, "link", 4) != 0)
        return;
    char *u = strstr(line, " until ");
    if (!u)
        return;
    char *e = u + 7;
    while ((*e >= '0' && *e <= '9') || *e == '.' || *e == 's')
        e++;
    memmove(u, e, strlen(e) + 1);
}

static int golden_text(const struct scn_timeline *tl, uint64_t seed, struct text *out)
{
    char line[1024];
    struct trace_text tt;
    trace_text_init(&tt, NULL, true);
    tt.show_timers = false;
    snprintf(line, sizeof line, "# tcplab golden trace, seed %llu", (unsigned long long)seed);
    if (text_line(out, line) < 0)
        return -1;
    for (size_t i = 0; i < tl->nsteps; i++) {
        const struct scn_step *st = &tl->steps[i];
        snprintf(line, sizeof line, "== %d: %s", st->line, st->text ? st->text : "");
        if (text_line(out, line) < 0)
            return -1;
        for (size_t e = st->first_event; e < st->end_event && e < tl->nevents; e++) {
            size_t n = trace_text_format(&tt, tl->events[e], line, sizeof line);
            if (n == 0)
                continue;
            line[n < sizeof line ? n : sizeof line - 1] = 0;
            /* one event may render as several lines */
            char *save = NULL;
            for (char *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *t = (char *)strip_time(l);
                strip_until(t);
                if (text_line(out, t) < 0)
                    return -1;
            }
        }
    }
    return 0;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct text t = {0};
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (text_add(&t, buf, n) < 0)
            break;
    fclose(f);
    if (!t.buf)
        text_add(&t, "", 0);
    *len = t.len;
    return t.buf;
}

static int write_all(const char *path, const char *s, size_t n)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -errno;
    size_t w = fwrite(s, 1, n, f);
    int bad = ferror(f) || w != n;
    if (fclose(f) != 0 || bad) {
        remove(tmp);
        return -EIO;
    }
    if (rename(tmp, path) != 0) {
        int e = -errno;
        remove(tmp);
        return e;
    }
    return 0;
}

/* The seed a golden trace was made with, from its first line; 0 if none. */
static uint64_t golden_seed(const char *g)
{
    unsigned long long seed = 0;
    if (sscanf(g, "# tcplab golden trace, seed %llu", &seed) == 1)
        return seed;
    return 0;
}

/* ---- a line diff (LCS), for a readable account of what changed ---------------- */

struct lines {
    const char **l;
    size_t n;
};

static int split_lines(char *s, struct lines *out)
{
    size_t cap = 64;
    out->l = malloc(cap * sizeof *out->l);
    out->n = 0;
    if (!out->l)
        return -1;
    char *save = NULL;
    for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (out->n == cap) {
            cap *= 2;
            const char **n = realloc(out->l, cap * sizeof *n);
            if (!n)
                return -1;
            out->l = n;
        }
        out->l[out->n++] = l;
    }
    return 0;
}

static void print_diff(FILE *f, const struct lines *a, const struct lines *b)
{
    size_t n = a->n, m = b->n;
    /* Common head and tail first: usually the change is small. */
    size_t head = 0;
    while (head < n && head < m && strcmp(a->l[head], b->l[head]) == 0)
        head++;
    size_t tail = 0;
    while (tail < n - head && tail < m - head &&
           strcmp(a->l[n - 1 - tail], b->l[m - 1 - tail]) == 0)
        tail++;
    size_t an = n - head - tail, bn = m - head - tail;
    int printed = 0;
    size_t ctx = head >= 3 ? head - 3 : 0;
    fprintf(f, "    @@ golden line %zu @@\n", head + 1);
    for (size_t i = ctx; i < head; i++)
        fprintf(f, "      %s\n", a->l[i]);
    uint16_t *dp = NULL;
    if ((an + 1) * (bn + 1) <= DIFF_MAX_CELLS && an < 65535 && bn < 65535)
        dp = calloc((an + 1) * (bn + 1), sizeof *dp);
    if (dp) {
        /* dp[i][j] = LCS of a[head+i..] and b[head+j..] */
        for (size_t i = an; i-- > 0;)
            for (size_t j = bn; j-- > 0;)
                dp[i * (bn + 1) + j] = strcmp(a->l[head + i], b->l[head + j]) == 0
                                           ? (uint16_t)(dp[(i + 1) * (bn + 1) + j + 1] + 1)
                                           : (dp[(i + 1) * (bn + 1) + j] > dp[i * (bn + 1) + j + 1]
                                                  ? dp[(i + 1) * (bn + 1) + j]
                                                  : dp[i * (bn + 1) + j + 1]);
        size_t i = 0, j = 0;
        while ((i < an || j < bn) && printed < DIFF_MAX_OUTPUT) {
            if (i < an && j < bn && strcmp(a->l[head + i], b->l[head + j]) == 0) {
                fprintf(f, "      %s\n", a->l[head + i]);
                i++, j++;
            } else if (i < an &&
                       (j == bn || dp[(i + 1) * (bn + 1) + j] >= dp[i * (bn + 1) + j + 1])) {
                fprintf(f, "    - %s\n", a->l[head + i++]);
            } else {
                fprintf(f, "    + %s\n", b->l[head + j++]);
            }
            printed++;
        }
        free(dp);
    } else {
        for (size_t i = 0; i < an && printed < DIFF_MAX_OUTPUT / 2; i++, printed++)
            fprintf(f, "    - %s\n", a->l[head + i]);
        for (size_t j = 0; j < bn && printed < DIFF_MAX_OUTPUT; j++, printed++)
            fprintf(f, "    + %s\n", b->l[head + j]);
    }
    if (printed >= DIFF_MAX_OUTPUT)
        fprintf(f, "    ... (more differences)\n");
    else
        for (size_t k = 0; k < 2 && k < tail; k++)
            fprintf(f, "      %s\n", a->l[n - tail + k]);
}

/* ---- one scenario -------------------------------------------------------------- */

enum outcome { OUT_PASS, OUT_FAIL, OUT_SKIP, OUT_ERROR };

static void golden_path(const char *file, char *out, size_t cap)
{
    size_t n = strlen(file);
    if (n > 5 && strcmp(file + n - 5, ".tcps") == 0)
        n -= 5;
    snprintf(out, cap, "%.*s.trace", (int)n, file);
}

static const char *display_name(const char *file, char *buf, size_t cap)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".tcps") == 0)
        n -= 5;
    snprintf(buf, cap, "%.*s", (int)n, b);
    return buf;
}

struct replay_opts {
    bool tun, update, strict;
    const char *junit; /* --junit FILE */
    const char *pcap, *trace; /* --pcap, --trace: the run written out (one scenario) */
    const char *lang;         /* --lang: the narration in the pcapng comments */
    long seed_arg;     /* --seed, 0: the file's own */
    uint64_t seed;
    int shared_netns_warned;
    bool write_failed; /* --pcap / --trace could not be written */
};

static const struct cli_opt replay_opts[] = {
    CLI_FLAG("tun", 0, struct replay_opts, tun,
             "against the kernel's sockets on a TUN device (files with `tun yes`; root)"),
    CLI_FLAG("update", 0, struct replay_opts, update, "write the golden traces from this run"),
    CLI_FLAG("strict", 0, struct replay_opts, strict,
             "a scenario without a golden trace fails (else: a warning)"),
    CLI_OUTPUT("junit", 0, struct replay_opts, junit, "FILE",
               "also write the results as JUnit XML, for CI systems ('-': stdout)"),
    CLI_LONG("seed", 0, struct replay_opts, seed_arg, "N", 1, UINT32_MAX,
             "use seed N (1..4294967295) instead of the file's own"),
    CLI_OUTPUT("pcap", 0, struct replay_opts, pcap, "FILE",
               "write the run's packets, narration as pcapng comments ('-': stdout; one "
               "SCENARIO)"),
    CLI_OUTPUT("trace", 0, struct replay_opts, trace, "FILE",
               "write the run's events as JSON Lines ('-': stdout; one SCENARIO)"),
    CLI_CHOICE("lang", 0, struct replay_opts, lang, "en|zh",
               "the narration's language in --pcap (default: from LANG / LC_ALL)", "en", "zh"),
    CLI_END,
};

const struct cli_command replay_command = {
    .name = "replay",
    .synopsis = "[--tun] [--update] [--strict] [--seed N] [--junit FILE] [--pcap FILE] "
                "[--trace FILE] [--lang en|zh] SCENARIO...",
    .summary = "Run scenarios headless and check them: every expectation, and (on the virtual\n"
               "link) the golden trace stored beside each file (foo.tcps -> foo.trace). A\n"
               "directory stands for the .tcps files in it; a lesson number or name (4,\n"
               "teardown, handshake) for that scenario. Prints PASS or FAIL per scenario and\n"
               "ends with \"N passed, N failed\".",
    .groups = {{NULL, replay_opts}},
    .min_args = 1,
    .max_args = -1,
    .args_what = "no scenario given: name .tcps files, directories or lessons",
    .epilogue = "With --tun each scenario runs in a network namespace of its own\n"
                "(sudo tcplab replay --tun FILE). The language: docs/scenarios.md\n"
                "Exit status: 0 all passed, 1 a failure, 2 bad usage or a bad file.\n\n"
                "tcplab replay [--pkt-profile P] [--set K=V,...] FILE.pkt|DIR... runs\n"
                "packetdrill scripts instead (tcplab replay --pkt-profile teaching --help;\n"
                "docs/packetdrill.md).\n",
};

/* Check the run's trace against the golden one; prints the account of a
 * difference to `acc`. Returns true if they agree (or were written). */
static bool check_golden(const char *file, const struct scn_timeline *tl, uint64_t seed,
                         const struct replay_opts *ro, FILE *acc)
{
    char gpath[4096];
    golden_path(file, gpath, sizeof gpath);
    struct text run = {0};
    if (golden_text(tl, seed, &run) < 0) {
        fprintf(acc, "  out of memory while making the trace\n");
        free(run.buf);
        return false;
    }
    if (ro->update) {
        int r = write_all(gpath, run.buf, run.len);
        free(run.buf);
        if (r < 0) {
            fprintf(acc, "  cannot write %s: %s\n", gpath, strerror(-r));
            return false;
        }
        return true;
    }
    size_t glen;
    char *gold = read_all(gpath, &glen);
    if (!gold) {
        int e = errno;
        free(run.buf);
        /* A new scenario: its expectations were checked; the trace has
         * nothing to be compared with yet, which only --strict calls a failure. */
        if (e == ENOENT && !ro->strict) {
            fprintf(acc,
                    "  warning: no golden trace yet (run --update to record one): "
                    "tcplab replay --update %s\n",
                    file);
            return true;
        }
        fprintf(acc, "  no golden trace %s: %s\n", gpath, strerror(e));
        fprintf(acc, "  create it with: tcplab replay --update %s\n", file);
        return false;
    }
    bool ok = true;
    uint64_t gseed = golden_seed(gold);
    if (gseed != seed) {
        /* Made with another seed: random impairments differ, nothing to compare. */
        fprintf(acc, "  note: golden trace %s was made with seed %llu, not %llu: not compared\n",
                gpath, (unsigned long long)gseed, (unsigned long long)seed);
    } else if (glen != run.len || memcmp(gold, run.buf, glen) != 0) {
        ok = false;
        fprintf(acc, "  the trace differs from the golden trace %s (- golden, + this run):\n",
                gpath);
        struct lines a = {0}, b = {0};
        if (split_lines(gold, &a) == 0 && split_lines(run.buf, &b) == 0)
            print_diff(acc, &a, &b);
        free(a.l);
        free(b.l);
        fprintf(acc, "  if the change is intended: tcplab replay --update %s\n", file);
    }
    free(gold);
    free(run.buf);
    return ok;
}

static enum outcome replay_one(const char *file, struct scn *s, struct replay_opts *ro,
                               int *run_err, FILE *out)
{
    char name[256];
    display_name(file, name, sizeof name);
    if (ro->tun && !scn_supports_tun(s)) {
        fprintf(out, "SKIP %s: not meant to run against the kernel (no `tun yes`)\n", name);
        return OUT_SKIP;
    }
    /* Each --tun scenario gets a network namespace of its own, so one
     * scenario's kernel sockets (a FIN still retransmitted, a TIME_WAIT) never
     * meet the next one's. Without the right, the current namespace is used,
     * which is fine for one scenario run inside `unshare --net`. */
    int ns = ro->tun ? tun_netns_fresh() : 0;
    if (ns < 0 && ro->shared_netns_warned++ == 0)
        fprintf(stderr,
                "tcplab replay: cannot make a network namespace per scenario (%s); "
                "running in the current one\n",
                strerror(-ns));
    struct scn_run_opts opts = {.seed = ro->seed, .tun = ro->tun};
    struct scn_result res;
    struct scn_timeline *tl = NULL;
    bool written = ro->pcap || ro->trace;
    uint64_t wall_t0 = timeline_out_wall_now();
    int r = scn_run(s, &opts, &res, ro->tun && !written ? NULL : &tl);
    if (r < 0) {
        *run_err = r;
        fprintf(out, "FAIL %s\n  could not run: %s\n", name,
                res.report ? res.report : strerror(-r));
        scn_result_free(&res);
        return OUT_FAIL;
    }
    char *acc_buf = NULL;
    size_t acc_len = 0;
    FILE *acc = open_memstream(&acc_buf, &acc_len);
    bool golden_ok = true;
    if (tl && written) {
        struct timeline_out to = {.trace_path = ro->trace,
                                  .pcap_path = ro->pcap,
                                  .zh = ro->lang ? !strcmp(ro->lang, "zh") : ui_locale_is_zh(),
                                  .source = "replay",
                                  .scenario = file,
                                  .seed = ro->seed ? ro->seed : s->seed,
                                  .wall_t0_us = wall_t0};
        if (timeline_out_write(tl, &to, "replay") < 0)
            ro->write_failed = true;
    }
    if (tl && acc && !ro->tun)
        golden_ok = check_golden(file, tl, ro->seed ? ro->seed : s->seed, ro, acc);
    if (acc)
        fclose(acc);
    bool pass = res.failures == 0 && golden_ok;
    fprintf(out, "%s %s\n", pass ? "PASS" : "FAIL", name);
    if (!pass)
        fprintf(out, "  seed %llu%s\n", (unsigned long long)(ro->seed ? ro->seed : s->seed),
                ro->tun ? ", against the kernel (real time: not exactly reproducible)"
                        : " (the same seed replays the same run)");
    if (res.failures) {
        fprintf(out, "  %u of %u expectations failed:\n%s", res.failures, res.expectations,
                res.report ? res.report : "");
    }
    if (acc_buf && acc_len)
        fputs(acc_buf, out);
    free(acc_buf);
    scn_result_free(&res);
    scn_timeline_free(tl);
    return pass ? OUT_PASS : OUT_FAIL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The scenario files to run; a directory stands for the .tcps files in it. */
struct file_list {
    char **path; /* owned copies */
    int n, cap;
};

static int list_push(struct file_list *l, const char *path)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **np = realloc(l->path, (size_t)cap * sizeof *np);
        if (!np)
            return -1;
        l->path = np;
        l->cap = cap;
    }
    if (!(l->path[l->n] = strdup(path)))
        return -1;
    l->n++;
    return 0;
}

static void list_free(struct file_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->path[i]);
    free(l->path);
}

/* Add a file, or the .tcps files of a directory in name order. */
static int list_add(struct file_list *l, const char *arg)
{
    struct stat sb;
    if (stat(arg, &sb) != 0) {
        /* a lesson or regression scenario by number or name, as `play` takes */
        char found[4096];
        return list_push(l, ui_lesson_find(arg, found, sizeof found) == 0 ? found : arg);
    }
    if (!S_ISDIR(sb.st_mode))
        return list_push(l, arg);
    DIR *d = opendir(arg);
    if (!d) {
        fprintf(stderr, "tcplab replay: cannot read directory %s: %s\n", arg, strerror(errno));
        return -1;
    }
    int first = l->n, r = 0;
    struct dirent *e;
    while (r == 0 && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || strcmp(e->d_name + n - 5, ".tcps") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s%s%s", arg, arg[strlen(arg) - 1] == '/' ? "" : "/",
                 e->d_name);
        r = list_push(l, path);
    }
    closedir(d);
    if (r == 0 && l->n == first) {
        fprintf(stderr, "tcplab replay: no .tcps files in directory %s\n", arg);
        return -1;
    }
    qsort(l->path + first, (size_t)(l->n - first), sizeof *l->path, cmp_str);
    return r;
}

/* ---- JUnit XML (--junit) ------------------------------------------------------ */

struct junit_case {
    const char *file;
    enum outcome outcome;
    double seconds;
    char *account; /* what was printed for it */
};

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* XML text: the five escapes, and control characters other than tab and
 * newline dropped (XML 1.0 cannot carry them). */
static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '&')
            fputs("&amp;", f);
        else if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c == '\'')
            fputs("&apos;", f);
        else if (c >= 0x20 || c == '\t' || c == '\n')
            fputc(c, f);
    }
}

/* One <testsuite>, one <testcase> per scenario: classname is the directory
 * (lessons, regress), name the file's stem. A FAIL carries its account. */
static int junit_write(const char *path, const struct junit_case *c, int n)
{
    FILE *f = cli_open_output(path, "w");
    if (!f)
        return -1;
    int failures = 0, skipped = 0;
    double total = 0;
    for (int i = 0; i < n; i++) {
        failures += c[i].outcome == OUT_FAIL;
        skipped += c[i].outcome == OUT_SKIP;
        total += c[i].seconds;
    }
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<testsuite name=\"tcplab replay\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
            "skipped=\"%d\" time=\"%.3f\">\n",
            n, failures, skipped, total);
    for (int i = 0; i < n; i++) {
        char name[256], dir[256] = "scenarios";
        display_name(c[i].file, name, sizeof name);
        const char *slash = strrchr(c[i].file, '/');
        if (slash) {
            const char *start = slash;
            while (start > c[i].file && start[-1] != '/')
                start--;
            if (start < slash)
                snprintf(dir, sizeof dir, "%.*s", (int)(slash - start), start);
        }
        fputs("  <testcase classname=\"", f);
        xml_text(f, dir);
        fputs("\" name=\"", f);
        xml_text(f, name);
        fprintf(f, "\" time=\"%.3f\"", c[i].seconds);
        if (c[i].outcome == OUT_PASS) {
            fputs("/>\n", f);
            continue;
        }
        fputs(">\n", f);
        if (c[i].outcome == OUT_SKIP) {
            fputs("    <skipped message=\"", f);
            xml_text(f, c[i].account);
            fputs("\"/>\n", f);
        } else {
            fputs("    <failure message=\"replay failed\">", f);
            xml_text(f, c[i].account);
            fputs("</failure>\n", f);
        }
        fputs("  </testcase>\n", f);
    }
    fputs("</testsuite>\n", f);
    int bad = ferror(f);
    if (f == stdout)
        fflush(f);
    else if (fclose(f) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

int cmd_replay(int argc, char **argv)
{
    /* packetdrill scripts (.pkt) have a runner of their own: pkt/ */
    if (pkt_args_are_scripts(argc, argv))
        return cmd_replay_pkt(argc, argv);
    struct replay_opts ro = {0};
    struct file_list fl = {0};
    struct cli_parsed p;
    enum cli_result pr = cli_parse(&replay_command, argc, argv, (void *[]){&ro}, &p);
    if (pr != CLI_OK)
        return cli_exit_status(pr);
    ro.seed = (uint64_t)ro.seed_arg;
    if (ro.tun && ro.update)
        return cli_usage_error(&replay_command,
                               "--update writes golden traces, which come from the virtual link "
                               "only; drop --tun or --update");
    int to_stdout = cli_is_stdout(ro.pcap) + cli_is_stdout(ro.trace) + cli_is_stdout(ro.junit);
    if (to_stdout > 1)
        return cli_usage_error(&replay_command,
                               "only one of --pcap, --trace and --junit can write to standard "
                               "output ('-')");
    for (int i = 0; i < p.nargs; i++)
        if (list_add(&fl, p.args[i]) < 0) {
            list_free(&fl);
            return EXIT_USAGE;
        }
    if ((ro.pcap || ro.trace) && fl.n != 1) {
        list_free(&fl);
        return cli_usage_error(&replay_command,
                               "--pcap and --trace write one run: give one SCENARIO, not %d", fl.n);
    }
    /* The results go where the files do not. */
    FILE *report = cli_is_stdout(ro.pcap) || cli_is_stdout(ro.trace) ? stderr : stdout;
    /* Every file is read first: a bad file runs nothing. */
    struct scn **scns = calloc((size_t)fl.n, sizeof *scns);
    bool bad = !scns;
    for (int i = 0; i < fl.n && scns; i++) {
        struct scn_error err;
        scns[i] = scn_parse_file(fl.path[i], &err);
        if (!scns[i]) {
            scn_error_print(&err, stderr);
            bad = true;
        }
    }
    if (bad) {
        for (int i = 0; scns && i < fl.n; i++)
            scn_free(scns[i]);
        free(scns);
        list_free(&fl);
        return EXIT_USAGE;
    }
    unsigned passed = 0, failed = 0;
    int run_err = 0;
    struct junit_case *cases = calloc((size_t)fl.n, sizeof *cases);
    for (int i = 0; i < fl.n; i++) {
        /* Each account is kept for --junit as well as printed. */
        char *buf = NULL;
        size_t len = 0;
        FILE *acc = open_memstream(&buf, &len);
        double t0 = wall_s();
        enum outcome o = replay_one(fl.path[i], scns[i], &ro, &run_err, acc ? acc : report);
        if (acc)
            fclose(acc);
        if (buf)
            fputs(buf, report);
        if (cases) {
            cases[i] = (struct junit_case){fl.path[i], o, wall_s() - t0, buf};
            buf = NULL;
        }
        free(buf);
        if (o == OUT_PASS)
            passed++;
        else if (o == OUT_FAIL)
            failed++;
        fflush(report);
    }
    fprintf(report, "%u passed, %u failed\n", passed, failed);
    if (ro.write_failed)
        failed++;
    if (ro.junit && cases && junit_write(ro.junit, cases, fl.n) < 0) {
        fprintf(stderr, "tcplab replay: cannot write the JUnit file %s: %s\n", ro.junit,
                strerror(errno));
        failed++;
    }
    for (int i = 0; cases && i < fl.n; i++)
        free(cases[i].account);
    free(cases);
    for (int i = 0; i < fl.n; i++)
        scn_free(scns[i]);
    free(scns);
    list_free(&fl);
    return failed ? EXIT_NETWORK : 0;
}
