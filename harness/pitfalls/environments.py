"""Real Lambda execution environments for the pitfalls that need them, through the local Lambda emulator.

Each environment is its own process running the runtime interface client, handling one invocation at a time and
frozen between invocations, so module globals (an engine) and their connections live as they do on AWS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lambda_db
from harness.emulator import FunctionSpec, InvokeResult, LocalLambda
from harness.pitfalls.base import Lab, Outcome, searchable_message

__all__ = ["FUNCTIONS_DIR", "Invocations", "invoke_together", "local_lambda"]

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
LAYER_DIR = Path(lambda_db.__file__).resolve().parent.parent  # what the layer unpacks into /opt/python
FUNCTION = "Pitfall"
THROTTLE_RETRY_S = 0.05  # the client's back-off on 429, as the AWS SDKs retry TooManyRequestsException
THROTTLE_RETRIES = 200


@contextmanager
def local_lambda(
    lab: Lab,
    handler: str,
    *,
    application_name: str,
    reserved_concurrency: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[LocalLambda]:
    """A local Lambda running ``handlers.<handler>`` against ``lab`` (frozen between invocations, never reclaimed)."""
    spec = FunctionSpec(
        FUNCTION,
        FUNCTIONS_DIR,
        f"handlers.{handler}",
        env={
            "PITFALL_URL": lab.url(application_name),
            "DATABASE_URL": lab.url(),
            "DB_APPLICATION_NAME": application_name,
            "POWERTOOLS_METRICS_DISABLED": "true",
            **(env or {}),
        },
        timeout_s=30,
        reserved_concurrency=reserved_concurrency,
        layers=(LAYER_DIR,),
    )
    with LocalLambda([spec], idle_ttl_s=None, freeze=True) as lam:
        yield lam


class Invocations:
    """What a batch of invocations did: backend pids served, errors (as Lambda reports them), throttles."""

    def __init__(self) -> None:
        self.results: list[InvokeResult] = []
        self.throttles = 0
        self._lock = threading.Lock()

    def add(self, result: InvokeResult, throttles: int) -> None:
        with self._lock:
            self.results.append(result)
            self.throttles += throttles

    @property
    def failed(self) -> list[InvokeResult]:
        return [result for result in self.results if result.function_error or result.throttled]

    def record_errors(self, outcome: Outcome) -> None:
        """Put each failed invocation's error, as CloudWatch would show it, into ``outcome``."""
        for result in self.failed:
            outcome.record_text(lambda_error_text(result))


def lambda_error_text(result: InvokeResult) -> str:
    """``errorType: errorMessage`` of a failed invocation, without SQLAlchemy's statement and link trailer."""
    payload: Any = result.payload if isinstance(result.payload, dict) else {}
    message = searchable_message(str(payload.get("errorMessage", result.payload)))
    kind = payload.get("errorType", "TooManyRequestsException" if result.throttled else "Error")
    return f"{kind}: {message}"


def invoke_together(lam: LocalLambda, count: int, event: Any, *, retry_throttled: bool = False) -> Invocations:
    """Start ``count`` invocations at the same instant (one client thread each) and wait for all of them.

    With ``retry_throttled`` a throttled call is retried after a short pause, as the AWS SDKs, SQS and async
    invocations do; without it the 429 counts as a failure.
    """
    done = Invocations()
    start = threading.Barrier(count)

    def call() -> None:
        start.wait()
        throttles = 0
        result = lam.invoke(FUNCTION, event)
        while result.throttled and retry_throttled and throttles < THROTTLE_RETRIES:
            throttles += 1
            time.sleep(THROTTLE_RETRY_S)
            result = lam.invoke(FUNCTION, event)
        done.add(result, throttles)

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done
