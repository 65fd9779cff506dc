"""The migration gives the app's role an idle_session_timeout, so the server reaps what frozen environments left.

Against the real Postgres: the setting reaches new sessions of the role in this database only, 0 resets it, bad
values fail at init naming the variable, and a warm function whose connection the server closed serves its next
invocation without a failed request (the layer's idle check replaces the connection).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import psycopg2
import pytest

from app_model import ConfigurationError
from app_model.role_settings import SERVER_DEFAULT
from harness.postgres import EmbeddedPostgres
from tests.conftest import TestDatabase
from tests.integration.functions.conftest import Function

REAPED_WITHIN_S = 30  # how long the test waits for the server to close an idle session (the timeout is 1 s)


def _show_as_app(database: TestDatabase, setting: str, dbname: str | None = None) -> str:
    """What a new session of the app role sees (the superuser's own sessions are not affected by ALTER ROLE)."""
    conn = psycopg2.connect(
        host=database.server.host,
        port=database.server.port,
        user=database.user,
        password=database.password,
        dbname=dbname or database.name,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(f"SHOW {setting}")
            return str(cur.fetchone()[0])  # type: ignore[index]
    finally:
        conn.close()


def test_migration_sets_the_roles_idle_session_timeout_in_its_database_only(
    load_function: Callable[..., Function], database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = f"{database.name}_other"
    database.server.create_database(other, owner=database.user)
    try:
        monkeypatch.setenv("ROLE_IDLE_SESSION_TIMEOUT_S", "120")
        result = load_function("migrate").invoke("migrate_invoke")

        assert result["role_settings"] == {"idle_session_timeout": "120s"}
        assert _show_as_app(database, "idle_session_timeout") == "2min"
        assert _show_as_app(database, "idle_session_timeout", dbname=other) == "0"  # another database: untouched
    finally:
        database.server.execute(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)')


def test_zero_removes_the_setting_again(
    load_function: Callable[..., Function], database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLE_IDLE_SESSION_TIMEOUT_S", "60")
    load_function("migrate").invoke("migrate_invoke")
    assert _show_as_app(database, "idle_session_timeout") == "1min"

    monkeypatch.setenv("ROLE_IDLE_SESSION_TIMEOUT_S", "0")
    result = load_function("migrate").invoke("migrate_invoke")

    assert result["role_settings"] == {"idle_session_timeout": SERVER_DEFAULT}
    assert _show_as_app(database, "idle_session_timeout") == "0"
    settings = database.server.execute("SELECT count(*) FROM pg_db_role_setting", database=database.name)
    assert settings == [(0,)]


def test_a_run_that_finds_the_value_already_set_writes_nothing(
    load_function: Callable[..., Function], database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the role's setting written by a first run (its catalog row's xmin says which transaction wrote it)
    monkeypatch.setenv("ROLE_IDLE_SESSION_TIMEOUT_S", "90")
    migrate = load_function("migrate")
    migrate.invoke("migrate_invoke")
    row_version = "SELECT xmin::text FROM pg_db_role_setting"
    written = database.server.execute(row_version, database=database.name)

    # WHEN the migration runs again with the same value
    result = migrate.invoke("migrate_invoke")

    # THEN the row is the same version: no ALTER ROLE ran; and a new value is still written
    assert result["role_settings"] == {"idle_session_timeout": "90s"}
    assert database.server.execute(row_version, database=database.name) == written
    monkeypatch.setenv("ROLE_IDLE_SESSION_TIMEOUT_S", "91")
    assert load_function("migrate").invoke("migrate_invoke")["role_settings"] == {"idle_session_timeout": "91s"}
    assert database.server.execute(row_version, database=database.name) != written


@pytest.mark.parametrize("raw", ["-1", "86401", "5m", "1" * 5000])
def test_a_bad_timeout_fails_at_init_naming_the_variable(
    load_function: Callable[..., Function], monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("ROLE_IDLE_SESSION_TIMEOUT_S", raw)
    with pytest.raises(ConfigurationError, match=r"^ROLE_IDLE_SESSION_TIMEOUT_S=.* is not allowed: expected a whole"):
        load_function("migrate")


@pytest.mark.slow
def test_a_warm_function_whose_idle_connection_the_server_closed_serves_the_next_request(
    load_function: Callable[..., Function], database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the role's sessions closed by the server after 1 s idle, and a warm items function in single mode
    monkeypatch.setenv("ROLE_IDLE_SESSION_TIMEOUT_S", "1")
    load_function("migrate").invoke("migrate_invoke")
    items = load_function("items", pool_mode="single")
    assert items.invoke("items_create")["statusCode"] == 201
    (first_pid,) = database.backend_pids()

    # WHEN the environment sits idle (frozen) past the timeout, and the server closes its connection
    deadline = time.monotonic() + REAPED_WITHIN_S
    while database.connections(application_prefix=items.application_name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert database.connections(application_prefix=items.application_name) == 0
    if isinstance(database.server, EmbeddedPostgres):  # the server says why it closed it
        assert any("idle-session timeout" in line for line in database.server.log_lines())

    # THEN the next invocation succeeds on a new connection: nobody sees the one the server closed
    fetched = items.invoke("items_get")
    assert fetched["statusCode"] == 200, fetched
    assert json.loads(fetched["body"])["name"] == "widget"
    assert database.backend_pids() - {first_pid}
