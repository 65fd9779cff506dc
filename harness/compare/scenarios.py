"""The scenarios: what traffic each strategy faces, one function each, selectable by name.

Every scenario runs one strategy against a fresh database and returns one :class:`RunRecord` per step. What a step
measures is always the same (see :func:`measure`): clients drive the real function through the local Lambda while a
monitor samples the server, so rows are comparable across scenarios.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.compare.driver import drive
from harness.compare.lab import FUNCTION, LOCAL_PARAMETERS, Deployment, Lab, ServerProfile
from harness.compare.progress import Progress
from harness.compare.records import RunRecord
from harness.compare.strategies import Strategy
from harness.compare.workload import Workload, http_event
from harness.emulator import LocalLambda
from harness.monitor import ConnectionMonitor

__all__ = ["SCENARIOS", "CompareOptions", "ScenarioContext"]

SUPERUSER_RESERVED = 3  # Postgres' superuser_reserved_connections default: slots the application never gets
MONITOR_CONNECTIONS = 1  # the monitor's superuser connection takes an ordinary slot while one is free
SEED_ITEMS = 20
FROZEN_AFTER_KILL_S = 1.5  # longer than the layer's DB_PING_AFTER_IDLE_S default (1 s)


@dataclass(frozen=True, slots=True)
class CompareOptions:
    """Everything a comparison run can be told; validated by the CLI before anything starts."""

    scenarios: tuple[str, ...]
    strategies: tuple[str, ...]
    # Defaults sized so that `make compare` finishes in a few minutes on 2 cores: every environment of every strategy
    # starts cold (about 0.5 s of CPU each), so the burst sweep stops at 32; `--concurrency 1,8,32,64` for more.
    concurrency: tuple[int, ...] = (1, 8, 32)
    invocations: int = 10
    max_connections: int = 10
    over_budget_factor: float = 3.0
    idle_timeout_s: float = 1.0
    idle_ttl_s: float = 2.0
    ramp: tuple[int, ...] = (1, 2, 4, 8, 16)
    read_ratio: float = 0.8
    template: Path = Path("template.yaml")
    output_dir: Path = Path("reports")

    @property
    def app_slots(self) -> int:
        """Connections the application can hold on the small server: max_connections less the reserved ones."""
        return self.max_connections - SUPERUSER_RESERVED

    @property
    def connection_budget(self) -> int:
        """What the template's budget would be here: the free slots less what other clients (the monitor) hold."""
        return self.app_slots - MONITOR_CONNECTIONS

    def as_dict(self) -> dict[str, Any]:
        return {
            name: (str(value) if isinstance(value, Path) else value)
            for name, value in ((f, getattr(self, f)) for f in self.__dataclass_fields__)
        }


@dataclass
class ScenarioContext:
    lab: Lab
    options: CompareOptions
    notes: list[str] = field(default_factory=list)

    @contextmanager
    def local_lambda(
        self, strategy: Strategy, deployment: Deployment, *, reserved: int | None, idle_ttl_s: float = 600.0
    ) -> Iterator[LocalLambda]:
        """The template's functions in a local Lambda, configured for one strategy, with a concurrency cap."""
        with LocalLambda.from_template(
            self.options.template,
            parameter_overrides=LOCAL_PARAMETERS,
            env_vars=self.lab.function_env(strategy, deployment),
            idle_ttl_s=idle_ttl_s,
            max_environments=1000,
            freeze=True,
        ) as lam:
            lam.set_reserved_concurrency(FUNCTION, reserved)
            yield lam

    def seed(self, lam: LocalLambda) -> list[str]:
        """Create the rows reads will fetch, through the function itself (the schema stays the function's business)."""
        ids = []
        for number in range(SEED_ITEMS):
            result = lam.invoke(
                FUNCTION, http_event("POST", "/items", body={"name": f"seed-{number}"}, route_key="POST /items")
            )
            ids.append(_created_id(result.payload))
        return ids


def _created_id(response: Any) -> str:
    import json

    if not isinstance(response, dict) or int(response.get("statusCode", 0)) >= 300:
        raise RuntimeError(f"seeding the items table failed: {str(response)[:300]}")
    body = json.loads(response["body"])
    return str(body["id"])


