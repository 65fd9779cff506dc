"""The bench's delay relay: it carries a real Postgres session, and holds each chunk at least its delay."""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg2
import pytest

from harness.bench.relay import DelayRelay
from tests.conftest import TestDatabase

DELAY_US = 20_000  # large enough that the relay's hold, not loopback, is what a round trip waits for


def test_a_session_through_the_relay_works_and_each_round_trip_waits_for_both_holds(database: TestDatabase) -> None:
    server = database.server
    with DelayRelay(server.host, server.port, delay_us=DELAY_US) as relay:
        conn = psycopg2.connect(server.dsn(database.name), host=relay.host, port=relay.port)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                started = time.monotonic()
                cur.execute("SELECT current_database()")
                waited_s = time.monotonic() - started
                assert cur.fetchone() == (database.name,)
        finally:
            conn.close()
    assert waited_s >= 2 * DELAY_US / 1e6  # a lower bound: a sleep never ends early, so this cannot flake


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--to", "nowhere", "--delay-us", "1"], "is not HOST:PORT"),
        (["--to", "127.0.0.1:5432", "--delay-us", "-5"], "--delay-us must be >= 0"),
    ],
)
def test_bad_arguments_are_refused_with_the_fix(arguments: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness.bench.relay", *arguments], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
