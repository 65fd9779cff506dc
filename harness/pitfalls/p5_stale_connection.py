"""Pitfall 5: a stale connection after a freeze, ``pg_terminate_backend`` or a server restart.

Symptom
    ``sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) server closed the connection unexpectedly
    / This probably means the server terminated abnormally before or while processing the request.`` on the first
    query after the connection sat idle - typically the first invocation after a Lambda environment was frozen.

Cause
    A pooled connection can die while nobody uses it: the server's ``idle_session_timeout``, an operator's (or a
    failover's) ``pg_terminate_backend``, a restart. The pool does not know until the next query fails on it.

Fix
    Check before use: the layer pings a connection at checkout when it sat idle longer than
    ``DB_PING_AFTER_IDLE_S`` (1 s by default, so back-to-back invocations pay nothing) or when the server wrote to
    it while it idled (its FATAL message and close, seen by polling the socket), and a dead one is
    invalidated and replaced at checkout, before the handler's query runs. (``pool_pre_ping=True`` does the same on
    every checkout.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import sqlalchemy as sa

from harness.pitfalls.base import Lab, Outcome, Pitfall
from harness.pitfalls.environments import invoke_together, local_lambda
from lambda_db import Database, DatabaseConfig, LambdaDbError

IDLE_TIMEOUT_S = 0.5  # the server's idle_session_timeout
IDLE_GAP_S = 1.2  # how long the "environment" sits frozen; longer than both the timeout and the ping threshold
BACKEND_PID = sa.text("SELECT pg_backend_pid()")


def _causes(lab: Lab, application: str) -> dict[str, Callable[[], object]]:
    """What kills an idle connection, applied while the connection sits in the pool."""
    return {
        "idle_session_timeout": lambda: None,  # the server does it by itself during the gap
        "pg_terminate_backend": lambda: lab.terminate_backends(application),
        "server restart": lambda: lab.server.restart(),
    }


Connect = Callable[[], AbstractContextManager[sa.Connection]]


def _query_after_idle(connect: Connect, kill: Callable[[], object], outcome: Outcome, cause: str) -> None:
    with connect() as conn:
        before = int(conn.execute(BACKEND_PID).scalar_one())
    kill()
    time.sleep(IDLE_GAP_S)
    try:
        with connect() as conn:
            after = int(conn.execute(BACKEND_PID).scalar_one())
        outcome.measure(**{f"{cause}: backend pid": f"{before} -> {after}"})
    except (sa.exc.DBAPIError, LambdaDbError) as exc:
        outcome.record(exc)
        outcome.measure(**{f"{cause}: backend pid": f"{before} -> (error)"})


def _frozen_environment(lab: Lab, handler: str, name: str, outcome: Outcome) -> bool:
    """The Lambda case: an environment is frozen between two invocations; the server ends its idle session meanwhile.

    Returns whether the second invocation found a live connection (a new one, since the old one is gone).
    """
    cause = "frozen Lambda environment"
    with local_lambda(lab, handler, application_name=name) as lam:
        first = invoke_together(lam, 1, {}).results[0]
        time.sleep(IDLE_GAP_S)  # frozen (SIGSTOP): nothing in the environment runs, its connection sits idle
        second = invoke_together(lam, 1, {})
    second.record_errors(outcome)
    served = not second.failed
    new_pid = second.results[0].payload["backend_pid"] if served else "(error)"
    outcome.measure(**{f"{cause}: backend pid": f"{first.payload['backend_pid']} -> {new_pid}"})
    return served and new_pid != first.payload["backend_pid"]


def reproduce(lab: Lab) -> Outcome:
    outcome = Outcome()
    for cause, kill in _causes(lab, "p5-before").items():
        engine = sa.create_engine(lab.url("p5-before"))  # BAD: no ping, no recycle
        try:
            _query_after_idle(engine.connect, kill, outcome, cause)
        finally:
            engine.dispose()
    _frozen_environment(lab, "unpinged_module_engine", "p5-before", outcome)
    return outcome


def fixed(lab: Lab) -> Outcome:
    outcome = Outcome()
    for cause, kill in _causes(lab, "p5-after").items():
        db = Database(DatabaseConfig(url=lab.url(), pool_mode="single", application_name="p5-after"))
        try:
            _query_after_idle(db.read, kill, outcome, cause)
            stats = db.get_stats()
            replaced = int(stats.get("invalidations_num", 0))
            outcome.measure(**{f"{cause}: dead connections replaced at checkout": replaced})
            outcome.check(f"{cause}: the dead connection was replaced before the query", replaced >= 1)
        finally:
            db.dispose()
    replaced = _frozen_environment(lab, "reused_engine", "p5-after", outcome)
    outcome.check("frozen Lambda environment: served by a new connection after the thaw", replaced)
    return outcome


PITFALL = Pitfall(
    number=5,
    slug="stale-connection",
    title="Stale connection after a freeze, pg_terminate_backend or a server restart",
    symptoms=(r"server closed the connection unexpectedly",),
    cause="a pooled connection died while idle (idle_session_timeout, pg_terminate_backend, restart) and the pool "
    "hands it out without checking",
    fix="ping at checkout after an idle gap (DB_PING_AFTER_IDLE_S); a dead connection is invalidated and replaced "
    "before the handler's query",
    reproduce=reproduce,
    fixed=fixed,
    server={"max_connections": 20, "idle_session_timeout_s": IDLE_TIMEOUT_S},
)
