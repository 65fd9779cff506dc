"""The :class:`Database`: one per process, holding the engine, its stats and guards, and the handler decorator.

Create it at module scope in ``app.py`` (cheap: nothing connects until the first query), so the engine lives as
long as the execution environment and warm invocations reuse its connection.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from lambda_db import stats as keys
from lambda_db.config import DatabaseConfig
from lambda_db.credentials import Credentials
from lambda_db.engine import build_engine
from lambda_db.guards import LeakTracker
from lambda_db.health import server_connections
from lambda_db.lease import Lease, PoolCheckout
from lambda_db.lease_pool import LeasedQueuePool
from lambda_db.metrics import InvocationReporter, layer_logger, log_leak
from lambda_db.session import Connections, connect_scope, read_scope, session_scope
from lambda_db.shutdown import install_sigterm_dispose
from lambda_db.stats import Stats
from lambda_db.units import DEFAULT_ATTEMPTS, run_unit

__all__ = ["Database", "get_database", "reset_databases"]

# Stop retrying connects this long before the invocation would time out, so the handler can still answer 503.
DEADLINE_MARGIN_S = 0.5

R = TypeVar("R")


class Database:
    """Engine, scopes and per-invocation bookkeeping for one database configuration.

    Parameters
    ----------
    config:
        The validated configuration (``DatabaseConfig.from_env()`` when built by :func:`get_database`).

    Example
    -------
    >>> db = get_database()
    >>> @db.handler
    ... def lambda_handler(event, context):
    ...     with db.read() as conn:
    ...         return {"now": str(conn.execute(text("SELECT now()")).scalar())}
    """

    def __init__(self, config: DatabaseConfig) -> None:
        self.config = config
        self._stats = Stats()
        self._tracker = LeakTracker()
        self._credentials = Credentials(config)
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._deadline: float | None = None
        self._invocations = 0
        self._sigterm_installed = False
        self._per_invocation = config.pool_mode == "per_invocation"
        self._lease: Lease | None = None
        self._connections: Connections = PoolCheckout(self._built_engine)
        if config.pool_mode == "single" and config.pool_recycle_s is None:  # recycling is the pool's, at checkout
            self._lease = Lease(
                self._built_engine, ping_after_idle_s=config.ping_after_idle_s, stats=self._stats, tracker=self._tracker
            )
            self._connections = self._lease
        self._reporter = InvocationReporter(pool_mode=config.pool_mode, enabled=config.metrics != "off")
        if config.fork_guard:
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _after_fork(ref))

    # -- the engine ----------------------------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """The engine, built on first use (once per process; once per invocation in ``per_invocation`` mode).

        In ``single`` mode the scopes keep their connection between uses (:mod:`lambda_db.lease`); the pool gives
        it to code that checks out of ``db.engine`` directly.
        """
        return self._built_engine()

    def _built_engine(self) -> Engine:
        engine = self._engine
        if engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = build_engine(
                        self.config, self._credentials, self._stats, self._tracker, lambda: self._deadline
                    )
                    if self._lease is not None and isinstance(self._engine.pool, LeasedQueuePool):
                        self._engine.pool.attach(self._lease)
                engine = self._engine
        return engine

    def dispose(self) -> None:
        """Close every pooled connection and drop the engine; the next use builds a new one."""
        if self._lease is not None:
            self._lease.release()
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()

    def _forget_after_fork(self) -> None:
        # The child must neither use nor close the parent's sockets: drop the pool without closing it.
        if self._lease is not None:
            self._lease.forget()
        if self._engine is not None:
            self._engine.dispose(close=False)
        self._tracker.clear()
        self._stats.forget()
        self._invocations = 0
        self._lock = threading.Lock()

    # -- scopes --------------------------------------------------------------------------------------------------
    def session(self) -> AbstractContextManager[Session]:
        """An ORM session: commit on success, rollback on error, always closed. One per invocation and thread."""
        return session_scope(self._connections, self._stats)

    def connect(self) -> AbstractContextManager[Connection]:
        """A Core connection in a transaction: commit on success, rollback on error."""
        return connect_scope(self._connections, self._stats)

    def read(self) -> AbstractContextManager[Connection]:
        """A read-only Core connection in autocommit: no BEGIN / ROLLBACK round trips."""
        return read_scope(self._connections, self._stats)

    # -- units of work that survive a lost connection --------------------------------------------------------------
    def run_transaction(self, work: Callable[[Session], R], *, attempts: int = DEFAULT_ATTEMPTS) -> R:
        """``work(session)`` in one transaction, as :meth:`session`; run again if the connection is lost before COMMIT.

        ``work`` may run more than once: statements only, nothing outside the database (see :mod:`lambda_db.units`).

        Example
        -------
        >>> item_id = db.run_transaction(lambda session: items.create(session, data))
        """
        return run_unit(self.session, work, attempts=attempts, stats=self._stats)

    def run_read(self, work: Callable[[Connection], R], *, attempts: int = DEFAULT_ATTEMPTS) -> R:
        """``work(connection)`` in autocommit, as :meth:`read`; run again if the connection is lost under it.

        For reads only: in autocommit each statement commits on its own, so a write inside ``work`` could already be
        committed when a later statement loses the connection, and would be written again. Writes go in
        :meth:`run_transaction`.
        """
        return run_unit(self.read, work, attempts=attempts, stats=self._stats)

    # -- the handler ---------------------------------------------------------------------------------------------
    def handler(self, function: Callable[[Any, Any], R]) -> Callable[[Any, Any], R]:
        """Decorate a Lambda handler ``(event, context)``: deadline, leak guard, per-invocation stats and log line.

        The context is read duck-typed (``aws_request_id``, ``function_name``, ``get_remaining_time_in_millis``):
        the connect-retry deadline is the invocation's remaining time minus a margin, so a storm ends in a 503
        rather than a Lambda timeout. In ``per_invocation`` mode (the baseline) it also builds the engine before
        and disposes it after.
        """

        # Bound once per decorated handler, not looked up on every invocation.
        begin, end = self._begin_invocation, self._end_invocation

        @functools.wraps(function)
        def wrapper(event: Any, context: Any) -> R:
            started = begin(context)
            try:
                return function(event, context)
            finally:
                end(context, started)

        return wrapper

    def _begin_invocation(self, context: Any) -> float:
        started = time.monotonic()
        if not self._sigterm_installed and self.config.sigterm_dispose:
            self._sigterm_installed = install_sigterm_dispose(self.dispose)
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            self._deadline = None
        else:
            self._deadline = started + max(0.0, remaining() / 1000 - DEADLINE_MARGIN_S)
        if self._per_invocation:
            self.dispose()
        return started

    def _end_invocation(self, context: Any, started: float) -> None:
        if self._tracker.has_checkouts():
            leaks = self._tracker.release_all()
            for leak in leaks:
                log_leak(leak, request_id=getattr(context, "aws_request_id", None))
            if leaks:
                self._stats.add(keys.LEAKS, len(leaks))
        if self._per_invocation:
            self.dispose()
        self._deadline = None
        cold_start = self._invocations == 0
        self._invocations += 1
        stats = self._stats.pop()
        try:
            self._reporter.emit(
                stats,
                cold_start=cold_start,
                context=context,
                invocation_ms=round((time.monotonic() - started) * 1000, 3),
            )
        except Exception:  # noqa: BLE001 - reporting must never turn a served request into a failed one
            layer_logger().exception("lambda_db could not emit its per-invocation metrics")

    # -- introspection -------------------------------------------------------------------------------------------
    def get_stats(self) -> dict[str, float]:
        """Counters since the last :meth:`pop_stats`; keys carry their unit (``_num``, ``_ms``)."""
        return self._stats.get()

    def pop_stats(self) -> dict[str, float]:
        """Counters since the last call, reset in the same step."""
        return self._stats.pop()

    def lifetime_stats(self) -> dict[str, float]:
        """Every counter since this process started, and ``invocations_num``; never reset, for /health.

        ``@db.handler`` pops the counters at the end of every invocation, so :meth:`get_stats` shows only the
        current one; a leak an earlier invocation reported (``leaks_num``) stays counted here.
        """
        return {"invocations_num": self._invocations, **self._stats.totals()}

    def pool_status(self) -> dict[str, Any]:
        """What the pool holds now, without connecting: mode, size, checked in / out, overflow, SQLAlchemy's line."""
        engine = self._engine
        status: dict[str, Any] = {"mode": self.config.pool_mode, "pool_size": 0, "checked_in": 0}
        status.update(checked_out=0, overflow=0, status="no engine yet")
        if engine is None:
            return status
        pool = engine.pool
        status["status"] = pool.status()
        if isinstance(pool, QueuePool):
            parked = 0 if self._lease is None else self._lease.parked()  # kept by the lease, idle: counted as in
            status.update(pool_size=pool.size(), checked_in=pool.checkedin() + parked)
            status["checked_out"] = pool.checkedout() - parked
            status["overflow"] = pool.overflow()
        else:
            status["checked_out"] = len(self._tracker)
        return status

    def server_connections(self) -> dict[str, Any]:
        """This environment's backends in ``pg_stat_activity`` by state (the one asking included), for /health."""
        with self.read() as conn:
            return server_connections(conn, self.config.application_name)


