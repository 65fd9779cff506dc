"""The Lambda Runtime API of one execution environment, as awslambdaric calls it.

Routes (all under ``/2018-06-01/runtime``): ``GET /invocation/next`` (answered only when an event arrives),
``POST /invocation/{id}/response``, ``POST /invocation/{id}/error`` and ``POST /init/error``. What each means for
the environment is decided by the environment (:class:`Conversation`, which
:class:`~harness.emulator.environment.Environment` is); this module only routes and imports no environment.
"""

from __future__ import annotations

import asyncio
import json
from typing import Protocol

from harness.emulator.http_server import HttpConnection, HttpRequest

__all__ = ["Conversation", "RuntimeApi"]

PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100  # Lambda's synchronous response limit, as its error message states it
_JSON = {"Content-Type": "application/json"}


def _too_large(request: HttpRequest) -> bytes:
    size = request.headers.get("content-length", str(len(request.body)))
    limit = MAX_RESPONSE_BYTES
    message = f"Response payload size ({size} bytes) exceeded maximum allowed payload size ({limit} bytes)."
    return json.dumps({"errorMessage": message, "errorType": "Function.ResponseSizeTooLarge"}).encode()


class Conversation(Protocol):
    """What the runtime says to its environment: waiting for an event, an answer, or a failed init."""

    def on_next(self, conn: HttpConnection) -> None: ...
    def on_result(self, request_id: str, body: bytes, function_error: str | None) -> bool: ...
    def on_init_error(self, body: bytes) -> None: ...


class RuntimeApi:
    """Routes one environment's Runtime API requests to that environment."""

    def __init__(self, environment: Conversation) -> None:
        self._env = environment

    def handle(self, request: HttpRequest, conn: HttpConnection) -> None:
        path = request.path
        if not path.startswith(PREFIX):
            conn.respond(404, b'{"errorMessage": "unknown path", "errorType": "InvalidPath"}', _JSON)
            return
        route = path[len(PREFIX) :]
        if request.method == "GET" and route == "/invocation/next":
            self._env.on_next(conn)  # answered by Environment._deliver when an event arrives
            return
        if request.method == "POST" and route == "/init/error":
            self._env.on_init_error(request.body)
            conn.respond(202, b'{"status": "OK"}', _JSON)
            return
        if request.method == "POST" and route.startswith("/invocation/"):
            request_id, _, kind = route[len("/invocation/") :].partition("/")
            if kind in ("response", "error"):
                body, error = request.body, kind == "error"
                if kind == "response" and (request.too_large or len(body) > MAX_RESPONSE_BYTES):
                    body, error = _too_large(request), True
                # Lambda reports every handler exception as "Unhandled" to the caller, whatever the runtime's type.
                accepted = self._env.on_result(request_id, body, "Unhandled" if error else None)
                if accepted:
                    # After the caller's answer (on_result woke the invoke waiting for it; that runs first): the 202
                    # only lets the runtime ask for its next event, so it is not on the caller's path.
                    asyncio.get_running_loop().call_soon(conn.respond, 202, b'{"status": "OK"}', _JSON)
                else:
                    conn.respond(400, b'{"errorMessage": "unknown request id", "errorType": "InvalidRequestID"}', _JSON)
                return
        conn.respond(404, b'{"errorMessage": "unknown path", "errorType": "InvalidPath"}', _JSON)
