/* Processor metrics and a minimal libmicrohttpd endpoint for them. */
#include "processor/pstats.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/metrics_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K_CONFIRMED, K_REJECTED, K_DUPLICATE, K_DEAD, K_INVALID, K_APPLIED, N_KINDS };

struct bk_pstats {
    rd_kafka_t *rk;
    char topic[128];
    struct MHD_Daemon *daemon;
    bk_histogram batch_size;
    bk_histogram txn_seconds;
    bk_counter outcomes[N_KINDS];
    bk_counter failures;
    bk_counter lag[BK_TIER_PARTITIONS_MAX];
    bk_counter refused[BK_TIER_PARTITIONS_MAX]; /* 1: the stored offset is outside the log, not consuming */
    bk_counter stuck[BK_TIER_PARTITIONS_MAX];   /* 1: a message could not even be dead-lettered, retrying */
    char lag_labels[BK_TIER_PARTITIONS_MAX][24];
    atomic_llong next_offset[BK_TIER_PARTITIONS_MAX]; /* -1 until a batch of the partition commits */
    atomic_int refused_seen[BK_TIER_PARTITIONS_MAX];
    atomic_int stuck_seen[BK_TIER_PARTITIONS_MAX];
};

static const char *const kind_labels[N_KINDS] = {"kind=\"confirmed\"", "kind=\"rejected\"",
                                                 "kind=\"duplicate\"", "kind=\"dead_letter\"",
                                                 "kind=\"invalid\"",   "kind=\"already_applied\""};

/* Lag = the broker's high watermark (as last fetched) minus the next offset we committed. */
static void sample_lag(bk_pstats *st, bk_counter **counters, size_t *n)
{
    for (int p = 0; p < BK_TIER_PARTITIONS_MAX; p++) {
        long long next = atomic_load(&st->next_offset[p]);
        int64_t low = 0, high = 0;
        if (next < 0 || rd_kafka_get_watermark_offsets(st->rk, st->topic, p, &low, &high) != 0) {
            continue;
        }
        bk_counter_set(&st->lag[p], high > next ? high - next : 0);
        counters[(*n)++] = &st->lag[p];
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    bk_pstats *st = cls;
    if (strcmp(url, "/metrics") != 0 || strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
        static const char missing[] = "only GET /metrics here\n";
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(sizeof(missing) - 1, (void *)missing, MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    bk_counter *counters[N_KINDS + 1 + 3 * BK_TIER_PARTITIONS_MAX];
    size_t n = 0;
    for (int k = 0; k < N_KINDS; k++) {
        counters[n++] = &st->outcomes[k];
    }
    counters[n++] = &st->failures;
    sample_lag(st, counters, &n);
    /* Shown for the partitions we applied or that ever had the problem: a 0 says it is gone. */
    for (int p = 0; p < BK_TIER_PARTITIONS_MAX; p++) {
        if (atomic_load(&st->next_offset[p]) >= 0 || atomic_load(&st->refused_seen[p])) {
            counters[n++] = &st->refused[p];
        }
    }
    for (int p = 0; p < BK_TIER_PARTITIONS_MAX; p++) {
        if (atomic_load(&st->next_offset[p]) >= 0 || atomic_load(&st->stuck_seen[p])) {
            counters[n++] = &st->stuck[p];
        }
    }
    bk_histogram *histograms[] = {&st->batch_size, &st->txn_seconds};
    bk_metrics_set set = {counters, n, histograms, 2};
    size_t len = 0;
    char *body = bk_metrics_render(&set, &len);
    return bk_metrics_queue(conn, body, len);
}

bk_pstats *bk_pstats_new(const bk_cfg *cfg, rd_kafka_t *rk)
{
    bk_pstats *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return NULL;
    }
    st->rk = rk;
    snprintf(st->topic, sizeof(st->topic), "%s", cfg->kafka_topic);
    st->batch_size = (bk_histogram){.name = "bk_batch_messages",
                                    .help = "Messages per batch transaction.",
                                    .labels = "",
                                    .bounds = bk_metrics_sizes};
    st->txn_seconds = (bk_histogram){.name = "bk_batch_transaction_seconds",
                                     .help = "Batch transaction latency, BEGIN to COMMIT.",
                                     .labels = "",
                                     .bounds = bk_metrics_seconds};
    for (int k = 0; k < N_KINDS; k++) {
        st->outcomes[k] = (bk_counter){
            .name = "bk_outcomes_total", .help = "Messages applied, by outcome.", .labels = kind_labels[k]};
    }
    st->failures = (bk_counter){
        .name = "bk_batch_failures_total", .help = "Batch transactions that failed and were retried.", .labels = ""};
    for (int p = 0; p < BK_TIER_PARTITIONS_MAX; p++) {
        snprintf(st->lag_labels[p], sizeof(st->lag_labels[p]), "partition=\"%d\"", p);
        st->lag[p] = (bk_counter){.name = "bk_consumer_lag",
                                  .help = "Messages in Kafka not yet applied, per partition.",
                                  .labels = st->lag_labels[p],
                                  .is_gauge = 1};
        st->refused[p] = (bk_counter){.name = "bk_partition_refused",
                                      .help = "1 while a partition is not consumed because its stored offset "
                                              "is outside the Kafka log (docs/running.md).",
                                      .labels = st->lag_labels[p],
                                      .is_gauge = 1};
        st->stuck[p] = (bk_counter){.name = "bk_partition_stuck",
                                    .help = "1 while a partition retries a message that PostgreSQL refused "
                                            "even as a dead letter.",
                                    .labels = st->lag_labels[p],
                                    .is_gauge = 1};
        atomic_init(&st->next_offset[p], -1);
        atomic_init(&st->refused_seen[p], 0);
        atomic_init(&st->stuck_seen[p], 0);
    }
    /* Loopback by default (BK_METRICS_ADDR): the numbers are for the operator, not for anyone
     * who can reach the host. */
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->metrics_port)};
    if (cfg->metrics_port > 0 && inet_pton(AF_INET, cfg->metrics_addr, &addr.sin_addr) != 1) {
        bk_log_warn("event=metrics_unavailable addr=%s reason=\"not an IPv4 address\"", cfg->metrics_addr);
    } else if (cfg->metrics_port > 0) {
        st->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)cfg->metrics_port, NULL, NULL,
                                      on_request, st, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                      MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_END);
        if (st->daemon == NULL) {
            bk_log_warn("event=metrics_unavailable addr=%s port=%d reason=\"cannot listen\"", cfg->metrics_addr,
                        cfg->metrics_port);
        } else {
            bk_log_info("event=metrics_listening addr=%s port=%d", cfg->metrics_addr, cfg->metrics_port);
        }
    }
    return st;
}

