/* The consumer loop: poll, append to the partition's batch, flush a batch when it is full or its
 * wait is over. One thread owns everything here, so each partition has exactly one writer. */
#include "processor/proc.h"

#include "common/clock.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/tier.h"
#include "common/tierload.h"
#include "processor/position.h"
#include "processor/pstats.h"
#include "processor/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MAX_MS    100
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define WATERMARK_MS   5000 /* bound on asking the broker for a partition's watermarks */

typedef struct part_batch {
    bk_store_msg *msgs; /* cfg->batch_max slots */
    size_t n;
    int64_t due_ms; /* monotonic time at which the batch is flushed even if not full */
} part_batch;

struct bk_proc {
    const bk_cfg *cfg;
    const bk_tier_catalogue *tiers;
    rd_kafka_t *rk;
    bk_store *store;
    bk_pstats *stats;
    part_batch parts[BK_TIER_PARTITIONS_MAX];
    /* Partitions whose stored offset does not point into the log (processor/position.h): never
     * fetched, never resumed, until an operator repairs the offset and restarts us. */
    int refused[BK_TIER_PARTITIONS_MAX];
    volatile sig_atomic_t *stop;
    int paused;       /* PostgreSQL failed: consumption paused until a batch commits */
    int backoff_ms;   /* the next retry delay while paused */
    int64_t retry_at; /* monotonic ms of the next attempt while paused */
};

static void set_paused(bk_proc *proc, int paused)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(proc->rk, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* A refused partition stays paused whatever PostgreSQL does. */
        for (int k = assigned->cnt - 1; !paused && k >= 0; k--) {
            int32_t p = assigned->elems[k].partition;
            if (p >= 0 && p < BK_TIER_PARTITIONS_MAX && proc->refused[p]) {
                rd_kafka_topic_partition_list_del_by_idx(assigned, k);
            }
        }
        if (paused) {
            rd_kafka_pause_partitions(proc->rk, assigned);
        } else {
            rd_kafka_resume_partitions(proc->rk, assigned);
        }
        rd_kafka_topic_partition_list_destroy(assigned);
    }
    proc->paused = paused;
}

/* Tells Kafka how far we got. Advisory only: PostgreSQL's partition_offsets is the truth. */
static void commit_advisory(bk_proc *proc, int32_t partition, int64_t next_offset)
{
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(offsets, proc->cfg->kafka_topic, partition)->offset = next_offset;
    rd_kafka_commit(proc->rk, offsets, 1);
    rd_kafka_topic_partition_list_destroy(offsets);
}

/* Applies msgs[0..n) of partition p in one transaction; logs and reports the result to Kafka. */
static int apply(bk_proc *proc, int32_t p, bk_store_msg *msgs, size_t n, bk_err *err)
{
    bk_store_stats stats;
    int64_t started = bk_clock_mono_us();
    int rc = bk_store_apply(proc->store, p, bk_tier_by_partition(proc->tiers, p), msgs, n, &stats, err);
    double seconds = (double)(bk_clock_mono_us() - started) / 1e6;
    if (rc != BK_OK) {
        bk_pstats_failure(proc->stats);
        return rc;
    }
    bk_pstats_batch(proc->stats, p, n, &stats.result, seconds);
    const bk_batch_result *r = &stats.result;
    for (size_t k = 0; bk_log_enabled(BK_LOG_DEBUG) && k < n; k++) {
        bk_log_debug("event=booking_decided booking=%s partition=%" PRId32 " offset=%" PRId64 " verdict=%s",
                     msgs[k].decoded ? msgs[k].msg.booking_id : "-", p, msgs[k].offset,
                     bk_batch_verdict_name(msgs[k].verdict));
    }
    bk_log_info(
        "event=batch_applied partition=%" PRId32 " first_offset=%" PRId64 " next_offset=%" PRId64
        " n=%zu confirmed=%zu rejected=%zu duplicate=%zu dead=%zu invalid=%zu already_applied=%zu seats=%" PRId32
        " ms=%.1f",
        p, msgs[0].offset, r->next_offset, n, r->n_confirmed, r->n_rejected, r->n_duplicate, r->n_undecodable,
        r->n_invalid, r->n_applied, r->seats_sold, seconds * 1e3);
    if (r->n_applied > 0) {
        bk_log_warn("event=fenced partition=%" PRId32 " stored_offset=%" PRId64 " skipped=%zu", p, stats.stored_offset,
                    r->n_applied);
    }
    commit_advisory(proc, p, r->next_offset);
    return BK_OK;
}

