"""How the comparison turns what Lambda returned into rows: grouped errors, throttles, the handler's DB time."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from harness.compare.driver import drive
from harness.kit.outcomes import classify_error, record_from_result
from harness.kit.workload import Workload, http_event
from tests.unit.compare.conftest import FakeResult


def api_response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {}, "body": json.dumps(body)}


@pytest.mark.parametrize(
    ("raw", "group"),
    [
        (
            "connection to server failed: FATAL:  sorry, too many clients already",
            "FATAL: sorry, too many clients already",
        ),
        (
            "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute",
            "remaining connection slots are reserved",
        ),
        (
            "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00",
            "QueuePool limit reached (pool timeout)",
        ),
        (
            "server closed the connection unexpectedly\n\tThis probably means",
            "server closed the connection unexpectedly",
        ),
        (
            "BatchProcessingError: All records failed processing. 3 individual errors logged separately below.",
            "BatchProcessingError: All records failed processing",
        ),
        ("something nobody has seen before\nsecond line", "something nobody has seen before"),
    ],
)
def test_errors_are_grouped_under_the_words_users_search_for(raw: str, group: str) -> None:
    assert classify_error(raw) == group


def test_a_successful_api_response_is_ok_and_carries_the_handlers_db_time() -> None:
    log = '{"level":"INFO","message":"invocation","db_time_ms": 1.75,"cold_start":false}\n'
    record = record_from_result(
        FakeResult(payload=api_response(200, {"id": "1"}), log_tail=log), client=3, started_s=0.5, latency_ms=2.0
    )
    assert record.ok
    assert record.status == 200
    assert record.db_ms == 1.75
    assert record.error is None


def test_a_throttle_is_a_429_failure_not_a_database_error() -> None:
    record = record_from_result(FakeResult(status_code=429, throttled=True), client=0, started_s=0, latency_ms=1)
    assert not record.ok
    assert record.status == 429
    assert record.error == "TooManyRequestsException (throttled)"


def test_a_503_from_the_handler_is_grouped_by_its_message() -> None:
    response = api_response(503, {"message": "database unavailable: FATAL: sorry, too many clients already"})
    record = record_from_result(FakeResult(payload=response), client=0, started_s=0, latency_ms=1)
    assert record.status == 503
    assert record.error == "HTTP 503: FATAL: sorry, too many clients already"


def test_an_unhandled_function_error_is_a_502_with_its_error_type() -> None:
    payload = {"errorType": "OperationalError", "errorMessage": "server closed the connection unexpectedly"}
    record = record_from_result(
        FakeResult(payload=payload, function_error="Unhandled"), client=0, started_s=0, latency_ms=1
    )
    assert record.status == 502
    assert record.error == "server closed the connection unexpectedly"


def test_drive_runs_every_client_concurrently_and_records_every_request() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    gate = threading.Barrier(4, timeout=5)

    def invoke(function: str, event: dict[str, Any]) -> FakeResult:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        if event["requestContext"]["http"]["method"] == "GET":
            gate.wait()  # every client's first read meets here: proof that they run at the same time
        with lock:
            in_flight -= 1
        return FakeResult(payload=api_response(200, {}))

    records = drive(invoke, "ItemsFunction", Workload([(http_event("GET", "/items/a"), 1.0)]), clients=4, invocations=3)
    assert len(records) == 12
    assert all(r.ok for r in records)
    assert peak == 4
    assert {r.client for r in records} == {0, 1, 2, 3}


def test_drive_records_an_exception_as_a_failed_request_and_goes_on() -> None:
    def invoke(function: str, event: dict[str, Any]) -> FakeResult:
        raise ConnectionResetError("Connection reset by peer")

    records = drive(invoke, "ItemsFunction", Workload([({}, 1.0)]), clients=2, invocations=2)
    assert len(records) == 4
    assert not any(r.ok for r in records)
    assert records[0].error is not None
    assert "ConnectionResetError" in records[0].error


def test_drive_rejects_zero_clients() -> None:
    with pytest.raises(ValueError, match="clients and invocations must be at least 1"):
        drive(lambda f, e: FakeResult(), "F", Workload([({}, 1.0)]), clients=0, invocations=1)
