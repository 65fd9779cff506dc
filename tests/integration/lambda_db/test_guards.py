"""Fork guard, threads on one engine, leak guard, and the liveness checks at checkout (idle gap, server wrote)."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from harness.kit.lambda_context import LambdaContext
from lambda_db import Database, DatabaseUnavailableError
from tests.conftest import TestDatabase
from tests.integration.lambda_db.conftest import (
    SETTLE_S,
    MakeDatabase,
    invocation_stats,
    settled_connections,
)

PID_SQL = text("SELECT pg_backend_pid()")


def _backend_pid(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(PID_SQL).scalar_one())


def _backend_pid_in_child(db: Database) -> str:
    """Fork; the child asks the server which backend serves it and reports it (or its error) through a pipe."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            answer = str(_backend_pid(db))
        except BaseException as error:  # report anything, never return into pytest
            answer = f"error: {type(error).__name__}"
        os.write(write_end, answer.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        answer = pipe.read()
    os.waitpid(child, 0)
    return answer


def test_fork_guard_gives_the_child_its_own_backend(make_database: MakeDatabase, database: TestDatabase) -> None:
    db = make_database(pool_mode="single")
    parent_backend = _backend_pid(db)
    child_backend = _backend_pid_in_child(db)
    assert child_backend.isdigit()
    assert int(child_backend) != parent_backend
    assert _backend_pid(db) == parent_backend  # the parent's connection is intact and still its own


def test_without_the_fork_guard_the_child_reuses_the_parents_connection(make_database: MakeDatabase) -> None:
    """The bug the guard prevents: two processes talking over one server session."""
    db = make_database(pool_mode="single", fork_guard=False)
    parent_backend = _backend_pid(db)
    assert _backend_pid_in_child(db) == str(parent_backend)


def test_threads_each_get_their_own_connection(make_database: MakeDatabase, database: TestDatabase) -> None:
    threads_num = 6
    db = make_database(pool_mode="queue", pool_size=threads_num, max_overflow=0)
    barrier = threading.Barrier(threads_num, timeout=30)
    results: dict[int, tuple[int, int]] = {}
    held: list[int] = []

    def work(n: int) -> None:
        with db.read() as conn:
            backend, echoed = conn.execute(text("SELECT pg_backend_pid(), :n"), {"n": n}).one()
            if barrier.wait() == 0:  # every thread holds its connection now
                held.append(database.connections(db.config.application_name))
            barrier.wait()
            results[n] = (int(backend), int(echoed))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_num)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert held == [threads_num]
    assert {n: echoed for n, (_, echoed) in results.items()} == {n: n for n in range(threads_num)}
    assert len({backend for backend, _ in results.values()}) == threads_num


def test_leak_guard_returns_a_leaked_connection(
    make_database: MakeDatabase, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    db = make_database(pool_mode="single", pool_timeout_s=0.5)
    leaked: list[Any] = []

    @db.handler
    def leaky(event: Any, context: Any) -> int:
        conn = db.engine.connect()  # never closed: the bug
        leaked.append(conn)
        return int(conn.execute(PID_SQL).scalar_one())

    @db.handler
    def tidy(event: Any, context: Any) -> int:
        return _backend_pid(db)

    first = leaky({}, LambdaContext())
    assert db.pool_status()["checked_out"] == 0
    assert tidy({}, LambdaContext()) == first  # same connection, returned rather than thrown away
    [warning] = [record for record in caplog.records if "still checked out" in record.getMessage()]
    assert "test_guards.py" in warning.leak["checked_out_at"][0]  # where it was checked out
    assert "in leaky" in warning.leak["checked_out_at"][0]
    assert [stats["leaks_num"] for stats in invocation_stats(capsys.readouterr().out)] == [1, 0]


def test_dead_idle_connection_is_replaced_before_use(make_database: MakeDatabase, database: TestDatabase) -> None:
    db = make_database(pool_mode="single", ping_after_idle_s=0.0)
    before = _backend_pid(db)
    assert database.terminate_backends() == 1
    after = _backend_pid(db)  # no error reaches the caller
    assert after != before
    stats = db.get_stats()
    assert stats["pings_num"] >= 1
    assert stats["invalidations_num"] == 1
    assert stats["connections_opened_num"] == 2


def test_a_connection_killed_inside_the_idle_threshold_is_replaced_before_use(
    make_database: MakeDatabase, database: TestDatabase
) -> None:
    """No idle gap, so no ping for that: the FATAL message and close the server sent while it idled trigger one."""
    db = make_database(pool_mode="single", ping_after_idle_s=3600.0)
    before = _backend_pid(db)
    assert database.terminate_backends() == 1
    assert settled_connections(database, db.config.application_name, 0) == 0  # the server has closed its side
    after = _backend_pid(db)  # no error reaches the caller
    assert after != before
    stats = db.get_stats()
    assert (stats["pings_num"], stats["invalidations_num"], stats["connections_opened_num"]) == (1, 1, 2)


def test_a_healthy_connection_inside_the_idle_threshold_is_not_pinged(make_database: MakeDatabase) -> None:
    db = make_database(pool_mode="single", ping_after_idle_s=3600.0)
    backends = {_backend_pid(db) for _ in range(5)}
    assert len(backends) == 1
    assert db.get_stats()["pings_num"] == 0


def test_a_connection_killed_while_in_use_reaches_the_caller_as_unavailable(
    make_database: MakeDatabase, database: TestDatabase
) -> None:
    """The one case no check at checkout can catch: the statement may have run, so it is not retried either."""
    db = make_database(pool_mode="single")
    _backend_pid(db)

    def kill_when_busy() -> None:
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline and not database.server.execute(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND query LIKE 'SELECT pg_sleep%%'",
            db.config.application_name,
        ):
            time.sleep(0.01)
        database.terminate_backends()

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    with pytest.raises(DatabaseUnavailableError, match="connection was lost"), db.read() as conn:
        conn.execute(text("SELECT pg_sleep(30)"))
    killer.join()
    assert db.get_stats()["pings_num"] == 0
    _backend_pid(db)  # and the pool recovers on the next checkout
