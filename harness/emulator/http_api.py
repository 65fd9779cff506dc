"""The template's ``HttpApi``/``Api`` routes served over HTTP, as ``sam local start-api`` does, but concurrently.

Each request becomes a proxy event (see :mod:`harness.emulator.apigw`) for the function behind the route; the
function's response is mapped back. A throttled invocation answers 500 (API Gateway's answer to a Lambda throttle:
its own 429 is for the API's stage and route limits), a function error or an unusable response 502, an unknown route
404. The request line and headers are capped at 10,240 bytes, as HTTP APIs cap them (431 beyond).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence

from harness.emulator import apigw
from harness.emulator.errors import TooManyRequestsError
from harness.emulator.http_server import HttpConnection, HttpRequest, serve
from harness.emulator.pool import Pool
from harness.emulator.spec import Route

__all__ = ["MAX_API_PAYLOAD", "serve_http_api"]

MAX_API_PAYLOAD = 10 * 1024 * 1024  # API Gateway's request limit
_log = logging.getLogger(__name__)


class HttpApi:
    """Routes HTTP requests to functions; one instance per server."""

    def __init__(self, pool: Pool, routes: Sequence[Route]) -> None:
        self._pool = pool
        self._routes = list(routes)
        self._tasks: set[asyncio.Task[None]] = set()

    def handle(self, request: HttpRequest, conn: HttpConnection) -> None:
        if request.too_large:
            conn.respond(413, b'{"message": "Request Entity Too Large"}', {"Content-Type": "application/json"})
            return
        matched = apigw.match_route(self._routes, request.method, request.path)
        if matched is None:
            _send(conn, apigw.not_found())
            return
        task = asyncio.get_running_loop().create_task(self._invoke(matched, request, conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _invoke(self, matched: apigw.MatchedRoute, request: HttpRequest, conn: HttpConnection) -> None:
        peer = conn.transport.get_extra_info("peername") if conn.transport is not None else None
        source_ip = peer[0] if peer else "127.0.0.1"
        try:
            event = apigw.build_event(
                matched,
                request.method,
                request.path,
                request.query,
                request.headers,
                request.body,
                source_ip,
                request.header_list,
            )
            result = await self._pool.invoke(matched.route.function, json.dumps(event).encode())
        except TooManyRequestsError:
            _send(conn, apigw.throttled(matched.route.payload_version))
            return
        except Exception:  # noqa: BLE001 - answer 502 as API Gateway would, keep serving, log the detail
            _log.exception("invoking %s failed", matched.route.function)
            _send(conn, apigw.function_error_response())
            return
        if result.function_error:
            _send(conn, apigw.function_error_response())
            return
        _send(conn, apigw.map_response(result.payload, matched.route.payload_version))


def _send(conn: HttpConnection, response: apigw.ApiResponse) -> None:
    conn.respond(response.status, response.body, response.headers)


async def serve_http_api(pool: Pool, routes: Sequence[Route], host: str, port: int) -> asyncio.Server:
    return await serve(HttpApi(pool, routes).handle, host, port, max_body=MAX_API_PAYLOAD, client_limits=True)
