/* Flat-object JSON parsing on yajl's callback API: no tree, fixed memory, strict syntax. And the
 * two emitters, thin wrappers over yajl_gen. */
#include "common/json.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

typedef struct parse_state {
    bk_json_field *fields;
    size_t n_fields;
    int depth;              /* 0 outside the top-level value, 1 inside the top-level object */
    bk_json_field *current; /* the known field whose value comes next, or NULL */
    const char *problem;    /* set when a callback cancels the parse */
    char dup_name[64];
} parse_state;

/* Called before every value: at depth 0 only an object may start; at depth 1 it belongs to the
 * key just read. Returns the field to fill or NULL (unknown key, or nested deeper). */
static bk_json_field *value_slot(parse_state *st, bk_json_type type)
{
    if (st->depth == 0 && type != BK_JSON_OBJECT) {
        st->problem = "body must be a JSON object";
        return NULL;
    }
    if (st->depth != 1) {
        return NULL;
    }
    bk_json_field *f = st->current;
    st->current = NULL;
    if (f != NULL) {
        f->type = type;
    }
    return f;
}

static int on_null(void *ctx)
{
    parse_state *st = ctx;
    value_slot(st, BK_JSON_NULL);
    return st->problem == NULL;
}

static int on_boolean(void *ctx, int value)
{
    parse_state *st = ctx;
    bk_json_field *f = value_slot(st, BK_JSON_BOOL);
    if (f != NULL) {
        f->i = value != 0;
    }
    return st->problem == NULL;
}

/* yajl hands over the number's literal text: only an optional minus and digits that fit in a
 * long long count as an integer; "1.0", "1e2" and 2^64 are numbers, never silently rounded. */
static int on_number(void *ctx, const char *s, size_t len)
{
    parse_state *st = ctx;
    int is_int = len > 0 && len < 24;
    for (size_t k = (len > 0 && s[0] == '-') ? 1 : 0; is_int && k < len; k++) {
        is_int = s[k] >= '0' && s[k] <= '9';
    }
    long long value = 0;
    if (is_int) {
        char tmp[24];
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        errno = 0;
        value = strtoll(tmp, NULL, 10);
        is_int = errno == 0;
    }
    bk_json_field *f = value_slot(st, is_int ? BK_JSON_INT : BK_JSON_NUMBER);
    if (f != NULL) {
        f->i = value;
    }
    return st->problem == NULL;
}

/* yajl checks only the shape of each UTF-8 sequence. PostgreSQL also rejects overlong forms,
 * surrogates (raw, or decoded from a lone \uDC00 escape) and code points past U+10FFFF, so a
 * string we accept must pass its rules too. */
static int utf8_valid(const unsigned char *s, size_t len)
{
    for (size_t k = 0; k < len;) {
        unsigned char c = s[k];
        size_t n_cont;
        uint32_t cp;
        if (c < 0x80) {
            k++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n_cont = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n_cont = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n_cont = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - k <= n_cont) {
            return 0;
        }
        for (size_t i = 1; i <= n_cont; i++) {
            if ((s[k + i] & 0xc0) != 0x80) {
                return 0;
            }
            cp = cp << 6 | (s[k + i] & 0x3f);
        }
        if ((n_cont == 2 && cp < 0x800) || (n_cont == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        k += n_cont + 1;
    }
    return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    parse_state *st = ctx;
    if (!utf8_valid(s, len)) {
        st->problem = "body is not valid JSON: invalid UTF-8 in a string";
        return 0;
    }
    bk_json_field *f = value_slot(st, BK_JSON_STRING);
    if (f != NULL) {
        size_t kept = len < BK_JSON_STR_MAX ? len : BK_JSON_STR_MAX;
        memcpy(f->str, s, kept);
        f->str[kept] = '\0';
        f->len = len;
    }
    return st->problem == NULL;
}

static int on_start_map(void *ctx)
{
    parse_state *st = ctx;
    value_slot(st, BK_JSON_OBJECT);
    st->depth++;
    return st->problem == NULL;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    parse_state *st = ctx;
    if (!utf8_valid(key, len)) {
        st->problem = "body is not valid JSON: invalid UTF-8 in a key";
        return 0;
    }
    if (st->depth != 1) {
        return 1;
    }
    st->current = NULL;
    for (size_t k = 0; k < st->n_fields; k++) {
        bk_json_field *f = &st->fields[k];
        if (strlen(f->name) == len && memcmp(f->name, key, len) == 0) {
            if (f->type != BK_JSON_ABSENT) {
                snprintf(st->dup_name, sizeof(st->dup_name), "%s", f->name);
                st->problem = "duplicate field";
                return 0;
            }
            st->current = f;
            break;
        }
    }
    return 1;
}

static int on_end_map(void *ctx)
{
    parse_state *st = ctx;
    st->depth--;
    return 1;
}

static int on_start_array(void *ctx)
{
    parse_state *st = ctx;
    value_slot(st, BK_JSON_ARRAY);
    st->depth++;
    return st->problem == NULL;
}

static int on_end_array(void *ctx)
{
    parse_state *st = ctx;
    st->depth--;
    return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

int bk_json_parse_object(const char *buf, size_t len, bk_json_field *fields, size_t n_fields, bk_err *err)
{
    int rc = BK_OK;
    parse_state st = {.fields = fields, .n_fields = n_fields};
    for (size_t k = 0; k < n_fields; k++) {
        fields[k].type = BK_JSON_ABSENT;
        fields[k].len = 0;
        fields[k].i = 0;
        fields[k].str[0] = '\0';
    }

    yajl_handle h = yajl_alloc(&callbacks, NULL, &st);
    if (h == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "yajl_alloc failed");
    }
    /* Defaults already reject comments, trailing garbage and invalid UTF-8; say so explicitly. */
    yajl_config(h, yajl_allow_comments, 0);
    yajl_config(h, yajl_dont_validate_strings, 0);

    yajl_status status = yajl_parse(h, (const unsigned char *)buf, len);
    if (status == yajl_status_ok) {
        status = yajl_complete_parse(h);
    }
    if (st.problem != NULL && st.dup_name[0] != '\0') {
        rc = bk_err_set_field(err, BK_E_INVAL, st.dup_name, "field %s appears more than once", st.dup_name);
    } else if (st.problem != NULL) {
        rc = bk_err_set(err, BK_E_INVAL, "%s", st.problem);
    } else if (status != yajl_status_ok) {
        unsigned char *text = yajl_get_error(h, 0, NULL, 0);
        rc = bk_err_set(err, BK_E_INVAL, "body is not valid JSON: %s", text != NULL ? (const char *)text : "?");
        yajl_free_error(h, text);
    }
    yajl_free(h);
    return rc;
}

const char *bk_json_type_name(bk_json_type type)
{
    static const char *const names[] = {"absent",   "null",     "a boolean", "an integer",
                                        "a number", "a string", "an array",  "an object"};
    return names[type];
}

int bk_json_put_str(yajl_gen g, const char *key, const char *value)
{
    return yajl_gen_string(g, (const unsigned char *)key, strlen(key)) == yajl_gen_status_ok &&
           yajl_gen_string(g, (const unsigned char *)value, strlen(value)) == yajl_gen_status_ok;
}

int bk_json_put_int(yajl_gen g, const char *key, long long value)
{
    return yajl_gen_string(g, (const unsigned char *)key, strlen(key)) == yajl_gen_status_ok &&
           yajl_gen_integer(g, value) == yajl_gen_status_ok;
}
