"""The terminal summary: a fixed-width table per scenario, a totals row, errors with their counts, the verdicts.

Pure functions from a Report to lines (Locust's ``stats.py`` shape); printing is the caller's job. Colour codes
appear only when the caller says the output is a terminal.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from harness.compare.report.formatting import fmt_count, fmt_mib, fmt_ms, fmt_rate
from harness.compare.report.series import error_groups, runs_of, scenario_names, totals
from harness.compare.summary import RunSummary, summarize
from harness.kit.records import Report, RunRecord

__all__ = ["COLUMNS", "column_labels", "row_cells", "summary_rows", "verdict_lines"]

# (heading, unit, cell) — shared with the HTML table so both show the same figures the same way.
COLUMNS: tuple[tuple[str, str, Callable[[RunSummary], str]], ...] = (
    ("strategy", "", lambda s: s.strategy),
    ("step", "", lambda s: s.step),
    ("ok", "", lambda s: fmt_count(s.ok)),
    ("failed", "", lambda s: fmt_count(s.failed)),
    ("throttled", "", lambda s: fmt_count(s.throttled)),
    ("p50", "ms", lambda s: fmt_ms(s.latency_ms["p50"])),
    ("p95", "ms", lambda s: fmt_ms(s.latency_ms["p95"])),
    ("p99", "ms", lambda s: fmt_ms(s.latency_ms["p99"])),
    ("max", "ms", lambda s: fmt_ms(s.latency_ms["max"])),
    ("db p50", "ms", lambda s: fmt_ms(s.db_ms["p50"])),
    ("req/s", "", lambda s: fmt_rate(s.throughput_rps)),
    ("cold", "", lambda s: fmt_count(s.cold_starts)),
    ("envs", "", lambda s: fmt_count(s.environments)),
    ("opened", "conns", lambda s: fmt_count(s.connections_opened)),
    ("refused", "conns", lambda s: fmt_count(s.connections_refused)),
    ("peak", "conns", lambda s: fmt_count(s.peak_connections)),
    ("final", "conns", lambda s: fmt_count(s.final_connections)),
    ("mem", "MiB", lambda s: fmt_mib(s.backend_memory_kib)),
)
_TEXT_COLUMNS = 2  # strategy and step are left-aligned; the figures right-aligned
_COUNTED = ("ok", "failed", "throttled")  # the columns that count request records (and "req/s", their rate)
_PLURALS = {"request": "requests", "batch": "batches"}


def column_labels(runs: list[RunRecord]) -> list[tuple[str, str]]:
    """(heading, unit) per column for a scenario's runs: where a record is not one request (queue_backlog's are
    SQS batch invocations), the counted columns say so, so "70 failed" of a 2,000-message step reads as batches.
    """
    unit = runs[0].request_unit if runs else "request"
    if unit == "request":
        return [(name, unit_) for name, unit_, _ in COLUMNS]
    plural = _PLURALS.get(unit, unit + "s")
    return [
        (f"{unit}/s" if name == "req/s" else name, plural if name in _COUNTED else unit_) for name, unit_, _ in COLUMNS
    ]


_BOLD, _RED, _DIM, _RESET = "\x1b[1m", "\x1b[31m", "\x1b[2m", "\x1b[0m"


def row_cells(summary: RunSummary) -> list[str]:
    return [cell(summary) for _, _, cell in COLUMNS]


def _paint(text: str, code: str, colour: bool) -> str:
    return f"{code}{text}{_RESET}" if colour and text.strip() else text


def _align(cells: list[str], widths: list[int]) -> list[str]:
    return [
        cell.ljust(width) if index < _TEXT_COLUMNS else cell.rjust(width)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]


def _scenario_table(report: Report, scenario: str, *, colour: bool) -> list[str]:
    runs = runs_of(report, scenario)
    summaries = [summarize(run) for run in runs]
    body = [row_cells(s) for s in summaries]
    total = row_cells(totals(runs, scenario))
    labels = column_labels(runs)
    headings = [name for name, _ in labels]
    units = [f"({unit})" if unit else "" for _, unit in labels]
    widths = [max(len(row[i]) for row in [headings, units, *body, total]) for i in range(len(COLUMNS))]
    rule = "  ".join("-" * width for width in widths)
    lines = [_paint(f"== {scenario} ==", _BOLD, colour)]
    lines.append(_paint("  ".join(_align(headings, widths)), _BOLD, colour))
    lines.append("  ".join(_align(units, widths)).rstrip())
    lines.append(rule)
    failed_column = headings.index("failed")
    for summary, cells in zip(summaries, body, strict=True):
        aligned = _align(cells, widths)
        if summary.failed:
            aligned[failed_column] = _paint(aligned[failed_column], _RED, colour)
        lines.append("  ".join(aligned))
    lines.append(rule)
    lines.append(_paint("  ".join(_align(total, widths)), _BOLD, colour))
    lines.extend(_error_lines(summaries, colour=colour))
    lines.extend(f"note: {s.strategy} {s.step}: {note}" for s in summaries for note in s.notes)
    return lines


def _error_lines(summaries: list[RunSummary], *, colour: bool) -> list[str]:
    groups = error_groups(summaries)
    if not groups:
        return ["errors: none"]
    width = max(len(fmt_count(count)) for errors in groups.values() for count in errors.values())
    lines = ["errors (count, strategy: error):"]
    for strategy, errors in groups.items():
        for error, count in errors.items():
            text = " ".join(error.split())  # one line per error, whatever the driver captured
            lines.append(f"  {_paint(fmt_count(count).rjust(width), _RED, colour)}  {strategy}: {text}")
    return lines


def summary_rows(report: Report, *, colour: bool = False) -> list[str]:
    """Lines of the terminal summary: per scenario a table (one row per strategy x step, then a totals row) and
    the errors grouped by strategy with their counts.

    Parameters
    ----------
    report
        The comparison's raw records.
    colour
        Emit ANSI colour codes (bold headings, failures in red); pass ``sys.stdout.isatty()`` so a redirected
        log stays plain text.

    Example
    -------
    >>> for line in summary_rows(report, colour=sys.stdout.isatty()):
    ...     print(line)
    """
    if not report.runs:
        return ["no runs recorded"]
    lines: list[str] = []
    for scenario in scenario_names(report):
        if lines:
            lines.append("")
        lines.extend(_scenario_table(report, scenario, colour=colour))
    return lines


def verdict_lines(report: Report, *, colour: bool = False, width: int = 120) -> list[str]:
    """One plain-language verdict per scenario, in the order the scenarios ran (then any others).

    Long verdicts are wrapped at ``width`` columns, continuation lines indented, so they read as paragraphs in a
    terminal instead of one line running off the screen.
    """
    if not report.verdicts:
        return ["no verdicts"]
    order = [s for s in scenario_names(report) if s in report.verdicts]
    order += [s for s in report.verdicts if s not in order]
    lines: list[str] = []
    for scenario in order:
        wrapped = textwrap.wrap(f"{scenario}: {report.verdicts[scenario]}", width=width, subsequent_indent="    ")
        head = wrapped[0][len(scenario) + 1 :]
        lines.append(f"{_paint(scenario + ':', _BOLD, colour)}{head}")
        lines.extend(wrapped[1:])
    return lines
