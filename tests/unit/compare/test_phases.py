"""The run's own account of where its time went: nested phases counted once, and the table it prints."""

from __future__ import annotations

from harness.compare.phases import Phases, render_phases
from harness.kit.records import Report


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_wait_inside_a_measured_step_counts_as_a_wait_and_not_twice() -> None:
    clock = Clock()
    phases = Phases(clock)
    with phases.timed("scale_down", "measure"):
        clock.now += 2.0  # the clients' invocations
        with phases.timed("scale_down", "wait"):
            clock.now += 5.0  # the wait for the reclaim, inside the step
        clock.now += 0.5
    with phases.timed("scale_down", "stop"):
        clock.now += 1.0

    assert phases.seconds() == {"scale_down": {"measure": 2.5, "wait": 5.0, "stop": 1.0}}


def test_phases_add_up_per_scenario_in_the_order_the_scenarios_ran() -> None:
    clock = Clock()
    phases = Phases(clock)
    for scenario, seconds in (("ramp", 3.0), ("burst", 1.0), ("ramp", 4.0)):
        with phases.timed(scenario, "start"):
            clock.now += seconds

    assert list(phases.seconds()) == ["ramp", "burst"]
    assert phases.seconds()["ramp"] == {"start": 7.0}


def test_a_phase_that_raises_is_still_counted() -> None:
    clock = Clock()
    phases = Phases(clock)
    try:
        with phases.timed("burst", "setup"):
            clock.now += 1.5
            raise RuntimeError("migration failed")
    except RuntimeError:
        pass

    assert phases.seconds() == {"burst": {"setup": 1.5}}


def test_the_table_has_a_row_per_scenario_a_total_and_only_the_phases_used() -> None:
    lines = render_phases({"burst": {"start": 2.0, "measure": 10.0}, "ramp": {"start": 1.0, "wait": 3.5}})

    header, burst, ramp, total = lines[1:5]
    assert header.split() == ["start", "measure", "wait", "all"]  # no deploy, setup, prewarm or stop column
    assert burst.split() == ["burst", "2.0", "10.0", "0.0", "12.0"]
    assert ramp.split() == ["ramp", "1.0", "0.0", "3.5", "4.5"]
    assert total.split() == ["total", "3.0", "10.0", "3.5", "16.5"]
    assert any(line.startswith("  wait: ") for line in lines[5:])  # each column explained
    assert render_phases({}) == []


def test_the_phase_seconds_survive_results_json() -> None:
    report = Report(machine={}, parameters={}, phase_seconds={"burst": {"measure": 12.5}})

    assert Report.from_dict(report.to_dict()).phase_seconds == {"burst": {"measure": 12.5}}
    legacy = {k: v for k, v in report.to_dict().items() if k != "phase_seconds"}  # a results.json from before
    assert Report.from_dict(legacy).phase_seconds == {}
