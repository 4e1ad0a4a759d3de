/* Reads the tier catalogue from PostgreSQL and checks the topic against it, once at start. The
 * waits poll the stop flag, so SIGTERM during start-up ends the service within a backoff step. */
#include "common/tierload.h"

#include "common/db.h"
#include "common/log.h"

#include <stdlib.h>
#include <time.h>

static const bk_db_stmt stmts[] = {
    {"tier_catalogue", "SELECT tier, name, price_cents, capacity, position FROM tiers ORDER BY position"},
};

/* Sleeps *backoff_ms in steps that watch *stop, then doubles it up to the cap. */
static void back_off(volatile sig_atomic_t *stop, int *backoff_ms)
{
    for (int slept = 0; slept < *backoff_ms && !*stop; slept += 50) {
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000L}, NULL);
    }
    *backoff_ms = *backoff_ms * 2 > BK_TIERLOAD_BACKOFF_MAX_MS ? BK_TIERLOAD_BACKOFF_MAX_MS : *backoff_ms * 2;
}

/* One attempt: BK_E_DB if the table could not be read, BK_E_INVAL if its rows are no catalogue. */
static int read_once(bk_db *db, bk_tier_catalogue *cat, bk_err *err)
{
    PGresult *res = NULL;
    int rc = bk_db_connect(db, err);
    if (rc == BK_OK) {
        rc = bk_db_exec(db, "tier_catalogue", 0, NULL, &res, err);
    }
    if (rc == BK_OK) {
        bk_tier_row rows[BK_TIER_PARTITIONS_MAX];
        int n = PQntuples(res);
        for (int i = 0; i < n && i < BK_TIER_PARTITIONS_MAX; i++) {
            rows[i] = (bk_tier_row){
                .code = PQgetvalue(res, i, 0),
                .name = PQgetvalue(res, i, 1),
                .price_cents = strtoll(PQgetvalue(res, i, 2), NULL, 10),
                .capacity = strtoll(PQgetvalue(res, i, 3), NULL, 10),
                .position = strtoll(PQgetvalue(res, i, 4), NULL, 10),
            };
        }
        rc = bk_tier_build(cat, rows, (size_t)n, err); /* more rows than the cap: refused by count */
    }
    PQclear(res);
    return rc;
}

int bk_tierload_read(const char *dsn, volatile sig_atomic_t *stop, bk_tier_catalogue *cat, bk_err *err)
{
    bk_db *db = bk_db_new(dsn, stmts, (int)(sizeof(stmts) / sizeof(stmts[0])));
    if (db == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "bk_db_new for the tier catalogue");
    }
    int backoff_ms = BK_TIERLOAD_BACKOFF_MIN_MS;
    int rc = BK_E_DB;
    for (int attempt = 1; !*stop; attempt++) {
        bk_err once;
        bk_err_clear(&once);
        rc = read_once(db, cat, &once);
        if (rc != BK_E_DB) {
            if (rc != BK_OK) {
                bk_err_set(err, rc, "the tiers table is not a catalogue: %s", once.msg);
            }
            break;
        }
        bk_log_warn("event=tiers_unavailable attempt=%d retry_ms=%d msg=\"%s\"", attempt, backoff_ms, once.msg);
        back_off(stop, &backoff_ms);
    }
    if (rc == BK_OK) {
        bk_log_info("event=tiers_loaded count=%d tiers=\"%s\"", cat->count, bk_tier_codes(cat));
    } else if (rc == BK_E_DB) {
        bk_err_set(err, BK_E_DB, "stopped before the tier catalogue could be read");
    }
    bk_db_free(db);
    return rc;
}

/* The partition count of topic, or -1 with why in err. */
static int partition_count(rd_kafka_t *rk, const char *topic, bk_err *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int count = -1;
    if (rkt == NULL) {
        bk_err_set(err, BK_E_KAFKA, "rd_kafka_topic_new %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    rd_kafka_resp_err_t code = rd_kafka_metadata(rk, 0, rkt, &md, BK_TIERLOAD_METADATA_MS);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
        bk_err_set(err, BK_E_KAFKA, "metadata of topic %s: %s", topic, rd_kafka_err2str(code));
    } else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        bk_err_set(err, BK_E_KAFKA, "topic %s: %s", topic,
                   md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "not in the metadata");
    } else {
        count = md->topics[0].partition_cnt;
    }
    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return count;
}

int bk_tierload_check_topic(rd_kafka_t *rk, const char *topic, const bk_tier_catalogue *cat,
                            volatile sig_atomic_t *stop, bk_err *err)
{
    int backoff_ms = BK_TIERLOAD_BACKOFF_MIN_MS;
    int count = -1;
    for (int attempt = 1; count < 0 && !*stop; attempt++) {
        bk_err once;
        bk_err_clear(&once);
        count = partition_count(rk, topic, &once);
        if (count < 0) {
            bk_log_warn("event=topic_unavailable topic=%s attempt=%d retry_ms=%d msg=\"%s\"", topic, attempt,
                        backoff_ms, once.msg);
            back_off(stop, &backoff_ms);
        }
    }
    if (count < 0) {
        return bk_err_set(err, BK_E_KAFKA, "stopped before the partitions of topic %s were known", topic);
    }
    int rc = bk_tier_check_partitions(cat, count, err);
    if (rc == BK_OK) {
        bk_log_info("event=topic_checked topic=%s partitions=%d", topic, count);
    }
    return rc;
}
