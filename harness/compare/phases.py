"""Where a comparison run's time goes: seconds per scenario and phase, measured by the run itself.

A default ``make compare`` takes minutes, and most of them are not the measured steps: local Lambdas and their
databases started and stopped per strategy, environments prewarmed, waits that the scenarios need (past an idle
timeout, for a reclaim). The run times each phase as it goes and prints the table at the end, so the question "why
does it take this long" has an answer from the run that took it, not from a wrapper around it.

Phases nest: a wait inside a measured step (a scale-down's wait for the reclaim) counts as a wait, and the step keeps
only the rest, so a scenario's phases add up to the time spent in them. One recorder per run, used from the thread
that runs the scenarios.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

__all__ = ["PHASES", "Phase", "Phases", "render_phases"]

Phase = Literal["deploy", "start", "setup", "prewarm", "measure", "wait", "stop"]
# In the order a stand goes through them; the table's columns.
PHASES: tuple[Phase, ...] = ("deploy", "start", "setup", "prewarm", "measure", "wait", "stop")
DESCRIPTIONS: dict[Phase, str] = {
    "deploy": "a fresh database per strategy (and PgBouncer in front of it for the *_pgbouncer rows)",
    "start": "the local Lambda and its fork server, started",
    "setup": "the workload's setup: migrations, seed rows, the setup's environments retired",
    "prewarm": "environments started and initialised before a step, so the step measures warm ones",
    "measure": "the measured steps: the clients' invocations (a queue_backlog's sending and draining)",
    "wait": "waits the scenarios need: past the idle timeout, for environments to be reclaimed",
    "stop": "the local Lambda stopped (its environments dispose of their engines)",
}


class Phases:
    """Seconds per (scenario, phase), nested phases counted once, in the innermost one.

    Parameters
    ----------
    clock:
        Returns the time in seconds (``time.monotonic``; a test passes its own).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seconds: dict[str, dict[Phase, float]] = {}
        self._open: list[list[float]] = []  # per open phase: [its start, seconds of the phases nested in it]

    @contextmanager
    def timed(self, scenario: str, phase: Phase) -> Iterator[None]:
        """Count the block's time to ``phase`` of ``scenario``, less the phases timed inside it."""
        frame = [self._clock(), 0.0]
        self._open.append(frame)
        try:
            yield
        finally:
            self._open.pop()
            spent = self._clock() - frame[0]
            if self._open:
                self._open[-1][1] += spent
            per_phase = self._seconds.setdefault(scenario, {})
            per_phase[phase] = per_phase.get(phase, 0.0) + spent - frame[1]

    def seconds(self) -> dict[str, dict[str, float]]:
        """scenario -> phase -> seconds (rounded to 0.1 s), scenarios in the order they ran, phases in PHASES order."""
        return {
            scenario: {phase: round(per_phase[phase], 1) for phase in PHASES if phase in per_phase}
            for scenario, per_phase in self._seconds.items()
        }


def render_phases(seconds: dict[str, dict[str, float]]) -> list[str]:
    """A plain-text table: one row per scenario and a total row, one column per phase that took any time."""
    if not seconds:
        return []
    used = [phase for phase in PHASES if any(per_phase.get(phase) for per_phase in seconds.values())]
    totals: dict[str, float] = {phase: sum(row.get(phase, 0.0) for row in seconds.values()) for phase in used}
    width = max(len("total"), *(len(scenario) for scenario in seconds))
    header = f"{'':<{width}}  " + "  ".join(f"{phase:>8}" for phase in used) + f"  {'all':>8}"
    lines = ["where the run's time went (seconds):", header]
    rows: list[tuple[str, dict[str, float]]] = [*seconds.items(), ("total", totals)]
    for scenario, row in rows:
        cells = "  ".join(f"{row.get(phase, 0.0):>8.1f}" for phase in used)
        lines.append(f"{scenario:<{width}}  {cells}  {sum(row.values()):>8.1f}")
    lines += [f"  {phase}: {DESCRIPTIONS[phase]}" for phase in used]
    return lines
