"""Pitfall 6: ``pool_recycle`` longer than the server's idle timeout, and a slow query holding the only connection.

Symptom
    (a) ``server closed the connection unexpectedly`` on the first query after a quiet spell, although
    ``pool_recycle`` is set - to 1800 s, while the server (or a proxy, or a NAT) drops idle sessions sooner.
    (b) ``sqlalchemy.exc.TimeoutError: QueuePool limit of size 1 overflow 0 reached, connection timed out`` for
    every request that arrives while one slow query holds the environment's only connection.

Cause
    (a) ``pool_recycle`` replaces connections older than N seconds *at checkout*; when N is longer than the
    server's idle timeout, the server closes them first. (b) Without ``statement_timeout`` a slow query holds its
    connection as long as it likes; everything else waits for the pool and times out.

Fix
    (a) ``DB_POOL_RECYCLE_S`` below the server's idle timeout (the layer's idle ping, turned off here to show
    recycle alone, catches it too). (b) ``DB_STATEMENT_TIMEOUT_MS``, which the template sets: the server cancels
    the slow query, the connection comes back, and the next request is served.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import sqlalchemy as sa

from harness.pitfalls.base import Lab, Outcome, Pitfall, exception_text
from lambda_db import Database, DatabaseConfig, LambdaDbError

SERVER_IDLE_TIMEOUT_S = 1.0
IDLE_GAP_S = 1.5
POOL_TIMEOUT_S = 2.0  # generous against STATEMENT_TIMEOUT_MS, so a busy machine cannot fake a failure
SLOW_QUERY = sa.text("SELECT pg_sleep(3)")  # longer than the pool timeout
STATEMENT_TIMEOUT_MS = 200  # much shorter than the pool timeout
Connect = Callable[[], AbstractContextManager[sa.Connection]]


def _recycle_case(connect: Connect, outcome: Outcome) -> None:
    with connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    time.sleep(IDLE_GAP_S)  # the server ends the idle session meanwhile
    try:
        with connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        outcome.measure(**{"(a) query after idle gap": "ok"})
    except (sa.exc.DBAPIError, LambdaDbError) as exc:
        outcome.record(exc)
        outcome.measure(**{"(a) query after idle gap": "error"})


def _slow_query_case(connect: Connect, outcome: Outcome) -> str:
    """One thread runs the slow query; meanwhile a second request wants a connection. Returns the slow side's fate."""
    holding = threading.Event()
    fate: list[str] = []

    def slow_request() -> None:
        try:
            with connect() as conn:
                holding.set()
                conn.execute(SLOW_QUERY)
            fate.append("ran to the end")
        except (sa.exc.DBAPIError, LambdaDbError) as exc:
            fate.append(exception_text(exc))
        finally:
            holding.set()

    slow = threading.Thread(target=slow_request)
    slow.start()
    holding.wait()
    try:
        with connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        outcome.measure(**{"(b) request behind the slow query": "served"})
    except (sa.exc.TimeoutError, LambdaDbError) as exc:
        outcome.record(exc)
        outcome.measure(**{"(b) request behind the slow query": "timed out"})
    slow.join()
    outcome.measure(**{"(b) slow query": fate[0]})
    return fate[0]


def reproduce(lab: Lab) -> Outcome:
    outcome = Outcome()
    # BAD: the seed article's settings, against a server that drops idle sessions after 1 s.
    engine = sa.create_engine(lab.url("p6-before"), pool_recycle=1800, pool_size=1, max_overflow=0)
    try:
        _recycle_case(engine.connect, outcome)
    finally:
        engine.dispose()
    engine = sa.create_engine(lab.url("p6-before"), pool_size=1, max_overflow=0, pool_timeout=POOL_TIMEOUT_S)
    try:
        _slow_query_case(engine.connect, outcome)
    finally:
        engine.dispose()
    return outcome


def fixed(lab: Lab) -> Outcome:
    outcome = Outcome()
    recycle = DatabaseConfig(
        url=lab.url(),
        pool_recycle_s=SERVER_IDLE_TIMEOUT_S / 2,
        ping_after_idle_s=3600,  # ping off: recycle alone must do it
        application_name="p6-after",
    )
    db = Database(recycle)
    try:
        _recycle_case(db.read, outcome)
        outcome.check("(a) recycle below the idle timeout: no stale connection", not outcome.errors)
        outcome.check("(a) recycle replaced it, no liveness ping needed", db.get_stats()["pings_num"] == 0)
    finally:
        db.dispose()
    bounded = DatabaseConfig(
        url=lab.url(),
        pool_timeout_s=POOL_TIMEOUT_S,
        statement_timeout_ms=STATEMENT_TIMEOUT_MS,
        application_name="p6-after",
    )
    db = Database(bounded)
    try:
        fate = _slow_query_case(db.read, outcome)
        outcome.check("(b) statement_timeout cancelled the slow query", "statement timeout" in fate)
        outcome.check("(b) the next request was served", not outcome.errors)
    finally:
        db.dispose()
    return outcome


PITFALL = Pitfall(
    number=6,
    slug="recycle-and-slow-query",
    title="pool_recycle longer than the server's idle timeout; a slow query holding the only connection",
    symptoms=(
        r"server closed the connection unexpectedly",
        r"QueuePool limit of size 1 overflow 0 reached, connection timed out",
    ),
    cause="(a) the server drops idle sessions before pool_recycle replaces them; (b) with no statement_timeout a "
    "slow query holds the environment's only connection and the next request times out waiting",
    fix="(a) DB_POOL_RECYCLE_S below the server's idle timeout (or the idle ping); (b) DB_STATEMENT_TIMEOUT_MS, set "
    "by the template, bounds the slow query",
    reproduce=reproduce,
    fixed=fixed,
    server={"max_connections": 20, "idle_session_timeout_s": SERVER_IDLE_TIMEOUT_S},
)
