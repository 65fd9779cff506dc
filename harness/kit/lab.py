"""The lab bench the comparison runs on: Postgres servers, PgBouncer, fresh databases, and a local Lambda per run.

Each scenario asks for the server it needs (a roomy one, one with a small ``max_connections``, one with an
``idle_session_timeout``); servers are started on first use and shared by every strategy of that scenario. Every
(strategy, scenario) pair gets a fresh database, so connection counts never mix.

Where the servers run is a :class:`ServerBackend`: by default :class:`EmbeddedBackend` (processes on this machine);
``harness compare --postgres docker`` passes one that runs them in containers. The lab itself never asks which.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa

from harness.pgbouncer import PgBouncer, find_pgbouncer
from harness.postgres import EmbeddedPostgres, PostgresServer

__all__ = [
    "APP_ROLE",
    "FUNCTION",
    "LOCAL_PARAMETERS",
    "Bouncer",
    "Deployment",
    "EmbeddedBackend",
    "Lab",
    "ServerBackend",
    "ServerProfile",
    "Strategy",
    "migrate",
]

APP_ROLE = "app"
FUNCTION = "ItemsFunction"
# Template parameters without defaults that mean nothing locally (the DATABASE_URL env var replaces the secret);
# the same values samconfig.toml's `local` environment gives `sam local`.
LOCAL_PARAMETERS = {
    "DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:local",
    "SubnetIds": "subnet-00000000",
    "SecurityGroupIds": "sg-00000000",
    "RunMigrationsOnDeploy": "false",
}


class Strategy(Protocol):
    """What the lab reads of a connection strategy (``compare``'s strategies are one): its name and its stack."""

    @property
    def name(self) -> str: ...
    @property
    def pool_mode(self) -> str: ...
    @property
    def via_pgbouncer(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class ServerProfile:
    """The server settings a scenario needs; equal profiles share one server."""

    max_connections: int = 300
    idle_session_timeout_s: float | None = None


class Bouncer(Protocol):
    """A PgBouncer in transaction mode in front of a lab server: what the lab reads of it."""

    def url(self, database: str, *, user: str, password: str) -> str: ...


class ServerBackend(Protocol):
    """Where the lab's Postgres servers and bouncers run; the backend owns them and stops them in :meth:`close`.

    ``users`` are login roles (name -> password) that must exist on the server handed out, and that the bouncer
    authenticates. A backend may keep one server per profile, or one at a time (then a server handed out earlier is
    gone once another profile is asked for: the lab asks only once the previous runs are over).
    """

    @property
    def has_pgbouncer(self) -> bool: ...
    def server(self, profile: ServerProfile, *, users: Mapping[str, str]) -> PostgresServer: ...
    def bouncer(self, profile: ServerProfile, *, users: Mapping[str, str], pool_size: int) -> Bouncer: ...
    def close(self) -> None: ...


@dataclass
class EmbeddedBackend:
    """Servers as processes on this machine (:class:`EmbeddedPostgres`, :class:`PgBouncer`), one per profile."""

    _servers: dict[ServerProfile, EmbeddedPostgres] = field(default_factory=dict)
    _bouncers: dict[ServerProfile, PgBouncer] = field(default_factory=dict)

    @property
    def has_pgbouncer(self) -> bool:
        return find_pgbouncer() is not None

    def server(self, profile: ServerProfile, *, users: Mapping[str, str]) -> EmbeddedPostgres:
        if profile not in self._servers:
            server = EmbeddedPostgres(
                max_connections=profile.max_connections, idle_session_timeout_s=profile.idle_session_timeout_s
            ).start()
            self._servers[profile] = server  # kept before anything else can fail, so close() stops it
            for name, password in users.items():
                server.create_role(name, password)
        return self._servers[profile]

    def bouncer(self, profile: ServerProfile, *, users: Mapping[str, str], pool_size: int) -> PgBouncer:
        if profile not in self._bouncers:
            self._bouncers[profile] = PgBouncer(
                self.server(profile, users=users), users=users, default_pool_size=pool_size
            ).start()
        return self._bouncers[profile]

    def close(self) -> None:
        for bouncer in self._bouncers.values():
            bouncer.cleanup()
        for server in self._servers.values():
            server.cleanup()
        self._bouncers.clear()
        self._servers.clear()


@dataclass(slots=True)
class Deployment:
    """One strategy's stack for one run: its database, the URL its functions use, and the direct one (for setup)."""

    server: PostgresServer
    database: str
    database_url: str
    bouncer: Bouncer | None
    direct_url: str = ""


@dataclass
class Lab:
    """Servers and bouncers started on demand (by the backend) and stopped together.

    Parameters
    ----------
    template:
        The SAM template whose functions are run.
    pgbouncer_pool_size:
        Server connections PgBouncer keeps per database (the proxy's budget).
    backend:
        Where the servers run (default: embedded, on this machine).
    """

    template: Path = Path("template.yaml")
    pgbouncer_pool_size: int = 5
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    backend: ServerBackend = field(default_factory=EmbeddedBackend)

    @property
    def has_pgbouncer(self) -> bool:
        return self.backend.has_pgbouncer

    def server(self, profile: ServerProfile) -> PostgresServer:
        return self.backend.server(profile, users={APP_ROLE: self.password})

    def bouncer(self, profile: ServerProfile) -> Bouncer:
        return self.backend.bouncer(profile, users={APP_ROLE: self.password}, pool_size=self.pgbouncer_pool_size)

    def deploy(self, strategy: Strategy, profile: ServerProfile) -> Deployment:
        """A fresh, empty database for one run (the workload's setup creates its schema), and its URLs."""
        server = self.server(profile)
        database = f"cmp_{strategy.name}_{uuid.uuid4().hex[:8]}"
        server.create_database(database, owner=APP_ROLE)
        direct_url = server.url(database, user=APP_ROLE, password=self.password)
        bouncer = self.bouncer(profile) if strategy.via_pgbouncer else None
        url = bouncer.url(database, user=APP_ROLE, password=self.password) if bouncer else direct_url
        return Deployment(server=server, database=database, database_url=url, bouncer=bouncer, direct_url=direct_url)

    def function_env(
        self, strategy: Strategy, deployment: Deployment, *, function: str = FUNCTION, **extra: str
    ) -> dict[str, dict[str, str]]:
        """SAM ``--env-vars`` shape: the strategy is nothing but these variables."""
        env = {
            "DATABASE_URL": deployment.database_url,
            "DB_SECRET_ARN": "",
            "DB_POOL_MODE": strategy.pool_mode,
            "DB_SSLMODE": "disable",  # loopback lab server without TLS; deployed stacks require it
            "POWERTOOLS_METRICS_NAMESPACE": "ServerlessSqlalchemyLab",
            **extra,
        }
        return {function: env}

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def migrate(database_url: str) -> None:
    """Create the application's tables with the same migrations the MigrateFunction runs."""
    from app_model.migrations import migrate as run_migrations

    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        run_migrations(engine)
    finally:
        engine.dispose()
