"""What the lab needs of any Postgres server, whoever started it: its addresses and superuser administration.

Roles, databases, passwords and backends are managed in SQL over one short autocommit connection per statement,
named :data:`~harness.postgres_log.ADMIN_APPLICATION_NAME` so the log reader can leave the lab's own traffic out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
from psycopg2 import sql
from psycopg2.sql import Composable
from sqlalchemy.engine import make_url

from harness.postgres_log import ADMIN_APPLICATION_NAME

__all__ = ["SUPERUSER", "ExternalPostgres", "PostgresError", "PostgresServer"]

SUPERUSER = "postgres"


class PostgresError(RuntimeError):
    """The server could not be initialised, started or stopped; the message carries the tail of its log."""


class PostgresServer:
    """What the lab needs of a server, whoever started it: addresses and superuser administration."""

    host: str = "127.0.0.1"
    port: int = 0
    can_restart: bool = False

    # -- addresses -------------------------------------------------------------------------------------------
    def url(self, database: str = "postgres", *, user: str = SUPERUSER, password: str | None = None) -> str:
        """A SQLAlchemy URL over TCP (what a Lambda function would use)."""
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
        return f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{database}"

    def dsn(self, database: str = "postgres", *, user: str = SUPERUSER) -> str:
        """A libpq DSN for the superuser over TCP; superusers keep the reserved slots when the server is full."""
        return f"host={self.host} port={self.port} dbname={database} user={user}"

    # -- administration --------------------------------------------------------------------------------------
    def execute(self, statement: str | Composable, *params: Any, database: str = "postgres") -> list[tuple[Any, ...]]:
        """Run one statement as the superuser in autocommit mode and return its rows (empty when none)."""
        conn = psycopg2.connect(self.dsn(database), application_name=ADMIN_APPLICATION_NAME)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(statement, params or None)
                return list(cur.fetchall()) if cur.description else []
        finally:
            conn.close()

    def create_role(self, name: str, password: str, *, connection_limit: int = -1) -> None:
        """Create a login role that authenticates with a password (the app's role is never a superuser)."""
        stmt = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} CONNECTION LIMIT {}").format(
            sql.Identifier(name), sql.Literal(password), sql.Literal(connection_limit)
        )
        self.execute(stmt)

    def set_password(self, name: str, password: str) -> None:
        """Change a role's password: what a Secrets Manager rotation does to the server."""
        stmt = sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(name), sql.Literal(password))
        self.execute(stmt)

    def create_database(self, name: str, *, owner: str = SUPERUSER) -> None:
        """Create an empty database owned by ``owner``."""
        stmt = sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner))
        self.execute(stmt)

    def terminate_backends(self, *, database: str | None = None, application_prefix: str | None = None) -> int:
        """``pg_terminate_backend`` every client backend of a database / application; returns how many."""
        return self._over_backends("count(pg_terminate_backend(pid))", database, application_prefix)

    def connection_count(self, *, database: str | None = None, application_prefix: str | None = None) -> int:
        """Client backends in ``pg_stat_activity`` for a database / application (the monitor's own excluded)."""
        return self._over_backends("count(*)", database, application_prefix)

    def _over_backends(self, aggregate: str, database: str | None, application_prefix: str | None) -> int:
        rows = self.execute(
            f"SELECT {aggregate} FROM pg_stat_activity "  # the aggregate is one of two constants above
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
            "AND (%s::text IS NULL OR datname = %s) AND (%s::text IS NULL OR application_name LIKE %s || '%%')",
            database,
            database,
            application_prefix,
            application_prefix,
        )
        return int(rows[0][0])

    def restart(self, mode: str = "fast") -> None:
        raise PostgresError("this server was not started by the lab and cannot be restarted from here")

    # -- what the monitor may read beyond SQL --------------------------------------------------------------------
    def connection_log(self) -> Path | None:
        """The server's log with ``log_connections`` on, where this machine can read it; None: not readable here."""
        return None

    def host_pids(self, pids: Sequence[int]) -> list[int]:
        """The backends ``pids`` (as ``pg_stat_activity`` names them) as this machine's processes; [] if not here."""
        return []


class ExternalPostgres(PostgresServer):
    """A server the user runs (``DATABASE_URL``): RDS, a local install or the docker compose one.

    The URL's user must be allowed to create roles and databases for the tests; the lab never restarts it.
    """

    def __init__(self, database_url: str) -> None:
        parsed = make_url(database_url)
        if not parsed.drivername.startswith("postgresql"):
            raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parsed.drivername!r}")
        self._url = parsed
        self.database = parsed.database
        self.host = parsed.host or "127.0.0.1"
        self.port = parsed.port or 5432
        self.superuser = parsed.username or SUPERUSER

    def url(self, database: str = "postgres", *, user: str | None = None, password: str | None = None) -> str:
        target = self._url.set(drivername="postgresql+psycopg2", database=database)
        if user is not None:
            target = target.set(username=user, password=password)
        return target.render_as_string(hide_password=False)

    def dsn(self, database: str = "postgres", *, user: str | None = None) -> str:
        url = self._url.set(database=database)
        parts = {"host": self.host, "port": str(self.port), "dbname": database, "user": user or self.superuser}
        if user is None and url.password is not None:
            parts["password"] = str(url.password)
        return " ".join(f"{key}='{value}'" for key, value in parts.items())

    def __enter__(self) -> ExternalPostgres:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None
