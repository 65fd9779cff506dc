"""``harness bench --only sam_local`` where no Docker engine answers: the section says it was skipped and why."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.cli import main

ENGINE_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "docker" / "engine.sh"


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


@pytest.mark.skipif(os.geteuid() != 0, reason="the engine script installs only as root")
@pytest.mark.parametrize(("install", "apt_called"), [("0", False), ("1", True)])
def test_the_engine_script_installs_nothing_when_told_not_to(tmp_path: Path, install: str, apt_called: bool) -> None:
    # GIVEN a machine with no Docker at all: a PATH with the script's tools, no docker or dockerd, and an apt-get
    # that records being called and fails
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "id", "mkdir", "rm", "timeout", "cat", "seq", "sleep", "tail"):
        if found := shutil.which(tool):
            (bin_dir / tool).symlink_to(found)
    marker = tmp_path / "apt-get-called"
    (bin_dir / "apt-get").write_text(f"#!{shutil.which('bash')}\necho called >> {marker}\nexit 1\n")
    (bin_dir / "apt-get").chmod(0o755)
    env = {
        "PATH": str(bin_dir),
        "SERVERLESS_SQLALCHEMY_CACHE": str(tmp_path / "cache"),
        "DOCKER_ENGINE_INSTALL": install,
    }

    done = subprocess.run(
        ["bash", str(ENGINE_SCRIPT), "start"], env=env, capture_output=True, text=True, check=False, timeout=60
    )

    assert done.returncode == 3, done.stderr
    assert marker.exists() is apt_called
    if not apt_called:
        assert "none is installed here (DOCKER_ENGINE_INSTALL=0: nothing is installed)" in done.stderr
