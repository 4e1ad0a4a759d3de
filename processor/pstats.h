/* The processor's Prometheus metrics, served on BK_METRICS_PORT at /metrics: batch sizes,
 * transaction latency, outcomes by kind, failed batches, consumer lag per partition, and the
 * partitions that stopped for a reason an operator must see (refused, stuck). */
#ifndef BK_PROCESSOR_PSTATS_H
#define BK_PROCESSOR_PSTATS_H

#include "common/batch.h"
#include "common/cfg.h"
#include "common/tier.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bk_pstats bk_pstats;

/* The metrics and, when cfg->metrics_port is set, their HTTP endpoint. A port that cannot be
 * bound is logged and the processor runs on without it. NULL on allocation failure. */
bk_pstats *bk_pstats_new(const bk_cfg *cfg, rd_kafka_t *rk);
void bk_pstats_free(bk_pstats *stats);

/* One committed batch of n messages of partition p, taking seconds. */
void bk_pstats_batch(bk_pstats *stats, int32_t p, size_t n, const bk_batch_result *r, double seconds);

/* One batch transaction that failed and will be retried. */
void bk_pstats_failure(bk_pstats *stats);

/* Partition p is (1) or is no longer (0) refused: its stored offset is outside the log. */
void bk_pstats_refused(bk_pstats *stats, int32_t p, int refused);

/* Partition p is (1) or is no longer (0) stuck on a message refused even as a dead letter. */
void bk_pstats_stuck(bk_pstats *stats, int32_t p, int stuck);

#endif
