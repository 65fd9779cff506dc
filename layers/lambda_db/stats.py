"""Counters fed by pool events, read with ``get_stats()`` and read-and-reset with ``pop_stats()``.

Like psycopg_pool's, each key carries its unit (``_num`` a count, ``_ms`` milliseconds summed). Events fire on
whatever thread checks a connection out, so updates take a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from time import monotonic

__all__ = [
    "CHECKOUTS",
    "CHECKOUT_WAIT_MS",
    "CONNECTIONS_OPENED",
    "CONNECT_ERRORS",
    "CONNECT_MS",
    "DB_TIME_MS",
    "ENGINES_CREATED",
    "INVALIDATIONS",
    "LEAKS",
    "PINGS",
    "POOL_TIMEOUTS",
    "RETRIES",
    "SECRET_REFRESHES",
    "STATS_KEYS",
    "UNITS_RETRIED",
    "Stats",
]

CONNECTIONS_OPENED = "connections_opened_num"  # new server connections (each one a backend process)
CONNECT_MS = "connect_ms"  # time spent opening them, retries included
CONNECT_ERRORS = "connect_errors_num"  # connect attempts that failed
CHECKOUTS = "checkouts_num"  # connections handed to the application
CHECKOUT_WAIT_MS = "checkout_wait_ms"  # time the application waited for a connection (connects included)
POOL_TIMEOUTS = "pool_timeouts_num"  # waits that ended in PoolTimeoutError
PINGS = "pings_num"  # liveness checks after an idle gap
INVALIDATIONS = "invalidations_num"  # connections thrown away (dead, forked, leaked mid-transaction)
RETRIES = "retries_num"  # connect attempts repeated after a refusal
SECRET_REFRESHES = "secret_refreshes_num"  # noqa: S105 - secrets fetched again after an authentication failure
LEAKS = "leaks_num"  # connections still checked out when an invocation ended
UNITS_RETRIED = "units_retried_num"  # units of work run again after their connection was lost before COMMIT
DB_TIME_MS = "db_time_ms"  # time the handler spent inside session() / connect() / read()
ENGINES_CREATED = "engines_created_num"  # engines built (one per process, or one per invocation in the baseline)

STATS_KEYS: tuple[str, ...] = (
    CONNECTIONS_OPENED,
    CONNECT_MS,
    CONNECT_ERRORS,
    CHECKOUTS,
    CHECKOUT_WAIT_MS,
    POOL_TIMEOUTS,
    PINGS,
    INVALIDATIONS,
    RETRIES,
    SECRET_REFRESHES,
    LEAKS,
    UNITS_RETRIED,
    DB_TIME_MS,
    ENGINES_CREATED,
)


_ZEROS: dict[str, float] = dict.fromkeys(STATS_KEYS, 0)
_MS_KEYS = frozenset(key for key in STATS_KEYS if key.endswith("_ms"))


def _rounded(counts: dict[str, float]) -> dict[str, float]:
    """Every key, in :data:`STATS_KEYS` order: milliseconds to 3 decimals, counts as ints, untouched keys 0.

    On every invocation's path, and a warm invocation touches only a few keys: copy the zeros, round those.
    """
    rounded = dict(_ZEROS)
    for key, value in counts.items():
        if key in rounded:
            rounded[key] = round(value, 3) if key in _MS_KEYS else int(value)
    return rounded


class Stats:
    """Thread-safe counters with units in their names; every key in :data:`STATS_KEYS` is always present.

    :meth:`pop` hands the counters to the caller and starts them again from zero; what it hands out is also added to
    running totals, so :meth:`totals` still counts everything since the process started (a leak an invocation
    reported and reset stays visible to /health).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, float] = {}
        self._totals: dict[str, float] = {}

    def add(self, key: str, value: float = 1) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + value

    @contextmanager
    def timed(self, key: str) -> Iterator[None]:
        """Add the time spent in the block, in milliseconds, to ``key`` (also when the block raises)."""
        start = monotonic()
        try:
            yield
        finally:
            self.add(key, (monotonic() - start) * 1000.0)

    def get(self) -> dict[str, float]:
        """The counters since the last :meth:`pop` (or since start)."""
        with self._lock:
            return _rounded(self._counts)

    def pop(self) -> dict[str, float]:
        """The counters, reset to zero in the same step (nothing counted between read and reset is lost)."""
        with self._lock:
            counts, self._counts = self._counts, {}
            totals = self._totals
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        return _rounded(counts)

    def totals(self) -> dict[str, float]:
        """Every counter since the process started: all that was popped plus what has not been popped yet."""
        with self._lock:
            merged = dict(self._totals)
            for key, value in self._counts.items():
                merged[key] = merged.get(key, 0) + value
        return _rounded(merged)

    def forget(self) -> None:
        """Zero the counters and the totals (a forked child starts its own count)."""
        with self._lock:
            self._counts, self._totals = {}, {}
