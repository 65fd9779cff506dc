"""Lambda's queue for asynchronous (``Event``) invocations: accept now, run in the background, retry.

A throttled event waits and tries again (Lambda keeps it for up to six hours); an event whose function fails is
retried once per entry of ``retry_delays_s`` (Lambda: twice, about one and two minutes later), which is why async
handlers must be idempotent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from harness.emulator.errors import TooManyRequestsError
from harness.emulator.spec import InvokeResult

__all__ = ["EventQueue"]

THROTTLE_BACKOFF_S = (0.05, 1.0)  # first wait, longest wait


class EventQueue:
    """Background tasks running ``invoke(name, payload)`` for accepted events; runs on the event loop."""

    def __init__(
        self, invoke: Callable[[str, bytes], Awaitable[InvokeResult]], *, retry_delays_s: tuple[float, ...]
    ) -> None:
        self._invoke = invoke
        self.retry_delays_s = retry_delays_s
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, name: str, payload: bytes) -> None:
        task = asyncio.get_running_loop().create_task(self._run(name, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def _run(self, name: str, payload: bytes) -> None:
        delay, longest = THROTTLE_BACKOFF_S
        retries = list(self.retry_delays_s)
        while True:
            try:
                result = await self._invoke(name, payload)
            except TooManyRequestsError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
                continue
            if result.function_error is None or not retries:
                return
            await asyncio.sleep(retries.pop(0))
