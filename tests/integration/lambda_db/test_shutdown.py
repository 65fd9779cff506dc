"""SIGTERM: the pool is closed and the previous handler still runs."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from harness.kit.lambda_context import LambdaContext
from tests.conftest import TestDatabase
from tests.integration.lambda_db.conftest import MakeDatabase, settled_connections


@pytest.fixture
def previous_sigterm_handler() -> Iterator[list[int]]:
    received: list[int] = []
    original = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    yield received
    signal.signal(signal.SIGTERM, original)


def test_sigterm_disposes_the_engine_and_chains_the_previous_handler(
    make_database: MakeDatabase, database: TestDatabase, previous_sigterm_handler: list[int]
) -> None:
    db = make_database(pool_mode="single", sigterm_dispose=True)

    @db.handler
    def handler(event: Any, context: Any) -> int:
        with db.read() as conn:
            return int(conn.execute(text("SELECT 1")).scalar_one())

    handler({}, LambdaContext())
    assert database.connections(db.config.application_name) == 1
    os.kill(os.getpid(), signal.SIGTERM)
    assert settled_connections(database, db.config.application_name, 0) == 0
    assert previous_sigterm_handler == [signal.SIGTERM]


def test_no_signal_handler_is_installed_unless_asked(make_database: MakeDatabase) -> None:
    before = signal.getsignal(signal.SIGTERM)
    db = make_database(pool_mode="single")

    @db.handler
    def handler(event: Any, context: Any) -> None:
        return None

    handler({}, LambdaContext())
    assert signal.getsignal(signal.SIGTERM) is before
