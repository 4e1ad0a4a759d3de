/* The invariant checks. Replies are grouped by booking id and by Idempotency-Key through sorted
 * index arrays (no hash tables: qsort and bsearch read plainly and are fast enough for a million
 * requests). Each breach is counted under one check; the first few are described in examples. */
#include "tools/replay/verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const check_names[BK_VERIFY_N_CHECKS] = {
    [BK_VERIFY_OVERSELL] = "oversell",
    [BK_VERIFY_BALANCE] = "balance",
    [BK_VERIFY_NO_OUTCOME] = "no_outcome",
    [BK_VERIFY_CONFLICT] = "conflicting_outcomes",
    [BK_VERIFY_BAD_REPLY] = "bad_reply",
    [BK_VERIFY_MISSING_ROW] = "missing_row",
    [BK_VERIFY_DUPLICATE_ROW] = "duplicate_row",
    [BK_VERIFY_STATUS_MISMATCH] = "status_mismatch",
    [BK_VERIFY_ROW_MISMATCH] = "row_mismatch",
    [BK_VERIFY_KEY_TWICE] = "key_booked_twice",
    [BK_VERIFY_ID_SHARED] = "id_shared",
    [BK_VERIFY_MALFORMED_NOT_4XX] = "malformed_not_4xx",
    [BK_VERIFY_VALID_REFUSED] = "valid_refused",
    [BK_VERIFY_UNAVAILABLE] = "unavailable",
    [BK_VERIFY_UNEXPLAINED_ROWS] = "unexplained_rows",
};

const char *bk_verify_check_name(bk_verify_check check)
{
    return check >= 0 && check < BK_VERIFY_N_CHECKS ? check_names[check] : "unknown";
}

const char *bk_verify_outcome_name(int outcome)
{
    return outcome == BK_VERIFY_CONFIRMED ? "confirmed" : outcome == BK_VERIFY_REJECTED ? "rejected" : "none";
}

static void breach(bk_verify_report *out, bk_verify_check check, const char *fmt, ...) BK_PRINTF(3, 4);

static void breach(bk_verify_report *out, bk_verify_check check, const char *fmt, ...)
{
    out->breaches[check]++;
    out->n_breaches++;
    if (out->n_examples < BK_VERIFY_EXAMPLES) {
        char *dst = out->examples[out->n_examples++];
        int len = snprintf(dst, BK_VERIFY_EXAMPLE_SIZE, "%s: ", check_names[check]);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(dst + len, BK_VERIFY_EXAMPLE_SIZE - (size_t)len, fmt, ap);
        va_end(ap);
    }
}

/* qsort has no context argument: the arrays being sorted hold pointers, compared by field. */
static int cmp_reply_id(const void *a, const void *b)
{
    const bk_verify_reply *x = *(const bk_verify_reply *const *)a, *y = *(const bk_verify_reply *const *)b;
    return strcmp(x->booking_id, y->booking_id);
}

static int cmp_reply_key(const void *a, const void *b)
{
    const bk_verify_reply *x = *(const bk_verify_reply *const *)a, *y = *(const bk_verify_reply *const *)b;
    return strcmp(x->key, y->key);
}

static int cmp_row_id(const void *a, const void *b)
{
    const bk_verify_row *x = *(const bk_verify_row *const *)a, *y = *(const bk_verify_row *const *)b;
    return strcmp(x->booking_id, y->booking_id);
}

static int cmp_id_to_row(const void *key, const void *elem)
{
    return strcmp(key, (*(const bk_verify_row *const *)elem)->booking_id);
}

static const bk_verify_row *find_row(const bk_verify_row **rows, size_t n, const char *id)
{
    const bk_verify_row **hit = bsearch(id, rows, n, sizeof(*rows), cmp_id_to_row);
    return hit != NULL ? *hit : NULL;
}

static int cmp_id_to_reply(const void *key, const void *elem)
{
    return strcmp(key, (*(const bk_verify_reply *const *)elem)->booking_id);
}

