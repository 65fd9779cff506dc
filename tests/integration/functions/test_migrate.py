"""Schema migrations: idempotent, safe concurrently, the same through the handler and the custom resource."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from app_model import LATEST_VERSION, idempotency, migrate, migrations
from app_model.migrations import ADVISORY_LOCK_KEY, MIGRATIONS
from app_model.tables import Base
from lambda_db import DatabaseUnavailableError
from tests.conftest import TestDatabase
from tests.integration.functions.conftest import Function, load_event

VERSIONS = list(range(1, LATEST_VERSION + 1))


def test_migrate_twice_applies_once(database: TestDatabase) -> None:
    engine = create_engine(database.url)
    try:
        assert migrate(engine) == VERSIONS
        assert migrate(engine) == []
    finally:
        engine.dispose()
    ledger = database.server.execute("SELECT version FROM schema_migrations ORDER BY 1", database=database.name)
    assert [version for (version,) in ledger] == VERSIONS


def test_concurrent_migrations_apply_each_step_once(database: TestDatabase) -> None:
    runners = 4
    barrier = threading.Barrier(runners)
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        engine = create_engine(database.url)
        try:
            barrier.wait(timeout=30)
            applied.append(migrate(engine))
        except BaseException as error:
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(applied) == [[]] * (runners - 1) + [VERSIONS]


def test_the_migrations_create_what_the_orm_maps(database: TestDatabase) -> None:
    engine = create_engine(database.url)
    try:
        migrate(engine)
        inspector = inspect(engine)
        for table in Base.metadata.sorted_tables:
            in_database = {column["name"] for column in inspector.get_columns(table.name)}
            assert in_database == set(table.columns.keys()), table.name
            indexes = {index["name"] for index in inspector.get_indexes(table.name)}
            assert indexes == {index.name for index in table.indexes}, table.name
    finally:
        engine.dispose()


def test_the_key_expiry_step_applies_to_a_database_that_already_has_keys(
    database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a database the previous release migrated (steps 1 and 2), holding a key from 3 days ago and a recent one
    engine = create_engine(database.url)
    with monkeypatch.context() as previous_release:
        previous_release.setattr(migrations, "MIGRATIONS", MIGRATIONS[:2])
        assert migrate(engine) == [1, 2]
    database.server.execute(
        """INSERT INTO idempotency_keys (key, request_hash, status_code, response, created_at) VALUES
           ('old', 'h', 201, '{"id": 1}', now() - interval '3 days'), ('recent', 'h', 201, '{"id": 2}', now())""",
        database=database.name,
    )
    keys_before = _keys(database)

    # WHEN this release migrates it
    applied = migrate(engine)

    # THEN only the new step runs, every key is kept with the time it was first used, and the index is there
    assert applied == list(range(3, LATEST_VERSION + 1))
    assert _keys(database) == keys_before
    index = database.server.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'idempotency_keys_created_at_idx'", database=database.name
    )
    assert index == [
        ("CREATE INDEX idempotency_keys_created_at_idx ON public.idempotency_keys USING btree (created_at)",)
    ]
    # ... so the key from 3 days ago is already past the default TTL, and the recent one is not
    with engine.begin() as connection:
        assert idempotency.delete_expired(connection, ttl_s=24 * 3600) == 1
    assert [key for key, _ in _keys(database)] == ["recent"]
    engine.dispose()


def _keys(database: TestDatabase) -> list[tuple[str, Any]]:
    return database.server.execute("SELECT key, created_at FROM idempotency_keys ORDER BY key", database=database.name)


def test_the_handler_migrates_a_fresh_database(load_function: Callable[..., Function], database: TestDatabase) -> None:
    # load_function migrates first; start again from an empty schema to see the handler do it
    database.server.execute(
        "DROP TABLE ingested_messages, idempotency_keys, items, schema_migrations", database=database.name
    )
    migrate_function = load_function("migrate")

    role = {"idle_session_timeout": "300s"}
    assert migrate_function.invoke("migrate_invoke") == {
        "applied": VERSIONS,
        "version": LATEST_VERSION,
        "role_settings": role,
    }
    assert migrate_function.invoke("migrate_invoke") == {
        "applied": [],
        "version": LATEST_VERSION,
        "role_settings": role,
    }


class _CloudFormation(http.server.BaseHTTPRequestHandler):
    """Stands in for the pre-signed S3 URL: records what the custom resource PUTs."""

    received: list[dict[str, Any]]

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def response_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (_CloudFormation,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/presigned", received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("request_type", ["create", "update"])
def test_custom_resource_migrates_and_answers_success(
    load_function: Callable[..., Function],
    response_url: tuple[str, list[dict[str, Any]]],
    request_type: str,
) -> None:
    url, received = response_url
    event = load_event(f"migrate_custom_resource_{request_type}")
    event["ResponseURL"] = url

    load_function("migrate").invoke(event)

    assert len(received) == 1
    answer = received[0]
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "schema-migrations"
    assert answer["RequestId"] == event["RequestId"]
    assert answer["Data"]["Version"] == str(LATEST_VERSION)


def test_custom_resource_delete_keeps_the_tables(
    load_function: Callable[..., Function],
    migrated: TestDatabase,
    response_url: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = response_url
    event = load_event("migrate_custom_resource_delete")
    event["ResponseURL"] = url

    load_function("migrate").invoke(event)

    assert [answer["Status"] for answer in received] == ["SUCCESS"]
    assert migrated.server.execute("SELECT to_regclass('items') IS NOT NULL", database=migrated.name) == [(True,)]


def test_custom_resource_failure_is_reported_to_cloudformation(
    load_function: Callable[..., Function],
    monkeypatch: pytest.MonkeyPatch,
    response_url: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = response_url
    event = load_event("migrate_custom_resource_create")
    event["ResponseURL"] = url
    monkeypatch.setenv("DB_CONNECT_RETRY_MAX_S", "0")
    migrate_function = load_function("migrate", url="postgresql://app:hunter2-pw@127.0.0.1:9/nowhere")

    with pytest.raises(DatabaseUnavailableError):
        migrate_function.invoke(event)

    assert len(received) == 1
    assert received[0]["Status"] == "FAILED"
    assert "hunter2-pw" not in received[0]["Reason"]


def test_a_migration_waiting_for_another_outlives_the_api_statement_timeout(
    load_function: Callable[..., Function], database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN another run holding the migration lock, and the functions' statement_timeout at 50 ms
    database.server.execute(
        "DROP TABLE ingested_messages, idempotency_keys, items, schema_migrations", database=database.name
    )
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "50")
    migrate_function = load_function("migrate", pool_mode="null")
    holder = create_engine(database.url).connect()
    holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    outcome: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: outcome.update(result=migrate_function.invoke("migrate_invoke")))
    thread.start()

    # WHEN the migration has waited on the lock for four times its statement timeout
    for _ in range(500):
        if _advisory_waiters(database):
            break
        time.sleep(0.01)
    assert _advisory_waiters(database) == 1
    time.sleep(0.2)
    holder.rollback()
    holder.close()
    thread.join(timeout=30)

    # THEN it was not cancelled: it applied every step once the lock was free
    assert outcome["result"]["applied"] == VERSIONS


def _advisory_waiters(database: TestDatabase) -> int:
    rows = database.server.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted", database=database.name
    )
    return int(rows[0][0])
