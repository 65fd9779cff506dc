"""What one invocation's answer means to its caller: ok or not, the status seen, the error grouped by its words.

The comparison's clients and the fault runs' writers judge answers the same way, so the rule lives here once: a
throttle is a 429, a function error a 502 with its grouped message, an HTTP status of 400 or more a failure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Protocol

from harness.kit.records import RequestRecord

__all__ = ["KNOWN_ERRORS", "InvokeResultLike", "Invoker", "classify_error", "outcome", "record_from_result"]

# The words users search for, in the order we look for them: a raw error becomes one of these groups.
KNOWN_ERRORS: tuple[tuple[str, str], ...] = (
    ("too many clients", "FATAL: sorry, too many clients already"),
    ("remaining connection slots are reserved", "remaining connection slots are reserved"),
    ("QueuePool limit", "QueuePool limit reached (pool timeout)"),
    ("server closed the connection unexpectedly", "server closed the connection unexpectedly"),
    ("terminating connection due to idle-session timeout", "terminated by idle_session_timeout"),
    ("terminating connection due to administrator command", "terminated by pg_terminate_backend"),
    ("Task timed out", "Task timed out (Lambda timeout)"),
    ("TooManyRequestsException", "TooManyRequestsException (throttled)"),
    ("Connection refused", "connection refused"),
    # Powertools' BatchProcessingError, whatever count of "individual errors logged separately below" it names
    ("All records failed processing", "BatchProcessingError: All records failed processing"),
)
_DB_MS = re.compile(r'"db_(?:time_)?ms"\s*:\s*([0-9.]+)')


class InvokeResultLike(Protocol):
    """What an invocation returned: the local Lambda's InvokeResult, or a remote Invoke API's answer."""

    @property
    def status_code(self) -> int: ...
    @property
    def payload(self) -> Any: ...
    @property
    def function_error(self) -> str | None: ...
    @property
    def log_tail(self) -> str | None: ...
    @property
    def cold_start(self) -> bool: ...
    @property
    def environment_id(self) -> str | None: ...
    @property
    def throttled(self) -> bool: ...


Invoker = Callable[[str, dict[str, Any]], InvokeResultLike]


def classify_error(text: str) -> str:
    """Group a raw error message under the phrase a user would search for."""
    for needle, group in KNOWN_ERRORS:
        if needle.lower() in text.lower():
            return group
    first_line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return first_line[:100]


def _body_message(response: dict[str, Any]) -> str:
    body = response.get("body") or ""
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        return str(body)
    if isinstance(parsed, dict):
        return str(parsed.get("message") or parsed.get("error") or parsed)
    return str(parsed)


def outcome(result: InvokeResultLike) -> tuple[bool, int, str | None]:
    """(ok, the status the caller saw, the grouped error) of one invocation."""
    if result.throttled or result.status_code == 429:
        return False, 429, "TooManyRequestsException (throttled)"
    if result.function_error:
        payload = result.payload if isinstance(result.payload, dict) else {}
        text = f"{payload.get('errorType', '')}: {payload.get('errorMessage', result.payload)}"
        return False, 502, classify_error(text)
    response = result.payload if isinstance(result.payload, dict) else {}
    status = int(response.get("statusCode", 500))
    if status >= 400:
        return False, status, f"HTTP {status}: {classify_error(_body_message(response))}"
    return True, status, None


def record_from_result(result: InvokeResultLike, *, client: int, started_s: float, latency_ms: float) -> RequestRecord:
    """Turn what Lambda returned into one row: ok, the status the caller saw, a grouped error, the handler's DB time."""
    match = _DB_MS.search(result.log_tail) if result.log_tail else None
    ok, status, error = outcome(result)
    return RequestRecord(
        client=client,
        started_s=started_s,
        latency_ms=latency_ms,
        ok=ok,
        status=status,
        error=error,
        cold_start=result.cold_start,
        db_ms=float(match.group(1)) if match else None,
        environment=result.environment_id,
    )
