"""``harness bench``'s own rules: a run of every section installs nothing, and a section that could not measure
keeps the figures of its last run instead of wiping them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench import cli as bench_cli
from harness.cli import main

PROBE = """
import os

TITLE = "Probe section"


def run(quick):
    if os.environ.get("PROBE_SKIPS"):
        return "Skipped: no engine here."
    return "installs: " + os.environ.get("DOCKER_ENGINE_INSTALL", "allowed")
"""


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A one-section bench whose section says what it was allowed to install; yields the page it writes."""
    (tmp_path / "bench_probe_section.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(bench_cli, "SECTIONS", {"probe": "bench_probe_section"})
    monkeypatch.delenv("DOCKER_ENGINE_INSTALL", raising=False)
    monkeypatch.delenv("PROBE_SKIPS", raising=False)
    yield tmp_path / "benchmarks.md"
    sys.modules.pop("bench_probe_section", None)


def test_a_run_of_every_section_forbids_installs_and_naming_the_section_allows_them(probe: Path) -> None:
    assert main(["bench", "--output", str(probe)]) == 0
    assert "installs: 0" in probe.read_text()

    assert main(["bench", "--only", "probe", "--output", str(probe)]) == 0
    assert "installs: allowed" in probe.read_text()


def test_the_users_own_setting_wins(probe: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_ENGINE_INSTALL", "1")
    assert main(["bench", "--output", str(probe)]) == 0
    assert "installs: 1" in probe.read_text()


def test_a_section_that_cannot_measure_keeps_its_last_figures(
    probe: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a page with the section's figures from an earlier run
    probe.write_text("# Benchmarks\n\n## Probe section\n\nMeasured long ago.\n\n| figure | 1.0 |\n")
    monkeypatch.setenv("PROBE_SKIPS", "1")
    # WHEN a run cannot measure it
    assert main(["bench", "--output", str(probe)]) == 0
    # THEN the old figures stay, dated as before, and the run says why it did not measure them again
    assert "## Probe section\n\nMeasured long ago.\n\n| figure | 1.0 |\n" in probe.read_text()
    out = capsys.readouterr().out
    assert "bench: probe: Skipped: no engine here." in out
    assert "keeps the figures of its last run" in out


def test_a_section_with_no_figures_yet_says_it_was_skipped(probe: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_SKIPS", "1")
    assert main(["bench", "--output", str(probe)]) == 0
    assert "Skipped: no engine here." in probe.read_text()
    monkeypatch.delenv("PROBE_SKIPS")
    assert main(["bench", "--output", str(probe)]) == 0  # an old "Skipped" is not kept over real figures
    assert "Skipped" not in probe.read_text()
