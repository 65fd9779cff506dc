"""How the emulator words a runtime's exit, the way Lambda does in Runtime.ExitError messages."""

from __future__ import annotations

import json
import signal

from harness.emulator.invocation import exit_status, lambda_error


def test_exit_codes_and_signals_read_as_lambda_writes_them():
    assert exit_status(3) == "exit status 3"
    assert exit_status(-signal.SIGKILL) == "signal: killed"
    assert exit_status(-signal.SIGABRT) == "signal: SIGABRT"


def test_lambda_error_names_the_request():
    error = json.loads(lambda_error("req-1", "Sandbox.Timedout", "Task timed out after 3.00 seconds"))

    assert error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: req-1 Error: Task timed out after 3.00 seconds",
    }
