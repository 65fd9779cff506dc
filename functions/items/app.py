"""Items API: the routes of an HTTP API on one Lambda function, and the one place errors become HTTP statuses.

The database and the settings are built at module scope (once per execution environment; the database connects on
first use, a bad setting stops the init); every request runs one unit of work: ``db.run_transaction`` for a write
(one transaction), ``db.run_read`` for a read (autocommit). Each unit is statements only, so the layer may run it
again when its connection is lost before COMMIT (a failover, a restart). The SQL lives in :mod:`app_model.items`
and :mod:`app_model.idempotency`.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from sqlalchemy.orm import Session

from app_model import (
    AppConfig,
    BodyTooLargeError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    ItemNotFoundError,
    event_shapes,
    idempotency,
    items,
    schemas,
)
from app_model.schemas import ItemIn
from lambda_db import DatabaseUnavailableError, get_database

logger = Logger()
db = get_database()
config = AppConfig.from_env()
app = APIGatewayHttpResolver()
ROUTES = ("POST /items", "GET /items", "GET /items/{id}", "PUT /items/{id}", "DELETE /items/{id}", "GET /health")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body), headers=headers)


def _body() -> str | None:
    event = app.current_event
    return event_shapes.decode_body(event.body, bool(event.is_base64_encoded))


# -- routes -------------------------------------------------------------------------------------------------------
@app.post("/items")
def create_item() -> Response[str]:
    """Create an item; with ``Idempotency-Key`` a retry in the TTL gets the first answer (``Idempotent-Replayed``)."""
    event = app.current_event
    key = schemas.parse_idempotency_key(event.headers.get("idempotency-key"))
    data = schemas.parse_body(ItemIn, _body())
    digest = idempotency.fingerprint(data.model_dump_json())

    def create(session: Session) -> Response[str]:
        replay = idempotency.claim_key(session, key, digest, ttl_s=config.idempotency_ttl_s) if key else None
        if replay is not None:  # the first answer as it was sent: same status, headers and body bytes
            headers = {**replay.headers, "Idempotent-Replayed": "true"}
            return Response(replay.status_code, content_types.APPLICATION_JSON, replay.body, headers=headers)
        item = items.create_item(session, data)
        body, headers = json.dumps(item), {"Location": f"/items/{item['id']}"}
        if key:
            idempotency.store_response(session, key, HTTPStatus.CREATED, body, headers)
        return Response(HTTPStatus.CREATED, content_types.APPLICATION_JSON, body, headers=headers)

    return db.run_transaction(create)


@app.get("/items")
def list_items() -> dict[str, Any]:
    """A page of items in id order; pass ``next_cursor`` back as ``cursor`` for the next one."""
    event = app.current_event
    limit = schemas.parse_limit(event.get_query_string_value("limit"))
    after = schemas.decode_cursor(event.get_query_string_value("cursor"))
    return db.run_read(lambda conn: items.list_items(conn, limit=limit, after=after))


@app.get("/items/<id>")
def get_item(id: str) -> dict[str, Any]:
    """One item, or 404."""
    item_id = schemas.parse_item_id(id)
    return db.run_read(lambda conn: items.get_item(conn, item_id))


@app.put("/items/<id>")
def replace_item(id: str) -> dict[str, Any]:
    """Replace every field of an item, or 404."""
    item_id = schemas.parse_item_id(id)
    data = schemas.parse_body(ItemIn, _body())
    return db.run_transaction(lambda session: items.replace_item(session, item_id, data))


@app.delete("/items/<id>")
def delete_item(id: str) -> Response[str]:
    """Delete an item (204), or 404."""
    item_id = schemas.parse_item_id(id)
    db.run_transaction(lambda session: items.delete_item(session, item_id))
    return Response(HTTPStatus.NO_CONTENT)


@app.get("/health")
def health() -> dict[str, Any]:
    """The pool, this environment's counters (this invocation's and since it started) and the server's connections."""
    server = db.server_connections()  # first, so the pool below shows its connection back in the pool
    return {
        "status": "ok",
        "pool": db.pool_status(),
        "stats": db.get_stats(),
        "lifetime": db.lifetime_stats(),
        "server_connections": server,
    }


# -- errors: mapped once ------------------------------------------------------------------------------------------
def invalid_input(error: InvalidInputError) -> Response[str]:
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE if isinstance(error, BodyTooLargeError) else HTTPStatus.BAD_REQUEST
    return _json(status, {"message": str(error), "field": error.field, "errors": error.errors})


def not_found(error: ItemNotFoundError) -> Response[str]:
    return _json(HTTPStatus.NOT_FOUND, {"message": str(error)})


def no_route(error: NotFoundError) -> Response[str]:
    # Registered so that an unknown route is a 404, not the Exception fallback's 500.
    event = app.current_event
    message = f"no route {event.http_method[:16]} {event.path[:200]}; routes: {', '.join(ROUTES)}"
    return _json(HTTPStatus.NOT_FOUND, {"message": message})


def key_reused(error: IdempotencyKeyReusedError) -> Response[str]:
    return _json(HTTPStatus.UNPROCESSABLE_ENTITY, {"message": str(error), "field": "Idempotency-Key"})


def unavailable(error: DatabaseUnavailableError) -> Response[str]:
    logger.warning("database unavailable", extra={"error": str(error), "retry_after_s": error.retry_after_s})
    body = {"message": "the database is busy or unreachable; retry later"}
    return _json(HTTPStatus.SERVICE_UNAVAILABLE, body, {"Retry-After": str(error.retry_after_s)})


def unexpected(error: Exception) -> Response[str]:
    logger.exception("unhandled error", extra={"error_type": type(error).__name__})
    return _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "internal error", "request_id": _request_id()})


# Most specific first is not needed: the resolver walks the exception's MRO, so Exception is only the fallback.
for _error, _handler in (
    (InvalidInputError, invalid_input),
    (ItemNotFoundError, not_found),
    (NotFoundError, no_route),
    (IdempotencyKeyReusedError, key_reused),
    (DatabaseUnavailableError, unavailable),
    (Exception, unexpected),
):
    app.exception_handler(_error)(_handler)


def _request_id() -> str | None:
    context = app.lambda_context
    return getattr(context, "aws_request_id", None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@db.handler
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Entry point (``app.lambda_handler``); an event API Gateway would never send is a 400 naming the field."""
    try:
        event_shapes.check_http_api_event(event)
    except InvalidInputError as error:  # the router cannot even read it: answer here, in the same shape
        logger.warning("not an HTTP API event", extra={"error": str(error)})
        response = invalid_input(error)
        return {"statusCode": response.status_code, "headers": response.headers, "body": response.body}
    return app.resolve(event, context)