/* Each request on its own: the status it got, and whether a 202 reached an outcome. */
static void check_replies(const bk_verify_input *in, bk_verify_report *out)
{
    for (size_t k = 0; k < in->n_replies; k++) {
        const bk_verify_reply *r = &in->replies[k];
        if (!r->sent) {
            continue;
        }
        int ok_status = r->status == 200 || r->status == 202;
        int refused = r->status >= 400 && r->status < 500;
        if (r->malformed) {
            if (!refused) {
                breach(out, BK_VERIFY_MALFORMED_NOT_4XX, "request %zu (malformed) answered %d", k, r->status);
            }
            continue;
        }
        if (refused) {
            breach(out, BK_VERIFY_VALID_REFUSED, "request %zu (%s x%d) answered %d", k, r->tier != NULL ? r->tier : "?",
                   r->quantity, r->status);
        } else if (!ok_status) {
            out->n_unanswered++;
            if (!in->allow_unavailable) {
                breach(out, BK_VERIFY_UNAVAILABLE, "request %zu answered %d%s", k, r->status,
                       r->status == 0 ? " (no HTTP answer)" : "");
            }
        }
        if (ok_status && r->booking_id[0] == '\0') {
            breach(out, BK_VERIFY_BAD_REPLY, "request %zu answered %d without a booking id", k, r->status);
        }
        if (r->status == 202 && r->booking_id[0] != '\0' && r->outcome == BK_VERIFY_NONE) {
            breach(out, BK_VERIFY_NO_OUTCOME, "booking %s (request %zu) never reached a final status", r->booking_id,
                   k);
        }
        if (r->conflict) {
            breach(out, BK_VERIFY_CONFLICT, "booking %s (request %zu) was reported both confirmed and rejected",
                   r->booking_id, k);
        }
    }
}

/* Every reply of one booking id, [by_id[from], by_id[to]): one key at most, one outcome, one row
 * that agrees with it. */
static void check_id_group(const bk_verify_reply **group, size_t n, const bk_verify_row **rows, size_t n_rows, int db,
                           bk_verify_report *out)
{
    const char *id = group[0]->booking_id;
    int outcome = BK_VERIFY_NONE, conflict = 0;
    for (size_t k = 0; k < n; k++) {
        const bk_verify_reply *r = group[k];
        /* Requests share an id only when they are retries with one key. */
        if (k > 0 && (r->key == NULL || group[0]->key == NULL || strcmp(r->key, group[0]->key) != 0)) {
            breach(out, BK_VERIFY_ID_SHARED, "booking %s was answered to requests with keys \"%s\" and \"%s\"", id,
                   group[0]->key != NULL ? group[0]->key : "(none)", r->key != NULL ? r->key : "(none)");
            break;
        }
    }
    for (size_t k = 0; k < n; k++) {
        int o = group[k]->outcome;
        if (o == BK_VERIFY_NONE) {
            continue;
        }
        if (outcome != BK_VERIFY_NONE && o != outcome) {
            breach(out, BK_VERIFY_CONFLICT, "booking %s reported %s to one request and %s to another", id,
                   bk_verify_outcome_name(outcome), bk_verify_outcome_name(o));
            conflict = 1;
            break;
        }
        outcome = o;
    }
    if (!db) {
        return;
    }
    const bk_verify_row *row = find_row(rows, n_rows, id);
    if (row == NULL) {
        if (outcome != BK_VERIFY_NONE) {
            breach(out, BK_VERIFY_MISSING_ROW, "booking %s was reported %s but has no row", id,
                   bk_verify_outcome_name(outcome));
        }
        return;
    }
    int row_outcome = row->confirmed ? BK_VERIFY_CONFIRMED : BK_VERIFY_REJECTED;
    /* After a conflict there is no one answer for the row to agree with: reported once already. */
    if (outcome != BK_VERIFY_NONE && !conflict && row_outcome != outcome) {
        breach(out, BK_VERIFY_STATUS_MISMATCH, "booking %s was reported %s, its row says %s", id,
               bk_verify_outcome_name(outcome), bk_verify_outcome_name(row_outcome));
    }
    int matched = 0;
    for (size_t k = 0; k < n && !matched; k++) {
        matched =
            group[k]->tier != NULL && strcmp(group[k]->tier, row->tier) == 0 && group[k]->quantity == row->quantity;
    }
    if (!matched) {
        breach(out, BK_VERIFY_ROW_MISMATCH, "booking %s has row %s x%d, which no request for it asked", id, row->tier,
               row->quantity);
    }
}

/* Every reply of one key: one booking id. */
static void check_key_group(const bk_verify_reply **group, size_t n, bk_verify_report *out)
{
    const char *id = NULL;
    for (size_t k = 0; k < n; k++) {
        const char *got = group[k]->booking_id;
        if (got[0] == '\0') {
            continue;
        }
        if (id != NULL && strcmp(id, got) != 0) {
            breach(out, BK_VERIFY_KEY_TWICE, "key \"%s\" got bookings %s and %s", group[k]->key, id, got);
            return;
        }
        id = got;
    }
}

