"""Counters fed by pool events, read with ``get_stats()`` and read-and-reset with ``pop_stats()``.

Like psycopg_pool's, each key carries its unit (``_num`` a count, ``_ms`` milliseconds summed). Events fire on
whatever thread checks a connection out, so updates take a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from time import monotonic

__all__ = ["STATS_KEYS", "Stats"]

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
    DB_TIME_MS,
    ENGINES_CREATED,
)


class Stats:
    """Thread-safe counters with units in their names; every key in :data:`STATS_KEYS` is always present."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, float] = {}

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
            return self._snapshot()

    def pop(self) -> dict[str, float]:
        """The counters, reset to zero in the same step (nothing counted between read and reset is lost)."""
        with self._lock:
            snapshot = self._snapshot()
            self._counts.clear()
            return snapshot

    def _snapshot(self) -> dict[str, float]:
        values = {key: self._counts.get(key, 0) for key in STATS_KEYS}
        return {key: round(value, 3) if key.endswith("_ms") else int(value) for key, value in values.items()}
