/* The tier catalogue: codes, display names, prices, capacities and the Kafka partition of each
 * tier. Its one home is the database's tiers table: each service reads it once at start
 * (common/tierload.h) and builds this in-memory table from the rows; nothing here does I/O. */
#ifndef BK_COMMON_TIER_H
#define BK_COMMON_TIER_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

/* The Kafka partitions a processor keeps state for: 0..BK_TIER_PARTITIONS_MAX-1, and so the most
 * tiers a catalogue may hold (each tier is one partition). */
#define BK_TIER_PARTITIONS_MAX 16
#define BK_TIER_CODE_MAX       32 /* bytes of a code, without the NUL */
#define BK_TIER_NAME_MAX       64 /* bytes of a display name, without the NUL */

typedef struct bk_tier {
    char code[BK_TIER_CODE_MAX + 1]; /* "VIP": the API and database key */
    char name[BK_TIER_NAME_MAX + 1]; /* "VIP": for people */
    int32_t price_cents;             /* per seat, USD */
    int32_t capacity;                /* seats on sale; availability lives in the database */
    int32_t partition;               /* the Kafka partition that carries this tier: its one serial writer */
} bk_tier;

/* One row of the tiers table, as read (tier, name, price_cents, capacity, position). */
typedef struct bk_tier_row {
    const char *code;
    const char *name;
    int64_t price_cents;
    int64_t capacity;
    int64_t position; /* display order, and the Kafka partition */
} bk_tier_row;

/* The loaded catalogue, in catalogue order: tiers[i].partition == i. Built once, then read-only
 * and shared by every thread. */
typedef struct bk_tier_catalogue {
    int count;
    bk_tier tiers[BK_TIER_PARTITIONS_MAX];
    char codes[BK_TIER_PARTITIONS_MAX * (BK_TIER_CODE_MAX + 2)]; /* "VIP, FRONT_ROW, GA" */
} bk_tier_catalogue;

/* Builds the catalogue from rows in any order. BK_E_INVAL, naming the row, unless: 1 to
 * BK_TIER_PARTITIONS_MAX rows; codes non-empty, at most BK_TIER_CODE_MAX bytes and distinct; names
 * at most BK_TIER_NAME_MAX bytes; price and capacity within 0..INT32_MAX; positions exactly
 * 0..n-1 (each partition of the topic carries exactly one tier). On failure cat->count is 0. */
int bk_tier_build(bk_tier_catalogue *cat, const bk_tier_row *rows, size_t n, bk_err *err) BK_WARN_UNUSED;

/* The tier with this exact (case-sensitive) code, or NULL. code need not be NUL-terminated. */
const bk_tier *bk_tier_find(const bk_tier_catalogue *cat, const char *code, size_t len);

/* The tier carried by a Kafka partition, or NULL. */
const bk_tier *bk_tier_by_partition(const bk_tier_catalogue *cat, int32_t partition);

/* The i-th tier in catalogue order (0 <= i < cat->count), or NULL. */
const bk_tier *bk_tier_at(const bk_tier_catalogue *cat, int i);

/* The valid codes in catalogue order, ", "-separated: for error messages that name them. */
const char *bk_tier_codes(const bk_tier_catalogue *cat);

/* BK_OK when a topic of `partitions` partitions carries this catalogue (one per tier), else
 * BK_E_INVAL with both counts in the message. */
int bk_tier_check_partitions(const bk_tier_catalogue *cat, int partitions, bk_err *err) BK_WARN_UNUSED;

#endif
