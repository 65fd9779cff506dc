"""The plain-language verdicts say what the figures say."""

from __future__ import annotations

from harness.compare.verdicts import compute_verdicts
from harness.kit.records import ConnectionSample, Report, RequestRecord, RunRecord


def run(
    strategy: str,
    scenario: str,
    step: str,
    *,
    ok: int,
    errors: tuple[str, ...] = (),
    status: int = 503,
    latency_ms: float = 10.0,
    opened: int = 0,
    refused: int = 0,
    peak: int = 1,
    final: int = 0,
) -> RunRecord:
    requests = [RequestRecord(client=0, started_s=i, latency_ms=latency_ms, ok=True, status=200) for i in range(ok)]
    requests += [RequestRecord(client=0, started_s=0, latency_ms=1, ok=False, status=status, error=e) for e in errors]
    return RunRecord(
        strategy=strategy,
        scenario=scenario,
        step=step,
        parameters={},
        requests=requests,
        samples=[ConnectionSample(t_s=0, app=peak, total=peak)],
        duration_s=1.0,
        connections_opened=opened,
        connections_refused=refused,
        final_connections=final,
    )


def verdicts(*runs: RunRecord) -> dict[str, str]:
    return compute_verdicts(Report(machine={}, parameters={}, runs=list(runs)))


def test_over_budget_tells_throttles_from_database_errors_and_gives_the_p99_ratio() -> None:
    text = verdicts(
        run("queue", "over_budget", "roomy server", ok=10),
        run("queue", "over_budget", "max_connections=10", ok=4, errors=("HTTP 503: too many clients",) * 6),
        run("single", "over_budget", "roomy server", ok=10),
        run(
            "single",
            "over_budget",
            "max_connections=10",
            ok=4,
            status=429,
            errors=("TooManyRequestsException (throttled)",) * 6,
        ),
        run("null_pgbouncer", "over_budget", "roomy server", ok=10, latency_ms=10.0),
        run("null_pgbouncer", "over_budget", "max_connections=10", ok=10, latency_ms=25.0, refused=3),
    )["over_budget"]
    assert "queue: 6 of 10 failed with database errors" in text
    assert "single: 6 throttled by reserved concurrency, 0 database errors" in text
    assert "null_pgbouncer served all 10, p99 2.5x the roomy server's (3 refused connects retried)" in text


def test_freeze_thaw_names_who_failed_after_the_thaw() -> None:
    text = verdicts(
        run("single", "freeze_thaw", "warm", ok=5),
        run("single", "freeze_thaw", "after idle_session_timeout", ok=5),
        run("queue", "freeze_thaw", "warm", ok=5),
        run("queue", "freeze_thaw", "after idle_session_timeout", ok=3, errors=("server closed",) * 2),
    )["freeze_thaw"]
    assert "no failed request for single" in text
    assert "failures for queue (2 failed)" in text


def test_scale_down_explains_the_connections_pgbouncer_keeps() -> None:
    text = verdicts(
        run("single", "scale_down", "c=8", ok=8, peak=8, final=0),
        run("null_pgbouncer", "scale_down", "c=8", ok=8, peak=5, final=5),
    )["scale_down"]
    assert "single 8 -> 0;" in text
    assert "null_pgbouncer 5 -> 5 (PgBouncer keeps its own server pool)" in text


def test_burst_reports_connections_opened_per_request_at_the_highest_step() -> None:
    text = verdicts(
        run("per_invocation", "burst", "c=1", ok=4, opened=4),
        run("per_invocation", "burst", "c=8", ok=80, opened=80, peak=8),
        run("single", "burst", "c=8", ok=80, opened=8, peak=8),
    )["burst"]
    assert text.startswith("At c=8:")
    assert "per_invocation opened 80 connections for 80 requests (1.00 per request" in text
    assert "single opened 8 connections for 80 requests (0.10 per request" in text
