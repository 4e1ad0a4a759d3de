/* Unit tests of common/outcome: the outcome lines the processor sends every ingress in NOTIFY
 * bk_decided. Format and parse must round-trip every outcome the processor can store, a line must
 * never carry a control character (lines are split on '\n'), and parse must refuse what is not a
 * line the processor wrote (the ingress then answers from the database). */
#include "unit.h"

#include "catalogue.h"

#include "common/msg.h"
#include "common/outcome.h"

#include <stdio.h>

#define ID_A "AAAAAAAAAAAAAAAAAAAAAEjD9JRAhqIq"
#define ID_B "AAECAwQFBgcICQoLDA0OD0ZL0x2eePkH"

typedef struct round_trip_case {
    const char *name;
    const char *booking_id;
    int confirmed;
    const char *tier;
    int32_t quantity;
    unit_text customer; /* all NULL: no customer */
    int64_t created_ms;
    int64_t decided_ms;
    int invalid; /* rejected because its message could not be applied */
} round_trip_case;

static const round_trip_case round_trip_cases[] = {
    {"confirmed VIP, no customer", ID_A, 1, "VIP", 2, {0}, 1763827200123, 1763827200130, 0},
    {"rejected FRONT_ROW", ID_B, 0, "FRONT_ROW", 1, {0}, 1763827200124, 1763827200124, 0},
    {"GA with customer", ID_A, 1, "GA", 10, {.head = "Ada Lovelace"}, 1, 2, 0},
    {"customer with spaces at both ends", ID_A, 1, "GA", 1, {.head = " two  spaces "}, 1, 2, 0},
    {"customer with backslashes", ID_B, 0, "VIP", 1, {.head = "C:\\dir\\ \\\\ \\x41 \\"}, 1, 2, 0},
    {"customer with control characters",
     ID_A,
     1,
     "GA",
     1,
     {.head = "a\tb\nc\x01\x1f\x7f"
              "d"},
     1,
     2,
     0},
    {"customer with unicode", ID_A, 1, "VIP", 1, {.head = "Zo\xc3\xab \xf0\x9f\x98\x80"}, 1, 2, 0},
    {"customer of 128 emoji (512 bytes)", ID_B, 1, "GA", 10, {.rep = "\xf0\x9f\x98\x80", .n_rep = 128}, 1, 2, 0},
    {"customer of 512 newlines (the longest line)", ID_B, 1, "GA", 10, {.rep = "\n", .n_rep = 512}, 1, 2, 0},
    {"quantity 1000 and year 9999", ID_A, 0, "GA", BK_BOOKING_QUANTITY_MAX, {0}, 253402300799999, 253402300799999, 0},
    {"invalid with its quantity", ID_B, 0, "GA", 3, {0}, 1763827200124, 1763827200125, 1},
    {"invalid, quantity unreadable", ID_A, 0, "VIP", 0, {0}, 1, 2, 1},
};

static void fill(const round_trip_case *c, bk_outcome *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->booking_id, sizeof(o->booking_id), "%s", c->booking_id);
    o->confirmed = c->confirmed;
    o->invalid = c->invalid;
    o->tier = bk_tier_find(bk_test_tiers(), c->tier, strlen(c->tier));
    assert_non_null(o->tier);
    o->quantity = c->quantity;
    o->created_ms = c->created_ms;
    o->decided_ms = c->decided_ms;
    if (c->customer.head != NULL || c->customer.rep != NULL) {
        char *customer = unit_text_cstr(&c->customer);
        assert_true(strlen(customer) <= BK_BOOKING_CUSTOMER_BYTES);
        memcpy(o->customer, customer, strlen(customer) + 1);
        o->has_customer = 1;
        free(customer);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_ELEMS(round_trip_cases); k++) {
        const round_trip_case *c = &round_trip_cases[k];
        bk_outcome in, out;
        fill(c, &in);
        char buf[BK_OUTCOME_LINE_MAX];
        size_t len = 0;
        bk_err err;
        bk_err_clear(&err);

        EXPECT_RC(c->name, bk_outcome_format(&in, buf, sizeof(buf), &len, &err), BK_OK, &err);
        EXPECT_TRUE(c->name, "a line ending in one newline", len > 0 && buf[len - 1] == '\n');
        for (size_t i = 0; i + 1 < len; i++) {
            EXPECT_TRUE(c->name, "no control byte inside the line", (unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f);
        }
        memset(&out, 0x5a, sizeof(out));
        EXPECT_RC(c->name, bk_outcome_parse(bk_test_tiers(), buf, len - 1, &out, &err), BK_OK, &err);
        EXPECT_STR(c->name, "booking_id", out.booking_id, in.booking_id);
        EXPECT_INT(c->name, "confirmed", out.confirmed, in.confirmed);
        EXPECT_INT(c->name, "invalid", out.invalid, in.invalid);
        EXPECT_TRUE(c->name, "the same tier", out.tier == in.tier);
        EXPECT_INT(c->name, "quantity", out.quantity, in.quantity);
        EXPECT_INT(c->name, "created_ms", out.created_ms, in.created_ms);
        EXPECT_INT(c->name, "decided_ms", out.decided_ms, in.decided_ms);
        EXPECT_INT(c->name, "has_customer", out.has_customer, in.has_customer);
        if (in.has_customer) {
            EXPECT_STR(c->name, "customer", out.customer, in.customer);
        }
    }
}

