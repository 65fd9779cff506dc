"""One execution environment: an OS process running awslambdaric against a Runtime API served for it alone.

The process imports the handler module once (init) and then loops on ``GET /next``; module globals, such as an
engine and its pooled connections, live as long as the process. Between invocations it is frozen with SIGSTOP,
but only once it is back blocked in ``GET /next`` (stopping it earlier could cut a response in half), and thawed
with SIGCONT when the next event is handed to it. The process runs in its own process group so that a signal
reaches anything it started, dies with the emulator (PR_SET_PDEATHSIG) if the emulator is killed before it can clean
up, and its exit is reported on the event loop (a pidfd for a fresh interpreter, the fork server's word for a forked
one): no thread, no polling. How the process starts (forked from a pre-imported server, or a fresh interpreter) is the
``launch`` callable's business; the environment only records which mode ran.
All methods run on the emulator's event loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from harness.emulator.environment_log import EnvironmentLog
from harness.emulator.http_server import HttpConnection, serve
from harness.emulator.invocation import Invocation, Outcome, exit_status, lambda_error
from harness.emulator.launcher import RuntimeProcess, StartMode
from harness.emulator.runtime_api import RuntimeApi
from harness.emulator.spec import EnvironmentInfo, EnvironmentState, FunctionSpec

__all__ = ["Environment", "Launch"]

MAX_RUNTIME_BODY = 16 * 1024 * 1024
TERMINATE_GRACE_S = 0.5

# Start the runtime process with this environment and log file descriptor; which mode it ran in comes back with it.
Launch = Callable[[Mapping[str, str], int], Awaitable[tuple[RuntimeProcess, StartMode]]]


class Environment:
    """A process plus the Runtime API it talks to; the pool decides what it runs, this class how.

    ``on_idle(env)`` is called when the environment can take a new event (after init, and after each response);
    ``on_gone(env)`` once, when it stops being usable (it died, was killed, or failed init).
    """

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        env: Mapping[str, str],
        launch: Launch,
        log_dir: Path,
        freeze: bool,
        init_timeout_s: float,
        on_idle: Callable[[Environment], None],
        on_gone: Callable[[Environment], None],
    ) -> None:
        self.spec = spec
        self.id = uuid.uuid4().hex[:12]
        self.log_stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self._env = dict(env)
        self._env["AWS_LAMBDA_LOG_STREAM_NAME"] = self.log_stream
        self._launch = launch
        self.start_mode: StartMode | None = None  # known once the process has started
        self._freeze = freeze
        self._init_timeout_s = init_timeout_s
        self._on_idle = on_idle
        self._on_gone = on_gone
        self.state: EnvironmentState = "initialising"
        self.frozen = False
        self.invocations = 0
        self.thaws = 0  # invocations dispatched to it while frozen
        self.created = time.monotonic()
        self.last_used = self.created
        self.init_duration_ms: float | None = None
        self.init_error: bytes | None = None
        self.current: Invocation | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._next_conn: HttpConnection | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.stop_reason: str | None = None  # why it was retired (idle, evicted, timeout, ...), for debugging
        self._timeout_message: str | None = None  # set when the kill was Lambda's timeout, for the caller's error
        self._server: asyncio.Server | None = None
        self._process: RuntimeProcess | None = None
        self._log = EnvironmentLog(log_dir / f"{self.id}.log")

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def start(self, host: str) -> None:
        """Serve this environment's Runtime API and start the runtime process (init begins at once)."""
        try:
            self._server = await serve(RuntimeApi(self).handle, host, 0, max_body=MAX_RUNTIME_BODY)
            port = self._server.sockets[0].getsockname()[1]
            self._env["AWS_LAMBDA_RUNTIME_API"] = f"{host}:{port}"
            self._process, self.start_mode = await self._launch(self._env, self._log.fd)
        except BaseException:
            if self._server is not None:
                self._server.close()
            self._log.close()
            self.exited.set_result(-1)
            raise
        self._process.watch(self._reap)
        if self.state == "stopping":  # retired while the fork server was forking it (the emulator is stopping)
            self.signal(signal.SIGKILL)
        self._timer = asyncio.get_running_loop().call_later(self._init_timeout_s, self._init_timed_out)

    @property
    def pid(self) -> int:
        return self._process.pid if self._process is not None else 0

    @property
    def alive(self) -> bool:
        return not self.exited.done()

    def info(self, now: float) -> EnvironmentInfo:
        state: EnvironmentState = "frozen" if self.frozen and self.state == "idle" else self.state
        idle = 0.0 if self.state in ("busy", "initialising") else now - self.last_used
        return EnvironmentInfo(
            self.spec.name,
            self.pid,
            state,
            self.invocations,
            now - self.created,
            self.id,
            idle,
            self.start_mode,
            self.thaws,
        )

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the environment's process group (nothing if it is already gone)."""
        if self._process is None or not self.alive:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signum)
        if signum == signal.SIGSTOP:
            self.frozen = True
        elif signum == signal.SIGCONT:
            self.frozen = False

    def freeze(self) -> None:
        """SIGSTOP, but only when the runtime is parked in ``GET /next`` with nothing to do."""
        if self._next_conn is not None and self.current is None and not self.frozen and self.state == "idle":
            self.signal(signal.SIGSTOP)

    def terminate(self, reason: str, grace_s: float = TERMINATE_GRACE_S) -> None:
        """SIGTERM (and SIGCONT, so a frozen process can act on it), then SIGKILL after ``grace_s``."""
        self._retire(reason)
        self.signal(signal.SIGTERM)
        self.signal(signal.SIGCONT)
        asyncio.get_running_loop().call_later(grace_s, self.signal, signal.SIGKILL)

    def kill(self, reason: str) -> None:
        self._retire(reason)
        self.signal(signal.SIGKILL)

    def _retire(self, reason: str) -> None:
        if self.state != "stopping":
            self.state = "stopping"
            self.stop_reason = reason
            self._on_gone(self)

    def _reap(self, code: int) -> None:
        self._cancel_timer()
        if self._server is not None:
            self._server.close()
        if self._next_conn is not None and self._next_conn.transport is not None:
            self._next_conn.transport.abort()
        inv = self.current
        if inv is not None:
            if self.init_error is not None:
                inv.complete(Outcome(self.init_error, "Unhandled"))
            elif self._timeout_message is not None:
                error = lambda_error(inv.request_id, "Sandbox.Timedout", self._timeout_message)
                inv.complete(Outcome(error, "Unhandled"))
            else:
                message = f"Runtime exited with error: {exit_status(code)}"
                inv.complete(Outcome(lambda_error(inv.request_id, "Runtime.ExitError", message), "Unhandled"))
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(self._init_failure(code)))
            self.ready.exception()  # retrieved here, so an unawaited prewarm does not warn at exit
        self._retire("killed")
        self._log.close()
        self.exited.set_result(code)

    def _init_failure(self, code: int) -> str:
        if self.init_error is not None:
            return f"{self.spec.name}: init failed: {self.init_error.decode(errors='replace')}"
        return f"{self.spec.name}: runtime exited during init ({code}); see {self._log.path}"

    # --- invocations -----------------------------------------------------------------------------------------

    def dispatch(self, inv: Invocation) -> None:
        """Hand ``inv`` to this environment: answer its pending ``GET /next`` if it is waiting, and thaw it."""
        self.current = inv
        if self.state != "initialising":
            self.state = "busy"
        self.invocations += 1
        if self._next_conn is not None:
            self._deliver()  # first: thawed with the event already in its socket, the runtime wakes once, not twice
        if self.frozen:
            self.thaws += 1
            self.signal(signal.SIGCONT)

    def claim(self) -> bool:
        """Take this idle environment for the next event (True), or say it is no longer idle (False)."""
        if self.state != "idle":
            return False
        self.state = "busy"
        return True

    def begin_log(self, request_id: str, cap_bytes: int) -> int:
        """Lambda's ``START`` line for an invocation; returns where its log starts (see :class:`EnvironmentLog`)."""
        return self._log.begin(request_id, cap_bytes)

    def end_log(self, request_id: str, *, duration_ms: float, init_ms: float | None) -> None:
        """Lambda's ``END`` and ``REPORT`` lines for an invocation."""
        self._log.end(request_id, duration_ms=duration_ms, memory_mb=self.spec.memory_mb, init_ms=init_ms)

    def read_log(self, start: int, limit: int) -> bytes:
        """At most the last ``limit`` bytes of the log since ``start``; nothing once the process has gone."""
        return self._log.read(start, limit) if self.alive else b""

    def _deliver(self) -> None:
        inv, conn = self.current, self._next_conn
        assert inv is not None
        assert conn is not None
        self._next_conn = None
        if conn.closed:
            return  # that GET /next was abandoned; the event goes out on the runtime's next one
        inv.delivered = True
        inv.started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + self.spec.timeout_s * 1000)
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": inv.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": inv.function_arn,
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        }
        if inv.client_context:
            headers["Lambda-Runtime-Client-Context"] = inv.client_context
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(self.spec.timeout_s, self._timed_out, inv)
        conn.respond(200, inv.payload, headers)

    def _timed_out(self, inv: Invocation) -> None:
        if self.current is inv:
            self._timeout_message = f"Task timed out after {self.spec.timeout_s:.2f} seconds"
            self.kill("timeout")

    def _init_timed_out(self) -> None:
        if self.state == "initialising":
            self._timeout_message = f"Init timed out after {self._init_timeout_s:.2f} seconds"
            self.kill("init timeout")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- called by the Runtime API ---------------------------------------------------------------------------

    def on_next(self, conn: HttpConnection) -> None:
        self._next_conn = conn
        if self.state == "initialising":
            self._cancel_timer()
            self.init_duration_ms = (time.monotonic() - self.created) * 1000
            self.state = "busy" if self.current is not None else "idle"
            if not self.ready.done():
                self.ready.set_result(None)
            if self.current is None:
                self._on_idle(self)
        if self.current is not None and not self.current.delivered:
            self._deliver()
        elif self.current is None and self._freeze:
            self.freeze()

    def on_result(self, request_id: str, body: bytes, function_error: str | None) -> bool:
        inv = self.current
        if inv is None or inv.request_id != request_id or self.state == "stopping":
            return False
        self._cancel_timer()
        self.current = None
        self.state = "idle"
        self.last_used = time.monotonic()
        inv.complete(Outcome(body, function_error))
        self._on_idle(self)
        return True

    def on_init_error(self, body: bytes) -> None:
        self.init_error = body
        self._cancel_timer()
        if self.current is not None:
            self.current.complete(Outcome(body, "Unhandled"))
        self._retire("init error")  # the runtime exits by itself; the pidfd reaps it
