/* libFuzzer harness for request validation (common/req.c, common/json.c): everything a client controls
 * in POST /book — the Content-Type, Idempotency-Key and ?wait values and the body — must give BK_OK or
 * a clean BK_E_* with a message, never a crash, undefined behaviour or a leak. Beyond that it checks
 * what the ingress relies on: an accepted body holds a known tier, a quantity in 1..max and a customer
 * of 1..128 characters without control characters, and it always encodes into a Kafka message that
 * decodes back to the same booking (otherwise http.c would answer 500).
 *
 * Input layout: one flags byte, then "<content-type>\n<idempotency-key>\n<wait>\n<body>". Bit k of the
 * flags says whether line k is sent at all (else the header or parameter is absent: NULL); a line is cut
 * at its first NUL, as libmicrohttpd hands values over as C strings. Missing lines are absent too. */
#include "common/msg.h"
#include "tests/unit/catalogue.h"
#include "common/req.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define N_LINES   3
#define FIELD_MAX 256
#define ID        "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq" /* any well-formed id: encode needs one */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_req: check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);                       \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* The result of a failing check: the code it returned, recorded in err with a sentence. */
static void check_error(int rc, const bk_err *err)
{
    CHECK(rc == BK_E_INVAL || rc == BK_E_TOOBIG);
    CHECK(err->code == rc);
    CHECK(err->msg[0] != '\0' && memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
}

/* Code points of valid UTF-8 (req.c only accepts what json.c validated); -1 on a control character. */
static long chars_of(const char *s)
{
    long n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
            return -1;
        }
        n += (*p & 0xc0) != 0x80;
    }
    return n;
}

static void check_body(const char *body, size_t len, int max_quantity)
{
    bk_book_req book;
    bk_err err;
    bk_err_clear(&err);
    int rc = bk_req_parse_book(bk_test_tiers(), body, len, max_quantity, &book, &err);
    if (rc != BK_OK) {
        check_error(rc, &err);
        CHECK(rc != BK_E_TOOBIG || len > BK_BOOKING_BODY_MAX);
        return;
    }
    CHECK(len <= BK_BOOKING_BODY_MAX);
    CHECK(book.tier != NULL && bk_tier_find(bk_test_tiers(), book.tier->code, strlen(book.tier->code)) == book.tier);
    CHECK(book.quantity >= 1 && book.quantity <= max_quantity);
    if (book.has_customer) {
        CHECK(strlen(book.customer) <= BK_BOOKING_CUSTOMER_BYTES);
        long n_chars = chars_of(book.customer);
        CHECK(n_chars >= 1 && n_chars <= BK_BOOKING_CUSTOMER_MAX);
    } else {
        CHECK(book.customer[0] == '\0');
    }

    /* What handle_book() does next: encode the message; the processor decodes it. */
    bk_msg msg = {.tier = book.tier,
                  .quantity = book.quantity,
                  .has_customer = book.has_customer,
                  .accepted_at_ms = 1763827200123};
    memcpy(msg.booking_id, ID, sizeof(ID));
    memcpy(msg.customer, book.customer, sizeof(msg.customer));
    char payload[BK_MSG_MAX];
    size_t payload_len = 0;
    CHECK(bk_msg_encode(&msg, payload, sizeof(payload), &payload_len, &err) == BK_OK);
    bk_msg back;
    CHECK(bk_msg_decode(bk_test_tiers(), payload, payload_len, &back, &err) == BK_OK);
    CHECK(strcmp(back.booking_id, ID) == 0 && back.tier == book.tier && back.quantity == book.quantity);
    CHECK(back.has_customer == book.has_customer && strcmp(back.customer, book.customer) == 0);
    CHECK(back.accepted_at_ms == msg.accepted_at_ms);
}

/* Reference: 8..64 characters of [A-Za-z0-9_-]. */
static int idem_key_ok(const char *key)
{
    size_t len = strlen(key);
    return len >= BK_REQ_IDEM_KEY_MIN && len <= BK_REQ_IDEM_KEY_MAX &&
           strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789_-") == len;
}

/* Reference: NULL is 0; otherwise only decimal digits (at least one) with a value of 0..5000. */
static int wait_ok(const char *value, int *ms)
{
    *ms = 0;
    if (value == NULL) {
        return 1;
    }
    size_t len = strlen(value);
    if (len == 0 || strspn(value, "0123456789") != len) {
        return 0;
    }
    size_t k = strspn(value, "0");
    if (len - k > 4) {
        return 0;
    }
    *ms = k == len ? 0 : atoi(value + k);
    return *ms <= BK_REQ_WAIT_MAX_MS;
}

static void check_headers(char *const line[N_LINES])
{
    bk_err err;
    bk_err_clear(&err);
    int rc = bk_req_check_content_type(line[0], &err);
    if (rc != BK_OK) {
        check_error(rc, &err);
    } else {
        CHECK(line[0] != NULL && strncasecmp(line[0], "application/json", 16) == 0);
    }

    if (line[1] != NULL) {
        bk_err_clear(&err);
        rc = bk_req_check_idem_key(line[1], &err);
        CHECK((rc == BK_OK) == idem_key_ok(line[1]));
        if (rc != BK_OK) {
            check_error(rc, &err);
            CHECK(strcmp(err.field, "Idempotency-Key") == 0);
        }
    }

    int wait_ms = -1, want_ms = -1;
    bk_err_clear(&err);
    rc = bk_req_parse_wait(line[2], &wait_ms, &err);
    CHECK((rc == BK_OK) == wait_ok(line[2], &want_ms));
    if (rc == BK_OK) {
        CHECK(wait_ms == want_ms);
    } else {
        check_error(rc, &err);
        CHECK(strcmp(err.field, "wait") == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char storage[N_LINES][FIELD_MAX + 1];
    char *line[N_LINES] = {NULL, NULL, NULL};
    if (size == 0) {
        return 0;
    }
    unsigned flags = data[0];
    size_t pos = 1;
    for (int k = 0; k < N_LINES; k++) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        if (nl == NULL) {
            break;
        }
        size_t len = (size_t)(nl - (data + pos));
        len = len < FIELD_MAX ? len : FIELD_MAX;
        memcpy(storage[k], data + pos, len);
        storage[k][len] = '\0';
        line[k] = (flags >> k) & 1 ? storage[k] : NULL;
        pos = (size_t)(nl - data) + 1;
    }
    check_headers(line);

    /* The body in a buffer of its own size, so ASan sees any read past its end. */
    size_t len = size - pos;
    char *body = malloc(len > 0 ? len : 1);
    if (body == NULL) {
        return 0;
    }
    memcpy(body, data + pos, len);
    check_body(body, len, 10);   /* BK_MAX_QUANTITY's default */
    check_body(body, len, 1000); /* and its largest setting */
    free(body);
    return 0;
}
