"""Units of work against a real server whose backend is terminated under them: run again before COMMIT, never after."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lambda_db import ConnectionLostError, Database
from tests.conftest import TestDatabase
from tests.integration.lambda_db.conftest import MakeDatabase, settled_connections

INSERT = text("INSERT INTO notes (id, body) VALUES (:id, :body)")
PID = text("SELECT pg_backend_pid()")


@pytest.fixture
def notes(database: TestDatabase) -> TestDatabase:
    database.server.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)", database=database.name)
    database.server.execute(f'GRANT ALL ON notes TO "{database.user}"', database=database.name)
    return database


def _bodies(database: TestDatabase) -> list[str]:
    rows = database.server.execute("SELECT body FROM notes ORDER BY id", database=database.name)
    return [str(body) for (body,) in rows]


def _kill(database: TestDatabase, db: Database, pid: int) -> None:
    """Terminate one backend and wait until the server has let it go (its transaction is rolled back by then)."""
    database.server.execute("SELECT pg_terminate_backend(%s)", pid)
    assert settled_connections(database, db.config.application_name, 0) == 0


def test_a_unit_whose_connection_dies_mid_work_runs_again_and_writes_once(
    make_database: MakeDatabase, notes: TestDatabase
) -> None:
    db = make_database(pool_mode="single")
    runs: list[int] = []

    def work(session: Session) -> str:
        runs.append(1)
        session.execute(INSERT, {"id": 1, "body": f"run {len(runs)}"})
        if len(runs) == 1:  # the first run loses its connection after its INSERT, before COMMIT
            _kill(notes, db, int(session.execute(PID).scalar_one()))
            session.execute(text("SELECT 1"))
        return "done"

    assert db.run_transaction(work) == "done"
    assert len(runs) == 2
    assert _bodies(notes) == ["run 2"]  # the first run's INSERT was rolled back with its session
    assert db.get_stats()["units_retried_num"] == 1


def test_a_connection_lost_at_commit_is_not_run_again(make_database: MakeDatabase, notes: TestDatabase) -> None:
    """At COMMIT the outcome is unknown to the client, so the unit is not run again: the caller gets the 503."""
    db = make_database(pool_mode="single")
    runs: list[int] = []
    pids: list[int] = []

    def kill_before_commit(connection: Any) -> None:  # the engine's ``commit`` event: just before COMMIT is sent
        if len(runs) == 1 and pids:
            _kill(notes, db, pids.pop())

    event.listen(db.engine, "commit", kill_before_commit)

    def work(session: Session) -> None:
        runs.append(1)
        pids.append(int(session.execute(PID).scalar_one()))
        session.execute(INSERT, {"id": 1, "body": "once"})

    with pytest.raises(ConnectionLostError, match="connection was lost"):
        db.run_transaction(work)
    assert len(runs) == 1
    assert _bodies(notes) == []  # here the COMMIT never reached the server; the layer could not have known
    assert db.get_stats()["units_retried_num"] == 0


def test_a_database_error_that_is_not_a_lost_connection_is_not_run_again(
    make_database: MakeDatabase, notes: TestDatabase
) -> None:
    db = make_database(pool_mode="single")
    notes.server.execute("INSERT INTO notes VALUES (1, 'there first')", database=notes.name)
    runs: list[int] = []

    def work(session: Session) -> None:
        runs.append(1)
        session.execute(INSERT, {"id": 1, "body": "duplicate"})

    with pytest.raises(IntegrityError):
        db.run_transaction(work)
    assert len(runs) == 1


def test_a_read_whose_connection_dies_runs_again_on_a_new_one(make_database: MakeDatabase, notes: TestDatabase) -> None:
    db = make_database(pool_mode="single")
    pids: list[int] = []

    def work(conn: Any) -> int:
        pids.append(int(conn.execute(PID).scalar_one()))
        if len(pids) == 1:
            _kill(notes, db, pids[0])
            conn.execute(text("SELECT 1"))
        return pids[-1]

    assert db.run_read(work) != pids[0]
    assert len(pids) == 2


def test_one_attempt_means_no_second_run(make_database: MakeDatabase, notes: TestDatabase) -> None:
    db = make_database(pool_mode="single")
    runs: list[int] = []

    def work(session: Session) -> None:
        runs.append(1)
        _kill(notes, db, int(session.execute(PID).scalar_one()))
        session.execute(text("SELECT 1"))

    with pytest.raises(ConnectionLostError):
        db.run_transaction(work, attempts=1)
    assert len(runs) == 1
    with pytest.raises(ValueError, match="attempts must be at least 1, got 0"):
        db.run_transaction(work, attempts=0)
