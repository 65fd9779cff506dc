"""The requests the comparison sends: API Gateway HTTP API (payload 2.0) events for the items function.

A realistic Lambda API mixes reads and writes; both go through the real handler, the real layer and the real
database, so what differs between strategies is only how connections are handled.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["SEED_ITEMS", "Workload", "http_event", "seed_items"]

SEED_ITEMS = 20


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
    """A read-mostly mix over the items API: ``read_ratio`` of requests fetch a seeded item by id, the rest create one.

    Parameters
    ----------
    item_ids:
        Ids of rows seeded before the run (reads pick among them).
    read_ratio:
        Fraction of requests that are reads, between 0 and 1.
    seed:
        Seed of the random choice, so two strategies get the same sequence of requests.
    """

    def __init__(self, item_ids: list[str], *, read_ratio: float = 0.8, seed: int = 7) -> None:
        if not 0.0 <= read_ratio <= 1.0:
            raise ValueError(f"read_ratio must be between 0 and 1, got {read_ratio}")
        if read_ratio > 0 and not item_ids:
            raise ValueError("reads need at least one seeded item id")
        self.item_ids = item_ids
        self.read_ratio = read_ratio
        self._random = random.Random(seed)  # noqa: S311 - a request mix, not a secret

    def next_event(self, client: int, number: int) -> dict[str, Any]:
        if self._random.random() < self.read_ratio:
            item_id = self._random.choice(self.item_ids)
            return http_event("GET", f"/items/{item_id}", path_parameters={"id": item_id}, route_key="GET /items/{id}")
        return http_event(
            "POST",
            "/items",
            body={"name": f"client-{client}-{number}", "description": "written by the comparison", "quantity": number},
            headers={"idempotency-key": f"lab-{uuid.uuid4().hex}"},
            route_key="POST /items",
        )


def seed_items(invoke: Callable[[str, dict[str, Any]], Any], function: str, count: int = SEED_ITEMS) -> list[str]:
    """Create the rows reads will fetch, through the function itself (the schema stays the function's business)."""
    ids = []
    for number in range(count):
        response = invoke(
            function, http_event("POST", "/items", body={"name": f"seed-{number}"}, route_key="POST /items")
        ).payload
        if not isinstance(response, dict) or int(response.get("statusCode", 0)) >= 300:
            raise RuntimeError(f"seeding the items table through {function} failed: {str(response)[:300]}")
        ids.append(str(json.loads(response["body"])["id"]))
    return ids
