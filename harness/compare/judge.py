"""Whether an invocation succeeded, judged by the function's own answer, and which rule said so.

The rule follows the shape of the answer, as the function's real caller would read it:

``API Gateway status``
    A response with ``statusCode`` (an HTTP API or REST API proxy answer): 2xx is ok, anything else failed;
    429 counts as throttled and 503 as the database refusing (the report's columns and verdicts count them apart).
``batchItemFailures``
    A partial-batch answer (SQS, Kinesis, DynamoDB streams): ok when the list is empty, failed when it names items.
``raised error``
    Anything else: ok unless the handler raised (a function error), as for a direct or scheduled invoke.

A throttle by Lambda itself (reserved concurrency reached) is a 429 under every rule.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from typing import Any, Literal

from harness.kit.outcomes import InvokeResultLike, classify_error, outcome, record_from_result
from harness.kit.records import RequestRecord

__all__ = ["RULES", "Judge", "Rule", "judge"]

Rule = Literal["API Gateway status", "batchItemFailures", "raised error"]
RULES: dict[Rule, str] = {
    "API Gateway status": "the response's statusCode: 2xx ok, other statuses failed, 429 and 503 counted apart",
    "batchItemFailures": "the batchItemFailures list: empty is ok, an item in it is a failed invocation",
    "raised error": "no statusCode nor batchItemFailures in the answer: ok unless the handler raised",
}


def _rule(payload: Any) -> Rule:
    if isinstance(payload, dict) and "statusCode" in payload:
        return "API Gateway status"
    if isinstance(payload, dict) and isinstance(payload.get("batchItemFailures"), list):
        return "batchItemFailures"
    return "raised error"


def judge(result: InvokeResultLike) -> tuple[bool, int, str | None, Rule | None]:
    """(ok, status the caller saw, grouped error, the rule used; None for a Lambda throttle or a raised error)."""
    if result.throttled or result.status_code == 429 or result.function_error:
        ok, status, error = outcome(result)  # the one place throttles and function errors are grouped
        return ok, status, error, None if result.throttled or result.status_code == 429 else "raised error"
    payload = result.payload
    rule = _rule(payload)
    if rule == "API Gateway status":
        ok, status, error = outcome(result)
        if ok and not 200 <= status < 300:
            return False, status, f"HTTP {status}: not a 2xx answer", rule
        return ok, status, error, rule
    if rule == "batchItemFailures":
        failures = len(payload["batchItemFailures"])
        if failures:
            return False, 200, classify_error(f"batchItemFailures: {failures} item(s) of the batch failed"), rule
        return True, 200, None, rule
    return True, 200, None, rule


class Judge:
    """Turns answers into request records and counts which rule judged them (thread-safe; one per run)."""

    def __init__(self) -> None:
        self.rules: Counter[Rule] = Counter()
        self._lock = threading.Lock()

    def record(self, result: InvokeResultLike, *, client: int, started_s: float, latency_ms: float) -> RequestRecord:
        ok, status, error, rule = judge(result)
        if rule is not None:
            with self._lock:
                self.rules[rule] += 1
        base = record_from_result(result, client=client, started_s=started_s, latency_ms=latency_ms)
        return dataclasses.replace(base, ok=ok, status=status, error=error)

    def describe(self) -> list[str]:
        """The rules that judged this run, most used first, each with what it means (for the report)."""
        with self._lock:
            return [f"{rule}: {RULES[rule]} ({count} answers)" for rule, count in self.rules.most_common()]
