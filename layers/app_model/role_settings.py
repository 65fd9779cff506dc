"""Server-side settings the migration gives the role the functions connect as, in their database only.

``idle_session_timeout``: Lambda freezes an execution environment between invocations and reclaims it without
running any code, so the connection a warm environment held stays open on the server, idle, until something
closes it. Left alone, those zombies fill ``max_connections`` after a burst. With the timeout the server closes
them itself; an environment that thaws after the timeout finds its connection closed and the layer's idle check
replaces it before the handler runs (no failed request: tested in the lab's ``freeze_thaw`` scenario).

The setting is per role *in this database* (``ALTER ROLE CURRENT_USER IN DATABASE ...``), which any role may set
for itself; it takes effect for sessions that start afterwards. It never touches other roles or databases, and 0
removes it again (``RESET``), leaving the server's own value.

Example
-------
>>> with engine.begin() as connection:
...     apply_role_settings(connection, idle_session_timeout_s=300)
{'idle_session_timeout': '300s'}
"""

from __future__ import annotations

from sqlalchemy import Connection, text

__all__ = ["SERVER_DEFAULT", "apply_role_settings", "role_settings"]

SERVER_DEFAULT = "server default"  # what a reset setting reports: the role no longer overrides the server


def apply_role_settings(connection: Connection, *, idle_session_timeout_s: int) -> dict[str, str]:
    """Set (or, with 0, reset) ``idle_session_timeout`` for the connected role in the connected database.

    Runs in the caller's transaction; the caller commits. A role that already has the value is left alone (the
    migration runs on every deploy). Returns what the role now has, for the log.
    """
    if isinstance(idle_session_timeout_s, bool) or not isinstance(idle_session_timeout_s, int):
        raise TypeError(f"idle_session_timeout_s must be an int, got {idle_session_timeout_s!r}")
    if idle_session_timeout_s < 0:
        raise ValueError(f"idle_session_timeout_s must be 0 (reset) or positive, got {idle_session_timeout_s}")
    wanted = f"{idle_session_timeout_s}s" if idle_session_timeout_s else SERVER_DEFAULT
    current = role_settings(connection)
    if current["idle_session_timeout"] == wanted:
        # Already so: no catalog write on every run, and no "tuple concurrently updated" when two runs overlap
        return current
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    # ALTER ROLE takes no bind parameters: the database name is quoted as an identifier, the value is an int.
    target = f"ALTER ROLE CURRENT_USER IN DATABASE {connection.dialect.identifier_preparer.quote(database)}"
    if idle_session_timeout_s:
        connection.execute(text(f"{target} SET idle_session_timeout = '{idle_session_timeout_s}s'"))
    else:
        connection.execute(text(f"{target} RESET idle_session_timeout"))
    return role_settings(connection)


def role_settings(connection: Connection) -> dict[str, str]:
    """The settings this module manages, as the role has them in this database (``server default`` when unset)."""
    rows = connection.execute(
        text(
            "SELECT unnest(setconfig) FROM pg_db_role_setting "
            "WHERE setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user) "
            "AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    ).scalars()
    settings = dict(entry.split("=", 1) for entry in rows)
    return {"idle_session_timeout": settings.get("idle_session_timeout", SERVER_DEFAULT)}
