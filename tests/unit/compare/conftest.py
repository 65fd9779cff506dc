"""A synthetic comparison Report, built from records the way the runner builds them (no Lambda, no server).

The numbers are chosen so every column of the summary has a known answer: failures, throttles, cold starts,
connections, memory, and an error text that tries to break out of HTML. :class:`FakeResult` is one invocation's
answer for the tests that judge answers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from harness.kit.records import ConnectionSample, Report, RequestRecord, RunRecord

ReportFactory = Callable[..., Report]


@dataclass
class FakeResult:
    """The shape of the emulator's InvokeResult (``InvokeResultLike``), built by hand for pure tests."""

    status_code: int = 200
    payload: Any = None
    function_error: str | None = None
    log_tail: str | None = None
    cold_start: bool = False
    environment_id: str | None = "env-1"
    throttled: bool = False


def make_run(
    strategy: str,
    scenario: str,
    step: str,
    *,
    ok: int,
    errors: dict[str, int] | None = None,
    throttled: int = 0,
    base_ms: float = 5.0,
    peak: int = 4,
    seed: int = 0,
    max_connections: int | None = None,
) -> RunRecord:
    """One run: ``ok`` successes spread around ``base_ms``, the given errors (HTTP 500) and throttles (HTTP 429)."""
    rng = random.Random(f"{strategy}/{scenario}/{step}/{seed}")
    requests = [
        RequestRecord(
            client=i % 4,
            started_s=i * 0.01,
            latency_ms=base_ms * (1 + rng.random() * 3),
            ok=True,
            status=200,
            cold_start=i < 2,
            db_ms=base_ms / 2,
            environment=f"env-{i % 4}",
        )
        for i in range(ok)
    ]
    for error, count in (errors or {}).items():
        requests += [RequestRecord(client=0, started_s=1.0, latency_ms=30.0, ok=False, status=500, error=error)] * count
    requests += [
        RequestRecord(client=0, started_s=1.0, latency_ms=1.0, ok=False, status=429, error="TooManyRequestsException")
    ] * throttled
    samples = [ConnectionSample(t_s=t * 0.1, app=min(peak, t), total=min(peak, t) + 1) for t in range(peak + 6)]
    return RunRecord(
        strategy=strategy,
        scenario=scenario,
        step=step,
        parameters={"clients": 4} if max_connections is None else {"clients": 4, "max_connections": max_connections},
        requests=requests,
        samples=samples,
        duration_s=2.0,
        connections_opened=peak + 1,
        final_connections=1,
        backend_memory_kib=2048 * peak,
        environments=4,
    )


def build_report(*, evil: str | None = None) -> Report:
    """Two scenarios, three strategies (plus ``evil`` if given), with failures in over_budget only."""
    runs = []
    for strategy, base, peak in (("single", 4.0, 4), ("null", 6.0, 8), ("queue", 5.0, 12)):
        for step in ("c=1", "c=4"):
            runs.append(make_run(strategy, "burst", step, ok=40, base_ms=base, peak=peak))
    runs.append(make_run("single", "over_budget", "max_connections=20", ok=30, throttled=5, max_connections=20))
    runs.append(
        make_run(
            "null",
            "over_budget",
            "max_connections=20",
            ok=20,
            errors={"FATAL: sorry, too many clients already": 7, "server closed the connection unexpectedly": 2},
            peak=20,
            max_connections=20,
        )
    )
    runs.append(
        make_run(
            "queue",
            "over_budget",
            "max_connections=20",
            ok=0,
            errors={"QueuePool limit reached (pool timeout)": 12},
            peak=20,
            max_connections=20,
        )
    )
    if evil is not None:
        runs.append(make_run(evil, "burst", "c=1", ok=3, errors={evil: 1}))
    return Report(
        machine={"measured_at": "2026-01-01T00:00:00+00:00", "command": "harness compare --quick", "cpus": 2},
        parameters={"scenarios": ["burst", "over_budget"], "invocations": 10},
        runs=runs,
        verdicts={"burst": "single held the fewest connections.", "over_budget": "null and queue failed."},
    )


@pytest.fixture
def report() -> Report:
    return build_report()


@pytest.fixture
def report_factory() -> ReportFactory:
    return build_report
