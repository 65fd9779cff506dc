"""Edge cases of the arithmetic every renderer relies on: nearest-rank percentiles and empty or failed runs."""

from __future__ import annotations

import pytest

from harness.compare.summary import summarize
from harness.kit.percentiles import percentile
from harness.kit.records import ConnectionSample, RequestRecord, RunRecord


def failed(status: int, error: str | None) -> RequestRecord:
    return RequestRecord(client=0, started_s=0.0, latency_ms=3.0, ok=False, status=status, error=error)


def test_percentile_of_nothing_is_none_not_zero() -> None:
    assert percentile([], 50) is None


@pytest.mark.parametrize(("pct", "expected"), [(0, 1.0), (50, 2.0), (95, 4.0), (99, 4.0), (100, 4.0)])
def test_percentile_is_nearest_rank_a_value_that_happened(pct: float, expected: float) -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], pct) == expected


def test_percentile_of_one_value_is_that_value() -> None:
    assert {percentile([7.5], p) for p in (1, 50, 99)} == {7.5}


def test_summary_of_a_run_without_requests_has_no_latency_and_no_throughput() -> None:
    summary = summarize(RunRecord(strategy="single", scenario="burst", step="c=1", parameters={}, duration_s=0.0))
    assert (summary.requests, summary.ok, summary.failed) == (0, 0, 0)
    assert set(summary.latency_ms.values()) == {None}
    assert summary.throughput_rps == 0.0
    assert summary.errors == {}
    assert summary.peak_connections == 0


def test_summary_of_an_all_failed_run_groups_errors_and_counts_throttles() -> None:
    run = RunRecord(
        strategy="null",
        scenario="over_budget",
        step="max_connections=20",
        parameters={},
        requests=[failed(500, "too many clients")] * 3
        + [failed(429, "TooManyRequestsException")] * 2
        + [failed(502, None)],
        samples=[ConnectionSample(t_s=0.0, app=3, total=4), ConnectionSample(t_s=0.1, app=20, total=21)],
        duration_s=1.0,
    )
    summary = summarize(run)
    assert (summary.ok, summary.failed, summary.throttled) == (0, 6, 2)
    assert summary.errors == {"too many clients": 3, "TooManyRequestsException": 2, "HTTP 502": 1}
    assert summary.latency_ms == {"p50": None, "p95": None, "p99": None, "max": None}
    assert summary.db_ms == {"p50": None, "p99": None}
    assert summary.throughput_rps == 0.0
    assert summary.peak_connections == 20
