"""The chart series: steps end to end on one time axis, limits drawn only where they mean something."""

from __future__ import annotations

from harness.compare.report import STRATEGY_COLOURS, colour_for
from harness.compare.report.charts import latency_figure, log_ticks
from harness.compare.report.series import connection_series, latency_groups
from harness.compare.summary import summarize
from harness.kit.records import Report
from tests.unit.compare.conftest import make_run


def test_steps_are_laid_end_to_end_and_never_joined(report: Report) -> None:
    series = connection_series(report, "burst")
    assert [step for _, step in series.boundaries] == ["c=1", "c=4"]
    second_start = series.boundaries[1][0]
    assert second_start == 2.0  # every run lasted 2 s
    for parts in series.segments.values():
        assert len(parts) == 2  # one segment per step
        assert max(t for t, _ in parts[0]) <= second_start <= min(t for t, _ in parts[1])
    assert series.peak == 12


def test_a_cap_close_to_the_lines_is_drawn_and_a_roomy_one_is_not() -> None:
    tight = Report(machine={}, parameters={}, runs=[make_run("null", "s", "a", ok=1, peak=18, max_connections=20)])
    roomy = Report(machine={}, parameters={}, runs=[make_run("null", "s", "a", ok=1, peak=4, max_connections=200)])
    series = connection_series(tight, "s")
    assert series.visible_limits == [(0.0, series.end_s, 20, "max_connections")]
    assert connection_series(tight, "s").y_top == 20
    assert connection_series(roomy, "s").visible_limits == []
    assert connection_series(roomy, "s").y_top == 4


def test_latency_bars_carry_the_summarized_percentiles(report: Report) -> None:
    groups = latency_groups(report, "over_budget")
    assert [g.step for g in groups] == ["max_connections=20"]
    by_strategy = {bar.strategy: bar for bar in groups[0].bars}
    null_run = next(r for r in report.runs if r.strategy == "null" and r.scenario == "over_budget")
    assert by_strategy["null"].p99 == summarize(null_run).latency_ms["p99"]
    assert by_strategy["queue"].p50 is None
    assert by_strategy["queue"].failed == 12


def test_every_known_strategy_has_its_own_fixed_colour() -> None:
    assert len(set(STRATEGY_COLOURS.values())) == len(STRATEGY_COLOURS) == 6
    assert colour_for("single") == STRATEGY_COLOURS["single"]
    assert colour_for("someone_elses_strategy") == colour_for("someone_elses_strategy")
    assert colour_for("someone_elses_strategy") not in STRATEGY_COLOURS.values()


def test_log_axis_hugs_the_data_on_the_1_2_5_ladder() -> None:
    low, high, ticks = log_ticks([2.3, 1470.0])
    assert (low, high) == (2.0, 2000.0)
    assert ticks == [2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]


def test_latency_chart_switches_to_log_scale_when_figures_span_orders_of_magnitude() -> None:
    fast = make_run("single", "s", "a", ok=20, base_ms=2.0)
    slow = make_run("queue", "s", "a", ok=20, base_ms=3000.0)
    spread = Report(machine={}, parameters={}, runs=[fast, slow])
    close = Report(machine={}, parameters={}, runs=[fast])
    assert "ms, log scale" in latency_figure(spread, "s").axes[0].get_ylabel()
    assert "ms, linear scale" in latency_figure(close, "s").axes[0].get_ylabel()


def test_an_sqs_mappings_maximum_concurrency_is_drawn_as_a_limit_beside_max_connections() -> None:
    run = make_run("single", "queue_backlog", "2000 messages", ok=1, peak=4, max_connections=6)
    run.parameters["max_concurrency"] = 5
    series = connection_series(Report(machine={}, parameters={}, runs=[run]), "queue_backlog")
    assert series.visible_limits == [
        (0.0, series.end_s, 6, "max_connections"),
        (0.0, series.end_s, 5, "MaximumConcurrency"),
    ]
