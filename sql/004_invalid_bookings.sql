-- 004: a booking whose Kafka message the processor could not apply (dead-lettered) still ends: it is
-- stored rejected with reason 'invalid', in the transaction that records the dead letter. Its tier
-- is its partition's, its customer is not kept, its amount is 0, and its quantity is the message's
-- when that could be read: otherwise NULL, the one case a booking has no quantity. A quantity that
-- is there stays positive (the CHECK of 001 passes NULL), and booking_id stays the primary key: a
-- dead message of a booking already decided changes nothing.
BEGIN;

ALTER TABLE bookings ALTER COLUMN quantity DROP NOT NULL;
ALTER TABLE bookings ADD CONSTRAINT bookings_quantity_known CHECK (quantity IS NOT NULL OR reason = 'invalid');

INSERT INTO schema_migrations (version) VALUES (4);

COMMIT;