/* PostgreSQL refused message m on its own (err: the store's fixed sentence, never the row). The
 * first refusal turns a decodable message into a dead letter that ends its booking invalid; a
 * second one (even that row was refused) leaves only the dead letter. */
static void refuse(int32_t p, bk_store_msg *m, const bk_err *err)
{
    if (m->decoded && m->refused == 0) {
        m->refused = 1;
        snprintf(m->error, sizeof(m->error), "%.*s", (int)sizeof(m->error) - 1, err->msg);
        /* Kept re-encoded without the customer: the name may be what was refused, and it is
         * nobody's business in dead_letters. Kafka still holds the message as it was sent. */
        bk_msg kept = m->msg;
        kept.has_customer = 0;
        kept.customer[0] = '\0';
        if (bk_msg_encode(&kept, m->payload, sizeof(m->payload), &m->payload_len, NULL) != BK_OK) {
            m->payload_len = 0;
        }
        bk_log_warn("event=message_refused partition=%" PRId32 " offset=%" PRId64 " booking=%s msg=\"%s\" "
                    "action=end_invalid",
                    p, m->offset, m->msg.booking_id, err->msg);
        return;
    }
    m->refused = 2;
    static const char also[] = "; ending its booking was refused too: ";
    char *previous = strstr(m->error, also); /* from an earlier pass over this message */
    size_t len = previous != NULL ? (size_t)(previous - m->error) : strlen(m->error);
    snprintf(m->error + len, sizeof(m->error) - len, "%s%.*s", also, (int)sizeof(m->error) - 1, err->msg);
    bk_log_error("event=booking_not_ended partition=%" PRId32 " offset=%" PRId64 " booking=%s msg=\"%s\" "
                 "action=dead_letter_only",
                 p, m->offset, m->msg.booking_id[0] != '\0' ? m->msg.booking_id : "-", err->msg);
}

/* Applies the batch one message at a time; a message refused on its own is dead-lettered with
 * the SQLSTATE. Returns how many messages, from the front, are done. */
static size_t apply_one_by_one(bk_proc *proc, int32_t p, bk_err *err)
{
    part_batch *b = &proc->parts[p];
    size_t k = 0;
    for (; k < b->n; k++) {
        bk_store_msg *m = &b->msgs[k];
        bk_err_clear(err);
        int rc = apply(proc, p, m, 1, err);
        while (rc == BK_E_INVAL && m->refused < 2) {
            refuse(p, m, err);
            bk_err_clear(err);
            rc = apply(proc, p, m, 1, err);
        }
        if (rc == BK_E_INVAL) {
            /* Even the bare dead letter was refused: nothing can be skipped without a record, so
             * the partition stops here, loudly, and the next retry starts this message afresh
             * (whatever refused it may have been fixed by then). */
            bk_log_error("event=dead_letter_refused partition=%" PRId32 " offset=%" PRId64 " msg=\"%s\" "
                         "action=retry",
                         p, m->offset, err->msg);
            bk_pstats_stuck(proc->stats, p, 1);
            m->refused = 0;
        }
        if (rc != BK_OK) {
            break;
        }
    }
    return k;
}

/* Applies partition p's batch. On failure what is left stays in hand and consumption pauses
 * until a retry succeeds: nothing is skipped. */
