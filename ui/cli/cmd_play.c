/*
 * cmd_play.c — `tcplab play`: run a scenario once, record its timeline, and
 * let a teacher walk through it in the terminal (or, headless, print the
 * screen after N steps).
 *
 * Data flow: scn_parse_file -> scn_run (records every event) -> ui_player
 * (position in the record) -> ui_render_play (screen model) -> term (the
 * only ncurses user) or screen_write_text (--dump-screen). Stepping back
 * rebuilds the picture from the record; the network is never run twice.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "cli.h"
#include "commands.h"
#include "export.h"
#include "lessons.h"
#include "pkt.h"
#include "player.h"
#include "quiz.h"
#include "scn_internal.h" /* the file's own seed, for the trace's start record */
#include "screen.h"
#include "source.h"
#include "term.h"
#include "timeline_out.h"
#include "tun_dev.h"
#include "view.h"

struct play_args {
    bool tun, ascii, zh, quiz, time_true, cwnd;
    double speed;
    long dump_steps; /* -1: interactive */
    int w, h;
    const char *lang; /* --lang, or NULL: from the locale */
    const char *path;
    const char *conn;         /* --conn: which connection of a capture */
    const char *pcap, *trace; /* --pcap, --trace: the run written out */
    bool files_only;          /* --pcap/--trace without a terminal: no UI */
};

/* --size WxH */
static int parse_size(void *base, const char *v, char *why, size_t cap)
{
    struct play_args *a = base;
    if (sscanf(v, "%dx%d%c", &a->w, &a->h, (char[]){0}) != 2 || a->w < 10 || a->h < 5 ||
        a->w > 1000 || a->h > 500) {
        snprintf(why, cap, "give WIDTHxHEIGHT such as 100x30 (10x5 to 1000x500)");
        return -1;
    }
    return 0;
}

/* --dump-screen N or end; a step past the last is an error once the run's
 * length is known. */
#define DUMP_END LONG_MAX
static int parse_dump(void *base, const char *v, char *why, size_t cap)
{
    struct play_args *a = base;
    char *end;
    if (!strcmp(v, "end")) {
        a->dump_steps = DUMP_END;
        return 0;
    }
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || errno || n > 1000000) {
        snprintf(why, cap, "give a step number (0 and up) or 'end'");
        return -1;
    }
    a->dump_steps = n;
    return 0;
}

static const struct cli_opt play_opts[] = {
    CLI_FLAG("tun", 0, struct play_args, tun,
             "the peer is the kernel's own sockets on a TUN device (root)"),
    CLI_CHOICE("lang", 0, struct play_args, lang, "en|zh",
               "narration language (default: from LANG / LC_ALL)", "en", "zh"),
    CLI_DOUBLE("speed", 0, struct play_args, speed, "X", UI_SPEED_MIN, UI_SPEED_MAX,
               "playback speed, 0.25 to 16 (default 1)"),
    CLI_FLAG("ascii", 0, struct play_args, ascii, "draw with ASCII only (no line drawing)"),
    CLI_FLAG("quiz", 0, struct play_args, quiz,
             "predict each step before it plays (docs/quiz.md); with --dump-screen N, the "
             "question asked before step N+1"),
    CLI_CUSTOM("dump-screen", 0, "N", parse_dump,
               "no UI: print the screen after step N (0: before the first; 'end': the last)"),
    CLI_FLAG("time", 0, struct play_args, time_true,
             "start with the time-true ladder (key t): time runs down"),
    CLI_FLAG("cwnd", 0, struct play_args, cwnd,
             "start with the congestion window graph under the ladder (key c)"),
    CLI_CUSTOM("size", 0, "WxH", parse_size, "screen size for --dump-screen (100x30)"),
    CLI_OUTPUT("pcap", 0, struct play_args, pcap, "FILE",
               "also write the run's packets, narration as pcapng comments ('-': stdout)"),
    CLI_OUTPUT("trace", 0, struct play_args, trace, "FILE",
               "also write the run's events as JSON Lines ('-': stdout)"),
    CLI_STRING("conn", 0, struct play_args, conn, "FILTER",
               "a capture's connection: N from the list, PORT, ADDR[:PORT] or "
               "ADDR:PORT-ADDR:PORT (default: the only one, or ask)"),
    CLI_END,
};

