"""The warm-path section's floors measure the real parts: boto3 and awslambdaric, each against a bare server."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from harness.bench.bare_servers import runtime_floor_us
from harness.cli import main
from harness.emulator.runtimes import OWN


def _function(root: Path, body: str) -> Path:
    (root / "app.py").write_text(textwrap.dedent(body))
    return root


def test_the_runtime_floor_times_every_event_through_awslambdaric(tmp_path: Path) -> None:
    code = _function(tmp_path, "def handler(event, context):\n    return {'ok': True}\n")

    latencies = runtime_floor_us(sys.executable, OWN.execution_env, code, "app.handler", 25)

    assert len(latencies) == 25
    assert all(latency > 0 for latency in latencies)


def test_a_handler_that_fails_stops_the_runtime_floor_with_the_error(tmp_path: Path) -> None:
    code = _function(tmp_path, "def handler(event, context):\n    raise ValueError('no')\n")

    with pytest.raises(RuntimeError, match="the runtime reported an error"):
        runtime_floor_us(sys.executable, OWN.execution_env, code, "app.handler", 5, timeout_s=30)


def test_quick_warm_path_section_writes_every_row_and_the_verdict(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"

    assert main(["bench", "--quick", "--only", "warm_path", "--output", str(output)]) == 0

    written = output.read_text()
    assert "## Warm invoke through boto3: harness emulate beside its floors" in written
    for row in (
        "(the client's floor)",
        "awslambdaric on a bare Runtime API",
        "the two floors together",
        "frozen between calls (the default)",
        "`harness emulate --no-freeze`",
        "what the emulator adds",
        "what the emulator adds to a paced call",
    ):
        assert row in written, row
    assert "Target (issue #16): warm p50 through boto3 at most 1.0 ms — " in written
