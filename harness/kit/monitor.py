"""Watch what the database sees: server connections over time, connections opened, backend memory.

The monitor holds one superuser connection of its own (superusers keep the reserved slots, so it still sees the server
when the application has filled it) and samples ``pg_stat_activity`` every few milliseconds from a thread.
Connections *opened* are counted from the server log (``log_connections``): sampling alone misses the short-lived
connections that ``NullPool`` and engine-per-request open and close between two samples. Where the log is not readable
(a server the lab did not start) distinct backend pids are counted instead, and the result says so.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from harness import postgres_log
from harness.kit.memory import private_kib
from harness.kit.records import ConnectionSample
from harness.postgres import PostgresServer

__all__ = ["ConnectionMonitor", "MonitorResult"]

MONITOR_APPLICATION_NAME = "lab-monitor"
MEMORY_EVERY_S = 0.25  # reading every backend's memory is costlier than the query: do it less often

_SAMPLE_SQL = """
SELECT pid, datname = %s AS in_app
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
"""


@dataclass(slots=True)
class MonitorResult:
    samples: list[ConnectionSample] = field(default_factory=list)
    connections_opened: int = 0
    connections_refused: int = 0  # attempts the server refused for want of a slot (from its log)
    opened_counted_from: str = "server log"  # or "distinct backend pids (approximate)"
    peak_memory_kib: int | None = None
    final_connections: int = 0


class ConnectionMonitor:
    """Sample one database's client backends from a separate connection, in a background thread.

    Parameters
    ----------
    server:
        The server to watch; one whose log is readable here (:meth:`PostgresServer.connection_log`) gives exact
        connection counts, one whose backends are processes here (:meth:`PostgresServer.host_pids`) their memory.
    database:
        The application's database: every backend connected to it counts as the application's.
    interval_s:
        Time between samples.
    """

    def __init__(self, server: PostgresServer, *, database: str, interval_s: float = 0.01) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.server = server
        self.database = database
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._result = MonitorResult()
        self._pids: set[int] = set()
        self._log_offset = 0
        self._t0 = 0.0

    def start(self) -> ConnectionMonitor:
        self._log_offset = self._log_size()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="connection-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> MonitorResult:
        """Stop sampling and return every sample, with connections opened since :meth:`start`."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        opened = self._count_opened_from_log()
        if opened is None:
            self._result.connections_opened = len(self._pids)
            self._result.opened_counted_from = "distinct backend pids (approximate)"
        else:
            self._result.connections_opened = opened
        self._result.final_connections = self._settled_count()
        return self._result

    def _settled_count(self, settle_s: float = 1.0) -> int:
        """Connections once closing backends have gone: a client's close reaches the server a moment later."""
        deadline = time.monotonic() + settle_s
        count = self.current()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            again = self.current()
            if again == count:
                break
            count = again
        return count

    def current(self) -> int:
        """The application's connections right now (one query, outside the sampling thread)."""
        return self.server.connection_count(database=self.database)

    def _loop(self) -> None:
        conn = psycopg2.connect(self.server.dsn(), application_name=MONITOR_APPLICATION_NAME)
        conn.autocommit = True
        next_memory = 0.0
        try:
            with conn.cursor() as cur:
                while True:
                    now = time.monotonic()
                    cur.execute(_SAMPLE_SQL, (self.database,))
                    rows = cur.fetchall()
                    app_pids = [int(pid) for pid, in_app in rows if in_app]
                    self._pids.update(app_pids)
                    self._result.samples.append(
                        ConnectionSample(t_s=round(now - self._t0, 4), app=len(app_pids), total=len(rows))
                    )
                    # /proc describes this machine's processes: the server maps its backends to them, if it can
                    if now >= next_memory and app_pids:
                        self._sample_memory(self.server.host_pids(app_pids))
                        next_memory = now + MEMORY_EVERY_S
                    if self._stop.wait(self.interval_s):
                        break
        finally:
            conn.close()

    def _sample_memory(self, pids: list[int]) -> None:
        sizes = [private_kib(pid) for pid in pids]
        known = [size for size in sizes if size is not None]
        if known:
            self._result.peak_memory_kib = max(self._result.peak_memory_kib or 0, sum(known))

    # -- connections opened, from the server log -----------------------------------------------------------------
    def _log_path(self) -> Path | None:
        return self.server.connection_log()

    def _log_size(self) -> int:
        path = self._log_path()
        return postgres_log.log_size(path) if path is not None else 0

    def _count_opened_from_log(self) -> int | None:
        path = self._log_path()
        if path is None:
            return None
        # Postgres writes the log line after authorising the connection; give the last ones a moment to land.
        time.sleep(0.05)
        counts = postgres_log.connection_counts(postgres_log.read_since(path, self._log_offset), database=self.database)
        self._result.connections_refused = counts.refused
        return counts.opened