const struct cli_command play_command = {
    .name = "play",
    .synopsis = "[--tun] [--lang en|zh] [--speed X] [--ascii] [--quiz] [--dump-screen N "
                "[--size WxH]] [--time] [--cwnd] [--pcap FILE] [--trace FILE] [--conn FILTER] "
                "SCENARIO",
    .summary = "Animate a scenario in the terminal: the ladder of segments, each side's state,\n"
               "timers, socket calls and the narration. SCENARIO is a .tcps file, a lesson\n"
               "by number or name ('tcplab play 4', 'tcplab play teardown'; 'tcplab lessons'\n"
               "lists them), a packetdrill .pkt script, or a pcap/pcapng capture (tcpdump -w,\n"
               "Wireshark: one TCP connection, states inferred). With --pcap or --trace and\n"
               "no terminal (or no --dump-screen), the run is only written out:\n"
               "'tcplab play 2 --pcap - | tshark -r - -T fields -e frame.comment'.",
    .groups = {{NULL, play_opts}},
    .min_args = 1,
    .max_args = 1,
    .args_what = "which scenario? give a lesson number, a name or a .tcps file",
    .epilogue = "keys: space play/pause, \u2192/n step, \u2190/b back, +/- speed, Home/End,\n"
                "      \u2191/\u2193 select, d details, a abs/rel, g diagram, c cwnd graph,\n"
                "      l language, p quiz, t time-true ladder, e export the step as SVG,\n"
                "      ? help, q quit\n",
};

