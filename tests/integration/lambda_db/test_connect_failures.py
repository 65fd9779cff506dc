"""Connect-time trouble: a full server (retried, then 503), and a rotated secret (re-fetched, no error)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg2
import pytest
from sqlalchemy import text

from harness.kit.lambda_context import LambdaContext
from harness.postgres import EmbeddedPostgres, PostgresServer
from lambda_db import ConfigurationError, Database, DatabaseConfig, DatabaseUnavailableError
from tests.conftest import TestDatabase
from tests.integration.lambda_db.conftest import backend_pid_handler, invocation_stats, make_secret_role

SECRETS_NOT_LOGGED = "the secret's password must never reach output"


@pytest.fixture
def full_server() -> Iterator[tuple[EmbeddedPostgres, list[Any]]]:
    """A server with room for two application connections, both taken."""
    with EmbeddedPostgres(max_connections=5, log_connections=False) as pg:
        pg.create_role("app", "pw")
        held = [
            psycopg2.connect(host=pg.host, port=pg.port, user="app", password="pw", dbname="postgres") for _ in range(2)
        ]
        yield pg, held
        for conn in held:
            conn.close()


def _database(pg: PostgresServer, **options: Any) -> Database:
    return Database(DatabaseConfig(url=pg.url(user="app", password="pw"), application_name="full-test", **options))


def test_full_server_is_retried_then_reported_unavailable(full_server: tuple[EmbeddedPostgres, list[Any]]) -> None:
    pg, _ = full_server
    db = _database(pg, connect_retry_max_s=0.3)
    with pytest.raises(DatabaseUnavailableError, match="remaining connection slots are reserved") as raised:
        db.server_connections()
    assert raised.value.retry_after_s >= 1
    stats = db.get_stats()
    assert stats["retries_num"] >= 1
    assert stats["connect_errors_num"] == stats["retries_num"] + 1
    db.dispose()


def test_a_slot_freed_during_the_retries_lets_the_connect_succeed(
    full_server: tuple[EmbeddedPostgres, list[Any]],
) -> None:
    pg, held = full_server
    db = _database(pg, connect_retry_max_s=30.0)

    def free_a_slot_after_the_first_refusal() -> None:
        while db.get_stats()["retries_num"] < 1:
            time.sleep(0.005)
        held.pop().close()

    helper = threading.Thread(target=free_a_slot_after_the_first_refusal)
    helper.start()
    with db.read() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    helper.join()
    assert db.get_stats()["retries_num"] >= 1
    db.dispose()


def test_no_retry_once_the_invocation_has_no_time_left(full_server: tuple[EmbeddedPostgres, list[Any]]) -> None:
    pg, _ = full_server
    db = _database(pg, connect_retry_max_s=30.0)

    @db.handler
    def handler(event: Any, context: Any) -> int:
        with db.read() as conn:
            return int(conn.execute(text("SELECT 1")).scalar_one())

    with pytest.raises(DatabaseUnavailableError):
        handler({}, LambdaContext(remaining_ms=400))  # less than the safety margin: no time for a retry
    db.dispose()


def test_rotated_secret_is_fetched_again_and_warm_environment_keeps_working(
    moto_endpoint: str,
    database: TestDatabase,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a role of its own, its password in a secret
    role = make_secret_role(database, "rot")
    old_password = role.password
    db = Database(DatabaseConfig(secret_arn=role.arn, application_name=f"rot:{role.name}", ping_after_idle_s=0.0))
    handler = backend_pid_handler(db)

    first = handler({}, LambdaContext())
    # WHEN the secret is rotated: new password on the server and in Secrets Manager, old one cached by us
    new_password = role.rotate()
    # THEN the warm connection keeps working ...
    assert handler({}, LambdaContext()) == first
    # ... and when it must reconnect, the stale cached password fails once, the secret is re-fetched, no error
    assert database.server.terminate_backends(application_prefix="rot:") == 1
    assert handler({}, LambdaContext()) != first
    out = capfd.readouterr().out
    assert [stats["secret_refreshes_num"] for stats in invocation_stats(out)] == [0, 0, 1]
    output = out + caplog.text
    assert old_password not in output, SECRETS_NOT_LOGGED
    assert new_password not in output, SECRETS_NOT_LOGGED
    db.dispose()


def test_server_restart_between_invocations_is_invisible_to_the_handler() -> None:
    with EmbeddedPostgres(max_connections=10, log_connections=False) as pg:
        pg.create_role("app", "pw")
        db = _database(pg, ping_after_idle_s=0.0)

        @db.handler
        def handler(event: Any, context: Any) -> int:
            with db.read() as conn:
                return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

        before = handler({}, LambdaContext())
        pg.restart()  # every connection is cut while the environment is "frozen"
        after = handler({}, LambdaContext())
        assert after != before
        db.dispose()


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({"host": "h", "username": "u"}, "must be a JSON object with the keys host, username, password"),
        ({"host": "h", "username": "u", "password": "p-hidden", "engine": "mysql"}, "engine 'mysql'"),
        ("not json at all", "the secret is not JSON"),
    ],
)
def test_a_malformed_secret_is_a_configuration_error(moto_endpoint: str, secret: object, message: str) -> None:
    client = boto3.client("secretsmanager")
    body = secret if isinstance(secret, str) else json.dumps(secret)
    arn = client.create_secret(Name=f"bad-{uuid.uuid4().hex[:8]}", SecretString=body)["ARN"]
    db = Database(DatabaseConfig(secret_arn=arn))
    with pytest.raises(ConfigurationError, match=message) as raised:
        db.server_connections()
    assert "DB_SECRET_ARN" in str(raised.value)
    assert "p-hidden" not in str(raised.value)
