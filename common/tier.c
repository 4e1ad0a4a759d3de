/* The tier catalogue: a table built once from the tiers table's rows, in position order (the order
 * of GET /tickets, and the Kafka partition of each tier), then only read. */
#include "common/tier.h"

#include <stdio.h>
#include <string.h>

static int check_row(const bk_tier_row *r, size_t n, bk_err *err)
{
    const char *code = r->code != NULL ? r->code : "";
    size_t code_len = strlen(code);
    if (code_len == 0 || code_len > BK_TIER_CODE_MAX) {
        return bk_err_set(err, BK_E_INVAL, "tier code \"%s\" must be 1 to %d bytes", code, BK_TIER_CODE_MAX);
    }
    if (r->name == NULL || strlen(r->name) > BK_TIER_NAME_MAX) {
        return bk_err_set(err, BK_E_INVAL, "tier %s: the name must be at most %d bytes", code, BK_TIER_NAME_MAX);
    }
    if (r->price_cents < 0 || r->price_cents > INT32_MAX || r->capacity < 0 || r->capacity > INT32_MAX) {
        return bk_err_set(err, BK_E_INVAL, "tier %s: price_cents %lld or capacity %lld out of range", code,
                          (long long)r->price_cents, (long long)r->capacity);
    }
    if (r->position < 0 || r->position >= (int64_t)n) {
        return bk_err_set(err, BK_E_INVAL, "tier %s: position %lld is not one of 0..%zu (one partition per tier)", code,
                          (long long)r->position, n - 1);
    }
    return BK_OK;
}

int bk_tier_build(bk_tier_catalogue *cat, const bk_tier_row *rows, size_t n, bk_err *err)
{
    memset(cat, 0, sizeof(*cat));
    if (n == 0 || n > BK_TIER_PARTITIONS_MAX) {
        return bk_err_set(err, BK_E_INVAL, "the catalogue holds %zu tiers, not 1 to %d", n, BK_TIER_PARTITIONS_MAX);
    }
    int seen[BK_TIER_PARTITIONS_MAX] = {0};
    for (size_t i = 0; i < n; i++) {
        int rc = check_row(&rows[i], n, err);
        if (rc != BK_OK) {
            return rc;
        }
        if (seen[rows[i].position]++) {
            return bk_err_set(err, BK_E_INVAL, "tier %s: position %lld is taken by another tier", rows[i].code,
                              (long long)rows[i].position);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(rows[j].code, rows[i].code) == 0) {
                return bk_err_set(err, BK_E_INVAL, "tier code %s appears twice", rows[i].code);
            }
        }
    }
    /* Positions are distinct and within 0..n-1: each row has its own slot. */
    for (size_t i = 0; i < n; i++) {
        bk_tier *t = &cat->tiers[rows[i].position];
        snprintf(t->code, sizeof(t->code), "%s", rows[i].code);
        snprintf(t->name, sizeof(t->name), "%s", rows[i].name);
        t->price_cents = (int32_t)rows[i].price_cents;
        t->capacity = (int32_t)rows[i].capacity;
        t->partition = (int32_t)rows[i].position;
    }
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(cat->codes + used, sizeof(cat->codes) - used, "%s%s", i > 0 ? ", " : "",
                                 cat->tiers[i].code);
    }
    cat->count = (int)n;
    return BK_OK;
}

const bk_tier *bk_tier_find(const bk_tier_catalogue *cat, const char *code, size_t len)
{
    for (int i = 0; i < cat->count; i++) {
        if (strlen(cat->tiers[i].code) == len && memcmp(cat->tiers[i].code, code, len) == 0) {
            return &cat->tiers[i];
        }
    }
    return NULL;
}

const bk_tier *bk_tier_by_partition(const bk_tier_catalogue *cat, int32_t partition)
{
    return bk_tier_at(cat, partition); /* the catalogue is in partition order */
}

const bk_tier *bk_tier_at(const bk_tier_catalogue *cat, int i)
{
    return (i >= 0 && i < cat->count) ? &cat->tiers[i] : NULL;
}

const char *bk_tier_codes(const bk_tier_catalogue *cat)
{
    return cat->codes;
}

int bk_tier_check_partitions(const bk_tier_catalogue *cat, int partitions, bk_err *err)
{
    if (partitions != cat->count) {
        return bk_err_set(err, BK_E_INVAL, "the topic has %d partitions but the tier catalogue has %d tiers (%s)",
                          partitions, cat->count, cat->codes);
    }
    return BK_OK;
}
