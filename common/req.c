/* Request validation: turns untrusted bytes into a bk_book_req or a sentence for the client. */
#include "common/req.h"

#include "common/json.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { F_TIER, F_QUANTITY, F_CUSTOMER, N_FIELDS };

/* Counts UTF-8 code points of a string yajl already validated; -1 if it holds a control
 * character (C0, DEL or C1), which has no place in a name printed on a ticket. */
static long count_chars(const char *s, size_t len)
{
    long n = 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x20 || c == 0x7f) {
            return -1;
        }
        /* C1 controls U+0080..U+009F are C2 80..C2 9F. */
        if (c == 0xc2 && k + 1 < len && (unsigned char)s[k + 1] <= 0x9f) {
            return -1;
        }
        n += (c & 0xc0) != 0x80;
    }
    return n;
}

static int check_tier(const bk_tier_catalogue *tiers, const bk_json_field *f, bk_book_req *out, bk_err *err)
{
    if (f->type == BK_JSON_ABSENT) {
        return bk_err_set_field(err, BK_E_INVAL, "tier", "tier is required; valid tiers are %s", bk_tier_codes(tiers));
    }
    if (f->type != BK_JSON_STRING) {
        return bk_err_set_field(err, BK_E_INVAL, "tier", "tier must be a string, one of %s", bk_tier_codes(tiers));
    }
    out->tier = bk_tier_find(tiers, f->str, f->len);
    if (out->tier == NULL) {
        return bk_err_set_field(err, BK_E_INVAL, "tier", "unknown tier; valid tiers are %s", bk_tier_codes(tiers));
    }
    return BK_OK;
}

static int check_quantity(const bk_json_field *f, int max_quantity, bk_book_req *out, bk_err *err)
{
    if (f->type != BK_JSON_INT || f->i < 1 || f->i > max_quantity) {
        return bk_err_set_field(err, BK_E_INVAL, "quantity", "quantity must be an integer from 1 to %d", max_quantity);
    }
    out->quantity = (int)f->i;
    return BK_OK;
}

static int check_customer(const bk_json_field *f, bk_book_req *out, bk_err *err)
{
    if (f->type == BK_JSON_ABSENT) {
        return BK_OK;
    }
    if (f->type != BK_JSON_STRING) {
        return bk_err_set_field(err, BK_E_INVAL, "customer", "customer must be a string");
    }
    long n_chars = f->len <= BK_BOOKING_CUSTOMER_BYTES ? count_chars(f->str, f->len) : BK_BOOKING_CUSTOMER_MAX + 1;
    if (n_chars < 0) {
        return bk_err_set_field(err, BK_E_INVAL, "customer", "customer must not contain control characters");
    }
    if (n_chars < 1 || n_chars > BK_BOOKING_CUSTOMER_MAX) {
        return bk_err_set_field(err, BK_E_INVAL, "customer", "customer must be 1 to %d characters long",
                                BK_BOOKING_CUSTOMER_MAX);
    }
    memcpy(out->customer, f->str, f->len + 1);
    out->has_customer = 1;
    return BK_OK;
}

int bk_req_parse_book(const bk_tier_catalogue *tiers, const char *body, size_t len, int max_quantity, bk_book_req *out,
                      bk_err *err)
{
    static bk_json_field proto[N_FIELDS] = {{.name = "tier"}, {.name = "quantity"}, {.name = "customer"}};
    bk_json_field fields[N_FIELDS];
    memcpy(fields, proto, sizeof(fields));
    memset(out, 0, sizeof(*out));

    if (len > BK_BOOKING_BODY_MAX) {
        return bk_err_set(err, BK_E_TOOBIG, "body is larger than %d bytes", BK_BOOKING_BODY_MAX);
    }
    int rc = bk_json_parse_object(body, len, fields, N_FIELDS, err);
    if (rc == BK_OK) {
        rc = check_tier(tiers, &fields[F_TIER], out, err);
    }
    if (rc == BK_OK) {
        rc = check_quantity(&fields[F_QUANTITY], max_quantity, out, err);
    }
    if (rc == BK_OK) {
        rc = check_customer(&fields[F_CUSTOMER], out, err);
    }
    return rc;
}

int bk_req_check_idem_key(const char *key, bk_err *err)
{
    size_t len = strlen(key);
    int ok = len >= BK_REQ_IDEM_KEY_MIN && len <= BK_REQ_IDEM_KEY_MAX;
    for (size_t k = 0; ok && k < len; k++) {
        char c = key[k];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }
    if (!ok) {
        return bk_err_set_field(err, BK_E_INVAL, "Idempotency-Key",
                                "Idempotency-Key must be %d to %d characters of A-Z, a-z, 0-9, _ and -",
                                BK_REQ_IDEM_KEY_MIN, BK_REQ_IDEM_KEY_MAX);
    }
    return BK_OK;
}

int bk_req_parse_wait(const char *value, int *wait_ms, bk_err *err)
{
    *wait_ms = 0;
    if (value == NULL) {
        return BK_OK;
    }
    size_t len = strlen(value);
    int ms = 0;
    int ok = len >= 1;
    for (size_t k = 0; ok && k < len; k++) {
        ok = value[k] >= '0' && value[k] <= '9';
        if (ms <= BK_REQ_WAIT_MAX_MS) { /* past the cap it stays past: no overflow, any length */
            ms = ms * 10 + (value[k] - '0');
        }
    }
    if (!ok || ms > BK_REQ_WAIT_MAX_MS) {
        return bk_err_set_field(err, BK_E_INVAL, "wait", "wait must be an integer number of milliseconds from 0 to %d",
                                BK_REQ_WAIT_MAX_MS);
    }
    *wait_ms = ms;
    return BK_OK;
}

int bk_req_check_content_type(const char *value, bk_err *err)
{
    static const char media[] = "application/json";
    const size_t media_len = sizeof(media) - 1;
    int ok = value != NULL && strncasecmp(value, media, media_len) == 0;

    /* After the media type: nothing, or ";" parameters. Of those only charset matters, and JSON
     * is UTF-8 (RFC 8259). Parameters are compared in lower case, so copy them (capped). */
    char params[128] = "";
    if (ok) {
        const char *p = value + media_len;
        size_t k = 0;
        for (; *p != '\0' && k < sizeof(params) - 1; p++) {
            if (*p != ' ' && *p != '\t' && *p != '"') {
                params[k++] = (char)tolower((unsigned char)*p);
            }
        }
        params[k] = '\0';
        ok = *p == '\0' && (params[0] == '\0' || params[0] == ';');
    }
    const char *charset = ok ? strstr(params, "charset=") : NULL;
    if (charset != NULL) {
        charset += strlen("charset=");
        ok = strncmp(charset, "utf-8", 5) == 0 && (charset[5] == '\0' || charset[5] == ';');
    }
    if (!ok) {
        return bk_err_set(err, BK_E_INVAL, "Content-Type must be application/json");
    }
    return BK_OK;
}
