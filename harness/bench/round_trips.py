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
RELOAD_SETTLE_S = 0.2  # backends apply a reloaded setting before their next command; give the signal time to land


@contextlib.contextmanager
def _statement_log(pg: EmbeddedPostgres) -> Iterator[None]:
    """``log_statement = 'all'`` for every backend, warm ones included (a reload reaches open sessions too)."""
    pg.execute("ALTER SYSTEM SET log_statement = 'all'")
    pg.execute("SELECT pg_reload_conf()")
    time.sleep(RELOAD_SETTLE_S)
    try:
        yield
    finally:
        pg.execute("ALTER SYSTEM RESET log_statement")
        pg.execute("SELECT pg_reload_conf()")
        time.sleep(RELOAD_SETTLE_S)


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
