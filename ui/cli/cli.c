/*
 * cli.c — the shared command-line parser (cli.h): builds getopt_long's
 * table from the command's option tables, stores each value where the table
 * says, and reports every mistake in one style.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "scenario.h" /* scn_edit_distance */

#define CLI_MAX_OPTS 96
#define CLI_VAL_BASE 256 /* getopt_long's val for option k of the merged list */

struct merged {
    const struct cli_opt *opt[CLI_MAX_OPTS];
    int group[CLI_MAX_OPTS];
    int n;
};

static void merge(const struct cli_command *c, struct merged *m)
{
    m->n = 0;
    for (int g = 0; g < CLI_MAX_GROUPS; g++)
        for (const struct cli_opt *o = c->groups[g].opts; o && o->kind != CLI_K_END; o++)
            if (m->n < CLI_MAX_OPTS) {
                m->opt[m->n] = o;
                m->group[m->n++] = g;
            }
}

static void usage_line(const struct cli_command *c, FILE *out)
{
    fprintf(out, "usage: tcplab %s %s\n", c->name, c->synopsis ? c->synopsis : "");
}

static int vreport(const struct cli_command *c, const char *fmt, va_list ap)
{
    fprintf(stderr, "tcplab %s: ", c->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    usage_line(c, stderr);
    fprintf(stderr, "Try 'tcplab %s --help'.\n", c->name);
    return EXIT_USAGE;
}

int cli_usage_error(const struct cli_command *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vreport(c, fmt, ap);
    va_end(ap);
    return r;
}

int cli_exit_status(enum cli_result r)
{
    return r == CLI_EXIT0 ? 0 : r == CLI_USAGE ? EXIT_USAGE : 0;
}

static const char *closest(const struct merged *m, const char *word)
{
    const char *best = NULL;
    size_t bd = 3; /* at most two edits away */
    for (int k = 0; k < m->n; k++) {
        size_t d = scn_edit_distance(word, m->opt[k]->name);
        if (d < bd) {
            bd = d;
            best = m->opt[k]->name;
        }
    }
    return best;
}

static void unknown_option(const struct cli_command *c, const struct merged *m, const char *arg)
{
    char name[64];
    const char *p = arg;
    while (*p == '-')
        p++;
    size_t n = strcspn(p, "=");
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
    const char *near = arg[1] == '-' ? closest(m, name) : NULL;
    if (near)
        cli_usage_error(c, "unknown option '%s' (did you mean --%s?)", arg, near);
    else
        cli_usage_error(c, "unknown option '%s'", arg);
}

/* Digits only (strtol alone would take " 7", "+7" and "0x7"), in range. */
static bool parse_long(const char *s, long lo, long hi, long *out)
{
    const char *d = s[0] == '-' ? s + 1 : s;
    if (!isdigit((unsigned char)*d))
        return false;
    for (const char *q = d; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || isspace((unsigned char)*s) || *end || errno || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Store one option's value; on a bad value report it and return -1. */
static int store(const struct cli_command *c, const struct cli_opt *o, void *base, const char *val)
{
    char *field = (char *)base + o->offset;
    char why[256] = "";
    switch (o->kind) {
    case CLI_K_FLAG:
        *(bool *)field = true;
        return 0;
    case CLI_K_STRING:
    case CLI_K_OUTPUT:
        if (!*val) {
            cli_usage_error(c, "--%s needs a %s, not an empty string", o->name,
                            o->kind == CLI_K_OUTPUT ? "file name ('-' for standard output)"
                                                    : "value");
            return -1;
        }
        *(const char **)field = val;
        return 0;
    case CLI_K_LONG:
        if (parse_long(val, o->lo, o->hi, (long *)field))
            return 0;
        snprintf(why, sizeof why, "give a whole number from %ld to %ld", o->lo, o->hi);
        break;
    case CLI_K_DOUBLE:
        if (parse_double(val, o->dlo, o->dhi, (double *)field))
            return 0;
        snprintf(why, sizeof why, "give a number from %g to %g", o->dlo, o->dhi);
        break;
    case CLI_K_CHOICE: {
        size_t len = 0;
        for (int i = 0; i < CLI_MAX_CHOICES && o->choices[i]; i++) {
            if (!strcmp(val, o->choices[i])) {
                *(const char **)field = o->choices[i];
                return 0;
            }
            len += (size_t)snprintf(why + len, sizeof why - len, "%s%s", i ? " or " : "give ",
                                    o->choices[i]);
            if (len >= sizeof why)
                break;
        }
        break;
    }
    case CLI_K_CUSTOM:
        if (o->parse(base, val, why, sizeof why) == 0)
            return 0;
        break;
    case CLI_K_END:
        return 0;
    }
    cli_usage_error(c, "bad --%s '%s': %s", o->name, val, why);
    return -1;
}

enum cli_result cli_parse(const struct cli_command *c, int argc, char **argv, void *const *bases,
                          struct cli_parsed *out)
{
    struct merged m;
    merge(c, &m);
    struct option lopts[CLI_MAX_OPTS + 3];
    char sopts[2 * CLI_MAX_OPTS + 8] = ":hV"; /* ':' first: a missing value returns ':' */
    size_t sl = strlen(sopts);
    int n = 0;
    for (int k = 0; k < m.n; k++) {
        const struct cli_opt *o = m.opt[k];
        lopts[n++] =
            (struct option){o->name, o->kind == CLI_K_FLAG ? no_argument : required_argument, NULL,
                            CLI_VAL_BASE + k};
        if (o->short_name) {
            sopts[sl++] = o->short_name;
            if (o->kind != CLI_K_FLAG)
                sopts[sl++] = ':';
        }
    }
    sopts[sl] = 0;
    lopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lopts[n++] = (struct option){"version", no_argument, NULL, 'V'};
    lopts[n] = (struct option){NULL, 0, NULL, 0};

    optind = 0; /* 0, not 1: getopt_long starts over completely (GNU) */
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
        if (ch == 'h') {
            cli_print_help(c, stdout);
            return CLI_EXIT0;
        }
        if (ch == 'V') {
            printf("tcplab %s\n", TCPLAB_VERSION);
            return CLI_EXIT0;
        }
        if (ch == '?') {
            if (optopt && optopt < CLI_VAL_BASE) {
                char s[3] = {'-', (char)optopt, 0};
                unknown_option(c, &m, s);
            } else {
                unknown_option(c, &m, argv[optind - 1]);
            }
            return CLI_USAGE;
        }
        if (ch == ':') {
            const char *name = argv[optind - 1];
            cli_usage_error(c, "%s needs a value", name);
            return CLI_USAGE;
        }
        int k = -1;
        if (ch >= CLI_VAL_BASE)
            k = ch - CLI_VAL_BASE;
        else
            for (int i = 0; i < m.n; i++)
                if (m.opt[i]->short_name == ch)
                    k = i;
        if (k < 0 || k >= m.n)
            continue;
        void *base = bases[m.group[k]];
        if (store(c, m.opt[k], base, optarg) < 0)
            return CLI_USAGE;
    }
    out->args = argv + optind;
    out->nargs = argc - optind;
    if (out->nargs < c->min_args) {
        cli_usage_error(c, "%s", c->args_what ? c->args_what : "too few arguments");
        return CLI_USAGE;
    }
    if (c->max_args >= 0 && out->nargs > c->max_args) {
        if (c->max_args == 0)
            cli_usage_error(c, "unexpected argument '%s'", out->args[0]);
        else
            cli_usage_error(c, "too many arguments ('%s' and after; at most %d)",
                            out->args[c->max_args], c->max_args);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static void print_group(const struct cli_group *g, FILE *out)
{
    for (const struct cli_opt *o = g->opts; o && o->kind != CLI_K_END; o++) {
        char left[64];
        int len;
        if (o->short_name)
            len = snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name,
                           o->metavar ? " " : "", o->metavar ? o->metavar : "");
        else
            len = snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                           o->metavar ? o->metavar : "");
        if (len < 24)
            fprintf(out, "  %-24s %s\n", left, o->help ? o->help : "");
        else
            fprintf(out, "  %s\n  %-24s %s\n", left, "", o->help ? o->help : "");
    }
}

void cli_print_options(const struct cli_command *c, FILE *out)
{
    for (int g = 0; g < CLI_MAX_GROUPS; g++) {
        if (!c->groups[g].opts || c->groups[g].opts->kind == CLI_K_END)
            continue;
        if (c->groups[g].title)
            fprintf(out, " %s:\n", c->groups[g].title);
        print_group(&c->groups[g], out);
    }
}

void cli_print_help(const struct cli_command *c, FILE *out)
{
    usage_line(c, out);
    if (c->summary)
        fprintf(out, "\n%s\n", c->summary);
    for (int g = 0; g < CLI_MAX_GROUPS; g++) {
        if (!c->groups[g].opts || c->groups[g].opts->kind == CLI_K_END)
            continue;
        fprintf(out, "\n%s:\n", c->groups[g].title ? c->groups[g].title : "options");
        print_group(&c->groups[g], out);
    }
    fprintf(out, "  %-24s %s\n", "-h, --help", "this help");
    fprintf(out, "  %-24s %s\n", "-V, --version", "the program's version");
    if (c->epilogue)
        fprintf(out, "\n%s", c->epilogue);
}

bool cli_is_stdout(const char *path)
{
    return path && !strcmp(path, "-");
}

FILE *cli_open_output(const char *path, const char *mode)
{
    if (cli_is_stdout(path))
        return stdout;
    return fopen(path, mode);
}

void cli_close_output(FILE *f)
{
    if (!f)
        return;
    if (f == stdout)
        fflush(f);
    else
        fclose(f);
}