static void check_tiers(const bk_verify_input *in, const bk_verify_row **rows, size_t n_rows, bk_verify_report *out)
{
    for (size_t t = 0; t < in->n_tiers; t++) {
        bk_verify_tier *tier = &in->tiers[t];
        tier->sold = tier->n_confirmed = tier->n_rejected = 0;
        for (size_t k = 0; k < n_rows; k++) {
            if (strcmp(rows[k]->tier, tier->tier) != 0) {
                continue;
            }
            if (rows[k]->confirmed) {
                tier->sold += rows[k]->quantity;
                tier->n_confirmed++;
            } else {
                tier->n_rejected++;
            }
        }
        if (tier->sold > tier->capacity) {
            breach(out, BK_VERIFY_OVERSELL, "tier %s sold %lld of %lld seats", tier->tier, (long long)tier->sold,
                   (long long)tier->capacity);
        }
        if (tier->sold + tier->available != tier->capacity) {
            breach(out, BK_VERIFY_BALANCE, "tier %s: sold %lld + available %lld != capacity %lld", tier->tier,
                   (long long)tier->sold, (long long)tier->available, (long long)tier->capacity);
        }
    }
}

int bk_verify_run(const bk_verify_input *in, bk_verify_report *out, bk_err *err)
{
    int rc = BK_OK;
    const bk_verify_reply **by_id = NULL, **by_key = NULL;
    const bk_verify_row **rows = NULL;
    size_t n_by_id = 0, n_by_key = 0;
    int db = in->rows != NULL;
    memset(out, 0, sizeof(*out));
    out->db_checked = db;
    out->n_rows = db ? in->n_rows : 0;

    by_id = malloc((in->n_replies + 1) * sizeof(*by_id));
    by_key = malloc((in->n_replies + 1) * sizeof(*by_key));
    rows = malloc((out->n_rows + 1) * sizeof(*rows));
    if (by_id == NULL || by_key == NULL || rows == NULL) {
        rc = bk_err_set(err, BK_E_NOMEM, "index arrays for %zu replies and %zu rows", in->n_replies, out->n_rows);
        goto out;
    }
    for (size_t k = 0; k < in->n_replies; k++) {
        const bk_verify_reply *r = &in->replies[k];
        if (r->sent && r->booking_id[0] != '\0') {
            by_id[n_by_id++] = r;
        }
        if (r->sent && r->key != NULL) {
            by_key[n_by_key++] = r;
        }
    }
    for (size_t k = 0; k < out->n_rows; k++) {
        rows[k] = &in->rows[k];
    }
    qsort(by_id, n_by_id, sizeof(*by_id), cmp_reply_id);
    qsort(by_key, n_by_key, sizeof(*by_key), cmp_reply_key);
    qsort(rows, out->n_rows, sizeof(*rows), cmp_row_id);

    check_replies(in, out);
    for (size_t from = 0, to; from < n_by_id; from = to) {
        for (to = from + 1; to < n_by_id && strcmp(by_id[to]->booking_id, by_id[from]->booking_id) == 0; to++) {
        }
        out->n_ids++;
        check_id_group(by_id + from, to - from, rows, out->n_rows, db, out);
    }
    for (size_t from = 0, to; from < n_by_key; from = to) {
        for (to = from + 1; to < n_by_key && strcmp(by_key[to]->key, by_key[from]->key) == 0; to++) {
        }
        check_key_group(by_key + from, to - from, out);
    }
    if (!db) {
        goto out;
    }
    for (size_t k = 0; k < out->n_rows; k++) {
        if (k > 0 && strcmp(rows[k]->booking_id, rows[k - 1]->booking_id) == 0) {
            breach(out, BK_VERIFY_DUPLICATE_ROW, "booking %s has more than one row", rows[k]->booking_id);
        }
        if (bsearch(rows[k]->booking_id, by_id, n_by_id, sizeof(*by_id), cmp_id_to_reply) == NULL) {
            out->n_unexplained++;
        }
    }
    /* A request answered 503 (or not at all) promised nothing, yet may have reached Kafka: each
     * one may explain a row. A malformed request never may. */
    if (out->n_unexplained > out->n_unanswered) {
        breach(out, BK_VERIFY_UNEXPLAINED_ROWS, "%zu rows carry ids no reply handed out (%zu requests unanswered)",
               out->n_unexplained, out->n_unanswered);
    }
    check_tiers(in, rows, out->n_rows, out);

out:
    free(by_id);
    free(by_key);
    free(rows);
    return rc;
}
