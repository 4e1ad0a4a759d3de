/* The tier catalogue: a constant table, in display order (VIP, FRONT_ROW, GA; GET /tickets keeps it). */
#include "common/tier.h"

#include <string.h>

static const bk_tier tiers[BK_TIER_COUNT] = {
    {"VIP", "VIP", 10000, 0},
    {"FRONT_ROW", "Front Row", 5000, 1},
    {"GA", "General Admission", 1000, 2},
};

const bk_tier *bk_tier_find(const char *code, size_t len)
{
    for (int i = 0; i < BK_TIER_COUNT; i++) {
        if (strlen(tiers[i].code) == len && memcmp(tiers[i].code, code, len) == 0) {
            return &tiers[i];
        }
    }
    return NULL;
}

const bk_tier *bk_tier_by_partition(int32_t partition)
{
    for (int i = 0; i < BK_TIER_COUNT; i++) {
        if (tiers[i].partition == partition) {
            return &tiers[i];
        }
    }
    return NULL;
}

const bk_tier *bk_tier_at(int i)
{
    return (i >= 0 && i < BK_TIER_COUNT) ? &tiers[i] : NULL;
}
