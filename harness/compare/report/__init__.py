"""How a comparison is shown: terminal table, results.json / results.csv, a self-contained report.html, PNG charts.

Renderers are pure (a Report in, lines or text out); writers are thin wrappers that put that text in files.

Example
-------
>>> paths = write_all(report, Path("reports/20260101T000000Z"))
>>> print("\\n".join(summary_rows(report, colour=sys.stdout.isatty())))
"""

from __future__ import annotations

from harness.compare.report.charts import connections_over_time, errors_by_strategy, latency_percentiles
from harness.compare.report.files import read_json, write_all, write_csv, write_html, write_json
from harness.compare.report.html import render_html
from harness.compare.report.palette import STRATEGY_COLOURS, colour_for
from harness.compare.report.table import summary_rows, verdict_lines

__all__ = [
    "STRATEGY_COLOURS",
    "colour_for",
    "connections_over_time",
    "errors_by_strategy",
    "latency_percentiles",
    "read_json",
    "render_html",
    "summary_rows",
    "verdict_lines",
    "write_all",
    "write_csv",
    "write_html",
    "write_json",
]
