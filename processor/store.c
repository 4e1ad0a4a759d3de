/* The batch transaction. Statement order matters: the offset row is locked first (two owners of
 * a partition serialize there and the second sees the first's offset), then the tier row. */
#include "processor/store.h"

#include "common/booking.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/idset.h"
#include "common/json.h"
#include "common/log.h"
#include "common/outcome.h"
#include "processor/refusal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

struct bk_store {
    bk_db *db;
    char topic[128];
    bk_batch_item *items; /* scratch, grown to the largest batch seen */
    size_t cap_items;
    char *notes; /* scratch for the outcome lines, grown likewise */
    size_t cap_notes;
};

static const bk_db_stmt stmts[] = {
    {"init_offset", "INSERT INTO partition_offsets (topic, partition, next_offset) VALUES ($1, $2, 0) "
                    "ON CONFLICT DO NOTHING"},
    {"lock_offset", "SELECT next_offset FROM partition_offsets WHERE topic = $1 AND partition = $2 FOR UPDATE"},
    {"lock_tier", "SELECT available FROM tiers WHERE tier = $1 FOR UPDATE"},
    {"known_ids", "SELECT booking_id FROM bookings WHERE booking_id = ANY ($1::text[])"},
    /* The rows come as one JSON array: yajl escapes every string, no SQL is ever assembled. */
    {"insert_bookings",
     "INSERT INTO bookings (booking_id, tier, quantity, customer, status, reason, amount_cents, created_at, "
     "decided_at, kafka_partition, kafka_offset) "
     "SELECT b.id, t.tier, b.qty, b.customer, b.status, b.reason, "
     /* The amount is computed in C from the loaded catalogue (bk_booking_amount), as in replies. */
     "b.amount, "
     /* Exact milliseconds (no float): the ingresses show the same instants from the NOTIFY. */
     "timestamptz 'epoch' + b.accepted_ms * interval '1 millisecond', "
     "timestamptz 'epoch' + $4::bigint * interval '1 millisecond', $2, b.off "
     "FROM jsonb_to_recordset($3::jsonb) AS b(id text, qty int, customer text, status text, reason text, "
     "amount bigint, accepted_ms bigint, off bigint) JOIN tiers t ON t.tier = $1 "
     "ON CONFLICT (booking_id) DO NOTHING"},
    /* The guarded decrement: even if our arithmetic were wrong, no row ever goes below zero. */
    {"decrement", "UPDATE tiers SET available = available - $2 WHERE tier = $1 AND available >= $2"},
    {"dead_letter", "INSERT INTO dead_letters (topic, partition, kafka_offset, payload, error) "
                    "VALUES ($1, $2, $3, decode($4, 'hex'), $5) ON CONFLICT DO NOTHING"},
    {"store_offset", "UPDATE partition_offsets SET next_offset = $3, updated_at = now() "
                     "WHERE topic = $1 AND partition = $2"},
    /* Tells every ingress the outcomes (common/outcome.h), delivered only at commit: $1 holds
     * payloads of whole lines separated by an empty line, which no outcome line can hold. */
    {"notify", "SELECT pg_notify('bk_decided', payload) FROM string_to_table($1, E'\\n\\n') AS payload"},
};

bk_store *bk_store_new(const char *dsn, const char *topic)
{
    bk_store *store = calloc(1, sizeof(*store));
    if (store == NULL) {
        return NULL;
    }
    snprintf(store->topic, sizeof(store->topic), "%s", topic);
    store->db = bk_db_new(dsn, stmts, (int)(sizeof(stmts) / sizeof(stmts[0])));
    if (store->db == NULL) {
        free(store);
        return NULL;
    }
    return store;
}

void bk_store_free(bk_store *store)
{
    if (store == NULL) {
        return;
    }
    bk_db_free(store->db);
    free(store->items);
    free(store->notes);
    free(store);
}

int bk_store_connect(bk_store *store, bk_err *err)
{
    return bk_db_connect(store->db, err);
}

/* Runs a statement whose result we only need to succeed. */
static int run(bk_store *store, const char *name, int n, const char *const *values, bk_err *err)
{
    PGresult *res = NULL;
    int rc = bk_db_exec(store->db, name, n, values, &res, err);
    PQclear(res);
    return rc;
}

