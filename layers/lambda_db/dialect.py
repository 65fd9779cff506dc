"""The psycopg2 dialect with a deferred BEGIN: a write transaction costs one round trip fewer.

psycopg2 outside autocommit sends ``BEGIN`` as a message of its own, and waits for the answer, before the first
statement of every transaction: BEGIN, INSERT, COMMIT is three round trips. On Lambda each one is a trip across the
VPC to RDS or RDS Proxy. This dialect keeps the psycopg2 connection in autocommit at the protocol level and manages
the transaction itself, the way the PostgreSQL JDBC driver does:

- ``BEGIN`` is owed when SQLAlchemy begins a transaction, and is sent in the same message as the first statement
  (``BEGIN;INSERT ...``: one simple-protocol query, one round trip, the answer is the INSERT's);
- ``COMMIT`` / ``ROLLBACK`` are sent only when the server is in a transaction, read from libpq's local transaction
  status (no round trip): a unit of work that ran no statement sends nothing at all; committing a transaction an
  earlier statement aborted raises instead of silently rolling back, as psycopg2 would;
- ``executemany`` and server-side (named) cursors get ``BEGIN`` as a message of its own, since their statements
  cannot carry it; a server-side cursor is declared ``WITH HOLD``, the only kind psycopg2 allows in autocommit
  (inside the transaction it behaves the same; SQLAlchemy closes it when the result is consumed or closed).

Same statements, same semantics, same isolation: ``BEGIN`` starts the transaction before the first statement runs,
and a non-default isolation level becomes ``BEGIN ISOLATION LEVEL ...``. ``isolation_level="AUTOCOMMIT"`` sends no
BEGIN, as in psycopg2. Two-phase commit is not supported (psycopg2 refuses it in autocommit).
``DB_DEFER_BEGIN=false`` builds the engine with SQLAlchemy's own psycopg2 dialect instead.
"""

from __future__ import annotations

from typing import Any

from psycopg2 import errors, extensions
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
from sqlalchemy.engine import URL
from sqlalchemy.engine.interfaces import IsolationLevel

__all__ = ["DRIVERNAME", "DeferredBeginConnection", "DeferredBeginDialect", "uses_deferred_begin"]

DRIVERNAME = "postgresql+lambda_db"
BEGIN = "BEGIN"
BEGIN_AT_LEVEL = "BEGIN ISOLATION LEVEL "
_IDLE = extensions.TRANSACTION_STATUS_IDLE
_INERROR = extensions.TRANSACTION_STATUS_INERROR


