"""Where a warm request's client CPU goes: the path a function runs, built up one stage at a time.

Each stage is a callable that runs the whole path up to and including that stage, with its real statement (the
SELECT or the INSERT, sent and answered), timed with this thread's CPU clock over many calls in interleaved rounds.
A stage's own cost is its time minus the time of the stage before it, so the running sum is the last stage's
measured CPU: the same path, and the same cold caches after each round trip, as the main table's row for it.
CPU time rather than wall time: the machine is shared, and what is asked is what the Python costs. A stage's time
is its fastest round, not its median: other processes on the machine only ever add CPU time to a round (evicted
caches, stolen cycles), and the differences between stages are a few microseconds, smaller than that noise.
In the order a warm read through a function runs them:

1. psycopg2 executes the SELECT and fetches the row (the floor's read);
2. SQLAlchemy's Core execute on a connection it already holds, its transaction marker left open (compile cache,
   result);
3. SQLAlchemy's transaction marker begun and ended around each statement (autobegin, then a rollback that sends
   nothing in autocommit): what any scope that hands out a fresh ``Connection`` state pays;
4. the scope ``db.read()``: the lease's checks and hand-over (:mod:`lambda_db.lease`), the autocommit flag, error
   mapping, timing;
5. the unit of work ``db.run_read`` around the scope;
6. ``@db.handler`` around it all with ``DB_METRICS=off``: deadline, leak check, counters popped;
7. the per-invocation line (log and EMF in one, serialised and written to /dev/null).

For comparison, the same scope in ``queue`` mode, where every scope checks out of the pool and returns to it, less
stage 3: what the lease saves. The write runs the same way: psycopg2 sending ``BEGIN;INSERT`` then ``COMMIT`` (the
two round trips the layer sends), SQLAlchemy's transaction on a held connection (three round trips, the stock
dialect's), the scope ``db.session()`` (an ORM session over the layer's dialect), the unit of work, the handler
without and with its report.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import create_engine

from harness.bench import layer_work
from harness.bench.layer_work import CONTEXT, INSERT, ROWS, SELECT, Closer, Work
from lambda_db import Database, DatabaseConfig

__all__ = ["measure_stages", "render_stages"]

CALLS, ROUNDS = 500, 21
COMPARED = "for comparison, not on the path: "  # a row outside the running sum
Run = Callable[[int], object]  # one call of a stage, given a request number
Stage = tuple[str, Run, int | None]  # name, what runs, index of its baseline stage


def _held_with_marker(url: str) -> tuple[Work, Closer]:
    """Stage 3's read: the held connection, its transaction marker begun by the SELECT and rolled back after it."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    connection = engine.connect()
    connection.connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]

    def read(i: int) -> None:
        connection.execute(SELECT, {"id": i % ROWS + 1}).one()
        connection.rollback()

    def close() -> None:
        connection.close()
        engine.dispose()

    return read, close


