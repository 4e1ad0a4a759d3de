/* The waiter set and its thread. Lock order: the mutex guards only the array; done() and
 * database calls always run without it, so a callback may call bk_watch_add again. */
#include "ingress/watch.h"

#include "common/booking.h"
#include "common/clock.h"
#include "common/idset.h"
#include "common/log.h"
#include "common/outcome.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS      100
#define RECHECK_MS   2000 /* ask the database about waiters this old: a safety net, rarely used */
#define RECONNECT_MS 1000

typedef struct waiter {
    char id[BK_BOOKING_ID_LEN + 1];
    int64_t added_ms;
    int64_t deadline_ms;
    void *opaque;
} waiter;

struct bk_watch {
    bk_db *db;
    const bk_tier_catalogue *tiers;
    bk_recent *recent;
    bk_watch_done_fn done;
    pthread_t thread;
    int thread_started;
    atomic_int stop;

    pthread_mutex_t lock;
    waiter *waiters;
    size_t n_waiters;
    size_t cap_waiters;
};

int bk_watch_add(bk_watch *watch, const char *id, int64_t deadline_ms, void *opaque, bk_booking *out, int *decided,
                 bk_err *err)
{
    int rc = BK_OK;
    *decided = 0;
    pthread_mutex_lock(&watch->lock);
    /* Under the lock, after which an announcement's hand-back runs: if the memory does not hold
     * the outcome yet, that hand-back will find this waiter (announcements go to the memory first). */
    if (bk_recent_get(watch->recent, id, out) == BK_RECENT_FINAL) {
        *decided = 1;
    } else if (watch->n_waiters == watch->cap_waiters) {
        size_t cap = watch->cap_waiters > 0 ? 2 * watch->cap_waiters : 256;
        waiter *grown = realloc(watch->waiters, cap * sizeof(*grown));
        if (grown == NULL) {
            rc = bk_err_set(err, BK_E_NOMEM, "realloc of %zu waiters", cap);
        } else {
            watch->waiters = grown;
            watch->cap_waiters = cap;
        }
    }
    if (rc == BK_OK && !*decided) {
        waiter *w = &watch->waiters[watch->n_waiters++];
        memcpy(w->id, id, BK_BOOKING_ID_LEN + 1);
        w->added_ms = bk_clock_mono_ms();
        w->deadline_ms = deadline_ms;
        w->opaque = opaque;
    }
    pthread_mutex_unlock(&watch->lock);
    return rc;
}

/* Removes every waiter past its deadline (or all of them) under the lock, then calls done()
 * with NULL for each without it. */
static void hand_back_expired(bk_watch *watch, int64_t now, int take_all)
{
    void **taken = NULL;
    size_t n_taken = 0;
    pthread_mutex_lock(&watch->lock);
    if (watch->n_waiters > 0) {
        taken = malloc(watch->n_waiters * sizeof(*taken)); /* on failure, the next pass retries */
    }
    for (size_t k = 0; taken != NULL && k < watch->n_waiters;) {
        waiter *w = &watch->waiters[k];
        if (take_all || w->deadline_ms <= now) {
            taken[n_taken++] = w->opaque;
            *w = watch->waiters[--watch->n_waiters];
        } else {
            k++;
        }
    }
    pthread_mutex_unlock(&watch->lock);
    for (size_t k = 0; k < n_taken; k++) {
        watch->done(taken[k], NULL);
    }
    free(taken);
}

/* The bookings one lookup found decided. */
typedef struct decided {
    bk_booking *items;
    size_t n;
    size_t cap;
} decided;

static void on_decided(const bk_booking *booking, void *arg)
{
    decided *d = arg;
    if (d->n == d->cap) {
        size_t cap = d->cap > 0 ? 2 * d->cap : 64;
        bk_booking *grown = realloc(d->items, cap * sizeof(*grown));
        if (grown == NULL) {
            return; /* its waiters are found on the next pass */
        }
        d->items = grown;
        d->cap = cap;
    }
    d->items[d->n++] = *booking;
}

/* Hands back every waiter of a decided booking in one pass over the waiters, with the decided
 * ids in a set: linear in waiters plus decisions, not their product. */
