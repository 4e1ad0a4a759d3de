/* A replay trace: JSON lines, one POST /book each (schema in tools/replay/README.md). Parsing is
 * pure — a line in, a bk_trace_req out — so the unit tests drive it with tables; loading a file
 * is the only I/O. Every request's HTTP body is built once at load time, so the replayer's hot
 * loop only copies pointers. */
#ifndef BK_TOOLS_REPLAY_TRACE_H
#define BK_TOOLS_REPLAY_TRACE_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

#define BK_TRACE_LINE_MAX 65536 /* bytes per line, newline excluded */
#define BK_TRACE_KEY_MAX  48    /* leaves room for the replayer's per-run key prefix (64 in all) */
#define BK_TRACE_TIER_MAX 16

typedef struct bk_trace_req {
    int64_t at_ms;                  /* send offset from the start of the run */
    int malformed;                  /* 1: the body is sent verbatim and must be refused (4xx) */
    char tier[BK_TRACE_TIER_MAX];   /* "" for malformed lines */
    int quantity;                   /* 0 for malformed lines */
    char key[BK_TRACE_KEY_MAX + 1]; /* Idempotency-Key, "" for none */
    char *body;                     /* owned: the exact bytes to POST */
    size_t body_len;
    char *content_type; /* owned; NULL means application/json */
} bk_trace_req;

typedef struct bk_trace bk_trace;

/* Parses one line (len bytes, need not be NUL-terminated). Sets *is_req to 0 for blank lines and
 * {"meta": …} lines, which carry no request; otherwise fills req (free it with bk_trace_req_clear).
 * A line that is not valid trace JSON is BK_E_INVAL. */
int bk_trace_parse_line(const char *line, size_t len, bk_trace_req *req, int *is_req, bk_err *err) BK_WARN_UNUSED;

/* Frees what req owns and zeroes it (NULL-safe). */
void bk_trace_req_clear(bk_trace_req *req);

/* Reads a trace file ("-" for stdin), keeping at most max_reqs requests (0: all), ordered by
 * at_ms (stable: equal offsets keep file order). Errors name the file and the line. */
bk_trace *bk_trace_load(const char *path, size_t max_reqs, bk_err *err);

size_t bk_trace_count(const bk_trace *trace);

/* The i-th request, 0 <= i < bk_trace_count. */
const bk_trace_req *bk_trace_at(const bk_trace *trace, size_t i);

void bk_trace_free(bk_trace *trace);

#endif
