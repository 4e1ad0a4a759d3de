-- 001: the booking schema. Constraints here are the last line of defence: the processor already
-- decides who gets seats, but no bug of ours may ever store an oversold tier, a duplicate booking
-- or a non-positive quantity.
BEGIN;

CREATE TABLE schema_migrations (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tiers (
    tier        text     PRIMARY KEY,
    name        text     NOT NULL,
    position    smallint NOT NULL UNIQUE,          -- display order, and the Kafka partition
    price_cents integer  NOT NULL CHECK (price_cents >= 0),
    capacity    integer  NOT NULL CHECK (capacity >= 0),
    available   integer  NOT NULL,
    CONSTRAINT tiers_available_range CHECK (available >= 0 AND available <= capacity)
);

-- One row per decided booking. A booking that is still in Kafka has no row: the ingress reports
-- it as pending because its id carries a valid signature.
CREATE TABLE bookings (
    booking_id      text        PRIMARY KEY,
    tier            text        NOT NULL REFERENCES tiers (tier),
    quantity        integer     NOT NULL CHECK (quantity > 0),
    customer        text,
    status          text        NOT NULL CHECK (status IN ('confirmed', 'rejected')),
    reason          text,
    amount_cents    bigint      NOT NULL CHECK (amount_cents >= 0),
    created_at      timestamptz NOT NULL,           -- when the ingress accepted it
    decided_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    CONSTRAINT bookings_reason_iff_rejected CHECK ((status = 'rejected') = (reason IS NOT NULL))
);

CREATE INDEX bookings_tier_status ON bookings (tier, status);

-- The next Kafka offset to apply, per partition. It is written in the same transaction as the
-- bookings it covers: a crash anywhere means redelivery, never loss and never a second decrement.
CREATE TABLE partition_offsets (
    topic       text    NOT NULL,
    partition   integer NOT NULL CHECK (partition >= 0),
    next_offset bigint  NOT NULL CHECK (next_offset >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);

-- Messages the processor could not decode. They are recorded and skipped, never retried forever.
CREATE TABLE dead_letters (
    id           bigserial   PRIMARY KEY,
    topic        text        NOT NULL,
    partition    integer     NOT NULL,
    kafka_offset bigint      NOT NULL,
    payload      bytea       NOT NULL,
    error        text        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (topic, partition, kafka_offset)
);

INSERT INTO schema_migrations (version) VALUES (1);

COMMIT;