static void hand_back_decided(bk_watch *watch, const decided *d)
{
    bk_idset *ids = bk_idset_new(d->n);
    for (size_t i = 0; ids != NULL && i < d->n; i++) {
        (void)bk_idset_add(ids, d->items[i].booking_id, i); /* sized for all: cannot fail */
    }
    struct {
        void *opaque;
        const bk_booking *booking;
    } *taken = NULL;
    size_t n_taken = 0;
    pthread_mutex_lock(&watch->lock);
    if (ids != NULL && watch->n_waiters > 0) {
        taken = malloc(watch->n_waiters * sizeof(*taken));
    }
    for (size_t w = 0; taken != NULL && w < watch->n_waiters;) {
        size_t i = 0;
        if (bk_idset_find(ids, watch->waiters[w].id, &i)) {
            taken[n_taken].opaque = watch->waiters[w].opaque;
            taken[n_taken++].booking = &d->items[i];
            watch->waiters[w] = watch->waiters[--watch->n_waiters];
        } else {
            w++;
        }
    }
    pthread_mutex_unlock(&watch->lock);
    for (size_t k = 0; k < n_taken; k++) {
        watch->done(taken[k].opaque, taken[k].booking);
    }
    free(taken);
    bk_idset_free(ids);
}

/* Writes the outcomes of one notification into the memory and adds them to d. */
static void take_announcement(bk_watch *watch, const char *payload, decided *d)
{
    bk_outcome o;
    bk_booking booking;
    for (const char *line = payload; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        bk_err err;
        bk_err_clear(&err);
        if (len == 0) {
            /* an empty line: nothing to read */
        } else if (bk_outcome_parse(watch->tiers, line, len, &o, &err) == BK_OK) {
            bk_recent_put_final(watch->recent, &o);
            bk_booking_from_outcome(&o, 1, &booking);
            on_decided(&booking, d);
        } else {
            bk_log_warn("event=announcement_malformed msg=\"%s\"", err.msg);
        }
        line += len + (nl != NULL);
    }
}

/* One query for every waiting id added at or before added_before (monotonic ms). */
static void check_waiters(bk_watch *watch, int64_t added_before)
{
    /* The literal is made under the lock: the set borrows the waiters' ids. */
    pthread_mutex_lock(&watch->lock);
    size_t n = watch->n_waiters, n_ids = 0;
    bk_idset *ids = n > 0 ? bk_idset_new(n) : NULL;
    for (size_t k = 0; ids != NULL && k < n; k++) {
        if (watch->waiters[k].added_ms <= added_before) {
            (void)bk_idset_add(ids, watch->waiters[k].id, k); /* sized for all n: cannot fail */
            n_ids++;
        }
    }
    char *lit = n_ids > 0 ? bk_idset_literal(ids) : NULL;
    pthread_mutex_unlock(&watch->lock);
    bk_idset_free(ids);
    if (lit == NULL) {
        return;
    }
    bk_err err;
    bk_err_clear(&err);
    decided d = {0};
    if (bk_lookup_bookings(watch->db, watch->tiers, lit, on_decided, &d, &err) != BK_OK) {
        bk_log_warn("event=watch_lookup_failed waiters=%zu msg=\"%s\"", n, err.msg);
    }
    if (d.n > 0) {
        hand_back_decided(watch, &d);
    }
    free(d.items);
    free(lit);
}

/* (Re)connects and LISTENs; returns the socket to poll, or -1 while the database is away. Sets
 * *gap when it starts listening: what was announced before is unknown here. A connection counts
 * as listening only if it is the one LISTEN ran on: a recheck query that found the link dead
 * reconnects inside the read (lookup.c), and that new connection never ran LISTEN. */
static int ensure_listening(bk_watch *watch, int *listening, unsigned *listen_gen, int64_t *next_attempt, int *gap)
{
    if (*listening && bk_db_connected(watch->db) && bk_db_generation(watch->db) == *listen_gen) {
        return PQsocket(bk_db_conn(watch->db));
    }
    *listening = 0;
    int64_t now = bk_clock_mono_ms();
    if (now < *next_attempt) {
        return -1;
    }
    *next_attempt = now + RECONNECT_MS;
    bk_err err;
    bk_err_clear(&err);
    if (bk_db_connect(watch->db, &err) != BK_OK || bk_db_command(watch->db, "LISTEN bk_decided", &err) != BK_OK) {
        bk_log_warn("event=watch_listen_failed msg=\"%s\"", err.msg);
        return -1;
    }
    *listening = 1;
    *listen_gen = bk_db_generation(watch->db);
    *gap = 1;
    bk_log_info("event=watch_listening generation=%u", *listen_gen);
    return PQsocket(bk_db_conn(watch->db));
}

