/* The tier catalogue: codes, display names, prices and the Kafka partition of each tier.
 * PostgreSQL holds capacity and availability at runtime; this table is what never changes. */
#ifndef BK_COMMON_TIER_H
#define BK_COMMON_TIER_H

#include <stddef.h>
#include <stdint.h>

#define BK_TIER_COUNT 3
#define BK_TIER_CODES "VIP, FRONT_ROW, GA" /* for error messages that name the valid tiers */
/* The Kafka partitions a processor keeps state for: 0..BK_TIER_PARTITIONS_MAX-1. */
#define BK_TIER_PARTITIONS_MAX 16

typedef struct bk_tier {
    const char *code;    /* "VIP": the API and database key */
    const char *name;    /* "VIP": for people */
    int32_t price_cents; /* per seat, USD */
    int32_t partition;   /* the Kafka partition that carries this tier: its one serial writer */
} bk_tier;

/* The tier with this exact (case-sensitive) code, or NULL. code need not be NUL-terminated. */
const bk_tier *bk_tier_find(const char *code, size_t len);

/* The tier carried by a Kafka partition, or NULL. */
const bk_tier *bk_tier_by_partition(int32_t partition);

/* The i-th tier in catalogue order (0 <= i < BK_TIER_COUNT). */
const bk_tier *bk_tier_at(int i);

#endif
