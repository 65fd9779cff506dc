"""``harness compare`` on the template's SQS function: answers judged by their ``batchItemFailures`` list, end to end.

The ingest function answers a partial-batch response, so a batch with a poison message is a failed invocation even
though the handler returned normally; the report must say that this rule judged the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_a_partial_batch_answer_is_judged_by_its_batch_item_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    argv = ["compare", "--quick", "--scenario", "burst", "--strategy", "single", "--concurrency", "1,2"]
    argv += ["--function", "IngestFunction", "--setup", "MigrateFunction", "--output", str(tmp_path)]
    argv += ["--event", "events/ingest_batch.json", "--event", "events/ingest_batch_poison.json"]
    assert main(argv) == 0
    (run_dir,) = tmp_path.iterdir()
    results = json.loads((run_dir / "results.json").read_text())

    (rule,) = results["parameters"]["success_rule"]
    assert rule.startswith("batchItemFailures: the batchItemFailures list: empty is ok")
    assert "success judged by batchItemFailures" in capsys.readouterr().out
    requests = [request for run in results["runs"] for request in run["requests"]]
    failed = [request for request in requests if not request["ok"]]
    # Half the events carry one poison message: with 18 draws, both outcomes appear (a 1-in-130,000 chance not to).
    assert failed
    assert len(failed) < len(requests)
    assert {(request["status"], request["error"]) for request in failed} == {
        (200, "batchItemFailures: 1 item(s) of the batch failed")
    }
