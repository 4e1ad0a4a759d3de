/* libFuzzer harness for the Kafka message decoder (common/msg.c, common/json.c): a payload is a trust
 * boundary (the processor dead-letters what it cannot decode), so any bytes must give BK_OK or a clean
 * BK_E_*, never a crash, undefined behaviour or a leak. A payload that decodes must describe a booking
 * the processor can store, and must survive the round trip encode -> decode unchanged: the processor
 * re-encodes a decoded message when PostgreSQL refuses it, to keep it as a dead letter. */
#include "common/id.h"
#include "common/msg.h"
#include "tests/unit/catalogue.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_msg: check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);                       \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static void check_decoded(const bk_msg *msg)
{
    CHECK(strlen(msg->booking_id) == BK_BOOKING_ID_LEN && bk_id_well_formed(msg->booking_id, BK_BOOKING_ID_LEN));
    CHECK(msg->tier != NULL && bk_tier_find(bk_test_tiers(), msg->tier->code, strlen(msg->tier->code)) == msg->tier);
    CHECK(msg->quantity >= 1 && msg->quantity <= BK_BOOKING_QUANTITY_MAX);
    CHECK(msg->accepted_at_ms > 0 && msg->accepted_at_ms <= BK_MSG_ACCEPTED_AT_MAX);
    if (msg->has_customer) {
        CHECK(strlen(msg->customer) <= BK_BOOKING_CUSTOMER_BYTES); /* no NUL inside: PostgreSQL text */
    } else {
        CHECK(msg->customer[0] == '\0');
    }
}

static int same(const bk_msg *a, const bk_msg *b)
{
    return strcmp(a->booking_id, b->booking_id) == 0 && a->tier == b->tier && a->quantity == b->quantity &&
           a->has_customer == b->has_customer && strcmp(a->customer, b->customer) == 0 &&
           a->accepted_at_ms == b->accepted_at_ms;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The payload in a buffer of its own size, as librdkafka hands it over: ASan sees any overread. */
    char *payload = malloc(size > 0 ? size : 1);
    if (payload == NULL) {
        return 0;
    }
    memcpy(payload, data, size);
    bk_msg msg;
    bk_err err;
    bk_err_clear(&err);
    int rc = bk_msg_decode(bk_test_tiers(), payload, size, &msg, &err);
    free(payload);
    if (rc != BK_OK) {
        CHECK(rc == BK_E_INVAL || rc == BK_E_TOOBIG);
        CHECK(err.code == rc && err.msg[0] != '\0');
        CHECK(rc != BK_E_TOOBIG || size > BK_MSG_MAX);
        return 0;
    }
    CHECK(size <= BK_MSG_MAX);
    check_decoded(&msg);

    char again[BK_MSG_MAX];
    size_t len = 0;
    CHECK(bk_msg_encode(&msg, again, sizeof(again), &len, &err) == BK_OK);
    bk_msg back;
    CHECK(bk_msg_decode(bk_test_tiers(), again, len, &back, &err) == BK_OK);
    CHECK(same(&msg, &back));
    return 0;
}
