"""One execution environment's log: the file its process writes to, and the lines Lambda adds around each event.

The process's stdout and stderr append to the file; between invocations this object adds Lambda's ``START``,
``END`` and ``REPORT`` lines, caps the file so a long run cannot fill the disk, and reads back one invocation's tail.
Only its :class:`~harness.emulator.environment.Environment` holds it; the pool asks the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["EnvironmentLog"]


class EnvironmentLog:
    """The append-only log file of one environment, opened at construction and closed once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self._closed = False

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def begin(self, request_id: str, cap_bytes: int) -> int:
        """Write ``START`` and return where this invocation's log starts; a log past ``cap_bytes`` is emptied first.

        Only done between invocations, so no tail is cut; both writers append, so the runtime carries on at the
        new end.
        """
        offset = self.size()
        if offset > cap_bytes:
            os.ftruncate(self.fd, 0)
            offset = 0
        self._write(f"START RequestId: {request_id} Version: $LATEST\n")
        return offset

    def end(self, request_id: str, *, duration_ms: float, memory_mb: int, init_ms: float | None) -> None:
        """Write ``END`` and the ``REPORT`` line (with ``Init Duration`` after a cold start)."""
        report = f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tMemory Size: {memory_mb} MB"
        init_part = f"\tInit Duration: {init_ms:.2f} ms" if init_ms is not None else ""
        self._write(f"END RequestId: {request_id}\n{report}{init_part}\n")

    def read(self, start: int, limit: int) -> bytes:
        """At most the last ``limit`` bytes written since ``start`` (nothing once closed)."""
        if self._closed:
            return b""
        end = self.size()
        start = max(start, end - limit)
        return os.pread(self.fd, end - start, start) if end > start else b""

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self.fd)

    def _write(self, text: str) -> None:
        if not self._closed:
            os.write(self.fd, text.encode())
