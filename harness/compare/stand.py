"""One strategy's stack for one scenario: a fresh database, the template's functions in a local Lambda, the setup run.

What a step measures is the same everywhere (:meth:`Stand.measure`): clients drive the real function through the
local Lambda while a monitor samples the server, so rows are comparable across scenarios.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from harness.compare.db_setup import prepare_database
from harness.compare.driver import drive
from harness.compare.judge import Judge
from harness.compare.options import CompareOptions
from harness.compare.phases import Phases
from harness.compare.progress import Progress
from harness.compare.strategies import Strategy
from harness.compare.target_function import local_parameters
from harness.emulator import LocalLambda
from harness.kit.lab import Deployment, Lab, ServerProfile
from harness.kit.monitor import ConnectionMonitor
from harness.kit.outcomes import Invoker
from harness.kit.records import RequestRecord, RunRecord
from harness.kit.workload import Workload
from harness.postgres import PostgresServer

# The scenarios set the server's idle_session_timeout; a role-level one set by a migration (app_model's does, unless
# this is 0) would override it in the database and hide what freeze_thaw shows.
SETUP_ENV = {"ROLE_IDLE_SESSION_TIMEOUT_S": "0"}
# Environments a stand's local Lambda holds at most: the largest --concurrency or --ramp step it can serve.
MAX_ENVIRONMENTS = 1000

__all__ = ["MAX_ENVIRONMENTS", "Stand", "measure_step"]


class Stand:
    """``with Stand(...) as stand:`` deploys, starts the local Lambda and runs the setup; leaving stops everything.

    The strategy reaches the function the way a user sets it: its ``DB_POOL_MODE`` and ``DATABASE_URL`` (PgBouncer's
    for the ``*_pgbouncer`` rows). Setup functions connect directly, with the template's own pool mode.

    Parameters
    ----------
    reserved:
        The function's ``ReservedConcurrentExecutions`` (None: no cap but the emulator's).
    idle_ttl_s:
        How long an idle environment lives before it is reclaimed.
    function_env:
        Variables the scenario sets on the function beyond the strategy's (the layer's settings it varies).
    phases:
        The run's time recorder (:mod:`harness.compare.phases`); a stand times its own phases under ``scenario``.
    """

    def __init__(
        self,
        lab: Lab,
        options: CompareOptions,
        strategy: Strategy,
        *,
        scenario: str,
        profile: ServerProfile,
        reserved: int | None = None,
        idle_ttl_s: float = 600.0,
        judge: Judge | None = None,
        function_env: Mapping[str, str] | None = None,
        phases: Phases | None = None,
    ) -> None:
        self.strategy = strategy
        self.phases = phases or Phases()
        self.scenario = scenario
        self.spec = options.spec
        self.function = self.spec.function
        self.judge = judge or Judge()
        with self.phases.timed(scenario, "deploy"):
            self.deployment = lab.deploy(strategy, profile)
        self.lam = LocalLambda.from_template(
            options.template,
            parameter_overrides=local_parameters(options.template),
            env_vars=self._env_vars(lab, strategy, self.deployment, function_env or {}),
            idle_ttl_s=idle_ttl_s,
            max_environments=MAX_ENVIRONMENTS,
            freeze=True,
        )
        self.reserved = reserved
        self.workload: Workload | None = None

    def _env_vars(
        self, lab: Lab, strategy: Strategy, deployment: Deployment, function_env: Mapping[str, str]
    ) -> dict[str, dict[str, str]]:
        setup_env = {
            "DATABASE_URL": deployment.direct_url,
            "DB_SECRET_ARN": "",
            "DB_SSLMODE": "disable",
            **SETUP_ENV,
        }
        env = {call.function: setup_env for call in self.spec.setup}
        env.update(lab.function_env(strategy, deployment, function=self.function, **SETUP_ENV, **function_env))
        return env

    def __enter__(self) -> Stand:
        with self.phases.timed(self.scenario, "start"):
            self.lam.start()
        try:
            with self.phases.timed(self.scenario, "setup"):
                self.lam.set_reserved_concurrency(self.function, self.reserved)
                filler = prepare_database(self.lam.invoke, self.spec, self.deployment.direct_url)
                if self.spec.setup:  # the setup's environments go before the traffic, so they are not counted
                    self._retire_setup_environments()
            self.workload = Workload([(e.event, e.weight) for e in self.spec.events], fill=filler.fill)
        except BaseException:
            self._stop()
            raise
        return self

    def _retire_setup_environments(self) -> None:
        ids = [env.id for env in self.lam.environments()]
        self.lam.reclaim_idle()
        for env_id in ids:
            self.lam.wait_gone(env_id)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        with self.phases.timed(self.scenario, "stop"):
            self.lam.stop()

    def idle(self, seconds: float) -> None:
        """Let the environments sit frozen for ``seconds`` (a gap between requests), timed as a wait."""
        with self.phases.timed(self.scenario, "wait"):
            time.sleep(seconds)

    def wait_reclaimed(self, timeout_s: float) -> None:
        """Block until the idle timers have reclaimed every environment of the function, or ``timeout_s`` passed.

        Waits for each environment's process to exit (its sockets close with it) rather than sleeping, so the
        scale-down step ends as soon as the last one is gone; what a late reclaim leaves behind shows in the step's
        final connections.
        """
        deadline = time.monotonic() + timeout_s
        for env in self.lam.environments(self.function):
            self.lam.wait_gone(env.id, timeout_s=max(0.1, deadline - time.monotonic()))

    def prewarm(self, count: int, label: str = "") -> None:
        """Start ``count`` environments (their init done), showing how many are ready: cold starts take seconds."""
        name = f"{self.scenario}/{self.strategy.name}{' ' + label if label else ''} starting"
        with self.phases.timed(self.scenario, "prewarm"), Progress(name, count, unit="warm") as progress:
            done = threading.Event()

            def watch() -> None:
                while not done.wait(0.2):
                    envs = self.lam.environments(self.function)
                    progress.set_done(sum(1 for env in envs if env.state != "initialising"))

            watcher = threading.Thread(target=watch, name="prewarm-watch", daemon=True)
            watcher.start()
            try:
                self.lam.prewarm(self.function, count)
            finally:
                done.set()
                watcher.join()
            progress.set_done(count)

    def measure(
        self,
        step: str,
        *,
        clients: int,
        invocations: int,
        parameters: dict[str, Any] | None = None,
        after: Callable[[], None] | None = None,
    ) -> RunRecord:
        """One step: ``clients`` drive the function ``invocations`` times each while the monitor samples the server.

        ``after`` runs once the clients are done and before the monitor stops (a scale-down wait, say); it is timed
        as a wait, the rest of the step as measuring.
        """
        assert self.workload is not None, "use the Stand in a with block"
        timed_after = None if after is None else functools.partial(self._timed_wait, after)
        with self.phases.timed(self.scenario, "measure"):
            return measure_step(
                functools.partial(self.lam.invoke, log_tail=True),
                self.workload,
                self.deployment.server,
                database=self.deployment.database,
                strategy=self.strategy.name,
                scenario=self.scenario,
                step=step,
                clients=clients,
                invocations=invocations,
                parameters=parameters or {},
                environments=lambda records: len(self.lam.environments(self.function)),
                after=timed_after,
                function=self.function,
                judge=self.judge,
            )

    def _timed_wait(self, wait: Callable[[], None]) -> None:
        with self.phases.timed(self.scenario, "wait"):
            wait()


def measure_step(
    invoke: Invoker,
    workload: Workload,
    server: PostgresServer,
    *,
    database: str,
    strategy: str,
    scenario: str,
    step: str,
    clients: int,
    invocations: int,
    parameters: dict[str, Any],
    environments: Callable[[list[RequestRecord]], int],
    after: Callable[[], None] | None = None,
    function: str,
    judge: Judge | None = None,
) -> RunRecord:
    """Clients drive ``function`` through ``invoke`` while a monitor samples ``database``: one row of the report.

    ``environments`` counts the execution environments that served, read before ``after`` (which may reclaim them).
    """
    monitor = ConnectionMonitor(server, database=database).start()
    began = time.monotonic()
    with Progress(f"{scenario}/{strategy} {step}", clients * invocations) as progress:
        records = drive(
            invoke,
            function,
            workload,
            clients=clients,
            invocations=invocations,
            t0=began,
            on_request=progress.add,
            judge=judge,
        )
    duration = time.monotonic() - began
    served_by = environments(records)
    if after is not None:
        after()
    result = monitor.stop()
    run = RunRecord(
        strategy=strategy,
        scenario=scenario,
        step=step,
        parameters={"clients": clients, "invocations": invocations, **parameters},
        requests=records,
        samples=result.samples,
        duration_s=round(duration, 4),
        connections_opened=result.connections_opened,
        connections_refused=result.connections_refused,
        final_connections=result.final_connections,
        backend_memory_kib=result.peak_memory_kib,
        environments=served_by,
    )
    if result.opened_counted_from != "server log":
        run.notes.append(f"connections opened counted from {result.opened_counted_from}")
    return run
