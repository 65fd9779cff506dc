"""Pitfall 8: a wrapper that injects ``pool_size`` into ``NullPool``.

Symptom
    ``TypeError: Invalid argument(s) 'pool_size' sent to create_engine(), using configuration
    PGDialect_psycopg2/NullPool/Engine.`` - at import time, in every environment, the day someone moves the
    function behind PgBouncer or RDS Proxy and switches to ``NullPool``.

Cause
    A house ``make_engine()`` wrapper always passes its pool sizing; ``NullPool`` holds no connections, so
    SQLAlchemy rejects sizing options for it. The message names SQLAlchemy's internals, not the setting to change.

Fix
    The layer's configuration knows which options each mode uses and rejects the others when it is built, naming
    the variable, the mode and what to do (``DB_POOL_SIZE=5 is not allowed with DB_POOL_MODE=null: ...``). The
    corrected configuration then opens a connection per checkout and holds none between invocations.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool, Pool, QueuePool

from harness.pitfalls.base import Lab, Outcome, Pitfall
from lambda_db import ConfigurationError, Database, DatabaseConfig


def make_engine(url: str, poolclass: type[Pool] = QueuePool, **options: Any) -> sa.Engine:
    """BAD: the house wrapper's sizing goes to every pool class, including one that has no size."""
    return sa.create_engine(url, poolclass=poolclass, pool_size=5, max_overflow=2, **options)


def reproduce(lab: Lab) -> Outcome:
    outcome = Outcome()
    try:
        make_engine(lab.url("p8-before"), poolclass=NullPool).dispose()  # "we moved behind PgBouncer"
    except TypeError as exc:
        outcome.record(exc)
    outcome.measure(server_connections=lab.connections("p8-before"))
    return outcome


def fixed(lab: Lab) -> Outcome:
    outcome = Outcome()
    environ = {"DATABASE_URL": lab.url(), "DB_POOL_MODE": "null", "DB_POOL_SIZE": "5"}
    environ["DB_APPLICATION_NAME"] = "p8-after"
    message = ""
    try:
        DatabaseConfig.from_env(environ)
    except ConfigurationError as exc:
        message = str(exc)
    outcome.measure(rejected_with=message or "(accepted)")
    outcome.check("rejected at configuration, naming DB_POOL_SIZE and the null mode", "DB_POOL_SIZE" in message)
    del environ["DB_POOL_SIZE"]  # what the message says to do
    db = Database(DatabaseConfig.from_env(environ))
    try:
        for _ in range(3):
            with db.read() as conn:
                conn.execute(sa.text("SELECT 1"))
        held = lab.settled_connections("p8-after")
        outcome.measure(server_connections_held_between_queries=held)
        outcome.check("corrected configuration holds no connection between queries", held == 0)
    except Exception as exc:  # noqa: BLE001 - any failure of the corrected configuration is the result
        outcome.record(exc)
    finally:
        db.dispose()
    return outcome


PITFALL = Pitfall(
    number=8,
    slug="pool-options-null-pool",
    title="Wrappers that inject pool_size into NullPool",
    symptoms=(r"Invalid argument\(s\) 'pool_size'.*sent to create_engine\(\).*NullPool",),
    cause="a wrapper passes pool sizing to every pool class; NullPool has no size, so create_engine() refuses",
    fix="the layer's config rejects options a mode ignores, naming the variable and the mode "
    "(DB_POOL_SIZE with DB_POOL_MODE=null)",
    reproduce=reproduce,
    fixed=fixed,
)
