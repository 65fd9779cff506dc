"""The work each variant of ``harness bench --only layer`` does: the same read and write, by different routes.

The read is what the items function sends for ``GET /items/{id}``: a Core ``select`` of one row by primary key, in
autocommit. The write is one INSERT in a transaction. The floor is a persistent psycopg2 connection sending the SQL
SQLAlchemy compiles those to, by hand, with psycopg2's defaults (its own BEGIN, a round trip of its own, before the
INSERT; then COMMIT). Every variant is a pair of ``(read, write)`` callables taking a request number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import psycopg2
from sqlalchemy import Column, Integer, MetaData, Table, Text, bindparam, create_engine, select, text

from harness.kit.lambda_context import LambdaContext
from harness.postgres import EmbeddedPostgres
from lambda_db import Database

ROLE, PASSWORD, DBNAME = "bench", "bench-pw", "bench"
ROWS = 1000

Work = Callable[[int], None]
Closer = Callable[[], None]

ITEMS = Table("items", MetaData(), Column("id", Integer, primary_key=True), Column("name", Text, nullable=False))
SELECT = select(ITEMS).where(ITEMS.c.id == bindparam("id"))
SELECT_SQL = "SELECT items.id, items.name \nFROM items \nWHERE items.id = %(id)s"  # what SELECT compiles to
INSERT = text("INSERT INTO writes (payload) VALUES (:payload)")
INSERT_SQL = "INSERT INTO writes (payload) VALUES (%(payload)s)"
CONTEXT = LambdaContext(function_name="bench", aws_request_id="bench")  # what each handler-run variant is given


class Address(Protocol):
    """Where a raw psycopg2 connection goes: the embedded server itself, or a relay in front of it."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...


def prepare(pg: EmbeddedPostgres) -> str:
    """Create the bench role, database and tables; return the URL the SQLAlchemy variants use."""
    pg.create_role(ROLE, PASSWORD)
    pg.create_database(DBNAME, owner=ROLE)
    conn = _connect(pg)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
        cur.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, %s) g", (ROWS,))
        cur.execute("CREATE TABLE writes (id bigserial PRIMARY KEY, payload text NOT NULL)")
    conn.close()
    return pg.url(DBNAME, user=ROLE, password=PASSWORD)


def _connect(address: Address) -> Any:
    return psycopg2.connect(host=address.host, port=address.port, user=ROLE, password=PASSWORD, dbname=DBNAME)


def raw_work(address: Address, *, begin_with_insert: bool = False) -> tuple[Work, Work, Closer]:
    """psycopg2 by hand. ``begin_with_insert``: send ``BEGIN;INSERT`` as one query, as the layer's dialect does."""
    read_conn, write_conn = _connect(address), _connect(address)
    read_conn.autocommit = True
    write_conn.autocommit = begin_with_insert

    def read(i: int) -> None:
        with read_conn.cursor() as cur:
            cur.execute(SELECT_SQL, {"id": i % ROWS + 1})
            cur.fetchone()

    def write(i: int) -> None:
        with write_conn.cursor() as cur:
            cur.execute(INSERT_SQL, {"payload": f"raw {i}"})
        write_conn.commit()

    def write_with_begin(i: int) -> None:
        with write_conn.cursor() as cur:
            cur.execute(f"BEGIN;{INSERT_SQL}", {"payload": f"raw {i}"})
            cur.execute("COMMIT")

    def close() -> None:
        read_conn.close()
        write_conn.close()

    return read, write_with_begin if begin_with_insert else write, close


def plain_sqlalchemy_work(url: str) -> tuple[Work, Work, Closer]:
    """What most handlers write: a module-scope engine, QueuePool(1, 0), ``engine.connect()`` / ``engine.begin()``."""
    engine = create_engine(url, pool_size=1, max_overflow=0)

    def read(i: int) -> None:
        with engine.connect() as conn:  # psycopg2 sends BEGIN before the SELECT, SQLAlchemy ROLLBACK on return
            conn.execute(SELECT, {"id": i % ROWS + 1}).one()

    def write(i: int) -> None:
        with engine.begin() as conn:
            conn.execute(INSERT, {"payload": f"plain {i}"})

    return read, write, engine.dispose


def held_connection_work(url: str) -> tuple[Work, Work, Closer]:
    """SQLAlchemy's own cost: ``Connection.execute`` on connections never returned, stock psycopg2 dialect."""
    engine = create_engine(url, pool_size=2, max_overflow=0)
    reader, writer = engine.connect(), engine.connect()
    reader.connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
    reader.begin()  # SQLAlchemy's own transaction marker, left open: psycopg2 in autocommit sends nothing for it

    def read(i: int) -> None:
        reader.execute(SELECT, {"id": i % ROWS + 1}).one()

    def write(i: int) -> None:
        with writer.begin():
            writer.execute(INSERT, {"payload": f"held {i}"})

    def close() -> None:
        reader.close()
        writer.close()
        engine.dispose()

    return read, write, close


def layer_work(db: Database, *, through_handler: bool) -> tuple[Work, Work]:
    """What a function runs, or the layer's scopes alone.

    Through the handler: ``@db.handler`` around ``db.run_read`` (the read) and ``db.run_transaction`` (the write,
    an ORM session executing the INSERT), as the items function does. Alone: ``db.read()`` and ``db.connect()``.
    """

    def read_unit(event: Any, context: Any) -> None:
        db.run_read(lambda conn: conn.execute(SELECT, {"id": event % ROWS + 1}).one())

    def write_unit(event: Any, context: Any) -> None:
        db.run_transaction(lambda session: session.execute(INSERT, {"payload": f"layer {event}"}))

    if through_handler:
        read_handler, write_handler = db.handler(read_unit), db.handler(write_unit)
        return (lambda i: read_handler(i, CONTEXT)), (lambda i: write_handler(i, CONTEXT))

    def read_scope(i: int) -> None:
        with db.read() as conn:
            conn.execute(SELECT, {"id": i % ROWS + 1}).one()

    def write_scope(i: int) -> None:
        with db.connect() as conn:
            conn.execute(INSERT, {"payload": f"layer {i}"})

    return read_scope, write_scope
