"""A stand-in for the asyncio transport under :class:`~harness.emulator.http_server.HttpConnection`: it records
what the server wrote and whether it closed, so parser tests need no socket."""

from __future__ import annotations

from typing import Any

__all__ = ["RecordingTransport"]


class RecordingTransport:
    def __init__(self) -> None:
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def get_extra_info(self, name: str) -> Any:
        return None
