/* The processor: a consumer-group member that owns each assigned partition serially and applies
 * its messages in batches through bk_store. While PostgreSQL is down it pauses consumption, keeps
 * the batch in hand, retries with backoff and resumes: nothing is skipped. */
#ifndef BK_PROCESSOR_PROC_H
#define BK_PROCESSOR_PROC_H

#include "common/cfg.h"
#include "common/err.h"
#include "common/tier.h"

#include <signal.h>

typedef struct bk_proc bk_proc;

/* Creates the consumer and the store for the catalogue tiers; cfg and tiers must outlive it. NULL
 * with err on failure. */
bk_proc *bk_proc_new(const bk_cfg *cfg, const bk_tier_catalogue *tiers, bk_err *err);

/* Waits for the broker to describe cfg->kafka_topic and checks it has one partition per tier
 * (BK_E_INVAL otherwise, before any message is consumed), subscribes, then runs until *stop is
 * set and drains: applies the batches in hand and leaves the group. */
int bk_proc_run(bk_proc *proc, volatile sig_atomic_t *stop, bk_err *err) BK_WARN_UNUSED;

/* Frees everything (NULL-safe). */
void bk_proc_free(bk_proc *proc);

#endif
