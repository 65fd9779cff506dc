"""The live view of execution environments: a pure renderer plus a thin terminal printer.

The same data is served as JSON on ``GET /_emulator/environments`` (see :mod:`harness.emulator.invoke_api`).
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TextIO

from harness.emulator.spec import EnvironmentInfo

__all__ = ["LiveView", "render_environments"]

_COLUMNS = ("FUNCTION", "ENV", "PID", "STATE", "INVOCATIONS", "AGE", "IDLE")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def _row(env: EnvironmentInfo) -> tuple[str, ...]:
    ages = (_duration(env.age_s), _duration(env.idle_s))
    return (env.function, env.id, str(env.pid), env.state, str(env.invocations), *ages)


def render_environments(environments: Sequence[EnvironmentInfo], *, limit: int = 40) -> list[str]:
    """A summary line per state, then a table (at most ``limit`` rows, busiest first)."""
    states = Counter(env.state for env in environments)
    summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "none yet"
    lines = [f"{len(environments)} environments: {summary}"]
    if not environments:
        return lines
    shown = sorted(environments, key=lambda env: (env.function, -env.invocations))[:limit]
    rows = [_row(env) for env in shown]
    widths = [max(len(row[i]) for row in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]
    for row in [_COLUMNS, *rows]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if len(environments) > limit:
        lines.append(f"... and {len(environments) - limit} more")
    return lines


class LiveView:
    """Redraws the table on a terminal once a second until :meth:`stop` (a wait, not a busy loop)."""

    def __init__(
        self, source: Callable[[], Sequence[EnvironmentInfo]], header: Sequence[str], out: TextIO = sys.stdout
    ) -> None:
        self._source = source
        self._header = list(header)
        self._out = out
        self._stopped = threading.Event()

    def run(self, interval_s: float = 1.0) -> None:
        while not self._stopped.is_set():
            lines = [*self._header, "", *render_environments(self._source())]
            self._out.write("\x1b[H\x1b[2J" + "\n".join(lines) + "\n")
            self._out.flush()
            self._stopped.wait(interval_s)

    def stop(self) -> None:
        self._stopped.set()
