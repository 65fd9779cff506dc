"""The three scopes against a real server: commit, rollback, autocommit reads, and the errors they raise."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from harness.kit.lambda_context import LambdaContext
from harness.postgres import EmbeddedPostgres
from lambda_db import DatabaseUnavailableError, PoolTimeoutError
from tests.conftest import TestDatabase
from tests.integration.lambda_db.conftest import MakeDatabase


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


def _count(database: TestDatabase) -> int:
    return int(database.server.execute("SELECT count(*) FROM items", database=database.name)[0][0])


def test_session_commits_on_success_and_rolls_back_on_error(
    make_database: MakeDatabase, database: TestDatabase
) -> None:
    db = make_database()
    Base.metadata.create_all(db.engine)
    with db.session() as session:
        session.add(Item(name="kept"))

    def failing_unit_of_work() -> None:
        with db.session() as session:
            session.add(Item(name="discarded"))
            session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_unit_of_work()
    assert _count(database) == 1
    assert db.pool_status()["checked_out"] == 0


def test_connect_commits_on_success_and_rolls_back_on_error(
    make_database: MakeDatabase, database: TestDatabase
) -> None:
    db = make_database()
    Base.metadata.create_all(db.engine)
    with db.connect() as conn:
        conn.execute(text("INSERT INTO items (name) VALUES ('kept')"))

    def failing_unit_of_work() -> None:
        with db.connect() as conn:
            conn.execute(text("INSERT INTO items (name) VALUES ('discarded')"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_unit_of_work()
    assert _count(database) == 1


def test_read_sends_no_begin_and_no_rollback(make_database: MakeDatabase, database: TestDatabase) -> None:
    if not isinstance(database.server, EmbeddedPostgres):
        pytest.skip("reads the embedded server's statement log")
    database.server.execute(f"ALTER DATABASE \"{database.name}\" SET log_statement = 'all'")
    db = make_database()
    for _ in range(3):
        with db.read() as conn:
            assert conn.execute(text("SELECT 42")).scalar_one() == 42
    db.dispose()
    statements = database.server.logged_statements(applications=[db.config.application_name])
    warm = statements[statements.index("SELECT 42") :]  # after the dialect's first-connect queries
    assert warm == ["SELECT 42"] * 3  # no BEGIN, ROLLBACK, or SET of the isolation level around them


def test_read_in_a_transaction_scope_would_send_begin(make_database: MakeDatabase, database: TestDatabase) -> None:
    """The control for the test above: the same log does show BEGIN for a transactional scope."""
    if not isinstance(database.server, EmbeddedPostgres):
        pytest.skip("reads the embedded server's statement log")
    database.server.execute(f"ALTER DATABASE \"{database.name}\" SET log_statement = 'all'")
    db = make_database()
    with db.connect() as conn:
        conn.execute(text("SELECT 43"))
    db.dispose()
    assert "BEGIN;SELECT 43" in database.server.logged_statements(applications=[db.config.application_name])


def test_pool_timeout_is_a_database_unavailable_error(make_database: MakeDatabase) -> None:
    db = make_database(pool_mode="single", pool_timeout_s=0.1)
    with db.read(), pytest.raises(PoolTimeoutError, match="no pooled connection became free") as raised, db.read():
        pass
    assert isinstance(raised.value, DatabaseUnavailableError)
    assert raised.value.retry_after_s >= 1
    assert db.get_stats()["pool_timeouts_num"] == 1


def test_server_connections_counts_this_environment(make_database: MakeDatabase) -> None:
    db = make_database(pool_mode="single")
    status = db.server_connections()
    assert status["count"] == 1  # the connection that asked
    assert status["by_state"] == {"active": 1}
    assert status["application_name"] == db.config.application_name


def test_warm_reads_open_no_new_connection(make_database: MakeDatabase, database: TestDatabase) -> None:
    db = make_database(pool_mode="single")
    with db.read() as conn:
        conn.execute(text("SELECT 1"))
    db.pop_stats()
    for _ in range(5):
        with db.read() as conn:
            conn.execute(text("SELECT 1"))
    stats = db.get_stats()
    assert (stats["connections_opened_num"], stats["checkouts_num"], stats["pings_num"]) == (0, 5, 0)
    assert database.connections(db.config.application_name) == 1


def test_pool_status_counts_checked_out_connections_in_null_mode(make_database: MakeDatabase) -> None:
    db = make_database(pool_mode="null")
    with db.read():
        during = db.pool_status()
    assert (during["mode"], during["pool_size"], during["checked_out"]) == ("null", 0, 1)
    assert db.pool_status()["checked_out"] == 0


def test_warm_handler_sends_only_its_statements(make_database: MakeDatabase, database: TestDatabase) -> None:
    """Through ``@db.handler``: a read is the SELECT alone; a write is BEGIN with the INSERT, then COMMIT.

    Each ``statement:`` line of the server's log is one query message, so one client round trip.
    """
    if not isinstance(database.server, EmbeddedPostgres):
        pytest.skip("reads the embedded server's statement log")
    database.server.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text)", database=database.name)
    database.server.execute(f'GRANT ALL ON notes, notes_id_seq TO "{database.user}"', database=database.name)
    database.server.execute(f"ALTER DATABASE \"{database.name}\" SET log_statement = 'all'")
    db = make_database(ping_after_idle_s=60.0)  # no ping even if this machine stalls between invocations

    @db.handler
    def handler(event: int, context: object) -> None:
        with db.read() as conn:
            conn.execute(text("SELECT body FROM notes WHERE id = :id"), {"id": event}).all()
        with db.connect() as conn:
            conn.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": f"note {event}"})

    for event in range(3):
        handler(event, LambdaContext())
    db.dispose()
    statements = database.server.logged_statements(applications=[db.config.application_name])
    warm = statements[statements.index("SELECT body FROM notes WHERE id = 0") :]  # after the first-connect queries
    expected = [
        [f"SELECT body FROM notes WHERE id = {n}", f"BEGIN;INSERT INTO notes (body) VALUES ('note {n}')", "COMMIT"]
        for n in range(3)
    ]
    assert warm == [statement for invocation in expected for statement in invocation]
