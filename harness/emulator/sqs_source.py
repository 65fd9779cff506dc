"""An SQS event source mapping, as Lambda's pollers run it: receive, batch, invoke, delete what succeeded.

One poller thread per unit of ``ScalingConfig.MaximumConcurrency``, so never more invocations of the mapping at once
than that. Each collects up to ``BatchSize`` messages, for at most ``MaximumBatchingWindowInSeconds`` after the
first, invokes the function synchronously and then:

- deletes every message that succeeded (all of them, unless the function failed or, with
  ``ReportBatchItemFailures``, listed some in ``batchItemFailures``: see :mod:`harness.emulator.sqs_batch`);
- leaves the failed ones alone: they come back after the queue's visibility timeout, and once received
  ``maxReceiveCount`` times SQS moves them to the dead-letter queue on the next receive;
- gives a throttled batch back at once (visibility 0) and backs off, as Lambda does; it is not lost, but each
  receive counts towards ``maxReceiveCount``, which is why AWS advises 5 or more.

The poller threads call the thread-safe ``invoke`` the :class:`~harness.emulator.local_lambda.LocalLambda` gives.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.emulator.event_source_specs import SqsMappingSpec
from harness.emulator.spec import InvokeResult
from harness.emulator.sqs_batch import failed_ids, sqs_event

__all__ = ["BatchOutcome", "MappingStats", "SqsPoller"]

POLL_WAIT_S = 1  # long-poll wait: also how soon a stopping poller notices
THROTTLE_BACKOFF_S = (0.05, 1.0)
ERROR_BACKOFF_S = 1.0
_log = logging.getLogger(__name__)

Invoke = Callable[[str, bytes], InvokeResult]


@dataclass(frozen=True)
class BatchOutcome:
    """One invocation of a mapping, for whoever watches (the lab turns these into request records)."""

    mapping: str
    size: int
    failed: int
    throttled: bool
    started: float  # time.monotonic()
    duration_ms: float
    result: InvokeResult | None
    why: str | None = None  # why the whole batch failed, when it did


@dataclass
class MappingStats:
    """Counters of one mapping, in messages unless named otherwise."""

    mapping: str
    function: str
    queue: str
    batch_size: int
    max_concurrency: int
    received: int = 0
    in_flight: int = 0  # received and not yet deleted or given back
    succeeded: int = 0
    retried: int = 0  # failed; back after the visibility timeout
    dead_lettered: int = 0  # failed on their maxReceiveCount-th receive: SQS moves them to the dead-letter queue
    throttled: int = 0  # given back because the function was throttled
    batches: int = 0
    busy_pollers: int = 0  # invocations of the mapping running now
    peak_busy_pollers: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class SqsPoller:
    """The pollers of one mapping; ``start()`` then ``stop()``. Counters through :meth:`stats`."""

    def __init__(
        self,
        spec: SqsMappingSpec,
        *,
        client: Any,
        queue_url: str,
        queue_arn: str,
        max_receive_count: int | None,
        invoke: Invoke,
        region: str,
        concurrency: int,
        on_batch: Callable[[BatchOutcome], None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"{spec.name}: concurrency must be at least 1, got {concurrency}")
        self.spec = spec
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self._client = client
        self._max_receive_count = max_receive_count
        self._invoke = invoke
        self._region = region
        self._concurrency = concurrency
        self._on_batch = on_batch
        self._stats = MappingStats(spec.name, spec.function, queue_arn, spec.batch_size, concurrency)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> SqsPoller:
        for number in range(self._concurrency):
            thread = threading.Thread(target=self._run, name=f"sqs-{self.spec.name}-{number}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def request_stop(self) -> None:
        """Tell the pollers to stop after their current receive (returns at once; :meth:`stop` waits)."""
        self._stopping.set()

    def stop(self, timeout_s: float = POLL_WAIT_S + 2.0) -> None:
        """Stop receiving; a batch still running finishes or fails when its environment goes (SQS redelivers it)."""
        self._stopping.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def stats(self) -> MappingStats:
        with self._lock:
            return MappingStats(**self._stats.as_dict())

    # --- one poller ------------------------------------------------------------------------------------------

    def _run(self) -> None:
        delay = THROTTLE_BACKOFF_S[0]
        while not self._stopping.is_set():
            try:
                batch = self._collect()
                if not batch:
                    continue
                throttled = self._process(batch)
            except Exception:  # noqa: BLE001 - a poller outlives a failed receive or invoke, as Lambda's does
                if self._stopping.is_set():
                    return
                _log.warning("poller of %s failed; retrying", self.spec.name, exc_info=True)
                self._stopping.wait(ERROR_BACKOFF_S)
                continue
            if throttled:
                self._stopping.wait(delay)
                delay = min(delay * 2, THROTTLE_BACKOFF_S[1])
            else:
                delay = THROTTLE_BACKOFF_S[0]

    def _receive(self, count: int, wait_s: int) -> list[dict[str, Any]]:
        response = self._client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        if messages:
            with self._lock:
                self._stats.received += len(messages)
                self._stats.in_flight += len(messages)
        return messages

    def _collect(self) -> list[dict[str, Any]]:
        """Up to ``BatchSize`` messages, waiting at most the batching window after the first arrives."""
        batch = self._receive(self.spec.batch_size, POLL_WAIT_S)
        if not batch:
            return batch
        deadline = time.monotonic() + self.spec.window_s
        while len(batch) < self.spec.batch_size and not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            more = self._receive(self.spec.batch_size - len(batch), min(POLL_WAIT_S, int(left)))
            if not more:
                self._stopping.wait(min(left, 0.05))
            batch.extend(more)
        return batch

    def _process(self, batch: list[dict[str, Any]]) -> bool:
        """Invoke with ``batch``; returns True when the function was throttled."""
        payload = json.dumps(sqs_event(batch, queue_arn=self.queue_arn, region=self._region)).encode()
        with self._lock:
            self._stats.busy_pollers += 1
            self._stats.peak_busy_pollers = max(self._stats.peak_busy_pollers, self._stats.busy_pollers)
        began = time.monotonic()
        try:
            result: InvokeResult | None = self._invoke(self.spec.function, payload)
        except Exception:  # noqa: BLE001 - an invoke that cannot run fails the batch; SQS redelivers it
            _log.warning("invoking %s failed", self.spec.function, exc_info=True)
            result = None
        finally:
            with self._lock:
                self._stats.busy_pollers -= 1
        duration_ms = (time.monotonic() - began) * 1000
        ids = [message["MessageId"] for message in batch]
        if result is not None and result.throttled:
            self._give_back(batch)
            self._count(batch, throttled=True)
            self._report(BatchOutcome(self.spec.name, len(batch), len(batch), True, began, duration_ms, result))
            return True
        why: str | None = "invoke did not run"
        if result is None:
            failed = set(ids)
        else:
            failed, why = failed_ids(
                result.raw_payload,
                ids,
                function_error=result.function_error is not None,
                report_failures=self.spec.report_failures,
            )
        self._delete([message for message in batch if message["MessageId"] not in failed])
        self._count(batch, failed=failed)
        self._report(BatchOutcome(self.spec.name, len(batch), len(failed), False, began, duration_ms, result, why))
        return False

    def _report(self, outcome: BatchOutcome) -> None:
        if self._on_batch is not None:
            self._on_batch(outcome)

    def _count(self, batch: Sequence[Any], *, failed: set[str] | None = None, throttled: bool = False) -> None:
        with self._lock:
            self._stats.batches += 1
            self._stats.in_flight -= len(batch)
            if throttled:
                self._stats.throttled += len(batch)
                return
            for message in batch:
                if message["MessageId"] not in (failed or set()):
                    self._stats.succeeded += 1
                elif self._last_receive(message):
                    self._stats.dead_lettered += 1
                else:
                    self._stats.retried += 1

    def _last_receive(self, message: dict[str, Any]) -> bool:
        count = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))
        return self._max_receive_count is not None and count >= self._max_receive_count

    def _entries(self, batch: Sequence[dict[str, Any]], **extra: Any) -> list[list[dict[str, Any]]]:
        entries = [{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"], **extra} for index, m in enumerate(batch)]
        return [entries[i : i + 10] for i in range(0, len(entries), 10)]

    def _delete(self, messages: Sequence[dict[str, Any]]) -> None:
        for chunk in self._entries(messages):
            self._client.delete_message_batch(QueueUrl=self.queue_url, Entries=chunk)

    def _give_back(self, messages: Sequence[dict[str, Any]]) -> None:
        for chunk in self._entries(messages, VisibilityTimeout=0):
            self._client.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=chunk)
