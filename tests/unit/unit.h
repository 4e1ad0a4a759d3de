/* Helpers shared by the cmocka unit tests: checks that name the table row that failed, and a
 * body builder so a row can say "128 x é" or "1000 nested arrays" without spelling it out.
 * Every test is a table of cases and a loop; a failure prints `case "<name>": ...`. */
#ifndef BK_TESTS_UNIT_UNIT_H
#define BK_TESTS_UNIT_UNIT_H

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/cfg.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

/* Fails unless got == want (any integer types). */
#define EXPECT_INT(name, what, got, want)                                                                              \
    do {                                                                                                               \
        long long got_ = (long long)(got);                                                                             \
        long long want_ = (long long)(want);                                                                           \
        if (got_ != want_) {                                                                                           \
            fail_msg("case \"%s\": %s is %lld, want %lld", (name), (what), got_, want_);                               \
        }                                                                                                              \
    } while (0)

/* Fails unless a status code is the one wanted; prints both names and the error message. */
#define EXPECT_RC(name, got, want, err)                                                                                \
    do {                                                                                                               \
        int got_ = (got);                                                                                              \
        int want_ = (want);                                                                                            \
        if (got_ != want_) {                                                                                           \
            fail_msg("case \"%s\": rc is %s (%d), want %s (%d); err.msg=\"%s\"", (name), bk_err_name(got_), got_,      \
                     bk_err_name(want_), want_, (err)->msg);                                                           \
        }                                                                                                              \
    } while (0)

/* Fails unless two strings are equal (NULL equals only NULL). */
#define EXPECT_STR(name, what, got, want)                                                                              \
    do {                                                                                                               \
        const char *got_ = (got);                                                                                      \
        const char *want_ = (want);                                                                                    \
        if ((got_ == NULL) != (want_ == NULL) || (got_ != NULL && strcmp(got_, want_) != 0)) {                         \
            fail_msg("case \"%s\": %s is \"%s\", want \"%s\"", (name), (what), got_ != NULL ? got_ : "(null)",         \
                     want_ != NULL ? want_ : "(null)");                                                                \
        }                                                                                                              \
    } while (0)

/* Fails unless haystack contains needle. */
#define EXPECT_CONTAINS(name, what, haystack, needle)                                                                  \
    do {                                                                                                               \
        if (strstr((haystack), (needle)) == NULL) {                                                                    \
            fail_msg("case \"%s\": %s \"%s\" does not contain \"%s\"", (name), (what), (haystack), (needle));          \
        }                                                                                                              \
    } while (0)

/* Fails if haystack contains needle. */
#define EXPECT_NOT_CONTAINS(name, what, haystack, needle)                                                              \
    do {                                                                                                               \
        if (strstr((haystack), (needle)) != NULL) {                                                                    \
            fail_msg("case \"%s\": %s \"%s\" contains \"%s\"", (name), (what), (haystack), (needle));                  \
        }                                                                                                              \
    } while (0)

/* Fails unless cond holds; what says what was expected. */
#define EXPECT_TRUE(name, what, cond)                                                                                  \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fail_msg("case \"%s\": expected %s", (name), (what));                                                      \
        }                                                                                                              \
    } while (0)

/* Number of elements of an array. */
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A body described by a table row: head (head_len bytes, or strlen(head) when head_len is 0), then
 * rep n_rep times, then close n_rep times (nesting), then tail. Any part may be NULL. */
typedef struct unit_text {
    const char *head;
    size_t head_len;
    const char *rep;
    size_t n_rep;
    const char *close;
    const char *tail;
} unit_text;

/* Builds t into a malloc'd buffer of exactly *len bytes with no terminator, so that ASan catches
 * a parser reading past len. The caller frees it. */
static inline char *unit_text_build(const unit_text *t, size_t *len)
{
    size_t head_len = t->head == NULL ? 0 : (t->head_len != 0 ? t->head_len : strlen(t->head));
    size_t rep_len = t->rep == NULL ? 0 : strlen(t->rep);
    size_t close_len = t->close == NULL ? 0 : strlen(t->close);
    size_t tail_len = t->tail == NULL ? 0 : strlen(t->tail);
    size_t total = head_len + t->n_rep * (rep_len + close_len) + tail_len;
    char *buf = malloc(total > 0 ? total : 1);
    assert_non_null(buf);
    char *p = buf;
    if (head_len > 0) {
        memcpy(p, t->head, head_len);
        p += head_len;
    }
    for (size_t k = 0; k < t->n_rep && rep_len > 0; k++, p += rep_len) {
        memcpy(p, t->rep, rep_len);
    }
    for (size_t k = 0; k < t->n_rep && close_len > 0; k++, p += close_len) {
        memcpy(p, t->close, close_len);
    }
    if (tail_len > 0) {
        memcpy(p, t->tail, tail_len);
    }
    *len = total;
    return buf;
}

/* As unit_text_build, NUL-terminated, for APIs that take C strings. */
static inline char *unit_text_cstr(const unit_text *t)
{
    size_t len = 0;
    char *body = unit_text_build(t, &len);
    char *s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, body, len);
    s[len] = '\0';
    free(body);
    return s;
}

/* A configuration environment for bk_cfg_load, nothing of the process's own: name/value pairs, the
 * last one {NULL, NULL}. unit_cfg_load reads only env. */
#define UNIT_ENV_MAX 8 /* room in a table's env arrays: up to 7 settings and the terminator */

typedef struct unit_env_var {
    const char *name;
    const char *value;
} unit_env_var;

static const unit_env_var *unit_env; /* bk_cfg_load's lookup takes no context: the env being loaded */

static inline const char *unit_env_lookup(const char *name)
{
    for (size_t k = 0; unit_env != NULL && unit_env[k].name != NULL; k++) {
        if (strcmp(unit_env[k].name, name) == 0) {
            return unit_env[k].value;
        }
    }
    return NULL;
}

static inline int unit_cfg_load(bk_cfg_service service, const unit_env_var *env, bk_cfg *cfg, bk_err *err)
{
    unit_env = env;
    bk_err_clear(err);
    int rc = bk_cfg_load(cfg, service, unit_env_lookup, err);
    unit_env = NULL;
    return rc;
}

#endif
