/* Strict parsing of flat JSON objects (request bodies and Kafka messages) with yajl's event API,
 * and the key/value emitters every JSON writer of ours (messages, replies, booking rows) shares.
 *
 * The caller lists the top-level fields it knows; the parser reports each one's type and value.
 * Unknown fields are skipped, a known field given twice is an error, comments and trailing
 * garbage are errors, strings must be valid UTF-8. No tree is built: input is bounded by the
 * caller and every string kept is capped, so memory use is fixed. */
#ifndef BK_COMMON_JSON_H
#define BK_COMMON_JSON_H

#include "common/err.h"

#include <stddef.h>
#include <yajl/yajl_gen.h>

#define BK_JSON_STR_MAX 600 /* bytes kept of a string value; 128 UTF-8 characters fit */

typedef enum bk_json_type {
    BK_JSON_ABSENT = 0,
    BK_JSON_NULL,
    BK_JSON_BOOL,
    BK_JSON_INT,    /* an integer literal that fits in long long */
    BK_JSON_NUMBER, /* any other number: fraction, exponent or out of range */
    BK_JSON_STRING,
    BK_JSON_ARRAY,
    BK_JSON_OBJECT,
} bk_json_type;

typedef struct bk_json_field {
    const char *name;              /* in: the key */
    bk_json_type type;             /* out */
    long long i;                   /* out: BK_JSON_INT value, BK_JSON_BOOL as 0/1 */
    size_t len;                    /* out: BK_JSON_STRING length in bytes (may exceed what was kept) */
    char str[BK_JSON_STR_MAX + 1]; /* out: BK_JSON_STRING bytes, NUL-terminated, truncated to the cap */
} bk_json_field;

/* Parses buf (len bytes, no terminator needed) as one JSON object, filling fields[0..n_fields).
 * Returns BK_OK, or BK_E_INVAL with a message for people ("body is not valid JSON: …",
 * "body must be a JSON object", "field tier appears twice"). */
int bk_json_parse_object(const char *buf, size_t len, bk_json_field *fields, size_t n_fields,
                         bk_err *err) BK_WARN_UNUSED;

/* Human name of a type for messages: "a string", "an integer", … */
const char *bk_json_type_name(bk_json_type type);

/* Emits "key": value into the map g has open: 1 if g took both, 0 if it refused either. */
int bk_json_put_str(yajl_gen g, const char *key, const char *value);
int bk_json_put_int(yajl_gen g, const char *key, long long value);

#endif
