"""Which scenarios run when none is named: queue_backlog drains IngestFunction's queue, not one's own function's."""

from __future__ import annotations

import argparse

from harness.compare import cli


def _options(*argv: str) -> cli.CompareOptions:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(list(argv))
    return cli.options_from_args(args, cli.workload_from_args(args))


def test_the_default_workload_runs_every_scenario_including_the_queue_backlog() -> None:
    assert _options().scenarios == cli.DEFAULT_SCENARIOS
    assert "queue_backlog" in cli.DEFAULT_SCENARIOS


def test_ones_own_function_runs_every_scenario_but_the_queue_backlog() -> None:
    scenarios = _options("--function", "VisitsFunction", "--event", "events/items_get.json").scenarios
    assert "queue_backlog" not in scenarios
    assert set(scenarios) == set(cli.DEFAULT_SCENARIOS) - {"queue_backlog"}


def test_the_queue_backlog_runs_beside_ones_own_function_when_asked_for() -> None:
    given = ("--function", "VisitsFunction", "--event", "events/items_get.json", "--scenario", "queue_backlog")
    options = _options(*given)
    assert options.scenarios == ("queue_backlog",)
