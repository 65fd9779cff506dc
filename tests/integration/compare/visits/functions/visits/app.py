"""Page visits: ``POST /pages/{page}/visits`` records one visitor (unique) and counts it, ``GET /pages/{page}`` reads.

Deliberately not the items function: no Powertools resolver, its own tables (``setup.sql``), a unique key that
collides unless each invocation sends a fresh visitor (the ``{{unique}}`` placeholder in ``events/visit.json``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lambda_db import DatabaseUnavailableError, get_database

db = get_database()


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body),
    }


def _visit(page: int, visitor: str) -> int:
    def work(session: Session) -> int:
        session.execute(
            text("INSERT INTO visits (page, visitor) VALUES (:page, :visitor)"), {"page": page, "visitor": visitor}
        )
        count = session.execute(
            text("UPDATE pages SET visits = visits + 1 WHERE page = :page RETURNING visits"), {"page": page}
        ).scalar_one()
        return int(count)

    return db.run_transaction(work)


def _read(page: int) -> int | None:
    value = db.run_read(
        lambda conn: conn.execute(text("SELECT visits FROM pages WHERE page = :page"), {"page": page}).scalar()
    )
    return None if value is None else int(value)


@db.handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        page = int((event.get("pathParameters") or {})["page"])
    except (KeyError, TypeError, ValueError):
        return _answer(400, {"message": "page must be a whole number"})
    try:
        if event.get("routeKey") == "POST /pages/{page}/visits":
            visitor = str(json.loads(event.get("body") or "{}").get("visitor", ""))
            return _answer(201, {"page": page, "visits": _visit(page, visitor)})
        visits = _read(page)
        return (
            _answer(404, {"message": "no such page"})
            if visits is None
            else _answer(200, {"page": page, "visits": visits})
        )
    except IntegrityError:
        return _answer(409, {"message": "this visitor was counted already, or the page does not exist"})
    except DatabaseUnavailableError as exc:
        return _answer(503, {"message": "the database is busy; retry later"}, {"Retry-After": str(exc.retry_after_s)})
