/* The processor: a consumer-group member that owns each assigned partition serially and applies
 * its messages in batches through bk_store. While PostgreSQL is down it pauses consumption, keeps
 * the batch in hand, retries with backoff and resumes: nothing is skipped. */
#ifndef BK_PROCESSOR_PROC_H
#define BK_PROCESSOR_PROC_H

#include "common/cfg.h"
#include "common/err.h"

#include <signal.h>

typedef struct bk_proc bk_proc;

/* Creates the consumer (subscribed to cfg->kafka_topic) and the store. NULL with err on failure. */
bk_proc *bk_proc_new(const bk_cfg *cfg, bk_err *err);

/* Runs until *stop is set, then drains: applies the batches in hand and leaves the group. */
int bk_proc_run(bk_proc *proc, volatile sig_atomic_t *stop, bk_err *err) BK_WARN_UNUSED;

/* Frees everything (NULL-safe). */
void bk_proc_free(bk_proc *proc);

#endif
