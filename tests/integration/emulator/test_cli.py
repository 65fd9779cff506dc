"""``harness emulate`` end to end: serves both APIs, answers curl-style requests, and cleans up on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import psutil

from tests.integration.emulator.conftest import FIXTURES, process_state, wait_until


def _url(line: str) -> str:
    return next(word for word in line.split() if word.startswith("http://"))


def test_emulate_serves_invoke_and_http_apis_and_stops_cleanly_on_sigterm():
    command = [sys.executable, "-m", "harness", "emulate", "--template", str(FIXTURES / "template.yaml")]
    command += ["--port", "0", "--api-port", "0", "--no-view", "--parameter-overrides", "Greeting=hey"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        invoke_url = _url(process.stdout.readline())
        http_url = _url(process.stdout.readline())

        with urllib.request.urlopen(f"{http_url}/items/5") as response:
            event = json.loads(response.read())
        request = urllib.request.Request(
            f"{invoke_url}/2015-03-31/functions/EchoFunction/invocations", data=b'{"k": 1}', method="POST"
        )
        with urllib.request.urlopen(request) as response:
            echoed = json.loads(response.read())
        with urllib.request.urlopen(f"{invoke_url}/_emulator/environments") as response:
            pids = [env["pid"] for env in json.loads(response.read())["environments"]]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)

    assert event["pathParameters"] == {"id": "5"}
    assert echoed["event"] == {"k": 1}
    assert len(pids) == 2
    assert process.returncode == 0, stderr
    assert wait_until(lambda: all(process_state(pid) in (None, psutil.STATUS_ZOMBIE) for pid in pids))
