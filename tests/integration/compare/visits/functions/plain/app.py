"""A function without the database layer: ``harness compare --function PlainFunction`` refuses it, saying why."""

from __future__ import annotations

from typing import Any


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": "{}"}
