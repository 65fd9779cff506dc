"""The engine factory: one pool class per mode, and the pool events the layer hangs its behaviour on.

Everything is attached through SQLAlchemy's documented events (``do_connect``, ``connect``, ``checkout``,
``checkin``, ``invalidate``), never by wrapping internals:

- ``do_connect`` applies the current credentials and retries refused connects until the invocation's deadline;
- ``connect`` / ``checkout`` run the fork guard (when on) and count;
- ``checkout`` pings a connection only when it sat idle longer than ``ping_after_idle_s``, or when the server
  wrote to it while it sat in the pool (see :func:`ping` and :func:`server_wrote_while_idle`);
- ``checkout`` / ``checkin`` feed the leak tracker.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool, PoolProxiedConnection, QueuePool

from lambda_db import stats as keys
from lambda_db.config import DatabaseConfig
from lambda_db.credentials import Credentials
from lambda_db.dialect import DRIVERNAME as DEFERRED_BEGIN_DRIVERNAME
from lambda_db.guards import LeakTracker, check_pid, record_pid
from lambda_db.lease_pool import LeasedQueuePool
from lambda_db.metrics import layer_logger
from lambda_db.retry import ConnectRetry, is_auth_failure, is_retryable_connect_error
from lambda_db.stats import Stats

__all__ = ["PARKED_SINCE", "build_engine", "ping", "server_wrote_while_idle"]

CHECKED_IN_AT = "lambda_db.checked_in_at"
PARKED_SINCE = "lambda_db.parked_since"  # set by the single-mode lease on a connection it returns (lambda_db.lease)
DEFAULT_POOL_TIMEOUT_S = 5.0  # single mode; SQLAlchemy waits 30 s, a Lambda invocation should answer 503 sooner
QUEUE_POOL_SIZE, QUEUE_MAX_OVERFLOW, QUEUE_POOL_TIMEOUT_S = 5, 10, 30.0  # SQLAlchemy's QueuePool defaults
KEEPALIVES_INTERVAL_S = 10
KEEPALIVES_COUNT = 3

Deadline = Callable[[], float | None]


def _pool_arguments(config: DatabaseConfig) -> dict[str, Any]:
    if config.pool_mode == "null":
        return {"poolclass": NullPool}
    if config.pool_mode == "single":
        # One invocation at a time per environment: one connection is all it can use. Fail fast when it is
        # somehow taken (a leak the guard has not returned yet): the handler answers 503 instead of timing out.
        size, overflow, lifo, timeout = 1, 0, True, DEFAULT_POOL_TIMEOUT_S
    else:  # queue and per_invocation: SQLAlchemy's own defaults, which is what they are there to show
        size = QUEUE_POOL_SIZE if config.pool_size is None else config.pool_size
        overflow = QUEUE_MAX_OVERFLOW if config.max_overflow is None else config.max_overflow
        lifo, timeout = False, QUEUE_POOL_TIMEOUT_S
    return {
        "poolclass": LeasedQueuePool if config.pool_mode == "single" else QueuePool,
        "pool_size": size,
        "max_overflow": overflow,
        "pool_use_lifo": lifo,
        "pool_timeout": timeout if config.pool_timeout_s is None else config.pool_timeout_s,
        "pool_recycle": -1 if config.pool_recycle_s is None else config.pool_recycle_s,
    }


def _connect_arguments(config: DatabaseConfig) -> dict[str, Any]:
    """psycopg2 / libpq keyword arguments for every connection."""
    args: dict[str, Any] = {
        "application_name": config.application_name,
        "connect_timeout": config.connect_timeout_s,
        "sslmode": config.sslmode,
    }
    if config.sslrootcert is not None:
        args["sslrootcert"] = config.sslrootcert
    if config.keepalives_idle_s > 0:
        args.update(
            keepalives=1,
            keepalives_idle=config.keepalives_idle_s,
            keepalives_interval=KEEPALIVES_INTERVAL_S,
            keepalives_count=KEEPALIVES_COUNT,
        )
    else:
        args["keepalives"] = 0
    if config.statement_timeout_ms is not None:
        args["options"] = f"-c statement_timeout={config.statement_timeout_ms}"
    return args


def build_engine(
    config: DatabaseConfig, credentials: Credentials, stats: Stats, tracker: LeakTracker, deadline: Deadline
) -> Engine:
    """A new engine for ``config`` with the layer's events attached; it connects only when first used.

    Parameters
    ----------
    deadline:
        Returns the monotonic time by which connect retries must stop (the invocation's end), or None outside one.
    """
    url = credentials.url()
    if config.defer_begin:
        url = url.set(drivername=DEFERRED_BEGIN_DRIVERNAME)
    engine = create_engine(url, connect_args=_connect_arguments(config), **_pool_arguments(config))
    stats.add(keys.ENGINES_CREATED)
    layer_logger().info(
        "lambda_db engine created",
        extra={
            "database_url": url.render_as_string(hide_password=True),  # the only form a URL may be logged in
            "pool_mode": config.pool_mode,
            "pool": engine.pool.status(),
            "application_name": config.application_name,
        },
    )
    connector = _Connector(config, credentials, stats, deadline)
    event.listen(engine, "do_connect", connector.do_connect)
    event.listen(engine, "invalidate", lambda *_: stats.add(keys.INVALIDATIONS))

    # checkout and checkin run on every scope: the settings they read are bound once, here.
    fork_guard, ping_after_idle_s, monotonic = config.fork_guard, config.ping_after_idle_s, time.monotonic
    dialect, add, checked_out, checked_in = engine.dialect, stats.add, tracker.checked_out, tracker.checked_in

    def on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        add(keys.CONNECTIONS_OPENED)
        if fork_guard:
            record_pid(record)

    def on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        if fork_guard:
            check_pid(record, proxy)
        checked_in_at = record.info.get(CHECKED_IN_AT)
        if checked_in_at is not None and (
            monotonic() - checked_in_at > ping_after_idle_s or server_wrote_while_idle(dbapi_connection)
        ):
            ping(dialect, dbapi_connection, stats)
        add(keys.CHECKOUTS)
        checked_out(record, proxy)

    def on_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        info = record.info
        info[CHECKED_IN_AT] = info.pop(PARKED_SINCE, None) or monotonic()
        checked_in(record)

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    return engine


_READABLE = select.POLLIN | select.POLLERR | select.POLLHUP


def server_wrote_while_idle(dbapi_connection: Any) -> bool:
    """Whether the socket of a connection that sat in the pool has something to read: a poll, no round trip.

    Between queries the protocol is the client's turn; a server that ends a session (``pg_terminate_backend``, a
    shutdown, ``idle_session_timeout``, a proxy closing its client side) writes a FATAL message and closes, and
    both make the socket readable. That catches a connection killed a moment ago, inside the idle threshold, for
    under a microsecond. It cannot see a peer that vanished without a word (a failover, a NAT that forgot the
    flow): that is what the ping after an idle gap is for. A notice or a ``NOTIFY`` also makes the socket
    readable; the ping it then costs finds the connection alive.
    """
    if dbapi_connection.closed:  # closed on our side already: the ping will say so, and the pool replaces it
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), _READABLE)
    return bool(poller.poll(0))


def ping(dialect: Dialect, dbapi_connection: Any, stats: Stats) -> None:
    """Check a connection that sat idle, and make the pool replace it if it is dead.

    A Lambda environment is frozen between invocations; while frozen, the server may have ended the session
    (``pg_terminate_backend``, a restart, ``idle_session_timeout``, a proxy's idle timeout). A ping costs a round
    trip, so it is sent only after an idle gap, or when the server wrote to the idle connection: back-to-back
    invocations on a healthy connection skip it. psycopg2's ``do_ping`` switches
    to autocommit for the ping, so it sends no BEGIN. Raising ``DisconnectionError`` from ``checkout`` makes the
    pool invalidate this connection and hand out a new one; the caller never sees the dead one.
    """
    stats.add(keys.PINGS)
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        if dialect.is_disconnect(error, dbapi_connection, None):
            raise exc.DisconnectionError(f"connection found dead after idling: {error}".strip()) from error
        raise


class _Connector:
    """The ``do_connect`` listener: fresh credentials for each connection, retries for refusals, one re-auth."""

    def __init__(self, config: DatabaseConfig, credentials: Credentials, stats: Stats, deadline: Deadline) -> None:
        self._config = config
        self._credentials = credentials
        self._stats = stats
        self._deadline = deadline

    def _retry(self) -> ConnectRetry:
        now = time.monotonic()
        limit = now + self._config.connect_retry_max_s
        invocation_end = self._deadline()
        return ConnectRetry(deadline=limit if invocation_end is None else min(limit, invocation_end))

    def do_connect(self, dialect: Dialect, record: ConnectionPoolEntry, cargs: Any, cparams: dict[str, Any]) -> Any:
        retry: ConnectRetry | None = None
        reauthenticated = False
        with self._stats.timed(keys.CONNECT_MS):
            while True:
                params = self._credentials.connect_params(cparams)
                try:
                    return dialect.loaded_dbapi.connect(*cargs, **params)
                except dialect.loaded_dbapi.OperationalError as error:
                    self._stats.add(keys.CONNECT_ERRORS)
                    if is_auth_failure(error) and self._credentials.can_refresh and not reauthenticated:
                        # The secret may have been rotated since we cached it: fetch it again, once.
                        reauthenticated = True
                        self._credentials.refresh()
                        self._stats.add(keys.SECRET_REFRESHES)
                        continue
                    if not is_retryable_connect_error(error):
                        raise
                    retry = retry or self._retry()
                    delay = retry.next_delay(time.monotonic())
                    if delay is None:
                        raise
                    self._stats.add(keys.RETRIES)
                    time.sleep(delay)
