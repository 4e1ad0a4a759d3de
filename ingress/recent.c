/* The booking memory: fixed memory, one mutex. A slot holds times as epoch milliseconds and is
 * formatted into a bk_booking only when asked; customers, rare, are allocated on the side. */
#include "ingress/recent.h"

#include "common/clock.h"
#include "common/id.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    char id[BK_BOOKING_ID_LEN + 1];
    unsigned char final;
    unsigned char confirmed;
    unsigned char invalid;
    int32_t quantity;
    const bk_tier *tier;
    int64_t created_ms;
    int64_t decided_ms;
    int64_t put_mono_ms;
    char *customer; /* NULL: none */
} slot;

struct bk_recent {
    pthread_mutex_t lock;
    size_t mask;
    int trust_ms;
    slot *slots;
};

static slot *slot_of(const bk_recent *recent, const char *id)
{
    return &recent->slots[bk_id_hash(id) & recent->mask];
}

bk_recent *bk_recent_new(size_t n_slots, int trust_ms)
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
    recent->trust_ms = trust_ms;
    recent->slots = slots;
    return recent;
}

void bk_recent_free(bk_recent *recent)
{
    if (recent == NULL) {
        return;
    }
    for (size_t k = 0; k <= recent->mask; k++) {
        free(recent->slots[k].customer);
    }
    pthread_mutex_destroy(&recent->lock);
    free(recent->slots);
    free(recent);
}

void bk_recent_put_pending(bk_recent *recent, const char *id, const bk_tier *tier, int quantity, const char *customer,
                           int64_t created_ms)
{
    /* As for final entries: without memory for the customer the entry is not kept (an entry
     * without it could not tell a retry from another request). */
    char *copy = customer != NULL ? strdup(customer) : NULL;
    int complete = customer == NULL || copy != NULL;
    int64_t now = bk_clock_mono_ms();
    pthread_mutex_lock(&recent->lock);
    slot *s = slot_of(recent, id);
    if (!complete || (s->final && strcmp(s->id, id) == 0)) {
        /* Decided before the broker's acknowledgement reached us: never downgrade. */
        pthread_mutex_unlock(&recent->lock);
        free(copy);
        return;
    }
    free(s->customer);
    *s = (slot){.quantity = quantity, .tier = tier, .created_ms = created_ms, .put_mono_ms = now, .customer = copy};
    memcpy(s->id, id, sizeof(s->id));
    pthread_mutex_unlock(&recent->lock);
}

void bk_recent_put_final(bk_recent *recent, const bk_outcome *o)
{
    /* Allocated before taking the lock; without memory the entry goes without its customer, and
     * a question about it to the database. */
    char *customer = o->has_customer ? strdup(o->customer) : NULL;
    int complete = !o->has_customer || customer != NULL;
    pthread_mutex_lock(&recent->lock);
    slot *s = slot_of(recent, o->booking_id);
    free(s->customer);
    *s = (slot){.final = 1,
                .confirmed = (unsigned char)o->confirmed,
                .invalid = (unsigned char)o->invalid,
                .quantity = o->quantity,
                .tier = o->tier,
                .created_ms = o->created_ms,
                .decided_ms = o->decided_ms,
                .customer = customer};
    if (complete) {
        memcpy(s->id, o->booking_id, sizeof(s->id));
    }
    pthread_mutex_unlock(&recent->lock);
}

bk_recent_state bk_recent_get(bk_recent *recent, const char *id, bk_booking *out)
{
    bk_recent_state state = BK_RECENT_MISS;
    bk_outcome o;
    int64_t now = bk_clock_mono_ms();
    pthread_mutex_lock(&recent->lock);
    const slot *s = slot_of(recent, id);
    if (strcmp(s->id, id) == 0) {
        o = (bk_outcome){.tier = s->tier,
                         .quantity = s->quantity,
                         .confirmed = s->confirmed,
                         .invalid = s->invalid,
                         .created_ms = s->created_ms,
                         .decided_ms = s->decided_ms,
                         .has_customer = s->customer != NULL};
        memcpy(o.booking_id, s->id, sizeof(o.booking_id));
        if (s->customer != NULL) {
            memcpy(o.customer, s->customer, strlen(s->customer) + 1);
        }
        state = s->final                                   ? BK_RECENT_FINAL
                : now - s->put_mono_ms <= recent->trust_ms ? BK_RECENT_PENDING
                                                           : BK_RECENT_STALE;
    }
    pthread_mutex_unlock(&recent->lock);
    if (state != BK_RECENT_MISS) {
        bk_booking_from_outcome(&o, state == BK_RECENT_FINAL, out);
    }
    return state;
}
