"""Round trips per request, counted from the server's statement log: what each bench variant sends, exactly.

On loopback a round trip costs tens of microseconds and the client's Python dominates the time ratios; across a
VPC it costs hundreds, and the number of round trips is what the network multiplies. So the bench counts them as
well as timing them. With ``log_statement = 'all'`` the server logs one ``statement:`` line per query message, and
the simple query protocol answers each message before the client sends the next: one line, one round trip
(``BEGIN;INSERT ...`` sent as one message is one line). Counting is done in a pass of its own, after the timed
rounds, so logging never slows what is timed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping

from harness.bench.layer_work import Work
from harness.postgres import EmbeddedPostgres

__all__ = ["count_round_trips"]

REQUESTS = 20  # per variant and kind; the count is exact, so a few requests are enough
RELOAD_TIMEOUT_S = 30.0
RELOAD_POLL_S = 0.01
_SETTING = "SELECT current_setting('log_statement')"


def _reload(pg: EmbeddedPostgres, expected: str) -> None:
    """Reload the configuration and return once every backend, warm ones included, will log as ``expected`` says.

    ``pg_reload_conf()`` only signals the postmaster. The postmaster reloads, then signals every backend in the same
    step, and a backend applies a pending reload after reading its next command, before running it. So once a new
    session (forked from the postmaster) sees the new value, every statement sent from then on is logged under it.
    A fixed sleep instead of this wait lost the first statements of a count on a loaded machine.
    """
    pg.execute("SELECT pg_reload_conf()")
    deadline = time.monotonic() + RELOAD_TIMEOUT_S
    while pg.execute(_SETTING)[0][0] != expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not apply log_statement = {expected!r} within {RELOAD_TIMEOUT_S:.0f} s")
        time.sleep(RELOAD_POLL_S)


@contextlib.contextmanager
def _statement_log(pg: EmbeddedPostgres) -> Iterator[None]:
    """``log_statement = 'all'`` for every backend, warm ones included (a reload reaches open sessions too)."""
    before = pg.execute(_SETTING)[0][0]
    pg.execute("ALTER SYSTEM SET log_statement = 'all'")
    _reload(pg, "all")
    try:
        yield
    finally:
        pg.execute("ALTER SYSTEM RESET log_statement")
        _reload(pg, before)


def _per_request(pg: EmbeddedPostgres, work: Work, requests: int) -> float:
    before = len(pg.logged_statements())
    for i in range(requests):
        work(i)
    return (len(pg.logged_statements()) - before) / requests


def count_round_trips(
    pg: EmbeddedPostgres, variants: Mapping[str, tuple[Work, Work]], requests: int = REQUESTS
) -> dict[str, tuple[float, float]]:
    """Variant name -> (round trips per read, per write), each variant run alone against the logging server.

    The server logs a statement before running it, so a request's lines are in the log by the time it returns.
    """
    with _statement_log(pg):
        return {
            name: (_per_request(pg, read, requests), _per_request(pg, write, requests))
            for name, (read, write) in variants.items()
        }
