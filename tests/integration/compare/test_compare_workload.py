"""``harness compare --template T --function F --event ...`` on a second function (tests/.../visits), end to end.

The same report as the default run (tables, charts, verdicts, JSON, CSV) from the same code path, what the strategies
do to a real Postgres with it, and every bad option refused with exit 2 naming the option.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[3]
VISITS = Path(__file__).resolve().parent / "visits"
WORKLOAD = [
    "--template",
    str(VISITS / "template.yaml"),
    "--function",
    "VisitsFunction",
    "--event",
    f"{VISITS / 'events' / 'visit.json'}:3",
    "--event",
    str(VISITS / "events" / "page.json"),
    "--setup-sql",
    str(VISITS / "setup.sql"),
]
SIZES = ["--quick", "--scenario", "burst", "--scenario", "over_budget", "--strategy", "single", "--strategy", "null"]


def run_compare(argv: list[str], output: Path) -> dict[str, Any]:
    assert main(["compare", *SIZES, "--concurrency", "1,3", "--output", str(output), *argv]) == 0
    (run_dir,) = output.iterdir()
    with (run_dir / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return {
        "files": sorted(path.name for path in run_dir.iterdir()),
        "json": json.loads((run_dir / "results.json").read_text()),
        "csv_columns": list(rows[0]),
        "csv_rows": rows,
        "html": (run_dir / "report.html").read_text(),
    }


@pytest.mark.slow
def test_a_second_function_gets_the_same_report_as_the_default_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    default = run_compare([], tmp_path / "default")
    visits = run_compare(WORKLOAD, tmp_path / "visits")
    out = capsys.readouterr().out

    assert visits["files"] == default["files"]
    assert {"results.json", "results.csv", "report.html", "burst-connections.png", "over_budget-errors.png"} <= set(
        visits["files"]
    )
    assert visits["csv_columns"] == default["csv_columns"]
    assert set(visits["json"]) == set(default["json"])
    assert [(r["scenario"], r["step"], r["strategy"]) for r in visits["json"]["runs"]] == [
        (r["scenario"], r["step"], r["strategy"]) for r in default["json"]["runs"]
    ]
    assert set(visits["json"]["verdicts"]) == set(default["json"]["verdicts"]) == {"burst", "over_budget"}
    for result in (default, visits):
        (rule,) = result["json"]["parameters"]["success_rule"]
        assert rule.startswith("API Gateway status: the response's statusCode: 2xx ok")
        assert "success judged by API Gateway status" in out
    assert visits["json"]["parameters"]["workload"]["function"] == "VisitsFunction"
    assert default["json"]["parameters"]["workload"]["function"] == "ItemsFunction"
    assert "VisitsFunction" in visits["html"]


@pytest.mark.slow
def test_the_strategies_do_to_postgres_with_the_second_function_what_they_do_with_items(tmp_path: Path) -> None:
    result = run_compare([*WORKLOAD, "--scenario", "burst"], tmp_path)
    burst = [run for run in result["json"]["runs"] if run["scenario"] == "burst"]
    assert burst
    for run in burst:
        requests = len(run["requests"])
        assert all(request["ok"] for request in run["requests"]), {r["error"] for r in run["requests"]}
        if run["strategy"] == "null":
            assert run["connections_opened"] == requests  # NullPool: one connection per invocation
            assert run["final_connections"] == 0
        else:
            assert run["connections_opened"] <= run["parameters"]["clients"]  # single: one per environment


@pytest.fixture
def events(tmp_path: Path) -> Path:
    (tmp_path / "no_rows.json").write_text(json.dumps({"pathParameters": {"page": "{{row:nosuch.page}}"}}))
    (tmp_path / "broken.sql").write_text("CREATE TABLE pages (page integer PRIMARY KEY;")
    return tmp_path


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ({"--function": "NopeFunction"}, "--function: NopeFunction is not a function of"),
        ({"--function": "PlainFunction"}, "--function: PlainFunction does not use the lambda_db layer"),
        ({"--event": "missing.json"}, "--event: missing.json does not exist"),
        ({"--event": "{visit}:heavy"}, "WEIGHT must be a number, got 'heavy'"),
        ({"--event": "{visit}:-1"}, "WEIGHT must be greater than 0"),
        ({"--event": "{tmp}/no_rows.json"}, "--event: {{row:nosuch.page}} cannot be filled"),
        ({"--setup": "NopeFunction"}, "--setup: NopeFunction is not a function of"),
        ({"--setup": "VisitsFunction"}, "--setup: VisitsFunction failed: HTTP 400: page must be a whole number"),
        ({"--setup-sql": "{tmp}/broken.sql"}, "--setup-sql: "),
    ],
)
def test_bad_workload_options_exit_2_naming_the_option(
    replace: dict[str, str], message: str, events: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = list(WORKLOAD)
    for option, value in replace.items():
        value = value.format(visit=VISITS / "events" / "visit.json", tmp=events)
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
    code = main(["compare", "--quick", "--scenario", "burst", "--strategy", "null", "--output", str(tmp_path), *argv])
    assert code == 2
    assert message in capsys.readouterr().err


def test_events_without_a_function_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--event", str(VISITS / "events" / "visit.json")]) == 2
    assert "--event: needs --function NAME" in capsys.readouterr().err
