"""The pitfall tests run each pitfall through the same runner as ``harness pitfalls``, on the session's server."""

from __future__ import annotations

import pytest

from harness.pitfalls.base import Lab
from harness.postgres import PostgresServer
from tests.conftest import APP_PASSWORD, APP_ROLE


@pytest.fixture
def shared(postgres: PostgresServer) -> Lab:
    """Where the pitfalls without server settings of their own get their fresh databases."""
    return Lab(server=postgres, database="postgres", user=APP_ROLE, password=APP_PASSWORD)
