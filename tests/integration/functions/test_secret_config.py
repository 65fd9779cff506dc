"""The template's default path: the functions find the database through DB_SECRET_ARN, and never log its password.

Secrets Manager is moto's (the only stand-in); Postgres, psycopg2, SQLAlchemy and the handlers are real.
"""

from __future__ import annotations

import json
import logging
import socket
import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

import lambda_db.database
from harness.kit.lambda_context import LambdaContext
from tests.conftest import TestDatabase
from tests.integration.functions.conftest import import_fresh, load_event, set_database_env


@pytest.fixture
def secrets_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    yield f"http://{host}:{port}"
    server.stop()


def test_items_api_through_the_secret_never_logs_the_password(
    secrets_manager: str,
    migrated: TestDatabase,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN the database's credentials only in a secret in the RDS JSON shape, as the template passes them
    server = migrated.server
    secret = {
        "engine": "postgres",
        "host": server.host,
        "port": server.port,
        "username": migrated.user,
        "password": migrated.password,
        "dbname": migrated.name,
    }
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name=f"db-{uuid.uuid4().hex[:8]}", SecretString=json.dumps(secret))["ARN"]
    monkeypatch.setattr(lambda_db.database, "_databases", {})
    set_database_env(monkeypatch, "", "single", f"items:{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("DB_SECRET_ARN", arn)
    monkeypatch.setenv("DB_SSLMODE", "prefer")  # the embedded server has no TLS; the template says require
    items = import_fresh("items.app")

    # WHEN a client creates and reads an item, and an invocation fails (unknown id)
    # INFO, the template's ApplicationLogLevel. (At DEBUG, botocore itself logs GetSecretValue's response body:
    # never run a function that reads a secret at DEBUG.)
    with caplog.at_level(logging.INFO):
        created = items.lambda_handler(load_event("items_create"), LambdaContext())
        fetched = items.lambda_handler(load_event("items_get"), LambdaContext())
        missing = items.lambda_handler(load_event("items_get_missing"), LambdaContext())
    items.db.dispose()

    # THEN it worked through the secret, and the password is in no output and no log record
    assert [created["statusCode"], fetched["statusCode"], missing["statusCode"]] == [201, 200, 404]
    assert server.execute("SELECT name FROM items", database=migrated.name) == [("widget",)]
    output = capfd.readouterr()
    assert migrated.password not in output.out + output.err
    assert migrated.password not in caplog.text


def test_an_unreachable_secrets_manager_is_503_with_retry_after(
    migrated: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the template's secret path, with Secrets Manager's endpoint on a port where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(lambda_db.database, "_databases", {})
    set_database_env(monkeypatch, "", "single", f"items:{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-abcdef")
    items = import_fresh("items.app")

    # WHEN a client reads an item
    response = items.lambda_handler(load_event("items_get"), LambdaContext())

    # THEN it is told to come back later, not that the service is broken
    assert response["statusCode"] == 503
    assert int(response["headers"]["Retry-After"]) >= 1
    items.db.dispose()
