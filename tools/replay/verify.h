/* The invariants every replay checks (docs/design.md#invariants), as a pure function of what the
 * API answered and what PostgreSQL holds at the end: no oversell; sold + available = capacity per
 * tier; every 202 reaches exactly one final outcome, and the database agrees with it; a retried
 * Idempotency-Key never books twice; a request meant to be refused gets a 4xx and leaves no row. */
#ifndef BK_TOOLS_REPLAY_VERIFY_H
#define BK_TOOLS_REPLAY_VERIFY_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

#define BK_VERIFY_ID_MAX       48 /* booking ids are 32 characters; longer answers are cut here */
#define BK_VERIFY_TIER_MAX     16
#define BK_VERIFY_EXAMPLES     12
#define BK_VERIFY_EXAMPLE_SIZE 256

/* A final outcome as the API or the database reports it. */
enum { BK_VERIFY_NONE = 0, BK_VERIFY_CONFIRMED = 1, BK_VERIFY_REJECTED = 2 };

/* What the replayer saw for one trace request. */
typedef struct bk_verify_reply {
    int sent;         /* 0: never sent (run cut short); nothing else is looked at */
    int malformed;    /* the trace meant it to be refused */
    const char *key;  /* the Idempotency-Key sent, NULL for none */
    const char *tier; /* NULL for malformed requests */
    int quantity;
    int status;                        /* HTTP status of the POST; 0: no answer (transport error) */
    char booking_id[BK_VERIFY_ID_MAX]; /* from a 200 or 202 body, "" otherwise */
    int outcome;                       /* the final status the API reported, BK_VERIFY_NONE if none */
    int conflict;                      /* the API reported two different final statuses */
} bk_verify_reply;

/* One row of the bookings table. */
typedef struct bk_verify_row {
    char booking_id[BK_VERIFY_ID_MAX];
    char tier[BK_VERIFY_TIER_MAX];
    int quantity;
    int confirmed;
} bk_verify_row;

/* One row of the tiers table; sold, n_confirmed and n_rejected are filled in by bk_verify_run. */
typedef struct bk_verify_tier {
    char tier[BK_VERIFY_TIER_MAX];
    int64_t capacity;
    int64_t available;
    int64_t sold;
    int64_t n_confirmed;
    int64_t n_rejected;
} bk_verify_tier;

typedef enum bk_verify_check {
    BK_VERIFY_OVERSELL,          /* sold > capacity */
    BK_VERIFY_BALANCE,           /* sold + available != capacity */
    BK_VERIFY_NO_OUTCOME,        /* a 202 never reached a final status */
    BK_VERIFY_CONFLICT,          /* two different final statuses for one booking */
    BK_VERIFY_BAD_REPLY,         /* a 200/202 without a booking id */
    BK_VERIFY_MISSING_ROW,       /* the API said final, the database has no row */
    BK_VERIFY_DUPLICATE_ROW,     /* two rows with one booking id */
    BK_VERIFY_STATUS_MISMATCH,   /* the row's status is not what the API said */
    BK_VERIFY_ROW_MISMATCH,      /* the row's tier/quantity is not what any request for it asked */
    BK_VERIFY_KEY_TWICE,         /* one Idempotency-Key, two booking ids */
    BK_VERIFY_ID_SHARED,         /* two requests that are not retries of each other, one id */
    BK_VERIFY_MALFORMED_NOT_4XX, /* a request meant to be refused was not answered 4xx */
    BK_VERIFY_VALID_REFUSED,     /* a valid request answered 4xx */
    BK_VERIFY_UNAVAILABLE,       /* a valid request answered 5xx or not at all (unless allowed) */
    BK_VERIFY_UNEXPLAINED_ROWS,  /* rows no reply accounts for, beyond the unanswered requests */
    BK_VERIFY_N_CHECKS
} bk_verify_check;

typedef struct bk_verify_input {
    const bk_verify_reply *replies;
    size_t n_replies;
    const bk_verify_row *rows; /* NULL: no database checks */
    size_t n_rows;
    bk_verify_tier *tiers; /* in: capacity, available; out: sold and counts */
    size_t n_tiers;
    int allow_unavailable; /* 5xx and transport errors on valid requests are not breaches */
} bk_verify_input;

typedef struct bk_verify_report {
    int db_checked;
    size_t n_ids;         /* distinct booking ids the API handed out */
    size_t n_rows;        /* rows looked at */
    size_t n_unexplained; /* rows whose id no reply carried */
    size_t n_unanswered;  /* valid requests answered 5xx or not at all: each may still have booked */
    size_t breaches[BK_VERIFY_N_CHECKS];
    size_t n_breaches;
    size_t n_examples;
    char examples[BK_VERIFY_EXAMPLES][BK_VERIFY_EXAMPLE_SIZE];
} bk_verify_report;

/* Runs every check; breaches are results, not errors (BK_OK). Errors are allocation failures. */
int bk_verify_run(const bk_verify_input *in, bk_verify_report *out, bk_err *err) BK_WARN_UNUSED;

/* "oversell", "balance", ...: the check's name in reports and JSON. */
const char *bk_verify_check_name(bk_verify_check check);

/* "confirmed", "rejected" or "none". */
const char *bk_verify_outcome_name(int outcome);

#endif
