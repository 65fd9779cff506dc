"""``report.html``: one self-contained page (inline CSS and SVG, nothing fetched) a person can open offline.

Per scenario: the verdict, server connections over time, latency percentiles, errors and the summary table. Every
piece of text from the records is escaped: strategy names, steps and error strings come from outside this module.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from harness.compare.phases import render_phases
from harness.compare.report.charts import connections_figure, latency_figure, svg
from harness.compare.report.formatting import fmt_count
from harness.compare.report.palette import colour_for
from harness.compare.report.series import (
    error_groups,
    runs_of,
    scenario_names,
    strategy_names,
    totals,
)
from harness.compare.report.table import COLUMNS, column_labels, row_cells
from harness.compare.summary import summarize
from harness.kit.records import Report

__all__ = ["render_html"]

TITLE = "serverless-sqlalchemy: connection strategies compared"

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;margin:0;background:#fafafa}
main{max-width:1260px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:36px 0 8px;padding-top:12px;border-top:2px solid #e5e7eb}
h3{font-size:15px;margin:18px 0 6px;color:#374151}
.meta{color:#4b5563;font-size:13px}code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;
background:#f3f4f6;padding:1px 4px;border-radius:3px}
.verdict{background:#eff6ff;border-left:4px solid #2563eb;padding:10px 14px;margin:8px 0 12px}
.notes{background:#fffbeb;border-left:4px solid #d97706;padding:8px 14px}
.chart{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:8px;margin:10px 0}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;font-size:13px;margin:6px 0}
.swatch{display:inline-block;width:14px;height:14px;border-radius:3px;vertical-align:-2px;margin-right:5px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;background:#fff}
th,td{padding:3px 6px;border-bottom:1px solid #e5e7eb;white-space:nowrap}
th{background:#f3f4f6;text-align:right;font-weight:600}th.text,td.text{text-align:left}
td{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:700;border-top:2px solid #9ca3af}
tr.step-start td{border-top:2px solid #d1d5db}
td.bad{color:#b91c1c;font-weight:600}td.error{white-space:normal;text-align:left;max-width:640px}
.bar{display:inline-block;height:10px;background:#dc2626;border-radius:2px;vertical-align:middle}
.kv td{text-align:left;white-space:normal;max-width:520px}.kv th{text-align:left}
.header{display:grid;grid-template-columns:auto auto minmax(320px,1fr);gap:8px 28px;align-items:start}
nav a{margin-right:14px}
"""


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _kv_table(pairs: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(_json(v))}</td></tr>" for k, v in pairs.items())
    return f'<table class="kv">{rows}</table>'


def _notes_box(notes: list[str]) -> str:
    items = "".join(f"<li>{escape(note)}</li>" for note in notes)
    return f'<div class="notes"><strong>Notes</strong><ul>{items}</ul></div>'


def _header(report: Report) -> str:
    machine = dict(report.machine)
    command = machine.pop("command", None)
    measured = machine.pop("measured_at", None)
    packages = machine.pop("packages", None)
    parts = [f"<h1>{escape(TITLE)}</h1>"]
    line = []
    if measured:
        line.append(f"measured {escape(str(measured))}")
    if command:
        line.append(f"command <code>{escape(str(command))}</code>")
    parts.append(f'<p class="meta">{" · ".join(line)}</p>')
    notes = report.parameters.get("notes")
    if notes:
        parts.append(_notes_box([str(note) for note in notes]))
    parameters = {k: v for k, v in report.parameters.items() if k != "notes"}
    parts.append('<div class="header">')
    parts.append(f"<div><h3>Machine</h3>{_kv_table(machine)}</div>")
    if isinstance(packages, dict):
        parts.append(f"<div><h3>Versions</h3>{_kv_table(packages)}</div>")
    parts.append(f"<div><h3>Parameters</h3>{_kv_table(parameters)}</div></div>")
    if report.phase_seconds:  # the same table the run printed at its end
        parts.append(f'<pre class="phases">{escape(chr(10).join(render_phases(report.phase_seconds)))}</pre>')
    return "".join(parts)


def _legend(strategies: list[str]) -> str:
    items = "".join(
        f'<span><span class="swatch" style="background:{colour_for(name)}"></span>{escape(name)}</span>'
        for name in strategies
    )
    return f'<div class="legend">{items}</div>'


