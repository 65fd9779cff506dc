"""A real Postgres server for the lab and the tests, started by the project itself: the public face.

The pieces live along their seams: :mod:`harness.postgres_admin` (any server's addresses and administration, and a
server the user runs), :mod:`harness.postgres_server` (the lab's own server and its lifecycle),
:mod:`harness.postgres_binaries` (the build it runs), :mod:`harness.postgres_log` (reading its log) and
:mod:`harness.postgres_net` (ports). This module names what callers use and picks a server from the environment.

Example
-------
>>> with EmbeddedPostgres(max_connections=20) as pg:
...     pg.create_role("app", "secret")
...     url = pg.url(user="app", password="secret")
"""

from __future__ import annotations

import os
from typing import Any

from harness.postgres_admin import ExternalPostgres, PostgresError, PostgresServer
from harness.postgres_net import find_free_port, wait_for_port
from harness.postgres_server import EmbeddedPostgres, unprivileged_user

__all__ = [
    "EmbeddedPostgres",
    "ExternalPostgres",
    "PostgresError",
    "PostgresServer",
    "find_free_port",
    "server_from_env",
    "unprivileged_user",
    "wait_for_port",
]


def server_from_env(**embedded_options: Any) -> PostgresServer:
    """``DATABASE_URL`` when set (the user's own server), else a new embedded server (not yet started)."""
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        return ExternalPostgres(database_url)
    return EmbeddedPostgres(**embedded_options)
