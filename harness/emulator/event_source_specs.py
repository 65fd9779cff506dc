"""The template's event sources as plain data: its SQS queues, its SQS mappings and its schedules.

Read from the resolved properties the template loader already has, so conditions, parameters and ``Globals`` apply
as they do to the functions. Kept apart from the pollers and the scheduler, which only consume these records. A
value Lambda would refuse (``BatchSize`` 0, ``MaximumConcurrency`` 1, a malformed ``cron(...)``) is a
:class:`TemplateError` naming the function, the event and the value, before anything starts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.emulator.errors import TemplateError
from harness.emulator.schedule_expr import parse_schedule

__all__ = ["EventSourceSpecs", "QueueSpec", "ScheduleSpec", "SqsMappingSpec", "read_event_sources", "read_queues"]

QUEUE = "AWS::SQS::Queue"
DEFAULT_VISIBILITY_TIMEOUT_S = 30  # SQS's default
MAX_BATCH_SIZE = 10_000  # Lambda's limit for a standard queue
MAX_WINDOW_S = 300


@dataclass(frozen=True)
class QueueSpec:
    """One ``AWS::SQS::Queue``: what the emulator creates in the SQS API it uses."""

    logical_id: str
    name: str
    visibility_timeout_s: int = DEFAULT_VISIBILITY_TIMEOUT_S
    dead_letter_queue: str | None = None  # logical id of the redrive target
    max_receive_count: int | None = None
    fifo: bool = False
    retention_s: int | None = None


@dataclass(frozen=True)
class SqsMappingSpec:
    """One ``Type: SQS`` event: an event source mapping from a queue to a function."""

    function: str
    event: str
    queue: str  # a logical id of the template, or a queue URL / ARN elsewhere
    batch_size: int = 10
    window_s: float = 0.0
    max_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency (None: the function's limit)
    report_failures: bool = False  # FunctionResponseTypes: [ReportBatchItemFailures]
    enabled: bool = True

    @property
    def name(self) -> str:
        return f"{self.function}.{self.event}"


@dataclass(frozen=True)
class ScheduleSpec:
    """One ``Type: Schedule`` (EventBridge rule) or ``ScheduleV2`` (EventBridge Scheduler) event."""

    function: str
    event: str
    expression: str
    kind: Literal["Schedule", "ScheduleV2"] = "Schedule"
    input: str | None = None  # the JSON text sent instead of the scheduled-event object
    enabled: bool = True
    timezone: str = "UTC"

    @property
    def name(self) -> str:
        return f"{self.function}.{self.event}"


@dataclass
class EventSourceSpecs:
    queues: list[QueueSpec] = field(default_factory=list)
    mappings: list[SqsMappingSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.mappings or self.schedules)


def _int(value: Any, what: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"{what} must be a whole number, got {value!r}") from exc
    if not low <= number <= high:
        raise TemplateError(f"{what} must be between {low} and {high}, got {number}")
    return number


def read_queues(resources: Mapping[str, Any], resolve: Any) -> list[QueueSpec]:
    """Every ``AWS::SQS::Queue`` with its ``VisibilityTimeout`` and ``RedrivePolicy`` (``resolve``: intrinsics)."""
    queues = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != QUEUE:
            continue
        props = resolve(resource.get("Properties") or {})
        where = f"{logical_id}"
        redrive = props.get("RedrivePolicy") or {}
        if isinstance(redrive, str):
            try:
                redrive = json.loads(redrive)
            except ValueError as exc:
                raise TemplateError(f"{where}: RedrivePolicy is not JSON") from exc
        target = redrive.get("deadLetterTargetArn")
        dead_letter = str(target).split(".", 1)[0] if target else None  # "Queue.Arn" as the resolver leaves GetAtt
        fifo = str(props.get("FifoQueue", "false")).lower() == "true"
        visibility = props.get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT_S)
        name = str(props.get("QueueName") or (f"{logical_id}.fifo" if fifo else logical_id))
        queues.append(
            QueueSpec(
                logical_id=logical_id,
                name=name,
                visibility_timeout_s=_int(visibility, f"{where}: VisibilityTimeout", 0, 43200),
                dead_letter_queue=dead_letter,
                max_receive_count=(
                    _int(redrive["maxReceiveCount"], f"{where}: maxReceiveCount", 1, 1000) if target else None
                ),
                fifo=fifo,
                retention_s=int(props["MessageRetentionPeriod"]) if props.get("MessageRetentionPeriod") else None,
            )
        )
    return queues


def _enabled(props: Mapping[str, Any]) -> bool:
    if "Enabled" in props:
        return str(props["Enabled"]).lower() != "false"
    return str(props.get("State", "ENABLED")).upper() == "ENABLED"


def read_event_sources(function: str, events: Mapping[str, Any], queues: list[QueueSpec]) -> EventSourceSpecs:
    """The SQS mappings and schedules among one function's resolved ``Events``."""
    found = EventSourceSpecs()
    known = {queue.logical_id for queue in queues}
    for event_name, event in events.items():
        kind = event.get("Type")
        props = event.get("Properties") or {}
        where = f"{function}: {kind} event {event_name}"
        if kind == "SQS":
            queue = str(props.get("Queue", ""))
            queue_id = queue.split(".", 1)[0]
            if not queue:
                raise TemplateError(f"{where}: Queue is missing")
            window = float(props.get("MaximumBatchingWindowInSeconds", 0))
            if not 0 <= window <= MAX_WINDOW_S:
                raise TemplateError(f"{where}: MaximumBatchingWindowInSeconds must be 0-{MAX_WINDOW_S}, got {window:g}")
            batch = _int(props.get("BatchSize", 10), f"{where}: BatchSize", 1, MAX_BATCH_SIZE)
            if batch > 10 and window == 0:
                raise TemplateError(f"{where}: a BatchSize over 10 needs MaximumBatchingWindowInSeconds of 1 or more")
            scaling = props.get("ScalingConfig") or {}
            max_concurrency = scaling.get("MaximumConcurrency")
            found.mappings.append(
                SqsMappingSpec(
                    function=function,
                    event=event_name,
                    queue=queue_id if queue_id in known else queue,
                    batch_size=batch,
                    window_s=window,
                    max_concurrency=(
                        _int(max_concurrency, f"{where}: ScalingConfig.MaximumConcurrency", 2, 1000)
                        if max_concurrency is not None
                        else None
                    ),
                    report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                    enabled=_enabled(props),
                )
            )
        elif kind in ("Schedule", "ScheduleV2"):
            expression = str(props.get("Schedule" if kind == "Schedule" else "ScheduleExpression", ""))
            timezone = str(props.get("ScheduleExpressionTimezone") or "UTC")
            try:
                parse_schedule(expression, timezone)
            except ValueError as exc:
                raise TemplateError(f"{where}: {exc}") from exc
            payload = props.get("Input")
            if payload is not None and not isinstance(payload, str):
                payload = json.dumps(payload)
            found.schedules.append(
                ScheduleSpec(
                    function=function,
                    event=event_name,
                    expression=expression,
                    kind=kind,
                    input=payload,
                    enabled=_enabled(props),
                    timezone=timezone,
                )
            )
    return found
