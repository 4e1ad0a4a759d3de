/* The monitor thread: two probes a second, results behind a mutex. */
#include "ingress/health.h"

#include "common/clock.h"
#include "common/log.h"
#include "ingress/lookup.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PERIOD_MS        1000 /* from the start of one probe to the start of the next */
#define KAFKA_TIMEOUT_MS 1000
/* The database probe's statement timeout (the client gives up BK_DB_GRACE_MS later; connecting to
 * a server that does not answer costs BK_DB_CONNECT_TIMEOUT_S). A frozen database is reported
 * within about PERIOD_MS + 1.5 s + 2 s. */
#define DB_TIMEOUT_MS 1000
/* A component is reported down after this many failed probes in a row. One probe that missed its
 * 1 s on a loaded machine (a JVM pause, a starved core) is no evidence of a dead broker, and a
 * "down" broker makes every POST /book answer 503 at once. */
#define FAILURES_DOWN 2

struct bk_health {
    bk_pub *pub;
    bk_db *db;
    pthread_t thread;
    int thread_started;
    atomic_int stop;
    int kafka_failures; /* consecutive failed probes; only the monitor thread touches these */
    int db_failures;
    const char *db_reason; /* of the last failed database probe */
    pthread_mutex_t lock;
    bk_health_state state;
};

static void probe(bk_health *health)
{
    bk_health_state now;
    memset(&now, 0, sizeof(now));
    int kafka_up = bk_pub_ping(health->pub, KAFKA_TIMEOUT_MS, now.kafka, sizeof(now.kafka)) == BK_OK;
    health->kafka_failures = kafka_up ? 0 : health->kafka_failures + 1;
    now.kafka_ok = health->kafka_failures < FAILURES_DOWN;
    if (now.kafka_ok) {
        snprintf(now.kafka, sizeof(now.kafka), "ok");
    }
    bk_err err;
    bk_err_clear(&err);
    int db_up = bk_lookup_ping(health->db, &err) == BK_OK;
    health->db_failures = db_up ? 0 : health->db_failures + 1;
    if (!db_up) {
        /* The reason of the last failure: no answer in time (frozen, overloaded), or no connection. */
        health->db_reason = bk_db_timed_out(health->db) ? "not answering" : "unreachable";
    }
    now.db_ok = health->db_failures < FAILURES_DOWN;
    snprintf(now.db, sizeof(now.db), "%s", now.db_ok ? "ok" : health->db_reason);

    pthread_mutex_lock(&health->lock);
    if (now.kafka_ok != health->state.kafka_ok || now.db_ok != health->state.db_ok) {
        bk_log(now.kafka_ok && now.db_ok ? BK_LOG_INFO : BK_LOG_WARN, "event=health kafka=\"%s\" database=\"%s\"",
               now.kafka, now.db);
    }
    health->state = now;
    pthread_mutex_unlock(&health->lock);
}

static void *run(void *arg)
{
    bk_health *health = arg;
    int64_t next_ms = bk_clock_mono_ms() + PERIOD_MS;
    while (!atomic_load(&health->stop)) {
        /* Sleep in short steps so shutdown never waits a whole period. A probe that took the
         * whole period (a timeout) is followed by the next one at once. */
        while (bk_clock_mono_ms() < next_ms && !atomic_load(&health->stop)) {
            nanosleep(&(struct timespec){.tv_nsec = 100 * 1000000L}, NULL);
        }
        next_ms = bk_clock_mono_ms() + PERIOD_MS;
        if (!atomic_load(&health->stop)) {
            probe(health);
        }
    }
    return NULL;
}

bk_health *bk_health_new(const char *dsn, bk_pub *pub, bk_err *err)
{
    bk_health *health = calloc(1, sizeof(*health));
    if (health == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc bk_health");
        return NULL;
    }
    pthread_mutex_init(&health->lock, NULL);
    health->pub = pub;
    health->db = bk_lookup_db_new(dsn);
    if (health->db == NULL) {
        bk_err_set(err, BK_E_NOMEM, "bk_lookup_db_new");
        bk_health_free(health);
        return NULL;
    }
    bk_db_set_timeout(health->db, DB_TIMEOUT_MS);
    health->db_reason = "unreachable";
    health->state.kafka_ok = health->state.db_ok = 1; /* so the first probe logs only problems */
    /* Nothing is known before the first probe: one failure then suffices. */
    health->kafka_failures = health->db_failures = FAILURES_DOWN - 1;
    probe(health);
    int rc = pthread_create(&health->thread, NULL, run, health);
    if (rc != 0) {
        char msg[128];
        strerror_r(rc, msg, sizeof(msg));
        bk_err_set(err, BK_E_IO, "pthread_create for the health thread failed: %s", msg);
        bk_health_free(health);
        return NULL;
    }
    health->thread_started = 1;
    return health;
}

void bk_health_get(bk_health *health, bk_health_state *state)
{
    pthread_mutex_lock(&health->lock);
    *state = health->state;
    pthread_mutex_unlock(&health->lock);
}

void bk_health_free(bk_health *health)
{
    if (health == NULL) {
        return;
    }
    if (health->thread_started) {
        atomic_store(&health->stop, 1);
        pthread_join(health->thread, NULL);
    }
    bk_db_free(health->db);
    pthread_mutex_destroy(&health->lock);
    free(health);
}
