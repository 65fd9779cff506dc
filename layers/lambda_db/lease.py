"""``single`` mode's lease: the one connection stays checked out between scopes instead of going back to the pool.

An execution environment runs one invocation at a time, so in ``single`` mode the pool's checkout and return on
every scope (the fairy, the events, the reset, the queue: about half of a warm read's Python) buy nothing. The
lease parks the SQLAlchemy ``Connection`` a scope leaves clean and lends it to the next scope, doing itself the two
checks the pool's ``checkout`` event would have done:

- the idle gap and the dead socket: a connection parked longer than ``ping_after_idle_s``, or whose socket the
  server wrote to while it sat parked (a FATAL and a close: ``pg_terminate_backend``, a restart, an idle timeout),
  is pinged; a dead one is invalidated and the pool opens a new one, before the scope sees it;
- the fork guard: a child process drops the parent's parked connection without using or closing it.

Everything else stays the pool's: ``DB_POOL_RECYCLE_S`` (with it set, every scope checks out of the pool, which
replaces connections older than that at checkout), the first checkout, a replacement, and every case where parking
would change what the code sees. A connection is parked only when it is clean (no transaction, no execution options
such as an isolation level that the pool's return would reset, not invalidated), when the scope ran on the main
thread (the one Lambda calls the handler on) and when no other thread waits for the pool; otherwise it goes back to
the pool as before. Code that checks out of the engine directly gets the parked connection: the pool
(:class:`~lambda_db.lease_pool.LeasedQueuePool`) counts itself among the waiters (:meth:`Lease.pool_waits`) and
asks :meth:`Lease.release` for it before it would wait (the idle time goes with it, so the pool's own idle check
still sees the gap). Another thread that checks out of the pool directly while the main thread's scope runs waits,
as in a ``QueuePool(1, 0)``, until that scope ends: a scope that ends while someone waits returns its connection
instead of parking it. (``queue`` mode still suits threads better: it has a connection per thread to give.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import monotonic
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Engine

from lambda_db import stats as keys
from lambda_db.engine import PARKED_SINCE, ping, server_wrote_while_idle
from lambda_db.guards import LeakTracker, current_pid
from lambda_db.stats import Stats

__all__ = ["Lease", "PoolCheckout"]

# The parked connections a forked child inherited: kept referenced, never used or closed (they are the parent's
# sockets; closing them, even by garbage collection of their pool entries, would end the parent's sessions).
_inherited: list[Connection] = []


class Lease:
    """The single-mode connection, parked between scopes and lent to the next one after the pool's checks.

    Parameters
    ----------
    engine:
        Returns the engine (built on first use).
    ping_after_idle_s:
        Ping a parked connection idle longer than this, as the pool's checkout does.
    stats:
        The database's counters (checkouts, pings).
    tracker:
        The leak tracker, told to stop tracking the leased connection: held between scopes on purpose, it is no leak.
    """

    def __init__(
        self, engine: Callable[[], Engine], *, ping_after_idle_s: float, stats: Stats, tracker: LeakTracker
    ) -> None:
        self._engine = engine
        self._tracker = tracker
        self._ping_after_idle_s = ping_after_idle_s
        self._stats = stats
        self._parked: list[Connection] = []  # list.pop / append: atomic, so two threads never take the same one
        self._parked_at = 0.0
        self._pid = current_pid()
        self._waiting = 0
        self._lock = threading.Lock()
        self._main = threading.main_thread()

    def take(self) -> Connection:
        """A connection for a scope: the parked one when it passes the checks, else one from the pool."""
        try:
            connection = self._parked.pop()
        except IndexError:
            return self._from_pool()
        dbapi_connection = connection.connection.dbapi_connection
        if monotonic() - self._parked_at <= self._ping_after_idle_s and not server_wrote_while_idle(dbapi_connection):
            self._stats.add(keys.CHECKOUTS)
            return connection
        try:
            ping(self._engine().dialect, dbapi_connection, self._stats)
        except exc.DisconnectionError:
            connection.invalidate()  # counted by the invalidate event; the pool opens a new one next
            connection.close()
            return self._from_pool()
        except BaseException:
            connection.invalidate()  # a ping that failed otherwise: never lend that connection again
            connection.close()
            raise
        self._stats.add(keys.CHECKOUTS)
        return connection

    def _from_pool(self) -> Connection:
        with self._lock:
            self._waiting += 1
        try:
            connection = self._engine().connect()
            self._tracker.forget(connection.connection)
            return connection
        finally:
            with self._lock:
                self._waiting -= 1

    def give_back(self, connection: Connection, *, clean: bool) -> None:
        """Park ``connection`` if the scope left it clean and nothing else needs the pool; else return it."""
        if (
            clean
            and not self._waiting
            and threading.current_thread() is self._main
            and not connection.invalidated
            and not connection.in_transaction()
            and not connection.get_execution_options()
            and connection.connection.dbapi_connection is not None
            and self._pid == current_pid()
        ):
            self._parked_at = monotonic()
            self._parked.append(connection)
            if self.waiting():  # a checkout began to wait after the check above: hand the connection over
                self.release()
            return
        connection.close()

    def pool_waits(self, delta: int) -> None:
        """Told by the pool: a checkout may have to wait (+1), or no longer does (-1). While one waits, scopes return
        their connection to the pool instead of parking it."""
        with self._lock:
            self._waiting += delta

    def waiting(self) -> int:
        """How many checkouts wait for the pool now (the lease's own included)."""
        return self._waiting

    def parked(self) -> int:
        """How many connections are parked (0 or 1)."""
        return len(self._parked)

    def release(self) -> None:
        """Return a parked connection to the pool, with the time it was parked, so the pool's idle check still sees
        its idle gap."""
        try:
            connection = self._parked.pop()
        except IndexError:
            return
        info: dict[str, Any] = connection.connection.info
        info[PARKED_SINCE] = self._parked_at
        connection.close()

    def forget(self) -> None:
        """In a forked child: drop the parent's parked connection without using or closing it."""
        _inherited.extend(self._parked)
        self._parked.clear()
        self._pid = current_pid()


class PoolCheckout:
    """The other modes' way to get a connection for a scope: straight from the pool, straight back to it."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine

    def take(self) -> Connection:
        return self._engine().connect()

    def give_back(self, connection: Connection, *, clean: bool) -> None:
        connection.close()
