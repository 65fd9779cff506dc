"""The deferred-BEGIN dialect against a real server: the round trips it saves, and the semantics it keeps.

Each ``statement:`` line in the server's log (``log_statement = 'all'``) is one query message, so one round trip.
"""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, InternalError

from harness.postgres import EmbeddedPostgres
from lambda_db import Database
from tests.conftest import TestDatabase
from tests.integration.lambda_db.conftest import MakeDatabase


@pytest.fixture
def notes(database: TestDatabase) -> None:
    """A ``notes`` table the application role can write, and the statement log switched on."""
    if not isinstance(database.server, EmbeddedPostgres):
        pytest.skip("reads the embedded server's statement log")
    database.server.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)", database=database.name)
    database.server.execute(f'GRANT ALL ON notes TO "{database.user}"', database=database.name)
    database.server.execute(f"ALTER DATABASE \"{database.name}\" SET log_statement = 'all'")


def _warm(db: Database) -> Database:
    """Connect and send a marker: what the dialect sends on first connect comes before it."""
    with db.read() as conn:
        conn.execute(text("SELECT 'warm'"))
    return db


def _statements(database: TestDatabase, db: Database) -> list[str]:
    """What ``db`` sent after :func:`_warm`'s marker, one entry per query message."""
    db.dispose()
    name = db.config.application_name
    sent = database.server.logged_statements(applications=[name])
    return sent[sent.index("SELECT 'warm'") + 1 :]


def _bodies(database: TestDatabase) -> list[str]:
    return [
        str(row[0]) for row in database.server.execute("SELECT body FROM notes ORDER BY id", database=database.name)
    ]


@pytest.mark.usefixtures("notes")
@pytest.mark.parametrize(
    ("defer_begin", "expected"),
    [
        (True, ["BEGIN;INSERT INTO notes VALUES (1, 'a')", "INSERT INTO notes VALUES (2, 'b')", "COMMIT"]),
        (False, ["BEGIN", "INSERT INTO notes VALUES (1, 'a')", "INSERT INTO notes VALUES (2, 'b')", "COMMIT"]),
    ],
)
def test_begin_travels_with_the_first_statement(
    make_database: MakeDatabase, database: TestDatabase, defer_begin: bool, expected: list[str]
) -> None:
    db = _warm(make_database(defer_begin=defer_begin))
    with db.connect() as conn:
        conn.execute(text("INSERT INTO notes VALUES (1, 'a')"))
        conn.execute(text("INSERT INTO notes VALUES (2, 'b')"))
    assert _statements(database, db) == expected
    assert _bodies(database) == ["a", "b"]


@pytest.mark.usefixtures("notes")
def test_a_transaction_that_ran_nothing_sends_nothing(make_database: MakeDatabase, database: TestDatabase) -> None:
    db = _warm(make_database())
    with db.connect():
        pass
    with db.session():
        pass
    with db.read() as conn:
        conn.execute(text("SELECT 'after'"))
    assert _statements(database, db) == ["SELECT 'after'"]


@pytest.mark.usefixtures("notes")
def test_the_transaction_is_real_until_commit(make_database: MakeDatabase, database: TestDatabase) -> None:
    """Inside the scope the row is invisible to others and the backend is idle in transaction; after, committed."""
    db = _warm(make_database())
    with db.connect() as conn:
        conn.execute(text("INSERT INTO notes VALUES (1, 'pending')"))
        assert _bodies(database) == []
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        [[state]] = database.server.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", pid)
        assert state == "idle in transaction"
    assert _bodies(database) == ["pending"]


@pytest.mark.usefixtures("notes")
def test_an_error_rolls_back_every_statement_and_the_connection_stays_usable(
    make_database: MakeDatabase, database: TestDatabase
) -> None:
    db = _warm(make_database())

    def duplicate_key() -> None:
        with db.connect() as conn:
            conn.execute(text("INSERT INTO notes VALUES (1, 'first')"))
            conn.execute(text("INSERT INTO notes VALUES (1, 'duplicate')"))

    with pytest.raises(IntegrityError):
        duplicate_key()
    assert _bodies(database) == []
    with db.connect() as conn:
        conn.execute(text("INSERT INTO notes VALUES (2, 'next')"))
    assert _bodies(database) == ["next"]
    assert db.get_stats()["connections_opened_num"] == 1  # the same connection, not a replacement
    sent = _statements(database, db)
    assert sent[:3] == [
        "BEGIN;INSERT INTO notes VALUES (1, 'first')",
        "INSERT INTO notes VALUES (1, 'duplicate')",
        "ROLLBACK",
    ]


