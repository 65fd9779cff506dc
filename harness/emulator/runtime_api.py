"""The Lambda Runtime API of one execution environment, as awslambdaric calls it.

Routes (all under ``/2018-06-01/runtime``): ``GET /invocation/next`` (answered only when an event arrives),
``POST /invocation/{id}/response``, ``POST /invocation/{id}/error`` and ``POST /init/error``. What each means for
the environment is decided in :class:`~harness.emulator.environment.Environment`; this module only routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.emulator.http_server import HttpConnection, HttpRequest

if TYPE_CHECKING:
    from harness.emulator.environment import Environment

__all__ = ["RuntimeApi"]

PREFIX = "/2018-06-01/runtime"
_JSON = {"Content-Type": "application/json"}


class RuntimeApi:
    """Routes one environment's Runtime API requests to that environment."""

    def __init__(self, environment: Environment) -> None:
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
                error = (
                    request.headers.get("lambda-runtime-function-error-type", "Unhandled") if kind == "error" else None
                )
                # Lambda reports every handler exception as "Unhandled" to the caller, whatever the runtime's type.
                accepted = self._env.on_result(request_id, request.body, "Unhandled" if error else None)
                if accepted:
                    conn.respond(202, b'{"status": "OK"}', _JSON)
                else:
                    conn.respond(400, b'{"errorMessage": "unknown request id", "errorType": "InvalidRequestID"}', _JSON)
                return
        conn.respond(404, b'{"errorMessage": "unknown path", "errorType": "InvalidPath"}', _JSON)
