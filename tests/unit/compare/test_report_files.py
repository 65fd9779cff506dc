"""results.json round-trips, results.csv has one row per run, write_all writes every file, PNGs are real PNGs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from harness.compare.report import read_json, write_all, write_csv, write_json
from harness.compare.report.charts import connections_over_time, errors_by_strategy, latency_percentiles
from harness.compare.report.files import CSV_COLUMNS
from harness.compare.summary import summarize
from harness.kit.records import Report
from tests.unit.compare.conftest import make_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_json_round_trips_through_report_from_dict(report: Report, tmp_path: Path) -> None:
    path = write_json(report, tmp_path / "results.json")
    assert Report.from_dict(json.loads(path.read_text())) == report
    assert read_json(path) == report


def test_reading_something_that_is_not_results_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(ValueError, match=r"other\.json is not a comparison results\.json"):
        read_json(path)


def test_csv_has_one_row_per_run_with_the_header(report: Report, tmp_path: Path) -> None:
    path = write_csv(report, tmp_path / "results.csv")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    assert len(rows) == len(report.runs)
    null_over_budget = next(r for r in rows if r["strategy"] == "null" and r["scenario"] == "over_budget")
    expected = summarize(next(r for r in report.runs if r.strategy == "null" and r.scenario == "over_budget"))
    assert int(null_over_budget["failed"]) == expected.failed == 9
    assert float(null_over_budget["latency_p99_ms"]) == expected.latency_ms["p99"]
    assert null_over_budget["errors"] == (
        "FATAL: sorry, too many clients already=7 | server closed the connection unexpectedly=2"
    )
    queue = next(r for r in rows if r["strategy"] == "queue" and r["scenario"] == "over_budget")
    assert queue["latency_p50_ms"] == ""  # no successful request: empty, not zero


def test_write_all_writes_every_file_it_returns(report: Report, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "run1"
    paths = write_all(report, out)
    names = sorted(p.name for p in paths)
    assert names == sorted(
        ["results.json", "results.csv", "report.html"]
        + [f"{s}-{c}.png" for s in ("burst", "over_budget") for c in ("connections", "latency", "errors")]
    )
    for path in paths:
        assert path.parent == out
        assert path.stat().st_size > 0


def test_write_all_refuses_a_file_in_place_of_the_directory(report: Report, tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("")
    with pytest.raises(NotADirectoryError, match="taken exists and is not a directory"):
        write_all(report, blocker)


@pytest.mark.parametrize("chart", [connections_over_time, latency_percentiles, errors_by_strategy])
@pytest.mark.parametrize("scenario", ["burst", "over_budget"])
def test_charts_are_real_png_files(report: Report, tmp_path: Path, chart: object, scenario: str) -> None:
    path = chart(report, scenario, tmp_path / "chart.png")  # type: ignore[operator]
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 600
    assert height > 300


def test_charts_leave_the_process_wide_backend_alone(report: Report, tmp_path: Path) -> None:
    # GIVEN another part of the process chose a backend that is not Agg
    import matplotlib

    previous = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        latency_percentiles(report, "burst", tmp_path / "chart.png")
        # THEN drawing our PNGs did not switch it (the charts draw on their own Agg canvas)
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(previous)


def test_write_all_copes_with_a_scenario_that_has_no_samples_and_no_successes(tmp_path: Path) -> None:
    run = make_run("queue", "over_budget", "max_connections=20", ok=0, errors={"QueuePool limit reached": 3})
    run.samples.clear()
    paths = write_all(Report(machine={}, parameters={}, runs=[run]), tmp_path)
    pngs = [path for path in paths if path.suffix == ".png"]
    assert len(pngs) == 3
    assert all(path.read_bytes().startswith(PNG_SIGNATURE) for path in pngs)


def test_a_scenario_name_cannot_write_outside_the_report_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = make_run("single", "../../escape me", "c=1", ok=3)
    paths = write_all(Report(machine={}, parameters={}, runs=[run]), out)
    assert all(path.resolve().parent == out.resolve() for path in paths)
    assert "escape-me-connections.png" in {path.name for path in paths}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
