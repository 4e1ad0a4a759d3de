/* What a failed batch transaction means: PostgreSQL refused the batch for its data (retrying the
 * same batch would fail for ever), or anything else (the connection, a restart, a lock timeout:
 * retry later, nothing is skipped). Pure, so cmocka tables pin the rule. */
#ifndef BK_PROCESSOR_REFUSAL_H
#define BK_PROCESSOR_REFUSAL_H

#include <stddef.h>

typedef enum bk_refusal {
    BK_REFUSAL_RETRY = 0, /* not the data's fault: keep the batch, retry with backoff */
    BK_REFUSAL_DATA,      /* SQLSTATE class 22 (data exception) or 23 (integrity constraint) */
} bk_refusal;

/* Classifies a failure. connected: the connection was still up after it; sqlstate: the SQLSTATE of
 * the statement that failed in this transaction ("" or NULL if none did). A connection that is gone
 * always means RETRY, whatever SQLSTATE an earlier failure left behind. */
bk_refusal bk_refusal_classify(int connected, const char *sqlstate);

/* Writes "refused by postgresql: sqlstate=XXXXX (<fixed sentence>)" into buf (cap bytes, always
 * terminated). Never PostgreSQL's own message: its DETAIL quotes the refused row, customer
 * included, and a cut of it may split a UTF-8 character. The text is plain ASCII. */
void bk_refusal_describe(const char *sqlstate, char *buf, size_t cap);

#endif
