/* The replay report: counts by HTTP status and outcome, accept and outcome latency percentiles,
 * throughput per second over the run, the tiers and the verdict of every invariant — printed for
 * people and written as JSON for bench/ and for CI artifacts. */
#ifndef BK_TOOLS_REPLAY_REPORT_H
#define BK_TOOLS_REPLAY_REPORT_H

#include "common/err.h"
#include "tools/replay/engine.h"
#include "tools/replay/pgstate.h"
#include "tools/replay/trace.h"
#include "tools/replay/verify.h"

#include <stdio.h>

typedef struct bk_report bk_report;

typedef struct bk_report_input {
    const char *trace_path;
    const bk_trace *trace;
    const bk_engine_opts *opts;
    const bk_engine_rec *recs;
    const bk_engine_totals *totals;
    const char *reset_spec; /* NULL when the tiers were not reset */
    const bk_verify_report *verify;
    const bk_verify_tier *tiers; /* NULL (and n_tiers 0) without --pg */
    size_t n_tiers;
    const bk_pgstate_span *span; /* NULL without --pg */
} bk_report_input;

/* Computes every figure of the report; in (and what it points to) must outlive the report. */
bk_report *bk_report_new(const bk_report_input *in, bk_err *err);

void bk_report_free(bk_report *rep);

/* The verdict: 1 when no invariant was breached and the run was not cut short. */
int bk_report_ok(const bk_report *rep);

/* The human report; per_second adds the table of each second of the run. */
void bk_report_print(const bk_report *rep, FILE *out, int per_second);

/* Writes the JSON report to path (replaced atomically: written to path.tmp, then renamed). */
int bk_report_write_json(const bk_report *rep, const char *path, bk_err *err) BK_WARN_UNUSED;

#endif
