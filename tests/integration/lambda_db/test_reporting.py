"""Per-invocation reporting: one JSON log line with cold_start and every counter, one EMF document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from lambda_db import STATS_KEYS
from tests.conftest import TestDatabase
from tests.integration.lambda_db.conftest import FakeContext, MakeDatabase


def test_each_invocation_logs_its_counters_and_emits_emf(
    make_database: MakeDatabase, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    db = make_database(pool_mode="single")

    @db.handler
    def handler(event: Any, context: Any) -> int:
        with db.read() as conn:
            return int(conn.execute(text("SELECT 1")).scalar_one())

    handler({}, FakeContext())
    handler({}, FakeContext(aws_request_id="second"))
    lines = [record.lambda_db for record in caplog.records if record.getMessage() == "lambda_db invocation"]
    assert [line["cold_start"] for line in lines] == [True, False]
    assert [line["connections_opened_num"] for line in lines] == [1, 0]
    assert lines[1]["request_id"] == "second"
    assert set(STATS_KEYS) <= set(lines[0])
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert len(documents) == 2
    namespace = documents[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"]
    assert namespace == "lambda-db-tests"
    assert [doc["connections_opened_num"] for doc in documents] == [[1.0], [0.0]]
    assert documents[0]["pool_mode"] == "single"


def test_engine_creation_is_logged_with_the_password_hidden(
    make_database: MakeDatabase, database: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    db = make_database(pool_mode="single")
    db.engine  # noqa: B018 - building it is the point
    [record] = [r for r in caplog.records if r.getMessage() == "lambda_db engine created"]
    assert record.database_url.startswith("postgresql+psycopg2://app:***@")
    assert database.password not in caplog.text
