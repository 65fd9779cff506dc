"""A plain-language verdict per scenario, computed from the summaries (pure: records in, sentences out)."""

from __future__ import annotations

from collections import defaultdict

from harness.compare.queue_verdict import queue_backlog_verdict
from harness.compare.summary import RunSummary, summarize
from harness.kit.records import Report

__all__ = ["DB_ERROR_MARKERS", "compute_verdicts", "database_errors"]

# Failures that come from the database refusing or dropping connections (as opposed to Lambda throttling).
DB_ERROR_MARKERS = (
    "too many clients",
    "connection slots",
    "QueuePool",
    "server closed",
    "terminated by",
    "connection refused",
    "HTTP 503",
)


def database_errors(summary: RunSummary) -> int:
    return sum(count for error, count in summary.errors.items() if any(m in error for m in DB_ERROR_MARKERS))


def _by_scenario(report: Report) -> dict[str, list[RunSummary]]:
    grouped: dict[str, list[RunSummary]] = defaultdict(list)
    for run in report.runs:
        grouped[run.scenario].append(summarize(run))
    return grouped


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _burst(rows: list[RunSummary]) -> str:
    last_step = rows[-1].step
    parts = []
    for row in (r for r in rows if r.step == last_step):
        per_request = row.connections_opened / row.requests if row.requests else 0.0
        parts.append(
            f"{row.strategy} opened {row.connections_opened} connections for {row.requests} requests "
            f"({per_request:.2f} per request, peak {row.peak_connections} held, p99 {_ms(row.latency_ms['p99'])})"
        )
    return f"At {last_step}: " + "; ".join(parts) + "."


def _over_budget(rows: list[RunSummary]) -> str:
    reference = {r.strategy: r for r in rows if r.step == "roomy server"}
    parts = []
    for row in (r for r in rows if r.step != "roomy server"):
        db_errors = database_errors(row)
        ref = reference.get(row.strategy)
        ratio = ""
        if ref and ref.latency_ms["p99"] and row.latency_ms["p99"]:
            ratio = f", p99 {row.latency_ms['p99'] / ref.latency_ms['p99']:.1f}x the roomy server's"
        retried = f" ({row.connections_refused} refused connects retried)" if row.connections_refused else ""
        if row.failed == 0:
            parts.append(f"{row.strategy} served all {row.requests}{ratio}{retried}")
        elif db_errors == 0:
            parts.append(f"{row.strategy}: {row.throttled} throttled by reserved concurrency, 0 database errors")
        else:
            parts.append(f"{row.strategy}: {db_errors} of {row.requests} failed with database errors")
    return "With more environments than connection slots: " + "; ".join(parts) + "."


def _freeze_thaw(rows: list[RunSummary]) -> str:
    failed: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.step != "warm":
            failed[row.strategy] += row.failed
    clean = [name for name, count in failed.items() if count == 0]
    broken = [f"{name} ({count} failed)" for name, count in failed.items() if count]
    text = "After idle_session_timeout and pg_terminate_backend: "
    text += f"no failed request for {', '.join(clean)}" if clean else "every strategy failed requests"
    return text + (f"; failures for {', '.join(broken)}." if broken else ".")


def _scale_down(rows: list[RunSummary]) -> str:
    parts = [
        f"{r.strategy} {r.peak_connections} -> {r.final_connections}"
        + (" (PgBouncer keeps its own server pool)" if r.final_connections and "pgbouncer" in r.strategy else "")
        for r in rows
    ]
    return "Server connections at peak -> after idle environments were reclaimed: " + "; ".join(parts) + "."


def _ramp(rows: list[RunSummary]) -> str:
    peaks: dict[str, int] = defaultdict(int)
    for row in rows:
        peaks[row.strategy] = max(peaks[row.strategy], row.peak_connections)
    top = rows[-1].step
    return (
        f"Peak server connections while concurrency rose to {top}: "
        + "; ".join(f"{name} {peak}" for name, peak in peaks.items())
        + "."
    )


_VERDICTS = {
    "burst": _burst,
    "over_budget": _over_budget,
    "freeze_thaw": _freeze_thaw,
    "scale_down": _scale_down,
    "ramp": _ramp,
}


def compute_verdicts(report: Report) -> dict[str, str]:
    verdicts = {
        scenario: _VERDICTS[scenario](rows)
        for scenario, rows in _by_scenario(report).items()
        if scenario in _VERDICTS and rows
    }
    backlog = [run for run in report.runs if run.scenario == "queue_backlog"]
    if backlog:  # its figures live in the runs' parameters, not in the summaries
        verdicts["queue_backlog"] = queue_backlog_verdict(backlog)
    return verdicts
