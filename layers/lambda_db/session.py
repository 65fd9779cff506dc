"""Scopes of database work: an ORM session, a Core transaction, a read-only autocommit connection.

Each scope checks a connection out, maps the failure to get one onto the layer's errors (the handler turns them
into 503 + Retry-After), and always gives the connection back, whatever the block does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from lambda_db import stats as keys
from lambda_db.errors import DatabaseUnavailableError, PoolTimeoutError
from lambda_db.stats import Stats

__all__ = ["connect_scope", "read_scope", "session_scope"]


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


@contextmanager
def _unavailable_on_failure(stats: Stats) -> Iterator[None]:
    """Turn "no connection could be had" into the layer's errors; anything else passes through unchanged."""
    try:
        yield
    except sa_exc.TimeoutError as error:  # QueuePool: every connection stayed checked out
        stats.add(keys.POOL_TIMEOUTS)
        raise PoolTimeoutError(f"no pooled connection became free in time: {error}") from error
    except sa_exc.DBAPIError as error:
        if not error.connection_invalidated and not isinstance(error, sa_exc.OperationalError):
            raise
        raise DatabaseUnavailableError(f"the database is unavailable: {_first_line(error)}") from error


def _checkout(engine: Engine, stats: Stats) -> Connection:
    with _unavailable_on_failure(stats), stats.timed(keys.CHECKOUT_WAIT_MS):
        return engine.connect()


@contextmanager
def connect_scope(engine: Engine, stats: Stats) -> Iterator[Connection]:
    """A Core connection inside a transaction: committed when the block ends, rolled back if it raises."""
    with stats.timed(keys.DB_TIME_MS):
        connection = _checkout(engine, stats)
        with connection, _lost_connection(stats), connection.begin():
            yield connection


@contextmanager
def read_scope(engine: Engine, stats: Stats) -> Iterator[Connection]:
    """A read-only Core connection in autocommit: psycopg2 sends no BEGIN, and no ROLLBACK on return.

    Each statement is its own transaction, so a multi-statement read does not see one snapshot; use
    :func:`connect_scope` when that matters.

    We flip psycopg2's ``autocommit`` attribute (a client-side flag, no round trip) rather than use
    ``execution_options(isolation_level="AUTOCOMMIT")``: on return SQLAlchemy restores the isolation level, and
    psycopg2 then sends ``SET default_transaction_isolation TO DEFAULT`` - one round trip per read. With the flag
    on, SQLAlchemy's rollback at return is a no-op in psycopg2, which sends ROLLBACK only inside a transaction.
    """
    with stats.timed(keys.DB_TIME_MS):
        connection = _checkout(engine, stats)
        with connection, _lost_connection(stats):
            dbapi_connection = connection.connection.dbapi_connection
            assert dbapi_connection is not None
            dbapi_connection.autocommit = True
            try:
                yield connection
            finally:
                if not dbapi_connection.closed:
                    dbapi_connection.autocommit = False


@contextmanager
def session_scope(engine: Engine, stats: Stats) -> Iterator[Session]:
    """An ORM session for one unit of work: commit on success, rollback on error, always closed.

    ``expire_on_commit=False``: a handler usually serialises its objects after the commit, and expiring them would
    cost a SELECT per object for data we just wrote.
    """
    with stats.timed(keys.DB_TIME_MS):
        session = Session(bind=engine, expire_on_commit=False)
        with session:
            with _unavailable_on_failure(stats), stats.timed(keys.CHECKOUT_WAIT_MS):
                session.connection()  # check out now, so a connect failure maps like the other scopes
            with _lost_connection(stats):
                try:
                    yield session
                except BaseException:
                    session.rollback()
                    raise
                session.commit()


@contextmanager
def _lost_connection(stats: Stats) -> Iterator[None]:
    """A connection lost mid-work is reported as unavailable (never retried: the statement may have run)."""
    try:
        yield
    except sa_exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        raise DatabaseUnavailableError(f"the database connection was lost: {_first_line(error)}") from error
