"""Per-invocation reporting: one JSON line per invocation, both the log line (cold_start, every counter) and EMF."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text

from harness.kit.lambda_context import LambdaContext
from lambda_db import STATS_KEYS
from tests.conftest import TestDatabase
from tests.integration.lambda_db.conftest import MakeDatabase, report_lines


def test_each_invocation_logs_its_counters_and_emits_emf(
    make_database: MakeDatabase, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    db = make_database(pool_mode="single")

    @db.handler
    def handler(event: Any, context: Any) -> int:
        with db.read() as conn:
            return int(conn.execute(text("SELECT 1")).scalar_one())

    handler({}, LambdaContext())
    handler({}, LambdaContext(aws_request_id="second"))
    documents = report_lines(capsys.readouterr().out)
    assert len(documents) == 2  # one line per invocation, log and metrics together
    lines = [document["lambda_db"] for document in documents]
    assert [line["cold_start"] for line in lines] == [True, False]
    assert [line["connections_opened_num"] for line in lines] == [1, 0]
    assert lines[1]["request_id"] == "second"
    assert set(STATS_KEYS) <= set(lines[0])
    # the keys of a Powertools JSON log line, so log queries treat it like the function's own lines
    assert {"level", "location", "message", "timestamp", "service"} <= set(documents[0])
    assert documents[0]["level"] == "INFO"
    assert documents[0]["message"] == "lambda_db invocation"
    assert documents[0]["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\+0000", documents[0]["timestamp"])
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
    assert record.database_url.startswith("postgresql+lambda_db://app:***@")  # the deferred-BEGIN dialect
    assert database.password not in caplog.text


def _emf_documents(out: str) -> list[dict[str, Any]]:
    return [line for line in report_lines(out) if "_aws" in line]


def test_emf_documents_are_valid_and_carry_trouble_counters_when_non_zero(
    make_database: MakeDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    db = make_database(pool_mode="single")

    @db.handler
    def leaky(event: Any, context: Any) -> None:
        db.engine.connect().execute(text("SELECT 1"))  # never closed: counted in leaks_num

    leaky({}, LambdaContext())
    leaky({}, LambdaContext())
    documents = _emf_documents(capsys.readouterr().out)
    assert len(documents) == 2
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert isinstance(document["_aws"]["Timestamp"], int)
        assert directive["Dimensions"] == [["pool_mode", "service"]]
        assert {name: document[name] for name in directive["Dimensions"][0]}["pool_mode"] == "single"
        named = [metric["Name"] for metric in directive["Metrics"]]
        values = [key for key, value in document.items() if isinstance(value, list)]  # the log half has none
        assert named == values  # every metric has its values, and every list of values is a declared metric
        assert all(len(document[name]) == 1 and isinstance(document[name][0], float) for name in named)
        units = {metric["Name"]: metric["Unit"] for metric in directive["Metrics"]}
        assert units["db_time_ms"] == "Milliseconds"
        assert units["leaks_num"] == "Count"
    assert [doc["leaks_num"] for doc in documents] == [[1.0], [1.0]]
    assert "connect_ms" in documents[0]  # the cold start connected
    assert "connect_ms" not in documents[1]  # the warm one did not: zero trouble counters are left out


def test_metrics_off_writes_no_line_and_no_document_but_still_counts(
    make_database: MakeDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    db = make_database(pool_mode="single", metrics="off")

    @db.handler
    def handler(event: Any, context: Any) -> int:
        with db.read() as conn:
            return int(conn.execute(text("SELECT 1")).scalar_one())

    handler({}, LambdaContext())
    handler({}, LambdaContext())
    assert report_lines(capsys.readouterr().out) == []
    lifetime = db.lifetime_stats()
    assert (lifetime["invocations_num"], lifetime["checkouts_num"], lifetime["connections_opened_num"]) == (2, 2, 1)


def test_lifetime_stats_keep_a_leak_that_the_invocation_reported_and_reset(make_database: MakeDatabase) -> None:
    db = make_database(pool_mode="single", pool_timeout_s=0.5)

    @db.handler
    def leaky(event: Any, context: Any) -> None:
        db.engine.connect().execute(text("SELECT 1"))  # never closed

    @db.handler
    def tidy(event: Any, context: Any) -> None:
        with db.read() as conn:
            conn.execute(text("SELECT 1"))

    leaky({}, LambdaContext())
    tidy({}, LambdaContext())
    assert db.get_stats()["leaks_num"] == 0  # popped at the end of each invocation ...
    lifetime = db.lifetime_stats()
    assert (lifetime["leaks_num"], lifetime["invocations_num"], lifetime["checkouts_num"]) == (1, 2, 2)  # ... kept here
    assert set(lifetime) == {"invocations_num", *STATS_KEYS}
