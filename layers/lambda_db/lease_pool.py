"""The pool of ``single`` mode: SQLAlchemy's ``QueuePool``, which hands the lease's parked connection to direct users.

Apart from :mod:`lambda_db.lease` so that the engine factory can name the class without importing the lease.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

__all__ = ["LeaseHooks", "LeasedQueuePool"]


class LeaseHooks(Protocol):
    """What the pool tells the lease (:class:`~lambda_db.lease.Lease`): a checkout may wait, or no longer does."""

    def release(self) -> None: ...

    def pool_waits(self, delta: int) -> None: ...


class LeasedQueuePool(QueuePool):
    """``single`` mode's pool: a ``QueuePool`` that tells the lease when a checkout may have to wait.

    So code that checks out of the engine directly (``db.engine.connect()``, an engine saved at module scope, a
    session bound to the engine, another thread) gets the one connection as it would from a plain
    ``QueuePool(1, 0)``: at once when the lease holds it parked, and as soon as the lease's scope ends when one is
    running, instead of waiting for the pool timeout while the lease keeps it. ``_do_get`` and ``recreate`` are the
    methods SQLAlchemy's own pool classes implement; this one wraps the first and carries the lease through the
    second (which ``dispose()`` uses).
    """

    _lease: LeaseHooks | None = None

    def attach(self, lease: LeaseHooks) -> None:
        """Tell ``lease`` about every checkout that finds no connection checked in, for as long as it waits."""
        self._lease = lease

    def _do_get(self) -> ConnectionPoolEntry:
        lease = self._lease
        if lease is None or self.checkedin():
            return super()._do_get()
        lease.pool_waits(1)  # first: a scope ending from here on returns its connection instead of parking it
        try:
            lease.release()  # and the one parked before that
            return super()._do_get()
        finally:
            lease.pool_waits(-1)

    def recreate(self) -> QueuePool:
        pool = super().recreate()
        if isinstance(pool, LeasedQueuePool) and self._lease is not None:
            pool.attach(self._lease)
        return pool
