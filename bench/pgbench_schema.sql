-- bench/pgbench_schema.sql — the tables of sql/ as migrated (same columns, constraints and index),
-- renamed bench_tiers / bench_bookings and created in the separate database "bench", so the seed
-- design's ceiling is measured on the same cluster without touching the real bookings table.
-- Applied by bench/run.sh before every pgbench series (dropped and recreated: no bloat carried over).
BEGIN;

DROP TABLE IF EXISTS bench_bookings;
DROP TABLE IF EXISTS bench_tiers;

CREATE TABLE bench_tiers (
    tier        text     PRIMARY KEY,
    name        text     NOT NULL,
    position    smallint NOT NULL UNIQUE,
    price_cents integer  NOT NULL CHECK (price_cents >= 0),
    capacity    integer  NOT NULL CHECK (capacity >= 0),
    available   integer  NOT NULL,
    CONSTRAINT bench_tiers_available_range CHECK (available >= 0 AND available <= capacity)
);

CREATE TABLE bench_bookings (
    booking_id      text        PRIMARY KEY,
    tier            text        NOT NULL, -- no foreign key, as ours since sql/003
    quantity        integer     NOT NULL CHECK (quantity > 0),
    customer        text,
    status          text        NOT NULL CHECK (status IN ('confirmed', 'rejected')),
    reason          text,
    amount_cents    bigint      NOT NULL CHECK (amount_cents >= 0),
    created_at      timestamptz NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    CONSTRAINT bench_bookings_reason_iff_rejected CHECK ((status = 'rejected') = (reason IS NOT NULL))
);

CREATE INDEX bench_bookings_tier_status ON bench_bookings (tier, status);

-- Large capacities, so every transaction books (the guarded UPDATE always matches a row).
INSERT INTO bench_tiers (tier, name, position, price_cents, capacity, available) VALUES
    ('VIP',       'VIP',               0, 10000, 10000000, 10000000),
    ('FRONT_ROW', 'Front Row',         1,  5000, 10000000, 10000000),
    ('GA',        'General Admission', 2,  1000, 10000000, 10000000);

COMMIT;
