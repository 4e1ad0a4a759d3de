-- 010: Idempotency-Key claims. Before it publishes a request that carries a key, an ingress claims
-- the booking id the key maps to, with a fingerprint of the request (a digest of tier, quantity
-- and customer, keyed with the id secret, so the table does not reveal customers). The first claim
-- of an id wins, on every ingress alike; a later request with the key is a retry only if its
-- fingerprint is the claim's, and is refused otherwise. Claims are never updated or deleted: a key
-- names one request for good, like the booking it leads to.
BEGIN;

CREATE TABLE booking_claims (
    booking_id  text        PRIMARY KEY,
    fingerprint text        NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{32}$'),
    claimed_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO schema_migrations (version) VALUES (10);

COMMIT;