/* Hands every announcement libpq holds to the memory and the waiters. Called after each read of
 * the connection, not only when its socket was readable: a recheck query reads the socket too,
 * and the notifications it pulled in would otherwise wait for the next one to arrive. */
static void take_notifies(bk_watch *watch)
{
    PGconn *conn = bk_db_conn(watch->db);
    if (conn == NULL) {
        return;
    }
    decided d = {0};
    PGnotify *note = PQnotifies(conn);
    while (note != NULL) {
        take_announcement(watch, note->extra, &d);
        PQfreemem(note);
        note = PQnotifies(conn);
    }
    if (d.n > 0) {
        hand_back_decided(watch, &d);
    }
    free(d.items);
}

static void *run(void *arg)
{
    bk_watch *watch = arg;
    int listening = 0;
    unsigned listen_gen = 0;
    int64_t next_attempt = 0, next_recheck = 0, catch_up_until = 0;
    while (!atomic_load(&watch->stop)) {
        int gap = 0;
        int sock = ensure_listening(watch, &listening, &listen_gen, &next_attempt, &gap);
        struct pollfd fds[1] = {{.fd = sock, .events = POLLIN}};
        int rc = gap ? 0 : poll(fds, sock >= 0 ? 1 : 0, TICK_MS);
        if (rc > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) && PQconsumeInput(bk_db_conn(watch->db)) == 0) {
            listening = 0; /* the next bk_db_connect notices the broken link and reconnects */
        }
        take_notifies(watch);
        int64_t now = bk_clock_mono_ms();
        if (gap) {
            /* Listening again: for a while, ask about every waiter on every pass. An outcome
             * announced before LISTEN ran may belong to a request that starts waiting only after
             * this first check (its booking still "pending" in the memory). */
            catch_up_until = now + RECHECK_MS;
        }
        if (now < catch_up_until) {
            check_waiters(watch, now);
        } else if (now >= next_recheck) {
            check_waiters(watch, now - RECHECK_MS);
            next_recheck = now + RECHECK_MS;
        }
        take_notifies(watch);
        hand_back_expired(watch, bk_clock_mono_ms(), 0);
    }
    return NULL;
}

bk_watch *bk_watch_new(const char *dsn, const bk_tier_catalogue *tiers, bk_recent *recent, bk_watch_done_fn done,
                       bk_err *err)
{
    bk_watch *watch = calloc(1, sizeof(*watch));
    if (watch == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc bk_watch");
        return NULL;
    }
    pthread_mutex_init(&watch->lock, NULL);
    watch->tiers = tiers;
    watch->recent = recent;
    watch->done = done;
    watch->db = bk_lookup_db_new(dsn);
    if (watch->db == NULL) {
        bk_err_set(err, BK_E_NOMEM, "bk_lookup_db_new failed");
        bk_watch_free(watch);
        return NULL;
    }
    /* The watch's own connection runs one query, the "= ANY(ids)" recheck of its waiters: no
     * sequential scans there (common/db.h). The HTTP threads' reads keep the planner's defaults. */
    bk_db_forbid_seqscan(watch->db);
    int rc = pthread_create(&watch->thread, NULL, run, watch);
    if (rc != 0) {
        char msg[128];
        strerror_r(rc, msg, sizeof(msg));
        bk_err_set(err, BK_E_IO, "pthread_create for the watch thread failed: %s", msg);
        bk_watch_free(watch);
        return NULL;
    }
    watch->thread_started = 1;
    return watch;
}

size_t bk_watch_count(bk_watch *watch)
{
    pthread_mutex_lock(&watch->lock);
    size_t n = watch->n_waiters;
    pthread_mutex_unlock(&watch->lock);
    return n;
}

void bk_watch_free(bk_watch *watch)
{
    if (watch == NULL) {
        return;
    }
    if (watch->thread_started) {
        atomic_store(&watch->stop, 1);
        pthread_join(watch->thread, NULL);
    }
    hand_back_expired(watch, 0, 1);
    bk_db_free(watch->db);
    free(watch->waiters);
    pthread_mutex_destroy(&watch->lock);
    free(watch);
}
