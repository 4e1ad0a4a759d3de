-- 002: the concert's three tiers, in display order. position is also the Kafka partition of the tier.
BEGIN;

INSERT INTO tiers (tier, name, position, price_cents, capacity, available) VALUES
    ('VIP',       'VIP',               0, 10000,  100,  100),
    ('FRONT_ROW', 'Front Row',         1,  5000,  200,  200),
    ('GA',        'General Admission', 2,  1000, 1000, 1000);

INSERT INTO schema_migrations (version) VALUES (2);

COMMIT;
