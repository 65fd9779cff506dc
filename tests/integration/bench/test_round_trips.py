"""The bench's round-trip counter against a server of its own (it switches statement logging on server-wide)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.bench import layer_work
from harness.bench.round_trips import count_round_trips
from harness.postgres import EmbeddedPostgres
from lambda_db import Database, DatabaseConfig


@pytest.fixture(scope="module")
def bench_server() -> Iterator[tuple[EmbeddedPostgres, str]]:
    with EmbeddedPostgres(max_connections=10, log_connections=False) as pg:
        yield pg, layer_work.prepare(pg)


def test_counts_one_per_query_message(bench_server: tuple[EmbeddedPostgres, str]) -> None:
    pg, _ = bench_server
    read, write, close = layer_work.raw_work(pg)
    _, write_with_begin, close_begin = layer_work.raw_work(pg, begin_with_insert=True)
    try:
        trips = count_round_trips(pg, {"default": (read, write), "begin sent along": (read, write_with_begin)})
    finally:
        close()
        close_begin()
    assert trips == {"default": (1.0, 3.0), "begin sent along": (1.0, 2.0)}


def test_the_layer_sends_no_round_trip_the_floor_does_not(bench_server: tuple[EmbeddedPostgres, str]) -> None:
    """GIVEN a warm ``single`` environment WHEN it serves reads and writes THEN no BEGIN, ROLLBACK, SET or ping."""
    pg, url = bench_server
    db = Database(DatabaseConfig(url=url, pool_mode="single", metrics="off", application_name="bench-test"))
    read, write = layer_work.layer_work(db, through_handler=True)
    try:
        read(0), write(0)  # warm: the dialect's first-connect queries are not per request
        assert count_round_trips(pg, {"single": (read, write)}) == {"single": (1.0, 2.0)}
    finally:
        db.dispose()
    assert not any("statement:" in line for line in _lines_after_counting(pg)), "logging was left on"


def _lines_after_counting(pg: EmbeddedPostgres) -> list[str]:
    before = len(list(pg.log_lines()))
    pg.execute("SELECT 'after counting'")
    return list(pg.log_lines())[before:]