class DeferredBeginConnection(extensions.connection):
    """A psycopg2 connection in autocommit whose transactions the dialect opens and closes.

    Attributes
    ----------
    begin_owed:
        True from SQLAlchemy's begin until the transaction's first statement carries (or precedes) the BEGIN.
    begin_sql:
        What opens a transaction: ``BEGIN``, or ``BEGIN ISOLATION LEVEL ...`` for a non-default level.
    autocommit_statements:
        True when every statement should commit on its own (``isolation_level="AUTOCOMMIT"``, ``db.read()``).
    """

    begin_owed: bool
    begin_sql: str
    autocommit_statements: bool

    def __init__(self, dsn: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(dsn, *args, **kwargs)
        self.autocommit = True
        self.begin_owed = False
        self.begin_sql = BEGIN
        self.autocommit_statements = False


def uses_deferred_begin(dbapi_connection: Any) -> bool:
    """Whether a DBAPI connection is managed by :class:`DeferredBeginDialect`."""
    return isinstance(dbapi_connection, DeferredBeginConnection)


def _raw(connection: Any) -> DeferredBeginConnection:
    """The psycopg2 connection behind a pool's proxy (``do_begin`` and friends get the proxy)."""
    return getattr(connection, "dbapi_connection", connection)  # type: ignore[no-any-return]


def _send(dbapi_connection: DeferredBeginConnection, sql: str) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute(sql)


def _begin_apart(raw: DeferredBeginConnection) -> None:
    """Send an owed BEGIN as a message of its own, for the statements that cannot carry it."""
    if raw.begin_owed:
        raw.begin_owed = False
        _send(raw, raw.begin_sql)


class DeferredBeginDialect(PGDialect_psycopg2):
    """SQLAlchemy's psycopg2 dialect, with ``BEGIN`` sent together with each transaction's first statement."""

    supports_statement_cache = True

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        cargs, cparams = super().create_connect_args(url)  # type: ignore[no-untyped-call]
        cparams["connection_factory"] = DeferredBeginConnection
        return cargs, cparams

    # -- transactions ------------------------------------------------------------------------------------------------
    def do_begin(self, dbapi_connection: Any) -> None:
        raw = _raw(dbapi_connection)
        if not raw.autocommit_statements:
            raw.begin_owed = True

    def do_commit(self, dbapi_connection: Any) -> None:
        """COMMIT if the server is in a transaction; refuse to "commit" one that an earlier statement aborted.

        Postgres answers COMMIT in an aborted transaction with a rollback and no error, so code that swallowed a
        statement's error and committed would believe its writes landed (psycopg2's ``commit()`` says nothing
        either). Here that commit rolls back and raises ``InFailedSqlTransaction``: the caller learns nothing was
        written.
        """
        raw = _raw(dbapi_connection)
        raw.begin_owed = False
        status = raw.info.transaction_status
        if status == _IDLE:
            return
        if status == _INERROR:
            _send(raw, "ROLLBACK")
            raise errors.InFailedSqlTransaction(
                "COMMIT of a transaction an earlier statement aborted: it was rolled back, nothing was written"
            )
        _send(raw, "COMMIT")

    def do_rollback(self, dbapi_connection: Any) -> None:
        raw = _raw(dbapi_connection)
        raw.begin_owed = False
        if not raw.closed and raw.info.transaction_status != _IDLE:
            _send(raw, "ROLLBACK")

    def do_begin_twophase(self, connection: Any, xid: Any) -> None:
        raise NotImplementedError("two-phase commit needs DB_DEFER_BEGIN=false (psycopg2 refuses it in autocommit)")

    # -- statements ------------------------------------------------------------------------------------------------
    def _owed_begin(self, cursor: Any, statement: str) -> str:
        """``statement``, carrying the BEGIN it owes when it is the transaction's first; named cursors send it apart."""
        raw: DeferredBeginConnection = cursor.connection
        if cursor.name is not None:
            # A server-side cursor (stream_results, yield_per): psycopg2 refuses one in autocommit unless it is
            # WITH HOLD, and DECLARE cannot share its message with BEGIN.
            cursor.withhold = True
            _begin_apart(raw)
            return statement
        if not raw.begin_owed:
            return statement
        raw.begin_owed = False
        return f"{raw.begin_sql};{statement}"

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        cursor.execute(self._owed_begin(cursor, statement), parameters)

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        cursor.execute(self._owed_begin(cursor, statement))

    def do_executemany(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        _begin_apart(cursor.connection)
        super().do_executemany(cursor, statement, parameters, context)  # type: ignore[no-untyped-call]

    # -- isolation -------------------------------------------------------------------------------------------------
    def set_isolation_level(self, dbapi_connection: Any, level: IsolationLevel) -> None:
        raw = _raw(dbapi_connection)
        raw.autocommit_statements = level == "AUTOCOMMIT"
        default = self.default_isolation_level
        if level == "AUTOCOMMIT" or default is None or level == default:
            raw.begin_sql = BEGIN
        else:
            raw.begin_sql = f"{BEGIN_AT_LEVEL}{level}"

    def get_isolation_level(self, dbapi_connection: Any) -> IsolationLevel:
        raw = _raw(dbapi_connection)
        if raw.autocommit_statements:
            return "AUTOCOMMIT"
        if raw.begin_sql != BEGIN:
            return raw.begin_sql.removeprefix(BEGIN_AT_LEVEL)  # type: ignore[return-value]
        return super().get_isolation_level(dbapi_connection)  # type: ignore[no-untyped-call,no-any-return]

    def detect_autocommit_setting(self, dbapi_connection: Any) -> bool:
        return bool(_raw(dbapi_connection).autocommit_statements)


registry.register("postgresql.lambda_db", __name__, "DeferredBeginDialect")