static int parse_args(int argc, char **argv, struct play_args *a)
{
    memset(a, 0, sizeof *a);
    a->speed = 1;
    a->dump_steps = -1;
    a->w = 100;
    a->h = 30;
    struct cli_parsed p;
    enum cli_result r = cli_parse(&play_command, argc, argv, (void *[]){a}, &p);
    if (r != CLI_OK)
        return r == CLI_EXIT0 ? 1 : -1;
    a->path = p.args[0];
    a->zh = a->lang ? !strcmp(a->lang, "zh") : ui_locale_is_zh();
    if (cli_is_stdout(a->pcap) && cli_is_stdout(a->trace)) {
        cli_usage_error(&play_command, "--pcap and --trace cannot both write to standard "
                                       "output ('-')");
        return -1;
    }
    if (a->dump_steps >= 0 && (cli_is_stdout(a->pcap) || cli_is_stdout(a->trace))) {
        cli_usage_error(&play_command, "--dump-screen prints the screen on standard output: "
                                       "give --pcap/--trace a file name, not '-'");
        return -1;
    }
    /* Written out only: a pipe, a script, or output on stdout. */
    a->files_only = (a->pcap || a->trace) && a->dump_steps < 0 &&
                    (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || cli_is_stdout(a->pcap) ||
                     cli_is_stdout(a->trace));
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *title_of(const struct scn_timeline *tl, bool zh, const char *path)
{
    const char *t = zh ? tl->title_zh : tl->title_en;
    if (!t || !*t)
        t = zh ? tl->title_en : tl->title_zh;
    if (!t || !*t) {
        const char *slash = strrchr(path, '/');
        t = slash ? slash + 1 : path;
    }
    return t;
}

/* Move the selection to the previous / next row that has a segment. */
static void select_arrow(const struct ui_model *m, struct ui_view_opts *o, int dir)
{
    int cur = ui_ladder_selected(m, o);
    for (int r = cur + dir; r >= 0 && (size_t)r < m->nrows; r += dir)
        if (m->rows[r].has_arrow) {
            o->selected = r;
            return;
        }
    if (dir > 0)
        o->selected = -1; /* past the newest: follow the newest again */
}

/* The quiz (key p, --quiz): built from the record the first time it is
 * turned on. */
struct play_quiz {
    bool built, on;
    struct quiz_session s;
};

static bool quiz_turn_on(struct play_quiz *pq, const struct scn_timeline *tl,
                         struct ui_view_opts *o)
{
    if (!pq->built) {
        if (quiz_session_init(&pq->s, tl) < 0)
            return false;
        pq->built = true;
    }
    pq->on = true;
    o->quiz = &pq->s;
    return true;
}

/* → in quiz mode: ask the next question of the coming step, or play it. */
static void quiz_forward(struct play_quiz *pq, struct ui_player *p, struct ui_view_opts *o)
{
    size_t i = quiz_session_pending(&pq->s, p->step + 1);
    if (i != SIZE_MAX && p->step < p->tl->nsteps) {
        quiz_session_ask(&pq->s, i);
        return;
    }
    pq->s.phase = QUIZ_IDLE;
    ui_player_next(p);
    o->selected = -1;
}

/* A key while a question is asked. True if the quiz took it. */
static bool quiz_key(int key, struct play_quiz *pq, struct ui_player *p, struct ui_view_opts *o)
{
    struct quiz_session *s = &pq->s;
    const struct quiz_q *q = &s->qz.q[s->cur];
    char given[16];
    bool answered = false;
    if (key == 's') {
        quiz_session_skip(s);
        answered = true;
    } else if (q->nchoices && key >= '1' && key < '1' + q->nchoices) {
        snprintf(given, sizeof given, "%c", key);
        answered = quiz_session_answer(s, given) != QUIZ_INVALID;
    } else if (!q->nchoices && ((key >= '0' && key <= '9') || (key == '-' && !s->input[0]))) {
        size_t n = strlen(s->input);
        if (n + 1 < sizeof s->input) {
            s->input[n] = (char)key;
            s->input[n + 1] = 0;
        }
    } else if (!q->nchoices && key == TK_BACKSPACE) {
        size_t n = strlen(s->input);
        if (n)
            s->input[n - 1] = 0;
    } else if (!q->nchoices && key == TK_ENTER && s->input[0]) {
        answered = quiz_session_answer(s, s->input) != QUIZ_INVALID;
    } else if (key == TK_LEFT || key == 'b') {
        s->phase = QUIZ_IDLE; /* not answered: asked again next time */
        return false;
    } else {
        /* Keys that only look (language, help, details, quit) still work;
         * keys that would move on wait for the answer. */
        return key == ' ' || key == TK_RIGHT || key == 'n' || key == TK_ENTER || key == TK_END ||
               (key >= '0' && key <= '9') || key == '-' || key == '+';
    }
    if (answered && quiz_session_pending(s, p->step + 1) == SIZE_MAX) {
        ui_player_next(p); /* the step plays: its narration explains */
        o->selected = -1;
    }
    return true;
}

/* One key. Returns false to quit. */
static bool handle_key(int key, struct ui_player *p, struct ui_view_opts *o, int screen_h,
                       struct play_quiz *pq)
{
    if (o->help && key != TK_NONE && key != TK_RESIZE) {
        int pages = ui_help_pages(screen_h);
        if (pages > 1 && (key == TK_RIGHT || key == 'n' || key == ' ' || key == TK_PGDN)) {
            o->help_page = (o->help_page + 1) % pages; /* a page of keys on a short screen */
            return true;
        }
        if (pages > 1 && (key == TK_LEFT || key == 'b' || key == TK_PGUP)) {
            o->help_page = (o->help_page + pages - 1) % pages;
            return true;
        }
        o->help = false; /* any other key closes the help */
        o->help_page = 0;
        return key != 'q' && key != 'Q';
    }
    if (pq->on && pq->s.phase == QUIZ_ASKING && quiz_key(key, pq, p, o))
        return true;
    if (pq->on && (key == ' ' || key == TK_RIGHT || key == 'n')) {
        p->playing = false; /* each step waits for its questions */
        quiz_forward(pq, p, o);
        return true;
    }
    switch (key) {
    case 'q':
    case 'Q':
    case TK_EOF:
        return false;
    case ' ':
        ui_player_toggle_play(p);
        break;
    case TK_RIGHT:
    case 'n':
        ui_player_next(p);
        o->selected = -1;
        break;
    case TK_LEFT:
    case 'b':
        ui_player_prev(p);
        o->selected = -1;
        pq->s.phase = QUIZ_IDLE;
        break;
    case 't':
        o->time_true = !o->time_true;
        o->ladder_scroll = 0;
        break;
    case 'p':
        if (pq->on) {
            pq->on = false;
            o->quiz = NULL;
        } else if (quiz_turn_on(pq, p->tl, o)) {
            p->playing = false;
            pq->s.phase = QUIZ_IDLE;
        }
        break;
    case '+':
    case '=':
        ui_player_faster(p);
        break;
    case '-':
    case '_':
        ui_player_slower(p);
        break;
    case TK_HOME:
        ui_player_first(p);
        o->selected = -1;
        break;
    case TK_END:
        ui_player_last(p);
        o->selected = -1;
        break;
    case TK_UP:
    case 'k':
        select_arrow(&p->model, o, -1);
        break;
    case TK_DOWN:
    case 'j':
        select_arrow(&p->model, o, +1);
        break;
    case TK_PGUP:
        if (o->details)
            o->details_scroll = o->details_scroll > 5 ? o->details_scroll - 5 : 0;
        else if ((size_t)(o->ladder_scroll + screen_h / 3) < p->model.nrows)
            o->ladder_scroll += screen_h / 3;
        else
            o->ladder_scroll = (int)p->model.nrows;
        break;
    case TK_PGDN:
        if (o->details)
            o->details_scroll += 5;
        else
            o->ladder_scroll =
                o->ladder_scroll > screen_h / 3 ? o->ladder_scroll - screen_h / 3 : 0;
        break;
    case 'a':
        o->absolute = !o->absolute;
        break;
    case 'd':
        o->details = !o->details;
        o->graph = false;
        o->details_scroll = 0;
        break;
    case 'g':
        o->graph = !o->graph;
        o->details = false;
        break;
    case 'c':
        o->cc_graph = !o->cc_graph;
        o->details = o->graph = false;
        break;
    case 'l':
        o->zh = !o->zh;
        break;
    case '?':
        o->help = true;
        break;
    case TK_ESC:
        o->help = o->details = o->graph = o->cc_graph = false;
        break;
    default:
        break;
    }
    return true;
}

/* Key e: the current step as SVG, tcplab-LESSON-stepK.svg in the current
 * directory; the key bar says where (or why not). */
static void export_step(const struct ui_player *p, struct ui_view_opts *o, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[100];
    snprintf(name, sizeof name, "%.99s", base);
    char *dot = strrchr(name, '.');
    if (dot && dot != name)
        *dot = 0;
    char file[140];
    snprintf(file, sizeof file, "tcplab-%s-step%zu.svg", name, p->step);
    struct ui_export_doc doc;
    if (ui_export_build(&doc, p->tl, o->absolute) != 0) {
        snprintf(o->note, sizeof o->note, "export: out of memory");
        return;
    }
    struct ui_export_opts eo = {.format = UI_EXPORT_SVG,
                                .step = p->step,
                                .zh = o->zh,
                                .absolute = o->absolute,
                                .source = path,
                                .mode = o->mode};
    FILE *f = fopen(file, "w");
    int rc = f ? ui_export_write(f, &doc, &eo) : -errno;
    if (f && fclose(f) != 0 && rc == 0)
        rc = -errno;
    ui_export_free(&doc);
    if (rc)
        snprintf(o->note, sizeof o->note, "%s %s: %s", o->zh ? "无法写入" : "cannot write", file,
                 strerror(-rc));
    else
        snprintf(o->note, sizeof o->note, "%s %s", o->zh ? "已导出" : "wrote", file);
}

static int interactive(struct ui_player *p, struct ui_view_opts *o, const struct play_args *a,
                       const struct scn_timeline *tl, struct play_quiz *pq)
{
    char err[256];
    struct term *t = term_open(err, sizeof err);
    if (!t) {
        fprintf(stderr, "tcplab play: %s\n", err);
        return EXIT_USAGE;
    }
    int w, h;
    term_size(t, &w, &h);
    struct screen *s = screen_new(w, h);
    if (!s) {
        term_close(t);
        fprintf(stderr, "tcplab play: out of memory\n");
        return EXIT_NETWORK;
    }
    s->ascii = a->ascii;
    double last = now_s();
    bool running = true;
    while (running) {
        o->title = title_of(tl, o->zh, a->path);
        /* Blink the changed state box a few times after a change. */
        o->flash = p->flash_s > 0 && ((int)(p->flash_s * 5) % 2 == 0);
        ui_render_play(s, p, o);
        term_blit(t, s);
        bool busy = ui_player_busy(p);
        int key = term_getkey(t, busy ? 33 : -1);
        double now = now_s();
        double dt = busy ? now - last : 0;
        last = now;
        if (key == TK_RESIZE) {
            term_size(t, &w, &h);
            screen_resize(s, w, h);
        } else if (key == 'e' && !o->help && !(pq->on && pq->s.phase == QUIZ_ASKING)) {
            export_step(p, o, a->path);
        } else if (key != TK_NONE) {
            o->note[0] = 0;
            running = handle_key(key, p, o, h, pq);
        }
        if (dt > 0.25)
            dt = 0.25; /* after a stall, do not jump */
        if (busy)
            ui_player_tick(p, dt);
    }
    screen_free(s);
    term_close(t);
    return 0;
}

/* A packetdrill script (.pkt) is run by pkt/ on the virtual clock; its
 * record plays like a scenario's (one step per script line). */
static int play_load_pkt(const struct play_args *a, struct scn_timeline **tl,
                         struct scn_result *res)
{
    if (a->tun) {
        fprintf(stderr, "tcplab play: a .pkt script runs on the virtual clock only; run it "
                        "without --tun\n");
        return EXIT_USAGE;
    }
    struct pkt_config cfg;
    pkt_config_defaults(&cfg);
    struct pkt_error err;
    struct pkt_result pr;
    if (pkt_run_file(a->path, &cfg, &pr, tl, &err) != 0) {
        pkt_error_print(&err, stderr);
        return EXIT_USAGE;
    }
    if (pr.verdict == PKT_SKIP || !*tl) {
        fprintf(stderr, "tcplab play: cannot play %s: %s\n", a->path,
                pr.report ? pr.report : "out of memory");
        pkt_result_free(&pr);
        scn_timeline_free(*tl);
        *tl = NULL;
        return pr.verdict == PKT_SKIP ? EXIT_USAGE : EXIT_NETWORK;
    }
    if (a->dump_steps < 0 && !a->files_only && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "tcplab play: not a terminal: the interactive UI needs one (use "
                        "--dump-screen N for text output)\n");
        pkt_result_free(&pr);
        scn_timeline_free(*tl);
        *tl = NULL;
        return EXIT_USAGE;
    }
    if (pr.verdict == PKT_FAIL) {
        res->failures = 1;
        if (a->dump_steps < 0)
            fprintf(stderr, "%s", pr.report ? pr.report : "");
    }
    pkt_result_free(&pr);
    return 0;
}

