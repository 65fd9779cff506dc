"""The comparison, in a quick size, shows what the physics demands (issue: "the shape the physics demands").

Real Postgres, real PgBouncer, the template's real items function under the local Lambda: these assert what the
strategies do to the server, not how fast anything is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.compare.scenarios import SCENARIOS, CompareOptions, ScenarioContext
from harness.compare.strategies import STRATEGIES, Strategy
from harness.compare.summary import summarize
from harness.compare.verdicts import database_errors
from harness.kit.lab import Lab
from harness.kit.records import RunRecord
from harness.pgbouncer import INSTALL_HINT, find_pgbouncer

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
OPTIONS = CompareOptions(scenarios=(), strategies=(), concurrency=(1, 4), invocations=5, template=TEMPLATE)


def strategy(name: str) -> Strategy:
    return next(s for s in STRATEGIES if s.name == name)


@pytest.fixture(scope="module")
def ctx() -> Iterator[ScenarioContext]:
    with Lab(template=TEMPLATE) as lab:
        yield ScenarioContext(lab=lab, options=OPTIONS)


def burst(ctx: ScenarioContext, name: str) -> list[RunRecord]:
    runs = SCENARIOS["burst"](ctx, strategy(name))
    assert all(summarize(run).failed == 0 for run in runs), [summarize(run).errors for run in runs]
    return runs


@pytest.mark.slow
def test_per_invocation_opens_one_connection_per_invocation(ctx: ScenarioContext) -> None:
    for run in burst(ctx, "per_invocation"):
        assert run.connections_opened == len(run.requests)
        assert run.final_connections == 0


@pytest.mark.slow
def test_single_opens_at_most_one_connection_per_environment(ctx: ScenarioContext) -> None:
    for run in burst(ctx, "single"):
        clients = run.parameters["clients"]
        assert run.connections_opened <= clients  # warm environments reuse theirs: far fewer than requests
        assert len(run.requests) == clients * OPTIONS.invocations
        assert run.peak_connections <= clients
        assert 1 <= run.final_connections <= clients  # an idle connection stays with each environment that served


@pytest.mark.slow
@pytest.mark.pgbouncer
def test_null_through_pgbouncer_never_exceeds_the_bouncers_pool(ctx: ScenarioContext) -> None:
    if find_pgbouncer() is None:
        pytest.skip(INSTALL_HINT)
    for run in burst(ctx, "null_pgbouncer"):
        assert 1 <= run.peak_connections <= ctx.lab.pgbouncer_pool_size


@pytest.mark.slow
def test_single_survives_freeze_and_thaw_with_no_failed_request(ctx: ScenarioContext) -> None:
    runs = SCENARIOS["freeze_thaw"](ctx, strategy("single"))
    assert [run.step for run in runs] == ["warm", "after idle_session_timeout", "after pg_terminate_backend"]
    for run in runs:
        summary = summarize(run)
        assert summary.requests > 0
        assert summary.failed == 0, summary.errors


@pytest.mark.slow
def test_compare_command_writes_the_report_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code = main(
        [
            "compare",
            "--quick",
            "--scenario",
            "burst",
            "--strategy",
            "single",
            "--concurrency",
            "1,2",
            "--output",
            str(tmp_path),
        ]
    )
    assert code == 0
    (run_dir,) = tmp_path.iterdir()
    names = {path.name for path in run_dir.iterdir()}
    assert {"results.json", "results.csv", "report.html", "burst-connections.png"} <= names
    results = json.loads((run_dir / "results.json").read_text())
    assert [run["step"] for run in results["runs"]] == ["c=1", "c=2"]
    assert results["machine"]["cpus"] >= 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--invocations", "0"], "--invocations must be between 1 and 10000"),
        (["--concurrency", "1,x"], "expected comma-separated whole numbers"),
        (["--scenario", "nope"], "invalid choice: 'nope'"),
        (["--over-budget-factor", "50"], "--over-budget-factor must be between 1 and 10"),
    ],
)
def test_bad_options_exit_2_with_a_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_template_is_refused_before_anything_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--template", str(tmp_path / "nope.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def over_budget_context(ctx: ScenarioContext, *, invocations: int) -> ScenarioContext:
    """The lab's servers with a small over-budget step: max_connections=8, twice its free slots in environments."""
    options = CompareOptions(
        scenarios=(),
        strategies=(),
        max_connections=8,
        over_budget_factor=2.0,
        invocations=invocations,
        template=TEMPLATE,
    )
    return ScenarioContext(lab=ctx.lab, options=options)


@pytest.mark.slow
def test_over_budget_single_is_throttled_never_refused_and_the_proxy_serves_everyone(ctx: ScenarioContext) -> None:
    small = over_budget_context(ctx, invocations=3)
    single = [summarize(run) for run in SCENARIOS["over_budget"](small, strategy("single"))]
    assert [s.step for s in single] == ["roomy server", "max_connections=8"]
    assert single[0].failed == 0  # with room for everyone, no cap is needed
    assert single[1].throttled > 0
    assert database_errors(single[1]) == 0
    assert single[1].peak_connections <= small.options.connection_budget
    if find_pgbouncer() is not None:
        proxied = [summarize(run) for run in SCENARIOS["over_budget"](small, strategy("null_pgbouncer"))]
        assert proxied[1].failed == 0
        assert proxied[1].peak_connections <= ctx.lab.pgbouncer_pool_size


@pytest.mark.slow
def test_over_budget_queue_fails_with_503_after_the_shorter_retry_budget_the_report_names(ctx: ScenarioContext) -> None:
    small = over_budget_context(ctx, invocations=2)
    roomy, crowded = SCENARIOS["over_budget"](small, strategy("queue"))
    assert roomy.notes == []
    assert "DB_CONNECT_RETRY_MAX_S" not in roomy.parameters
    assert crowded.parameters["DB_CONNECT_RETRY_MAX_S"] == "1"
    assert any("DB_CONNECT_RETRY_MAX_S=1" in note for note in crowded.notes)
    summary = summarize(crowded)
    assert summary.failed > 0
    assert database_errors(summary) == summary.failed, summary.errors
    assert all("HTTP 503" in error for error in summary.errors)


def test_scale_down_ends_with_every_environment_and_its_connection_gone(ctx: ScenarioContext) -> None:
    short = ScenarioContext(
        lab=ctx.lab,
        options=CompareOptions(scenarios=(), strategies=(), invocations=2, idle_ttl_s=0.5, template=TEMPLATE),
    )
    (run,) = SCENARIOS["scale_down"](short, strategy("single"))
    assert summarize(run).failed == 0
    assert run.peak_connections == 8
    assert run.final_connections == 0