int bk_store_load_offset(bk_store *store, int32_t partition, int64_t *next_offset, bk_err *err)
{
    char part[16];
    snprintf(part, sizeof(part), "%" PRId32, partition);
    const char *values[] = {store->topic, part};
    PGresult *res = NULL;

    int rc = bk_db_connect(store->db, err);
    if (rc == BK_OK) {
        rc = run(store, "init_offset", 2, values, err);
    }
    if (rc == BK_OK) {
        rc = bk_db_exec(store->db, "lock_offset", 2, values, &res, err);
    }
    if (rc == BK_OK) {
        *next_offset = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
    PQclear(res);
    return rc;
}

/* The text array literal {id,id,...} of the readable ids at or past the fence. */
static char *ids_literal(const bk_batch_item *items, size_t n, int64_t stored)
{
    char *lit = NULL;
    bk_idset *ids = bk_idset_new(n);
    for (size_t k = 0; ids != NULL && k < n; k++) {
        if (items[k].booking_id[0] != '\0' && items[k].offset >= stored) {
            (void)bk_idset_add(ids, items[k].booking_id, k); /* sized for all n: cannot fail */
        }
    }
    if (ids != NULL) {
        lit = bk_idset_literal(ids);
    }
    bk_idset_free(ids);
    return lit;
}

/* Sets items[k].known for every id that already has a row (every item of that id). */
static int mark_known(bk_store *store, size_t n, int64_t stored, bk_err *err)
{
    char *lit = ids_literal(store->items, n, stored);
    if (lit == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "ids literal of %zu ids", n);
    }
    const char *values[] = {lit};
    PGresult *res = NULL;
    int rc = bk_db_exec(store->db, "known_ids", 1, values, &res, err);
    for (int row = 0; rc == BK_OK && row < PQntuples(res); row++) {
        const char *id = PQgetvalue(res, row, 0);
        for (size_t k = 0; k < n; k++) {
            if (strcmp(store->items[k].booking_id, id) == 0) {
                store->items[k].known = 1;
            }
        }
    }
    PQclear(res);
    free(lit);
    return rc;
}

/* The instant a booking row says it was accepted: the message's, else (an invalid message) the
 * Kafka timestamp the processor put there, else the decision's. Row and announcement share it. */
static int64_t created_ms(const bk_store_msg *m, int64_t decided_ms)
{
    return m->msg.accepted_at_ms > 0 ? m->msg.accepted_at_ms : decided_ms;
}

static int has_row(bk_verdict v)
{
    return v == BK_VERDICT_CONFIRMED || v == BK_VERDICT_REJECTED || v == BK_VERDICT_INVALID;
}

/* The status a row of verdict v stores (has_row(v) holds). */
static bk_booking_status status_of(bk_verdict v)
{
    return v == BK_VERDICT_CONFIRMED ? BK_BOOKING_CONFIRMED
           : v == BK_VERDICT_INVALID ? BK_BOOKING_INVALID
                                     : BK_BOOKING_SOLD_OUT;
}

/* Inserts the confirmed, rejected and invalid bookings; fails if any already existed (a booking with the
 * same id committed by another partition's transaction since mark_known): the caller retries. */
