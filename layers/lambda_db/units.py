"""Units of work that survive a connection lost under them: run again on a new connection when they cannot have
committed.

A connection can die under a running transaction: a failover, a restart, ``pg_terminate_backend``, a proxy that
restarts. PostgreSQL rolls back the open transaction of a session that ends, so when the loss surfaces while the
unit's own statements run (before COMMIT is sent), nothing of it was written, and running the whole unit again on a
new connection is what a client's retry would do, without the 503. When the loss surfaces at COMMIT the outcome is
unknown (the server may have committed just before the connection went), so that unit is never run again: the
:class:`~lambda_db.errors.ConnectionLostError` (a 503) goes to the client, which retries with its idempotency key.

So a unit must be a function of its session or connection alone: statements, no side effects outside the database
(an HTTP call, a message sent), since it may run twice. One that sends ``COMMIT`` itself is not a unit.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

from lambda_db import stats as keys
from lambda_db.errors import ConnectionLostError
from lambda_db.metrics import layer_logger
from lambda_db.stats import Stats

__all__ = ["DEFAULT_ATTEMPTS", "run_unit"]

DEFAULT_ATTEMPTS = 2  # one more run: a second loss in a row is an outage, which the client should hear about

H = TypeVar("H")  # what the scope yields: a Session or a Connection
R = TypeVar("R")


def run_unit(
    open_scope: Callable[[], AbstractContextManager[H]],
    work: Callable[[H], R],
    *,
    attempts: int,
    stats: Stats,
) -> R:
    """``work`` inside ``open_scope()``, up to ``attempts`` times while its connection is lost before COMMIT.

    Raises
    ------
    ConnectionLostError
        The connection was lost at COMMIT (never run again), or in every attempt.
    ValueError
        ``attempts`` is below 1.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    for attempt in range(1, attempts + 1):
        committing = False
        try:
            with open_scope() as handle:
                result = work(handle)
                committing = True  # the scope's exit sends COMMIT (or, for a read, only returns the connection)
            return result
        except ConnectionLostError as error:
            if committing or attempt == attempts:
                raise
            stats.add(keys.UNITS_RETRIED)
            layer_logger().warning(
                "connection lost before COMMIT: the transaction was rolled back; running the unit again",
                extra={"attempt": attempt, "attempts": attempts, "error": str(error)},
            )
    raise AssertionError("unreachable: the last attempt returns or raises")
