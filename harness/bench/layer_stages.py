"""Where a warm request's client CPU goes: the layer's path cut into stages, each timed on its own.

Each stage is a callable that runs the path up to and including that stage with no query (or, for the first two,
the query alone), timed with this thread's CPU clock over many calls in interleaved rounds; a stage's cost is its
median minus the median of the stage before it. CPU time rather than wall time: the machine is shared, and what
is asked is what the Python costs. Each stage's own cost is its callable's time minus its baseline's (the stage
that runs the same path without it); the running sum is the estimated total. In the order a warm read through a
function runs them:

1. psycopg2 executes the SELECT and fetches the row (the floor's read);
2. SQLAlchemy's Core execute on a connection it already holds (compile cache, result), minus 1;
3. the scope ``db.read()`` with no statement: the lease's checks and hand-over (:mod:`lambda_db.lease`), the
   autocommit flag, error mapping, timing;
4. the unit of work ``db.run_read`` around the scope, minus 3;
5. ``@db.handler`` around it all (deadline, leak check, counters popped, the per-invocation line written), minus 4.

For comparison, the same empty scope in ``queue`` mode, where every scope checks out of the pool and returns to
it: what the lease saves. The write's scope is ``db.session()`` / ``db.run_transaction`` (its statements, COMMIT
and round trips are not among the stages).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from harness.bench import layer_work
from harness.bench.layer_work import CONTEXT, Closer
from lambda_db import Database, DatabaseConfig

__all__ = ["measure_stages", "render_stages"]

CALLS, ROUNDS = 2000, 9
COMPARED = "for comparison, not on the path: "  # a row outside the running sum
Stage = tuple[str, Callable[[], object], int | None]  # name, what runs, index of its baseline stage


def _stages(db: Database, pooled: Database, url: str) -> tuple[list[Stage], list[Stage], list[Closer]]:
    """The read's stages and the write's (scope-level ones), in path order; and what closes their connections."""
    floor_read, _, floor_close = layer_work.raw_work(_Address(url))
    held_read, _, held_close = layer_work.held_connection_work(url)

    def empty_read(database: Database) -> Callable[[], None]:
        def run() -> None:
            with database.read():
                pass

        return run

    def empty_session(database: Database) -> Callable[[], None]:
        def run() -> None:
            with database.session():
                pass

        return run

    read_handler = db.handler(lambda event, ctx: db.run_read(lambda conn: None))
    write_handler = db.handler(lambda event, ctx: db.run_transaction(lambda session: None))
    read: list[Stage] = [
        ("psycopg2 SELECT and fetch (the floor's read)", lambda: floor_read(0), None),
        ("SQLAlchemy Core execute on a held connection, over psycopg2's", lambda: held_read(0), 0),
        ("scope `db.read()`, its connection from the lease", empty_read(db), None),
        ("unit of work `db.run_read`", lambda: db.run_read(lambda conn: None), 2),
        ("`@db.handler` (deadline, leak check, counters, the report line)", lambda: read_handler(0, CONTEXT), 3),
        (COMPARED + "scope `db.read()` in `queue` mode (a pool checkout and return)", empty_read(pooled), None),
    ]
    write: list[Stage] = [
        ("scope `db.session()` (ORM session, commit with nothing to send), from the lease", empty_session(db), None),
        ("unit of work `db.run_transaction`", lambda: db.run_transaction(lambda session: None), 0),
        ("`@db.handler`", lambda: write_handler(0, CONTEXT), 1),
        (COMPARED + "scope `db.session()` in `queue` mode", empty_session(pooled), None),
    ]
    return read, write, [floor_close, held_close, pooled.dispose]


class _Address:
    """Host and port of a SQLAlchemy URL, for the raw psycopg2 floor."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        self.host, self.port = str(parsed.host), int(parsed.port or 5432)


def _cpu_us(run: Callable[[], object], calls: int) -> float:
    start = time.thread_time()
    for _ in range(calls):
        run()
    return (time.thread_time() - start) / calls * 1e6


def _measure(stages: list[Stage], calls: int, rounds: int) -> list[tuple[str, float, float]]:
    """(stage, running sum of own costs, this stage's own CPU µs) per stage: medians over interleaved rounds."""
    for _, run, _ in stages:
        run()
    samples: list[list[float]] = [[] for _ in stages]
    for _ in range(rounds):
        for index, (_, run, _) in enumerate(stages):
            samples[index].append(_cpu_us(run, calls))
    medians = [statistics.median(sample) for sample in samples]
    rows, total = [], 0.0
    for index, (name, _, baseline) in enumerate(stages):
        own = medians[index] - (0.0 if baseline is None else medians[baseline])
        if not name.startswith(COMPARED):
            total += own
        rows.append((name, total, own))
    return rows


def measure_stages(db: Database, url: str, *, quick: bool) -> dict[str, list[tuple[str, float, float]]]:
    """The read's and the write's stages, measured on a warm single-mode ``db`` (idle in between)."""
    pooled = Database(DatabaseConfig(url=url, pool_mode="queue", application_name="bench-stages"))
    read, write, closers = _stages(db, pooled, url)
    calls, rounds = (200, 3) if quick else (CALLS, ROUNDS)
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
            f"Where a warm {kind}'s client CPU goes (single mode; each stage timed on its own and less its baseline, "
            "CPU µs per call, median over interleaved rounds; `up to here` is the running sum):",
            "",
            "| stage | up to here (µs) | this stage (µs) |",
            "|---|---:|---:|",
        ]
        lines += [f"| {name} | {total:.1f} | {own:.1f} |" for name, total, own in rows]
    return lines