def _summary_table(report: Report, scenario: str) -> str:
    runs = runs_of(report, scenario)
    head = "".join(
        f'<th class="{"text" if i < 2 else ""}">{escape(name)}{"<br>(" + escape(unit) + ")" if unit else ""}</th>'
        for i, (name, unit) in enumerate(column_labels(runs))
    )
    rows = []
    for index, run in enumerate(runs):
        summary = summarize(run)
        first_of_step = index > 0 and run.step != runs[index - 1].step
        cells = row_cells(summary)
        tds = []
        for i, cell in enumerate(cells):
            cls = "text" if i < 2 else ("bad" if COLUMNS[i][0] == "failed" and summary.failed else "")
            content = escape(cell)
            if i == 0:
                swatch = f'<span class="swatch" style="background:{colour_for(run.strategy)}"></span>'
                content = swatch + content
            tds.append(f'<td class="{cls}">{content}</td>')
        row_class = ' class="step-start"' if first_of_step else ""
        rows.append(f"<tr{row_class}>{''.join(tds)}</tr>")
    total = "".join(
        f'<td class="{"text" if i < 2 else ""}">{escape(c)}</td>'
        for i, c in enumerate(row_cells(totals(runs, scenario)))
    )
    rows.append(f'<tr class="total">{total}</tr>')
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _errors_table(report: Report, scenario: str) -> str:
    groups = error_groups([summarize(run) for run in runs_of(report, scenario)])
    if not groups:
        return "<p>No failed requests.</p>"
    most = max(count for errors in groups.values() for count in errors.values())
    rows = []
    for strategy, errors in groups.items():
        for error, count in errors.items():
            width = max(2, round(160 * count / most))
            rows.append(
                f'<tr><td class="text"><span class="swatch" style="background:{colour_for(strategy)}"></span>'
                f"{escape(strategy)}</td><td>{fmt_count(count)}</td>"
                f'<td class="text"><span class="bar" style="width:{width}px"></span></td>'
                f'<td class="error">{escape(" ".join(error.split()))}</td></tr>'
            )
    head = '<tr><th class="text">strategy</th><th>count</th><th></th><th class="text">error</th></tr>'
    return f'<div class="scroll"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'


def _anchor(scenario: str) -> str:
    return "scenario-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in scenario)


def _scenario(report: Report, scenario: str) -> str:
    runs = runs_of(report, scenario)
    verdict = report.verdicts.get(scenario)
    parts = [f'<section id="{_anchor(scenario)}"><h2>{escape(scenario)}</h2>']
    if verdict:
        parts.append(f'<div class="verdict"><strong>Verdict.</strong> {escape(verdict)}</div>')
    parts.append(_legend(list(dict.fromkeys(run.strategy for run in runs))))
    connections = svg(connections_figure(report, scenario))
    latency = svg(latency_figure(report, scenario))
    parts.append(f'<div class="chart">{connections}</div><div class="chart">{latency}</div>')
    parts.append(f"<h3>Errors</h3>{_errors_table(report, scenario)}")
    notes = [f"{run.strategy} {run.step}: {note}" for run in runs for note in run.notes]
    if notes:
        parts.append(_notes_box(notes))
    parts.append(f"<h3>Summary</h3>{_summary_table(report, scenario)}</section>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """The whole page as a string: header (command, machine, versions, parameters), then one section per scenario.

    Self-contained on purpose: the report is read on laptops, in CI artefacts and in mail attachments, where a CDN
    may be unreachable; charts are inline SVG, styles inline CSS, and nothing links outside the page.
    """
    scenarios = scenario_names(report)
    nav = " ".join(f'<a href="#{_anchor(s)}">{escape(s)}</a>' for s in scenarios)
    body = [_header(report)]
    if scenarios:
        body.append(f"<h3>Strategies</h3>{_legend(strategy_names(report))}<nav>Scenarios: {nav}</nav>")
        body.extend(_scenario(report, scenario) for scenario in scenarios)
    else:
        body.append("<p>No runs were recorded.</p>")
    body.append(
        '<p class="meta">Every raw figure is in <code>results.json</code>; one row per run in '
        "<code>results.csv</code>.</p>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(TITLE)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
