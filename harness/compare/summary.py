"""Pure arithmetic on run records: percentiles, error groups, throughput — the numbers every renderer shows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from harness.kit.percentiles import percentile
from harness.kit.records import RunRecord

__all__ = ["PERCENTILES", "RunSummary", "summarize"]

PERCENTILES = (50, 95, 99)


@dataclass(frozen=True, slots=True)
class RunSummary:
    strategy: str
    scenario: str
    step: str
    requests: int
    ok: int
    failed: int
    throttled: int
    errors: dict[str, int]
    latency_ms: dict[str, float | None]  # p50, p95, p99, max
    db_ms: dict[str, float | None]  # p50, p99 of the handler's own DB time
    throughput_rps: float
    cold_starts: int
    environments: int
    connections_opened: int
    connections_refused: int
    peak_connections: int
    final_connections: int
    backend_memory_kib: int | None
    notes: tuple[str, ...] = ()  # what the step ran differently from the rest (a shorter retry budget, say)
    request_unit: str = "request"  # what requests, ok, failed, throttled and throughput count (RunRecord's)


def summarize(run: RunRecord) -> RunSummary:
    latencies = [r.latency_ms for r in run.requests if r.ok]
    db_times = [r.db_ms for r in run.requests if r.ok and r.db_ms is not None]
    errors = Counter(r.error or f"HTTP {r.status}" for r in run.requests if not r.ok)
    latency: dict[str, float | None] = {f"p{p}": percentile(latencies, p) for p in PERCENTILES}
    latency["max"] = max(latencies, default=None)
    ok = sum(1 for r in run.requests if r.ok)
    return RunSummary(
        strategy=run.strategy,
        scenario=run.scenario,
        step=run.step,
        requests=len(run.requests),
        ok=ok,
        failed=len(run.requests) - ok,
        throttled=sum(1 for r in run.requests if r.status == 429),
        errors=dict(errors.most_common()),
        latency_ms=latency,
        db_ms={"p50": percentile(db_times, 50), "p99": percentile(db_times, 99)},
        throughput_rps=ok / run.duration_s if run.duration_s > 0 else 0.0,
        cold_starts=sum(1 for r in run.requests if r.cold_start),
        environments=run.environments,
        connections_opened=run.connections_opened,
        connections_refused=run.connections_refused,
        peak_connections=run.peak_connections,
        final_connections=run.final_connections,
        backend_memory_kib=run.backend_memory_kib,
        notes=tuple(run.notes),
        request_unit=run.request_unit,
    )
