"""Run the chosen scenarios for every chosen strategy, side by side in one run, and collect one Report."""

from __future__ import annotations

import sys
import time

from harness.compare.postgres_backend import backend_for
from harness.compare.scenarios import SCENARIOS, CompareOptions, ScenarioContext
from harness.compare.strategies import STRATEGIES
from harness.compare.verdicts import compute_verdicts
from harness.kit.lab import Lab
from harness.kit.machine import describe_machine
from harness.kit.records import Report

__all__ = ["run_compare"]


def run_compare(options: CompareOptions) -> Report:
    """Every scenario for every strategy; all strategies of a scenario run back to back, on the same machine state.

    The servers run where ``options.postgres`` says; a Docker backend that cannot start raises DockerUnavailableError.
    """
    report = Report(machine=describe_machine(), parameters=options.as_dict())
    with Lab(template=options.template, backend=backend_for(options.postgres, options.template)) as lab:
        strategies = [s for s in STRATEGIES if s.name in options.strategies]
        if not lab.has_pgbouncer:
            skipped = [s.name for s in strategies if s.via_pgbouncer]
            if skipped:
                note = f"skipped {', '.join(skipped)}: pgbouncer is not installed (sudo apt-get install -y pgbouncer)"
                print(f"note: {note}", file=sys.stderr)
                report.parameters["notes"] = [note]
            strategies = [s for s in strategies if not s.via_pgbouncer]
        ctx = ScenarioContext(lab=lab, options=options)
        for scenario in options.scenarios:
            print(f"==> scenario {scenario}: {SCENARIOS[scenario].__doc__.splitlines()[0]}", flush=True)  # type: ignore[union-attr]
            began = time.monotonic()
            for strategy in strategies:
                report.runs.extend(SCENARIOS[scenario](ctx, strategy))
            print(f"    {scenario} done in {time.monotonic() - began:.0f}s", flush=True)
        report.parameters["success_rule"] = ctx.judge.describe()
        report.phase_seconds = ctx.phases.seconds()
    report.verdicts = compute_verdicts(report)
    return report
