/* Booking id generation and verification: HMAC-SHA256 tags over a nonce, base64url text. */
#include "common/id.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>

#define TAG_LEN 8
#define RAW_LEN (BK_ID_NONCE_LEN + TAG_LEN)

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int bk_id_key_init(bk_id_key *key, const char *secret, size_t len, bk_err *err)
{
    if (len < BK_ID_SECRET_MIN || len > BK_ID_SECRET_MAX) {
        return bk_err_set(err, BK_E_INVAL, "id secret must be %d to %d bytes long, got %zu", BK_ID_SECRET_MIN,
                          BK_ID_SECRET_MAX, len);
    }
    memcpy(key->secret, secret, len);
    key->len = len;
    char digest[] = "SHA256"; /* OSSL_PARAM takes a mutable string */
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    key->hmac = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
    EVP_MAC_free(hmac); /* the context keeps its own reference */
    if (key->hmac == NULL || EVP_MAC_init(key->hmac, key->secret, key->len, params) != 1) {
        bk_id_key_free(key);
        return bk_err_set(err, BK_E_NOMEM, "HMAC-SHA256 setup failed in OpenSSL");
    }
    return BK_OK;
}

void bk_id_key_free(bk_id_key *key)
{
    EVP_MAC_CTX_free(key->hmac);
    key->hmac = NULL;
}

/* HMAC-SHA256(secret, label || NUL || data), the first out_len bytes. Only an allocation can fail
 * here; then out is left alone and the caller must not use it. */
static int mac(const bk_id_key *key, const char *label, const void *data, size_t len, uint8_t *out, size_t out_len,
               bk_err *err)
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    size_t digest_len = 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(key->hmac);
    /* The NUL separates label from data. */
    int ok = ctx != NULL && EVP_MAC_update(ctx, (const unsigned char *)label, strlen(label) + 1) == 1 &&
             EVP_MAC_update(ctx, data, len) == 1 && EVP_MAC_final(ctx, digest, &digest_len, sizeof(digest)) == 1 &&
             digest_len >= out_len;
    EVP_MAC_CTX_free(ctx);
    if (!ok) {
        return bk_err_set(err, BK_E_NOMEM, "HMAC-SHA256 failed in OpenSSL, label=%s", label);
    }
    memcpy(out, digest, out_len);
    return BK_OK;
}

static void encode(const uint8_t raw[RAW_LEN], char *out)
{
    /* 24 bytes are exactly 8 groups of 3: no padding. */
    for (int g = 0; g < RAW_LEN / 3; g++) {
        uint32_t v = (uint32_t)raw[3 * g] << 16 | (uint32_t)raw[3 * g + 1] << 8 | raw[3 * g + 2];
        out[4 * g] = b64url[v >> 18 & 63];
        out[4 * g + 1] = b64url[v >> 12 & 63];
        out[4 * g + 2] = b64url[v >> 6 & 63];
        out[4 * g + 3] = b64url[v & 63];
    }
    out[BK_BOOKING_ID_LEN] = '\0';
}

static int sextet(char c)
{
    const char *p = c != '\0' ? strchr(b64url, c) : NULL;
    return p != NULL ? (int)(p - b64url) : -1;
}

int bk_id_make(const bk_id_key *key, const uint8_t nonce[BK_ID_NONCE_LEN], char *out, bk_err *err)
{
    uint8_t raw[RAW_LEN];
    memcpy(raw, nonce, BK_ID_NONCE_LEN);
    out[0] = '\0';
    int rc = mac(key, "tag", nonce, BK_ID_NONCE_LEN, raw + BK_ID_NONCE_LEN, TAG_LEN, err);
    if (rc == BK_OK) {
        encode(raw, out);
    }
    return rc;
}

int bk_id_random(const bk_id_key *key, char *out, bk_err *err)
{
    uint8_t nonce[BK_ID_NONCE_LEN];
    if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce)) {
        char msg[128];
        strerror_r(errno, msg, sizeof(msg));
        return bk_err_set(err, BK_E_IO, "getrandom failed: %s", msg);
    }
    return bk_id_make(key, nonce, out, err);
}

int bk_id_from_idem_key(const bk_id_key *key, const char *idem_key, char *out, bk_err *err)
{
    uint8_t nonce[BK_ID_NONCE_LEN];
    out[0] = '\0';
    int rc = mac(key, "idem", idem_key, strlen(idem_key), nonce, sizeof(nonce), err);
    return rc == BK_OK ? bk_id_make(key, nonce, out, err) : rc;
}

int bk_id_digest(const bk_id_key *key, const void *data, size_t len, char *out, bk_err *err)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t digest[BK_ID_DIGEST_LEN / 2];
    out[0] = '\0';
    int rc = mac(key, "digest", data, len, digest, sizeof(digest), err);
    for (size_t k = 0; rc == BK_OK && k < sizeof(digest); k++) {
        out[2 * k] = hex[digest[k] >> 4];
        out[2 * k + 1] = hex[digest[k] & 15];
    }
    if (rc == BK_OK) {
        out[BK_ID_DIGEST_LEN] = '\0';
    }
    return rc;
}

uint32_t bk_id_hash(const char *id)
{
    uint32_t h = 2166136261u;
    for (const char *p = id; *p != '\0'; p++) {
        h = (h ^ (uint8_t)*p) * 16777619u;
    }
    return h;
}

int bk_id_well_formed(const char *id, size_t len)
{
    if (len != BK_BOOKING_ID_LEN) {
        return 0;
    }
    for (size_t k = 0; k < len; k++) {
        if (sextet(id[k]) < 0) {
            return 0;
        }
    }
    return 1;
}

int bk_id_check(const bk_id_key *key, const char *id, size_t len)
{
    if (!bk_id_well_formed(id, len)) {
        return BK_E_INVAL;
    }
    uint8_t raw[RAW_LEN];
    for (int g = 0; g < RAW_LEN / 3; g++) {
        uint32_t v = (uint32_t)sextet(id[4 * g]) << 18 | (uint32_t)sextet(id[4 * g + 1]) << 12 |
                     (uint32_t)sextet(id[4 * g + 2]) << 6 | (uint32_t)sextet(id[4 * g + 3]);
        raw[3 * g] = (uint8_t)(v >> 16);
        raw[3 * g + 1] = (uint8_t)(v >> 8);
        raw[3 * g + 2] = (uint8_t)v;
    }
    uint8_t tag[TAG_LEN];
    if (mac(key, "tag", raw, BK_ID_NONCE_LEN, tag, TAG_LEN, NULL) != BK_OK) {
        return BK_E_NOMEM; /* no tag to compare with: accept nothing */
    }
    /* Constant time: a forger learns nothing from how long the answer takes. */
    return CRYPTO_memcmp(tag, raw + BK_ID_NONCE_LEN, TAG_LEN) == 0 ? BK_OK : BK_E_NOTFOUND;
}