static int insert_bookings(bk_store *store, int32_t partition, const bk_tier *tier, const bk_store_msg *msgs, size_t n,
                           size_t n_rows, int64_t decided_ms, bk_err *err)
{
    int rc = BK_OK;
    PGresult *res = NULL;
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "yajl_gen_alloc failed");
    }
    int ok = yajl_gen_array_open(g) == yajl_gen_status_ok;
    for (size_t k = 0; ok && k < n; k++) {
        bk_verdict v = msgs[k].verdict;
        if (!has_row(v)) {
            continue;
        }
        const bk_msg *m = &msgs[k].msg;
        bk_booking_status status = status_of(v);
        const char *reason = bk_booking_reason(status);
        /* An invalid row keeps no customer: the name may be what PostgreSQL refused. */
        ok = yajl_gen_map_open(g) == yajl_gen_status_ok && bk_json_put_str(g, "id", m->booking_id) &&
             (m->quantity == 0 || bk_json_put_int(g, "qty", m->quantity)) &&
             (status == BK_BOOKING_INVALID || !m->has_customer || bk_json_put_str(g, "customer", m->customer)) &&
             bk_json_put_str(g, "status", bk_booking_status_name(status)) &&
             (reason == NULL || bk_json_put_str(g, "reason", reason)) &&
             bk_json_put_int(g, "amount", bk_booking_amount(tier, m->quantity, status)) &&
             bk_json_put_int(g, "accepted_ms", created_ms(&msgs[k], decided_ms)) &&
             bk_json_put_int(g, "off", msgs[k].offset) && yajl_gen_map_close(g) == yajl_gen_status_ok;
    }
    ok = ok && yajl_gen_array_close(g) == yajl_gen_status_ok;

    const unsigned char *json = NULL;
    size_t json_len = 0;
    if (!ok || yajl_gen_get_buf(g, &json, &json_len) != yajl_gen_status_ok) {
        rc = bk_err_set(err, BK_E_INVAL, "yajl_gen of %zu booking rows failed, partition=%" PRId32, n_rows, partition);
        goto out;
    }
    char part[16], decided[24];
    snprintf(part, sizeof(part), "%" PRId32, partition);
    snprintf(decided, sizeof(decided), "%" PRId64, decided_ms);
    const char *values[] = {tier->code, part, (const char *)json, decided};
    rc = bk_db_exec(store->db, "insert_bookings", 4, values, &res, err);
    if (rc == BK_OK && strtoull(PQcmdTuples(res), NULL, 10) != n_rows) {
        rc = bk_err_set(err, BK_E_DB,
                        "insert_bookings stored %s of %zu rows: a booking id was decided concurrently, "
                        "partition=%" PRId32,
                        PQcmdTuples(res), n_rows, partition);
    }
out:
    PQclear(res);
    yajl_gen_free(g);
    return rc;
}

/* Makes room in the notes scratch buffer for `more` bytes past `used`, and a terminator. */
static int notes_reserve(bk_store *store, size_t used, size_t more, bk_err *err)
{
    if (used + more + 1 <= store->cap_notes) {
        return BK_OK;
    }
    size_t cap = store->cap_notes > 0 ? store->cap_notes : 4 * BK_OUTCOME_PAYLOAD_MAX;
    while (cap < used + more + 1) {
        cap *= 2;
    }
    char *grown = realloc(store->notes, cap);
    if (grown == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "realloc of %zu bytes of outcome lines", cap);
    }
    store->notes = grown;
    store->cap_notes = cap;
    return BK_OK;
}

/* Announces the batch's outcomes to every ingress, in payloads under PostgreSQL's NOTIFY limit
 * (common/outcome.h), all sent by one statement. */
static int notify_outcomes(bk_store *store, const bk_tier *tier, const bk_store_msg *msgs, size_t n, int64_t decided_ms,
                           bk_err *err)
{
    size_t used = 0, in_payload = 0;
    int rc = BK_OK;
    for (size_t k = 0; rc == BK_OK && k < n; k++) {
        bk_verdict v = msgs[k].verdict;
        if (!has_row(v)) {
            continue;
        }
        const bk_msg *m = &msgs[k].msg;
        int invalid = v == BK_VERDICT_INVALID;
        bk_outcome o = {.tier = tier,
                        .quantity = m->quantity,
                        .confirmed = v == BK_VERDICT_CONFIRMED,
                        .invalid = invalid,
                        .created_ms = created_ms(&msgs[k], decided_ms),
                        .decided_ms = decided_ms,
                        .has_customer = !invalid && m->has_customer};
        memcpy(o.booking_id, m->booking_id, sizeof(o.booking_id));
        if (o.has_customer) {
            memcpy(o.customer, m->customer, sizeof(o.customer));
        }
        rc = notes_reserve(store, used, BK_OUTCOME_LINE_MAX + 1, err);
        if (rc == BK_OK) {
            rc = bk_outcome_append(&o, store->notes, store->cap_notes - 1, &used, &in_payload, err);
        }
    }
    if (rc == BK_OK && used > 0) {
        store->notes[used] = '\0';
        const char *values[] = {store->notes};
        rc = run(store, "notify", 1, values, err);
    }
    return rc;
}

