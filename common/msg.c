/* Message codec: yajl_gen to encode, the strict flat-object parser to decode. */
#include "common/msg.h"

#include "common/id.h"
#include "common/json.h"

#include <string.h>
#include <yajl/yajl_gen.h>

enum { F_V, F_ID, F_TIER, F_QUANTITY, F_CUSTOMER, F_ACCEPTED_AT, N_FIELDS };

int bk_msg_encode(const bk_msg *msg, char *buf, size_t cap, size_t *len, bk_err *err)
{
    int rc = BK_OK;
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "yajl_gen_alloc failed");
    }
    int ok = yajl_gen_map_open(g) == yajl_gen_status_ok;
    ok = ok && bk_json_put_int(g, "v", BK_MSG_VERSION);
    ok = ok && bk_json_put_str(g, "booking_id", msg->booking_id);
    ok = ok && bk_json_put_str(g, "tier", msg->tier->code);
    ok = ok && bk_json_put_int(g, "quantity", msg->quantity);
    if (msg->has_customer) {
        ok = ok && bk_json_put_str(g, "customer", msg->customer);
    }
    ok = ok && bk_json_put_int(g, "accepted_at", msg->accepted_at_ms);
    ok = ok && yajl_gen_map_close(g) == yajl_gen_status_ok;

    const unsigned char *out = NULL;
    size_t out_len = 0;
    if (!ok || yajl_gen_get_buf(g, &out, &out_len) != yajl_gen_status_ok) {
        rc = bk_err_set(err, BK_E_INVAL, "yajl_gen failed for booking=%s", msg->booking_id);
    } else if (out_len > cap) {
        rc = bk_err_set(err, BK_E_TOOBIG, "encoded message is %zu bytes, cap %zu, booking=%s", out_len, cap,
                        msg->booking_id);
    } else {
        memcpy(buf, out, out_len);
        *len = out_len;
    }
    yajl_gen_free(g);
    return rc;
}

int bk_msg_decode(const bk_tier_catalogue *tiers, const char *buf, size_t len, bk_msg *msg, bk_err *err)
{
    static const bk_json_field proto[N_FIELDS] = {{.name = "v"},        {.name = "booking_id"},
                                                  {.name = "tier"},     {.name = "quantity"},
                                                  {.name = "customer"}, {.name = "accepted_at"}};
    bk_json_field fields[N_FIELDS];
    memcpy(fields, proto, sizeof(fields));
    memset(msg, 0, sizeof(*msg));

    if (len > BK_MSG_MAX) {
        return bk_err_set(err, BK_E_TOOBIG, "message is %zu bytes, cap %d", len, BK_MSG_MAX);
    }
    int rc = bk_json_parse_object(buf, len, fields, N_FIELDS, err);
    if (rc != BK_OK) {
        return rc;
    }
    const bk_json_field *f = fields;
    /* What can be read is kept even if a later check fails: the processor ends that booking. */
    if (f[F_ID].type == BK_JSON_STRING && bk_id_well_formed(f[F_ID].str, f[F_ID].len)) {
        memcpy(msg->booking_id, f[F_ID].str, BK_BOOKING_ID_LEN + 1);
    }
    if (f[F_QUANTITY].type == BK_JSON_INT && f[F_QUANTITY].i >= 1 && f[F_QUANTITY].i <= BK_BOOKING_QUANTITY_MAX) {
        msg->quantity = (int32_t)f[F_QUANTITY].i;
    }
    if (f[F_ACCEPTED_AT].type == BK_JSON_INT && f[F_ACCEPTED_AT].i > 0 &&
        f[F_ACCEPTED_AT].i <= BK_MSG_ACCEPTED_AT_MAX) {
        msg->accepted_at_ms = f[F_ACCEPTED_AT].i;
    }
    if (f[F_V].type != BK_JSON_INT || f[F_V].i != BK_MSG_VERSION) {
        return bk_err_set(err, BK_E_INVAL, "unsupported message version, want v=%d", BK_MSG_VERSION);
    }
    if (msg->booking_id[0] == '\0') {
        return bk_err_set(err, BK_E_INVAL, "booking_id missing or malformed");
    }
    const bk_tier *tier = f[F_TIER].type == BK_JSON_STRING ? bk_tier_find(tiers, f[F_TIER].str, f[F_TIER].len) : NULL;
    if (tier == NULL) {
        return bk_err_set(err, BK_E_INVAL, "tier missing or unknown, booking=%s", msg->booking_id);
    }
    if (msg->quantity == 0) {
        return bk_err_set(err, BK_E_INVAL, "quantity missing or out of 1..%d, booking=%s", BK_BOOKING_QUANTITY_MAX,
                          msg->booking_id);
    }
    if (msg->accepted_at_ms == 0) {
        return bk_err_set(err, BK_E_INVAL,
                          "accepted_at missing or not epoch milliseconds before year 10000, booking=%s",
                          msg->booking_id);
    }
    /* A NUL inside the customer (escaped as \u0000) could never be stored as PostgreSQL text. */
    if (f[F_CUSTOMER].type == BK_JSON_STRING && f[F_CUSTOMER].len <= BK_BOOKING_CUSTOMER_BYTES &&
        strlen(f[F_CUSTOMER].str) == f[F_CUSTOMER].len) {
        memcpy(msg->customer, f[F_CUSTOMER].str, f[F_CUSTOMER].len + 1);
        msg->has_customer = 1;
    } else if (f[F_CUSTOMER].type != BK_JSON_ABSENT) {
        return bk_err_set(err, BK_E_INVAL, "customer is not a string of at most %d bytes without NUL, booking=%s",
                          BK_BOOKING_CUSTOMER_BYTES, msg->booking_id);
    }
    msg->tier = tier;
    return BK_OK;
}
