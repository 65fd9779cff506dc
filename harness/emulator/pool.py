"""The scheduler: which environment runs an event, when a new one starts, when a call is throttled, when one dies.

Lambda's rules, kept here and nowhere else: one event at a time per environment; a warm idle environment is reused
(the most recently used first, so the others age out); a new one starts only when all are busy, up to the
function's reserved concurrency, else up to the emulator-wide limit; beyond that the call is throttled with
``TooManyRequestsException``. Idle environments are reclaimed after ``idle_ttl_s`` by a timer per environment
(no sweeping loop; :mod:`harness.emulator.idle_reclaim`). Everything here runs on the event loop thread;
:mod:`harness.emulator.local_lambda` is the thread-safe face.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.emulator.environment import Environment
from harness.emulator.errors import TooManyRequestsError
from harness.emulator.events import EventQueue
from harness.emulator.idle_reclaim import IdleReclaimer, evict_longest_idle, retire_idle
from harness.emulator.invocation import Invocation
from harness.emulator.lambda_env import lambda_environment
from harness.emulator.launcher import RuntimeProcess, StartMode
from harness.emulator.missing_layers import LAYER_NOT_AVAILABLE, missing_layers_result
from harness.emulator.registry import Function, Registry
from harness.emulator.runtimes import Interpreter, RuntimeInterpreters
from harness.emulator.spec import EnvironmentInfo, FunctionSpec, InvokeResult
from harness.emulator.starters import Starters

__all__ = ["LAYER_NOT_AVAILABLE", "Pool"]

LOG_TAIL_BYTES = 4096
LOG_CAP_BYTES = 16 * 1024 * 1024  # per environment: a long run at thousands of calls/s must not fill the disk
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024  # Lambda's limit for a RequestResponse payload
# Inits at once. More only queue for the same cores, and each would then report an init inflated by the others
# (a 0.3 s import taking 10 s); beyond this a cold start waits its turn, which shows up in its latency, not its init.
INIT_PARALLELISM = max(2, 2 * (os.cpu_count() or 1))


class Pool:
    """All functions and their environments; see the module docstring for the rules."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        region: str = "us-east-1",
        max_environments: int = 1000,
        idle_ttl_s: float | None = 600.0,
        freeze: bool = True,
        init_timeout_s: float = 30.0,
        event_retry_delays_s: tuple[float, ...] = (60.0, 120.0),
        start_mode: StartMode = "fork",
        preload: Sequence[str] | None = None,
        runtimes: RuntimeInterpreters | None = None,
    ) -> None:
        if max_environments < 1:
            raise ValueError(f"max_environments must be at least 1, got {max_environments}")
        self._reclaimer = IdleReclaimer(idle_ttl_s)  # validates idle_ttl_s
        self.host = host
        self.region = region
        self.max_environments = max_environments
        self.freeze = freeze
        self.init_timeout_s = init_timeout_s
        self._registry = Registry(region)
        self._log_dir: Path | None = None  # made with the first environment
        self._in_flight = 0
        self._live = 0
        self._processes: set[Environment] = set()  # every environment not yet exited, retired or not
        self._events = EventQueue(self.invoke, retry_delays_s=event_retry_delays_s)
        self._init_gate = asyncio.Semaphore(INIT_PARALLELISM)
        self.runtimes = runtimes or RuntimeInterpreters(use_runtime=False)
        self.starters = Starters(start_mode, preload=preload, log_dir=self.log_dir)

    @property
    def idle_ttl_s(self) -> float | None:
        return self._reclaimer.idle_ttl_s

    # --- functions -------------------------------------------------------------------------------------------

    def register(self, spec: FunctionSpec) -> None:
        """Add (or replace) a function; its code directory must exist, as ``sam local`` checks too."""
        self._registry.register(spec)

    def specs(self) -> list[FunctionSpec]:
        return self._registry.specs()

    def resolve(self, name: str | Function) -> Function:
        """The function called ``name``: logical id, physical name or ARN, with an optional ``:$LATEST``.

        A ``Function`` already resolved (the Invoke API checks the name before the payload) is taken as it is.
        """
        return name if isinstance(name, Function) else self._registry.resolve(name)

    # --- invoking --------------------------------------------------------------------------------------------

    async def invoke(
        self, name: str | Function, payload: bytes, *, log_tail: bool = False, client_context: str | None = None
    ) -> InvokeResult:
        """Run one event; raises ResourceNotFoundError or TooManyRequestsError before anything runs.

        A function naming a layer that is not available locally fails here, as a function error naming the layer,
        without an environment being started: it would otherwise run without that layer's code.
        """
        fn = self.resolve(name)
        if fn.spec.missing_layers:
            return missing_layers_result(fn.spec)
        env, cold = await self._acquire(fn)
        inv = Invocation(payload, fn.arn, client_context)
        offset = env.begin_log(inv.request_id, LOG_CAP_BYTES)
        env.dispatch(inv)
        try:
            outcome = await inv.future
        finally:
            fn.in_flight -= 1
            self._in_flight -= 1
        duration_ms = (time.monotonic() - inv.started) * 1000 if inv.started else 0.0
        init_ms = env.init_duration_ms if cold else None
        env.end_log(inv.request_id, duration_ms=duration_ms, init_ms=init_ms)
        tail = env.read_log(offset, LOG_TAIL_BYTES).decode(errors="replace") if log_tail else None
        return InvokeResult(
            status_code=200,
            raw_payload=outcome.body,
            function_error=outcome.function_error,
            log_tail=tail,
            duration_ms=duration_ms,
            init_duration_ms=init_ms,
            cold_start=cold,
            environment_id=env.id,
            request_id=inv.request_id,
            start_mode=env.start_mode,
        )

    async def _acquire(self, fn: Function) -> tuple[Environment, bool]:
        reserved = fn.spec.reserved_concurrency
        if reserved is not None and fn.in_flight >= reserved:
            raise TooManyRequestsError(
                f"{fn.spec.name}: reserved concurrency of {reserved} in use",
                reason="ReservedFunctionConcurrentInvocationLimitExceeded",
            )
        if self._in_flight >= self.max_environments:
            raise TooManyRequestsError(
                f"emulator-wide concurrency limit of {self.max_environments} in use",
                reason="ConcurrentInvocationLimitExceeded",
            )
        fn.in_flight += 1
        self._in_flight += 1
        while fn.idle:
            env = fn.idle.pop()
            if env.claim():
                return env, False
        if self._live >= self.max_environments:
            evict_longest_idle(env for fn in self._registry.functions() for env in fn.idle)
        try:
            env = await self._start(fn)
        except BaseException:
            fn.in_flight -= 1
            self._in_flight -= 1
            raise
        return env, True

    async def _start(self, fn: Function) -> Environment:
        """A new environment of ``fn``, its process started (init under way); waits for a free init slot."""
        await self._init_gate.acquire()
        try:
            env = self._new_environment(fn)
        except BaseException:
            self._init_gate.release()
            raise
        try:
            await env.start(self.host)
        except BaseException:
            self._init_gate.release()
            env.kill("failed to start")
            raise
        env.ready.add_done_callback(lambda _: self._init_gate.release())  # init done, failed or killed
        return env

    def _new_environment(self, fn: Function) -> Environment:
        spec = fn.spec
        interpreter = self.runtimes.for_function(spec)

        async def launch(env: Mapping[str, str], log_fd: int) -> tuple[RuntimeProcess, StartMode]:
            same = [other for other in self.specs() if self.runtimes.for_function(other) == interpreter]
            return await self.starters.launch(spec, interpreter, same, env=env, log_fd=log_fd)

        env = Environment(
            spec,
            env=lambda_environment(spec, region=self.region, interpreter=interpreter),
            launch=launch,
            log_dir=self.log_dir(),
            freeze=self.freeze,
            init_timeout_s=self.init_timeout_s,
            on_idle=self._on_idle,
            on_gone=self._on_gone,
        )
        fn.environments.add(env)
        self._live += 1
        self._processes.add(env)
        env.exited.add_done_callback(lambda _: self._processes.discard(env))
        return env

    def _on_idle(self, env: Environment) -> None:
        fn = self._registry.named(env.spec.name)
        fn.idle.append(env)
        self._reclaimer.watch(env)

    def _on_gone(self, env: Environment) -> None:
        self._reclaimer.forget(env)
        fn = self._registry.named(env.spec.name)
        if env in fn.environments:
            fn.environments.discard(env)
            self._live -= 1
        if env in fn.idle:
            fn.idle.remove(env)

    # --- operations for the harness ----------------------------------------------------------------------------

    async def prewarm(self, name: str, count: int) -> list[str]:
        """Start environments until ``count`` are warm and idle (init done); returns their ids."""
        fn = self.resolve(name)
        limit = min(fn.spec.reserved_concurrency or self.max_environments, self.max_environments)
        if count > limit:
            raise ValueError(f"cannot prewarm {count} environments of {fn.spec.name}: the limit is {limit}")
        missing = count - len(fn.environments)

        async def one() -> None:
            env = await self._start(fn)
            await env.ready

        await asyncio.gather(*(one() for _ in range(max(0, missing))))
        return [env.id for env in fn.environments if env.state in ("idle", "busy")]

    def _by_interpreter(self) -> dict[Interpreter, list[FunctionSpec]]:
        groups: dict[Interpreter, list[FunctionSpec]] = {}
        for spec in self.specs():
            groups.setdefault(self.runtimes.for_function(spec), []).append(spec)
        return groups

    def warm_up(self) -> None:
        """Start each interpreter's fork server in the background (in ``fork`` mode)."""
        for interpreter, specs in self._by_interpreter().items():
            env = lambda_environment(specs[0], region=self.region, interpreter=interpreter)
            self.starters.warm(interpreter, specs, env)

    async def describe_start(self) -> list[str]:
        """One line per interpreter: its functions and how their environments start (waits for the servers)."""
        for server in self.starters.servers():
            with contextlib.suppress(Exception):
                await server.start()
        return [self.starters.describe(i, specs) for i, specs in self._by_interpreter().items()]

    def set_reserved_concurrency(self, name: str, reserved: int | None) -> None:
        fn = self.resolve(name)
        fn.spec = dataclasses.replace(fn.spec, reserved_concurrency=reserved)

    def environments(self, function: str | None = None) -> list[EnvironmentInfo]:
        now = time.monotonic()
        functions = [self.resolve(function)] if function is not None else list(self._registry.functions())
        infos = [env.info(now) for fn in functions for env in fn.environments]
        return sorted(infos, key=lambda info: -info.age_s)

    def find(self, env_id: str) -> Environment:
        for fn in self._registry.functions():
            for env in fn.environments:
                if env.id == env_id:
                    return env
        raise KeyError(f"no live environment {env_id!r}")

    def freeze_all(self) -> int:
        idle = [env for fn in self._registry.functions() for env in fn.environments if env.state == "idle"]
        for env in idle:
            env.freeze()
        return sum(env.frozen for env in idle)

    def reclaim_idle(self, older_than_s: float) -> int:
        return retire_idle((env for fn in self._registry.functions() for env in fn.environments), older_than_s)

    def process(self, env_id: str) -> Environment | None:
        """The environment ``env_id`` while its process has not exited (retired or not); None once it has."""
        return next((env for env in self._processes if env.id == env_id), None)

    def pids(self) -> list[int]:
        """Every process this pool started and has not yet seen exit (for the interpreter-exit safety net)."""
        return [env.pid for env in self._processes if env.pid] + self.starters.pids()

    async def stop(self, grace_s: float = 0.5) -> None:
        """Terminate every environment and wait (up to ``grace_s`` plus a little) for them to exit."""
        self._events.cancel_all()
        everything = list(self._processes)
        for env in everything:
            env.terminate("emulator stopping", grace_s)
        if everything:
            await asyncio.wait([env.exited for env in everything], timeout=grace_s + 2.0)
        await self.starters.stop()

    # --- asynchronous (Event) invocations ------------------------------------------------------------------------

    def submit_event(self, name: str | Function, payload: bytes) -> None:
        """Queue an ``Event`` invocation; throttled ones wait and retry, as Lambda's async queue does."""
        self._events.submit(self.resolve(name).spec.name, payload)

    def log_dir(self) -> Path:
        """Where each environment's stdout/stderr goes (``<environment id>.log``)."""
        if self._log_dir is None:
            self._log_dir = Path(tempfile.mkdtemp(prefix="lambda-logs-"))
        return self._log_dir
