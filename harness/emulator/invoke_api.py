"""Lambda's Invoke API over HTTP, so boto3's ``lambda`` client (``endpoint_url=``) can call the emulator.

``POST /2015-03-31/functions/{name}/invocations`` with ``X-Amz-Invocation-Type`` ``RequestResponse`` (default),
``Event`` (202, run in the background) or ``DryRun`` (204); ``X-Amz-Log-Type: Tail`` returns the log tail in
``X-Amz-Log-Result``; a function error sets ``X-Amz-Function-Error: Unhandled``. Errors carry Lambda's
``x-amzn-ErrorType`` header and JSON body, which botocore turns into ``client.exceptions.<Type>``.
``GET /_emulator/environments`` is the live view's data as JSON: ``{"environments": [...], "event_sources": {"sqs":
[per mapping figures], "schedules": [...]}}``.

Refused as Lambda refuses them (Invoke in the Lambda API reference: ``InvocationType`` is one of ``Event``,
``RequestResponse``, ``DryRun`` and ``LogType`` one of ``None``, ``Tail``; a value outside a service model's enum is
AWS's ``ValidationException``, 400, "1 validation error detected: ..."): a payload that is not strict JSON
(``NaN``, ``Infinity``, nesting past the parser's depth) is ``InvalidRequestContentException`` 400, and an ARN of
another account is ``AccessDeniedException`` 403 (IAM's answer when no resource-based policy lets this caller in).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from harness.emulator.errors import (
    AccessDeniedError,
    EmulatorError,
    InvalidRequestContentError,
    RequestTooLargeError,
    ValidationError,
)
from harness.emulator.http_server import HttpConnection, HttpRequest, serve
from harness.emulator.lambda_env import ACCOUNT_ID
from harness.emulator.pool import LOG_TAIL_BYTES, MAX_SYNC_PAYLOAD, Pool
from harness.emulator.strict_json import check_json

__all__ = ["MAX_EVENT_PAYLOAD", "MAX_SYNC_PAYLOAD", "serve_invoke_api"]

MAX_EVENT_PAYLOAD = 1024 * 1024  # and for Event payloads
_PREFIX = "/2015-03-31/functions/"
_SUFFIX = "/invocations"
INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")
LOG_TYPES = ("Tail", "None")
_log = logging.getLogger(__name__)


class InvokeApi:
    """Routes Invoke API requests to the pool; one instance per server."""

    def __init__(self, pool: Pool, event_sources: Callable[[], dict[str, Any]] | None = None) -> None:
        self._pool = pool
        self._event_sources = event_sources or (lambda: {"sqs": [], "schedules": []})
        self._tasks: set[asyncio.Task[None]] = set()

    def handle(self, request: HttpRequest, conn: HttpConnection) -> None:
        if request.method == "GET" and request.path == "/_emulator/environments":
            environments = [info.as_dict() for info in self._pool.environments()]
            body = json.dumps({"environments": environments, "event_sources": self._event_sources()}).encode()
            conn.respond(200, body, {"Content-Type": "application/json"})
            return
        if request.method != "POST" or not (request.path.startswith(_PREFIX) and request.path.endswith(_SUFFIX)):
            error = {"Type": "User", "message": f"no such operation: {request.method} {request.path}"}
            conn.respond(404, json.dumps(error).encode(), {"x-amzn-ErrorType": "UnknownOperationException"})
            return
        task = asyncio.get_running_loop().create_task(self._invoke(request, conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _invoke(self, request: HttpRequest, conn: HttpConnection) -> None:
        request_id = str(uuid.uuid4())
        try:
            status, body, headers = await self._run(request)
        except EmulatorError as exc:
            status, body = exc.status, json.dumps(exc.body()).encode()
            headers = {"x-amzn-ErrorType": exc.error_type, "Content-Type": "application/json"}
        except Exception:  # noqa: BLE001 - the emulator must answer, not die; the detail goes to its log
            _log.exception("invoke failed")
            status, body = 500, b'{"Type": "Service", "message": "internal error in the local emulator"}'
            headers = {"x-amzn-ErrorType": "ServiceException", "Content-Type": "application/json"}
        headers.setdefault("x-amzn-RequestId", request_id)
        conn.respond(status, body, headers)

    async def _run(self, request: HttpRequest) -> tuple[int, bytes, dict[str, str]]:
        name = unquote(request.path[len(_PREFIX) : -len(_SUFFIX)])
        qualifier = next((part[10:] for part in request.query.split("&") if part.startswith("Qualifier=")), "")
        if qualifier and qualifier != "$LATEST" and qualifier != "%24LATEST":
            name = f"{name}:{qualifier}"
        # the request's parameters first, then the function (404), then the payload, as Lambda does
        kind = _enum(
            request.headers.get("x-amz-invocation-type", "RequestResponse"), "invocationType", INVOCATION_TYPES
        )
        log_type = _enum(request.headers.get("x-amz-log-type", "None"), "logType", LOG_TYPES)
        _check_account(name)
        function = self._pool.resolve(name)
        limit = MAX_EVENT_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
        if request.too_large or len(request.body) > limit:
            raise RequestTooLargeError(f"Request must be smaller than {limit} bytes for the InvokeFunction operation")
        payload = request.body or b"{}"
        check_json(payload)
        if kind == "DryRun":
            return 204, b"", {}
        if kind == "Event":
            self._pool.submit_event(function, payload)
            return 202, b"", {}
        result = await self._pool.invoke(
            function,
            payload,
            log_tail=log_type == "Tail",
            client_context=_client_context(request.headers.get("x-amz-client-context")),
        )
        headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"}
        headers["x-amzn-RequestId"] = result.request_id
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if result.log_tail is not None:
            headers["X-Amz-Log-Result"] = encode_tail(result.log_tail)
        return 200, result.raw_payload, headers


def _enum(value: str, member: str, allowed: tuple[str, ...]) -> str:
    """``value`` when the API model allows it; AWS's ValidationException, worded as AWS words it, when not."""
    if value not in allowed:
        raise ValidationError(
            f"1 validation error detected: Value '{value[:100]}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return value


def _check_account(name: str) -> None:
    """An ARN (``arn:aws:lambda:REGION:ACCOUNT:function:NAME``) or partial ARN (``ACCOUNT:function:NAME``) must name
    the emulator's account; another account's function is not this caller's to invoke."""
    parts = name.split(":")
    if parts[0] == "arn" and len(parts) >= 7:
        account = parts[4]
    elif len(parts) >= 3 and parts[1] == "function":
        account = parts[0]
    else:
        return
    if account != ACCOUNT_ID:
        raise AccessDeniedError(
            f"User: arn:aws:iam::{ACCOUNT_ID}:user/local is not authorized to perform: lambda:InvokeFunction on "
            f"resource: {name[:200]} because no resource-based policy allows the lambda:InvokeFunction action"
        )


def encode_tail(tail: str) -> str:
    """Lambda's ``X-Amz-Log-Result``: the last 4 KB of the invocation's log, base64."""
    return base64.b64encode(tail.encode()[-LOG_TAIL_BYTES:]).decode()


def _client_context(header: str | None) -> str | None:
    """``X-Amz-Client-Context`` is base64 JSON; the runtime receives it decoded."""
    if not header:
        return None
    try:
        decoded = base64.b64decode(header, validate=True).decode()
        check_json(decoded)
    except (ValueError, InvalidRequestContentError) as exc:  # binascii.Error, UnicodeDecodeError: ValueErrors too
        raise InvalidRequestContentError("X-Amz-Client-Context must be base64-encoded JSON") from exc
    return decoded


async def serve_invoke_api(
    pool: Pool, host: str, port: int, *, event_sources: Callable[[], dict[str, Any]] | None = None
) -> asyncio.Server:
    handle = InvokeApi(pool, event_sources).handle
    return await serve(handle, host, port, max_body=MAX_SYNC_PAYLOAD, client_limits=True)