def _stages(db: Database, quiet: Database, pooled: Database, url: str) -> tuple[list[Stage], list[Stage], list[Closer]]:
    """The read's stages and the write's, in path order; and what closes their connections."""
    _, floor_write, floor_close = layer_work.raw_work(_Address(url), begin_with_insert=True)
    floor_read, _, floor_read_close = layer_work.raw_work(_Address(url))
    held_read, held_write, held_close = layer_work.held_connection_work(url)
    marker_read, marker_close = _held_with_marker(url)

    def scope_read(database: Database) -> Work:
        def run(i: int) -> None:
            with database.read() as conn:
                conn.execute(SELECT, {"id": i % ROWS + 1}).one()

        return run

    def scope_write(database: Database) -> Work:
        def run(i: int) -> None:
            with database.session() as session:
                session.execute(INSERT, {"payload": f"stage {i}"})

        return run

    def unit_read(database: Database) -> Callable[[int, object], object]:
        return lambda i, context: database.run_read(lambda conn: conn.execute(SELECT, {"id": i % ROWS + 1}).one())

    def unit_write(database: Database) -> Callable[[int, object], object]:
        return lambda i, context: database.run_transaction(
            lambda session: session.execute(INSERT, {"payload": f"stage {i}"})
        )

    def handled(database: Database, unit: Callable[[Database], Callable[[int, object], object]]) -> Run:
        handler = database.handler(unit(database))
        return lambda i: handler(i, CONTEXT)

    def bare(unit: Callable[[int, object], object]) -> Run:
        return lambda i: unit(i, CONTEXT)

    read: list[Stage] = [
        ("psycopg2 SELECT and fetch (the floor's read)", floor_read, None),
        ("SQLAlchemy Core execute on a held connection, over psycopg2's", held_read, 0),
        ("SQLAlchemy's transaction marker begun and rolled back around the statement", marker_read, 1),
        ("scope `db.read()`: the lease's checks and hand-over, autocommit flag, timing", scope_read(db), 2),
        ("unit of work `db.run_read`", bare(unit_read(db)), 3),
        ("`@db.handler` with DB_METRICS=off (deadline, leak check, counters popped)", handled(quiet, unit_read), 4),
        ("the per-invocation report line (log and EMF, serialised and written)", handled(db, unit_read), 5),
        (
            COMPARED + "scope `db.read()` in `queue` mode (a pool checkout and return), less the marker",
            scope_read(pooled),
            2,
        ),
    ]
    write: list[Stage] = [
        ("psycopg2 `BEGIN;INSERT`, then COMMIT (the two round trips the layer sends)", floor_write, None),
        ("SQLAlchemy Core transaction on a held connection (stock dialect: three round trips)", held_write, 0),
        ("scope `db.session()`: an ORM session on the lease's connection (two round trips)", scope_write(db), 1),
        ("unit of work `db.run_transaction`", bare(unit_write(db)), 2),
        ("`@db.handler` with DB_METRICS=off", handled(quiet, unit_write), 3),
        ("the per-invocation report line", handled(db, unit_write), 4),
        (COMPARED + "scope `db.session()` in `queue` mode, less the held transaction", scope_write(pooled), 1),
    ]
    return read, write, [floor_close, floor_read_close, held_close, marker_close, pooled.dispose]


class _Address:
    """Host and port of a SQLAlchemy URL, for the raw psycopg2 floor."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        self.host, self.port = str(parsed.host), int(parsed.port or 5432)


def _cpu_us(run: Run, calls: int) -> float:
    start = time.thread_time()
    for i in range(calls):
        run(i)
    return (time.thread_time() - start) / calls * 1e6


def _measure(stages: list[Stage], calls: int, rounds: int) -> list[tuple[str, float, float]]:
    """(stage, running sum of own costs, this stage's own CPU µs) per stage: fastest of interleaved rounds."""
    for _, run, _ in stages:
        run(0)
    samples: list[list[float]] = [[] for _ in stages]
    for _ in range(rounds):
        for index, (_, run, _) in enumerate(stages):
            samples[index].append(_cpu_us(run, calls))
    fastest = [min(sample) for sample in samples]
    rows, total = [], 0.0
    for index, (name, _, baseline) in enumerate(stages):
        own = fastest[index] - (0.0 if baseline is None else fastest[baseline])
        if not name.startswith(COMPARED):
            total += own
        rows.append((name, total, own))
    return rows


def measure_stages(
    db: Database, quiet: Database, url: str, *, quick: bool
) -> dict[str, list[tuple[str, float, float]]]:
    """The read's and the write's stages, measured on a warm single-mode ``db`` and the same with ``DB_METRICS=off``
    (``quiet``), both idle in between."""
    pooled = Database(DatabaseConfig(url=url, pool_mode="queue", application_name="bench-stages"))
    read, write, closers = _stages(db, quiet, pooled, url)
    calls, rounds = (100, 3) if quick else (CALLS, ROUNDS)
    try:
        return {"read": _measure(read, calls, rounds), "write": _measure(write, calls, rounds)}
    finally:
        for close in closers:
            close()


def render_stages(measured: dict[str, list[tuple[str, float, float]]]) -> list[str]:
    """Markdown: one table per path, one row per stage, cumulative and own CPU µs."""
    lines: list[str] = []
    for kind, rows in measured.items():
        lines += [
            "",
            f"Where a warm {kind}'s client CPU goes (single mode; each stage runs the path up to it with its real "
            "statement, CPU µs per call, the fastest of interleaved rounds; `this stage` is its time less the one "
            "before it, `up to here` the running sum):",
            "",
            "| stage | up to here (µs) | this stage (µs) |",
            "|---|---:|---:|",
        ]
        lines += [f"| {name} | {total:.1f} | {own:.1f} |" for name, total, own in rows]
    return lines
