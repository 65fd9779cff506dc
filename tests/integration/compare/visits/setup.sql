-- The example function's schema and its pages, run once per fresh database by `--setup-sql`.
CREATE TABLE pages (page integer PRIMARY KEY, visits bigint NOT NULL DEFAULT 0);
CREATE TABLE visits (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    page integer NOT NULL REFERENCES pages,
    visitor text NOT NULL UNIQUE
);
INSERT INTO pages (page) SELECT n FROM generate_series(1, 10) AS n;
