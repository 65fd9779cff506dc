"""``LocalLambda``: the emulator as a thread-safe Python object, for the harness, the tests and ``harness emulate``.

The machinery (environments, Runtime APIs, HTTP front ends) runs on one asyncio loop in a background thread
(:mod:`harness.emulator.loop_thread`); each public method hands its work to that loop and waits. Every process
started is killed by :meth:`LocalLambda.stop`, by the context manager on any exception, and, as a last resort, by an
``atexit`` hook that kills the process groups (:mod:`harness.emulator.process_reaper`).

Example
-------
>>> with LocalLambda.from_template("template.yaml", idle_ttl_s=600) as lam:  # doctest: +SKIP
...     lam.prewarm("ItemsFunction", 8)
...     result = lam.invoke("ItemsFunction", {"rawPath": "/health"})
...     result.payload["statusCode"], result.cold_start
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.emulator.errors import RequestTooLargeError, TooManyRequestsError
from harness.emulator.event_source_specs import EventSourceSpecs
from harness.emulator.event_sources import EventSourceOptions, EventSources
from harness.emulator.loop_thread import LoopThread
from harness.emulator.pool import MAX_SYNC_PAYLOAD, Pool
from harness.emulator.process_reaper import ProcessReaper
from harness.emulator.runtimes import RuntimeInterpreters
from harness.emulator.spec import EnvironmentInfo, FunctionSpec, InvokeResult, Route
from harness.emulator.starters import start_mode_from_env
from harness.emulator.strict_json import check_json

__all__ = ["LocalLambda"]


class LocalLambda:
    """Lambda's execution model, locally: see the package docstring for what is emulated.

    Parameters
    ----------
    functions, routes
        What to run; :meth:`from_template` builds both from a SAM template.
    idle_ttl_s
        Reclaim an environment idle this long (None: never).
    max_environments
        The emulator-wide concurrency limit (Lambda's account limit); functions without reserved concurrency share it.
    freeze
        SIGSTOP idle environments, as Lambda freezes them; False leaves them running (timers fire).
    init_timeout_s
        Kill an environment whose init takes longer. Lambda allows 10 s; a cold-start storm on a small shared machine
        can take longer for reasons Lambda would not have, hence the generous default.
    event_retry_delays_s
        After a failed ``Event`` invocation, wait this long and retry, once per entry (Lambda: about 1 and 2 min).
    serve
        Also serve the Invoke API on ``port`` and the API Gateway routes on ``api_port`` (0: any free port).
    event_sources, event_source_options
        The template's queues, SQS mappings and schedules, run only when ``event_source_options`` is given
        (see :mod:`harness.emulator.event_sources`).
    start_mode
        ``fork``: each environment is forked from a fork server per interpreter that has imported the runtime client
        and what the layers import (``preload`` replaces that list); ``fresh``: a new interpreter per environment,
        as Lambda's own cold start is. None reads ``LOCAL_LAMBDA_START_MODE`` (default ``fork``); see
        :mod:`harness.emulator.starters`.
    runtime_interpreters
        Run each function on the interpreter its ``Runtime`` names, in a cached venv (see
        :mod:`harness.emulator.runtimes`); False: on the emulator's own Python. :attr:`notes` says where that failed.
    """

    def __init__(
        self,
        functions: Iterable[FunctionSpec] = (),
        *,
        routes: Iterable[Route] = (),
        host: str = "127.0.0.1",
        region: str = "us-east-1",
        idle_ttl_s: float | None = 600.0,
        max_environments: int = 1000,
        freeze: bool = True,
        init_timeout_s: float = 30.0,
        event_retry_delays_s: tuple[float, ...] = (60.0, 120.0),
        serve: bool = False,
        port: int = 0,
        api_port: int = 0,
        event_sources: EventSourceSpecs | None = None,
        event_source_options: EventSourceOptions | None = None,
        start_mode: str | None = None,
        preload: Sequence[str] | None = None,
        runtime_interpreters: bool = True,
        runtime_cache_dir: Path | None = None,
    ) -> None:
        self.pool = Pool(
            start_mode=start_mode_from_env(start_mode),
            preload=preload,
            runtimes=RuntimeInterpreters(cache_dir=runtime_cache_dir, use_runtime=runtime_interpreters),
            host=host,
            region=region,
            max_environments=max_environments,
            idle_ttl_s=idle_ttl_s,
            freeze=freeze,
            init_timeout_s=init_timeout_s,
            event_retry_delays_s=event_retry_delays_s,
        )
        for spec in functions:
            self.pool.register(spec)
        self.routes = list(routes)
        self._host, self._serve, self._port, self._api_port = host, serve, port, api_port
        self.invoke_api_url: str | None = None
        self.http_api_url: str | None = None
        self._servers: list[asyncio.Server] = []
        self._loop = LoopThread(
            "local-lambda", not_started="LocalLambda is not started: use it as a context manager or call start()"
        )
        self._stopped = False
        self._reaper = ProcessReaper(self._pids)  # armed from start() to stop()
        self._sources = (
            EventSources(
                event_sources or EventSourceSpecs(),
                event_source_options,
                invoke=self._invoke_bytes,
                submit_event=self._submit_bytes,
                region=region,
                host=host,
            )
            if event_source_options is not None
            else None
        )

    @classmethod
    def from_template(
        cls,
        template: str | Path,
        *,
        parameter_overrides: Mapping[str, str] | None = None,
        env_vars: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> LocalLambda:
        """Functions, layers and API routes from a SAM template, resolved as ``sam local`` would."""
        from harness.emulator.template import load_template

        loaded = load_template(
            Path(template), parameter_overrides=parameter_overrides, env_vars=env_vars, region=options.get("region")
        )
        options["region"] = loaded.region
        return cls(loaded.functions, routes=loaded.routes, event_sources=loaded.event_sources, **options)

    # --- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> LocalLambda:
        if self._loop.started:
            return self
        self.pool.runtimes.prepare(self.pool.specs())  # builds a runtime's venv the first time (once, cached)
        self._loop.start()
        self._reaper.arm()
        self._loop.run(self.pool.warm_up)
        if self._serve:
            self._loop.call(self._start_servers())
        if self._sources is not None:
            try:
                self._sources.start()
            except BaseException:
                self.stop()
                raise
        return self

    async def _start_servers(self) -> None:
        from harness.emulator.http_api import serve_http_api
        from harness.emulator.invoke_api import serve_invoke_api

        invoke = await serve_invoke_api(self.pool, self._host, self._port, event_sources=self.event_source_stats)
        self._servers.append(invoke)
        self.invoke_api_url = f"http://{self._host}:{invoke.sockets[0].getsockname()[1]}"
        if self.routes:
            api = await serve_http_api(self.pool, self.routes, self._host, self._api_port)
            self._servers.append(api)
            self.http_api_url = f"http://{self._host}:{api.sockets[0].getsockname()[1]}"

    def stop(self) -> None:
        """Shut every environment down (SIGTERM, then SIGKILL) and stop the loop; safe to call twice."""
        if self._stopped or not self._loop.started:
            return
        self._stopped = True
        try:
            if self._sources is not None:
                self._sources.stop()  # no new batch or schedule while the environments go
            self._loop.call(self._shutdown())
        finally:
            self._reaper.kill()
            self._loop.stop()
            self._reaper.disarm()
            shutil.rmtree(self.pool.log_dir(), ignore_errors=True)

    async def _shutdown(self) -> None:
        for server in self._servers:
            server.close()
        await self.pool.stop()

    def _pids(self) -> list[int]:
        """Every process started and not yet seen exit: the environments, the fork servers, moto."""
        pids: list[int] = []
        for _ in range(3):  # the loop thread may change the set while we copy it (only at interpreter exit)
            with contextlib.suppress(RuntimeError):
                pids = self.pool.pids()
                break
        if self._sources is not None and self._sources.pid:
            pids.append(self._sources.pid)
        return pids

    def __enter__(self) -> LocalLambda:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- the API ---------------------------------------------------------------------------------------------

    @property
    def start_mode(self) -> str:
        """``fork`` or ``fresh``: how new environments start (a function may still fall back; see :attr:`notes`)."""
        return self.pool.starters.mode

    @property
    def notes(self) -> list[str]:
        """What did not go as configured: a runtime's interpreter missing, a fork server that fell back, ..."""
        return [*self.pool.runtimes.notes, *self.pool.starters.notes]

    def describe_start(self) -> list[str]:
        """One line per interpreter in use: which Python runs which functions, and how their environments start."""
        return self._loop.call(self.pool.describe_start())

    def register(self, spec: FunctionSpec) -> None:
        """Add a function (ValueError if its code directory does not exist)."""
        if not self._loop.started:
            self.pool.register(spec)
        else:
            self.pool.runtimes.prepare([spec])
            self._loop.run(self.pool.register, spec)

    def invoke(
        self,
        function: str,
        event: Any = None,
        *,
        payload: bytes | None = None,
        log_tail: bool = False,
        client_context: Mapping[str, Any] | None = None,
    ) -> InvokeResult:
        """Invoke synchronously (RequestResponse); thread-safe. A throttled call returns ``throttled=True``, 429.

        Raises ResourceNotFoundError for an unknown function, InvalidRequestContentError for a ``payload`` that is
        not JSON and RequestTooLargeError over 6 MB, before anything runs.
        """
        body = payload if payload is not None else json.dumps({} if event is None else event).encode()
        if len(body) > MAX_SYNC_PAYLOAD:
            raise RequestTooLargeError(f"payload of {len(body)} bytes is over Lambda's {MAX_SYNC_PAYLOAD}-byte limit")
        if payload is not None:
            check_json(payload)
        context = json.dumps(client_context) if client_context is not None else None
        try:
            return self._loop.call(self.pool.invoke(function, body, log_tail=log_tail, client_context=context))
        except TooManyRequestsError as exc:
            return InvokeResult(status_code=429, raw_payload=json.dumps(exc.body()).encode(), throttled=True)

    def invoke_event(self, function: str, event: Any = None) -> None:
        """Invoke asynchronously (Event): queued, run in the background, retried while throttled and on errors."""
        self._submit_bytes(function, json.dumps({} if event is None else event).encode())

    def _invoke_bytes(self, function: str, payload: bytes) -> InvokeResult:
        return self.invoke(function, payload=payload)

    def _submit_bytes(self, function: str, payload: bytes) -> None:
        self._loop.run(self.pool.submit_event, function, payload)

    @property
    def sqs_endpoint_url(self) -> str | None:
        """The SQS API the event sources use (moto's, started here, unless one was named); None without SQS."""
        return self._sources.endpoint_url if self._sources is not None else None

    def sqs_client(self) -> Any:
        """A boto3 SQS client for :attr:`sqs_endpoint_url` (dummy credentials unless the environment has some)."""
        from harness.emulator.sqs_server import sqs_client

        if self.sqs_endpoint_url is None:
            raise RuntimeError("no SQS API: the event sources run no SQS mapping")
        return sqs_client(self.sqs_endpoint_url, self.pool.region)

    def queue_url(self, logical_id: str) -> str:
        """The URL of a template queue (KeyError when the event sources did not create it)."""
        if self._sources is None:
            raise KeyError(f"no queue {logical_id!r}: event sources are not running")
        return self._sources.queue_url(logical_id)

    def event_source_stats(self) -> dict[str, list[dict[str, Any]]]:
        """Per SQS mapping (received, in flight, succeeded, retried, sent to the DLQ, ...) and per schedule."""
        return self._sources.stats() if self._sources is not None else {"sqs": [], "schedules": []}

    def describe_event_sources(self) -> list[str]:
        """One line per event source that runs (or is declared and does not), for a start-up header."""
        return self._sources.describe() if self._sources is not None else []

    def set_reserved_concurrency(self, function: str, reserved: int | None) -> None:
        """Change a function's ``ReservedConcurrentExecutions`` (None: share the emulator-wide limit)."""
        self._loop.run(self.pool.set_reserved_concurrency, function, reserved)

    def environments(self, function: str | None = None) -> list[EnvironmentInfo]:
        """Live environments (of one function, given its logical id or name), oldest first."""
        return self._loop.run(self.pool.environments, function)

    def prewarm(self, function: str, count: int) -> list[str]:
        """Start environments of ``function`` until ``count`` are warm (init done); returns their ids."""
        return self._loop.call(self.pool.prewarm(function, count))

    def freeze_all(self) -> int:
        """SIGSTOP every idle environment now; returns how many are frozen."""
        return self._loop.run(self.pool.freeze_all)

    def kill(self, environment_id: str, signum: int = signal.SIGKILL) -> None:
        """Send ``signum`` to one environment's process group (KeyError if there is no such live environment)."""

        def send() -> None:
            self.pool.find(environment_id).signal(signum)

        self._loop.run(send)

    def reclaim_idle(self, older_than_s: float = 0.0) -> int:
        """Shut down environments idle at least ``older_than_s``; returns how many."""
        return self._loop.run(self.pool.reclaim_idle, older_than_s)

    def wait_gone(self, environment_id: str, timeout_s: float = 5.0) -> bool:
        """Block until the environment's process has exited (True) or ``timeout_s`` passed (False)."""

        async def wait() -> bool:
            env = self.pool.process(environment_id)
            if env is None:
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(env.exited), timeout_s)
            return env.exited.done()

        return self._loop.call(wait())
