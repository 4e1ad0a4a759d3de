/* The id set: a power-of-two table of (id, index) slots; an empty slot has id NULL. */
#include "common/idset.h"

#include "common/booking.h"
#include "common/err.h"
#include "common/id.h"

#include <stdlib.h>
#include <string.h>

#define MIN_SLOTS 16

typedef struct slot {
    const char *id;
    size_t index;
} slot;

struct bk_idset {
    slot *slots;
    size_t mask;
    size_t n_ids;
};

/* The slot of id, or the empty slot where it would go. */
static slot *probe(slot *slots, size_t mask, const char *id)
{
    size_t k = bk_id_hash(id) & mask;
    while (slots[k].id != NULL && strcmp(slots[k].id, id) != 0) {
        k = (k + 1) & mask;
    }
    return &slots[k];
}

/* Slots for n ids at most half full. */
static size_t slots_for(size_t n)
{
    size_t n_slots = MIN_SLOTS;
    while (n_slots < 2 * n) {
        n_slots *= 2;
    }
    return n_slots;
}

bk_idset *bk_idset_new(size_t n_ids)
{
    bk_idset *set = calloc(1, sizeof(*set));
    size_t n_slots = slots_for(n_ids);
    slot *slots = calloc(n_slots, sizeof(*slots));
    if (set == NULL || slots == NULL) {
        free(set);
        free(slots);
        return NULL;
    }
    set->slots = slots;
    set->mask = n_slots - 1;
    return set;
}

void bk_idset_free(bk_idset *set)
{
    if (set == NULL) {
        return;
    }
    free(set->slots);
    free(set);
}

static int grow(bk_idset *set)
{
    size_t n_slots = 2 * (set->mask + 1);
    slot *slots = calloc(n_slots, sizeof(*slots));
    if (slots == NULL) {
        return BK_E_NOMEM;
    }
    for (size_t k = 0; k <= set->mask; k++) {
        if (set->slots[k].id != NULL) {
            *probe(slots, n_slots - 1, set->slots[k].id) = set->slots[k];
        }
    }
    free(set->slots);
    set->slots = slots;
    set->mask = n_slots - 1;
    return BK_OK;
}

int bk_idset_add(bk_idset *set, const char *id, size_t index)
{
    slot *s = probe(set->slots, set->mask, id);
    if (s->id != NULL) {
        return 1;
    }
    if (2 * (set->n_ids + 1) > set->mask + 1) {
        if (grow(set) != BK_OK) {
            return BK_E_NOMEM;
        }
        s = probe(set->slots, set->mask, id);
    }
    *s = (slot){.id = id, .index = index};
    set->n_ids++;
    return 0;
}

int bk_idset_find(const bk_idset *set, const char *id, size_t *index)
{
    const slot *s = probe(set->slots, set->mask, id);
    if (s->id == NULL) {
        return 0;
    }
    *index = s->index;
    return 1;
}

char *bk_idset_literal(const bk_idset *set)
{
    char *lit = malloc(set->n_ids * (BK_BOOKING_ID_LEN + 1) + 3);
    if (lit == NULL) {
        return NULL;
    }
    size_t len = 0;
    lit[len++] = '{';
    for (size_t k = 0; k <= set->mask; k++) {
        if (set->slots[k].id != NULL) {
            if (len > 1) {
                lit[len++] = ',';
            }
            memcpy(lit + len, set->slots[k].id, BK_BOOKING_ID_LEN);
            len += BK_BOOKING_ID_LEN;
        }
    }
    lit[len++] = '}';
    lit[len] = '\0';
    return lit;
}
