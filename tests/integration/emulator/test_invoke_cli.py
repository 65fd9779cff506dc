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


REMOTE = Path(__file__).parent / "fixtures" / "remote_layer"
REMOTE_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:greetings:3"


def _invoke_remote(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "invoke",
            "GreetFunction",
            "--template",
            str(REMOTE / "template.yaml"),
            *argv,
        ],
        input='{"name": "sam"}',
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_function_whose_layer_is_a_published_arn_fails_naming_it_and_runs_once_mapped():
    refused = _invoke_remote("-e", "-")
    assert refused.returncode == 0, refused.stderr  # the function failed, as a function error: SAM's exit code
    error = json.loads(refused.stdout)
    assert error["errorType"] == "Runtime.LayerNotAvailableLocally"
    assert REMOTE_ARN in error["errorMessage"]
    assert "--layer-dir ARN=DIR" in error["errorMessage"]

    mapped = _invoke_remote("-e", "-", "--layer-dir", f"{REMOTE_ARN}={REMOTE / 'vendor'}")
    assert mapped.returncode == 0, mapped.stderr
    assert json.loads(mapped.stdout) == {"greeting": "hello, sam"}


def test_a_bad_layer_dir_exits_2_with_one_line():
    done = _invoke_remote("--layer-dir", f"{REMOTE_ARN}=/nonexistent/layer")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--layer-dir" in done.stderr
    assert "is not a directory" in done.stderr
