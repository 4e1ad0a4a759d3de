/* A set of booking ids, each with an index into the caller's array: the "seen before?" of a batch
 * decision, the "whose booking is this?" of handing outcomes to their waiters, and the PostgreSQL
 * text array literal "{id,id,…}" that asks the database about all of them at once. Pure: no I/O.
 * Open addressing with linear probing, kept at most half full. Ids are borrowed: each must
 * outlive the set. */
#ifndef BK_COMMON_IDSET_H
#define BK_COMMON_IDSET_H

#include <stddef.h>

typedef struct bk_idset bk_idset;

/* An empty set sized for n_ids ids (it grows past that). NULL on allocation failure. */
bk_idset *bk_idset_new(size_t n_ids);
void bk_idset_free(bk_idset *set);

/* Adds id (NUL-terminated, borrowed) with index. Returns 1 if id was there already (its first
 * index is kept), 0 if added, BK_E_NOMEM if the set had to grow and could not: never when at most
 * the n_ids of bk_idset_new are added. */
int bk_idset_add(bk_idset *set, const char *id, size_t index);

/* 1 and *index set if id is in the set, else 0. */
int bk_idset_find(const bk_idset *set, const char *id, size_t *index);

/* The ids as a PostgreSQL text array literal, each once, in no particular order; malloc'd, or
 * NULL on allocation failure. Booking ids are base64url, so no element needs quoting. */
char *bk_idset_literal(const bk_idset *set);

#endif
