/* Health monitor: a thread that checks the broker (topic metadata) and the database (SELECT 1)
 * every second, each check bounded in time, so GET /health answers from memory, POST /book can
 * refuse at once (503) while the broker is known to be away, and the HTTP threads do not wait for
 * a database known to be away. A component counts as away after two failed checks in a row (one
 * after start). */
#ifndef BK_INGRESS_HEALTH_H
#define BK_INGRESS_HEALTH_H

#include "common/err.h"
#include "ingress/pub.h"

#include <stddef.h>

#define BK_HEALTH_REASON_MAX 96

typedef struct bk_health bk_health;

typedef struct bk_health_state {
    int kafka_ok;
    int db_ok;
    char kafka[BK_HEALTH_REASON_MAX]; /* "ok" or a short reason */
    char db[BK_HEALTH_REASON_MAX];
} bk_health_state;

/* Runs a first check (so the first /health is truthful), then starts the thread. */
bk_health *bk_health_new(const char *dsn, bk_pub *pub, bk_err *err);

/* A copy of the latest state. */
void bk_health_get(bk_health *health, bk_health_state *state);

/* Stops the thread and frees (NULL-safe). */
void bk_health_free(bk_health *health);

#endif
