/* Unit tests of common/batch: who gets seats. Small tables state each rule (first come first
 * served, a later smaller order still fits, duplicates, fencing on the stored offset, dead
 * letters); large random batches are compared with a naive model that applies one message per
 * transaction, which is what the batch must be equivalent to (docs/design.md). */
#include "unit.h"

#include "common/batch.h"

#include <stdio.h>

/* How the processor hands a message in. */
enum {
    NEW,
    KNOWN,
    BAD,
    BAD_ID,
    BAD_KNOWN
}; /* BAD_ID: undecodable with a readable id; BAD_KNOWN: one already decided */

typedef struct item_row {
    int64_t offset;
    const char *booking_id; /* NULL for BAD: the module must not look at it; "" is unreadable too */
    int32_t quantity;
    int kind;
    bk_verdict want;
} item_row;

#define MAX_ROWS 8

typedef struct batch_case {
    const char *name;
    int32_t available;
    int64_t stored_offset;
    size_t n_items;
    item_row items[MAX_ROWS];
    bk_batch_result want;
} batch_case;

static const batch_case batch_cases[] = {
    {.name = "first come first served",
     .available = 5,
     .stored_offset = 0,
     .n_items = 3,
     .items = {{0, "a", 3, NEW, BK_VERDICT_CONFIRMED},
               {1, "b", 2, NEW, BK_VERDICT_CONFIRMED},
               {2, "c", 1, NEW, BK_VERDICT_REJECTED}},
     .want = {.seats_sold = 5, .n_confirmed = 2, .n_rejected = 1, .next_offset = 3}},
    {.name = "exact fit",
     .available = 4,
     .stored_offset = 10,
     .n_items = 2,
     .items = {{10, "a", 4, NEW, BK_VERDICT_CONFIRMED}, {11, "b", 1, NEW, BK_VERDICT_REJECTED}},
     .want = {.seats_sold = 4, .n_confirmed = 1, .n_rejected = 1, .next_offset = 12}},
    {.name = "too large rejected, a later smaller one fits",
     .available = 5,
     .stored_offset = 0,
     .n_items = 4,
     .items = {{0, "a", 3, NEW, BK_VERDICT_CONFIRMED},
               {1, "b", 3, NEW, BK_VERDICT_REJECTED},
               {2, "c", 2, NEW, BK_VERDICT_CONFIRMED},
               {3, "d", 1, NEW, BK_VERDICT_REJECTED}},
     .want = {.seats_sold = 5, .n_confirmed = 2, .n_rejected = 2, .next_offset = 4}},
    {.name = "an order larger than the whole tier",
     .available = 3,
     .stored_offset = 0,
     .n_items = 2,
     .items = {{0, "a", 1000, NEW, BK_VERDICT_REJECTED}, {1, "b", 3, NEW, BK_VERDICT_CONFIRMED}},
     .want = {.seats_sold = 3, .n_confirmed = 1, .n_rejected = 1, .next_offset = 2}},
    {.name = "all rejected when available is 0",
     .available = 0,
     .stored_offset = 7,
     .n_items = 3,
     .items = {{7, "a", 1, NEW, BK_VERDICT_REJECTED},
               {8, "b", 1, NEW, BK_VERDICT_REJECTED},
               {9, "c", 10, NEW, BK_VERDICT_REJECTED}},
     .want = {.n_rejected = 3, .next_offset = 10}},
    {.name = "duplicate within the batch takes no seats",
     .available = 10,
     .stored_offset = 0,
     .n_items = 3,
     .items = {{0, "a", 2, NEW, BK_VERDICT_CONFIRMED},
               {1, "b", 1, NEW, BK_VERDICT_CONFIRMED},
               {2, "a", 5, NEW, BK_VERDICT_DUPLICATE}},
     .want = {.seats_sold = 3, .n_confirmed = 2, .n_duplicate = 1, .next_offset = 3}},
    {.name = "duplicate of a rejected booking keeps the rejection",
     .available = 1,
     .stored_offset = 0,
     .n_items = 3,
     .items = {{0, "a", 2, NEW, BK_VERDICT_REJECTED},
               {1, "a", 1, NEW, BK_VERDICT_DUPLICATE},
               {2, "b", 1, NEW, BK_VERDICT_CONFIRMED}},
     .want = {.seats_sold = 1, .n_confirmed = 1, .n_rejected = 1, .n_duplicate = 1, .next_offset = 3}},
    {.name = "three occurrences of one id",
     .available = 10,
     .stored_offset = 0,
     .n_items = 3,
     .items = {{0, "a", 1, NEW, BK_VERDICT_CONFIRMED},
               {1, "a", 1, NEW, BK_VERDICT_DUPLICATE},
               {2, "a", 1, NEW, BK_VERDICT_DUPLICATE}},
     .want = {.seats_sold = 1, .n_confirmed = 1, .n_duplicate = 2, .next_offset = 3}},
    {.name = "known ids are duplicates",
     .available = 10,
     .stored_offset = 0,
     .n_items = 3,
     .items = {{0, "a", 2, KNOWN, BK_VERDICT_DUPLICATE},
               {1, "b", 3, NEW, BK_VERDICT_CONFIRMED},
               {2, "a", 2, KNOWN, BK_VERDICT_DUPLICATE}},
     .want = {.seats_sold = 3, .n_confirmed = 1, .n_duplicate = 2, .next_offset = 3}},
    {.name = "ids that share a prefix are different bookings",
     .available = 10,
     .stored_offset = 0,
     .n_items = 3,
     .items = {{0, "ab", 1, NEW, BK_VERDICT_CONFIRMED},
               {1, "abc", 1, NEW, BK_VERDICT_CONFIRMED},
               {2, "a", 1, NEW, BK_VERDICT_CONFIRMED}},
     .want = {.seats_sold = 3, .n_confirmed = 3, .next_offset = 3}},
    {.name = "fencing: messages below the stored offset change nothing",
     .available = 10,
     .stored_offset = 102,
     .n_items = 4,
     .items = {{100, "a", 5, NEW, BK_VERDICT_APPLIED},
               {101, "b", 5, NEW, BK_VERDICT_APPLIED},
               {102, "c", 1, NEW, BK_VERDICT_CONFIRMED},
               {103, "d", 2, NEW, BK_VERDICT_CONFIRMED}},
     .want = {.seats_sold = 3, .n_confirmed = 2, .n_applied = 2, .next_offset = 104}},
    {.name = "fencing: the whole batch was applied before",
     .available = 10,
     .stored_offset = 200,
     .n_items = 3,
     .items = {{100, "a", 1, NEW, BK_VERDICT_APPLIED},
               {150, "b", 1, KNOWN, BK_VERDICT_APPLIED},
               {199, NULL, 0, BAD, BK_VERDICT_APPLIED}},
     .want = {.n_applied = 3, .next_offset = 200}},
    {.name = "fencing: an applied message does not count as seen",
     .available = 10,
     .stored_offset = 6,
     .n_items = 2,
     .items = {{5, "a", 4, NEW, BK_VERDICT_APPLIED}, {6, "b", 4, NEW, BK_VERDICT_CONFIRMED}},
     .want = {.seats_sold = 4, .n_confirmed = 1, .n_applied = 1, .next_offset = 7}},
    {.name = "undecodable messages are counted and advance the offset",
     .available = 5,
     .stored_offset = 0,
     .n_items = 3,
     .items = {{0, NULL, 0, BAD, BK_VERDICT_UNDECODABLE},
               {1, "a", 1, NEW, BK_VERDICT_CONFIRMED},
               {2, NULL, 0, BAD, BK_VERDICT_UNDECODABLE}},
     .want = {.seats_sold = 1, .n_confirmed = 1, .n_undecodable = 2, .next_offset = 3}},
    {.name = "only undecodable messages",
     .available = 5,
     .stored_offset = 40,
     .n_items = 2,
     .items = {{40, NULL, 0, BAD, BK_VERDICT_UNDECODABLE}, {41, NULL, 0, BAD, BK_VERDICT_UNDECODABLE}},
     .want = {.n_undecodable = 2, .next_offset = 42}},
    {.name = "an undecodable message below the stored offset is APPLIED, not dead-lettered again",
     .available = 5,
     .stored_offset = 5,
     .n_items = 2,
     .items = {{4, NULL, 0, BAD, BK_VERDICT_APPLIED}, {5, NULL, 0, BAD, BK_VERDICT_UNDECODABLE}},
     .want = {.n_undecodable = 1, .n_applied = 1, .next_offset = 6}},
    {.name = "offset gaps (compaction, transaction markers)",
     .available = 5,
     .stored_offset = 3,
     .n_items = 3,
     .items = {{10, "a", 1, NEW, BK_VERDICT_CONFIRMED},
               {15, "b", 1, NEW, BK_VERDICT_CONFIRMED},
               {40, NULL, 0, BAD, BK_VERDICT_UNDECODABLE}},
     .want = {.seats_sold = 2, .n_confirmed = 2, .n_undecodable = 1, .next_offset = 41}},
    {.name = "every verdict in one batch",
     .available = 3,
     .stored_offset = 2,
     .n_items = 8,
     .items = {{0, "old", 2, NEW, BK_VERDICT_APPLIED},
               {1, NULL, 0, BAD, BK_VERDICT_APPLIED},
               {2, "a", 2, NEW, BK_VERDICT_CONFIRMED},
               {3, "k", 1, KNOWN, BK_VERDICT_DUPLICATE},
               {4, NULL, 0, BAD, BK_VERDICT_UNDECODABLE},
               {5, "b", 2, NEW, BK_VERDICT_REJECTED},
               {6, "a", 1, NEW, BK_VERDICT_DUPLICATE},
               {7, "c", 1, NEW, BK_VERDICT_CONFIRMED}},
     .want = {.seats_sold = 3,
              .n_confirmed = 2,
              .n_rejected = 1,
              .n_duplicate = 2,
              .n_undecodable = 1,
              .n_applied = 2,
              .next_offset = 8}},
    {.name = "an undecodable message with a readable id ends its booking invalid",
     .available = 5,
     .stored_offset = 0,
     .n_items = 3,
     .items = {{0, "a", 0, BAD_ID, BK_VERDICT_INVALID},
               {1, "", 0, BAD_ID, BK_VERDICT_UNDECODABLE},
               {2, "b", 2, NEW, BK_VERDICT_CONFIRMED}},
     .want = {.seats_sold = 2, .n_confirmed = 1, .n_undecodable = 2, .n_invalid = 1, .next_offset = 3}},
    {.name = "the first message of an id decides it, applicable or not",
     .available = 5,
     .stored_offset = 0,
     .n_items = 4,
     .items = {{0, "a", 0, BAD_ID, BK_VERDICT_INVALID},
               {1, "a", 2, NEW, BK_VERDICT_DUPLICATE},
               {2, "b", 2, NEW, BK_VERDICT_CONFIRMED},
               {3, "b", 0, BAD_ID, BK_VERDICT_UNDECODABLE}},
     .want =
         {.seats_sold = 2, .n_confirmed = 1, .n_duplicate = 1, .n_undecodable = 2, .n_invalid = 1, .next_offset = 4}},
    {.name = "an undecodable message of a booking decided before is only recorded",
     .available = 5,
     .stored_offset = 7,
     .n_items = 2,
     .items = {{6, "a", 0, BAD_ID, BK_VERDICT_APPLIED}, {7, "a", 0, BAD_KNOWN, BK_VERDICT_UNDECODABLE}},
     .want = {.n_undecodable = 1, .n_applied = 1, .next_offset = 8}},
    {.name = "empty batch keeps the stored offset",
     .available = 5,
     .stored_offset = 42,
     .n_items = 0,
     .want = {.next_offset = 42}},
};

