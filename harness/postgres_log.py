"""The one reader of a lab server's log: each line split once into who said it and what, then counted.

The lab's servers write every line with the prefix :data:`LOG_LINE_PREFIX` (time, pid, then ``user@database
application`` for session lines), so this module alone knows that shape. Readers ask questions of it: the SQL each
client sent (``log_statement = 'all'``: one statement per round trip) and the connections a database was given or
refused (``log_connections``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ADMIN_APPLICATION_NAME",
    "LOG_LINE_PREFIX",
    "ConnectionCounts",
    "LogEntry",
    "connection_counts",
    "log_size",
    "parse",
    "read_since",
    "statements",
]

# %q ends the prefix for lines not from a session (the postmaster's own), so those carry only time and pid.
LOG_LINE_PREFIX = "'%m [%p] %q%u@%d %a '"
ADMIN_APPLICATION_NAME = "lab-admin"

_LINE = re.compile(
    r"^\S+ \S+ \S+ \[(?P<pid>\d+)\] "
    r"(?:(?P<user>[^@\s]*)@(?P<database>\S*) (?P<application>.*?) )?"
    r"(?P<level>[A-Z]+\d?):  (?P<message>.*)$"
)
_AUTHORIZED = re.compile(r"connection authorized: user=\S+ database=(?P<database>\S+)")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log line: the session that wrote it (empty for the postmaster), its level and its message."""

    pid: int
    user: str
    database: str
    application: str
    level: str
    message: str


@dataclass(frozen=True, slots=True)
class ConnectionCounts:
    """Connections a database was given (and went on to serve) and refused, as the log tells them."""

    opened: int
    refused: int


def parse(lines: Iterable[str]) -> list[LogEntry]:
    """Every line in the prefix's shape as an entry; a continuation line (tab first) is joined to its entry."""
    entries: list[LogEntry] = []
    for line in lines:
        if line.startswith("\t"):
            if entries:
                last = entries[-1]
                entries[-1] = LogEntry(
                    last.pid, last.user, last.database, last.application, last.level, f"{last.message}\n{line[1:]}"
                )
            continue
        match = _LINE.match(line)
        if match is None:
            continue
        entries.append(
            LogEntry(
                pid=int(match["pid"]),
                user=match["user"] or "",
                database=match["database"] or "",
                application=match["application"] or "",
                level=match["level"],
                message=match["message"],
            )
        )
    return entries


def statements(lines: Iterable[str], *, applications: Iterable[str] | None = None) -> list[str]:
    """The SQL of every query message logged, in order; only ``applications``' (None: all but the lab's admin)."""
    wanted = None if applications is None else set(applications)
    return [
        entry.message.removeprefix("statement: ").strip()
        for entry in parse(lines)
        if entry.level == "LOG"
        and entry.message.startswith("statement: ")
        and (entry.application != ADMIN_APPLICATION_NAME if wanted is None else entry.application in wanted)
    ]


def connection_counts(lines: Iterable[str], *, database: str) -> ConnectionCounts:
    """Connections ``database`` was given and refused.

    A full server refuses in two places: "too many clients" before authenticating (no "authorized" line), and
    "remaining connection slots are reserved" just *after* it (the same backend logs both). Neither served
    anything: both count as refused, and the second is taken off the connections opened.
    """
    authorized = refused_after_auth = refused_before_auth = 0
    for entry in parse(lines):
        found = _AUTHORIZED.match(entry.message)
        if found is not None and found["database"] == database:
            authorized += 1
        elif entry.level == "FATAL" and entry.database == database:
            refused_after_auth += entry.message.startswith("remaining connection slots")
            refused_before_auth += entry.message.startswith("sorry, too many clients")
    return ConnectionCounts(opened=authorized - refused_after_auth, refused=refused_after_auth + refused_before_auth)


def log_size(path: Path) -> int:
    """Bytes in the log now (0 when there is none yet): an offset to read from later."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def read_since(path: Path, offset: int) -> list[str]:
    """The log's lines written after ``offset``."""
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace").splitlines()
