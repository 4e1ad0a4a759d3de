/* The outcome line codec. Parsing is strict: the payload crossed PostgreSQL, and a line that does
 * not parse is dropped by the caller (the booking is then answered from the database). */
#include "common/outcome.h"

#include "common/id.h"
#include "common/msg.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The status words of a line, by kind; format and parse read this one table. */
enum { REJECTED, CONFIRMED, INVALID, N_WORDS };
static const char *const words[N_WORDS] = {[REJECTED] = "rejected", [CONFIRMED] = "confirmed", [INVALID] = "invalid"};

static int word_of(const bk_outcome *o)
{
    return o->confirmed ? CONFIRMED : o->invalid ? INVALID : REJECTED;
}

int bk_outcome_format(const bk_outcome *o, char *buf, size_t cap, size_t *len, bk_err *err)
{
    char line[BK_OUTCOME_LINE_MAX];
    int n = snprintf(line, sizeof(line), "%s %s %s %" PRId32 " %" PRId64 " %" PRId64, o->booking_id, words[word_of(o)],
                     o->tier->code, o->quantity, o->created_ms, o->decided_ms);
    size_t used = n > 0 ? (size_t)n : 0;
    if (o->has_customer) {
        static const char hex[] = "0123456789abcdef";
        line[used++] = ' ';
        for (const unsigned char *c = (const unsigned char *)o->customer; *c != '\0'; c++) {
            if (*c == '\\') {
                line[used++] = '\\';
                line[used++] = '\\';
            } else if (*c < 0x20 || *c == 0x7f) {
                line[used++] = '\\';
                line[used++] = 'x';
                line[used++] = hex[*c >> 4];
                line[used++] = hex[*c & 15];
            } else {
                line[used++] = (char)*c;
            }
        }
    }
    line[used++] = '\n';
    if (*len + used > cap) {
        return bk_err_set(err, BK_E_TOOBIG, "outcome line of %zu bytes does not fit, booking=%s", used, o->booking_id);
    }
    memcpy(buf + *len, line, used);
    *len += used;
    return BK_OK;
}

int bk_outcome_append(const bk_outcome *o, char *buf, size_t cap, size_t *len, size_t *payload_len, bk_err *err)
{
    char line[BK_OUTCOME_LINE_MAX];
    size_t n = 0;
    int rc = bk_outcome_format(o, line, sizeof(line), &n, err);
    if (rc != BK_OK) {
        return rc;
    }
    int ends_payload = *payload_len > 0 && *payload_len + n > BK_OUTCOME_PAYLOAD_MAX;
    if (*len + (size_t)ends_payload + n > cap) {
        return bk_err_set(err, BK_E_TOOBIG, "outcome line of %zu bytes does not fit, booking=%s", n, o->booking_id);
    }
    if (ends_payload) {
        buf[(*len)++] = '\n';
        *payload_len = 0;
    }
    memcpy(buf + *len, line, n);
    *len += n;
    *payload_len += n;
    return BK_OK;
}

/* The next space-terminated field of the line at *at, or NULL; *at moves past the space. */
static const char *field(const char **at, const char *end, size_t *len)
{
    const char *start = *at;
    const char *space = memchr(start, ' ', (size_t)(end - start));
    const char *stop = space != NULL ? space : end;
    if (stop == start) {
        return NULL;
    }
    *len = (size_t)(stop - start);
    *at = space != NULL ? space + 1 : end;
    return start;
}

/* A decimal integer of len bytes in min..max. */
static int parse_int(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    int64_t v = 0;
    if (s == NULL || len == 0 || len > 18) {
        return 0;
    }
    for (size_t k = 0; k < len; k++) {
        if (s[k] < '0' || s[k] > '9') {
            return 0;
        }
        v = 10 * v + (s[k] - '0');
    }
    *out = v;
    return v >= min && v <= max;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reverses the customer escaping; 0 if malformed or too long. */
static int unescape(const char *s, size_t len, char *out)
{
    size_t used = 0;
    for (size_t k = 0; k < len; k++) {
        char c = s[k];
        if ((unsigned char)c < 0x20 || c == 0x7f) {
            return 0;
        }
        if (c == '\\') {
            if (k + 1 < len && s[k + 1] == '\\') {
                k += 1;
            } else if (k + 3 < len && s[k + 1] == 'x' && hex_digit(s[k + 2]) >= 0 && hex_digit(s[k + 3]) >= 0) {
                c = (char)(16 * hex_digit(s[k + 2]) + hex_digit(s[k + 3]));
                k += 3;
            } else {
                return 0;
            }
        }
        if (c == '\0' || used == BK_BOOKING_CUSTOMER_BYTES) {
            return 0;
        }
        out[used++] = c;
    }
    out[used] = '\0';
    return used > 0;
}

int bk_outcome_parse(const bk_tier_catalogue *tiers, const char *line, size_t len, bk_outcome *o, bk_err *err)
{
    const char *at = line, *end = line + len;
    size_t n_id = 0, n_status = 0, n_tier = 0, n_qty = 0, n_created = 0, n_decided = 0;
    const char *id = field(&at, end, &n_id);
    const char *status = id != NULL ? field(&at, end, &n_status) : NULL;
    const char *tier = status != NULL ? field(&at, end, &n_tier) : NULL;
    const char *qty = tier != NULL ? field(&at, end, &n_qty) : NULL;
    const char *created = qty != NULL ? field(&at, end, &n_created) : NULL;
    const char *decided = created != NULL ? field(&at, end, &n_decided) : NULL;
    int64_t quantity = 0;

    memset(o, 0, sizeof(*o));
    if (decided == NULL || !bk_id_well_formed(id, n_id)) {
        return bk_err_set(err, BK_E_INVAL, "outcome line without six fields or with a malformed id");
    }
    memcpy(o->booking_id, id, BK_BOOKING_ID_LEN);
    int word = 0;
    while (word < N_WORDS && !(strlen(words[word]) == n_status && memcmp(status, words[word], n_status) == 0)) {
        word++;
    }
    if (word == N_WORDS) {
        return bk_err_set(err, BK_E_INVAL, "outcome status is not confirmed, rejected or invalid, booking=%s",
                          o->booking_id);
    }
    o->confirmed = word == CONFIRMED;
    o->invalid = word == INVALID;
    o->tier = bk_tier_find(tiers, tier, n_tier);
    if (o->tier == NULL || !parse_int(qty, n_qty, o->invalid ? 0 : 1, BK_BOOKING_QUANTITY_MAX, &quantity) ||
        !parse_int(created, n_created, 1, BK_MSG_ACCEPTED_AT_MAX, &o->created_ms) ||
        !parse_int(decided, n_decided, 1, BK_MSG_ACCEPTED_AT_MAX, &o->decided_ms)) {
        return bk_err_set(err, BK_E_INVAL, "outcome tier, quantity or times malformed, booking=%s", o->booking_id);
    }
    o->quantity = (int32_t)quantity;
    const char *rest = decided + n_decided; /* the end, or the space before the customer */
    if (rest < end) {
        if (!unescape(rest + 1, (size_t)(end - rest - 1), o->customer)) {
            return bk_err_set(err, BK_E_INVAL, "outcome customer malformed, booking=%s", o->booking_id);
        }
        o->has_customer = 1;
    }
    return BK_OK;
}
