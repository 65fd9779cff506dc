"""The SQS worker, invoked in-process with the events/ batches, against a real Postgres."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from tests.conftest import TestDatabase
from tests.integration.functions.conftest import Function, count_rows, load_event

POISON_ID = "00000000-0000-4000-8000-000000000002"


@pytest.mark.parametrize("pool_mode", ["single", "null"])
def test_a_good_batch_writes_every_message(
    load_function: Callable[..., Function], migrated: TestDatabase, pool_mode: str
) -> None:
    result = load_function("ingest", pool_mode=pool_mode).invoke("ingest_batch")

    assert result == {"batchItemFailures": []}
    names = migrated.server.execute("SELECT name FROM items ORDER BY id", database=migrated.name)
    assert [name for (name,) in names] == ["bolt", "nut", "washer"]


def test_a_poison_record_fails_alone(load_function: Callable[..., Function], migrated: TestDatabase) -> None:
    result = load_function("ingest").invoke("ingest_batch_poison")

    assert result == {"batchItemFailures": [{"itemIdentifier": POISON_ID}]}
    names = migrated.server.execute("SELECT name FROM items ORDER BY id", database=migrated.name)
    assert [name for (name,) in names] == ["bolt", "washer"]


def test_a_redelivered_batch_writes_nothing_twice(
    load_function: Callable[..., Function], migrated: TestDatabase
) -> None:
    ingest = load_function("ingest")
    ingest.invoke("ingest_batch")

    assert ingest.invoke("ingest_batch") == {"batchItemFailures": []}
    assert count_rows(migrated, "items") == 3
    assert count_rows(migrated, "ingested_messages") == 3


def test_a_resent_message_with_the_same_key_is_skipped(
    load_function: Callable[..., Function], migrated: TestDatabase
) -> None:
    # GIVEN the producer re-sends message 2 (its idempotency_key) as a new SQS message with a new id
    ingest = load_function("ingest")
    ingest.invoke("ingest_batch")
    event = load_event("ingest_batch")
    resent = event["Records"][1]
    assert json.loads(resent["body"])["idempotency_key"] == "order-4711-line-2"
    resent["messageId"] = "11111111-0000-4000-8000-000000000009"

    assert ingest.invoke({"Records": [resent]}) == {"batchItemFailures": []}
    assert count_rows(migrated, "items") == 3


def test_a_batch_on_an_unreachable_database_fails_every_record(
    load_function: Callable[..., Function], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every record failed: Powertools raises, so SQS retries the whole batch (and the DLQ catches it in the end).
    monkeypatch.setenv("DB_CONNECT_RETRY_MAX_S", "0")
    ingest = load_function("ingest", url="postgresql://app:pw@127.0.0.1:9/nowhere")

    with pytest.raises(BatchProcessingError, match="All records failed"):
        ingest.invoke("ingest_batch")
