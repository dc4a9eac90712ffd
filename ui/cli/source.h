/*
 * source.h — where the commands get a timeline from (docs/architecture.md):
 * a scenario run once on the virtual link, or a packet capture
 * (capture.h). `tcplab play` and `tcplab export` share it, so a capture
 * plays, dumps and exports exactly like a lesson.
 *
 * Both print their own messages on stderr, prefixed "tcplab PROG: ", and
 * return the exit status to use when they fail (commands.h).
 */
#ifndef TCPLAB_SOURCE_H
#define TCPLAB_SOURCE_H

#include <stdbool.h>

#include "scenario.h"

/* Read a capture and pick one connection: `conn` (the --conn filter) or,
 * with several and no filter, ask on the terminal when `choose` (else list
 * them and fail). Returns 0 with *tl set, or EXIT_USAGE. */
int ui_source_capture(const char *prog, const char *path, const char *conn, bool choose,
                      struct scn_timeline **tl);

/* Parse a scenario and run it once on the virtual link. Returns 0 with *tl
 * set (*failures: expectations that did not hold), EXIT_USAGE for a bad
 * file, EXIT_NETWORK when it could not run. */
int ui_source_scenario(const char *prog, const char *path, struct scn_timeline **tl,
                       unsigned *failures);

#endif
