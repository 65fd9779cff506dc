"""get_database(): cheap at module scope (never connects), one Database per configuration and process."""

from __future__ import annotations

import pytest

from lambda_db import ConfigurationError, DatabaseConfig, get_database, reset_databases

# Nothing listens on port 1: if get_database() connected, it would fail.
UNREACHABLE = "postgresql+psycopg2://app:pw@127.0.0.1:1/app"


def test_get_database_never_connects_and_returns_the_same_object(monkeypatch: pytest.MonkeyPatch) -> None:
    config = DatabaseConfig(url=UNREACHABLE, pool_mode="null")
    db = get_database(config)
    assert get_database(config) is db
    assert db.pool_status() == {
        "mode": "null",
        "pool_size": 0,
        "checked_in": 0,
        "checked_out": 0,
        "overflow": 0,
        "status": "no engine yet",
    }


def test_get_database_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    monkeypatch.setenv("DB_POOL_MODE", "queue")
    monkeypatch.setenv("DB_POOL_SIZE", "2")
    db = get_database(DatabaseConfig.from_env())
    assert (db.config.pool_mode, db.config.pool_size) == ("queue", 2)


def test_one_database_per_configuration_however_it_is_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    monkeypatch.setenv("DB_APPLICATION_NAME", "items:env")
    reset_databases()
    db = get_database()
    assert get_database(DatabaseConfig.from_env()) is db
    same = DatabaseConfig(url=UNREACHABLE, application_name="items:env", sigterm_dispose=False)  # off Lambda
    assert get_database(same) is db
    assert get_database(DatabaseConfig(url=UNREACHABLE, application_name="other")) is not db
    reset_databases()


def test_an_explicit_config_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in {"DB_POOL_MODE": "null", "DB_APPLICATION_NAME": "from-env", "DB_METRICS": "off"}.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "items")
    config = DatabaseConfig(url=UNREACHABLE)
    assert (config.pool_mode, config.metrics) == ("single", "per_invocation")
    assert config.application_name.startswith("lambda_db:")  # not the function name from the environment


def test_bad_environment_fails_at_import_time_with_the_variable_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import lambda_db.database

    monkeypatch.setattr(lambda_db.database, "_databases", {})  # as in a fresh process
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DB_SECRET_ARN", raising=False)
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        get_database()


def test_reset_databases_disposes_and_forgets_every_cached_database() -> None:
    config = DatabaseConfig(url=UNREACHABLE, pool_mode="single")
    db = get_database(config)
    db.engine  # noqa: B018 - an engine (built without connecting) that the reset must dispose of
    assert db.pool_status()["status"] != "no engine yet"
    reset_databases()
    assert db.pool_status()["status"] == "no engine yet"  # disposed
    assert get_database(config) is not db  # forgotten: the next call builds a new one


def test_reset_databases_reads_the_environment_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    monkeypatch.setenv("DB_POOL_MODE", "null")
    reset_databases()
    assert get_database().config.pool_mode == "null"
    monkeypatch.setenv("DB_POOL_MODE", "queue")
    assert get_database().config.pool_mode == "null"  # cached, as in one process
    reset_databases()
    assert get_database().config.pool_mode == "queue"
    reset_databases()