@pytest.mark.usefixtures("notes")
def test_an_exception_in_the_first_statement_of_a_session_rolls_back(
    make_database: MakeDatabase, database: TestDatabase
) -> None:
    db = _warm(make_database())

    def failing_unit_of_work() -> None:
        with db.session() as session:
            session.execute(text("INSERT INTO notes VALUES (1, 'discarded')"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_unit_of_work()
    with db.session() as session:
        session.execute(text("INSERT INTO notes VALUES (2, 'kept')"))
    assert _bodies(database) == ["kept"]


@pytest.mark.usefixtures("notes")
def test_savepoints_nest_inside_the_deferred_transaction(make_database: MakeDatabase, database: TestDatabase) -> None:
    db = _warm(make_database())
    with db.session() as session:
        with session.begin_nested():  # the first statement of the transaction is the SAVEPOINT itself
            session.execute(text("INSERT INTO notes VALUES (1, 'outer')"))
        savepoint = session.begin_nested()
        session.execute(text("INSERT INTO notes VALUES (2, 'inner')"))
        savepoint.rollback()
    assert _bodies(database) == ["outer"]
    assert _statements(database, db)[0].startswith("BEGIN;SAVEPOINT ")


@pytest.mark.usefixtures("notes")
def test_a_non_default_isolation_level_begins_at_that_level(
    make_database: MakeDatabase, database: TestDatabase
) -> None:
    db = _warm(make_database())
    with db.engine.connect().execution_options(isolation_level="SERIALIZABLE") as conn, conn.begin():
        assert conn.get_isolation_level() == "SERIALIZABLE"
        assert conn.execute(text("SHOW transaction_isolation")).scalar_one() == "serializable"
    with db.connect() as conn:  # the level was reset when the connection went back to the pool
        assert conn.execute(text("SHOW transaction_isolation")).scalar_one() == "read committed"
    sent = _statements(database, db)
    assert sent[0] == "BEGIN ISOLATION LEVEL SERIALIZABLE;SHOW transaction_isolation"
    assert "BEGIN;SHOW transaction_isolation" in sent


@pytest.mark.usefixtures("notes")
def test_autocommit_isolation_sends_no_begin(make_database: MakeDatabase, database: TestDatabase) -> None:
    db = _warm(make_database())
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("INSERT INTO notes VALUES (1, 'autocommitted')"))
        assert _bodies(database) == ["autocommitted"]  # visible before this connection commits anything
    assert _statements(database, db) == ["INSERT INTO notes VALUES (1, 'autocommitted')"]


@pytest.mark.usefixtures("notes")
def test_executemany_and_server_side_cursors_send_begin_on_its_own(
    make_database: MakeDatabase, database: TestDatabase
) -> None:
    db = _warm(make_database())
    with db.connect() as conn:
        conn.execute(text("INSERT INTO notes VALUES (:id, :body)"), [{"id": 1, "body": "x"}, {"id": 2, "body": "y"}])
    with db.connect() as conn:
        rows = conn.execution_options(stream_results=True).execute(text("SELECT body FROM notes ORDER BY id"))
        assert [row.body for row in rows] == ["x", "y"]
    sent = _statements(database, db)
    assert sent[0] == "BEGIN"
    assert sent[1:3] == ["INSERT INTO notes VALUES (1, 'x')", "INSERT INTO notes VALUES (2, 'y')"]
    assert sent[3] == "COMMIT"
    assert sent[4] == "BEGIN"
    assert sent[5].startswith("DECLARE")
    assert "WITH HOLD" in sent[5]


@pytest.mark.usefixtures("notes")
def test_committing_after_a_swallowed_error_raises_instead_of_losing_the_writes(
    make_database: MakeDatabase, database: TestDatabase
) -> None:
    """Postgres answers COMMIT in an aborted transaction with a silent rollback; the layer makes that an error."""
    db = _warm(make_database())

    def swallowing_unit_of_work() -> None:
        with db.connect() as conn:
            conn.execute(text("INSERT INTO notes VALUES (1, 'lost')"))
            with contextlib.suppress(IntegrityError):  # the bug: the transaction is aborted, and the scope commits
                conn.execute(text("INSERT INTO notes VALUES (1, 'duplicate')"))

    with pytest.raises(InternalError, match="it was rolled back, nothing was written"):
        swallowing_unit_of_work()
    assert _bodies(database) == []
    with db.connect() as conn:  # the connection is clean again
        conn.execute(text("INSERT INTO notes VALUES (2, 'next')"))
    assert _bodies(database) == ["next"]
    assert db.get_stats()["connections_opened_num"] == 1


@pytest.mark.usefixtures("notes")
def test_the_same_swallowed_error_with_stock_psycopg2_loses_the_writes_silently(
    make_database: MakeDatabase, database: TestDatabase
) -> None:
    """The control for the test above: SQLAlchemy's own dialect commits "successfully" and nothing is written."""
    db = _warm(make_database(defer_begin=False))
    with db.connect() as conn:
        conn.execute(text("INSERT INTO notes VALUES (1, 'lost')"))
        with contextlib.suppress(IntegrityError):
            conn.execute(text("INSERT INTO notes VALUES (1, 'duplicate')"))
    assert _bodies(database) == []  # no error was raised, and the first INSERT is gone
