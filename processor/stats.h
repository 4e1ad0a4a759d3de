/* The processor's Prometheus metrics, served on BK_METRICS_PORT at /metrics: batch sizes,
 * transaction latency, outcomes by kind, failed batches, consumer lag per partition, and the
 * partitions that stopped for a reason an operator must see (refused, stuck). */
#ifndef BK_PROCESSOR_STATS_H
#define BK_PROCESSOR_STATS_H

#include "common/batch.h"
#include "common/cfg.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#define BK_STATS_PARTITIONS 16

typedef struct bk_stats bk_stats;

/* The metrics and, when cfg->metrics_port is set, their HTTP endpoint. A port that cannot be
 * bound is logged and the processor runs on without it. NULL on allocation failure. */
bk_stats *bk_stats_new(const bk_cfg *cfg, rd_kafka_t *rk);
void bk_stats_free(bk_stats *stats);

/* One committed batch of n messages of partition p, taking seconds. */
void bk_stats_batch(bk_stats *stats, int32_t p, size_t n, const bk_batch_result *r, double seconds);

/* One batch transaction that failed and will be retried. */
void bk_stats_failure(bk_stats *stats);

/* Partition p is (1) or is no longer (0) refused: its stored offset is outside the log. */
void bk_stats_refused(bk_stats *stats, int32_t p, int refused);

/* Partition p is (1) or is no longer (0) stuck on a message refused even as a dead letter. */
void bk_stats_stuck(bk_stats *stats, int32_t p, int stuck);

#endif
