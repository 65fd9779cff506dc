"""Lambda's Invoke API over HTTP, so boto3's ``lambda`` client (``endpoint_url=``) can call the emulator.

``POST /2015-03-31/functions/{name}/invocations`` with ``X-Amz-Invocation-Type`` ``RequestResponse`` (default),
``Event`` (202, run in the background) or ``DryRun`` (204); ``X-Amz-Log-Type: Tail`` returns the log tail in
``X-Amz-Log-Result``; a function error sets ``X-Amz-Function-Error: Unhandled``. Errors carry Lambda's
``x-amzn-ErrorType`` header and JSON body, which botocore turns into ``client.exceptions.<Type>``.
``GET /_emulator/environments`` lists the environments as JSON (the live view's data).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import uuid
from urllib.parse import unquote

from harness.emulator.errors import EmulatorError, InvalidRequestContentError, RequestTooLargeError
from harness.emulator.http_server import HttpConnection, HttpRequest, serve
from harness.emulator.pool import LOG_TAIL_BYTES, MAX_SYNC_PAYLOAD, Pool

__all__ = ["MAX_EVENT_PAYLOAD", "MAX_SYNC_PAYLOAD", "serve_invoke_api"]

MAX_EVENT_PAYLOAD = 1024 * 1024  # and for Event payloads
_PREFIX = "/2015-03-31/functions/"
_SUFFIX = "/invocations"
_log = logging.getLogger(__name__)


class InvokeApi:
    """Routes Invoke API requests to the pool; one instance per server."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._tasks: set[asyncio.Task[None]] = set()

    def handle(self, request: HttpRequest, conn: HttpConnection) -> None:
        if request.method == "GET" and request.path == "/_emulator/environments":
            body = json.dumps([info.as_dict() for info in self._pool.environments()]).encode()
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
        self._pool.resolve(name)  # 404 before looking at the payload, as Lambda does
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        limit = MAX_EVENT_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
        if request.too_large or len(request.body) > limit:
            raise RequestTooLargeError(f"Request must be smaller than {limit} bytes for the InvokeFunction operation")
        payload = request.body or b"{}"
        try:
            json.loads(payload)
        except ValueError as exc:
            raise InvalidRequestContentError(f"Could not parse request body into json: {exc}") from exc
        if kind == "DryRun":
            return 204, b"", {}
        if kind == "Event":
            self._pool.submit_event(name, payload)
            return 202, b"", {}
        if kind != "RequestResponse":
            raise InvalidRequestContentError(f"X-Amz-Invocation-Type {kind!r}: use RequestResponse, Event or DryRun")
        result = await self._pool.invoke(
            name,
            payload,
            log_tail=request.headers.get("x-amz-log-type", "None") == "Tail",
            client_context=_client_context(request.headers.get("x-amz-client-context")),
        )
        headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"}
        headers["x-amzn-RequestId"] = result.request_id
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if result.log_tail is not None:
            headers["X-Amz-Log-Result"] = encode_tail(result.log_tail)
        return 200, result.raw_payload, headers


def encode_tail(tail: str) -> str:
    """Lambda's ``X-Amz-Log-Result``: the last 4 KB of the invocation's log, base64."""
    return base64.b64encode(tail.encode()[-LOG_TAIL_BYTES:]).decode()


def _client_context(header: str | None) -> str | None:
    """``X-Amz-Client-Context`` is base64 JSON; the runtime receives it decoded."""
    if not header:
        return None
    try:
        decoded = base64.b64decode(header, validate=True).decode()
        json.loads(decoded)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestContentError("X-Amz-Client-Context must be base64-encoded JSON") from exc
    return decoded


async def serve_invoke_api(pool: Pool, host: str, port: int) -> asyncio.Server:
    return await serve(InvokeApi(pool).handle, host, port, max_body=MAX_SYNC_PAYLOAD)
