/* The recent-bookings table: fixed memory, one mutex. */
#include "ingress/recent.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    char id[BK_ID_LEN + 1];
    const bk_tier *tier;
    int quantity;
    char created_at[32];
} slot;

struct bk_recent {
    pthread_mutex_t lock;
    size_t mask;
    slot *slots;
};

static size_t slot_of(const bk_recent *recent, const char *id)
{
    return bk_id_hash(id) & recent->mask;
}

bk_recent *bk_recent_new(size_t n_slots)
{
    size_t n = 1;
    while (n < n_slots) {
        n *= 2;
    }
    bk_recent *recent = calloc(1, sizeof(*recent));
    slot *slots = calloc(n, sizeof(*slots));
    if (recent == NULL || slots == NULL) {
        free(recent);
        free(slots);
        return NULL;
    }
    pthread_mutex_init(&recent->lock, NULL);
    recent->mask = n - 1;
    recent->slots = slots;
    return recent;
}

void bk_recent_free(bk_recent *recent)
{
    if (recent == NULL) {
        return;
    }
    pthread_mutex_destroy(&recent->lock);
    free(recent->slots);
    free(recent);
}

void bk_recent_put(bk_recent *recent, const bk_booking *booking)
{
    pthread_mutex_lock(&recent->lock);
    slot *s = &recent->slots[slot_of(recent, booking->booking_id)];
    memcpy(s->id, booking->booking_id, sizeof(s->id));
    s->tier = booking->tier;
    s->quantity = booking->quantity;
    memcpy(s->created_at, booking->created_at, sizeof(s->created_at));
    pthread_mutex_unlock(&recent->lock);
}

int bk_recent_get(bk_recent *recent, const char *id, bk_booking *out)
{
    int found = 0;
    pthread_mutex_lock(&recent->lock);
    const slot *s = &recent->slots[slot_of(recent, id)];
    if (strcmp(s->id, id) == 0) {
        memset(out, 0, sizeof(*out));
        memcpy(out->booking_id, s->id, sizeof(out->booking_id));
        out->tier = s->tier;
        out->quantity = s->quantity;
        out->amount_cents = (int64_t)s->quantity * s->tier->price_cents;
        memcpy(out->created_at, s->created_at, sizeof(out->created_at));
        found = 1;
    }
    pthread_mutex_unlock(&recent->lock);
    return found;
}