def prewarm(lam: LocalLambda, count: int, label: str) -> None:
    """Start ``count`` environments (their init done), showing how many are ready: cold starts take seconds here."""
    with Progress(f"{label} starting", count, unit="warm") as progress:
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.2):
                progress.set_done(sum(1 for env in lam.environments(FUNCTION) if env.state != "initialising"))

        watcher = threading.Thread(target=watch, name="prewarm-watch", daemon=True)
        watcher.start()
        try:
            lam.prewarm(FUNCTION, count)
        finally:
            done.set()
            watcher.join()
        progress.set_done(count)


def measure(
    ctx: ScenarioContext,
    lam: LocalLambda,
    strategy: Strategy,
    deployment: Deployment,
    *,
    scenario: str,
    step: str,
    clients: int,
    invocations: int,
    workload: Workload,
    parameters: dict[str, Any],
    pause_s: float = 0.0,
    after: Callable[[], None] | None = None,
) -> RunRecord:
    """One step: clients drive the function while the monitor samples the server."""
    monitor = ConnectionMonitor(deployment.server, database=deployment.database).start()
    label = f"{scenario}/{strategy.name} {step}"
    began = time.monotonic()
    with Progress(label, clients * invocations) as progress:
        records = drive(
            functools.partial(lam.invoke, log_tail=True),
            FUNCTION,
            workload,
            clients=clients,
            invocations=invocations,
            t0=began,
            pause_s=pause_s,
            on_request=progress.add,
        )
    duration = time.monotonic() - began
    environments = len(lam.environments(FUNCTION))  # before any scale-down wait reclaims them
    if after is not None:
        after()
    result = monitor.stop()
    run = RunRecord(
        strategy=strategy.name,
        scenario=scenario,
        step=step,
        parameters={"clients": clients, "invocations": invocations, **parameters},
        requests=records,
        samples=result.samples,
        duration_s=round(duration, 4),
        connections_opened=result.connections_opened,
        final_connections=result.final_connections,
        backend_memory_kib=result.peak_memory_kib,
        environments=environments,
        connections_refused=result.connections_refused,
    )
    if result.opened_counted_from != "server log":
        run.notes.append(f"connections opened counted from {result.opened_counted_from}")
    return run


# -- the scenarios ----------------------------------------------------------------------------------------------------
ROOMY = ServerProfile(max_connections=300)


def burst(ctx: ScenarioContext, strategy: Strategy) -> list[RunRecord]:
    """N concurrent clients, M invocations each, every environment already warm: the steady state of a busy API."""
    deployment = ctx.lab.deploy(strategy, ROOMY)
    runs = []
    with ctx.local_lambda(strategy, deployment, reserved=None) as lam:
        workload = Workload(ctx.seed(lam), read_ratio=ctx.options.read_ratio)
        for clients in ctx.options.concurrency:
            prewarm(lam, clients, f"burst/{strategy.name} c={clients}")
            runs.append(
                measure(
                    ctx,
                    lam,
                    strategy,
                    deployment,
                    scenario="burst",
                    step=f"c={clients}",
                    clients=clients,
                    invocations=ctx.options.invocations,
                    workload=workload,
                    parameters={"max_connections": ROOMY.max_connections},
                )
            )
    return runs


def over_budget(ctx: ScenarioContext, strategy: Strategy) -> list[RunRecord]:
    """More concurrent environments than the server has connection slots.

    Runs the same load twice: on a roomy server with room for every environment (the uncontended reference, no
    cap needed) and on one whose ``max_connections`` is small. There, strategies the template caps get
    ``ReservedConcurrentExecutions`` equal to the connection budget, so Lambda throttles the excess before the
    database sees it.
    """
    options = ctx.options
    clients = max(2, math.ceil(options.app_slots * options.over_budget_factor))
    small = ServerProfile(max_connections=options.max_connections)
    runs = []
    for step, profile, reserved in (
        ("roomy server", ROOMY, None),
        (f"max_connections={options.max_connections}", small, options.connection_budget if strategy.capped else None),
    ):
        deployment = ctx.lab.deploy(strategy, profile)
        with ctx.local_lambda(strategy, deployment, reserved=reserved) as lam:
            prewarm(lam, min(clients, reserved or clients), f"over_budget/{strategy.name} {step}")
            runs.append(
                measure(
                    ctx,
                    lam,
                    strategy,
                    deployment,
                    scenario="over_budget",
                    step=step,
                    clients=clients,
                    invocations=options.invocations,
                    workload=Workload(ctx.seed(lam), read_ratio=options.read_ratio),
                    parameters={"max_connections": profile.max_connections, "reserved": reserved},
                )
            )
    return runs


