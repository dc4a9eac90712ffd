/*
 * lessons.h — where the installed (or in-tree) lessons and regression
 * scenarios live, and how a short name such as `4` or `teardown` finds one.
 *
 * A data root holds lessons/ and regress/ (the layout of scenarios/ in the
 * source tree and of share/tcplab/ once installed). Roots are searched in
 * this order, and the first that has the file wins:
 *   1. $TCPLAB_DATA, if set
 *   2. ../share/tcplab next to the program (an installed or unpacked tree)
 *   3. the data directory the build was configured for (CMAKE_INSTALL_DATADIR)
 *   4. scenarios/ of the source tree the program was built from
 */
#ifndef TCPLAB_LESSONS_H
#define TCPLAB_LESSONS_H

#include <stdbool.h>
#include <stddef.h>

/* Find the scenario `arg` names: an existing file as given; else, in the data
 * roots, lessons/NN-*.tcps for a number ("4", "04"), a lesson or regression
 * scenario by name ("teardown", "04-teardown", "handshake", with or without
 * .tcps). Writes the path to `out`. Returns 0, or -ENOENT. */
int ui_lesson_find(const char *arg, char *out, size_t cap);

/* The first data root that has a lessons/ directory; -ENOENT if none. */
int ui_lesson_root(char *out, size_t cap);

/* True when the locale asks for Chinese (LC_ALL, then LC_MESSAGES, then LANG). */
bool ui_locale_is_zh(void);

#endif
