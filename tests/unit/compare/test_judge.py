"""Success judged by the function's own answer, and the report told which rule judged it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.compare.judge import Judge, judge
from tests.unit.compare.conftest import FakeResult


def api(status: int, message: str = "") -> dict[str, Any]:
    return {"statusCode": status, "body": json.dumps({"message": message})}


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (FakeResult(payload=api(201)), (True, 201, None, "API Gateway status")),
        (FakeResult(payload=api(302)), (False, 302, "HTTP 302: not a 2xx answer", "API Gateway status")),
        (FakeResult(payload=api(404, "no such page")), (False, 404, "HTTP 404: no such page", "API Gateway status")),
        (FakeResult(payload=api(503, "busy")), (False, 503, "HTTP 503: busy", "API Gateway status")),
        (FakeResult(payload=api(429, "slow down")), (False, 429, "HTTP 429: slow down", "API Gateway status")),
        (FakeResult(payload={"batchItemFailures": []}), (True, 200, None, "batchItemFailures")),
        (
            FakeResult(payload={"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}),
            (False, 200, "batchItemFailures: 2 item(s) of the batch failed", "batchItemFailures"),
        ),
        (FakeResult(payload={"applied": [1]}), (True, 200, None, "raised error")),
        (
            FakeResult(payload={"errorType": "ValueError", "errorMessage": "bad"}, function_error="Unhandled"),
            (False, 502, "ValueError: bad", "raised error"),
        ),
        (FakeResult(status_code=429, throttled=True), (False, 429, "TooManyRequestsException (throttled)", None)),
    ],
)
def test_each_answer_is_judged_by_the_rule_its_shape_calls_for(result: FakeResult, expected: tuple[Any, ...]) -> None:
    assert judge(result) == expected


def test_the_judge_reports_the_rules_it_used_most_used_first() -> None:
    judging = Judge()
    for payload in (api(200), api(200), {"batchItemFailures": []}):
        judging.record(FakeResult(payload=payload), client=0, started_s=0.0, latency_ms=1.0)
    record = judging.record(FakeResult(payload=api(503)), client=1, started_s=0.1, latency_ms=2.0)
    assert (record.ok, record.status, record.environment) == (False, 503, "env-1")
    lines = judging.describe()
    assert lines[0].startswith("API Gateway status: the response's statusCode: 2xx ok")
    assert "(3 answers)" in lines[0]
    assert lines[1].startswith("batchItemFailures:")
    assert "(1 answers)" in lines[1]
