"""What /health shows about the server side: this environment's backends in ``pg_stat_activity``, by state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["server_connections"]

BY_STATE = text(
    "SELECT application_name = :name AS mine, coalesce(state, 'unknown'), count(*) "
    "FROM pg_stat_activity WHERE backend_type = 'client backend' "
    "AND starts_with(application_name, :prefix) GROUP BY 1, 2"
)


def server_connections(conn: Connection, application_name: str) -> dict[str, Any]:
    """The backends named ``application_name`` (this environment) by state, and the function's (same prefix) count."""
    prefix = application_name.split(":", 1)[0] + ":"
    rows = conn.execute(BY_STATE, {"name": application_name, "prefix": prefix}).all()
    by_state = {str(state): int(count) for mine, state, count in rows if mine}
    return {
        "application_name": application_name,
        "count": sum(by_state.values()),
        "by_state": by_state,
        "function_count": sum(int(count) for _, _, count in rows),
    }
