/* Unit tests of common/msg: the Kafka message codec. Encode and decode must round-trip every
 * message the ingress can produce, and decode must reject whatever the processor cannot apply
 * (such a message is dead-lettered, never a crash loop). */
#include "unit.h"

#include "catalogue.h"

#include "common/msg.h"

#include <stdio.h>

#define ID_A "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq"
#define ID_B "AAECAwQFBgcICQoLDA0OD0ZL0x2eePkH"
#define ID_C "X9s5Hjhn7gdRw5SN-MniSUntm9Qh3dpW"

typedef struct round_trip_case {
    const char *name;
    const char *booking_id;
    const char *tier;
    int32_t quantity;
    unit_text customer; /* all NULL: no customer */
    int64_t accepted_at_ms;
} round_trip_case;

static const round_trip_case round_trip_cases[] = {
    {"VIP, no customer", ID_A, "VIP", 2, {0}, 1763827200123},
    {"FRONT_ROW, no customer", ID_B, "FRONT_ROW", 1, {0}, 1763827200124},
    {"GA, no customer", ID_C, "GA", 10, {0}, 1763827200125},
    {"VIP with customer", ID_A, "VIP", 1, {.head = "Ada Lovelace"}, 1},
    {"FRONT_ROW with customer", ID_B, "FRONT_ROW", 3, {.head = "Grace Hopper"}, 1763827200123},
    {"GA with customer", ID_C, "GA", 4, {.head = "Alan Turing"}, 1763827200123},
    {"customer with quotes", ID_A, "GA", 1, {.head = "say \"hi\" \"\""}, 1763827200123},
    {"customer with backslashes", ID_A, "GA", 1, {.head = "C:\\dir\\ \\\\ \\u0041 \\"}, 1763827200123},
    {"customer with slash and markup", ID_A, "GA", 1, {.head = "</script><b>&amp;"}, 1763827200123},
    {"customer with unicode",
     ID_A,
     "VIP",
     1,
     {.head = "Zo\xc3\xab \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac"},
     1763827200123},
    {"customer with control characters (escaped on the wire)",
     ID_A,
     "GA",
     1,
     {.head = "a\tb\nc\x01\x1f\x7f"},
     1763827200123},
    {"customer of 128 emoji (512 bytes)", ID_B, "GA", 10, {.rep = "\xf0\x9f\x98\x80", .n_rep = 128}, 1763827200123},
    {"customer of 128 quotes (escaped to 256 bytes)", ID_B, "GA", 10, {.rep = "\"", .n_rep = 128}, 1763827200123},
    {"customer of 128 backslashes", ID_B, "GA", 10, {.rep = "\\", .n_rep = 128}, 1763827200123},
    {"quantity 1000 (decode cap)", ID_C, "GA", BK_BOOKING_QUANTITY_MAX, {0}, 1763827200123},
    {"accepted_at in year 9999", ID_C, "VIP", 1, {0}, 253402300799999},
};

static void fill_msg(const round_trip_case *c, bk_msg *msg)
{
    memset(msg, 0, sizeof(*msg));
    snprintf(msg->booking_id, sizeof(msg->booking_id), "%s", c->booking_id);
    msg->tier = bk_tier_find(bk_test_tiers(), c->tier, strlen(c->tier));
    assert_non_null(msg->tier);
    msg->quantity = c->quantity;
    msg->accepted_at_ms = c->accepted_at_ms;
    if (c->customer.head != NULL || c->customer.rep != NULL) {
        char *customer = unit_text_cstr(&c->customer);
        assert_true(strlen(customer) <= BK_BOOKING_CUSTOMER_BYTES);
        memcpy(msg->customer, customer, strlen(customer) + 1);
        msg->has_customer = 1;
        free(customer);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(round_trip_cases); k++) {
        const round_trip_case *c = &round_trip_cases[k];
        bk_msg in;
        fill_msg(c, &in);
        char buf[BK_MSG_MAX];
        size_t len = 0;
        bk_err err;
        bk_err_clear(&err);

        EXPECT_RC(c->name, bk_msg_encode(&in, buf, sizeof(buf), &len, &err), BK_OK, &err);
        EXPECT_TRUE(c->name, "an encoding of at most BK_MSG_MAX bytes", len > 0 && len <= BK_MSG_MAX);
        for (size_t i = 0; i < len; i++) {
            EXPECT_TRUE(c->name, "no raw control byte on the wire", (unsigned char)buf[i] >= 0x20);
        }

        bk_msg out;
        memset(&out, 0x5a, sizeof(out));
        EXPECT_RC(c->name, bk_msg_decode(bk_test_tiers(), buf, len, &out, &err), BK_OK, &err);
        EXPECT_STR(c->name, "booking_id", out.booking_id, in.booking_id);
        EXPECT_TRUE(c->name, "the same tier", out.tier == in.tier);
        EXPECT_INT(c->name, "quantity", out.quantity, in.quantity);
        EXPECT_INT(c->name, "has_customer", out.has_customer, in.has_customer);
        if (in.has_customer) {
            EXPECT_STR(c->name, "customer", out.customer, in.customer);
        }
        EXPECT_INT(c->name, "accepted_at_ms", out.accepted_at_ms, in.accepted_at_ms);
    }
}

