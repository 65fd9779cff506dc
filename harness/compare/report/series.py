"""Pure reshaping of a Report into what the renderers draw: ordering, totals, error groups and chart series.

Every renderer (terminal table, CSV, HTML, PNG) reads the same shapes from here, so a number in a chart is the
number in the table. Nothing here formats or draws.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from harness.compare.summary import RunSummary, summarize
from harness.kit.records import Report, RunRecord

__all__ = [
    "ConnectionSeries",
    "LatencyBar",
    "LatencyGroup",
    "connection_series",
    "error_groups",
    "latency_groups",
    "runs_of",
    "scenario_names",
    "strategy_names",
    "totals",
]

TOTAL_LABEL = "all"


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def scenario_names(report: Report) -> list[str]:
    """Scenarios in the order they ran."""
    return _unique([run.scenario for run in report.runs])


def strategy_names(report: Report) -> list[str]:
    """Strategies in the order they first ran (the order of every legend and table)."""
    return _unique([run.strategy for run in report.runs])


def runs_of(report: Report, scenario: str) -> list[RunRecord]:
    """A scenario's runs, step by step and within a step in strategy order: strategies side by side per step.

    (The runner runs every step of one strategy before the next; a reader compares strategies at one step.)
    """
    runs = [run for run in report.runs if run.scenario == scenario]
    steps = {step: index for index, step in enumerate(_unique([run.step for run in runs]))}
    return sorted(runs, key=lambda run: steps[run.step])  # stable: strategies keep their running order


def totals(runs: list[RunRecord], scenario: str) -> RunSummary:
    """The totals row: every request of the scenario pooled, as Locust's "Aggregated" row does.

    Percentiles are over all requests (not an average of percentiles, which would be a number nobody saw);
    throughput is requests over the summed durations; peak is the highest any run reached; connections opened,
    final connections and environments are summed; memory is the largest seen.
    """
    memories = [run.backend_memory_kib for run in runs if run.backend_memory_kib is not None]
    merged = RunRecord(
        strategy=TOTAL_LABEL,
        scenario=scenario,
        step="all steps",
        parameters={},
        requests=[request for run in runs for request in run.requests],
        samples=[sample for run in runs for sample in run.samples],
        duration_s=sum(run.duration_s for run in runs),
        connections_opened=sum(run.connections_opened for run in runs),
        connections_refused=sum(run.connections_refused for run in runs),
        final_connections=sum(run.final_connections for run in runs),
        backend_memory_kib=max(memories) if memories else None,
        environments=sum(run.environments for run in runs),
        request_unit=runs[0].request_unit if runs else "request",
    )
    return summarize(merged)


def error_groups(summaries: list[RunSummary]) -> dict[str, dict[str, int]]:
    """Strategy -> error text -> count over all its steps, most frequent first; strategies without errors left out."""
    grouped: dict[str, Counter[str]] = {}
    for summary in summaries:
        if summary.errors:
            grouped.setdefault(summary.strategy, Counter()).update(summary.errors)
    return {strategy: dict(counts.most_common()) for strategy, counts in grouped.items()}


# The run parameters that are a ceiling on the connections chart, and the name each is drawn with.
LIMITS = (("max_connections", "max_connections"), ("max_concurrency", "MaximumConcurrency"))


@dataclass(frozen=True, slots=True)
class ConnectionSeries:
    """Server connections over time for one scenario, steps laid end to end on one time axis.

    Each step starts where the longest run of the previous step ended, so step boundaries line up across
    strategies and a line never runs across two steps (each step is its own segment).
    """

    segments: dict[str, list[list[tuple[float, int]]]]  # strategy -> one list of (t, connections) per step
    boundaries: list[tuple[float, str]]  # (start time, step label) per step
    end_s: float
    # (start, end, value, name) per step and ceiling: the server's max_connections, and an SQS mapping's
    # MaximumConcurrency (the most connections its environments can hold) where the scenario has one
    limits: list[tuple[float, float, int, str]] = field(default_factory=list)

    @property
    def peak(self) -> int:
        return max((y for parts in self.segments.values() for part in parts for _, y in part), default=0)

    @property
    def visible_limits(self) -> list[tuple[float, float, int, str]]:
        """Limits worth drawing: a roomy server's cap far above every line would only flatten the chart."""
        return [limit for limit in self.limits if limit[2] <= max(2 * self.peak, 1)]

    @property
    def y_top(self) -> int:
        """The highest value a chart must show: the peak, or a drawn limit above it."""
        return max([self.peak, *(cap for _, _, cap, _ in self.visible_limits), 1])


def _span(run: RunRecord) -> float:
    return max([run.duration_s, *(sample.t_s for sample in run.samples)])


def connection_series(report: Report, scenario: str) -> ConnectionSeries:
    runs = runs_of(report, scenario)
    steps = _unique([run.step for run in runs])
    segments: dict[str, list[list[tuple[float, int]]]] = {name: [] for name in _unique([r.strategy for r in runs])}
    boundaries: list[tuple[float, str]] = []
    limits: list[tuple[float, float, int, str]] = []
    offset = 0.0
    for step in steps:
        in_step = [run for run in runs if run.step == step]
        width = max((_span(run) for run in in_step), default=0.0)
        boundaries.append((offset, step))
        for run in in_step:
            points = [(offset + s.t_s, s.app) for s in sorted(run.samples, key=lambda s: s.t_s)]
            if points:
                segments[run.strategy].append(points)
        for parameter, name in LIMITS:
            cap = next((run.parameters.get(parameter) for run in in_step), None)
            if isinstance(cap, int) and not isinstance(cap, bool):
                limits.append((offset, offset + width, cap, name))
        offset += width
    return ConnectionSeries(segments=segments, boundaries=boundaries, end_s=offset, limits=limits)


@dataclass(frozen=True, slots=True)
class LatencyBar:
    strategy: str
    p50: float | None
    p95: float | None
    p99: float | None
    failed: int
    requests: int


@dataclass(frozen=True, slots=True)
class LatencyGroup:
    step: str
    bars: list[LatencyBar]


def latency_groups(report: Report, scenario: str) -> list[LatencyGroup]:
    """One group per step, one bar per strategy: the percentiles :func:`summarize` computed, nothing recomputed."""
    summaries = [summarize(run) for run in runs_of(report, scenario)]
    groups = []
    for step in _unique([s.step for s in summaries]):
        bars = [
            LatencyBar(s.strategy, s.latency_ms["p50"], s.latency_ms["p95"], s.latency_ms["p99"], s.failed, s.requests)
            for s in summaries
            if s.step == step
        ]
        groups.append(LatencyGroup(step=step, bars=bars))
    return groups
