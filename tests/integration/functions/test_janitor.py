"""The janitor: deletes expired idempotency keys, only those, in batches, and says how many; on a real Postgres."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine

from app_model import idempotency
from harness.kit.lambda_context import LambdaContext
from tests.conftest import TestDatabase
from tests.integration.functions.conftest import Function, count_rows

HOUR_S = 3600
DAY_S = 24 * HOUR_S


def add_keys(database: TestDatabase, count: int, *, age_s: int, prefix: str) -> None:
    """``count`` answered keys claimed ``age_s`` seconds ago, written as the superuser."""
    database.server.execute(
        """INSERT INTO idempotency_keys (key, request_hash, status_code, response, created_at)
           SELECT %s || n, 'hash', 201, '{}', now() - make_interval(secs => %s) FROM generate_series(1, %s) AS n""",
        prefix,
        age_s,
        count,
        database=database.name,
    )


def keys_left(database: TestDatabase) -> list[str]:
    rows = database.server.execute("SELECT key FROM idempotency_keys ORDER BY key", database=database.name)
    return [key for (key,) in rows]


@pytest.fixture
def janitor(load_function: Callable[..., Function]) -> Function:
    return load_function("janitor")


def test_the_scheduled_run_deletes_only_expired_keys_and_reports_how_many(
    janitor: Function, migrated: TestDatabase
) -> None:
    # GIVEN keys a day and more old, and keys younger than a day (the default TTL)
    add_keys(migrated, 5, age_s=DAY_S + 60, prefix="expired-")
    add_keys(migrated, 2, age_s=30 * DAY_S, prefix="ancient-")
    add_keys(migrated, 3, age_s=DAY_S - 60, prefix="fresh-")

    # WHEN the hourly schedule fires
    result = janitor.invoke("janitor_schedule")

    # THEN only the expired ones are gone
    assert result == {"deleted": 7, "batches": 1, "finished": True, "ttl_s": DAY_S}
    assert keys_left(migrated) == ["fresh-1", "fresh-2", "fresh-3"]
    assert janitor.invoke("janitor_schedule") == {"deleted": 0, "batches": 1, "finished": True, "ttl_s": DAY_S}
    assert count_rows(migrated, "idempotency_keys") == 3


def test_the_janitor_reads_the_ttl_the_items_function_reads(
    load_function: Callable[..., Function], migrated: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEMPOTENCY_TTL_S", str(HOUR_S))
    add_keys(migrated, 4, age_s=HOUR_S + 60, prefix="expired-")
    add_keys(migrated, 1, age_s=HOUR_S - 60, prefix="fresh-")

    result = load_function("janitor").invoke("janitor_schedule")

    assert result["deleted"] == 4
    assert result["ttl_s"] == HOUR_S
    assert keys_left(migrated) == ["fresh-1"]


def test_the_janitor_deletes_in_batches_until_none_is_left(
    janitor: Function, migrated: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_keys(migrated, 7, age_s=2 * DAY_S, prefix="expired-")
    add_keys(migrated, 2, age_s=60, prefix="fresh-")
    monkeypatch.setattr(janitor.module, "BATCH_SIZE", 3)

    result = janitor.invoke("janitor_schedule")

    assert result == {"deleted": 7, "batches": 3, "finished": True, "ttl_s": DAY_S}  # 3 + 3 + 1
    assert keys_left(migrated) == ["fresh-1", "fresh-2"]


@pytest.mark.parametrize(("remaining_ms", "deleted"), [(9_999, 0), (10_001, 7)])
def test_the_janitor_starts_a_batch_only_with_more_than_10_s_left(
    janitor: Function, migrated: TestDatabase, remaining_ms: int, deleted: int
) -> None:
    add_keys(migrated, 7, age_s=2 * DAY_S, prefix="expired-")
    context = LambdaContext(function_name="JanitorFunction", remaining_ms=remaining_ms)

    result: dict[str, Any] = janitor.module.lambda_handler({}, context)

    assert result["deleted"] == deleted
    assert result["finished"] is (deleted == 7)
    assert count_rows(migrated, "idempotency_keys") == 7 - deleted


def test_a_purge_told_to_stop_ends_between_batches_and_the_next_one_finishes(migrated: TestDatabase) -> None:
    # GIVEN 7 expired keys, batches of 3, and time for two batches only
    add_keys(migrated, 7, age_s=2 * DAY_S, prefix="expired-")
    engine = create_engine(migrated.url)
    time_left = iter([True, True, False])

    # WHEN a purge runs
    first = idempotency.purge_expired(engine.begin, ttl_s=DAY_S, batch_size=3, keep_going=lambda: next(time_left))

    # THEN two batches were deleted and committed, it says it did not finish, and the next run deletes the rest
    assert first == idempotency.Purge(deleted=6, batches=2, finished=False)
    assert count_rows(migrated, "idempotency_keys") == 1
    second = idempotency.purge_expired(engine.begin, ttl_s=DAY_S, batch_size=3, keep_going=lambda: True)
    assert second == idempotency.Purge(deleted=1, batches=1, finished=True)
    assert count_rows(migrated, "idempotency_keys") == 0
    engine.dispose()


def test_delete_expired_takes_the_oldest_first_and_at_most_a_batch(migrated: TestDatabase) -> None:
    add_keys(migrated, 3, age_s=3 * DAY_S, prefix="oldest-")
    add_keys(migrated, 3, age_s=2 * DAY_S, prefix="older-")
    engine = create_engine(migrated.url)
    try:
        with engine.begin() as connection:
            assert idempotency.delete_expired(connection, ttl_s=DAY_S, batch_size=4) == 4
    finally:
        engine.dispose()

    left = keys_left(migrated)
    assert len(left) == 2
    assert all(key.startswith("older-") for key in left)


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        idempotency.purge_expired(lambda: pytest.fail("no batch"), ttl_s=DAY_S, keep_going=lambda: True, batch_size=0)