static const char *verdict_name(bk_verdict v)
{
    static const char *const names[] = {"UNDECODABLE", "PENDING", "CONFIRMED", "REJECTED",
                                        "DUPLICATE",   "APPLIED", "INVALID"};
    return (size_t)v < N_ELEMS(names) ? names[v] : "?";
}

static void expect_result(const char *name, const bk_batch_result *got, const bk_batch_result *want)
{
    EXPECT_INT(name, "seats_sold", got->seats_sold, want->seats_sold);
    EXPECT_INT(name, "n_confirmed", got->n_confirmed, want->n_confirmed);
    EXPECT_INT(name, "n_rejected", got->n_rejected, want->n_rejected);
    EXPECT_INT(name, "n_duplicate", got->n_duplicate, want->n_duplicate);
    EXPECT_INT(name, "n_undecodable", got->n_undecodable, want->n_undecodable);
    EXPECT_INT(name, "n_invalid", got->n_invalid, want->n_invalid);
    EXPECT_INT(name, "n_applied", got->n_applied, want->n_applied);
    EXPECT_INT(name, "next_offset", got->next_offset, want->next_offset);
}

static void expect_verdict(const char *name, size_t k, bk_verdict got, bk_verdict want)
{
    if (got != want) {
        fail_msg("case \"%s\": item %zu is %s, want %s", name, k, verdict_name(got), verdict_name(want));
    }
}