/* The wire format is a contract between ingress and processor versions: pin one encoding. */
static void test_encode_exact(void **state)
{
    (void)state;
    static const struct {
        round_trip_case msg;
        const char *want;
    } cases[] = {
        {{"no customer", ID_A, "VIP", 2, {0}, 1763827200123},
         "{\"v\":1,\"booking_id\":\"" ID_A "\",\"tier\":\"VIP\",\"quantity\":2,\"accepted_at\":1763827200123}"},
        {{"with customer", ID_B, "FRONT_ROW", 1, {.head = "O\"B\\\xc3\xa9"}, 5},
         "{\"v\":1,\"booking_id\":\"" ID_B
         "\",\"tier\":\"FRONT_ROW\",\"quantity\":1,\"customer\":\"O\\\"B\\\\\xc3\xa9\","
         "\"accepted_at\":5}"},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        bk_msg msg;
        fill_msg(&cases[k].msg, &msg);
        char buf[BK_MSG_MAX + 1];
        size_t len = 0;
        bk_err err;
        bk_err_clear(&err);
        EXPECT_RC(cases[k].msg.name, bk_msg_encode(&msg, buf, BK_MSG_MAX, &len, &err), BK_OK, &err);
        buf[len] = '\0';
        EXPECT_STR(cases[k].msg.name, "encoding", buf, cases[k].want);
    }
}

/* Encoding into a buffer that cannot hold the message fails and writes nothing past cap. */
static void test_encode_too_small(void **state)
{
    (void)state;
    bk_msg msg;
    fill_msg(&round_trip_cases[3], &msg);
    char exact_buf[BK_MSG_MAX];
    size_t exact = 0;
    assert_int_equal(bk_msg_encode(&msg, exact_buf, sizeof(exact_buf), &exact, NULL), BK_OK);

    const struct {
        const char *name;
        size_t cap;
        int want_rc;
    } cases[] = {
        {"cap 0", 0, BK_E_TOOBIG},
        {"cap 1", 1, BK_E_TOOBIG},
        {"cap half", exact / 2, BK_E_TOOBIG},
        {"cap one short", exact - 1, BK_E_TOOBIG},
        {"cap exact", exact, BK_OK},
        {"cap one more", exact + 1, BK_OK},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        char buf[BK_MSG_MAX + 16];
        memset(buf, 0x5a, sizeof(buf));
        size_t len = 12345;
        bk_err err;
        bk_err_clear(&err);
        EXPECT_RC(cases[k].name, bk_msg_encode(&msg, buf, cases[k].cap, &len, &err), cases[k].want_rc, &err);
        for (size_t i = cases[k].cap; i < sizeof(buf); i++) {
            EXPECT_INT(cases[k].name, "byte past cap", buf[i], 0x5a);
        }
        if (cases[k].want_rc == BK_OK) {
            EXPECT_INT(cases[k].name, "len", len, exact);
            EXPECT_TRUE(cases[k].name, "the same bytes", memcmp(buf, exact_buf, exact) == 0);
        } else {
            EXPECT_CONTAINS(cases[k].name, "err.msg", err.msg, msg.booking_id);
        }
    }
}

