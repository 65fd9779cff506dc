"""Property: a bad request to the Items API is a 4xx naming the problem, never a 500, never a write.

The function is the real ``items.app`` on a real, migrated Postgres; the events are API Gateway HTTP API (2.0)
events built around what hypothesis draws. Each example checks the tables are exactly as before it.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.kit.lambda_context import LambdaContext
from tests.conftest import TestDatabase
from tests.integration.bad_input import strategies as bad
from tests.integration.functions.conftest import Function, load_event

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FEW = settings(FUZZ, max_examples=25)


def http_event(method: str, path: str, **fields: Any) -> dict[str, Any]:
    """An HTTP API (2.0) event for ``method path``, shaped like ``events/items_create.json``."""
    event = load_event("items_create")
    event.update(routeKey=f"{method} {path}", rawPath=path, body=None, queryStringParameters=None)
    event["requestContext"]["http"].update(method=method, path=path)
    event.update(fields)
    return event


def tables(database: TestDatabase) -> list[tuple[Any, ...]]:
    """Every row a request could have written, read by the superuser."""
    return database.server.execute(
        "SELECT 'items', id::text, name, description, quantity::text, updated_at::text FROM items "
        "UNION ALL SELECT 'key', key, request_hash, '', '', '' FROM idempotency_keys "
        "UNION ALL SELECT 'msg', message_key, '', '', '', '' FROM ingested_messages ORDER BY 1, 2",
        database=database.name,
    )


def refused(response: dict[str, Any], *, status: int | tuple[int, ...] = 400, field: str | None = None) -> str:
    """Assert a 4xx whose JSON message names ``field``; return the message."""
    allowed = status if isinstance(status, tuple) else (status,)
    assert response["statusCode"] in allowed, response
    body = json.loads(response["body"])
    message = body["message"]
    assert isinstance(message, str)
    assert message
    if field is not None:
        assert body.get("field", "").startswith(field), body
        assert message.startswith(field), body
    return message


class Api:
    """The Items function and its database; a plain class, because hypothesis prints a failing example's arguments
    field by field, and the database's fields include the password."""

    def __init__(self, function: Function, database: TestDatabase) -> None:
        self.function = function
        self.database = database

    def __call__(self, event: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.function.module.lambda_handler(event, LambdaContext("ItemsFunction"))
        return response

    def rows(self) -> list[tuple[Any, ...]]:
        return tables(self.database)

    def __repr__(self) -> str:
        return f"Api({self.function.application_name}, database {self.database.name})"


@pytest.fixture
def api(load_function: Callable[..., Function], migrated: TestDatabase) -> Api:
    """The Items function with one item (id 1) in its database, so PUT and DELETE have something to damage."""
    function = load_function("items")
    assert function.invoke("items_create")["statusCode"] == 201
    return Api(function, migrated)


@FUZZ
@given(body=bad.bad_item_bodies() | bad.huge_body(), method=st.sampled_from(["POST", "PUT"]), key=st.booleans())
def test_a_bad_body_is_400_or_413_naming_the_body_and_writes_nothing(
    api: Api, body: str, method: str, key: bool
) -> None:
    before = api.rows()
    path = "/items" if method == "POST" else "/items/1"
    headers = {"content-type": "application/json", **({"idempotency-key": "k-1"} if key else {})}
    response = api(http_event(method, path, body=body, headers=headers))

    too_large = len(body.encode()) > bad.MAX_BODY_BYTES
    refused(response, status=413 if too_large else 400, field="body")
    assert api.rows() == before


@FUZZ
@given(text=(st.text(min_size=1, max_size=150) | bad.sql_text).filter(lambda t: "\x00" not in t))
def test_unicode_and_sql_metacharacters_in_a_name_are_stored_verbatim(api: Api, text: str) -> None:
    # Valid input, so it is written: exactly as sent, and nothing else is touched (bound parameters, not SQL text).
    name = f"<{text}>"  # brackets: the API strips surrounding whitespace, and this test is about the inside
    response = api(http_event("POST", "/items", body=json.dumps({"name": name, "description": name[::-1]})))

    assert response["statusCode"] == 201, response
    created = json.loads(response["body"])
    stored = api.database.server.execute(
        "SELECT name, description FROM items WHERE id = %s", created["id"], database=api.database.name
    )
    assert stored == [(name, name[::-1])]
    assert api.database.server.execute("SELECT name FROM items WHERE id = 1", database=api.database.name) == [
        ("widget",)
    ]


@FUZZ
@given(item_id=bad.bad_ids, method=st.sampled_from(["GET", "PUT", "DELETE"]))
@example(item_id="9" * 4_301, method="GET")  # past int()'s digit limit: was a 500 (ValueError inside int())
@example(item_id="0" * 5_000 + "1", method="DELETE")
def test_a_bad_path_id_is_400_naming_id_or_404_and_touches_nothing(api: Api, item_id: str, method: str) -> None:
    before = api.rows()
    body = json.dumps({"name": "replaced"}) if method == "PUT" else None
    response = api(http_event(method, f"/items/{item_id}", body=body))

    if response["statusCode"] == 404:  # the id has a character no route segment matches
        assert refused(response, status=404).startswith(f"no route {method} /items/")
    else:
        refused(response, field="id")
    assert api.rows() == before


@FUZZ
@given(limit=st.none() | bad.bad_limits, cursor=bad.bad_cursors)
@example(limit=None, cursor=base64.urlsafe_b64encode(b"[" * 100_000).decode())  # deep JSON: RecursionError
@example(limit="0" * 4_300 + "1", cursor="")  # past int()'s digit limit, zero-padded: was a 500
def test_bad_pagination_is_400_naming_limit_or_cursor(api: Api, limit: str | None, cursor: str) -> None:
    query = {"cursor": cursor, **({"limit": limit} if limit is not None else {})}
    response = api(http_event("GET", "/items", queryStringParameters=query))

    refused(response, field="limit" if limit is not None else "cursor")


@FUZZ
@given(key=bad.bad_idempotency_keys)
def test_a_bad_idempotency_key_is_400_naming_the_header_and_writes_nothing(api: Api, key: str) -> None:
    before = api.rows()
    event = http_event("POST", "/items", body=json.dumps({"name": "keyed"}), headers={"idempotency-key": key})

    refused(api(event), field="Idempotency-Key")
    assert api.rows() == before


@FEW
@given(body=st.text(min_size=1, max_size=40) | st.binary(min_size=1, max_size=40).map(bytes.hex))
def test_a_body_flagged_base64_that_is_not_base64_of_utf8_is_400(api: Api, body: str) -> None:
    try:
        base64.b64decode(body, validate=True).decode()
    except UnicodeDecodeError:
        field = "body"  # what the client sent is not UTF-8: said in the client's terms
    except ValueError:
        field = "event.body"  # not base64 at all: only a direct invoke sends this, so the event field is named
    else:
        return  # happens to be valid base64 of text: a body the JSON check refuses or accepts, not this test's case
    before = api.rows()
    refused(api(http_event("POST", "/items", body=body, isBase64Encoded=True)), field=field)
    assert api.rows() == before


def test_base64_of_bytes_that_are_not_utf8_is_400_saying_the_body_is_not_utf8(api: Api) -> None:
    body = base64.b64encode(b'{"name": "\xff\xfe"}').decode()
    message = refused(api(http_event("POST", "/items", body=body, isBase64Encoded=True)), field="body")

    assert message == "body: is not UTF-8 text (byte 0xff at offset 10); send the JSON body encoded as UTF-8"
    assert "isBase64Encoded" not in message


@FUZZ
@given(
    method=st.sampled_from(["PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT", "POST", "PUT", "DELETE", "GET"]),
    path=st.sampled_from(["/", "/item", "/items/", "/items/1/2", "/health/x", "/ITEMS"])
    | st.text(max_size=30).map(lambda tail: "/x" + tail),
)
def test_an_unknown_route_is_404_naming_method_and_path(api: Api, method: str, path: str) -> None:
    before = api.rows()
    message = refused(api(http_event(method, path, body="{}")), status=404)

    assert message.startswith(f"no route {method} ")
    assert api.rows() == before


def test_a_known_path_with_another_method_is_404_not_500(api: Api) -> None:
    assert refused(api(http_event("PATCH", "/items/1", body="{}")), status=404).startswith("no route PATCH")


def _mutilated(draw: st.DrawFn) -> Any:
    event = http_event("POST", "/items", body=json.dumps({"name": "from a broken event"}))
    how = draw(st.sampled_from(["not_a_dict", "v1", "no_context", "no_method", "no_path", "wrong_type"]))
    if how == "not_a_dict":
        return draw(bad.json_values.filter(lambda value: not isinstance(value, dict)))
    if how == "v1":  # a REST API (payload format 1.0) event for the same request
        return {"resource": "/items", "path": "/items", "httpMethod": "POST", "headers": {}, "body": event["body"]}
    if how == "no_context":
        event.pop("requestContext")
    elif how == "no_method":
        event["requestContext"]["http"].pop("method")
    elif how == "no_path":
        event["rawPath"] = draw(bad.not_a_string)
    else:
        field = draw(st.sampled_from(["body", "headers", "queryStringParameters", "pathParameters", "isBase64Encoded"]))
        wrong = {"body": bad.not_a_string.filter(lambda v: v is not None)}
        maps = st.dictionaries(bad.any_text, bad.not_a_string, min_size=1, max_size=2) | st.lists(
            bad.any_text, max_size=2
        )
        event[field] = draw(
            wrong.get(field, st.integers() | st.text(min_size=1)) if field in ("body", "isBase64Encoded") else maps
        )
    return event


@FUZZ
@given(event=st.composite(_mutilated)())
def test_an_event_api_gateway_would_never_send_is_400_naming_the_event(api: Api, event: Any) -> None:
    before = api.rows()
    refused(api(copy.deepcopy(event)), field="event")
    assert api.rows() == before
