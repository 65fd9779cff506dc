"""Lambda handlers for the pitfalls that need real execution environments (2, 5's freeze case, 7).

The local Lambda runs this directory as a function's CodeUri, one process per execution environment, with the
layer on ``PYTHONPATH`` as ``/opt/python``. Each handler runs ``SELECT pg_backend_pid(), pg_sleep(hold_s)`` and
returns the backend pid, so the lab can tell which connection served which invocation.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa

from lambda_db import get_database

QUERY = sa.text("SELECT pg_backend_pid() AS pid, pg_sleep(:hold_s)")
URL = os.environ["PITFALL_URL"]  # the application's URL, tagged with its application_name

db = get_database()  # GOOD: module scope, built once per environment (DATABASE_URL, DB_* variables)
_stale_engine: sa.Engine | None = None


def _hold(event: dict[str, Any]) -> dict[str, float]:
    return {"hold_s": float(event.get("hold_s", 0))}


def connection_per_request(event: dict[str, Any], context: Any) -> dict[str, int]:
    """BAD (pitfall 2): a new engine, hence a new server connection, for every request; tidy, but unbounded."""
    engine = sa.create_engine(URL)
    try:
        with engine.connect() as conn:
            return {"backend_pid": int(conn.execute(QUERY, _hold(event)).scalar_one())}
    finally:
        engine.dispose()


def engine_in_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """BAD (pitfall 7): the serverless "common mistake": an engine per invocation, never disposed."""
    engine = sa.create_engine(URL)
    with engine.connect() as conn:
        return {"backend_pid": int(conn.execute(QUERY, _hold(event)).scalar_one())}


def unpinged_module_engine(event: dict[str, Any], context: Any) -> dict[str, int]:
    """BAD (pitfall 5): the engine is reused, but a connection that died while frozen is handed out unchecked."""
    global _stale_engine
    if _stale_engine is None:
        _stale_engine = sa.create_engine(URL, pool_size=1, max_overflow=0)
    with _stale_engine.connect() as conn:
        return {"backend_pid": int(conn.execute(QUERY, _hold(event)).scalar_one())}


@db.handler
def reused_engine(event: dict[str, Any], context: Any) -> dict[str, int]:
    """GOOD: the layer's engine, built once per environment; one connection, pinged after an idle gap."""
    with db.read() as conn:
        return {"backend_pid": int(conn.execute(QUERY, _hold(event)).scalar_one())}
