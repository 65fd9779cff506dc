"""A progress line while a step runs: nothing stays silent for more than a second or two.

On a terminal the line redraws in place; in CI (not a TTY) a plain line is printed every few seconds instead.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

from harness.kit.records import RequestRecord

__all__ = ["Progress"]

BAR_WIDTH = 24


class Progress:
    """Count requests as clients finish them and show ``label [####....] done/total ok failed``."""

    def __init__(
        self, label: str, total: int, *, stream: TextIO | None = None, interval_s: float | None = None, unit: str = "ok"
    ) -> None:
        self.label = label
        self.unit = unit  # what a finished unit is called in the line: "ok" requests, "warm" environments
        self.total = max(total, 1)
        self.stream = stream or sys.stdout
        self.is_tty = self.stream.isatty()
        self.interval_s = interval_s if interval_s is not None else (0.2 if self.is_tty else 2.0)
        self.done = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
        self._started = time.monotonic()

    def set_done(self, done: int) -> None:
        """For work counted from outside (environments ready), rather than request by request."""
        with self._lock:
            self.done = done

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self.done += 1
            self.failed += 0 if record.ok else 1

    def line(self) -> str:
        filled = int(BAR_WIDTH * min(self.done, self.total) / self.total)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        elapsed = time.monotonic() - self._started
        counts = (
            f"{self.unit} {self.done - self.failed:>5}  failed {self.failed:>4}"
            if self.failed or self.unit == "ok"
            else (f"{self.unit} {self.done:>5}{'':>13}")
        )
        return f"  {self.label:<42} [{bar}] {self.done:>5}/{self.total:<5} {counts}  {elapsed:5.1f}s"

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._emit(final=False)

    def _emit(self, *, final: bool) -> None:
        if self.is_tty:
            self.stream.write("\r" + self.line() + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._emit(final=True)
