"""The requests a run sends: a weighted mix of events (the comparison's ``--event FILE:WEIGHT``), and the API
Gateway HTTP API (payload 2.0) event builder the fault runs use.

Every request goes through the real handler, the real layer and the real database, so what differs between
strategies is only how connections are handled.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Workload", "http_event"]


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    route_key: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) proxy event, shaped like ``sam local generate-event apigateway http-api-proxy``."""
    now = time.time()
    all_headers = {"content-type": "application/json", "user-agent": "serverless-sqlalchemy-lab", **(headers or {})}
    return {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": all_headers,
        "queryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": all_headers["user-agent"],
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


class Workload:
    """A weighted mix of events: each request is one of them, picked by weight and filled afresh by ``fill``.

    Parameters
    ----------
    events:
        ``(event, weight)`` pairs; an event is picked with probability weight / total.
    fill:
        Turns the picked event into the one sent (fills its placeholders); the identity when None.
    seed:
        Seed of the pick, so two strategies get the same sequence of requests.
    """

    def __init__(
        self,
        events: Sequence[tuple[Any, float]],
        *,
        fill: Callable[[Any], Any] | None = None,
        seed: int = 7,
    ) -> None:
        if not events:
            raise ValueError("a workload needs at least one event")
        if any(weight <= 0 for _, weight in events):
            raise ValueError(f"every weight must be greater than 0, got {[weight for _, weight in events]}")
        self.events = [event for event, _ in events]
        self.weights = list(itertools.accumulate(weight for _, weight in events))
        self._fill = fill or (lambda event: event)
        self._random = random.Random(seed)  # noqa: S311 - a request mix, not a secret
        self._lock = threading.Lock()

    def next_event(self, client: int, number: int) -> Any:
        """The event of ``client``'s ``number``-th request (thread-safe: clients share one sequence)."""
        with self._lock:
            (event,) = self._random.choices(self.events, cum_weights=self.weights)
        return self._fill(event)
