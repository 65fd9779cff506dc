"""Thin writers: results.json (every raw figure), results.csv (one row per run), report.html and the PNG charts."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from harness.compare.report.charts import connections_over_time, errors_by_strategy, latency_percentiles
from harness.compare.report.html import render_html
from harness.compare.report.series import scenario_names
from harness.compare.summary import PERCENTILES, RunSummary, summarize
from harness.kit.records import Report

__all__ = ["CSV_COLUMNS", "csv_row", "read_json", "write_all", "write_csv", "write_html", "write_json"]

CSV_COLUMNS = (
    "scenario",
    "strategy",
    "step",
    "requests",
    "request_unit",
    "ok",
    "failed",
    "throttled",
    *(f"latency_p{p}_ms" for p in PERCENTILES),
    "latency_max_ms",
    "db_p50_ms",
    "db_p99_ms",
    "throughput_rps",
    "cold_starts",
    "environments",
    "connections_opened",
    "connections_refused",
    "peak_connections",
    "final_connections",
    "backend_memory_kib",
    "errors",
)


def write_json(report: Report, path: Path) -> Path:
    """Every raw figure (``report.to_dict()``), so any table can be recomputed later with :func:`read_json`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=1, default=str) + "\n", encoding="utf-8")
    return path


def read_json(path: Path) -> Report:
    """A Report back from ``results.json``; a file that is not one raises ValueError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Report.from_dict(data)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # ValueError: bad JSON, bad UTF-8, bad values
        raise ValueError(f"{path} is not a comparison results.json ({exc}); write one with write_json()") from exc


def csv_row(summary: RunSummary) -> dict[str, Any]:
    """One flat row: raw numbers (no formatting, empty when missing), errors as ``text=count`` joined by `` | ``."""
    row: dict[str, Any] = {
        "scenario": summary.scenario,
        "strategy": summary.strategy,
        "step": summary.step,
        "requests": summary.requests,
        "request_unit": summary.request_unit,
        "ok": summary.ok,
        "failed": summary.failed,
        "throttled": summary.throttled,
        "latency_max_ms": summary.latency_ms["max"],
        "db_p50_ms": summary.db_ms["p50"],
        "db_p99_ms": summary.db_ms["p99"],
        "throughput_rps": round(summary.throughput_rps, 3),
        "cold_starts": summary.cold_starts,
        "environments": summary.environments,
        "connections_opened": summary.connections_opened,
        "connections_refused": summary.connections_refused,
        "peak_connections": summary.peak_connections,
        "final_connections": summary.final_connections,
        "backend_memory_kib": summary.backend_memory_kib,
        "errors": " | ".join(f"{' '.join(e.split())}={n}" for e, n in summary.errors.items()),
    }
    row.update({f"latency_p{p}_ms": summary.latency_ms[f"p{p}"] for p in PERCENTILES})
    return {column: ("" if row[column] is None else row[column]) for column in CSV_COLUMNS}


def write_csv(report: Report, path: Path) -> Path:
    """One row per run (strategy x scenario x step), flat columns, for spreadsheets and pandas."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for run in report.runs:
            writer.writerow(csv_row(summarize(run)))
    return path


def write_html(report: Report, path: Path) -> Path:
    """The self-contained page of :func:`render_html`, UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path


def _slug(name: str) -> str:
    """A scenario name made safe as part of a file name (names come from the records, not from this code)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "scenario"


def write_all(report: Report, out_dir: Path) -> list[Path]:
    """results.json, results.csv, report.html and three PNG charts per scenario in ``out_dir`` (created).

    Raises
    ------
    NotADirectoryError
        ``out_dir`` exists and is a file; the message names it (pick another ``--output``).
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"report directory {out_dir} exists and is not a directory; choose another --output")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [
        write_json(report, out_dir / "results.json"),
        write_csv(report, out_dir / "results.csv"),
        write_html(report, out_dir / "report.html"),
    ]
    for scenario in scenario_names(report):
        slug = _slug(scenario)
        paths.append(connections_over_time(report, scenario, out_dir / f"{slug}-connections.png"))
        paths.append(latency_percentiles(report, scenario, out_dir / f"{slug}-latency.png"))
        paths.append(errors_by_strategy(report, scenario, out_dir / f"{slug}-errors.png"))
    return paths
