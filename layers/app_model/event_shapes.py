"""The shapes of the events the functions accept, checked before Powertools reads them.

The router and the batch processor assume AWS built the event: a direct invoke with a list, a REST API (1.0)
event to the HTTP API function, or a ``body`` that is a number makes them fail deep inside with a ``KeyError``
or an ``UnexpectedBatchTypeError``. Checking the few fields they read turns each into an error naming the field.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from app_model.errors import InvalidInputError

__all__ = ["check_http_api_event", "check_sqs_batch", "decode_body"]

_STRING_MAPS = ("headers", "queryStringParameters", "pathParameters", "stageVariables")


def check_http_api_event(event: Any) -> None:
    """Raise :class:`InvalidInputError` naming the first field that API Gateway would never send like this."""
    if not isinstance(event, dict):
        raise InvalidInputError("event", f"must be an API Gateway HTTP API event (a JSON object), got {_kind(event)}")
    if "httpMethod" in event and "rawPath" not in event:
        raise InvalidInputError(
            "event", "is a REST API (payload format 1.0) event; this function serves HTTP API payload format 2.0"
        )
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    if not isinstance(http, dict) or not isinstance(http.get("method"), str):
        raise InvalidInputError("event.requestContext.http.method", "is missing: not an API Gateway HTTP API event")
    if not isinstance(event.get("rawPath"), str):
        raise InvalidInputError("event.rawPath", "is missing or not a string: not an API Gateway HTTP API event")
    for name in _STRING_MAPS:
        value = event.get(name)
        if value is not None and not (
            isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            raise InvalidInputError(f"event.{name}", f"must be an object of strings, got {_kind(value)}")
    if event.get("body") is not None and not isinstance(event["body"], str):
        raise InvalidInputError("event.body", f"must be a string, got {_kind(event['body'])}")
    encoded = event.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise InvalidInputError("event.isBase64Encoded", f"must be true or false, got {_kind(encoded)}")


def check_sqs_batch(event: Any) -> None:
    """Raise :class:`InvalidInputError` unless ``event`` is an SQS batch: ``{"Records": [{...}, ...]}``.

    A record without a ``messageId`` refuses the batch (its failure could not be reported); any other malformed
    record is not refused here: it fails alone, reported in ``batchItemFailures``.
    """
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records or not all(isinstance(record, dict) for record in records):
        raise InvalidInputError(
            "event",
            f'must be an SQS batch, {{"Records": [{{"messageId": ..., "body": ...}}, ...]}}; got {_kind(event)}',
        )
    for index, record in enumerate(records):
        # Without its id a failed record cannot be reported, and the whole batch would fail with a KeyError.
        if not isinstance(record.get("messageId"), str) or not record["messageId"]:
            raise InvalidInputError(f"event.Records[{index}].messageId", "is missing; every SQS record has one")


def decode_body(body: str | None, is_base64_encoded: bool) -> str | None:
    """The request body as text; a body that is not UTF-8 text is the client's error (400).

    API Gateway base64-encodes a body it cannot pass as text, so bytes that are not UTF-8 arrive here as base64:
    the client sent them, and the message says what it did wrong. Invalid base64 can only come from a direct
    invoke, and names the event field.
    """
    if not body or not is_base64_encoded:
        return body
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError("event.body", "isBase64Encoded is true but the body is not base64") from exc
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        problem = f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        raise InvalidInputError("body", f"{problem}; send the JSON body encoded as UTF-8") from exc


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
