"""``harness invoke`` runs one real awslambdaric invocation like ``sam local invoke``; bad input exits 2 first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "template.yaml"


def harness_invoke(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "invoke", *argv, "--template", str(FIXTURE)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_response_goes_to_stdout_and_the_log_lines_to_stderr():
    done = harness_invoke("EchoFunction", "-e", "-", stdin='{"hello": "sam"}')

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event"] == {"hello": "sam"}
    assert "echo call 1" in done.stderr
    assert "REPORT RequestId:" in done.stderr


def test_an_unknown_function_and_an_event_that_is_not_json_exit_2_with_one_line(tmp_path):
    event = tmp_path / "event.json"
    event.write_text("{not json")

    for argv, words in (
        (["NoSuchFunction"], "'NoSuchFunction' is not in"),
        (["EchoFunction", "-e", str(event)], "not JSON"),
    ):
        done = harness_invoke(*argv)
        assert done.returncode == 2
        assert words in done.stderr
        assert done.stderr.count("\n") == 1
        assert done.stdout == ""
