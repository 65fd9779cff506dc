"""Fixtures shared by every tier: one real Postgres per test session, a fresh database per test.

The server is the embedded one the project starts itself, or the user's own when ``DATABASE_URL`` is set.
Tests count connections in ``pg_stat_activity`` through :class:`TestDatabase`.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from harness.pgbouncer import INSTALL_HINT, PgBouncer, find_pgbouncer
from harness.postgres import PostgresServer, server_from_env

APP_ROLE = "app"
APP_PASSWORD = "app-" + secrets.token_hex(8)  # random per run: the secrets tests grep output for it


@dataclass
class TestDatabase:
    """A database that exists for one test, owned by the application role (never a superuser)."""

    __test__ = False  # not a test class, despite the name

    server: PostgresServer
    name: str
    user: str = APP_ROLE
    password: str = field(default=APP_PASSWORD, repr=False)  # hypothesis prints fixtures on failure

    @property
    def url(self) -> str:
        return self.server.url(self.name, user=self.user, password=self.password)

    def connections(self, application_prefix: str | None = None) -> int:
        """Client backends connected to this database now (optionally only one application's)."""
        return self.server.connection_count(database=self.name, application_prefix=application_prefix)

    def backend_pids(self) -> set[int]:
        rows = self.server.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'", self.name
        )
        return {int(row[0]) for row in rows}

    def terminate_backends(self) -> int:
        return self.server.terminate_backends(database=self.name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's server; embedded Postgres unless DATABASE_URL names another."""
    with server_from_env(max_connections=200) as server:
        existing = server.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", APP_ROLE)
        if existing:
            server.set_password(APP_ROLE, APP_PASSWORD)
        else:
            server.create_role(APP_ROLE, APP_PASSWORD)
        yield server


@pytest.fixture
def database(postgres: PostgresServer) -> Iterator[TestDatabase]:
    """A fresh, empty database for one test, dropped (with any connections left in it) afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name, owner=APP_ROLE)
    yield TestDatabase(server=postgres, name=name)
    postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pgbouncer(postgres: PostgresServer) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode in front of the session's server (skipped, with how to install it, if absent)."""
    if find_pgbouncer() is None:
        pytest.skip(INSTALL_HINT)
    with PgBouncer(postgres, users={APP_ROLE: APP_PASSWORD}, default_pool_size=3) as bouncer:  # type: ignore[arg-type]
        yield bouncer