int cmd_play(int argc, char **argv)
{
    struct play_args a;
    int r = parse_args(argc, argv, &a);
    if (r != 0)
        return r > 0 ? 0 : EXIT_USAGE;
    bool utf8 = ui_locale_init();

    /* `play 4`, `play teardown`: a lesson by number or name, from any directory. */
    char found[4096];
    struct stat st;
    if (ui_lesson_find(a.path, found, sizeof found) == 0) {
        a.path = found;
    } else if (stat(a.path, &st) != 0 && !strchr(a.path, '/')) {
        fprintf(stderr,
                "tcplab play: no scenario file or lesson '%s' ('tcplab lessons' lists the "
                "lessons; give a number, a name or a .tcps file)\n",
                a.path);
        return EXIT_USAGE;
    }
    /* The parser would only say "read error" for a directory. */
    if (stat(a.path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "tcplab play: %s is a directory: give one scenario file, e.g. "
                "scenarios/lessons/01-socket-calls.tcps\n",
                a.path);
        return EXIT_USAGE;
    }
    struct scn *scn = NULL;
    struct scn_result res;
    memset(&res, 0, sizeof res);
    struct scn_timeline *tl = NULL;
    uint64_t wall_t0 = 0;
    bool capture = cap_is_capture(a.path);
    if (a.conn && !capture) {
        fprintf(stderr, "tcplab play: --conn is for a capture (pcap / pcapng); %s is not one\n",
                a.path);
        return EXIT_USAGE;
    }
    if (capture && (a.pcap || a.trace)) {
        fprintf(stderr,
                "tcplab play: %s is a capture already: --pcap and --trace write a "
                "run of a scenario or a .pkt script\n",
                a.path);
        return EXIT_USAGE;
    }
    if (capture) {
        /* A capture plays what was recorded: one connection, states inferred. */
        if (a.tun) {
            fprintf(stderr,
                    "tcplab play: %s is a capture: it plays what was recorded, there "
                    "is nothing to run with --tun\n",
                    a.path);
            return EXIT_USAGE;
        }
        bool terminal = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        int cr = ui_source_capture("play", a.path, a.conn, a.dump_steps < 0 && terminal, &tl);
        if (cr != 0)
            return cr;
        if (a.dump_steps < 0 && !terminal) {
            fprintf(stderr, "tcplab play: not a terminal: the interactive UI needs one (use "
                            "--dump-screen N for text output)\n");
            scn_timeline_free(tl);
            return EXIT_USAGE;
        }
        goto play;
    }
    if (pkt_is_script_path(a.path)) {
        int pr = play_load_pkt(&a, &tl, &res);
        if (pr != 0)
            return pr;
        goto play;
    }
    struct scn_error err;
    memset(&err, 0, sizeof err);
    scn = scn_parse_file(a.path, &err);
    if (!scn) {
        scn_error_print(&err, stderr);
        return EXIT_USAGE;
    }
    if (a.tun && !scn_supports_tun(scn)) {
        fprintf(stderr,
                "tcplab play: %s cannot run against kernel sockets (no 'tun yes' in it); "
                "run it without --tun\n",
                a.path);
        scn_free(scn);
        return EXIT_USAGE;
    }
    /* Before the scenario runs (with --tun it creates a device). */
    if (a.dump_steps < 0 && !a.files_only && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "tcplab play: not a terminal: the interactive UI needs one (use "
                        "--dump-screen N for text output)\n");
        scn_free(scn);
        return EXIT_USAGE;
    }
    /* With --tun the run gets a network namespace of its own, as `replay
     * --tun` does: a kernel socket left by a previous run (its FIN still being
     * retransmitted to 10.7.0.2) would otherwise arrive here as a stray
     * segment. Best effort: without the right, the current one is used. */
    if (a.tun)
        tun_netns_fresh();
    struct scn_run_opts ro = {.tun = a.tun};
    wall_t0 = timeline_out_wall_now();
    int rc = scn_run(scn, &ro, &res, &tl);
    if (rc < 0 || !tl) {
        fprintf(stderr, "tcplab play: could not run %s: %s\n", a.path,
                res.report ? res.report : strerror(-rc));
        scn_result_free(&res);
        scn_free(scn);
        return EXIT_NETWORK;
    }

