"""Fixtures for the Docker path: SAM CLI's ``sam local`` against the compose Postgres, as a user runs them.

``scripts/docker/check.sh`` (``make docker-check``) prepares what these need (a Docker engine, the images, the
compose services, ``sam build``) and passes two variables: ``DOCKER_CHECK_ENV_VARS`` (the README's env.local.json)
and ``DOCKER_CHECK_DATABASE_URL`` (the compose Postgres as the host reaches it). Without them the directory is not
collected: a plain ``pytest`` run needs no Docker.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
SAM = REPO / ".venv-sam" / "bin" / "sam"
ENV_VARS = os.environ.get("DOCKER_CHECK_ENV_VARS", "")
DATABASE_URL = os.environ.get("DOCKER_CHECK_DATABASE_URL", "")
INVOKE_TIMEOUT_S = 300
SERVER_START_TIMEOUT_S = 120

collect_ignore_glob = [] if ENV_VARS and DATABASE_URL else ["test_*.py"]


def load_event(name: str) -> dict[str, Any]:
    """``events/<name>.json``, the file ``sam local invoke -e`` sends."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def sam_invoke(function: str, event: str | dict[str, Any], tmp_path: Path) -> Any:
    """``sam local invoke FUNCTION --config-env local -e FILE``: the function's answer, parsed."""
    if isinstance(event, dict):
        path = tmp_path / f"{function}-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(event))
    else:
        path = EVENTS / f"{event}.json"
    command = [str(SAM), "local", "invoke", function, "--config-env", "local", "-e", str(path)]
    command += ["--skip-pull-image", "--env-vars", ENV_VARS]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=INVOKE_TIMEOUT_S, check=False)
    assert done.returncode == 0, f"{' '.join(command[:4])} exited {done.returncode}:\n{done.stderr[-3000:]}"
    # The answer is the last line SAM CLI writes to stdout; the function's log goes to stderr.
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines, f"no answer on stdout; stderr:\n{done.stderr[-3000:]}"
    return json.loads(lines[-1])


class Postgres:
    """The compose Postgres, as its superuser sees it from the host: SQL, and connections counted."""

    def __init__(self, url: str) -> None:
        self.url = url

    def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg2.connect(self.url) as conn, conn.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []

    def empty_tables(self) -> None:
        """No rows in the application's tables, ids from 1 again: each test starts where the events expect."""
        self.execute("TRUNCATE items, idempotency_keys, ingested_messages RESTART IDENTITY")

    def connections(self, *, application_prefix: str) -> int:
        """Client backends whose application_name starts with the prefix (this query's own is not one)."""
        rows = self.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND application_name LIKE %s AND pid <> pg_backend_pid()",
            application_prefix + "%",
        )
        return int(rows[0][0])


@pytest.fixture(scope="session")
def postgres() -> Postgres:
    return Postgres(DATABASE_URL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SamServer:
    """``sam local start-api`` or ``start-lambda`` in the background, stopped as Ctrl-C stops it."""

    def __init__(self, subcommand: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [str(SAM), "local", subcommand, "--config-env", "local", "--port", str(self.port)]
        command += ["--skip-pull-image", "--env-vars", ENV_VARS]
        with log.open("w") as sink:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT)

    def wait_listening(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"sam local exited {self.process.returncode}:\n{self.log_tail()}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.5)
        waited = f"sam local did not listen on {self.port} in {SERVER_START_TIMEOUT_S} s"
        raise AssertionError(f"{waited}:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # SAM CLI removes its containers on Ctrl-C
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve(subcommand: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamServer]:
    server = SamServer(subcommand, tmp_path_factory.mktemp(subcommand) / "sam.log")
    try:
        server.wait_listening()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def migrated(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Postgres:
    """The schema in the compose Postgres, applied the way a user does: the migrate function's own event."""
    answer = sam_invoke("MigrateFunction", "migrate_invoke", tmp_path_factory.mktemp("migrate"))
    assert answer["version"] >= 1, answer
    return postgres