/* The line is a contract between processor and ingress versions: pin one. */
static void test_format_exact(void **state)
{
    (void)state;
    bk_outcome o;
    fill(&round_trip_cases[4], &o);
    char buf[BK_OUTCOME_LINE_MAX + 1];
    size_t len = 0;
    assert_int_equal(bk_outcome_format(&o, buf, sizeof(buf), &len, NULL), BK_OK);
    buf[len] = '\0';
    assert_string_equal(buf, ID_B " rejected VIP 1 1 2 C:\\\\dir\\\\ \\\\\\\\ \\\\x41 \\\\\n");
}

/* An invalid booking: its own status word, and quantity 0 when it was unreadable. */
static void test_format_exact_invalid(void **state)
{
    (void)state;
    bk_outcome o;
    fill(&round_trip_cases[N_ELEMS(round_trip_cases) - 1], &o);
    char buf[BK_OUTCOME_LINE_MAX + 1];
    size_t len = 0;
    assert_int_equal(bk_outcome_format(&o, buf, sizeof(buf), &len, NULL), BK_OK);
    buf[len] = '\0';
    assert_string_equal(buf, ID_A " invalid VIP 0 1 2\n");
}

/* Lines append; one that does not fit fails and leaves the buffer as it was. */
static void test_format_appends_within_cap(void **state)
{
    (void)state;
    bk_outcome o;
    fill(&round_trip_cases[0], &o);
    char buf[200];
    size_t len = 0, one = 0;
    assert_int_equal(bk_outcome_format(&o, buf, sizeof(buf), &len, NULL), BK_OK);
    one = len;
    assert_int_equal(bk_outcome_format(&o, buf, sizeof(buf), &len, NULL), BK_OK);
    assert_int_equal(len, 2 * one);
    assert_memory_equal(buf, buf + one, one);
    bk_err err;
    bk_err_clear(&err);
    assert_int_equal(bk_outcome_format(&o, buf, 3 * one - 1, &len, &err), BK_E_TOOBIG);
    assert_int_equal(len, 2 * one);
    assert_non_null(strstr(err.msg, ID_A));
}

/* A run of payloads: split on the empty line, every payload fits PostgreSQL's limit, ends no earlier
 * than it must, and holds whole lines that give back every outcome in order. */
static void test_append_payloads(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t n_outcomes;
        size_t customer_bytes; /* 0: no customer */
    } cases[] = {
        {"one outcome", 1, 0},
        {"a batch that fits one payload", 60, 0},
        {"a full batch of plain outcomes", 500, 0},
        {"long customers", 200, 300},
        {"customers of the longest escaped form", 40, 128},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        size_t cap = cases[k].n_outcomes * (BK_OUTCOME_LINE_MAX + 1);
        char *buf = malloc(cap + 1);
        assert_non_null(buf);
        size_t len = 0, in_payload = 0;
        bk_err err;
        bk_err_clear(&err);
        bk_outcome o;
        fill(&round_trip_cases[0], &o);
        if (cases[k].customer_bytes > 0) {
            /* Newlines escape to four bytes each: the longest line an outcome can have. */
            memset(o.customer, cases[k].customer_bytes == 128 ? '\n' : 'x', cases[k].customer_bytes);
            o.customer[cases[k].customer_bytes] = '\0';
            o.has_customer = 1;
        }
        for (size_t i = 0; i < cases[k].n_outcomes; i++) {
            o.quantity = (int32_t)(i % BK_BOOKING_QUANTITY_MAX + 1);
            EXPECT_RC(cases[k].name, bk_outcome_append(&o, buf, cap, &len, &in_payload, &err), BK_OK, &err);
        }
        buf[len] = '\0';

        size_t n_lines = 0, prev_payload = 0;
        for (char *payload = buf; payload != NULL;) {
            char *sep = strstr(payload, "\n\n");
            size_t payload_len = sep != NULL ? (size_t)(sep - payload) + 1 : strlen(payload);
            EXPECT_TRUE(cases[k].name, "a payload within the limit", payload_len <= BK_OUTCOME_PAYLOAD_MAX);
            char *nl = NULL;
            for (char *line = payload; line < payload + payload_len; line = nl + 1) {
                nl = memchr(line, '\n', (size_t)(payload + payload_len - line));
                assert_non_null(nl);
                bk_outcome back;
                EXPECT_RC(cases[k].name, bk_outcome_parse(bk_test_tiers(), line, (size_t)(nl - line), &back, &err),
                          BK_OK, &err);
                EXPECT_INT(cases[k].name, "outcomes in order", back.quantity,
                           (int)(n_lines % BK_BOOKING_QUANTITY_MAX + 1));
                if (line == payload && prev_payload > 0) {
                    EXPECT_TRUE(cases[k].name, "the previous payload could not take this line",
                                prev_payload + (size_t)(nl - line) + 1 > BK_OUTCOME_PAYLOAD_MAX);
                }
                n_lines++;
            }
            prev_payload = payload_len;
            payload = sep != NULL ? sep + 2 : NULL;
        }
        EXPECT_INT(cases[k].name, "lines", n_lines, cases[k].n_outcomes);

        /* No room: nothing changes. */
        size_t full = len, full_payload = in_payload;
        EXPECT_INT(cases[k].name, "append past cap", bk_outcome_append(&o, buf, len + 10, &len, &in_payload, &err),
                   BK_E_TOOBIG);
        EXPECT_INT(cases[k].name, "len unchanged", len, full);
        EXPECT_INT(cases[k].name, "payload length unchanged", in_payload, full_payload);
        free(buf);
    }
}

