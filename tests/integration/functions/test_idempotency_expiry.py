"""Idempotency keys expire: a retry within the TTL replays, a reuse after it writes anew, on a real Postgres.

A key is aged by moving its ``created_at`` back as the superuser, so no test waits for a clock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app_model import idempotency, items
from app_model.schemas import ItemIn
from tests.conftest import TestDatabase
from tests.integration.functions.conftest import Function, blocked_transactions, count_rows, load_event

HOUR_S = 3600


def age_keys(database: TestDatabase, seconds: int) -> None:
    """Pretend every key was claimed ``seconds`` ago."""
    database.server.execute(
        "UPDATE idempotency_keys SET created_at = now() - make_interval(secs => %s)", seconds, database=database.name
    )


def key_ages_s(database: TestDatabase) -> list[float]:
    rows = database.server.execute(
        "SELECT extract(epoch FROM now() - created_at) FROM idempotency_keys", database=database.name
    )
    return [float(age) for (age,) in rows]


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


@pytest.fixture
def items_with_a_one_hour_ttl(load_function: Callable[..., Function], monkeypatch: pytest.MonkeyPatch) -> Function:
    monkeypatch.setenv("IDEMPOTENCY_TTL_S", str(HOUR_S))
    return load_function("items")


def test_a_retry_within_the_ttl_replays_the_first_answer(
    items_with_a_one_hour_ttl: Function, migrated: TestDatabase
) -> None:
    # GIVEN a keyed POST answered 59 minutes ago, with a one-hour TTL
    first = items_with_a_one_hour_ttl.invoke("items_create_idempotent")
    age_keys(migrated, HOUR_S - 60)

    # WHEN the client retries it
    retry = items_with_a_one_hour_ttl.invoke("items_create_idempotent")

    # THEN it gets the first answer and nothing is written
    assert retry["statusCode"] == 201
    assert retry["headers"]["Idempotent-Replayed"] == "true"
    assert body(retry) == body(first)
    assert count_rows(migrated, "items") == 1
    assert count_rows(migrated, "idempotency_keys") == 1


def test_a_key_reused_after_the_ttl_writes_the_item_once_more_and_starts_a_new_ttl(
    items_with_a_one_hour_ttl: Function, migrated: TestDatabase
) -> None:
    # GIVEN a keyed POST answered 61 minutes ago, with a one-hour TTL
    first = items_with_a_one_hour_ttl.invoke("items_create_idempotent")
    age_keys(migrated, HOUR_S + 60)

    # WHEN the same key comes again
    reused = items_with_a_one_hour_ttl.invoke("items_create_idempotent")
    retry_of_the_reuse = items_with_a_one_hour_ttl.invoke("items_create_idempotent")

    # THEN it is a new request: a second item, the key now answers with it, its age starts again
    assert reused["statusCode"] == 201
    assert "Idempotent-Replayed" not in reused["headers"]
    assert body(reused)["id"] == body(first)["id"] + 1
    assert retry_of_the_reuse["headers"]["Idempotent-Replayed"] == "true"
    assert body(retry_of_the_reuse) == body(reused)
    assert count_rows(migrated, "items") == 2
    assert count_rows(migrated, "idempotency_keys") == 1
    assert max(key_ages_s(migrated)) < HOUR_S  # claimed anew, not 61 minutes old any more


def test_an_expired_key_may_come_back_with_another_body(
    items_with_a_one_hour_ttl: Function, migrated: TestDatabase
) -> None:
    # Within the TTL another body is refused (422); after it the key is free, whatever the body.
    assert items_with_a_one_hour_ttl.invoke("items_create_idempotent")["statusCode"] == 201
    other = load_event("items_create_idempotent")
    other["body"] = json.dumps({"name": "gadget"})
    assert items_with_a_one_hour_ttl.invoke(other)["statusCode"] == 422
    age_keys(migrated, HOUR_S + 60)

    response = items_with_a_one_hour_ttl.invoke(other)

    assert response["statusCode"] == 201
    assert body(response)["name"] == "gadget"
    assert count_rows(migrated, "items") == 2


def test_the_default_ttl_is_24_hours(load_function: Callable[..., Function], migrated: TestDatabase) -> None:
    items_function = load_function("items")  # IDEMPOTENCY_TTL_S unset
    items_function.invoke("items_create_idempotent")
    age_keys(migrated, 23 * HOUR_S)
    assert items_function.invoke("items_create_idempotent")["headers"]["Idempotent-Replayed"] == "true"
    age_keys(migrated, 25 * HOUR_S)
    assert "Idempotent-Replayed" not in items_function.invoke("items_create_idempotent")["headers"]
    assert count_rows(migrated, "items") == 2


def test_the_janitor_skips_a_key_a_request_is_replaying_then_deletes_it(migrated: TestDatabase) -> None:
    # GIVEN a key two hours old that a request (TTL 24 h) is replaying, its transaction still open
    engine = create_engine(migrated.url, pool_size=2, connect_args={"options": "-c lock_timeout=10s"})
    data = ItemIn(name="widget")
    digest = idempotency.fingerprint(data.model_dump_json())
    with Session(engine) as setup, setup.begin():
        assert idempotency.claim_key(setup, "key-1", digest, ttl_s=24 * HOUR_S) is None
        idempotency.store_response(setup, "key-1", 201, json.dumps(items.create_item(setup, data)))
    age_keys(migrated, 2 * HOUR_S)
    request = Session(engine)
    replay = idempotency.claim_key(request, "key-1", digest, ttl_s=24 * HOUR_S)
    assert replay is not None

    # WHEN a janitor with a one-hour TTL (to which the key has expired) runs meanwhile
    during = idempotency.purge_expired(engine.begin, ttl_s=HOUR_S, keep_going=lambda: True)

    # THEN it neither waits nor deletes the row the request holds; once the request ends, it does
    assert during == idempotency.Purge(deleted=0, batches=1, finished=True)
    assert count_rows(migrated, "idempotency_keys") == 1
    request.commit()
    request.close()
    after = idempotency.purge_expired(engine.begin, ttl_s=HOUR_S, keep_going=lambda: True)
    assert after == idempotency.Purge(deleted=1, batches=1, finished=True)
    assert count_rows(migrated, "idempotency_keys") == 0
    engine.dispose()


def test_a_claim_that_meets_the_janitors_uncommitted_delete_waits_then_claims_the_key_anew(
    migrated: TestDatabase,
) -> None:
    # GIVEN an expired key whose deletion by the janitor is not yet committed
    engine = create_engine(migrated.url, pool_size=2)
    data = ItemIn(name="widget")
    digest = idempotency.fingerprint(data.model_dump_json())
    with Session(engine) as setup, setup.begin():
        assert idempotency.claim_key(setup, "key-1", digest, ttl_s=HOUR_S) is None
        idempotency.store_response(setup, "key-1", 201, json.dumps(items.create_item(setup, data)))
    age_keys(migrated, 2 * HOUR_S)
    janitor = engine.connect()
    janitor.begin()
    assert idempotency.delete_expired(janitor, ttl_s=HOUR_S) == 1

    # WHEN a request claims the key in another transaction
    outcome: dict[str, Any] = {}

    def claim() -> None:
        with Session(engine) as session, session.begin():
            outcome["replay"] = idempotency.claim_key(session, "key-1", digest, ttl_s=HOUR_S)

    thread = threading.Thread(target=claim)
    thread.start()
    assert blocked_transactions(migrated) == 1
    assert "replay" not in outcome

    # THEN once the janitor commits, the request claims the key as new (it goes on to write)
    janitor.commit()
    janitor.close()
    thread.join(timeout=30)
    assert outcome["replay"] is None
    assert count_rows(migrated, "idempotency_keys") == 1
    assert max(key_ages_s(migrated)) < HOUR_S
    engine.dispose()
