"""No password in any output: a real flow with a known random password, then every byte it produced is searched.

The flow runs the template's functions under the local Lambda (real awslambdaric processes), the database's
credentials only in a Secrets Manager secret (moto's), through: a migration, a write, a validation error, a 404,
a failed authentication after the database's password changed (a 503), and the secret's rotation (served again).
Then every environment's log file (read before the emulator removes them), every payload and log tail, pytest's
captured output and log records, and the ``repr``/``str`` of the layer's objects and errors are searched for both
passwords. At DEBUG, botocore logs the GetSecretValue response body (the password in it): the layer must keep it
quiet, and the DEBUG case checks that it does.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.emulator import InvokeResult, LocalLambda
from harness.faults.secrets_store import LabSecrets
from harness.kit.lab import LOCAL_PARAMETERS
from harness.postgres import PostgresServer
from lambda_db import ConfigurationError, DatabaseConfig, DatabaseUnavailableError
from lambda_db.database import Database
from tests.integration.functions.conftest import REPO, load_event


@dataclass
class Lab:
    """A database whose role's password is known only to the test and the secret."""

    postgres: PostgresServer
    name: str
    password: str
    rotated: str
    secret: LabSecrets

    def __repr__(self) -> str:  # hypothesis and pytest print fixtures; this one never shows a password
        return f"Lab({self.name})"


@pytest.fixture
def lab(postgres: PostgresServer) -> Iterator[Lab]:
    name = f"secrets_{uuid.uuid4().hex[:10]}"
    password, rotated = "pw1-" + secrets.token_urlsafe(16), "pw2-" + secrets.token_urlsafe(16)
    postgres.create_role(name, password)
    postgres.create_database(name, owner=name)
    with LabSecrets() as secret:
        secret.start(host=postgres.host, port=postgres.port, username=name, password=password, dbname=name)
        yield Lab(postgres, name, password, rotated, secret)
    postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    postgres.execute(f'DROP ROLE IF EXISTS "{name}"')


def _invoke(lam: LocalLambda, function: str, event: Any, outputs: list[str]) -> InvokeResult:
    result = lam.invoke(function, event, log_tail=True)
    outputs += [result.raw_payload.decode(errors="replace"), result.log_tail or "", json.dumps(result.payload)]
    return result


def _status(result: InvokeResult) -> Any:
    return result.payload.get("statusCode") if isinstance(result.payload, dict) else result.payload


def _run_flow(lab: Lab, level: str) -> tuple[list[int], list[str]]:
    """The flow in the module docstring; returns the statuses it saw and every text it produced."""
    env = {**lab.secret.function_env(), "DB_SSLMODE": "disable", "DB_CONNECT_RETRY_MAX_S": "0.5"}
    env.update(AWS_LAMBDA_LOG_LEVEL=level, POWERTOOLS_LOG_LEVEL=level, LOG_LEVEL=level)
    outputs: list[str] = []
    with LocalLambda.from_template(
        REPO / "template.yaml", parameter_overrides=LOCAL_PARAMETERS, env_vars={"Parameters": env}
    ) as lam:
        migrated = _invoke(lam, "MigrateFunction", {}, outputs)
        assert migrated.function_error is None, migrated.payload
        statuses = [_status(_invoke(lam, "ItemsFunction", load_event(name), outputs)) for name in CALLS]
        # the database's password changes, the secret does not (yet): authentication fails, the API answers 503
        lab.postgres.set_password(lab.name, lab.rotated)
        lab.postgres.terminate_backends(database=lab.name)
        statuses.append(_status(_invoke(lam, "ItemsFunction", load_event("items_get"), outputs)))
        # the rotation finishes: the next connection fetches the secret again and works
        lab.secret.rotate(lab.rotated)
        statuses.append(_status(_invoke(lam, "ItemsFunction", load_event("items_get"), outputs)))
        outputs += [path.read_text(errors="replace") for path in sorted(Path(lam.pool.log_dir()).glob("*.log"))]
    return statuses, outputs


CALLS = ("items_create", "items_create_wrong_types", "items_get_missing")


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_no_password_in_any_log_payload_or_captured_output(
    lab: Lab, level: str, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    statuses, outputs = _run_flow(lab, level)

    assert statuses == [201, 400, 404, 503, 200]  # the flow really went through every case
    logs = "\n".join(outputs)
    assert "GetSecretValue" in logs or level == "INFO"  # DEBUG really was on in the functions
    assert "lambda_db invocation" in logs  # the layer's own log lines are in what is searched
    captured = capfd.readouterr()
    # counted, not `in`: a failing `assert password not in text` would print the text, password included
    sources = {"function logs, payloads and tails": logs, "pytest stdout": captured.out}
    sources.update({"pytest stderr": captured.err, "log records": caplog.text})
    hits = {where: text.count(lab.password) + text.count(lab.rotated) for where, text in sources.items()}
    assert hits == dict.fromkeys(sources, 0)


def test_repr_and_str_of_config_database_url_and_errors_hide_the_password(lab: Lab) -> None:
    url = lab.postgres.url(lab.name, user=lab.name, password=lab.password)
    config = DatabaseConfig(url=url, sslmode="disable", connect_retry_max_s=0)
    database = Database(config)
    try:
        engine = database.engine
        shown = [repr(config), str(config), repr(database), str(database), repr(engine), str(engine)]
        shown += [repr(engine.url), str(engine.url), str(config.safe_url)]
        lab.postgres.set_password(lab.name, lab.rotated)
        with pytest.raises(DatabaseUnavailableError) as unavailable, database.read():
            pass
        shown += [str(unavailable.value), repr(unavailable.value), str(unavailable.value.__cause__)]
        with pytest.raises(ConfigurationError) as bad_url:
            DatabaseConfig(url=url.replace("postgresql+psycopg2://", "postgresql+psycopg2:://"))
        shown += [str(bad_url.value), repr(bad_url.value)]
    finally:
        database.dispose()

    assert "password authentication failed" in "\n".join(shown)  # the failure is described ...
    hits = [text.count(lab.password) + text.count(lab.rotated) for text in shown]  # ... without the password
    assert hits == [0] * len(shown)
