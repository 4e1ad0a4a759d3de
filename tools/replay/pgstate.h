/* The replayer's view of PostgreSQL: optionally reset the tiers before a run (DESTRUCTIVE: it
 * empties the bookings table — for test and bench stacks only), then read the tiers and the
 * booking rows at the end so the invariants can be checked against what the API answered. */
#ifndef BK_TOOLS_REPLAY_PGSTATE_H
#define BK_TOOLS_REPLAY_PGSTATE_H

#include "common/err.h"
#include "tools/replay/verify.h"

#include <stddef.h>
#include <stdint.h>

#define BK_PGSTATE_TIERS_MAX 16

typedef struct bk_pgstate bk_pgstate;

/* One "TIER=CAPACITY" item of a --reset spec. */
typedef struct bk_pgstate_cap {
    char tier[BK_VERIFY_TIER_MAX];
    int64_t capacity;
} bk_pgstate_cap;

/* When the rows read by bk_pgstate_read_rows were decided (wall clock, epoch milliseconds). */
typedef struct bk_pgstate_span {
    size_t n_rows;
    int64_t first_decided_ms;
    int64_t last_decided_ms;
} bk_pgstate_span;

/* Parses "VIP=100,FRONT_ROW=200,GA=1000" (tier codes of 1..15 characters of [A-Z_], capacities
 * 0..2,000,000,000, no tier twice) into caps. Pure. */
int bk_pgstate_parse_caps(const char *spec, bk_pgstate_cap *caps, size_t max_caps, size_t *n_caps,
                          bk_err *err) BK_WARN_UNUSED;

/* Connects; NULL with err set when PostgreSQL cannot be reached. */
bk_pgstate *bk_pgstate_new(const char *dsn, bk_err *err);

void bk_pgstate_free(bk_pgstate *pg);

/* In one transaction: TRUNCATE bookings, every tier back to available = capacity, and the tiers
 * named in caps to the given capacity (and as many available). Every named tier must exist. */
int bk_pgstate_reset(bk_pgstate *pg, const bk_pgstate_cap *caps, size_t n_caps, bk_err *err) BK_WARN_UNUSED;

/* Remembers the booking ids present now; bk_pgstate_read_rows leaves them out. For runs without
 * a reset, so earlier bookings do not count as rows nobody asked for. */
int bk_pgstate_take_baseline(bk_pgstate *pg, bk_err *err) BK_WARN_UNUSED;

/* Reads the tiers table in display order into tiers (at most max_tiers). */
int bk_pgstate_read_tiers(bk_pgstate *pg, bk_verify_tier *tiers, size_t max_tiers, size_t *n_tiers,
                          bk_err *err) BK_WARN_UNUSED;

/* Reads every booking row not in the baseline into a malloc'd array (*rows, freed by the caller)
 * and when they were decided into span. */
int bk_pgstate_read_rows(bk_pgstate *pg, bk_verify_row **rows, size_t *n_rows, bk_pgstate_span *span,
                         bk_err *err) BK_WARN_UNUSED;

#endif