static void test_parse_refuses(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        unit_text line;
    } cases[] = {
        {"empty", {.head = ""}},
        {"five fields", {.head = ID_A " confirmed VIP 2 1"}},
        {"malformed id", {.head = "AAAA confirmed VIP 2 1 2"}},
        {"id one character long", {.head = ID_A "A confirmed VIP 2 1 2"}},
        {"unknown status", {.head = ID_A " pending VIP 2 1 2"}},
        {"status prefix", {.head = ID_A " confirm VIP 2 1 2"}},
        {"unknown tier", {.head = ID_A " confirmed vip 2 1 2"}},
        {"quantity 0", {.head = ID_A " confirmed VIP 0 1 2"}},
        {"quantity 0 of a sold-out rejection", {.head = ID_A " rejected VIP 0 1 2"}},
        {"invalid quantity over the cap", {.head = ID_A " invalid VIP 1001 1 2"}},
        {"invalid quantity negative", {.head = ID_A " invalid VIP -1 1 2"}},
        {"status Invalid", {.head = ID_A " Invalid VIP 1 1 2"}},
        {"quantity over the cap", {.head = ID_A " confirmed VIP 1001 1 2"}},
        {"negative quantity", {.head = ID_A " confirmed VIP -1 1 2"}},
        {"quantity with a sign", {.head = ID_A " confirmed VIP +1 1 2"}},
        {"created 0", {.head = ID_A " confirmed VIP 1 0 2"}},
        {"decided past year 9999", {.head = ID_A " confirmed VIP 1 1 253402300800000"}},
        {"time of 19 digits", {.head = ID_A " confirmed VIP 1 1 1000000000000000000"}},
        {"two spaces between fields", {.head = ID_A "  confirmed VIP 1 1 2"}},
        {"trailing space, empty customer", {.head = ID_A " confirmed VIP 1 1 2 "}},
        {"raw control byte in customer", {.head = ID_A " confirmed VIP 1 1 2 a\tb"}},
        {"lone backslash", {.head = ID_A " confirmed VIP 1 1 2 a\\"}},
        {"unknown escape", {.head = ID_A " confirmed VIP 1 1 2 a\\n"}},
        {"short hex escape", {.head = ID_A " confirmed VIP 1 1 2 a\\x4"}},
        {"upper-case hex escape", {.head = ID_A " confirmed VIP 1 1 2 \\x4A"}},
        {"escaped NUL", {.head = ID_A " confirmed VIP 1 1 2 a\\x00b"}},
        {"customer over 512 bytes", {.head = ID_A " confirmed VIP 1 1 2 ", .rep = "x", .n_rep = 513}},
    };
    for (size_t k = 0; k < N_ELEMS(cases); k++) {
        size_t len = 0;
        char *line = unit_text_build(&cases[k].line, &len);
        bk_outcome o;
        bk_err err;
        bk_err_clear(&err);
        int rc = bk_outcome_parse(bk_test_tiers(), line, len, &o, &err);
        free(line);
        EXPECT_INT(cases[k].name, "rc", rc, BK_E_INVAL);
        EXPECT_TRUE(cases[k].name, "an error message", err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),           cmocka_unit_test(test_format_exact),
        cmocka_unit_test(test_format_exact_invalid), cmocka_unit_test(test_format_appends_within_cap),
        cmocka_unit_test(test_append_payloads),      cmocka_unit_test(test_parse_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
