"""Two clients retrying the same POST at the same moment still write one item.

Each concurrent client is its own process (as each Lambda execution environment is), importing the function
afresh; the database decides who writes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app_model import idempotency, items
from app_model.schemas import ItemIn
from tests.conftest import TestDatabase
from tests.integration.functions.conftest import LambdaContext, count_rows, load_event

CLIENTS = 4


def _post_in_a_new_environment(env: dict[str, str], barrier: Any, results: Any) -> None:
    os.environ.update(env)
    from items import app  # a cold start: module scope runs in this process

    barrier.wait(timeout=60)
    response = app.lambda_handler(load_event("items_create_idempotent"), LambdaContext())
    app.db.dispose()
    results.put(response)


def test_concurrent_posts_with_one_idempotency_key_write_once(migrated: TestDatabase) -> None:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(CLIENTS), context.Queue()
    env = {"DATABASE_URL": migrated.url, "DB_POOL_MODE": "single", "DB_SIGTERM_DISPOSE": "false"}
    workers = [context.Process(target=_post_in_a_new_environment, args=(env, barrier, results)) for _ in range(CLIENTS)]
    for worker in workers:
        worker.start()
    responses = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)

    assert [response["statusCode"] for response in responses] == [201] * CLIENTS
    bodies = [json.loads(response["body"]) for response in responses]
    assert all(body == bodies[0] for body in bodies)  # jsonb may reorder the keys of the replayed body
    first_answers = [r for r in responses if "Idempotent-Replayed" not in r["headers"]]
    assert len(first_answers) == 1
    assert count_rows(migrated, "items") == 1


def test_a_duplicate_waits_for_the_first_transaction_then_replays(migrated: TestDatabase) -> None:
    # GIVEN a first request that has claimed the key and not yet committed
    engine = create_engine(migrated.url, pool_size=2)
    data = ItemIn(name="widget")
    digest = idempotency.fingerprint(data.model_dump_json())
    first = Session(engine)
    assert idempotency.claim_key(first, "key-1", digest) is None
    item = items.create_item(first, data)
    idempotency.store_response(first, "key-1", 201, item)

    # WHEN a duplicate claims the same key in another transaction
    outcome: dict[str, Any] = {}

    def duplicate() -> None:
        with Session(engine) as second, second.begin():
            outcome["replay"] = idempotency.claim_key(second, "key-1", digest)

    thread = threading.Thread(target=duplicate)
    thread.start()
    waiting = 0
    for _ in range(200):  # until the duplicate's INSERT is seen blocked on the first one's row
        waiting = int(
            migrated.server.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'",
                database=migrated.name,
            )[0][0]
        )
        if waiting:
            break
        time.sleep(0.02)
    assert waiting == 1
    assert "replay" not in outcome

    # THEN once the first commits, the duplicate gets the first answer and writes nothing
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert outcome["replay"] == idempotency.Replay(status_code=201, body=item)
    assert count_rows(migrated, "items") == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM idempotency_keys")).scalar_one() == 1
    engine.dispose()
