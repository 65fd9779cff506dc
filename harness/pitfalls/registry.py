"""Every pitfall, in the order the issue lists them."""

from __future__ import annotations

from harness.pitfalls import (
    p1_leaked_sessions,
    p2_connection_per_request,
    p3_fork_after_connect,
    p4_shared_session_threads,
    p5_stale_connection,
    p6_recycle_and_slow_query,
    p7_engine_in_handler,
    p8_pool_options_null_pool,
)
from harness.pitfalls.base import Pitfall

__all__ = ["PITFALLS", "by_number"]

PITFALLS: tuple[Pitfall, ...] = tuple(
    module.PITFALL
    for module in (
        p1_leaked_sessions,
        p2_connection_per_request,
        p3_fork_after_connect,
        p4_shared_session_threads,
        p5_stale_connection,
        p6_recycle_and_slow_query,
        p7_engine_in_handler,
        p8_pool_options_null_pool,
    )
)


def by_number(number: int) -> Pitfall:
    """The pitfall numbered ``number``; KeyError names the numbers that exist."""
    for pitfall in PITFALLS:
        if pitfall.number == number:
            return pitfall
    raise KeyError(f"no pitfall {number}: choose from {', '.join(str(p.number) for p in PITFALLS)}")
