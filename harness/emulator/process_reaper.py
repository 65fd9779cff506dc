"""The last resort against leftover processes: their process groups are SIGKILLed, also at interpreter exit.

An emulator stops its environments, fork servers and moto politely in ``stop()``; a test that dies, a Ctrl-C or a
forgotten ``stop()`` must still not leave them running once the interpreter has gone.
A :class:`ProcessReaper` kills what its owner names, when asked and, while armed, from an ``atexit`` hook.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import weakref
from collections.abc import Callable

__all__ = ["ProcessReaper"]


class ProcessReaper:
    """SIGKILLs the process group of each pid ``pids()`` names: on :meth:`kill`, and at exit while armed."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self._pids = pids

    def arm(self) -> None:
        """From now on, kill at interpreter exit too (until :meth:`disarm`)."""
        _ARMED.add(self)

    def disarm(self) -> None:
        _ARMED.discard(self)

    def kill(self) -> None:
        for pid in self._pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


_ARMED: weakref.WeakSet[ProcessReaper] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    for reaper in list(_ARMED):
        reaper.kill()
