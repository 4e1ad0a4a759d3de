/* Booking ids: unguessable, unforgeable, and derivable from an Idempotency-Key.
 *
 * An id is 24 bytes in unpadded base64url (BK_BOOKING_ID_LEN = 32 characters): a 16-byte nonce and an 8-byte tag,
 * tag = HMAC-SHA256(secret, "tag" || nonce). The nonce is random for a plain request and
 * HMAC-SHA256(secret, "idem" || key) for a request with an Idempotency-Key, so every ingress
 * instance, before or after a restart, turns the same key into the same id without sharing any
 * state but the secret. Possessing an id is the right to read the booking; the tag lets the
 * ingress tell an id it issued from a forged one without asking the database.
 *
 * Every MAC can fail (OpenSSL allocates a context for each): then nothing is made and nothing is
 * accepted. A failure is an error code, never a zero tag that some id could match. */
#ifndef BK_COMMON_ID_H
#define BK_COMMON_ID_H

#include "common/booking.h"
#include "common/err.h"

#include <openssl/types.h>
#include <stddef.h>
#include <stdint.h>

#define BK_ID_NONCE_LEN  16 /* bytes */
#define BK_ID_SECRET_MIN 16
#define BK_ID_SECRET_MAX 256
#define BK_ID_DIGEST_LEN 32 /* characters (hex), without the terminator */

typedef struct bk_id_key {
    unsigned char secret[BK_ID_SECRET_MAX];
    size_t len;
    EVP_MAC_CTX *hmac; /* HMAC-SHA256 keyed with the secret: each MAC starts from a copy of it */
} bk_id_key;

/* Copies the signing secret (BK_ID_SECRET_MIN..BK_ID_SECRET_MAX bytes) and keys the HMAC once
 * (fetching the algorithm and hashing the key on every id cost more than the rest of a request).
 * After it succeeded, release with bk_id_key_free. The key may then be shared by threads. */
int bk_id_key_init(bk_id_key *key, const char *secret, size_t len, bk_err *err) BK_WARN_UNUSED;

/* Releases what bk_id_key_init allocated (NULL-safe, idempotent). */
void bk_id_key_free(bk_id_key *key);

/* Makes the id for a given nonce into out (BK_BOOKING_ID_LEN + 1 bytes). BK_E_NOMEM if OpenSSL could not
 * compute the tag: out is then an empty string. */
int bk_id_make(const bk_id_key *key, const uint8_t nonce[BK_ID_NONCE_LEN], char *out, bk_err *err) BK_WARN_UNUSED;

/* A fresh id from a random nonce (getrandom). Fails if the kernel's generator or OpenSSL does. */
int bk_id_random(const bk_id_key *key, char *out, bk_err *err) BK_WARN_UNUSED;

/* The id an Idempotency-Key always maps to. Fails only as bk_id_make does. */
int bk_id_from_idem_key(const bk_id_key *key, const char *idem_key, char *out, bk_err *err) BK_WARN_UNUSED;

/* BK_OK if id (len bytes) is an id this secret issued; BK_E_INVAL if it does not have the shape
 * of an id (HTTP 400); BK_E_NOTFOUND if it has the shape but a wrong tag (forged: HTTP 404);
 * BK_E_NOMEM if the tag could not be computed (HTTP 503: neither accepted nor called forged). */
int bk_id_check(const bk_id_key *key, const char *id, size_t len);

/* A keyed digest of len bytes of data into out (BK_ID_DIGEST_LEN + 1 bytes, lowercase hex):
 * HMAC-SHA256(secret, "digest" || data), 16 bytes. Equal data give equal digests under one
 * secret; without the secret a digest says nothing about the data (a stored fingerprint of a
 * request does not reveal its customer). Fails only as bk_id_make does. */
int bk_id_digest(const bk_id_key *key, const void *data, size_t len, char *out, bk_err *err) BK_WARN_UNUSED;

/* A hash of a NUL-terminated id for in-memory tables (FNV-1a: ids are already well mixed). */
uint32_t bk_id_hash(const char *id);

/* True if id (len bytes) has the shape of an id: BK_BOOKING_ID_LEN characters of base64url. */
int bk_id_well_formed(const char *id, size_t len);

#endif
