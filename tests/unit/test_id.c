/* Unit tests of common/id: booking ids are well-formed, unforgeable (a wrong tag or another
 * secret is "not found"), random ids are distinct, and an Idempotency-Key always maps to the
 * same id under the same secret -- pinned by known answers so a change to the derivation, which
 * would silently break idempotency across a deploy, fails here first. */
#include "unit.h"

#include "common/id.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>

#define SECRET_A     "0123456789abcdef0123456789abcdef"
#define SECRET_B     "fedcba9876543210fedcba9876543210"
#define ID_ALPHABET  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#define N_RANDOM     1000
#define DIGEST_VIP_1 "14049e0280207dfb6bc1f0776eb53d39"

static bk_id_key key_a;
static bk_id_key key_b;

static int setup_keys(void **state)
{
    (void)state;
    assert_int_equal(bk_id_key_init(&key_a, SECRET_A, strlen(SECRET_A), NULL), BK_OK);
    assert_int_equal(bk_id_key_init(&key_b, SECRET_B, strlen(SECRET_B), NULL), BK_OK);
    return 0;
}

static int free_keys(void **state)
{
    (void)state;
    bk_id_key_free(&key_a);
    bk_id_key_free(&key_b);
    return 0;
}

static void test_key_init(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t len;
        int want_rc;
    } cases[] = {
        {"0 bytes", 0, BK_E_INVAL},     {"1 byte", 1, BK_E_INVAL},        {"15 bytes", 15, BK_E_INVAL},
        {"16 bytes (min)", 16, BK_OK},  {"32 bytes", 32, BK_OK},          {"256 bytes (max)", 256, BK_OK},
        {"257 bytes", 257, BK_E_INVAL}, {"1000 bytes", 1000, BK_E_INVAL},
    };
    char secret[1001];
    for (size_t k = 0; k < sizeof(secret) - 1; k++) {
        secret[k] = (char)('A' + k % 26);
    }
    secret[sizeof(secret) - 1] = '\0';
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        bk_id_key key;
        memset(&key, 0, sizeof(key));
        bk_err err;
        bk_err_clear(&err);
        EXPECT_RC(cases[k].name, bk_id_key_init(&key, secret, cases[k].len, &err), cases[k].want_rc, &err);
        if (cases[k].want_rc == BK_OK) {
            EXPECT_INT(cases[k].name, "key.len", key.len, cases[k].len);
            EXPECT_TRUE(cases[k].name, "the secret copied", memcmp(key.secret, secret, cases[k].len) == 0);
            bk_id_key_free(&key);
        } else {
            EXPECT_NOT_CONTAINS(cases[k].name, "err.msg", err.msg, "ABCDEFGHIJKLMNO");
        }
    }
}

/* Known answers, computed independently (Python: hmac.new(SECRET_A, b"tag\0" + nonce, sha256)
 * for the tag, hmac.new(SECRET_A, b"idem\0" + key, sha256)[:16] for the nonce, urlsafe_b64encode). */
static void test_known_answers(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *idem_key; /* NULL: bk_id_make with nonce */
        uint8_t nonce[BK_ID_NONCE_LEN];
        const char *want;
    } cases[] = {
        {"zero nonce", NULL, {0}, "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq"},
        {"nonce 0..15",
         NULL,
         {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
         "AAECAwQFBgcICQoLDA0OD0ZL0x2eePkH"},
        {"idem key order-42", "order-42", {0}, "X9s5Hjhn7gdRw5SN-MniSUntm9Qh3dpW"},
        {"idem key a", "a", {0}, "Di2phX3emhbbuDdEvNxNg1V8Gosclqo7"},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        char id[BK_BOOKING_ID_LEN + 1];
        memset(id, 'x', sizeof(id));
        if (cases[k].idem_key != NULL) {
            assert_int_equal(bk_id_from_idem_key(&key_a, cases[k].idem_key, id, NULL), BK_OK);
        } else {
            assert_int_equal(bk_id_make(&key_a, cases[k].nonce, id, NULL), BK_OK);
        }
        EXPECT_STR(cases[k].name, "id", id, cases[k].want);
        EXPECT_INT(cases[k].name, "check", bk_id_check(&key_a, id, strlen(id)), BK_OK);
    }
}

