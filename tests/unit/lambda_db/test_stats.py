"""Stats: keys carry units, every key is always present, pop resets."""

from __future__ import annotations

from lambda_db import STATS_KEYS
from lambda_db.stats import Stats


def test_every_key_is_present_and_carries_a_unit() -> None:
    stats = Stats().get()
    assert set(stats) == set(STATS_KEYS)
    assert all(key.endswith(("_num", "_ms")) for key in stats)


def test_pop_returns_the_counts_and_resets_them() -> None:
    stats = Stats()
    stats.add("checkouts_num")
    stats.add("checkouts_num")
    stats.add("connect_ms", 1.25)
    assert stats.pop()["checkouts_num"] == 2
    assert stats.get()["checkouts_num"] == 0
    assert stats.get()["connect_ms"] == 0


def test_counts_are_whole_numbers_and_times_are_milliseconds() -> None:
    stats = Stats()
    stats.add("leaks_num")
    with stats.timed("db_time_ms"):
        pass
    snapshot = stats.get()
    assert isinstance(snapshot["leaks_num"], int)
    assert snapshot["db_time_ms"] >= 0