def _after_fork(ref: weakref.ref[Database]) -> None:
    database = ref()
    if database is not None:
        database._forget_after_fork()


# None (the environment's configuration, read on first use) and every configuration asked for -> its Database.
_databases: dict[DatabaseConfig | None, Database] = {}
_databases_lock = threading.Lock()


def get_database(config: DatabaseConfig | None = None) -> Database:
    """The process's :class:`Database` for ``config`` (from the environment when None); cheap, never connects.

    One per configuration, however it is passed: ``get_database()`` and ``get_database(DatabaseConfig.from_env())``
    (or an equal ``DatabaseConfig(...)``) give the same object, so one process holds one engine and one connection
    for one database. The environment is read on the first call without a config (and again after a reset).

    Raises
    ------
    ConfigurationError
        The environment is missing a variable or holds a bad value; the message names it.
    """
    with _databases_lock:
        database = _databases.get(config)
        if database is None:
            resolved = config or DatabaseConfig.from_env()
            database = _databases.get(resolved) or Database(resolved)
            _databases[config] = _databases[resolved] = database
        return database


def reset_databases() -> None:
    """Dispose of every :class:`Database` :func:`get_database` made and forget them, as a new process would.

    For tests: each one gets a fresh ``Database`` (and a fresh read of the environment) from the next
    :func:`get_database` call, and the connections of the old ones are closed rather than left to the server.
    """
    with _databases_lock:
        databases = list({id(database): database for database in _databases.values()}.values())
        _databases.clear()
    for database in databases:
        database.dispose()
