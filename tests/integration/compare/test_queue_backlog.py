"""``queue_backlog`` on a real Postgres and moto's real SQS server: the template's mapping drains a backlog.

The scenario's own figures are checked against the database and the dead-letter queue it reports on: peak
connections from the monitor's ``pg_stat_activity`` samples, exactly-once from the idempotency keys in
``ingested_messages``, poison messages from the dead-letter queue's content.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.compare.scenarios import SCENARIOS, CompareOptions, ScenarioContext
from harness.compare.strategies import STRATEGIES
from harness.compare.verdicts import compute_verdicts
from harness.kit.lab import Lab
from harness.kit.machine import describe_machine
from harness.kit.records import Report, RunRecord

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
OPTIONS = CompareOptions(scenarios=(), strategies=(), messages=80, poison_messages=3, template=TEMPLATE)


pytestmark = pytest.mark.slow
RUNS: dict[str, list[RunRecord]] = {}


@pytest.fixture(scope="module")
def ctx() -> Iterator[ScenarioContext]:
    with Lab(template=TEMPLATE) as lab:
        yield ScenarioContext(lab=lab, options=OPTIONS)


def _runs(ctx: ScenarioContext, name: str) -> list[RunRecord]:
    """Each strategy's run once per module (the verdict reads the same run)."""
    if name not in RUNS:
        RUNS[name] = SCENARIOS["queue_backlog"](ctx, next(s for s in STRATEGIES if s.name == name))
    return RUNS[name]


@pytest.mark.parametrize("name", ["single", "null"])
def test_the_backlog_drains_within_max_concurrency_exactly_once_with_the_poison_in_the_dlq(ctx, name):
    (run,) = _runs(ctx, name)

    p = run.parameters
    assert p["drained"], run.notes
    assert 1 <= run.peak_connections <= p["max_concurrency"] == 5  # ConnectionBudget 25: Ingest gets 5
    assert p["written"] == p["items"] == 80 - 3  # one key row and one item per good message
    assert p["duplicates"] == 0
    assert p["lost"] == 0
    assert (p["dead_letter_poison"], p["dead_letter_good"]) == (3, 0)
    assert p["deliveries"] >= 80 - 3
    assert run.environments <= p["max_concurrency"]
    assert all(record.ok or record.error for record in run.requests)
    assert any(not record.ok for record in run.requests)  # the batches with poison in them


def test_the_verdict_names_drain_time_the_cap_exactly_once_and_the_dead_letters(ctx):
    report = Report(machine=describe_machine(), parameters={}, runs=_runs(ctx, "single"))

    verdict = compute_verdicts(report)["queue_backlog"]

    assert verdict.startswith("80 messages enqueued at once for IngestFunction: single drained in ")
    assert "(within MaximumConcurrency 5)" in verdict
    assert "each good message written exactly once" in verdict
    assert "3 of 3 poison in the DLQ" in verdict
