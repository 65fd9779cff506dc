"""What a comparison run can be told, with the defaults ``make compare`` uses; validated by the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.compare.workload_spec import WorkloadSpec, default_spec

__all__ = ["MONITOR_CONNECTIONS", "SUPERUSER_RESERVED", "CompareOptions"]

SUPERUSER_RESERVED = 3  # Postgres' superuser_reserved_connections default: slots the application never gets
MONITOR_CONNECTIONS = 1  # the monitor's superuser connection takes an ordinary slot while one is free


@dataclass(frozen=True, slots=True)
class CompareOptions:
    """Everything a comparison run can be told."""

    scenarios: tuple[str, ...]
    strategies: tuple[str, ...]
    # Environments fork from a pre-imported server (a cold start of the realistic function is tens of ms), so the
    # burst sweep reaches 64 concurrent environments per strategy within the run's few minutes on 2 cores.
    concurrency: tuple[int, ...] = (1, 8, 32, 64)
    invocations: int = 10
    max_connections: int = 10
    over_budget_factor: float = 3.0
    idle_timeout_s: float = 1.0
    idle_ttl_s: float = 2.0
    ramp: tuple[int, ...] = (1, 2, 4, 8, 16)
    messages: int = 2000  # queue_backlog: messages enqueued at once, poison_messages of them poison
    poison_messages: int = 20
    template: Path = Path("template.yaml")
    output_dir: Path = Path("reports")
    workload: WorkloadSpec | None = None  # None: the template's items function with its own events (make compare)
    postgres: str = "embedded"  # where the servers run: embedded (here) or docker (the compose file's containers)

    @property
    def spec(self) -> WorkloadSpec:
        """The function and events to run: the one given, else the default items workload next to the template."""
        return self.workload or default_spec(self.template.parent)

    @property
    def app_slots(self) -> int:
        """Connections the application can hold on the small server: max_connections less the reserved ones."""
        return self.max_connections - SUPERUSER_RESERVED

    @property
    def connection_budget(self) -> int:
        """What the template's budget would be here: the free slots less what other clients (the monitor) hold."""
        return self.app_slots - MONITOR_CONNECTIONS

    def as_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            return str(value) if isinstance(value, Path) else value

        values = {name: plain(getattr(self, name)) for name in self.__dataclass_fields__ if name != "workload"}
        return {**values, "workload": self.spec.as_dict()}