/* Message pieces, so each row below changes one thing of a valid message. */
#define V    "\"v\":1"
#define ID   "\"booking_id\":\"" ID_A "\""
#define TIER "\"tier\":\"VIP\""
#define QTY  "\"quantity\":2"
#define AT   "\"accepted_at\":1763827200123"
/* Row builders; clang-format would spread each one-liner over four lines. */
/* clang-format off */
#define MSG(...) {.head = "{" __VA_ARGS__ "}"}
#define PAD_HEAD "{" V "," ID "," TIER "," QTY "," AT ",\"pad\":\""
#define PAD_TAIL "\"}"
#define PAD_LEN (sizeof(PAD_HEAD PAD_TAIL) - 1)
#define PADDED_TO(total) {.head = PAD_HEAD, .rep = "x", .n_rep = (total) - PAD_LEN, .tail = PAD_TAIL}
/* clang-format on */

typedef struct decode_case {
    const char *name;
    unit_text body;
    int want_rc;
    const char *want_msg; /* a substring of err.msg */
} decode_case;

static const decode_case decode_cases[] = {
    {"valid", MSG(V "," ID "," TIER "," QTY "," AT), BK_OK, NULL},
    {"valid, fields reordered", MSG(AT "," QTY "," TIER "," ID "," V), BK_OK, NULL},
    {"unknown field ignored (a newer producer)", MSG(V "," ID "," TIER "," QTY "," AT ",\"trace\":{\"x\":[1]}"), BK_OK,
     NULL},
    {"exactly BK_MSG_MAX bytes", PADDED_TO(BK_MSG_MAX), BK_OK, NULL},

    {"empty object", {.head = "{}"}, BK_E_INVAL, "version"},
    {"not JSON", {.head = "hello"}, BK_E_INVAL, "not valid JSON"},
    {"zero bytes", {.head = ""}, BK_E_INVAL, "not valid JSON"},
    {"truncated", {.head = "{" V "," ID ","}, BK_E_INVAL, "not valid JSON"},
    {"array", {.head = "[{" V "," ID "," TIER "," QTY "," AT "}]"}, BK_E_INVAL, "JSON object"},
    {"trailing garbage", {.head = "{" V "," ID "," TIER "," QTY "," AT "}x"}, BK_E_INVAL, "not valid JSON"},
    {"duplicate field", MSG(V "," ID "," TIER "," QTY "," AT "," QTY), BK_E_INVAL, "quantity"},

    {"missing version", MSG(ID "," TIER "," QTY "," AT), BK_E_INVAL, "version"},
    {"version 2", MSG("\"v\":2," ID "," TIER "," QTY "," AT), BK_E_INVAL, "version"},
    {"version 0", MSG("\"v\":0," ID "," TIER "," QTY "," AT), BK_E_INVAL, "version"},
    {"version \"1\"", MSG("\"v\":\"1\"," ID "," TIER "," QTY "," AT), BK_E_INVAL, "version"},
    {"version 1.0", MSG("\"v\":1.0," ID "," TIER "," QTY "," AT), BK_E_INVAL, "version"},

    {"missing booking_id", MSG(V "," TIER "," QTY "," AT), BK_E_INVAL, "booking_id"},
    {"booking_id of 31 characters", MSG(V ",\"booking_id\":\"AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqI\"," TIER "," QTY "," AT),
     BK_E_INVAL, "booking_id"},
    {"booking_id of 33 characters", MSG(V ",\"booking_id\":\"AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIqA\"," TIER "," QTY "," AT),
     BK_E_INVAL, "booking_id"},
    {"booking_id with '+'", MSG(V ",\"booking_id\":\"AAAAAAAAAAAAAAAAAAAAAEjD9JRAhq+q\"," TIER "," QTY "," AT),
     BK_E_INVAL, "booking_id"},
    {"booking_id with '='", MSG(V ",\"booking_id\":\"AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqI=\"," TIER "," QTY "," AT),
     BK_E_INVAL, "booking_id"},
    {"booking_id with \\u0000",
     MSG(V ",\"booking_id\":\"AAAAAAAAAAAAAAAAAAAAAEjD9JRAhq\\u0000q\"," TIER "," QTY "," AT), BK_E_INVAL,
     "booking_id"},
    {"booking_id empty", MSG(V ",\"booking_id\":\"\"," TIER "," QTY "," AT), BK_E_INVAL, "booking_id"},
    {"booking_id a number", MSG(V ",\"booking_id\":12345," TIER "," QTY "," AT), BK_E_INVAL, "booking_id"},
    {"booking_id null", MSG(V ",\"booking_id\":null," TIER "," QTY "," AT), BK_E_INVAL, "booking_id"},

    {"missing tier", MSG(V "," ID "," QTY "," AT), BK_E_INVAL, "tier"},
    {"unknown tier", MSG(V "," ID ",\"tier\":\"BALCONY\"," QTY "," AT), BK_E_INVAL, "tier"},
    {"lower-case tier", MSG(V "," ID ",\"tier\":\"vip\"," QTY "," AT), BK_E_INVAL, "tier"},
    {"tier a number", MSG(V "," ID ",\"tier\":0," QTY "," AT), BK_E_INVAL, "tier"},

    {"missing quantity", MSG(V "," ID "," TIER "," AT), BK_E_INVAL, "quantity"},
    {"quantity 0", MSG(V "," ID "," TIER ",\"quantity\":0," AT), BK_E_INVAL, "quantity"},
    {"quantity -1", MSG(V "," ID "," TIER ",\"quantity\":-1," AT), BK_E_INVAL, "quantity"},
    {"quantity 1001", MSG(V "," ID "," TIER ",\"quantity\":1001," AT), BK_E_INVAL, "quantity"},
    {"quantity 2^32+1", MSG(V "," ID "," TIER ",\"quantity\":4294967297," AT), BK_E_INVAL, "quantity"},
    {"quantity \"2\"", MSG(V "," ID "," TIER ",\"quantity\":\"2\"," AT), BK_E_INVAL, "quantity"},
    {"quantity 1.5", MSG(V "," ID "," TIER ",\"quantity\":1.5," AT), BK_E_INVAL, "quantity"},
    {"quantity 2.0", MSG(V "," ID "," TIER ",\"quantity\":2.0," AT), BK_E_INVAL, "quantity"},

    {"customer with \\u0000", MSG(V "," ID "," TIER "," QTY ",\"customer\":\"a\\u0000b\"," AT), BK_E_INVAL, "customer"},
    {"customer of only \\u0000", MSG(V "," ID "," TIER "," QTY ",\"customer\":\"\\u0000\"," AT), BK_E_INVAL,
     "customer"},
    {"customer a number", MSG(V "," ID "," TIER "," QTY ",\"customer\":7," AT), BK_E_INVAL, "customer"},
    {"customer null", MSG(V "," ID "," TIER "," QTY ",\"customer\":null," AT), BK_E_INVAL, "customer"},
    {"customer of 513 bytes",
     {.head = "{" V "," ID "," TIER "," QTY "," AT ",\"customer\":\"", .rep = "a", .n_rep = 513, .tail = "\"}"},
     BK_E_INVAL,
     "customer"},
    /* Regression (was a bug): common/json.c (see test_req.c): well-shaped invalid UTF-8 passes decode too, and then
     * fails the processor's INSERT for ever instead of going to the dead-letter table. */
    {"customer with overlong UTF-8 C0 80", MSG(V "," ID "," TIER "," QTY ",\"customer\":\"a\xc0\x80\"," AT), BK_E_INVAL,
     NULL},
    {"customer with escaped lone surrogate", MSG(V "," ID "," TIER "," QTY ",\"customer\":\"a\\udc00\"," AT),
     BK_E_INVAL, NULL},

    {"missing accepted_at", MSG(V "," ID "," TIER "," QTY), BK_E_INVAL, "accepted_at"},
    {"accepted_at 0", MSG(V "," ID "," TIER "," QTY ",\"accepted_at\":0"), BK_E_INVAL, "accepted_at"},
    {"accepted_at negative", MSG(V "," ID "," TIER "," QTY ",\"accepted_at\":-1763827200123"), BK_E_INVAL,
     "accepted_at"},
    {"accepted_at a string", MSG(V "," ID "," TIER "," QTY ",\"accepted_at\":\"1763827200123\""), BK_E_INVAL,
     "accepted_at"},
    {"accepted_at a fraction", MSG(V "," ID "," TIER "," QTY ",\"accepted_at\":1763827200123.5"), BK_E_INVAL,
     "accepted_at"},
    {"accepted_at past year 9999 (PostgreSQL would refuse it)",
     MSG(V "," ID "," TIER "," QTY ",\"accepted_at\":253402300800000"), BK_E_INVAL, "accepted_at"},
    {"accepted_at int64 max", MSG(V "," ID "," TIER "," QTY ",\"accepted_at\":9223372036854775807"), BK_E_INVAL,
     "accepted_at"},
    {"accepted_at past int64", MSG(V "," ID "," TIER "," QTY ",\"accepted_at\":99999999999999999999"), BK_E_INVAL,
     "accepted_at"},

    {"BK_MSG_MAX + 1 bytes", PADDED_TO(BK_MSG_MAX + 1), BK_E_TOOBIG, "1025"},
    {"a megabyte", PADDED_TO(1 << 20), BK_E_TOOBIG, NULL},
};

