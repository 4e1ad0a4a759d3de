-- bench/seed_design.sql — the per-request design of the seeds, as a pgbench script: one booking is
-- one transaction holding the guarded decrement of its tier's row and the booking INSERT. Three
-- hot rows (the tiers), picked at random, so concurrent clients queue on the same row locks, as
-- on-sale requests do. Run by bench/run.sh with -M prepared against the "bench" database.
\set t random(1, 3)
\set q 1
BEGIN;
UPDATE bench_tiers SET available = available - :q
 WHERE tier = (ARRAY['VIP', 'FRONT_ROW', 'GA'])[:t] AND available >= :q;
INSERT INTO bench_bookings (booking_id, tier, quantity, status, amount_cents, created_at, kafka_partition, kafka_offset)
VALUES (md5(random()::text || clock_timestamp()::text), (ARRAY['VIP', 'FRONT_ROW', 'GA'])[:t], :q, 'confirmed',
        :q * (ARRAY[10000, 5000, 1000])[:t], now(), :t - 1, 0);
COMMIT;
