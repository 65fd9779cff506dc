"""The scenarios: what traffic each strategy faces, one function each, selectable by name.

Every scenario runs one strategy on a fresh database (a :class:`~harness.compare.stand.Stand`) and returns one
:class:`RunRecord` per step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.compare.judge import Judge
from harness.compare.options import CompareOptions
from harness.compare.phases import Phases
from harness.compare.queue_backlog import queue_backlog
from harness.compare.stand import Stand
from harness.compare.strategies import Strategy
from harness.kit.lab import Lab, ServerProfile
from harness.kit.records import RunRecord

__all__ = ["SCENARIOS", "CompareOptions", "ScenarioContext"]

FROZEN_AFTER_KILL_S = 1.5  # longer than the layer's DB_PING_AFTER_IDLE_S default (1 s)
ROOMY = ServerProfile(max_connections=300)
# Over budget, the queue strategy's surplus environments never get a slot (the others hold theirs for good), so each
# of their invocations spends the layer's whole connect-retry budget (DB_CONNECT_RETRY_MAX_S, 5 s by default) before
# it answers 503: 150 of them made that one step ~47 s of the run. A 1 s budget shows the same failure, sooner.
OVER_BUDGET_RETRY_S = 1
RECLAIM_GRACE_S = 3.0  # scale_down: how long past the idle TTL the reclaim may take before the step gives up waiting


@dataclass
class ScenarioContext:
    lab: Lab
    options: CompareOptions
    judge: Judge = field(default_factory=Judge)  # one per run: the report says which rules judged its answers
    phases: Phases = field(default_factory=Phases)  # one per run: where its time went, printed at the end

    def stand(
        self,
        strategy: Strategy,
        scenario: str,
        profile: ServerProfile = ROOMY,
        *,
        reserved: int | None = None,
        idle_ttl_s: float = 600.0,
        function_env: dict[str, str] | None = None,
    ) -> Stand:
        return Stand(
            self.lab,
            self.options,
            strategy,
            scenario=scenario,
            profile=profile,
            reserved=reserved,
            idle_ttl_s=idle_ttl_s,
            judge=self.judge,
            function_env=function_env,
            phases=self.phases,
        )


def burst(ctx: ScenarioContext, strategy: Strategy) -> list[RunRecord]:
    """N concurrent clients, M invocations each, every environment already warm: the steady state of a busy API."""
    runs = []
    with ctx.stand(strategy, "burst") as stand:
        for clients in ctx.options.concurrency:
            stand.prewarm(clients, f"c={clients}")
            runs.append(
                stand.measure(
                    f"c={clients}",
                    clients=clients,
                    invocations=ctx.options.invocations,
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
    capped = options.connection_budget if strategy.capped else None
    runs = []
    for step, profile, reserved in (
        ("roomy server", ROOMY, None),
        (f"max_connections={options.max_connections}", small, capped),
    ):
        short_retry = profile is small and strategy.pool_mode == "queue"
        function_env = {"DB_CONNECT_RETRY_MAX_S": str(OVER_BUDGET_RETRY_S)} if short_retry else None
        with ctx.stand(strategy, "over_budget", profile, reserved=reserved, function_env=function_env) as stand:
            stand.prewarm(min(clients, reserved or clients), step)
            run = stand.measure(
                step,
                clients=clients,
                invocations=options.invocations,
                parameters={"max_connections": profile.max_connections, "reserved": reserved, **(function_env or {})},
            )
        if short_retry:
            run.notes.append(
                f"DB_CONNECT_RETRY_MAX_S={OVER_BUDGET_RETRY_S} (the layer's default is 5): an invocation that finds no "
                f"free slot answers 503 after {OVER_BUDGET_RETRY_S} s of connect retries instead of 5"
            )
        runs.append(run)
    return runs


def freeze_thaw(ctx: ScenarioContext, strategy: Strategy) -> list[RunRecord]:
    """Idle gaps longer than the server's ``idle_session_timeout``, and backends killed while environments sleep.

    Between invocations environments are frozen (SIGSTOP), so nothing in them notices the server closing their
    connections; the first query after the thaw meets a dead socket unless the layer checks first.
    """
    options = ctx.options
    profile = ServerProfile(max_connections=300, idle_session_timeout_s=options.idle_timeout_s)
    params = {"idle_session_timeout_s": options.idle_timeout_s}
    clients, invocations = 4, 5
    with ctx.stand(strategy, "freeze_thaw", profile) as stand:
        stand.prewarm(clients)
        runs = [stand.measure("warm", clients=clients, invocations=invocations, parameters=params)]
        stand.idle(options.idle_timeout_s * 1.5 + 0.5)
        runs.append(
            stand.measure("after idle_session_timeout", clients=clients, invocations=invocations, parameters=params)
        )
        # Backends killed while the environments sleep, as a failover or an operator would; the environments stay
        # frozen a little longer than the layer's idle threshold, as they would between real requests.
        stand.deployment.server.terminate_backends(database=stand.deployment.database)
        stand.idle(FROZEN_AFTER_KILL_S)
        runs.append(
            stand.measure("after pg_terminate_backend", clients=clients, invocations=invocations, parameters=params)
        )
    return runs


def scale_down(ctx: ScenarioContext, strategy: Strategy) -> list[RunRecord]:
    """Traffic stops; Lambda reclaims idle environments after a while. Do the server's connections go with them?"""
    options = ctx.options
    clients = 8
    with ctx.stand(strategy, "scale_down", idle_ttl_s=options.idle_ttl_s) as stand:
        stand.prewarm(clients)
        run = stand.measure(
            f"c={clients}, ttl={options.idle_ttl_s}s",
            clients=clients,
            invocations=options.invocations,
            parameters={"idle_ttl_s": options.idle_ttl_s},
            after=lambda: stand.wait_reclaimed(options.idle_ttl_s + RECLAIM_GRACE_S),
        )
    return [run]


def ramp(ctx: ScenarioContext, strategy: Strategy) -> list[RunRecord]:
    """Concurrency rising step by step as a spike arrives; environments start cold as they are needed."""
    options = ctx.options
    with ctx.stand(strategy, "ramp") as stand:
        return [
            stand.measure(
                f"c={clients}",
                clients=clients,
                invocations=max(2, options.invocations // 2),
                parameters={"max_connections": ROOMY.max_connections},
            )
            for clients in options.ramp
        ]


Scenario = Callable[[ScenarioContext, Strategy], list[RunRecord]]

SCENARIOS: dict[str, Scenario] = {
    "burst": burst,
    "over_budget": over_budget,
    "freeze_thaw": freeze_thaw,
    "scale_down": scale_down,
    "ramp": ramp,
    "queue_backlog": queue_backlog,
}
