/* The tickets cache: one body, one timestamp, one mutex; whoever finds it stale refreshes it. */
#include "ingress/tickets.h"

#include "common/clock.h"
#include "ingress/lookup.h"
#include "ingress/reply.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bk_tickets {
    pthread_mutex_t lock;     /* guards the fields below, never held across a query */
    pthread_cond_t refreshed; /* broadcast when a refresh ends (CLOCK_MONOTONIC) */
    const bk_tier_catalogue *tiers;
    int max_age_ms;
    int wait_ms;
    int refreshing; /* one thread is querying the database for a new body */
    int waiting;    /* callers waiting for that query */
    char *body;
    size_t len;
    int64_t fetched_ms; /* monotonic */
};

bk_tickets *bk_tickets_new(const bk_tier_catalogue *tiers, int max_age_ms, int wait_ms)
{
    bk_tickets *tickets = calloc(1, sizeof(*tickets));
    if (tickets != NULL) {
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&tickets->refreshed, &attr);
        pthread_condattr_destroy(&attr);
        pthread_mutex_init(&tickets->lock, NULL);
        tickets->tiers = tiers;
        tickets->max_age_ms = max_age_ms;
        tickets->wait_ms = wait_ms;
    }
    return tickets;
}

void bk_tickets_free(bk_tickets *tickets)
{
    if (tickets == NULL) {
        return;
    }
    pthread_cond_destroy(&tickets->refreshed);
    pthread_mutex_destroy(&tickets->lock);
    free(tickets->body);
    free(tickets);
}

static int servable(const bk_tickets *tickets, int64_t now)
{
    return tickets->body != NULL && now - tickets->fetched_ms < BK_TICKETS_MAX_AGE_MS;
}

/* Waits, under the lock, for the refresh in flight to end, at most wait_ms. */
static void await_refresh(bk_tickets *tickets)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += tickets->wait_ms / 1000;
    until.tv_nsec += (long)(tickets->wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    tickets->waiting++;
    while (tickets->refreshing && pthread_cond_timedwait(&tickets->refreshed, &tickets->lock, &until) == 0) {
    }
    tickets->waiting--;
}

int bk_tickets_waiting(bk_tickets *tickets)
{
    pthread_mutex_lock(&tickets->lock);
    int n = tickets->waiting;
    pthread_mutex_unlock(&tickets->lock);
    return n;
}

/* A copy of the cached body if it is younger than BK_TICKETS_MAX_AGE_MS. Under the lock. */
static char *copy_body(bk_tickets *tickets, int64_t now, size_t *len)
{
    char *copy = NULL;
    if (servable(tickets, now)) {
        copy = malloc(tickets->len);
        if (copy != NULL) {
            memcpy(copy, tickets->body, tickets->len);
            *len = tickets->len;
        }
    }
    return copy;
}

char *bk_tickets_get(bk_tickets *tickets, bk_db *db, size_t *len, bk_err *err)
{
    pthread_mutex_lock(&tickets->lock);
    int64_t now = bk_clock_mono_ms();
    int refresh = !tickets->refreshing && (tickets->body == NULL || now - tickets->fetched_ms >= tickets->max_age_ms);
    tickets->refreshing |= refresh;
    if (!refresh && tickets->refreshing && !servable(tickets, now)) {
        await_refresh(tickets);
    }
    pthread_mutex_unlock(&tickets->lock);

    char *body = NULL;
    size_t body_len = 0;
    if (refresh) {
        /* The one refresher queries without the lock: the others meanwhile get the cached body,
         * or once it is too old wait for this refresh, bounded (a 503 after wait_ms). */
        bk_tier_state states[BK_TIER_PARTITIONS_MAX];
        if (bk_lookup_tiers(db, tickets->tiers, states, err) == BK_OK) {
            body = bk_reply_render_tickets(tickets->tiers, states, &body_len);
        }
    }

    pthread_mutex_lock(&tickets->lock);
    if (refresh) {
        tickets->refreshing = 0;
        pthread_cond_broadcast(&tickets->refreshed);
        if (body != NULL) {
            free(tickets->body);
            tickets->body = body;
            tickets->len = body_len;
            tickets->fetched_ms = now;
        }
    }
    char *copy = copy_body(tickets, bk_clock_mono_ms(), len);
    pthread_mutex_unlock(&tickets->lock);
    if (copy == NULL) {
        bk_err_set(err, BK_E_DB, "tickets unavailable");
    }
    return copy;
}