def freeze_thaw(ctx: ScenarioContext, strategy: Strategy) -> list[RunRecord]:
    """Idle gaps longer than the server's ``idle_session_timeout``, and backends killed while environments sleep.

    Between invocations environments are frozen (SIGSTOP), so nothing in them notices the server closing their
    connections; the first query after the thaw meets a dead socket unless the layer checks first.
    """
    options = ctx.options
    profile = ServerProfile(max_connections=300, idle_session_timeout_s=options.idle_timeout_s)
    deployment = ctx.lab.deploy(strategy, profile)
    clients, invocations = 4, 5
    with ctx.local_lambda(strategy, deployment, reserved=None) as lam:
        prewarm(lam, clients, f"freeze_thaw/{strategy.name}")
        step = functools.partial(
            measure,
            ctx,
            lam,
            strategy,
            deployment,
            scenario="freeze_thaw",
            clients=clients,
            invocations=invocations,
            workload=Workload(ctx.seed(lam), read_ratio=options.read_ratio),
            parameters={"idle_session_timeout_s": options.idle_timeout_s},
        )
        runs = [step(step="warm")]
        time.sleep(options.idle_timeout_s * 1.5 + 0.5)
        runs.append(step(step="after idle_session_timeout"))
        # Backends killed while the environments sleep, as a failover or an operator would; the environments stay
        # frozen a little longer than the layer's idle threshold, as they would between real requests.
        deployment.server.terminate_backends(database=deployment.database)
        time.sleep(FROZEN_AFTER_KILL_S)
        runs.append(step(step="after pg_terminate_backend"))
    return runs


def scale_down(ctx: ScenarioContext, strategy: Strategy) -> list[RunRecord]:
    """Traffic stops; Lambda reclaims idle environments after a while. Do the server's connections go with them?"""
    options = ctx.options
    deployment = ctx.lab.deploy(strategy, ROOMY)
    clients = 8
    with ctx.local_lambda(strategy, deployment, reserved=None, idle_ttl_s=options.idle_ttl_s) as lam:
        workload = Workload(ctx.seed(lam), read_ratio=options.read_ratio)
        prewarm(lam, clients, f"scale_down/{strategy.name}")

        def wait_for_reclaim() -> None:
            time.sleep(options.idle_ttl_s + 2.0)

        run = measure(
            ctx,
            lam,
            strategy,
            deployment,
            scenario="scale_down",
            step=f"c={clients}, ttl={options.idle_ttl_s}s",
            clients=clients,
            invocations=options.invocations,
            workload=workload,
            parameters={"idle_ttl_s": options.idle_ttl_s},
            after=wait_for_reclaim,
        )
    return [run]


def ramp(ctx: ScenarioContext, strategy: Strategy) -> list[RunRecord]:
    """Concurrency rising step by step as a spike arrives; environments start cold as they are needed."""
    options = ctx.options
    deployment = ctx.lab.deploy(strategy, ROOMY)
    runs = []
    with ctx.local_lambda(strategy, deployment, reserved=None) as lam:
        workload = Workload(ctx.seed(lam), read_ratio=options.read_ratio)
        for clients in options.ramp:
            runs.append(
                measure(
                    ctx,
                    lam,
                    strategy,
                    deployment,
                    scenario="ramp",
                    step=f"c={clients}",
                    clients=clients,
                    invocations=max(2, options.invocations // 2),
                    workload=workload,
                    parameters={"max_connections": ROOMY.max_connections},
                )
            )
    return runs


Scenario = Callable[[ScenarioContext, Strategy], list[RunRecord]]

SCENARIOS: dict[str, Scenario] = {
    "burst": burst,
    "over_budget": over_budget,
    "freeze_thaw": freeze_thaw,
    "scale_down": scale_down,
    "ramp": ramp,
}
