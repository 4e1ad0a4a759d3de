/* The load engine: sends a trace's POST /book requests from one thread over libcurl's multi
 * interface (keep-alive, at most N connections), at the trace's pace, at a fixed rate or as fast as
 * it can, and follows every 202 with GET /bookings/{id}?wait=… long-polls until the outcome is
 * final. It records what happened to each request; judging it is verify's job. */
#ifndef BK_TOOLS_REPLAY_ENGINE_H
#define BK_TOOLS_REPLAY_ENGINE_H

#include "common/err.h"
#include "tools/replay/trace.h"
#include "tools/replay/verify.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef enum bk_engine_mode {
    BK_ENGINE_PACED, /* send each request at its trace offset */
    BK_ENGINE_RATE,  /* ignore offsets, send at max_rate requests per second */
    BK_ENGINE_ASAP,  /* ignore offsets, send whenever a connection is free */
} bk_engine_mode;

typedef enum bk_engine_end {
    BK_ENGINE_DONE,    /* every request sent and every 202 followed to its end */
    BK_ENGINE_TIMEOUT, /* the hard time bound cut the run short */
    BK_ENGINE_SIGNAL,  /* the stop flag was raised */
} bk_engine_end;

typedef struct bk_engine_opts {
    const char *base_url; /* "http://127.0.0.1:8080", no trailing slash */
    int connections;      /* in-flight requests and connections, at most */
    bk_engine_mode mode;
    double max_rate;                   /* BK_ENGINE_RATE: requests per second */
    int64_t duration_ms;               /* no new POST after this (0: no limit); following goes on */
    int64_t ramp_ms;                   /* connections come into use evenly over this (0: all at once) */
    int64_t timeout_ms;                /* hard bound on the whole run */
    int wait_ms;                       /* ?wait= of every outcome poll (1..5000) */
    const char *key_prefix;            /* prepended to every Idempotency-Key ("" for none) */
    int progress;                      /* one status line per second on stderr */
    const volatile sig_atomic_t *stop; /* raised by a signal handler: end the run now */
} bk_engine_opts;

/* What happened to one trace request. Times are microseconds since the run began; -1: never. */
typedef struct bk_engine_rec {
    int64_t planned_us;  /* when it was due */
    int64_t sent_us;     /* when the POST started */
    int64_t answered_us; /* when the POST's answer arrived */
    int64_t final_us;    /* when a final outcome was first seen */
    int status;          /* the POST's HTTP status; 0: no answer */
    int curl_code;       /* the POST's CURLcode (0: fine) */
    int outcome;         /* BK_VERIFY_NONE, _CONFIRMED or _REJECTED */
    int conflict;        /* two different final statuses were reported */
    int n_polls;
    int n_poll_errors; /* polls answered other than 200, or not at all */
    int last_poll_status;
    char booking_id[BK_VERIFY_ID_MAX];
    char key[BK_TRACE_KEY_MAX + 32]; /* the Idempotency-Key as sent (prefix + trace key), "" for none */
} bk_engine_rec;

typedef struct bk_engine_totals {
    bk_engine_end end;
    int64_t wall_t0_ms;    /* wall clock (epoch ms) when the run began */
    int64_t elapsed_us;    /* run time */
    int64_t first_sent_us; /* -1 if nothing was sent */
    int64_t last_sent_us;
    size_t n_sent;
    size_t n_polls;
    size_t n_poll_errors;
    size_t n_connects; /* new TCP connections: about `connections` when keep-alive works */
    int64_t cpu_us;    /* CPU time (user + system) the engine itself used: the load generator's cost */
} bk_engine_totals;

/* Runs trace against opts->base_url; recs has bk_trace_count(trace) entries. Fails only when the
 * engine itself cannot work (libcurl setup, memory); every HTTP outcome is a record. */
int bk_engine_run(const bk_engine_opts *opts, const bk_trace *trace, bk_engine_rec *recs, bk_engine_totals *totals,
                  bk_err *err) BK_WARN_UNUSED;

#endif
