/* Idempotency-Key claims. The first request with a key binds the key's booking id to that request's
 * fingerprint (a keyed digest of its tier, quantity and customer) in PostgreSQL, before anything is
 * published; INSERT ... ON CONFLICT DO NOTHING makes the first claim win on every ingress alike. A
 * later request with the key is the same request (a retry: same booking) only if its fingerprint
 * is the claim's; otherwise it is refused (422) and learns nothing of the first. */
#ifndef BK_INGRESS_CLAIM_H
#define BK_INGRESS_CLAIM_H

#include "common/booking.h"
#include "common/err.h"
#include "common/id.h"
#include "common/req.h"

typedef struct bk_claims bk_claims;

typedef enum bk_claim_verdict {
    BK_CLAIM_NEW,   /* this request made the claim: nothing was ever published for the key */
    BK_CLAIM_SAME,  /* claimed before by a request with the same fingerprint: a retry */
    BK_CLAIM_OTHER, /* claimed by another request: 422 */
} bk_claim_verdict;

/* Claims made through a connection per calling thread (opened on first use, closed when the
 * thread ends). NULL on allocation failure. Free only once no thread calls any more. */
bk_claims *bk_claims_new(const char *dsn, bk_err *err);
void bk_claims_free(bk_claims *claims);

/* The fingerprint of a request into out (BK_ID_DIGEST_LEN + 1 bytes). */
int bk_claim_fingerprint(const bk_id_key *key, const bk_book_req *req, char *out, bk_err *err) BK_WARN_UNUSED;

/* True if booking carries exactly req's tier, quantity and customer (none and none match). */
int bk_claim_matches(const bk_book_req *req, const bk_booking *booking);

/* Claims booking id for the fingerprint. BK_E_DB when PostgreSQL could not be asked: then the
 * ingress cannot tell a retry from another request and must promise nothing. */
int bk_claims_claim(bk_claims *claims, const char *id, const char *fingerprint, bk_claim_verdict *verdict,
                    bk_err *err) BK_WARN_UNUSED;

#endif
