"""One asyncio loop on a daemon thread, which other threads hand work to and wait for.

The emulator's machinery (environments, Runtime APIs, HTTP front ends) is asyncio code that must all run on one
loop, while its callers (tests, the harness, ``harness emulate``) are ordinary threads. :class:`LoopThread` owns
that loop and its thread, so :class:`~harness.emulator.local_lambda.LocalLambda` holds none of their state and
each of its methods is one hand-over.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """A loop running on a daemon thread called ``name`` from :meth:`start` to :meth:`stop`.

    ``not_started`` is the message of the RuntimeError a call before :meth:`start` raises (it names the owner's API).
    """

    def __init__(self, name: str, *, not_started: str) -> None:
        self._name = name
        self._not_started = not_started
        self._loop: asyncio.AbstractEventLoop | None = None  # created by start(), so an unstarted one holds nothing
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        """True once :meth:`start` has run (and still after :meth:`stop`)."""
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=self._name, daemon=True)
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (its exception is raised here)."""
        if self._thread is None or self._loop is None:
            coro.close()
            raise RuntimeError(self._not_started)
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn(*args)`` on the loop thread (where the machinery's state may be touched) and wait."""
        return self.call(_on_loop(fn, *args))

    def stop(self, join_timeout_s: float = 5.0) -> None:
        """Stop the loop, wait up to ``join_timeout_s`` for its thread, and close it; once, after :meth:`start`."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=join_timeout_s)
        self._loop.close()


async def _on_loop(fn: Callable[..., T], *args: Any) -> T:
    return fn(*args)
