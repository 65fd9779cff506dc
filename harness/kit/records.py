"""What one comparison run measured: raw records only, no arithmetic on them (that is :mod:`summary`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ConnectionSample", "Report", "RequestRecord", "RunRecord"]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One client request (one Lambda invocation) as the client saw it."""

    client: int
    started_s: float  # since the start of the run
    latency_ms: float  # client side, Invoke API round trip included
    ok: bool
    status: int  # HTTP status the client got (the function's, or 429 / 5xx from Lambda)
    error: str | None = None  # short, groupable: "too many clients", "TooManyRequestsException", ...
    cold_start: bool = False
    db_ms: float | None = None  # the handler's own database time, from its metrics log line
    environment: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionSample:
    """Server connections seen by the monitor at one instant (sampled from ``pg_stat_activity``)."""

    t_s: float
    app: int  # client backends of the application under test
    total: int  # all client backends (the monitor's own excluded)


@dataclass(slots=True)
class RunRecord:
    """One strategy under one scenario step (for example ``single`` / ``burst`` / ``c=32``)."""

    strategy: str
    scenario: str
    step: str
    parameters: dict[str, Any]
    requests: list[RequestRecord] = field(default_factory=list)
    samples: list[ConnectionSample] = field(default_factory=list)
    duration_s: float = 0.0
    connections_opened: int = 0  # new backends for the application during the run that went on to serve
    connections_refused: int = 0  # connection attempts the server refused (too many clients / reserved slots)
    final_connections: int = 0  # application backends left after the run (and after any scale-down wait)
    backend_memory_kib: int | None = None  # private memory of the application's backends at peak, when readable
    environments: int = 0  # execution environments that existed during the run
    notes: list[str] = field(default_factory=list)
    # what one request record is: one client "request", or one SQS "batch" invocation (of up to BatchSize messages)
    request_unit: str = "request"

    @property
    def peak_connections(self) -> int:
        return max((sample.app for sample in self.samples), default=0)


@dataclass(slots=True)
class Report:
    """Everything ``results.json`` holds: machine, versions, parameters and every run's raw figures."""

    machine: dict[str, Any]
    parameters: dict[str, Any]
    runs: list[RunRecord] = field(default_factory=list)
    verdicts: dict[str, str] = field(default_factory=dict)  # scenario -> plain-language verdict
    # scenario -> phase -> seconds: where the run's time went (harness.compare.phases); empty for a remote target
    phase_seconds: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        runs = [
            RunRecord(
                **{
                    **run,
                    "requests": [RequestRecord(**r) for r in run["requests"]],
                    "samples": [ConnectionSample(**s) for s in run["samples"]],
                }
            )
            for run in data["runs"]
        ]
        return cls(
            machine=data["machine"],
            parameters=data["parameters"],
            runs=runs,
            verdicts=data.get("verdicts", {}),
            phase_seconds=data.get("phase_seconds", {}),
        )
