"""``harness pitfalls``: the report a user reads, its exit status, and clear refusals of bad options."""

from __future__ import annotations

import dataclasses

import pytest

from harness.cli import main
from harness.pitfalls.base import Outcome
from harness.pitfalls.p8_pool_options_null_pool import PITFALL as POOL_OPTIONS
from harness.pitfalls.report import render_result, summarize
from harness.pitfalls.runner import PitfallResult


def test_one_pitfall_prints_symptom_cause_fix_and_measures_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["pitfalls", "--only", "8"])

    out = capsys.readouterr().out
    assert status == 0
    assert "[8] Wrappers that inject pool_size into NullPool" in out
    assert "reproduced: yes   fix held: yes" in out
    assert "Invalid argument(s) 'pool_size'" in out  # the exact text a user searches for
    assert "DB_POOL_SIZE=5 is not allowed with DB_POOL_MODE=null" in out
    assert out.rstrip().endswith("1 pitfalls: 1 reproduced, 1 fixes held (all good)")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--only", "9"], "argument --only: invalid choice: 9 (choose from 1, 2, 3, 4, 5, 6, 7, 8)"),
        (["--only", "one"], "argument --only: invalid int value: 'one'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_options_exit_2_with_a_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["pitfalls", *argv])

    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_list_names_every_pitfall(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pitfalls", "--list"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == [str(n) for n in range(1, 9)]


def test_a_fix_that_did_not_hold_is_shown_and_counted_as_failing() -> None:
    before = Outcome()
    before.record_text("TypeError: Invalid argument(s) 'pool_size' sent to create_engine(), using NullPool")
    after = Outcome()
    after.check("rejected at configuration", False)

    result = PitfallResult(POOL_OPTIONS, before, after)
    lines = summarize([result])

    assert result.reproduced
    assert not result.fix_held
    assert "  reproduced: yes   fix held: NO" in lines
    assert "  [ ] rejected at configuration" in lines
    assert lines[-1] == "1 pitfalls: 1 reproduced, 0 fixes held (not passing: 8)"


def test_a_crashed_lab_counts_as_neither_reproduced_nor_fixed() -> None:
    result = PitfallResult(POOL_OPTIONS, Outcome(), Outcome(), crashed="PostgresError: initdb failed")

    assert not result.reproduced
    assert not result.fix_held
    assert "  the lab itself failed: PostgresError: initdb failed" in render_result(result)


def test_a_pitfall_that_does_not_reproduce_makes_the_command_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a pitfall whose bad side runs without error (the bug did not happen, so the lab proves nothing)
    quiet = dataclasses.replace(POOL_OPTIONS, reproduce=lambda lab: Outcome())
    monkeypatch.setattr("harness.pitfalls.cli.by_number", lambda number: quiet)

    status = main(["pitfalls", "--only", "8"])

    captured = capsys.readouterr()
    assert status == 1
    assert "reproduced: NO   fix held: yes" in captured.out
    assert "not passing: 8" in captured.out
    assert "some did not reproduce or their fix did not hold" in captured.err
