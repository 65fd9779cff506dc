"""What a hostile run found in the Items function, each sent to the real function on a real, migrated Postgres.

Digit strings past Python's integer-string limit, a replayed POST that must be the first answer byte for byte, and a
body that is not UTF-8: each gets the documented answer (a 400 naming the field, or the stored answer).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine

from app_model import migrate, migrations
from app_model.migrations import MIGRATIONS
from tests.conftest import TestDatabase
from tests.integration.bad_input.test_items_bad_input import http_event, refused
from tests.integration.functions.conftest import Function, LambdaContext, count_rows, load_event

LONG = "9" * 4_301  # one digit past int()'s default limit of 4,300
PADDED = "0" * 4_300 + "1"


def _call(function: Function, event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = function.module.lambda_handler(event, LambdaContext("ItemsFunction"))
    return response


@pytest.mark.parametrize("raw", [LONG, PADDED, "0" * 19 + "1", "1" * 20])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_path_id_of_thousands_of_digits_is_400_naming_id(
    load_function: Callable[..., Function], method: str, raw: str
) -> None:
    items = load_function("items")
    body = json.dumps({"name": "replaced"}) if method == "PUT" else None

    message = refused(_call(items, http_event(method, f"/items/{raw}", body=body)), field="id")

    assert message.startswith("id: must be a positive integer, got ")
    if len(raw) > 40:
        assert message.endswith(f"... ({len(raw)} characters)")  # shown cut short, with its length


@pytest.mark.parametrize("raw", [LONG, PADDED])
def test_a_limit_of_thousands_of_digits_is_400_naming_limit(load_function: Callable[..., Function], raw: str) -> None:
    items = load_function("items")
    event = http_event("GET", "/items", queryStringParameters={"limit": raw})

    assert refused(_call(items, event), field="limit").startswith("limit: must be an integer from 1 to 100")


def test_a_short_zero_padded_id_and_limit_still_work(load_function: Callable[..., Function]) -> None:
    items = load_function("items")
    created = json.loads(items.invoke("items_create")["body"])

    got = _call(items, http_event("GET", f"/items/000{created['id']}"))
    page = _call(items, http_event("GET", "/items", queryStringParameters={"limit": "005"}))

    assert got["statusCode"] == 200
    assert json.loads(got["body"])["id"] == created["id"]
    assert page["statusCode"] == 200
    assert len(json.loads(page["body"])["items"]) == 1


def test_a_replayed_post_is_the_first_answer_byte_for_byte(
    load_function: Callable[..., Function], migrated: TestDatabase
) -> None:
    items = load_function("items")

    first = items.invoke("items_create_idempotent")
    retry = items.invoke("items_create_idempotent")

    assert retry["statusCode"] == first["statusCode"] == 201
    assert retry["body"] == first["body"]  # the same bytes, keys in the same order
    assert retry["headers"]["Location"] == first["headers"]["Location"] == f"/items/{json.loads(first['body'])['id']}"
    assert retry["headers"]["Content-Type"] == first["headers"]["Content-Type"]
    assert {k: v for k, v in retry["headers"].items() if k != "Idempotent-Replayed"} == first["headers"]
    assert retry["headers"]["Idempotent-Replayed"] == "true"
    assert count_rows(migrated, "items") == 1


def test_migration_4_gives_keys_answered_before_it_their_location(
    database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a database the previous release migrated (steps 1-3), holding a key it answered (body as jsonb only)
    engine = create_engine(database.url)
    with monkeypatch.context() as previous_release:
        previous_release.setattr(migrations, "MIGRATIONS", MIGRATIONS[:3])
        assert migrate(engine) == [1, 2, 3]
    database.server.execute(
        """INSERT INTO idempotency_keys (key, request_hash, status_code, response) VALUES
           ('answered', 'h', 201, '{"id": 7, "name": "w"}'), ('pending', 'h', 0, '{}')""",
        database=database.name,
    )

    # WHEN this release migrates it
    applied = migrate(engine)
    engine.dispose()

    # THEN step 4 runs, the answered key gets its body text and Location, the pending one stays unanswered
    assert applied == [4]
    rows = database.server.execute(
        "SELECT key, response_body, response_headers::text FROM idempotency_keys ORDER BY key", database=database.name
    )
    assert rows == [("answered", '{"id": 7, "name": "w"}', '{"Location": "/items/7"}'), ("pending", None, "{}")]


def test_a_body_that_is_not_utf8_says_so_in_the_clients_terms(load_function: Callable[..., Function]) -> None:
    # API Gateway passes bytes that are not UTF-8 as base64: the client never sent an isBase64Encoded field
    items = load_function("items")
    event = load_event("items_create")
    event.update(body=base64.b64encode(b'{"name": "caf\xe9"}').decode(), isBase64Encoded=True)

    message = refused(_call(items, event), field="body")

    assert message == "body: is not UTF-8 text (byte 0xe9 at offset 13); send the JSON body encoded as UTF-8"


def test_two_idempotency_keys_joined_by_api_gateway_are_400_naming_the_header(
    load_function: Callable[..., Function], migrated: TestDatabase
) -> None:
    # HTTP APIs join a repeated header with commas: two keys arrive as one value, which no single key looks like
    items = load_function("items")
    event = load_event("items_create_idempotent")
    event["headers"]["idempotency-key"] = "key-a,key-b"

    message = refused(_call(items, event), field="Idempotency-Key")

    assert "one key" in message
    assert count_rows(migrated, "items") == 0