static void test_decode(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(decode_cases); k++) {
        const decode_case *c = &decode_cases[k];
        size_t len = 0;
        char *body = unit_text_build(&c->body, &len);
        bk_msg msg;
        bk_err err;
        bk_err_clear(&err);

        int rc = bk_msg_decode(bk_test_tiers(), body, len, &msg, &err);
        free(body);

        EXPECT_RC(c->name, rc, c->want_rc, &err);
        if (rc == BK_OK) {
            EXPECT_STR(c->name, "booking_id", msg.booking_id, ID_A);
            EXPECT_STR(c->name, "tier", msg.tier->code, "VIP");
            EXPECT_INT(c->name, "quantity", msg.quantity, 2);
            EXPECT_INT(c->name, "has_customer", msg.has_customer, 0);
            EXPECT_INT(c->name, "accepted_at_ms", msg.accepted_at_ms, 1763827200123);
            continue;
        }
        EXPECT_INT(c->name, "err.code", err.code, c->want_rc);
        EXPECT_TRUE(c->name, "a message without newline", strchr(err.msg, '\n') == NULL);
        if (c->want_msg != NULL) {
            EXPECT_CONTAINS(c->name, "err.msg", err.msg, c->want_msg);
        }
    }
}

/* An undecodable message still gives what can be read, so its booking can be ended (as
 * "invalid"); and nothing else: no tier, no customer. */
