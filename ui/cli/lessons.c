/*
 * lessons.c — find lessons and regression scenarios by short name in the
 * data roots (lessons.h), so `tcplab play 4` works from any directory once
 * tcplab is installed, and in the source tree before.
 */
#include "lessons.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TCPLAB_DATADIR
#define TCPLAB_DATADIR "/usr/local/share/tcplab"
#endif
#ifndef TCPLAB_SOURCE_DIR
#define TCPLAB_SOURCE_DIR "."
#endif

bool ui_locale_is_zh(void)
{
    const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return !strncmp(v, "zh", 2);
    }
    return false;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Data root number i (lessons.h's order) into out; false when there is none. */
static bool root_at(int i, char *out, size_t cap)
{
    switch (i) {
    case 0: {
        const char *env = getenv("TCPLAB_DATA");
        if (!env || !*env)
            return false;
        snprintf(out, cap, "%s", env);
        return true;
    }
    case 1: {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            return false;
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (!slash)
            return false;
        *slash = 0;
        char *up = strrchr(exe, '/'); /* .../bin/tcplab -> .../share/tcplab */
        if (!up)
            return false;
        *up = 0;
        return snprintf(out, cap, "%s/share/tcplab", exe) < (int)cap;
    }
    case 2:
        snprintf(out, cap, "%s", TCPLAB_DATADIR);
        return true;
    case 3:
        snprintf(out, cap, "%s/scenarios", TCPLAB_SOURCE_DIR);
        return true;
    default:
        return false;
    }
}

#define NROOTS 4

int ui_lesson_root(char *out, size_t cap)
{
    char root[PATH_MAX], dir[PATH_MAX + 16];
    for (int i = 0; i < NROOTS; i++) {
        if (!root_at(i, root, sizeof root))
            continue;
        snprintf(dir, sizeof dir, "%s/lessons", root);
        if (is_dir(dir)) {
            snprintf(out, cap, "%s", root);
            return 0;
        }
    }
    return -ENOENT;
}

/* "04-teardown.tcps" matches "4", "04", "teardown", "04-teardown" and
 * "04-teardown.tcps"; a regression file "handshake.tcps" matches its name. */
static bool name_matches(const char *file, const char *want)
{
    size_t fl = strlen(file);
    if (fl <= 5 || strcmp(file + fl - 5, ".tcps") != 0)
        return false;
    size_t stem = fl - 5;
    size_t wl = strlen(want);
    if (wl > 5 && strcmp(want + wl - 5, ".tcps") == 0)
        wl -= 5;
    if (wl == 0)
        return false;
    if (wl == stem && !strncmp(file, want, wl))
        return true;
    /* the number of a lesson, with or without its leading zero */
    bool digits = true;
    for (size_t i = 0; i < wl; i++)
        digits &= isdigit((unsigned char)want[i]) != 0;
    if (digits && isdigit((unsigned char)file[0])) {
        char *end;
        long a = strtol(file, &end, 10), b = strtol(want, NULL, 10);
        return *end == '-' && a == b;
    }
    /* the topic after "NN-" */
    const char *dash = strchr(file, '-');
    if (dash && isdigit((unsigned char)file[0]))
        return (size_t)(file + stem - (dash + 1)) == wl && !strncmp(dash + 1, want, wl);
    return false;
}

static int find_in_dir(const char *dir, const char *want, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return -ENOENT;
    int r = -ENOENT;
    struct dirent *e;
    char best[256] = "";
    while ((e = readdir(d))) {
        /* the lowest-sorting match, so the answer never depends on readdir's order */
        if (name_matches(e->d_name, want) && (!best[0] || strcmp(e->d_name, best) < 0))
            snprintf(best, sizeof best, "%s", e->d_name);
    }
    closedir(d);
    if (best[0]) {
        snprintf(out, cap, "%s/%s", dir, best);
        r = 0;
    }
    return r;
}

int ui_lesson_find(const char *arg, char *out, size_t cap)
{
    if (is_file(arg) || strchr(arg, '/')) {
        snprintf(out, cap, "%s", arg);
        return is_file(arg) ? 0 : -ENOENT;
    }
    char root[PATH_MAX], dir[PATH_MAX + 16];
    for (int i = 0; i < NROOTS; i++) {
        if (!root_at(i, root, sizeof root))
            continue;
        static const char *const sub[] = {"lessons", "regress"};
        for (size_t k = 0; k < 2; k++) {
            snprintf(dir, sizeof dir, "%s/%s", root, sub[k]);
            if (find_in_dir(dir, arg, out, cap) == 0)
                return 0;
        }
    }
    snprintf(out, cap, "%s", arg);
    return -ENOENT;
}
