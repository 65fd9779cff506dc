"""lambda_db: SQLAlchemy and Postgres on AWS Lambda, with connections handled for you.

Build the database at module scope (cheap, never connects), decorate the handler, and do the work in a scope::

    from lambda_db import DatabaseUnavailableError, get_database
    from sqlalchemy import text

    db = get_database()  # configured from DATABASE_URL or DB_SECRET_ARN, DB_POOL_MODE, ...

    @db.handler  # leak guard, per-invocation stats (one JSON line: log and EMF), connect-retry deadline
    def lambda_handler(event, context):
        try:
            with db.read() as conn:  # autocommit: no BEGIN / ROLLBACK round trips
                return {"statusCode": 200, "body": str(conn.execute(text("SELECT 1")).scalar())}
        except DatabaseUnavailableError as exc:
            return {"statusCode": 503, "headers": {"Retry-After": str(exc.retry_after_s)}}

Scopes: ``db.session()`` (ORM, commit / rollback / close), ``db.connect()`` (Core, in a transaction),
``db.read()`` (Core, autocommit). Units of work run again when their connection is lost before COMMIT:
``db.run_transaction(work)``, ``db.run_read(work)``. Introspection: ``db.pool_status()``, ``db.server_connections()``,
``db.get_stats()``, ``db.pop_stats()``, ``db.lifetime_stats()``. Tests: ``reset_databases()`` drops the
process's cached databases. Configuration: :class:`DatabaseConfig` (every variable is listed in
``lambda_db.config``; their names are :data:`ENV_VARS`, each one also a constant there, e.g.
``lambda_db.config.DB_POOL_MODE``). Stats keys: :data:`STATS_KEYS`, each one a constant in ``lambda_db.stats``
(``lambda_db.stats.CONNECTIONS_OPENED``). Errors: :class:`LambdaDbError` > :class:`ConfigurationError`,
:class:`DatabaseUnavailableError` > :class:`PoolTimeoutError`, :class:`ConnectionLostError`.
"""

from __future__ import annotations

from lambda_db.config import DatabaseConfig, MetricsMode, PoolMode, SslMode
from lambda_db.database import Database, get_database, reset_databases
from lambda_db.errors import (
    ConfigurationError,
    ConnectionLostError,
    DatabaseUnavailableError,
    LambdaDbError,
    PoolTimeoutError,
)
from lambda_db.stats import STATS_KEYS
from lambda_db.variables import ENV_VARS

__all__ = [
    "ENV_VARS",
    "STATS_KEYS",
    "ConfigurationError",
    "ConnectionLostError",
    "Database",
    "DatabaseConfig",
    "DatabaseUnavailableError",
    "LambdaDbError",
    "MetricsMode",
    "PoolMode",
    "PoolTimeoutError",
    "SslMode",
    "get_database",
    "reset_databases",
]
