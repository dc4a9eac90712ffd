/*
 * scnrun.h — a scenario text run once on the virtual link, for the tests of
 * what is built from a recorded run (the UI's player, the quiz, the views).
 * The test fails at the caller's run on a parse error or an expectation
 * that did not hold, so the record the test inspects is a good one.
 */
#ifndef TCPLAB_SCNRUN_H
#define TCPLAB_SCNRUN_H

#include "scenario.h"

/* Parse `text` (named `name` in messages) and run it: *s, *res, *tl as
 * scn_parse_string and scn_run give them. */
void scnrun_text(const char *name, const char *text, struct scn **s, struct scn_result *res,
                 struct scn_timeline **tl);
void scnrun_free(struct scn *s, struct scn_result *res, struct scn_timeline *tl);

#endif
