"""Each pool mode, counted on the server: connections opened per invocation and connections held between them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from harness.kit.lambda_context import LambdaContext
from lambda_db import Database
from tests.conftest import TestDatabase
from tests.integration.lambda_db.conftest import InvocationLog, MakeDatabase, settled_connections

INVOCATIONS = 3


def _invoke_repeatedly(db: Database, database: TestDatabase, *, held_after: int) -> tuple[list[int], list[int]]:
    """Run a handler INVOCATIONS times; return the server backend pid serving each one and connections held after."""

    @db.handler
    def handler(event: Any, context: Any) -> int:
        with db.read() as conn:
            return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    pids, held = [], []
    for _ in range(INVOCATIONS):
        pids.append(handler({}, LambdaContext()))
        held.append(settled_connections(database, db.config.application_name, held_after))
    return pids, held


def test_single_mode_opens_one_connection_and_holds_it(
    make_database: MakeDatabase, database: TestDatabase, invocation_log: InvocationLog
) -> None:
    db = make_database(pool_mode="single")
    pids, held = _invoke_repeatedly(db, database, held_after=1)
    assert len(set(pids)) == 1  # one backend served every invocation
    assert held == [1, 1, 1]
    assert [line["connections_opened_num"] for line in invocation_log()] == [1, 0, 0]


def test_null_pool_opens_one_connection_per_invocation_and_holds_none(
    make_database: MakeDatabase, database: TestDatabase, invocation_log: InvocationLog
) -> None:
    db = make_database(pool_mode="null")
    pids, held = _invoke_repeatedly(db, database, held_after=0)
    assert len(set(pids)) == INVOCATIONS  # a new backend for every invocation
    assert held == [0, 0, 0]
    assert [line["connections_opened_num"] for line in invocation_log()] == [1, 1, 1]


def test_queue_mode_reuses_one_connection_for_sequential_invocations(
    make_database: MakeDatabase, database: TestDatabase, invocation_log: InvocationLog
) -> None:
    db = make_database(pool_mode="queue")
    pids, held = _invoke_repeatedly(db, database, held_after=1)
    assert len(set(pids)) == 1  # one backend served every invocation
    assert held == [1, 1, 1]
    assert [line["connections_opened_num"] for line in invocation_log()] == [1, 0, 0]
    assert db.pool_status()["pool_size"] == 5


def test_per_invocation_mode_opens_per_invocation_and_holds_nothing_after(
    make_database: MakeDatabase, database: TestDatabase, invocation_log: InvocationLog
) -> None:
    db = make_database(pool_mode="per_invocation")
    pids, held = _invoke_repeatedly(db, database, held_after=0)
    assert len(set(pids)) == INVOCATIONS  # a new backend for every invocation
    assert held == [0, 0, 0]
    assert [line["connections_opened_num"] for line in invocation_log()] == [1, 1, 1]


def test_pool_status_reports_the_single_connection(make_database: MakeDatabase) -> None:
    db = make_database(pool_mode="single")
    assert db.pool_status()["status"] == "no engine yet"
    with db.read() as conn:
        conn.execute(text("SELECT 1"))
        during = db.pool_status()
    after = db.pool_status()
    assert (during["mode"], during["pool_size"], during["checked_out"]) == ("single", 1, 1)
    assert (after["checked_in"], after["checked_out"], after["overflow"]) == (1, 0, 0)