static void test_decide_table(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(batch_cases); k++) {
        const batch_case *c = &batch_cases[k];
        bk_batch_item items[MAX_ROWS];
        for (size_t i = 0; i < c->n_items; i++) {
            const item_row *row = &c->items[i];
            items[i] = (bk_batch_item){
                .offset = row->offset,
                .booking_id = row->booking_id,
                .quantity = row->quantity,
                .known = row->kind == KNOWN || row->kind == BAD_KNOWN,
                .verdict = row->kind >= BAD ? BK_VERDICT_UNDECODABLE : BK_VERDICT_PENDING,
            };
        }
        bk_batch_result result;
        memset(&result, 0x5a, sizeof(result));
        bk_err err;
        bk_err_clear(&err);

        EXPECT_RC(c->name, bk_batch_decide(items, c->n_items, c->available, c->stored_offset, &result, &err), BK_OK,
                  &err);
        for (size_t i = 0; i < c->n_items; i++) {
            expect_verdict(c->name, i, items[i].verdict, c->items[i].want);
        }
        expect_result(c->name, &result, &c->want);
    }
}

/* A deterministic generator (splitmix64): the same batches on every machine and every run. */
static uint64_t next_random(uint64_t *seed)
{
    uint64_t z = (*seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t random_below(uint64_t *seed, uint32_t n)
{
    return (uint32_t)(next_random(seed) % n);
}

/* The naive model: one message per transaction, in offset order, against a database that holds
 * the bookings decided so far, the tier's available seats and the partition's stored offset.
 * Linear search on purpose: nothing clever to get wrong. */
static void apply_one_by_one(const bk_batch_item *items, size_t n, int32_t available, int64_t stored_offset,
                             bk_verdict *verdicts, bk_batch_result *result)
{
    const char **decided = calloc(n + 1, sizeof(*decided));
    assert_non_null(decided);
    size_t n_decided = 0;
    int32_t db_available = available;
    int64_t db_offset = stored_offset;
    memset(result, 0, sizeof(*result));

    for (size_t k = 0; k < n; k++) {
        const bk_batch_item *it = &items[k];
        if (it->offset < db_offset) {
            verdicts[k] = BK_VERDICT_APPLIED;
            result->n_applied++;
            continue;
        }
        db_offset = it->offset + 1; /* committed with this message's transaction */
        int readable = it->booking_id != NULL && it->booking_id[0] != '\0';
        int in_db = readable && it->known;
        for (size_t j = 0; readable && !in_db && j < n_decided; j++) {
            in_db = strcmp(decided[j], it->booking_id) == 0;
        }
        if (it->verdict == BK_VERDICT_UNDECODABLE) {
            /* Recorded; a readable id of a booking not decided yet ends it invalid. */
            verdicts[k] = readable && !in_db ? BK_VERDICT_INVALID : BK_VERDICT_UNDECODABLE;
            result->n_undecodable++;
            if (verdicts[k] == BK_VERDICT_INVALID) {
                decided[n_decided++] = it->booking_id;
                result->n_invalid++;
            }
            continue;
        }
        if (in_db) {
            verdicts[k] = BK_VERDICT_DUPLICATE;
            result->n_duplicate++;
            continue;
        }
        decided[n_decided++] = it->booking_id;
        if (it->quantity <= db_available) {
            db_available -= it->quantity;
            verdicts[k] = BK_VERDICT_CONFIRMED;
            result->n_confirmed++;
        } else {
            verdicts[k] = BK_VERDICT_REJECTED;
            result->n_rejected++;
        }
    }
    result->seats_sold = available - db_available;
    result->next_offset = db_offset;
    free(decided);
}

typedef struct scenario {
    const char *name;
    uint64_t seed;
    size_t n_items;
    uint32_t n_ids; /* booking ids are drawn from this many: fewer than n_items means duplicates */
    int32_t available;
    size_t n_below_stored; /* leading messages that the stored offset is already past */
    uint32_t pct_known;    /* ids with a row in the database before the batch */
    uint32_t pct_bad;      /* undecodable messages */
    uint32_t max_quantity;
    int every_verdict; /* the mix must produce every verdict: guards the generator itself */
} scenario;

static const scenario scenarios[] = {
    {"scarce seats, duplicates, known ids, dead letters, fencing", 1, 5000, 4000, 5000, 300, 5, 2, 10, 1},
    {"plenty of seats", 2, 5000, 5000, 1000000, 0, 5, 2, 10, 0},
    {"no seats at all", 3, 5000, 3000, 0, 10, 5, 2, 10, 0},
    {"large orders up to the decode cap", 4, 5000, 1u << 30, 100000, 0, 0, 0, 1000, 0},
    {"mostly duplicates", 5, 5000, 50, 2000, 100, 10, 1, 10, 0},
    {"whole batch below the stored offset", 6, 5000, 4000, 5000, 5000, 5, 2, 10, 0},
    {"single seat", 7, 5000, 1u << 30, 1, 0, 0, 0, 3, 0},
};

#define ID_TEXT_LEN 24

static void test_decide_matches_one_by_one(void **state)
{
    (void)state;
    for (size_t s = 0; s < N_ELEMS(scenarios); s++) {
        const scenario *sc = &scenarios[s];
        uint64_t seed = sc->seed;
        bk_batch_item *items = calloc(sc->n_items, sizeof(*items));
        char(*ids)[ID_TEXT_LEN] = calloc(sc->n_items, sizeof(*ids));
        bk_verdict *want = calloc(sc->n_items, sizeof(*want));
        assert_true(items != NULL && ids != NULL && want != NULL);

        int64_t offset = 1000;
        int64_t stored_offset = offset - (int64_t)random_below(&seed, 5);
        for (size_t k = 0; k < sc->n_items; k++) {
            offset += 1 + (int64_t)random_below(&seed, 3); /* strictly increasing, with gaps */
            uint32_t id_num = random_below(&seed, sc->n_ids);
            /* Each item owns its text: duplicates are equal strings, never the same pointer. */
            snprintf(ids[k], ID_TEXT_LEN, "id-%u", id_num);
            int bad = random_below(&seed, 100) < sc->pct_bad;
            int bad_id = bad && random_below(&seed, 2) == 0; /* half the dead messages show their id */
            items[k] = (bk_batch_item){
                .offset = offset,
                .booking_id = bad && !bad_id ? NULL : ids[k],
                .quantity = (int32_t)(1 + random_below(&seed, sc->max_quantity)),
                .known = (!bad || bad_id) && (id_num * 2654435761u >> 8) % 100 < sc->pct_known,
                .verdict = bad ? BK_VERDICT_UNDECODABLE : BK_VERDICT_PENDING,
            };
            if (k + 1 == sc->n_below_stored) {
                stored_offset = offset + 1;
            }
        }

        bk_batch_result want_result;
        apply_one_by_one(items, sc->n_items, sc->available, stored_offset, want, &want_result);
        bk_batch_result result;
        bk_err err;
        bk_err_clear(&err);
        EXPECT_RC(sc->name, bk_batch_decide(items, sc->n_items, sc->available, stored_offset, &result, &err), BK_OK,
                  &err);
        for (size_t k = 0; k < sc->n_items; k++) {
            expect_verdict(sc->name, k, items[k].verdict, want[k]);
        }
        expect_result(sc->name, &result, &want_result);
        /* The invariants the database relies on. */
        EXPECT_TRUE(sc->name, "seats_sold within available",
                    result.seats_sold >= 0 && result.seats_sold <= sc->available);
        EXPECT_INT(sc->name, "every message has one verdict",
                   result.n_confirmed + result.n_rejected + result.n_duplicate + result.n_undecodable +
                       result.n_applied,
                   sc->n_items);
        if (sc->every_verdict) {
            EXPECT_TRUE(sc->name, "confirmed, rejected, duplicate, undecodable, invalid and applied messages",
                        result.n_confirmed > 0 && result.n_rejected > 0 && result.n_duplicate > 0 &&
                            result.n_undecodable > result.n_invalid && result.n_invalid > 0 && result.n_applied > 0);
        }
        free(items);
        free(ids);
        free(want);
    }
}

/* The log's name of every verdict. */
static void test_verdict_names(void **state)
{
    (void)state;
    static const struct {
        bk_verdict verdict;
        const char *want;
    } cases[] = {
        {BK_VERDICT_UNDECODABLE, "undecodable"}, {BK_VERDICT_PENDING, "pending"},
        {BK_VERDICT_CONFIRMED, "confirmed"},     {BK_VERDICT_REJECTED, "rejected"},
        {BK_VERDICT_DUPLICATE, "duplicate"},     {BK_VERDICT_APPLIED, "applied"},
        {BK_VERDICT_INVALID, "invalid"},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        EXPECT_STR(cases[k].want, "name", bk_batch_verdict_name(cases[k].verdict), cases[k].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_table),
        cmocka_unit_test(test_decide_matches_one_by_one),
        cmocka_unit_test(test_verdict_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