static int flush(bk_proc *proc, int32_t p)
{
    part_batch *b = &proc->parts[p];
    if (b->n == 0) {
        return BK_OK;
    }
    bk_err err;
    bk_err_clear(&err);
    int rc = apply(proc, p, b->msgs, b->n, &err);
    if (rc == BK_E_INVAL) {
        bk_log_warn("event=batch_refused partition=%" PRId32 " n=%zu msg=\"%s\" action=one_by_one", p, b->n, err.msg);
        size_t n_done = apply_one_by_one(proc, p, &err);
        memmove(b->msgs, b->msgs + n_done, (b->n - n_done) * sizeof(*b->msgs));
        b->n -= n_done;
        rc = b->n == 0 ? BK_OK : BK_E_DB;
    }
    if (rc != BK_OK) {
        bk_log_error("event=batch_failed partition=%" PRId32 " first_offset=%" PRId64 " n=%zu retry_ms=%d msg=\"%s\"",
                     p, b->msgs[0].offset, b->n, proc->backoff_ms, err.msg);
        if (!proc->paused) {
            set_paused(proc, 1);
        }
        proc->retry_at = bk_clock_mono_ms() + proc->backoff_ms;
        proc->backoff_ms = proc->backoff_ms * 2 < BACKOFF_MAX_MS ? proc->backoff_ms * 2 : BACKOFF_MAX_MS;
        return rc;
    }
    b->n = 0;
    bk_pstats_stuck(proc->stats, p, 0);
    proc->backoff_ms = BACKOFF_MIN_MS;
    if (proc->paused) {
        set_paused(proc, 0);
        bk_log_info("event=resumed partition=%" PRId32, p);
    }
    return BK_OK;
}

static void add_message(bk_proc *proc, rd_kafka_message_t *rkm)
{
    int32_t p = rkm->partition;
    if (p < 0 || p >= BK_TIER_PARTITIONS_MAX) {
        bk_log_error("event=unknown_partition partition=%" PRId32 " offset=%" PRId64, p, rkm->offset);
        return;
    }
    part_batch *b = &proc->parts[p];
    if (b->n == (size_t)proc->cfg->batch_max) {
        /* Only while a full batch waits for PostgreSQL: hand the message back to Kafka. */
        rd_kafka_seek(rkm->rkt, p, rkm->offset, 0);
        return;
    }
    bk_store_msg *m = &b->msgs[b->n];
    bk_err err;
    bk_err_clear(&err);
    m->offset = rkm->offset;
    m->decoded = bk_msg_decode(proc->tiers, rkm->payload, rkm->len, &m->msg, &err) == BK_OK;
    if (m->decoded && m->msg.tier->partition != p) {
        bk_err_set(&err, BK_E_INVAL, "tier %s does not belong to partition %" PRId32, m->msg.tier->code, p);
        m->decoded = 0;
    }
    m->refused = 0;
    m->payload_len = 0;
    if (!m->decoded) {
        m->payload_len = rkm->len < BK_STORE_PAYLOAD_MAX ? rkm->len : BK_STORE_PAYLOAD_MAX;
        memcpy(m->payload, rkm->payload, m->payload_len);
        snprintf(m->error, sizeof(m->error), "%.*s", (int)sizeof(m->error) - 1, err.msg);
        /* An invalid booking whose accepted_at is unreadable was created when it was produced. */
        rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        int64_t produced_ms = rd_kafka_message_timestamp(rkm, &type);
        if (m->msg.accepted_at_ms == 0 && type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && produced_ms > 0 &&
            produced_ms <= BK_MSG_ACCEPTED_AT_MAX) {
            m->msg.accepted_at_ms = produced_ms;
        }
    }
    if (b->n++ == 0) {
        b->due_ms = bk_clock_mono_ms() + proc->cfg->batch_wait_ms;
    }
}

/* Flushes every batch that is full or due; while paused, only when the backoff has passed. */
static void flush_due(bk_proc *proc, int all)
{
    int64_t now = bk_clock_mono_ms();
    if (proc->paused && now < proc->retry_at) {
        return;
    }
    for (int32_t p = 0; p < BK_TIER_PARTITIONS_MAX; p++) {
        part_batch *b = &proc->parts[p];
        if (b->n > 0 && (all || b->n == (size_t)proc->cfg->batch_max || now >= b->due_ms || proc->paused)) {
            if (flush(proc, p) != BK_OK) {
                return;
            }
        }
    }
}

