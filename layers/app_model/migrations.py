"""Versioned schema migrations, safe to run twice and to run concurrently.

Every run takes a transaction-scoped advisory lock first, so two runs (a deploy's custom resource and a cold
start, or two test workers) apply each step exactly once: the second waits, then finds nothing left to do. The
applied versions are rows of ``schema_migrations``. A step is plain DDL and is never edited once released: change
the schema by appending a step.

Example
-------
>>> from sqlalchemy import create_engine
>>> applied = migrate(create_engine(url))   # [1, 2, 3, 4] on a fresh database, [] on the next run
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "applied_versions", "migrate"]

# Any constant works, as long as nothing else in the database uses it for pg_advisory_xact_lock.
ADVISORY_LOCK_KEY = 0x5E_55_5A_1A


@dataclass(frozen=True)
class Migration:
    """One schema step: a version number, a name for the log and the statements that apply it."""

    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "items and idempotency keys",
        (
            """CREATE TABLE items (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
                description text NOT NULL DEFAULT '',
                quantity integer NOT NULL DEFAULT 0 CHECK (quantity >= 0),
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            )""",
            """CREATE TABLE idempotency_keys (
                key text PRIMARY KEY,
                request_hash text NOT NULL,
                status_code integer NOT NULL,
                response jsonb NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            )""",
        ),
    ),
    Migration(
        2,
        "ingested queue messages",
        (
            """CREATE TABLE ingested_messages (
                message_key text PRIMARY KEY,
                item_id bigint REFERENCES items (id) ON DELETE SET NULL,
                ingested_at timestamptz NOT NULL DEFAULT now()
            )""",
        ),
    ),
    Migration(
        3,
        "idempotency keys by age",
        (
            # Keys expire by created_at (step 1 made it NOT NULL DEFAULT now(), so every existing key already has
            # the time it was first used); the janitor deletes the oldest first, in batches, through this index.
            # CONCURRENTLY cannot run in the migration's transaction, so the build blocks writes of new keys while
            # it runs: on a table grown large, build it by hand first with CREATE INDEX CONCURRENTLY and this
            # name, and the step finds it there.
            "CREATE INDEX IF NOT EXISTS idempotency_keys_created_at_idx ON idempotency_keys (created_at)",
        ),
    ),
    Migration(
        4,
        "idempotency keys keep the first answer's bytes and headers",
        (
            # jsonb reorders keys and drops the headers: a replay must be the first answer byte for byte, so the
            # body is kept as the text that was sent and the headers beside it. ``response`` stays (and is still
            # written) for a previous release that runs during a deploy.
            "ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS response_body text",
            "ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS response_headers jsonb NOT NULL DEFAULT '{}'",
            # Keys answered before this step: their body order is already lost; the Location of a 201 is not.
            """UPDATE idempotency_keys SET
                response_body = response::text,
                response_headers = CASE WHEN status_code = 201 AND response ? 'id'
                    THEN jsonb_build_object('Location', '/items/' || (response ->> 'id')) ELSE '{}' END
            WHERE response_body IS NULL AND status_code <> 0""",
        ),
    ),
)
LATEST_VERSION = MIGRATIONS[-1].version

_CREATE_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


def migrate(target: Engine | Connection) -> list[int]:
    """Apply every migration not yet applied, in order, in one transaction; return the versions applied now.

    Parameters
    ----------
    target:
        An engine (a connection is opened and committed here) or a connection. A connection already in a
        transaction is used as is and the caller commits; the advisory lock is held until then.

    Returns
    -------
    list[int]
        The versions this call applied: empty when the schema was already up to date.
    """
    if isinstance(target, Engine):
        with target.begin() as connection:
            return _migrate(connection)
    if target.in_transaction():
        return _migrate(target)
    with target.begin():
        return _migrate(target)


def applied_versions(connection: Connection) -> list[int]:
    """The versions recorded in ``schema_migrations`` (empty when the ledger does not exist yet)."""
    exists = connection.execute(text("SELECT to_regclass('schema_migrations') IS NOT NULL")).scalar_one()
    if not exists:
        return []
    return list(connection.execute(text("SELECT version FROM schema_migrations ORDER BY version")).scalars())


def _migrate(connection: Connection) -> list[int]:
    # Waiting for another run's lock, or for a table lock held by a long query, is expected here: lift the API's
    # statement_timeout for this transaction only (SET LOCAL ends with it, also behind a pooler).
    connection.execute(text("SET LOCAL statement_timeout = 0"))
    # The lock comes before the ledger's CREATE: two concurrent CREATE TABLE IF NOT EXISTS can still collide.
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    connection.execute(text(_CREATE_LEDGER))
    done = set(applied_versions(connection))
    applied: list[int] = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        for statement in migration.statements:
            connection.execute(text(statement))
        connection.execute(
            text("INSERT INTO schema_migrations (version, name) VALUES (:version, :name)"),
            {"version": migration.version, "name": migration.name},
        )
        applied.append(migration.version)
    return applied
