"""Schedules and SQS mappings of a template, run by the emulator against moto's real SQS server.

Handlers write each event they get to a directory, so the tests read what Lambda would have delivered.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness.emulator import EventSourceError, EventSourceOptions, LocalLambda
from tests.integration.emulator.conftest import FIXTURES, wait_until

SOURCES = FIXTURES / "sources"


def _records(directory: Path, kind: str) -> list[Any]:
    return [json.loads(path.read_text()) for path in sorted(directory.glob(f"{kind}-*.json"))]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    started: list[LocalLambda] = []

    def make(template: Path = SOURCES / "template.yaml", **options: Any) -> LocalLambda:
        lam = LocalLambda.from_template(
            template,
            parameter_overrides={"RecordDir": str(tmp_path)},
            event_source_options=EventSourceOptions(**options),
        )
        started.append(lam)
        return lam.start()

    yield make
    for lam in started:
        lam.stop()


def test_a_sped_up_clock_fires_a_rate_schedule_with_eventbridges_scheduled_event(start, tmp_path):
    start(schedule_speedup=3600 * 2, sqs=False)  # rate(1 hour) every half second

    assert wait_until(lambda: len(_records(tmp_path, "schedule")) >= 2, 30)
    events = sorted(_records(tmp_path, "schedule"), key=lambda e: e["time"])[:2]
    assert all(event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events" for event in events)
    assert events[0]["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/local-TickFunctionHourly"]
    assert events[0]["detail"] == {}
    first, second = (datetime.fromisoformat(event["time"].replace("Z", "+00:00")) for event in events)
    assert (second - first).total_seconds() == 3600


def test_fire_now_sends_every_schedule_once_at_start_with_its_input(start, tmp_path):
    lam = start(fire_schedules_now=True, sqs=False)

    assert wait_until(lambda: len(_records(tmp_path, "schedule")) == 2, 30)
    events = _records(tmp_path, "schedule")
    assert {"from": "scheduler"} in events  # the ScheduleV2's Input replaces the event
    assert any(event.get("detail-type") == "Scheduled Event" for event in events)
    assert {s["schedule"]: s["fired"] for s in lam.event_source_stats()["schedules"]} == {
        "TickFunction.Hourly": 1,
        "TickFunction.NewYear": 1,
    }


def test_only_reported_failures_return_and_reach_the_dead_letter_queue_after_max_receive_count(start, tmp_path):
    lam = start(schedules=False)
    lam.prewarm("BatchFunction", 2)  # a cold start longer than the 1 s visibility timeout would redeliver
    sqs = lam.sqs_client()
    bodies = ["ok-1", "ok-2", "ok-3", "fail"]
    sqs.send_message_batch(
        QueueUrl=lam.queue_url("Work"), Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
    )

    def dead() -> list[str]:
        got = sqs.receive_message(QueueUrl=lam.queue_url("Dead"), MaxNumberOfMessages=10, VisibilityTimeout=60)
        return [message["Body"] for message in got.get("Messages", [])]

    dead_letters: list[str] = []
    assert wait_until(lambda: bool(dead_letters.extend(dead()) or dead_letters), 60)
    # SQS may redrive a message whose last delivery is still running (its visibility timeout passed): let it finish.
    assert wait_until(lambda: lam.event_source_stats()["sqs"][0]["in_flight"] == 0, 30)
    seen = [record["body"] for record in _records(tmp_path, "message")]
    assert dead_letters == ["fail"]
    assert seen.count("fail") >= 2  # maxReceiveCount
    assert {body for body in seen if body.startswith("ok")} == {"ok-1", "ok-2", "ok-3"}
    stats = lam.event_source_stats()["sqs"][0]
    assert stats["succeeded"] >= 3
    assert stats["dead_lettered"] >= 1
    assert stats["max_concurrency"] == 2


def test_a_malformed_batch_answer_fails_the_whole_batch(start, tmp_path):
    lam = start(schedules=False)
    lam.prewarm("BatchFunction", 2)
    lam.sqs_client().send_message(QueueUrl=lam.queue_url("Work"), MessageBody="malformed")

    assert wait_until(lambda: lam.event_source_stats()["sqs"][0]["retried"] >= 1, 30)
    assert lam.event_source_stats()["sqs"][0]["succeeded"] == 0


def _sqs_servers() -> set[int]:
    found = set()
    for process in psutil.process_iter(["pid", "cmdline"]):
        if "harness.emulator.sqs_server" in " ".join(process.info["cmdline"] or []):
            found.add(process.info["pid"])
    return found


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_queue_that_does_not_exist_stops_everything_started(tmp_path):
    shutil.copy(SOURCES / "app.py", tmp_path / "app.py")
    text = (
        (SOURCES / "template.yaml").read_text().replace("!GetAtt Work.Arn", "arn:aws:sqs:us-east-1:123456789012:nope")
    )
    (tmp_path / "template.yaml").write_text(text)
    before = _sqs_servers()
    lam = LocalLambda.from_template(tmp_path / "template.yaml", event_source_options=EventSourceOptions())

    with pytest.raises(EventSourceError, match="queue arn:aws:sqs:us-east-1:123456789012:nope does not exist"):
        lam.start()
    assert wait_until(lambda: _sqs_servers() <= before)


def _emulate(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "harness", "emulate", "--port", "0", "--api-port", "0", "--no-view", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_emulate_with_an_sqs_endpoint_that_does_not_answer_exits_2_with_one_line():
    result = _emulate(
        "--template", str(SOURCES / "template.yaml"), "--sqs-endpoint", f"http://127.0.0.1:{_closed_port()}"
    )

    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "does not answer" in result.stderr


def test_emulate_with_a_malformed_cron_exits_2_naming_the_event(tmp_path):
    shutil.copy(SOURCES / "app.py", tmp_path / "app.py")
    text = (SOURCES / "template.yaml").read_text().replace("cron(0 0 1 1 ? *)", "cron(0 0 1 1 *)")
    (tmp_path / "template.yaml").write_text(text)
    before = _sqs_servers()

    result = _emulate("--template", str(tmp_path / "template.yaml"))

    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TickFunction: ScheduleV2 event NewYear: cron(0 0 1 1 *) needs 6 fields" in result.stderr
    assert _sqs_servers() <= before


def test_emulate_prints_the_event_sources_it_runs_and_stops_its_sqs_server_on_sigterm():
    command = [sys.executable, "-m", "harness", "emulate", "--port", "0", "--api-port", "0", "--no-view"]
    command += ["--template", str(SOURCES / "template.yaml"), "--schedule-speedup", "60"]
    before = _sqs_servers()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = []
        while not any(line.startswith("  ScheduleV2") for line in lines):
            lines.append(process.stdout.readline())
    finally:
        process.terminate()
        process.communicate(timeout=30)
    text = "".join(lines)
    assert "SQS API      http://127.0.0.1:" in text
    assert (
        "/123456789012/Work -> BatchFunction  (batch 10, window 1s, max concurrency 2, ReportBatchItemFailures)" in text
    )
    assert "  Schedule rate(1 hour) -> TickFunction, clock x60" in text
    assert process.returncode == 0
    assert _sqs_servers() <= before
