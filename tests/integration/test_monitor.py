"""The monitor counts what the server saw: short-lived connections included, held ones sampled."""

from __future__ import annotations

import time

import sqlalchemy as sa

from harness.monitor import ConnectionMonitor
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
