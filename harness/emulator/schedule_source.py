"""Schedules (``Type: Schedule`` / ``ScheduleV2``) fired on time, as EventBridge fires them: asynchronously.

One thread keeps every schedule's next time on a clock that may run fast (``speedup``: 3600 makes an hour pass in a
second, so ``rate(1 hour)`` fires every second of a lab run) and sends each due event as an ``Event`` invocation,
which the emulator's async queue runs, retries on error and holds while throttled, as Lambda's does.
``fire_now`` sends every schedule once at start as well. The event is EventBridge's scheduled event (``Input``, when
the template gives one, replaces it), with ``time`` on the schedule's clock.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.emulator.event_source_specs import ScheduleSpec
from harness.emulator.lambda_env import ACCOUNT_ID
from harness.emulator.schedule_expr import ScheduleExpression, parse_schedule

__all__ = ["ScheduleClock", "ScheduleStats", "Scheduler", "scheduled_event"]


class ScheduleClock:
    """Wall-clock time that advances ``speedup`` times faster than real time from the moment it is made."""

    def __init__(self, speedup: float = 1.0, *, start: datetime | None = None) -> None:
        if not speedup > 0:
            raise ValueError(f"speedup must be greater than 0, got {speedup}")
        self.speedup = speedup
        self._start = start or datetime.now(UTC)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._t0) * self.speedup)

    def real_seconds_until(self, moment: datetime) -> float:
        return max(0.0, (moment - self.now()).total_seconds() / self.speedup)


@dataclass
class ScheduleStats:
    schedule: str
    function: str
    expression: str
    fired: int = 0
    last_fired: str | None = None
    next_fire: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def scheduled_event(spec: ScheduleSpec, moment: datetime, *, region: str, stack: str = "local") -> bytes:
    """The payload: the template's ``Input``, else EventBridge's ``Scheduled Event`` for ``moment``."""
    if spec.input is not None:
        return spec.input.encode()
    if spec.kind == "ScheduleV2":
        resource = f"arn:aws:scheduler:{region}:{ACCOUNT_ID}:schedule/default/{stack}-{spec.function}{spec.event}"
    else:
        resource = f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{stack}-{spec.function}{spec.event}"
    event: dict[str, Any] = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events" if spec.kind == "Schedule" else "aws.scheduler",
        "account": ACCOUNT_ID,
        "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [resource],
        "detail": {},
    }
    return json.dumps(event).encode()


class Scheduler:
    """Fires ``schedules`` through ``submit(function, payload)`` (an Event invocation) until :meth:`stop`."""

    def __init__(
        self,
        schedules: list[ScheduleSpec],
        *,
        submit: Callable[[str, bytes], None],
        region: str,
        clock: ScheduleClock | None = None,
        fire_now: bool = False,
        stack: str = "local",
    ) -> None:
        self._specs = [spec for spec in schedules if spec.enabled]
        self._expressions: dict[str, ScheduleExpression] = {
            spec.name: parse_schedule(spec.expression, spec.timezone) for spec in self._specs
        }
        self._submit = submit
        self._region = region
        self._stack = stack
        self.clock = clock or ScheduleClock()
        self._fire_now = fire_now
        self._stats = {spec.name: ScheduleStats(spec.name, spec.function, spec.expression) for spec in self._specs}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Scheduler:
        if self._specs:
            self._thread = threading.Thread(target=self._run, name="schedules", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def stats(self) -> list[ScheduleStats]:
        with self._lock:
            return [ScheduleStats(**stats.as_dict()) for stats in self._stats.values()]

    def _fire(self, spec: ScheduleSpec, moment: datetime) -> None:
        self._submit(spec.function, scheduled_event(spec, moment, region=self._region, stack=self._stack))
        with self._lock:
            stats = self._stats[spec.name]
            stats.fired += 1
            stats.last_fired = moment.isoformat()

    def _run(self) -> None:
        start = self.clock.now()
        upcoming: dict[str, datetime | None] = {}
        for spec in self._specs:
            if self._fire_now:
                self._fire(spec, start)
            upcoming[spec.name] = self._expressions[spec.name].next_fire(start)
        while not self._stopping.is_set():
            with self._lock:
                for name, moment in upcoming.items():
                    self._stats[name].next_fire = moment.isoformat() if moment else None
            due = [moment for moment in upcoming.values() if moment is not None]
            if not due:
                return
            soonest = min(due)
            if self._stopping.wait(min(self.clock.real_seconds_until(soonest), 1.0)):
                return
            now = self.clock.now()
            for spec in self._specs:
                moment = upcoming[spec.name]
                if moment is not None and moment <= now:
                    self._fire(spec, moment)
                    upcoming[spec.name] = self._expressions[spec.name].next_fire(moment)
