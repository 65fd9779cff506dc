"""The terminal summary shows what summarize() computed, one row per strategy x step, errors with their counts."""

from __future__ import annotations

import pytest

from harness.compare.report import summary_rows, verdict_lines
from harness.compare.report.formatting import fmt_mib, fmt_ms
from harness.compare.report.series import totals
from harness.compare.report.table import COLUMNS
from harness.compare.summary import summarize
from harness.kit.records import Report
from tests.unit.compare.conftest import make_run

HEADINGS = [name for name, _, _ in COLUMNS]


def table_rows(lines: list[str], scenario: str) -> list[list[str]]:
    """The body rows (split on runs of 2+ spaces) of one scenario's table, totals row last."""
    start = lines.index(f"== {scenario} ==")
    rules = [i for i in range(start, len(lines)) if set(lines[i]) <= {"-", " "} and lines[i]][:2]
    body = [*lines[rules[0] + 1 : rules[1]], lines[rules[1] + 1]]
    return [[cell for cell in line.split("  ") if cell] for line in body]


def cell(row: list[str], heading: str) -> str:
    return row[HEADINGS.index(heading)].strip()


def test_table_has_one_row_per_strategy_and_step_with_summarized_numbers(report: Report) -> None:
    lines = summary_rows(report)
    rows = table_rows(lines, "over_budget")
    runs = [run for run in report.runs if run.scenario == "over_budget"]
    assert [row[0].strip() for row in rows] == ["single", "null", "queue", "all"]
    for run, row in zip(runs, rows, strict=False):
        expected = summarize(run)
        assert cell(row, "failed") == str(expected.failed)
        assert cell(row, "throttled") == str(expected.throttled)
        assert cell(row, "p99") == fmt_ms(expected.latency_ms["p99"])
        assert cell(row, "peak") == str(expected.peak_connections)
        assert cell(row, "mem") == fmt_mib(expected.backend_memory_kib)
    assert cell(rows[1], "failed") == "9"
    assert cell(rows[0], "throttled") == "5"
    assert cell(rows[2], "p99") == "-"  # every queue request failed: no latency to show, not a zero


def test_totals_row_pools_every_request_of_the_scenario(report: Report) -> None:
    runs = [run for run in report.runs if run.scenario == "over_budget"]
    total_row = table_rows(summary_rows(report), "over_budget")[-1]
    expected = totals(runs, "over_budget")
    assert cell(total_row, "ok") == str(sum(summarize(r).ok for r in runs)) == "50"
    assert cell(total_row, "failed") == "26"
    assert cell(total_row, "p99") == fmt_ms(expected.latency_ms["p99"])
    assert cell(total_row, "peak") == "20"


def test_errors_are_grouped_per_strategy_with_counts(report: Report) -> None:
    lines = summary_rows(report)
    errors = lines[lines.index("errors (count, strategy: error):") + 1 :]
    assert "   7  null: FATAL: sorry, too many clients already" in errors
    assert "   2  null: server closed the connection unexpectedly" in errors
    assert "  12  queue: QueuePool limit reached (pool timeout)" in errors
    assert "   5  single: TooManyRequestsException" in errors
    assert "errors: none" in lines[: lines.index("== over_budget ==")]  # burst had no failures


def test_columns_line_up_in_a_fixed_width_table(report: Report) -> None:
    lines = summary_rows(report)
    start = lines.index("== burst ==")
    table = lines[start + 1 : start + 11]
    assert len({len(line) for line in table if "errors" not in line and line.strip("- ")}) == 1


@pytest.mark.parametrize(("value", "text"), [(None, "-"), (3.14159, "3.1"), (99.94, "99.9"), (1234.5, "1,234")])
def test_milliseconds_have_a_decimal_only_under_100(value: float | None, text: str) -> None:
    assert fmt_ms(value) == text


def test_colour_codes_only_when_asked(report: Report) -> None:
    assert not any("\x1b" in line for line in summary_rows(report) + verdict_lines(report))
    coloured = summary_rows(report, colour=True)
    assert any("\x1b[31m" in line for line in coloured)  # failures in red
    assert any("\x1b" in line for line in verdict_lines(report, colour=True))


def test_verdicts_are_printed_per_scenario_in_run_order(report: Report) -> None:
    assert verdict_lines(report) == [
        "burst: single held the fewest connections.",
        "over_budget: null and queue failed.",
    ]


def test_an_empty_report_says_so() -> None:
    empty = Report(machine={}, parameters={})
    assert summary_rows(empty) == ["no runs recorded"]
    assert verdict_lines(empty) == ["no verdicts"]


def test_strategies_sit_side_by_side_within_each_step(report: Report) -> None:
    # GIVEN the runner ran every step of one strategy before the next
    rows = table_rows(summary_rows(report), "burst")[:-1]
    # THEN the table compares strategies at one step before moving to the next
    assert [(row[0].strip(), row[1].strip()) for row in rows] == [
        ("single", "c=1"),
        ("null", "c=1"),
        ("queue", "c=1"),
        ("single", "c=4"),
        ("null", "c=4"),
        ("queue", "c=4"),
    ]


def test_long_verdicts_wrap_into_an_indented_paragraph(report: Report) -> None:
    report.verdicts["burst"] = "single opened 4 connections for 48 requests; " * 8
    lines = verdict_lines(report, width=80)
    burst = lines[: lines.index("over_budget: null and queue failed.")]
    assert len(burst) > 1
    assert burst[0].startswith("burst: single opened")
    assert all(len(line) <= 80 for line in burst)
    assert all(line.startswith("    ") for line in burst[1:])
    assert " ".join(line.strip() for line in burst) == "burst: " + report.verdicts["burst"].strip()


def test_a_steps_notes_follow_its_scenarios_table(report: Report) -> None:
    run = next(run for run in report.runs if run.scenario == "over_budget" and run.strategy == "queue")
    run.notes.append("DB_CONNECT_RETRY_MAX_S=1 here")
    lines = summary_rows(report)
    note = f"note: queue {run.step}: DB_CONNECT_RETRY_MAX_S=1 here"
    assert note in lines
    assert lines.index(note) > lines.index("== over_budget ==")


def test_a_scenario_whose_records_are_batches_says_so_in_its_counted_columns() -> None:
    # GIVEN queue_backlog-like runs: each request record is one SQS batch invocation
    runs = [make_run("single", "queue_backlog", "200 messages", ok=16, errors={"poison": 4})]
    runs[0].request_unit = "batch"
    lines = summary_rows(Report(machine={}, parameters={}, runs=runs))
    start = lines.index("== queue_backlog ==")
    headings, units = lines[start + 1].split(), lines[start + 2]
    # THEN the rate is per batch, and ok / failed / throttled carry the unit
    assert "batch/s" in headings
    assert "req/s" not in headings
    assert units.count("(batches)") == 3
    assert cell(table_rows(lines, "queue_backlog")[0], "failed") == "4"


def test_a_scenario_of_requests_keeps_the_plain_headings(report: Report) -> None:
    lines = summary_rows(report)
    start = lines.index("== burst ==")
    assert "req/s" in lines[start + 1].split()
    assert "batches" not in lines[start + 2]