void bk_pstats_free(bk_pstats *stats)
{
    if (stats == NULL) {
        return;
    }
    if (stats->daemon != NULL) {
        MHD_stop_daemon(stats->daemon);
    }
    free(stats);
}

void bk_pstats_batch(bk_pstats *stats, int32_t p, size_t n, const bk_batch_result *r, double seconds)
{
    bk_histogram_observe(&stats->batch_size, (double)n);
    bk_histogram_observe(&stats->txn_seconds, seconds);
    bk_counter_add(&stats->outcomes[K_CONFIRMED], (long long)r->n_confirmed);
    bk_counter_add(&stats->outcomes[K_REJECTED], (long long)r->n_rejected);
    bk_counter_add(&stats->outcomes[K_DUPLICATE], (long long)r->n_duplicate);
    bk_counter_add(&stats->outcomes[K_DEAD], (long long)r->n_undecodable);
    bk_counter_add(&stats->outcomes[K_INVALID], (long long)r->n_invalid);
    bk_counter_add(&stats->outcomes[K_APPLIED], (long long)r->n_applied);
    if (p >= 0 && p < BK_TIER_PARTITIONS_MAX) {
        atomic_store(&stats->next_offset[p], r->next_offset);
    }
}

void bk_pstats_failure(bk_pstats *stats)
{
    bk_counter_add(&stats->failures, 1);
}

void bk_pstats_refused(bk_pstats *stats, int32_t p, int refused)
{
    if (p >= 0 && p < BK_TIER_PARTITIONS_MAX) {
        atomic_store(&stats->refused_seen[p], 1);
        bk_counter_set(&stats->refused[p], refused);
    }
}

void bk_pstats_stuck(bk_pstats *stats, int32_t p, int stuck)
{
    if (p >= 0 && p < BK_TIER_PARTITIONS_MAX && (stuck || atomic_load(&stats->stuck_seen[p]))) {
        atomic_store(&stats->stuck_seen[p], 1);
        bk_counter_set(&stats->stuck[p], stuck);
    }
}
