"""Pitfall 4: one Session (or Connection) shared by threads.

Symptom
    ``sqlalchemy.exc.InvalidRequestError: This session is provisioning a new connection; concurrent operations are
    not permitted``, ``IllegalStateChangeError: Method 'commit()' can't be called here; method 'commit()' is already
    in progress``, or no error at all and rows that were "committed" missing: one thread's rollback undid another's.

Cause
    The engine and its pool are thread-safe; a ``Session`` and a ``Connection`` are not. They hold one transaction
    on one connection, so threads sharing one interleave their BEGIN / INSERT / COMMIT / ROLLBACK on it.

Fix
    One session per unit of work per thread (``with db.session()`` inside the task), all from the one shared
    engine. The pool hands each thread its own connection and bounds how many there are.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harness.pitfalls.base import Lab, Outcome, Pitfall
from lambda_db import Database, DatabaseConfig

THREADS = 8
INSERTS_PER_THREAD = 25
POOL_SIZE = 4  # fewer connections than threads: the pool, not the thread count, bounds the server's load
INSERT = sa.text("INSERT INTO events (thread) VALUES (:thread)")


def _create_table(lab: Lab) -> None:
    engine = sa.create_engine(lab.url())
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE events (id serial PRIMARY KEY, thread int NOT NULL)"))
    engine.dispose()


def _count_rows(lab: Lab) -> int:
    engine = sa.create_engine(lab.url())
    with engine.connect() as conn:
        rows = int(conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one())
    engine.dispose()
    return rows


def _run(task: Any, outcome: Outcome) -> int:
    """Run THREADS x INSERTS_PER_THREAD tasks on a thread pool; return how many reported success."""
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(task, thread) for thread in range(THREADS) for _ in range(INSERTS_PER_THREAD)]
    committed = 0
    for future in futures:
        error = future.exception()
        if error is None:
            committed += 1
        else:
            outcome.record(error)
    return committed


def reproduce(lab: Lab) -> Outcome:
    outcome = Outcome()
    _create_table(lab)
    engine = sa.create_engine(lab.url("p4-before"), pool_size=POOL_SIZE, max_overflow=0)
    shared = Session(engine)  # BAD: one session for every thread

    def task(thread: int) -> None:
        try:
            shared.execute(INSERT, {"thread": thread})
            shared.commit()
        except Exception:
            shared.rollback()
            raise

    try:
        committed = _run(task, outcome)
        rows = _count_rows(lab)
        outcome.measure(tasks=THREADS * INSERTS_PER_THREAD, reported_committed=committed, rows_in_table=rows)
        if rows != committed:  # wrong results without an exception are the worst case: make them visible
            outcome.record_text(f"wrong results: {committed} inserts reported committed, {rows} rows in the table")
    finally:
        shared.close()
        engine.dispose()
    return outcome


def fixed(lab: Lab) -> Outcome:
    outcome = Outcome()
    _create_table(lab)
    config = DatabaseConfig(
        url=lab.url(), pool_mode="queue", pool_size=POOL_SIZE, max_overflow=0, application_name="p4-after"
    )
    db = Database(config)

    def task(thread: int) -> None:
        with db.session() as session:  # GOOD: a session per task, on the shared engine
            session.execute(INSERT, {"thread": thread})

    try:
        committed = _run(task, outcome)
        rows = _count_rows(lab)
        held = lab.connections("p4-after")
        outcome.measure(tasks=THREADS * INSERTS_PER_THREAD, reported_committed=committed, rows_in_table=rows)
        outcome.measure(server_connections=held)
        outcome.check("every insert committed and present", committed == rows == THREADS * INSERTS_PER_THREAD)
        outcome.check(f"at most pool_size={POOL_SIZE} server connections for {THREADS} threads", held <= POOL_SIZE)
    finally:
        db.dispose()
    return outcome


PITFALL = Pitfall(
    number=4,
    slug="shared-session-threads",
    title="One Session or Connection shared by threads",
    symptoms=(
        r"concurrent operations are not permitted|IllegalStateChangeError|is already in progress"
        r"|wrong results: \d+ inserts reported committed",
    ),
    cause="Session and Connection hold one transaction on one connection and are not thread-safe; threads "
    "sharing one interleave BEGIN / COMMIT / ROLLBACK",
    fix="one session per task per thread (`with db.session()`) on the shared, thread-safe engine",
    reproduce=reproduce,
    fixed=fixed,
)