static int dead_letter(bk_store *store, int32_t partition, const bk_store_msg *m, bk_err *err)
{
    static const char hex[] = "0123456789abcdef";
    char payload_hex[2 * BK_STORE_PAYLOAD_MAX + 1];
    for (size_t k = 0; k < m->payload_len; k++) {
        payload_hex[2 * k] = hex[(unsigned char)m->payload[k] >> 4];
        payload_hex[2 * k + 1] = hex[(unsigned char)m->payload[k] & 15];
    }
    payload_hex[2 * m->payload_len] = '\0';
    char part[16], off[24];
    snprintf(part, sizeof(part), "%" PRId32, partition);
    snprintf(off, sizeof(off), "%" PRId64, m->offset);
    /* The error column is text: only printable ASCII goes in, so no byte of ours can make
     * PostgreSQL refuse the dead letter itself (a cut UTF-8 character would, SQLSTATE 22021). */
    char error[sizeof(m->error)];
    size_t len = 0;
    for (; m->error[len] != '\0' && len + 1 < sizeof(error); len++) {
        unsigned char c = (unsigned char)m->error[len];
        error[len] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    error[len] = '\0';
    const char *values[] = {store->topic, part, off, payload_hex, error};
    bk_log_warn("event=dead_letter topic=%s partition=%s offset=%s booking=%s ends=%s error=\"%s\"", store->topic, part,
                off, m->msg.booking_id[0] != '\0' ? m->msg.booking_id : "-",
                m->verdict == BK_VERDICT_INVALID ? bk_booking_reason(BK_BOOKING_INVALID) : "-", error);
    return run(store, "dead_letter", 5, values, err);
}

/* The body of the transaction; the caller wraps it in BEGIN and COMMIT/ROLLBACK. */
static int apply_locked(bk_store *store, int32_t partition, const bk_tier *tier, bk_store_msg *msgs, size_t n,
                        bk_store_stats *stats, bk_err *err)
{
    char part[16];
    snprintf(part, sizeof(part), "%" PRId32, partition);
    const char *offset_key[] = {store->topic, part};
    PGresult *res = NULL;
    int64_t decided_ms = bk_clock_wall_ms(); /* one instant for the whole batch */

    /* The fence: every message below the stored offset was applied, by us or by another owner. */
    int rc = bk_db_exec(store->db, "lock_offset", 2, offset_key, &res, err);
    if (rc != BK_OK) {
        return rc;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return bk_err_set(err, BK_E_DB, "no partition_offsets row, partition=%s", part);
    }
    int64_t stored = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    res = NULL; /* reused below, and cleared again on every path */
    stats->stored_offset = stored;

    size_t n_live = 0, n_ids = 0;
    for (size_t k = 0; k < n; k++) {
        const bk_store_msg *m = &msgs[k];
        int live = m->decoded && m->refused == 0;
        /* A dead message ends its booking only if its id can be read, its partition has a tier
         * (the row's tier) and PostgreSQL did not refuse that too. */
        int ends = !live && tier != NULL && m->refused < 2;
        store->items[k] = (bk_batch_item){
            .offset = m->offset,
            .booking_id = live || ends ? m->msg.booking_id : "",
            .quantity = m->msg.quantity,
            .verdict = live ? BK_VERDICT_PENDING : BK_VERDICT_UNDECODABLE,
        };
        n_live += live && m->offset >= stored;
        n_ids += store->items[k].booking_id[0] != '\0' && m->offset >= stored;
    }

    int32_t available = 0;
    if (n_ids > 0) {
        rc = mark_known(store, n, stored, err);
    }
    if (rc == BK_OK && n_live > 0) {
        const char *tier_key[] = {tier->code};
        rc = bk_db_exec(store->db, "lock_tier", 1, tier_key, &res, err);
        if (rc == BK_OK && PQntuples(res) != 1) {
            /* Not the message's fault: keep the batch and retry, loudly, until the row is back. */
            rc = bk_err_set(err, BK_E_DB, "tier %s has no row in table tiers, partition=%s", tier->code, part);
        }
        if (rc == BK_OK) {
            available = (int32_t)strtol(PQgetvalue(res, 0, 0), NULL, 10);
        }
        PQclear(res);
        res = NULL;
    }
    bk_batch_result *r = &stats->result;
    if (rc == BK_OK) {
        rc = bk_batch_decide(store->items, n, available, stored, r, err);
    }
    for (size_t k = 0; rc == BK_OK && k < n; k++) {
        msgs[k].verdict = store->items[k].verdict;
    }
    size_t n_rows = r->n_confirmed + r->n_rejected + r->n_invalid;
    if (rc == BK_OK && n_rows > 0) {
        rc = insert_bookings(store, partition, tier, msgs, n, n_rows, decided_ms, err);
    }
    if (rc == BK_OK && r->seats_sold > 0) {
        char seats[16];
        snprintf(seats, sizeof(seats), "%" PRId32, r->seats_sold);
        const char *values[] = {tier->code, seats};
        rc = bk_db_exec(store->db, "decrement", 2, values, &res, err);
        if (rc == BK_OK && strcmp(PQcmdTuples(res), "1") != 0) {
            rc = bk_err_set(err, BK_E_DB, "guarded decrement of %s seats matched no row, tier=%s", seats, tier->code);
        }
        PQclear(res);
    }
    for (size_t k = 0; rc == BK_OK && k < n; k++) {
        if (msgs[k].verdict == BK_VERDICT_UNDECODABLE || msgs[k].verdict == BK_VERDICT_INVALID) {
            rc = dead_letter(store, partition, &msgs[k], err);
        }
    }
    if (rc == BK_OK && r->next_offset > stored) {
        char next[24];
        snprintf(next, sizeof(next), "%" PRId64, r->next_offset);
        const char *values[] = {store->topic, part, next};
        rc = run(store, "store_offset", 3, values, err);
    }
    if (rc == BK_OK && n_rows > 0) {
        rc = notify_outcomes(store, tier, msgs, n, decided_ms, err);
    }
    return rc;
}

int bk_store_apply(bk_store *store, int32_t partition, const bk_tier *tier, bk_store_msg *msgs, size_t n,
                   bk_store_stats *stats, bk_err *err)
{
    memset(stats, 0, sizeof(*stats));
    if (n > store->cap_items) {
        bk_batch_item *items = realloc(store->items, n * sizeof(*items));
        if (items == NULL) {
            return bk_err_set(err, BK_E_NOMEM, "realloc of %zu batch items", n);
        }
        store->items = items;
        store->cap_items = n;
    }
    /* A partition without a tier can only carry dead letters: decode already failed them all. */
    for (size_t k = 0; tier == NULL && k < n; k++) {
        if (msgs[k].decoded && msgs[k].refused == 0) {
            return bk_err_set(err, BK_E_INVAL, "decoded message on partition=%" PRId32 " without a tier", partition);
        }
    }

    bk_err first;
    bk_err_clear(&first);
    int rc = bk_db_connect(store->db, &first);
    if (rc == BK_OK) {
        /* Within this transaction only, no sequential scans: the batch's "= ANY(ids)" dedupe
         * (known_ids) runs while the bookings table grows faster than ANALYZE follows, and the
         * planner, believing it tiny, would scan it for every batch. One round trip for both. */
        rc = bk_db_command(store->db, "BEGIN; SET LOCAL enable_seqscan = off", &first);
    }
    if (rc == BK_OK) {
        rc = apply_locked(store, partition, tier, msgs, n, stats, &first);
        if (rc == BK_OK) {
            rc = bk_db_command(store->db, "COMMIT", &first);
        } else {
            bk_db_rollback(store->db);
        }
    }
    if (rc == BK_OK) {
        return BK_OK;
    }
    /* Only a statement that failed on a connection still up can blame the data; a connect that
     * failed leaves an older SQLSTATE behind, and a good batch must then be retried, never
     * dead-lettered. PostgreSQL's own text is not passed on: it quotes the refused row. */
    if (rc == BK_E_DB &&
        bk_refusal_classify(bk_db_connected(store->db), bk_db_last_sqlstate(store->db)) == BK_REFUSAL_DATA) {
        char sentence[128];
        bk_refusal_describe(bk_db_last_sqlstate(store->db), sentence, sizeof(sentence));
        return bk_err_set(err, BK_E_INVAL, "%s", sentence);
    }
    return bk_err_set(err, rc, "%s", first.msg);
}
