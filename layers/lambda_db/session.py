"""Scopes of database work: an ORM session, a Core transaction, a read-only autocommit connection.

Each scope checks a connection out, maps the failure to get one onto the layer's errors (the handler turns them
into 503 + Retry-After), and always gives the connection back, whatever the block does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from time import monotonic
from typing import Protocol

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from lambda_db import stats as keys
from lambda_db.dialect import uses_deferred_begin
from lambda_db.errors import ConnectionLostError, DatabaseUnavailableError, PoolTimeoutError
from lambda_db.stats import Stats

__all__ = ["Connections", "connect_scope", "read_scope", "session_scope"]


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


def _unavailable(error: BaseException, stats: Stats) -> DatabaseUnavailableError | None:
    """The layer's error for a failure to get a connection; None when ``error`` is something else."""
    if isinstance(error, sa_exc.TimeoutError):  # QueuePool: every connection stayed checked out
        stats.add(keys.POOL_TIMEOUTS)
        return PoolTimeoutError(f"no pooled connection became free in time: {error}")
    if isinstance(error, sa_exc.DBAPIError) and (
        error.connection_invalidated or isinstance(error, sa_exc.OperationalError)
    ):
        return DatabaseUnavailableError(f"the database is unavailable: {_first_line(error)}")
    return None


def _lost(error: BaseException) -> ConnectionLostError | None:
    """A connection lost mid-work: never retried here (the statement may have run); see :mod:`lambda_db.units`."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return ConnectionLostError(f"the database connection was lost: {_first_line(error)}")
    return None


class Connections(Protocol):
    """Where a scope gets its connection and gives it back: the pool, or single mode's lease (lambda_db.lease)."""

    def take(self) -> Connection: ...

    def give_back(self, connection: Connection, *, clean: bool) -> None: ...


def _checked_out(connections: Connections, stats: Stats) -> Connection:
    """A connection from ``connections``, timed, its connect failures mapped onto the layer's errors."""
    start = monotonic()
    try:
        return connections.take()
    except (sa_exc.TimeoutError, sa_exc.DBAPIError) as error:
        if (mapped := _unavailable(error, stats)) is not None:
            raise mapped from error
        raise
    finally:
        stats.add(keys.CHECKOUT_WAIT_MS, (monotonic() - start) * 1000.0)


# The scopes below are on every request's path: plain try blocks rather than nested context managers, which
# cost a few microseconds each. A connection goes back ``clean`` only when the block ended without an error.
@contextmanager
def connect_scope(connections: Connections, stats: Stats) -> Iterator[Connection]:
    """A Core connection inside a transaction: committed when the block ends, rolled back if it raises."""
    start = monotonic()
    try:
        connection = _checked_out(connections, stats)
        clean = False
        try:
            with connection.begin():
                yield connection
            clean = True
        except sa_exc.DBAPIError as error:
            if (mapped := _lost(error)) is not None:
                raise mapped from error
            raise
        finally:
            connections.give_back(connection, clean=clean)
    finally:
        stats.add(keys.DB_TIME_MS, (monotonic() - start) * 1000.0)


@contextmanager
def read_scope(connections: Connections, stats: Stats) -> Iterator[Connection]:
    """A read-only Core connection in autocommit: no BEGIN before the statements, no ROLLBACK after them.

    Each statement is its own transaction, so a multi-statement read does not see one snapshot; use
    :func:`connect_scope` when that matters.

    A client-side flag, no round trip: with the layer's dialect (:mod:`lambda_db.dialect`) the connection's
    ``autocommit_statements``; with SQLAlchemy's own (``DB_DEFER_BEGIN=false``) psycopg2's ``autocommit``. Not
    ``execution_options(isolation_level="AUTOCOMMIT")``: on return SQLAlchemy restores the isolation level, and
    psycopg2 then sends ``SET default_transaction_isolation TO DEFAULT``, one round trip per read. SQLAlchemy's own
    transaction marker (begun by the first statement) is ended before the connection goes back: nothing is sent
    for it in autocommit.
    """
    start = monotonic()
    try:
        connection = _checked_out(connections, stats)
        clean = False
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        flag = "autocommit_statements" if uses_deferred_begin(dbapi_connection) else "autocommit"
        setattr(dbapi_connection, flag, True)
        try:
            yield connection
            if connection.in_transaction():
                connection.rollback()
            clean = True
        except sa_exc.DBAPIError as error:
            if (mapped := _lost(error)) is not None:
                raise mapped from error
            raise
        finally:
            if not dbapi_connection.closed:
                setattr(dbapi_connection, flag, False)
            connections.give_back(connection, clean=clean)
    finally:
        stats.add(keys.DB_TIME_MS, (monotonic() - start) * 1000.0)


@contextmanager
def session_scope(connections: Connections, stats: Stats) -> Iterator[Session]:
    """An ORM session for one unit of work: commit on success, rollback on error, always closed.

    The session is bound to the connection this scope takes (and gives back), not to the engine: it begins and
    commits its transaction on that connection as it would on one of its own, without a checkout of its own.
    ``expire_on_commit=False``: a handler usually serialises its objects after the commit, and expiring them would
    cost a SELECT per object for data we just wrote.
    """
    start = monotonic()
    try:
        connection = _checked_out(connections, stats)
        clean = False
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException as error:
                    session.rollback()
                    if (mapped := _lost(error)) is not None:
                        raise mapped from error
                    raise
            clean = True
        finally:
            connections.give_back(connection, clean=clean)
    finally:
        stats.add(keys.DB_TIME_MS, (monotonic() - start) * 1000.0)
