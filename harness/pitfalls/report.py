"""Pure renderers for pitfall results: results in, lines of text out (printing is the CLI's job).

Per pitfall: whether it reproduced and whether the fix held, the exact exception texts seen on each side (with how
often), the cause and the fix, the numbers measured before and after side by side, and the fixed side's checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.pitfalls.base import Measure, Outcome
from harness.pitfalls.runner import PitfallResult

__all__ = ["render_result", "summarize", "totals"]

MISSING = "-"
MAX_VALUE_WIDTH = 100


def _yes_no(ok: bool) -> str:
    return "yes" if ok else "NO"


def _value(value: Measure | None) -> str:
    if value is None:
        return MISSING
    text = f"{value:.3g}" if isinstance(value, float) else str(value)
    return text if len(text) <= MAX_VALUE_WIDTH else text[: MAX_VALUE_WIDTH - 3] + "..."


def _errors(label: str, outcome: Outcome) -> list[str]:
    if not outcome.errors:
        return [f"  {label:<9}(no error)"]
    lines = []
    for text in outcome.errors:
        count = outcome.error_counts.get(text, 1)
        lines.append(f"  {label:<9}{text}" + (f"  (x{count})" if count > 1 else ""))
        label = ""
    return lines


def _measures(before: Outcome, after: Outcome) -> list[str]:
    keys = list(dict.fromkeys([*before.measures, *after.measures]))
    if not keys:
        return []
    rows = [("measured", "before", "after")]
    rows += [(key, _value(before.measures.get(key)), _value(after.measures.get(key))) for key in keys]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    pad = [[cell.ljust(width) for cell, width in zip(row, widths, strict=True)] for row in rows]
    return ["  " + "  ".join(cells).rstrip() for cells in pad]


def render_result(result: PitfallResult) -> list[str]:
    """One pitfall's block of the report."""
    pitfall = result.pitfall
    lines = [
        f"[{pitfall.number}] {pitfall.title}",
        f"  reproduced: {_yes_no(result.reproduced)}   fix held: {_yes_no(result.fix_held)}",
    ]
    if result.crashed is not None:
        lines.append(f"  the lab itself failed: {result.crashed}")
    lines += _errors("symptom", result.before)
    lines += [f"  {'cause':<9}{pitfall.cause}", f"  {'fix':<9}{pitfall.fix}"]
    if result.after.errors:
        lines += _errors("fixed?", result.after)
    lines += _measures(result.before, result.after)
    lines += [f"  [{'x' if ok else ' '}] {name}" for name, ok in result.after.checks.items()]
    return lines


def totals(results: Sequence[PitfallResult]) -> str:
    """The last line: how many reproduced and how many fixes held."""
    reproduced = sum(result.reproduced for result in results)
    held = sum(result.fix_held for result in results)
    failing = [str(result.pitfall.number) for result in results if not result.passed]
    verdict = "all good" if not failing else f"not passing: {', '.join(failing)}"
    return f"{len(results)} pitfalls: {reproduced} reproduced, {held} fixes held ({verdict})"


def summarize(results: Iterable[PitfallResult]) -> list[str]:
    """The whole report: every pitfall's block, a blank line between them, then the totals."""
    done = list(results)
    lines: list[str] = []
    for result in done:
        lines += [*render_result(result), ""]
    return [*lines, totals(done)]
