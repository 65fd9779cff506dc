"""Writer clients: steady POSTs through the function, retried the way a careful client retries.

A client retries what Lambda and the API say may be retried — 429 (throttled), 503 with ``Retry-After``, and an
invocation that died without an answer (the environment crashed or timed out) — always with the same idempotency
key, so a retry can never write twice. Every attempt is recorded with its time, so failures can be split into those
inside a fault's window and those outside it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.faults.ledger import WriteLedger
from harness.kit.outcomes import InvokeResultLike, classify_error, outcome
from harness.kit.workload import http_event

__all__ = ["Attempt", "WriterPool"]

RETRYABLE = {0, 429, 500, 502, 503, 504}
INITIAL_BACKOFF_S = 0.05
MAX_BACKOFF_S = 1.0
MAX_ATTEMPTS = 40


@dataclass(frozen=True, slots=True)
class Attempt:
    t_s: float
    latency_ms: float
    status: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


class WriterPool:
    """``clients`` threads writing until stopped; pausing them lets environments sit frozen (idle) on purpose."""

    def __init__(
        self,
        invoke: Callable[[str, dict[str, Any]], InvokeResultLike],
        function: str,
        ledger: WriteLedger,
        *,
        clients: int,
        think_s: float = 0.01,
    ) -> None:
        if clients < 1:
            raise ValueError(f"clients must be at least 1, got {clients}")
        self.invoke = invoke
        self.function = function
        self.ledger = ledger
        self.clients = clients
        self.think_s = think_s
        self.running = threading.Event()
        self.running.set()
        self.stopping = threading.Event()
        self.attempts: list[Attempt] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.t0 = 0.0

    def start(self) -> WriterPool:
        self.t0 = time.monotonic()
        self._threads = [
            threading.Thread(target=self._client, args=(i,), name=f"writer-{i}", daemon=True)
            for i in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Attempt]:
        self.stopping.set()
        self.running.set()
        for thread in self._threads:
            thread.join()
        return sorted(self.attempts, key=lambda a: a.t_s)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _client(self, client: int) -> None:
        number = 0
        while not self.stopping.is_set():
            self.running.wait()
            if self.stopping.is_set():
                break
            self._write(client, number)
            number += 1
            time.sleep(self.think_s)

    def _write(self, client: int, number: int) -> None:
        key = f"w{client}-{number}-{uuid.uuid4().hex[:12]}"
        description = f"client {client} write {number}"
        event = http_event(
            "POST",
            "/items",
            body={"name": key, "description": description, "quantity": number},
            headers={"idempotency-key": key},
            route_key="POST /items",
        )
        backoff = INITIAL_BACKOFF_S
        for _ in range(MAX_ATTEMPTS):
            began = time.monotonic()
            try:
                result = self.invoke(self.function, event)
                _, status, error = outcome(result)
                # the API response (its id, its Retry-After) when the function answered at all
                response = result.payload if isinstance(result.payload, dict) and not result.function_error else {}
            except Exception as exc:  # noqa: BLE001 - the transport failed: no answer, so retry with the same key
                status, error, response = 0, classify_error(f"{type(exc).__name__}: {exc}"), {}
            with self._lock:
                self.attempts.append(Attempt(began - self.t0, (time.monotonic() - began) * 1000, status, error))
            if error is None:
                item_id = json.loads(response.get("body") or "{}").get("id")
                self.ledger.record(key, description=description, quantity=number, acknowledged=True, item_id=item_id)
                return
            if status not in RETRYABLE or self.stopping.is_set():
                break
            retry_after = (response.get("headers") or {}).get("Retry-After")
            time.sleep(min(float(retry_after), MAX_BACKOFF_S) if retry_after else backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
        self.ledger.record(key, description=description, quantity=number, acknowledged=False, item_id=None)
