"""The workload options parsed before anything starts: each bad one named, with what is wrong with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.compare.workload_spec import SpecError, WorkloadSpec, default_spec, parse_event, parse_setup

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps({"body": '{"visitor": "{{unique}}"}'}))
    return path


def test_an_event_has_weight_one_unless_given(event_file: Path) -> None:
    assert parse_event(str(event_file)).weight == 1.0
    assert parse_event(f"{event_file}:2.5").weight == 2.5


@pytest.mark.parametrize(
    ("suffix", "message"), [(":heavy", "WEIGHT must be a number"), (":0", "WEIGHT must be greater than 0")]
)
def test_a_bad_weight_names_the_event_option(event_file: Path, suffix: str, message: str) -> None:
    with pytest.raises(SpecError, match=f"--event: .*{message}") as info:
        parse_event(f"{event_file}{suffix}")
    assert info.value.option == "--event"


def test_a_missing_or_broken_event_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"--event: .*nope.json does not exist"):
        parse_event(str(tmp_path / "nope.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(SpecError, match=r"--event: .*bad.json is not JSON"):
        parse_event(str(tmp_path / "bad.json"))
    (tmp_path / "deep.json").write_text("[" * 100_000)  # Python's parser raises RecursionError, not ValueError
    with pytest.raises(SpecError, match=r"--event: .*deep.json is nested too deep to read"):
        parse_event(str(tmp_path / "deep.json"))
    (tmp_path / "typo.json").write_text('{"id": "{{row:items}}"}')
    with pytest.raises(SpecError, match=r"--event: .*typo.json: \{\{row:items\}\} is not a placeholder"):
        parse_event(str(tmp_path / "typo.json"))


def test_setup_takes_a_function_and_an_optional_event(event_file: Path) -> None:
    assert parse_setup("MigrateFunction").event == {}
    assert parse_setup(f"SeedFunction:{event_file}").path == event_file
    with pytest.raises(SpecError, match=r"--setup: .*does not exist"):
        parse_setup("SeedFunction:missing.json")


def test_a_function_needs_at_least_one_event() -> None:
    with pytest.raises(SpecError, match="--event: give at least one event file for --function F"):
        WorkloadSpec(function="F", events=())


def test_the_default_is_the_items_function_with_its_own_event_files() -> None:
    spec = default_spec(ROOT)
    assert spec.function == "ItemsFunction"
    assert [(e.path.name, e.weight) for e in spec.events] == [
        ("items_get_seeded.json", 4.0),
        ("items_create_unique.json", 1.0),
    ]
    assert [str(ref) for ref in spec.row_refs] == ["items.id"]
    assert [call.function for call in spec.setup] == ["MigrateFunction"]
