"""A secret that cannot be read: for good it is a ConfigurationError (500), for now a DatabaseUnavailableError (503).

Secrets Manager is moto's server; an outage is that server stopped, or an endpoint where nothing listens. botocore
makes one attempt (``AWS_MAX_ATTEMPTS=1``): a refused connection fails at once, so no test waits on a timeout.
Passwords are counted rather than tested with ``in``: a failing ``assert password not in text`` would print it.
"""

from __future__ import annotations

import json
import secrets
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import text

from harness.kit.lambda_context import LambdaContext
from lambda_db import ConfigurationError, Database, DatabaseConfig, DatabaseUnavailableError
from tests.conftest import TestDatabase
from tests.integration.lambda_db.conftest import InvocationLog, backend_pid_handler, make_secret_role


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port bound but not listening: a connection to it is refused, and nothing else can take it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore gives up after its first attempt (the default would retry, with backoff)."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


def _secret_for(database: TestDatabase, username: str, password: str) -> dict[str, Any]:
    server, name = database.server, database.name
    return {"host": server.host, "port": server.port, "username": username, "password": password, "dbname": name}


def test_a_secret_that_does_not_exist_is_a_configuration_error_naming_its_arn(moto_endpoint: str) -> None:
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-{uuid.uuid4().hex[:8]}"
    db = Database(DatabaseConfig(secret_arn=arn))
    with pytest.raises(ConfigurationError, match="ResourceNotFoundException") as raised:
        db.server_connections()
    assert f"DB_SECRET_ARN={arn!r}" in str(raised.value)
    db.dispose()


def test_an_unreachable_secrets_manager_makes_the_first_scope_unavailable_not_misconfigured(
    moto_endpoint: str, database: TestDatabase, closed_port: int, one_attempt: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a secret that exists, and a Secrets Manager endpoint nobody answers on
    password = "pw-" + secrets.token_hex(8)
    body = json.dumps(_secret_for(database, database.user, password))
    arn = boto3.client("secretsmanager").create_secret(Name=f"db-{uuid.uuid4().hex[:8]}", SecretString=body)["ARN"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")
    db = Database(DatabaseConfig(secret_arn=arn))
    # WHEN the first scope needs the secret
    with pytest.raises(DatabaseUnavailableError) as raised, db.read() as conn:
        conn.execute(text("SELECT 1"))
    # THEN it is an outage (503, retried), naming the secret and the SDK's error, and holding no secret value
    message = str(raised.value)
    assert f"DB_SECRET_ARN={arn!r}" in message
    assert "EndpointConnectionError" in message
    assert raised.value.retry_after_s >= 1
    assert message.count(password) == 0
    db.dispose()


def test_a_refresh_during_an_outage_is_unavailable_and_stays_owed_until_secrets_manager_answers(
    moto_endpoint: str,
    database: TestDatabase,
    one_attempt: None,
    monkeypatch: pytest.MonkeyPatch,
    invocation_log: InvocationLog,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a Secrets Manager this test can stop, a role of its own and a warm environment that read its secret
    manager = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    manager.start()
    host, port = manager.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    secret_role = make_secret_role(database, "out")
    role, arn, old_password = secret_role.name, secret_role.arn, secret_role.password
    db = Database(DatabaseConfig(secret_arn=arn, application_name=f"out:{role}", ping_after_idle_s=0.0))
    handler = backend_pid_handler(db)

    first = handler({}, LambdaContext())
    # ... and the password rotated (server and secret) while the old one is still cached
    new_password = secret_role.rotate()

    # WHEN Secrets Manager goes away: the warm connection needs no secret and keeps working
    manager.stop()
    assert handler({}, LambdaContext()) == first
    # WHEN the connection must be replaced: the cached password is refused, and the refresh cannot be fetched
    assert database.server.terminate_backends(application_prefix=f"out:{role}") == 1
    failures = []
    for _ in range(2):
        with pytest.raises(DatabaseUnavailableError) as raised:
            handler({}, LambdaContext())
        failures.append(str(raised.value))
    # THEN each is an outage naming the secret; the second did not try the refused password again
    assert all(f"DB_SECRET_ARN={arn!r}" in failure for failure in failures)
    refused = [(line["secret_refreshes_num"], line["connect_errors_num"]) for line in invocation_log()[2:]]
    assert refused == [(1, 1), (0, 0)]

    # WHEN Secrets Manager answers again (same address, same secrets): the owed refresh brings the new password
    manager = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    manager.start()
    try:
        assert handler({}, LambdaContext()) != first
    finally:
        manager.stop()
        db.dispose()
    assert invocation_log()[-1]["connect_errors_num"] == 0
    output = "\n".join(failures) + json.dumps(invocation_log()) + caplog.text
    assert output.count(old_password) == 0
    assert output.count(new_password) == 0
