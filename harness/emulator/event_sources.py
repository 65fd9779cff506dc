"""The template's event sources, started and stopped together: an SQS API with its queues, pollers, a scheduler.

Owned by :class:`~harness.emulator.local_lambda.LocalLambda` (``event_source_options=``), which hands it a
thread-safe ``invoke`` and ``submit_event``. ``start()`` either runs everything or, on any failure (an endpoint that
does not answer, a queue that does not exist), stops what it started and raises :class:`EventSourceError` with one
line saying what is wrong, so nothing half-started is left running.

Example
-------
>>> with LocalLambda.from_template("template.yaml", event_source_options=EventSourceOptions()) as lam:  # doctest: +SKIP
...     boto3.client("sqs", endpoint_url=lam.sqs_endpoint_url).send_message(
...         QueueUrl=lam.queue_url("IngestQueue"), MessageBody='{"item": {"name": "bolt"}}')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.emulator.errors import EventSourceError
from harness.emulator.event_source_specs import EventSourceSpecs, SqsMappingSpec
from harness.emulator.schedule_source import ScheduleClock, Scheduler
from harness.emulator.spec import InvokeResult
from harness.emulator.sqs_server import MotoSqsServer, QueueAddress, create_queues, sqs_client
from harness.emulator.sqs_source import BatchOutcome, SqsPoller

__all__ = ["DEFAULT_POLLERS", "EventSourceOptions", "EventSources"]

DEFAULT_POLLERS = 5  # Lambda starts an SQS mapping with five concurrent batches; without MaximumConcurrency, the cap


@dataclass(frozen=True)
class EventSourceOptions:
    """How the event sources run.

    Parameters
    ----------
    sqs_endpoint
        An SQS API to use (queues are created there); None starts moto's server on loopback.
    visibility_timeout_s
        Replaces every template queue's ``VisibilityTimeout`` (a lab run cannot wait 90 s for each retry).
    schedule_speedup
        The schedules' clock runs this many times faster than real time.
    fire_schedules_now
        Fire every schedule once at start, then on time.
    on_batch
        Called (from a poller thread) after each SQS batch invocation.
    """

    sqs_endpoint: str | None = None
    visibility_timeout_s: int | None = None
    schedule_speedup: float = 1.0
    fire_schedules_now: bool = False
    sqs: bool = True
    schedules: bool = True
    on_batch: Callable[[BatchOutcome], None] | None = None

    def __post_init__(self) -> None:
        if self.visibility_timeout_s is not None and not 0 <= self.visibility_timeout_s <= 43200:
            raise ValueError(f"visibility_timeout_s must be 0-43200, got {self.visibility_timeout_s}")
        if not self.schedule_speedup > 0:
            raise ValueError(f"schedule_speedup must be greater than 0, got {self.schedule_speedup}")


class EventSources:
    """The running event sources of one emulator."""

    def __init__(
        self,
        specs: EventSourceSpecs,
        options: EventSourceOptions,
        *,
        invoke: Callable[[str, bytes], InvokeResult],
        submit_event: Callable[[str, bytes], None],
        region: str,
        host: str = "127.0.0.1",
    ) -> None:
        self.specs = specs
        self.options = options
        self._invoke = invoke
        self._submit = submit_event
        self._region = region
        self._host = host
        self._moto: MotoSqsServer | None = None
        self._client: Any = None
        self.endpoint_url: str | None = None
        self.queues: dict[str, QueueAddress] = {}
        self._pollers: list[SqsPoller] = []
        self._scheduler: Scheduler | None = None

    @property
    def pid(self) -> int | None:
        """moto's process, while it runs (for the interpreter-exit safety net)."""
        return self._moto.pid if self._moto is not None else None

    def start(self) -> EventSources:
        try:
            if self.options.sqs and self.specs.mappings:
                self._start_sqs()
            if self.options.schedules and self.specs.schedules:
                self._scheduler = Scheduler(
                    self.specs.schedules,
                    submit=self._submit,
                    region=self._region,
                    clock=ScheduleClock(self.options.schedule_speedup),
                    fire_now=self.options.fire_schedules_now,
                ).start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_sqs(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if self.options.sqs_endpoint is None:
            self._moto = MotoSqsServer(self._host)  # kept before it starts, so stop() reaches a half-started one
            self.endpoint_url = self._moto.start().url
        else:
            self.endpoint_url = self.options.sqs_endpoint
        assert self.endpoint_url is not None
        self._client = sqs_client(self.endpoint_url, self._region)
        try:
            self._client.list_queues(MaxResults=1)
        except (BotoCoreError, ClientError) as exc:
            raise EventSourceError(f"SQS endpoint {self.endpoint_url} does not answer: {exc}") from exc
        try:
            self.queues = create_queues(
                self._client, self.specs.queues, visibility_timeout_s=self.options.visibility_timeout_s
            )
            for mapping in self.specs.mappings:
                if mapping.enabled:
                    self._pollers.append(self._poller(mapping).start())
        except ClientError as exc:
            raise EventSourceError(f"SQS endpoint {self.endpoint_url}: {exc}") from exc

    def _poller(self, mapping: SqsMappingSpec) -> SqsPoller:
        address = self.queues.get(mapping.queue) or self._external_queue(mapping)
        queue = next((q for q in self.specs.queues if q.logical_id == mapping.queue), None)
        return SqsPoller(
            mapping,
            client=self._client,
            queue_url=address.url,
            queue_arn=address.arn,
            max_receive_count=queue.max_receive_count if queue else None,
            invoke=self._invoke,
            region=self._region,
            concurrency=mapping.max_concurrency or DEFAULT_POLLERS,
            on_batch=self.options.on_batch,
        )

    def _external_queue(self, mapping: SqsMappingSpec) -> QueueAddress:
        """A queue the template does not declare: a URL, or an ARN whose name is looked up."""
        from botocore.exceptions import ClientError

        name = mapping.queue.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        try:
            url = self._client.get_queue_url(QueueName=name)["QueueUrl"]
            arn = self._client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        except ClientError as exc:
            raise EventSourceError(
                f"{mapping.name}: queue {mapping.queue} does not exist at {self.endpoint_url}"
            ) from exc
        return QueueAddress(url, arn)

    def stop(self) -> None:
        """Stop the scheduler and the pollers, then moto; safe to call twice."""
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        for poller in self._pollers:
            poller.request_stop()  # all at once, then wait: each waits out its long poll
        for poller in self._pollers:
            poller.stop()
        self._pollers.clear()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    # --- what is running ---------------------------------------------------------------------------------------

    def queue_url(self, logical_id: str) -> str:
        if logical_id not in self.queues:
            raise KeyError(f"no queue {logical_id!r} (queues: {', '.join(sorted(self.queues)) or 'none'})")
        return self.queues[logical_id].url

    def stats(self) -> dict[str, list[dict[str, Any]]]:
        """Per mapping and per schedule figures, as ``GET /_emulator/environments`` shows them."""
        return {
            "sqs": [poller.stats().as_dict() for poller in self._pollers],
            "schedules": [s.as_dict() for s in self._scheduler.stats()] if self._scheduler else [],
        }

    def describe(self) -> list[str]:
        """One line per event source, for ``harness emulate``'s header."""
        lines = []
        if self.endpoint_url:
            lines.append(f"SQS API      {self.endpoint_url}" + ("  (moto, started here)" if self._moto else ""))
        for mapping in self.specs.mappings:
            if not (self.options.sqs and mapping.enabled):
                lines.append(f"  SQS {mapping.queue} -> {mapping.function}: not run (disabled)")
                continue
            url = self.queues[mapping.queue].url if mapping.queue in self.queues else mapping.queue
            lines.append(
                f"  SQS {url} -> {mapping.function}  (batch {mapping.batch_size}, window {mapping.window_s:g}s, "
                f"max concurrency {mapping.max_concurrency or DEFAULT_POLLERS}"
                + (", ReportBatchItemFailures" if mapping.report_failures else "")
                + ")"
            )
        for schedule in self.specs.schedules:
            state = "" if self.options.schedules and schedule.enabled else ": not run (disabled)"
            speed = f", clock x{self.options.schedule_speedup:g}" if self.options.schedule_speedup != 1 else ""
            now = ", fired at start" if self.options.fire_schedules_now and not state else ""
            lines.append(f"  {schedule.kind} {schedule.expression} -> {schedule.function}{state}{speed}{now}")
        return lines
