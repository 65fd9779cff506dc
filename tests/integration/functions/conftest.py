"""Fixtures for invoking the SAM functions in-process, with the repository's event files, on a real Postgres.

Each test gets a fresh database (migrated), a fresh ``Database`` (the layer caches one per process, so the cache is
emptied) and a freshly imported ``app`` module, exactly as a new execution environment would.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import create_engine

from app_model import migrate
from harness.kit.lambda_context import LambdaContext
from lambda_db import reset_databases
from tests.conftest import TestDatabase

REPO = Path(__file__).resolve().parents[3]
EVENTS = REPO / "events"


def load_event(name: str) -> dict[str, Any]:
    """``events/<name>.json``, the file ``sam local invoke -e`` would send."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


@dataclass
class Function:
    """A function's freshly imported ``app`` module and a way to invoke it like the runtime does."""

    module: ModuleType
    application_name: str

    def invoke(self, event: dict[str, Any] | str) -> Any:
        payload = load_event(event) if isinstance(event, str) else event
        name = self.module.__name__.split(".")[0].title() + "Function"  # items.app -> ItemsFunction
        return self.module.lambda_handler(payload, LambdaContext(function_name=name))


def set_database_env(monkeypatch: pytest.MonkeyPatch, url: str, pool_mode: str, application_name: str) -> None:
    """The variables the template sets, pointed at the test database."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DB_SECRET_ARN", "")
    monkeypatch.setenv("DB_POOL_MODE", pool_mode)
    monkeypatch.setenv("DB_APPLICATION_NAME", application_name)
    monkeypatch.setenv("DB_SIGTERM_DISPOSE", "false")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "serverless-sqlalchemy-test")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ServerlessSqlalchemyTest")


def import_fresh(module_name: str) -> ModuleType:
    """Import ``module_name`` anew, as a cold start does (module scope runs again)."""
    sys.modules.pop(module_name, None)
    return importlib.import_module(module_name)


@pytest.fixture
def migrated(database: TestDatabase) -> TestDatabase:
    """The test's database with the application's schema."""
    engine = create_engine(database.url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return database


@pytest.fixture
def load_function(monkeypatch: pytest.MonkeyPatch, migrated: TestDatabase) -> Iterator[Callable[..., Function]]:
    """``load_function("items", pool_mode="single")``: the function's ``app`` on the test's migrated database."""
    loaded: list[Function] = []

    def load(name: str, *, pool_mode: str = "single", url: str | None = None) -> Function:
        reset_databases()  # a new execution environment: no Database cached from an earlier load or test
        application_name = f"{name}:{uuid.uuid4().hex[:8]}"
        set_database_env(monkeypatch, url or migrated.url, pool_mode, application_name)
        function = Function(import_fresh(f"{name}.app"), application_name)
        loaded.append(function)
        return function

    yield load
    for function in loaded:
        function.module.db.dispose()
    reset_databases()  # nothing cached for a database this test's teardown drops


def count_rows(database: TestDatabase, table: str) -> int:
    """Rows in ``table``, counted by the superuser outside the functions' connections."""
    return int(database.server.execute(f"SELECT count(*) FROM {table}", database=database.name)[0][0])


def blocked_transactions(database: TestDatabase, *, at_least: int = 1) -> int:
    """Transactions waiting on another's row lock, polled until ``at_least`` show up (or 4 s pass)."""
    waiting = 0
    for _ in range(200):
        waiting = int(
            database.server.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'",
                database=database.name,
            )[0][0]
        )
        if waiting >= at_least:
            break
        time.sleep(0.02)
    return waiting
