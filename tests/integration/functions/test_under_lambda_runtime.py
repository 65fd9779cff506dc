"""The template's functions under the real Lambda runtime client (awslambdaric), resolved from template.yaml.

What the in-process tests cannot see: the template wires the handlers, the layer path and the environment the way
the functions expect, and a warm environment keeps exactly one connection in ``single`` mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app_model import LATEST_VERSION
from harness.emulator import LocalLambda
from tests.conftest import TestDatabase
from tests.integration.functions.conftest import REPO, load_event

PARAMETERS = {
    "DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:unused",
    "SubnetIds": "subnet-0",
    "SecurityGroupIds": "sg-0",
    "ConnectionBudget": "10",
}


@pytest.fixture
def lam(database: TestDatabase) -> Iterator[LocalLambda]:
    # The template's DB_SECRET_ARN and DB_SSLMODE are overridden the way env.local.json does for sam local.
    variables = {"DATABASE_URL": database.url, "DB_SECRET_ARN": "", "DB_SSLMODE": "disable"}
    with LocalLambda.from_template(
        REPO / "template.yaml", parameter_overrides=PARAMETERS, env_vars={"Parameters": variables}
    ) as local_lambda:
        yield local_lambda


def _payload(lam: LocalLambda, function: str, event: str) -> Any:
    result = lam.invoke(function, load_event(event))
    assert result.function_error is None, result.payload
    return result.payload


def test_the_template_functions_migrate_serve_ingest_and_clean_up(lam: LocalLambda, database: TestDatabase) -> None:
    assert _payload(lam, "MigrateFunction", "migrate_invoke")["applied"] == list(range(1, LATEST_VERSION + 1))

    assert _payload(lam, "ItemsFunction", "items_create")["statusCode"] == 201
    assert _payload(lam, "ItemsFunction", "items_get")["statusCode"] == 200
    assert _payload(lam, "ItemsFunction", "items_create_wrong_types")["statusCode"] == 400
    poison = _payload(lam, "IngestFunction", "ingest_batch_poison")
    assert poison == {"batchItemFailures": [{"itemIdentifier": "00000000-0000-4000-8000-000000000002"}]}

    names = database.server.execute("SELECT name FROM items ORDER BY id", database=database.name)
    assert [name for (name,) in names] == ["widget", "bolt", "washer"]
    # the janitor gets the template's TTL (24 h): a key from 2 days ago goes, one from an hour ago stays
    database.server.execute(
        """INSERT INTO idempotency_keys (key, request_hash, status_code, response, created_at) VALUES
           ('old', 'h', 201, '{}', now() - interval '2 days'), ('new', 'h', 201, '{}', now() - interval '1 hour')""",
        database=database.name,
    )
    cleaned = _payload(lam, "JanitorFunction", "janitor_schedule")
    assert cleaned == {"deleted": 1, "batches": 1, "finished": True, "ttl_s": 86400}
    assert database.server.execute("SELECT key FROM idempotency_keys", database=database.name) == [("new",)]
    # single mode: the one warm Items (and Janitor) environment holds one connection; the migration (null mode) none
    assert database.connections(application_prefix="ItemsFunction:") == 1
    assert database.connections(application_prefix="JanitorFunction:") == 1
    assert database.connections(application_prefix="MigrateFunction:") == 0
