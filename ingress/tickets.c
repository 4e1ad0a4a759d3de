/* The tickets cache: one body, one timestamp, one mutex; whoever finds it stale refreshes it. */
#include "ingress/tickets.h"

#include "common/clock.h"
#include "ingress/lookup.h"
#include "ingress/reply.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bk_tickets {
    pthread_mutex_t lock;
    int max_age_ms;
    char *body;
    size_t len;
    int64_t fetched_ms; /* monotonic */
};

bk_tickets *bk_tickets_new(int max_age_ms)
{
    bk_tickets *tickets = calloc(1, sizeof(*tickets));
    if (tickets != NULL) {
        pthread_mutex_init(&tickets->lock, NULL);
        tickets->max_age_ms = max_age_ms;
    }
    return tickets;
}

void bk_tickets_free(bk_tickets *tickets)
{
    if (tickets == NULL) {
        return;
    }
    pthread_mutex_destroy(&tickets->lock);
    free(tickets->body);
    free(tickets);
}

char *bk_tickets_get(bk_tickets *tickets, bk_db *db, size_t *len, bk_err *err)
{
    char *copy = NULL;
    pthread_mutex_lock(&tickets->lock);
    int64_t now = bk_clock_mono_ms();
    if (tickets->body == NULL || now - tickets->fetched_ms >= tickets->max_age_ms) {
        bk_tier_state states[BK_TIER_COUNT];
        size_t body_len = 0;
        char *body = NULL;
        if (bk_lookup_tiers(db, states, err) == BK_OK) {
            body = bk_reply_render_tickets(states, &body_len);
        }
        if (body != NULL) {
            free(tickets->body);
            tickets->body = body;
            tickets->len = body_len;
            tickets->fetched_ms = now;
        }
    }
    if (tickets->body != NULL && now - tickets->fetched_ms < 1000) {
        copy = malloc(tickets->len);
        if (copy != NULL) {
            memcpy(copy, tickets->body, tickets->len);
            *len = tickets->len;
        }
    }
    pthread_mutex_unlock(&tickets->lock);
    if (copy == NULL) {
        bk_err_set(err, BK_E_DB, "tickets unavailable");
    }
    return copy;
}
