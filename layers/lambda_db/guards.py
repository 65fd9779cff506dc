"""Guards against sharing a connection where it must not be shared: across a fork, or past the end of an invocation.

Fork: a pooled connection is a socket; after ``fork()`` parent and child hold the same one, and their messages
interleave on one server session. SQLAlchemy's documented recipe records the pid on ``connect`` and refuses, on
``checkout``, a connection made by another process; a child also drops (without closing) the pool it inherited.

Leak: an invocation that returns while holding a connection would hold it across the freeze, and in ``single`` mode
the next invocation would wait for it until the pool timeout. The tracker remembers every checkout with a short
stack so the handler decorator can name the culprit and return the connection.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

from sqlalchemy import exc
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

__all__ = ["Leak", "LeakTracker", "check_pid", "current_pid", "record_pid"]

PID_KEY = "lambda_db.pid"
STACK_DEPTH = 6
# Frames from these modules say nothing about where the application took the connection.
_SKIPPED_MODULES = ("sqlalchemy.", "lambda_db.", "contextlib")


class _Pid:
    """This process's id, kept current across forks: ``os.getpid()`` is a system call on every checkout otherwise."""

    value = os.getpid()

    @classmethod
    def refresh(cls) -> None:
        cls.value = os.getpid()


os.register_at_fork(after_in_child=_Pid.refresh)


def current_pid() -> int:
    """This process's id, without a system call."""
    return _Pid.value


def record_pid(record: ConnectionPoolEntry) -> None:
    """``connect`` event half of the fork guard: remember which process opened this connection."""
    record.info[PID_KEY] = _Pid.value


def check_pid(record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
    """``checkout`` event half: refuse a connection another process opened; the pool then opens a fresh one.

    The socket is detached first so that invalidating the record does not close it: it still belongs to the
    process that opened it.
    """
    owner = record.info.get(PID_KEY)
    pid = _Pid.value
    if owner is not None and owner != pid:
        record.dbapi_connection = proxy.dbapi_connection = None  # type: ignore[misc]
        raise exc.DisconnectionError(f"connection record belongs to pid {owner}, attempting to check out in pid {pid}")


# Whether a source file's frames are skipped, by file name: one dict look-up per frame instead of reading the
# module name from the frame's globals and matching prefixes every time.
_skipped_files: dict[str, bool] = {}
Frames = tuple[tuple[CodeType, int], ...]


def _capture_stack() -> Frames:
    """Where the application checked the connection out: code objects and line numbers, formatted only on a leak.

    This runs on every checkout, so it keeps raw (code, line) pairs; turning them into text is left to the rare
    invocation that leaks.
    """
    frames: list[tuple[CodeType, int]] = []
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        skipped = _skipped_files.get(code.co_filename)
        if skipped is None:
            module = str(frame.f_globals.get("__name__", ""))
            skipped = _skipped_files[code.co_filename] = module.startswith(_SKIPPED_MODULES)
        if not skipped:
            frames.append((code, frame.f_lineno))
            if len(frames) == STACK_DEPTH:
                break
        frame = frame.f_back
    return tuple(frames)


def _format_stack(frames: Frames) -> tuple[str, ...]:
    return tuple(f"{code.co_filename}:{line} in {code.co_name}" for code, line in frames)


@dataclass(frozen=True)
class Leak:
    """A connection still checked out when an invocation ended, and where it was taken."""

    thread: str
    stack: tuple[str, ...]


class LeakTracker:
    """Connections checked out right now, fed by the pool's ``checkout`` and ``checkin`` events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._out: dict[int, tuple[weakref.ref[Any], str, Frames]] = {}

    def checked_out(self, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        entry = (weakref.ref(proxy), threading.current_thread().name, _capture_stack())
        with self._lock:
            self._out[id(record)] = entry

    def checked_in(self, record: ConnectionPoolEntry) -> None:
        with self._lock:
            self._out.pop(id(record), None)

    def forget(self, proxy: PoolProxiedConnection) -> None:
        """Stop tracking ``proxy``: the single-mode lease holds it between scopes on purpose (not a leak)."""
        with self._lock:
            for key, (ref, _, _) in list(self._out.items()):
                if ref() is proxy:
                    del self._out[key]

    def has_checkouts(self) -> bool:
        """Whether anything is checked out now: one look, no lock (the end of every invocation asks)."""
        return bool(self._out)

    def __len__(self) -> int:
        """How many connections are checked out now (NullPool keeps no count of its own)."""
        with self._lock:
            return len(self._out)

    def clear(self) -> None:
        """Forget everything (in a forked child: those connections belong to the parent)."""
        with self._lock:
            self._out.clear()

    def release_all(self) -> list[Leak]:
        """Return every connection still checked out to its pool and say where each was taken.

        ``close()`` rolls back whatever transaction it holds and checks it in; if that fails the pool invalidates
        it. The code that leaked it gets an error if it touches it again, never another invocation's data.
        """
        if not self._out:  # the usual case: nothing leaked, no lock needed to see it
            return []
        with self._lock:
            entries, self._out = list(self._out.values()), {}
        leaks = []
        for ref, thread, frames in entries:
            proxy = ref()
            if proxy is None or proxy.dbapi_connection is None:
                continue
            leaks.append(Leak(thread=thread, stack=_format_stack(frames)))
            try:
                proxy.close()
            except Exception:  # noqa: BLE001 - a connection we cannot return cleanly is thrown away instead
                proxy.invalidate()
        return leaks
