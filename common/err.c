/* The error value: first error wins, messages are bounded and never contain a newline. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void bk_err_clear(bk_err *err)
{
    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
}

static int vset(bk_err *err, int code, const char *field, const char *fmt, va_list ap)
{
    if (err == NULL || err->code != BK_OK) {
        return code;
    }
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field != NULL ? field : "");
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    /* Library text (libpq, yajl) carries newlines; a log line must stay one line. */
    size_t len = strlen(err->msg);
    for (size_t i = 0; i < len; i++) {
        if (err->msg[i] == '\n' || err->msg[i] == '\r') {
            err->msg[i] = ' ';
        }
    }
    while (len > 0 && err->msg[len - 1] == ' ') {
        err->msg[--len] = '\0';
    }
    return code;
}

int bk_err_set(bk_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int bk_err_set_field(bk_err *err, int code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, field, fmt, ap);
    va_end(ap);
    return code;
}

const char *bk_err_name(int code)
{
    switch (code) {
    case BK_OK:
        return "ok";
    case BK_E_INVAL:
        return "inval";
    case BK_E_NOMEM:
        return "nomem";
    case BK_E_IO:
        return "io";
    case BK_E_DB:
        return "db";
    case BK_E_KAFKA:
        return "kafka";
    case BK_E_NOTFOUND:
        return "notfound";
    case BK_E_TOOBIG:
        return "toobig";
    case BK_E_FENCED:
        return "fenced";
    default:
        return "unknown";
    }
}
