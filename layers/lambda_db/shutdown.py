"""Dispose the engine on SIGTERM, so the server sees a clean close rather than a dropped socket.

Lambda sends SIGTERM to the runtime process before it shuts an execution environment down (when an extension is
registered). Installed only when running under Lambda or when asked: a library must not take a signal over at
import time in someone's test suite. Any previous handler still runs afterwards.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

__all__ = ["install_sigterm_dispose"]


def install_sigterm_dispose(dispose: Callable[[], None]) -> bool:
    """Chain ``dispose`` in front of the current SIGTERM handler; False when not on the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return False  # signal.signal() only works there
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        try:
            dispose()
        finally:
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                # Behave as if we were never here: die of SIGTERM.
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
    return True