typedef struct partial_case {
    const char *name;
    unit_text body;
    const char *want_id; /* "" if unreadable */
    int32_t want_quantity;
    int64_t want_accepted_at;
} partial_case;

static const partial_case partial_cases[] = {
    {"not JSON", {.head = "hello"}, "", 0, 0},
    {"an array", {.head = "[{" V "," ID "," TIER "," QTY "," AT "}]"}, "", 0, 0},
    {"malformed id", MSG(V ",\"booking_id\":\"x\"," TIER "," QTY "," AT), "", 2, 1763827200123},
    {"unknown version", MSG("\"v\":2," ID "," TIER "," QTY "," AT), ID_A, 2, 1763827200123},
    {"version only with an id", MSG("\"v\":999," ID), ID_A, 0, 0},
    {"unknown tier", MSG(V "," ID ",\"tier\":\"BALCONY\"," QTY "," AT), ID_A, 2, 1763827200123},
    {"quantity 0", MSG(V "," ID "," TIER ",\"quantity\":0," AT), ID_A, 0, 1763827200123},
    {"quantity 1001", MSG(V "," ID "," TIER ",\"quantity\":1001," AT), ID_A, 0, 1763827200123},
    {"customer a number", MSG(V "," ID "," TIER "," QTY ",\"customer\":7," AT), ID_A, 2, 1763827200123},
    {"customer invalid UTF-8", MSG(V "," ID "," TIER "," QTY ",\"customer\":\"a\xc0\x80\"," AT), "", 0, 0},
    {"accepted_at a string", MSG(V "," ID "," TIER "," QTY ",\"accepted_at\":\"soon\""), ID_A, 2, 0},
};

static void test_decode_keeps_what_it_can_read(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(partial_cases); k++) {
        const partial_case *c = &partial_cases[k];
        size_t len = 0;
        char *body = unit_text_build(&c->body, &len);
        bk_msg msg;
        memset(&msg, 0x5a, sizeof(msg));

        int rc = bk_msg_decode(bk_test_tiers(), body, len, &msg, NULL);
        free(body);

        EXPECT_INT(c->name, "rc", rc, BK_E_INVAL);
        EXPECT_STR(c->name, "booking_id", msg.booking_id, c->want_id);
        EXPECT_INT(c->name, "quantity", msg.quantity, c->want_quantity);
        EXPECT_INT(c->name, "accepted_at_ms", msg.accepted_at_ms, c->want_accepted_at);
        EXPECT_TRUE(c->name, "no tier", msg.tier == NULL);
        EXPECT_INT(c->name, "has_customer", msg.has_customer, 0);
        EXPECT_STR(c->name, "customer", msg.customer, "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_encode_exact),
        cmocka_unit_test(test_encode_too_small),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_keeps_what_it_can_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
