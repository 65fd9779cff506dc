"""Two clients retrying the same POST at the same moment still write one item, with a new key or an expired one.

Each concurrent client is its own process (as each Lambda execution environment is), importing the function
afresh; the database decides who writes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app_model import idempotency, items
from app_model.config import DEFAULT_IDEMPOTENCY_TTL_S
from app_model.schemas import ItemIn
from harness.kit.lambda_context import LambdaContext
from tests.conftest import TestDatabase
from tests.integration.functions.conftest import blocked_transactions, count_rows, load_event

CLIENTS = 4


def _post_in_a_new_environment(env: dict[str, str], barrier: Any, results: Any) -> None:
    os.environ.update(env)
    from items import app  # a cold start: module scope runs in this process

    barrier.wait(timeout=60)
    response = app.lambda_handler(load_event("items_create_idempotent"), LambdaContext())
    app.db.dispose()
    results.put(response)


def _post_at_once_from_new_environments(database: TestDatabase) -> list[dict[str, Any]]:
    """The keyed POST sent by CLIENTS processes released together; their responses."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(CLIENTS), context.Queue()
    env = {"DATABASE_URL": database.url, "DB_POOL_MODE": "single", "DB_SIGTERM_DISPOSE": "false"}
    workers = [context.Process(target=_post_in_a_new_environment, args=(env, barrier, results)) for _ in range(CLIENTS)]
    for worker in workers:
        worker.start()
    responses = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    return responses


def test_concurrent_posts_with_one_idempotency_key_write_once(migrated: TestDatabase) -> None:
    responses = _post_at_once_from_new_environments(migrated)

    assert [response["statusCode"] for response in responses] == [201] * CLIENTS
    bodies = [json.loads(response["body"]) for response in responses]
    assert all(body == bodies[0] for body in bodies)  # jsonb may reorder the keys of the replayed body
    first_answers = [r for r in responses if "Idempotent-Replayed" not in r["headers"]]
    assert len(first_answers) == 1
    assert count_rows(migrated, "items") == 1


def test_concurrent_posts_with_an_expired_key_write_once_more(migrated: TestDatabase) -> None:
    # GIVEN the key's first request, answered longer ago than the TTL
    engine = create_engine(migrated.url)
    data = ItemIn.model_validate_json(load_event("items_create_idempotent")["body"])
    key = load_event("items_create_idempotent")["headers"]["idempotency-key"]
    with Session(engine) as session, session.begin():
        idempotency.claim_key(session, key, idempotency.fingerprint(data.model_dump_json()), ttl_s=60)
        idempotency.store_response(session, key, 201, json.dumps(items.create_item(session, data)))
    engine.dispose()
    expired = DEFAULT_IDEMPOTENCY_TTL_S + 60
    migrated.server.execute(
        "UPDATE idempotency_keys SET created_at = now() - make_interval(secs => %s)", expired, database=migrated.name
    )

    # WHEN clients send the same key at the same moment
    responses = _post_at_once_from_new_environments(migrated)

    # THEN exactly one of them claims it and writes; the others replay that answer, not the expired one
    assert [response["statusCode"] for response in responses] == [201] * CLIENTS
    first_answers = [r for r in responses if "Idempotent-Replayed" not in r["headers"]]
    assert len(first_answers) == 1
    new_item = json.loads(first_answers[0]["body"])
    assert new_item["id"] == 2
    assert all(json.loads(response["body"]) == new_item for response in responses)
    assert count_rows(migrated, "items") == 2
    assert count_rows(migrated, "idempotency_keys") == 1


def test_a_duplicate_waits_for_the_first_transaction_then_replays(migrated: TestDatabase) -> None:
    # GIVEN a first request that has claimed the key and not yet committed
    engine = create_engine(migrated.url, pool_size=2)
    data = ItemIn(name="widget")
    digest = idempotency.fingerprint(data.model_dump_json())
    first = Session(engine)
    assert idempotency.claim_key(first, "key-1", digest, ttl_s=DEFAULT_IDEMPOTENCY_TTL_S) is None
    item = items.create_item(first, data)
    idempotency.store_response(first, "key-1", 201, json.dumps(item))

    # WHEN a duplicate claims the same key in another transaction
    outcome: dict[str, Any] = {}

    def duplicate() -> None:
        with Session(engine) as second, second.begin():
            outcome["replay"] = idempotency.claim_key(second, "key-1", digest, ttl_s=DEFAULT_IDEMPOTENCY_TTL_S)

    thread = threading.Thread(target=duplicate)
    thread.start()
    assert blocked_transactions(migrated) == 1  # the duplicate's INSERT, blocked on the first one's row
    assert "replay" not in outcome

    # THEN once the first commits, the duplicate gets the first answer and writes nothing
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert outcome["replay"] == idempotency.Replay(status_code=201, body=json.dumps(item), headers={})
    assert count_rows(migrated, "items") == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM idempotency_keys")).scalar_one() == 1
    engine.dispose()


@pytest.mark.parametrize("first_ends_with", ["commit", "rollback"])
def test_a_duplicate_of_a_request_reclaiming_an_expired_key_waits_for_it(
    migrated: TestDatabase, first_ends_with: str
) -> None:
    # GIVEN an expired key, and a first request that has claimed it anew and written, not yet committed
    engine = create_engine(migrated.url, pool_size=2)
    data = ItemIn(name="widget")
    digest = idempotency.fingerprint(data.model_dump_json())
    with Session(engine) as old, old.begin():
        idempotency.claim_key(old, "key-1", digest, ttl_s=60)
        idempotency.store_response(old, "key-1", 201, json.dumps(items.create_item(old, data)))
    migrated.server.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '2 minutes'", database=migrated.name
    )
    first = Session(engine)
    assert idempotency.claim_key(first, "key-1", digest, ttl_s=60) is None
    new_item = items.create_item(first, data)
    idempotency.store_response(first, "key-1", 201, json.dumps(new_item))

    # WHEN a duplicate claims the same key in another transaction
    outcome: dict[str, Any] = {}

    def duplicate() -> None:
        with Session(engine) as second, second.begin():
            outcome["replay"] = idempotency.claim_key(second, "key-1", digest, ttl_s=60)

    thread = threading.Thread(target=duplicate)
    thread.start()
    assert blocked_transactions(migrated) == 1
    assert "replay" not in outcome

    # THEN it replays the first request's answer once that commits, or claims the key itself if that rolls back
    getattr(first, first_ends_with)()
    first.close()
    thread.join(timeout=30)
    if first_ends_with == "commit":
        assert outcome["replay"] == idempotency.Replay(status_code=201, body=json.dumps(new_item), headers={})
        assert count_rows(migrated, "items") == 2
    else:
        assert outcome["replay"] is None  # the duplicate goes on to write, in place of the first
        assert count_rows(migrated, "items") == 1
    assert count_rows(migrated, "idempotency_keys") == 1
    engine.dispose()
