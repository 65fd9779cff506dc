"""The Items API, invoked in-process with the events/ files, against a real Postgres."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import TestDatabase
from tests.integration.functions.conftest import Function, count_rows, load_event


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


@pytest.mark.parametrize("pool_mode", ["single", "null", "queue", "per_invocation"])
def test_crud_round_trip_writes_and_reads_real_rows(
    load_function: Callable[..., Function], migrated: TestDatabase, pool_mode: str
) -> None:
    items = load_function("items", pool_mode=pool_mode)

    created = items.invoke("items_create")
    assert created["statusCode"] == 201
    assert body(created)["id"] == 1  # the events use id 1: the first item of a fresh database
    assert created["headers"]["Location"] == "/items/1"
    assert migrated.server.execute("SELECT name, quantity FROM items", database=migrated.name) == [("widget", 3)]

    fetched = items.invoke("items_get")
    assert fetched["statusCode"] == 200
    assert body(fetched)["name"] == "widget"

    replaced = items.invoke("items_replace")
    assert replaced["statusCode"] == 200
    assert body(replaced)["name"] == "widget v2"
    assert body(replaced)["updated_at"] >= body(created)["updated_at"]
    assert migrated.server.execute("SELECT name, quantity FROM items", database=migrated.name) == [("widget v2", 5)]

    deleted = items.invoke("items_delete")
    assert deleted["statusCode"] == 204
    assert not deleted.get("body")
    assert count_rows(migrated, "items") == 0
    assert items.invoke("items_delete")["statusCode"] == 404


def test_keyset_pagination_walks_every_item_once(load_function: Callable[..., Function]) -> None:
    items = load_function("items")
    for _ in range(5):
        assert items.invoke("items_create")["statusCode"] == 201

    seen: list[int] = []
    event = load_event("items_list")  # limit=2
    pages = 0
    while True:
        page = body(items.invoke(event))
        pages += 1
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        event["queryStringParameters"]["cursor"] = page["next_cursor"]
    assert seen == [1, 2, 3, 4, 5]
    assert pages == 3


@pytest.mark.parametrize(
    ("event", "status", "field"),
    [
        ("items_create_malformed_json", 400, "body"),
        ("items_create_wrong_types", 400, "body.quantity"),
        ("items_create_missing_field", 400, "body.name"),
        ("items_create_unknown_field", 400, "body.colour"),
        ("items_create_name_too_long", 400, "body.name"),
        ("items_create_empty_body", 400, "body"),
        ("items_create_oversized", 413, "body"),
        ("items_replace_wrong_types", 400, "body.quantity"),
        ("items_get_bad_id", 400, "id"),
        ("items_list_bad_limit", 400, "limit"),
        ("items_list_bad_cursor", 400, "cursor"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    load_function: Callable[..., Function], migrated: TestDatabase, event: str, status: int, field: str
) -> None:
    response = load_function("items").invoke(event)

    assert response["statusCode"] == status
    answer = body(response)
    assert answer["field"] == field
    assert answer["message"].startswith(f"{field}: ")
    assert "Traceback" not in response["body"]
    assert count_rows(migrated, "items") == 0


def test_unknown_id_is_404(load_function: Callable[..., Function]) -> None:
    response = load_function("items").invoke("items_get_missing")
    assert response["statusCode"] == 404
    assert body(response) == {"message": "item 999999 not found"}


def test_idempotent_post_writes_once_and_replays_the_first_answer(
    load_function: Callable[..., Function], migrated: TestDatabase
) -> None:
    items = load_function("items")

    first = items.invoke("items_create_idempotent")
    retry = items.invoke("items_create_idempotent")

    assert first["statusCode"] == retry["statusCode"] == 201
    assert body(retry) == body(first)
    assert retry["headers"]["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first["headers"]
    assert count_rows(migrated, "items") == 1
    assert count_rows(migrated, "idempotency_keys") == 1


def test_idempotency_key_reused_with_another_body_is_422_and_writes_nothing(
    load_function: Callable[..., Function], migrated: TestDatabase
) -> None:
    items = load_function("items")
    assert items.invoke("items_create_idempotent")["statusCode"] == 201
    event = load_event("items_create_idempotent")
    event["body"] = json.dumps({"name": "something else"})

    response = items.invoke(event)

    assert response["statusCode"] == 422
    assert body(response)["field"] == "Idempotency-Key"
    assert count_rows(migrated, "items") == 1


def test_database_unavailable_is_503_with_retry_after(
    load_function: Callable[..., Function], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a URL on a port where nothing listens, and no connect retries
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DB_CONNECT_RETRY_MAX_S", "0")
    items = load_function("items", url=f"postgresql://app:secret-pw@127.0.0.1:{port}/nowhere")

    response = items.invoke("items_get")

    assert response["statusCode"] == 503
    assert int(response["headers"]["Retry-After"]) >= 1
    assert "secret-pw" not in response["body"]


def test_unexpected_error_is_500_with_a_generic_body(
    load_function: Callable[..., Function], migrated: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    items = load_function("items")
    migrated.server.execute("DROP TABLE items CASCADE", database=migrated.name)

    with caplog.at_level(logging.ERROR):
        response = items.invoke("items_get")

    assert response["statusCode"] == 500
    assert set(body(response)) == {"message", "request_id"}
    assert body(response)["message"] == "internal error"
    assert "UndefinedTable" not in response["body"]
    assert "UndefinedTable" in caplog.text  # the detail is in the log, not the response


def test_health_shows_the_pool_and_the_servers_connections(
    load_function: Callable[..., Function], migrated: TestDatabase
) -> None:
    items = load_function("items", pool_mode="single")
    items.invoke("items_get_missing")  # one query: the environment now holds its one connection

    health = body(items.invoke("items_health"))

    assert health["status"] == "ok"
    assert health["pool"]["mode"] == "single"
    assert health["pool"]["checked_out"] == 0
    assert health["server_connections"]["application_name"] == items.application_name
    assert health["server_connections"]["count"] == 1
    assert migrated.connections(application_prefix=items.application_name) == 1
    # counters since the environment started survive the per-invocation reset: the 404 before, and this call
    assert health["lifetime"]["invocations_num"] == 1
    assert health["lifetime"]["connections_opened_num"] == 1


@pytest.mark.parametrize(("pool_mode", "held"), [("single", 1), ("queue", 1), ("null", 0), ("per_invocation", 0)])
def test_the_pool_mode_alone_decides_what_an_environment_holds_between_invocations(
    load_function: Callable[..., Function], migrated: TestDatabase, pool_mode: str, held: int
) -> None:
    items = load_function("items", pool_mode=pool_mode)
    for _ in range(3):
        assert items.invoke("items_get_missing")["statusCode"] == 404

    assert migrated.connections(application_prefix=items.application_name) == held
