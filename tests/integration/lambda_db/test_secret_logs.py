"""At DEBUG, the secret the layer fetches never reaches a log (botocore would log GetSecretValue's body).

The root logger is set to DEBUG with a handler of its own, as the Lambda runtime does for AWS_LAMBDA_LOG_LEVEL=DEBUG,
so every record of every logger (botocore, urllib3, SQLAlchemy, Powertools) is formatted and searched. Passwords
are counted rather than tested with ``in``: a failing ``assert password not in text`` would print the text.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from sqlalchemy import text

from harness.kit.lambda_context import LambdaContext
from lambda_db import Database, DatabaseConfig
from lambda_db.secret_logs import CredentialLogFilter, fetching_credentials
from tests.conftest import TestDatabase


@contextmanager
def debug_log() -> Iterator[io.StringIO]:
    """Everything any logger emits at DEBUG and above, formatted by a root handler, like the Lambda runtime's."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def _create_secret(database: TestDatabase) -> str:
    """A secret in the RDS shape for the test's database (made before DEBUG is on: the request holds it too)."""
    server = database.server
    secret = {"host": server.host, "port": server.port, "username": database.user, "password": database.password}
    secret["dbname"] = database.name
    client = boto3.client("secretsmanager")
    return str(client.create_secret(Name=f"db-{uuid.uuid4().hex[:8]}", SecretString=json.dumps(secret))["ARN"])


def test_a_secret_fetched_at_debug_never_reaches_the_log(
    moto_endpoint: str, database: TestDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a database configured from a secret, and every logger at DEBUG
    arn = _create_secret(database)
    db = Database(DatabaseConfig(secret_arn=arn, application_name=f"dbg:{uuid.uuid4().hex[:8]}"))

    @db.handler
    def handler(event: Any, context: Any) -> str:
        with db.read() as conn:
            return str(conn.execute(text("SELECT current_user")).scalar_one())

    with debug_log() as stream:
        # WHEN the layer fetches the secret (for the engine's URL and for the connection) and uses it
        assert handler({}, LambdaContext()) == database.user
        db.dispose()
    logged = stream.getvalue() + capsys.readouterr().out  # the per-invocation line is printed, as EMF is
    # THEN the fetch was logged at DEBUG (which operation, the request) ...
    assert "GetSecretValue" in logged
    assert "lambda_db invocation" in logged
    # ... and the password is nowhere in it
    assert logged.count(database.password) == 0


def test_the_same_fetch_outside_the_layer_logs_the_password(moto_endpoint: str, database: TestDatabase) -> None:
    """The control: botocore at DEBUG does log the secret, so the test above would see a leak."""
    arn = _create_secret(database)
    client = boto3.client("secretsmanager")
    with debug_log() as stream:
        client.get_secret_value(SecretId=arn)
    assert stream.getvalue().count(database.password) >= 1


def test_the_filter_holds_back_only_the_fetching_thread() -> None:
    """Another thread's botocore debugging is left alone while the layer fetches."""
    logger = logging.getLogger("botocore.parsers")
    record_seen: list[bool] = []

    def other_thread() -> None:
        record = logger.makeRecord(logger.name, logging.DEBUG, __file__, 1, "Response body: SecretString", (), None)
        record_seen.append(CredentialLogFilter().filter(record))

    with fetching_credentials():
        record = logger.makeRecord(logger.name, logging.DEBUG, __file__, 1, "Response body: SecretString", (), None)
        here = CredentialLogFilter().filter(record)
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert (here, record_seen) == (False, [True])


@pytest.mark.parametrize(
    ("name", "message", "kept"),
    [
        ("botocore.parsers", "Response headers: {}", False),  # everything from the parsers while fetching
        ("botocore.auth", "Signature:\nabc", False),  # and from the signer
        ("botocore.endpoint", 'b\'{"SecretString": "..."}\'', False),  # a secret's body, whoever logs it
        ("botocore.endpoint", "Making request for OperationModel(name=GetSecretValue)", True),  # the trail stays
    ],
)
def test_what_is_dropped_while_fetching(name: str, message: str, kept: bool) -> None:
    logger = logging.getLogger(name)
    record = logger.makeRecord(name, logging.DEBUG, __file__, 1, message, (), None)
    assert CredentialLogFilter().filter(record) is True  # outside a fetch, everything passes
    with fetching_credentials():
        assert CredentialLogFilter().filter(record) is kept