play:;
    if (a.pcap || a.trace) {
        struct timeline_out to = {.trace_path = a.trace,
                                  .pcap_path = a.pcap,
                                  .zh = a.zh,
                                  .source = "play",
                                  .scenario = a.path,
                                  .seed = scn ? scn->seed : 0,
                                  .wall_t0_us = wall_t0};
        int wr = timeline_out_write(tl, &to, "play");
        if (wr < 0 || a.files_only) {
            if (wr == 0 && res.failures)
                fprintf(stderr, "tcplab play: %u expectation(s) did not hold\n", res.failures);
            scn_timeline_free(tl);
            scn_result_free(&res);
            scn_free(scn);
            return wr < 0 ? EXIT_USAGE : 0;
        }
    }
    struct ui_player p;
    ui_player_init(&p, tl);
    ui_player_set_speed(&p, a.speed);
    struct ui_view_opts o;
    ui_view_opts_defaults(&o);
    o.zh = a.zh;
    o.mode = capture ? "CAPTURE" : tl->tun ? "TUN" : "VIRTUAL";
    o.title = title_of(tl, o.zh, a.path);
    o.time_true = a.time_true;
    o.cc_graph = a.cwnd;

    int status = 0;
    struct play_quiz pq;
    memset(&pq, 0, sizeof pq);
    if (a.dump_steps == DUMP_END)
        a.dump_steps = (long)tl->nsteps;
    if (a.dump_steps > (long)tl->nsteps) {
        fprintf(stderr,
                "tcplab play: --dump-screen %ld is past the end: %s has %zu steps (give 0 to "
                "%zu)\n",
                a.dump_steps, a.path, tl->nsteps, tl->nsteps);
        status = EXIT_USAGE;
    } else if (a.quiz && !quiz_turn_on(&pq, tl, &o)) {
        fprintf(stderr, "tcplab play: out of memory\n");
        status = EXIT_NETWORK;
    } else if (a.dump_steps >= 0) {
        struct screen *s = screen_new(a.w, a.h);
        if (s) {
            s->ascii = a.ascii;
            ui_player_seek(&p, (size_t)a.dump_steps);
            if (pq.on) /* what is asked before the next step */
                quiz_forward(&pq, &p, &o);
            if (pq.on && pq.s.phase != QUIZ_ASKING) /* nothing asked: step N as it was */
                ui_player_seek(&p, (size_t)a.dump_steps);
            ui_render_play(s, &p, &o);
            screen_write_text(s, stdout);
            screen_free(s);
        }
    } else {
        if (!utf8 && !a.ascii) {
            fprintf(stderr, "tcplab play: the locale is not UTF-8; drawing with ASCII "
                            "(set LANG=C.UTF-8 or similar for line drawing)\n");
            a.ascii = true;
        }
        if (res.failures)
            fprintf(stderr, "tcplab play: %u expectation(s) did not hold; steps marked\n",
                    res.failures);
        status = interactive(&p, &o, &a, tl, &pq);
    }
    if (pq.built)
        quiz_session_free(&pq.s);
    ui_player_free(&p);
    scn_timeline_free(tl);
    scn_result_free(&res);
    scn_free(scn);
    return status;
}
