-- 003: bookings.tier loses its foreign key. The processor inserts bookings with
-- INSERT ... SELECT ... JOIN tiers, so a row can only name a tier that exists, and tiers are never
-- deleted. The key's per-row trigger (a planned and executed SELECT ... FOR KEY SHARE for every
-- booking) cost a quarter of the batch transaction's CPU at an on-sale (perf, bench/README.md).
-- The invariants that matter stay enforced here: available within 0..capacity, one row per
-- booking id, positive quantities.
BEGIN;

ALTER TABLE bookings DROP CONSTRAINT bookings_tier_fkey;

INSERT INTO schema_migrations (version) VALUES (3);

COMMIT;
