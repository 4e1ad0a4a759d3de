/* Error codes and the error value every fallible function fills.
 *
 * Functions that can fail return BK_OK or a negative BK_E_* code and take `bk_err *err` last
 * (NULL allowed). The first error set wins: a caller that wraps a failure never hides its cause. */
#ifndef BK_COMMON_ERR_H
#define BK_COMMON_ERR_H

#include <stddef.h>

#define BK_WARN_UNUSED  __attribute__((warn_unused_result))
#define BK_PRINTF(f, a) __attribute__((format(printf, f, a)))

enum {
    BK_OK = 0,
    BK_E_INVAL = -1,    /* bad input from outside: request, message, environment */
    BK_E_NOMEM = -2,    /* allocation failed */
    BK_E_IO = -3,       /* a system call failed */
    BK_E_DB = -4,       /* PostgreSQL failed or is unreachable */
    BK_E_KAFKA = -5,    /* the broker or librdkafka failed */
    BK_E_NOTFOUND = -6, /* the thing asked for does not exist */
    BK_E_TOOBIG = -7,   /* input over its hard cap */
    BK_E_FENCED = -8,   /* another owner already applied these offsets */
};

#define BK_ERR_MSG_MAX 512

typedef struct bk_err {
    int code;                 /* BK_OK until the first error */
    char field[32];           /* the input field at fault, "" if none */
    char msg[BK_ERR_MSG_MAX]; /* lowercase, no newline; names the failing call and the ids */
} bk_err;

/* Resets err to BK_OK (NULL-safe). */
void bk_err_clear(bk_err *err);

/* Records code and message unless err already holds an error; returns code either way, so
 * `return bk_err_set(err, BK_E_INVAL, "...");` reads naturally. */
int bk_err_set(bk_err *err, int code, const char *fmt, ...) BK_PRINTF(3, 4);

/* As bk_err_set, also naming the input field at fault (for HTTP 400 bodies). */
int bk_err_set_field(bk_err *err, int code, const char *field, const char *fmt, ...) BK_PRINTF(4, 5);

/* A short constant name for a code ("inval", "db", ...), for logs. */
const char *bk_err_name(int code);

#endif
