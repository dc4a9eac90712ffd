/*
 * scnrun.c — see scnrun.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scnrun.h"

void scnrun_text(const char *name, const char *text, struct scn **s, struct scn_result *res,
                 struct scn_timeline **tl)
{
    struct scn_error err;
    memset(res, 0, sizeof *res);
    *s = scn_parse_string(name, text, strlen(text), &err);
    if (!*s)
        fail_msg("parse: %d:%d: %s", err.line, err.col, err.msg);
    struct scn_run_opts opts = {0};
    assert_int_equal(scn_run(*s, &opts, res, tl), 0);
    assert_int_equal(res->failures, 0);
}

void scnrun_free(struct scn *s, struct scn_result *res, struct scn_timeline *tl)
{
    scn_result_free(res);
    scn_timeline_free(tl);
    scn_free(s);
}
