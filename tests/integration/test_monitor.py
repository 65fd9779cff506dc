"""The monitor counts what the server saw: short-lived connections included, held ones sampled."""

from __future__ import annotations

import time

import psycopg2
import pytest
import sqlalchemy as sa

from harness.kit.monitor import ConnectionMonitor
from harness.postgres import EmbeddedPostgres
from tests.conftest import TestDatabase


def test_monitor_counts_every_short_lived_connection_from_the_log(database: TestDatabase) -> None:
    engine = sa.create_engine(database.url, poolclass=sa.pool.NullPool)
    monitor = ConnectionMonitor(database.server, database=database.name, interval_s=0.05).start()
    for _ in range(7):
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    result = monitor.stop()
    assert result.connections_opened == 7
    assert result.opened_counted_from == "server log"
    assert result.final_connections == 0


def test_monitor_samples_held_connections_and_their_memory(database: TestDatabase) -> None:
    engine = sa.create_engine(database.url, pool_size=3, max_overflow=0)
    monitor = ConnectionMonitor(database.server, database=database.name, interval_s=0.01).start()
    held = [engine.connect() for _ in range(3)]
    for conn in held:
        conn.execute(sa.text("SELECT 1"))
    time.sleep(0.3)
    result = monitor.stop()
    assert max(sample.app for sample in result.samples) == 3
    assert result.final_connections == 3
    assert result.peak_memory_kib is not None
    assert result.peak_memory_kib > 0
    for conn in held:
        conn.close()
    engine.dispose()


def test_monitor_counts_refused_attempts_apart_from_connections_opened() -> None:
    with EmbeddedPostgres(max_connections=6) as pg:
        pg.create_role("app", "pw")
        pg.create_database("d", owner="app")
        monitor = ConnectionMonitor(pg, database="d", interval_s=0.05).start()
        held, refused = [], 0
        for _ in range(6):  # 3 slots are reserved for superusers, the monitor holds one: 2 get in, 4 are refused
            try:
                held.append(psycopg2.connect(host=pg.host, port=pg.port, user="app", password="pw", dbname="d"))
            except psycopg2.OperationalError:
                refused += 1
        # fill the superusers' reserved slots too: the next attempt is refused before it is even authenticated
        held += [psycopg2.connect(pg.dsn()) for _ in range(3)]
        with pytest.raises(psycopg2.OperationalError, match="too many clients"):
            psycopg2.connect(host=pg.host, port=pg.port, user="app", password="pw", dbname="d")
        result = monitor.stop()
        assert refused == 4
        assert result.connections_opened == 2
        assert result.connections_refused == 5
        for conn in held:
            conn.close()
