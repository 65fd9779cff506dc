"""The pool of ``single`` mode: SQLAlchemy's ``QueuePool``, which hands the lease's parked connection to direct users.

Apart from :mod:`lambda_db.lease` so that the engine factory can name the class without importing the lease.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

__all__ = ["LeasedQueuePool"]


class LeasedQueuePool(QueuePool):
    """``single`` mode's pool: a ``QueuePool`` that asks the lease for its parked connection before it would wait.

    So code that checks out of the engine directly (``db.engine.connect()``, an engine saved at module scope, a
    session bound to the engine) gets the one connection, as it would from a plain pool, instead of waiting for the
    pool timeout while the lease holds it parked. ``_do_get`` and ``recreate`` are the methods SQLAlchemy's own pool
    classes implement; this one adds a call before the first and carries the callback through the second (which
    ``dispose()`` uses).
    """

    _on_empty: Callable[[], None] | None = None

    def when_empty(self, release: Callable[[], None]) -> None:
        """Call ``release`` (the lease's) before waiting for a connection when none is checked in."""
        self._on_empty = release

    def _do_get(self) -> ConnectionPoolEntry:
        if self._on_empty is not None and not self.checkedin():
            self._on_empty()
        return super()._do_get()

    def recreate(self) -> QueuePool:
        pool = super().recreate()
        if isinstance(pool, LeasedQueuePool) and self._on_empty is not None:
            pool.when_empty(self._on_empty)
        return pool