static void test_make_check_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t nonce[BK_ID_NONCE_LEN];
    } cases[] = {
        {"zeros", {0}},
        {"ascending", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
        {"all ones", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {"mixed", {0xfb, 0xef, 0xbe, 0x00, 0x10, 0x83, 0x3e, 0xfc, 0x7f, 0x80, 0x01, 0xfe, 0x55, 0xaa, 0x3f, 0xc0}},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        char id_a[BK_BOOKING_ID_LEN + 1];
        char id_b[BK_BOOKING_ID_LEN + 1];
        assert_int_equal(bk_id_make(&key_a, cases[k].nonce, id_a, NULL), BK_OK);
        assert_int_equal(bk_id_make(&key_b, cases[k].nonce, id_b, NULL), BK_OK);
        EXPECT_INT(cases[k].name, "strlen", strlen(id_a), BK_BOOKING_ID_LEN);
        EXPECT_TRUE(cases[k].name, "a well-formed id", bk_id_well_formed(id_a, BK_BOOKING_ID_LEN));
        EXPECT_INT(cases[k].name, "check with its secret", bk_id_check(&key_a, id_a, BK_BOOKING_ID_LEN), BK_OK);
        EXPECT_INT(cases[k].name, "check with the other secret", bk_id_check(&key_b, id_a, BK_BOOKING_ID_LEN),
                   BK_E_NOTFOUND);
        EXPECT_INT(cases[k].name, "check of B's id with A", bk_id_check(&key_a, id_b, BK_BOOKING_ID_LEN),
                   BK_E_NOTFOUND);
        EXPECT_TRUE(cases[k].name, "ids that differ per secret", strcmp(id_a, id_b) != 0);
        /* The nonce is the id's first 16 bytes: same nonce, same first 21 characters. */
        EXPECT_TRUE(cases[k].name, "the nonce in the clear", memcmp(id_a, id_b, 21) == 0);
    }
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_random(void **state)
{
    (void)state;
    static char ids[N_RANDOM][BK_BOOKING_ID_LEN + 1];
    for (size_t k = 0; k < N_RANDOM; k++) {
        bk_err err;
        bk_err_clear(&err);
        EXPECT_RC("random", bk_id_random(&key_a, ids[k], &err), BK_OK, &err);
        EXPECT_INT(ids[k], "strlen", strlen(ids[k]), BK_BOOKING_ID_LEN);
        EXPECT_INT(ids[k], "check", bk_id_check(&key_a, ids[k], BK_BOOKING_ID_LEN), BK_OK);
        EXPECT_INT(ids[k], "check with the other secret", bk_id_check(&key_b, ids[k], BK_BOOKING_ID_LEN),
                   BK_E_NOTFOUND);
    }
    qsort(ids, N_RANDOM, sizeof(ids[0]), compare_ids);
    for (size_t k = 1; k < N_RANDOM; k++) {
        EXPECT_TRUE(ids[k], "distinct random ids", strcmp(ids[k - 1], ids[k]) != 0);
    }
}

#define KEY64 "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"

static void test_from_idem_key(void **state)
{
    (void)state;
    static const char *const keys[] = {"a", "A", "b", "a-", "a_", "order-42", "order-43", KEY64};
    char ids[N_ELEMS(keys)][BK_BOOKING_ID_LEN + 1];
    for (size_t k = 0; k < N_ELEMS(keys); k++) {
        char again[BK_BOOKING_ID_LEN + 1];
        char other_secret[BK_BOOKING_ID_LEN + 1];
        assert_int_equal(bk_id_from_idem_key(&key_a, keys[k], ids[k], NULL), BK_OK);
        assert_int_equal(bk_id_from_idem_key(&key_a, keys[k], again, NULL), BK_OK);
        assert_int_equal(bk_id_from_idem_key(&key_b, keys[k], other_secret, NULL), BK_OK);
        EXPECT_STR(keys[k], "the same id again", again, ids[k]);
        EXPECT_INT(keys[k], "check", bk_id_check(&key_a, ids[k], BK_BOOKING_ID_LEN), BK_OK);
        EXPECT_TRUE(keys[k], "another id under another secret", strcmp(other_secret, ids[k]) != 0);
        EXPECT_INT(keys[k], "check under the other secret", bk_id_check(&key_b, ids[k], BK_BOOKING_ID_LEN),
                   BK_E_NOTFOUND);
        for (size_t j = 0; j < k; j++) {
            EXPECT_TRUE(keys[k], "an id different from every other key's", strcmp(ids[j], ids[k]) != 0);
        }
    }
}

typedef struct shape_case {
    const char *name;
    const char *id;
    size_t len; /* 0: strlen(id) */
    int want_rc;
} shape_case;

static const shape_case shape_cases[] = {
    {"valid", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq", 0, BK_OK},
    {"empty", "", 0, BK_E_INVAL},
    {"31 characters", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqI", 0, BK_E_INVAL},
    {"33 characters", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIqA", 0, BK_E_INVAL},
    {"valid text, len 31", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq", 31, BK_E_INVAL},
    {"64 characters", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIqAAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq", 0, BK_E_INVAL},
    {"'+' (standard base64)", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhq+q", 0, BK_E_INVAL},
    {"'/' (standard base64)", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhq/q", 0, BK_E_INVAL},
    {"'=' padding", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqI=", 0, BK_E_INVAL},
    {"space", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhq q", 0, BK_E_INVAL},
    {"dot", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhq.q", 0, BK_E_INVAL},
    {"tilde", "~AAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq", 0, BK_E_INVAL},
    {"embedded NUL", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhq\0q", 32, BK_E_INVAL},
    {"non-ASCII", "AAAAAAAAAAAAAAAAAAAAAEjD9JRAh\xc3\xa9q", 0, BK_E_INVAL},
    {"path traversal", "../../../../../../../etc/passwd", 0, BK_E_INVAL},
    {"well-formed, never issued", "BAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq", 0, BK_E_NOTFOUND},
};

static void test_check_shape(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(shape_cases); k++) {
        const shape_case *c = &shape_cases[k];
        size_t len = c->len != 0 ? c->len : strlen(c->id);
        EXPECT_INT(c->name, "check", bk_id_check(&key_a, c->id, len), c->want_rc);
        EXPECT_INT(c->name, "well_formed", bk_id_well_formed(c->id, len) != 0, c->want_rc != BK_E_INVAL);
    }
}

/* Any single-character change of a valid id: another base64url character is a forgery
 * (NOTFOUND), anything else is malformed (INVAL). Never OK, never a crash. */
static void test_single_character_changes(void **state)
{
    (void)state;
    static const char invalid[] = "+/=. ~\t\n*";
    static const char *const originals[] = {"AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq", "X9s5Hjhn7gdRw5SN-MniSUntm9Qh3dpW"};
    for (size_t o = 0; o < N_ELEMS(originals); o++) {
        for (size_t pos = 0; pos < BK_BOOKING_ID_LEN; pos++) {
            char id[BK_BOOKING_ID_LEN + 1];
            char name[64];
            for (const char *c = ID_ALPHABET; *c != '\0'; c++) {
                memcpy(id, originals[o], sizeof(id));
                if (id[pos] == *c) {
                    continue;
                }
                id[pos] = *c;
                snprintf(name, sizeof(name), "%s", id);
                EXPECT_INT(name, "check", bk_id_check(&key_a, id, BK_BOOKING_ID_LEN), BK_E_NOTFOUND);
            }
            for (const char *c = invalid; *c != '\0'; c++) {
                memcpy(id, originals[o], sizeof(id));
                id[pos] = *c;
                snprintf(name, sizeof(name), "position %zu set to 0x%02x", pos, (unsigned)*c);
                EXPECT_INT(name, "check", bk_id_check(&key_a, id, BK_BOOKING_ID_LEN), BK_E_INVAL);
            }
        }
    }
}

/* OpenSSL's allocator, failing on demand: the only way the HMAC of an id can fail. */
static int fail_allocations;

static void *failing_malloc(size_t len, const char *file, int line)
{
    (void)file;
    (void)line;
    return fail_allocations ? NULL : malloc(len);
}

static void *failing_realloc(void *p, size_t len, const char *file, int line)
{
    (void)file;
    (void)line;
    return fail_allocations ? NULL : realloc(p, len);
}

static void plain_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

/* When OpenSSL cannot compute a tag, no id is accepted: not one whose tag is all zero (what a
 * failed MAC used to compare against), not even one that is valid. */
static void test_allocation_failure_accepts_nothing(void **state)
{
    (void)state;
    static const char *const ids[] = {
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* zero nonce, zero tag */
        "X9s5Hjhn7gdRw5SNAAAAAAAAAAAAAAAA", /* some nonce, zero tag */
        "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq", /* a valid id */
    };
    for (size_t k = 0; k < N_ELEMS(ids); k++) {
        fail_allocations = 1;
        int rc = bk_id_check(&key_a, ids[k], BK_BOOKING_ID_LEN);
        fail_allocations = 0;
        EXPECT_TRUE(ids[k], "check refuses while allocations fail", rc != BK_OK);
    }
    /* Nothing is made either: an error, and no id in out. */
    static const uint8_t nonce[BK_ID_NONCE_LEN] = {0};
    char id[BK_BOOKING_ID_LEN + 1];
    char digest[BK_ID_DIGEST_LEN + 1];
    int rc_make, rc_idem, rc_random, rc_digest;
    fail_allocations = 1;
    rc_make = bk_id_make(&key_a, nonce, id, NULL);
    int made = id[0] != '\0';
    rc_idem = bk_id_from_idem_key(&key_a, "order-42", id, NULL);
    made |= id[0] != '\0';
    rc_random = bk_id_random(&key_a, id, NULL);
    made |= id[0] != '\0';
    rc_digest = bk_id_digest(&key_a, "x", 1, digest, NULL);
    made |= digest[0] != '\0';
    fail_allocations = 0;
    EXPECT_INT("make", "rc", rc_make, BK_E_NOMEM);
    EXPECT_INT("from idem key", "rc", rc_idem, BK_E_NOMEM);
    EXPECT_INT("random", "rc", rc_random, BK_E_NOMEM);
    EXPECT_INT("digest", "rc", rc_digest, BK_E_NOMEM);
    EXPECT_INT("every maker", "an id or digest written", made, 0);
    EXPECT_INT("a valid id", "check once allocations work again",
               bk_id_check(&key_a, "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq", BK_BOOKING_ID_LEN), BK_OK);
}

/* Known answer: hmac.new(SECRET_A, b"digest\0" + data, sha256).hexdigest()[:32]. Equal data, equal
 * digests; another secret or another byte, another digest. */
static void test_digest(void **state)
{
    (void)state;
    char d1[BK_ID_DIGEST_LEN + 1], d2[BK_ID_DIGEST_LEN + 1], d3[BK_ID_DIGEST_LEN + 1], d4[BK_ID_DIGEST_LEN + 1];
    assert_int_equal(bk_id_digest(&key_a,
                                  "VIP\0"
                                  "1\0",
                                  6, d1, NULL),
                     BK_OK);
    assert_int_equal(bk_id_digest(&key_a,
                                  "VIP\0"
                                  "1\0",
                                  6, d2, NULL),
                     BK_OK);
    assert_int_equal(bk_id_digest(&key_b,
                                  "VIP\0"
                                  "1\0",
                                  6, d3, NULL),
                     BK_OK);
    assert_int_equal(bk_id_digest(&key_a,
                                  "VIP\0"
                                  "2\0",
                                  6, d4, NULL),
                     BK_OK);
    EXPECT_STR("known answer", "digest", d1, DIGEST_VIP_1);
    EXPECT_STR("same data", "digest", d2, d1);
    EXPECT_TRUE("other secret", "another digest", strcmp(d3, d1) != 0);
    EXPECT_TRUE("other data", "another digest", strcmp(d4, d1) != 0);
}

int main(void)
{
    /* Before OpenSSL allocates anything: it refuses a change of allocator afterwards. */
    if (CRYPTO_set_mem_functions(failing_malloc, failing_realloc, plain_free) != 1) {
        fprintf(stderr, "CRYPTO_set_mem_functions failed\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_init),
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_make_check_round_trip),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_from_idem_key),
        cmocka_unit_test(test_check_shape),
        cmocka_unit_test(test_single_character_changes),
        cmocka_unit_test(test_allocation_failure_accepts_nothing),
        cmocka_unit_test(test_digest),
    };
    return cmocka_run_group_tests(tests, setup_keys, free_keys);
}
