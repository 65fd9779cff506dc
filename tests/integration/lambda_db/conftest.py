"""Fixtures for the layer's tests against a real Postgres: a fake Lambda context and a Database factory."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import text

from lambda_db import Database, DatabaseConfig
from tests.conftest import TestDatabase

MakeDatabase = Callable[..., Database]
SETTLE_S = 10.0


def settled_connections(database: TestDatabase, application_name: str, expected: int) -> int:
    """Connections of an application once the count reaches ``expected`` (or SETTLE_S passes).

    A backend leaves ``pg_stat_activity`` a moment after its client says goodbye; waiting for that is not a
    timing assertion, the count is what is asserted.
    """
    deadline = time.monotonic() + SETTLE_S
    while (count := database.connections(application_name)) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return count


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "lambda-db-tests")


InvocationLog = Callable[[], list[dict[str, Any]]]


def report_lines(out: str) -> list[dict[str, Any]]:
    """The per-invocation lines ``@db.handler`` printed in ``out`` (captured stdout), parsed."""
    return [json.loads(line) for line in out.splitlines() if '"_aws"' in line or '"lambda_db invocation"' in line]


def invocation_stats(out: str) -> list[dict[str, Any]]:
    """The ``lambda_db`` member (counters, cold_start, request_id, ...) of each log line in ``out``."""
    return [line["lambda_db"] for line in report_lines(out) if line.get("message") == "lambda_db invocation"]


@pytest.fixture
def invocation_log(capsys: pytest.CaptureFixture[str]) -> InvocationLog:
    """The per-invocation log lines written by ``@db.handler`` so far, as dicts (counters, cold_start, ...)."""
    seen: list[dict[str, Any]] = []

    def lines() -> list[dict[str, Any]]:
        seen.extend(invocation_stats(capsys.readouterr().out))
        return list(seen)

    return lines


@pytest.fixture
def make_database(database: TestDatabase) -> Iterator[MakeDatabase]:
    """Build Databases on the test's database, each with its own application_name (counted in pg_stat_activity)."""
    made: list[Database] = []

    def make(**options: Any) -> Database:
        options.setdefault("url", database.url)
        options.setdefault("application_name", f"t:{uuid.uuid4().hex[:12]}")
        db = Database(DatabaseConfig(**options))
        made.append(db)
        return db

    yield make
    for db in made:
        db.dispose()


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local Secrets Manager (moto's server), with the AWS variables pointing boto3 at it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    yield endpoint
    server.stop()


@dataclass
class SecretRole:
    """A role of its own whose password lives in a Secrets Manager secret in the RDS shape, and can be rotated.

    Its own role, because the shared application role's password must not change under other tests.
    """

    database: TestDatabase
    name: str
    password: str
    arn: str = ""

    def secret_string(self) -> str:
        server = self.database.server
        secret = {"host": server.host, "port": server.port, "username": self.name, "dbname": self.database.name}
        return json.dumps({**secret, "password": self.password})

    def rotate(self) -> str:
        """A new password on the server and in the secret (the layer may still hold the old one); returns it."""
        self.password = "new-" + secrets.token_hex(8)
        self.database.server.set_password(self.name, self.password)
        boto3.client("secretsmanager").put_secret_value(SecretId=self.arn, SecretString=self.secret_string())
        return self.password


def make_secret_role(database: TestDatabase, prefix: str) -> SecretRole:
    """Create the role and its secret (Secrets Manager is wherever ``AWS_ENDPOINT_URL`` points)."""
    role = SecretRole(database, f"{prefix}_{uuid.uuid4().hex[:8]}", "old-" + secrets.token_hex(8))
    database.server.create_role(role.name, role.password)
    client = boto3.client("secretsmanager")
    role.arn = str(client.create_secret(Name=role.name, SecretString=role.secret_string())["ARN"])
    return role


def backend_pid_handler(db: Database) -> Callable[[Any, Any], int]:
    """A handler through ``@db.handler`` answering its connection's backend pid (a new pid: a new connection)."""

    @db.handler
    def handler(event: Any, context: Any) -> int:
        with db.read() as conn:
            return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    return handler
