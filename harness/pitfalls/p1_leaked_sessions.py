"""Pitfall 1: pool exhaustion by leaked sessions.

Symptom
    ``sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 1.00``
    and ``engine.pool.status()`` says ``checked out=15``, although no request is running.

Cause
    A session is opened, a query checks a connection out, and an error path raises before ``session.close()``.
    In CPython the leak is usually made permanent by something that keeps the exception: an error reporter's
    buffer of recent exceptions holds each traceback, the traceback holds the handler's frame, the frame holds the
    session, and the session holds its connection. After ``pool_size + max_overflow`` such errors the pool is empty
    and every later request waits ``pool_timeout`` and fails.

Fix
    The session scope (``with db.session() as s``) closes the session on every path, so the pool goes back to idle.
    The layer's leak guard (``@db.handler``) catches the code that still forgets: at the end of each invocation it
    returns whatever is still checked out, logs where it was taken, and counts ``leaks_num``.
"""

from __future__ import annotations

import functools
import gc
from collections import deque
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harness.kit.lambda_context import LambdaContext
from harness.pitfalls.base import Lab, Outcome, Pitfall
from lambda_db import Database, DatabaseConfig

REQUESTS = 20
POOL_TIMEOUT_S = 1.0


class ValidationError(Exception):
    """The application's own error on the error path (a bad request), not the symptom."""


def leaky_request(engine: sa.Engine) -> None:
    """BAD: the session is closed only on the happy path."""
    session = Session(engine)
    session.execute(sa.text("SELECT 1"))  # checks a connection out and begins a transaction
    raise ValidationError("bad request")  # ... so the line below never runs
    session.close()  # type: ignore[unreachable]


def scoped_request(db: Database) -> None:
    """GOOD: the scope rolls back and closes on the error path too."""
    with db.session() as session:
        session.execute(sa.text("SELECT 1"))
        raise ValidationError("bad request")


def _serve(request: Callable[[], object], recent_errors: deque[BaseException]) -> None:
    """The web framework's part: turn the error into a 400 and keep it for the error reporter."""
    try:
        request()
    except ValidationError as exc:
        recent_errors.append(exc)  # keeps the traceback, hence the frame, hence the session


def reproduce(lab: Lab) -> Outcome:
    outcome = Outcome()
    engine = sa.create_engine(lab.url("p1-before"), pool_size=5, max_overflow=10, pool_timeout=POOL_TIMEOUT_S)
    recent_errors: deque[BaseException] = deque(maxlen=100)
    try:
        for served in range(REQUESTS):
            try:
                _serve(lambda: leaky_request(engine), recent_errors)
            except sa.exc.TimeoutError as exc:
                outcome.record(exc)
                outcome.measure(requests_before_timeout=served)
                break
        outcome.measure(
            pool_status=engine.pool.status(),
            checked_out=engine.pool.checkedout(),  # type: ignore[attr-defined]
            server_connections=lab.connections("p1-before"),
        )
    finally:
        recent_errors.clear()
        gc.collect()  # the kept tracebacks form cycles: free the leaked sessions before the database goes away
        engine.dispose()
    return outcome


def fixed(lab: Lab) -> Outcome:
    outcome = Outcome()
    config = DatabaseConfig(
        url=lab.url(), pool_mode="queue", pool_timeout_s=POOL_TIMEOUT_S, application_name="p1-after"
    )
    db = Database(config)
    recent_errors: deque[BaseException] = deque(maxlen=100)

    @db.handler
    def scoped_handler(event: Any, context: Any) -> None:
        scoped_request(db)  # the same failing requests, written with `with db.session()`

    @db.handler
    def guarded_leaky_handler(event: Any, context: Any) -> None:
        leaky_request(db.engine)  # the same *leaky* code: only the leak guard stands between it and exhaustion

    worst_after_invocation = 0
    try:
        for number in range(REQUESTS):
            for handler in (scoped_handler, guarded_leaky_handler):
                try:
                    _serve(
                        functools.partial(
                            handler, {}, LambdaContext(function_name="pitfall", aws_request_id=f"p1-{number}")
                        ),
                        recent_errors,
                    )
                except Exception as exc:  # noqa: BLE001 - anything but the app's own error means the fix failed
                    outcome.record(exc)
                worst_after_invocation = max(worst_after_invocation, int(db.pool_status()["checked_out"]))
        status = db.pool_status()
        outcome.measure(
            pool_status=str(status["status"]),
            checked_out=int(status["checked_out"]),
            server_connections=lab.connections("p1-after"),
            most_checked_out_after_an_invocation=worst_after_invocation,
        )
        outcome.check("pool back to idle (checked out=0)", status["checked_out"] == 0)
        outcome.check("no more server connections than pool_size", lab.connections("p1-after") <= 5)
        outcome.check("nothing checked out after any invocation", worst_after_invocation == 0)
    finally:
        recent_errors.clear()
        gc.collect()
        db.dispose()
    return outcome


PITFALL = Pitfall(
    number=1,
    slug="leaked-sessions",
    title="Pool exhaustion by leaked sessions",
    symptoms=(r"QueuePool limit of size 5 overflow 10 reached, connection timed out",),
    cause="sessions not closed on an error path stay checked out (a kept exception keeps the session alive), "
    "until pool_size + max_overflow are all held",
    fix="`with db.session()` closes on every path; `@db.handler`'s leak guard returns what is still checked out "
    "at the end of each invocation",
    reproduce=reproduce,
    fixed=fixed,
)
