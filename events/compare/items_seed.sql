-- The rows `harness compare` reads by id ({{row:items.id}} in items_get_seeded.json): 20 items per fresh database,
-- written after MigrateFunction created the table.
INSERT INTO items (name, description, quantity)
SELECT 'seed-' || n, 'seeded for the comparison', n FROM generate_series(1, 20) AS n;
