"""``harness bench --only sam_local`` where no Docker engine answers: the section says it was skipped and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main


def test_sam_local_section_is_skipped_naming_the_missing_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a DOCKER_HOST that names no engine (engine.sh never starts another behind it)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("SERVERLESS_SQLALCHEMY_CACHE", str(tmp_path / "cache"))
    output = tmp_path / "benchmarks.md"

    assert main(["bench", "--quick", "--only", "sam_local", "--output", str(output)]) == 0

    section = output.read_text().split("## sam local start-lambda (Docker) vs harness emulate", 1)[1]
    assert "Skipped: no Docker engine: no Docker engine answers at DOCKER_HOST=" in section
    assert "|" not in section  # no table of figures that were not measured
    assert not (tmp_path / "cache" / "dockerd" / "dockerd.pid").exists()
