"""Configuration: every environment variable the layer reads, parsed and validated once, into a frozen dataclass.

Variables (an empty value counts as unset, because CloudFormation cannot omit a variable conditionally):

=========================  ===============================================================================
``DATABASE_URL``           SQLAlchemy URL, e.g. ``postgresql+psycopg2://user:pw@host:5432/db`` (or a secret)
``DB_SECRET_ARN``          Secrets Manager secret in the RDS JSON shape (host, port, username, password, dbname)
``DB_POOL_MODE``           ``single`` (default), ``null``, ``queue`` or ``per_invocation`` (baseline only)
``DB_POOL_SIZE``           ``queue`` / ``per_invocation`` only (default 5)
``DB_MAX_OVERFLOW``        ``queue`` / ``per_invocation`` only (default 10)
``DB_POOL_TIMEOUT_S``      seconds to wait for a pooled connection (default 5; 30 in queue modes); not null
``DB_POOL_RECYCLE_S``      replace connections older than this (default: never); not with ``null``
``DB_CONNECT_TIMEOUT_S``   libpq ``connect_timeout`` in whole seconds (default 5)
``DB_STATEMENT_TIMEOUT_MS`` server ``statement_timeout`` (default: the server's)
``DB_KEEPALIVES_IDLE_S``   TCP keepalive idle time (default 30; 0 turns keepalives off)
``DB_SSLMODE``             libpq ``sslmode`` (default ``prefer``; IAM auth needs ``require`` or stricter)
``DB_SSLROOTCERT``         CA certificates (PEM file) the server's certificate must chain to, or ``system`` for
                          the OS trust store; needs ``DB_SSLMODE`` ``verify-full`` (or ``verify-ca`` for a file)
``DB_IAM_AUTH``            ``true`` to sign in with an RDS IAM token made for every new connection
``DB_PING_AFTER_IDLE_S``   ping a pooled connection before use when idle longer than this (default 1.0;
                          also when the server wrote to it while idle)
``DB_FORK_GUARD``          ``false`` turns the fork guard off (only to reproduce the bug it prevents)
``DB_CONNECT_RETRY_MAX_S`` longest time spent retrying a refused connect (default 5; 0 = no retry)
``DB_SECRET_MAX_AGE_S``    how long a fetched secret is cached (default 300)
``DB_APPLICATION_NAME``    ``application_name`` (default: function name + execution environment id)
``DB_SIGTERM_DISPOSE``     dispose the engine on SIGTERM (default: only when running under Lambda)
``DB_METRICS``             ``per_invocation`` (default: one line per invocation, log and EMF together) or ``off``
``DB_DEFER_BEGIN``         ``true`` (default): send BEGIN with a transaction's first statement, one round trip fewer
=========================  ===============================================================================

Example
-------
>>> config = DatabaseConfig.from_env(pool_mode="null")  # explicit arguments beat the environment
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from lambda_db.env import EnvReader, check, one_of
from lambda_db.errors import ConfigurationError
from lambda_db.variables import (
    AWS_LAMBDA_FUNCTION_NAME,
    AWS_LAMBDA_LOG_STREAM_NAME,
    AWS_REGION,
    DATABASE_URL,
    DB_APPLICATION_NAME,
    DB_CONNECT_RETRY_MAX_S,
    DB_CONNECT_TIMEOUT_S,
    DB_DEFER_BEGIN,
    DB_FORK_GUARD,
    DB_IAM_AUTH,
    DB_KEEPALIVES_IDLE_S,
    DB_MAX_OVERFLOW,
    DB_METRICS,
    DB_PING_AFTER_IDLE_S,
    DB_POOL_MODE,
    DB_POOL_RECYCLE_S,
    DB_POOL_SIZE,
    DB_POOL_TIMEOUT_S,
    DB_SECRET_ARN,
    DB_SECRET_MAX_AGE_S,
    DB_SIGTERM_DISPOSE,
    DB_SSLMODE,
    DB_SSLROOTCERT,
    DB_STATEMENT_TIMEOUT_MS,
    ENV_VARS,
)

__all__ = [
    "ENV_VARS",
    "DatabaseConfig",
    "MetricsMode",
    "PoolMode",
    "SslMode",
    "default_application_name",
]

PoolMode = Literal["single", "null", "queue", "per_invocation"]
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
MetricsMode = Literal["per_invocation", "off"]


# Postgres truncates application_name to NAMEDATALEN - 1 bytes.
MAX_APPLICATION_NAME = 63
POOLED_MODES: tuple[PoolMode, ...] = ("single", "queue", "per_invocation")
SIZED_MODES: tuple[PoolMode, ...] = ("queue", "per_invocation")
IAM_SSLMODES: tuple[SslMode, ...] = ("require", "verify-ca", "verify-full")
VERIFYING_SSLMODES: tuple[SslMode, ...] = ("verify-ca", "verify-full")
SYSTEM_TRUST_STORE = "system"  # libpq 16+: the operating system's CA store instead of a file


def default_application_name(environ: Mapping[str, str] | None = None) -> str:
    """Function name + execution environment id, so ``pg_stat_activity`` shows which environment holds what.

    The environment id is the last segment of the log stream name (``2024/01/01/[$LATEST]<32 hex>``), one per
    execution environment; outside Lambda it is the process id.
    """
    env = os.environ if environ is None else environ
    function = env.get(AWS_LAMBDA_FUNCTION_NAME) or "lambda_db"
    stream = env.get(AWS_LAMBDA_LOG_STREAM_NAME) or ""
    env_id = stream.rsplit("]", 1)[-1].rsplit("/", 1)[-1] if stream else str(os.getpid())
    return f"{function[: MAX_APPLICATION_NAME - 13]}:{env_id[:12]}"


@dataclass(frozen=True, kw_only=True, repr=False)
class DatabaseConfig:
    """Everything the layer needs to build an engine; validated at construction (see the module docstring).

    Built directly, it reads no environment variable: what is not given takes its default, and the default
    ``application_name`` is ``lambda_db:<pid>``. :meth:`from_env` is the one reader of the environment.
    """

    url: str | None = None
    secret_arn: str | None = None
    pool_mode: PoolMode = "single"
    pool_size: int | None = None
    max_overflow: int | None = None
    pool_timeout_s: float | None = None
    pool_recycle_s: float | None = None
    connect_timeout_s: int = 5
    statement_timeout_ms: int | None = None
    keepalives_idle_s: int = 30
    sslmode: SslMode = "prefer"
    sslrootcert: str | None = None
    iam_auth: bool = False
    aws_region: str | None = None
    ping_after_idle_s: float = 1.0
    fork_guard: bool = True
    connect_retry_max_s: float = 5.0
    secret_max_age_s: int = 300
    application_name: str = ""
    sigterm_dispose: bool | None = None
    metrics: MetricsMode = "per_invocation"
    defer_begin: bool = True

    def __post_init__(self) -> None:
        if not self.application_name:
            object.__setattr__(self, "application_name", default_application_name({}))
        self._validate()

    # -- construction --------------------------------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> DatabaseConfig:
        """Read the variables listed in the module docstring; keyword arguments override them."""
        env = os.environ if environ is None else environ
        read = EnvReader(env)
        values: dict[str, Any] = {
            "url": read.text(DATABASE_URL),
            "secret_arn": read.text(DB_SECRET_ARN),
            "pool_mode": read.choice(DB_POOL_MODE, get_args(PoolMode)),
            "pool_size": read.number(DB_POOL_SIZE, int),
            "max_overflow": read.number(DB_MAX_OVERFLOW, int),
            "pool_timeout_s": read.number(DB_POOL_TIMEOUT_S, float),
            "pool_recycle_s": read.number(DB_POOL_RECYCLE_S, float),
            "connect_timeout_s": read.number(DB_CONNECT_TIMEOUT_S, int),
            "statement_timeout_ms": read.number(DB_STATEMENT_TIMEOUT_MS, int),
            "keepalives_idle_s": read.number(DB_KEEPALIVES_IDLE_S, int),
            "sslmode": read.choice(DB_SSLMODE, get_args(SslMode)),
            "sslrootcert": read.text(DB_SSLROOTCERT),
            "iam_auth": read.flag(DB_IAM_AUTH),
            "aws_region": read.text(AWS_REGION),
            "ping_after_idle_s": read.number(DB_PING_AFTER_IDLE_S, float),
            "fork_guard": read.flag(DB_FORK_GUARD),
            "connect_retry_max_s": read.number(DB_CONNECT_RETRY_MAX_S, float),
            "secret_max_age_s": read.number(DB_SECRET_MAX_AGE_S, int),
            "application_name": read.text(DB_APPLICATION_NAME) or default_application_name(env),
            "sigterm_dispose": read.flag(DB_SIGTERM_DISPOSE),
            "metrics": read.choice(DB_METRICS, get_args(MetricsMode)),
            "defer_begin": read.flag(DB_DEFER_BEGIN),
        }
        if values["sigterm_dispose"] is None:
            values["sigterm_dispose"] = bool(env.get(AWS_LAMBDA_FUNCTION_NAME))
        unknown = set(overrides) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            raise ConfigurationError(f"unknown DatabaseConfig option(s): {', '.join(sorted(unknown))}")
        values.update(overrides)
        return cls(**{key: value for key, value in values.items() if value is not None})

    # -- derived values ------------------------------------------------------------------------------------------
    @property
    def safe_url(self) -> str | None:
        """The URL with its password hidden: the only form of it that may reach a log line."""
        return None if self.url is None else make_url(self.url).render_as_string(hide_password=True)

    def __repr__(self) -> str:
        shown = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        shown["url"] = self.safe_url
        return "DatabaseConfig(" + ", ".join(f"{key}={value!r}" for key, value in shown.items()) + ")"

    __str__ = __repr__

    # -- validation ----------------------------------------------------------------------------------------------
    def _validate(self) -> None:
        check(self.pool_mode in get_args(PoolMode), DB_POOL_MODE, self.pool_mode, one_of(get_args(PoolMode)))
        check(self.sslmode in get_args(SslMode), DB_SSLMODE, self.sslmode, one_of(get_args(SslMode)))
        check(self.metrics in get_args(MetricsMode), DB_METRICS, self.metrics, one_of(get_args(MetricsMode)))
        if self.url and self.secret_arn:
            raise ConfigurationError(f"set {DATABASE_URL} or {DB_SECRET_ARN}, not both")
        if not self.url and not self.secret_arn:
            raise ConfigurationError(
                f"no database configured: set {DATABASE_URL} (a postgresql+psycopg2:// URL) or {DB_SECRET_ARN} "
                "(a Secrets Manager secret with host, port, username, password, dbname)"
            )
        if self.url:
            self._validate_url(self.url)
        self._validate_pool_options()
        check(1 <= self.connect_timeout_s <= 300, DB_CONNECT_TIMEOUT_S, self.connect_timeout_s, "1 to 300 seconds")
        if self.statement_timeout_ms is not None:
            check(self.statement_timeout_ms >= 0, DB_STATEMENT_TIMEOUT_MS, self.statement_timeout_ms, ">= 0 (0: none)")
        check(self.keepalives_idle_s >= 0, DB_KEEPALIVES_IDLE_S, self.keepalives_idle_s, ">= 0 (0: off)")
        check(self.ping_after_idle_s >= 0, DB_PING_AFTER_IDLE_S, self.ping_after_idle_s, ">= 0 seconds")
        check(self.connect_retry_max_s >= 0, DB_CONNECT_RETRY_MAX_S, self.connect_retry_max_s, ">= 0 (0: no retry)")
        check(self.secret_max_age_s >= 0, DB_SECRET_MAX_AGE_S, self.secret_max_age_s, ">= 0 seconds")
        name = self.application_name
        check(len(name.encode()) <= MAX_APPLICATION_NAME, DB_APPLICATION_NAME, name, "at most 63 bytes")
        self._validate_tls()

    def _validate_tls(self) -> None:
        if self.iam_auth and self.sslmode not in IAM_SSLMODES:
            raise ConfigurationError(
                f"{DB_IAM_AUTH}=true needs TLS: {DB_SSLMODE}={self.sslmode!r} is not allowed, use one of "
                f"{one_of(IAM_SSLMODES)} (RDS refuses IAM tokens over unencrypted connections)"
            )
        root = self.sslrootcert
        if root is None:
            return
        if root == SYSTEM_TRUST_STORE:
            if self.sslmode != "verify-full":
                raise ConfigurationError(
                    f"{DB_SSLROOTCERT}={root!r} needs {DB_SSLMODE}='verify-full', not {self.sslmode!r} "
                    "(libpq checks the host name whenever it trusts the system's certificate authorities)"
                )
            return
        if self.sslmode not in VERIFYING_SSLMODES:
            raise ConfigurationError(
                f"{DB_SSLROOTCERT} is set but {DB_SSLMODE}={self.sslmode!r} does not verify the server: use "
                f"{DB_SSLMODE}='verify-full' (or 'verify-ca'), or unset {DB_SSLROOTCERT}"
            )
        if not os.path.isfile(root):
            raise ConfigurationError(
                f"{DB_SSLROOTCERT}={root!r} is not a file: ship the CA certificates with the function (the RDS "
                "certificate bundle for a DB instance, Amazon Root CA 1 for RDS Proxy) and give their path, or "
                f"use {SYSTEM_TRUST_STORE!r}"
            )

    def _validate_url(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError) as exc:
            # The URL may hold a password: say what is wrong without echoing it.
            raise ConfigurationError(
                f"{DATABASE_URL} is not a URL SQLAlchemy can parse; expected "
                "postgresql+psycopg2://user:password@host:5432/dbname"
            ) from exc
        if parsed.drivername not in ("postgresql", "postgresql+psycopg2"):
            raise ConfigurationError(
                f"{DATABASE_URL} uses driver {parsed.drivername!r}; allowed: 'postgresql+psycopg2' (or 'postgresql')"
            )

    def _validate_pool_options(self) -> None:
        mode = self.pool_mode
        why = {
            "null": "NullPool opens and closes a connection per checkout and holds none",
            "single": "single mode always holds exactly one connection (use DB_POOL_MODE=queue to size a pool)",
        }
        sized = {DB_POOL_SIZE: self.pool_size, DB_MAX_OVERFLOW: self.max_overflow}
        pooled = {DB_POOL_TIMEOUT_S: self.pool_timeout_s, DB_POOL_RECYCLE_S: self.pool_recycle_s}
        for variable, value in sized.items():
            if value is not None and mode not in SIZED_MODES:
                raise ConfigurationError(
                    f"{variable}={value} is not allowed with {DB_POOL_MODE}={mode}: {why[mode]}; "
                    f"unset {variable} or use {DB_POOL_MODE}={one_of(SIZED_MODES)}"
                )
        for variable, limit in pooled.items():
            if limit is not None and mode not in POOLED_MODES:
                raise ConfigurationError(
                    f"{variable}={limit} is not allowed with {DB_POOL_MODE}={mode}: {why[mode]}; unset {variable}"
                )
        if self.pool_size is not None:
            check(self.pool_size >= 1, DB_POOL_SIZE, self.pool_size, ">= 1")
        if self.max_overflow is not None:
            check(self.max_overflow >= 0, DB_MAX_OVERFLOW, self.max_overflow, ">= 0")
        if self.pool_timeout_s is not None:
            check(self.pool_timeout_s > 0, DB_POOL_TIMEOUT_S, self.pool_timeout_s, "> 0 seconds")
        if self.pool_recycle_s is not None:
            check(self.pool_recycle_s > 0, DB_POOL_RECYCLE_S, self.pool_recycle_s, "> 0 seconds (unset: never)")