static int poll_timeout(const bk_proc *proc)
{
    int64_t now = bk_clock_mono_ms();
    int64_t wake = now + POLL_MAX_MS;
    for (int p = 0; p < BK_TIER_PARTITIONS_MAX; p++) {
        if (proc->parts[p].n > 0 && proc->parts[p].due_ms < wake) {
            wake = proc->parts[p].due_ms;
        }
    }
    if (proc->paused && proc->retry_at < wake) {
        wake = proc->retry_at;
    }
    return wake > now ? (int)(wake - now) : 0;
}

/* Sleeps about ms milliseconds in steps of at most POLL_MAX_MS, returning early on stop. This runs
 * inside the rebalance callback: no rd_kafka_poll here, which would serve librdkafka's queue (a
 * further rebalance, this very callback) from within it. The background threads keep the group
 * session alive meanwhile. */
static void sleep_ms(const bk_proc *proc, int ms)
{
    for (int64_t until = bk_clock_mono_ms() + ms; !*proc->stop;) {
        int64_t left = until - bk_clock_mono_ms();
        if (left <= 0) {
            break;
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(left < POLL_MAX_MS ? left : POLL_MAX_MS) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Stops consuming partition p for good (until an operator repairs its offset and restarts us):
 * skipping to wherever the log now is would lose bookings without a word. */
static void refuse_partition(bk_proc *proc, int32_t p, int64_t stored, int64_t low, int64_t high, const char *reason)
{
    proc->refused[p] = 1;
    bk_pstats_refused(proc->stats, p, 1);
    bk_log_error("event=partition_refused topic=%s partition=%" PRId32 " stored_offset=%" PRId64 " log_start=%" PRId64
                 " log_end=%" PRId64 " reason=%s action=not_consuming"
                 " hint=\"the stored offset does not point into the log: see docs/running.md\"",
                 proc->cfg->kafka_topic, p, stored, low, high, reason);
}

/* Whether the log still holds the messages from `next` on (processor/position.h). When the broker
 * does not say within WATERMARK_MS, consume: auto.offset.reset=error still stops a fetch outside
 * the log (bk_proc_run). */
static int position_ok(bk_proc *proc, int32_t p, int64_t next)
{
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t kerr =
        rd_kafka_query_watermark_offsets(proc->rk, proc->cfg->kafka_topic, p, &low, &high, WATERMARK_MS);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        bk_log_warn("event=watermarks_unknown partition=%" PRId32 " stored_offset=%" PRId64 " msg=\"%s\"", p, next,
                    rd_kafka_err2str(kerr));
        return 1;
    }
    bk_position position = bk_position_check(next, low, high);
    if (position != BK_POSITION_OK) {
        refuse_partition(proc, p, next, low, high, bk_position_name(position));
        return 0;
    }
    return 1;
}

/* On assignment, start each partition at the offset stored in PostgreSQL, retrying while it is
 * down: consuming from anywhere else would only be filtered by the fence anyway. A partition
 * whose stored offset is outside the log is left out of the assignment: owned, never fetched. */
static void assign(bk_proc *proc, rd_kafka_topic_partition_list_t *parts)
{
    char offsets[256] = "";
    size_t used = 0;
    rd_kafka_topic_partition_list_t *consumed = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int k = 0; k < parts->cnt; k++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[k];
        int64_t next = RD_KAFKA_OFFSET_STORED;
        int backoff = BACKOFF_MIN_MS;
        bk_err err;
        bk_err_clear(&err);
        while (!*proc->stop && bk_store_load_offset(proc->store, tp->partition, &next, &err) != BK_OK) {
            bk_log_error("event=offset_load_failed partition=%" PRId32 " retry_ms=%d msg=\"%s\"", tp->partition,
                         backoff, err.msg);
            bk_err_clear(&err);
            sleep_ms(proc, backoff);
            backoff = backoff * 2 < BACKOFF_MAX_MS ? backoff * 2 : BACKOFF_MAX_MS;
        }
        int known = tp->partition >= 0 && tp->partition < BK_TIER_PARTITIONS_MAX;
        if (known) {
            proc->refused[tp->partition] = 0;
            bk_pstats_refused(proc->stats, tp->partition, 0);
        }
        if (known && next >= 0 && !position_ok(proc, tp->partition, next)) {
            continue;
        }
        rd_kafka_topic_partition_list_add(consumed, tp->topic, tp->partition)->offset = next;
        int n = snprintf(offsets + used, sizeof(offsets) - used, "%s%" PRId32 ":%" PRId64, used > 0 ? "," : "",
                         tp->partition, next);
        used += n > 0 && (size_t)n < sizeof(offsets) - used ? (size_t)n : 0;
    }
    rd_kafka_resp_err_t kerr = rd_kafka_assign(proc->rk, consumed);
    bk_log_info("event=partitions_assigned offsets=%s refused=%d err=%s", offsets, parts->cnt - consumed->cnt,
                rd_kafka_err2str(kerr));
    rd_kafka_topic_partition_list_destroy(consumed);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t code, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    bk_proc *proc = opaque;
    if (code == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        proc->paused = 0;
        assign(proc, parts);
        return;
    }
    /* Revoked (or an error): finish the batches in hand while they are still ours. What cannot be
     * committed now is redelivered to the next owner from the stored offset. */
    for (int k = 0; k < parts->cnt; k++) {
        int32_t p = parts->elems[k].partition;
        if (p >= 0 && p < BK_TIER_PARTITIONS_MAX && proc->parts[p].n > 0) {
            if (flush(proc, p) != BK_OK) {
                bk_log_warn("event=batch_dropped partition=%" PRId32 " n=%zu reason=revoked", p, proc->parts[p].n);
            }
            proc->parts[p].n = 0;
        }
        if (p >= 0 && p < BK_TIER_PARTITIONS_MAX && proc->refused[p]) {
            proc->refused[p] = 0; /* its next owner checks again */
            bk_pstats_refused(proc->stats, p, 0);
        }
    }
    proc->paused = 0;
    rd_kafka_assign(rk, NULL);
    bk_log_info("event=partitions_revoked n=%d reason=%s", parts->cnt, rd_kafka_err2str(code));
}

bk_proc *bk_proc_new(const bk_cfg *cfg, const bk_tier_catalogue *tiers, bk_err *err)
{
    char errstr[512];
    bk_proc *proc = calloc(1, sizeof(*proc));
    rd_kafka_conf_t *conf = NULL;
    if (proc == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc bk_proc");
        goto fail;
    }
    proc->cfg = cfg;
    proc->tiers = tiers;
    proc->backoff_ms = BACKOFF_MIN_MS;
    for (int p = 0; p < BK_TIER_PARTITIONS_MAX; p++) {
        proc->parts[p].msgs = calloc((size_t)cfg->batch_max, sizeof(bk_store_msg));
        if (proc->parts[p].msgs == NULL) {
            bk_err_set(err, BK_E_NOMEM, "calloc of %d batch slots", cfg->batch_max);
            goto fail;
        }
    }
    proc->store = bk_store_new(cfg->pg_dsn, cfg->kafka_topic);
    if (proc->store == NULL) {
        bk_err_set(err, BK_E_NOMEM, "bk_store_new");
        goto fail;
    }

    conf = bk_kafka_conf_new(cfg, "bk-processor", err);
    if (conf == NULL || bk_kafka_set(conf, "group.id", cfg->group_id, err) != BK_OK ||
        /* Offsets live in PostgreSQL; Kafka's are written by hand, after each commit, as a hint. */
        bk_kafka_set(conf, "enable.auto.commit", "false", err) != BK_OK ||
        bk_kafka_set(conf, "enable.auto.offset.store", "false", err) != BK_OK ||
        /* Every partition starts at the offset stored in PostgreSQL. If the log does not hold it
         * (a recreated topic, retention), resetting to either end would skip bookings in silence:
         * librdkafka reports it instead, and the partition is refused. */
        bk_kafka_set(conf, "auto.offset.reset", "error", err) != BK_OK ||
        /* A frozen member loses its partitions within 10 s; the fence covers what it does after. */
        bk_kafka_set(conf, "session.timeout.ms", "10000", err) != BK_OK ||
        bk_kafka_set(conf, "heartbeat.interval.ms", "1000", err) != BK_OK ||
        /* Under load, fetch in bulk: the broker answers once 32 KB (about 200 bookings) have
         * arrived or 10 ms have passed, instead of once per handful of messages. Each fetch is
         * a request the broker serves; this one setting halved its CPU per booking. */
        bk_kafka_set(conf, "fetch.wait.max.ms", "10", err) != BK_OK ||
        bk_kafka_set(conf, "fetch.min.bytes", "32768", err) != BK_OK ||
        bk_kafka_set(conf, "partition.assignment.strategy", "roundrobin", err) != BK_OK) {
        goto fail;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, proc);
    proc->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (proc->rk == NULL) {
        bk_err_set(err, BK_E_KAFKA, "rd_kafka_new failed: %s", errstr);
        goto fail;
    }
    conf = NULL; /* owned by rk now */
    rd_kafka_poll_set_consumer(proc->rk);
    proc->stats = bk_pstats_new(cfg, proc->rk);
    if (proc->stats == NULL) {
        bk_err_set(err, BK_E_NOMEM, "bk_pstats_new");
        goto fail;
    }
    return proc;

fail:
    rd_kafka_conf_destroy(conf);
    bk_proc_free(proc);
    return NULL;
}

/* Joins the group only once the topic has one partition per tier: a processor never consumes a
 * topic its catalogue does not describe. */
static int subscribe(bk_proc *proc, volatile sig_atomic_t *stop, bk_err *err)
{
    const char *topic = proc->cfg->kafka_topic;
    int rc = bk_tierload_check_topic(proc->rk, topic, proc->tiers, stop, err);
    if (rc != BK_OK) {
        return rc;
    }
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t kerr = rd_kafka_subscribe(proc->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = bk_err_set(err, BK_E_KAFKA, "rd_kafka_subscribe %s failed: %s", topic, rd_kafka_err2str(kerr));
    }
    return rc;
}

int bk_proc_run(bk_proc *proc, volatile sig_atomic_t *stop, bk_err *err)
{
    proc->stop = stop;
    int rc = subscribe(proc, stop, err);
    if (rc != BK_OK) {
        return rc;
    }
    while (!*stop) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(proc->rk, poll_timeout(proc));
        if (rkm != NULL && rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            add_message(proc, rkm);
        } else if (rkm != NULL && rkm->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET && rkm->partition >= 0 &&
                   rkm->partition < BK_TIER_PARTITIONS_MAX) {
            /* The offset we asked for is outside the log (it changed since assignment). */
            rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(one, proc->cfg->kafka_topic, rkm->partition);
            rd_kafka_pause_partitions(proc->rk, one);
            rd_kafka_topic_partition_list_destroy(one);
            int64_t low = -1, high = -1;
            rd_kafka_get_watermark_offsets(proc->rk, proc->cfg->kafka_topic, rkm->partition, &low, &high);
            refuse_partition(proc, rkm->partition, rkm->offset, low, high, "out_of_range");
        } else if (rkm != NULL && rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            bk_log_warn("event=consume_error partition=%" PRId32 " msg=\"%s\"", rkm->partition,
                        rd_kafka_message_errstr(rkm));
        }
        if (rkm != NULL) {
            rd_kafka_message_destroy(rkm);
        }
        flush_due(proc, 0);
    }

    /* Drain: commit what is in hand, then leave the group (which revokes our partitions). */
    bk_log_info("event=draining");
    proc->paused = 0;
    flush_due(proc, 1);
    rd_kafka_resp_err_t kerr = rd_kafka_consumer_close(proc->rk);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        bk_log_warn("event=consumer_close_failed msg=\"%s\"", rd_kafka_err2str(kerr));
    }
    return BK_OK;
}

void bk_proc_free(bk_proc *proc)
{
    if (proc == NULL) {
        return;
    }
    bk_pstats_free(proc->stats); /* its endpoint reads rk: stop it first */
    if (proc->rk != NULL) {
        rd_kafka_destroy(proc->rk);
    }
    bk_store_free(proc->store);
    for (int p = 0; p < BK_TIER_PARTITIONS_MAX; p++) {
        free(proc->parts[p].msgs);
    }
    free(proc);
}
