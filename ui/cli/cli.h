/*
 * cli.h — the one command-line parser every tcplab subcommand uses
 * (getopt_long underneath), so every command takes `--opt value` and
 * `--opt=value`, words its mistakes the same way and prints help from the
 * same table it parses with.
 *
 * A command describes itself with a `struct cli_command`: its synopsis, a
 * summary, and up to CLI_MAX_GROUPS tables of options. Each option says
 * where its value goes (an offset into the group's own struct, type-checked
 * by the CLI_* macros) and what it accepts:
 *
 *   static const struct cli_opt my_opts[] = {
 *       CLI_FLAG("update", 0, struct my_args, update, "write the golden traces"),
 *       CLI_LONG("seed", 0, struct my_args, seed, "N", 1, UINT32_MAX, "use seed N"),
 *       CLI_OUTPUT("trace", 0, struct my_args, trace, "FILE", "JSON Lines ('-': stdout)"),
 *       CLI_END,
 *   };
 *   ... r = cli_parse(&my_cmd, argc, argv, (void *[]){&args}, &parsed);
 *       if (r != CLI_OK) return cli_exit_status(r);
 *
 * Adding an option is one line in a table (and a line in man/tcplab.1).
 * After a bad command line cli_parse has printed, on stderr:
 *   tcplab CMD: WHAT IS WRONG
 *   usage: tcplab CMD SYNOPSIS
 *   Try 'tcplab CMD --help'.
 * and the command exits with status 2. Every command also takes --help (-h)
 * and --version (-V).
 */
#ifndef TCPLAB_CLI_H
#define TCPLAB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_MAX_GROUPS  4
#define CLI_MAX_CHOICES 6

enum cli_kind {
    CLI_K_END,    /* ends a table */
    CLI_K_FLAG,   /* bool, set to true */
    CLI_K_STRING, /* const char *, the argument as given */
    CLI_K_OUTPUT, /* const char *, a file to write; "-" is standard output */
    CLI_K_LONG,   /* long, a whole number in [lo, hi] */
    CLI_K_DOUBLE, /* double, a finite number in [dlo, dhi] */
    CLI_K_CHOICE, /* const char *, one of choices[] */
    CLI_K_CUSTOM, /* parse(base, value, why): the option parses and stores itself */
};

struct cli_opt {
    const char *name; /* the long name, without "--" */
    char short_name;  /* a one-letter alias, or 0 */
    enum cli_kind kind;
    size_t offset;       /* of the value in the group's struct */
    const char *metavar; /* the value's name in help ("N", "FILE"); NULL for flags */
    const char *help;    /* one line for --help */
    long lo, hi;         /* CLI_K_LONG */
    double dlo, dhi;     /* CLI_K_DOUBLE */
    const char *choices[CLI_MAX_CHOICES]; /* CLI_K_CHOICE */
    /* CLI_K_CUSTOM: store the value in `base`; on a bad one return -1 and say
     * why in `why` (it is printed as "bad --NAME 'VALUE': WHY"). */
    int (*parse)(void *base, const char *value, char *why, size_t cap);
};

/* Each macro checks that the field has the type the kind stores. */
#define CLI_OFF_(T, f, type) _Generic(((T *)0)->f, type : offsetof(T, f))
#define CLI_OPT_(n, s, k, off, m, h)                                                               \
    .name = (n), .short_name = (s), .kind = (k), .offset = (off), .metavar = (m), .help = (h)
#define CLI_FLAG(n, s, T, f, h)                                                                    \
    {                                                                                              \
        CLI_OPT_(n, s, CLI_K_FLAG, CLI_OFF_(T, f, bool), NULL, h)                                  \
    }
#define CLI_STRING(n, s, T, f, m, h)                                                               \
    {                                                                                              \
        CLI_OPT_(n, s, CLI_K_STRING, CLI_OFF_(T, f, const char *), m, h)                           \
    }
#define CLI_OUTPUT(n, s, T, f, m, h)                                                               \
    {                                                                                              \
        CLI_OPT_(n, s, CLI_K_OUTPUT, CLI_OFF_(T, f, const char *), m, h)                           \
    }
#define CLI_LONG(n, s, T, f, m, l, hi_, h)                                                         \
    {                                                                                              \
        CLI_OPT_(n, s, CLI_K_LONG, CLI_OFF_(T, f, long), m, h), .lo = (l), .hi = (hi_)             \
    }
#define CLI_DOUBLE(n, s, T, f, m, l, hi_, h)                                                       \
    {                                                                                              \
        CLI_OPT_(n, s, CLI_K_DOUBLE, CLI_OFF_(T, f, double), m, h), .dlo = (l), .dhi = (hi_)       \
    }
#define CLI_CHOICE(n, s, T, f, m, h, ...)                                                          \
    {                                                                                              \
        CLI_OPT_(n, s, CLI_K_CHOICE, CLI_OFF_(T, f, const char *), m, h), .choices = {             \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }
#define CLI_CUSTOM(n, s, m, fn, h)                                                                 \
    {                                                                                              \
        CLI_OPT_(n, s, CLI_K_CUSTOM, 0, m, h), .parse = (fn)                                       \
    }
#define CLI_END                                                                                    \
    {                                                                                              \
        .kind = CLI_K_END                                                                          \
    }

struct cli_group {
    const char *title;          /* heading in --help ("net options"); NULL: "options" */
    const struct cli_opt *opts; /* ends with CLI_END */
};

struct cli_command {
    const char *name;     /* "replay" */
    const char *synopsis; /* after "tcplab NAME ": "[--tun] [--update] SCENARIO..." */
    const char *summary;  /* a paragraph for --help */
    struct cli_group groups[CLI_MAX_GROUPS];
    int min_args, max_args; /* positional arguments; max_args < 0: no limit */
    const char *args_what;  /* what is missing when too few ("which scenario? ...") */
    const char *epilogue;   /* printed after the options in --help (keys, exit status) */
};

struct cli_parsed {
    char **args; /* the positional arguments (pointers into argv) */
    int nargs;
};

enum cli_result {
    CLI_OK,    /* go on */
    CLI_EXIT0, /* --help or --version was printed */
    CLI_USAGE, /* a bad command line was reported */
};

/* Parse argv (argv[0] is the command's name). bases[g] is the struct that
 * group g's offsets point into. Options and arguments may be mixed; "--"
 * ends the options. */
enum cli_result cli_parse(const struct cli_command *c, int argc, char **argv, void *const *bases,
                          struct cli_parsed *out);

/* 0 for CLI_EXIT0, 2 (EXIT_USAGE) for CLI_USAGE. */
int cli_exit_status(enum cli_result r);

/* A mistake found after parsing (two options that do not go together):
 * prints it in cli_parse's style and returns 2, the exit status. */
int cli_usage_error(const struct cli_command *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The command's help: usage line, summary, every option, epilogue. */
void cli_print_help(const struct cli_command *c, FILE *out);
/* Only the options, indented, as in the top-level `tcplab --help`. */
void cli_print_options(const struct cli_command *c, FILE *out);

/* Open an output named by a CLI_K_OUTPUT option: "-" is standard output
 * (returned as stdout and never closed by cli_close_output). */
FILE *cli_open_output(const char *path, const char *mode);
void cli_close_output(FILE *f);
bool cli_is_stdout(const char *path);

#endif
